import CKernels
import Synchronization

/// Keras `LSTM`: [batch, steps, features] → the last hidden state [batch, units], or every
/// step's [batch, steps, units] with `returnSequences` (to feed a second LSTM). Gates in Keras's
/// order i, f, c, o with sigmoid / tanh:
///
///     z = b + x_t·W + h·U;  i, f, o = σ(z_i, z_f, z_o);  g = tanh(z_c)
///     c = f⊙c + i⊙g;        h = o⊙tanh(c)
///
/// Kernel W [features, 4u] glorot_uniform, recurrent kernel U [u, 4u] orthogonal, bias zeros
/// with the forget slice at 1 (unit_forget_bias). A step is one pass of a SIMD kernel
/// (CKernels): z for four batch rows at once, the gates and the state update. Batch rows never
/// interact, so blocks of rows go to threads and the bits do not depend on how many.
/// Backpropagation through time keeps every step's gates, entering state and tanh(c); dW and
/// dU are then single products over all steps and rows, dx one GEMM. Everything is kept
/// batch-major ([batch, steps, …]), the input's own order, so nothing is transposed.
public final class LSTM: Layer {
    public let kind = "LSTM"
    public var name = "lstm"
    public let units: Int
    public let returnSequences: Bool
    public var kernelInitializer = Initializer.glorotUniform
    public var recurrentInitializer = Initializer.orthogonal(gain: 1)
    public var biasInitializer = Initializer.zeros
    /// Adds 1 to the forget gate's bias at initialisation (Keras's default).
    public var unitForgetBias = true
    public private(set) var kernel: Parameter!
    public private(set) var recurrentKernel: Parameter!
    public private(set) var bias: Parameter!
    public var parameters: [Parameter] { [kernel, recurrentKernel, bias] }

    private var steps = 0, features = 0, batch = 0
    /// The last forward pass's input [batch, steps, features].
    private var input: [Float] = []
    /// Gate activations i, f, g, o per step, [batch, steps, 4u].
    private var gates: [Float] = []
    /// The hidden and cell state entering each step, [batch, steps, u] (zeros at step 0).
    private var hiddenIn: [Float] = [], cellIn: [Float] = []
    /// tanh(c) per step [batch, steps, u], for the backward pass.
    private var tanhCells: [Float] = []
    /// Gradients with respect to each step's pre-activations, [batch, steps, 4u]; kept between
    /// steps so that training does not allocate and clear it each time.
    private var dz: [Float] = []

    /// Batch rows per block handed to a thread: fixed, so the blocks depend on the shape alone.
    static let rowsPerBlock = 8
    /// Columns of dW and dU per block handed to a thread (the kernel's tile width).
    static let columnsPerBlock = 32

    public init(_ units: Int, returnSequences: Bool = false) {
        self.units = units
        self.returnSequences = returnSequences
    }

    public func build(inputShape: [Int], context: BuildContext) throws -> [Int] {
        guard inputShape.count == 2, inputShape[0] > 0 else {
            throw EngineError.shapeMismatch("\(name) expects [steps, features], got \(inputShape)")
        }
        guard units > 0 else { throw EngineError.invalidConfiguration("\(name): units must be positive") }
        (steps, features) = (inputShape[0], inputShape[1])
        let u = units
        _ = try checkedCount([max(features, u), 4, u], "\(name)'s kernels")
        var rng = context.weightStream
        kernel = Parameter(name: "\(name)/kernel", shape: [features, 4 * u],
                           value: kernelInitializer.values(shape: [features, 4 * u], rng: &rng))
        recurrentKernel = Parameter(name: "\(name)/recurrent_kernel", shape: [u, 4 * u],
                                    value: recurrentInitializer.values(shape: [u, 4 * u], rng: &rng))
        var b: [Float]
        if unitForgetBias {
            // Keras: the initializer for the input, cell and output slices, ones for the forget slice.
            let slice = biasInitializer.values(shape: [u], rng: &rng)
            b = slice + [Float](repeating: 1, count: u) + biasInitializer.values(shape: [2 * u], rng: &rng)
        } else {
            b = biasInitializer.values(shape: [4 * u], rng: &rng)
        }
        bias = Parameter(name: "\(name)/bias", shape: [4 * u], value: b)
        return returnSequences ? [steps, u] : [u]
    }

