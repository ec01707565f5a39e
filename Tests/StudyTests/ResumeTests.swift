import Foundation
import OptilogTestSupport
import XCTest
import Engine
import Store

/// Resume is bit-identical: a run killed (SIGKILL at a random moment, twice, or stopped by
/// SIGINT) and resumed ends with the same weights, optimizer-state checksums and every logged
/// metric and step as the same run never interrupted.
final class ResumeTests: XCTestCase {
    var optilog: URL { builtExecutable("optilog") }

    /// Some of these runs are resumed in this process: the executables must use this process's
    /// OpenBLAS kernels (which `optilog` would otherwise choose for itself).
    override func setUp() { setenv("OPENBLAS_CORETYPE", BLAS.coreName, 1) }
    override func tearDown() { unsetenv("OPENBLAS_CORETYPE") }

    func path(_ name: String) -> String { freshDirectory("optilog-resume").appendingPathComponent(name).path }

    @discardableResult
    func launch(_ arguments: [String]) throws -> Process { try launchProcess(optilog, arguments) }

    func runToEnd(_ arguments: [String]) throws -> Int32 {
        let p = try launch(arguments)
        p.waitUntilExit()
        return p.terminationStatus
    }

    /// Everything logged about run 1 that must not depend on interruptions (timings excluded).
    func logged(_ db: String) throws -> [String] {
        let store = try Store(path: db)
        var out: [String] = []
        for e in try store.reader.epochs(run: 1) {
            out.append("\(e.epoch) \(String(describing: e.loss)) \(String(describing: e.metric)) \(String(describing: e.valLoss)) \(String(describing: e.valMetric)) "
                       + "\(String(describing: e.gradNormMean)) \(String(describing: e.gradNormMin)) \(String(describing: e.gradNormMax)) "
                       + "\(String(describing: e.gradNormLast)) \(String(describing: e.learningRate)) \(e.optimizerChecksum)")
            let series = try store.reader.stepSeries(run: 1, epoch: e.epoch)
            out.append("\(series.firstStep) \(series.losses.map(\.bitPattern)) \(series.gradNorms.map(\.bitPattern))")
            out.append("\(try store.reader.layerNorms(run: 1, epoch: e.epoch).sorted { $0.key < $1.key })")
        }
        let checkpoint = try XCTUnwrap(try store.reader.latestCheckpoint(run: 1, fallBack: false))
        out.append("final epoch \(checkpoint.epoch): " + checkpoint.payload.tensors.map { "\($0.name) \($0.data.hashValue)" }.joined(separator: ","))
        let row = try XCTUnwrap(try store.reader.run(1))
        out.append("status \(row.status) \(row.epochsDone)")
        return out
    }

    /// What a user does after a kill: resume the run, or start it again if the kill came before
    /// it was even recorded.
    func continueAfterKill(_ db: String, run common: [String], every: String) throws -> [String] {
        (try? Store(path: db).reader.run(1)) != nil
            ? ["resume", "--all", "--stale-after", "0", "--checkpoint-every", every, "--db", db]
            : common + ["--db", db]
    }

    func testKilledAndResumedRunsAreBitIdenticalForEveryOptimizer() throws {
        var generator = SystemRandomNumberGenerator()
        var kills = 0
        for optimizer in Optimizers.names {
            // Half the runs checkpoint every epoch, half only at the end (resume then recomputes from the start).
            let every = optimizer.count % 2 == 0 ? "0" : "10"
            let common = ["run", "--task", "boston", "--optimizer", optimizer, "--epochs", "12", "--samples", "192", "--checkpoint-every", every]
            let reference = path("reference.sqlite"), interrupted = path("killed.sqlite")
            XCTAssertEqual(try runToEnd(common + ["--db", reference]), 0)
            let p = try launch(common + ["--db", interrupted])
            // Kill at a random point: once a random number of epochs is logged, plus a random
            // fraction of a step's time (polling the log, so a fast machine cannot outrun it).
            let target = Int.random(in: 1...10, using: &generator)
            let deadline = Date().addingTimeInterval(20)
            while p.isRunning, Date() < deadline, ((try? ReadOnlyStore(path: interrupted).rows("SELECT epochs_done FROM runs WHERE id = 1"))?
                    .rows.first.flatMap { Int.fromDatabaseValue($0[0]) } ?? 0) < target {
                Thread.sleep(forTimeInterval: 0.002)
            }
            Thread.sleep(forTimeInterval: Double.random(in: 0...0.003, using: &generator))
            if p.isRunning { kill(p.processIdentifier, SIGKILL); kills += 1 }
            p.waitUntilExit()
            // A run that died without saying so counts as interrupted once its heartbeat is stale.
            XCTAssertEqual(try runToEnd(try continueAfterKill(interrupted, run: common, every: every)), 0, optimizer)
            XCTAssertEqual(try logged(interrupted), try logged(reference), "\(optimizer): resumed run differs")
        }
        XCTAssertGreaterThan(kills, 0, "no run was killed mid-way; the timing needs adjusting")
    }

