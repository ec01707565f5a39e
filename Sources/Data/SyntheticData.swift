import Engine

/// Learnable stand-ins with the canonical shapes of the four problems, drawn from a seed.
///
/// They exist for what must run without any data files: the engine's smoke run, benchmarks
/// (where only shapes and arithmetic matter) and tests. Each has a real signal, so a loss that
/// does not fall means something is wrong.
public enum SyntheticData {
    public static func make(_ architecture: Architecture, count: Int, seed: UInt64, vocabulary: Int = 10_000,
                            sampleStream: UInt64 = 1) throws -> Dataset {
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
            let steps = 120, features = 14
            var x = [Float](), y = [Float]()
            x.reserveCapacity(count * steps * features)
            for _ in 0..<count {
                var level = (0..<features).map { _ in Float(rng.normal()) }
                var window = [Float]()
                for _ in 0..<steps {
                    for f in 0..<features { level[f] = 0.95 * level[f] + 0.3 * Float(rng.normal()) }
                    window += level
                }
                x += window
                // "Temperature 24 h ahead": the recent mean of feature 1, plus noise.
                var recent: Float = 0
                for t in (steps - 6)..<steps { recent += window[t * features + 1] }
                y.append(recent / 6 + 0.1 * Float(rng.normal()))
            }
            return try Dataset(name: "synthetic_jena", x: Tensor(shape: [count, steps, features], scalars: x),
                               y: Tensor(shape: [count, 1], scalars: y))
        }
    }

    /// Training and validation sets drawn from the same signal with disjoint sample streams.
    public static func splits(_ architecture: Architecture, train: Int, validation: Int, seed: UInt64) throws -> DataSplits {
        var t = try make(architecture, count: train, seed: seed, sampleStream: 1)
        var v = try make(architecture, count: validation, seed: seed, sampleStream: 2)
        t.name += "_train"
        v.name += "_validation"
        return DataSplits(train: t, validation: v)
    }
}
