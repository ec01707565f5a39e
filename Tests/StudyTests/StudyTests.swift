import Foundation
import GRDB
import OptilogTestSupport
import XCTest
import Engine
import Study
@testable import Store

/// `optilog study` as a user runs it: idempotent, resumable after an interruption with the same
/// results, and going on past a diverged run.
final class StudyTests: XCTestCase {
    var optilog: URL { builtExecutable("optilog") }

    func database() -> String { freshDirectory("optilog-study").appendingPathComponent("study.sqlite").path }

    func start(_ arguments: [String]) throws -> (Process, Pipe) {
        let p = Process()
        p.executableURL = optilog
        p.arguments = arguments
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        return (p, out)
    }

    func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let (p, out) = try start(arguments)
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    func cells(_ db: String) throws -> [String] {
        try Store(path: db).reader.best(BestQuery()).map { "\($0.task) \($0.optimizer) \($0.value.bitPattern) \($0.epoch)" }
    }

    func testStudyIsIdempotentAndPrintsTheResultsTable() throws {
        let db = database()
        // 20 epochs: enough for Boston's winner to beat the baseline (predicting the mean).
        let args = ["study", "--tasks", "boston", "--optimizers", "adam", "sgd", "--epochs", "20", "--db", db, "--format", "csv"]
        let first = try run(args)
        XCTAssertEqual(first.status, 0)
        let lines = first.output.split(separator: "\n")
        XCTAssertEqual(lines.first, "task,baseline,adam,adam_epoch,sgd,sgd_epoch,winner")
        XCTAssertTrue(lines[1].hasPrefix("boston,"))
        XCTAssertTrue(lines[1].hasSuffix(",adam") || lines[1].hasSuffix(",sgd"), "one winner per task: \(lines[1])")
        let second = try run(args)
        XCTAssertEqual(second.output, first.output)
        let store = try Store(path: db)
        XCTAssertEqual(try store.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM runs") }, 2, "the second study run started nothing")
    }

    /// Interrupted for real: the stop comes while a cell is training (the store is watched until
    /// one has logged an epoch), so the test cannot pass by the study finishing first.
    func testInterruptedStudyFinishesWithTheSameResults() throws {
        let args = ["study", "--tasks", "boston", "--epochs", "40", "--format", "csv"]
        let reference = database()
        XCTAssertEqual(try run(args + ["--db", reference]).status, 0)

        let interrupted = database()
        let (p, _) = try start(args + ["--db", interrupted])
        func progress() -> (runs: Int, completed: Int)? {
            guard let reader = try? ReadOnlyStore(path: interrupted),
                  let r = try? reader.read({ try Row.fetchOne($0, sql: "SELECT COUNT(*), COUNT(*) FILTER (WHERE status = 'completed') FROM runs WHERE epochs_done > 0") })
            else { return nil }
            return (r[0], r[1])
        }
        let deadline = Date().addingTimeInterval(60)
        while p.isRunning, Date() < deadline, (progress()?.runs ?? 0) < 3 { Thread.sleep(forTimeInterval: 0.02) }
        XCTAssertTrue(p.isRunning, "the study ended before it could be interrupted; make its cells longer")
        p.interrupt()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 130)
        let stopped = try XCTUnwrap(progress())
        XCTAssertLessThan(stopped.completed, 8, "the interruption stopped the study part-way")
        let store = try Store(path: interrupted)
        XCTAssertEqual(try store.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM runs WHERE status = 'interrupted'") }, 1,
                       "the cell in training was marked interrupted")

        XCTAssertEqual(try run(args + ["--db", interrupted]).status, 0)
        XCTAssertEqual(try cells(interrupted), try cells(reference))
        XCTAssertEqual(try store.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM runs WHERE status = 'completed'") }, 8)
        XCTAssertEqual(try store.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM runs") }, 8, "exactly one run per cell")
    }

    func testDivergedRunIsMarkedAndKeepsItsLastGoodCheckpoint() throws {
        let db = database()
        let r = try run(["run", "--task", "boston", "--optimizer", "sgd", "--set", "learning_rate=1e30", "--epochs", "5", "--db", db])
        XCTAssertEqual(r.status, 0)
        let store = try Store(path: db)
        let row = try XCTUnwrap(try store.reader.run(1))
        XCTAssertEqual(row.status, .diverged)
        let step = try store.read { try Int.fetchOne($0, sql: "SELECT diverged_step FROM runs WHERE id = 1") }
        XCTAssertNotNil(step)
        XCTAssertEqual(try store.reader.latestCheckpoint(run: 1)?.epoch, row.epochsDone == 0 ? nil : row.epochsDone)
    }
}

/// Presets and sweeps as grids: `seed-2020` differs from `seed` in SGD's learning rate only; a
/// sweep multiplies the cells and names its own study.
final class StudyPlanSweepTests: XCTestCase {
    func testLearningRateSweepValues() {
        XCTAssertEqual(StudyPlan.learningRateSweep(around: 0.001, count: 5), ["1e-05", "0.0001", "0.001", "0.01", "0.1"])
        XCTAssertEqual(StudyPlan.learningRateSweep(around: 0.01, count: 3), ["0.0001", "0.01", "1"])
        // Half-decades: 10^(-2 + 4i/8).
        XCTAssertEqual(StudyPlan.learningRateSweep(around: 0.001, count: 9)[1], "3.16e-05")
        XCTAssertEqual(StudyPlan.learningRateSweep(around: 0.001, count: 1), ["0.001"])
    }

    func testSeed2020SetsSGDsLearningRateOnly() throws {
        let seed = try StudyPlan(preset: .seed)
        let old = try StudyPlan(preset: .seed2020)
        XCTAssertEqual(old.name, "study-seed-2020")
        XCTAssertEqual(seed.cells.count, old.cells.count)
        for (a, b) in zip(seed.cells, old.cells) {
            XCTAssertEqual(a.optimizer, b.optimizer)
            XCTAssertEqual(a.epochs, b.epochs)
            XCTAssertEqual(a.settings, [])
            XCTAssertEqual(b.settings, b.optimizer == "sgd" ? [StudyPlan.Setting("learning_rate", "0.001")] : [])
        }
        XCTAssertFalse(seed.json.json.contains("preset"), "a seed study keeps the configuration it always had")
    }

    func testASweepMultipliesCellsAndNamesItsStudy() throws {
        let sweep = StudyPlan.Sweep(grid: [.init(key: "momentum", values: ["0", "0.9"])], learningRates: 3)
        let plan = try StudyPlan(preset: .quick, tasks: [.boston], optimizers: ["sgd", "adam"], seeds: [1, 2], sweep: sweep)
        XCTAssertEqual(plan.cells.filter { $0.optimizer == "sgd" }.count, 2 * 3 * 2)
        XCTAssertEqual(plan.cells.filter { $0.optimizer == "adam" }.count, 3 * 2)
        XCTAssertEqual(plan.notes, ["adam has no setting 'momentum' and runs without it"])
        XCTAssertTrue(plan.name.hasPrefix("study-quick-sweep-"), plan.name)
        XCTAssertNotEqual(plan.name, try StudyPlan(preset: .quick, sweep: StudyPlan.Sweep(learningRates: 5)).name)
        XCTAssertEqual(plan.cells[0].settings, [StudyPlan.Setting("momentum", "0"), StudyPlan.Setting("learning_rate", "0.0001")])
        XCTAssertEqual(StudyPlan.storedSettings(plan.json.json), #"{"sweep": {"grid": ["momentum=0,0.9"], "lr_sweep": 3}}"#)
        XCTAssertEqual(StudyPlan.storedSettings(try StudyPlan(preset: .quick).json.json), "{}")
        XCTAssertThrowsError(try StudyPlan(preset: .quick, optimizers: ["adam"], sweep: StudyPlan.Sweep(fixed: [.init("momentum", "0.9")])))
    }
}
