import GRDB

/// `optilog best`: which runs to compare, by which value, grouped how.
public struct BestQuery: Sendable {
    /// One of `Epoch.Columns.numeric` (val_loss by default).
    public var metric: Epoch.Columns
    /// Run keys to group by (as `RunFilter` knows them: columns, `study`, optimizer settings).
    public var groupBy: [String]
    public var filter: RunFilter
    /// Only the runs of this study (by name).
    public var study: String?
    /// Only runs whose data set's name contains this (any case), or whose fingerprint starts so.
    public var dataset: String?
    /// Which way is better: nil, lower everywhere; otherwise lower for these tasks and higher for
    /// every other (accuracies; and everything, for `--mode max`).
    public var minimizedTasks: Set<String>?

    public init(metric: Epoch.Columns = .valLoss, groupBy: [String] = ["task", "optimizer"], filter: RunFilter = RunFilter.all,
                study: String? = nil, dataset: String? = nil, minimizedTasks: Set<String>? = nil) {
        (self.metric, self.groupBy, self.filter, self.study, self.dataset, self.minimizedTasks) =
            (metric, groupBy, filter, study, dataset, minimizedTasks)
    }

    /// Whether a group appears more than once, once per comparison (then tables label them).
    public static func spansComparisons(_ results: [BestResult]) -> Bool {
        Set(results.map(\.group)).count < results.count
    }

    /// The study's results table as published: lowest val_loss per task and optimizer.
    var isResultsTable: Bool {
        metric == .valLoss && groupBy == ["task", "optimizer"] && filter.clauses.isEmpty && minimizedTasks == nil && dataset == nil
    }
}

/// The best run of one group: the group's key values, the best value and where it was reached.
public struct BestResult: Sendable, Equatable {
    public var group: [StoredValue]
    public var value: Double
    public var epoch: Int
    public var run: Int64
    public var task: String
    /// The comparison the group's runs belong to: groups are formed within one, never across.
    public var comparison: Comparison?

    public init(group: [StoredValue], value: Double, epoch: Int, run: Int64, task: String, comparison: Comparison? = nil) {
        (self.group, self.value, self.epoch, self.run, self.task, self.comparison) = (group, value, epoch, run, task, comparison)
    }

    /// For the results table, grouped by task and optimizer.
    public var optimizer: String { group.count > 1 ? group[1].string ?? "" : "" }
}

extension ReadOnlyStore {
    /// The best run of each group (the lowest run id on ties; the earliest epoch within a run).
    /// The published results table is the named query `best_val_loss_per_optimizer_per_task`;
    /// anything else is built from the request, with every value a bound parameter.
    public func best(_ q: BestQuery) throws -> [BestResult] {
        if q.isResultsTable {
            // A study name may stand for several studies (merged shards of different grids):
            // the named query takes one study, the general path below takes them all.
            let ids = try q.study.map { name in
                try read { db in try Int64.fetchAll(db, sql: "SELECT id FROM studies WHERE name = ?", arguments: [name]) }
            }
            switch ids?.count {
            case nil: return try resultsTable(study: nil)
            case 0: return []
            case 1: return try resultsTable(study: ids![0])
            default: break
            }
        }
        let (perRun, aliases, arguments) = try perRunSQL(q)
        let sql = """
            SELECT \(aliases.joined(separator: ", ")), value, epoch, run_id, task FROM (
                SELECT *, ROW_NUMBER() OVER (PARTITION BY comparison, \(aliases.joined(separator: ", ")) ORDER BY k, run_id) AS rank FROM (\(perRun)))
            WHERE rank = 1 ORDER BY \(aliases.joined(separator: ", ")), comparison
            """
        let n = aliases.count
        let results = try read { db in
            try Row.fetchAll(db, sql: sql, arguments: arguments).map { r in
                BestResult(group: (0..<n).map { StoredValue(r[$0] as DatabaseValue) }, value: r[n] ?? .nan, epoch: r[n + 1] ?? 0,
                           run: r[n + 2] ?? 0, task: r[n + 3] ?? "")
            }
        }
        return try withComparisons(results)
    }

