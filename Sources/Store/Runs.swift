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

    public init(studyID: Int64? = nil, task: String, dataset: String, datasetFingerprint: String, modelConfiguration: String,
                optimizer: String, optimizerConfiguration: String, configurationFingerprint: String, seed: UInt64,
                batchSize: Int, epochsPlanned: Int, threads: Int = 1, codeVersion: String) {
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
    }
}

public enum RunStatus: String, Sendable, CaseIterable {
    case running, completed, interrupted, diverged, failed
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

    /// Records a new run as `running`; returns its id.
    public func createRun(_ run: NewRun) throws -> Int64 {
        try write { db in
            try db.execute(sql: """
                INSERT INTO runs (uid, study_id, task, dataset, dataset_fingerprint, model_configuration, optimizer,
                                  optimizer_configuration, configuration_fingerprint, seed, batch_size, epochs_planned,
                                  status, heartbeat_at, host, pid, threads, code_version, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'running', ?, ?, ?, ?, ?, ?)
                """, arguments: [UUID().uuidString.lowercased(), run.studyID, run.task, run.dataset, run.datasetFingerprint,
                                 run.modelConfiguration, run.optimizer, run.optimizerConfiguration, run.configurationFingerprint,
                                 Int64(bitPattern: run.seed), run.batchSize, run.epochsPlanned, Self.now,
                                 ProcessInfo.processInfo.hostName, Int(ProcessInfo.processInfo.processIdentifier), run.threads,
                                 run.codeVersion, Self.now])
            return db.lastInsertedRowID
        }
    }

