import CZlib
import CZstd
import XCTest

/// The zstd and zlib system libraries link and round-trip data (the store and the IDX loader
/// build on them).
final class SystemLibraryTests: XCTestCase {
    let payload: [UInt8] = Array((0..<50_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ ($0 >> 7)) })

    func testZstdRoundTrip() throws {
        var compressed = [UInt8](repeating: 0, count: ZSTD_compressBound(payload.count))
        let size = ZSTD_compress(&compressed, compressed.count, payload, payload.count, 3)
        XCTAssertEqual(ZSTD_isError(size), 0)
        XCTAssertLessThan(size, payload.count)
        var restored = [UInt8](repeating: 0, count: payload.count)
        let back = ZSTD_decompress(&restored, restored.count, compressed, size)
        XCTAssertEqual(back, payload.count)
        XCTAssertEqual(restored, payload)
        // Damaged input is an error code, not a crash.
        XCTAssertNotEqual(ZSTD_isError(ZSTD_decompress(&restored, restored.count, Array(compressed[0..<(size / 2)]), size / 2)), 0)
    }

    func testZlibRoundTrip() throws {
        var bound = compressBound(uLong(payload.count))
        var compressed = [UInt8](repeating: 0, count: Int(bound))
        XCTAssertEqual(compress2(&compressed, &bound, payload, uLong(payload.count), 6), Z_OK)
        var restoredSize = uLongf(payload.count)
        var restored = [UInt8](repeating: 0, count: payload.count)
        XCTAssertEqual(uncompress(&restored, &restoredSize, compressed, bound), Z_OK)
        XCTAssertEqual(restored, payload)
    }
}
