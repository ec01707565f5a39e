import XCTest
import Foundation
@testable import Engine

final class TensorTests: XCTestCase {
    func testShapeIsChecked() {
        XCTAssertThrowsError(try Tensor(shape: [2, 3], scalars: [1, 2, 3])) { error in
            XCTAssertEqual("\(error)", "shape mismatch: shape [2, 3] holds 6 values, got 3")
        }
        XCTAssertThrowsError(try Tensor(shape: [-1, 3], scalars: []))
        XCTAssertThrowsError(try Tensor(shape: [2, 2], scalars: [1, 2, 3, 4]).reshaped([3, 2]))
    }

    func testRowMajorLayoutAndGather() throws {
        let t = try Tensor(shape: [3, 2, 2], scalars: (0..<12).map(Float.init))
        XCTAssertEqual(t.batch, 3)
        XCTAssertEqual(t.itemCount, 4)
        let g = t.gatherRows([2, 0, 2])
        XCTAssertEqual(g.shape, [3, 2, 2])
        XCTAssertEqual(g.scalars, [8, 9, 10, 11, 0, 1, 2, 3, 8, 9, 10, 11])
        XCTAssertEqual(try t.reshaped([3, 4]).scalars, t.scalars)
    }

    func testBitPatternsDistinguishSignedZeroAndNaN() throws {
        let a = try Tensor(shape: [2], scalars: [0, .nan])
        let b = try Tensor(shape: [2], scalars: [-0.0, .nan])
        XCTAssertNotEqual(a.bitPatterns, b.bitPatterns)
        XCTAssertEqual(a.bitPatterns, [0, Float.nan.bitPattern])
    }
}

final class MatmulTests: XCTestCase {
    override func tearDown() { BLAS.threads = 1 }

    /// Against a Float64 triple loop, for shapes that run as one call and as parallel row or
    /// column blocks; and bit-identical at 1 and 2 threads.
    func testMatmulMatchesNaiveProductAtAnyThreadCount() throws {
        for (m, k, n) in [(3, 4, 5), (300, 70, 40), (40, 200, 700), (1, 1, 1)] {
            let a = randomTensor([m, k], seed: UInt64(m)), b = randomTensor([k, n], seed: UInt64(n))
            BLAS.threads = 1
            let one = try a.matmul(b)
            BLAS.threads = 2
            let two = try a.matmul(b)
            XCTAssertEqual(one.bitPatterns, two.bitPatterns, "\(m)×\(k)×\(n)")
            var expected = [Float](repeating: 0, count: m * n)
            for i in 0..<m {
                for j in 0..<n {
                    var s = 0.0
                    for p in 0..<k { s += Double(a.scalars[i * k + p]) * Double(b.scalars[p * n + j]) }
                    expected[i * n + j] = Float(s)
                }
            }
            assertClose(one.scalars, expected, rtol: 1e-4, atol: 1e-4, "\(m)×\(k)×\(n)")
        }
        XCTAssertThrowsError(try randomTensor([2, 3], seed: 1).matmul(randomTensor([2, 3], seed: 2)))
    }
}

final class ActivationAccuracyTests: XCTestCase {
    /// The fast tanh against glibc's Float64 `tanh`, on a grid over [−12, 12], densely around
    /// the polynomial/exponential seam at 0.0625 and over tiny magnitudes; plus the edge values.
    func testHyperbolicTangentIsWithinSixUlps() {
        var points: [Float] = (0...400_000).map { -12 + 24 * Float($0) / 400_000 }
        points += (0...20_000).map { 0.06 + 0.005 * Float($0) / 20_000 }
        points += (0...200).map { Float(pow(2.0, -Double($0) / 4)) }
        var worst: Float = 0, at: Float = 0
        for p in points {
            for x in [p, -p] {
                let expected = Float(tanh(Double(x)))
                let ulps = abs(hyperbolicTangent(x) - expected) / max(expected.ulp, Float.leastNormalMagnitude)
                if ulps > worst { (worst, at) = (ulps, x) }
            }
        }
        XCTAssertLessThanOrEqual(worst, 6, "at \(at)")
        XCTAssertEqual(hyperbolicTangent(0), 0)
        XCTAssertEqual(hyperbolicTangent(-0.0).sign, .minus)
        XCTAssertEqual(hyperbolicTangent(50), 1)
        XCTAssertEqual(hyperbolicTangent(-.infinity), -1)
        XCTAssertTrue(hyperbolicTangent(.nan).isNaN)
    }
}
