/// Keras `Conv2D` with `padding="valid"`, stride 1, channels last: input [batch, h, w, c],
/// kernel [kh, kw, c, filters] (glorot_uniform), bias zeros.
///
/// im2col + one GEMM: each output pixel's receptive field is kh runs of kw·c contiguous input
/// values, so the patch matrix is built with kh copies per pixel, in the kernel's own
/// (kh, kw, c) order, and out = patches · kernel lands directly in channels-last layout.
public final class Conv2D: Layer {
    public let kind = "Conv2D"
    public var name = "conv2d"
    public let filters: Int
    public let kernelSize: (Int, Int)
    public let activation: ActivationFunction
    public private(set) var kernel: Parameter!
    public private(set) var bias: Parameter!
    public var parameters: [Parameter] { [kernel, bias] }

    private var inH = 0, inW = 0, inC = 0, outH = 0, outW = 0
    private var patchLength: Int { kernelSize.0 * kernelSize.1 * inC }
    private var patches: [Float] = []
    private var output: [Float] = []
    private var batch = 0

    public init(_ filters: Int, kernelSize: (Int, Int), activation: ActivationFunction = .linear) {
        self.filters = filters
        self.kernelSize = kernelSize
        self.activation = activation
    }

    public convenience init(_ filters: Int, kernelSize: Int, activation: ActivationFunction = .linear) {
        self.init(filters, kernelSize: (kernelSize, kernelSize), activation: activation)
    }

    public func build(inputShape: [Int], context: BuildContext) throws -> [Int] {
        guard inputShape.count == 3 else {
            throw EngineError.shapeMismatch("\(name) expects [height, width, channels], got \(inputShape)")
        }
        let (kh, kw) = kernelSize
        guard filters > 0, kh > 0, kw > 0 else { throw EngineError.invalidConfiguration("\(name): filters and kernel size must be positive") }
        (inH, inW, inC) = (inputShape[0], inputShape[1], inputShape[2])
        (outH, outW) = (inH - kh + 1, inW - kw + 1)
        guard outH > 0, outW > 0 else {
            throw EngineError.shapeMismatch("\(name): a \(kh)×\(kw) kernel does not fit a \(inH)×\(inW) input")
        }
        var rng = context.weightStream
        let shape = [kh, kw, inC, filters]
        kernel = Parameter(name: "\(name)/kernel", shape: shape, value: Initializer.glorotUniform.values(shape: shape, rng: &rng))
        bias = Parameter(name: "\(name)/bias", shape: [filters], value: [Float](repeating: 0, count: filters))
        return [outH, outW, filters]
    }

    public func forward(_ x: Tensor, context: ForwardContext) -> Tensor {
        precondition(Array(x.shape.dropFirst()) == [inH, inW, inC], "\(name): input \(x.shape) vs built [\(inH), \(inW), \(inC)]")
        batch = x.batch
        let (kh, kw) = kernelSize
        let rows = batch * outH * outW, k = patchLength, run = kw * inC
        patches = uninitializedArray(count: rows * k)
        x.scalars.withUnsafeBufferPointer { xp in
            patches.withUnsafeMutableBufferPointer { pp in
                var row = 0
                for b in 0..<batch {
                    for oh in 0..<outH {
                        for ow in 0..<outW {
                            let dst = pp.baseAddress! + row * k
                            for i in 0..<kh {
                                let src = xp.baseAddress! + ((b * inH + oh + i) * inW + ow) * inC
                                (dst + i * run).update(from: src, count: run)
                            }
                            row += 1
                        }
                    }
                }
            }
        }
        output = uninitializedArray(count: rows * filters)
        bias.value.withUnsafeBufferPointer { bp in
            output.withUnsafeMutableBufferPointer { op in
                for r in 0..<rows { (op.baseAddress! + r * filters).update(from: bp.baseAddress!, count: filters) }
            }
        }
        BLAS.gemm(m: rows, n: filters, k: k, a: patches, lda: k, b: kernel.value, ldb: filters, beta: 1, c: &output, ldc: filters)
        activation.apply(&output, rowLength: filters)
        return Tensor(unchecked: [batch, outH, outW, filters], output)
    }

    public func backward(_ dy: Tensor, needsInputGradient: Bool) -> Tensor? {
        let rows = batch * outH * outW, k = patchLength
        var g = dy.scalars
        activation.backward(output: output, gradient: &g, rowLength: filters)
        BLAS.gemm(transA: true, m: k, n: filters, k: rows, a: patches, lda: k, b: g, ldb: filters, c: &kernel.gradient, ldc: filters)
        columnSums(g, rows: rows, columns: filters, into: &bias.gradient)
        guard needsInputGradient else { return nil }
        // dPatches = g · Wᵀ, then scatter-add each patch back where it was read from (col2im).
        var dPatches: [Float] = uninitializedArray(count: rows * k)
        BLAS.gemm(transB: true, m: rows, n: k, k: filters, a: g, lda: filters, b: kernel.value, ldb: filters, c: &dPatches, ldc: k)
        let (kh, kw) = kernelSize
        let run = kw * inC
        var dx = [Float](repeating: 0, count: batch * inH * inW * inC)
        dPatches.withUnsafeBufferPointer { dp in
            dx.withUnsafeMutableBufferPointer { dxp in
                var row = 0
                for b in 0..<batch {
                    for oh in 0..<outH {
                        for ow in 0..<outW {
                            let src = dp.baseAddress! + row * k
                            for i in 0..<kh {
                                let dst = dxp.baseAddress! + ((b * inH + oh + i) * inW + ow) * inC
                                addInPlace(dst, src + i * run, count: run)
                            }
                            row += 1
                        }
                    }
                }
            }
        }
        return Tensor(unchecked: [batch, inH, inW, inC], dx)
    }
}
