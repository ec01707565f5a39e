import Foundation
import GRDB
import Synchronization

/// The log's read API: every question the commands ask is a method of this type (here and in
/// `Queries/`), answered with records (`Run`, `Epoch`, `Checkpoint`, `Study`) or typed results.
/// Opened on its own, the file is opened read-only (SQLITE_OPEN_READONLY, plus
/// `PRAGMA query_only`), so no statement can change it; a `Store` answers the same questions
/// through `store.reader`.
public final class ReadOnlyStore: Sendable {
    public let path: String
    let queue: any DatabaseReader

    /// A note for the user when the store could only be read in a degraded way (read-only media).
    public let note: String?

    public init(path: String) throws {
        self.path = path
        guard FileManager.default.fileExists(atPath: path) else { throw StoreError.cannotOpen(path: path, reason: "no such file") }
        switch try StoreFile.inspect(path, check: false) {
        case .store: break
        case .empty: throw StoreError.cannotOpen(path: path, reason: "not an optilog store yet (it has no runs table)")
        case .newer(let found): throw StoreError.newerSchema(path: path, found: found)
        case .foreign(let what): throw StoreError.cannotOpen(path: path, reason: "it is not an optilog store (\(what)); nothing was changed")
        case .damaged(let what): throw StoreError.damaged(path: path, reason: what)
        }
        do {
            (queue, note) = try StoreFile.openReadOnly(path, lockless: false)
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError.cannotOpen(path: path, reason: Store.reason(error))
        }
    }

    /// The read side of a writable store (same connection pool).
    init(reading pool: DatabasePool, path: String) {
        self.path = path
        queue = pool
        note = nil
    }

    /// One read, with database errors turned into messages.
    func read<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try queue.read(body)
        } catch let error as StoreError {
            throw error
        } catch let error as DatabaseError {
            throw StoreError.refused("store \(path): \(Store.reason(error))")
        }
    }

    /// Runs one read-only statement; anything that could write (or attach another file) is
    /// refused with a clear error. For tests and benchmarks: the commands ask the methods of
    /// this type instead.
    package func rows(_ sql: String, arguments: [DatabaseValueConvertible?] = [], namedArguments: [String: DatabaseValueConvertible?] = [:],
                     timeout: TimeInterval? = nil) throws -> (columns: [String], rows: [[DatabaseValue]]) {
        // A time limit: interrupt the statement from another thread once it has run too long.
        let finished = Mutex(false)
        if let timeout {
            let queue = self.queue
            DispatchQueue.global().asyncAfter(deadline: .now() + timeout) {
                if !finished.withLock({ $0 }) { queue.interrupt() }
            }
        }
        defer { finished.withLock { $0 = true } }
        do {
            return try queue.read { db in
                // SQLite counts ATTACH and DETACH as read-only (they change the connection, not a
                // file), but they would reach other files: refused too.
                let keyword = Self.leadingKeyword(sql)
                guard keyword != "ATTACH" && keyword != "DETACH" else {
                    throw StoreError.refused("ATTACH and DETACH are refused here: queries read this store only")
                }
                let statement = try db.makeStatement(sql: sql)
                guard statement.isReadonly else {
                    throw StoreError.refused("only read-only statements are allowed here (SELECT, WITH, read-only PRAGMA)")
                }
                statement.arguments = namedArguments.isEmpty ? StatementArguments(arguments) : StatementArguments(namedArguments)
                let rows = try Row.fetchAll(statement)
                return (statement.columnNames, rows.map { row in row.databaseValues.map { $0 } })
            }
        } catch let error as StoreError {
            throw error
        } catch let error as DatabaseError where error.resultCode == .SQLITE_INTERRUPT {
            throw StoreError.refused("query stopped after the \(timeout.map { String(format: "%g", $0) } ?? "?") s time limit")
        } catch let error as DatabaseError {
            throw StoreError.refused("query refused: \(error.message ?? "\(error.resultCode)")")
        }
    }

    /// A compact copy of the store in a new file (`VACUUM INTO`), consistent even while
    /// writers go on.
    public func vacuum(into destination: String) throws {
        do {
            let copy = try DatabaseQueue(path: StoreFile.absolutePath(path), configuration: {
                var c = Configuration()
                c.readonly = true
                c.busyMode = .timeout(Store.busyTimeout)
                return c
            }())
            try copy.writeWithoutTransaction { db in try db.execute(sql: "VACUUM INTO ?", arguments: [destination]) }
        } catch let error as DatabaseError {
            throw StoreError.refused("cannot copy \(path) to \(destination): \(Store.reason(error))")
        }
    }

    /// The first word of a statement, past whitespace and comments, upper-cased.
    static func leadingKeyword(_ sql: String) -> String {
        var rest = Substring(sql)
        while true {
            rest = rest.drop { $0.isWhitespace }
            if rest.hasPrefix("--") {
                rest = rest.drop { $0 != "\n" }
            } else if rest.hasPrefix("/*") {
                guard let end = rest.range(of: "*/") else { return "" }
                rest = rest[end.upperBound...]
            } else {
                break
            }
        }
        return String(rest.prefix { $0.isLetter }).uppercased()
    }
}
