import Foundation
import GRDB

/// What `delete` removed, and what `vacuum` would then give back to the file system.
public struct DeleteReport: Sendable, Equatable {
    public var runs = 0
    public var epochs = 0
    public var checkpoints = 0
    /// Free pages in the file after the delete, in bytes: what `optilog vacuum` would return.
    public var reclaimableBytes: Int64 = 0
}

/// What a checkpoint prune removed (or, planned, would remove).
public struct PruneReport: Sendable, Equatable {
    public var runs = 0
    public var checkpoints = 0
    public var bytes: Int64 = 0
}

extension Store {
    /// Hides runs from every table and listing (`unarchive` shows them again); runs already
    /// archived keep their first mark. Refused, with nothing changed, for a run a live process
    /// is training. Returns how many were newly archived.
    @discardableResult
    public func archive(runs: [Int64], reason: String? = nil) throws -> Int {
        if let reason, reason.unicodeScalars.contains(where: Tags.isControl) {
            throw StoreError.refused("--reason holds a control character (a line break, tab or escape); give one line of text")
        }
        return try write { db in
            try Self.refuseLive(db, runs, verb: "archive")
            var added = 0
            for run in runs {
                try db.execute(sql: "INSERT OR IGNORE INTO run_archive (run_id, archived_at, reason) VALUES (?, ?, ?)", arguments: [run, Self.now, reason])
                added += db.changesCount
            }
            return added
        }
    }

    /// Shows archived runs again. Returns how many were archived.
    @discardableResult
    public func unarchive(runs: [Int64]) throws -> Int {
        try write { db in
            var removed = 0
            for run in runs {
                try Self.requireRun(db, run)
                try db.execute(sql: "DELETE FROM run_archive WHERE run_id = ?", arguments: [run])
                removed += db.changesCount
            }
            return removed
        }
    }

    /// Removes runs with their epochs, step series, layer norms, checkpoints, tags, notes and
    /// archive marks, in one transaction: killed part-way, the store keeps all of them. Refused,
    /// with nothing removed, when a live process is training one of them.
    public func delete(runs: [Int64]) throws -> DeleteReport {
        var report = try write { db -> DeleteReport in
            try Self.refuseLive(db, runs, verb: "delete")
            var report = DeleteReport()
            let list = runs.map(String.init).joined(separator: ",")
            report.epochs = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM epochs WHERE run_id IN (\(list))") ?? 0
            report.checkpoints = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM checkpoints WHERE run_id IN (\(list))") ?? 0
            try db.execute(sql: "DELETE FROM runs WHERE id IN (\(list))")
            report.runs = db.changesCount
            FaultInjection.hit("delete-runs", epoch: report.runs)
            if let violation = try Row.fetchOne(db, sql: "PRAGMA foreign_key_check") {
                throw StoreError.corrupt("deleting would leave rows of \(violation[0] as String? ?? "?") without their run; nothing was deleted")
            }
            return report
        }
        report.reclaimableBytes = try freeBytes()
        return report
    }

    /// Bytes of free pages in the file (what VACUUM would give back).
    public func freeBytes() throws -> Int64 {
        try read { db in
            (try Int64.fetchOne(db, sql: "PRAGMA freelist_count") ?? 0) * (try Int64.fetchOne(db, sql: "PRAGMA page_size") ?? 4096)
        }
    }

