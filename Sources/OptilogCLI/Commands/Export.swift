import ArgumentParser
import Basics
import Foundation
import Store

/// `optilog export`: runs with their epochs, for pandas, spreadsheets or other trackers.
struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Export runs and their epochs, steps or layer norms as CSV, TSV, JSON or NDJSON.",
        discussion: """
            CSV, TSV and NDJSON: one row per epoch, the run's facts repeated on each, its optimizer \
            settings as opt.KEY columns and its tags as tag.KEY columns (pandas.read_csv reads it as \
            is). JSON: one object per run with its optimizer configuration, tags and an "epochs" array. \
            --steps: one row per training step (run, uid, task, optimizer, seed, epoch, step, loss, \
            grad_norm; step counts from 1 over the run), decoded from the log's compressed series. \
            --layers: one row per epoch and layer (its gradient norm at the epoch's last step). \
            Numbers at full precision; non-finite values are nan, inf, -inf (null in JSON). \
            Archived runs are left out unless --where names archived. Examples:
              optilog export --format csv -o runs.csv
              optilog export --runs 3,7 --format json
              optilog export --where "task=imdb, status=completed" --format ndjson
              optilog export --steps --runs 3 -o steps.csv
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
    @Flag(help: "One row per training step: loss and gradient norm.") var steps = false
    @Flag(help: "One row per epoch and layer: the layer's gradient norm.") var layers = false
    @Flag(help: "Overwrite the output file even if it is an SQLite database (never the log itself).") var force = false
    @OptionGroup var store: StoreOptions

    static let runColumns = [
        "run", "uid", "study", "task", "optimizer", "seed", "batch_size", "status", "epochs_planned", "epochs_done",
        "dataset", "dataset_fingerprint", "configuration_fingerprint", "code_version", "optimizer_configuration",
    ]
    /// What identifies a run on each row of `--steps` and `--layers`.
    static let shortRunColumns = ["run", "uid", "task", "optimizer", "seed"]
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
        if steps && layers { throw ValidationError("--steps and --layers are two exports: give one") }
        if let filter { do { _ = try RunFilter(filter) } catch { throw ValidationError("\(error)") } }
    }

    func run() throws {
        let reader = try ReadOnlyStore(path: store.resolvedPath)
        let ids = runs.isEmpty ? nil : try Lists.flatten(runs).map { try reader.resolveRun($0) }
        if let study { _ = try reader.studyID(named: study) }
        let parsed = try RunFilter(filter ?? "")
        try reader.checkKeys(parsed.clauses.map(\.key))
        // Runs named by id are exported even when archived, as `show` shows them.
        let listings = try reader.runs(matching: ids == nil ? parsed : parsed.reaching(archived: "0|1"), study: study, ids: ids)
        if listings.isEmpty { warn("optilog: note: no runs match") }
        let text: String
        if steps || layers {
            text = try rows(listings, reader: reader)
        } else {
            let exported = try listings.map { ($0, try reader.epochs(run: $0.run.id)) }
            let annotations = try reader.annotations(runs: listings.map(\.run.id))
            if format == .json {
                text = Self.json(exported, annotations: annotations)
            } else {
                // Settings and tags as columns of their own: the union over the exported runs.
                let settings = listings.map { Self.settings($0.run, format) }
                let settingKeys = Array(Set(settings.flatMap(\.keys))).sorted()
                let tagKeys = Array(Set(annotations.values.flatMap { $0.tags.map(\.key) })).sorted()
                let columns = Self.runColumns.filter { $0 != "optimizer_configuration" } + settingKeys.map { "opt." + $0 }
                    + tagKeys.map { "tag." + $0 } + Self.epochColumns.map(\.rawValue)
                text = RowPrinter(columns: columns, format: format, color: false).render(
                    zip(exported, settings).flatMap { item, setting in
                        let (listing, epochs) = item
                        let tags = Dictionary(annotations[listing.run.id]?.tags.map { ($0.key, $0.value) } ?? [], uniquingKeysWith: { a, _ in a })
                        let facts = zip(Self.runColumns, Self.runCells(listing)).filter { $0.0 != "optimizer_configuration" }.map(\.1)
                        let fixed = facts.map { Self.exact($0, format) }
                            + settingKeys.map { setting[$0] ?? .null } + tagKeys.map { tags[$0].map { .text($0) } ?? .null }
                        return epochs.map { e in fixed + Self.epochColumns.map { Self.exact(e[$0], format) } }
                    })
            }
        }
        if let output {
            try OutputFile(path: output, store: store.resolvedPath, force: force).write(text, what: counted(listings.count, "run"))
        } else {
            print(text, terminator: "")
        }
    }

    /// `--steps` or `--layers`: one row per step, or per epoch and layer, of every run.
    func rows(_ listings: [RunListing], reader: ReadOnlyStore) throws -> String {
        let columns = Self.shortRunColumns + (steps ? ["epoch", "step", "loss", "grad_norm"] : ["epoch", "layer", "grad_norm"])
        var out: [[RowPrinter.Cell]] = []
        for listing in listings {
            let r = listing.run
            let run: [RowPrinter.Cell] = [.integer(Int(r.id)), .text(r.uid), .text(r.task), .text(r.optimizer), RowPrinter.Cell(r[.seed])]
            if steps {
                for series in try reader.stepSeries(run: r.id) {
                    for (i, (loss, norm)) in zip(series.losses, series.gradNorms).enumerated() {
                        out.append(run + [.integer(series.epoch), .integer(series.firstStep + i + 1), value(Double(loss)), value(Double(norm))])
                    }
                }
            } else {
                for (epoch, layer, norm) in try reader.layerNorms(run: r.id) {
                    out.append(run + [.integer(epoch), .text(layer), norm.map(value) ?? .null])
                }
            }
        }
        return RowPrinter(columns: columns, format: format, color: false).render(out)
    }

    /// A number as data: its shortest exact text; non-finite as nan, inf, -inf (null in JSON).
    func value(_ d: Double) -> RowPrinter.Cell {
        if format == .json || format == .ndjson { return d.isFinite ? .number(d, digits: 17) : .null }
        if d.isNaN { return .text("nan") }
        if d.isInfinite { return .text(d > 0 ? "inf" : "-inf") }
        return .text("\(d)")
    }

    /// A run's optimizer settings as cells: numbers as configured (0.001, not the float32 round
    /// trip 0.0010000000474974513 Keras's config holds), a schedule by its class name.
    static func settings(_ run: Run, _ format: OutputFormat) -> [String: RowPrinter.Cell] {
        guard case .object(let pairs)? = try? ConfigValue.parse(run.optimizerConfiguration) else { return [:] }
        var out: [String: RowPrinter.Cell] = [:]
        for (key, value) in pairs where key != "name" {
            switch value {
            case .number(let d):
                let shown = Float(exactly: d).map { Double("\($0)") ?? d } ?? d
                out[key] = format == .ndjson ? .number(shown, digits: 17) : .text("\(shown)")
            case .bool(let b): out[key] = .text(b ? "True" : "False")  // as pandas writes and reads booleans
            case .string(let t): out[key] = .text(t)
            case .null: out[key] = .null
            case .object: out[key] = value["class_name"].flatMap { if case .string(let n) = $0 { return .text(n) } else { return nil } } ?? .text(SeedTables.settingText(value))
            default: out[key] = .text(SeedTables.settingText(value))
            }
        }
        return out
    }

    /// Full precision (the shortest text that reads back as the same double): an export is
    /// data, not a display. JSON numbers already are.
    static func exact(_ value: StoredValue, _ format: OutputFormat) -> RowPrinter.Cell {
        if case .real(let d) = value, format == .csv || format == .tsv, d.isFinite { return .text("\(d)") }
        return RowPrinter.Cell(value)
    }

    /// One object per run, its configuration as an object, its epochs as an array.
    static func json(_ runs: [(RunListing, [Epoch])], annotations: [Int64: RunAnnotations] = [:]) -> String {
        let objects = runs.map { listing, epochs -> String in
            var fields = zip(runColumns, runCells(listing)).map { name, value -> String in
                let raw = name == "optimizer_configuration" ? (value.string ?? "null") : RowPrinter.Cell(value).json
                return "\(jsonString(name)):\(raw)"
            }
            let rows = epochs.map { e in
                "{" + epochColumns.map { "\(jsonString($0.rawValue)):\(RowPrinter.Cell(e[$0]).json)" }.joined(separator: ",") + "}"
            }
            let tags = annotations[listing.run.id]?.tags ?? []
            fields.append("\"tags\":{" + tags.map { "\(jsonString($0.key)):\(jsonString($0.value))" }.joined(separator: ",") + "}")
            fields.append("\"epochs\":[" + rows.joined(separator: ",") + "]")
            return "{" + fields.joined(separator: ",") + "}"
        }
        return "[" + objects.joined(separator: ",\n ") + "]\n"
    }
}
