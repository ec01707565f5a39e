import ArgumentParser
import Engine

/// The options `train` and `run` share.
struct TrainingOptions: ParsableArguments {
    @Option(name: .customLong("set"), help: ArgumentHelp("Optimizer setting with Keras's name, e.g. learning_rate=0.01.", valueName: "KEY=VALUE"))
    var settings: [Setting] = []
    @Option(help: "Epochs to train.") var epochs: Int = 10
    @Option(help: "Samples per batch.") var batchSize: Int = 32
    @Option(help: "Seed for weights, shuffling and dropout (and synthetic data).") var seed: UInt64 = 1
    @Option(help: "Use at most this many training samples.") var samples: Int?
    @Option(help: "Use at most this many validation samples.") var validationSamples: Int?
    @Option(help: "Directory searched first for data sets.") var dataDir: String?
    @Flag(help: "Train on synthetic data of the canonical shape instead of a data set.") var synthetic = false
    @Option(help: "Threads for matrix work.") var threads: Int = 1
    @Option(help: "Output format of the epoch lines: table, csv, tsv, json, ndjson, markdown.") var format: OutputFormat = .table

    func validate() throws {
        guard epochs >= 1 else { throw ValidationError("--epochs must be at least 1") }
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1") }
        guard threads >= 1 && threads <= 64 else { throw ValidationError("--threads must be between 1 and 64") }
        if let samples, samples < 1 { throw ValidationError("--samples must be at least 1") }
        if let validationSamples, validationSamples < 1 { throw ValidationError("--validation-samples must be at least 1") }
    }

    var settingPairs: [(key: String, value: String)] { settings.map { ($0.key, $0.value) } }
}
