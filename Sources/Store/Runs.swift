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

    public init(studyID: Int64? = nil, task: String, dataset: String, datasetFingerprint: String, modelConfiguration: String,
                optimizer: String, optimizerConfiguration: String, configurationFingerprint: String, seed: UInt64,
                batchSize: Int, epochsPlanned: Int, threads: Int = 1, codeVersion: String,
                checkpointPolicy: CheckpointPolicy = CheckpointPolicy(), dataDir: String? = nil) {
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
    }
}

/// When a run writes a checkpoint with an epoch: `seconds` after the last one (0: every
/// epoch), or `epochs` epochs after it (0: no such bound), and always with the last epoch. A
/// resume replays the epochs after the newest checkpoint, so this bounds a resume's replay to
/// min(`seconds` + one epoch, `epochs` epochs) of training.
public struct CheckpointPolicy: Sendable, Equatable {
    public var seconds: Double
    public var epochs: Int

    public init(seconds: Double = 10, epochs: Int = 100) {
        self.seconds = seconds
        self.epochs = epochs
    }
}

public enum RunStatus: String, Sendable, CaseIterable {
    case running, completed, interrupted, diverged, failed
    /// A resume replayed an epoch differently from the log (see `status_detail`).
    case nondeterministic
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
    public var epoch: Int
    public var loss: Double, metric: Double, valLoss: Double, valMetric: Double
    public var gradNormMean: Double, gradNormMin: Double, gradNormMax: Double, gradNormLast: Double
    public var learningRate: Double
    public var optimizerChecksum: String
    public var seconds: Double, samplesPerSecond: Double
    public var firstStep: Int
    public var stepLosses: [Float]
    public var stepGradNorms: [Float]
    public var layerNorms: [(layer: String, norm: Double)]
    public var checkpoint: (step: Int, configurationFingerprint: String, encoded: Checkpoint.Encoded)?

    public init(epoch: Int, loss: Double, metric: Double, valLoss: Double, valMetric: Double, gradNormMean: Double,
                gradNormMin: Double, gradNormMax: Double, gradNormLast: Double, learningRate: Double, optimizerChecksum: String,
                seconds: Double, samplesPerSecond: Double, firstStep: Int, stepLosses: [Float], stepGradNorms: [Float],
                layerNorms: [(layer: String, norm: Double)],
                checkpoint: (step: Int, configurationFingerprint: String, encoded: Checkpoint.Encoded)?) {
        self.epoch = epoch
        self.loss = loss
        self.metric = metric
        self.valLoss = valLoss
        self.valMetric = valMetric
        self.gradNormMean = gradNormMean
        self.gradNormMin = gradNormMin
        self.gradNormMax = gradNormMax
        self.gradNormLast = gradNormLast
        self.learningRate = learningRate
        self.optimizerChecksum = optimizerChecksum
        self.seconds = seconds
        self.samplesPerSecond = samplesPerSecond
        self.firstStep = firstStep
        self.stepLosses = stepLosses
        self.stepGradNorms = stepGradNorms
        self.layerNorms = layerNorms
        self.checkpoint = checkpoint
    }
}

/// A stored epoch row.
public struct EpochRow: Sendable, Equatable {
    public var epoch: Int
    public var loss: Double?, metric: Double?, valLoss: Double?, valMetric: Double?
    public var gradNormMean: Double?, gradNormMin: Double?, gradNormMax: Double?, gradNormLast: Double?
    public var learningRate: Double?
    public var optimizerChecksum: String
    public var seconds: Double?, samplesPerSecond: Double?
}

public struct BestRow: Sendable, Equatable {
    public var task: String
    public var optimizer: String
    public var bestValLoss: Double
    public var bestEpoch: Int
    public var runID: Int64

    public init(task: String, optimizer: String, bestValLoss: Double, bestEpoch: Int, runID: Int64) {
        (self.task, self.optimizer, self.bestValLoss, self.bestEpoch, self.runID) = (task, optimizer, bestValLoss, bestEpoch, runID)
    }
}

