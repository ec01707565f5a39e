import Foundation
import GRDB
import OptilogTestSupport
import XCTest
@testable import Engine
@testable import Store

let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

func temporaryStorePath(_ name: String = "store") -> String {
    freshDirectory("optilog-store").appendingPathComponent("\(name).sqlite").path
}

func sampleRun(_ task: String = "boston", optimizer: String = "adam", epochs: Int = 3) -> NewRun {
    NewRun(task: task, dataset: "synthetic", datasetFingerprint: "d", modelConfiguration: "{}", optimizer: optimizer,
           optimizerConfiguration: "{}", configurationFingerprint: "c", seed: 1, batchSize: 32, epochsPlanned: epochs, codeVersion: "test")
}

func sampleEpoch(_ epoch: Int, valLoss: Double, checkpoint: CheckpointPayload? = nil, steps: Int = 4) -> EpochCommit {
    EpochCommit(row: Epoch(epoch: epoch, loss: valLoss + 0.1, metric: 0.5, valLoss: valLoss, valMetric: 0.4, gradNormMean: 2, gradNormMin: 1,
                gradNormMax: 3, gradNormLast: 2.5, learningRate: 0.001, optimizerChecksum: "sum\(epoch)", seconds: 1.5,
                samplesPerSecond: 100), firstStep: (epoch - 1) * steps, stepLosses: (0..<steps).map { Float($0) + Float(epoch) },
                stepGradNorms: (0..<steps).map { Float($0) * 0.5 }, layerNorms: [("dense", 1.25), ("dense_1", 0.5)],
                checkpoint: checkpoint.map { (epoch * steps, "c", $0.encoded()) })
}

