import Foundation
import GRDB

public enum RunStatus: String, Sendable, CaseIterable {
    case running, completed, interrupted, diverged, failed
    /// A resume replayed an epoch differently from the log (see `status_detail`).
    case nondeterministic
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

/// One training run as the log keeps it: the only Swift declaration of table `runs`.
public struct Run: Sendable, Equatable {
    public var id: Int64
    /// The run's identity across stores; `id` is local and renumbered by `optilog merge`.
    public var uid: String
    public var studyID: Int64?
    public var task: String
    public var dataset: String
    public var datasetFingerprint: String
    /// JSON: the run's settings besides the optimizer's.
    public var modelConfiguration: String
    public var optimizer: String
    /// JSON: Keras's `get_config()`.
    public var optimizerConfiguration: String
    public var configurationFingerprint: String
    public var seed: UInt64
    public var batchSize: Int
    public var epochsPlanned: Int
    public var epochsDone: Int
    public var status: RunStatus
    public var statusDetail: String?
    public var divergedStep: Int?
    public var bestValLoss: Double?
    public var bestEpoch: Int?
    public var heartbeatAt: Double?
    public var host: String
    public var pid: Int?
    public var threads: Int
    public var codeVersion: String
    public var createdAt: Double
    public var finishedAt: Double?
    /// Token of the process that owns the run while it is `running`.
    public var owner: String?
    public var checkpointPolicy: CheckpointPolicy
    /// The `--data-dir` the run was started with, looked in again on resume.
    public var dataDir: String?
    /// Epochs resumes recomputed and found bit-identical to the log.
    public var epochsReplayed: Int
    /// The trivial baseline on the run's validation data (the training mean or class prior), in
    /// its loss and metric; nil for runs logged before schema 3.
    public var baselineValLoss: Double? = nil
    public var baselineValMetric: Double? = nil

    /// Seconds without a heartbeat after which a run another host was training counts as
    /// abandoned (`resume --stale-after`, and `study` deciding whether a cell is taken).
    public static let defaultStaleAfter: Double = 120

    public enum Columns: String, CaseIterable, Sendable {
        case id, uid, studyID = "study_id", task, dataset, datasetFingerprint = "dataset_fingerprint"
        case modelConfiguration = "model_configuration", optimizer, optimizerConfiguration = "optimizer_configuration"
        case configurationFingerprint = "configuration_fingerprint", seed, batchSize = "batch_size"
        case epochsPlanned = "epochs_planned", epochsDone = "epochs_done", status, statusDetail = "status_detail"
        case divergedStep = "diverged_step", bestValLoss = "best_val_loss", bestEpoch = "best_epoch", heartbeatAt = "heartbeat_at"
        case host, pid, threads, codeVersion = "code_version", createdAt = "created_at", finishedAt = "finished_at"
        case owner, checkpointEvery = "checkpoint_every", checkpointEpochs = "checkpoint_epochs", dataDir = "data_dir"
        case epochsReplayed = "epochs_replayed"
        case baselineValLoss = "baseline_val_loss", baselineValMetric = "baseline_val_metric"
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

extension Run: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "runs"

