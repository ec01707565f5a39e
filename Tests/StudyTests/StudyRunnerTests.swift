import Foundation
import OptilogTestSupport
import XCTest
import Engine
@testable import Store
@testable import Study

/// The study's decisions and its process pool, driven without training or child processes.
final class StudyRunnerTests: XCTestCase {
    let cell = StudyPlan.Cell(task: .boston, optimizer: "adam", seed: 1, epochs: 10, samples: nil, validationSamples: nil)

    func run(_ status: RunStatus, done: Int, host: String = Store.hostName, pid: Int? = nil, heartbeat: Double = 1_000) -> Run {
        Run(id: 7, uid: "u", studyID: 1, task: "boston", dataset: "d", datasetFingerprint: "f", modelConfiguration: "{}", optimizer: "adam",
            optimizerConfiguration: "{}", configurationFingerprint: "c", seed: 1, batchSize: 32, epochsPlanned: 10, epochsDone: done,
            status: status, statusDetail: nil, divergedStep: nil, bestValLoss: nil, bestEpoch: nil, heartbeatAt: heartbeat, host: host,
            pid: pid, threads: 1, codeVersion: "test", createdAt: 0, finishedAt: nil, owner: nil, checkpointPolicy: CheckpointPolicy(),
            dataDir: nil, epochsReplayed: 0)
    }

    func testDecisions() {
        XCTAssertEqual(StudyRunner.decide(cell, existing: nil), .start)
        XCTAssertEqual(StudyRunner.decide(cell, existing: run(.completed, done: 10)), .done("completed"))
        XCTAssertEqual(StudyRunner.decide(cell, existing: run(.completed, done: 4)), .resume(7), "a longer grid extends a completed run")
        XCTAssertEqual(StudyRunner.decide(cell, existing: run(.interrupted, done: 4)), .resume(7))
        for status in [RunStatus.diverged, .failed, .nondeterministic] {
            XCTAssertEqual(StudyRunner.decide(cell, existing: run(status, done: 2)), .done(status.rawValue))
        }
        XCTAssertEqual(StudyRunner.decide(cell, existing: run(.interrupted, done: 12)), .done("it has more epochs logged than the grid asks"))
        // Running here: the owner's pid decides (this test's parent process is alive; pid 2^22+1 is not).
        XCTAssertEqual(StudyRunner.decide(cell, existing: run(.running, done: 3, pid: Int(getppid())), now: 1_001),
                       .trainedElsewhere("pid \(getppid()) on \(Store.hostName), heartbeat 1 s ago"))
        XCTAssertEqual(StudyRunner.decide(cell, existing: run(.running, done: 3, pid: 4_194_305), now: 1_001), .resume(7))
        // Running on another host: the heartbeat's age against the staleness limit (120 s by default).
        XCTAssertEqual(StudyRunner.decide(cell, existing: run(.running, done: 3, host: "elsewhere", pid: 5), now: 1_119),
                       .trainedElsewhere("pid 5 on elsewhere, heartbeat 119 s ago"))
        XCTAssertEqual(StudyRunner.decide(cell, existing: run(.running, done: 3, host: "elsewhere", pid: 5), now: 1_121), .resume(7))
        XCTAssertEqual(Run.defaultStaleAfter, 120)
    }

    final class FakeWorker: Worker {
        var polls: Int
        let status: Int32
        var interrupted = false
        /// What it "writes" on standard error, handed over at the first call.
        var output: [String] = []
        init(polls: Int, status: Int32, output: [String] = []) { (self.polls, self.status, self.output) = (polls, status, output) }
        func takeLines() -> [String] { defer { output = [] }; return output }
        var isRunning: Bool { polls -= 1; return polls > 0 && !interrupted }
        var exitStatus: Int32 { interrupted ? 130 : status }
        func interrupt() { interrupted = true }
    }

    func runner(jobs: Int) throws -> StudyRunner {
        let path = freshDirectory("optilog-runner").appendingPathComponent("s.sqlite").path
        var runner = StudyRunner(plan: try StudyPlan(preset: .quick, tasks: [.boston], optimizers: ["adam", "sgd", "nadam"], seeds: [1, 2]),
                                 store: try Store(path: path), storePath: path, dataDir: "/data")
        runner.jobs = jobs
        return runner
    }