public struct StoredCheckpoint: Sendable {
    public var runID: Int64
    public var epoch: Int
    public var step: Int
    public var optimizerChecksum: String
    public var configurationFingerprint: String
    public var checkpoint: Checkpoint
}

extension Store {
    static var now: Double { Date().timeIntervalSince1970 }

    public func createStudy(name: String, configuration: String = "{}") throws -> Int64 {
        try write { db in
            try db.execute(sql: "INSERT INTO studies (uid, name, configuration, created_at) VALUES (?, ?, ?, ?)",
                           arguments: [UUID().uuidString.lowercased(), name, configuration, Self.now])
            return db.lastInsertedRowID
        }
    }

    /// Records a new run as `running`, owned by this process.
    public func createRun(_ run: NewRun) throws -> OwnedRun {
        try write { db in try insertRun(db, run) }
    }

    /// A study's run for a grid cell, created only if the study has none for (task, optimizer,
    /// seed) yet — checked and inserted in one transaction, so two `study` commands on one store
    /// split the grid instead of training a cell twice. Nil: the cell has a run already.
    public func createStudyRun(_ run: NewRun) throws -> OwnedRun? {
        try write { db in
            let existing = try Int64.fetchOne(db, sql: "SELECT id FROM runs WHERE study_id = ? AND task = ? AND optimizer = ? AND seed = ? LIMIT 1",
                                              arguments: [run.studyID, run.task, run.optimizer, Int64(bitPattern: run.seed)])
            return existing == nil ? try insertRun(db, run) : nil
        }
    }

