import ArgumentParser
import Foundation
import GRDB
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

    static let epochColumns = ["epoch", "loss", "metric", "val_loss", "val_metric", "grad_norm_mean", "grad_norm_min", "grad_norm_max",
                               "learning_rate", "seconds", "checksum"]

    func run() throws {
        let reader = try ReadOnlyStore(path: store.resolvedPath)
        let id = try reader.resolveRun(reference)
        // Schema 2's columns, where the store has them (a schema-1 store on read-only media is
        // read as it is).
        let present = Set(try reader.rows("SELECT name FROM pragma_table_info('runs')").rows.compactMap { String.fromDatabaseValue($0[0]) })
        let newer = ["data_dir", "checkpoint_every", "checkpoint_epochs", "epochs_replayed"].filter(present.contains).map { "r.\($0), " }.joined()
        let info = try reader.rows("""
            SELECT r.id AS run, r.uid, r.task, r.optimizer, r.status, r.status_detail, r.diverged_step,
                   r.epochs_done, r.epochs_planned, r.best_val_loss, r.best_epoch, r.seed, r.batch_size,
                   s.name AS study, r.dataset, r.dataset_fingerprint, r.configuration_fingerprint, r.host, r.threads, r.code_version,
                   \(newer)
                   strftime('%Y-%m-%d %H:%M:%S', r.created_at, 'unixepoch') AS created,
                   strftime('%Y-%m-%d %H:%M:%S', r.finished_at, 'unixepoch') AS finished,
                   r.optimizer_configuration, r.model_configuration
            FROM runs r LEFT JOIN studies s ON s.id = r.study_id WHERE r.id = ?
            """, arguments: [id])
        let facts = zip(info.columns, info.rows[0]).map { ($0, $1) }
        let epochs = try reader.rows("""
            SELECT epoch, loss, metric, val_loss, val_metric, grad_norm_mean, grad_norm_min, grad_norm_max, learning_rate, seconds,
                   optimizer_checksum FROM epochs WHERE run_id = ? ORDER BY epoch
            """, arguments: [id]).rows
        let checkpoints = try reader.rows("""
            SELECT epoch, step, payload_bytes, length(blob) AS stored_bytes, payload_sha256, optimizer_checksum,
                   strftime('%Y-%m-%d %H:%M:%S', created_at, 'unixepoch') AS created
            FROM checkpoints WHERE run_id = ? ORDER BY epoch
            """, arguments: [id])
        let fullChecksums = format != .table && format != .markdown
        let epochCells: [[RowPrinter.Cell]] = epochs.map { r in
            var cells = r.dropLast().map(RowPrinter.Cell.init)
            let checksum = String.fromDatabaseValue(r.last!) ?? ""
            cells.append(.text(fullChecksums ? checksum : String(checksum.prefix(12))))
            return cells
        }
        let epochTable = RowPrinter(columns: Self.epochColumns, format: format)
        switch format {
        case .csv, .tsv, .ndjson:
            print(epochTable.render(epochCells), terminator: "")
        case .json:
            let object = facts.map { key, value -> String in
                let text = String.fromDatabaseValue(value) ?? ""
                let raw = (key == "optimizer_configuration" || key == "model_configuration") && !text.isEmpty ? text : RowPrinter.Cell(value).json
                return "\(jsonString(key)):\(raw)"
            }
            let checkpointRows = RowPrinter(columns: checkpoints.columns, format: .json).render(checkpoints.rows.map { $0.map(RowPrinter.Cell.init) })
            print("{" + object.joined(separator: ",") + ",\"epochs\":" + epochTable.render(epochCells).dropLast()
                  + ",\"checkpoints\":" + checkpointRows.dropLast() + "}")
        case .table, .markdown:
            let shown = facts.filter { key, value in key != "model_configuration" && key != "optimizer_configuration" && !value.isNull }
            let about = RowPrinter(columns: ["field", "value"], format: format)
            print(about.render(shown.map { [.text($0.0), .text(RowPrinter.Cell($0.1).plain)] }))
            print("optimizer configuration: " + (String.fromDatabaseValue(facts.first { $0.0 == "optimizer_configuration" }!.1) ?? "{}") + "\n")
            print(epochTable.render(epochCells))
            for (name, index) in [("loss", 1), ("val_loss", 3)] {
                let values = epochs.map { Double.fromDatabaseValue($0[index]) }
                guard values.contains(where: { $0 != nil }) else { continue }
                let finite = values.compactMap { $0 }
                print(String(format: "%-9@ %@  %.4g → %.4g (min %.4g)", name as NSString, Sparkline.render(values) as NSString,
                             finite.first!, finite.last!, finite.min()!))
            }
            print("\ncheckpoints:")
            print(RowPrinter(columns: checkpoints.columns, format: format).render(checkpoints.rows.map { r in
                r.enumerated().map { i, v in
                    let text = String.fromDatabaseValue(v)
                    return (checkpoints.columns[i].hasSuffix("sha256") || checkpoints.columns[i].hasSuffix("checksum")) && text != nil
                        ? .text(String(text!.prefix(12))) : RowPrinter.Cell(v)
                }
            }), terminator: "")
        }
    }
}
