import Foundation
import OptilogTestSupport
import XCTest

/// The README's "Your own model" example, end to end through the executable: a study of the
/// fixture CNN on its data (in two processes), `best` with statistics, the report with the
/// model's summary; and each refusal as one line with exit 1.
final class CustomModelCommandTests: XCTestCase {
    var executable: URL { builtExecutable("optilog") }
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    func fixture(_ name: String) -> String { root.appendingPathComponent("fixtures/custom/\(name)").path }
    func optilog(_ arguments: [String]) throws -> ProcessResult { try runProcess(executable, arguments) }

    func testStudyBestAndReportOnYourOwnModel() throws {
        let dir = freshDirectory("optilog-custom-cli")
        let db = dir.appendingPathComponent("log.sqlite").path
        let study = try optilog(["study", "--model", fixture("cnn.json"), "--data", fixture("cnn-data.npz"), "--loss", "categorical_crossentropy",
                                 "--metric", "accuracy", "--optimizers", "adam", "sgd", "--seeds", "1", "2", "--epochs", "2",
                                 "--name", "my-problem", "--jobs", "2", "--db", db])
        XCTAssertEqual(study.status, 0, study.stderr)
        XCTAssert(study.stdout.contains("my-problem"), study.stdout)
        let best = try optilog(["best", "--study", "my-problem", "--db", db, "--format", "csv", "--long"])
        XCTAssertEqual(best.status, 0, best.stderr)
        let rows = best.stdout.split(separator: "\n")
        XCTAssertEqual(rows.count, 3, best.stdout)
        XCTAssert(rows[0].hasPrefix("task,optimizer,"), best.stdout)
        XCTAssert(rows.dropFirst().allSatisfy { $0.hasPrefix("my-problem,") && $0.contains(",2,") }, "two seeds each: \(best.stdout)")
        let accuracy = try optilog(["best", "--study", "my-problem", "--db", db, "--metric", "val_metric"])
        XCTAssert(accuracy.stdout.contains("my-problem: accuracy, a fraction, higher is better"), accuracy.stdout)
        // Again: nothing left to do, the same table.
        let again = try optilog(["study", "--model", fixture("cnn.json"), "--data", fixture("cnn-data.npz"), "--loss", "categorical_crossentropy",
                                 "--metric", "accuracy", "--optimizers", "adam", "sgd", "--seeds", "1", "2", "--epochs", "2",
                                 "--name", "my-problem", "--db", db])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertEqual(try optilog(["runs", "--db", db, "--format", "csv"]).stdout.split(separator: "\n").count, 5)
        // The study's questions asked of this model, and none of the four tasks'.
        let findings = try optilog(["findings", "--study", "my-problem", "--db", db, "--format", "csv"])
        XCTAssertEqual(findings.status, 0, findings.stderr)
        let claims = findings.stdout.split(separator: "\n").dropFirst().filter { $0.hasPrefix("my-problem,") }.map { $0.split(separator: ",")[1] }
        XCTAssertEqual(claims, ["Adam is a good first candidate", "No optimizer diverges", "Every optimizer converges", "Most optimizers overfit",
                                "Adam converges fastest"])
        XCTAssertFalse(findings.stdout.contains("boston"), findings.stdout)
        let report = dir.appendingPathComponent("report.html").path
        let r = try optilog(["report", "--study", "my-problem", "--db", db, "-o", report])
        XCTAssertEqual(r.status, 0, r.stderr)
        let html = try String(contentsOfFile: report, encoding: .utf8)
        XCTAssert(html.contains("Your own models"))
        XCTAssert(html.contains("conv2d_1 (Conv2D)") && html.contains("(None, 7, 7, 16)"), "the model's summary")
        XCTAssert(html.contains("task-my-problem"), "the task's figures")
    }

