import Foundation
import GRDB

/// What a file given as `--db` is, decided by reading it only: optilog writes into nothing
/// but an empty file, a new one, or a sound optilog store of a schema it knows.
public enum StoreFile {
    /// `PRAGMA application_id` of every optilog store: "optl".
    public static let applicationID: Int32 = 0x6F70_746C
    /// Tables every optilog store has had since schema 1.
    static let coreTables: Set<String> = ["studies", "runs", "epochs", "step_series", "layer_norms", "checkpoints", "grdb_migrations"]

    public enum Kind: Equatable, Sendable {
        /// No file, an empty file, or an SQLite file without a single table: it may become a store.
        case empty
        /// An optilog store with these migrations applied (all known to this optilog).
        case store(migrations: [String])
        /// An optilog store with migrations this optilog does not know.
        case newer(found: [String])
        /// Anything else: another program's file, SQLite or not.
        case foreign(String)
        /// An SQLite file that fails its structural check, or cannot be read as one.
        case damaged(String)
    }

    /// Decides what `path` is without writing to it or beside it (but for SQLite's `-shm`
    /// index when a `-wal` with content must be read). `check` runs `PRAGMA quick_check`.
    public static func inspect(_ path: String, check: Bool) throws -> Kind {
        let kind = try inspect(path, check: check, lockless: true)
        // Read without locks (no -wal: nobody had it open), the file could have been changed under
        // the check by a writer that opened it meanwhile; if one did (a -wal now exists), look
        // again under SQLite's locks before calling it damaged.
        if case .damaged = kind, FileManager.default.fileExists(atPath: path + "-wal") {
            return try inspect(path, check: check, lockless: false)
        }
        return kind
    }

