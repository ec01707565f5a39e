#if canImport(Glibc)
import Glibc
#endif

/// Keras's initializers. The draws come from optilog's own generator, so values differ from
/// Keras's; the distributions are Keras's.
public enum Initializer: Equatable, Sendable {
    /// Which fans VarianceScaling divides by.
    public enum FanMode: String, Sendable { case fanIn = "fan_in", fanOut = "fan_out", fanAverage = "fan_avg" }
    public enum Distribution: String, Sendable {
        case truncatedNormal = "truncated_normal", untruncatedNormal = "untruncated_normal", uniform
    }

    case zeros
    case ones
    case constant(Float)
    /// Keras's VarianceScaling, the family of GlorotNormal, HeUniform, HeNormal, LecunUniform and
    /// LecunNormal (GlorotUniform keeps its own case, the built-in models' bits).
    case varianceScaling(scale: Double, mode: FanMode, distribution: Distribution)
    /// N(mean, stddev).
    case normal(mean: Float, stddev: Float)
    /// N(mean, stddev) redrawn outside two standard deviations.
    case truncatedNormal(mean: Float, stddev: Float)
    /// U(-limit, limit), limit = sqrt(6 / (fan_in + fan_out)); Keras's Dense/Conv/LSTM kernel default.
    case glorotUniform
    /// U(low, high); Keras's Embedding default is U(-0.05, 0.05).
    case uniform(low: Float, high: Float)
    /// A (semi-)orthogonal matrix from the QR decomposition of a Gaussian one; LSTM's recurrent kernel.
    case orthogonal(gain: Float)

    /// Fans as Keras computes them: the last axis is fan_out, the one before fan_in, the rest the
    /// receptive field that multiplies both.
    static func fans(_ shape: [Int]) -> (in: Int, out: Int) {
        switch shape.count {
        case 0: return (1, 1)
        case 1: return (shape[0], shape[0])
        case 2: return (shape[0], shape[1])
        default:
            let receptive = shape.dropLast(2).reduce(1, *)
            return (shape[shape.count - 2] * receptive, shape[shape.count - 1] * receptive)
        }
    }

    public func values(shape: [Int], rng: inout RandomStream) -> [Float] {
        let count = shape.reduce(1, *)
        switch self {
        case .zeros: return [Float](repeating: 0, count: count)
        case .ones: return [Float](repeating: 1, count: count)
        case .constant(let v): return [Float](repeating: v, count: count)
        case let .normal(mean, stddev):
            return (0..<count).map { _ in mean + stddev * Float(rng.normal()) }
        case let .truncatedNormal(mean, stddev):
            return (0..<count).map { _ in mean + stddev * Float(Self.truncated(&rng)) }
        case let .varianceScaling(scale, mode, distribution):
            let (fanIn, fanOut) = Self.fans(shape)
            let n: Double
            switch mode {
            case .fanIn: n = Double(max(1, fanIn))
            case .fanOut: n = Double(max(1, fanOut))
            case .fanAverage: n = max(1, Double(fanIn + fanOut) / 2)
            }
            let variance = scale / n
            switch distribution {
            case .uniform:
                let limit = Float((3 * variance).squareRoot())
                return (0..<count).map { _ in rng.uniform(-limit, limit) }
            case .untruncatedNormal:
                let stddev = variance.squareRoot()
                return (0..<count).map { _ in Float(stddev * rng.normal()) }
            case .truncatedNormal:
                // Keras: the standard deviation of N(0, 1) truncated to ±2 is 0.8796…
                let stddev = variance.squareRoot() / 0.87962566103423978
                return (0..<count).map { _ in Float(stddev * Self.truncated(&rng)) }
            }
        case .glorotUniform:
            let (fanIn, fanOut) = Self.fans(shape)
            let limit = Float((6.0 / Double(max(1, fanIn + fanOut))).squareRoot())
            return (0..<count).map { _ in rng.uniform(-limit, limit) }
        case let .uniform(low, high):
            return (0..<count).map { _ in rng.uniform(low, high) }
        case .orthogonal(let gain):
            return Self.orthogonal(shape: shape, gain: gain, rng: &rng)
        }
    }

    /// A standard normal value within two standard deviations.
    private static func truncated(_ rng: inout RandomStream) -> Double {
        while true {
            let z = rng.normal()
            if abs(z) <= 2 { return z }
        }
    }

    /// Keras: rows = prod(shape[:-1]), cols = shape[-1]; QR of a normal (max × min) matrix,
    /// Q's columns sign-fixed by diag(R), transposed when rows < cols.
    private static func orthogonal(shape: [Int], gain: Float, rng: inout RandomStream) -> [Float] {
        let cols = shape.last ?? 1
        let rows = shape.dropLast().reduce(1, *)
        let n = max(rows, cols), k = min(rows, cols)
        // a: n × k Gaussian, column-major for Gram–Schmidt convenience.
        var q = [[Double]](repeating: [Double](repeating: 0, count: n), count: k)
        for i in 0..<n { for j in 0..<k { q[j][i] = rng.normal() } }
        // Modified Gram–Schmidt twice ("twice is enough"): numerically orthonormal columns in
        // Float64; R's diagonal is positive by construction, which is the sign fix Keras applies.
        for j in 0..<k {
            for _ in 0..<2 {
                for p in 0..<j {
                    var dot = 0.0
                    for i in 0..<n { dot += q[p][i] * q[j][i] }
                    for i in 0..<n { q[j][i] -= dot * q[p][i] }
                }
            }
            var norm = 0.0
            for i in 0..<n { norm += q[j][i] * q[j][i] }
            norm = norm.squareRoot()
            for i in 0..<n { q[j][i] /= norm }
        }
        var out = [Float](repeating: 0, count: rows * cols)
        for r in 0..<rows {
            for c in 0..<cols {
                // rows >= cols: out = Q (n × k); otherwise out = Qᵀ (k × n).
                let v = rows >= cols ? q[c][r] : q[r][c]
                out[r * cols + c] = gain * Float(v)
            }
        }
        return out
    }
}