final class SchemaTests: XCTestCase {
    /// The SQL the executable carries is exactly what is in sql/ (tools/embed_sql.py).
    func testEmbeddedSQLMatchesTheFiles() throws {
        for (folder, entries) in [("migrations", EmbeddedSQL.migrations), ("queries", EmbeddedSQL.queries)] {
            let dir = packageRoot.appendingPathComponent("sql/\(folder)")
            let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".sql") }.sorted()
            XCTAssertEqual(files.map { String($0.dropLast(4)) }, entries.map(\.0), "run python3 tools/embed_sql.py")
            for (name, sql) in entries {
                let text = try String(contentsOf: dir.appendingPathComponent("\(name).sql"), encoding: .utf8)
                XCTAssertEqual(sql, text, "\(folder)/\(name).sql differs from EmbeddedSQL.swift: run python3 tools/embed_sql.py")
            }
        }
    }

    func testNewStoreHasTheSchemaWALAndItsVersion() throws {
        let path = temporaryStorePath()
        let store = try Store(path: path)
        try store.read { db in
            let tables = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            for t in ["checkpoints", "epochs", "layer_norms", "runs", "step_series", "studies"] { XCTAssertTrue(tables.contains(t), t) }
            XCTAssertEqual(try String.fetchOne(db, sql: "PRAGMA journal_mode"), "wal")
            XCTAssertEqual(try Int.fetchOne(db, sql: "PRAGMA user_version"), Store.migrationIdentifiers.count)
            XCTAssertEqual(try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations"), Store.migrationIdentifiers)
            XCTAssertEqual(try Int.fetchOne(db, sql: "PRAGMA foreign_keys"), 1)
        }
        // The results table reads one row per run, never the epochs.
        let plan = try store.read { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + (try Store.query("best_val_loss_per_optimizer_per_task")), arguments: [nil as Int64?]).map { $0["detail"] as String }
        }
        XCTAssertTrue(plan.contains { $0.hasPrefix("SCAN r") }, "\(plan)")
        XCTAssertFalse(plan.contains { $0.contains("epochs") }, "\(plan)")
    }

    /// A store made by each earlier schema version (here: every prefix of the migrations,
    /// the empty file included) upgrades in place and keeps its data.
    func testEveryEarlierVersionUpgradesInPlace() throws {
        for (n, identifier) in Store.migrationIdentifiers.enumerated() {
            let path = temporaryStorePath()
            let pool = try DatabasePool(path: path)
            if n > 0 { try Store.migrator.migrate(pool, upTo: Store.migrationIdentifiers[n - 1]) }
            try pool.close()
            let store = try Store(path: path)
            XCTAssertEqual(try store.read { try Store.migrator.appliedIdentifiers($0) }, Set(Store.migrationIdentifiers), "from \(identifier)")
        }
    }

    /// A schema-1 store (no application_id, the old runs table) keeps every row through the
    /// upgrade, gets the mark, and its runs the defaults of the new columns.
    func testASchemaOneStoreKeepsItsRowsThroughTheUpgrade() throws {
        let path = temporaryStorePath()
        let pool = try DatabasePool(path: path)
        try Store.migrator.migrate(pool, upTo: "0001_initial")
        try pool.write { db in
            try db.execute(sql: """
                INSERT INTO runs (uid, task, dataset, dataset_fingerprint, model_configuration, optimizer, optimizer_configuration,
                                  configuration_fingerprint, seed, batch_size, epochs_planned, epochs_done, status, host, code_version, created_at)
                VALUES ('u1', 'boston', 'd', 'f', '{}', 'adam', '{}', 'c', 1, 32, 5, 1, 'interrupted', 'h', 'v', 0);
                INSERT INTO epochs (run_id, epoch, val_loss, optimizer_checksum, committed_at) VALUES (1, 1, 0.5, 's1', 0);
                INSERT INTO step_series (run_id, epoch, first_step, steps, losses, grad_norms) VALUES (1, 1, 0, 0, X'', X'');
                """)
            XCTAssertEqual(try Int32.fetchOne(db, sql: "PRAGMA application_id"), 0)
        }
        try pool.close()
        XCTAssertEqual(try StoreFile.inspect(path, check: true), .store(migrations: ["0001_initial"]))
        let store = try Store(path: path)
        try store.read { db in
            XCTAssertEqual(try Int32.fetchOne(db, sql: "PRAGMA application_id"), StoreFile.applicationID)
            XCTAssertEqual(try Row.fetchAll(db, sql: "PRAGMA foreign_key_check"), [])
            XCTAssertEqual(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM step_series"), 1)
        }
        let row = try XCTUnwrap(try store.reader.run(1))
        XCTAssertEqual([row.status.rawValue, row.dataset], ["interrupted", "d"])
        XCTAssertEqual(row.checkpointPolicy, CheckpointPolicy(seconds: 10, epochs: 100))
        XCTAssertEqual(try store.reader.epochs(run: 1).map(\.optimizerChecksum), ["s1"])
    }

    func testNewerSchemaIsRefusedAndLeftAlone() throws {
        let path = temporaryStorePath()
        let run = try Store(path: path).createRun(sampleRun()).id
        let pool = try DatabasePool(path: path)
        try pool.write { db in try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('0099_future')") }
        try pool.close()
        XCTAssertThrowsError(try Store(path: path)) { error in
            XCTAssertEqual("\(error)", "\(path) was written by a newer optilog (schema 0099_future); upgrade optilog to open it")
        }
        XCTAssertThrowsError(try ReadOnlyStore(path: path)) { XCTAssertTrue("\($0)".contains("newer optilog"), "\($0)") }
        let check = try DatabaseQueue(path: path)
        XCTAssertEqual(try check.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM runs WHERE id = ?", arguments: [run]) }, 1)
    }

    func testAFileThatIsNotAStoreIsRefusedAndNotTouched() throws {
        let path = temporaryStorePath()
        let text = Data("date,loss\n2026-01-01,0.5\n".utf8)
        try text.write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try Store(path: path)) { error in
            XCTAssertEqual("\(error)", "cannot open \(path): it is not an optilog store (not an SQLite database); nothing was changed")
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), text)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path + "-wal"))
        XCTAssertThrowsError(try Store(path: "/nonexistent-dir/x/store.sqlite")) { XCTAssertTrue("\($0)".hasPrefix("cannot open"), "\($0)") }
    }
}