    private func insertRun(_ db: Database, _ run: NewRun) throws -> OwnedRun {
        if let study = run.studyID, try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM studies WHERE id = ?", arguments: [study]) == 0 {
            throw StoreError.notFound("study \(study) (this store has \(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM studies") ?? 0) studies; `optilog runs` lists their ids)")
        }
        let owner = OwnedRun.newToken()
        try db.execute(sql: """
            INSERT INTO runs (uid, study_id, task, dataset, dataset_fingerprint, model_configuration, optimizer,
                              optimizer_configuration, configuration_fingerprint, seed, batch_size, epochs_planned,
                              status, heartbeat_at, host, pid, threads, code_version, created_at, owner,
                              checkpoint_every, checkpoint_epochs, data_dir)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'running', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [UUID().uuidString.lowercased(), run.studyID, run.task, run.dataset, run.datasetFingerprint,
                             run.modelConfiguration, run.optimizer, run.optimizerConfiguration, run.configurationFingerprint,
                             Int64(bitPattern: run.seed), run.batchSize, run.epochsPlanned, Self.now,
                             Self.hostName, Int(getpid()), run.threads, run.codeVersion, Self.now, owner,
                             run.checkpointPolicy.seconds, run.checkpointPolicy.epochs, run.dataDir])
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
            try db.cachedStatement(sql: """
                INSERT INTO epochs (run_id, epoch, loss, metric, val_loss, val_metric, grad_norm_mean, grad_norm_min, grad_norm_max,
                                    grad_norm_last, learning_rate, optimizer_checksum, seconds, samples_per_second, committed_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """).execute(arguments: [run, e.epoch, finite(e.loss), finite(e.metric), finite(e.valLoss), finite(e.valMetric),
                                 finite(e.gradNormMean), finite(e.gradNormMin), finite(e.gradNormMax), finite(e.gradNormLast),
                                 finite(e.learningRate), e.optimizerChecksum, e.seconds, e.samplesPerSecond, now])
            try db.cachedStatement(sql: "INSERT INTO step_series (run_id, epoch, first_step, steps, losses, grad_norms) VALUES (?, ?, ?, ?, ?, ?)").execute(arguments: [run, e.epoch, e.firstStep, e.stepLosses.count, Data(losses), Data(norms)])
            let layerInsert = try db.cachedStatement(sql: "INSERT INTO layer_norms (run_id, epoch, layer, norm) VALUES (?, ?, ?, ?)")
            for (layer, norm) in e.layerNorms {
                try layerInsert.execute(arguments: [run, e.epoch, layer, finite(norm) ?? .nan])
            }
            if let c = e.checkpoint {
                try Self.insertCheckpoint(db, run: run, epoch: e.epoch, step: c.step, optimizerChecksum: e.optimizerChecksum,
                                          configurationFingerprint: c.configurationFingerprint, encoded: c.encoded, retain: retain)
            }
            FaultInjection.hit("commit-epoch", epoch: e.epoch)
            // Best-so-far (both CASEs see the old values); NaN is stored as NULL and never wins.
            try db.cachedStatement(sql: """
                UPDATE runs SET epochs_done = :epoch, heartbeat_at = :now,
                    best_epoch = CASE WHEN :v IS NOT NULL AND (best_val_loss IS NULL OR :v < best_val_loss) THEN :epoch ELSE best_epoch END,
                    best_val_loss = CASE WHEN :v IS NOT NULL AND (best_val_loss IS NULL OR :v < best_val_loss) THEN :v ELSE best_val_loss END
                WHERE id = :run
                """).execute(arguments: ["epoch": e.epoch, "now": now, "v": finite(e.valLoss), "run": run])
        }
    }

    /// A checkpoint outside an epoch commit — at a stop: of the last committed epoch, or of the
    /// epoch in progress (its metadata then says how far it got) — replacing one of that epoch,
    /// and the run marked interrupted (released), in one transaction.
    public func saveCheckpointAndInterrupt(run owned: OwnedRun, epoch: Int, step: Int, optimizerChecksum: String,
                                           configurationFingerprint: String, encoded: Checkpoint.Encoded, detail: String,
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
                                     configurationFingerprint: String, encoded: Checkpoint.Encoded, replayed: Int, retain: Int = 2) throws {
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
                                 configurationFingerprint: String, encoded: Checkpoint.Encoded, retain: Int?) throws {
        try db.cachedStatement(sql: """
            INSERT OR REPLACE INTO checkpoints (run_id, epoch, step, payload_sha256, optimizer_checksum, configuration_fingerprint,
                                                payload_bytes, blob, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [run, epoch, step, encoded.payloadSHA256, optimizerChecksum, configurationFingerprint,
                             encoded.payloadBytes, Data(encoded.blob), now])
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

    public func epochs(run: Int64) throws -> [EpochRow] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM epochs WHERE run_id = ? ORDER BY epoch", arguments: [run]).map { r in
                EpochRow(epoch: r["epoch"], loss: r["loss"], metric: r["metric"], valLoss: r["val_loss"], valMetric: r["val_metric"],
                         gradNormMean: r["grad_norm_mean"], gradNormMin: r["grad_norm_min"], gradNormMax: r["grad_norm_max"],
                         gradNormLast: r["grad_norm_last"], learningRate: r["learning_rate"],
                         optimizerChecksum: r["optimizer_checksum"], seconds: r["seconds"], samplesPerSecond: r["samples_per_second"])
            }
        }
    }

    /// Every step's loss and gradient norm of one epoch.
    public func stepSeries(run: Int64, epoch: Int) throws -> (firstStep: Int, losses: [Float], gradNorms: [Float]) {
        let row = try read { db in
            try Row.fetchOne(db, sql: "SELECT first_step, steps, losses, grad_norms FROM step_series WHERE run_id = ? AND epoch = ?",
                             arguments: [run, epoch])
        }
        guard let row else { throw StoreError.notFound("step series of run \(run) epoch \(epoch)") }
        let steps: Int = row["steps"]
        let losses: Data = row["losses"], norms: Data = row["grad_norms"]
        return (row["first_step"], try Zstd.decompressFloats(Array(losses), count: steps), try Zstd.decompressFloats(Array(norms), count: steps))
    }

    public func layerNorms(run: Int64, epoch: Int) throws -> [String: Double] {
        try read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT layer, norm FROM layer_norms WHERE run_id = ? AND epoch = ?", arguments: [run, epoch])
            return Dictionary(uniqueKeysWithValues: rows.map { ($0["layer"] as String, $0["norm"] as Double) })
        }
    }

    /// The newest checkpoint of a run that decodes and matches its checksum. Throws `corrupt`
    /// for the newest if it is damaged and `fallBack` is false.
    public func latestCheckpoint(run: Int64, fallBack: Bool = true) throws -> StoredCheckpoint? {
        let (found, damaged) = try newestGoodCheckpoint(run: run)
        if let first = damaged.first, !fallBack || found == nil { throw first.error }
        return found
    }

    /// The newest checkpoint that decodes and matches its checksum, and the newer ones that did
    /// not (epoch and why), newest first.
    public func newestGoodCheckpoint(run: Int64) throws -> (checkpoint: StoredCheckpoint?, damaged: [(epoch: Int, error: Error)]) {
        let rows = try read { db in
            try Row.fetchAll(db, sql: """
                SELECT epoch, step, payload_sha256, optimizer_checksum, configuration_fingerprint, blob
                FROM checkpoints WHERE run_id = ? ORDER BY epoch DESC
                """, arguments: [run])
        }
        var damaged: [(epoch: Int, error: Error)] = []
        for row in rows {
            let blob: Data = row["blob"]
            do {
                let checkpoint = try Checkpoint(blob: Array(blob), expectedSHA256: row["payload_sha256"])
                return (StoredCheckpoint(runID: run, epoch: row["epoch"], step: row["step"], optimizerChecksum: row["optimizer_checksum"],
                                         configurationFingerprint: row["configuration_fingerprint"], checkpoint: checkpoint), damaged)
            } catch {
                damaged.append((row["epoch"], error))
            }
        }
        return (nil, damaged)
    }

    /// The study's results: best validation loss per task and optimizer (a named query), over
    /// one study or the whole store.
    public func bestPerOptimizerPerTask(study: Int64? = nil) throws -> [BestRow] {
        let sql = try Self.query("best_val_loss_per_optimizer_per_task")
        return try read { db in
            try Row.fetchAll(db, sql: sql, arguments: [study]).map { r in
                BestRow(task: r["task"], optimizer: r["optimizer"], bestValLoss: r["best_val_loss"], bestEpoch: r["best_epoch"], runID: r["run_id"])
            }
        }
    }
}

