import Basics
import ArgumentParser
import Data
import Engine
import Foundation
import Store
import Study

/// `optilog run`: one training run, logged epoch by epoch into the research log.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Train one task with one optimizer, logging every epoch, step and checkpoint.",
        discussion: """
            Example: optilog run --task fashion_mnist --optimizer rmsprop --set learning_rate=0.001 --epochs 10
            Your own model: optilog run --model model.json --data data.npz --loss mse --optimizer adam
            Ctrl-C stops at the next step boundary and marks the run interrupted (exit 130); \
            `optilog resume RUN` continues it from its last epoch, bit-identically.
            """)

    @Option(help: "Task: \(StudyTask.allValueStrings.joined(separator: ", ")) (or your own: --model).") var task: StudyTask?
    @OptionGroup(title: "Your own model") var custom: CustomTaskOptions
    @Option(help: "Optimizer: \(Optimizers.names.joined(separator: ", ")).") var optimizer: String
    @Option(help: ArgumentHelp("Optimizer configuration as JSON (Keras's get_config()); --set overrides it.", valueName: "FILE"))
    var config: String?
    @OptionGroup var options: TrainingOptions
    @Option(help: "Attach the run to this study (as `optilog study` does).") var studyID: Int64?
    @Option(help: "Seconds between checkpoints (0: every epoch; the last epoch always has one).") var checkpointEvery: Double = 10
    @Option(help: "A checkpoint at least every this many epochs (0: no such bound).") var checkpointEpochs: Int = 100
    /// For `study --jobs`: train the cell only if the study has no run for it yet.
    @Flag(help: .hidden) var studyCell = false
    @OptionGroup var store: StoreOptions

    func validate() throws {
        guard checkpointEvery >= 0 && checkpointEvery <= 1e9 else {
            throw ValidationError("--checkpoint-every must be between 0 and 1e9 seconds")
        }
        guard (0...1_000_000).contains(checkpointEpochs) else { throw ValidationError("--checkpoint-epochs must be between 0 and 1000000") }
        if studyCell && studyID == nil { throw ValidationError("--study-cell needs --study-id") }
        guard (task != nil) != custom.given else { throw ValidationError("give --task (a built-in task) or --model (your own), not both") }
        if custom.given, options.synthetic || options.samples != nil || options.validationSamples != nil {
            throw ValidationError("--synthetic, --samples and --validation-samples are for the built-in tasks")
        }
    }

    func run() throws {
        BLAS.threads = options.threads
        var pairs: [(String, ConfigValue)] = []
        if let config {
            guard let text = try? String(contentsOfFile: config, encoding: .utf8) else { throw CleanError("cannot read \(config)") }
            guard case .object(let object) = try ConfigValue.parse(text) else {
                throw CleanError("\(config): the optimizer configuration must be a JSON object")
            }
            pairs = object
        }
        for s in options.settings { pairs.removeAll { $0.0 == s.key }; pairs.append((s.key, ConfigValue.fromSetting(s.value))) }
        let optimizerConfiguration = try Optimizers.make(optimizer, config: .object(pairs)).config
        let spec: RunSpec
        if let customTask = try custom.task(defaultName: nil) {
            spec = RunSpec(custom: customTask, optimizer: optimizer.lowercased(), optimizerConfiguration: optimizerConfiguration,
                           epochs: options.epochs, batchSize: options.batchSize, seed: options.seed)
        } else {
            spec = RunSpec(
                task: task!, optimizer: optimizer.lowercased(), optimizerConfiguration: optimizerConfiguration, epochs: options.epochs,
                batchSize: options.batchSize, seed: options.seed, samples: options.samples,
                validationSamples: options.validationSamples, synthetic: options.synthetic)
        }
        let log = try store.open()
        let policy = CheckpointPolicy(seconds: checkpointEvery, epochs: checkpointEpochs)
        if studyCell, let studyID {
            guard
                let training = try LoggedTraining.startStudyCell(
                    spec, store: log, locator: DataLocator(dataDir: options.dataDir), studyID: studyID, policy: policy)
            else {
                warn("study \(studyID) has a run for this cell already (another study process took it); skipped")
                return
            }
            try LoggedTrainingOutput.train(training, dbPath: store.resolvedPath, format: options.format)
            return
        }
        let training = try LoggedTraining.start(
            spec, store: log, locator: DataLocator(dataDir: options.dataDir), studyID: studyID, policy: policy)
        try LoggedTrainingOutput.train(training, dbPath: store.resolvedPath, format: options.format)
    }
}
