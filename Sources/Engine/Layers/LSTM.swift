import CKernels
import Synchronization

/// Keras `LSTM` (return_sequences=False): [batch, steps, features] → the last hidden state
/// [batch, units]. Gates in Keras's order i, f, c, o with sigmoid / tanh:
///
///     z = x_t·W + h·U + b;  i, f, o = σ(z_i, z_f, z_o);  g = tanh(z_c)
///     c = f⊙c + i⊙g;        h = o⊙tanh(c)
///
/// Kernel W [features, 4u] glorot_uniform, recurrent kernel U [u, 4u] orthogonal, bias zeros
/// with the forget slice at 1 (unit_forget_bias). The input projection of every step is one
/// GEMM before the loop; per step, h·U, the gates and the state update are one pass of a SIMD
/// kernel (CKernels), row by row: batch rows never interact, so blocks of rows go to threads
/// and the bits do not depend on how many. Backpropagation through time keeps every step's
/// gates and tanh(c), then forms dW, dU and dx as single GEMMs over all steps.
public final class LSTM: Layer {
    public let kind = "LSTM"
    public var name = "lstm"
    public let units: Int
    public private(set) var kernel: Parameter!
    public private(set) var recurrentKernel: Parameter!
    public private(set) var bias: Parameter!
    public var parameters: [Parameter] { [kernel, recurrentKernel, bias] }

    private var steps = 0, features = 0, batch = 0
    /// Inputs in time-major order [steps, batch, features].
    private var xs: [Float] = []
    /// Gate activations i, f, g, o per step, [steps, batch, 4u].
    private var gates: [Float] = []
    /// Cell states [steps + 1, batch, u]; entry 0 is the zero initial state.
    private var cells: [Float] = []
    /// Hidden states [steps + 1, batch, u]; entry 0 is the zero initial state.
    private var hiddens: [Float] = []
    /// tanh(c) per step [steps, batch, u], for the backward pass.
    private var tanhCells: [Float] = []

    /// Batch rows per block handed to a thread: fixed, so the blocks depend on the shape alone.
    static let rowsPerBlock = 8

    public init(_ units: Int) { self.units = units }

    public func build(inputShape: [Int], context: BuildContext) throws -> [Int] {
        guard inputShape.count == 2, inputShape[0] > 0 else {
            throw EngineError.shapeMismatch("\(name) expects [steps, features], got \(inputShape)")
        }
        guard units > 0 else { throw EngineError.invalidConfiguration("\(name): units must be positive") }
        (steps, features) = (inputShape[0], inputShape[1])
        var rng = context.weightStream
        let u = units
        kernel = Parameter(name: "\(name)/kernel", shape: [features, 4 * u],
                           value: Initializer.glorotUniform.values(shape: [features, 4 * u], rng: &rng))
        recurrentKernel = Parameter(name: "\(name)/recurrent_kernel", shape: [u, 4 * u],
                                    value: Initializer.orthogonal(gain: 1).values(shape: [u, 4 * u], rng: &rng))
        var b = [Float](repeating: 0, count: 4 * u)
        for j in u..<(2 * u) { b[j] = 1 }
        bias = Parameter(name: "\(name)/bias", shape: [4 * u], value: b)
        return [u]
    }

