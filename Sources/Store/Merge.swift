import Foundation
import GRDB

/// What merging one shard did.
public struct MergeReport: Sendable, Equatable {
    public var shard: String
    public var studiesAdded = 0
    public var runsAdded = 0
    public var runsAlreadyPresent = 0
    public var epochsAdded = 0
    public var checkpointsAdded = 0
}

/// A shard's run compared with the merged store's copy.
public struct MergeCheck: Sendable, Equatable {
    public var uid: String
    public var ok: Bool
    public var detail: String
}

extension Store {
    /// The tables a run owns, besides its row, and their columns after `run_id`.
    static let runTables: [(table: String, columns: String)] = [
        ("epochs", "epoch, loss, metric, val_loss, val_metric, grad_norm_mean, grad_norm_min, grad_norm_max, grad_norm_last, learning_rate, optimizer_checksum, seconds, samples_per_second, committed_at"),
        ("step_series", "epoch, first_step, steps, losses, grad_norms"),
        ("layer_norms", "epoch, layer, norm"),
        ("checkpoints", "epoch, step, payload_sha256, optimizer_checksum, configuration_fingerprint, payload_bytes, blob, created_at"),
    ]
    static let runColumns = """
        uid, task, dataset, dataset_fingerprint, model_configuration, optimizer, optimizer_configuration, configuration_fingerprint, \
        seed, batch_size, epochs_planned, epochs_done, status, status_detail, diverged_step, best_val_loss, best_epoch, heartbeat_at, \
        host, pid, threads, code_version, created_at, finished_at
        """

    /// Copies every run of `shard` (another optilog store) with everything it owns into this
    /// store, in one transaction: all of the shard or none of it. Runs are matched by uid (ids
    /// are local to a store and are renumbered); a run already here with the same epochs is
    /// skipped, so merging twice changes nothing; a run here that differs is a conflict and
    /// nothing of the shard is written. Studies are matched by uid too.
    public func merge(shard: String) throws -> MergeReport {
        let source = try ReadOnlyStore(path: shard)        // exists, is SQLite, same or older schema
        let applied = try source.rows("SELECT identifier FROM grdb_migrations").rows.compactMap { String.fromDatabaseValue($0[0]) }
        guard applied == Self.migrationIdentifiers else {
            throw StoreError.refused("\(shard): schema \(applied.joined(separator: ", ")) differs from this optilog's; open it with optilog once to migrate it")
        }
        guard URL(fileURLWithPath: shard).standardizedFileURL.path != URL(fileURLWithPath: path).standardizedFileURL.path else {
            throw StoreError.refused("\(shard) is the store being merged into")
        }
        var report = MergeReport(shard: shard)
        do {
            try pool.writeWithoutTransaction { db in
                try db.execute(sql: "ATTACH DATABASE ? AS shard", arguments: [shard])
                defer { try? db.execute(sql: "DETACH DATABASE shard") }
                try db.inTransaction(.immediate) {
                    report = try copy(db, report: report)
                    return .commit
                }
            }
        } catch let error as StoreError {
            throw error
        } catch let error as DatabaseError {
            throw StoreError.refused("merging \(shard): \(Self.reason(error))")
        }
        return report
    }

    private func copy(_ db: Database, report start: MergeReport) throws -> MergeReport {
        var report = start
        var studyIDs: [Int64: Int64] = [:]
        for s in try Row.fetchAll(db, sql: "SELECT id, uid, name, configuration, created_at FROM shard.studies") {
            let uid: String = s["uid"]
            if let here = try Row.fetchOne(db, sql: "SELECT id, name, configuration FROM main.studies WHERE uid = ?", arguments: [uid]) {
                guard here["name"] == s["name"] as String, here["configuration"] == s["configuration"] as String else {
                    throw StoreError.refused("study \(uid) is named or configured differently in \(report.shard) and in this store")
                }
                studyIDs[s["id"]] = here["id"]
            } else {
                try db.execute(sql: "INSERT INTO main.studies (uid, name, configuration, created_at) VALUES (?, ?, ?, ?)",
                               arguments: [uid, s["name"] as String, s["configuration"] as String, s["created_at"] as Double])
                studyIDs[s["id"]] = db.lastInsertedRowID
                report.studiesAdded += 1
            }
        }
        for r in try Row.fetchAll(db, sql: "SELECT id, uid, study_id, epochs_done, status, configuration_fingerprint FROM shard.runs ORDER BY id") {
            let shardID: Int64 = r["id"], uid: String = r["uid"]
            if let here = try Row.fetchOne(db, sql: "SELECT id, epochs_done, status, configuration_fingerprint FROM main.runs WHERE uid = ?", arguments: [uid]) {
                let same = try Self.sameEpochs(db, here: here["id"], shard: shardID)
                guard same, here["epochs_done"] == r["epochs_done"] as Int, here["status"] == r["status"] as String,
                      here["configuration_fingerprint"] == r["configuration_fingerprint"] as String else {
                    throw StoreError.refused("run \(uid) differs between \(report.shard) (\(r["epochs_done"] as Int) epochs, \(r["status"] as String)) "
                                             + "and this store (\(here["epochs_done"] as Int) epochs, \(here["status"] as String)); nothing of the shard was merged")
                }
                report.runsAlreadyPresent += 1
                continue
            }
            let studyID = (r["study_id"] as Int64?).flatMap { studyIDs[$0] }
            try db.execute(sql: "INSERT INTO main.runs (study_id, \(Self.runColumns)) SELECT ?, \(Self.runColumns) FROM shard.runs WHERE id = ?",
                           arguments: [studyID, shardID])
            let newID = db.lastInsertedRowID
            for (table, columns) in Self.runTables {
                try db.execute(sql: "INSERT INTO main.\(table) (run_id, \(columns)) SELECT ?, \(columns) FROM shard.\(table) WHERE run_id = ?",
                               arguments: [newID, shardID])
                if table == "epochs" { report.epochsAdded += db.changesCount }
                if table == "checkpoints" { report.checkpointsAdded += db.changesCount }
            }
            report.runsAdded += 1
        }
        return report
    }

