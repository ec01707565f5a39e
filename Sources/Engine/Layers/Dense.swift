/// Keras `Dense`: y = f(x·W + b) on the last axis of a [batch, features] input.
/// Kernel glorot_uniform [in, units], bias zeros, unless told otherwise.
public final class Dense: Layer {
    public let kind = "Dense"
    public var name = "dense"
    public let units: Int
    public let activation: ActivationFunction
    public let useBias: Bool
    public var kernelInitializer = Initializer.glorotUniform
    public var biasInitializer = Initializer.zeros
    public private(set) var kernel: Parameter!
    public private(set) var bias: Parameter!
    public var parameters: [Parameter] { [kernel] + (bias.map { [$0] } ?? []) }

    private var inputFeatures = 0
    private var input = Tensor(zeros: [0])
    private var output = Tensor(zeros: [0])

    public init(_ units: Int, activation: ActivationFunction = .linear, useBias: Bool = true) {
        self.units = units
        self.activation = activation
        self.useBias = useBias
    }

    public func build(inputShape: [Int], context: BuildContext) throws -> [Int] {
        guard inputShape.count == 1 else {
            throw EngineError.shapeMismatch("\(name) expects a flat input [features], got \(inputShape); add a Flatten layer")
        }
        guard units > 0 else { throw EngineError.invalidConfiguration("\(name): units must be positive") }
        inputFeatures = inputShape[0]
        _ = try checkedCount([inputFeatures, units], "\(name)'s kernel")
        var rng = context.weightStream
        kernel = Parameter(name: "\(name)/kernel", shape: [inputFeatures, units],
                           value: kernelInitializer.values(shape: [inputFeatures, units], rng: &rng))
        bias = useBias ? Parameter(name: "\(name)/bias", shape: [units], value: biasInitializer.values(shape: [units], rng: &rng)) : nil
        return [units]
    }

    public func forward(_ x: Tensor, context: ForwardContext) -> Tensor {
        precondition(x.itemCount == inputFeatures, "\(name): input has \(x.itemCount) features, expected \(inputFeatures)")
        let batch = x.batch
        var y: [Float] = uninitializedArray(count: batch * units)
        // Start from the bias so one GEMM with beta = 1 adds x·W.
        (bias?.value ?? [Float](repeating: 0, count: units)).withUnsafeBufferPointer { b in
            for r in 0..<batch { for j in 0..<units { y[r * units + j] = b[j] } }
        }
        BLAS.gemm(m: batch, n: units, k: inputFeatures, a: x.scalars, lda: inputFeatures, b: kernel.value, ldb: units, beta: 1, c: &y, ldc: units)
        activation.apply(&y, rowLength: units)
        input = x
        output = Tensor(unchecked: [batch, units], y)
        return output
    }

    public func backward(_ dy: Tensor, needsInputGradient: Bool) -> Tensor? {
        let batch = dy.batch
        var g = dy.scalars
        activation.backward(output: output.scalars, gradient: &g, rowLength: units)
        // dW = xᵀ·g, db = Σ_rows g, dx = g·Wᵀ
        BLAS.gemm(transA: true, m: inputFeatures, n: units, k: batch, a: input.scalars, lda: inputFeatures, b: g, ldb: units,
                  c: &kernel.gradient, ldc: units)
        if let bias { columnSums(g, rows: batch, columns: units, into: &bias.gradient) }
        guard needsInputGradient else { return nil }
        var dx: [Float] = uninitializedArray(count: batch * inputFeatures)
        BLAS.gemm(transB: true, m: batch, n: inputFeatures, k: units, a: g, lda: units, b: kernel.value, ldb: units, c: &dx, ldc: inputFeatures)
        return Tensor(unchecked: input.shape, dx)
    }
}

/// out[j] = Σ_r m[r, j], rows summed in order (bias gradients).
func columnSums(_ m: [Float], rows: Int, columns: Int, into out: inout [Float]) {
    precondition(out.count == columns)
    m.withUnsafeBufferPointer { mp in
        out.withUnsafeMutableBufferPointer { op in
            op.update(repeating: 0)
            for r in 0..<rows { addInPlace(op.baseAddress!, mp.baseAddress! + r * columns, count: columns) }
        }
    }
}
