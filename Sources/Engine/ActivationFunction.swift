#if canImport(Glibc)
import Glibc
#endif

/// Elementwise activations, applied over a whole batch. Every derivative is written in terms of
/// the activation's *output*, so a layer keeps one tensor for its backward pass.
public enum ActivationFunction: String, CaseIterable, Sendable {
    case linear, relu, sigmoid, tanh, softmax

    public func apply(_ x: inout [Float], rowLength: Int) {
        switch self {
        case .linear: return
        case .relu: for i in x.indices where !(x[i] > 0) { x[i] = 0 }
        case .sigmoid: for i in x.indices { x[i] = logistic(x[i]) }
        case .tanh: for i in x.indices { x[i] = tanhf(x[i]) }
        case .softmax: softmaxRows(&x, rowLength: rowLength)
        }
    }

    /// dL/dx from dL/dy and y = f(x), in place on `dy`.
    public func backward(output y: [Float], gradient dy: inout [Float], rowLength: Int) {
        switch self {
        case .linear: return
        case .relu: for i in dy.indices where !(y[i] > 0) { dy[i] = 0 }
        case .sigmoid: for i in dy.indices { dy[i] *= y[i] * (1 - y[i]) }
        case .tanh: for i in dy.indices { dy[i] *= 1 - y[i] * y[i] }
        case .softmax:
            // dx = y ⊙ (dy − Σ dy·y), row by row.
            let rows = y.count / rowLength
            for r in 0..<rows {
                let base = r * rowLength
                var dot: Float = 0
                for j in 0..<rowLength { dot += dy[base + j] * y[base + j] }
                for j in 0..<rowLength { dy[base + j] = y[base + j] * (dy[base + j] - dot) }
            }
        }
    }
}

@inline(__always)
func logistic(_ x: Float) -> Float { 1 / (1 + expf(-x)) }

/// Softmax over each row, shifted by the row's maximum as TensorFlow does, so large logits
/// do not overflow.
func softmaxRows(_ x: inout [Float], rowLength: Int) {
    let rows = x.count / rowLength
    for r in 0..<rows {
        let base = r * rowLength
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
