/// Keras `Conv1D` with `padding="valid"`, stride 1: input [batch, steps, channels], kernel
/// [k, channels, filters] (glorot_uniform), bias zeros; output [batch, steps − k + 1, filters].
///
/// No im2col copy: the batch is one long sequence of batch·steps rows, and every product is a
/// single well-shaped GEMM against the kernel laid out tap by tap, W̃[c, j·F + f] = W[j, c, f]:
///
///     forward   Y = X · W̃            out[r] = b + Σ_j Y[r + j, tap j]        (shift-add)
///     backward  G̃[s, tap j] = G[s − j]  dW̃ = Xᵀ · G̃    dX = G̃ · W̃ᵀ
///
/// Rows that straddle two samples ((k−1) per sample, ~1% of the work) are computed and dropped
/// (their gradient is zero).
public final class Conv1D: Layer {
    public let kind = "Conv1D"
    public var name = "conv1d"
    public let filters: Int
    public let kernelSize: Int
    public let activation: ActivationFunction
    public private(set) var kernel: Parameter!
    public private(set) var bias: Parameter!
    public var parameters: [Parameter] { [kernel, bias] }

    var steps = 0, channels = 0, outSteps = 0, batch = 0
    private var input: [Float] = []
    var output: [Float] = []

    public init(_ filters: Int, kernelSize: Int, activation: ActivationFunction = .linear) {
        self.filters = filters
        self.kernelSize = kernelSize
        self.activation = activation
    }

    public func build(inputShape: [Int], context: BuildContext) throws -> [Int] {
        guard inputShape.count == 2 else {
            throw EngineError.shapeMismatch("\(name) expects [steps, channels], got \(inputShape)")
        }
        guard filters > 0, kernelSize > 0 else { throw EngineError.invalidConfiguration("\(name): filters and kernel size must be positive") }
        (steps, channels) = (inputShape[0], inputShape[1])
        outSteps = steps - kernelSize + 1
        guard outSteps > 0 else { throw EngineError.shapeMismatch("\(name): kernel \(kernelSize) longer than \(steps) steps") }
        var rng = context.weightStream
        let shape = [kernelSize, channels, filters]
        kernel = Parameter(name: "\(name)/kernel", shape: shape, value: Initializer.glorotUniform.values(shape: shape, rng: &rng))
        bias = Parameter(name: "\(name)/bias", shape: [filters], value: [Float](repeating: 0, count: filters))
        return [outSteps, filters]
    }

    /// The kernel as [channels, k·filters], tap-major along the columns.
    func tapMajorKernel() -> [Float] {
        let (k, c, f) = (kernelSize, channels, filters)
        var w = [Float](repeating: 0, count: c * k * f)
        kernel.value.withUnsafeBufferPointer { src in
            w.withUnsafeMutableBufferPointer { dst in
                for j in 0..<k {
                    for ch in 0..<c {
                        (dst.baseAddress! + ch * k * f + j * f).update(from: src.baseAddress! + (j * c + ch) * f, count: f)
                    }
                }
            }
        }
        return w
    }

    /// output[b, t] = bias + Σ_j y[row(b·steps + t + j), tap j], where y holds rows of
    /// k·filters products, one block of `filters` per tap.
    @inline(__always)
    func shiftAdd(_ y: UnsafePointer<Float>, row: (Int) -> Int) {
        let (k, f, steps, outSteps) = (kernelSize, filters, steps, outSteps), wide = k * f
        output = uninitializedArray(count: batch * outSteps * f)
        bias.value.withUnsafeBufferPointer { bp in
            output.withUnsafeMutableBufferPointer { op in
                for b in 0..<batch {
                    for t in 0..<outSteps {
                        let o = op.baseAddress! + (b * outSteps + t) * f
                        o.update(from: bp.baseAddress!, count: f)
                        for j in 0..<k { addInPlace(o, y + row(b * steps + t + j) * wide + j * f, count: f) }
                    }
                }
            }
        }
    }

    /// kernel.gradient[j, c, f] = tapMajor[c, j·F + f].
    func setKernelGradient(fromTapMajor dTapMajor: [Float]) {
        let (k, c, f) = (kernelSize, channels, filters), wide = k * f
        dTapMajor.withUnsafeBufferPointer { src in
            kernel.gradient.withUnsafeMutableBufferPointer { dst in
                for j in 0..<k {
                    for ch in 0..<c {
                        (dst.baseAddress! + (j * c + ch) * f).update(from: src.baseAddress! + ch * wide + j * f, count: f)
                    }
                }
            }
        }
    }

    public func forward(_ x: Tensor, context: ForwardContext) -> Tensor {
        precondition(Array(x.shape.dropFirst()) == [steps, channels], "\(name): input \(x.shape) vs built [\(steps), \(channels)]")
        batch = x.batch
        input = x.scalars
        let rows = batch * steps, k = kernelSize, f = filters, c = channels, wide = k * f
        var y: [Float] = uninitializedArray(count: rows * wide)
        BLAS.gemm(m: rows, n: wide, k: c, a: input, lda: c, b: tapMajorKernel(), ldb: wide, c: &y, ldc: wide)
        y.withUnsafeBufferPointer { yp in shiftAdd(yp.baseAddress!) { $0 } }
        activation.apply(&output, rowLength: f)
        return Tensor(unchecked: [batch, outSteps, f], output)
    }

    public func backward(_ dy: Tensor, needsInputGradient: Bool) -> Tensor? {
        let rows = batch * steps, k = kernelSize, f = filters, c = channels, wide = k * f
        var g = dy.scalars
        activation.backward(output: output, gradient: &g, rowLength: f)
        columnSums(g, rows: batch * outSteps, columns: f, into: &bias.gradient)
        // G̃[s, j·F + f] = G[s − j, f], with G zero on rows that straddle samples.
        var shifted = [Float](repeating: 0, count: rows * wide)
        let (steps, outSteps) = (steps, outSteps)
        g.withUnsafeBufferPointer { gp in
            shifted.withUnsafeMutableBufferPointer { sp in
                for b in 0..<batch {
                    for t in 0..<outSteps {
                        let src = gp.baseAddress! + (b * outSteps + t) * f
                        for j in 0..<k { (sp.baseAddress! + (b * steps + t + j) * wide + j * f).update(from: src, count: f) }
                    }
                }
            }
        }
        var dTapMajor: [Float] = uninitializedArray(count: c * wide)
        BLAS.gemm(transA: true, m: c, n: wide, k: rows, a: input, lda: c, b: shifted, ldb: wide, c: &dTapMajor, ldc: wide)
        setKernelGradient(fromTapMajor: dTapMajor)
        guard needsInputGradient else { return nil }
        var dx: [Float] = uninitializedArray(count: rows * c)
        BLAS.gemm(transB: true, m: rows, n: c, k: wide, a: shifted, lda: wide, b: tapMajorKernel(), ldb: wide, c: &dx, ldc: c)
        return Tensor(unchecked: [batch, steps, c], dx)
    }
}