    /// At most `jobs` children at once, each with the cell's command line; failures counted.
    func testThePoolRunsAtMostJobsChildrenAndCountsFailures() throws {
        var runner = try runner(jobs: 2)
        var launched: [[String]] = [], workers: [FakeWorker] = [], lines: [String] = [], events: [StudyEvent] = []
        var mostAtOnce = 0
        runner.launch = { arguments in
            launched.append(arguments)
            let output = [ProgressLine.run(Int64(launched.count + 10)), ProgressLine.step(epoch: 1, step: 2, steps: 13, loss: 0.5),
                          "optilog: warning: child \(launched.count)", ProgressLine.epoch(1, valLoss: 0.25, loss: 0.75), ProgressLine.epoch(2, valLoss: nil)]
            let worker = FakeWorker(polls: 3 + launched.count % 3, status: launched.count == 4 ? 1 : 0, output: output)
            workers.append(worker)
            mostAtOnce = max(mostAtOnce, workers.filter { $0.polls > 0 }.count)
            return worker
        }
        runner.report = { lines.append($0) }
        runner.observe = { events.append($0) }
        let outcome = try runner.run()
        XCTAssertEqual(outcome.cells, 6)
        XCTAssertEqual(outcome.attempted, 6)
        XCTAssertEqual(outcome.failures, 1)
        XCTAssertEqual(launched.count, 6)
        XCTAssertLessThanOrEqual(mostAtOnce, 2)
        XCTAssertEqual(launched[0], ["run", "--task", "boston", "--optimizer", "adam", "--epochs", "20", "--seed", "1", "--study-id",
                                     String(outcome.study), "--study-cell", "--db", runner.storePath, "--format", "ndjson", "--data-dir", "/data"])
        XCTAssertEqual(lines.first, "study study-quick (id \(outcome.study)): 6 cells, 0 done, 6 to run")
        // A child's lines: progress becomes events of its slot, the rest is passed on.
        XCTAssertEqual(lines.filter { $0.hasPrefix("optilog: warning: child ") }.count, 6)
        XCTAssertEqual(events.first, .planned(tasks: Array(repeating: "boston", count: 6), done: 0, total: 6))
        let ended = events.compactMap { e -> (Int64?, String, Bool)? in
            if case let .cellEnded(_, _, _, run, outcome, failed) = e { return (run, outcome, failed) } else { return nil }
        }
        XCTAssertEqual(ended.map(\.0).compactMap { $0 }.sorted(), (11...16).map(Int64.init), "each cell's run, from its progress line")
        XCTAssertEqual(ended.filter { $0.1 == "failed (exit 1)" && $0.2 }.count, 1)
        XCTAssertEqual(ended.filter { $0.1 == "completed" && !$0.2 }.count, 5)
        XCTAssertEqual(events.filter { if case .step(_, 1, 2, 13, 0.5) = $0 { return true } else { return false } }.count, 6)
        XCTAssertEqual(events.filter { if case .epochEnded(_, 2, nil, nil) = $0 { return true } else { return false } }.count, 6)
        XCTAssertEqual(events.filter { if case .epochEnded(_, 1, 0.25, 0.75) = $0 { return true } else { return false } }.count, 6, "the epoch's training loss too")
        let slots = events.compactMap { e -> Int? in if case let .cellStarted(slot, _, _, _) = e { return slot } else { return nil } }
        XCTAssertEqual(Set(slots), [0, 1], "two jobs, two slots")
    }

    /// A stop request interrupts the running children and starts no more.
    func testAStopInterruptsTheRunningChildrenAndStartsNoMore() throws {
        var runner = try runner(jobs: 2)
        var workers: [FakeWorker] = []
        runner.launch = { _ in
            let worker = FakeWorker(polls: 1_000, status: 0)
            workers.append(worker)
            return worker
        }
        runner.shouldStop = { workers.count >= 2 }
        let outcome = try runner.run()
        XCTAssertEqual(workers.count, 2)
        XCTAssertTrue(workers.allSatisfy(\.interrupted))
        XCTAssertEqual(outcome.failures, 2, "an interrupted child exits 130")
    }

    /// A resumable cell becomes `resume RUN` (and may be owned by another process by then).
    func testAStoppedCellIsResumedInAChild() throws {
        var runner = try runner(jobs: 2)
        let study = try runner.store.study(named: runner.plan.name, configuration: runner.plan.json.json)
        var new = NewRun(studyID: study, task: "boston", dataset: "d", datasetFingerprint: "f", modelConfiguration: "{}", optimizer: "sgd",
                         optimizerConfiguration: "{}", configurationFingerprint: "c", seed: 2, batchSize: 32, epochsPlanned: 20, codeVersion: "t")
        let owned = try runner.store.createRun(new)
        try runner.store.setStatus(run: owned, .interrupted)
        new.optimizer = "nadam"
        let done = try runner.store.createRun(new)
        try runner.store.setStatus(run: done, .completed)
        try runner.store.write { db in try db.execute(sql: "UPDATE runs SET epochs_done = 20 WHERE id = ?", arguments: [done.id]) }
        var launched: [[String]] = []
        runner.launch = { launched.append($0); return FakeWorker(polls: 1, status: 0) }
        let outcome = try runner.run()
        XCTAssertEqual(outcome.done, 1)
        XCTAssertEqual(launched.count, 5)
        XCTAssertTrue(launched.contains(["resume", String(owned.id), "--epochs", "20", "--skip-if-owned", "--db", runner.storePath,
                                         "--format", "ndjson", "--data-dir", "/data"]))
    }
}

final class ProgressLineTests: XCTestCase {
    func testLinesReadBackAsEventsAndOthersAreLeftAlone() {
        XCTAssertEqual(ProgressLine.parse(ProgressLine.step(epoch: 3, step: 7, steps: 64, loss: 1.25), slot: 1),
                       .event(.step(slot: 1, epoch: 3, step: 7, steps: 64, loss: 1.25)))
        XCTAssertEqual(ProgressLine.parse(ProgressLine.epoch(2, valLoss: 0.5, loss: 0.625), slot: 0), .event(.epochEnded(slot: 0, epoch: 2, valLoss: 0.5, loss: 0.625)))
        XCTAssertEqual(ProgressLine.parse("optilog-progress epoch 2 0.5", slot: 0), .event(.epochEnded(slot: 0, epoch: 2, valLoss: 0.5)), "an older child's line")
        XCTAssertEqual(ProgressLine.parse(ProgressLine.epoch(2, valLoss: .nan), slot: 0), .event(.epochEnded(slot: 0, epoch: 2, valLoss: nil)))
        XCTAssertEqual(ProgressLine.parse(ProgressLine.run(42), slot: 0), .run(42))
        for other in ["run 3 completed", "optilog-progress step 1 2", "optilog-progress step a b c d", "optilog: error: x", ""] {
            XCTAssertNil(ProgressLine.parse(other, slot: 0), other)
        }
    }
}
