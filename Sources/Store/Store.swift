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
    public static let busyTimeout: TimeInterval = 60

    /// Migration identifiers this optilog knows, in order (`sql/migrations/*.sql`).
    public static var migrationIdentifiers: [String] { EmbeddedSQL.migrations.map(\.0) }

    /// Opens (creating if needed) and upgrades the store at `path`; refuses a newer schema and
    /// anything that is not an SQLite file, without writing to it.
    public init(path: String) throws {
        self.path = path
        try Self.refuseForeignFile(path)
        var config = Configuration()
        config.busyMode = .timeout(Self.busyTimeout)
        config.foreignKeysEnabled = true
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        do {
            pool = try DatabasePool(path: path, configuration: config)
        } catch {
            throw StoreError.cannotOpen(path: path, reason: Self.reason(error))
        }
        let migrator = Self.migrator
        do {
            let superseded = try pool.read { db in try migrator.hasBeenSuperseded(db) }
            if superseded {
                let applied = try pool.read { db in try migrator.appliedIdentifiers(db) }
                throw StoreError.newerSchema(path: path, found: applied.subtracting(Self.migrationIdentifiers).sorted())
            }
            try migrator.migrate(pool)
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError.cannotOpen(path: path, reason: Self.reason(error))
        }
    }

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

    /// A file that exists but does not start like an SQLite database is refused before SQLite
    /// touches it (SQLite would otherwise only fail later, and WAL set-up could write to it).
    static func refuseForeignFile(_ path: String) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else { return }
        defer { try? handle.close() }
        let head = (try? handle.read(upToCount: 16)) ?? Data()
        guard head.isEmpty || head == Data("SQLite format 3\0".utf8) else {
            throw StoreError.cannotOpen(path: path, reason: "it is not an optilog store (not an SQLite database); nothing was changed")
        }
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
