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
        Ctrl-C stops at the next step boundary and marks the run interrupted (exit 130); \
        `optilog resume RUN` continues it from its last epoch, bit-identically.
        """)

    @Option(help: "Task: \(StudyTask.allValueStrings.joined(separator: ", ")).") var task: StudyTask
    @Option(help: "Optimizer: \(Optimizers.names.joined(separator: ", ")).") var optimizer: String
    @Option(help: ArgumentHelp("Optimizer configuration as JSON (Keras's get_config()); --set overrides it.", valueName: "FILE")) var config: String?
    @OptionGroup var options: TrainingOptions
    @Option(help: "Attach the run to this study (as `optilog study` does).") var studyID: Int64?
    @Option(help: "Seconds between checkpoints (0: every epoch; the last epoch always has one).") var checkpointEvery: Double = 10
    @Option(help: "A checkpoint at least every this many epochs (0: no such bound).") var checkpointEpochs: Int = 100
    /// For `study --jobs`: train the cell only if the study has no run for it yet.
    @Flag(help: .hidden) var studyCell = false
    @OptionGroup var store: StoreOptions

    func validate() throws {
        guard checkpointEvery >= 0 && checkpointEvery <= 1e9 else { throw ValidationError("--checkpoint-every must be between 0 and 1e9 seconds") }
        guard (0...1_000_000).contains(checkpointEpochs) else { throw ValidationError("--checkpoint-epochs must be between 0 and 1000000") }
        if studyCell && studyID == nil { throw ValidationError("--study-cell needs --study-id") }
    }

    func run() throws {
        BLAS.threads = options.threads
        var pairs: [(String, ConfigValue)] = []
        if let config {
            guard let text = try? String(contentsOfFile: config, encoding: .utf8) else { throw CleanError("cannot read \(config)") }
            guard case .object(let object) = try ConfigValue.parse(text) else { throw CleanError("\(config): the optimizer configuration must be a JSON object") }
            pairs = object
        }
        for s in options.settings { pairs.removeAll { $0.0 == s.key }; pairs.append((s.key, ConfigValue.fromSetting(s.value))) }
        let optimizerConfiguration = try Optimizers.make(optimizer, config: .object(pairs)).config
        let spec = RunSpec(task: task, optimizer: optimizer.lowercased(), optimizerConfiguration: optimizerConfiguration, epochs: options.epochs,
                           batchSize: options.batchSize, seed: options.seed, samples: options.samples,
                           validationSamples: options.validationSamples, synthetic: options.synthetic)
        let log = try store.open()
        let policy = CheckpointPolicy(seconds: checkpointEvery, epochs: checkpointEpochs)
        if studyCell, let studyID {
            guard let training = try LoggedTraining.startStudyCell(spec, store: log, locator: DataLocator(dataDir: options.dataDir), studyID: studyID, policy: policy) else {
                warn("study \(studyID) has a run for this cell already (another study process took it); skipped")
                return
            }
            try Self.train(training, dbPath: store.resolvedPath, format: options.format)
            return
        }
        let training = try LoggedTraining.start(spec, store: log, locator: DataLocator(dataDir: options.dataDir), studyID: studyID, policy: policy)
        try Self.train(training, dbPath: store.resolvedPath, format: options.format)
    }

    /// Shared by `run` and `resume`: epoch lines as they end, a summary, the exit code.
    static func train(_ training: LoggedTraining, dbPath: String, format: OutputFormat) throws {
        Interruption.install()
        for warning in training.warnings { warn("optilog: warning: \(warning)") }
        warn("run \(training.run): \(training.spec.task.rawValue) with \(training.spec.optimizer), epochs \(training.epochsDone + 1)–\(training.spec.epochs), logging to \(dbPath)")
        let replay = training.epochsDone < training.loggedEpochs ? (training.epochsDone + 1)...training.loggedEpochs : nil
        if let replay {
            let from = replay.lowerBound == 1 ? "from the start (no usable checkpoint)" : "from the checkpoint of epoch \(replay.lowerBound - 1)"
            warn("run \(training.run): replaying epochs \(replay.lowerBound)–\(replay.upperBound) \(from), each checked bit for bit against the log")
        }
        var lines = EpochLines(metric: training.spec.task.metric.rawValue, format: format)
        // On a terminal, a live line (epoch, step, loss, samples/s, ETA) on stderr; plain lines otherwise.
        let live = isatty(2) == 1
        let started = Date()
        var lastDraw = Date.distantPast, stepsDone = 0
        let totalSteps = (training.spec.epochs - training.epochsDone) * max(1, training.stepsPerEpoch)
        func progress(epoch: Int, step: Int, steps: Int, loss: Float) {
            stepsDone += 1
            guard live, Date().timeIntervalSince(lastDraw) > 0.1 else { return }
            lastDraw = Date()
            let elapsed = Date().timeIntervalSince(started)
            let rate = Double(stepsDone * training.spec.batchSize) / max(elapsed, 1e-9)
            let eta = elapsed / Double(stepsDone) * Double(max(0, totalSteps - stepsDone))
            let width = 24, filled = width * step / max(1, steps)
            let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
            writeStandardError(String(format: "\repoch %d/%d %@ step %d/%d  loss %.4f  %.0f samples/s  ETA %.0fs\u{1B}[K",
                                      epoch, training.spec.epochs, bar, step, steps, loss, rate, eta))
        }
        let ending: LoggedTraining.Ending
        do {
            ending = try training.train(shouldStop: { Interruption.requested }, onStep: progress) { record, replayed in
                if live { writeStandardError("\r\u{1B}[K") }
                if replayed {
                    if record.epoch == replay?.upperBound {
                        warn("run \(training.run): epochs \(replay!.lowerBound)–\(record.epoch) replayed, bit-identical to the log")
                    }
                } else {
                    lines.add(record)
                }
            }
        } catch {
            // A failed write (a full disk, a lost file) leaves every committed epoch in place.
            if live { writeStandardError("\r\u{1B}[K") }
            lines.finish()
            if error is DeterminismFailure { throw CleanError("\(error)") }
            if case StoreError.lostOwnership = error { throw CleanError("\(error)") }
            let logged = max(training.epochsDone, training.loggedEpochs)
            let kept = logged == 0 ? "no epoch was logged" : "the log keeps epochs 1–\(logged)"
            throw CleanError("\(error); \(kept); once fixed, continue with: optilog resume \(training.run) --db \(dbPath)")
        }
        lines.finish()
        let best = try training.store.reader.run(training.run)
        switch ending {
        case .completed:
            let logged = best.map { "(\($0.epochsDone) epochs logged)" } ?? ""
            warn("run \(training.run) completed: \(training.epochsDone) epochs; best val_loss \(bestText(training)) \(logged)")
        case .interrupted:
            let whereStopped = training.epochsDone < training.loggedEpochs
                ? "while replaying epoch \(training.epochsDone + 1) (the log keeps epochs 1–\(training.loggedEpochs))" : "after epoch \(training.epochsDone)"
            warn("run \(training.run) interrupted \(whereStopped); continue with: optilog resume \(training.run) --db \(dbPath)")
            throw ExitCode(Interruption.exitCode)
        case .diverged(let step):
            warn("run \(training.run) diverged at step \(step) (non-finite loss or gradient); its last good checkpoint is epoch \(training.epochsDone)")
        }
    }

    static func bestText(_ training: LoggedTraining) -> String {
        guard let rows = try? training.store.reader.epochs(run: training.run), let best = rows.compactMap({ r in r.valLoss.map { ($0, r.epoch) } }).min(by: { $0.0 < $1.0 }) else { return "–" }
        return String(format: "%.4f at epoch %d", best.0, best.1)
    }
}

/// An error whose text is the whole message (printed as `optilog: error: <text>`).
struct CleanError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
