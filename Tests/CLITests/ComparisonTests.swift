import Foundation
import GRDB
import OptilogTestSupport
import XCTest

/// Runs on different data or budgets are never ranked together: `best` splits them into
/// labelled rows (one winner each), `curves` and `compare --task` refuse and say how to pick
/// one, `--dataset` picks one. The store: Boston at 20 epochs on all samples (Adam, SGD) and at
/// 24 epochs on 128 samples (Adam, RMSprop).
final class ComparisonTests: XCTestCase {
    static let db = freshDirectory("optilog-comparisons").appendingPathComponent("mixed.sqlite").path
    nonisolated(unsafe) static var built = false

    func optilog(_ arguments: String...) throws -> ProcessResult { try runProcess(builtExecutable("optilog"), arguments + ["--db", Self.db]) }

    override func setUpWithError() throws {
        guard !Self.built else { return }
        for arguments in [["adam", "20"], ["sgd", "20"], ["adam", "24", "--samples", "128"], ["rmsprop", "24", "--samples", "128"]] {
            let r = try runProcess(builtExecutable("optilog"), ["run", "--task", "boston", "--optimizer", arguments[0], "--epochs", arguments[1]]
                                   + Array(arguments.dropFirst(2)) + ["--db", Self.db])
            XCTAssertEqual(r.status, 0, r.stderr)
        }
        Self.built = true
    }

    /// The prefix of a run's data fingerprint.
    func fingerprint(run: Int) throws -> String {
        let queue = try DatabaseQueue(path: Self.db)
        return try XCTUnwrap(try queue.read { try String.fetchOne($0, sql: "SELECT substr(dataset_fingerprint, 1, 12) FROM runs WHERE id = ?", arguments: [run]) })
    }

    func testBestSplitsATaskByComparisonWithAWinnerEach() throws {
        let table = try optilog("best")
        XCTAssertEqual(table.status, 0, table.stderr)
        let lines = table.stdout.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines[0].hasPrefix("task"), table.stdout)
        XCTAssertTrue(lines[0].contains("data"), table.stdout)
        let rows = lines.filter { $0.hasPrefix("boston") }
        XCTAssertEqual(rows.count, 2, table.stdout)
        XCTAssertTrue(rows[0].contains("20 epochs, all samples, batch 32") != rows[1].contains("20 epochs, all samples, batch 32"), table.stdout)
        XCTAssertTrue(rows.contains { $0.contains("24 epochs, 128/all samples, batch 32") }, table.stdout)
        for row in rows { XCTAssertEqual(row.filter { $0 == "*" }.count, 1, "one winner per comparison: \(row)") }

        let csv = try optilog("best", "--format", "csv").stdout.split(separator: "\n")
        XCTAssertEqual(csv.first, "task,data,baseline,adam,adam_epoch,rmsprop,rmsprop_epoch,sgd,sgd_epoch,winner")
        // A cell exists only where the optimizer ran in that comparison (empty value and epoch).
        XCTAssertTrue(csv.contains { $0.contains("20 epochs") && $0.contains(",,,") }, "rmsprop did not run at 20 epochs: \(csv)")
        // Each comparison names its own winner.
        XCTAssertEqual(csv.dropFirst().filter { !$0.hasSuffix(",") }.count, 2, "\(csv)")

        let long = try optilog("best", "--long", "--format", "csv").stdout.split(separator: "\n")
        XCTAssertEqual(long.first, "task,optimizer,val_loss,epoch,run,baseline,comparison")
        XCTAssertEqual(long.count, 5)
        XCTAssertEqual(long.filter { $0.hasPrefix("boston,adam,") }.count, 2, "Adam once per comparison")
    }

    func testCurvesAndCompareRefuseAMixAndDatasetPicksOne() throws {
        for command in [["curves", "--task", "boston"], ["compare", "--task", "boston"]] {
            let r = try runProcess(builtExecutable("optilog"), command + ["--db", Self.db])
            XCTAssertEqual(r.status, 1, r.stderr)
            XCTAssertTrue(r.stderr.hasPrefix("optilog: error: the boston runs are on different data or budgets and are not compared with each other: "), r.stderr)
            XCTAssertTrue(r.stderr.contains("20 epochs, all samples, batch 32") && r.stderr.contains("24 epochs, 128/all samples"), r.stderr)
            XCTAssertTrue(r.stderr.contains("--dataset"), r.stderr)
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1)
        }
        let small = try fingerprint(run: 3)
        let compare = try optilog("compare", "--task", "boston", "--dataset", small, "--format", "csv")
        XCTAssertEqual(compare.status, 0, compare.stderr)
        XCTAssertEqual(compare.stdout.split(separator: "\n").first, "epoch,adam #3,rmsprop #4")
        let best = try optilog("best", "--dataset", small, "--format", "csv").stdout.split(separator: "\n")
        XCTAssertEqual(best.first, "task,baseline,adam,adam_epoch,rmsprop,rmsprop_epoch,winner", "one comparison left: no data column")
    }

    /// The table names the data set briefly; files keep where it came from.
    func testRunsShowsAShortDataSetName() throws {
        let table = try optilog("runs", "--format", "markdown").stdout.split(separator: "\n").dropFirst(2)
        XCTAssertTrue(table.allSatisfy { $0.contains("| Boston housing |") }, table.joined(separator: "\n"))
        let csv = try optilog("runs", "--format", "csv").stdout.split(separator: "\n").dropFirst()
        XCTAssertTrue(csv.allSatisfy { $0.contains(",\"Boston housing (") && $0.contains(" from ") }, csv.joined(separator: "\n"))
        // The learning rate as configured, beside the optimizer.
        XCTAssertTrue(try optilog("runs", "--format", "csv").stdout.hasPrefix("run,task,optimizer,learning_rate,seed,"))
        XCTAssertTrue(csv.contains { $0.contains(",adam,0.001,") }, csv.joined(separator: "\n"))
        XCTAssertTrue(try optilog("runs", "--format", "ndjson").stdout.contains(#""optimizer":"adam","learning_rate":0.001,"#))
    }
}