final class EpochLogTests: XCTestCase {
    func testAnEpochIsCommittedWholeWithItsSeriesNormsAndBest() throws {
        let store = try Store(path: temporaryStorePath())
        let owned = try store.createRun(sampleRun())
        let run = owned.id
        try store.commitEpoch(sampleEpoch(1, valLoss: 0.9), run: owned)
        try store.commitEpoch(sampleEpoch(2, valLoss: .nan), run: owned)  // a NaN is stored as NULL and never wins
        try store.commitEpoch(sampleEpoch(3, valLoss: 0.7), run: owned)
        let rows = try store.reader.epochs(run: run)
        XCTAssertEqual(rows.map(\.epoch), [1, 2, 3])
        XCTAssertEqual(rows[0].valLoss, 0.9)
        XCTAssertNil(rows[1].valLoss)
        XCTAssertEqual(rows[2].optimizerChecksum, "sum3")
        let series = try store.reader.stepSeries(run: run, epoch: 3)
        XCTAssertEqual(series.firstStep, 8)
        XCTAssertEqual(series.losses, [3, 4, 5, 6])
        XCTAssertEqual(series.gradNorms, [0, 0.5, 1, 1.5])
        XCTAssertEqual(try store.reader.layerNorms(run: run, epoch: 2), ["dense": 1.25, "dense_1": 0.5])
        XCTAssertEqual(try store.reader.best(BestQuery()).map(\.withoutComparison),
                       [BestResult(group: [.text("boston"), .text("adam")], value: 0.7, epoch: 3, run: run, task: "boston")])
        // Epochs go in order, once.
        XCTAssertThrowsError(try store.commitEpoch(sampleEpoch(3, valLoss: 0.1), run: owned)) { XCTAssertTrue("\($0)".contains("in order, once"), "\($0)") }
        XCTAssertThrowsError(try store.commitEpoch(sampleEpoch(5, valLoss: 0.1), run: owned))
        XCTAssertThrowsError(try store.commitEpoch(sampleEpoch(1, valLoss: 0.1), run: OwnedRun(id: 999, owner: "x"))) { XCTAssertEqual("\($0)", "not found: run 999") }
        XCTAssertEqual(try store.reader.epochs(run: run).count, 3)
    }

    func testBestTableAcrossRunsTasksAndOptimizers() throws {
        let store = try Store(path: temporaryStorePath())
        var expected: [BestResult] = []
        for task in ["boston", "jena"] {
            for optimizer in ["adam", "sgd"] {
                var best: (Double, Int, Int64)?
                for seed in 0..<3 {
                    let owned = try store.createRun(sampleRun(task, optimizer: optimizer))
        let run = owned.id
                    for e in 1...3 {
                        let v = Double((seed * 7 + e * 3 + task.count + optimizer.count) % 11) / 10
                        try store.commitEpoch(sampleEpoch(e, valLoss: v), run: owned)
                        if best == nil || v < best!.0 { best = (v, e, run) }
                    }
                }
                expected.append(BestResult(group: [.text(task), .text(optimizer)], value: best!.0, epoch: best!.1, run: best!.2, task: task))
            }
        }
        XCTAssertEqual(try store.reader.best(BestQuery()).map(\.withoutComparison), expected)
    }

    func testRetentionKeepsTheNewestCheckpointsAndFallsBackPastADamagedOne() throws {
        let store = try Store(path: temporaryStorePath())
        let owned = try store.createRun(sampleRun(epochs: 5))
        let run = owned.id
        for e in 1...5 {
            let c = CheckpointPayload(tensors: [CheckpointPayload.Tensor(name: "w", shape: [3], floats: [Float(e), 0, -1])], metadata: ["epoch": "\(e)"])
            try store.commitEpoch(sampleEpoch(e, valLoss: 1, checkpoint: c), run: owned, retain: 2)
        }
        XCTAssertEqual(try store.read { try Int.fetchAll($0, sql: "SELECT epoch FROM checkpoints WHERE run_id = ? ORDER BY epoch", arguments: [run]) }, [4, 5])
        XCTAssertEqual(try store.reader.latestCheckpoint(run: run)?.epoch, 5)
        XCTAssertEqual(try store.reader.latestCheckpoint(run: run)?.payload.tensor("w")?.floats, [5, 0, -1])
        // Damage the newest blob: the newest good one is returned, or the error when asked not to fall back.
        try store.write { db in
            try db.execute(sql: "UPDATE checkpoints SET blob = substr(blob, 1, length(blob) - 5) WHERE run_id = ? AND epoch = 5", arguments: [run])
        }
        XCTAssertEqual(try store.reader.latestCheckpoint(run: run)?.epoch, 4)
        XCTAssertThrowsError(try store.reader.latestCheckpoint(run: run, fallBack: false)) { XCTAssertTrue("\($0)".hasPrefix("corrupt data"), "\($0)") }
    }

