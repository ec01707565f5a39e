import Data
import Engine
import Foundation
import Store

/// A training run written to the research log: each epoch committed with its step series,
/// layer norms and a checkpoint in one transaction; resumable from its last checkpoint to the
/// same bits as a run that never stopped.
public final class LoggedTraining {
    public enum Ending: Sendable, Equatable {
        case completed
        case interrupted
        case diverged(atStep: Int)
    }

    public static let codeVersion = "optilog 0.1.0"

    public let store: Store
    public let run: Int64
    public let spec: RunSpec
    let loop: TrainingLoop
    let configurationFingerprint: String
    /// Epochs already done (0 for a new run).
    public private(set) var epochsDone: Int
    /// A checkpoint is written with an epoch when this many seconds have passed since the last
    /// one, and always with the last epoch (0: every epoch). Epochs after the newest checkpoint
    /// are recomputed on resume, to the same bits, so this trades re-done work after a crash
    /// against the cost of writing checkpoints of short epochs.
    public var checkpointInterval: Double = 10
    private var lastCheckpoint = Date()
    /// Set when resuming from a checkpoint taken part-way through an epoch.
    var pendingProgress: EpochProgress?
    /// What a resume had to work around (a damaged checkpoint skipped), for the user to see.
    public internal(set) var warnings: [String] = []

    /// Starts a new run: data, model and optimizer from `spec`, recorded as `running`.
    public static func start(_ spec: RunSpec, store: Store, locator: DataLocator, studyID: Int64? = nil) throws -> LoggedTraining {
        let (data, dataset) = try spec.prepareData(locator: locator)
        let datasetFingerprint = Fingerprint.of(data.train) + ":" + Fingerprint.of(data.validation)
        let model = try spec.task.build(inputShape: data.train.inputShape, seed: spec.seed)
        let optimizer = try Optimizers.make(spec.optimizer, config: spec.optimizerConfiguration)
        let fingerprint = spec.fingerprint(datasetFingerprint: datasetFingerprint)
        let run = try store.createRun(NewRun(
            studyID: studyID, task: spec.task.rawValue, dataset: dataset, datasetFingerprint: datasetFingerprint,
            modelConfiguration: spec.json.json, optimizer: spec.optimizer, optimizerConfiguration: optimizer.config.json,
            configurationFingerprint: fingerprint, seed: spec.seed, batchSize: spec.batchSize, epochsPlanned: spec.epochs,
            threads: BLAS.threads, codeVersion: codeVersion))
        return try LoggedTraining(store: store, run: run, spec: spec, data: data, model: model, optimizer: optimizer,
                                  fingerprint: fingerprint, epochsDone: 0)
    }