    public func forward(_ x: Tensor, context: ForwardContext) -> Tensor {
        precondition(Array(x.shape.dropFirst()) == [steps, features], "\(name): input \(x.shape) vs built [\(steps), \(features)]")
        batch = x.batch
        let u = units, g4 = 4 * units
        xs = [Float](repeating: 0, count: x.count)
        for b in 0..<batch {
            for t in 0..<steps {
                for f in 0..<features { xs[(t * batch + b) * features + f] = x.scalars[(b * steps + t) * features + f] }
            }
        }
        // z for every step at once: X·W + b, then per step += h·U.
        gates = [Float](repeating: 0, count: steps * batch * g4)
        bias.value.withUnsafeBufferPointer { bp in
            gates.withUnsafeMutableBufferPointer { zp in
                for r in 0..<(steps * batch) { (zp.baseAddress! + r * g4).update(from: bp.baseAddress!, count: g4) }
            }
        }
        BLAS.gemm(m: steps * batch, n: g4, k: features, a: xs, lda: features, b: kernel.value, ldb: g4, beta: 1, c: &gates, ldc: g4)
        cells = [Float](repeating: 0, count: (steps + 1) * batch * u)
        hiddens = [Float](repeating: 0, count: (steps + 1) * batch * u)
        tanhCells = [Float](repeating: 0, count: steps * batch * u)
        let (stepCount, rowCount) = (steps, batch)
        recurrentKernel.value.withUnsafeBufferPointer { up in
            gates.withUnsafeMutableBufferPointer { zp in
                cells.withUnsafeMutableBufferPointer { cp in
                    hiddens.withUnsafeMutableBufferPointer { hp in
                        tanhCells.withUnsafeMutableBufferPointer { tp in
                            let pointers = UncheckedSendable((up.baseAddress!, zp.baseAddress!, cp.baseAddress!, hp.baseAddress!, tp.baseAddress!))
                            Parallel.forEach((rowCount + Self.rowsPerBlock - 1) / Self.rowsPerBlock) { block in
                                let (u0, z, c, h, t) = pointers.value
                                let begin = block * Self.rowsPerBlock, end = min(rowCount, begin + Self.rowsPerBlock)
                                optilog_lstm_forward(stepCount, rowCount, u, begin, end, z, u0, c, h, t)
                            }
                        }
                    }
                }
            }
        }
        let last = Array(hiddens[(steps * batch * u)...])
        return Tensor(unchecked: [batch, u], last)
    }

    public func backward(_ dy: Tensor, needsInputGradient: Bool) -> Tensor? {
        let u = units, g4 = 4 * units
        var dz = [Float](repeating: 0, count: steps * batch * g4)
        // Uᵀ [4u, u], so that dh(t−1) = dz(t)·Uᵀ reads rows.
        var transposed = [Float](repeating: 0, count: g4 * u)
        for j in 0..<u { for g in 0..<g4 { transposed[g * u + j] = recurrentKernel.value[j * g4 + g] } }
        let (stepCount, rowCount) = (steps, batch)
        let failed = Atomic<Bool>(false)
        gates.withUnsafeBufferPointer { gp in
            cells.withUnsafeBufferPointer { cp in
                tanhCells.withUnsafeBufferPointer { tp in
                    dy.scalars.withUnsafeBufferPointer { hp in
                        transposed.withUnsafeBufferPointer { up in
                            dz.withUnsafeMutableBufferPointer { dzp in
                                let pointers = UncheckedSendable((gp.baseAddress!, cp.baseAddress!, tp.baseAddress!, hp.baseAddress!,
                                                                  up.baseAddress!, dzp.baseAddress!))
                                Parallel.forEach((rowCount + Self.rowsPerBlock - 1) / Self.rowsPerBlock) { block in
                                    let (g, c, t, h, ut, d) = pointers.value
                                    let begin = block * Self.rowsPerBlock, end = min(rowCount, begin + Self.rowsPerBlock)
                                    if optilog_lstm_backward(stepCount, rowCount, u, begin, end, g, c, t, h, ut, d) != 0 {
                                        failed.store(true, ordering: .relaxed)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        precondition(!failed.load(ordering: .relaxed), "\(name): out of memory in the backward pass")
        let rows = steps * batch
        // The first `rows` rows of `hiddens` are h(t−1) for t = 1…steps.
        BLAS.gemm(transA: true, m: u, n: g4, k: rows, a: hiddens, lda: u, b: dz, ldb: g4, c: &recurrentKernel.gradient, ldc: g4)
        BLAS.gemm(transA: true, m: features, n: g4, k: rows, a: xs, lda: features, b: dz, ldb: g4, c: &kernel.gradient, ldc: g4)
        columnSums(dz, rows: rows, columns: g4, into: &bias.gradient)
        guard needsInputGradient else { return nil }
        var dxs = [Float](repeating: 0, count: rows * features)
        dz.withUnsafeBufferPointer { dzp in
            kernel.value.withUnsafeBufferPointer { wp in
                dxs.withUnsafeMutableBufferPointer { dp in
                    BLAS.gemm(transB: true, m: rows, n: features, k: g4, a: dzp.baseAddress!, lda: g4,
                              b: wp.baseAddress!, ldb: g4, c: dp.baseAddress!, ldc: features)
                }
            }
        }
        var dx = [Float](repeating: 0, count: rows * features)
        for b in 0..<batch {
            for t in 0..<steps {
                for f in 0..<features { dx[(b * steps + t) * features + f] = dxs[(t * batch + b) * features + f] }
            }
        }
        return Tensor(unchecked: [batch, steps, features], dx)
    }
}
