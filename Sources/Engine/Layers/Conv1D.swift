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
///
/// With `same` padding, strides or no bias, the layer runs as a Conv2D of height 1 (whose
/// kernel [1, k, c, f] has the same values in the same order as [k, c, f]).
public final class Conv1D: Layer {
    public let kind = "Conv1D"
    public var name = "conv1d"
    public let filters: Int
    public let kernelSize: Int
    public let activation: ActivationFunction
    public let strides: Int
    public let padding: Padding
    public let useBias: Bool
    public var kernelInitializer = Initializer.glorotUniform
    public var biasInitializer = Initializer.zeros
    public private(set) var kernel: Parameter!
    public private(set) var bias: Parameter!
    public var parameters: [Parameter] { general?.parameters ?? [kernel, bias] }
    /// Valid padding, stride 1 and a bias: the shift-add products below (and the fused stage).
    public var isPlain: Bool { padding == .valid && strides == 1 && useBias }
    /// Every other configuration.
    private var general: Conv2D?

    var steps = 0, channels = 0, outSteps = 0, batch = 0
    private var input: [Float] = []
    var output: [Float] = []

    public init(_ filters: Int, kernelSize: Int, strides: Int = 1, padding: Padding = .valid, useBias: Bool = true,
                activation: ActivationFunction = .linear) {
        self.filters = filters
        self.kernelSize = kernelSize
        self.strides = strides
        self.padding = padding
        self.useBias = useBias
        self.activation = activation
    }

    public func build(inputShape: [Int], context: BuildContext) throws -> [Int] {
        guard inputShape.count == 2 else {
            throw EngineError.shapeMismatch("\(name) expects [steps, channels], got \(inputShape)")
        }
        guard filters > 0, kernelSize > 0 else { throw EngineError.invalidConfiguration("\(name): filters and kernel size must be positive") }
        (steps, channels) = (inputShape[0], inputShape[1])
        if !isPlain {
            let conv = Conv2D(filters, kernelSize: (1, kernelSize), strides: (1, strides), padding: padding, useBias: useBias,
                              activation: activation)
            (conv.name, conv.kernelInitializer, conv.biasInitializer) = (name, kernelInitializer, biasInitializer)
            conv.declaredKernelShape = [kernelSize, channels, filters]
            general = conv
            let shape = try conv.build(inputShape: [1, steps, channels], context: context)
            (kernel, bias, outSteps) = (conv.kernel, conv.bias, shape[1])
            return [outSteps, filters]
        }
        outSteps = steps - kernelSize + 1
        guard outSteps > 0 else { throw EngineError.shapeMismatch("\(name): kernel \(kernelSize) longer than \(steps) steps") }
        var rng = context.weightStream
        let shape = [kernelSize, channels, filters]
        _ = try checkedCount(shape, "\(name)'s kernel")
        kernel = Parameter(name: "\(name)/kernel", shape: shape, value: kernelInitializer.values(shape: shape, rng: &rng))
        bias = Parameter(name: "\(name)/bias", shape: [filters], value: biasInitializer.values(shape: [filters], rng: &rng))
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
        if let general {
            let y = general.forward(Tensor(unchecked: [batch, 1, steps, channels], x.scalars), context: context)
            return Tensor(unchecked: [batch, outSteps, filters], y.scalars)
        }
        input = x.scalars
        let rows = batch * steps, k = kernelSize, f = filters, c = channels, wide = k * f
        var y: [Float] = uninitializedArray(count: rows * wide)
        BLAS.gemm(m: rows, n: wide, k: c, a: input, lda: c, b: tapMajorKernel(), ldb: wide, c: &y, ldc: wide)
        y.withUnsafeBufferPointer { yp in shiftAdd(yp.baseAddress!) { $0 } }
        activation.apply(&output, rowLength: f)
        return Tensor(unchecked: [batch, outSteps, f], output)
    }

    public func backward(_ dy: Tensor, needsInputGradient: Bool) -> Tensor? {
        if let general {
            let dx = general.backward(Tensor(unchecked: [batch, 1, outSteps, filters], dy.scalars), needsInputGradient: needsInputGradient)
            return dx.map { [batch, steps, channels] in Tensor(unchecked: [batch, steps, channels], $0.scalars) }
        }
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