    /// Commits one epoch — its row, step series, layer norms, checkpoint, the run's best-so-far,
    /// progress and heartbeat — in a single transaction, then keeps only the newest `retain`
    /// checkpoints of the run (at least 1).
    public func commitEpoch(_ e: EpochCommit, run: Int64, retain: Int = 2) throws {
        let losses = Zstd.compress(floats: e.stepLosses), norms = Zstd.compress(floats: e.stepGradNorms)
        precondition(e.stepLosses.count == e.stepGradNorms.count, "one loss and one gradient norm per step")
        try write { db in
            guard let expected = try Int.fetchOne(db.cachedStatement(sql: "SELECT epochs_done + 1 FROM runs WHERE id = ?"), arguments: [run]) else {
                throw StoreError.notFound("run \(run)")
            }
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
                try db.cachedStatement(sql: """
                    INSERT INTO checkpoints (run_id, epoch, step, payload_sha256, optimizer_checksum, configuration_fingerprint,
                                             payload_bytes, blob, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """).execute(arguments: [run, e.epoch, c.step, c.encoded.payloadSHA256, e.optimizerChecksum, c.configurationFingerprint,
                                     c.encoded.payloadBytes, Data(c.encoded.blob), now])
                try db.cachedStatement(sql: """
                    DELETE FROM checkpoints WHERE run_id = ? AND epoch NOT IN
                        (SELECT epoch FROM checkpoints WHERE run_id = ? ORDER BY epoch DESC LIMIT ?)
                    """).execute(arguments: [run, run, max(1, retain)])
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
    /// and the run marked interrupted, in one transaction.
    public func saveCheckpointAndInterrupt(run: Int64, epoch: Int, step: Int, optimizerChecksum: String,
                                           configurationFingerprint: String, encoded: Checkpoint.Encoded, detail: String) throws {
        try write { db in
            try db.execute(sql: """
                INSERT OR REPLACE INTO checkpoints (run_id, epoch, step, payload_sha256, optimizer_checksum, configuration_fingerprint,
                                                    payload_bytes, blob, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [run, epoch, step, encoded.payloadSHA256, optimizerChecksum, configurationFingerprint,
                                 encoded.payloadBytes, Data(encoded.blob), Self.now])
            try db.execute(sql: "UPDATE runs SET status = 'interrupted', status_detail = ?, heartbeat_at = ? WHERE id = ?",
                           arguments: [detail, Self.now, run])
        }
    }

    public func heartbeat(run: Int64) throws {
        try write { db in try db.execute(sql: "UPDATE runs SET heartbeat_at = ? WHERE id = ?", arguments: [Self.now, run]) }
    }

    public func setStatus(run: Int64, _ status: RunStatus, detail: String? = nil, divergedStep: Int? = nil) throws {
        try write { db in
            try db.execute(sql: """
                UPDATE runs SET status = ?, status_detail = ?, diverged_step = COALESCE(?, diverged_step), heartbeat_at = ?,
                                finished_at = CASE WHEN ? IN ('completed', 'diverged', 'failed') THEN ? ELSE NULL END
                WHERE id = ?
                """, arguments: [status.rawValue, detail, divergedStep, Self.now, status.rawValue, Self.now, run])
            if db.changesCount == 0 { throw StoreError.notFound("run \(run)") }
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
    public var task: String
    public var optimizer: String
    public var status: RunStatus
    public var epochsPlanned: Int
    public var epochsDone: Int
    public var datasetFingerprint: String
    public var modelConfiguration: String
    public var optimizerConfiguration: String
    public var configurationFingerprint: String
    public var heartbeatAt: Double?
}

extension Store {
    public func runRow(_ run: Int64) throws -> RunRow? {
        try read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM runs WHERE id = ?", arguments: [run]).map { r in
                RunRow(id: r["id"], task: r["task"], optimizer: r["optimizer"], status: RunStatus(rawValue: r["status"]) ?? .failed,
                       epochsPlanned: r["epochs_planned"], epochsDone: r["epochs_done"], datasetFingerprint: r["dataset_fingerprint"],
                       modelConfiguration: r["model_configuration"], optimizerConfiguration: r["optimizer_configuration"],
                       configurationFingerprint: r["configuration_fingerprint"], heartbeatAt: r["heartbeat_at"])
            }
        }
    }

    /// Runs to resume: interrupted ones, and running ones whose heartbeat is older than
    /// `staleAfter` seconds (their process died without saying so).
    public func resumableRuns(staleAfter: Double = 120) throws -> [Int64] {
        try read { db in
            try Int64.fetchAll(db, sql: """
                SELECT id FROM runs WHERE status = 'interrupted' OR (status = 'running' AND (heartbeat_at IS NULL OR heartbeat_at < ?))
                ORDER BY id
                """, arguments: [Self.now - staleAfter])
        }
    }

    /// Before a resume: drops what was logged after the checkpoint being resumed from (epochs
    /// of a crash between checkpoints cannot exist, as both commit together, but a run resumed
    /// from an older checkpoint after a damaged newer one must not keep the newer epochs), sets
    /// the plan and marks the run running again.
    public func rewind(run: Int64, toEpoch epoch: Int, epochsPlanned: Int, keepingPartialCheckpoint: Bool = false) throws {
        try write { db in
            try db.execute(sql: "DELETE FROM epochs WHERE run_id = ? AND epoch > ?", arguments: [run, epoch])
            try db.execute(sql: "DELETE FROM checkpoints WHERE run_id = ? AND epoch > ?", arguments: [run, epoch + (keepingPartialCheckpoint ? 1 : 0)])
            let best = try Row.fetchOne(db, sql: """
                SELECT epoch, val_loss FROM epochs WHERE run_id = ? AND val_loss IS NOT NULL ORDER BY val_loss, epoch LIMIT 1
                """, arguments: [run])
            try db.execute(sql: """
                UPDATE runs SET epochs_done = ?, epochs_planned = ?, status = 'running', status_detail = NULL, diverged_step = NULL,
                                best_val_loss = ?, best_epoch = ?, heartbeat_at = ?, pid = ?, host = ?, finished_at = NULL
                WHERE id = ?
                """, arguments: [epoch, epochsPlanned, best?["val_loss"] as Double?, best?["epoch"] as Int?, Self.now,
                                 Int(ProcessInfo.processInfo.processIdentifier), ProcessInfo.processInfo.hostName, run])
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

    /// The newest run of a study for a grid cell, if any.
    public func studyRun(study: Int64, task: String, optimizer: String, seed: UInt64) throws -> RunRow? {
        let id = try read { db in
            try Int64.fetchOne(db, sql: "SELECT id FROM runs WHERE study_id = ? AND task = ? AND optimizer = ? AND seed = ? ORDER BY id DESC LIMIT 1",
                               arguments: [study, task, optimizer, Int64(bitPattern: seed)])
        }
        return try id.flatMap { try runRow($0) }
    }
}
