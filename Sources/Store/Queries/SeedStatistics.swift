import Foundation
import GRDB

/// Which number stands for a group of seeds in a table.
public enum SeedStatistic: String, CaseIterable, Sendable {
    case mean, median, min, max
}

/// One group of runs (a task × optimizer cell) within one comparison and with one optimizer
/// configuration — runs that differ only in their seed: each run's best value and statistics
/// over them.
public struct SeedSummary: Sendable, Equatable {
    public var group: [StoredValue]
    public var task: String
    public var comparison: Comparison?
    /// The optimizer configuration (JSON) the runs share.
    public var settings: String = ""
    /// Each run's best value (lowest, or highest where higher is better), by run id.
    public var values: [Double]
    public var runs: [Int64]
    public var epochs: [Int]

    public var n: Int { values.count }
    public var mean: Double { values.reduce(0, +) / Double(max(1, n)) }
    /// Sample standard deviation (n − 1); nil for a single run.
    public var sd: Double? {
        guard n > 1 else { return nil }
        let m = mean
        return (values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(n - 1)).squareRoot()
    }
    public var median: Double {
        let s = values.sorted()
        return s.isEmpty ? .nan : n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2
    }

    public func value(_ statistic: SeedStatistic) -> Double {
        switch statistic {
        case .mean: return mean
        case .median: return median
        case .min: return values.min() ?? .nan
        case .max: return values.max() ?? .nan
        }
    }

    /// For the results table, grouped by task and optimizer.
    public var optimizer: String { group.count > 1 ? group[1].string ?? "" : "" }
}

/// Welch's two-sample t-test (unequal variances): is the difference of two groups' means beyond
/// their seeds' spread? Two-sided; the threshold optilog uses is `alpha`.
public enum Welch {
    public static let alpha = 0.05

    /// t, the Welch–Satterthwaite degrees of freedom and the two-sided p-value; nil when a group
    /// has fewer than two values.
    public static func test(_ a: [Double], _ b: [Double]) -> (t: Double, df: Double, p: Double)? {
        guard a.count > 1, b.count > 1 else { return nil }
        func meanVar(_ x: [Double]) -> (Double, Double) {
            let m = x.reduce(0, +) / Double(x.count)
            return (m, x.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(x.count - 1))
        }
        let (ma, va) = meanVar(a), (mb, vb) = meanVar(b)
        let (sa, sb) = (va / Double(a.count), vb / Double(b.count))
        guard sa + sb > 0 else { return (ma == mb ? 0 : (ma > mb ? .infinity : -.infinity), .infinity, ma == mb ? 1 : 0) }
        let t = (ma - mb) / (sa + sb).squareRoot()
        let df = (sa + sb) * (sa + sb) / (sa * sa / Double(a.count - 1) + sb * sb / Double(b.count - 1))
        return (t, df, studentTwoSided(t: t, df: df))
    }

    /// P(|T| ≥ |t|) for Student's t with `df` degrees of freedom: I_{df/(df+t²)}(df/2, 1/2).
    static func studentTwoSided(t: Double, df: Double) -> Double {
        guard t.isFinite else { return 0 }
        return regularizedIncompleteBeta(x: df / (df + t * t), a: df / 2, b: 0.5)
    }

    /// I_x(a, b) by its continued fraction (modified Lentz), using the symmetry
    /// I_x(a, b) = 1 − I_{1−x}(b, a) where the fraction converges slowly.
    static func regularizedIncompleteBeta(x: Double, a: Double, b: Double) -> Double {
        if x <= 0 { return 0 }
        if x >= 1 { return 1 }
        let logBeta: Double = lgamma(a + b) - lgamma(a) - lgamma(b)
        let logPowers: Double = a * log(x) + b * log(1 - x)
        let front = exp(logBeta + logPowers)
        if x > (a + 1) / (a + b + 2) { return 1 - regularizedIncompleteBeta(x: 1 - x, a: b, b: a) }
        let tiny = 1e-300
        var c = 1.0, d = 1 - (a + b) * x / (a + 1)
        if abs(d) < tiny { d = tiny }
        d = 1 / d
        var f = d
        for m in 1...300 {
            let m = Double(m)
            let even = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
            d = 1 + even * d; if abs(d) < tiny { d = tiny }
            c = 1 + even / c; if abs(c) < tiny { c = tiny }
            d = 1 / d
            f *= d * c
            let odd = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
            d = 1 + odd * d; if abs(d) < tiny { d = tiny }
            c = 1 + odd / c; if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            f *= delta
            if abs(delta - 1) < 1e-15 { break }
        }
        return front * f / a
    }
}