    static func inspect(_ path: String, check: Bool, lockless: Bool) throws -> Kind {
        var info = stat()
        guard stat(path, &info) == 0 else {
            if errno == ENOENT { return .empty }
            throw StoreError.cannotOpen(path: path, reason: String(cString: strerror(errno)))
        }
        // A device, a FIFO, a folder: never a store (and opening a FIFO to read would block).
        switch info.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFDIR: throw StoreError.cannotOpen(path: path, reason: "it is a folder")
        default: return .foreign("not a regular file")
        }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw StoreError.cannotOpen(path: path, reason: "the file cannot be read (no permission?)")
        }
        let header = (try? handle.read(upToCount: 100)) ?? Data()
        try? handle.close()
        if header.isEmpty && walBytes(path) == 0 { return .empty }
        if !header.isEmpty {
            guard header.count >= 100, header.prefix(16) == Data("SQLite format 3\0".utf8) else {
                return .foreign("not an SQLite database")
            }
        }
        let connection: (queue: DatabaseQueue, note: String?)
        do {
            connection = try openReadOnly(path, lockless: lockless)
        } catch let error as StoreError {
            throw error
        } catch {
            return try classifyOpenFailure(error, path: path)
        }
        defer { try? connection.queue.close() }
        do {
            return try connection.queue.read { db in
                let tables = Set(try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'"))
                let objects = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM sqlite_master") ?? 0
                let applicationID = try Int32.fetchOne(db, sql: "PRAGMA application_id") ?? 0
                let userVersion = try Int.fetchOne(db, sql: "PRAGMA user_version") ?? 0
                if objects == 0 && userVersion == 0 && (applicationID == 0 || applicationID == Self.applicationID) {
                    return .empty  // not a single table, view, index or trigger, nor a version: nothing to lose
                }
                guard applicationID == Self.applicationID || applicationID == 0 else {
                    return .foreign("an SQLite database of another program (application_id \(applicationID))")
                }
                // Schema 1 stores carry no application_id: recognised by their tables and migrations.
                guard tables.isSuperset(of: coreTables) else {
                    return .foreign("an SQLite database of another program (its tables: \(tables.sorted().prefix(6).joined(separator: ", ")))")
                }
                let applied = try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY identifier")
                let known = Store.migrationIdentifiers
                guard applied.first == known.first else { return .foreign("an SQLite database of another program (migrations \(applied.prefix(3)))") }
                let unknown = applied.filter { !known.contains($0) }
                if !unknown.isEmpty || userVersion > known.count { return .newer(found: unknown.isEmpty ? ["user_version \(userVersion)"] : unknown) }
                if check {
                    let problems = try String.fetchAll(db, sql: "PRAGMA quick_check(3)")
                    guard problems == ["ok"] else { return .damaged(problems.joined(separator: "; ")) }
                }
                return .store(migrations: applied)
            }
        } catch let error as StoreError {
            throw error
        } catch {
            return try classifyOpenFailure(error, path: path)
        }
    }

    /// Damage is what SQLite calls corrupt or not a database; any other failure (busy, I/O,
    /// permissions) is reported as itself.
    static func classifyOpenFailure(_ error: Error, path: String) throws -> Kind {
        if let db = error as? DatabaseError {
            switch db.resultCode.primaryResultCode {
            case .SQLITE_NOTADB: return .foreign("not an SQLite database")
            case .SQLITE_CORRUPT: return .damaged(db.message ?? "the database file is corrupt")
            default: throw StoreError.cannotOpen(path: path, reason: Store.reason(db))
            }
        }
        throw StoreError.cannotOpen(path: path, reason: "\(error)")
    }

    /// A read-only connection that never writes the database or its WAL. `lockless`: a WAL-mode
    /// file without a `-wal` (no connection has it open) is opened `immutable`, so that nothing
    /// is created beside a file that may not be ours. Any file SQLite cannot open read-only in
    /// place (a read-only folder or medium) is opened `immutable` too, with a note on what that
    /// means for committed transactions still in its WAL.
    static func openReadOnly(_ path: String, lockless: Bool, busyTimeout: TimeInterval = Store.busyTimeout,
                             prepare: (@Sendable (Database) throws -> Void)? = nil) throws -> (queue: DatabaseQueue, note: String?) {
        var config = Configuration()
        config.readonly = true
        config.busyMode = .timeout(busyTimeout)
        config.prepareDatabase { db in
            try annotationStandIns(db)
            try db.execute(sql: "PRAGMA query_only = 1")
            try prepare?(db)
        }
        let absolute = absolutePath(path), target = readOnlyTarget(path, lockless: lockless)
        let wal = walBytes(path)
        if target != absolute {
            return (try DatabaseQueue(path: target, configuration: config), nil)
        }
        do {
            let queue = try DatabaseQueue(path: absolute, configuration: config)
            _ = try queue.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM sqlite_master") }
            return (queue, nil)
        } catch let error as DatabaseError where [.SQLITE_CANTOPEN, .SQLITE_READONLY].contains(error.resultCode.primaryResultCode) {
            // A read-only folder or medium: SQLite cannot make the WAL index it needs.
            let queue = try DatabaseQueue(path: immutableURI(absolute), configuration: config)
            let note = wal > 0
                ? "\(path) is read-only here and its WAL (\(path)-wal, \(wal) bytes) cannot be read without \(path)-shm; showing the store as of its last checkpoint"
                : "\(path) is read-only here; reading it without locks (immutable)"
            return (queue, note)
        }
    }

    /// A store older than schema 4, read as it is (read-only, so not upgraded), has no tags,
    /// notes or archive: empty TEMP tables of those names stand in (in the connection's own
    /// temporary database, never the file), so that every query reads it like a newer one.
    static func annotationStandIns(_ db: Database) throws {
        let present = Set(try String.fetchAll(db, sql: "SELECT name FROM main.sqlite_master WHERE type = 'table'"))
        guard present.contains("runs") else { return }
        let tables = [
            "run_tags": "(run_id INTEGER, key TEXT, value TEXT, set_at REAL)", "run_notes": "(run_id INTEGER, created_at REAL, text TEXT)",
            "run_archive": "(run_id INTEGER PRIMARY KEY, archived_at REAL, reason TEXT)",
        ]
        for (name, columns) in tables.sorted(by: { $0.key < $1.key }) where !present.contains(name) {
            try db.execute(sql: "CREATE TEMP TABLE IF NOT EXISTS \(name) \(columns)")
        }
    }

    /// `file:` URI for SQLite's immutable mode (this SQLite is built with URI support).
    static func immutableURI(_ absolute: String) -> String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "?#%")
        return "file:" + (absolute.addingPercentEncoding(withAllowedCharacters: allowed) ?? absolute) + "?immutable=1"
    }

    /// An absolute path, so that SQLite never reads a user's `file:…` path as a URI.
    public static func absolutePath(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.path
    }

    /// Bytes in `path`-wal (0 when there is none).
    static func walBytes(_ path: String) -> Int {
        (try? FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int) ?? 0
    }

    /// Header bytes 18–19 say 2 in a WAL-mode database.
    static func isWALModeFile(_ path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        let header = (try? handle.read(upToCount: 20)) ?? Data()
        return header.count == 20 && header[18] == 2 && header[19] == 2
    }

    /// Device and inode of the file a path leads to (links followed): two paths with the same
    /// identity are one file.
    public static func identity(_ path: String) -> [UInt64]? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return [UInt64(info.st_dev), UInt64(info.st_ino)]
    }

    /// Where a read-only connection opens `path`: the path itself, or (`lockless`, a WAL-mode
    /// file with no `-wal`: nobody has it open) SQLite's immutable mode, which makes nothing
    /// beside it.
    static func readOnlyTarget(_ path: String, lockless: Bool) -> String {
        let absolute = absolutePath(path)
        return lockless && !FileManager.default.fileExists(atPath: path + "-wal") && isWALModeFile(path) ? immutableURI(absolute) : absolute
    }

    /// The files SQLite keeps beside a database.
    public static func companions(of path: String) -> [String] {
        [path + "-wal", path + "-shm", path + "-journal"]
    }
}
