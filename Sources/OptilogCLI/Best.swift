import ArgumentParser
import Engine
import Foundation
import GRDB
import Store

/// `optilog best`: the study's results table from the log.
struct Best: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The results table: per task and optimizer, the best value of a metric (and its epoch).",
        discussion: """
        By default one row per task, one column per optimizer, each cell the best val_loss and its \
        epoch, the row's winner marked *. --by groups by other keys (then one row per group), \
        --where filters runs, --long prints one row per group with its run. Examples:
          optilog best --metric val_metric
          optilog best --by task,optimizer,learning_rate --where "task=imdb, optimizer=adam|nadam"
          optilog best --where "learning_rate<=0.01 and status=completed" --long
        --where: clauses joined by , or and; operators = != < <= > >= ~ (contains); a|b for one of \
        several values. Keys: task, optimizer, status, seed, batch_size, epochs_done, best_val_loss, \
        dataset, host, study, id, or any optimizer setting by its Keras name (learning_rate, momentum, …).
        """)

    enum Column: String, ExpressibleByArgument, CaseIterable {
        case valLoss = "val_loss", loss, valMetric = "val_metric", metric
    }

    enum Mode: String, ExpressibleByArgument { case min, max }

    @Option(help: "val_loss, loss, val_metric or metric.") var metric: Column = .valLoss
    @Option(help: "min or max (default: min for losses and for MAE, max for accuracies).") var mode: Mode?
    @Option(help: ArgumentHelp("Group by these keys (comma-separated).", valueName: "KEYS")) var by: String = "task,optimizer"
    @Option(name: .customLong("where"), help: ArgumentHelp("Only runs matching this filter.", valueName: "FILTER")) var filter: String?
    @Option(help: "Only the runs of this study (by name).") var study: String?
    @Flag(help: "One row per group, with the run and epoch.") var long = false
    @Option(help: "Output format: table, csv, tsv, json, ndjson, markdown.") var format: OutputFormat = .table
    @OptionGroup var store: StoreOptions

    var groupKeys: [String] { by.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() } }

    func validate() throws {
        guard !groupKeys.isEmpty, !groupKeys.contains(where: \.isEmpty) else { throw ValidationError("--by needs one or more keys, e.g. task,optimizer") }
        do {
            for key in groupKeys { _ = try RunFilter.expression(key) }
            if let filter { _ = try RunFilter(filter) }
        } catch {
            throw ValidationError("\(error)")
        }
    }

    func run() throws {
        let reader = try ReadOnlyStore(path: store.resolvedPath)
        var conditions = try RunFilter(filter ?? "").sql()
        if let study {
            conditions.sql += " AND s.name = ?"
            conditions.arguments.append(study)
        }
        // Which way is better, per task: losses and MAE go down, accuracies up.
        func direction(_ task: Architecture) -> Mode {
            mode ?? (metric == .valLoss || metric == .loss || task.metric == .meanAbsoluteError ? .min : .max)
        }
        let minTasks = Architecture.allCases.filter { direction($0) == .min }.map { "'\($0.rawValue)'" }.joined(separator: ", ")
        let groups = try groupKeys.map(RunFilter.expression)
        let aliases = groups.indices.map { "g\($0)" }
        // val_loss downwards is kept per run as epochs commit; anything else scans the epochs.
        // Lower is better after this: values of tasks where higher wins are negated.
        let key = { (v: String) in "CASE WHEN r.task IN (\(minTasks.isEmpty ? "''" : minTasks)) THEN \(v) ELSE -\(v) END" }
        // One row per run with its best: val_loss downwards is kept in the run's row as epochs
        // commit; anything else takes each run's epochs in key order (the table is clustered by
        // run and epoch, so no sort) and SQLite's min() keeps the first, i.e. earliest, best epoch.
        let groupColumns = zip(groups, aliases).map { "\($0.sql) AS \($1)" }.joined(separator: ", ")
        let perRun = metric == .valLoss && mode != .max
            ? """
              SELECT \(groupColumns), r.id AS run_id, r.task AS task, r.best_val_loss AS k, r.best_val_loss AS value, r.best_epoch AS epoch
              FROM runs r LEFT JOIN studies s ON s.id = r.study_id WHERE r.best_val_loss IS NOT NULL AND \(conditions.sql)
              """
            : """
              SELECT \(groupColumns), r.id AS run_id, r.task AS task, MIN(\(key("e.\(metric.rawValue)"))) AS k, e.\(metric.rawValue) AS value, e.epoch AS epoch
              FROM runs r LEFT JOIN studies s ON s.id = r.study_id JOIN epochs e ON e.run_id = r.id
              WHERE e.\(metric.rawValue) IS NOT NULL AND \(conditions.sql) GROUP BY r.id
              """
        // Identifiers come from the enums and RunFilter's checked keys; values are parameters.
        let sql = """
            SELECT \(aliases.joined(separator: ", ")), value, epoch, run_id, task FROM (
                SELECT *, ROW_NUMBER() OVER (PARTITION BY \(aliases.joined(separator: ", ")) ORDER BY k, run_id) AS rank FROM (\(perRun)))
            WHERE rank = 1 ORDER BY \(aliases.joined(separator: ", "))
            """
        let result = try reader.rows(sql, arguments: groups.flatMap(\.arguments) + conditions.arguments)
        let n = groups.count
        if groupKeys == ["task", "optimizer"] && !long {
            let rows = result.rows.map { r in
                BestRow(task: String.fromDatabaseValue(r[0]) ?? "", optimizer: String.fromDatabaseValue(r[1]) ?? "",
                        bestValLoss: Double.fromDatabaseValue(r[2]) ?? .nan, bestEpoch: Int.fromDatabaseValue(r[3]) ?? 0,
                        runID: Int64.fromDatabaseValue(r[4]) ?? 0)
            }
            let tasks = Architecture.allCases.map(\.rawValue).filter { t in rows.contains { $0.task == t } }
            let optimizers = Optimizers.names.filter { o in rows.contains { $0.optimizer == o } }
            print(BestTable.render(rows, tasks: tasks.compactMap(Architecture.init(rawValue:)), optimizers: optimizers, format: format,
                                   better: { direction($0) == .min ? (<) : (>) }), terminator: "")
            return
        }
        let printer = RowPrinter(columns: groupKeys + [metric.rawValue, "epoch", "run"], format: format)
        print(printer.render(result.rows.map { r in
            r[0..<n].map(RowPrinter.Cell.init) + [.number(Double.fromDatabaseValue(r[n]) ?? .nan, digits: 6), .init(r[n + 1]), .init(r[n + 2])]
        }), terminator: "")
    }
}