    /// Opt-in soak: OPTILOG_SOAK_KILLS=50 swift test --filter ResumeTests/testSoak — that many
    /// random SIGKILLs across optimizers, tasks and checkpoint policies, each run resumed (and
    /// killed again while resuming now and then); prints how many runs ended bit-identical.
    func testSoak() throws {
        guard let kills = ProcessInfo.processInfo.environment["OPTILOG_SOAK_KILLS"].flatMap(Int.init), kills > 0 else {
            throw XCTSkip("set OPTILOG_SOAK_KILLS=N to run the soak")
        }
        var generator = SystemRandomNumberGenerator()
        var done = 0, held = 0, trials = 0
        while done < kills {
            let optimizer = Optimizers.names[trials % 8], task = trials % 3 == 2 ? "jena" : "boston"
            let every = trials % 2 == 0 ? "0" : "10"
            trials += 1
            let common = ["run", "--task", task, "--optimizer", optimizer, "--epochs", task == "jena" ? "5" : "15",
                          "--samples", task == "jena" ? "96" : "256", "--validation-samples", "32", "--checkpoint-every", every]
            let reference = path("reference.sqlite"), killed = path("killed.sqlite")
            XCTAssertEqual(try runToEnd(common + ["--db", reference]), 0)
            var p = try launch(common + ["--db", killed])
            repeat {
                Thread.sleep(forTimeInterval: Double.random(in: 0.02...0.5, using: &generator))
                if p.isRunning { kill(p.processIdentifier, SIGKILL); done += 1 }
                p.waitUntilExit()
                p = try launch(try continueAfterKill(killed, run: common, every: every))
            } while Bool.random(using: &generator) && done < kills
            p.waitUntilExit()
            if (try? logged(killed)) == (try logged(reference)) { held += 1 } else { XCTFail("\(task) \(optimizer): not bit-identical") }
        }
        print("soak: \(done) kills over \(trials) runs; \(held) of \(trials) resumed runs bit-identical to their uninterrupted twins")
    }

