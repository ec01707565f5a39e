import Foundation
import OptilogTestSupport
import XCTest

/// One grammar (issue 16, part 1, in part): lists as `a,b` or `a b`, names in any case, negative
/// values and a Unicode minus, `--version`, and keys that name nothing.
final class GrammarTests: XCTestCase {
    static let db = freshDirectory("optilog-grammar").appendingPathComponent("g.sqlite").path
    nonisolated(unsafe) static var built = false

    func optilog(_ arguments: [String]) throws -> ProcessResult { try runProcess(builtExecutable("optilog"), arguments) }
    func logged(_ arguments: [String]) throws -> ProcessResult { try optilog(arguments + ["--db", Self.db]) }

    override func setUpWithError() throws {
        guard !Self.built else { return }
        let r = try logged(["study", "--tasks", "boston", "--optimizers", "adam,sgd", "--epochs", "2"])
        XCTAssertEqual(r.status, 0, r.stderr)
        Self.built = true
    }

    func testListsTakeCommasSpacesAndAnyCase() throws {
        let commas = try optilog(["study", "--tasks", "Boston,JENA", "--optimizers", "Adam,sgd", "--seeds", "1,2", "--list-cells", "--format", "csv"])
        let spaces = try optilog(["study", "--tasks", "boston", "jena", "--optimizers", "adam", "SGD", "--seeds", "1", "2", "--list-cells", "--format", "csv"])
        let repeated = try optilog(["study", "--tasks", "boston", "--tasks", "jena", "--optimizers", "adam,sgd", "--seeds", "1", "--seeds", "2",
                                    "--list-cells", "--format", "csv"])
        XCTAssertEqual(commas.status, 0, commas.stderr)
        XCTAssertEqual(commas.stdout.split(separator: "\n").count, 1 + 2 * 2 * 2)
        XCTAssertTrue(commas.stdout.contains(",jena,sgd,,2,"), commas.stdout)
        XCTAssertEqual(commas.stdout, spaces.stdout)
        XCTAssertEqual(commas.stdout, repeated.stdout)
        let unknown = try optilog(["study", "--optimizers", "adam,lion", "--list-cells"])
        XCTAssertEqual(unknown.status, 2)
        XCTAssertTrue(unknown.stderr.contains("unknown optimizer 'lion'"), unknown.stderr)

        let datasets = try optilog(["datasets", "--tasks", "boston,jena", "--format", "csv"])
        XCTAssertEqual(datasets.status, 0, datasets.stderr)
        XCTAssertEqual(datasets.stdout.split(separator: "\n").map { $0.prefix { $0 != "," } }, ["task", "boston", "jena"])

        XCTAssertEqual(try logged(["best", "--by", "task", "optimizer", "--format", "csv"]).stdout,
                       try logged(["best", "--by", "task,optimizer", "--format", "csv"]).stdout)
        XCTAssertEqual(try logged(["curves", "--runs", "1", "2"]).stdout, try logged(["curves", "--runs", "1,2"]).stdout)
        XCTAssertEqual(try logged(["compare", "1,2"]).stdout, try logged(["compare", "1", "2"]).stdout)
        XCTAssertEqual(try logged(["compare", "1,2"]).status, 0)
        // A list names each value once; an empty one is a usage error.
        let twice = try optilog(["study", "--tasks", "boston", "Boston", "--optimizers", "adam,ADAM", "--seeds", "1", "1", "--list-cells", "--format", "csv"])
        XCTAssertEqual(twice.stdout.split(separator: "\n").count, 2, twice.stdout)
        XCTAssertEqual(try logged(["compare", ","]).status, 2)
        XCTAssertEqual(try logged(["curves", "--runs", ","]).status, 2)
        // Task names in any case where runs are listed or drawn.
        XCTAssertEqual(try logged(["runs", "--task", "Boston", "--format", "csv"]).stdout.split(separator: "\n").count, 3)
        XCTAssertEqual(try logged(["compare", "--task", "BOSTON"]).status, 0)
        XCTAssertEqual(try logged(["curves", "--task", "Boston"]).status, 0)
    }

    func testNegativeValuesAndTheUnicodeMinus() throws {
        let ascii = try optilog(["surface", "--function", "Rosenbrock", "--start", "-1.5,2", "--steps", "3", "--optimizer", "SGD",
                                 "--set", "momentum=0.5", "--format", "csv"])
        XCTAssertEqual(ascii.status, 0, ascii.stderr)
        XCTAssertTrue(ascii.stdout.contains("\n0,-1.500000000,2.000000000,"), ascii.stdout)
        let typeset = try optilog(["surface", "--function", "rosenbrock", "--start", "\u{2212}1.5,2", "--steps", "3", "--optimizer", "sgd",
                                   "--set", "momentum=0.5", "--format", "csv"])
        XCTAssertEqual(typeset.stdout, ascii.stdout)
        // A negative setting reaches the optimizer, which judges it.
        let negative = try optilog(["surface", "--optimizer", "sgd", "--set", "momentum=-0.5", "--steps", "1"])
        XCTAssertEqual(negative.status, 1, negative.stderr)
        XCTAssertTrue(negative.stderr.contains("momentum"), negative.stderr)
        let svg = freshDirectory("optilog-grammar-svg").appendingPathComponent("s.svg").path
        let two = try optilog(["surface", "--svg", svg, "--optimizers", "adam", "sgd", "--steps", "5"])
        XCTAssertEqual(two.status, 0, two.stderr)
        XCTAssertTrue(two.stderr.contains("2 paths"), two.stderr)
    }

