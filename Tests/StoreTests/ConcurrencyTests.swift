import Foundation
import GRDB
import OptilogTestSupport
import XCTest
@testable import Store

/// Several processes write into one store while another reads it: nobody sees "database is
/// locked", and every epoch is there exactly once.
final class ConcurrencyTests: XCTestCase {
    var writer: URL { builtExecutable("optilog-store-writer") }

    func testFourWriterProcessesAndAReader() throws {
        let path = temporaryStorePath()
        _ = try Store(path: path)  // created once, so the writers race on writes, not on creation
        let (processes, runsEach, epochs) = (4, 1, 50)
        var children: [(Process, Pipe)] = []
        for p in 0..<processes {
            let process = Process()
            process.executableURL = writer
            process.arguments = [path, String(runsEach), String(epochs), "w\(p)"]
            let err = Pipe()
            process.standardError = err
            try process.run()
            children.append((process, err))
        }
        // Read all the while: every query must succeed and see whole epochs only.
        let reader = try ReadOnlyStore(path: path)
        var reads = 0
        while children.contains(where: { $0.0.isRunning }) {
            let result = try reader.rows("SELECT COUNT(*) FROM epochs e JOIN step_series s USING (run_id, epoch)")
            let joined = Int.fromDatabaseValue(result.rows[0][0]) ?? -1
            let epochsOnly = Int.fromDatabaseValue(try reader.rows("SELECT COUNT(*) FROM epochs").rows[0][0]) ?? -2
            XCTAssertLessThanOrEqual(joined, epochsOnly)
            _ = try reader.best(BestQuery())
            reads += 1
        }
        for (process, err) in children {
            process.waitUntilExit()
            let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            XCTAssertEqual(process.terminationStatus, 0, message)
            XCTAssertFalse(message.contains("locked"), message)
        }
        XCTAssertGreaterThan(reads, 0)
        let store = try Store(path: path)
        try store.read { db in
            XCTAssertEqual(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM runs WHERE status = 'completed'"), processes * runsEach)
            XCTAssertEqual(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM epochs"), processes * runsEach * epochs)
            XCTAssertEqual(try Int.fetchOne(db, sql: "SELECT COUNT(DISTINCT optimizer_checksum) FROM epochs"), processes * runsEach * epochs)
            XCTAssertEqual(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM step_series"), processes * runsEach * epochs)
            XCTAssertEqual(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM layer_norms"), processes * runsEach * epochs)
            // Every run holds epochs 1…50 with no gap, and its retained checkpoints decode.
            for run in try Int64.fetchAll(db, sql: "SELECT id FROM runs") {
                XCTAssertEqual(try Int.fetchAll(db, sql: "SELECT epoch FROM epochs WHERE run_id = ? ORDER BY epoch", arguments: [run]), Array(1...epochs))
            }
        }
        for run in try store.read({ try Int64.fetchAll($0, sql: "SELECT id FROM runs") }) {
            XCTAssertEqual(try store.reader.latestCheckpoint(run: run, fallBack: false)?.epoch, epochs)
        }
    }

    /// Writers killed with SIGKILL at arbitrary moments leave whole epochs only: each epoch row
    /// has its step series and layer norms, each run's progress matches its epochs, and its
    /// newest checkpoint decodes.
    func testKilledWritersLeaveWholeEpochsOnly() throws {
        let path = temporaryStorePath()
        _ = try Store(path: path)
        for (n, delay) in [0.05, 0.12, 0.2, 0.33].enumerated() {
            let process = Process()
            process.executableURL = writer
            process.arguments = [path, "1", "100000", "k\(n)"]
            process.standardError = FileHandle.nullDevice
            try process.run()
            Thread.sleep(forTimeInterval: delay)
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            XCTAssertEqual(process.terminationReason, .uncaughtSignal)
        }
        let store = try Store(path: path)
        try store.read { db in
            XCTAssertEqual(try String.fetchOne(db, sql: "PRAGMA integrity_check"), "ok")
            XCTAssertEqual(try Int.fetchOne(db, sql: """
                SELECT COUNT(*) FROM epochs e
                WHERE NOT EXISTS (SELECT 1 FROM step_series s WHERE s.run_id = e.run_id AND s.epoch = e.epoch)
                   OR NOT EXISTS (SELECT 1 FROM layer_norms l WHERE l.run_id = e.run_id AND l.epoch = e.epoch)
                """), 0)
            XCTAssertEqual(try Int.fetchOne(db, sql: """
                SELECT COUNT(*) FROM runs r WHERE r.epochs_done != (SELECT COUNT(*) FROM epochs e WHERE e.run_id = r.id)
                """), 0)
            XCTAssertGreaterThan(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM epochs") ?? 0, 0)
        }
        for run in try store.read({ try Int64.fetchAll($0, sql: "SELECT id FROM runs WHERE epochs_done > 0") }) {
            let done = try store.read { try Int.fetchOne($0, sql: "SELECT epochs_done FROM runs WHERE id = ?", arguments: [run]) }
            XCTAssertEqual(try store.reader.latestCheckpoint(run: run, fallBack: false)?.epoch, done)
        }
    }
}
