import GRDB

extension RowPrinter.Cell {
    /// A value read from the store, as printed by the query commands.
    init(_ value: DatabaseValue) {
        switch value.storage {
        case .null: self = .null
        case .int64(let n): self = .integer(Int(n))
        case .double(let d): self = .number(d, digits: 6)
        case .string(let s): self = .text(s)
        case .blob(let b): self = .text("<\(b.count) bytes>")
        }
    }
}
