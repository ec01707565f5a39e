import Basics
import Foundation
import GRDB

/// What a run is, recorded when it starts.
public struct NewRun: Sendable {
    public var studyID: Int64?
    public var task: String
    public var dataset: String
    public var datasetFingerprint: String
    public var modelConfiguration: String
    public var optimizer: String
    public var optimizerConfiguration: String
    public var configurationFingerprint: String
    public var seed: UInt64
    public var batchSize: Int
    public var epochsPlanned: Int
    public var threads: Int
    public var codeVersion: String
    public var checkpointPolicy: CheckpointPolicy
    /// The `--data-dir` the run was started with, looked in again on resume.
    public var dataDir: String?
    /// The trivial baseline on the run's validation data, in its loss and metric.
    public var baselineValLoss: Double?
    public var baselineValMetric: Double?

    public init(studyID: Int64? = nil, task: String, dataset: String, datasetFingerprint: String, modelConfiguration: String,
                optimizer: String, optimizerConfiguration: String, configurationFingerprint: String, seed: UInt64,
                batchSize: Int, epochsPlanned: Int, threads: Int = 1, codeVersion: String,
                checkpointPolicy: CheckpointPolicy = CheckpointPolicy(), dataDir: String? = nil,
                baselineValLoss: Double? = nil, baselineValMetric: Double? = nil) {
        self.studyID = studyID
        self.task = task
        self.dataset = dataset
        self.datasetFingerprint = datasetFingerprint
        self.modelConfiguration = modelConfiguration
        self.optimizer = optimizer
        self.optimizerConfiguration = optimizerConfiguration
        self.configurationFingerprint = configurationFingerprint
        self.seed = seed
        self.batchSize = batchSize
        self.epochsPlanned = epochsPlanned
        self.threads = threads
        self.codeVersion = codeVersion
        self.checkpointPolicy = checkpointPolicy
        self.dataDir = dataDir
        self.baselineValLoss = baselineValLoss
        self.baselineValMetric = baselineValMetric
    }
}

/// A run this process owns: every write of its training names the owner token, and the store
/// refuses it once another process has taken the run over.
public struct OwnedRun: Sendable, Equatable {
    public let id: Int64
    public let owner: String

    public init(id: Int64, owner: String) {
        self.id = id
        self.owner = owner
    }

    static func newToken() -> String { UUID().uuidString.lowercased() }
}

/// One epoch as the training loop hands it to the log: its row, every step's loss and global
/// gradient norm, each layer's gradient norm at the end, and (optionally) a checkpoint.
public struct EpochCommit: Sendable {
    public var row: Epoch
    public var firstStep: Int
    public var stepLosses: [Float]
    public var stepGradNorms: [Float]
    public var layerNorms: [(layer: String, norm: Double)]
    public var checkpoint: (step: Int, configurationFingerprint: String, encoded: CheckpointPayload.Encoded)?

    public init(row: Epoch, firstStep: Int, stepLosses: [Float], stepGradNorms: [Float], layerNorms: [(layer: String, norm: Double)],
                checkpoint: (step: Int, configurationFingerprint: String, encoded: CheckpointPayload.Encoded)? = nil) {
        (self.row, self.firstStep, self.stepLosses, self.stepGradNorms, self.layerNorms, self.checkpoint) =
            (row, firstStep, stepLosses, stepGradNorms, layerNorms, checkpoint)
    }

    public var epoch: Int { row.epoch }
}

extension Store {
    static var now: Double { Date().timeIntervalSince1970 }

    /// Records a new run as `running`, owned by this process.
    public func createRun(_ run: NewRun) throws -> OwnedRun {
        try write { db in try insertRun(db, run) }
    }

    /// A study's run for a grid cell, created only if the study has none for (task, optimizer,
    /// optimizer configuration, seed) yet — checked and inserted in one transaction, so two
    /// `study` commands on one store split the grid instead of training a cell twice. Nil: the
    /// cell has a run already.
    public func createStudyRun(_ run: NewRun) throws -> OwnedRun? {
        try write { db in
            let existing = try Int64.fetchOne(db, sql: """
                SELECT id FROM runs WHERE study_id = ? AND task = ? AND optimizer = ? AND seed = ? AND optimizer_configuration = ? LIMIT 1
                """, arguments: [run.studyID, run.task, run.optimizer, Int64(bitPattern: run.seed), run.optimizerConfiguration])
            return existing == nil ? try insertRun(db, run) : nil
        }
    }

