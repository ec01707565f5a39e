import ArgumentParser
import Basics
import Foundation
import Store

/// `optilog runs`: the runs in the log, newest first.
struct Runs: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List runs, newest first, with status, progress and best val_loss.")

    @Option(help: "Only this task.") var task: String?
    @Option(help: "Only this optimizer.") var optimizer: String?
    @Option(help: "Only this status: running, completed, interrupted, diverged, failed.") var status: String?
    @Option(help: "Only the runs of this study (by name).") var study: String?
    @Option(
        help: ArgumentHelp(
            "Only runs created since: a duration back from now (30m, 12h, 7d) or a UTC date (2026-11-29, 2026-11-29T12:00:00).",
            valueName: "WHEN")) var since: String?
    @Option(
        name: .customLong("where"), help: ArgumentHelp("Only runs matching this filter (as in optilog best --help), e.g. tag.split=holdout.", valueName: "FILTER"))
    var filter: String?
    @Flag(help: "List archived runs only (optilog archive hides them from everything else).") var archived = false
    @Option(help: "At most this many runs.") var limit: Int = 100
    @Flag(help: "Refresh a compact view (running runs first, with progress and heartbeat) until Ctrl-C, as another process fills the store.")
    var watch = false
    @Option(help: ArgumentHelp("With --watch: seconds between refreshes.", valueName: "SECONDS")) var interval: Double = 2
    @Option(help: ArgumentHelp("With --watch: stop after this many refreshes.", valueName: "N")) var count: Int?
    @Option(help: "Output format: table, csv, tsv, json, ndjson, markdown.") var format: OutputFormat = .table
    @OptionGroup var store: StoreOptions

    func validate() throws {
        if let status, RunStatus(rawValue: status) == nil {
            throw ValidationError("unknown status '\(status)'; one of \(RunStatus.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard limit >= 1 else { throw ValidationError("--limit must be at least 1") }
        guard interval >= 0.1, interval <= 86_400 else { throw ValidationError("--interval must be between 0.1 and 86400 seconds") }
        if let count, count < 1 { throw ValidationError("--count must be at least 1") }
        if !watch && (count != nil) { throw ValidationError("--count goes with --watch") }
        if watch && format != .table { throw ValidationError("--watch draws a table; for files use optilog runs --format \(format.rawValue)") }
        if let since, Self.moment(since) == nil {
            throw ValidationError("--since: \"\(since)\" is neither a duration like 12h or 7d nor a date like 2026-11-29")
        }
    }

    /// Unix time of `--since`: now minus a duration, or a UTC date (and time).
    static func moment(_ text: String, now: Date = Date()) -> Double? {
        if let unit = text.last, let amount = Double(text.dropLast()), amount >= 0,
            let seconds = ["s": 1.0, "m": 60, "h": 3600, "d": 86_400, "w": 604_800][String(unit)]
        {
            return now.timeIntervalSince1970 - amount * seconds
        }
        let formatter = ISO8601DateFormatter()
        for options: ISO8601DateFormatter.Options in [
            [.withFullDate], [.withFullDate, .withTime, .withColonSeparatorInTime, .withDashSeparatorInDate],
        ] {
            formatter.formatOptions = options
            if let date = formatter.date(from: text) { return date.timeIntervalSince1970 }
        }
        return nil
    }

    func run() throws {
        let reader = try ReadOnlyStore(path: store.resolvedPath)
        if watch {
            Interruption.install()
            return try RunsWatch(reader: reader, interval: interval, count: count).loop { try self.listings(reader) }
        }
        let listings = try listings(reader)
        if listings.isEmpty { warn("optilog: note: no \(archived ? "archived " : "")runs match") }
        // Tags and notes only when a listed run has some (they are what users added).
        let annotations = try reader.annotations(runs: listings.map(\.run.id))
        let hasTags = annotations.values.contains { !$0.tags.isEmpty }, hasNotes = annotations.values.contains { !$0.notes.isEmpty }
        let columns = [
            "run", "task", "optimizer", "learning_rate", "seed", "status", "epochs", "best_val_loss", "best_epoch", "study", "dataset", "created",
        ] + (hasTags ? ["tags"] : []) + (hasNotes ? ["notes"] : [])
        // The learning rate as configured (0.001), or a schedule's class name.
        func learningRate(_ r: Run) -> RowPrinter.Cell {
            guard let config = try? ConfigValue.parse(r.optimizerConfiguration), let lr = config["learning_rate"] else { return .null }
            if case .object = lr, case .string(let name)? = lr["class_name"] { return .text(name) }
            // Files get the number, tables the text as configured.
            if case .number(let d) = lr, let f = Float(exactly: d), f.isFinite {
                if format == .json || format == .ndjson { return .number(Double("\(f)") ?? d, digits: 9) }
                if format == .csv || format == .tsv { return .text("\(f)") }
            }
            return .text(SeedTables.settingText(lr))
        }
        print(
            RowPrinter(columns: columns, format: format).render(
                listings.map { l in
                    let r = l.run
                    return [
                        .integer(Int(r.id)), .text(r.task), .text(r.optimizer), learningRate(r), RowPrinter.Cell(r[.seed]), .text(r.status.rawValue),
                        .text("\(r.epochsDone)/\(r.epochsPlanned)"), .optional(r.bestValLoss), .optional(r.bestEpoch), .optional(l.study),
                        .text(format == .table || format == .markdown ? Comparison.shortName(r.dataset) : r.dataset), .text(utcTime(r.createdAt)),
                    ] + (hasTags ? [.text(Tags.printable((annotations[r.id]?.tags ?? []).map { "\($0.key)=\($0.value)" }.joined(separator: " ")))] : [])
                        + (hasNotes ? [.integer(annotations[r.id]?.notes.count ?? 0)] : [])
                }), terminator: "")
    }

    /// The runs the options select, newest first.
    func listings(_ reader: ReadOnlyStore) throws -> [RunListing] {
        var ids: [Int64]?
        var shown: RunListQuery.ArchivedRuns = archived ? .only : .hidden
        if let filter {
            let parsed = try RunFilter(filter)
            try reader.checkKeys(parsed.clauses.map(\.key))
            ids = try reader.runs(matching: parsed.reaching(archived: archived ? "1" : "0")).map(\.run.id)
            // A filter that names `archived` has chosen already.
            if parsed.clauses.contains(where: { $0.key == "archived" }) { shown = .included }
        }
        return try reader.runs(
            RunListQuery(
                task: task.map(Lists.taskName), optimizer: optimizer, status: status.flatMap(RunStatus.init(rawValue:)),
                study: study, since: since.flatMap { Self.moment($0) }, ids: ids, archived: shown, limit: limit))
    }
}
