import XCTest
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