/// Where a cell stands in its row.
public enum SeedVerdict: String, Sendable {
    /// The best, beyond the seeds' spread (Welch's test against every other cell, p < alpha).
    case winner
    /// The best or not separable from it: too few seeds, or p ≥ alpha against the best.
    case tied
    /// Separable from the best and worse.
    case behind
    /// Single runs only: the best, with nothing to test (as the table always marked it).
    case best
}

extension ReadOnlyStore {
    /// Every run's best value, grouped as `best` groups them (within comparisons, and apart for
    /// each optimizer configuration: only runs that differ in their seed alone are pooled, one
    /// run per seed), with the statistics over each group's runs.
    public func seedSummaries(_ q: BestQuery) throws -> [SeedSummary] {
        let (perRun, aliases, arguments) = try perRunSQL(q)
        let n = aliases.count
        let rows = try read { db in
            try Row.fetchAll(db, sql: """
                SELECT \(aliases.joined(separator: ", ")), comparison, value, epoch, run_id, task, settings, seed, done FROM (\(perRun))
                ORDER BY \(aliases.joined(separator: ", ")), comparison, settings, seed, done DESC, run_id
                """, arguments: arguments)
        }
        // Keys by value (interpolating the group into a string went through reflection, and was
        // most of `best`'s time on a large store).
        struct CellKey: Hashable {
            var group: [StoredValue]
            var comparison: String
            var settings: String
        }
        struct SeedKey: Hashable {
            var cell: CellKey
            var seed: Int64
        }
        var order: [CellKey] = []
        var cells: [CellKey: SeedSummary] = [:]
        var seen: Set<SeedKey> = []
        for r in rows {
            let group = (0..<n).map { StoredValue(r[$0] as DatabaseValue) }
            let settings: String = r[n + 5] ?? ""
            let key = CellKey(group: group, comparison: r[n] as String? ?? "", settings: settings)
            // One run per seed: a seed run twice (two studies, an ad-hoc run) is one sample, the
            // run that went furthest (the lowest id among equals).
            guard seen.insert(SeedKey(cell: key, seed: r[n + 6] as Int64? ?? 0)).inserted else { continue }
            if cells[key] == nil {
                order.append(key)
                cells[key] = SeedSummary(group: group, task: r[n + 4] ?? "", comparison: nil, settings: settings, values: [], runs: [], epochs: [])
            }
            cells[key]!.values.append(r[n + 1] ?? .nan)
            cells[key]!.epochs.append(r[n + 2] ?? 0)
            cells[key]!.runs.append(r[n + 3] ?? 0)
        }
        let firstRuns = try read { db in try Run.fetchAll(db, keys: order.compactMap { cells[$0]?.runs.first }) }
        let filled = try withBaselines(Array(Set(firstRuns.map(Comparison.init))))
        let comparisons = Dictionary(firstRuns.map { ($0.id, filled[Comparison($0).key]) }, uniquingKeysWith: { a, _ in a })
        return order.map { key in
            var cell = cells[key]!
            cell.comparison = cell.runs.first.flatMap { comparisons[$0] ?? nil }
            return cell
        }
    }

    /// Each cell's standing in its row (cells of one task and comparison), by `statistic` and
    /// the direction `better` gives for the task: with one run per cell, the best is marked as
    /// it always was; with seeds, only a difference beyond their spread (Welch) makes a winner.
    public static func verdicts(_ row: [SeedSummary], statistic: SeedStatistic, better: (Double, Double) -> Bool)
        -> [(verdict: SeedVerdict, p: Double?)]
    {
        guard let bestIndex = row.indices.min(by: { better(row[$0].value(statistic), row[$1].value(statistic)) }) else { return [] }
        let best = row[bestIndex]
        if row.allSatisfy({ $0.n == 1 }) {
            return row.indices.map { ($0 == bestIndex || row[$0].value(statistic) == best.value(statistic) ? .best : .behind, nil) }
        }
        let p = row.indices.map { $0 == bestIndex ? nil : Welch.test(best.values, row[$0].values)?.p }
        // Behind: the test separates the means, and the best's mean is the better one (with
        // --stat min, say, the best cell by its minimum may have the worse mean).
        let separable = row.indices.map { i in
            i == bestIndex || (p[i].map { $0 < Welch.alpha } ?? false) && better(best.mean, row[i].mean)
        }
        let clearWinner = row.indices.allSatisfy { $0 == bestIndex || separable[$0] }
        return row.indices.map { i in
            if i == bestIndex { return (clearWinner ? .winner : .tied, nil) }
            return (separable[i] ? .behind : .tied, p[i])
        }
    }
}