    private func insertRun(_ db: Database, _ run: NewRun) throws -> OwnedRun {
        if let study = run.studyID, try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM studies WHERE id = ?", arguments: [study]) == 0 {
            throw StoreError.notFound("study \(study) (this store has \(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM studies") ?? 0) studies; `optilog runs` lists their ids)")
        }
        let owner = OwnedRun.newToken()
        let record = Run(id: 0, uid: UUID().uuidString.lowercased(), studyID: run.studyID, task: run.task, dataset: run.dataset,
                         datasetFingerprint: run.datasetFingerprint, modelConfiguration: run.modelConfiguration, optimizer: run.optimizer,
                         optimizerConfiguration: run.optimizerConfiguration, configurationFingerprint: run.configurationFingerprint,
                         seed: run.seed, batchSize: run.batchSize, epochsPlanned: run.epochsPlanned, epochsDone: 0, status: .running,
                         statusDetail: nil, divergedStep: nil, bestValLoss: nil, bestEpoch: nil, heartbeatAt: Self.now, host: Self.hostName,
                         pid: Int(getpid()), threads: run.threads, codeVersion: run.codeVersion, createdAt: Self.now, finishedAt: nil,
                         owner: owner, checkpointPolicy: run.checkpointPolicy, dataDir: run.dataDir, epochsReplayed: 0,
                         baselineValLoss: run.baselineValLoss, baselineValMetric: run.baselineValMetric)
        try record.insert(db)
        return OwnedRun(id: db.lastInsertedRowID, owner: owner)
    }

    /// Commits one epoch — its row, step series, layer norms, checkpoint, the run's best-so-far,
    /// progress and heartbeat — in a single transaction, then keeps only the newest `retain`
    /// checkpoints of the run (at least 1).
    public func commitEpoch(_ e: EpochCommit, run owned: OwnedRun, retain: Int = 2) throws {
        let losses = Zstd.compress(floats: e.stepLosses), norms = Zstd.compress(floats: e.stepGradNorms)
        precondition(e.stepLosses.count == e.stepGradNorms.count, "one loss and one gradient norm per step")
        let run = owned.id
        try write { db in
            let expected = try Self.checkOwner(db, owned) + 1
            guard e.epoch == expected else {
                throw StoreError.refused("run \(run): epoch \(e.epoch) committed after epoch \(expected - 1); epochs are committed in order, once")
            }
            let now = Self.now
            // A checkpoint of this epoch taken part-way (at a stop) is superseded by the epoch itself.
            try db.cachedStatement(sql: "DELETE FROM checkpoints WHERE run_id = ? AND epoch = ?").execute(arguments: [run, e.epoch])
            var row = e.row
            (row.runID, row.committedAt) = (run, now)
            try row.insert(db)
            try db.cachedStatement(sql: "INSERT INTO step_series (run_id, epoch, first_step, steps, losses, grad_norms) VALUES (?, ?, ?, ?, ?, ?)").execute(arguments: [run, e.epoch, e.firstStep, e.stepLosses.count, Data(losses), Data(norms)])
            let layerInsert = try db.cachedStatement(sql: "INSERT INTO layer_norms (run_id, epoch, layer, norm) VALUES (?, ?, ?, ?)")
            for (layer, norm) in e.layerNorms {
                try layerInsert.execute(arguments: [run, e.epoch, layer, Epoch.stored(norm) ?? .nan])
            }
            if let c = e.checkpoint {
                try Self.insertCheckpoint(db, run: run, epoch: e.epoch, step: c.step, optimizerChecksum: e.row.optimizerChecksum,
                                          configurationFingerprint: c.configurationFingerprint, encoded: c.encoded, retain: retain)
            }
            FaultInjection.hit("commit-epoch", epoch: e.epoch)
            // Best-so-far (both CASEs see the old values); NaN is stored as NULL and never wins.
            try db.cachedStatement(sql: """
                UPDATE runs SET epochs_done = :epoch, heartbeat_at = :now,
                    best_epoch = CASE WHEN :v IS NOT NULL AND (best_val_loss IS NULL OR :v < best_val_loss) THEN :epoch ELSE best_epoch END,
                    best_val_loss = CASE WHEN :v IS NOT NULL AND (best_val_loss IS NULL OR :v < best_val_loss) THEN :v ELSE best_val_loss END
                WHERE id = :run
                """).execute(arguments: ["epoch": e.epoch, "now": now, "v": Epoch.stored(e.row.valLoss), "run": run])
        }
    }

    /// A checkpoint outside an epoch commit — at a stop: of the last committed epoch, or of the
    /// epoch in progress (its metadata then says how far it got) — replacing one of that epoch,
    /// and the run marked interrupted (released), in one transaction.
    public func saveCheckpointAndInterrupt(run owned: OwnedRun, epoch: Int, step: Int, optimizerChecksum: String,
                                           configurationFingerprint: String, encoded: CheckpointPayload.Encoded, detail: String,
                                           replayed: Int = 0) throws {
        try write { db in
            try Self.checkOwner(db, owned)
            try Self.insertCheckpoint(db, run: owned.id, epoch: epoch, step: step, optimizerChecksum: optimizerChecksum,
                                      configurationFingerprint: configurationFingerprint, encoded: encoded, retain: nil)
            try db.execute(sql: """
                UPDATE runs SET status = 'interrupted', status_detail = ?, heartbeat_at = ?, epochs_replayed = epochs_replayed + ?
                WHERE id = ?
                """, arguments: [detail, Self.now, replayed, owned.id])
        }
    }

    /// A checkpoint of an epoch that a resume replayed and found equal to the log (the log's
    /// rows are not touched), with the count of epochs replayed since the last call.
    public func saveReplayCheckpoint(run owned: OwnedRun, epoch: Int, step: Int, optimizerChecksum: String,
                                     configurationFingerprint: String, encoded: CheckpointPayload.Encoded, replayed: Int, retain: Int = 2) throws {
        try write { db in
            try Self.checkOwner(db, owned)
            try Self.insertCheckpoint(db, run: owned.id, epoch: epoch, step: step, optimizerChecksum: optimizerChecksum,
                                      configurationFingerprint: configurationFingerprint, encoded: encoded, retain: retain)
            try db.execute(sql: "UPDATE runs SET heartbeat_at = ?, epochs_replayed = epochs_replayed + ? WHERE id = ?",
                           arguments: [Self.now, replayed, owned.id])
        }
    }

    /// Adds (or replaces) the checkpoint of `epoch`; with `retain`, keeps only the newest that many.
    static func insertCheckpoint(_ db: Database, run: Int64, epoch: Int, step: Int, optimizerChecksum: String,
                                 configurationFingerprint: String, encoded: CheckpointPayload.Encoded, retain: Int?) throws {
        try Checkpoint(runID: run, epoch: epoch, step: step, optimizerChecksum: optimizerChecksum,
                       configurationFingerprint: configurationFingerprint, encoded: encoded, createdAt: now).save(db)
        if let retain {
            try db.cachedStatement(sql: """
                DELETE FROM checkpoints WHERE run_id = ? AND epoch NOT IN
                    (SELECT epoch FROM checkpoints WHERE run_id = ? ORDER BY epoch DESC LIMIT ?)
                """).execute(arguments: [run, run, max(1, retain)])
        }
    }

    public func heartbeat(run owned: OwnedRun, replayed: Int = 0) throws {
        try write { db in
            try Self.checkOwner(db, owned)
            try db.execute(sql: "UPDATE runs SET heartbeat_at = ?, epochs_replayed = epochs_replayed + ? WHERE id = ?",
                           arguments: [Self.now, replayed, owned.id])
        }
    }

    /// Sets the run's status; any status but `running` releases it.
    public func setStatus(run owned: OwnedRun, _ status: RunStatus, detail: String? = nil, divergedStep: Int? = nil, replayed: Int = 0) throws {
        try write { db in
            try Self.checkOwner(db, owned)
            try db.execute(sql: """
                UPDATE runs SET status = ?, status_detail = ?, diverged_step = COALESCE(?, diverged_step), heartbeat_at = ?,
                                finished_at = CASE WHEN ? IN ('completed', 'diverged', 'failed', 'nondeterministic') THEN ? ELSE NULL END,
                                epochs_replayed = epochs_replayed + ?
                WHERE id = ?
                """, arguments: [status.rawValue, detail, divergedStep, Self.now, status.rawValue, Self.now, replayed, owned.id])
        }
    }
}

