import Foundation
import Study

/// One output row per epoch, shared by `train`, `run` and `resume`: line formats (and the table,
/// whose widths are fixed by the header) print as each epoch ends; JSON and Markdown at the end.
struct EpochLines {
    let printer: RowPrinter
    let format: OutputFormat
    private var rows: [[RowPrinter.Cell]] = []
    private var printedHeader = false

    init(metric: String, format: OutputFormat) {
        self.format = format
        printer = RowPrinter(
            columns: ["epoch", "loss", metric, "val_loss", "val_\(metric)", "grad_norm_mean", "seconds", "samples_per_s"],
            format: format)
    }

    private var streams: Bool { [.csv, .tsv, .ndjson, .table].contains(format) }

    mutating func add(_ record: EpochRecord) {
        let e = record.row
        let row: [RowPrinter.Cell] = [
            .integer(e.epoch), .number(e.loss ?? .nan, digits: 4), .number(e.metric ?? .nan, digits: 4),
            .number(e.valLoss ?? .nan, digits: 4), .number(e.valMetric ?? .nan, digits: 4),
            .number(e.gradNormMean ?? .nan, digits: 4), .number(e.seconds ?? .nan, digits: 2),
            .number(e.samplesPerSecond ?? .nan, digits: 0),
        ]
        guard streams else { rows.append(row); return }
        var text = printer.render([row])
        if printedHeader, format != .ndjson { text = String(text.drop(while: { $0 != "\n" }).dropFirst()) }
        print(text, terminator: "")
        fflush(nil)
        printedHeader = true
    }

    func finish() {
        if !streams { print(printer.render(rows), terminator: "") }
    }
}