    func testKilledTwiceAndStoppedBySIGINT() throws {
        let common = ["run", "--task", "jena", "--optimizer", "nadam", "--epochs", "6", "--samples", "96", "--validation-samples", "32",
                      "--checkpoint-every", "0"]
        let reference = path("reference.sqlite")
        XCTAssertEqual(try runToEnd(common + ["--db", reference]), 0)

        let twice = path("twice.sqlite")
        let first = try launch(common + ["--db", twice])
        Thread.sleep(forTimeInterval: 0.6)
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        let second = try launch(try continueAfterKill(twice, run: common, every: "0"))
        Thread.sleep(forTimeInterval: 0.6)
        kill(second.processIdentifier, SIGKILL)
        second.waitUntilExit()
        XCTAssertEqual(try runToEnd(try continueAfterKill(twice, run: common, every: "0")), 0)
        XCTAssertEqual(try logged(twice), try logged(reference))

        // SIGINT once the run has logged an epoch and before it ends (the store is watched), so
        // the stop always lands in training.
        let stopped = path("sigint.sqlite")
        let p = try launch(common + ["--db", stopped])
        let deadline = Date().addingTimeInterval(60)
        while p.isRunning, Date() < deadline, ((try? ReadOnlyStore(path: stopped).run(1))??.epochsDone ?? 0) < 1 {
            Thread.sleep(forTimeInterval: 0.01)
        }
        XCTAssertTrue(p.isRunning, "the run ended before it could be interrupted; make it longer")
        kill(p.processIdentifier, SIGINT)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 130)
        let row = try XCTUnwrap(try Store(path: stopped).reader.run(1))
        XCTAssertLessThan(row.epochsDone, 6)
        XCTAssertEqual(row.status, .interrupted)
        // The stop wrote a checkpoint of where training was: part-way through the epoch in
        // progress (with its progress), or at the start of one.
        let stored = try XCTUnwrap(try Store(path: stopped).reader.latestCheckpoint(run: 1, fallBack: false))
        XCTAssertTrue(stored.payload.metadata["partial_steps"] != nil ? stored.epoch == row.epochsDone + 1 : stored.epoch == row.epochsDone,
                      "\(stored.payload.metadata)")
        XCTAssertEqual(try runToEnd(try continueAfterKill(stopped, run: common, every: "0")), 0)
        XCTAssertEqual(try logged(stopped), try logged(reference))
    }

    /// A stop part-way through an epoch checkpoints the epoch's progress; resuming finishes that
    /// epoch from the same step, to the same bits as never stopping.
    func testStopPartWayThroughAnEpochResumesFromThatStep() throws {
        let spec = RunSpec(task: .boston, optimizer: "rmsprop", optimizerConfiguration: try Optimizers.make("rmsprop", settings: []).config,
                           epochs: 3, batchSize: 16, samples: 160)
        let locator = DataLocator(environment: ["HOME": "/nonexistent"])
        let reference = try Store(path: path("reference.sqlite"))
        let straight = try LoggedTraining.start(spec, store: reference, locator: locator, policy: CheckpointPolicy(seconds: 0))
        XCTAssertEqual(try straight.train(), .completed)

        let stopped = try Store(path: path("stopped.sqlite"))
        let first = try LoggedTraining.start(spec, store: stopped, locator: locator, policy: CheckpointPolicy(seconds: 0))
        var steps = 0
        // Stop before the 4th step of epoch 2 (10 steps per epoch).
        XCTAssertEqual(try first.train(shouldStop: { steps == 13 }, onStep: { _, _, _, _ in steps += 1 }), .interrupted)
        let partial = try XCTUnwrap(try stopped.reader.latestCheckpoint(run: 1, fallBack: false))
        XCTAssertEqual(partial.epoch, 2)
        XCTAssertEqual(partial.payload.metadata["partial_steps"], "3")
        XCTAssertEqual(try stopped.reader.run(1)?.status, .interrupted)
        let resumed = try LoggedTraining.resume(run: 1, store: stopped, locator: locator)
        XCTAssertEqual(resumed.policy, CheckpointPolicy(seconds: 0), "the run's own policy")
        XCTAssertEqual(resumed.epochsDone, 1)
        XCTAssertEqual(try resumed.train(), .completed)
        XCTAssertEqual(try logged(stopped.path), try logged(reference.path))
    }

    /// Killed inside the transaction that writes epoch 3 and its checkpoint: the store keeps
    /// epochs 1–2 whole, and the resumed run still ends bit-identical.
    func testKilledDuringACheckpointWrite() throws {
        let common = ["run", "--task", "boston", "--optimizer", "adam", "--epochs", "6", "--samples", "128", "--checkpoint-every", "0"]
        let reference = path("reference.sqlite"), crashed = path("crashed.sqlite")
        XCTAssertEqual(try runToEnd(common + ["--db", reference]), 0)
        let p = Process()
        p.executableURL = optilog
        p.arguments = common + ["--db", crashed]
        p.environment = ProcessInfo.processInfo.environment.merging(["OPTILOG_FAULT": "commit-epoch:3"]) { $1 }
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationReason, .uncaughtSignal)
        let store = try Store(path: crashed)
        XCTAssertEqual(try store.reader.epochs(run: 1).map(\.epoch), [1, 2])
        XCTAssertEqual(try store.reader.latestCheckpoint(run: 1, fallBack: false)?.epoch, 2)
        XCTAssertEqual(try runToEnd(["resume", "--all", "--stale-after", "0", "--checkpoint-every", "0", "--db", crashed]), 0)
        XCTAssertEqual(try logged(crashed), try logged(reference))
    }

    func testResumeRefusesWhatDoesNotMatch() throws {
        let db = path("refuse.sqlite")
        XCTAssertEqual(try runToEnd(["run", "--task", "boston", "--optimizer", "sgd", "--epochs", "2", "--samples", "64", "--db", db]), 0)
        let store = try Store(path: db)
        // Completed runs are not resumed (unless asked for more epochs).
        XCTAssertThrowsError(try LoggedTrainingProbe.resume(store, epochs: nil)) { XCTAssertTrue("\($0)".contains("already completed"), "\($0)") }
        // Fewer epochs than are logged: refused, not recorded as "completed 2/1".
        let dbq = try ReadWrite(db)
        try dbq.execute("UPDATE runs SET status = 'interrupted' WHERE id = 1")
        XCTAssertThrowsError(try LoggedTrainingProbe.resume(store, epochs: 1)) { XCTAssertTrue("\($0)".contains("2 epochs logged; --epochs 1 would be fewer"), "\($0)") }
        // A changed configuration: refused.
        try dbq.execute("UPDATE runs SET configuration_fingerprint = 'other' WHERE id = 1")
        XCTAssertThrowsError(try LoggedTrainingProbe.resume(store, epochs: nil)) { XCTAssertTrue("\($0)".contains("configuration does not match"), "\($0)") }
        // Changed data: refused by fingerprint, naming what the log says the data were.
        try dbq.execute("UPDATE runs SET dataset_fingerprint = 'other:other' WHERE id = 1")
        XCTAssertThrowsError(try LoggedTrainingProbe.resume(store, epochs: nil)) {
            XCTAssertTrue("\($0)".contains("its data differ from the logged data (training fingerprint"), "\($0)")
            XCTAssertTrue("\($0)".contains("logged: Boston housing"), "\($0)")
        }
        // Trained by another optilog release, whose kernels compute other bits: refused before
        // any replay, and the run is not marked nondeterministic.
        try dbq.execute("UPDATE runs SET code_version = 'optilog 0.1.0' WHERE id = 1")
        XCTAssertThrowsError(try LoggedTrainingProbe.resume(store, epochs: nil)) {
            XCTAssertTrue("\($0)".contains("run 1 was trained by optilog 0.1.0, and this is optilog 0.2.0"), "\($0)")
        }
        XCTAssertEqual(try store.reader.run(1)?.status, .interrupted)
        XCTAssertEqual(try store.reader.epochs(run: 1).count, 2, "refusals leave the log alone")
    }

    /// A logged epoch that the replay does not reproduce (here: a tampered optimizer checksum)
    /// is a determinism failure: the checkpoint that disagrees is skipped with a warning, the
    /// replay from the start stops at the epoch, the run is marked, and nothing logged changes.
    func testAReplayThatDiffersFromTheLogMarksTheRunAndChangesNothing() throws {
        let db = path("replay.sqlite")
        XCTAssertEqual(try runToEnd(["run", "--task", "boston", "--optimizer", "sgd", "--epochs", "3", "--samples", "64", "--db", db]), 0)
        let dbq = try ReadWrite(db)
        try dbq.execute("UPDATE runs SET status = 'interrupted' WHERE id = 1")
        try dbq.execute("UPDATE epochs SET optimizer_checksum = 'tampered' WHERE run_id = 1 AND epoch = 3")
        let before = try logged(db)
        let store = try Store(path: db)
        let training = try LoggedTraining.resume(run: 1, store: store, locator: DataLocator(environment: ["HOME": "/nonexistent"]), epochs: 4)
        XCTAssertEqual(training.epochsDone, 0)
        XCTAssertTrue(training.warnings.contains { $0.contains("checkpoint of epoch 3 cannot be used") }, "\(training.warnings)")
        XCTAssertThrowsError(try training.train()) {
            XCTAssertEqual("\($0)", "run 1: replayed epoch 3 differs from the log: it differs in optimizer_checksum (logged tampered, replayed "
                           + "\(training.optimizer.state.checksum)); nothing logged was changed, and the run is marked nondeterministic")
        }
        XCTAssertEqual(try store.reader.run(1)?.status, .nondeterministic)
        XCTAssertEqual(try store.reader.run(1)?.epochsReplayed, 2)
        XCTAssertEqual(Array(try logged(db).dropLast()), Array(before.dropLast()), "every logged epoch unchanged")
        XCTAssertThrowsError(try LoggedTrainingProbe.resume(store, epochs: nil)) { XCTAssertTrue("\($0)".contains("marked nondeterministic"), "\($0)") }
    }
}

import Data
import GRDB
@testable import Study

enum LoggedTrainingProbe {
    static func resume(_ store: Store, epochs: Int?) throws {
        _ = try LoggedTraining.resume(run: 1, store: store, locator: DataLocator(environment: ["HOME": "/nonexistent"]), epochs: epochs)
    }
}

struct ReadWrite {
    let queue: DatabaseQueue
    init(_ path: String) throws { queue = try DatabaseQueue(path: path) }
    func execute(_ sql: String) throws { try queue.write { try $0.execute(sql: sql) } }
}
