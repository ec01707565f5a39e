import Foundation
import XCTest
@testable import Data

/// Keras 3's model.weights.h5 as optilog reads it, and damaged copies of it: every mutation is
/// an error or a read, never a crash or a hang.
final class HDF5Tests: XCTestCase {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func weightsFile() throws -> [UInt8] {
        let keras = try [UInt8](Data(contentsOf: root.appendingPathComponent("fixtures/custom/lstm.keras")))
        return try XCTUnwrap(try Zip.members(keras, name: "lstm.keras", wanted: { $0 == "model.weights.h5" }).first?.1)
    }

    func testReadsEveryLayersWeights() throws {
        let file = try HDF5File(bytes: try weightsFile(), name: "model.weights.h5")
        let layerPaths = file.datasets.keys.filter { $0.hasPrefix("layers/") }.sorted()
        XCTAssertEqual(layerPaths, ["layers/dense/vars/0", "layers/dense/vars/1", "layers/lstm/cell/vars/0", "layers/lstm/cell/vars/1",
                                    "layers/lstm/cell/vars/2", "layers/lstm_1/cell/vars/0", "layers/lstm_1/cell/vars/1", "layers/lstm_1/cell/vars/2"])
        let kernel = try file.dataset("layers/lstm/cell/vars/0")
        XCTAssertEqual(kernel.shape, [4, 64])
        XCTAssertEqual(kernel.values.count, 256)
        XCTAssertThrowsError(try file.dataset("layers/missing")) { XCTAssertEqual("\($0)", "model.weights.h5: has no dataset layers/missing") }
    }

    func testDamagedCopiesAreErrorsNotCrashes() throws {
        let good = try weightsFile()
        var rng = SystemRandomNumberGenerator()
        var failures = 0
        for trial in 0..<400 {
            var bytes = good
            if trial % 4 == 0 {
                bytes = Array(bytes.prefix(Int.random(in: 0..<bytes.count, using: &rng)))
            } else {
                for _ in 0..<(1 + trial % 3) { bytes[Int.random(in: 0..<min(bytes.count, 4096), using: &rng)] = UInt8.random(in: 0...255, using: &rng) }
            }
            do {
                let file = try HDF5File(bytes: bytes, name: "damaged.h5")
                for path in file.datasets.keys { _ = try? file.dataset(path) }
            } catch is DataError {
                failures += 1
            }
        }
        XCTAssertGreaterThan(failures, 50, "truncations at least are errors")
        XCTAssertThrowsError(try HDF5File(bytes: Array(repeating: 0, count: 200), name: "zeros.h5")) {
            XCTAssertEqual("\($0)", "zeros.h5: is not an HDF5 file")
        }
        var newer = good
        newer[8] = 2
        XCTAssertThrowsError(try HDF5File(bytes: newer, name: "v2.h5")) {
            XCTAssertEqual("\($0)", "v2.h5: uses HDF5 superblock version 2 (h5py's default is 0), which optilog does not read; save the weights with np.savez(\"weights.npz\", *model.get_weights())")
        }
    }
}
