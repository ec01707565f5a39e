import ArgumentParser
import Data
import Engine
import Foundation
import Study

/// `optilog train`: one in-memory training run that prints each epoch as it ends. Nothing is
/// logged; it is the quickest way to see the engine learn.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train one of the study's models in memory and print each epoch.",
        discussion: """
        Data: the task's data set as `optilog datasets` finds it (--data-dir, OPTILOG_DATA, \
        Keras's cache, then the fixtures optilog carries), or with --synthetic learnable synthetic \
        data of the canonical shape drawn from --seed. Example:
          optilog train --model boston --optimizer adam --epochs 5
        """)

    @Option(help: "Model: \(Architecture.allValueStrings.joined(separator: ", ")).")
    var model: Architecture = .boston

    @Option(help: "Optimizer: \(Optimizers.names.joined(separator: ", ")).")
    var optimizer: String = "adam"

    @Option(name: .customLong("set"), help: ArgumentHelp("Optimizer setting with Keras's name, e.g. learning_rate=0.01.", valueName: "KEY=VALUE"))
    var settings: [Setting] = []

    @Option(help: "Epochs to train.") var epochs: Int = 5
    @Option(help: "Samples per batch.") var batchSize: Int = 32
    @Option(help: "Seed for weights, data, shuffling and dropout.") var seed: UInt64 = 1
    @Option(help: "Use at most this many training samples (synthetic data: default a size that trains in seconds).") var samples: Int?
    @Option(help: "Use at most this many validation samples (synthetic: default a quarter of --samples).") var validationSamples: Int?
    @Option(help: "Directory searched first for data sets.") var dataDir: String?
    @Flag(help: "Train on synthetic data of the canonical shape instead of a data set.") var synthetic = false
    @Option(help: "OpenBLAS threads.") var threads: Int = 1
    @Option(help: "Output format: table, csv, tsv, json, ndjson, markdown.") var format: OutputFormat = .table
    @Flag(help: "Print the model summary first.") var summary = false

    func validate() throws {
        guard epochs >= 1 else { throw ValidationError("--epochs must be at least 1") }
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1") }
        guard threads >= 1 && threads <= 64 else { throw ValidationError("--threads must be between 1 and 64") }
        if let samples, samples < 1 { throw ValidationError("--samples must be at least 1") }
        if let validationSamples, validationSamples < 1 { throw ValidationError("--validation-samples must be at least 1") }
    }

    func run() throws {
        BLAS.threads = threads
        let opt = try Optimizers.make(optimizer, settings: settings.map { ($0.key, $0.value) })
        var data: DataSplits
        if synthetic {
            let train = samples ?? Self.defaultSamples(model)
            data = try SyntheticData.splits(model, train: train, validation: validationSamples ?? max(1, train / 4), seed: seed)
        } else {
            let found = try DataLocator(dataDir: dataDir).locate(model)
            data = found.splits
            if let samples { data.train = Prefix(data.train, count: samples) }
            if let validationSamples { data.validation = Prefix(data.validation, count: validationSamples) }
            FileHandle.standardError.write(Data("data: \(found.dataset) from \(found.source); \(data.train.count) training and \(data.validation.count) validation samples\n".utf8))
        }
        let network = try model.build(inputShape: data.train.inputShape, seed: seed)
        if summary { print(network.summary()) }
        let loop = try TrainingLoop(model: network, optimizer: opt, loss: model.loss, metric: model.metric, data: data,
                                    configuration: TrainingConfiguration(epochs: epochs, batchSize: batchSize, seed: seed))
        var lines = EpochLines(metric: model.metric.rawValue, format: format)
        loop.run { lines.add($0) }
        lines.finish()
    }

    static func defaultSamples(_ model: Architecture) -> Int {
        switch model {
        case .boston: return 404
        case .fashionMNIST: return 2_000
        case .imdb: return 500
        case .jena: return 1_000
        }
    }
}