/// A curve over seeds: at each epoch, the mean of the runs' values, their spread and count.
public struct SeedCurve: Sendable, Equatable {
    public var task: String
    public var optimizer: String
    public var runs: [Int64]
    public var points: [Point]

    public struct Point: Sendable, Equatable {
        public var epoch: Int
        public var mean: Double
        /// Sample standard deviation; nil where one run has the epoch.
        public var sd: Double?
        public var n: Int
    }
}

extension ReadOnlyStore {
    /// For a task with several seeds per cell: each optimizer's runs at its best setting (by
    /// mean best val_loss), as one curve of `column` per optimizer — the mean at each epoch with
    /// its spread. Nil when every cell holds a single run (then each optimizer's best run is
    /// the curve, `bestRuns`). The runs must be of one comparison, as for `bestRuns`.
    public func seedCurves(task: String, study: String?, dataset: String? = nil, comparison: Comparison? = nil, column: Epoch.Columns,
                           optimizerOrder: [String]) throws -> [SeedCurve]? {
        if let study { _ = try studyID(named: study) }
        let groups = try comparisons(task: task, study: study, dataset: dataset)
        guard comparison != nil || groups.count <= 1 else { throw StoreError.refused(Self.mixedComparisons(task: task, groups)) }
        guard let chosen = comparison ?? groups.first?.comparison else { return nil }
        let cells = try seedSummaries(BestQuery(study: study, dataset: dataset)).filter { $0.task == task && $0.comparison == chosen }
        guard cells.contains(where: { $0.n > 1 }) else { return nil }
        var best: [String: SeedSummary] = [:]
        for cell in cells where best[cell.optimizer].map({ cell.mean < $0.mean }) ?? true { best[cell.optimizer] = cell }
        let rank = { (name: String) in optimizerOrder.firstIndex(of: name) ?? optimizerOrder.count }
        return try best.values.sorted { (rank($0.optimizer), $0.optimizer) < (rank($1.optimizer), $1.optimizer) }.map { cell in
            try seedCurve(cell, column: column)
        }
    }

    /// Each run's (epoch, value) pairs of one numeric column, in epoch order, by one statement
    /// over all the runs (decoding every run's whole epoch records was most of `curves`' time:
    /// 0.4 s for 500 runs of 100 epochs). NULL values are left out, as `Epoch` reads them.
    func epochValues(runs: [Int64], column: Epoch.Columns) throws -> [Int64: [(epoch: Int, value: Double)]] {
        guard !runs.isEmpty else { return [:] }
        precondition(column != .optimizerChecksum && column != .runID && column != .epoch, "epochValues reads a numeric column")
        return try read { db in
            var out: [Int64: [(epoch: Int, value: Double)]] = [:]
            let rows = try Row.fetchCursor(db, sql: """
                SELECT run_id, epoch, \(column.rawValue) FROM epochs WHERE run_id IN (\(runs.map { _ in "?" }.joined(separator: ",")))
                ORDER BY run_id, epoch
                """, arguments: StatementArguments(runs))
            while let row = try rows.next() {
                let run: Int64 = try row.decode("run_id", in: "an epoch's run id")
                let epoch: Int = try row.decode("epoch", in: "run \(run)'s epoch")
                let value: Double? = try row.decode(column.rawValue, in: "run \(run) epoch \(epoch)")
                if let value { out[run, default: []].append((epoch, value)) }
            }
            return out
        }
    }

    /// A cell's runs as one curve of `column`: the mean at each epoch with its spread.
    public func seedCurve(_ cell: SeedSummary, column: Epoch.Columns) throws -> SeedCurve {
        var byEpoch: [Int: [Double]] = [:]
        let values = try epochValues(runs: cell.runs, column: column)
        for run in cell.runs {
            for (epoch, value) in values[run] ?? [] { byEpoch[epoch, default: []].append(value) }
        }
        let points = byEpoch.keys.sorted().map { epoch -> SeedCurve.Point in
            let s = SeedSummary(group: [], task: cell.task, comparison: nil, values: byEpoch[epoch]!, runs: [], epochs: [])
            return SeedCurve.Point(epoch: epoch, mean: s.mean, sd: s.sd, n: s.n)
        }
        return SeedCurve(task: cell.task, optimizer: cell.optimizer, runs: cell.runs, points: points)
    }
}
