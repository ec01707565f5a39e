import Foundation
import GRDB
import XCTest
@testable import OptilogCLI

/// Output helpers the query commands share.
final class OutputTests: XCTestCase {
    /// Times print as SQLite's strftime printed them before the commands read typed records:
    /// rounded to the millisecond, then cut to the second; no time prints empty.
    func testTimesPrintAsSQLitePrintsThem() throws {
        let queue = try DatabaseQueue()
        for t in [0, 1_700_000_000.4, 1_700_000_000.9994, 1_700_000_000.9996, 1_764_590_399.9999, -1.5, 4_102_444_800] {
            let sqlite = try queue.read { try String.fetchOne($0, sql: "SELECT strftime('%Y-%m-%d %H:%M:%S', ?, 'unixepoch')", arguments: [t]) }
            XCTAssertEqual(utcTime(t), sqlite, "\(t)")
        }
        XCTAssertEqual(utcTime(.infinity), "")
        XCTAssertEqual(utcTime(.nan), "")
        XCTAssertEqual(utcTime(1e300), "")
    }
}
