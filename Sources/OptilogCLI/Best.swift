import ArgumentParser
import Engine
import Foundation
import Store

/// `optilog best`: the study's results table from the log.
struct Best: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The results table: per task and optimizer, the best value of a metric (and its epoch).",
        discussion: """
        By default one row per task, one column per optimizer, each cell the best val_loss and its \
        epoch, the row's winner marked *. --long prints one row per task and optimizer with the run. \
        val_loss (min) is answered from each run's best-so-far; other metrics scan the epochs.
        """)

    enum Column: String, ExpressibleByArgument, CaseIterable {
        case valLoss = "val_loss", loss, valMetric = "val_metric", metric
    }

    enum Mode: String, ExpressibleByArgument { case min, max }

    @Option(help: "val_loss, loss, val_metric or metric.") var metric: Column = .valLoss
    @Option(help: "min or max (default: min for losses and for MAE, max for accuracies).") var mode: Mode?
    @Option(help: "Only the runs of this study (by name).") var study: String?
    @Flag(help: "One row per task and optimizer, with the run and epoch.") var long = false
    @Option(help: "Output format: table, csv, tsv, json, ndjson, markdown.") var format: OutputFormat = .table
    @OptionGroup var store: StoreOptions

    func run() throws {
        let reader = try ReadOnlyStore(path: store.resolvedPath)
        let studyID: Int64? = try study.map { name in
            let found = try reader.rows("SELECT id FROM studies WHERE name = ? ORDER BY id LIMIT 1", arguments: [name])
            guard let id = found.rows.first.flatMap({ Int64.fromDatabaseValue($0[0]) }) else { throw CleanError("no study named \(name)") }
            return id
        }
        // Which way is better, per task: losses and MAE go down, accuracies up.
        func direction(_ task: Architecture) -> Mode {
            mode ?? (metric == .valLoss || metric == .loss || task.metric == .meanAbsoluteError ? .min : .max)
        }
        let rows: [BestRow]
        if metric == .valLoss && mode != .max {
            rows = try reader.bestPerOptimizerPerTask(study: studyID)
        } else {
            // Column and order come from the enums above, never from text a user typed.
            let minTasks = Architecture.allCases.filter { direction($0) == .min }.map { "'\($0.rawValue)'" }.joined(separator: ", ")
            let key = "CASE WHEN r.task IN (\(minTasks.isEmpty ? "''" : minTasks)) THEN e.\(metric.rawValue) ELSE -e.\(metric.rawValue) END"
            let result = try reader.rows("""
                SELECT task, optimizer, value, epoch, run_id FROM (
                    SELECT r.task, r.optimizer, e.\(metric.rawValue) AS value, e.epoch, r.id AS run_id,
                           ROW_NUMBER() OVER (PARTITION BY r.task, r.optimizer ORDER BY \(key), r.id, e.epoch) AS rank
                    FROM epochs e JOIN runs r ON r.id = e.run_id
                    WHERE e.\(metric.rawValue) IS NOT NULL AND (?1 IS NULL OR r.study_id = ?1))
                WHERE rank = 1 ORDER BY task, optimizer
                """, arguments: [studyID])
            rows = result.rows.map { r in
                BestRow(task: String.fromDatabaseValue(r[0]) ?? "", optimizer: String.fromDatabaseValue(r[1]) ?? "",
                        bestValLoss: Double.fromDatabaseValue(r[2]) ?? .nan, bestEpoch: Int.fromDatabaseValue(r[3]) ?? 0,
                        runID: Int64.fromDatabaseValue(r[4]) ?? 0)
            }
        }
        if long {
            let printer = RowPrinter(columns: ["task", "optimizer", metric.rawValue, "epoch", "run"], format: format)
            print(printer.render(rows.map { [.text($0.task), .text($0.optimizer), .number($0.bestValLoss, digits: 6), .integer($0.bestEpoch), .integer(Int($0.runID))] }),
                  terminator: "")
            return
        }
        let tasks = Architecture.allCases.map(\.rawValue).filter { t in rows.contains { $0.task == t } }
        let optimizers = Optimizers.names.filter { o in rows.contains { $0.optimizer == o } }
        print(BestTable.render(rows, tasks: tasks.compactMap(Architecture.init(rawValue:)), optimizers: optimizers, format: format,
                               better: { direction($0) == .min ? (<) : (>) }), terminator: "")
    }
}
