import Foundation
import GRDB

/// One curve: a run's values of a column, epoch by epoch (NULLs — non-finite values — left out).
public struct Curve: Sendable, Equatable {
    public var run: Int64
    public var task: String
    public var optimizer: String
    public var points: [Point]
    /// The run's optimizer configuration (JSON), to tell two runs of one optimizer apart.
    public var settings: String = "{}"

    public init(run: Int64, task: String, optimizer: String, points: [Point], settings: String = "{}") {
        (self.run, self.task, self.optimizer, self.points, self.settings) = (run, task, optimizer, points, settings)
    }

    public struct Point: Sendable, Equatable {
        public var epoch: Int
        public var value: Double
    }
}

extension ReadOnlyStore {
    public func epochs(run: Int64) throws -> [Epoch] {
        try read { db in try Epoch.filter(Column(Epoch.Columns.runID.rawValue) == run).order(Column(Epoch.Columns.epoch.rawValue)).fetchAll(db) }
    }

    /// Every step's loss and gradient norm of one epoch.
    public func stepSeries(run: Int64, epoch: Int) throws -> (firstStep: Int, losses: [Float], gradNorms: [Float]) {
        guard let series = try read({ db in try Self.stepSeries(db, run: run, epoch: epoch) }) else {
            throw StoreError.notFound("step series of run \(run) epoch \(epoch)")
        }
        return series
    }

    /// Table `step_series`, decompressed (nil: no row), for the read API and for replay.
    static func stepSeries(_ db: Database, run: Int64, epoch: Int) throws -> (firstStep: Int, losses: [Float], gradNorms: [Float])? {
        guard let row = try Row.fetchOne(db, sql: "SELECT first_step, steps, losses, grad_norms FROM step_series WHERE run_id = ? AND epoch = ?",
                                         arguments: [run, epoch]) else { return nil }
        let steps: Int = row["steps"]
        let losses: Data = row["losses"], norms: Data = row["grad_norms"]
        return (row["first_step"], try Zstd.decompressFloats(Array(losses), count: steps), try Zstd.decompressFloats(Array(norms), count: steps))
    }

    /// Each layer's gradient norm at the epoch's last step (nil: non-finite).
    public func layerNorms(run: Int64, epoch: Int) throws -> [String: Double?] {
        try read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT layer, norm FROM layer_norms WHERE run_id = ? AND epoch = ?", arguments: [run, epoch])
            return Dictionary(rows.map { ($0["layer"] as String, $0["norm"] as Double?) }, uniquingKeysWith: { a, _ in a })
        }
    }

    /// Every layer's gradient norm of a run, by epoch and layer name (nil: non-finite).
    public func layerNorms(run: Int64) throws -> [(epoch: Int, layer: String, norm: Double?)] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT epoch, layer, norm FROM layer_norms WHERE run_id = ? ORDER BY epoch, layer", arguments: [run])
                .map { ($0["epoch"], $0["layer"], $0["norm"]) }
        }
    }

    /// Every step's loss and gradient norm of a run, epoch by epoch (epochs without a series
    /// are left out).
    public func stepSeries(run: Int64) throws -> [(epoch: Int, firstStep: Int, losses: [Float], gradNorms: [Float])] {
        try read { db in
            try Int.fetchAll(db, sql: "SELECT epoch FROM step_series WHERE run_id = ? ORDER BY epoch", arguments: [run]).compactMap { epoch in
                try Self.stepSeries(db, run: run, epoch: epoch).map { (epoch, $0.firstStep, $0.losses, $0.gradNorms) }
            }
        }
    }

    /// For a task: each optimizer's best run by validation loss (runs without one: the one with
    /// the most epochs), in the order of `optimizerOrder` (others after them, by run id). The
    /// named query `best_run_per_optimizer`. The runs must be of one comparison (the same data
    /// and budget): when `study` and `dataset` leave more than one, the error lists them.
    public func bestRuns(task: String, study: String?, dataset: String? = nil, comparison: Comparison? = nil,
                         optimizerOrder: [String]) throws -> [Int64] {
        if let study { _ = try studyID(named: study) }
        if comparison == nil {
            let groups = try comparisons(task: task, study: study, dataset: dataset)
            guard groups.count <= 1 else { throw StoreError.refused(Self.mixedComparisons(task: task, groups)) }
        }
        let sql = try Store.query("best_run_per_optimizer")
        let found = try read { db in
            try Row.fetchAll(db, sql: sql, arguments: ["task": task, "study": study, "dataset": dataset, "comparison": comparison?.key])
                .map { ($0["optimizer"] as String, $0["run_id"] as Int64) }
        }
        let rank = { (name: String) in optimizerOrder.firstIndex(of: name) ?? optimizerOrder.count }
        return found.sorted { (rank($0.0), $0.1) < (rank($1.0), $1.1) }.map(\.1)
    }

    /// The refusal when a task's runs would be compared across data or budgets.
    static func mixedComparisons(task: String, _ groups: [(comparison: Comparison, runs: Int)]) -> String {
        "the \(task) runs are on different data or budgets and are not compared with each other: "
            + groups.map { "\($0.comparison.label) (\($0.runs) runs)" }.joined(separator: "; ")
            + "; pick one with --study NAME or --dataset TEXT (a part of the data set's name, or its fingerprint)"
    }

    /// Each run's values of `column` by epoch, in the order of `runs`.
    public func curves(_ runs: [Int64], column: Epoch.Columns) throws -> [Curve] {
        guard !runs.isEmpty else { return [] }
        let listed = try read { db in try Run.fetchAll(db, keys: runs) }
        var byRun = Dictionary(listed.map { ($0.id, Curve(run: $0.id, task: $0.task, optimizer: $0.optimizer, points: [], settings: $0.optimizerConfiguration)) }, uniquingKeysWith: { a, _ in a })
        for id in runs where byRun[id] != nil {
            byRun[id]!.points = try epochs(run: id).compactMap { e in e[number: column].map { Curve.Point(epoch: e.epoch, value: $0) } }
        }
        return runs.compactMap { byRun[$0] }
    }
}
