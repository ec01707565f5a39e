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
    /// Tags, notes and archive marks the shard had for runs already here, added to them.
    public var annotationsAdded = 0
}

/// A shard's run compared with the merged store's copy.
public struct MergeCheck: Sendable, Equatable {
    public var uid: String
    public var ok: Bool
    public var detail: String
}

extension Store {
    /// The tables a run owns, besides its row, and their columns after `run_id`.
    static var runTables: [(table: String, columns: String)] {
        [("epochs", Epoch.columnsAfterRun), ("step_series", "epoch, first_step, steps, losses, grad_norms"),
         ("layer_norms", "epoch, layer, norm"), ("checkpoints", Checkpoint.columnsAfterRun)] + annotationTables
    }

    /// What users add to a run (tags, notes, archive mark): copied with a new run, and added to
    /// a run already here (a tag this store already has keeps its value here).
    static let annotationTables: [(table: String, columns: String)] = [
        ("run_tags", "key, value, set_at"), ("run_notes", "created_at, text"), ("run_archive", "archived_at, reason"),
    ]

    /// Copies every run of `shard` (another optilog store) with everything it owns into this
    /// store, in one transaction: all of the shard or none of it. Runs are matched by uid (ids
    /// are local to a store and are renumbered); a run already here with the same epochs is
    /// skipped, so merging twice changes nothing; a run here that differs is a conflict and
    /// nothing of the shard is written. Studies are matched by uid too.
    public func merge(shard: String) throws -> MergeReport {
        let source = try ReadOnlyStore(path: shard)        // exists, is SQLite, same or older schema
        let applied = try source.rows("SELECT identifier FROM grdb_migrations").rows.compactMap { String.fromDatabaseValue($0[0]) }
        // A shard of schema 3 (before tags, notes and the archive) merges as it is, with none of
        // those; an older or a newer one is refused.
        let known = Self.migrationIdentifiers
        guard applied == known || applied == Array(known.prefix(3)) else {
            throw StoreError.refused("\(shard): schema \(applied.joined(separator: ", ")) differs from this optilog's; upgrade it with a writing command "
                                     + "(optilog vacuum --db \(shard)) and merge again")
        }
        guard URL(fileURLWithPath: shard).standardizedFileURL.path != URL(fileURLWithPath: path).standardizedFileURL.path else {
            throw StoreError.refused("\(shard) is the store being merged into")
        }
        // A custom task's name stands for one model, loss, metric and starting weights in a log.
        let here = Dictionary(try reader.customTasks().map { ($0.task, $0.identity) }) { a, _ in a }
        for theirs in try source.customTasks() where here[theirs.task].map({ $0 != theirs.identity }) ?? false {
            throw StoreError.refused("\(shard): task '\(theirs.task)' there is another model, loss, metric or set of starting weights than here; "
                                     + "nothing merged (train one of them under another --task-name)")
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
        let shardTables = Set(try String.fetchAll(db, sql: "SELECT name FROM shard.sqlite_master WHERE type = 'table'"))
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
                for (table, columns) in Self.annotationTables where shardTables.contains(table) {
                    try db.execute(sql: "INSERT OR IGNORE INTO main.\(table) (run_id, \(columns)) SELECT ?, \(columns) FROM shard.\(table) WHERE run_id = ?",
                                   arguments: [here["id"] as Int64, shardID])
                    report.annotationsAdded += db.changesCount
                }
                continue
            }
            let studyID = (r["study_id"] as Int64?).flatMap { studyIDs[$0] }
            try db.execute(sql: "INSERT INTO main.runs (study_id, \(Run.portableColumns)) SELECT ?, \(Run.portableColumns) FROM shard.runs WHERE id = ?",
                           arguments: [studyID, shardID])
            let newID = db.lastInsertedRowID
            for (table, columns) in Self.runTables where shardTables.contains(table) {
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
            for (table, _) in Self.runTables {  // a schema-3 shard reads its stand-ins: no annotations
                let count = "SELECT COUNT(*) FROM \(table) WHERE run_id = ?"
                let a = try source.rows(count, arguments: [shardID]).rows[0][0], b = try target.rows(count, arguments: [hereID]).rows[0][0]
                // This store may have annotated the run more than the shard did.
                let annotation = Self.annotationTables.contains { $0.table == table }
                let short = (Int64.fromDatabaseValue(b) ?? 0) < (Int64.fromDatabaseValue(a) ?? 0)
                if annotation ? short : a != b { problems.append("\(table): \(a) rows in the shard, \(b) here") }
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
    /// atomic rename — a reader of `destination` sees the old file or the whole new one. Refused
    /// when the destination is not an optilog store, when a process has it open (a live SQLite
    /// connection holds a lock in its `-shm`), or when its `-wal` holds committed transactions
    /// that are not in the source. The swap happens while holding that `-shm` lock, and leaves no
    /// `-wal` or `-shm` of the old file beside the new one (SQLite would replay them onto it).
    /// Temporary files of publishes that were killed are removed first.
    public static func publish(_ source: String, to destination: String) throws {
        let sameFile = Published.sameFile(source, destination)
        if FileManager.default.fileExists(atPath: destination) && !sameFile {
            switch try StoreFile.inspect(destination, check: true) {
            case .store, .empty: break
            case .newer: throw StoreError.refused("\(destination) was written by a newer optilog; refusing to replace it")
            case .foreign(let what): throw StoreError.refused("\(destination) is not an optilog store (\(what)); refusing to replace it")
            case .damaged(let what): throw StoreError.refused("\(destination) is a damaged store (\(what)); move it aside first")
            }
        }
        Published.removeStalePartials(of: destination)
        let temporary = destination + ".partial-\(Store.hostName)-\(getpid())"
        unlink(temporary)
        do {
            do {
                let reader = try ReadOnlyStore(path: source)
                try reader.vacuum(into: StoreFile.absolutePath(temporary))
            }  // the source's connections close here, before any lock is taken on the destination
            try Published.fsync(path: temporary)
            try Published.swap(temporary, into: destination, sameFile: sameFile)
        } catch {
            unlink(temporary)
            throw error
        }
    }
}

/// The file-level steps of `publish`.
enum Published {
    /// Byte of a `-shm` file on which every SQLite connection holds a shared lock while it has
    /// the database open (SQLite's unix VFS: the "DMS" lock, after the WAL index's 8 locks).
    static let connectionLockByte: off_t = 128

    static func sameFile(_ a: String, _ b: String) -> Bool {
        guard let x = StoreFile.identity(a), let y = StoreFile.identity(b) else { return StoreFile.absolutePath(a) == StoreFile.absolutePath(b) }
        return x == y
    }

    /// Replaces `destination` by `temporary`, holding the destination's connection lock so that
    /// no SQLite connection opens it meanwhile.
    static func swap(_ temporary: String, into destination: String, sameFile: Bool) throws {
        let shm = destination + "-shm", wal = destination + "-wal"
        let fd = open(shm, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw StoreError.refused("cannot lock \(shm): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var lock = flock()
        lock.l_type = Int16(F_WRLCK)
        lock.l_whence = Int16(SEEK_SET)
        lock.l_start = connectionLockByte
        lock.l_len = 1
        guard fcntl(fd, F_SETLK, &lock) == 0 else {
            throw StoreError.refused("\(destination) is open in another process (a live SQLite connection); refusing to replace it under it")
        }
        if !sameFile && walHasCommits(wal) {
            throw StoreError.refused("\(wal) holds committed transactions that are not in the source; refusing to replace \(destination) "
                                     + "(open it with a writing optilog command, e.g. optilog merge, to fold them in, or move it aside)")
        }
        unlink(wal)
        guard rename(temporary, destination) == 0 else {
            throw StoreError.refused("cannot rename \(temporary) to \(destination): \(String(cString: strerror(errno)))")
        }
        unlink(shm)
        try? fsync(path: (destination as NSString).deletingLastPathComponent.isEmpty ? "." : (destination as NSString).deletingLastPathComponent)
    }

    static func fsync(path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw StoreError.refused("cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard Foundation.fsync(fd) == 0 else { throw StoreError.refused("cannot flush \(path): \(String(cString: strerror(errno)))") }
    }

    /// `DEST.partial-HOST-PID` (and the older `DEST.partial-PID`) files whose process is gone.
    static func removeStalePartials(of destination: String) {
        let folder = (destination as NSString).deletingLastPathComponent, name = (destination as NSString).lastPathComponent
        let dir = folder.isEmpty ? "." : folder
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: dir) else { return }
        for entry in entries where entry.hasPrefix(name + ".partial-") {
            var rest = String(entry.dropFirst(name.count + ".partial-".count))
            if rest.hasPrefix(Store.hostName + "-") { rest = String(rest.dropFirst(Store.hostName.count + 1)) } else if Int(rest) == nil { continue }
            guard let pid = Int32(rest), pid != getpid(), kill(pid, 0) != 0, errno == ESRCH else { continue }
            unlink((dir as NSString).appendingPathComponent(entry))
        }
    }

    /// Whether a WAL file holds at least one valid commit frame: its header's checksum holds,
    /// and a frame with the header's salts, a running checksum that holds, and a commit size.
    /// Read a frame at a time.
    static func walHasCommits(_ path: String) -> Bool {
        guard let file = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? file.close() }
        func read(_ count: Int) -> [UInt8]? {
            guard let data = try? file.read(upToCount: count), data.count == count else { return nil }
            return [UInt8](data)
        }
        guard let header = read(32) else { return false }
        func be(_ b: [UInt8], _ o: Int) -> UInt32 { UInt32(b[o]) << 24 | UInt32(b[o + 1]) << 16 | UInt32(b[o + 2]) << 8 | UInt32(b[o + 3]) }
        let magic = be(header, 0)
        guard magic & 0xFFFF_FFFE == 0x377F_0682 else { return false }
        let bigEndian = magic & 1 == 1
        func checksum(_ b: [UInt8], _ range: Range<Int>, _ s: (UInt32, UInt32)) -> (UInt32, UInt32) {
            func word(_ o: Int) -> UInt32 {
                bigEndian ? be(b, o) : UInt32(b[o]) | UInt32(b[o + 1]) << 8 | UInt32(b[o + 2]) << 16 | UInt32(b[o + 3]) << 24
            }
            var (s0, s1) = s
            for o in stride(from: range.lowerBound, to: range.upperBound, by: 8) {
                s0 = s0 &+ word(o) &+ s1
                s1 = s1 &+ word(o + 4) &+ s0
            }
            return (s0, s1)
        }
        var pageSize = Int(be(header, 8))
        if pageSize == 1 { pageSize = 65_536 }
        guard pageSize >= 512, pageSize <= 65_536, pageSize & (pageSize - 1) == 0 else { return false }
        var sum = checksum(header, 0..<24, (0, 0))
        guard sum.0 == be(header, 24), sum.1 == be(header, 28) else { return false }
        while let frame = read(24 + pageSize) {
            guard be(frame, 8) == be(header, 16), be(frame, 12) == be(header, 20) else { return false }
            sum = checksum(frame, 0..<8, sum)
            sum = checksum(frame, 24..<(24 + pageSize), sum)
            guard sum.0 == be(frame, 16), sum.1 == be(frame, 20) else { return false }
            if be(frame, 4) != 0 { return true }
        }
        return false
    }
}