    /// The same epochs (numbers and optimizer checksums) in both copies of a run.
    static func sameEpochs(_ db: Database, here: Int64, shard: Int64) throws -> Bool {
        let a = try Row.fetchAll(db, sql: "SELECT epoch, optimizer_checksum FROM main.epochs WHERE run_id = ? ORDER BY epoch", arguments: [here])
        let b = try Row.fetchAll(db, sql: "SELECT epoch, optimizer_checksum FROM shard.epochs WHERE run_id = ? ORDER BY epoch", arguments: [shard])
        return a.count == b.count && zip(a, b).allSatisfy { $0["epoch"] == $1["epoch"] as Int && $0["optimizer_checksum"] == $1["optimizer_checksum"] as String }
    }

    /// After a merge: for every run of the shard, the same number of rows in each table it owns
    /// and the same checkpoint checksums here.
    public func verifyMerged(shard: String) throws -> [MergeCheck] {
        let source = try ReadOnlyStore(path: shard)
        let target = try ReadOnlyStore(path: path)
        var checks: [MergeCheck] = []
        for r in try source.rows("SELECT id, uid FROM runs ORDER BY id").rows {
            let shardID = Int64.fromDatabaseValue(r[0]) ?? 0, uid = String.fromDatabaseValue(r[1]) ?? ""
            guard let hereID = try target.rows("SELECT id FROM runs WHERE uid = ?", arguments: [uid]).rows.first.flatMap({ Int64.fromDatabaseValue($0[0]) }) else {
                checks.append(MergeCheck(uid: uid, ok: false, detail: "missing from the merged store"))
                continue
            }
            var problems: [String] = []
            for (table, _) in Self.runTables {
                let count = "SELECT COUNT(*) FROM \(table) WHERE run_id = ?"
                let a = try source.rows(count, arguments: [shardID]).rows[0][0], b = try target.rows(count, arguments: [hereID]).rows[0][0]
                if a != b { problems.append("\(table): \(a) rows in the shard, \(b) here") }
            }
            let sums = "SELECT group_concat(epoch || ':' || payload_sha256 || ':' || optimizer_checksum, ',') FROM (SELECT * FROM checkpoints WHERE run_id = ? ORDER BY epoch)"
            if try source.rows(sums, arguments: [shardID]).rows[0][0] != target.rows(sums, arguments: [hereID]).rows[0][0] {
                problems.append("checkpoint checksums differ")
            }
            checks.append(MergeCheck(uid: uid, ok: problems.isEmpty, detail: problems.isEmpty ? "rows and checkpoint checksums equal" : problems.joined(separator: "; ")))
        }
        return checks
    }

    /// Publishes a store safely: `VACUUM INTO` a temporary file beside `destination`, then an
    /// atomic rename — a reader of `destination` sees the old file or the whole new one.
    public static func publish(_ source: String, to destination: String) throws {
        let reader = try ReadOnlyStore(path: source)
        let temporary = destination + ".partial-\(ProcessInfo.processInfo.processIdentifier)"
        try? FileManager.default.removeItem(atPath: temporary)
        do {
            try reader.vacuum(into: temporary)
            guard rename(temporary, destination) == 0 else {
                throw StoreError.refused("cannot rename \(temporary) to \(destination): \(String(cString: strerror(errno)))")
            }
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        }
    }
}
