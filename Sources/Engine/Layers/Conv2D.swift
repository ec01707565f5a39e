/// Keras `Conv2D`, channels last: input [batch, h, w, c], kernel [kh, kw, c, filters]
/// (glorot_uniform unless told), bias zeros; `valid` or `same` padding, any strides.
///
/// im2col + GEMM: each output pixel's receptive field is kh runs of kw·c contiguous input
/// values, so the patch matrix is built with kh copies per pixel, in the kernel's own
/// (kh, kw, c) order (taps in the padding stay zero), and out = patches · kernel lands
/// directly in channels-last layout.
/// Blocks of samples (sized from the shape alone) go to the threads whole: patches, product,
/// bias and activation forward; activation, input gradient and col2im backward. Only dW, a
/// sum over every row, is one product for the batch.
public final class Conv2D: Layer {
    public let kind = "Conv2D"
    public var name = "conv2d"
    public let filters: Int
    public let kernelSize: (Int, Int)
    public let activation: ActivationFunction
    public let strides: (Int, Int)
    public let padding: Padding
    public let useBias: Bool
    public var kernelInitializer = Initializer.glorotUniform
    public var biasInitializer = Initializer.zeros
    public private(set) var kernel: Parameter!
    public private(set) var bias: Parameter!
    public var parameters: [Parameter] { [kernel] + (bias.map { [$0] } ?? []) }
    /// The kernel's shape as its owner declares it ([k, c, filters] when a Conv1D runs as a
    /// Conv2D of height 1).
    var declaredKernelShape: [Int]?

    private var inH = 0, inW = 0, inC = 0, outH = 0, outW = 0, padTop = 0, padLeft = 0
    private var patchLength: Int { kernelSize.0 * kernelSize.1 * inC }
    private var patches: [Float] = []
    private var output: [Float] = []
    private var batch = 0

    public init(_ filters: Int, kernelSize: (Int, Int), strides: (Int, Int) = (1, 1), padding: Padding = .valid,
                useBias: Bool = true, activation: ActivationFunction = .linear) {
        self.filters = filters
        self.kernelSize = kernelSize
        self.strides = strides
        self.padding = padding
        self.useBias = useBias
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
        guard strides.0 > 0, strides.1 > 0 else { throw EngineError.invalidConfiguration("\(name): strides must be positive") }
        (inH, inW, inC) = (inputShape[0], inputShape[1], inputShape[2])
        let grid = WindowGrid(height: inH, width: inW, size: kernelSize, strides: strides, padding: padding)
        (outH, outW, padTop, padLeft) = (grid.outH, grid.outW, grid.padTop, grid.padLeft)
        guard outH > 0, outW > 0 else {
            throw EngineError.shapeMismatch("\(name): a \(kh)×\(kw) kernel does not fit a \(inH)×\(inW) input")
        }
        var rng = context.weightStream
        let shape = [kh, kw, inC, filters]
        _ = try checkedCount(shape, "\(name)'s kernel")
        kernel = Parameter(name: "\(name)/kernel", shape: declaredKernelShape ?? shape, value: kernelInitializer.values(shape: shape, rng: &rng))
        bias = useBias ? Parameter(name: "\(name)/bias", shape: [filters], value: biasInitializer.values(shape: [filters], rng: &rng)) : nil
        return [outH, outW, filters]
    }

    public func forward(_ x: Tensor, context: ForwardContext) -> Tensor {
        precondition(Array(x.shape.dropFirst()) == [inH, inW, inC], "\(name): input \(x.shape) vs built [\(inH), \(inW), \(inC)]")
        batch = x.batch
        // An empty batch has no buffers to point at.
        guard batch > 0 else {
            (patches, output) = ([], [])
            return Tensor(unchecked: [0, outH, outW, filters], [])
        }
        let (kh, kw) = kernelSize
        let (inH, inW, inC, outH, outW, filters, activation) = (inH, inW, inC, outH, outW, filters, activation)
        let ((sh, sw), padTop, padLeft) = (strides, padTop, padLeft)
        let pixels = outH * outW, rows = batch * pixels, k = patchLength
        patches = uninitializedArray(count: rows * k)
        output = uninitializedArray(count: rows * filters)
        let biasValues = bias?.value ?? [Float](repeating: 0, count: filters)
        x.scalars.withUnsafeBufferPointer { xp in
        patches.withUnsafeMutableBufferPointer { pp in
        output.withUnsafeMutableBufferPointer { op in
        biasValues.withUnsafeBufferPointer { bp in
        kernel.value.withUnsafeBufferPointer { wp in
            let pointers = UncheckedSendable((xp.baseAddress!, pp.baseAddress!, op.baseAddress!, bp.baseAddress!, wp.baseAddress!))
            Parallel.forEachBlock(of: batch, size: samplesPerBlock) { samples in
                let (x, patches, out, bias, w) = pointers.value
                let first = samples.lowerBound * pixels, count = samples.count * pixels
                var row = first
                for b in samples {
                    for oh in 0..<outH {
                        let (top, taps) = windowTaps(output: oh, stride: sh, padBefore: padTop, size: kh, input: inH)
                        for ow in 0..<outW {
                            let (left, cols) = windowTaps(output: ow, stride: sw, padBefore: padLeft, size: kw, input: inW)
                            let dst = patches + row * k
                            if taps.count < kh || cols.count < kw { dst.initialize(repeating: 0, count: k) }
                            for i in taps {
                                (dst + (i * kw + cols.lowerBound) * inC)
                                    .update(from: x + ((b * inH + top + i) * inW + left + cols.lowerBound) * inC, count: cols.count * inC)
                            }
                            (out + row * filters).update(from: bias, count: filters)
                            row += 1
                        }
                    }
                }
                BLAS.serialGEMM(m: count, n: filters, k: k, a: patches + first * k, lda: k, b: w, ldb: filters,
                                beta: 1, c: out + first * filters, ldc: filters)
                activation.apply(UnsafeMutableBufferPointer(start: out + first * filters, count: count * filters), rowLength: filters)
            }
        }}}}}
        return Tensor(unchecked: [batch, outH, outW, filters], output)
    }