    /// Read with errors, not traps (see `Row.decode`). Schema 2's columns read as their
    /// defaults in a schema-1 store opened read-only (on read-only media it cannot be upgraded).
    public init(row: Row) throws {
        let what = "run \(row[Columns.id.rawValue] as DatabaseValue? ?? .null)"
        func value<T: DatabaseValueConvertible>(_ c: Columns, missing: T? = nil) throws -> T { try row.decode(c.rawValue, in: what, missing: missing) }
        id = try value(.id)
        uid = try value(.uid)
        studyID = try value(.studyID)
        task = try value(.task)
        dataset = try value(.dataset)
        datasetFingerprint = try value(.datasetFingerprint)
        modelConfiguration = try value(.modelConfiguration)
        optimizer = try value(.optimizer)
        optimizerConfiguration = try value(.optimizerConfiguration)
        configurationFingerprint = try value(.configurationFingerprint)
        seed = UInt64(bitPattern: try value(.seed) as Int64)
        batchSize = try value(.batchSize)
        epochsPlanned = try value(.epochsPlanned)
        epochsDone = try value(.epochsDone)
        status = RunStatus(rawValue: try value(.status)) ?? .failed
        statusDetail = try value(.statusDetail)
        divergedStep = try value(.divergedStep)
        bestValLoss = try value(.bestValLoss)
        bestEpoch = try value(.bestEpoch)
        heartbeatAt = try value(.heartbeatAt)
        host = try value(.host)
        pid = try value(.pid)
        threads = try value(.threads)
        codeVersion = try value(.codeVersion)
        createdAt = try value(.createdAt)
        finishedAt = try value(.finishedAt)
        owner = try value(.owner, missing: String?.none as String??) ?? nil
        checkpointPolicy = CheckpointPolicy(seconds: try value(.checkpointEvery, missing: 10.0), epochs: try value(.checkpointEpochs, missing: 100))
        dataDir = try value(.dataDir, missing: String?.none as String??) ?? nil
        epochsReplayed = try value(.epochsReplayed, missing: 0)
        baselineValLoss = try value(.baselineValLoss, missing: Double?.none as Double??) ?? nil
        baselineValMetric = try value(.baselineValMetric, missing: Double?.none as Double??) ?? nil
    }

    public func encode(to container: inout PersistenceContainer) {
        for c in Columns.allCases { container[c.rawValue] = self[c].databaseValue }
        if id == 0 { container[Columns.id.rawValue] = nil }  // a new run: SQLite numbers it
    }

    /// Any column's value.
    public subscript(column: Columns) -> StoredValue {
        switch column {
        case .id: return .integer(id)
        case .uid: return .text(uid)
        case .studyID: return StoredValue(studyID)
        case .task: return .text(task)
        case .dataset: return .text(dataset)
        case .datasetFingerprint: return .text(datasetFingerprint)
        case .modelConfiguration: return .text(modelConfiguration)
        case .optimizer: return .text(optimizer)
        case .optimizerConfiguration: return .text(optimizerConfiguration)
        case .configurationFingerprint: return .text(configurationFingerprint)
        case .seed: return .integer(Int64(bitPattern: seed))
        case .batchSize: return .integer(Int64(batchSize))
        case .epochsPlanned: return .integer(Int64(epochsPlanned))
        case .epochsDone: return .integer(Int64(epochsDone))
        case .status: return .text(status.rawValue)
        case .statusDetail: return StoredValue(statusDetail)
        case .divergedStep: return StoredValue(divergedStep)
        case .bestValLoss: return StoredValue(bestValLoss)
        case .bestEpoch: return StoredValue(bestEpoch)
        case .heartbeatAt: return StoredValue(heartbeatAt)
        case .host: return .text(host)
        case .pid: return StoredValue(pid)
        case .threads: return .integer(Int64(threads))
        case .codeVersion: return .text(codeVersion)
        case .createdAt: return .real(createdAt)
        case .finishedAt: return StoredValue(finishedAt)
        case .owner: return StoredValue(owner)
        case .checkpointEvery: return .real(checkpointPolicy.seconds)
        case .checkpointEpochs: return .integer(Int64(checkpointPolicy.epochs))
        case .dataDir: return StoredValue(dataDir)
        case .epochsReplayed: return .integer(Int64(epochsReplayed))
        case .baselineValLoss: return StoredValue(Epoch.stored(baselineValLoss))
        case .baselineValMetric: return StoredValue(Epoch.stored(baselineValMetric))
        }
    }

    /// Every column but `id` and `study_id` (local to a store) and `owner` (a process of the
    /// store it came from), for statements that copy a run.
    static var portableColumns: String {
        Columns.allCases.filter { ![.id, .studyID, .owner].contains($0) }.map(\.rawValue).joined(separator: ", ")
    }
}

extension StoredValue {
    var databaseValue: DatabaseValue {
        switch self {
        case .null: return .null
        case .integer(let n): return n.databaseValue
        case .real(let d): return d.databaseValue
        case .text(let s): return s.databaseValue
        case .blob: return .null
        }
    }
}
