import Foundation
import OptilogTestSupport
import XCTest
import Engine
import GRDB
@testable import Store

/// A resume never deletes or rewrites a logged epoch: it replays the epochs after its newest
/// checkpoint against the log and appends only what is new; one process at a time owns a run;
/// concurrent studies split their grid.
final class ReplayTests: XCTestCase {
    var optilog: URL { builtExecutable("optilog") }

    @discardableResult
    func launch(_ arguments: [String]) throws -> Process { try launchProcess(optilog, arguments) }

    /// Every logged epoch of run 1 as text (timings aside), from a read-only connection.
    func epochs(_ db: String) -> [String] {
        guard let reader = try? ReadOnlyStore(path: db),
              let rows = try? reader.rows("""
                  SELECT e.epoch, e.loss, e.val_loss, e.grad_norm_mean, e.optimizer_checksum, hex(s.losses), hex(s.grad_norms)
                  FROM epochs e JOIN step_series s USING (run_id, epoch) WHERE e.run_id = 1 ORDER BY e.epoch
                  """) else { return [] }
        return rows.rows.map { $0.map { "\($0)" }.joined(separator: " ") }
    }

    func text(_ value: DatabaseValue) -> String {
        String.fromDatabaseValue(value) ?? Int64.fromDatabaseValue(value).map(String.init) ?? "\(value)"
    }

    func waitForEpochs(_ db: String, atLeast n: Int, while p: Process, timeout: Double = 60) {
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning && Date() < deadline && epochs(db).count < n { Thread.sleep(forTimeInterval: 0.01) }
    }

    /// Kill a run between checkpoints, then kill each of its resumes a moment after it starts
    /// (the default policy: a checkpoint every 10 s or 100 epochs): the logged epochs never
    /// shrink and never change, and the run still ends bit-identical to one never interrupted.
    func testKilledResumesNeverLoseOrRewriteLoggedEpochs() throws {
        let dir = freshDirectory("optilog-replay")
        let common = ["run", "--task", "boston", "--optimizer", "rmsprop", "--epochs", "400", "--samples", "96", "--validation-samples", "32"]
        let twin = dir.appendingPathComponent("twin.sqlite").path, db = dir.appendingPathComponent("killed.sqlite").path
        let reference = try launch(common + ["--db", twin])
        reference.waitUntilExit()
        XCTAssertEqual(reference.terminationStatus, 0)
        let first = try launch(common + ["--db", db])
        waitForEpochs(db, atLeast: 150, while: first)
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        var seen = epochs(db)
        XCTAssertGreaterThanOrEqual(seen.count, 150)
        var generator = SystemRandomNumberGenerator()
        for round in 0..<5 {
            let resume = try launch(["resume", "1", "--db", db])
            Thread.sleep(forTimeInterval: Double.random(in: 0.05...0.4, using: &generator))
            kill(resume.processIdentifier, SIGKILL)
            resume.waitUntilExit()
            let now = epochs(db)
            XCTAssertGreaterThanOrEqual(now.count, seen.count, "round \(round): epochs were lost")
            XCTAssertEqual(Array(now.prefix(seen.count)), seen, "round \(round): logged epochs changed")
            seen = now
        }
        let last = try launch(["resume", "1", "--db", db])
        last.waitUntilExit()
        XCTAssertEqual(last.terminationStatus, 0)
        XCTAssertEqual(epochs(db), epochs(twin))
        let row = try XCTUnwrap(try Store(path: db).reader.run(1))
        XCTAssertEqual(row.status, .completed)
        XCTAssertGreaterThan(row.epochsReplayed, 0, "the resumes replayed and checked logged epochs")
    }