    /// Rewrites the file without its free pages (SQLite's VACUUM, then a WAL checkpoint that
    /// truncates the WAL). Refused while a live process trains a run in it: its epoch commits
    /// would wait behind the rewrite. Returns the file's size (with its WAL) before and after.
    public func vacuum() throws -> (before: Int64, after: Int64) {
        let before = Self.fileBytes(path)
        try read { db in
            let live = try Run.fetchAll(db, sql: "SELECT * FROM runs WHERE status = 'running'").filter { $0.liveOwner(staleAfter: Run.defaultStaleAfter) != nil }
            if let first = live.first {
                throw StoreError.refused("run \(first.id) is being trained (\(first.liveOwner(staleAfter: Run.defaultStaleAfter)!)); vacuum when no run is training")
            }
        }
        do {
            try pool.writeWithoutTransaction { db in
                try db.execute(sql: "VACUUM")
                try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)")
            }
        } catch let error as DatabaseError {
            throw StoreError.refused("store \(path): vacuum: \(Self.reason(error))")
        }
        return (before, Self.fileBytes(path))
    }

    static func fileBytes(_ path: String) -> Int64 {
        func size(_ p: String) -> Int64 { ((try? FileManager.default.attributesOfItem(atPath: p)[.size]) as? NSNumber)?.int64Value ?? 0 }
        return size(path) + size(path + "-wal")
    }

    /// Keeps the newest `keepLast` checkpoints (at least 1) of each finished run — completed
    /// or diverged: nothing resumes them — and always its newest checkpoint that decodes and
    /// matches its checksum, which `verify` checks and a longer rerun would start from.
    /// Interrupted, failed and running runs keep all theirs. `runs` nil: every run. One
    /// transaction; a run resumed since the plan was made is left alone.
    public func pruneCheckpoints(runs: [Int64]?, keepLast: Int) throws -> PruneReport {
        let plan = try reader.checkpointPrune(runs: runs, keepLast: keepLast)
        return try write { db in
            var report = PruneReport()
            for (run, epochs) in plan.drop {
                let status = try String.fetchOne(db, sql: "SELECT status FROM runs WHERE id = ?", arguments: [run])
                guard status == "completed" || status == "diverged" else { continue }
                let list = epochs.map(String.init).joined(separator: ",")
                report.bytes += try Int64.fetchOne(db, sql: "SELECT IFNULL(SUM(length(blob)), 0) FROM checkpoints WHERE run_id = ? AND epoch IN (\(list))", arguments: [run]) ?? 0
                try db.execute(sql: "DELETE FROM checkpoints WHERE run_id = ? AND epoch IN (\(list))", arguments: [run])
                report.runs += 1
                report.checkpoints += db.changesCount
            }
            return report
        }
    }

    /// Refuses (throws) when a run is missing or a live process is training it.
    static func refuseLive(_ db: Database, _ runs: [Int64], verb: String) throws {
        for id in runs {
            guard let run = try Run.fetchOne(db, key: id) else { throw StoreError.refused("no run \(id)") }
            if let owner = run.liveOwner(staleAfter: Run.defaultStaleAfter) {
                throw StoreError.refused("run \(id) is being trained (\(owner)); nothing was \(verb == "delete" ? "deleted" : "archived")")
            }
        }
    }
}

extension ReadOnlyStore {
    /// What `pruneCheckpoints` would delete: per finished run, the epochs of its checkpoints
    /// beyond the newest `keepLast` (and beyond its newest sound one), with their stored bytes.
    public func checkpointPrune(runs: [Int64]?, keepLast: Int) throws -> (drop: [(run: Int64, epochs: [Int])], report: PruneReport) {
        precondition(keepLast >= 1, "a finished run keeps at least its newest checkpoint")
        let candidates = try read { db in
            try Int64.fetchAll(db, sql: "SELECT id FROM runs WHERE status IN ('completed', 'diverged') ORDER BY id")
        }.filter { runs == nil || runs!.contains($0) }
        var drop: [(run: Int64, epochs: [Int])] = []
        var report = PruneReport()
        for run in candidates {
            let kept = try checkpointSizes(run: run).reversed()  // newest first
            guard kept.count > keepLast else { continue }
            var keep = Set(kept.prefix(keepLast).map(\.epoch))
            if let sound = try newestGoodCheckpoint(run: run).checkpoint?.record.epoch { keep.insert(sound) }
            let gone = kept.filter { !keep.contains($0.epoch) }
            guard !gone.isEmpty else { continue }
            drop.append((run, gone.map(\.epoch)))
            report.runs += 1
            report.checkpoints += gone.count
            report.bytes += gone.reduce(0) { $0 + Int64($1.storedBytes) }
        }
        return (drop, report)
    }
}
