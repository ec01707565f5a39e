import Foundation
import XCTest
@testable import Data

/// Broken files give one clear error each, never a crash.
final class MalformedDataTests: XCTestCase {
    func temporary(_ bytes: [UInt8], _ name: String) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("optilog-\(UUID().uuidString)-\(name)")
        try Data(bytes).write(to: url)
        return url.path
    }

    func idx(_ dims: [Int], values: Int) -> [UInt8] {
        var out: [UInt8] = [0, 0, 8, UInt8(dims.count)]
        for d in dims { out += [UInt8(d >> 24 & 255), UInt8(d >> 16 & 255), UInt8(d >> 8 & 255), UInt8(d & 255)] }
        return out + [UInt8](repeating: 7, count: values)
    }

    func testIDX() throws {
        XCTAssertThrowsError(try IDXArray(bytes: [1, 2, 3, 4, 5], name: "x")) { XCTAssertEqual("\($0)", "x: not an IDX file (bad magic)") }
        XCTAssertThrowsError(try IDXArray(bytes: idx([2, 28, 28], values: 100), name: "x")) {
            XCTAssertEqual("\($0)", "x: IDX dimensions [2, 28, 28] need 1568 values, the file holds 100")
        }
        XCTAssertThrowsError(try IDXArray(bytes: [], name: "empty")) { XCTAssertEqual("\($0)", "empty: not an IDX file (bad magic)") }
        let images = try temporary(idx([2, 28, 28], values: 1568), "images")
        let labels = try temporary(idx([3], values: 3), "labels")
        XCTAssertThrowsError(try FashionMNIST.load(images: images, labels: labels, name: "t")) { XCTAssertTrue("\($0)".contains("has 3 labels for the 2 images"), "\($0)") }
        let badLabels = try temporary([0, 0, 8, 1, 0, 0, 0, 2, 3, 11], "badlabels")
        XCTAssertThrowsError(try FashionMNIST.load(images: images, labels: badLabels, name: "t")) { XCTAssertTrue("\($0)".contains("label 11 at position 1"), "\($0)") }
    }

    func testTruncatedAndDamagedGzip() throws {
        let real = [UInt8](try Data(contentsOf: URL(fileURLWithPath: try shared("fashion-mnist/t2k-labels-idx1-ubyte.gz"))))
        let truncated = try temporary(Array(real.prefix(real.count / 2)), "t.gz")
        XCTAssertThrowsError(try IDXArray(path: truncated)) { XCTAssertEqual("\($0)", "\(truncated): the compressed data is truncated") }
        var damaged = real
        damaged[20] ^= 0xFF
        damaged[21] ^= 0xFF
        let broken = try temporary(damaged, "d.gz")
        XCTAssertThrowsError(try IDXArray(path: broken)) { XCTAssertTrue("\($0)".contains(broken), "\($0)") }
        XCTAssertThrowsError(try IDXArray(path: "/nonexistent/file.gz")) { XCTAssertEqual("\($0)", "/nonexistent/file.gz: no such file") }
    }

    func testCSVAndJena() throws {
        XCTAssertThrowsError(try JenaClimate.load(csv: "", name: "j")) { XCTAssertEqual("\($0)", "j: is empty") }
        XCTAssertThrowsError(try JenaClimate.load(csv: "\"Date Time\",\"T (degC)\"\n01.01.2009 00:10:00,1\n01.01.2009 00:20:00,2,3\n", name: "j")) {
            XCTAssertEqual("\($0)", "j: line 3 has 3 fields, the header has 2")
        }
        XCTAssertThrowsError(try JenaClimate.load(csv: "\"Date Time\",\"T (degC)\"\n01.01.2009 00:10:00,1\n01.01.2009 00:20:00,NaN\n", name: "j")) {
            XCTAssertEqual("\($0)", "j: line 3, column \"T (degC)\": \"NaN\" is not a finite number")
        }
        XCTAssertThrowsError(try JenaClimate.load(csv: "time,T (degC)\n1,2\n", name: "j")) { XCTAssertTrue("\($0)".contains("\"Date Time\""), "\($0)") }
        XCTAssertThrowsError(try JenaClimate.load(csv: "\"Date Time\",\"p (mbar)\"\n01.01.2009 00:10:00,1\n01.01.2009 00:20:00,2\n", name: "j")) {
            XCTAssertEqual("\($0)", "j: has no \"T (degC)\" column")
        }
        var rows = "\"Date Time\",\"T (degC)\"\n"
        for h in 0..<50 { rows += String(format: "%02d.01.2009 %02d:00:00,%d\n", 1 + h / 24, h % 24, h) }
        XCTAssertThrowsError(try JenaClimate.load(csv: rows, name: "short")) { XCTAssertTrue("\($0)".contains("too few rows"), "\($0)") }
        XCTAssertThrowsError(try JenaClimate.load(csv: "\"Date Time\",\"T (degC)\"\n\"01.01.2009 00:10:00,1\n", name: "q")) {
            XCTAssertEqual("\($0)", "q: line 2 has an unterminated quote")
        }
    }

    func testNumPy() throws {
        XCTAssertThrowsError(try NumPyArray(npy: Array("not numpy".utf8), name: "a")) { XCTAssertEqual("\($0)", "a: not a .npy array (bad magic)") }
        func npy(_ header: String, payload: [UInt8]) -> [UInt8] {
            var h = Array(header.utf8)
            while (10 + h.count + 1) % 64 != 0 { h.append(0x20) }
            h.append(0x0A)
            return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(h.count & 255), UInt8(h.count >> 8)] + h + payload
        }
        let good = try NumPyArray(npy: npy("{'descr': '<i2', 'fortran_order': False, 'shape': (3,), }", payload: [1, 0, 0xFF, 0xFF, 5, 0]), name: "g")
        XCTAssertEqual(good.integers, [1, -1, 5])
        let big = try NumPyArray(npy: npy("{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }", payload: [0x3F, 0x80, 0, 0]), name: "b")
        XCTAssertEqual(big.floats, [1])
        // Object arrays: a pickle that would run code is refused, never run; truncated ones are errors.
        let evil = Array("cos\nsystem\n(S'touch /tmp/optilog-pwned'\ntR.".utf8)
        XCTAssertThrowsError(try NumPyArray(npy: npy("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", payload: evil), name: "o")) {
            XCTAssertEqual("\($0)", "o: pickled object: refers to os.system, which is not NumPy array data (at byte 11)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: "/tmp/optilog-pwned"))
        XCTAssertThrowsError(try NumPyArray(npy: npy("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", payload: []), name: "o")) {
            XCTAssertEqual("\($0)", "o: pickled object: truncated (at byte 0)")
        }
        // A pickled list that is not an array is not sequences.
        XCTAssertThrowsError(try NumPyArray(npy: npy("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", payload: [0x80, 3, 0x5D, 0x2E]), name: "l")) {
            XCTAssertEqual("\($0)", "l: pickled object is not a NumPy array")
        }
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("fixtures/imdb-format-sample.npz")
        let pickled = [UInt8](try Data(contentsOf: fixtures))
        XCTAssertEqual(try NumPyArchive(bytes: pickled, name: "p").array("x_test", in: "p").sequences?.count, 20)
        // Damaged and cut copies of it: errors only, never a trap.
        openDamagedCopies(of: pickled, times: 1_000)
        XCTAssertThrowsError(try NumPyArray(npy: npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", payload: [0, 0, 0, 0]), name: "s")) {
            XCTAssertEqual("\($0)", "s: shape [3] of <f4 needs 12 bytes, 4 present")
        }
        XCTAssertThrowsError(try NumPyArchive(bytes: Array("PK but not a zip at all, nothing here".utf8), name: "z")) {
            XCTAssertEqual("\($0)", "z: not a zip archive (no central directory)")
        }
        // Random damage to a real archive never traps.
        openDamagedCopies(of: [UInt8](try Data(contentsOf: URL(fileURLWithPath: try shared("imdb/keras_reference/y_train_preview.npz")))), times: 500)
    }

    /// Opens `times` copies of an archive with one random byte changed, and as many cut short.
    func openDamagedCopies(of archive: [UInt8], times: Int) {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<times {
            var bytes = archive
            bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            _ = try? NumPyArchive(bytes: bytes, name: "fuzz")
            _ = try? NumPyArchive(bytes: Array(bytes.prefix(Int.random(in: 0...bytes.count, using: &rng))), name: "fuzz")
        }
    }
}

extension MalformedDataTests {
    /// Found by fuzzing (tools/fuzz/corpus/idx/overflowing-dimensions): dimensions whose product
    /// overflows were a trap, now an error.
    func testIDXDimensionsThatOverflow() {
        let bytes: [UInt8] = [0, 0, 8, 2, 0xFF, 0xFF, 0xFF, 0xFF, 0xFD, 0, 0, 0] + [UInt8](repeating: 0, count: 40)
        XCTAssertThrowsError(try IDXArray(bytes: bytes, name: "f")) {
            XCTAssertEqual("\($0)", "f: IDX dimensions [4294967295, 4244635648]… are too large for any file")
        }
    }
}