    func testStatusAndHeartbeat() throws {
        let store = try Store(path: temporaryStorePath())
        let owned = try store.createRun(sampleRun())
        let run = owned.id
        try store.setStatus(run: owned, .diverged, detail: "loss is NaN", divergedStep: 17)
        let row = try store.read { try Row.fetchOne($0, sql: "SELECT status, status_detail, diverged_step, finished_at FROM runs WHERE id = ?", arguments: [run]) }
        XCTAssertEqual(row?["status"], "diverged")
        XCTAssertEqual(row?["diverged_step"], 17)
        XCTAssertNotNil(row?["finished_at"] as Double?)
        XCTAssertThrowsError(try store.setStatus(run: OwnedRun(id: 12345, owner: "x"), .failed))
        // The schema itself refuses an unknown status.
        XCTAssertThrowsError(try store.write { db in try db.execute(sql: "UPDATE runs SET status = 'paused' WHERE id = ?", arguments: [run]) })
    }

    func testReadOnlyAccessRefusesWrites() throws {
        let path = temporaryStorePath()
        let store = try Store(path: path)
        let owned = try store.createRun(sampleRun())
        let run = owned.id
        try store.commitEpoch(sampleEpoch(1, valLoss: 0.5), run: owned)
        let reader = try ReadOnlyStore(path: path)
        let result = try reader.rows("SELECT id, task FROM runs WHERE id = ?", arguments: [run])
        XCTAssertEqual(result.columns, ["id", "task"])
        XCTAssertEqual(result.rows.count, 1)
        XCTAssertEqual(try reader.best(BestQuery()).count, 1)
        for sql in ["INSERT INTO studies (uid, name, created_at) VALUES ('x', 'y', 0)", "DELETE FROM runs", "DROP TABLE epochs",
                    "CREATE TABLE t (x)", "UPDATE runs SET task = 'x'", "ATTACH DATABASE '\(path).other' AS other", "PRAGMA user_version = 7",
                    "VACUUM"] {
            XCTAssertThrowsError(try reader.rows(sql), sql) { XCTAssertTrue("\($0)".contains("read-only") || "\($0)".contains("refused"), "\(sql): \($0)") }
        }
        XCTAssertThrowsError(try reader.rows("SELEC nonsense")) { XCTAssertTrue("\($0)".hasPrefix("query refused"), "\($0)") }
        XCTAssertEqual(try store.reader.epochs(run: run).count, 1)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path + ".other"))
        XCTAssertThrowsError(try ReadOnlyStore(path: path + ".missing")) { XCTAssertTrue("\($0)".contains("no such file"), "\($0)") }
    }
}

extension BestResult {
    var withoutComparison: BestResult { var r = self; r.comparison = nil; return r }
}

/// Tags, notes and the archive (schema 4) as the read API sees them, on a new store and on one
/// read as it is from before schema 4.
final class AnnotationStoreTests: XCTestCase {
    func testArchivedRunsAreLeftOutOfEveryQueryAndTagsFilter() throws {
        let store = try Store(path: temporaryStorePath())
        let a = try store.createRun(sampleRun()).id, b = try store.createRun(sampleRun()).id
        try store.tag(runs: [a], set: [("split", "holdout")])
        XCTAssertEqual(try store.tag(runs: [a], set: [("split", "holdout")]), 0, "the same value again changes nothing")
        XCTAssertEqual(try store.tag(runs: [a], set: [("split", "test")]), 1)
        try store.note(runs: [b], "flaky node")
        XCTAssertThrowsError(try store.note(runs: [b], "  ")) { XCTAssertEqual("\($0)", "the note is empty") }
        XCTAssertEqual(try store.archive(runs: [b], reason: "bad"), 1)
        XCTAssertEqual(try store.archive(runs: [b]), 0, "archived once")
        let reader = store.reader
        XCTAssertEqual(try reader.runs(matching: .all).map(\.run.id), [a])
        XCTAssertEqual(try reader.runs(matching: RunFilter("archived=1")).map(\.run.id), [b])
        XCTAssertEqual(try reader.runs(matching: RunFilter("archived=0|1")).map(\.run.id), [a, b])
        XCTAssertEqual(try reader.runs(matching: RunFilter("tag.split=test")).map(\.run.id), [a])
        XCTAssertEqual(try reader.runs(matching: RunFilter("tag.SPLIT=holdout")).map(\.run.id), [])
        XCTAssertEqual(try reader.runs(matching: RunFilter("note~FLAKY, archived=1")).map(\.run.id), [b])
        XCTAssertEqual(try reader.runs(RunListQuery()).map(\.run.id), [a])
        XCTAssertEqual(try reader.runs(RunListQuery(archived: .only)).map(\.run.id), [b])
        XCTAssertEqual(try reader.runs(study: nil).map(\.run.id), [a])
        let notes = try reader.annotations(runs: [a, b])
        XCTAssertEqual(notes[a]?.tags.map { "\($0.key)=\($0.value)" }, ["split=test"])
        XCTAssertEqual(notes[b]?.notes.map(\.text), ["flaky node"])
        XCTAssertEqual(notes[b]?.archiveReason, "bad")
        XCTAssertThrowsError(try reader.checkKeys(["tag.nope"])) {
            XCTAssertEqual("\($0)", "no run has the tag 'nope' (tags in use: split)")
        }
        XCTAssertThrowsError(try RunFilter("tag.bad key=1"))
        XCTAssertEqual(try store.unarchive(runs: [b]), 1)
        XCTAssertEqual(try reader.runs(matching: .all).map(\.run.id), [a, b])
        XCTAssertThrowsError(try Tags.parse("Split")) { XCTAssertEqual("\($0)", "tag \"Split\" is not KEY=VALUE") }
        XCTAssertThrowsError(try Tags.parse("9x=1"))
        XCTAssertEqual(try Tags.parse(" Split = a=b ").key, "split")
        XCTAssertEqual(try Tags.parse("split=a=b").value, "a=b")
    }

