import CKernels
import XCTest
@testable import Engine

/// The LSTM's SIMD recurrence (CKernels) against a plain Float64 LSTM written out here, on
/// shapes that exercise every path of the kernel: 16-unit vectors and a ragged last block of
/// units, row groups of 4 and a short last group, several row blocks for threads.
final class LSTMKernelTests: XCTestCase {
    /// Forward output and every gradient of a Float64 LSTM with the layer's own weights.
    func reference(_ layer: LSTM, _ x: Tensor, _ dy: [Float]) -> (y: [Double], dx: [Double], dW: [Double], dU: [Double], db: [Double]) {
        let (batch, steps, features, u) = (x.shape[0], x.shape[1], x.shape[2], layer.units)
        let g4 = 4 * u
        let w = layer.kernel.value.map(Double.init), uk = layer.recurrentKernel.value.map(Double.init)
        let bias = layer.bias.value.map(Double.init)
        func sigma(_ v: Double) -> Double { 1 / (1 + Foundation.exp(-v)) }
        var y = [Double](repeating: 0, count: batch * u), dx = [Double](repeating: 0, count: x.count)
        var dW = [Double](repeating: 0, count: w.count), dU = [Double](repeating: 0, count: uk.count)
        var db = [Double](repeating: 0, count: g4)
        for b in 0..<batch {
            var hs = [[Double](repeating: 0, count: u)], cs = [[Double](repeating: 0, count: u)]
            var acts: [[Double]] = []
            for t in 0..<steps {
                var z = bias
                for gi in 0..<g4 {
                    for f in 0..<features { z[gi] += Double(x.scalars[(b * steps + t) * features + f]) * w[f * g4 + gi] }
                    for k in 0..<u { z[gi] += hs[t][k] * uk[k * g4 + gi] }
                }
                var a = z, c = [Double](repeating: 0, count: u), h = c
                for j in 0..<u {
                    a[j] = sigma(z[j]); a[u + j] = sigma(z[u + j]); a[2 * u + j] = Foundation.tanh(z[2 * u + j]); a[3 * u + j] = sigma(z[3 * u + j])
                    c[j] = a[u + j] * cs[t][j] + a[j] * a[2 * u + j]
                    h[j] = a[3 * u + j] * Foundation.tanh(c[j])
                }
                acts.append(a); cs.append(c); hs.append(h)
            }
            for j in 0..<u { y[b * u + j] = hs[steps][j] }
            var dh = (0..<u).map { Double(dy[b * u + $0]) }, dc = [Double](repeating: 0, count: u)
            for t in stride(from: steps - 1, through: 0, by: -1) {
                let a = acts[t]
                var dz = [Double](repeating: 0, count: g4)
                for j in 0..<u {
                    let (i, f, g, o) = (a[j], a[u + j], a[2 * u + j], a[3 * u + j])
                    let tc = Foundation.tanh(cs[t + 1][j])
                    let total = dc[j] + dh[j] * o * (1 - tc * tc)
                    dz[j] = total * g * i * (1 - i); dz[u + j] = total * cs[t][j] * f * (1 - f)
                    dz[2 * u + j] = total * i * (1 - g * g); dz[3 * u + j] = dh[j] * tc * o * (1 - o)
                    dc[j] = total * f
                }
                var dhPrev = [Double](repeating: 0, count: u)
                for gi in 0..<g4 {
                    db[gi] += dz[gi]
                    for k in 0..<u { dU[k * g4 + gi] += hs[t][k] * dz[gi]; dhPrev[k] += dz[gi] * uk[k * g4 + gi] }
                    for f in 0..<features {
                        dW[f * g4 + gi] += Double(x.scalars[(b * steps + t) * features + f]) * dz[gi]
                        dx[(b * steps + t) * features + f] += dz[gi] * w[f * g4 + gi]
                    }
                }
                dh = dhPrev
            }
        }
        return (y, dx, dW, dU, db)
    }