/// NaN and infinities are stored as NULL (SQLite has no NaN); callers see nil.
@inline(__always)
func finite(_ x: Double) -> Double? { x.isFinite ? x : nil }

/// A run's row, as resume and the query commands need it.
public struct RunRow: Sendable {
    public var id: Int64
    public var studyID: Int64?
    public var task: String
    public var optimizer: String
    public var seed: UInt64
    public var status: RunStatus
    public var statusDetail: String?
    public var epochsPlanned: Int
    public var epochsDone: Int
    public var dataset: String
    public var datasetFingerprint: String
    public var modelConfiguration: String
    public var optimizerConfiguration: String
    public var configurationFingerprint: String
    public var heartbeatAt: Double?
    public var host: String
    public var pid: Int?
    public var checkpointPolicy: CheckpointPolicy
    public var dataDir: String?
    public var epochsReplayed: Int

    /// Read with errors, not traps: a store whose columns hold values of the wrong type (a
    /// damaged or hand-edited file, or a shard merged from one) names the run and column.
    init(_ r: Row) throws {
        func value<T: DatabaseValueConvertible>(_ column: String) throws -> T {
            do { return try r.decode(T.self, forColumn: column) } catch {
                throw StoreError.corrupt("run \(r["id"] as DatabaseValue? ?? .null): column \(column) holds \(r[column] as DatabaseValue? ?? .null), not \(T.self)")
            }
        }
        id = try value("id")
        studyID = try value("study_id")
        task = try value("task")
        optimizer = try value("optimizer")
        seed = UInt64(bitPattern: try value("seed") as Int64)
        status = RunStatus(rawValue: try value("status")) ?? .failed
        statusDetail = try value("status_detail")
        epochsPlanned = try value("epochs_planned")
        epochsDone = try value("epochs_done")
        dataset = try value("dataset")
        datasetFingerprint = try value("dataset_fingerprint")
        modelConfiguration = try value("model_configuration")
        optimizerConfiguration = try value("optimizer_configuration")
        configurationFingerprint = try value("configuration_fingerprint")
        heartbeatAt = try value("heartbeat_at")
        host = try value("host")
        pid = try value("pid")
        checkpointPolicy = CheckpointPolicy(seconds: try value("checkpoint_every"), epochs: try value("checkpoint_epochs"))
        dataDir = try value("data_dir")
        epochsReplayed = try value("epochs_replayed")
    }

