import Foundation
import GRDB
import OptilogTestSupport
import XCTest

/// A study split into shards (`--cell I --of N`), each into its own store, merged back: the
/// same results, run for run, as the study on one machine.
final class MergeTests: XCTestCase {
    func optilog(_ arguments: String...) throws -> ProcessResult { try optilog(arguments) }
    func optilog(_ arguments: [String]) throws -> ProcessResult { try runProcess(builtExecutable("optilog"), arguments) }

    /// Every epoch of every run keyed by what defines it (not by local run ids).
    func epochs(_ db: String) throws -> [String] {
        let r = try optilog("sql", """
            SELECT r.task, r.optimizer, r.seed, s.name, e.epoch, e.val_loss, e.optimizer_checksum
            FROM epochs e JOIN runs r ON r.id = e.run_id LEFT JOIN studies s ON s.id = r.study_id
            ORDER BY r.task, r.optimizer, r.seed, e.epoch
            """, "--db", db, "--format", "csv")
        XCTAssertEqual(r.status, 0, r.stderr)
        return r.stdout.split(separator: "\n").map(String.init)
    }

    func counts(_ db: String) throws -> String {
        try optilog("sql", "SELECT (SELECT COUNT(*) FROM runs), (SELECT COUNT(*) FROM epochs), (SELECT COUNT(*) FROM step_series), "
                    + "(SELECT COUNT(*) FROM layer_norms), (SELECT COUNT(*) FROM checkpoints), (SELECT COUNT(*) FROM studies)",
                    "--db", db, "--format", "csv").stdout
    }

    func testShardedStudyMergesIntoTheSingleMachineStudy() throws {
        let dir = freshDirectory("optilog-shards")
        func path(_ name: String) -> String { dir.appendingPathComponent(name).path }
        let grid = ["--name", "sharded", "--tasks", "boston", "--optimizers", "adam", "sgd", "rmsprop", "adagrad", "--seeds", "1", "2", "--epochs", "2"]
        func study(_ extra: [String]) throws -> ProcessResult { try optilog(["study"] + grid + extra) }
        XCTAssertEqual(try study(["--db", path("single.sqlite")]).status, 0)
        for cell in 0..<3 {
            let r = try study(["--cell", String(cell), "--of", "3", "--db", path("cell-\(cell).sqlite")])
            XCTAssertEqual(r.status, 0, r.stderr)
            // 8 cells dealt 3 ways: 3, 3 and 2.
            XCTAssertTrue(r.stderr.contains("\(cell == 2 ? 2 : 3) cells (shard \(cell) of 3)"), r.stderr)
        }
        let shards = (0..<3).map { path("cell-\($0).sqlite") }
        let merged = path("merged.sqlite")
        var merge = try optilog(["merge"] + shards + ["-o", merged, "--verify"])
        XCTAssertEqual(merge.status, 0, merge.stderr)
        XCTAssertTrue(merge.stderr.contains("cell-2.sqlite: 2 runs added (4 epochs, 2 checkpoints), 0 already present, 0 studies added"), merge.stderr)
        XCTAssertEqual(merge.stderr.components(separatedBy: "equal\n").count - 1, 3, merge.stderr)
        XCTAssertEqual(try epochs(merged), try epochs(path("single.sqlite")))
        XCTAssertEqual(try optilog("best", "--db", merged).stdout, try optilog("best", "--db", path("single.sqlite")).stdout)
        XCTAssertEqual(try optilog("verify", "--db", merged).status, 0)
        XCTAssertTrue(try counts(merged).hasSuffix(",1\n"), "one study, as on one machine")
        // Merging again changes nothing.
        let before = try counts(merged)
        merge = try optilog(["merge"] + shards + ["-o", merged])
        XCTAssertEqual(merge.status, 0, merge.stderr)
        XCTAssertTrue(merge.stderr.contains("0 runs added (0 epochs, 0 checkpoints), 3 already present"), merge.stderr)
        XCTAssertEqual(try counts(merged), before)
        // A shard whose copy of a run differs (another epoch checksum) is refused whole.
        let conflicting = path("conflict.sqlite")
        XCTAssertEqual(try optilog("merge", "--publish", shards[0], "-o", conflicting).status, 0)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.contains(".partial") }, [])
        let queue = try DatabaseQueue(path: conflicting)
        let uid = try queue.write { db -> String in
            try db.execute(sql: "UPDATE epochs SET optimizer_checksum = 'tampered' WHERE run_id = 2 AND epoch = 2")
            return try String.fetchOne(db, sql: "SELECT uid FROM runs WHERE id = 2")!
        }
        try queue.close()
        let refused = try optilog("merge", conflicting, "-o", merged)
        XCTAssertEqual(refused.status, 1)
        XCTAssertEqual(refused.stderr, "optilog: error: run \(uid) differs between \(conflicting) (2 epochs, completed) and this store (2 epochs, completed); nothing of the shard was merged\n")
        XCTAssertEqual(try counts(merged), before)
        // Not a store, or the store itself: refused.
        XCTAssertEqual(try optilog("merge", merged, "-o", merged).status, 1)
        XCTAssertEqual(try optilog("merge", path("missing.sqlite"), "-o", merged).status, 1)
        XCTAssertEqual(try optilog("study", "--cell", "3", "--of", "3", "--db", merged).status, 2)
        XCTAssertEqual(try optilog("study", "--cell", "1", "--db", merged).status, 2)
    }
}
