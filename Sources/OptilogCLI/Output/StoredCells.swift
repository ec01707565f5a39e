import ArgumentParser
import Engine
import Store

extension RowPrinter.Cell {
    /// A value read from the store, as the query commands print it.
    init(_ value: StoredValue) {
        switch value {
        case .null: self = .null
        case .integer(let n): self = .integer(Int(n))
        case .real(let d): self = .number(d, digits: 6)
        case .text(let s): self = .text(s)
        case .blob(let bytes): self = .text("<\(bytes) bytes>")
        }
    }

    /// A number that may be NULL in the log.
    static func optional(_ value: Double?, digits: Int = 6) -> Self { value.map { .number($0, digits: digits) } ?? .null }
    static func optional(_ value: Int?) -> Self { value.map { .integer($0) } ?? .null }
    static func optional(_ value: String?) -> Self { value.map { .text($0) } ?? .null }
}

/// The per-epoch columns a curve, a comparison or `best` can show (`--metric`).
extension Epoch.Columns: ExpressibleByArgument {
    public init?(argument: String) {
        guard let column = Self(rawValue: argument), Self.numeric.contains(column) else { return nil }
        self = column
    }

    public static var allValueStrings: [String] { numeric.map(\.rawValue) }

    /// Throughput and accuracies go up; losses, MAE, norms and times down.
    func higherIsBetter(task: String?) -> Bool {
        higherIsBetter(higherMetricIsBetter: task.flatMap(TaskInfo.named).map(\.metric.higherIsBetter) ?? false)
    }
}

/// Optimizers in the study's order (`Optimizers.names`).
enum OptimizerOrder {
    /// A fixed colour slot per optimizer, so each keeps its colour in every figure.
    static func slot(_ optimizer: String) -> Int { Optimizers.names.firstIndex(of: optimizer) ?? 7 }
}

/// A curve's label in tables and figures.
extension Curve {
    var label: String { "\(optimizer) #\(run)" }
}