    /// A study's name stands for one model, data file, way of reading it and batch size; a task
    /// name for one model, loss, metric and starting weights — in a study's own process too.
    func testStudiesAndTaskNamesAreNotReusedForOtherSettings() throws {
        let dir = freshDirectory("optilog-custom-cli")
        let db = dir.appendingPathComponent("log.sqlite").path
        func study(_ extra: [String]) throws -> ProcessResult {
            try optilog(["study", "--model", fixture("mlp.json"), "--optimizers", "sgd", "--epochs", "1", "--db", db] + extra)
        }
        XCTAssertEqual(try study(["--data", fixture("mlp-data.npz"), "--loss", "mae", "--name", "s1", "--task-name", "foo"]).status, 0)
        let otherData = try study(["--data", fixture("lstm-data.npz"), "--loss", "mae", "--name", "s1", "--task-name", "foo"])
        XCTAssertEqual(otherData.status, 1)
        XCTAssert(otherData.stderr.hasPrefix("optilog: error: study s1 was started with the settings"), otherData.stderr)
        let otherBatch = try study(["--data", fixture("mlp-data.npz"), "--loss", "mae", "--name", "s1", "--task-name", "foo", "--batch-size", "8"])
        XCTAssertEqual(otherBatch.status, 1, otherBatch.stderr)
        let otherLoss = try study(["--data", fixture("mlp-data.npz"), "--loss", "mse", "--name", "s2", "--task-name", "foo"])
        XCTAssertEqual(otherLoss.status, 1, otherLoss.stdout)
        XCTAssert(otherLoss.stderr.contains("task 'foo' in this log (run 1 on) has another loss; give this one another --task-name"), otherLoss.stderr)
        let preset = try study(["--data", fixture("mlp-data.npz"), "--loss", "mae", "--preset", "seed"])
        XCTAssertEqual(preset.status, 2, preset.stderr)
        XCTAssertEqual(try optilog(["runs", "--db", db, "--format", "csv"]).stdout.split(separator: "\n").count, 2, "one run logged")
        // A log holding foo with MSE does not merge into one holding foo with MAE.
        let other = dir.appendingPathComponent("other.sqlite").path
        XCTAssertEqual(try optilog(["study", "--model", fixture("mlp.json"), "--optimizers", "sgd", "--epochs", "1", "--db", other,
                                    "--data", fixture("mlp-data.npz"), "--loss", "mse", "--name", "s3", "--task-name", "foo"]).status, 0)
        let merge = try optilog(["merge", other, "-o", db])
        XCTAssertEqual(merge.status, 1, merge.stdout)
        XCTAssert(merge.stderr.contains("task 'foo' there is another model, loss, metric or set of starting weights than here; nothing merged"), merge.stderr)
        XCTAssertEqual(try optilog(["runs", "--db", db, "--format", "csv"]).stdout.split(separator: "\n").count, 2, "nothing merged")
    }

    /// Children of `--jobs` get every value as --option=value, so a name starting with '-' stays
    /// a name; a diverging optimizer is what findings says of it.
    func testChildrenAndDivergenceFindings() throws {
        let db = freshDirectory("optilog-custom-cli").appendingPathComponent("log.sqlite").path
        let study = try optilog(["study", "--model", fixture("mlp.json"), "--data", fixture("mlp-data.npz"), "--loss", "mse", "--optimizers", "adam", "sgd",
                                 "--epochs", "2", "--jobs", "2", "--task-name=-t", "--name", "hot", "--set", "learning_rate=10", "--db", db])
        XCTAssertEqual(study.status, 0, "a diverged run is an outcome, not a failure: \(study.stderr)")
        XCTAssertFalse(study.stderr.contains("Missing value"), study.stderr)
        let runs = try optilog(["runs", "--db", db, "--format", "csv"])
        let sgd = runs.stdout.split(separator: "\n").first { $0.contains(",-t,sgd,") } ?? ""
        XCTAssert(sgd.contains(",diverged,"), runs.stdout)
        let findings = try optilog(["findings", "--study", "hot", "--db", db, "--format", "csv"])
        let line = findings.stdout.split(separator: "\n").first { $0.contains("No optimizer diverges") } ?? ""
        XCTAssert(line.contains(",disagrees,") && line.contains("sgd: 1 of 1 runs"), findings.stdout)
    }

    func testRefusalsAreOneLineWithExitOne() throws {
        let dir = freshDirectory("optilog-custom-cli")
        let db = dir.appendingPathComponent("log.sqlite").path
        let model = dir.appendingPathComponent("bn.json").path
        try String(contentsOfFile: fixture("mlp.json"), encoding: .utf8)
            .replacingOccurrences(of: "\"class_name\": \"Dense\"", with: "\"class_name\": \"BatchNormalization\"")
            .write(toFile: model, atomically: true, encoding: .utf8)
        let cases: [([String], String)] = [
            (["--model", model, "--data", fixture("mlp-data.npz"), "--loss", "mae"],
             "optilog: error: bn.json: layer 'dense' (BatchNormalization): is not a layer optilog has"),
            (["--model", fixture("mlp.json"), "--data", fixture("mlp-data.npz")],
             "optilog: error: invalid configuration: mlp.json holds no compile() settings: give --loss"),
            (["--model", fixture("mlp.json"), "--data", fixture("cnn-data.npz"), "--loss", "mae"],
             "optilog: error: cnn-data.npz: train: x has samples of shape [28, 28, 1], the model's input is [13]"),
            (["--model", fixture("mlp.json"), "--data", fixture("mlp-data.npz"), "--loss", "mae", "--metric", "auc"],
             "optilog: error: metric 'auc' is not supported"),
        ]
        for (arguments, expected) in cases {
            let r = try optilog(["run", "--optimizer", "adam", "--epochs", "1", "--db", db] + arguments)
            XCTAssertEqual(r.status, 1, r.stderr)
            XCTAssert(r.stderr.hasPrefix(expected), r.stderr)
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        }
        let usage = try optilog(["run", "--optimizer", "adam", "--task", "boston", "--model", fixture("mlp.json"), "--data", fixture("mlp-data.npz")])
        XCTAssertEqual(usage.status, 2, usage.stderr)
        if FileManager.default.fileExists(atPath: db) {
            XCTAssertEqual(try optilog(["runs", "--db", db, "--format", "csv"]).stdout.split(separator: "\n").count, 1, "nothing was logged")
        }
    }
}
