import Engine

/// How `--samples N` and `--validation-samples M` cut a data set.
///
/// `stratified` (every new run): a classification set keeps its classes' proportions in a
/// seeded random subset (seed `Slicing.seed`, the same for every run, so runs that differ only in
/// their seed see the same data); a regression set takes a seeded random subset; a time series
/// trains on its first N windows, one per sampling step (an hour of Jena's 10-minute rows), and
/// validates on the M windows right after them, whose targets lie beyond everything the
/// training windows read. Older runs resume on the data they were logged with: `prefix` (before
/// stratified slices) takes the first N and M; `stratifiedEveryRow` took a series' windows one
/// row apart, so 1,024 windows of real Jena spanned a week.
public enum Slicing: String, Sendable, CaseIterable {
    case prefix
    case stratifiedEveryRow = "stratified-1"
    case stratified = "stratified-2"

    /// The subsets' seed: fixed, so that seeds vary the training, never the data.
    public static let seed: UInt64 = 20_201

    /// The cut splits, and what the user should know about it.
    public func cut(_ data: DataSplits, train: Int?, validation: Int?) throws -> (splits: DataSplits, notes: [String]) {
        guard train != nil || validation != nil else { return (data, []) }
        switch self {
        case .prefix:
            var out = data
            if let train { out.train = Prefix(data.train, count: train) }
            if let validation { out.validation = Prefix(data.validation, count: validation) }
            return (out, [])
        case .stratified, .stratifiedEveryRow:
            if let series = data.train as? WindowedSeries, let held = data.validation as? WindowedSeries {
                // A step apart only when N windows are asked for: the whole split keeps them all.
                let stride = self == .stratified && train != nil ? series.samplingRate : 1
                return Self.window(series, held, train: train, validation: validation, stride: stride)
            }
            var out = data
            if let train { out.train = Self.sample(data.train, count: train, stream: 1) }
            if let validation { out.validation = Self.sample(data.validation, count: validation, stream: 2) }
            return (out, [])
        }
    }

    /// A seeded random subset of `count` rows (all rows if there are no more), stratified by
    /// class when the targets are classes, in the set's own order.
    static func sample(_ source: any SampleSource, count: Int, stream: UInt64) -> any SampleSource {
        guard count < source.count else { return source }
        let labels = classes(source)
        var byClass: [Int: [Int]] = [:]
        for (row, label) in labels.enumerated() { byClass[label, default: []].append(row) }
        let keys = byClass.keys.sorted()
        // Largest remainders: each class's share of `count`, rounded so the shares add up.
        let exact = keys.map { Double(byClass[$0]!.count) * Double(count) / Double(source.count) }
        var quota = exact.map { Int($0) }
        let missing = count - quota.reduce(0, +)
        for i in keys.indices.sorted(by: { (exact[$0] - Double(quota[$0]), -$0) > (exact[$1] - Double(quota[$1]), -$1) }).prefix(missing) {
            quota[i] += 1
        }
        var chosen: [Int] = []
        for (i, key) in keys.enumerated() {
            var rng = RandomStream(seed: seed, purpose: .data, stream, UInt64(key))
            let rows = byClass[key]!
            chosen += rng.permutation(rows.count).prefix(quota[i]).map { rows[$0] }
        }
        return Subset(source, rows: chosen.sorted())
    }

    /// A class per row: the argmax of a one-hot target, a 0/1 target itself; one class for
    /// anything else (regression: a plain random subset).
    static func classes(_ source: any SampleSource) -> [Int] {
        guard let set = source as? Dataset else { return Array(repeating: 0, count: source.count) }
        let width = set.y.shape.dropFirst().reduce(1, *)
        let y = set.y.scalars
        if width > 1 {
            return (0..<set.count).map { r in
                let row = y[(r * width)..<((r + 1) * width)]
                return row.indices.max { row[$0] < row[$1] }! - r * width
            }
        }
        guard y.allSatisfy({ $0 == 0 || $0 == 1 }) else { return Array(repeating: 0, count: set.count) }
        return y.map { Int($0) }
    }

    /// A time series: the first N training windows `stride` starts apart; validation on the M
    /// windows (as far apart) of the same stretch whose targets come after every value the
    /// training windows read (so nothing validated was seen), or the held-out split's first M
    /// when the stretch is too short.
    static func window(_ train: WindowedSeries, _ held: WindowedSeries, train n: Int?, validation m: Int?,
                       stride: Int) -> (splits: DataSplits, notes: [String]) {
        let available = (train.count + stride - 1) / stride
        let trainCount = min(n ?? available, available)
        guard trainCount > 0 else { return (DataSplits(train: train, validation: m.map { Prefix(held, count: $0) } ?? held), []) }
        let trainRows = Array(Swift.stride(from: 0, to: trainCount * stride, by: stride))
        let firstTrain = Subset(train, rows: trainRows)
        guard let m else { return (DataSplits(train: firstTrain, validation: held), []) }
        // Everything the training windows read: their inputs and their targets.
        let last = train.starts[trainRows.last!]
        let seen = max(last + (train.length - 1) * train.samplingRate, last + train.targetOffset)
        if let k = train.starts.firstIndex(where: { $0 + train.targetOffset > seen }), k + (m - 1) * stride < train.count {
            let rows = Array(Swift.stride(from: k, to: k + m * stride, by: stride))
            return (DataSplits(train: firstTrain, validation: Subset(train, rows: rows)), [])
        }
        let heldRows = Array(Swift.stride(from: 0, to: min(m * stride, held.count), by: stride))
        let which = stride == 1 ? "first \(m)" : "first \(m), one per \(stride) rows"
        return (DataSplits(train: firstTrain, validation: stride == 1 ? Prefix(held, count: m) : Subset(held, rows: heldRows)),
                ["\(train.name): too few windows after the first \(trainCount) to validate on the \(m) right after them; validating on the held-out split's \(which)"])
    }
}

/// Some rows of another source, in the given order.
public struct Subset: SampleSource {
    public let base: any SampleSource
    public let rows: [Int]

    public init(_ base: any SampleSource, rows: [Int]) {
        precondition(rows.allSatisfy { $0 >= 0 && $0 < base.count }, "a subset row outside its source")
        self.base = base
        self.rows = rows
    }

    public var name: String { base.name }
    public var count: Int { rows.count }
    public var inputShape: [Int] { base.inputShape }
    public func batch(_ rows: some Collection<Int>) -> (x: Tensor, y: Tensor) {
        base.batch(rows.map { self.rows[$0] })
    }
}
