import Basics
import Data
import Engine
import Foundation
import Store

/// A training run written to the research log: each epoch committed with its step series,
/// layer norms and (by its checkpoint policy) a checkpoint in one transaction; resumable from
/// its newest checkpoint to the same bits as a run that never stopped.
///
/// A resume never touches the epochs already logged: it restores the newest good checkpoint and
/// replays the epochs after it, comparing each with the logged one bit for bit (losses,
/// metrics, gradient norms, step series, layer norms, optimizer-state checksum), and appends
/// only the epochs past the logged end. A replayed epoch that differs marks the run
/// `nondeterministic` and stops it; every resume is thereby a check of determinism.
public final class LoggedTraining {
    public enum Ending: Sendable, Equatable {
        case completed
        case interrupted
        case diverged(atStep: Int)
    }

    /// 0.2.0: the LSTM kernels and OpenBLAS's SkylakeX/Haswell kernels compute other bits than
    /// 0.1.0 did, so a run is resumed only by the version that trained it.
    public static let codeVersion = "optilog 0.2.0"
    /// Seconds between heartbeats while training (a run without one for `staleAfter` seconds,
    /// 120 by default, may be taken over by another host).
    static let heartbeatInterval: Double = 5

    public let store: Store
    public let owned: OwnedRun
    public var run: Int64 { owned.id }
    public let spec: RunSpec
    let loop: TrainingLoop
    let configurationFingerprint: String
    /// Epochs done: committed (or being committed on the commit queue), or replayed and checked.
    public private(set) var epochsDone: Int
    /// Epochs known to be in the log: committed, or logged before and replayed.
    public private(set) var epochsCommitted: Int
    /// Epochs in the log when this training began; epochs up to it are replayed and checked.
    public let loggedEpochs: Int
    public let policy: CheckpointPolicy
    private var lastCheckpointTime = Date()
    private var lastCheckpointEpoch: Int
    private var lastHeartbeat = Date()
    /// Replayed epochs not yet counted in the run's row.
    private var replayedUncounted = 0
    /// Epochs this training replayed and found equal to the log.
    public private(set) var epochsReplayed = 0
    /// Set when a heartbeat finds that the run was taken over; training stops at once.
    private var lost: Error?
    /// The last epoch's commit, running on `commits` while the next epoch trains, and its epoch.
    private var pendingCommit: Background<Result<Void, Error>>?
    private var pendingEpoch = 0
    private let commits = DispatchQueue(label: "optilog.epoch-commits")
    /// Seconds the training thread spent on logging in `train`: heartbeats, taking each epoch's
    /// state, handing its commit over, waiting for the commit before, and the final status.
    public private(set) var loggingSeconds = 0.0
    /// Set when resuming from a checkpoint taken part-way through an epoch.
    var pendingProgress: EpochProgress?
    /// What a resume had to work around (a checkpoint skipped), for the user to see.
    public internal(set) var warnings: [String] = []

    static func newRun(_ spec: RunSpec, _ p: PreparedRun, studyID: Int64?, policy: CheckpointPolicy, dataDir: String?) -> NewRun {
        let baseline = p.baseline()
        return NewRun(studyID: studyID, task: spec.taskName, dataset: p.dataset, datasetFingerprint: p.datasetFingerprint,
               modelConfiguration: spec.json.json, optimizer: spec.optimizer, optimizerConfiguration: p.optimizer.config.json,
               configurationFingerprint: p.fingerprint, seed: spec.seed, batchSize: spec.batchSize, epochsPlanned: spec.epochs,
               threads: BLAS.threads, codeVersion: codeVersion, checkpointPolicy: policy, dataDir: dataDir,
               baselineValLoss: baseline.valLoss, baselineValMetric: baseline.valMetric)
    }

    /// A custom task's name stands for one model, loss, metric and set of starting weights in a
    /// log, so that its runs are always alike.
    static func checkTaskName(_ custom: CustomTask, store: Store) throws {
        for known in try store.reader.customTasks() where known.task == custom.name {
            let mine = [custom.model.fingerprint, custom.loss.rawValue, custom.metric.rawValue, custom.initialWeightsFingerprint ?? "seeded"]
            let theirs = [known.modelFingerprint, known.loss, known.metric, known.weights]
            guard mine != theirs else { continue }
            let what = zip(["model", "loss", "metric", "starting weights"], zip(mine, theirs)).filter { $0.1.0 != $0.1.1 }.map(\.0)
            throw StoreError.refused("task '\(custom.name)' in this log (run \(known.firstRun) on) has another \(what.joined(separator: ", ")); "
                                     + "give this one another --task-name")
        }
    }

