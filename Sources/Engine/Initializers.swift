#if canImport(Glibc)
import Glibc
#endif

/// Keras's default initializers. The draws come from optilog's own generator, so values differ
/// from Keras's; the distributions are Keras's.
public enum Initializer: Equatable, Sendable {
    case zeros
    case ones
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
