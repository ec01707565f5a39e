import CZlib
import XCTest

/// The zlib system library links and round-trips data (gzip'd IDX files build on it).
final class ZlibLibraryTests: XCTestCase {
    let payload: [UInt8] = Array((0..<50_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ ($0 >> 7)) })

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
