import Foundation
import OptilogTestSupport
import XCTest

/// What `study` says while it trains (a line per finished cell in a pipe, a live block on a
/// terminal) and `runs --watch`.
final class ProgressTests: XCTestCase {
    func optilog(_ arguments: String...) throws -> ProcessResult { try runProcess(builtExecutable("optilog"), arguments) }

    func testAStudyInAPipeSaysEachFinishedCellWithCountsAndETA() throws {
        for jobs in ["1", "2"] {
            let db = freshDirectory("optilog-progress").appendingPathComponent("s.sqlite").path
            let r = try optilog("study", "--tasks", "boston", "--optimizers", "adam,sgd", "--epochs", "2", "--jobs", jobs, "--db", db)
            XCTAssertEqual(r.status, 0, r.stderr)
            let lines = r.stderr.split(separator: "\n").map(String.init)
            XCTAssertEqual(lines.first, "study study-quick (id 1): 2 cells, 0 done, 2 to run", r.stderr)
            let finished = lines.filter { $0.hasPrefix("[") }
            XCTAssertEqual(finished.count, 2, r.stderr)
            for (i, line) in finished.enumerated() {
                // e.g. "[1/2] boston adam seed 1: run 1 completed in 0s, best val_loss 18.9162 · 1/2 done, 0s, ETA 0s"
                XCTAssertNotNil(line.range(of: #"^\[\#(i + 1)/2\] boston (adam|sgd) seed 1: run [12] completed in \d+s, best val_loss \d+\.\d{4} · \#(i + 1)/2 done, \d+s, ETA (\d+s|–)$"#,
                                           options: .regularExpression), line)
            }
            XCTAssertFalse(r.stderr.contains("optilog-progress"), "children's progress lines are read, not shown")
            XCTAssertFalse(r.stderr.contains("\u{1B}["), "no terminal codes in a pipe")
        }
    }

    /// On a terminal (a pseudo-terminal made by util-linux's script), the live block: one line
    /// per running cell and the study's line, redrawn in place, and gone before the table.
    func testAStudyOnATerminalDrawsALiveBlock() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/script") else { throw XCTSkip("needs /usr/bin/script (util-linux)") }
        let dir = freshDirectory("optilog-tty")
        let db = dir.appendingPathComponent("s.sqlite").path
        let command = "\(builtExecutable("optilog").path) study --tasks boston --optimizers adam,sgd --epochs 3 --jobs 2 --db \(db)"
        let r = try runProcess(URL(fileURLWithPath: "/usr/bin/script"), ["-qec", command, "/dev/null"])
        XCTAssertEqual(r.status, 0, r.stdout)
        XCTAssertTrue(r.stdout.contains("  [1] boston adam seed 1  epoch 1/3 "), r.stdout)
        XCTAssertTrue(r.stdout.contains("  [2] boston sgd seed 1   epoch "), r.stdout)
        XCTAssertTrue(r.stdout.contains("study: 0/2 done, 2 running, "), r.stdout)
        XCTAssertTrue(r.stdout.contains("\u{1B}[2A"), "redrawn in place (two lines up)")
        XCTAssertNotNil(r.stdout.range(of: #"\[2/2\] boston (adam|sgd) seed 1: run [12] completed in \d+s, best val_loss"#, options: .regularExpression))
        // The table comes after the block is cleared.
        let table = try XCTUnwrap(r.stdout.range(of: "task    baseline"))
        XCTAssertFalse(r.stdout[table.lowerBound...].contains("study: "), "no live line after the table")
    }

    func testRunsWatchRefreshesACompactViewRunningRunsFirst() throws {
        let db = freshDirectory("optilog-watch").appendingPathComponent("s.sqlite").path
        XCTAssertEqual(try optilog("study", "--tasks", "boston", "--optimizers", "adam,sgd", "--epochs", "2", "--db", db).status, 0)
        var r = try optilog("runs", "--watch", "--count", "2", "--interval", "0.1", "--db", db)
        XCTAssertEqual(r.status, 0, r.stderr)
        let frames = r.stdout.components(separatedBy: "\n\n")
        XCTAssertEqual(frames.count, 2, r.stdout)
        for frame in frames {
            let lines = frame.split(separator: "\n")
            XCTAssertTrue(lines[0].hasPrefix("optilog runs --watch  \(db)  "), String(lines[0]))
            XCTAssertEqual(lines[1], "2 completed")
            XCTAssertTrue(lines[2].hasPrefix("run  task    optimizer  seed  status     progress      epochs  best_val_loss  heartbeat"), String(lines[2]))
            XCTAssertEqual(lines.count, 5)
        }
        for (args, message) in [(["--count", "2"], "--count goes with --watch"), (["--watch", "--interval", "0"], "--interval must be between 0.1 and 86400 seconds"),
                                (["--watch", "--format", "csv"], "--watch draws a table; for files use optilog runs --format csv")] {
            r = try runProcess(builtExecutable("optilog"), ["runs", "--db", db] + args)
            XCTAssertEqual(r.status, 2)
            XCTAssertTrue(r.stderr.contains(message), r.stderr)
        }
    }
}
