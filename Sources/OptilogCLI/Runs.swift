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
    @Option(help: ArgumentHelp("Only runs created since: a duration back from now (30m, 12h, 7d) or a UTC date (2026-11-29, 2026-11-29T12:00:00).",
                               valueName: "WHEN")) var since: String?
    @Option(help: "Only runs created in the last N hours.") var sinceHours: Double?
    @Option(help: "At most this many runs.") var limit: Int = 100
    @Option(help: "Output format: table, csv, tsv, json, ndjson, markdown.") var format: OutputFormat = .table
    @OptionGroup var store: StoreOptions

    func validate() throws {
        if let status, RunStatus(rawValue: status) == nil {
            throw ValidationError("unknown status '\(status)'; one of \(RunStatus.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard limit >= 1 else { throw ValidationError("--limit must be at least 1") }
        if let since, Self.moment(since) == nil { throw ValidationError("--since: \"\(since)\" is neither a duration like 12h or 7d nor a date like 2026-11-29") }
    }

    /// Unix time of `--since`: now minus a duration, or a UTC date (and time).
    static func moment(_ text: String, now: Date = Date()) -> Double? {
        if let unit = text.last, let amount = Double(text.dropLast()), amount >= 0,
           let seconds = ["s": 1.0, "m": 60, "h": 3600, "d": 86_400, "w": 604_800][String(unit)] {
            return now.timeIntervalSince1970 - amount * seconds
        }
        let formatter = ISO8601DateFormatter()
        for options: ISO8601DateFormatter.Options in [[.withFullDate], [.withFullDate, .withTime, .withColonSeparatorInTime, .withDashSeparatorInDate]] {
            formatter.formatOptions = options
            if let date = formatter.date(from: text) { return date.timeIntervalSince1970 }
        }
        return nil
    }

    func run() throws {
        let reader = try ReadOnlyStore(path: store.resolvedPath)
        let since = since.flatMap { Self.moment($0) } ?? sinceHours.map { Date().timeIntervalSince1970 - $0 * 3600 }
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