    /// Samples per block handed to a thread: at least 256 rows of the product, and about 64 K
    /// patch values.
    private var samplesPerBlock: Int {
        let pixels = outH * outW
        return max((256 + pixels - 1) / pixels, Parallel.samplesPerBlock(itemsPerSample: pixels * patchLength))
    }

    public func backward(_ dy: Tensor, needsInputGradient: Bool) -> Tensor? {
        guard batch > 0 else {
            for p in parameters { p.gradient = [Float](repeating: 0, count: p.count) }
            return needsInputGradient ? Tensor(unchecked: [0, inH, inW, inC], []) : nil
        }
        let (kh, kw) = kernelSize
        let (inH, inW, inC, outH, outW, filters, activation) = (inH, inW, inC, outH, outW, filters, activation)
        let ((sh, sw), padTop, padLeft) = (strides, padTop, padLeft)
        let pixels = outH * outW, rows = batch * pixels, k = patchLength
        // g = dL/d(pre-activation), made block by block from dy on the threads.
        var g: [Float] = uninitializedArray(count: rows * filters)
        var dx: [Float] = needsInputGradient ? uninitializedArray(count: batch * inH * inW * inC) : []
        // dPatches = g · Wᵀ per block, then scatter-added back where each patch was read (col2im).
        var dPatches: [Float] = needsInputGradient ? uninitializedArray(count: rows * k) : []
        dy.scalars.withUnsafeBufferPointer { dyp in
        output.withUnsafeBufferPointer { yp in
        g.withUnsafeMutableBufferPointer { gp in
        kernel.value.withUnsafeBufferPointer { wp in
        dPatches.withUnsafeMutableBufferPointer { dpp in
        dx.withUnsafeMutableBufferPointer { dxp in
            let pointers = UncheckedSendable((dyp.baseAddress!, yp.baseAddress!, gp.baseAddress!, wp.baseAddress!, dpp.baseAddress, dxp.baseAddress))
            Parallel.forEachBlock(of: batch, size: samplesPerBlock) { samples in
                let (dy, y, g, w, dPatches, dx) = pointers.value
                let first = samples.lowerBound * pixels, count = samples.count * pixels
                (g + first * filters).update(from: dy + first * filters, count: count * filters)
                activation.backward(output: UnsafeBufferPointer(start: y + first * filters, count: count * filters),
                                    gradient: UnsafeMutableBufferPointer(start: g + first * filters, count: count * filters),
                                    rowLength: filters)
                guard needsInputGradient, let dPatches, let dx else { return }
                BLAS.serialGEMM(transB: true, m: count, n: k, k: filters, a: g + first * filters, lda: filters, b: w, ldb: filters,
                                c: dPatches + first * k, ldc: k)
                let sample = inH * inW * inC
                (dx + samples.lowerBound * sample).initialize(repeating: 0, count: samples.count * sample)
                var row = first
                for b in samples {
                    for oh in 0..<outH {
                        let (top, taps) = windowTaps(output: oh, stride: sh, padBefore: padTop, size: kh, input: inH)
                        for ow in 0..<outW {
                            let (left, cols) = windowTaps(output: ow, stride: sw, padBefore: padLeft, size: kw, input: inW)
                            let src = dPatches + row * k
                            for i in taps {
                                addInPlace(dx + ((b * inH + top + i) * inW + left + cols.lowerBound) * inC,
                                           src + (i * kw + cols.lowerBound) * inC, count: cols.count * inC)
                            }
                            row += 1
                        }
                    }
                }
            }
        }}}}}}
        BLAS.gemm(transA: true, m: k, n: filters, k: rows, a: patches, lda: k, b: g, ldb: filters, c: &kernel.gradient, ldc: filters)
        if let bias { columnSums(g, rows: rows, columns: filters, into: &bias.gradient) }
        guard needsInputGradient else { return nil }
        return Tensor(unchecked: [batch, inH, inW, inC], dx)
    }
}
