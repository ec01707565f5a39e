import ArgumentParser
import Foundation
import Store

/// `optilog export`: runs with their epochs, for pandas, spreadsheets or other trackers.
struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Export runs and their epochs as CSV, TSV, JSON or NDJSON.",
        discussion: """
            CSV, TSV and NDJSON: one row per epoch, the run's facts repeated on each (pandas.read_csv \
            reads it as is). JSON: one object per run with its optimizer configuration and an "epochs" \
            array. Examples:
              optilog export --format csv -o runs.csv
              optilog export --runs 3,7 --format json
              optilog export --where "task=imdb, status=completed" --format ndjson
            """)

    @Option(parsing: .upToNextOption, help: ArgumentHelp("Only these runs (ids or uid prefixes: a,b or a b).", valueName: "RUNS"))
    var runs: [String] = []
    @Option(
        name: .customLong("where"), help: ArgumentHelp("Only runs matching this filter (as in optilog best --help).", valueName: "FILTER"))
    var filter: String?
    @Option(help: "Only the runs of this study (by name).") var study: String?
    @Option(help: "csv, tsv, json or ndjson.") var format: OutputFormat = .csv
    @Option(name: [.customShort("o"), .long], help: ArgumentHelp("Write to this file instead of standard output.", valueName: "FILE"))
    var output: String?
    @Flag(help: "Overwrite the output file even if it is an SQLite database (never the log itself).") var force = false
    @OptionGroup var store: StoreOptions

    static let runColumns = [
        "run", "uid", "study", "task", "optimizer", "seed", "batch_size", "status", "epochs_planned", "epochs_done",
        "dataset", "dataset_fingerprint", "configuration_fingerprint", "code_version", "optimizer_configuration",
    ]
    /// Every column of the epoch but its run and commit time.
    static let epochColumns = Epoch.Columns.allCases.filter { $0 != .runID && $0 != .committedAt }

    /// A run's facts as exported, in `runColumns` order.
    static func runCells(_ l: RunListing) -> [StoredValue] {
        let r = l.run
        return [
            r[.id], r[.uid], l.study.map { .text($0) } ?? .null, r[.task], r[.optimizer], r[.seed], r[.batchSize], r[.status],
            r[.epochsPlanned], r[.epochsDone], r[.dataset], r[.datasetFingerprint], r[.configurationFingerprint], r[.codeVersion],
            r[.optimizerConfiguration],
        ]
    }

    func validate() throws {
        guard [.csv, .tsv, .json, .ndjson].contains(format) else { throw ValidationError("export writes csv, tsv, json or ndjson") }
        if let filter { do { _ = try RunFilter(filter) } catch { throw ValidationError("\(error)") } }
    }

    func run() throws {
        let reader = try ReadOnlyStore(path: store.resolvedPath)
        let ids = runs.isEmpty ? nil : try Lists.flatten(runs).map { try reader.resolveRun($0) }
        if let study { _ = try reader.studyID(named: study) }
        let parsed = try RunFilter(filter ?? "")
        try reader.checkKeys(parsed.clauses.map(\.key))
        let listings = try reader.runs(matching: parsed, study: study, ids: ids)
        if listings.isEmpty { warn("optilog: note: no runs match") }
        let exported = try listings.map { ($0, try reader.epochs(run: $0.run.id)) }
        let text: String
        if format == .json {
            text = Self.json(exported)
        } else {
            text = RowPrinter(columns: Self.runColumns + Self.epochColumns.map(\.rawValue), format: format, color: false)
                .render(
                    exported.flatMap { listing, epochs in
                        epochs.map { e in (Self.runCells(listing) + Self.epochColumns.map { e[$0] }).map { Self.exact($0, format) } }
                    })
        }
        if let output {
            try OutputFile(path: output, store: store.resolvedPath, force: force).write(text, what: "\(listings.count) runs")
        } else {
            print(text, terminator: "")
        }
    }

    /// Full precision (the shortest text that reads back as the same double): an export is
    /// data, not a display. JSON numbers already are.
    static func exact(_ value: StoredValue, _ format: OutputFormat) -> RowPrinter.Cell {
        if case .real(let d) = value, format == .csv || format == .tsv, d.isFinite { return .text("\(d)") }
        return RowPrinter.Cell(value)
    }

    /// One object per run, its configuration as an object, its epochs as an array.
    static func json(_ runs: [(RunListing, [Epoch])]) -> String {
        let objects = runs.map { listing, epochs -> String in
            var fields = zip(runColumns, runCells(listing)).map { name, value -> String in
                let raw = name == "optimizer_configuration" ? (value.string ?? "null") : RowPrinter.Cell(value).json
                return "\(jsonString(name)):\(raw)"
            }
            let rows = epochs.map { e in
                "{" + epochColumns.map { "\(jsonString($0.rawValue)):\(RowPrinter.Cell(e[$0]).json)" }.joined(separator: ",") + "}"
            }
            fields.append("\"epochs\":[" + rows.joined(separator: ",") + "]")
            return "{" + fields.joined(separator: ",") + "}"
        }
        return "[" + objects.joined(separator: ",\n ") + "]\n"
    }
}
