import Foundation
import GRDB

/// The research log: one SQLite file (WAL) that several processes may write into at once while
/// others read it.
///
/// Durability: every epoch is one IMMEDIATE transaction; with `synchronous = FULL` the WAL is
/// fsynced at each commit, so a committed epoch survives a process kill and a power cut
/// (barring a disk that lies about flushing). A crash mid-transaction leaves the previous
/// epochs only. Writers wait up to `busyTimeout` for each other instead of failing with
/// "database is locked".
public final class Store: Sendable {
    public let path: String
    let pool: DatabasePool
    /// The read API over this store's connections (the same questions a `ReadOnlyStore` answers).
    public var reader: ReadOnlyStore { ReadOnlyStore(reading: pool, path: path) }
    public static let busyTimeout: TimeInterval = 60

    /// Migration identifiers this optilog knows, in order (`sql/migrations/*.sql`).
    public static var migrationIdentifiers: [String] { EmbeddedSQL.migrations.map(\.0) }

    /// Opens (creating if needed) and upgrades the store at `path`. The file is first read
    /// without writing (`StoreFile.inspect`, with SQLite's quick check): only a missing or empty
    /// file or a sound optilog store of a schema this optilog knows is opened for writing;
    /// anything else — another program's file, a damaged store, a newer schema — is refused with
    /// its bytes unchanged.
    public init(path: String) throws {
        self.path = path
        try Self.checkOpenable(path)
        var config = Configuration()
        config.busyMode = .timeout(Self.busyTimeout)
        config.foreignKeysEnabled = true
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        // Two processes making the same new store at once: one of them may find it locked while
        // the other switches it to WAL or migrates it; it tries again until the busy timeout.
        let deadline = Date().addingTimeInterval(Self.busyTimeout)
        var attempt = 0
        while true {
            do {
                pool = try Self.openAndMigrate(path: path, configuration: config)
                break
            } catch let error as DatabaseError where [.SQLITE_BUSY, .SQLITE_LOCKED].contains(error.resultCode.primaryResultCode) && Date() < deadline {
                attempt += 1
                Thread.sleep(forTimeInterval: min(0.5, 0.005 * Double(attempt * attempt)))
            } catch let error as StoreError {
                throw error
            } catch {
                throw StoreError.cannotOpen(path: path, reason: Self.reason(error))
            }
        }
    }

    /// What `init` checks before it opens a file for writing (read without writing, with SQLite's
    /// quick check): for commands that read a store before they change it, so that a damaged,
    /// foreign or newer file is refused with the same words either way.
    public static func checkOpenable(_ path: String) throws {
        switch try StoreFile.inspect(path, check: true) {
        case .empty, .store: break
        case .newer(let found): throw StoreError.newerSchema(path: path, found: found)
        case .foreign(let what):
            throw StoreError.cannotOpen(path: path, reason: "it is not an optilog store (\(what)); nothing was changed")
        case .damaged(let what): throw StoreError.damaged(path: path, reason: what)
        }
    }

    private static func openAndMigrate(path: String, configuration: Configuration) throws -> DatabasePool {
        let pool = try DatabasePool(path: StoreFile.absolutePath(path), configuration: configuration)
        try migrate(pool, path: path)
        return pool
    }

    /// Applies the missing migrations in one IMMEDIATE transaction, recorded in GRDB's
    /// `grdb_migrations` table: the check of what is applied and the applying cannot interleave
    /// with another process doing the same (as GRDB's migrator's can, when two processes make a
    /// new store at once). Foreign keys are off while a migration runs, checked before it commits.
    static func migrate(_ pool: DatabasePool, path: String) throws {
        try pool.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA foreign_keys = OFF")
            defer { try? db.execute(sql: "PRAGMA foreign_keys = ON") }
            try db.inTransaction(.immediate) {
                try db.execute(sql: "CREATE TABLE IF NOT EXISTS grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY)")
                let applied = Set(try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations"))
                let unknown = applied.subtracting(migrationIdentifiers)
                guard unknown.isEmpty else { throw StoreError.newerSchema(path: path, found: unknown.sorted()) }
                for (index, (identifier, sql)) in EmbeddedSQL.migrations.enumerated() where !applied.contains(identifier) {
                    try db.execute(sql: sql)
                    // PRAGMA user_version mirrors the schema for plain SQLite tools.
                    try db.execute(sql: "PRAGMA user_version = \(index + 1)")
                    try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES (?)", arguments: [identifier])
                }
                if let violation = try Row.fetchOne(db, sql: "PRAGMA foreign_key_check") {
                    throw StoreError.corrupt("a migration left a foreign-key violation in \(violation[0] as String? ?? "?")")
                }
                return .commit
            }
        }
    }

    /// The migrations as GRDB's migrator (for tests that make stores of earlier versions).
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        for (identifier, sql) in EmbeddedSQL.migrations {
            migrator.registerMigration(identifier) { db in
                try db.execute(sql: sql)
                // PRAGMA user_version mirrors the schema for plain SQLite tools.
                try db.execute(sql: "PRAGMA user_version = \(Self.migrationIdentifiers.firstIndex(of: identifier)! + 1)")
            }
        }
        return migrator
    }

    static func reason(_ error: Error) -> String {
        if let db = error as? DatabaseError {
            switch db.resultCode {
            case .SQLITE_NOTADB: return "it is not an SQLite database"
            case .SQLITE_CORRUPT: return "the database file is corrupt"
            case .SQLITE_CANTOPEN: return "the file cannot be opened (missing folder or no permission)"
            case .SQLITE_READONLY: return "the file is read-only"
            case .SQLITE_FULL: return "the disk is full"
            default: return db.message ?? "\(db.resultCode)"
            }
        }
        return "\(error)"
    }

    /// One write transaction, taken at once (IMMEDIATE) so two writers never deadlock on upgrade.
    func write<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try pool.writeWithoutTransaction { db in
                var result: T?
                try db.inTransaction(.immediate) {
                    result = try body(db)
                    return .commit
                }
                return result!
            }
        } catch let error as StoreError {
            throw error
        } catch let error as DatabaseError {
            throw StoreError.refused("store \(path): \(Self.reason(error))")
        }
    }

    func read<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try pool.read(body)
        } catch let error as StoreError {
            throw error
        } catch let error as DatabaseError {
            throw StoreError.refused("store \(path): \(Self.reason(error))")
        }
    }

    /// The SQL of a named query from `sql/queries/`.
    public static func query(_ name: String) throws -> String {
        guard let sql = EmbeddedSQL.queries.first(where: { $0.0 == name })?.1 else { throw StoreError.notFound("query \(name)") }
        return sql
    }
}
