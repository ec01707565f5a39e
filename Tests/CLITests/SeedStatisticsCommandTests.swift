import Foundation
import OptilogTestSupport
import XCTest

/// `best` over a study with three seeds: Adam against Adadelta on Boston (Adadelta at Keras's
/// default learning rate barely moves, so Adam wins beyond any seed noise) and against Nadam.
final class SeedStatisticsCommandTests: XCTestCase {
    static let db = freshDirectory("optilog-seeds").appendingPathComponent("seeds.sqlite").path
    nonisolated(unsafe) static var built = false

    func optilog(_ arguments: String...) throws -> ProcessResult { try runProcess(builtExecutable("optilog"), arguments + ["--db", Self.db]) }

    override func setUpWithError() throws {
        guard !Self.built else { return }
        let r = try optilog("study", "--name", "seeds", "--tasks", "boston", "--optimizers", "adam", "adadelta", "--seeds", "1", "2", "3",
                            "--epochs", "20")
        XCTAssertEqual(r.status, 0, r.stderr)
        Self.built = true
    }

    func testTheTableShowsMeanSpreadAndCountAndAWinnerBeyondTheNoise() throws {
        let table = try optilog("best")
        XCTAssertEqual(table.status, 0, table.stderr)
        let row = try XCTUnwrap(table.stdout.split(separator: "\n").first { $0.hasPrefix("boston") })
        XCTAssertEqual(row.components(separatedBy: " ± ").count, 3, "two cells with a spread: \(row)")
        XCTAssertEqual(row.components(separatedBy: "(3)").count, 3, "n = 3 each: \(row)")
        XCTAssertEqual(row.filter { $0 == "*" }.count, 1, String(row))
        XCTAssertTrue(table.stdout.contains("Welch's t-test, p < 0.05"), table.stdout)

        let csv = try optilog("best", "--format", "csv").stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(csv.first, "task,optimizer,val_loss (mean),n,mean,sd,median,min,max,verdict,p_vs_best,runs,baseline")
        let adam = try XCTUnwrap(csv.first { $0.hasPrefix("boston,adam,") }).split(separator: ",")
        let adadelta = try XCTUnwrap(csv.first { $0.hasPrefix("boston,adadelta,") }).split(separator: ",")
        XCTAssertEqual(adam[3], "3")
        XCTAssertEqual(adam[9], "winner")
        XCTAssertEqual(adadelta[9], "behind")
        XCTAssertLessThan(try XCTUnwrap(Double(adadelta[10])), 0.05)
        // The mean is the mean of the three runs' best values, from the log.
        let perRun = try optilog("best", "--by", "task,optimizer,seed", "--format", "csv").stdout.split(separator: "\n")
            .filter { $0.hasPrefix("boston,adam,") }.map { Double($0.split(separator: ",")[3])! }
        XCTAssertEqual(perRun.count, 3)
        XCTAssertEqual(try XCTUnwrap(Double(adam[4])), perRun.reduce(0, +) / 3, accuracy: 1e-5)
        XCTAssertEqual(try XCTUnwrap(Double(adam[7])), perRun.min()!, accuracy: 1e-5)
        let median = try optilog("best", "--stat", "median", "--format", "csv").stdout
        XCTAssertTrue(median.hasPrefix("task,optimizer,val_loss (median),n"), median)
    }

    func testRanks() throws {
        let r = try optilog("best", "--rank", "--format", "csv")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout.split(separator: "\n").map(String.init), ["optimizer,mean_rank,rows,boston", "adam,1.00,1,1.0", "adadelta,2.00,1,2.0"])
        XCTAssertEqual(try optilog("best", "--rank", "--by", "task").status, 2)
    }

    /// Curves over seeds: each optimizer's mean, with a band of ± sd in SVG.
    func testCurvesDrawTheMeanWithABand() throws {
        let terminal = try optilog("curves", "--task", "boston")
        XCTAssertEqual(terminal.status, 0, terminal.stderr)
        XCTAssertTrue(terminal.stdout.contains("adam (mean of 3 seeds)"), terminal.stdout)
        XCTAssertTrue(terminal.stdout.contains("mean ± sd over seeds"), terminal.stdout)
        let svg = freshDirectory("optilog-seed-curves").appendingPathComponent("c.svg").path
        XCTAssertEqual(try optilog("curves", "--task", "boston", "--svg", svg).status, 0)
        let text = try String(contentsOfFile: svg, encoding: .utf8)
        XCTAssertEqual(text.components(separatedBy: "class=\"band\"").count - 1, 2)
        // The last point of Adam's line is the mean of the three runs' last val_loss.
        let last = try optilog("sql", "SELECT AVG(val_loss) FROM epochs JOIN runs ON runs.id = run_id WHERE optimizer = 'adam' AND epoch = 20",
                               "--format", "csv").stdout.split(separator: "\n")[1]
        XCTAssertTrue(terminal.stdout.contains(String(format: "adam (mean of 3 seeds)  last %.6g", Double(last)!)), terminal.stdout)
    }
}
