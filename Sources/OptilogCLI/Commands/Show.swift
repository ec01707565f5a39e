import ArgumentParser
import Basics
import Foundation
import Store

/// `optilog show RUN`: everything the log knows about one run.
struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "One run: configuration, data set, every epoch, checkpoints, loss sparklines.",
        discussion: """
            RUN is a run id or the start of its uid. As a table (or markdown) the run's facts, its \
            optimizer configuration, the per-epoch table and its checkpoints; --format json gives all of \
            it as one object; csv, tsv and ndjson give the per-epoch rows.
            """)

    @Argument(help: ArgumentHelp("The run: its id, or the first 4+ characters of its uid.", valueName: "run")) var reference: String
    @Option(help: "Output format: table, csv, tsv, json, ndjson, markdown.") var format: OutputFormat = .table
    @OptionGroup var store: StoreOptions

    /// The epoch table's columns (the checksum shortened on screen).
    static let epochColumns: [Epoch.Columns] = [
        .epoch, .loss, .metric, .valLoss, .valMetric, .gradNormMean, .gradNormMin, .gradNormMax,
        .learningRate, .seconds, .optimizerChecksum,
    ]
    static let checkpointColumns = ["epoch", "step", "payload_bytes", "stored_bytes", "payload_sha256", "optimizer_checksum", "created"]

    func run() throws {
        let reader = try ReadOnlyStore(path: store.resolvedPath)
        let id = try reader.resolveRun(reference)
        guard let listing = try reader.listing(id) else { throw CleanError("no run \(id) in \(store.resolvedPath)") }
        // Schema 2's facts only where the store has them (a schema-1 store on read-only media is
        // read as it is).
        let present = Set(try reader.columns(of: "runs"))
        let annotations = try reader.annotations(runs: [id])[id] ?? RunAnnotations()
        let facts = Self.facts(listing, present: present, annotations: annotations)
        let epochs = try reader.epochs(run: id)
        let checkpoints = try reader.checkpoints(run: id)
        let fullChecksums = format != .table && format != .markdown
        let epochCells: [[RowPrinter.Cell]] = epochs.map { e in
            Self.epochColumns.map { c in
                c == .optimizerChecksum
                    ? .text(fullChecksums ? e.optimizerChecksum : String(e.optimizerChecksum.prefix(12))) : RowPrinter.Cell(e[c])
            }
        }
        let epochTable = RowPrinter(columns: Self.epochColumns.map { $0 == .optimizerChecksum ? "checksum" : $0.rawValue }, format: format)
        let checkpointCells: [[RowPrinter.Cell]] = checkpoints.map { c in
            let short = format == .table || format == .markdown
            return [
                .integer(c.epoch), .integer(c.step), .integer(c.payloadBytes), .integer(c.blob.count),
                .text(short ? String(c.payloadSHA256.prefix(12)) : c.payloadSHA256),
                .text(short ? String(c.optimizerChecksum.prefix(12)) : c.optimizerChecksum), .text(utcTime(c.createdAt)),
            ]
        }
        switch format {
        case .csv, .tsv, .ndjson:
            print(epochTable.render(epochCells), terminator: "")
        case .json:
            let object = facts.map { key, value -> String in
                let raw: String
                if key == "optimizer_configuration" || key == "model_configuration", case .text(let text) = value, !text.isEmpty {
                    raw = text
                } else {
                    raw = value.json
                }
                return "\(jsonString(key)):\(raw)"
            }
            let checkpointRows = RowPrinter(columns: Self.checkpointColumns, format: .json).render(checkpointCells)
            print(
                "{" + object.joined(separator: ",") + ",\"epochs\":" + epochTable.render(epochCells).dropLast()
                    + ",\"checkpoints\":" + checkpointRows.dropLast() + "}")
        case .table, .markdown:
            let shown = facts.filter { key, value in
                if case .null = value { return false }
                return key != "model_configuration" && key != "optimizer_configuration"
            }
            let about = RowPrinter(columns: ["field", "value"], format: format)
            print(about.render(shown.map { [.text($0.0), .text($0.1.plain)] }))
            // As configured (0.001), not as Keras's float32 keeps it (0.0010000000474974513).
            let configured = (try? ConfigValue.parse(listing.run.optimizerConfiguration)).map(SeedTables.settingText)
            print("optimizer configuration: " + (configured ?? listing.run.optimizerConfiguration) + "\n")
            print(epochTable.render(epochCells))
            for (name, values) in [("loss", epochs.map(\.loss)), ("val_loss", epochs.map(\.valLoss))] {
                guard values.contains(where: { $0 != nil }) else { continue }
                let finite = values.compactMap { $0 }
                print(
                    String(
                        format: "%-9@ %@  %.4g → %.4g (min %.4g)", name as NSString, Sparkline.render(values) as NSString,
                        finite.first!, finite.last!, finite.min()!))
            }
            print("\ncheckpoints:")
            print(RowPrinter(columns: Self.checkpointColumns, format: format).render(checkpointCells), terminator: "")
        }
    }

    /// The run's facts in the order `show` prints them.
    static func facts(_ listing: RunListing, present: Set<String>, annotations: RunAnnotations = RunAnnotations()) -> [(String, RowPrinter.Cell)] {
        let r = listing.run
        var facts: [(String, RowPrinter.Cell)] = [
            ("run", .integer(Int(r.id))), ("uid", .text(r.uid)), ("task", .text(r.task)), ("optimizer", .text(r.optimizer)),
            ("status", .text(r.status.rawValue)), ("status_detail", .optional(r.statusDetail)),
            ("diverged_step", .optional(r.divergedStep)),
            ("epochs_done", .integer(r.epochsDone)), ("epochs_planned", .integer(r.epochsPlanned)),
            ("best_val_loss", .optional(r.bestValLoss)),
            ("best_epoch", .optional(r.bestEpoch)), ("seed", RowPrinter.Cell(r[.seed])), ("batch_size", .integer(r.batchSize)),
            ("study", .optional(listing.study)), ("dataset", .text(r.dataset)), ("dataset_fingerprint", .text(r.datasetFingerprint)),
            ("configuration_fingerprint", .text(r.configurationFingerprint)), ("host", .text(r.host)), ("threads", .integer(r.threads)),
            ("code_version", .text(r.codeVersion)),
        ]
        let newer: [(Run.Columns, RowPrinter.Cell)] = [
            (.dataDir, .optional(r.dataDir)), (.checkpointEvery, .number(r.checkpointPolicy.seconds, digits: 6)),
            (.checkpointEpochs, .integer(r.checkpointPolicy.epochs)), (.epochsReplayed, .integer(r.epochsReplayed)),
        ]
        facts += newer.filter { present.contains($0.0.rawValue) }.map { ($0.0.rawValue, $0.1) }
        facts += [
            ("created", .text(utcTime(r.createdAt))), ("finished", r.finishedAt.map { .text(utcTime($0)) } ?? .null),
            ("archived", annotations.archivedAt.map { .text(utcTime($0) + (annotations.archiveReason.map { ": " + Tags.printable($0) } ?? "")) } ?? .null),
            ("tags", annotations.tags.isEmpty ? .null : .text(Tags.printable(annotations.tags.map { "\($0.key)=\($0.value)" }.joined(separator: " ")))),
            ("notes", annotations.notes.isEmpty ? .null : .text(Tags.printable(annotations.notes.map { "\(utcTime($0.createdAt)): \($0.text)" }.joined(separator: " | ")))),
            ("optimizer_configuration", .text(r.optimizerConfiguration)), ("model_configuration", .text(r.modelConfiguration)),
        ]
        return facts
    }
}

/// A Unix time as `show` and `runs` print it: UTC, to the second, as SQLite's strftime does
/// (rounded to the millisecond, then cut); a time that is not one (non-finite, out of range) is
/// empty.
func utcTime(_ seconds: Double) -> String {
    guard seconds.isFinite, abs(seconds) < 1e11 else { return "" }
    var t = time_t(((seconds * 1000).rounded() / 1000).rounded(.down))
    var parts = tm()
    gmtime_r(&t, &parts)
    return String(
        format: "%04d-%02d-%02d %02d:%02d:%02d", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
        Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
}
