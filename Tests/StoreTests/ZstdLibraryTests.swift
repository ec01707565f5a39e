import CZstd
import XCTest

/// The zstd system library links and round-trips data (the store's series and checkpoints
/// build on it).
final class ZstdLibraryTests: XCTestCase {
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
}
