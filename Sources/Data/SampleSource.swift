import Engine

/// Anything the training loop can draw batches from. Materialised sets and lazily windowed
/// series look the same to it, so a 100,000-window time series costs the memory of its
/// series, not of its windows.
public protocol SampleSource: Sendable {
    var name: String { get }
    var count: Int { get }
    /// Per-sample input shape.
    var inputShape: [Int] { get }
    /// Inputs and targets of the given rows, in that order.
    func batch(_ rows: some Collection<Int>) -> (x: Tensor, y: Tensor)
}

extension Dataset: SampleSource {
    public func batch(_ rows: some Collection<Int>) -> (x: Tensor, y: Tensor) {
        (x.gatherRows(rows), y.gatherRows(rows))
    }
}

/// The first `count` samples of another source (for quick runs on part of a data set).
public struct Prefix: SampleSource {
    public let base: any SampleSource
    public let count: Int

    public init(_ base: any SampleSource, count: Int) {
        self.base = base
        self.count = min(count, base.count)
    }

    public var name: String { base.name }
    public var inputShape: [Int] { base.inputShape }
    public func batch(_ rows: some Collection<Int>) -> (x: Tensor, y: Tensor) {
        precondition(rows.allSatisfy { $0 < count }, "row outside the first \(count)")
        return base.batch(rows)
    }
}