    /// `--checkpoint-epochs K` bounds the replay by epochs as well as by time, and the policy is
    /// the run's own: stored with it, used by resume.
    func testCheckpointEveryKEpochsAndThePolicyIsTheRuns() throws {
        let db = freshDirectory("optilog-policy").appendingPathComponent("k.sqlite").path
        let p = try launch(["run", "--task", "boston", "--optimizer", "adam", "--epochs", "23", "--samples", "64",
                            "--checkpoint-every", "1e9", "--checkpoint-epochs", "5", "--db", db])
        p.waitUntilExit()
        let store = try Store(path: db)
        XCTAssertEqual(try store.reader.checkpointEpochs(run: 1), [23, 20])
        XCTAssertEqual(try store.reader.run(1)?.checkpointPolicy, CheckpointPolicy(seconds: 1e9, epochs: 5))
        let extended = try launch(["resume", "1", "--epochs", "31", "--db", db])
        extended.waitUntilExit()
        XCTAssertEqual(extended.terminationStatus, 0)
        XCTAssertEqual(try store.reader.checkpointEpochs(run: 1), [31, 28], "the resume kept the run's policy (every 5 epochs, and the last)")
    }

    /// A second `resume` of a run a live process trains is refused, naming the owner; once that
    /// process is dead its run is taken over at once (same host).
    func testOneProcessAtATimeOwnsARun() throws {
        let db = freshDirectory("optilog-owner").appendingPathComponent("o.sqlite").path
        let owner = try launch(["run", "--task", "boston", "--optimizer", "adam", "--epochs", "1000000", "--samples", "64", "--db", db])
        defer { if owner.isRunning { kill(owner.processIdentifier, SIGKILL) } }
        waitForEpochs(db, atLeast: 3, while: owner)
        let second = try runProcess(optilog, ["resume", "1", "--db", db])
        XCTAssertEqual(second.status, 1)
        XCTAssertTrue(second.stderr.hasPrefix("optilog: error: run 1 is being trained by another process (pid \(owner.processIdentifier) on \(ProcessInfo.processInfo.hostName), heartbeat "),
                      second.stderr)
        XCTAssertTrue(second.stderr.hasSuffix(" s ago); refusing to resume it twice\n"), second.stderr)
        let all = try runProcess(optilog, ["resume", "--all", "--db", db])
        XCTAssertEqual(all.stderr, "nothing to resume\n", "a live run is not resumable")
        // On this host a live owner keeps its run whatever its heartbeat's age.
        XCTAssertEqual(try runProcess(optilog, ["resume", "1", "--stale-after", "0", "--db", db]).status, 1)
        XCTAssertTrue(owner.isRunning)
        kill(owner.processIdentifier, SIGKILL)
        owner.waitUntilExit()
        let done = epochs(db).count
        let takeover = try runProcess(optilog, ["resume", "1", "--epochs", String(done + 2), "--db", db])
        XCTAssertEqual(takeover.status, 0, takeover.stderr)
        XCTAssertEqual(epochs(db).count, done + 2)
    }