    /// Starts a new run: data, model and optimizer from `spec`, recorded as `running` and owned
    /// by this process.
    public static func start(_ spec: RunSpec, store: Store, locator: DataLocator = DataLocator(), studyID: Int64? = nil,
                             policy: CheckpointPolicy = CheckpointPolicy()) throws -> LoggedTraining {
        let p = try PreparedRun(spec, locator: locator)
        if let custom = spec.custom { try checkTaskName(custom, store: store) }
        let owned = try store.createRun(newRun(spec, p, studyID: studyID, policy: policy, dataDir: locator.dataDir.map(StoreFile.absolutePath)))
        let training = try LoggedTraining(store: store, owned: owned, spec: spec, prepared: p, epochsDone: 0, loggedEpochs: 0, policy: policy)
        training.warnings = p.notes
        return training
    }

    /// Starts a study's cell unless the study has a run for it already (another `study` took
    /// it meanwhile): nil then.
    public static func startStudyCell(_ spec: RunSpec, store: Store, locator: DataLocator = DataLocator(), studyID: Int64,
                                      policy: CheckpointPolicy = CheckpointPolicy()) throws -> LoggedTraining? {
        let p = try PreparedRun(spec, locator: locator)
        if let custom = spec.custom { try checkTaskName(custom, store: store) }
        guard let owned = try store.createStudyRun(newRun(spec, p, studyID: studyID, policy: policy, dataDir: locator.dataDir.map(StoreFile.absolutePath))) else {
            return nil
        }
        let training = try LoggedTraining(store: store, owned: owned, spec: spec, prepared: p, epochsDone: 0, loggedEpochs: 0, policy: policy)
        training.warnings = p.notes
        return training
    }

    /// Reopens a run in three steps: `verify` (the run may be resumed, and its data and
    /// configuration are exactly what the log says), `restore` (the newest checkpoint that
    /// decodes and agrees with the log, older ones if not), then the claim; `train` then replays
    /// the epochs after the checkpoint against the log and goes on. Refused while a live process
    /// trains it. A locator without a `--data-dir` looks where the run found its data. `policy`
    /// nil: the run's own checkpoint policy.
    public static func resume(run: Int64, store: Store, locator: DataLocator = DataLocator(), epochs: Int? = nil,
                              policy: CheckpointPolicy? = nil, staleAfter: Double = Run.defaultStaleAfter) throws -> LoggedTraining {
        guard let row = try store.reader.run(run) else { throw StoreError.notFound("run \(run)") }
        var p = try verify(row, epochs: epochs, locator: locator, staleAfter: staleAfter)
        let restored = try restore(row, into: &p, store: store)
        let policy = policy ?? row.checkpointPolicy
        let (owned, logged) = try store.claim(run: run, epochsPlanned: p.spec.epochs, policy: policy, staleAfter: staleAfter)
        let training = try LoggedTraining(store: store, owned: owned, spec: p.spec, prepared: p, epochsDone: restored.position,
                                          loggedEpochs: logged, policy: policy)
        training.pendingProgress = restored.progress
        training.warnings = p.notes + restored.warnings
        return training
    }

