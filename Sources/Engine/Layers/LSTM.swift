#if canImport(Glibc)
import Glibc
#endif

/// Keras `LSTM` (return_sequences=False): [batch, steps, features] → the last hidden state
/// [batch, units]. Gates in Keras's order i, f, c, o with sigmoid / tanh:
///
///     z = x_t·W + h·U + b;  i, f, o = σ(z_i, z_f, z_o);  g = tanh(z_c)
///     c = f⊙c + i⊙g;        h = o⊙tanh(c)
///
/// Kernel W [features, 4u] glorot_uniform, recurrent kernel U [u, 4u] orthogonal, bias zeros
/// with the forget slice at 1 (unit_forget_bias). The input projection of every step is one
/// GEMM before the loop; only h·U runs per step. Backpropagation through time keeps every
/// step's gates, then forms dW, dU and dx as single GEMMs over all steps.
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
        let u = units, g4 = 4 * units, rowsPerStep = batch
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
        recurrentKernel.value.withUnsafeBufferPointer { up in
            gates.withUnsafeMutableBufferPointer { zp in
                cells.withUnsafeMutableBufferPointer { cp in
                    hiddens.withUnsafeMutableBufferPointer { hp in
                        for t in 0..<steps {
                            let z = zp.baseAddress! + t * rowsPerStep * g4
                            let hPrev = hp.baseAddress! + t * batch * u, hNext = hPrev + batch * u
                            let cPrev = cp.baseAddress! + t * batch * u, cNext = cPrev + batch * u
                            BLAS.gemm(m: batch, n: g4, k: u, a: hPrev, lda: u, b: up.baseAddress!, ldb: g4,
                                      beta: 1, c: z, ldc: g4)
                            for b in 0..<batch {
                                let zr = z + b * g4
                                for j in 0..<u {
                                    let i = logistic(zr[j]), f = logistic(zr[u + j])
                                    let gg = hyperbolicTangent(zr[2 * u + j]), o = logistic(zr[3 * u + j])
                                    zr[j] = i; zr[u + j] = f; zr[2 * u + j] = gg; zr[3 * u + j] = o
                                    let c = f * cPrev[b * u + j] + i * gg
                                    cNext[b * u + j] = c
                                    hNext[b * u + j] = o * hyperbolicTangent(c)
                                }
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
        var dh = dy.scalars
        var dc = [Float](repeating: 0, count: batch * u)
        var dhPrev = [Float](repeating: 0, count: batch * u)
        recurrentKernel.value.withUnsafeBufferPointer { up in
            dz.withUnsafeMutableBufferPointer { dzp in
                for t in stride(from: steps - 1, through: 0, by: -1) {
                    let a = t * batch * g4
                    for b in 0..<batch {
                        for j in 0..<u {
                            let gi = a + b * g4 + j
                            let i = gates[gi], f = gates[gi + u], g = gates[gi + 2 * u], o = gates[gi + 3 * u]
                            let c = cells[(t + 1) * batch * u + b * u + j], cPrev = cells[t * batch * u + b * u + j]
                            let tc = hyperbolicTangent(c)
                            let h = dh[b * u + j]
                            let dcTotal = dc[b * u + j] + h * o * (1 - tc * tc)
                            dzp[gi] = dcTotal * g * i * (1 - i)
                            dzp[gi + u] = dcTotal * cPrev * f * (1 - f)
                            dzp[gi + 2 * u] = dcTotal * i * (1 - g * g)
                            dzp[gi + 3 * u] = h * tc * o * (1 - o)
                            dc[b * u + j] = dcTotal * f
                        }
                    }
                    // dh_{t-1} = dz_t · Uᵀ
                    dhPrev.withUnsafeMutableBufferPointer { hp in
                        BLAS.gemm(transB: true, m: batch, n: u, k: g4, a: dzp.baseAddress! + a, lda: g4,
                                  b: up.baseAddress!, ldb: g4, c: hp.baseAddress!, ldc: u)
                    }
                    swap(&dh, &dhPrev)
                }
            }
        }
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
