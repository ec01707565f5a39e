import ArgumentParser
import Foundation
import Store

/// `optilog checkpoints`: list runs' checkpoints, or prune those of finished runs.
struct Checkpoints: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List checkpoints, or prune finished runs' to the newest N (--keep-last N).",
        discussion: """
            A run keeps its 2 newest checkpoints as it trains. --keep-last N deletes older ones of \
            completed and diverged runs (nothing resumes those), always keeping the newest that \
            decodes and matches its checksum (what optilog verify checks and a longer rerun starts \
            from); interrupted, failed and running runs keep all theirs. --dry-run says what would go. \
            Then optilog vacuum shrinks the file. Examples:
              optilog checkpoints 12
              optilog checkpoints --keep-last 1 --dry-run
              optilog checkpoints --where "study=study-seed" --keep-last 1
            """)

    @Argument(help: ArgumentHelp("Runs: ids or uid prefixes (default: every run).", valueName: "run")) var references: [String] = []
    @Option(help: ArgumentHelp("Keep this many newest checkpoints of each finished run (at least 1).", valueName: "N")) var keepLast: Int?
    @Flag(help: "With --keep-last: say what would be deleted, delete nothing.") var dryRun = false
    @Option(help: "Output format of the listing: table, csv, tsv, json, ndjson, markdown.") var format: OutputFormat = .table
    @OptionGroup var selection: RunSelection
    @OptionGroup var store: StoreOptions

    func validate() throws {
        if let keepLast, keepLast < 1 { throw ValidationError("--keep-last must be at least 1: a finished run keeps its newest checkpoint") }
        if dryRun && keepLast == nil { throw ValidationError("--dry-run goes with --keep-last N") }
        if !references.isEmpty && !selection.isEmpty { throw ValidationError("give runs or --where/--study, not both") }
    }

    func run() throws {
        guard let keepLast else { return try list() }
        let everything = references.isEmpty && selection.isEmpty
        if dryRun {
            let reader = try ReadOnlyStore(path: store.resolvedPath)
            let ids = everything ? nil : try selection.resolve(references, reader: reader, archived: "0|1")
            let report = try reader.checkpointPrune(runs: ids, keepLast: keepLast).report
            warn("optilog: would delete \(counted(report.checkpoints, "checkpoint")) of \(counted(report.runs, "run")) (\(byteText(report.bytes))); nothing was deleted")
            return
        }
        let ids = everything ? nil : try selection.resolve(references, path: store.resolvedPath, archived: "0|1")
        let writable = try store.open()
        let report = try writable.pruneCheckpoints(runs: ids, keepLast: keepLast)
        warn("optilog: deleted \(counted(report.checkpoints, "checkpoint")) of \(counted(report.runs, "run")) (\(byteText(report.bytes))); "
             + "optilog vacuum would free \(byteText(try writable.freeBytes()))")
    }

    func list() throws {
        let reader = try ReadOnlyStore(path: store.resolvedPath)
        let everything = references.isEmpty && selection.isEmpty
        let ids = everything ? nil : try selection.resolve(references, reader: reader, archived: "0|1")
        var rows: [[RowPrinter.Cell]] = []
        var total: Int64 = 0
        for listing in try reader.runs(matching: RunFilter.all.reaching(archived: "0|1"), ids: ids) {
            let run = listing.run
            for c in try reader.checkpointSizes(run: run.id) {
                total += Int64(c.storedBytes)
                rows.append([.integer(Int(run.id)), .text(run.task), .text(run.optimizer), .text(run.status.rawValue), .integer(c.epoch), .integer(c.step),
                             .integer(c.payloadBytes), .integer(c.storedBytes), .text(utcTime(c.createdAt))])
            }
        }
        print(RowPrinter(columns: ["run", "task", "optimizer", "status", "epoch", "step", "payload_bytes", "stored_bytes", "created"], format: format)
            .render(rows), terminator: "")
        if format == .table { warn("optilog: \(rows.count) checkpoints of \(Set(rows.map { "\($0[0])" }).count) runs, \(byteText(total)) stored") }
    }
}
