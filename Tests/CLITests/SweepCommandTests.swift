import Foundation
import OptilogTestSupport
import XCTest

/// A learning-rate sweep on Boston (Adam and SGD, three rates each, two seeds, 5 epochs): the
/// grid, its identity, `best --tuned/--defaults` and `sensitivity`, each checked against the log.
final class SweepCommandTests: XCTestCase {
    static let db = freshDirectory("optilog-sweep").appendingPathComponent("sweep.sqlite").path
    nonisolated(unsafe) static var built = false
    static let sweep = ["study", "--name", "lr", "--tasks", "boston", "--optimizers", "adam", "sgd", "--seeds", "1", "2", "--epochs", "5",
                        "--lr-sweep", "3"]

    func optilog(_ arguments: [String], db: String = SweepCommandTests.db) throws -> ProcessResult {
        try runProcess(builtExecutable("optilog"), arguments + ["--db", db])
    }

    func csv(_ arguments: [String]) throws -> [[String]] {
        let r = try optilog(arguments + ["--format", "csv"])
        XCTAssertEqual(r.status, 0, r.stderr)
        return r.stdout.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
    }

    override func setUpWithError() throws {
        guard !Self.built else { return }
        let r = try optilog(Self.sweep)
        XCTAssertEqual(r.status, 0, r.stderr)
        Self.built = true
    }