    /// Who is training the run, if a live process is. On this host: the process of that pid,
    /// while it exists (a dead process's run is free at once; a stopped or slow one keeps it).
    /// From another host: a heartbeat younger than `staleAfter` seconds.
    public func liveOwner(staleAfter: Double, now: Double = Date().timeIntervalSince1970) -> String? {
        guard status == .running else { return nil }
        let age = now - (heartbeatAt ?? 0)
        let owner = "pid \(pid.map(String.init) ?? "?") on \(host), heartbeat \(String(format: "%.0f", max(0, age))) s ago"
        if host == Store.hostName, let pid {
            if pid == Int(getpid()) { return nil }  // this process: an earlier attempt that did not finish
            return kill(pid_t(pid), 0) == 0 || errno == EPERM ? owner : nil
        }
        return age < staleAfter ? owner : nil
    }
}

extension Store {
    static let hostName = ProcessInfo.processInfo.hostName

    public func runRow(_ run: Int64) throws -> RunRow? {
        try read { db in try Row.fetchOne(db, sql: "SELECT * FROM runs WHERE id = ?", arguments: [run]).map { try RunRow($0) } }
    }

    /// Runs to resume: interrupted ones, and running ones no live process owns.
    public func resumableRuns(staleAfter: Double = 120) throws -> [Int64] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM runs WHERE status IN ('interrupted', 'running') ORDER BY id").map { try RunRow($0) }
                .filter { $0.liveOwner(staleAfter: staleAfter) == nil }.map(\.id)
        }
    }

    /// Takes ownership of a run to continue it — refused while a live process owns it (see
    /// `RunRow.liveOwner`); a stale owner is taken over, and its later writes are refused. Sets
    /// the plan and policy and marks the run running; the logged epochs are not touched. Returns
    /// the epochs logged at the moment of the claim (no other process can add any after it).
    public func claim(run: Int64, epochsPlanned: Int, policy: CheckpointPolicy, staleAfter: Double = 120) throws -> (owned: OwnedRun, epochsDone: Int) {
        try write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM runs WHERE id = ?", arguments: [run]).map({ try RunRow($0) }) else {
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
            guard let r = try Row.fetchOne(db, sql: "SELECT * FROM epochs WHERE run_id = ? AND epoch = ?", arguments: [run, e.epoch]) else {
                return "the log has no epoch \(e.epoch)"
            }
            func describe(_ v: Double?) -> String { v.map { "\($0)" } ?? "NULL" }
            for (column, value) in [("loss", e.loss), ("metric", e.metric), ("val_loss", e.valLoss), ("val_metric", e.valMetric),
                                    ("grad_norm_mean", e.gradNormMean), ("grad_norm_min", e.gradNormMin), ("grad_norm_max", e.gradNormMax),
                                    ("grad_norm_last", e.gradNormLast), ("learning_rate", e.learningRate)] {
                let logged: Double? = r[column]
                if logged?.bitPattern != finite(value)?.bitPattern {
                    return "\(column) (logged \(describe(logged)), replayed \(describe(finite(value))))"
                }
            }
            if r["optimizer_checksum"] != e.optimizerChecksum {
                return "optimizer_checksum (logged \(r["optimizer_checksum"] as String), replayed \(e.optimizerChecksum))"
            }
            guard let series = try Row.fetchOne(db, sql: "SELECT first_step, steps, losses, grad_norms FROM step_series WHERE run_id = ? AND epoch = ?",
                                                arguments: [run, e.epoch]) else { return "step series (missing from the log)" }
            if series["first_step"] != e.firstStep { return "first_step (logged \(series["first_step"] as Int), replayed \(e.firstStep))" }
            let steps: Int = series["steps"]
            if steps != e.stepLosses.count { return "steps (logged \(steps), replayed \(e.stepLosses.count))" }
            let losses = try Zstd.decompressFloats(Array(series["losses"] as Data), count: steps)
            let norms = try Zstd.decompressFloats(Array(series["grad_norms"] as Data), count: steps)
            for i in 0..<steps where losses[i].bitPattern != e.stepLosses[i].bitPattern {
                return "the loss of step \(e.firstStep + i + 1) (logged \(losses[i]), replayed \(e.stepLosses[i]))"
            }
            for i in 0..<steps where norms[i].bitPattern != e.stepGradNorms[i].bitPattern {
                return "the gradient norm of step \(e.firstStep + i + 1) (logged \(norms[i]), replayed \(e.stepGradNorms[i]))"
            }
            let layers = Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT layer, norm FROM layer_norms WHERE run_id = ? AND epoch = ?",
                                                                           arguments: [run, e.epoch]).map { ($0["layer"] as String, $0["norm"] as Double?) })
            if Set(layers.keys) != Set(e.layerNorms.map(\.layer)) { return "the layers with gradient norms" }
            for (layer, norm) in e.layerNorms where layers[layer]??.bitPattern != finite(norm)?.bitPattern {
                return "the gradient norm of layer \(layer) (logged \(describe(layers[layer] ?? nil)), replayed \(describe(finite(norm))))"
            }
            return nil
        }
    }

    /// Epochs of a run's checkpoints, newest first.
    public func checkpointEpochs(run: Int64) throws -> [Int] {
        try read { db in try Int.fetchAll(db, sql: "SELECT epoch FROM checkpoints WHERE run_id = ? ORDER BY epoch DESC", arguments: [run]) }
    }

    /// One checkpoint, decoded and checked against its SHA-256.
    public func checkpoint(run: Int64, epoch: Int) throws -> StoredCheckpoint {
        guard let row = try read({ db in
            try Row.fetchOne(db, sql: """
                SELECT epoch, step, payload_sha256, optimizer_checksum, configuration_fingerprint, blob
                FROM checkpoints WHERE run_id = ? AND epoch = ?
                """, arguments: [run, epoch])
        }) else { throw StoreError.notFound("checkpoint of run \(run) epoch \(epoch)") }
        let blob: Data = row["blob"]
        return StoredCheckpoint(runID: run, epoch: row["epoch"], step: row["step"], optimizerChecksum: row["optimizer_checksum"],
                                configurationFingerprint: row["configuration_fingerprint"],
                                checkpoint: try Checkpoint(blob: Array(blob), expectedSHA256: row["payload_sha256"]))
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

    /// The newest run of a study for a grid cell, if any.
    public func studyRun(study: Int64, task: String, optimizer: String, seed: UInt64) throws -> RunRow? {
        try read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM runs WHERE study_id = ? AND task = ? AND optimizer = ? AND seed = ? ORDER BY id DESC LIMIT 1",
                             arguments: [study, task, optimizer, Int64(bitPattern: seed)]).map { try RunRow($0) }
        }
    }
}