extension Store {
    static let hostName = ProcessInfo.processInfo.hostName

    /// Takes ownership of a run to continue it — refused while a live process owns it (see
    /// `RunRow.liveOwner`); a stale owner is taken over, and its later writes are refused. Sets
    /// the plan and policy and marks the run running; the logged epochs are not touched. Returns
    /// the epochs logged at the moment of the claim (no other process can add any after it).
    public func claim(run: Int64, epochsPlanned: Int, policy: CheckpointPolicy, staleAfter: Double = Run.defaultStaleAfter) throws -> (owned: OwnedRun, epochsDone: Int) {
        try write { db in
            guard let row = try Run.fetchOne(db, key: run) else {
                throw StoreError.notFound("run \(run)")
            }
            if let owner = row.liveOwner(staleAfter: staleAfter) {
                throw StoreError.owned("run \(run) is being trained by another process (\(owner)); refusing to resume it twice")
            }
            guard epochsPlanned >= row.epochsDone else {
                throw StoreError.refused("run \(run) has \(row.epochsDone) epochs logged; it cannot be planned for \(epochsPlanned)")
            }
            let owner = OwnedRun.newToken()
            try db.execute(sql: """
                UPDATE runs SET owner = ?, status = 'running', status_detail = NULL, diverged_step = NULL, finished_at = NULL,
                                heartbeat_at = ?, pid = ?, host = ?, epochs_planned = ?, checkpoint_every = ?, checkpoint_epochs = ?
                WHERE id = ?
                """, arguments: [owner, Self.now, Int(getpid()), Self.hostName, epochsPlanned, policy.seconds, policy.epochs, run])
            return (OwnedRun(id: run, owner: owner), row.epochsDone)
        }
    }

