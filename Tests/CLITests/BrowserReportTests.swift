import Foundation
import OptilogTestSupport
import XCTest

/// Opt-in (`make browser-test`, or OPTILOG_BROWSER_TEST=1 with Debian's chromium installed):
/// the report opened in a real headless Chromium, which must lay out every figure, and a
/// screenshot of it (kept in OPTILOG_SCREENSHOT_DIR when set).
final class BrowserReportTests: XCTestCase {
    func chromium() throws -> String {
        guard ProcessInfo.processInfo.environment["OPTILOG_BROWSER_TEST"] == "1" else {
            throw XCTSkip("opt-in: OPTILOG_BROWSER_TEST=1 (make browser-test)")
        }
        for path in ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"] where FileManager.default.isExecutableFile(atPath: path) {
            return path
        }
        XCTFail("OPTILOG_BROWSER_TEST=1 but no chromium: apt-get install -y chromium")
        throw XCTSkip("no browser")
    }

    func run(_ executable: String, _ arguments: [String]) throws -> ProcessResult {
        try runProcess(URL(fileURLWithPath: executable), arguments)
    }

    func testReportInHeadlessChromium() throws {
        let browser = try chromium()
        let dir = freshDirectory("optilog-browser")
        let db = dir.appendingPathComponent("s.sqlite").path, page = dir.appendingPathComponent("report.html").path
        let optilog = builtExecutable("optilog").path
        XCTAssertEqual(try run(optilog, ["study", "--tasks", "boston", "fashion_mnist", "--optimizers", "adam", "sgd", "nadam",
                                         "--epochs", "2", "--db", db]).status, 0)
        XCTAssertEqual(try run(optilog, ["report", "--db", db, "-o", page]).status, 0)
        for (name, width, height) in [("desktop", 1400, 2600), ("phone", 390, 3200)] {
            let flags = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=\(width),\(height)"]
            // The DOM as Chromium built it.
            let dom = try run(browser, flags + ["--dump-dom", "file://" + page])
            XCTAssertEqual(dom.status, 0, name)
            let html = dom.stdout
            // Every section, reachable from the contents.
            for id in ["summary", "data", "best", "accuracy", "task-boston", "task-fashion_mnist", "surfaces", "runs"] {
                XCTAssertTrue(html.contains("id=\"\(id)\""), "\(name): section \(id)")
                XCTAssertTrue(html.contains("href=\"#\(id)\""), "\(name): contents link to \(id)")
            }
            XCTAssertTrue(html.contains("<li><strong>boston</strong>: "), "\(name): a summary line for boston")
            // Every chart: at least one series, both axes labelled.
            let charts = html.components(separatedBy: "<svg").dropFirst()
            XCTAssertEqual(charts.count, 2 * 3 + 4, name)
            for (i, chart) in charts.enumerated() {
                let body = chart.components(separatedBy: "</svg>")[0]
                XCTAssertGreaterThanOrEqual(body.components(separatedBy: "class=\"series\"").count - 1, 1, "\(name): chart \(i) has a series")
                XCTAssertTrue(body.contains("class=\"axis-label x\"") && body.contains("class=\"axis-label y\""), "\(name): chart \(i) has labelled axes")
            }
            // A screenshot: a PNG of the window's size with real content (a blank page compresses to a few kB).
            let shot = dir.appendingPathComponent("report-\(name).png").path
            XCTAssertEqual(try run(browser, flags + ["--screenshot=" + shot, "file://" + page]).status, 0)
            let png = [UInt8](try Data(contentsOf: URL(fileURLWithPath: shot)))
            XCTAssertEqual(Array(png.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
            func be32(_ o: Int) -> Int { png[o..<(o + 4)].reduce(0) { $0 << 8 | Int($1) } }
            XCTAssertEqual([be32(16), be32(20)], [width, height])
            XCTAssertGreaterThan(png.count, 50_000, name)
            if let keep = ProcessInfo.processInfo.environment["OPTILOG_SCREENSHOT_DIR"] {
                try? FileManager.default.removeItem(atPath: keep + "/report-\(name).png")
                try FileManager.default.copyItem(atPath: shot, toPath: keep + "/report-\(name).png")
            }
        }
    }
}