    public func forward(_ x: Tensor, context: ForwardContext) -> Tensor {
        precondition(Array(x.shape.dropFirst()) == [steps, features], "\(name): input \(x.shape) vs built [\(steps), \(features)]")
        batch = x.batch
        let (u, stepCount, featureCount, rowCount) = (units, steps, features, batch)
        // An empty batch has no buffers to point at.
        guard rowCount > 0 else { return Tensor(unchecked: returnSequences ? [0, stepCount, u] : [0, u], []) }
        input = x.scalars
        // Every element of these is written by the kernel; only their size may change.
        resize(&gates, to: rowCount * stepCount * 4 * u)
        resize(&hiddenIn, to: rowCount * stepCount * u)
        resize(&cellIn, to: rowCount * stepCount * u)
        resize(&tanhCells, to: rowCount * stepCount * u)
        var last = [Float](repeating: 0, count: rowCount * u)
        let failed = Atomic<Bool>(false)
        input.withUnsafeBufferPointer { xp in
        kernel.value.withUnsafeBufferPointer { wp in
        recurrentKernel.value.withUnsafeBufferPointer { up in
        bias.value.withUnsafeBufferPointer { bp in
        gates.withUnsafeMutableBufferPointer { gp in
        hiddenIn.withUnsafeMutableBufferPointer { hp in
        cellIn.withUnsafeMutableBufferPointer { cp in
        tanhCells.withUnsafeMutableBufferPointer { tp in
        last.withUnsafeMutableBufferPointer { lp in
            let pointers = UncheckedSendable((xp.baseAddress!, wp.baseAddress!, up.baseAddress!, bp.baseAddress!, gp.baseAddress!,
                                              hp.baseAddress!, cp.baseAddress!, tp.baseAddress!, lp.baseAddress!))
            Parallel.forEach((rowCount + Self.rowsPerBlock - 1) / Self.rowsPerBlock) { block in
                let (x, w, um, b, g, h, c, t, l) = pointers.value
                let begin = block * Self.rowsPerBlock, end = min(rowCount, begin + Self.rowsPerBlock)
                if optilog_lstm_forward(stepCount, featureCount, u, begin, end, x, w, um, b, g, h, c, t, l) != 0 {
                    failed.store(true, ordering: .relaxed)
                }
            }
        }}}}}}}}}
        precondition(!failed.load(ordering: .relaxed), "\(name): out of memory in the forward pass")
        guard returnSequences else { return Tensor(unchecked: [rowCount, u], last) }
        // Step t's output is the state entering step t + 1; the last step's is `last`.
        var sequence = [Float](repeating: 0, count: rowCount * stepCount * u)
        for b in 0..<rowCount {
            for t in 0..<stepCount {
                let dst = (b * stepCount + t) * u
                if t + 1 < stepCount {
                    for j in 0..<u { sequence[dst + j] = hiddenIn[dst + u + j] }
                } else {
                    for j in 0..<u { sequence[dst + j] = last[b * u + j] }
                }
            }
        }
        return Tensor(unchecked: [rowCount, stepCount, u], sequence)
    }

    public func backward(_ dy: Tensor, needsInputGradient: Bool) -> Tensor? {
        let (u, stepCount, featureCount, rowCount) = (units, steps, features, batch)
        guard rowCount > 0 else {
            for p in parameters { p.gradient = [Float](repeating: 0, count: p.count) }
            return needsInputGradient ? Tensor(unchecked: [0, stepCount, featureCount], []) : nil
        }
        let g4 = 4 * u, rows = rowCount * stepCount, sequences = returnSequences
        resize(&dz, to: rows * g4)
        // Uᵀ [4u, u], so that dh(t−1) = dz(t)·Uᵀ reads rows.
        var transposed = [Float](repeating: 0, count: g4 * u)
        for j in 0..<u { for g in 0..<g4 { transposed[g * u + j] = recurrentKernel.value[j * g4 + g] } }
        let failed = Atomic<Bool>(false)
        gates.withUnsafeBufferPointer { gp in
        cellIn.withUnsafeBufferPointer { cp in
        tanhCells.withUnsafeBufferPointer { tp in
        dy.scalars.withUnsafeBufferPointer { hp in
        transposed.withUnsafeBufferPointer { up in
        dz.withUnsafeMutableBufferPointer { dzp in
            let pointers = UncheckedSendable((gp.baseAddress!, cp.baseAddress!, tp.baseAddress!, hp.baseAddress!,
                                              up.baseAddress!, dzp.baseAddress!))
            Parallel.forEach((rowCount + Self.rowsPerBlock - 1) / Self.rowsPerBlock) { block in
                let (g, c, t, h, ut, d) = pointers.value
                let begin = block * Self.rowsPerBlock, end = min(rowCount, begin + Self.rowsPerBlock)
                if optilog_lstm_backward(stepCount, u, begin, end, g, c, t, sequences ? nil : h, sequences ? h : nil, ut, d) != 0 {
                    failed.store(true, ordering: .relaxed)
                }
            }
        }}}}}}
        precondition(!failed.load(ordering: .relaxed), "\(name): out of memory in the backward pass")
        // dU = Σ h(t−1)ᵀ·dz(t) and dW = Σ x(t)ᵀ·dz(t) over every step of every row: column
        // blocks of both, independent, on the threads.
        let blocksPerProduct = (g4 + Self.columnsPerBlock - 1) / Self.columnsPerBlock
        hiddenIn.withUnsafeBufferPointer { hp in
        input.withUnsafeBufferPointer { xp in
        dz.withUnsafeBufferPointer { dzp in
        recurrentKernel.gradient.withUnsafeMutableBufferPointer { dup in
        kernel.gradient.withUnsafeMutableBufferPointer { dwp in
            let pointers = UncheckedSendable((hp.baseAddress!, xp.baseAddress!, dzp.baseAddress!, dup.baseAddress!, dwp.baseAddress!))
            Parallel.forEach(2 * blocksPerProduct) { block in
                let (h, x, d, du, dw) = pointers.value
                let begin = (block % blocksPerProduct) * Self.columnsPerBlock, end = min(g4, begin + Self.columnsPerBlock)
                if block < blocksPerProduct {
                    optilog_gemm_tn(rows, u, h, u, d, g4, du, g4, begin, end)
                } else {
                    optilog_gemm_tn(rows, featureCount, x, featureCount, d, g4, dw, g4, begin, end)
                }
            }
        }}}}}
        columnSums(dz, rows: rows, columns: g4, into: &bias.gradient)
        guard needsInputGradient else { return nil }
        var dx = [Float](repeating: 0, count: rows * featureCount)
        BLAS.gemm(transB: true, m: rows, n: featureCount, k: g4, a: dz, lda: g4, b: kernel.value, ldb: g4, c: &dx, ldc: featureCount)
        return Tensor(unchecked: [rowCount, stepCount, featureCount], dx)
    }

    /// Gives `buffer` `count` elements, keeping its storage when the size is unchanged (callers
    /// overwrite every element).
    private func resize(_ buffer: inout [Float], to count: Int) {
        if buffer.count != count { buffer = [Float](repeating: 0, count: count) }
    }
}
