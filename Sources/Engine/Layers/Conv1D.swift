/// Keras `Conv1D` with `padding="valid"`, stride 1: input [batch, steps, channels], kernel
/// [k, channels, filters] (glorot_uniform), bias zeros; output [batch, steps − k + 1, filters].
///
/// No im2col copy: the batch is treated as one long sequence of batch·steps rows, and each
/// kernel tap j is one GEMM of the rows shifted by j against the tap's [channels, filters]
/// slice, accumulated in tap order. Rows that straddle two samples ((k−1) per sample, ~1%
/// of the work) are computed and dropped.
public final class Conv1D: Layer {
    public let kind = "Conv1D"
    public var name = "conv1d"
    public let filters: Int
    public let kernelSize: Int
    public let activation: ActivationFunction
    public private(set) var kernel: Parameter!
    public private(set) var bias: Parameter!
    public var parameters: [Parameter] { [kernel, bias] }

    private var steps = 0, channels = 0, outSteps = 0, batch = 0
    private var input: [Float] = []
    private var output: [Float] = []
    /// Rows of the "long sequence" output: batch·steps − k + 1.
    private var fullRows: Int { batch * steps - kernelSize + 1 }

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

    public func forward(_ x: Tensor, context: ForwardContext) -> Tensor {
        precondition(Array(x.shape.dropFirst()) == [steps, channels], "\(name): input \(x.shape) vs built [\(steps), \(channels)]")
        batch = x.batch
        input = x.scalars
        let rows = fullRows, f = filters, c = channels
        var full = [Float](repeating: 0, count: rows * f)
        bias.value.withUnsafeBufferPointer { bp in
            full.withUnsafeMutableBufferPointer { op in
                for r in 0..<rows { (op.baseAddress! + r * f).update(from: bp.baseAddress!, count: f) }
            }
        }
        input.withUnsafeBufferPointer { xp in
            kernel.value.withUnsafeBufferPointer { wp in
                full.withUnsafeMutableBufferPointer { op in
                    for j in 0..<kernelSize {
                        BLAS.gemm(m: rows, n: f, k: c, a: xp.baseAddress! + j * c, lda: c,
                                  b: wp.baseAddress! + j * c * f, ldb: f, beta: 1, c: op.baseAddress!, ldc: f)
                    }
                }
            }
        }
        output = [Float](repeating: 0, count: batch * outSteps * f)
        full.withUnsafeBufferPointer { fp in
            output.withUnsafeMutableBufferPointer { op in
                for b in 0..<batch {
                    (op.baseAddress! + b * outSteps * f).update(from: fp.baseAddress! + b * steps * f, count: outSteps * f)
                }
            }
        }
        activation.apply(&output, rowLength: f)
        return Tensor(unchecked: [batch, outSteps, f], output)
    }

    public func backward(_ dy: Tensor, needsInputGradient: Bool) -> Tensor? {
        let rows = fullRows, f = filters, c = channels
        var g = dy.scalars
        activation.backward(output: output, gradient: &g, rowLength: f)
        // Back to the long-sequence layout, zero on the rows that straddle samples.
        var full = [Float](repeating: 0, count: rows * f)
        g.withUnsafeBufferPointer { gp in
            full.withUnsafeMutableBufferPointer { fp in
                for b in 0..<batch {
                    (fp.baseAddress! + b * steps * f).update(from: gp.baseAddress! + b * outSteps * f, count: outSteps * f)
                }
            }
        }
        columnSums(full, rows: rows, columns: f, into: &bias.gradient)
        full.withUnsafeBufferPointer { fp in
            input.withUnsafeBufferPointer { xp in
                kernel.gradient.withUnsafeMutableBufferPointer { dw in
                    for j in 0..<kernelSize {  // dW_j = X[j ..< j+rows]ᵀ · G
                        BLAS.gemm(transA: true, m: c, n: f, k: rows, a: xp.baseAddress! + j * c, lda: c,
                                  b: fp.baseAddress!, ldb: f, c: dw.baseAddress! + j * c * f, ldc: f)
                    }
                }
            }
        }
        guard needsInputGradient else { return nil }
        var dx = [Float](repeating: 0, count: batch * steps * c)
        full.withUnsafeBufferPointer { fp in
            kernel.value.withUnsafeBufferPointer { wp in
                dx.withUnsafeMutableBufferPointer { dxp in
                    for j in 0..<kernelSize {  // dX[j ..< j+rows] += G · W_jᵀ
                        BLAS.gemm(transB: true, m: rows, n: c, k: f, a: fp.baseAddress!, lda: f,
                                  b: wp.baseAddress! + j * c * f, ldb: f, beta: 1, c: dxp.baseAddress! + j * c, ldc: c)
                    }
                }
            }
        }
        return Tensor(unchecked: [batch, steps, c], dx)
    }
}
