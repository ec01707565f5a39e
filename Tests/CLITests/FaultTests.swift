import Foundation
import GRDB
import OptilogTestSupport
import XCTest

/// Whatever goes wrong — a full disk, a file that is not a store, a damaged checkpoint, data
/// that changed, a network filesystem — the log keeps what it had and says what happened.
final class FaultTests: XCTestCase {
    func optilog(_ arguments: [String], environment: [String: String] = [:]) throws -> ProcessResult {
        try runProcess(builtExecutable("optilog"), arguments, environment: environment)
    }

    /// Per epoch: val_loss and the optimizer checksum, as exported.
    func epochs(_ db: String, run: Int = 1) throws -> [String] {
        let r = try optilog(["sql", "SELECT epoch, val_loss, optimizer_checksum FROM epochs WHERE run_id = :r ORDER BY epoch", "--param", "r", String(run),
                             "--db", db, "--format", "csv"])
        XCTAssertEqual(r.status, 0, r.stderr)
        return r.stdout.split(separator: "\n").dropFirst().map(String.init)
    }


    /// A 384 kB tmpfs fills up part-way through a run: one clear error, every epoch committed
    /// before it intact, and once there is room again the run resumes to the same bits as a run
    /// on a roomy disk. Needs root (mount); skipped otherwise.
    func testDiskFullKeepsEveryEarlierEpochAndResumes() throws {
        guard getuid() == 0 else { throw XCTSkip("mounting a small tmpfs needs root") }
        let mountPoint = freshDirectory("optilog-full").path
        guard shell("mount -t tmpfs -o size=384k tmpfs \(mountPoint)") == 0 else { throw XCTSkip("cannot mount tmpfs here") }
        defer { _ = shell("umount \(mountPoint)") }
        let db = mountPoint + "/full.sqlite"
        let arguments = ["run", "--task", "boston", "--optimizer", "adam", "--epochs", "40", "--checkpoint-every", "0"]
        let full = try optilog(arguments + ["--db", db])
        XCTAssertEqual(full.status, 1, full.stderr)
        let errorLines = full.stderr.split(separator: "\n").filter { $0.hasPrefix("optilog: error:") }
        XCTAssertEqual(errorLines.count, 1, full.stderr)
        XCTAssertTrue(errorLines[0].contains("disk is full") && errorLines[0].contains("optilog resume 1"), String(errorLines[0]))
        XCTAssertEqual(shell("mount -o remount,size=64m \(mountPoint)"), 0)
        let kept = try epochs(db)
        XCTAssertGreaterThan(kept.count, 0)
        XCTAssertLessThan(kept.count, 40)
        let verify = try optilog(["verify", "--db", db])
        XCTAssertEqual(verify.status, 0, verify.stdout + verify.stderr)
        let resumed = try optilog(["resume", "1", "--checkpoint-every", "0", "--db", db])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        // The twin that never ran out of space.
        let twin = freshDirectory("optilog-roomy").appendingPathComponent("twin.sqlite").path
        XCTAssertEqual(try optilog(arguments + ["--db", twin]).status, 0)
        let expected = try epochs(twin)
        XCTAssertEqual(expected.count, 40)
        XCTAssertEqual(try epochs(db), expected)
        XCTAssertEqual(Array(expected.prefix(kept.count)), kept, "the epochs kept through the failure are the twin's")
    }

