import Foundation
import OptilogTestSupport
import XCTest

/// The `optilog` executable as a user meets it: output, formats and exit codes.
final class CLITests: XCTestCase {
    typealias Result = ProcessResult

    var executable: URL { builtExecutable("optilog") }

    func optilog(_ arguments: String...) throws -> Result { try optilog(arguments) }

    func testTrainPrintsOneRowPerEpochAndLearns() throws {
        let r = try optilog("train", "--task", "boston", "--epochs", "4", "--format", "json", "--set", "learning_rate=0.01")
        XCTAssertEqual(r.status, 0, r.stderr)
        let rows = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]])
        XCTAssertEqual(rows.map { ($0["epoch"] as? Int) ?? -1 }, [1, 2, 3, 4])
        let losses = rows.compactMap { ($0["loss"] as? NSNumber)?.doubleValue }
        XCTAssertEqual(losses.count, 4)
        XCTAssertLessThan(losses[3], losses[0])
        XCTAssertNotNil(rows[0]["val_mean_absolute_error"])
    }

    func testSameSeedSameOutputAndThreadCountDoesNotMatter() throws {
        let a = try optilog("train", "--task", "jena", "--epochs", "1", "--samples", "64", "--format", "csv", "--threads", "1")
        let b = try optilog("train", "--task", "jena", "--epochs", "1", "--samples", "64", "--format", "csv", "--threads", "2")
        XCTAssertEqual(a.status, 0, a.stderr)
        func losses(_ csv: String) -> [String] {
            csv.split(separator: "\n").dropFirst().map { $0.split(separator: ",").prefix(5).joined(separator: ",") }
        }
        XCTAssertEqual(losses(a.stdout), losses(b.stdout))
        XCTAssertEqual(a.stdout.split(separator: "\n").first, "epoch,loss,mean_absolute_error,val_loss,val_mean_absolute_error,grad_norm_mean,seconds,samples_per_s")
    }

    func testEveryRowFormat() throws {
        for format in ["table", "csv", "tsv", "json", "ndjson", "markdown"] {
            let r = try optilog("train", "--epochs", "2", "--samples", "40", "--format", format)
            XCTAssertEqual(r.status, 0, "\(format): \(r.stderr)")
            switch format {
            case "ndjson":
                XCTAssertEqual(r.stdout.split(separator: "\n").count, 2)
                for line in r.stdout.split(separator: "\n") { XCTAssertNoThrow(try JSONSerialization.jsonObject(with: Data(line.utf8))) }
            case "markdown": XCTAssertTrue(r.stdout.hasPrefix("| epoch | loss |"), r.stdout)
            case "tsv": XCTAssertTrue(r.stdout.hasPrefix("epoch\tloss\t"), r.stdout)
            case "table": XCTAssertTrue(r.stdout.hasPrefix("epoch  "), r.stdout)
            default: break
            }
        }
    }

    func testSurfacePrintsTheDocumentedJSONPath() throws {
        let r = try optilog("surface", "--function", "rosenbrock", "--optimizer", "sgd", "--set", "momentum=0.9", "--steps", "60", "--format", "json")
        XCTAssertEqual(r.status, 0, r.stderr)
        let rows = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]])
        XCTAssertEqual(rows.count, 61)
        XCTAssertEqual(rows[0]["step"] as? Int, 0)
        XCTAssertEqual((rows[0]["x"] as? NSNumber)?.doubleValue, -1.5)
        XCTAssertEqual((rows[0]["y"] as? NSNumber)?.doubleValue, 2)
        XCTAssertEqual((rows[0]["loss"] as? NSNumber)?.doubleValue, 6.25 + 100 * 0.0625)
        // SGD with momentum at Keras's lr 0.01 diverges on Rosenbrock (as in Keras): non-finite
        // values are the strings "NaN", "Infinity", "-Infinity".
        XCTAssertEqual(rows[60]["x"] as? String, "NaN")
        let start = try optilog("surface", "--function", "saddle", "--start", "0.5,-0.25", "--steps", "0", "--format", "csv")
        XCTAssertEqual(start.stdout, "step,x,y,loss\n0,0.500000000,-0.250000000,0.187500000\n")
    }

    func testEveryOptimizerTrains() throws {
        for name in ["adadelta", "adagrad", "adam", "adamax", "ftrl", "nadam", "rmsprop", "sgd"] {
            let r = try optilog("train", "--task", "boston", "--optimizer", name, "--epochs", "1", "--samples", "64", "--format", "ndjson")
            XCTAssertEqual(r.status, 0, "\(name): \(r.stderr)")
            XCTAssertEqual(r.stdout.split(separator: "\n").count, 1, name)
        }
    }

    func testDatasetsListsEveryTaskWithItsSourceAndFingerprint() throws {
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("optilog-empty-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        let r = try optilog("datasets", "--data-dir", empty, "--format", "json")
        XCTAssertEqual(r.status, 0, r.stderr)
        let rows = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]])
        XCTAssertEqual(rows.map { $0["task"] as? String }, ["boston", "fashion_mnist", "imdb", "jena"])
        XCTAssertEqual(rows[0]["train"] as? Int, 404)
        XCTAssertEqual((rows[0]["fingerprint"] as? String)?.count, 129)
        XCTAssertEqual(rows[1]["input_shape"] as? String, "28×28×1")
        let bad = try optilog("datasets", "--tasks", "mnist")
        XCTAssertEqual(bad.status, 2)
    }

    func testQueryCommandsOverALoggedStudy() throws {
        let db = freshDirectory("optilog-query").appendingPathComponent("q.sqlite").path
        XCTAssertEqual(try optilog("study", "--tasks", "boston", "--optimizers", "adam", "sgd", "--epochs", "3", "--db", db).status, 0)
        // best: the same table as the study printed, and the long form with runs.
        let best = try optilog("best", "--db", db, "--long", "--format", "json")
        XCTAssertEqual(best.status, 0, best.stderr)
        let rows = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(best.stdout.utf8)) as? [[String: Any]])
        XCTAssertEqual(rows.map { $0["optimizer"] as? String }, ["adam", "sgd"])
        XCTAssertEqual(Set(rows.compactMap { $0["run"] as? Int }), [1, 2])
        let metric = try optilog("best", "--db", db, "--metric", "val_metric", "--format", "csv")
        XCTAssertTrue(metric.stdout.hasPrefix("task,baseline,adam,adam_epoch,sgd,sgd_epoch,winner\nboston,"), metric.stdout)
        // runs: newest first, filters.
        let runs = try optilog("runs", "--db", db, "--optimizer", "sgd", "--format", "ndjson")
        XCTAssertEqual(runs.stdout.split(separator: "\n").count, 1)
        XCTAssertTrue(runs.stdout.contains("\"status\":\"completed\""), runs.stdout)
        XCTAssertEqual(try optilog("runs", "--db", db, "--status", "paused").status, 2)
        // sql: read-only, parameters, a time limit.
        let sql = try optilog("sql", "SELECT COUNT(*) AS n FROM epochs WHERE run_id = :r", "--param", "r", "1", "--db", db, "--format", "csv")
        XCTAssertEqual(sql.stdout, "n\n3\n")
        let write = try optilog("sql", "DELETE FROM runs", "--db", db)
        XCTAssertEqual(write.status, 1)
        XCTAssertEqual(write.stderr, "optilog: error: only read-only statements are allowed here (SELECT, WITH, read-only PRAGMA)\n")
        let slow = try optilog("sql", "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT COUNT(*) FROM c", "--timeout", "0.3", "--db", db)
        XCTAssertEqual(slow.status, 1)
        XCTAssertTrue(slow.stderr.contains("time limit"), slow.stderr)
        XCTAssertEqual(try optilog("sql", "SELECT 1", "--db", db + ".missing").status, 1)
        XCTAssertEqual(try optilog("runs", "--db", db, "--format", "csv").stdout.split(separator: "\n").count, 3)
    }

    func testSummaryMatchesKeras() throws {
        let r = try optilog("summary", "--task", "imdb")
        XCTAssertEqual(r.status, 0)
        XCTAssertTrue(r.stdout.contains("Total params: 1,315,937"), r.stdout)
        XCTAssertTrue(r.stdout.contains(" embedding (Embedding)"), r.stdout)
        // `--model NAME`, the option's old name, keeps working for the built-in tasks.
        XCTAssertEqual(try optilog("summary", "--model", "imdb").stdout, r.stdout)
        XCTAssertEqual(try optilog("summary", "--task", "imdb", "--model", "imdb").status, 2)
        // The model that trains on the data found: the six-feature Jena layout makes a smaller
        // LSTM than the canonical fourteen features.
        let located = try runProcess(builtExecutable("optilog"), ["summary", "--task", "jena"], environment: ["HOME": "/nonexistent", "OPTILOG_DATA": ""])
        XCTAssertTrue(located.stdout.hasPrefix("jena on NYC JFK hourly weather 2013"), located.stdout)
        XCTAssertTrue(located.stdout.contains("input 120×6 (canonical: 120×14; --canonical)"), located.stdout)
        XCTAssertTrue(located.stdout.contains("Total params: 5,025"), located.stdout)
        XCTAssertTrue(try optilog("summary", "--task", "jena", "--canonical").stdout.contains("Total params: 6,049"))
    }

    func testUsageErrorsExitTwo() throws {
        for arguments in [["train", "--epochs", "0"], ["train", "--task", "mnist"], ["train", "--model", "mnist"], ["train", "--set", "novalue"], ["frobnicate"],
                          ["surface", "--function", "sphere"], ["surface", "--start", "1"], ["surface", "--start", "a,b"], ["surface", "--steps", "-1"]] {
            let r = try optilog(arguments)
            XCTAssertEqual(r.status, 2, "\(arguments): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains("Error:") || r.stderr.contains("error:"), r.stderr)
            XCTAssertEqual(r.stdout, "")
        }
    }

    func testRuntimeErrorsAreOneLineAndExitOne() throws {
        for (arguments, message) in [
            (["train", "--optimizer", "lion"], "optilog: error: invalid configuration: unknown optimizer 'lion'; available: adadelta, adagrad, adam, adamax, ftrl, nadam, rmsprop, sgd\n"),
            (["train", "--set", "momentum=0.9"], "optilog: error: invalid configuration: adam has no setting 'momentum'\n"),
            (["train", "--optimizer", "sgd", "--set", "momentum=lots"], "optilog: error: invalid configuration: sgd: momentum=\"lots\" is not a finite number\n"),
        ] {
            let r = try optilog(arguments)
            XCTAssertEqual(r.status, 1, "\(arguments)")
            XCTAssertEqual(r.stderr, message)
        }
    }

    func optilog(_ arguments: [String]) throws -> Result { try runProcess(executable, arguments) }
}

extension CLITests {
    /// Every input the fuzzers kept as a regression (tools/fuzz/corpus/TARGET/) goes through its
    /// parser again in the normal build: errors are fine, a trap fails the test.
    func testFuzzRegressionCorpusReplaysWithoutACrash() throws {
        let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("tools/fuzz/corpus")
        for target in ["checkpoint", "idx", "gzip", "npy", "pickle", "npz", "csv", "where", "zip64", "nesting"] {
            let r = try runProcess(builtExecutable("optilog-fuzz"), [target, corpus.appendingPathComponent(target).path])
            XCTAssertEqual(r.status, 0, "\(target): \(r.stderr)")
            XCTAssertTrue(r.stdout.hasPrefix("\(target): "), r.stdout)
        }
    }
}
