#if canImport(Glibc)
import Glibc
#endif

/// Elementwise activations, applied over a whole batch. Every derivative is written in terms of
/// the activation's *output*, so a layer keeps one tensor for its backward pass.
public enum ActivationFunction: String, CaseIterable, Sendable {
    case linear, relu, sigmoid, tanh, softmax

    public func apply(_ x: inout [Float], rowLength: Int) {
        x.withUnsafeMutableBufferPointer { apply($0, rowLength: rowLength) }
    }

    /// `apply` on whole rows of a buffer (a block of a larger batch).
    func apply(_ p: UnsafeMutableBufferPointer<Float>, rowLength: Int) {
        switch self {
        case .linear: return
        // `x < 0 ? 0 : x` lets NaN through, as TensorFlow's relu does, so divergence shows.
        case .relu: mapInPlace(p, vector: { $0.replacing(with: 0, where: $0 .< 0) }, scalar: { $0 < 0 ? 0 : $0 })
        case .sigmoid: for i in 0..<p.count { p[i] = logistic(p[i]) }
        case .tanh: for i in 0..<p.count { p[i] = hyperbolicTangent(p[i]) }
        case .softmax: softmaxRows(p, rowLength: rowLength)
        }
    }

    /// dL/dx from dL/dy and y = f(x), in place on `dy`.
    public func backward(output: [Float], gradient: inout [Float], rowLength: Int) {
        precondition(output.count == gradient.count, "activation backward: \(output.count) outputs, \(gradient.count) gradients")
        output.withUnsafeBufferPointer { y in
            gradient.withUnsafeMutableBufferPointer { dy in backward(output: y, gradient: dy, rowLength: rowLength) }
        }
    }

    /// `backward` on whole rows of buffers (a block of a larger batch).
    func backward(output y: UnsafeBufferPointer<Float>, gradient dy: UnsafeMutableBufferPointer<Float>, rowLength: Int) {
        switch self {
        case .linear: return
        case .relu:
            combineInPlace(dy, with: y, vector: { y, d in d.replacing(with: 0, where: .!(y .> 0)) },
                           scalar: { y, d in y > 0 ? d : 0 })
        case .sigmoid: combineInPlace(dy, with: y, vector: { y, d in d * (y * (1 - y)) }, scalar: { y, d in d * (y * (1 - y)) })
        case .tanh: combineInPlace(dy, with: y, vector: { y, d in d * (1 - y * y) }, scalar: { y, d in d * (1 - y * y) })
        case .softmax:
            // dx = y ⊙ (dy − Σ dy·y), row by row.
            for base in stride(from: 0, to: dy.count, by: rowLength) {
                var dot: Float = 0
                for j in base..<(base + rowLength) { dot += dy[j] * y[j] }
                for j in base..<(base + rowLength) { dy[j] = y[j] * (dy[j] - dot) }
            }
        }
    }
}

@inline(__always)
func logistic(_ x: Float) -> Float { 1 / (1 + expf(-x)) }

/// tanh within 6 ulp at a fraction of glibc's `tanhf` cost (which goes through `expm1f`
/// and dominated LSTM training): an odd Taylor polynomial near 0, where (1 − e)/(1 + e)
/// would cancel, and one `expf` elsewhere.
@inline(__always)
func hyperbolicTangent(_ x: Float) -> Float {
    let a = abs(x)
    if a < 0.0625 {
        if a == 0 { return x }  // keeps the sign of −0
        let x2 = x * x
        return x + x * x2 * (-1.0 / 3 + x2 * (2.0 / 15 + x2 * (-17.0 / 315)))
    }
    if a > 9.1 { return x > 0 ? 1 : -1 }  // tanh rounds to ±1 in Float32 beyond this
    let e = expf(-2 * a)
    let t = (1 - e) / (1 + e)
    return x > 0 ? t : -t
}

/// Softmax over each row, shifted by the row's maximum as TensorFlow does, so large logits
/// do not overflow.
func softmaxRows(_ x: UnsafeMutableBufferPointer<Float>, rowLength: Int) {
    for base in stride(from: 0, to: x.count, by: rowLength) {
        var m = -Float.infinity
        for j in 0..<rowLength { m = max(m, x[base + j]) }
        var sum: Float = 0
        for j in 0..<rowLength {
            let e = expf(x[base + j] - m)
            x[base + j] = e
            sum += e
        }
        for j in 0..<rowLength { x[base + j] /= sum }
    }
}
