import Foundation
import GRDB
import GRDBSQLite

/// SQL a user types (`optilog sql`): read-only by SQLite's own judgement, not by keywords. The
/// statement is compiled on a connection of its own, opened read-only with `query_only`, under an
/// authorizer that denies ATTACH, DETACH and every action that writes; SQLite must also call it
/// read-only (`sqlite3_stmt_readonly`). Parameters are bound by name only, each one supplied.
public struct UserQuery {

    /// Runs one statement of `sql` over the store at `path` and returns every row.
    public static func run(path: String, sql: String, parameters: [String: StoredValue], timeout: TimeInterval) throws -> StoredRows {
        let connection = try open(path)
        defer { sqlite3_close_v2(connection) }
        sqlite3_set_authorizer(connection, { _, action, first, second, _, _ in
            UserQuery.authorize(action, first.map { String(cString: $0) }, second.map { String(cString: $0) }) ? SQLITE_OK : SQLITE_DENY
        }, nil)
        let statement = try prepareOne(connection, sql)
        defer { sqlite3_finalize(statement) }
        guard sqlite3_stmt_readonly(statement) != 0 else { throw StoreError.refused(readOnlyMessage) }
        try bind(statement, parameters)
        // A time limit: SQLite asks the progress handler every 1,000 instructions.
        let deadline = Box(DispatchTime.now().uptimeNanoseconds + UInt64(min(timeout, 1e6) * 1e9))
        sqlite3_progress_handler(connection, 1000, { context in
            DispatchTime.now().uptimeNanoseconds > Unmanaged<Box>.fromOpaque(context!).takeUnretainedValue().deadline ? 1 : 0
        }, Unmanaged.passUnretained(deadline).toOpaque())
        defer { withExtendedLifetime(deadline) {} }
        let count = sqlite3_column_count(statement)
        let columns = (0..<count).map { String(cString: sqlite3_column_name(statement, $0)) }
        var rows: [[StoredValue]] = []
        while true {
            let code = sqlite3_step(statement)
            if code == SQLITE_DONE { break }
            guard code == SQLITE_ROW else {
                if code == SQLITE_INTERRUPT {
                    throw StoreError.refused("query stopped after the \(String(format: "%g", timeout)) s time limit")
                }
                throw StoreError.refused("query failed: \(String(cString: sqlite3_errmsg(connection)))")
            }
            rows.append((0..<count).map { StoredValue(DatabaseValue(sqliteStatement: statement, index: $0)) })
        }
        return StoredRows(columns: columns, rows: rows)
    }

    static let readOnlyMessage = "only read-only statements are allowed here (SELECT, WITH, read-only PRAGMA)"

    final class Box { let deadline: UInt64; init(_ deadline: UInt64) { self.deadline = deadline } }

    /// Actions a read needs; a PRAGMA only when it reads (no value, or one of the pragmas whose
    /// argument names what to read). Everything else — ATTACH, DETACH, any write, transactions —
    /// is denied while the statement compiles.
    static func authorize(_ action: Int32, _ first: String?, _ second: String?) -> Bool {
        switch action {
        case SQLITE_SELECT, SQLITE_READ, SQLITE_RECURSIVE: return true
        case SQLITE_FUNCTION: return second?.lowercased() != "load_extension"
        case SQLITE_PRAGMA: return second == nil || readingPragmas.contains(first?.lowercased() ?? "")
        // A table-valued pragma (`pragma_table_info('runs')`) reports the schema table's columns
        // as updated while it compiles; a real UPDATE is not read-only and is refused after.
        case SQLITE_UPDATE: return first == "sqlite_master" || first == "sqlite_schema"
        default: return false
        }
    }

    /// Pragmas whose argument only says what to read.
    static let readingPragmas: Set<String> = ["table_info", "table_xinfo", "table_list", "index_list", "index_info", "index_xinfo",
                                              "foreign_key_list", "foreign_key_check", "integrity_check", "quick_check"]

    static func open(_ path: String) throws -> OpaquePointer {
        let absolute = StoreFile.absolutePath(path), target = StoreFile.readOnlyTarget(path, lockless: true)
        var connection: OpaquePointer?
        var code = sqlite3_open_v2(target, &connection, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, nil)
        if code == SQLITE_OK {
            code = sqlite3_exec(connection, "PRAGMA query_only = 1; SELECT COUNT(*) FROM sqlite_master", nil, nil, nil)
        }
        if code != SQLITE_OK, target == absolute, [SQLITE_CANTOPEN, SQLITE_READONLY].contains(code & 0xFF) {
            sqlite3_close_v2(connection)
            connection = nil
            code = sqlite3_open_v2(StoreFile.immutableURI(absolute), &connection, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, nil)
            if code == SQLITE_OK { code = sqlite3_exec(connection, "PRAGMA query_only = 1", nil, nil, nil) }
        }
        guard code == SQLITE_OK, let connection else {
            let message = connection.map { String(cString: sqlite3_errmsg($0)) } ?? "code \(code)"
            sqlite3_close_v2(connection)
            throw StoreError.cannotOpen(path: path, reason: message)
        }
        sqlite3_busy_timeout(connection, Int32(Store.busyTimeout * 1000))
        return connection
    }

    /// The one statement in `sql` (empty statements around it are skipped; a second is refused).
    static func prepareOne(_ connection: OpaquePointer, _ sql: String) throws -> OpaquePointer {
        let utf8 = Array(sql.utf8CString)
        return try utf8.withUnsafeBufferPointer { buffer -> OpaquePointer in
            var tail: UnsafePointer<CChar>? = buffer.baseAddress
            var found: OpaquePointer?
            while let start = tail, start.pointee != 0 {
                var statement: OpaquePointer?
                let code = sqlite3_prepare_v2(connection, start, -1, &statement, &tail)
                guard code == SQLITE_OK else {
                    sqlite3_finalize(found)
                    let message = String(cString: sqlite3_errmsg(connection))
                    if code == SQLITE_AUTH || message.contains("not authorized") { throw StoreError.refused(readOnlyMessage) }
                    throw StoreError.refused("query refused: \(message)")
                }
                guard let statement else { continue }      // only whitespace or comments
                if found != nil {
                    sqlite3_finalize(statement)
                    sqlite3_finalize(found)
                    throw StoreError.refused("one statement at a time, please (found a second one)")
                }
                found = statement
            }
            guard let found else { throw StoreError.refused("no SQL statement given") }
            return found
        }
    }

    /// Binds every parameter by name; a parameter without a value, a positional one, or a value
    /// for no parameter is an error naming it.
    static func bind(_ statement: OpaquePointer, _ parameters: [String: StoredValue]) throws {
        var used: Set<String> = []
        let count = sqlite3_bind_parameter_count(statement)
        for index in 1...max(1, count) where count > 0 {
            guard let cName = sqlite3_bind_parameter_name(statement, index) else {
                throw StoreError.refused("positional parameter ?\(index) is not supported: name it (:name) and give --param name VALUE")
            }
            let full = String(cString: cName)
            let name = String(full.dropFirst())
            guard let value = parameters[name] else {
                throw StoreError.refused("parameter \(full) has no value: give --param \(name) VALUE")
            }
            used.insert(name)
            _ = value.databaseValue.bind(to: statement, at: index)
        }
        if let unused = parameters.keys.sorted().first(where: { !used.contains($0) }) {
            throw StoreError.refused("--param \(unused) is not a parameter of the query")
        }
    }
}