    /// The run may be resumed (not nondeterministic, not completed unless extended, not owned by
    /// a live process), and its data and configuration are the logged ones: prepared again.
    static func verify(_ row: Run, epochs: Int?, locator: DataLocator, staleAfter: Double) throws -> PreparedRun {
        let run = row.id
        if row.status == .nondeterministic {
            throw StoreError.refused("run \(run) is marked nondeterministic (\(row.statusDetail ?? "a replayed epoch differed from the log")); it is not resumed")
        }
        if row.codeVersion != codeVersion, row.codeVersion.hasPrefix("optilog ") {
            throw StoreError.refused("run \(run) was trained by \(row.codeVersion), and this is \(codeVersion), whose kernels compute other bits: "
                                     + "a replay could not match the log. Its logged epochs stay as they are; resume it with \(row.codeVersion), or train it again")
        }
        let planned = epochs ?? row.epochsPlanned
        guard planned >= row.epochsDone else {
            throw StoreError.refused("run \(run) has \(row.epochsDone) epochs logged; --epochs \(planned) would be fewer (give at least \(row.epochsDone))")
        }
        guard row.status != .completed || planned > row.epochsDone else {
            throw StoreError.refused("run \(run) is already completed (\(row.epochsDone) epochs); give --epochs N with N > \(row.epochsDone) to extend it")
        }
        if let owner = row.liveOwner(staleAfter: staleAfter) {
            throw StoreError.owned("run \(run) is being trained by another process (\(owner)); refusing to resume it twice")
        }
        let spec = try RunSpec(json: try ConfigValue.parse(row.modelConfiguration), optimizer: row.optimizer,
                               optimizerConfiguration: try ConfigValue.parse(row.optimizerConfiguration), epochs: planned,
                               dataDir: locator.dataDir)
        let dataDir = locator.dataDir
        let folder = locator.with(dataDir: dataDir ?? row.dataDir)
        if dataDir == nil, let logged = row.dataDir, !FileManager.default.fileExists(atPath: logged) {
            throw StoreError.refused("run \(run) was trained on data from \(logged), which is gone; pass --data-dir with the folder that holds that data now")
        }
        let p = try PreparedRun(spec, locator: folder)
        guard p.datasetFingerprint == row.datasetFingerprint else {
            throw StoreError.refused("run \(run): its data differ from the logged data (\(Self.fingerprintDifference(now: p.datasetFingerprint, logged: row.datasetFingerprint))); "
                                     + "logged: \(row.dataset); found now: \(p.dataset). Refusing to resume"
                                     + (dataDir == nil && row.dataDir == nil ? " (if the data sits elsewhere, pass --data-dir)" : ""))
        }
        guard p.fingerprint == row.configurationFingerprint else {
            throw StoreError.refused("run \(run): its configuration does not match the log (fingerprint changed); refusing to resume")
        }
        return p
    }

    /// Loads the newest checkpoint that decodes and agrees with the log into the prepared model
    /// and optimizer (older ones if not; none: from the start). Returns the epochs it holds
    /// complete, the progress of a part-way checkpoint, and what was skipped.
    static func restore(_ row: Run, into p: inout PreparedRun, store: Store) throws -> (position: Int, progress: EpochProgress?, warnings: [String]) {
        let run = row.id
        let loggedEpochs = try store.reader.epochs(run: run)
        var warnings: [String] = []
        var position = 0
        var progress: EpochProgress?
        for epoch in try store.reader.checkpointEpochs(run: run) {
            do {
                let stored = try store.reader.checkpoint(run: run, epoch: epoch)
                progress = try load(stored, into: p, logged: loggedEpochs)
                position = progress != nil ? stored.epoch - 1 : stored.epoch
                break
            } catch {
                warnings.append("run \(run): the checkpoint of epoch \(epoch) cannot be used (\(error))")
                progress = nil
                // Fresh weights and optimizer state for the next try (the data stay).
                (p.model, p.optimizer) = try PreparedRun.fresh(p.spec, inputShape: p.data.train.inputShape)
            }
        }
        if !warnings.isEmpty {
            warnings.append(position > 0 || progress != nil ? "run \(run): resuming from the previous good checkpoint, of epoch \(position + (progress != nil ? 1 : 0))"
                                                         : "run \(run): no good checkpoint left; replaying it from the start")
        }
        return (position, progress, warnings)
    }

    /// Which part of a data-set fingerprint ("train:validation") changed, briefly.
    static func fingerprintDifference(now: String, logged: String) -> String {
        let a = now.split(separator: ":"), b = logged.split(separator: ":")
        guard a.count == 2, b.count == 2 else { return "fingerprint \(now.prefix(12))… now, \(logged.prefix(12))… logged" }
        let parts = [("training", a[0], b[0]), ("validation", a[1], b[1])].filter { $0.1 != $0.2 }
        return parts.map { "\($0.0) fingerprint \($0.1.prefix(12))… now, \($0.2.prefix(12))… logged" }.joined(separator: "; ")
    }

