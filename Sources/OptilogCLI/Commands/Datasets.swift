import ArgumentParser
import Data
import Engine
import Foundation

/// `optilog datasets`: each task's data set, where it was found, its size and fingerprint.
struct Datasets: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the data set each task would train on, where it was found, and its fingerprint.",
        discussion: """
            Search order: --data-dir, then OPTILOG_DATA, then Keras's cache (~/.keras/datasets, Keras's \
            file names), then the fixtures optilog carries. Files: boston_housing.npz or \
            boston_house_prices.csv; fashion-mnist/train-images-idx3-ubyte.gz and the other three IDX \
            files (gzip'd or not); aclImdb/ with imdb_word_index.json; jena_climate_2009_2016.csv.
            """)

    @Option(help: "Directory searched first for data sets.") var dataDir: String?
    @Option(parsing: .upToNextOption, help: "Tasks to list (a,b or a b): \(StudyTask.allValueStrings.joined(separator: ", ")).")
    var tasks: [String] = StudyTask.allValueStrings

    func validate() throws { _ = try Lists.tasks(tasks) }
    @Option(help: "Output format: table, csv, tsv, json, ndjson, markdown.") var format: OutputFormat = .table

    func run() throws {
        let locator = DataLocator(dataDir: dataDir)
        let printer = RowPrinter(
            columns: ["task", "dataset", "source", "train", "validation", "input_shape", "bytes", "fingerprint"], format: format)
        var rows: [[RowPrinter.Cell]] = []
        for task in try Lists.tasks(tasks) {
            let found = try locator.locate(task)
            for note in found.notes { warn("optilog: note: \(note)") }
            let fingerprint = found.fingerprint
            rows.append([
                .text(task.rawValue), .text(found.dataset), .text(found.source), .integer(found.splits.train.count),
                .integer(found.splits.validation.count), .text(found.splits.train.inputShape.map(String.init).joined(separator: "×")),
                .integer(found.bytes), .text(format == .table ? String(fingerprint.prefix(12)) + "…" : fingerprint),
            ])
        }
        print(printer.render(rows), terminator: "")
    }
}
