import Foundation
import GRDB
import OptilogTestSupport
import XCTest

/// `tag`, `note`, `archive`, `unarchive`, `delete`, `checkpoints` and `vacuum` end to end, on
/// real runs, with their refusals.
final class ManageCommandTests: XCTestCase {
    func optilog(_ arguments: String..., environment: [String: String] = [:]) throws -> ProcessResult {
        try runProcess(builtExecutable("optilog"), arguments, environment: environment)
    }

    /// Three boston runs (adam, sgd, ftrl), checkpoints at every epoch.
    func makeStore(_ dir: URL, name: String = "s.sqlite") throws -> String {
        let db = dir.appendingPathComponent(name).path
        for o in ["adam", "sgd", "ftrl"] {
            let r = try optilog("run", "--task", "boston", "--optimizer", o, "--epochs", "3", "--checkpoint-every", "0", "--db", db)
            XCTAssertEqual(r.status, 0, r.stderr)
        }
        return db
    }

    func count(_ db: String, _ sql: String) throws -> String {
        try optilog("sql", sql, "--db", db, "--format", "csv").stdout.split(separator: "\n").dropFirst().joined(separator: "\n")
    }

    func testTagsNotesAndTheArchiveShowEverywhereAndFilter() throws {
        let db = try makeStore(freshDirectory("optilog-manage"))
        var r = try optilog("tag", "1", "2", "split=holdout", "Reviewer=ana", "--db", db)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stderr, "optilog: runs 1, 2: split=holdout reviewer=ana (4 tags changed)\n")
        XCTAssertEqual(try optilog("note", "1", "loss spikes at epoch 3", "--db", db).status, 0)
        // show and runs carry them; --where filters on them.
        let show = try optilog("show", "1", "--db", db).stdout
        XCTAssertTrue(show.contains("reviewer=ana split=holdout"), show)
        XCTAssertTrue(show.contains(": loss spikes at epoch 3"), show)
        r = try optilog("runs", "--where", "tag.split=holdout", "--format", "csv", "--db", db)
        XCTAssertEqual(r.stdout.split(separator: "\n").first.map { $0.hasSuffix(",tags,notes") }, true, r.stdout)
        XCTAssertEqual(r.stdout.split(separator: "\n").dropFirst().map { $0.split(separator: ",")[0] }, ["2", "1"])
        XCTAssertTrue(r.stdout.contains(",reviewer=ana split=holdout,1\n"), r.stdout)
        XCTAssertEqual(try optilog("best", "--where", "tag.split=holdout", "--by", "optimizer", "--format", "csv", "--db", db)
            .stdout.split(separator: "\n").count, 3, "header, adam, sgd")
        XCTAssertEqual(try optilog("tag", "1", "--format", "csv", "--db", db).stdout, "run,key,value\n1,reviewer,ana\n1,split,holdout\n")
        XCTAssertEqual(try optilog("tag", "1", "--remove", "reviewer", "--db", db).status, 0)
        XCTAssertEqual(try optilog("tag", "1", "--format", "csv", "--db", db).stdout, "run,key,value\n1,split,holdout\n")
        // Archived: gone from best and runs, there with --archived, back after unarchive.
        let bestBefore = try optilog("best", "--format", "csv", "--db", db).stdout
        XCTAssertTrue(bestBefore.contains("ftrl"), bestBefore)
        r = try optilog("archive", "--where", "optimizer=ftrl", "--reason", "wrong data", "--db", db)
        XCTAssertEqual(r.stderr, "optilog: archived run 3; optilog unarchive brings them back\n")
        XCTAssertFalse(try optilog("best", "--format", "csv", "--db", db).stdout.contains("ftrl"))
        XCTAssertEqual(try optilog("runs", "--format", "csv", "--db", db).stdout.split(separator: "\n").count, 3)
        XCTAssertTrue(try optilog("runs", "--archived", "--format", "csv", "--db", db).stdout.contains("\n3,boston,ftrl,"))
        XCTAssertTrue(try optilog("show", "3", "--db", db).stdout.contains(": wrong data"))
        XCTAssertEqual(try optilog("unarchive", "3", "--db", db).status, 0)
        XCTAssertEqual(try optilog("best", "--format", "csv", "--db", db).stdout, bestBefore)
        // Refusals: one line, exit 1 (no such run, a bad tag key, an unknown tag) or 2 (usage).
        for (args, code, message) in [
            (["tag", "9", "a=b"], Int32(1), "optilog: error: no run 9 in \(db)\n"),
            (["tag", "1", "9x=b"], 1, "optilog: error: tag \"9x=b\": the key must be a letter, then letters, digits, '_', '-' or '.', at most 64 characters\n"),
            (["runs", "--where", "tag.nope=1"], 1, "optilog: error: no run has the tag 'nope' (tags in use: reviewer, split)\n"),
            (["archive", "--where", "optimizer=nadam"], 1, "optilog: error: no runs match; nothing was archived\n"),
            (["note", "1", " "], 2, nil), (["archive", "--db", db], 2, nil), (["archive", "1", "--where", "seed=1"], 2, nil),
        ] as [([String], Int32, String?)] {
            let result = try runProcess(builtExecutable("optilog"), args + (args.contains("--db") ? [] : ["--db", db]))
            XCTAssertEqual(result.status, code, "\(args): \(result.stderr)")
            if let message { XCTAssertEqual(result.stderr, message, "\(args)") }
        }
    }

    func testDeleteAsksForYesIsAllOrNothingAndVacuumShrinks() throws {
        let dir = freshDirectory("optilog-delete")
        let db = try makeStore(dir)
        XCTAssertEqual(try optilog("tag", "2", "x=1", "--db", db).status, 0)
        let counts = "SELECT (SELECT COUNT(*) FROM runs), (SELECT COUNT(*) FROM epochs), (SELECT COUNT(*) FROM step_series), (SELECT COUNT(*) FROM checkpoints), (SELECT COUNT(*) FROM run_tags)"
        let before = try count(db, counts)
        XCTAssertEqual(before, "3,9,9,6,1", "2 checkpoints kept per run")
        var r = try optilog("delete", "2", "--db", db)
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stdout, "would delete run 2: boston sgd seed 1, completed, 3 epochs\n")
        XCTAssertEqual(r.stderr, "optilog: error: nothing was deleted: add --yes to delete run 2\n")
        // Killed inside the transaction: every row is still there.
        r = try optilog("delete", "2", "--yes", "--db", db, environment: ["OPTILOG_FAULT": "delete-runs:1"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertEqual(try count(db, counts), before)
        XCTAssertEqual(try optilog("verify", "--db", db).status, 0)
        r = try optilog("delete", "2", "--yes", "--db", db)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.hasPrefix("optilog: deleted run 2 (3 epochs, 2 checkpoints); optilog vacuum would free "), r.stderr)
        XCTAssertEqual(try count(db, counts), "2,6,6,4,0")
        XCTAssertEqual(try optilog("show", "2", "--db", db).status, 1)
        let size = { (try FileManager.default.attributesOfItem(atPath: db)[.size] as! NSNumber).intValue }
        r = try optilog("vacuum", "--db", db)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains(" freed)"), r.stderr)
        let vacuumed = try size()
        XCTAssertEqual(try count(db, counts), "2,6,6,4,0")
        XCTAssertEqual(try optilog("verify", "--db", db).status, 0)
        // Checkpoints: finished runs keep the newest N; the dry run deletes nothing.
        r = try optilog("checkpoints", "--keep-last", "1", "--dry-run", "--db", db)
        XCTAssertEqual(r.stderr.hasPrefix("optilog: would delete 2 checkpoints of 2 runs ("), true, r.stderr)
        XCTAssertEqual(try count(db, "SELECT COUNT(*) FROM checkpoints"), "4")
        r = try optilog("checkpoints", "--keep-last", "1", "--db", db)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try count(db, "SELECT run_id, epoch FROM checkpoints ORDER BY run_id"), "1,3\n3,3")
        XCTAssertEqual(try optilog("verify", "--db", db).status, 0)
        XCTAssertEqual(try optilog("checkpoints", "--keep-last", "0", "--db", db).status, 2)
        XCTAssertEqual(try optilog("checkpoints", "--format", "csv", "--db", db).stdout.split(separator: "\n").count, 3)
        XCTAssertEqual(try optilog("vacuum", "--db", db).status, 0)
        XCTAssertLessThan(try size(), vacuumed)
        // A run a live process trains (here: this test's own process) is not deleted.
        let queue = try DatabaseQueue(path: db)
        try queue.write { try $0.execute(sql: "UPDATE runs SET status = 'running', pid = ? WHERE id = 1", arguments: [Int(getpid())]) }
        try queue.close()
        r = try optilog("delete", "1", "--yes", "--db", db)
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("run 1 is being trained (pid \(getpid())"), r.stderr)
        XCTAssertEqual(try optilog("vacuum", "--db", db).status, 1)
        XCTAssertEqual(try count(db, "SELECT COUNT(*) FROM runs"), "2")
    }

    /// Merge keeps what users added: a new run comes with its tags, notes and archive mark; a
    /// run already here gains the shard's.
    func testMergeKeepsTagsNotesAndArchive() throws {
        let dir = freshDirectory("optilog-merge-notes")
        let shard = try makeStore(dir, name: "shard.sqlite")
        XCTAssertEqual(try optilog("tag", "1", "split=a", "--db", shard).status, 0)
        XCTAssertEqual(try optilog("note", "2", "seen", "--db", shard).status, 0)
        XCTAssertEqual(try optilog("archive", "3", "--db", shard).status, 0)
        let merged = dir.appendingPathComponent("merged.sqlite").path
        var r = try optilog("merge", shard, "-o", merged, "--verify")
        XCTAssertEqual(r.status, 0, r.stderr)
        let annotations = "SELECT r.uid, (SELECT group_concat(key || '=' || value) FROM run_tags t WHERE t.run_id = r.id), (SELECT group_concat(text) FROM run_notes n WHERE n.run_id = r.id), EXISTS (SELECT 1 FROM run_archive a WHERE a.run_id = r.id) FROM runs r ORDER BY uid"
        XCTAssertEqual(try count(merged, annotations), try count(shard, annotations))
        XCTAssertEqual(try optilog("tag", "1", "reviewer=b", "--db", shard).status, 0)
        r = try optilog("merge", shard, "-o", merged, "--verify")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try count(merged, annotations), try count(shard, annotations))
    }

    /// A copy of a store as the previous release wrote it (schema 3: no tags, notes or archive).
    func schemaThree(_ db: String, to copy: String) throws {
        try FileManager.default.copyItem(atPath: db, toPath: copy)
        let queue = try DatabaseQueue(path: copy)
        try queue.write { db in
            try db.execute(sql: "DROP TABLE run_tags; DROP TABLE run_notes; DROP TABLE run_archive; DELETE FROM grdb_migrations WHERE identifier = '0004_annotations'; PRAGMA user_version = 3")
        }
        try queue.close()
    }

    func testArchivedCellsOldShardsAndMistakesChangeNothing() throws {
        let dir = freshDirectory("optilog-manage-edges")
        let db = dir.appendingPathComponent("s.sqlite").path
        var r = try optilog("study", "--tasks", "boston", "--optimizers", "adam,sgd", "--epochs", "2", "--db", db)
        XCTAssertEqual(r.status, 0, r.stderr)
        // A study leaves an archived cell alone, even when asked for more epochs.
        XCTAssertEqual(try optilog("archive", "1", "--db", db).status, 0)
        r = try optilog("study", "--tasks", "boston", "--optimizers", "adam,sgd", "--epochs", "3", "--db", db)
        XCTAssertTrue(r.stderr.contains("2 cells, 1 done, 1 of them archived (left alone: optilog delete them to train those cells again), 1 to run"), r.stderr)
        XCTAssertEqual(try count(db, "SELECT epochs_done FROM runs WHERE id = 1"), "2")
        // runs --where archived=1 lists them; export of a run named by id includes it.
        XCTAssertEqual(try optilog("runs", "--where", "archived=1", "--format", "csv", "--db", db).stdout.split(separator: "\n").count, 2)
        XCTAssertEqual(try optilog("export", "--runs", "1", "--format", "csv", "--db", db).stdout.split(separator: "\n").count, 1 + 2)
        // The learning rate as configured matches the float32 Keras logs.
        XCTAssertEqual(try optilog("runs", "--where", "learning_rate=0.01, archived=0|1", "--format", "csv", "--db", db)
            .stdout.split(separator: "\n").dropFirst().map { $0.split(separator: ",")[2] }, ["sgd"])
        // Control characters never reach a tag or a note.
        r = try optilog("tag", "2", "esc=\u{1B}[31mred", "--db", db)
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stderr, "optilog: error: tag esc: the value holds a control character (a line break, tab or escape); tags are one line of text\n")
        XCTAssertEqual(try optilog("note", "2", "two\nlines", "--db", db).status, 0)
        XCTAssertEqual(try count(db, "SELECT text FROM run_notes"), "two lines")
        XCTAssertEqual(try optilog("note", "2", "\u{1B}[2J", "--db", db).status, 1)
        // A store of the previous schema: a mistake leaves it as it was; a shard merges as it is.
        let old = dir.appendingPathComponent("old.sqlite").path
        try schemaThree(db, to: old)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: old))
        for (args, code) in [(["note", "1"], Int32(2)), (["unarchive", "2"], 1), (["archive", "--where", "task=nope"], 1), (["tag", "--where", "seed=1", "9=x"], 1)] {
            r = try runProcess(builtExecutable("optilog"), args + ["--db", old])
            XCTAssertEqual(r.status, code, "\(args): \(r.stderr)")
            XCTAssertFalse(r.stderr.contains("Usage: optilog <subcommand>"), r.stderr)
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: old)), bytes, "not upgraded by a command that did nothing")
        let merged = dir.appendingPathComponent("merged.sqlite").path
        r = try optilog("merge", old, "-o", merged, "--verify")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try count(merged, "SELECT COUNT(*) FROM runs"), "2")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: old)), bytes, "a shard is read, never written")
    }
}