    /// Loads a checkpoint into the prepared model and optimizer after checking it against the
    /// log; returns the epoch progress of a part-way checkpoint.
    static func load(_ stored: StoredCheckpoint, into p: PreparedRun, logged: [Epoch]) throws -> EpochProgress? {
        guard stored.configurationFingerprint == p.fingerprint else {
            throw StoreError.refused("it was made with another configuration")
        }
        for parameter in p.model.parameters {
            guard let t = stored.payload.tensor(parameter.name), t.shape == parameter.shape, let values = t.floats else {
                throw StoreError.corrupt("it lacks weights \(parameter.name)")
            }
            parameter.value = values
        }
        guard let state = stored.payload.tensor("optimizer_state") else { throw StoreError.corrupt("it lacks the optimizer state") }
        try p.optimizer.restore(OptimizerState(bytes: state.data), variableCounts: p.model.parameters.map(\.count))
        let progress = try EpochProgress(checkpoint: stored.payload)
        // A full checkpoint's state must be the one logged for its epoch; a part-way one (no
        // epoch row yet) must match the checksum stored with it.
        let expected = progress != nil ? stored.optimizerChecksum : logged.first { $0.epoch == stored.epoch }?.optimizerChecksum
        guard p.optimizer.state.checksum == stored.optimizerChecksum, p.optimizer.state.checksum == expected else {
            throw StoreError.refused("its optimizer state does not match the logged checksum")
        }
        return progress
    }

    init(store: Store, owned: OwnedRun, spec: RunSpec, prepared p: PreparedRun, epochsDone: Int, loggedEpochs: Int, policy: CheckpointPolicy) throws {
        self.store = store
        self.owned = owned
        self.spec = spec
        self.configurationFingerprint = p.fingerprint
        self.epochsDone = epochsDone
        self.epochsCommitted = max(epochsDone, loggedEpochs)
        self.loggedEpochs = loggedEpochs
        self.policy = policy
        self.lastCheckpointEpoch = epochsDone
        loop = try p.loop()
    }

    /// Trains the remaining epochs — replaying and checking those already logged, committing
    /// the others — and stops at a step boundary when `shouldStop` says so (a checkpoint of that
    /// very point is written; the run resumes from it). `onEpoch` hears each epoch and whether
    /// it was a replay.
    @discardableResult
    public func train(shouldStop: @escaping () -> Bool = { false },
                      onStep: (_ epoch: Int, _ step: Int, _ steps: Int, _ loss: Float) -> Void = { _, _, _, _ in },
                      onEpoch: (EpochRecord, _ replayed: Bool) -> Void = { _, _ in }) throws -> Ending {
        try timed { try store.heartbeat(run: owned) }
        lastHeartbeat = Date()
        let stop = { [unowned self] in self.lost != nil || shouldStop() }
        // Whatever ends the training, the previous epoch's commit is finished (or has failed)
        // before `train` returns.
        defer { _ = try? finishPendingCommit() }
        while epochsDone < spec.epochs {
            let epoch = epochsDone + 1, steps = loop.stepsPerEpoch
            let replaying = epoch <= loggedEpochs
            var ending: (due: Bool, value: Background<EpochEnd>)?
            let record = loop.runEpoch(epochsDone, from: pendingProgress, shouldStop: stop, onStep: { step, loss in
                self.beat()
                onStep(epoch, step, steps, loss)
            }, onStepsDone: { ending = self.timed { self.beginEpochEnd(epoch: epoch) } })
            pendingProgress = nil
            // The previous epoch's commit has had this whole epoch to finish.
            try timed { try finishPendingCommit() }
            if let lost { throw lost }
            switch record.outcome {
            case .stopped(let step):
                try saveAtStop(record, step: step)
                return .interrupted
            case .diverged(let step):
                if replaying { try failReplay(epoch: record.epoch, "it diverged at step \(step) on replay; the log has it complete") }
                try store.setStatus(run: owned, .diverged, detail: "non-finite loss or gradient at step \(step) (epoch \(record.epoch))",
                                    divergedStep: step, replayed: takeReplayed())
                return .diverged(atStep: step)
            case .completed:
                break
            }
            guard let ending else { preconditionFailure("a completed epoch ends with its steps done") }
            let logging = DispatchTime.now().uptimeNanoseconds
            if replaying {
                let end = ending.value.wait()
                let checkpoint = end.checkpoint.map { (end.step, configurationFingerprint, $0) }
                let commit = EpochCommit(record, optimizerChecksum: end.optimizerChecksum, checkpoint: checkpoint)
                if let difference = try store.replayDifference(commit, run: run) { try failReplay(epoch: record.epoch, "it differs in \(difference)") }
                replayedUncounted += 1
                epochsReplayed += 1
                epochsCommitted = max(epochsCommitted, record.epoch)
                if let checkpoint {
                    try store.saveReplayCheckpoint(run: owned, epoch: record.epoch, step: end.step, optimizerChecksum: end.optimizerChecksum,
                                                   configurationFingerprint: configurationFingerprint, encoded: checkpoint.2,
                                                   replayed: takeReplayed())
                }
            } else {
                // Committed on the commit queue while the next epoch trains: one transaction,
                // whole or not at all, as ever; only when it happens moves.
                let (store, owned, fingerprint, encoding) = (store, owned, configurationFingerprint, ending.value)
                pendingEpoch = record.epoch
                pendingCommit = Background(on: commits) {
                    let end = encoding.wait()
                    let checkpoint = end.checkpoint.map { (end.step, fingerprint, $0) }
                    return Result { try store.commitEpoch(EpochCommit(record, optimizerChecksum: end.optimizerChecksum, checkpoint: checkpoint), run: owned) }
                }
            }
            if ending.due {
                lastCheckpointTime = Date()
                lastCheckpointEpoch = record.epoch
            }
            loggingSeconds += Double(DispatchTime.now().uptimeNanoseconds - logging) / 1e9
            epochsDone = record.epoch
            onEpoch(record, replaying)
        }
        try timed {
            try finishPendingCommit()
            try store.setStatus(run: owned, .completed, replayed: takeReplayed())
        }
        return .completed
    }

