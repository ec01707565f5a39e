import XCTest
import Data
import Engine

final class WindowedSeriesTests: XCTestCase {
    /// 10 rows of 2 features: row r holds (r, 100 + r).
    let series: [Float] = (0..<10).flatMap { [Float($0), Float(100 + $0)] }

    func testWindowsAndTargetsAreTakenAsKerasDoes() throws {
        let w = try WindowedSeries(name: "t", series: series, features: 2, targets: (0..<10).map { Float(100 + $0) }, length: 3, samplingRate: 2,
                                   targetOffset: 5, starts: [0, 3, 4])
        XCTAssertEqual(w.count, 3)
        XCTAssertEqual(w.inputShape, [3, 2])
        let (x, y) = w.batch([2, 0])
        XCTAssertEqual(x.shape, [2, 3, 2])
        XCTAssertEqual(x.scalars, [4, 104, 6, 106, 8, 108, 0, 100, 2, 102, 4, 104])
        XCTAssertEqual(y.scalars, [109, 105])
    }

    func testWindowsPastTheEndAreRejected() {
        XCTAssertThrowsError(try WindowedSeries(name: "t", series: series, features: 2, targets: (0..<10).map { Float(100 + $0) }, length: 3, samplingRate: 2,
                                                targetOffset: 5, starts: [5])) { error in
            XCTAssertEqual("\(error)", "shape mismatch: t: a window starting at row 5 runs past the 10 rows of the series")
        }
        XCTAssertThrowsError(try WindowedSeries(name: "t", series: [1, 2, 3], features: 2, targets: [0], length: 1, samplingRate: 1,
                                                targetOffset: 0, starts: [0]))
        XCTAssertThrowsError(try WindowedSeries(name: "t", series: series, features: 2, targets: [1, 2], length: 1, samplingRate: 1,
                                                targetOffset: 0, starts: [0]))
    }
}
