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

    @OptionGroup var options: TrainingOptions
    @Flag(help: "Print the model summary first.") var summary = false

    func run() throws {
        BLAS.threads = options.threads
        let opt = try Optimizers.make(optimizer, settings: options.settingPairs)
        let spec = RunSpec(task: model, optimizer: optimizer, optimizerConfiguration: opt.config, epochs: options.epochs,
                           batchSize: options.batchSize, seed: options.seed, samples: options.samples,
                           validationSamples: options.validationSamples, synthetic: options.synthetic)
        let (data, dataset, notes) = try spec.prepareData(locator: DataLocator(dataDir: options.dataDir))
        for note in notes { warn("optilog: note: \(note)") }
        warn("data: \(dataset); \(data.train.count) training and \(data.validation.count) validation samples")
        let network = try model.build(inputShape: data.train.inputShape, seed: options.seed)
        if summary { print(network.summary()) }
        let loop = try TrainingLoop(model: network, optimizer: opt, loss: model.loss, metric: model.metric, data: data,
                                    configuration: TrainingConfiguration(epochs: options.epochs, batchSize: options.batchSize, seed: options.seed))
        var lines = EpochLines(metric: model.metric.rawValue, format: options.format)
        loop.run { lines.add($0) }
        lines.finish()
    }
}