    func close(_ actual: [Float], _ expected: [Double], _ what: String, tolerance: Double = 2e-5,
               file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.count, expected.count, what, file: file, line: line)
        let scale = max(1, expected.map(abs).max() ?? 1)
        let worst = zip(actual, expected).map { abs(Double($0) - $1) }.max() ?? 0
        XCTAssertLessThanOrEqual(worst, tolerance * scale, "\(what): worst difference \(worst)", file: file, line: line)
    }

    func testSIMDRecurrenceMatchesAFloat64LSTM() throws {
        // 20 units: one 16-lane block and a ragged block of 4; 32 units: two whole blocks.
        // 11 rows: blocks of 8 and 3 rows, groups of 4, 4 and 3.
        for units in [20, 32, 5] {
            let layer = try built(LSTM(units), inputShape: [9, 5], seed: 3)
            let x = randomTensor([11, 9, 5], seed: 4)
            let dyValues = randomTensor([11, units], seed: 5).scalars
            let y = layer.forward(x, context: ForwardContext(training: true))
            let dx = try XCTUnwrap(layer.backward(Tensor(unchecked: y.shape, dyValues), needsInputGradient: true))
            let r = reference(layer, x, dyValues)
            close(y.scalars, r.y, "\(units) units: output")
            close(dx.scalars, r.dx, "\(units) units: input gradient")
            close(layer.kernel.gradient, r.dW, "\(units) units: kernel gradient")
            close(layer.recurrentKernel.gradient, r.dU, "\(units) units: recurrent kernel gradient")
            close(layer.bias.gradient, r.db, "\(units) units: bias gradient")
        }
    }

    func testBitsDoNotDependOnTheThreadCount() throws {
        func run(threads: Int) throws -> [[UInt32]] {
            let saved = Parallel.threads
            defer { Parallel.threads = saved }
            Parallel.threads = threads
            let layer = try built(LSTM(24), inputShape: [13, 4], seed: 8)
            let x = randomTensor([27, 13, 4], seed: 9)
            let y = layer.forward(x, context: ForwardContext(training: true))
            let dx = try XCTUnwrap(layer.backward(Tensor(unchecked: y.shape, randomTensor([27, 24], seed: 10).scalars), needsInputGradient: true))
            return [y.scalars, dx.scalars, layer.kernel.gradient, layer.recurrentKernel.gradient, layer.bias.gradient]
                .map { $0.map(\.bitPattern) }
        }
        let one = try run(threads: 1)
        XCTAssertEqual(try run(threads: 2), one)
        XCTAssertEqual(try run(threads: 3), one)
    }

    /// AVX-512 and AVX2 perform the same operations (fused multiply-adds where the body says so)
    /// in the same order: the same bits. The baseline, without FMA, rounds each product and
    /// agrees to Float32 rounding.
    func testInstructionSetVariantsAgree() throws {
        func run(level: Int32) throws -> [[Float]] {
            optilog_lstm_limit_level(level)
            defer { optilog_lstm_limit_level(-1) }
            let layer = try built(LSTM(21), inputShape: [6, 3], seed: 12)
            let x = randomTensor([7, 6, 3], seed: 13, scale: 3)
            let y = layer.forward(x, context: ForwardContext(training: true))
            let dx = try XCTUnwrap(layer.backward(Tensor(unchecked: y.shape, randomTensor([7, 21], seed: 14).scalars), needsInputGradient: true))
            return [y.scalars, dx.scalars, layer.kernel.gradient, layer.recurrentKernel.gradient, layer.bias.gradient]
        }
        let supported = optilog_lstm_supported_level()
        let baseline = try run(level: 0)
        if supported >= 1 {
            let avx2 = try run(level: 1)
            for (a, b) in zip(avx2, baseline) { assertClose(a, b, rtol: 1e-4, atol: 1e-5, "AVX2 against baseline") }
            if supported >= 2 {
                XCTAssertEqual(try run(level: 2).map { $0.map(\.bitPattern) }, avx2.map { $0.map(\.bitPattern) }, "AVX-512 and AVX2 differ")
            }
        }
        #if arch(x86_64)
        XCTAssertEqual(String(cString: optilog_lstm_kernel_variant()), ["baseline", "avx2", "avx512"][Int(supported)])
        #endif
    }

    /// The kernels and the per-sample blocks take pointers into the batch: an empty batch
    /// gives empty results, not a crash.
    func testAnEmptyBatch() throws {
        let lstm = try built(LSTM(16), inputShape: [3, 2])
        let y = lstm.forward(try Tensor(shape: [0, 3, 2], scalars: []), context: ForwardContext(training: true))
        XCTAssertEqual(y.shape, [0, 16])
        XCTAssertEqual(lstm.backward(y, needsInputGradient: true)?.shape, [0, 3, 2])
        XCTAssertEqual(lstm.kernel.gradient, [Float](repeating: 0, count: lstm.kernel.count))
        let conv = try built(Conv2D(4, kernelSize: 3, activation: .relu), inputShape: [5, 5, 2])
        let c = conv.forward(try Tensor(shape: [0, 5, 5, 2], scalars: []), context: ForwardContext(training: true))
        XCTAssertEqual(c.shape, [0, 3, 3, 4])
        XCTAssertEqual(conv.backward(c, needsInputGradient: true)?.shape, [0, 5, 5, 2])
    }

    /// Saturated gates stay finite and exact at their limits; a NaN input stays NaN (a diverged
    /// run must show as diverged, not be clamped into numbers).
    func testSaturationAndNaN() throws {
        let layer = try built(LSTM(16), inputShape: [3, 2])
        var x = try Tensor(shape: [2, 3, 2], scalars: [200, -200, 1e30, -1e30, 90, -90, 0, 0, 0, 0, 0, 0])
        let y = layer.forward(x, context: ForwardContext(training: true))
        XCTAssertTrue(y.scalars.allSatisfy { $0.isFinite && abs($0) <= 1 }, "\(y.scalars)")
        // Row 1 sees only zeros: gates σ(0) = ½, tanh(0) = 0, so c and h stay exactly 0.
        XCTAssertEqual(Array(y.scalars[16...]), [Float](repeating: 0, count: 16))
        x.scalars[7] = .nan
        let z = layer.forward(x, context: ForwardContext(training: true))
        XCTAssertTrue(z.scalars[16...].allSatisfy(\.isNaN))
        XCTAssertTrue(z.scalars[..<16].allSatisfy(\.isFinite), "row 0 is untouched by row 1's NaN")
    }
}