    /// Reopens a run at its newest good checkpoint, after checking that the data, the
    /// configuration and the optimizer state are exactly what the log says they were.
    public static func resume(run: Int64, store: Store, locator: DataLocator, epochs: Int? = nil) throws -> LoggedTraining {
        guard let row = try store.runRow(run) else { throw StoreError.notFound("run \(run)") }
        guard row.status != .completed || (epochs ?? row.epochsPlanned) > row.epochsDone else {
            throw StoreError.refused("run \(run) is already completed (\(row.epochsDone) epochs)")
        }
        let spec = try RunSpec(json: try ConfigValue.parse(row.modelConfiguration), optimizer: row.optimizer,
                               optimizerConfiguration: try ConfigValue.parse(row.optimizerConfiguration), epochs: epochs ?? row.epochsPlanned)
        let (data, _) = try spec.prepareData(locator: locator)
        let datasetFingerprint = Fingerprint.of(data.train) + ":" + Fingerprint.of(data.validation)
        guard datasetFingerprint == row.datasetFingerprint else {
            throw StoreError.refused("run \(run): its data set has changed since it ran (fingerprint \(datasetFingerprint.prefix(12))… now, \(row.datasetFingerprint.prefix(12))… logged); refusing to resume")
        }
        let fingerprint = spec.fingerprint(datasetFingerprint: datasetFingerprint)
        guard fingerprint == row.configurationFingerprint else {
            throw StoreError.refused("run \(run): its configuration does not match the log (fingerprint changed); refusing to resume")
        }
        let model = try spec.task.build(inputShape: data.train.inputShape, seed: spec.seed)
        let optimizer = try Optimizers.make(spec.optimizer, config: spec.optimizerConfiguration)
        var done = 0
        var progress: EpochProgress?
        let (newest, damaged) = try store.newestGoodCheckpoint(run: run)
        var warnings = damaged.map { "run \(run): the checkpoint of epoch \($0.epoch) is damaged (\($0.error))" }
        if !damaged.isEmpty {
            warnings.append(newest.map { "run \(run): resuming from the previous good checkpoint, of epoch \($0.epoch)" }
                            ?? "run \(run): no good checkpoint left; training it again from the start")
        }
        if let stored = newest {
            guard stored.configurationFingerprint == fingerprint else {
                throw StoreError.refused("run \(run): checkpoint of epoch \(stored.epoch) was made with another configuration")
            }
            for p in model.parameters {
                guard let t = stored.checkpoint.tensor(p.name), t.shape == p.shape, let values = t.floats else {
                    throw StoreError.corrupt("run \(run): checkpoint of epoch \(stored.epoch) lacks weights \(p.name)")
                }
                p.value = values
            }
            guard let state = stored.checkpoint.tensor("optimizer_state") else {
                throw StoreError.corrupt("run \(run): checkpoint of epoch \(stored.epoch) lacks the optimizer state")
            }
            try optimizer.restore(OptimizerState(bytes: state.data), variableCounts: model.parameters.map(\.count))
            progress = try Self.progress(from: stored.checkpoint)
            // A full checkpoint's state must be the one logged for its epoch; a part-way one
            // (no epoch row yet) must match the checksum stored with it.
            let logged = progress != nil ? stored.optimizerChecksum
                : try store.epochs(run: run).first { $0.epoch == stored.epoch }?.optimizerChecksum
            guard optimizer.state.checksum == stored.optimizerChecksum, optimizer.state.checksum == logged else {
                throw StoreError.refused("run \(run): the optimizer state in the checkpoint of epoch \(stored.epoch) does not match its logged checksum; refusing to resume")
            }
            done = progress != nil ? stored.epoch - 1 : stored.epoch
        }
        try store.rewind(run: run, toEpoch: done, epochsPlanned: spec.epochs, keepingPartialCheckpoint: progress != nil)
        let training = try LoggedTraining(store: store, run: run, spec: spec, data: data, model: model, optimizer: optimizer,
                                          fingerprint: fingerprint, epochsDone: done)
        training.pendingProgress = progress
        training.warnings = warnings
        return training
    }

    /// The epoch progress a part-way checkpoint carries, nil for an end-of-epoch one.
    static func progress(from checkpoint: Checkpoint) throws -> EpochProgress? {
        guard let steps = checkpoint.metadata["partial_steps"].flatMap(Int.init) else { return nil }
        func bits(_ key: String) throws -> Double {
            guard let text = checkpoint.metadata[key], let b = UInt64(text, radix: 16) else {
                throw StoreError.corrupt("part-way checkpoint lacks \(key)")
            }
            return Double(bitPattern: b)
        }
        guard let losses = checkpoint.tensor("progress_losses")?.floats, let normBytes = checkpoint.tensor("progress_norms"),
              normBytes.dtype == .i64, losses.count == steps, normBytes.data.count == steps * 8 else {
            throw StoreError.corrupt("part-way checkpoint lacks its step series")
        }
        let norms = (0..<steps).map { i in
            Double(bitPattern: (0..<8).reduce(UInt64(0)) { $0 | UInt64(normBytes.data[i * 8 + $1]) << (8 * UInt64($1)) })
        }
        return EpochProgress(stepsDone: steps, lossSum: try bits("loss_sum"), metricSum: try bits("metric_sum"), losses: losses,
                             norms: norms, learningRate: try bits("learning_rate"))
    }

    init(store: Store, run: Int64, spec: RunSpec, data: DataSplits, model: Sequential, optimizer: Optimizer,
         fingerprint: String, epochsDone: Int) throws {
        self.store = store
        self.run = run
        self.spec = spec
        self.configurationFingerprint = fingerprint
        self.epochsDone = epochsDone
        loop = try TrainingLoop(model: model, optimizer: optimizer, loss: spec.task.loss, metric: spec.task.metric, data: data,
                                configuration: TrainingConfiguration(epochs: spec.epochs, batchSize: spec.batchSize, seed: spec.seed))
    }