    /// One row per run with its best value of the metric (`k`: the value, negated where higher
    /// is better), its group's columns `g0…` and its comparison key; and the group aliases and
    /// the statement's arguments. Identifiers come from enums and RunFilter's checked keys;
    /// values are parameters.
    func perRunSQL(_ q: BestQuery) throws -> (sql: String, aliases: [String], arguments: StatementArguments) {
        var conditions = try q.filter.sql()
        if let study = q.study {
            conditions.sql += " AND s.name = ?"
            conditions.arguments.append(study)
        }
        if let dataset = q.dataset {
            conditions.sql += " AND " + Self.datasetCondition
            conditions.arguments += [dataset, dataset, dataset, dataset]
        }
        let groups = try q.groupBy.map(RunFilter.expression)
        let aliases = groups.indices.map { "g\($0)" }
        let column = q.metric.rawValue
        precondition(Epoch.Columns.numeric.contains(q.metric), "best of a numeric column")
        // Lower is better after this: values of tasks where higher wins are negated.
        let minimized = q.minimizedTasks.map { $0.sorted().map { "'\($0.replacingOccurrences(of: "'", with: "''"))'" }.joined(separator: ", ") }
        let key = { (v: String) in minimized.map { "CASE WHEN r.task IN (\($0.isEmpty ? "''" : $0)) THEN \(v) ELSE -\(v) END" } ?? v }
        // Groups are formed within a comparison (the same data and budget), never across.
        let groupColumns = (zip(groups, aliases).map { "\($0.sql) AS \($1)" } + [Comparison.sqlKey + " AS comparison"]).joined(separator: ", ")
        // One row per run with its best: val_loss downwards is kept in the run's row as epochs
        // commit; anything else takes each run's epochs in key order (the table is clustered by
        // run and epoch, so no sort) and SQLite's min() keeps the first, i.e. earliest, best epoch.
        let sql = q.metric == .valLoss && q.minimizedTasks == nil
            ? """
              SELECT \(groupColumns), r.id AS run_id, r.task AS task, r.optimizer_configuration AS settings, r.seed AS seed, r.epochs_done AS done, r.best_val_loss AS k, r.best_val_loss AS value, r.best_epoch AS epoch
              FROM runs r LEFT JOIN studies s ON s.id = r.study_id WHERE r.best_val_loss IS NOT NULL AND \(conditions.sql)
              """
            : """
              SELECT \(groupColumns), r.id AS run_id, r.task AS task, r.optimizer_configuration AS settings, r.seed AS seed, r.epochs_done AS done, MIN(\(key("e.\(column)"))) AS k, e.\(column) AS value, e.epoch AS epoch
              FROM runs r LEFT JOIN studies s ON s.id = r.study_id JOIN epochs e ON e.run_id = r.id
              WHERE e.\(column) IS NOT NULL AND \(conditions.sql) GROUP BY r.id
              """
        return (sql, aliases, StatementArguments(groups.flatMap(\.arguments) + conditions.arguments))
    }

    /// The named query: per task and optimizer, the lowest val_loss, its epoch and run.
    func resultsTable(study: Int64?) throws -> [BestResult] {
        let sql = try Store.query("best_val_loss_per_optimizer_per_task")
        let results = try read { db in
            try Row.fetchAll(db, sql: sql, arguments: [study]).map { r in
                BestResult(group: [.text(r["task"]), .text(r["optimizer"])], value: r["best_val_loss"], epoch: r["best_epoch"],
                           run: r["run_id"], task: r["task"])
            }
        }
        return try withComparisons(results)
    }

    /// Each result with the comparison of its run.
    func withComparisons(_ results: [BestResult]) throws -> [BestResult] {
        let runs = try read { db in try Run.fetchAll(db, keys: results.map(\.run)) }
        let byID = Dictionary(runs.map { ($0.id, Comparison($0)) }, uniquingKeysWith: { a, _ in a })
        let filled = try withBaselines(Array(Set(byID.values)))
        return results.map { var r = $0; r.comparison = byID[r.run].flatMap { filled[$0.key] }; return r }
    }

    /// The comparisons with their baselines from any of their runs that logged one (runs logged
    /// before schema 3 share a comparison with newer ones and have none), by key.
    func withBaselines(_ comparisons: [Comparison]) throws -> [String: Comparison] {
        var out: [String: Comparison] = [:]
        for var c in comparisons {
            if c.baselineValLoss == nil {
                let row = try read { db in
                    try Row.fetchOne(db, sql: """
                        SELECT baseline_val_loss, baseline_val_metric FROM runs r
                        WHERE r.task = ? AND r.baseline_val_loss IS NOT NULL AND \(Comparison.sqlKey) = ? LIMIT 1
                        """, arguments: [c.task, c.key])
                }
                if let row { (c.baselineValLoss, c.baselineValMetric) = (row[0], row[1]) }
            }
            out[c.key] = c
        }
        return out
    }
}
