import ArgumentParser
import Foundation
import GRDB
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

    @Option(help: ArgumentHelp("Only these runs (ids or uid prefixes, comma-separated).", valueName: "RUNS")) var runs: String?
    @Option(name: .customLong("where"), help: ArgumentHelp("Only runs matching this filter (as in optilog best --help).", valueName: "FILTER"))
    var filter: String?
    @Option(help: "Only the runs of this study (by name).") var study: String?
    @Option(help: "csv, tsv, json or ndjson.") var format: OutputFormat = .csv
    @Option(name: [.customShort("o"), .long], help: ArgumentHelp("Write to this file instead of standard output.", valueName: "FILE")) var output: String?
    @Flag(help: "Overwrite the output file even if it is an SQLite database (never the log itself).") var force = false
    @OptionGroup var store: StoreOptions

    static let runColumns = ["run", "uid", "study", "task", "optimizer", "seed", "batch_size", "status", "epochs_planned", "epochs_done",
                             "dataset", "dataset_fingerprint", "configuration_fingerprint", "code_version", "optimizer_configuration"]
    static let epochColumns = ["epoch", "loss", "metric", "val_loss", "val_metric", "grad_norm_mean", "grad_norm_min", "grad_norm_max",
                               "grad_norm_last", "learning_rate", "optimizer_checksum", "seconds", "samples_per_second"]

    func validate() throws {
        guard [.csv, .tsv, .json, .ndjson].contains(format) else { throw ValidationError("export writes csv, tsv, json or ndjson") }
        if let filter { do { _ = try RunFilter(filter) } catch { throw ValidationError("\(error)") } }
    }

    func run() throws {
        let reader = try ReadOnlyStore(path: store.resolvedPath)
        var conditions = try RunFilter(filter ?? "").sql()
        if let runs {
            let ids = try runs.split(separator: ",").map { try reader.resolveRun($0.trimmingCharacters(in: .whitespaces)) }
            conditions.sql += " AND r.id IN (\(ids.map(String.init).joined(separator: ",")))"
        }
        if let study {
            _ = try reader.studyID(named: study)
            conditions.sql += " AND s.name = ?"
            conditions.arguments.append(study)
        }
        let result = try reader.rows("""
            SELECT r.id AS run, r.uid, s.name AS study, r.task, r.optimizer, r.seed, r.batch_size, r.status, r.epochs_planned, r.epochs_done,
                   r.dataset, r.dataset_fingerprint, r.configuration_fingerprint, r.code_version, r.optimizer_configuration,
                   \(Self.epochColumns.map { "e.\($0)" }.joined(separator: ", "))
            FROM runs r LEFT JOIN studies s ON s.id = r.study_id LEFT JOIN epochs e ON e.run_id = r.id
            WHERE \(conditions.sql) ORDER BY r.id, e.epoch
            """, arguments: conditions.arguments)
        let text: String
        if format == .json {
            text = Self.json(result.rows)
        } else {
            text = RowPrinter(columns: Self.runColumns + Self.epochColumns, format: format, color: false)
                .render(result.rows.filter { !$0[Self.runColumns.count].isNull }.map { $0.map { Self.exact($0, format) } })
        }
        if let output {
            try OutputFile(path: output, store: store.resolvedPath, force: force).write(text, what: "\(Set(result.rows.map { Int64.fromDatabaseValue($0[0]) }).count) runs")
        } else {
            print(text, terminator: "")
        }
    }

    /// Full precision (the shortest text that reads back as the same double): an export is
    /// data, not a display. JSON numbers already are.
    static func exact(_ value: DatabaseValue, _ format: OutputFormat) -> RowPrinter.Cell {
        if case .double(let d) = value.storage, format == .csv || format == .tsv, d.isFinite { return .text("\(d)") }
        return RowPrinter.Cell(value)
    }

    /// One object per run, its configuration as an object, its epochs as an array.
    static func json(_ rows: [[DatabaseValue]]) -> String {
        var runs: [String] = []
        var i = 0
        while i < rows.count {
            let id = rows[i][0]
            var fields = runColumns.indices.map { c -> String in
                let value = rows[i][c]
                let raw = runColumns[c] == "optimizer_configuration" ? (String.fromDatabaseValue(value) ?? "null") : RowPrinter.Cell(value).json
                return "\(jsonString(runColumns[c])):\(raw)"
            }
            var epochs: [String] = []
            while i < rows.count && rows[i][0] == id {
                if !rows[i][runColumns.count].isNull {
                    epochs.append("{" + epochColumns.indices.map { c in
                        "\(jsonString(epochColumns[c])):\(RowPrinter.Cell(rows[i][runColumns.count + c]).json)"
                    }.joined(separator: ",") + "}")
                }
                i += 1
            }
            fields.append("\"epochs\":[" + epochs.joined(separator: ",") + "]")
            runs.append("{" + fields.joined(separator: ",") + "}")
        }
        return "[" + runs.joined(separator: ",\n ") + "]\n"
    }
}