    /// Trains the remaining epochs, committing each; stops at a step boundary when
    /// `shouldStop` says so (the partial epoch is dropped; the run resumes from its last epoch).
    @discardableResult
    public func train(shouldStop: () -> Bool = { false }, onStep: (_ epoch: Int, _ step: Int, _ steps: Int, _ loss: Float) -> Void = { _, _, _, _ in },
                      onEpoch: (EpochRecord) -> Void = { _ in }) throws -> Ending {
        try store.heartbeat(run: run)
        while epochsDone < spec.epochs {
            let epoch = epochsDone + 1, steps = loop.stepsPerEpoch
            let record = loop.runEpoch(epochsDone, from: pendingProgress, shouldStop: shouldStop) { onStep(epoch, $0, steps, $1) }
            pendingProgress = nil
            switch record.outcome {
            case .stopped(let step):
                try saveAtStop(record, step: step)
                return .interrupted
            case .diverged(let step):
                try store.setStatus(run: run, .diverged, detail: "non-finite loss or gradient at step \(step) (epoch \(record.epoch))",
                                    divergedStep: step)
                return .diverged(atStep: step)
            case .completed:
                break
            }
            let state = loop.optimizer.state
            let step = record.firstStep + record.stepLosses.count
            var checkpoint: (Int, String, Checkpoint.Encoded)?
            if record.epoch == spec.epochs || Date().timeIntervalSince(lastCheckpoint) >= checkpointInterval {
                var tensors = loop.model.parameters.map { Checkpoint.Tensor(name: $0.name, shape: $0.shape, floats: $0.value) }
                tensors.append(Checkpoint.Tensor(name: "optimizer_state", dtype: .u8, shape: [state.bytes.count], data: state.bytes))
                checkpoint = (step, configurationFingerprint, Checkpoint(tensors: tensors, metadata: [
                    "epoch": String(record.epoch), "step": String(step), "next_shuffle_epoch": String(record.epoch),
                    "seed": String(spec.seed), "configuration_fingerprint": configurationFingerprint, "optimizer": loop.optimizer.className,
                ]).encoded())
                lastCheckpoint = Date()
            }
            try store.commitEpoch(EpochCommit(
                epoch: record.epoch, loss: record.trainLoss, metric: record.trainMetric, valLoss: record.validationLoss,
                valMetric: record.validationMetric, gradNormMean: record.gradientNormMean, gradNormMin: record.gradientNormMin,
                gradNormMax: record.gradientNormMax, gradNormLast: record.gradientNormLast, learningRate: record.learningRate,
                optimizerChecksum: state.checksum, seconds: record.seconds, samplesPerSecond: record.samplesPerSecond,
                firstStep: record.firstStep, stepLosses: record.stepLosses, stepGradNorms: record.stepGradientNorms,
                layerNorms: record.layerGradientNorms.sorted { $0.key < $1.key }.map { ($0.key, $0.value) },
                checkpoint: checkpoint), run: run)
            epochsDone = record.epoch
            onEpoch(record)
        }
        try store.setStatus(run: run, .completed)
        return .completed
    }

    /// At a stop: a checkpoint of where training is — part-way through the epoch, with the
    /// epoch's progress, or at its start — and the run marked interrupted, together.
    func saveAtStop(_ record: EpochRecord, step: Int) throws {
        let state = loop.optimizer.state
        var tensors = loop.model.parameters.map { Checkpoint.Tensor(name: $0.name, shape: $0.shape, floats: $0.value) }
        tensors.append(Checkpoint.Tensor(name: "optimizer_state", dtype: .u8, shape: [state.bytes.count], data: state.bytes))
        var metadata = ["step": String(step), "seed": String(spec.seed), "configuration_fingerprint": configurationFingerprint,
                        "optimizer": loop.optimizer.className]
        var epoch = epochsDone
        if let progress = record.progress, progress.stepsDone > 0 {
            epoch = record.epoch
            tensors.append(Checkpoint.Tensor(name: "progress_losses", shape: [progress.losses.count], floats: progress.losses))
            tensors.append(Checkpoint.Tensor(name: "progress_norms", dtype: .i64, shape: [progress.norms.count],
                                             data: progress.norms.flatMap { v in (0..<8).map { UInt8(truncatingIfNeeded: v.bitPattern >> (8 * UInt64($0))) } }))
            metadata["partial_steps"] = String(progress.stepsDone)
            metadata["loss_sum"] = String(progress.lossSum.bitPattern, radix: 16)
            metadata["metric_sum"] = String(progress.metricSum.bitPattern, radix: 16)
            metadata["learning_rate"] = String(progress.learningRate.bitPattern, radix: 16)
        }
        metadata["epoch"] = String(epoch)
        guard epoch > 0 else {  // stopped before the first step: nothing to keep
            try store.setStatus(run: run, .interrupted, detail: "stopped before its first step")
            return
        }
        try store.saveCheckpointAndInterrupt(run: run, epoch: epoch, step: step, optimizerChecksum: state.checksum,
                                             configurationFingerprint: configurationFingerprint,
                                             encoded: Checkpoint(tensors: tensors, metadata: metadata).encoded(),
                                             detail: "stopped at step \(step) (epoch \(record.epoch))")
    }

    public var model: Sequential { loop.model }
    public var stepsPerEpoch: Int { loop.stepsPerEpoch }
    public var optimizer: Optimizer { loop.optimizer }
}