    /// `resume` names a run as every query command does: its id or a uid prefix.
    func testResumeTakesAUidPrefix() throws {
        let uid = try logged(["sql", "SELECT substr(uid, 1, 8) FROM runs WHERE id = 1", "--format", "csv"]).stdout.split(separator: "\n")[1]
        let r = try logged(["resume", String(uid), "--epochs", "3"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("run 1 completed: 3 epochs"), r.stderr)
        let none = try logged(["resume", "zzzz"])
        XCTAssertEqual(none.status, 1)
        XCTAssertEqual(none.stderr, "optilog: error: zzzz is not a run id or the start of a run uid (4 or more characters)\n")
    }

    /// Ctrl-C says where training stopped: the epoch and the step in it.
    func testAnInterruptionSaysWhereItStopped() throws {
        let dir = freshDirectory("optilog-interrupt")
        let db = dir.appendingPathComponent("i.sqlite").path, err = dir.appendingPathComponent("err.txt")
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        let p = Process()
        p.executableURL = builtExecutable("optilog")
        p.arguments = ["run", "--task", "fashion_mnist", "--optimizer", "adam", "--samples", "1024", "--epochs", "50", "--batch-size", "8", "--db", db]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = try FileHandle(forWritingTo: err)
        try p.run()
        let deadline = Date().addingTimeInterval(120)
        while p.isRunning, Date() < deadline, ((try? ReadOnlyStoreProbe.epochs(db)) ?? 0) < 1 { Thread.sleep(forTimeInterval: 0.05) }
        Thread.sleep(forTimeInterval: 0.3)
        kill(p.processIdentifier, SIGINT)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 130)
        let text = try String(contentsOf: err, encoding: .utf8)
        let line = try XCTUnwrap(text.split(separator: "\n").first { $0.hasPrefix("run 1 interrupted ") }, text)
        XCTAssertTrue(line.contains("in epoch ") && line.contains(" at step ") && line.contains(" of 128 (epochs 1–")
                      || line.contains("after epoch "), String(line))
        XCTAssertTrue(line.hasSuffix("continue with: optilog resume 1 --db \(db)"), String(line))
    }

    func testVersion() throws {
        let r = try optilog(["--version"])
        XCTAssertEqual(r.status, 0)
        XCTAssertEqual(r.stdout, "optilog 0.2.0 (recorded with every run as its code_version)\n")
        let logged = try logged(["sql", "SELECT DISTINCT code_version FROM runs", "--format", "csv"])
        XCTAssertEqual(logged.stdout, "code_version\noptilog 0.2.0\n")
    }

    func testKeysThatNameNothingAndFiltersThatMatchNothing() throws {
        let typo = try logged(["best", "--where", "lr=0.001"])
        XCTAssertEqual(typo.status, 1)
        XCTAssertEqual(typo.stderr.split(separator: "\n").count, 1, typo.stderr)
        XCTAssertTrue(typo.stderr.hasPrefix("optilog: error: unknown key 'lr': not a run column ("), typo.stderr)
        XCTAssertTrue(typo.stderr.contains("learning_rate"), "the settings the log holds are named: \(typo.stderr)")
        XCTAssertEqual(try logged(["best", "--by", "task,lr"]).status, 1)
        XCTAssertEqual(try logged(["export", "--where", "lr=1", "--format", "csv"]).status, 1)
        let none = try logged(["best", "--where", "learning_rate=0.5"])
        XCTAssertEqual(none.status, 0, none.stderr)
        XCTAssertEqual(none.stdout, "")
        XCTAssertEqual(none.stderr, "optilog: note: no runs match --where \"learning_rate=0.5\"\n")
        // A file keeps its header, for the script that reads it.
        XCTAssertEqual(try logged(["best", "--where", "learning_rate=0.5", "--format", "csv"]).stdout.split(separator: "\n").count, 1)
    }
}

/// The epochs a store has logged, read with the sqlite3 shell-free path: `optilog sql`.
enum ReadOnlyStoreProbe {
    static func epochs(_ db: String) throws -> Int {
        let r = try runProcess(builtExecutable("optilog"), ["sql", "SELECT COUNT(*) FROM epochs", "--format", "csv", "--db", db])
        return Int(r.stdout.split(separator: "\n").last ?? "") ?? 0
    }
}
