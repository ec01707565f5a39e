import Foundation
import GRDB

extension ReadOnlyStore {
    /// A run's kept checkpoints (not decoded), oldest first.
    public func checkpoints(run: Int64) throws -> [Checkpoint] {
        try read { db in
            try Checkpoint.filter(Column(Checkpoint.Columns.runID.rawValue) == run).order(Column(Checkpoint.Columns.epoch.rawValue)).fetchAll(db)
        }
    }

    /// A kept checkpoint's place and sizes, without its blob.
    public struct CheckpointSize: Sendable, Equatable {
        public var epoch: Int
        public var step: Int
        public var payloadBytes: Int
        public var storedBytes: Int
        public var createdAt: Double
    }

    /// A run's checkpoints' sizes, oldest first: what listings and pruning need, read without
    /// the blobs (which are most of a store).
    public func checkpointSizes(run: Int64) throws -> [CheckpointSize] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT epoch, step, payload_bytes, length(blob), created_at FROM checkpoints WHERE run_id = ? ORDER BY epoch",
                             arguments: [run])
                .map { CheckpointSize(epoch: $0[0], step: $0[1], payloadBytes: $0[2], storedBytes: $0[3], createdAt: $0[4]) }
        }
    }

    /// Epochs of a run's checkpoints, newest first.
    public func checkpointEpochs(run: Int64) throws -> [Int] {
        try read { db in try Int.fetchAll(db, sql: "SELECT epoch FROM checkpoints WHERE run_id = ? ORDER BY epoch DESC", arguments: [run]) }
    }

    /// One checkpoint, decoded and checked against its SHA-256.
    public func checkpoint(run: Int64, epoch: Int) throws -> StoredCheckpoint {
        guard let record = try read({ db in try Checkpoint.fetchOne(db, key: [Checkpoint.Columns.runID.rawValue: run, Checkpoint.Columns.epoch.rawValue: epoch]) }) else {
            throw StoreError.notFound("checkpoint of run \(run) epoch \(epoch)")
        }
        return StoredCheckpoint(record: record, payload: try record.payload())
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
        var damaged: [(epoch: Int, error: Error)] = []
        for record in try checkpoints(run: run).reversed() {
            do {
                return (StoredCheckpoint(record: record, payload: try record.payload()), damaged)
            } catch {
                damaged.append((record.epoch, error))
            }
        }
        return (nil, damaged)
    }
}
