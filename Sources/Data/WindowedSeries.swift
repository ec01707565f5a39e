import Engine

/// Keras's `timeseries_dataset_from_array`, lazily: sample i is `length` rows of the series
/// taken every `samplingRate` rows from `starts[i]`, and its target is `targets[starts[i] +
/// targetOffset]` (one target per row of the series, e.g. the raw temperature). Nothing is
/// copied until a batch is drawn.
public struct WindowedSeries: SampleSource {
    public var name: String
    /// Row-major [rows, features].
    public let series: [Float]
    public let features: Int
    /// One target per row of the series.
    public let targets: [Float]
    public let length: Int
    public let samplingRate: Int
    public let targetOffset: Int
    /// Row where each sample's window begins.
    public let starts: [Int]

    public init(name: String, series: [Float], features: Int, targets: [Float], length: Int, samplingRate: Int,
                targetOffset: Int, starts: [Int]) throws {
        guard features > 0, series.count % features == 0 else {
            throw EngineError.shapeMismatch("\(name): \(series.count) values do not make rows of \(features) features")
        }
        let rows = series.count / features
        guard length > 0, samplingRate > 0, targetOffset >= 0 else {
            throw EngineError.invalidConfiguration("\(name): invalid window (length \(length), rate \(samplingRate), target offset \(targetOffset))")
        }
        guard targets.count == rows else {
            throw EngineError.shapeMismatch("\(name): \(targets.count) targets for \(rows) rows")
        }
        let reach = max((length - 1) * samplingRate, targetOffset)
        if let bad = starts.first(where: { $0 < 0 || $0 + reach >= rows }) {
            throw EngineError.shapeMismatch("\(name): a window starting at row \(bad) runs past the \(rows) rows of the series")
        }
        self.name = name
        self.series = series
        self.features = features
        self.targets = targets
        self.length = length
        self.samplingRate = samplingRate
        self.targetOffset = targetOffset
        self.starts = starts
    }

    public var count: Int { starts.count }
    public var inputShape: [Int] { [length, features] }

    public func batch(_ rows: some Collection<Int>) -> (x: Tensor, y: Tensor) {
        var x = [Float](repeating: 0, count: rows.count * length * features)
        var y = [Float](repeating: 0, count: rows.count)
        series.withUnsafeBufferPointer { s in
            x.withUnsafeMutableBufferPointer { xp in
                for (n, i) in rows.enumerated() {
                    let start = starts[i]
                    for t in 0..<length {
                        (xp.baseAddress! + (n * length + t) * features)
                            .update(from: s.baseAddress! + (start + t * samplingRate) * features, count: features)
                    }
                    y[n] = targets[start + targetOffset]
                }
            }
        }
        return (try! Tensor(shape: [rows.count, length, features], scalars: x), try! Tensor(shape: [rows.count, 1], scalars: y))
    }
}
