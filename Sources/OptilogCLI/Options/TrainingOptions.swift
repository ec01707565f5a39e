import ArgumentParser
import Engine

/// The options `train` and `run` share.
struct TrainingOptions: ParsableArguments {
    @Option(
        name: .customLong("set"), parsing: .unconditionalSingleValue,
        help: ArgumentHelp("Optimizer setting with Keras's name, e.g. learning_rate=0.01.", valueName: "KEY=VALUE"))
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

    /// Every number is checked here, before anything is recorded: a value near Int.max must
    /// not reach arithmetic that would trap.
    func validate() throws {
        guard (1...1_000_000).contains(epochs) else { throw ValidationError("--epochs must be between 1 and 1000000") }
        guard (1...1_000_000).contains(batchSize) else { throw ValidationError("--batch-size must be between 1 and 1000000") }
        guard threads >= 1 && threads <= 64 else { throw ValidationError("--threads must be between 1 and 64") }
        guard seed <= UInt64(Int64.max) else { throw ValidationError("--seed must be at most 9223372036854775807") }
        if let samples, !(1...1_000_000_000).contains(samples) { throw ValidationError("--samples must be between 1 and 1000000000") }
        if let validationSamples, !(1...1_000_000_000).contains(validationSamples) {
            throw ValidationError("--validation-samples must be between 1 and 1000000000")
        }
    }

    var settingPairs: [(key: String, value: String)] { settings.map { ($0.key, $0.value) } }
}