    /// A process whose run was taken over can no longer write into it: every write checks the
    /// owner token in its transaction.
    func testAProcessThatLostItsRunCannotWriteIntoIt() throws {
        let store = try Store(path: freshDirectory("optilog-fence").appendingPathComponent("f.sqlite").path)
        let first = try store.createRun(NewRun(task: "boston", dataset: "d", datasetFingerprint: "d", modelConfiguration: "{}", optimizer: "adam",
                                               optimizerConfiguration: "{}", configurationFingerprint: "c", seed: 1, batchSize: 32,
                                               epochsPlanned: 3, codeVersion: "test"))
        func epoch(_ n: Int) -> EpochCommit {
            EpochCommit(row: Epoch(epoch: n, loss: 1, metric: 1, valLoss: 1, valMetric: 1, gradNormMean: 1, gradNormMin: 1, gradNormMax: 1, gradNormLast: 1,
                        learningRate: 0.1, optimizerChecksum: "s\(n)", seconds: 0, samplesPerSecond: 0), firstStep: 0, stepLosses: [1],
                        stepGradNorms: [1], layerNorms: [], checkpoint: nil)
        }
        try store.commitEpoch(epoch(1), run: first)
        // Its heartbeat is old: another host may take it over.
        try store.write { try $0.execute(sql: "UPDATE runs SET heartbeat_at = 0, host = 'elsewhere' WHERE id = ?", arguments: [first.id]) }
        let (second, logged) = try store.claim(run: first.id, epochsPlanned: 3, policy: CheckpointPolicy(), staleAfter: 120)
        XCTAssertEqual(logged, 1)
        XCTAssertThrowsError(try store.commitEpoch(epoch(2), run: first)) {
            XCTAssertTrue("\($0)".hasPrefix("run \(first.id) was taken over by pid \(getpid())"), "\($0)")
        }
        XCTAssertThrowsError(try store.heartbeat(run: first))
        XCTAssertThrowsError(try store.setStatus(run: first, .completed))
        try store.commitEpoch(epoch(2), run: second)
        XCTAssertEqual(try store.reader.epochs(run: first.id).map(\.optimizerChecksum), ["s1", "s2"])
        // A fresh heartbeat from a live owner on another host: refused, naming it.
        try store.write { try $0.execute(sql: "UPDATE runs SET heartbeat_at = ?, host = 'elsewhere', pid = 4242 WHERE id = ?",
                                         arguments: [Date().timeIntervalSince1970 - 3, first.id]) }
        XCTAssertThrowsError(try store.claim(run: first.id, epochsPlanned: 3, policy: CheckpointPolicy(), staleAfter: 120)) {
            XCTAssertEqual("\($0)", "run \(first.id) is being trained by another process (pid 4242 on elsewhere, heartbeat 3 s ago); refusing to resume it twice")
        }
    }

    /// Two `study` commands on one store at once split the grid: every cell is trained once.
    func testTwoConcurrentStudiesSplitTheGrid() throws {
        let db = freshDirectory("optilog-split").appendingPathComponent("s.sqlite").path
        let grid = ["study", "--tasks", "boston", "--optimizers", "adam", "sgd", "rmsprop", "adagrad", "nadam", "adamax",
                    "--epochs", "40", "--name", "split", "--db", db]
        // Both start on a store that does not exist yet: they make it together, too.
        let a = try launch(grid), b = try launch(grid)
        a.waitUntilExit()
        b.waitUntilExit()
        XCTAssertEqual([a.terminationStatus, b.terminationStatus], [0, 0])
        let reader = try ReadOnlyStore(path: db)
        let cells = try reader.rows("SELECT optimizer, COUNT(*), MIN(status), MAX(epochs_done) FROM runs GROUP BY optimizer ORDER BY optimizer").rows
        XCTAssertEqual(cells.map { $0.map(text).joined(separator: " ") },
                       ["adagrad 1 completed 40", "adam 1 completed 40", "adamax 1 completed 40", "nadam 1 completed 40", "rmsprop 1 completed 40",
                        "sgd 1 completed 40"])
    }

    /// `resume --all` reports a run it cannot resume and goes on with the others.
    func testResumeAllReportsEachRefusalAndGoesOn() throws {
        let db = freshDirectory("optilog-all").appendingPathComponent("a.sqlite").path
        for optimizer in ["adam", "sgd"] {
            XCTAssertEqual(try runProcess(optilog, ["run", "--task", "boston", "--optimizer", optimizer, "--epochs", "2", "--samples", "64", "--db", db]).status, 0)
        }
        let queue = try DatabaseQueue(path: db)
        try queue.write { db in
            try db.execute(sql: "UPDATE runs SET status = 'interrupted'")
            try db.execute(sql: "UPDATE runs SET configuration_fingerprint = 'other' WHERE id = 1")
        }
        try queue.close()
        let r = try runProcess(optilog, ["resume", "--all", "--epochs", "3", "--db", db])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("optilog: error: run 1: its configuration does not match the log"), r.stderr)
        XCTAssertTrue(r.stderr.hasSuffix("optilog: error: 1 of 2 runs could not be resumed (see above)\n"), r.stderr)
        let rows = try ReadOnlyStore(path: db).rows("SELECT id, status, epochs_done FROM runs ORDER BY id").rows
        XCTAssertEqual(rows.map { $0.map(text).joined(separator: " ") }, ["1 interrupted 2", "2 completed 3"])
    }
}
