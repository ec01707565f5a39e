import GRDB

/// A value as the log holds it, for rows whose shape the caller chose (`optilog sql`, `best --by`):
/// the query commands format these without seeing the database library.
public enum StoredValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    /// Only a blob's size travels: blobs are compressed series and checkpoints, not for printing.
    case blob(bytes: Int)

    init(_ value: DatabaseValue) {
        switch value.storage {
        case .null: self = .null
        case .int64(let n): self = .integer(n)
        case .double(let d): self = .real(d)
        case .string(let s): self = .text(s)
        case .blob(let b): self = .blob(bytes: b.count)
        }
    }

    init(_ value: Double?) { self = value.map { .real($0) } ?? .null }
    init(_ value: Int?) { self = value.map { .integer(Int64($0)) } ?? .null }
    init(_ value: Int64?) { self = value.map { .integer($0) } ?? .null }
    init(_ value: String?) { self = value.map { .text($0) } ?? .null }

    public var double: Double? {
        switch self {
        case .real(let d): return d
        case .integer(let n): return Double(n)
        default: return nil
        }
    }

    public var string: String? { if case .text(let s) = self { return s } else { return nil } }
    public var isNull: Bool { self == .null }
}

/// Rows of named columns, as a query the user shaped returns them.
public struct StoredRows: Sendable, Equatable {
    public var columns: [String]
    public var rows: [[StoredValue]]
}

extension Row {
    /// A column's value as `T`, or a `corrupt` error naming the table, row and column: a store
    /// whose columns hold values of the wrong type (damaged, hand-edited, or merged from one)
    /// is reported, never trapped on. A column missing from an older schema reads as `missing`.
    func decode<T: DatabaseValueConvertible>(_ column: String, in what: @autoclosure () -> String, missing: T? = nil) throws -> T {
        if let missing, !hasColumn(column) { return missing }
        do { return try decode(T.self, forColumn: column) } catch {
            throw StoreError.corrupt("\(what()): column \(column) holds \(self[column] as DatabaseValue? ?? .null), not \(T.self)")
        }
    }
}