    /// Deleting takes a run with everything it owns; the file's free pages are what vacuum
    /// gives back; a run a live process trains is refused.
    func testDeleteTakesEverythingARunOwnsAndRefusesALiveRun() throws {
        let path = temporaryStorePath()
        let store = try Store(path: path)
        let owned = try store.createRun(sampleRun())
        try store.commitEpoch(sampleEpoch(1, valLoss: 0.5), run: owned)
        try store.tag(runs: [owned.id], set: [("k", "v")])
        // Another live process (this one's parent) trains it.
        try store.write { db in try db.execute(sql: "UPDATE runs SET pid = ? WHERE id = ?", arguments: [Int(getppid()), owned.id]) }
        XCTAssertThrowsError(try store.delete(runs: [owned.id])) { XCTAssertTrue("\($0)".contains("is being trained"), "\($0)") }
        XCTAssertThrowsError(try store.archive(runs: [owned.id])) { XCTAssertTrue("\($0)".contains("nothing was archived"), "\($0)") }
        try store.write { db in try db.execute(sql: "UPDATE runs SET status = 'completed' WHERE id = ?", arguments: [owned.id]) }
        let other = try store.createRun(sampleRun()).id
        let report = try store.delete(runs: [owned.id])
        XCTAssertEqual([report.runs, report.epochs], [1, 1])
        try store.read { db in
            for table in ["epochs", "step_series", "layer_norms", "checkpoints", "run_tags", "run_notes", "run_archive"] {
                XCTAssertEqual(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table) WHERE run_id = ?", arguments: [owned.id]), 0, table)
            }
            XCTAssertEqual(try Row.fetchAll(db, sql: "PRAGMA foreign_key_check"), [])
        }
        XCTAssertEqual(try store.reader.runs(matching: .all).map(\.run.id), [other])
        XCTAssertThrowsError(try store.delete(runs: [owned.id])) { XCTAssertEqual("\($0)", "no run \(owned.id)") }
    }

    /// A store from before schema 4, read as it is, answers like one with nothing archived.
    func testAStoreFromBeforeSchemaFourIsReadAsItIs() throws {
        let path = temporaryStorePath()
        let pool = try DatabasePool(path: path)
        try Store.migrator.migrate(pool, upTo: "0003_baselines")
        try pool.write { db in
            try db.execute(sql: """
                INSERT INTO runs (uid, task, dataset, dataset_fingerprint, model_configuration, optimizer, optimizer_configuration,
                                  configuration_fingerprint, seed, batch_size, epochs_planned, epochs_done, status, host, code_version, created_at,
                                  best_val_loss, best_epoch)
                VALUES ('u1', 'boston', 'd', 'f', '{}', 'adam', '{}', 'c', 1, 32, 5, 1, 'completed', 'h', 'v', 0, 0.5, 1);
                """)
        }
        try pool.close()
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        let reader = try ReadOnlyStore(path: path)
        XCTAssertEqual(try reader.runs(matching: .all).map(\.run.id), [1])
        XCTAssertEqual(try reader.runs(RunListQuery()).map(\.run.id), [1])
        XCTAssertEqual(try reader.best(BestQuery()).map(\.run), [1])
        XCTAssertEqual(try reader.annotations(runs: [1]), [:])
        XCTAssertEqual(try reader.columns(of: "runs").contains("archived_at"), false)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), before, "reading never upgrades")
    }
}