    /// N rates from a hundredth to a hundred times each optimizer's own default, one cell each.
    func testTheGridHasACellPerSettingAndSeed() throws {
        let cells = try csv(Self.sweep + ["--list-cells"])
        XCTAssertEqual(cells[0], ["cell", "task", "optimizer", "settings", "seed", "epochs"])
        XCTAssertEqual(cells.dropFirst().map { "\($0[2]) \($0[3]) \($0[4])" }, [
            "adam learning_rate=1e-05 1", "adam learning_rate=1e-05 2", "adam learning_rate=0.001 1", "adam learning_rate=0.001 2",
            "adam learning_rate=0.1 1", "adam learning_rate=0.1 2", "sgd learning_rate=0.0001 1", "sgd learning_rate=0.0001 2",
            "sgd learning_rate=0.01 1", "sgd learning_rate=0.01 2", "sgd learning_rate=1 1", "sgd learning_rate=1 2",
        ])
        // Each cell is its own run, with its own configuration; a second pass trains nothing.
        let runs = try csv(["sql", "SELECT optimizer, json_extract(optimizer_configuration, '$.learning_rate') AS lr, COUNT(*) FROM runs GROUP BY 1, 2 ORDER BY 1, 2"])
        XCTAssertEqual(runs.count, 7)
        XCTAssertTrue(runs.dropFirst().allSatisfy { $0[2] == "2" }, "\(runs)")
        let again = try optilog(Self.sweep)
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stderr.contains("12 cells, 12 done, 0 to run"), again.stderr)
        // Shards split the sweep's cells like any grid.
        let shard = try csv(Self.sweep + ["--list-cells", "--cell", "1", "--of", "4"])
        XCTAssertEqual(shard.count, 1 + 12, "list-cells prints the whole grid")
    }

    /// The sweep is part of the study's identity: the same name with another sweep is refused.
    func testTheSameNameWithAnotherSweepIsRefused() throws {
        var other = Self.sweep
        other[other.count - 1] = "5"
        let r = try optilog(other)
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("study lr was started with the settings"), r.stderr)
        XCTAssertEqual(r.stderr.split(separator: "\n").filter { $0.hasPrefix("optilog: error:") }.count, 1, r.stderr)
    }

    func testGridsAndTheirMistakes() throws {
        let base = ["study", "--tasks", "boston", "--optimizers", "sgd", "adam", "--list-cells"]
        let grid = try optilog(base + ["--grid", "momentum=0,0.9", "--grid", "learning_rate=0.01,0.1"])
        XCTAssertEqual(grid.status, 0, grid.stderr)
        let lines = grid.stdout.split(separator: "\n").dropFirst()
        XCTAssertEqual(lines.filter { $0.contains(" sgd ") }.count, 4, grid.stdout)
        XCTAssertEqual(lines.filter { $0.contains(" adam ") }.count, 2, "Adam has no momentum: its learning rates only\n\(grid.stdout)")
        XCTAssertTrue(lines.contains { $0.contains("momentum=0.9 learning_rate=0.1") }, grid.stdout)
        for (arguments, status, message) in [
            (["--grid", "foo=1,2"], 1, "no optimizer of the study has a setting 'foo'"),
            (["--grid", "learning_rate=abc"], 1, "learning_rate"),
            (["--grid", "learning_rate=0.1,0.1"], 2, "--grid learning_rate: 0.1 is given twice"),
            (["--grid", "learning_rate=0.1,,1"], 2, "is invalid for '--grid"),
            (["--lr-sweep", "3", "--grid", "learning_rate=0.1,1"], 2, "both sweep the learning rate"),
            (["--lr-sweep", "0"], 2, "--lr-sweep must be between 1 and 25"),
            (["--set", "momentum=0.9", "--grid", "momentum=0,0.5"], 2, "momentum is both --set and --grid"),
            (["--grid", "learning_rate=0.01,1e-2"], 1, "sgd: learning_rate=0.01 and learning_rate=1e-2 are the same setting"),
            (["--grid", "learning_rate=1e400,1"], 1, "is not a finite float32"),
        ] as [([String], Int32, String)] {
            let r = try optilog(base + arguments)
            XCTAssertEqual(r.status, status, "\(arguments): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains(message), "\(arguments): \(r.stderr)")
        }
    }

    /// The mean over seeds of each run's best val_loss, per optimizer and learning rate, from SQL.
    func fromTheLog() throws -> [(optimizer: String, rate: Double, mean: Double)] {
        let rows = try csv(["sql", """
            SELECT optimizer, json_extract(optimizer_configuration, '$.learning_rate'), AVG(best_val_loss) FROM runs GROUP BY 1, 2
            """])
        return rows.dropFirst().map { ($0[0], Double($0[1])!, Double($0[2])!) }
    }

    func logged(_ optimizer: String, _ rate: Double, in log: [(optimizer: String, rate: Double, mean: Double)]) throws -> Double {
        try XCTUnwrap(log.first { $0.optimizer == optimizer && abs($0.rate / rate - 1) < 1e-6 }, "\(optimizer) at \(rate)").mean
    }

    func testTunedAndDefaults() throws {
        let log = try fromTheLog()
        XCTAssertEqual(log.count, 6)
        let tuned = try csv(["best", "--tuned"])
        XCTAssertEqual(Array(tuned[0].prefix(5)), ["task", "optimizer", "val_loss (mean)", "n", "mean"])
        XCTAssertEqual(tuned.count, 3)
        for row in tuned.dropFirst() {
            XCTAssertEqual(Double(row[2])!, log.filter { $0.optimizer == row[1] }.map(\.mean).min()!, accuracy: 1e-5, "\(row[1]) at its best rate")
            XCTAssertEqual(row[3], "2")
        }
        let defaults = try csv(["best", "--defaults"])
        XCTAssertEqual(defaults.count, 3)
        let adam = try XCTUnwrap(defaults.first { $0[1] == "adam" })
        let sgd = try XCTUnwrap(defaults.first { $0[1] == "sgd" })
        XCTAssertEqual(Double(adam[2])!, try logged("adam", 0.001, in: log), accuracy: 1e-5)
        XCTAssertEqual(Double(sgd[2])!, try logged("sgd", 0.01, in: log), accuracy: 1e-5)
        // Both, for reading: the defaults table, then the tuned one naming each chosen setting.
        let both = try optilog(["best", "--tuned", "--defaults"])
        XCTAssertEqual(both.status, 0, both.stderr)
        XCTAssertTrue(both.stdout.hasPrefix("At Keras's defaults:\n"), both.stdout)
        XCTAssertTrue(both.stdout.contains("Tuned (each optimizer at the setting with the best mean val_loss"), both.stdout)
        XCTAssertTrue(both.stdout.contains("@ learning_rate="), both.stdout)
        XCTAssertEqual(try optilog(["best", "--tuned", "--defaults", "--format", "csv"]).status, 2)
        XCTAssertEqual(try optilog(["best", "--tuned", "--rank"]).status, 2)
        XCTAssertEqual(try optilog(["best", "--defaults", "--long"]).status, 2)
        // As rows, the tuned table names the chosen setting.
        XCTAssertEqual(tuned[0].last, "setting")
        for row in tuned.dropFirst() {
            let rate = try XCTUnwrap(Double(row.last!.replacingOccurrences(of: "learning_rate=", with: "")), row.last!)
            XCTAssertEqual(Double(row[2])!, try logged(row[1], rate, in: log), accuracy: 1e-5)
        }
        XCTAssertEqual(try optilog(["best", "--tuned", "--by", "task"]).status, 2)
    }

    func testSensitivity() throws {
        let log = try fromTheLog()
        let rows = try csv(["sensitivity"])
        XCTAssertEqual(rows[0], ["task", "optimizer", "learning_rate", "val_loss (mean)", "n", "sd", "runs"])
        XCTAssertEqual(rows.count, 7)
        for row in rows.dropFirst() {
            XCTAssertEqual(Double(row[3])!, try logged(row[1], Double(row[2])!, in: log), accuracy: 1e-5, "\(row)")
            XCTAssertEqual(row[4], "2")
        }
        let chart = try optilog(["sensitivity"])
        XCTAssertTrue(chart.stdout.contains("boston — best val_loss (mean over seeds) against learning_rate"), chart.stdout)
        XCTAssertTrue(chart.stdout.contains("learning_rate (log scale)"), chart.stdout)
        let svg = freshDirectory("optilog-sensitivity").appendingPathComponent("lr.svg").path
        XCTAssertEqual(try optilog(["sensitivity", "--svg", svg]).status, 0)
        let text = try String(contentsOfFile: svg, encoding: .utf8)
        XCTAssertEqual(text.components(separatedBy: "class=\"series\"").count - 1, 2)
        // The report draws it too.
        let report = freshDirectory("optilog-sensitivity-report").appendingPathComponent("r.html").path
        XCTAssertEqual(try optilog(["report", "--output", report]).status, 0)
        XCTAssertTrue(try String(contentsOfFile: report, encoding: .utf8).contains("id=\"sensitivity\""))
    }

    /// A second swept setting: one line per combination, named, and a column in the rows.
    func testSensitivityWithTwoSweptSettings() throws {
        let db = freshDirectory("optilog-two-settings").appendingPathComponent("two.sqlite").path
        let study = try optilog(["study", "--tasks", "boston", "--optimizers", "sgd", "--epochs", "2", "--grid", "momentum=0,0.9",
                                 "--grid", "learning_rate=0.001,0.01"], db: db)
        XCTAssertEqual(study.status, 0, study.stderr)
        let rows = try optilog(["sensitivity", "--format", "csv"], db: db)
        XCTAssertEqual(rows.status, 0, rows.stderr)
        let lines = rows.stdout.split(separator: "\n")
        XCTAssertEqual(lines.first, "task,optimizer,learning_rate,val_loss (mean),n,sd,runs,other_settings")
        XCTAssertEqual(lines.filter { $0.hasSuffix(",momentum=0.9") }.count, 2, rows.stdout)
        let chart = try optilog(["sensitivity"], db: db)
        XCTAssertTrue(chart.stdout.contains("sgd momentum=0.9"), chart.stdout)
        XCTAssertTrue(chart.stdout.contains("sgd momentum=0.0"), chart.stdout)
        let momentum = try optilog(["sensitivity", "--setting", "momentum", "--format", "csv"], db: db)
        XCTAssertEqual(momentum.status, 0, momentum.stderr)
        XCTAssertTrue(momentum.stdout.contains("boston,sgd,0.000000,"), "momentum 0 is a value too: \(momentum.stdout)")
        // seed against seed-2020 under one name: refused, both ways.
        XCTAssertEqual(try optilog(["study", "--preset", "seed-2020", "--name", "p", "--tasks", "boston", "--optimizers", "sgd", "--epochs", "1"], db: db).status, 0)
        let other = try optilog(["study", "--preset", "seed", "--name", "p", "--tasks", "boston", "--optimizers", "sgd", "--epochs", "1"], db: db)
        XCTAssertEqual(other.status, 1)
        XCTAssertTrue(other.stderr.contains("study p was started with the settings {\"preset\": \"seed-2020\"}"), other.stderr)
    }

    func testSensitivityWithoutASweepSaysHowToMakeOne() throws {
        let db = freshDirectory("optilog-nosweep").appendingPathComponent("plain.sqlite").path
        XCTAssertEqual(try optilog(["study", "--tasks", "boston", "--optimizers", "adam", "--epochs", "1"], db: db).status, 0)
        let r = try optilog(["sensitivity"], db: db)
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("no optimizer ran with two numeric values of learning_rate"), r.stderr)
        XCTAssertTrue(r.stderr.contains("--lr-sweep"), r.stderr)
        // findings on that study: every claim that needs other optimizers says what is missing.
        let findings = try optilog(["findings", "--study", "study-quick", "--format", "csv"], db: db)
        XCTAssertEqual(findings.status, 0, findings.stderr)
        let rows = findings.stdout.split(separator: "\n")
        XCTAssertEqual(rows.first, "task,claim,verdict,evidence,check")
        XCTAssertEqual(rows.count, 17)
        XCTAssertTrue(rows.contains("boston,Adadelta does not converge,not enough runs,no runs of adadelta,final val_loss ≥ 0.9× the trivial baseline"),
                      findings.stdout)
        XCTAssertTrue(rows.contains { $0.hasPrefix("imdb,Most optimizers overfit,not enough runs,the study has no imdb runs") }, findings.stdout)
    }

    func testFindingsRefusesASweepAndAMissingStudy() throws {
        let sweep = try optilog(["findings", "--study", "lr"])
        XCTAssertEqual(sweep.status, 1)
        XCTAssertTrue(sweep.stderr.contains("several settings"), sweep.stderr)
        let none = try optilog(["findings"])
        XCTAssertEqual(none.status, 1)
        XCTAssertEqual(none.stderr.split(separator: "\n").count, 1, none.stderr)
        XCTAssertTrue(none.stderr.contains("no study-seed-2020 or study-seed"), none.stderr)
    }
}
