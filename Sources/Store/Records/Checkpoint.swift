import Foundation
import GRDB

/// One kept checkpoint of a run as the log stores it (table `checkpoints`): the compressed
/// payload and what it must match. `payload()` decodes and checks it.
public struct Checkpoint: Sendable, Equatable {
    public var runID: Int64
    public var epoch: Int
    /// Global step count at the checkpoint.
    public var step: Int
    /// SHA-256 of the uncompressed payload.
    public var payloadSHA256: String
    public var optimizerChecksum: String
    public var configurationFingerprint: String
    public var payloadBytes: Int
    /// See sql/README.md: byte-shuffled, zstd.
    public var blob: Data
    public var createdAt: Double

    public enum Columns: String, CaseIterable, Sendable {
        case runID = "run_id", epoch, step, payloadSHA256 = "payload_sha256", optimizerChecksum = "optimizer_checksum"
        case configurationFingerprint = "configuration_fingerprint", payloadBytes = "payload_bytes", blob, createdAt = "created_at"
    }

    public init(runID: Int64, epoch: Int, step: Int, optimizerChecksum: String, configurationFingerprint: String,
                encoded: CheckpointPayload.Encoded, createdAt: Double) {
        (self.runID, self.epoch, self.step, self.optimizerChecksum, self.configurationFingerprint) =
            (runID, epoch, step, optimizerChecksum, configurationFingerprint)
        (payloadSHA256, payloadBytes, blob, self.createdAt) = (encoded.payloadSHA256, encoded.payloadBytes, Data(encoded.blob), createdAt)
    }

    /// The payload, decoded and checked against its SHA-256 (throws `corrupt` if it is damaged).
    public func payload() throws -> CheckpointPayload {
        try CheckpointPayload(blob: Array(blob), expectedSHA256: payloadSHA256)
    }
}

extension Checkpoint: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "checkpoints"

    public init(row: Row) throws {
        let what = "checkpoint of run \(row[Columns.runID.rawValue] as DatabaseValue? ?? .null) epoch \(row[Columns.epoch.rawValue] as DatabaseValue? ?? .null)"
        func value<T: DatabaseValueConvertible>(_ c: Columns) throws -> T { try row.decode(c.rawValue, in: what) }
        runID = try value(.runID)
        epoch = try value(.epoch)
        step = try value(.step)
        payloadSHA256 = try value(.payloadSHA256)
        optimizerChecksum = try value(.optimizerChecksum)
        configurationFingerprint = try value(.configurationFingerprint)
        payloadBytes = try value(.payloadBytes)
        blob = try value(.blob)
        createdAt = try value(.createdAt)
    }

    public func encode(to container: inout PersistenceContainer) {
        container[Columns.runID.rawValue] = runID
        container[Columns.epoch.rawValue] = epoch
        container[Columns.step.rawValue] = step
        container[Columns.payloadSHA256.rawValue] = payloadSHA256
        container[Columns.optimizerChecksum.rawValue] = optimizerChecksum
        container[Columns.configurationFingerprint.rawValue] = configurationFingerprint
        container[Columns.payloadBytes.rawValue] = payloadBytes
        container[Columns.blob.rawValue] = blob
        container[Columns.createdAt.rawValue] = createdAt
    }

    static var columnsAfterRun: String { Columns.allCases.dropFirst().map(\.rawValue).joined(separator: ", ") }
}

/// A checkpoint with its payload decoded and checked.
public struct StoredCheckpoint: Sendable {
    public var record: Checkpoint
    public var payload: CheckpointPayload
    public var runID: Int64 { record.runID }
    public var epoch: Int { record.epoch }
    public var step: Int { record.step }
    public var optimizerChecksum: String { record.optimizerChecksum }
    public var configurationFingerprint: String { record.configurationFingerprint }
}