    /// Runs `body` on the training thread and counts its time as logging's.
    private func timed<T>(_ body: () throws -> T) rethrows -> T {
        let start = DispatchTime.now().uptimeNanoseconds
        defer { loggingSeconds += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
        return try body()
    }

    /// Waits for the previous epoch's commit and rethrows its error.
    private func finishPendingCommit() throws {
        guard let pending = pendingCommit else { return }
        pendingCommit = nil
        try pending.wait().get()
        epochsCommitted = max(epochsCommitted, pendingEpoch)
    }

    /// What an epoch's commit needs from its final state: the optimizer-state checksum and, when
    /// the checkpoint policy says so, the encoded checkpoint.
    struct EpochEnd {
        var step: Int
        var optimizerChecksum: String
        var checkpoint: CheckpointPayload.Encoded?
    }

    /// At the end of an epoch's steps: copies the optimizer state and the weights as they are
    /// now, and hashes, shuffles and compresses the copies on another thread while the
    /// validation pass runs; the next epoch may change the weights meanwhile. Whether a
    /// checkpoint is due is decided here.
    func beginEpochEnd(epoch: Int) -> (due: Bool, value: Background<EpochEnd>) {
        let state = loop.optimizer.state
        let step = epoch * loop.stepsPerEpoch
        let due = epoch == spec.epochs || policy.seconds <= 0 || Date().timeIntervalSince(lastCheckpointTime) >= policy.seconds
            || (policy.epochs > 0 && epoch - lastCheckpointEpoch >= policy.epochs)
        let payload = due ? checkpoint(state: state, epoch: epoch, step: step) : nil
        let work = { EpochEnd(step: step, optimizerChecksum: state.checksum, checkpoint: payload?.encoded()) }
        // Below a few hundred kilobytes the work is shorter than handing it to another thread.
        let bytes = state.bytes.count + (payload == nil ? 0 : loop.model.parameters.reduce(0) { $0 + 4 * $1.count })
        return (due, bytes < 1 << 18 ? Background(now: work()) : Background(work))
    }

    /// A replayed epoch that differs from the log: the run is marked, nothing logged changes.
    func failReplay(epoch: Int, _ what: String) throws -> Never {
        let detail = "replayed epoch \(epoch) differs from the log: \(what)"
        try store.setStatus(run: owned, .nondeterministic, detail: detail, replayed: takeReplayed())
        throw DeterminismFailure(description: "run \(run): \(detail); nothing logged was changed, and the run is marked nondeterministic")
    }

    private func takeReplayed() -> Int {
        defer { replayedUncounted = 0 }
        return replayedUncounted
    }

    /// A heartbeat every few seconds, from the step loop (epochs may be long, and a replay
    /// commits nothing); a lost run stops training at the next step.
    private func beat() {
        // A commit that failed (a full disk, a lost run) stops training at the next step, not
        // after a whole epoch more.
        if lost == nil, let pending = pendingCommit, case .failure(let error)? = pending.valueIfDone { lost = error }
        guard lost == nil, Date().timeIntervalSince(lastHeartbeat) >= Self.heartbeatInterval else { return }
        lastHeartbeat = Date()
        do { try timed { try store.heartbeat(run: owned, replayed: takeReplayed()) } } catch { lost = error }
    }

    /// The one place a checkpoint is assembled: the weights, the optimizer state and what
    /// identifies the run; with `progress`, the epoch part-way (see `EpochProgress`).
    func checkpoint(state: OptimizerState, epoch: Int, step: Int, progress: EpochProgress? = nil) -> CheckpointPayload {
        var tensors = loop.model.parameters.map { CheckpointPayload.Tensor(name: $0.name, shape: $0.shape, floats: $0.value) }
        tensors.append(CheckpointPayload.Tensor(name: "optimizer_state", dtype: .u8, shape: [state.bytes.count], data: state.bytes))
        var metadata = ["epoch": String(epoch), "step": String(step), "seed": String(spec.seed),
                        "configuration_fingerprint": configurationFingerprint, "optimizer": loop.optimizer.className]
        if let progress {
            tensors += progress.tensors
            metadata["partial_steps"] = String(progress.stepsDone)
        } else {
            metadata["next_shuffle_epoch"] = String(epoch)
        }
        return CheckpointPayload(tensors: tensors, metadata: metadata)
    }

    /// At a stop: a checkpoint of where training is — part-way through the epoch, with the
    /// epoch's progress, or at its start — and the run marked interrupted, together.
    func saveAtStop(_ record: EpochRecord, step: Int) throws {
        let state = loop.optimizer.state
        let partial = record.progress.flatMap { $0.stepsDone > 0 ? $0 : nil }
        let epoch = partial != nil ? record.epoch : epochsDone
        guard epoch > 0 else {  // stopped before the first step: nothing to keep
            try store.setStatus(run: owned, .interrupted, detail: "stopped before its first step", replayed: takeReplayed())
            return
        }
        try store.saveCheckpointAndInterrupt(run: owned, epoch: epoch, step: step, optimizerChecksum: state.checksum,
                                             configurationFingerprint: configurationFingerprint,
                                             encoded: checkpoint(state: state, epoch: epoch, step: step, progress: partial).encoded(),
                                             detail: "stopped at step \(step) (epoch \(record.epoch))", replayed: takeReplayed())
    }

    public var model: Sequential { loop.model }
    public var stepsPerEpoch: Int { loop.stepsPerEpoch }
    public var optimizer: Optimizer { loop.optimizer }
}

/// A value computed on another thread; `wait` blocks until it is there.
final class Background<Value>: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var value: Value?

