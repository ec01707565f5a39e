import Engine
#if canImport(Glibc)
import Glibc
#endif

/// Learnable stand-ins with the canonical shapes of the four problems, drawn from a seed.
///
/// They exist for what must run without any data files: the engine's smoke run, benchmarks
/// (where only shapes and arithmetic matter) and tests. Each has a real signal, so a loss that
/// does not fall means something is wrong.
public enum SyntheticData {
    public static func make(_ architecture: StudyTask, count: Int, seed: UInt64, vocabulary: Int = 10_000,
                            sampleStream: UInt64 = 1) throws -> any SampleSource {
        precondition(count > 0, "count must be positive")
        var rng = RandomStream(seed: seed, purpose: .data, 1, sampleStream)
        // The signal (weights, templates, sentiment words) depends on the seed only, not on the
        // split, so training and validation sets share it.
        var signal = RandomStream(seed: seed, purpose: .data, 2)
        switch architecture {
        case .boston:
            let w = (0..<13).map { _ in Float(signal.normal()) }
            var x = [Float](), y = [Float]()
            for _ in 0..<count {
                let row = (0..<13).map { _ in Float(rng.normal()) }
                var s: Float = 0
                for j in 0..<13 { s += row[j] * w[j] }
                x += row
                y.append(22 + 2 * s + abs(row[0]) * 3 + 0.5 * Float(rng.normal()))
            }
            return try Dataset(name: "synthetic_boston", x: Tensor(shape: [count, 13], scalars: x), y: Tensor(shape: [count, 1], scalars: y))
        case .fashionMNIST:
            let pixels = 28 * 28
            let templates = (0..<10).map { _ in (0..<pixels).map { _ -> Float in signal.nextFloat() < 0.3 ? 1 : 0 } }
            var x = [Float](), y = [Float](repeating: 0, count: count * 10)
            x.reserveCapacity(count * pixels)
            for i in 0..<count {
                let c = rng.nextInt(below: 10)
                y[i * 10 + c] = 1
                for p in 0..<pixels { x.append(0.7 * templates[c][p] + 0.3 * rng.nextFloat()) }
            }
            return try Dataset(name: "synthetic_fashion_mnist", x: Tensor(shape: [count, 28, 28, 1], scalars: x),
                               y: Tensor(shape: [count, 10], scalars: y))
        case .imdb:
            let length = 500
            let positive = (0..<20).map { _ in Float(3 + signal.nextInt(below: vocabulary - 3)) }
            let negative = (0..<20).map { _ in Float(3 + signal.nextInt(below: vocabulary - 3)) }
            var x = [Float](), y = [Float]()
            x.reserveCapacity(count * length)
            for _ in 0..<count {
                let label = rng.nextInt(below: 2)
                y.append(Float(label))
                let words = label == 1 ? positive : negative
                x.append(1)  // Keras's start_char
                for _ in 1..<length {
                    x.append(rng.nextFloat() < 0.1 ? words[rng.nextInt(below: words.count)] : Float(3 + rng.nextInt(below: vocabulary - 3)))
                }
            }
            return try Dataset(name: "synthetic_imdb", x: Tensor(shape: [count, length], scalars: x), y: Tensor(shape: [count, 1], scalars: y))
        case .jena:
            // An hourly series (a daily cycle plus AR(1) weather) windowed as the study does:
            // 120 hours of 14 features, target column 1 ("temperature") 24 hours after the window.
            let features = 14, length = 120, offset = length + 24 - 1
            let rows = count + offset + 1
            let mixing = (0..<features).map { _ in Float(signal.normal()) * 0.5 }
            var series = [Float](), weather: Float = 0
            series.reserveCapacity(rows * features)
            for r in 0..<rows {
                weather = 0.97 * weather + 0.25 * Float(rng.normal())
                let daily = sinf(2 * Float.pi * Float(r % 24) / 24)
                for f in 0..<features {
                    series.append(f == 1 ? daily + weather : mixing[f] * weather + 0.3 * daily + 0.2 * Float(rng.normal()))
                }
            }
            let temperature = (0..<rows).map { series[$0 * features + 1] }
            return try WindowedSeries(name: "synthetic_jena", series: series, features: features, targets: temperature,
                                      length: length, samplingRate: 1, targetOffset: offset, starts: Array(0..<count))
        }
    }

    /// Training and validation sets drawn from the same signal with disjoint sample streams.
    public static func splits(_ architecture: StudyTask, train: Int, validation: Int, seed: UInt64) throws -> DataSplits {
        DataSplits(train: try make(architecture, count: train, seed: seed, sampleStream: 1),
                   validation: try make(architecture, count: validation, seed: seed, sampleStream: 2))
    }
}
