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
              optilog train --task boston --optimizer adam --epochs 5
            """)

    @Option(help: "Task: \(StudyTask.allValueStrings.joined(separator: ", ")) (default boston).") var task: StudyTask?
    /// The name `train` had before `--task` (kept working; a later `--model FILE` takes a Keras model).
    @Option(help: .hidden) var model: StudyTask?

    @Option(help: "Optimizer: \(Optimizers.names.joined(separator: ", ")).")
    var optimizer: String = "adam"

    @OptionGroup var options: TrainingOptions
    @Flag(help: "Print the model summary first.") var summary = false

    func validate() throws {
        if task != nil && model != nil { throw ValidationError("give --task (--model is its old name), not both") }
    }

    func run() throws {
        let model = task ?? self.model ?? .boston
        BLAS.threads = options.threads
        let opt = try Optimizers.make(optimizer, settings: options.settingPairs)
        let spec = RunSpec(
            task: model, optimizer: optimizer.lowercased(), optimizerConfiguration: opt.config, epochs: options.epochs,
            batchSize: options.batchSize, seed: options.seed, samples: options.samples,
            validationSamples: options.validationSamples, synthetic: options.synthetic)
        let prepared = try PreparedRun(spec, locator: DataLocator(dataDir: options.dataDir))
        for note in prepared.notes { warn("optilog: note: \(note)") }
        warn("data: \(prepared.dataset); \(prepared.data.train.count) training and \(prepared.data.validation.count) validation samples")
        if summary { print(prepared.model.summary()) }
        let loop = try prepared.loop()
        var lines = EpochLines(metric: model.metric.rawValue, format: options.format)
        loop.run { lines.add($0) }
        lines.finish()
    }
}