    init(on queue: DispatchQueue = .global(qos: .userInitiated), _ work: @escaping () -> Value) {
        let box = UncheckedSendable(work)
        queue.async {
            self.value = box.value()
            self.done.signal()
        }
    }

    /// A value already at hand.
    init(now value: Value) {
        self.value = value
        done.signal()
    }

    /// The value if it is there already, without waiting.
    var valueIfDone: Value? {
        guard done.wait(timeout: .now()) == .success else { return nil }
        done.signal()
        return value
    }

    func wait() -> Value {
        done.wait()
        done.signal()  // a second wait returns at once
        return value!
    }
}


/// A replayed epoch differed from the logged one.
public struct DeterminismFailure: Error, CustomStringConvertible {
    public let description: String
}

extension EpochCommit {
    /// The epoch as the log stores it.
    init(_ record: EpochRecord, optimizerChecksum: String, checkpoint: (Int, String, CheckpointPayload.Encoded)?) {
        var row = record.row
        row.optimizerChecksum = optimizerChecksum
        self.init(row: row, firstStep: record.firstStep, stepLosses: record.stepLosses, stepGradNorms: record.stepGradientNorms,
                  layerNorms: record.layerGradientNorms.sorted { $0.key < $1.key }.map { ($0.key, $0.value) },
                  checkpoint: checkpoint.map { (step: $0.0, configurationFingerprint: $0.1, encoded: $0.2) })
    }
}