    func testAFileThatIsNotAStoreIsRefusedAndLeftAlone() throws {
        let dir = freshDirectory("optilog-foreign")
        let notes = dir.appendingPathComponent("notes.sqlite").path
        try "experiment notes, not a database\n".write(toFile: notes, atomically: true, encoding: .utf8)
        // A store cut short: SQLite's header, then nothing.
        let cut = dir.appendingPathComponent("cut.sqlite").path
        let source = dir.appendingPathComponent("source.sqlite").path
        XCTAssertEqual(try optilog(["run", "--task", "boston", "--optimizer", "sgd", "--epochs", "1", "--db", source]).status, 0)
        _ = try optilog(["merge", "--publish", source, "-o", cut])
        let whole = try Data(contentsOf: URL(fileURLWithPath: cut))
        try whole.prefix(whole.count / 3).write(to: URL(fileURLWithPath: cut))
        for file in [notes, cut] {
            let before = try Data(contentsOf: URL(fileURLWithPath: file))
            for arguments in [["run", "--task", "boston", "--optimizer", "adam", "--epochs", "1"], ["study", "--tasks", "boston", "--epochs", "1"],
                              ["best"], ["verify"], ["show", "1"], ["resume", "--all"]] {
                let r = try optilog(arguments + ["--db", file])
                XCTAssertEqual(r.status, 1, "\(arguments) on \(file): \(r.stderr)")
                XCTAssertEqual(r.stderr.split(separator: "\n").filter { $0.hasPrefix("optilog: error:") }.count, 1, r.stderr)
                XCTAssertFalse(r.stderr.contains("Fatal error"), r.stderr)
            }
            let merge = try optilog(["merge", file, "-o", dir.appendingPathComponent("merged-\(UUID().uuidString).sqlite").path])
            XCTAssertEqual(merge.status, 1, merge.stderr)
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: file)), before, "\(file) was changed")
        }
    }

    /// The newest checkpoint damaged: verify names it, resume says so and falls back to the
    /// previous good one, and the run still ends bit-identical to one that was never damaged.
    func testDamagedCheckpointIsNamedAndResumeFallsBack() throws {
        let dir = freshDirectory("optilog-damaged")
        let db = dir.appendingPathComponent("d.sqlite").path, twin = dir.appendingPathComponent("twin.sqlite").path
        let base = ["run", "--task", "boston", "--optimizer", "nadam", "--checkpoint-every", "0"]
        XCTAssertEqual(try optilog(base + ["--epochs", "4", "--db", db]).status, 0)
        XCTAssertEqual(try optilog(base + ["--epochs", "6", "--db", twin]).status, 0)
        let queue = try DatabaseQueue(path: db)
        try queue.write { db in
            try db.execute(sql: "UPDATE checkpoints SET blob = substr(blob, 1, 100) || X'00' || substr(blob, 102) WHERE run_id = 1 AND epoch = 4")
        }
        try queue.close()
        let verify = try optilog(["verify", "--problems", "--format", "csv", "--db", db])
        XCTAssertEqual(verify.status, 1)
        XCTAssertTrue(verify.stdout.contains("run 1 checkpoint e4,PROBLEM,"), verify.stdout)
        let resumed = try optilog(["resume", "1", "--epochs", "6", "--checkpoint-every", "0", "--db", db])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(resumed.stderr.contains("optilog: warning: run 1: the checkpoint of epoch 4 cannot be used (corrupt data"), resumed.stderr)
        XCTAssertTrue(resumed.stderr.contains("optilog: warning: run 1: resuming from the previous good checkpoint, of epoch 3"), resumed.stderr)
        XCTAssertEqual(try epochs(db), try epochs(twin))
        XCTAssertEqual(try optilog(["verify", "--db", db]).status, 0)
    }

    /// The data file changed between a run and its resume: refused, by fingerprint.
    func testChangedDataIsRefused() throws {
        let dir = freshDirectory("optilog-data-changed")
        let data = dir.appendingPathComponent("data"), db = dir.appendingPathComponent("c.sqlite").path
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("fixtures/boston_house_prices.csv")
        let csv = data.appendingPathComponent("boston_house_prices.csv")
        try FileManager.default.copyItem(at: fixtures, to: csv)
        XCTAssertEqual(try optilog(["run", "--task", "boston", "--optimizer", "adam", "--epochs", "2", "--data-dir", data.path, "--db", db]).status, 0)
        let original = try String(contentsOf: csv, encoding: .utf8)
        let text = original.replacingOccurrences(of: ",4.98,24\r\n", with: ",4.98,24.5\r\n")       // the first house's price
        XCTAssertNotEqual(text, original)
        try text.write(to: csv, atomically: true, encoding: .utf8)
        let r = try optilog(["resume", "1", "--epochs", "3", "--data-dir", data.path, "--db", db])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("its data differ from the logged data (training fingerprint "), r.stderr)
        XCTAssertEqual(try epochs(db).count, 2)
    }

    func testNetworkFilesystemIsWarnedAbout() throws {
        let db = freshDirectory("optilog-nfs").appendingPathComponent("n.sqlite").path
        let local = try optilog(["run", "--task", "boston", "--optimizer", "adam", "--epochs", "1", "--db", db])
        XCTAssertFalse(local.stderr.contains("network filesystem"), local.stderr)
        let remote = try optilog(["run", "--task", "boston", "--optimizer", "adam", "--epochs", "1", "--db", db], environment: ["OPTILOG_FAULT": "network-fs"])
        XCTAssertEqual(remote.status, 0)
        XCTAssertTrue(remote.stderr.contains("optilog: warning: \(db) is on a network filesystem (nfs)"), remote.stderr)
    }
}
