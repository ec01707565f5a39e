import ArgumentParser
import Foundation
import Store

/// `optilog runs`: the runs in the log, newest first.
struct Runs: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List runs, newest first, with status, progress and best val_loss.")

    @Option(help: "Only this task.") var task: String?
    @Option(help: "Only this optimizer.") var optimizer: String?
    @Option(help: "Only this status: running, completed, interrupted, diverged, failed.") var status: String?
    @Option(help: "Only the runs of this study (by name).") var study: String?
    @Option(help: "Only runs created in the last N hours.") var sinceHours: Double?
    @Option(help: "At most this many runs.") var limit: Int = 100
    @Option(help: "Output format: table, csv, tsv, json, ndjson, markdown.") var format: OutputFormat = .table
    @OptionGroup var store: StoreOptions

    func validate() throws {
        if let status, RunStatus(rawValue: status) == nil {
            throw ValidationError("unknown status '\(status)'; one of \(RunStatus.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard limit >= 1 else { throw ValidationError("--limit must be at least 1") }
    }

    func run() throws {
        let reader = try ReadOnlyStore(path: store.resolvedPath)
        let since = sinceHours.map { Date().timeIntervalSince1970 - $0 * 3600 }
        let result = try reader.rows("""
            SELECT r.id AS run, r.task, r.optimizer, r.seed, r.status, r.epochs_done || '/' || r.epochs_planned AS epochs,
                   r.best_val_loss, r.best_epoch, s.name AS study, r.dataset,
                   strftime('%Y-%m-%d %H:%M:%S', r.created_at, 'unixepoch') AS created
            FROM runs r LEFT JOIN studies s ON s.id = r.study_id
            WHERE (:task IS NULL OR r.task = :task) AND (:optimizer IS NULL OR r.optimizer = :optimizer)
              AND (:status IS NULL OR r.status = :status) AND (:study IS NULL OR s.name = :study)
              AND (:since IS NULL OR r.created_at >= :since)
            ORDER BY r.created_at DESC, r.id DESC LIMIT :limit
            """, namedArguments: ["task": task, "optimizer": optimizer?.lowercased(), "status": status, "study": study, "since": since,
                                  "limit": limit])
        print(RowPrinter(columns: result.columns, format: format).render(result.rows.map { $0.map(RowPrinter.Cell.init) }), terminator: "")
    }
}