    /// Inside a write: the run must still be owned by `owned`. Returns its epochs done.
    @discardableResult
    static func checkOwner(_ db: Database, _ owned: OwnedRun) throws -> Int {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT owner, pid, host, epochs_done FROM runs WHERE id = ?"), arguments: [owned.id]) else {
            throw StoreError.notFound("run \(owned.id)")
        }
        guard row["owner"] == owned.owner as String? else {
            throw StoreError.lostOwnership("run \(owned.id) was taken over by pid \(row["pid"] as Int? ?? 0) on \(row["host"] as String? ?? "?"); this process no longer writes into it")
        }
        return row["epochs_done"]
    }

    /// The first difference between a replayed epoch and the logged one, as `commitEpoch` would
    /// have stored it (timings aside): nil when every value is the same, bit for bit.
    public func replayDifference(_ e: EpochCommit, run: Int64) throws -> String? {
        try read { db in
            guard let logged = try Epoch.fetchOne(db, key: [Epoch.Columns.runID.rawValue: run, Epoch.Columns.epoch.rawValue: e.epoch]) else {
                return "the log has no epoch \(e.epoch)"
            }
            func describe(_ v: Double?) -> String { v.map { "\($0)" } ?? "NULL" }
            for column in Epoch.replayed {
                let replayed = Epoch.stored(e.row[number: column])
                if logged[number: column]?.bitPattern != replayed?.bitPattern {
                    return "\(column.rawValue) (logged \(describe(logged[number: column])), replayed \(describe(replayed)))"
                }
            }
            if logged.optimizerChecksum != e.row.optimizerChecksum {
                return "optimizer_checksum (logged \(logged.optimizerChecksum), replayed \(e.row.optimizerChecksum))"
            }
            guard let series = try ReadOnlyStore.stepSeries(db, run: run, epoch: e.epoch) else { return "step series (missing from the log)" }
            if series.firstStep != e.firstStep { return "first_step (logged \(series.firstStep), replayed \(e.firstStep))" }
            let steps = series.losses.count
            if steps != e.stepLosses.count { return "steps (logged \(steps), replayed \(e.stepLosses.count))" }
            let (losses, norms) = (series.losses, series.gradNorms)
            for i in 0..<steps where losses[i].bitPattern != e.stepLosses[i].bitPattern {
                return "the loss of step \(e.firstStep + i + 1) (logged \(losses[i]), replayed \(e.stepLosses[i]))"
            }
            for i in 0..<steps where norms[i].bitPattern != e.stepGradNorms[i].bitPattern {
                return "the gradient norm of step \(e.firstStep + i + 1) (logged \(norms[i]), replayed \(e.stepGradNorms[i]))"
            }
            let layers = Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT layer, norm FROM layer_norms WHERE run_id = ? AND epoch = ?",
                                                                           arguments: [run, e.epoch]).map { ($0["layer"] as String, $0["norm"] as Double?) })
            if Set(layers.keys) != Set(e.layerNorms.map(\.layer)) { return "the layers with gradient norms" }
            for (layer, norm) in e.layerNorms where layers[layer]??.bitPattern != Epoch.stored(norm)?.bitPattern {
                return "the gradient norm of layer \(layer) (logged \(describe(layers[layer] ?? nil)), replayed \(describe(Epoch.stored(norm))))"
            }
            return nil
        }
    }
}

extension Store {
    /// The study of this name, created with `configuration` if there is none.
    public func study(named name: String, configuration: String) throws -> Int64 {
        try write { db in
            if let id = try Int64.fetchOne(db, sql: "SELECT id FROM studies WHERE name = ? ORDER BY id LIMIT 1", arguments: [name]) { return id }
            try db.execute(sql: "INSERT INTO studies (uid, name, configuration, created_at) VALUES (?, ?, ?, ?)",
                           arguments: [Self.studyUID(name: name, configuration: configuration), name, configuration, Self.now])
            return db.lastInsertedRowID
        }
    }

    /// A study's uid follows from its name and grid, so the shards of one study, trained into
    /// separate stores, name the same study and merge into one.
    static func studyUID(name: String, configuration: String) -> String {
        let hex = sha256Hex(Array((name + "\u{0}" + configuration).utf8))
        let parts = [hex.prefix(8), hex.dropFirst(8).prefix(4), hex.dropFirst(12).prefix(4), hex.dropFirst(16).prefix(4), hex.dropFirst(20).prefix(12)]
        return parts.joined(separator: "-")
    }
}
