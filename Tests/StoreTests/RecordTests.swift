import Foundation
import GRDB
import XCTest
@testable import Store

/// The records are the only Swift declarations of the tables: each must name exactly the
/// columns the migrations create, in the schema's order, and read back what it wrote.
final class RecordTests: XCTestCase {
    func schemaColumns(_ table: String) throws -> [String] {
        let store = try Store(path: temporaryStorePath())
        return try store.reader.columns(of: table)
    }

    func testRecordsNameTheSchemasColumns() throws {
        XCTAssertEqual(Epoch.Columns.allCases.map(\.rawValue), try schemaColumns("epochs"))
        XCTAssertEqual(Run.Columns.allCases.map(\.rawValue), try schemaColumns("runs"))
        XCTAssertEqual(Checkpoint.Columns.allCases.map(\.rawValue), try schemaColumns("checkpoints"))
        XCTAssertEqual(Study.Columns.allCases.map(\.rawValue), try schemaColumns("studies"))
        XCTAssertEqual(Epoch.databaseTableName, "epochs")
        XCTAssertEqual(Run.databaseTableName, "runs")
        // Every numeric column is one the schema declares REAL.
        let types = try Store(path: temporaryStorePath()).reader.read { db in
            Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT name, type FROM pragma_table_info('epochs')").map { ($0["name"] as String, $0["type"] as String) })
        }
        for column in Epoch.Columns.numeric where column != .committedAt { XCTAssertEqual(types[column.rawValue], "REAL", column.rawValue) }
    }

    func testEpochsRoundTripAndNonFiniteValuesReadAsNil() throws {
        let store = try Store(path: temporaryStorePath())
        let run = try store.createRun(sampleRun())
        var commit = sampleEpoch(1, valLoss: 0.5)
        commit.row = Epoch(epoch: 1, loss: .nan, metric: 0.25, valLoss: 0.5, valMetric: .infinity, gradNormMean: 2, gradNormMin: 1,
                           gradNormMax: 3, gradNormLast: -.infinity, learningRate: 0.001, optimizerChecksum: "s1", seconds: 1.5,
                           samplesPerSecond: 100)
        try store.commitEpoch(commit, run: run)
        let read = try XCTUnwrap(try store.reader.epochs(run: run.id).first)
        XCTAssertEqual(read.runID, run.id)
        XCTAssertNil(read.loss)
        XCTAssertNil(read.valMetric)
        XCTAssertNil(read.gradNormLast)
        XCTAssertEqual(read.metric, 0.25)
        XCTAssertEqual(read.optimizerChecksum, "s1")
        XCTAssertGreaterThan(read.committedAt, 1.7e9)
        XCTAssertTrue(commit.row.loss!.isNaN, "in memory a value keeps what it was")
        var expected = commit.row
        (expected.runID, expected.committedAt, expected.loss, expected.valMetric, expected.gradNormLast) = (run.id, read.committedAt, nil, nil, nil)
        XCTAssertEqual(read, expected)
        XCTAssertEqual(read[.valLoss], .real(0.5))
        XCTAssertEqual(read[.loss], .null)
        XCTAssertEqual(read[.epoch], .integer(1))
    }

    func testRunRecordReadsEveryColumn() throws {
        let store = try Store(path: temporaryStorePath())
        let owned = try store.createRun(sampleRun(epochs: 5))
        try store.commitEpoch(sampleEpoch(1, valLoss: 0.75), run: owned)
        let run = try XCTUnwrap(try store.reader.run(owned.id))
        XCTAssertEqual(run.id, owned.id)
        XCTAssertEqual(run.owner, owned.owner)
        XCTAssertEqual(run.uid.count, 36)
        XCTAssertEqual(run.status, .running)
        XCTAssertEqual(run.epochsPlanned, 5)
        XCTAssertEqual(run.epochsDone, 1)
        XCTAssertEqual(run.bestValLoss, 0.75)
        XCTAssertEqual(run.bestEpoch, 1)
        XCTAssertEqual(run.checkpointPolicy, CheckpointPolicy())
        XCTAssertEqual(run.pid, Int(getpid()))
        XCTAssertEqual(run[.task], .text("boston"))
        XCTAssertEqual(run[.seed], .integer(1))
    }

    /// A value of the wrong type (a hand-edited store) is an error naming the run and column.
    func testAMistypedColumnIsAnErrorNotATrap() throws {
        let path = temporaryStorePath()
        let store = try Store(path: path)
        let owned = try store.createRun(sampleRun())
        try store.write { db in try db.execute(sql: "UPDATE runs SET epochs_done = 'many' WHERE id = ?", arguments: [owned.id]) }
        XCTAssertThrowsError(try store.reader.run(owned.id)) { error in
            XCTAssertEqual("\(error)", "corrupt data: run \(owned.id): column epochs_done holds \"many\", not Int")
        }
    }

    /// The results table is one named query (sql/queries); the general `best` builder must agree
    /// with it on the same store.
    func testTheNamedResultsQueryAndTheGeneralBuilderAgree() throws {
        let store = try Store(path: temporaryStorePath())
        var rng = SystemRandomNumberGenerator()
        for task in ["boston", "jena"] {
            for optimizer in ["adam", "sgd", "nadam"] {
                for _ in 0..<3 {
                    let run = try store.createRun(sampleRun(task, optimizer: optimizer, epochs: 4))
                    for e in 1...4 { try store.commitEpoch(sampleEpoch(e, valLoss: Double.random(in: 0.1...2, using: &rng)), run: run) }
                }
            }
        }
        let named = try store.reader.best(BestQuery())
        XCTAssertEqual(named.count, 6)
        // The same question through the general path (a filter that keeps every run).
        let built = try store.reader.best(BestQuery(filter: try RunFilter("epochs_done>=0")))
        XCTAssertEqual(built, named)
        for r in named {
            let runs = try store.reader.runs(RunListQuery(task: r.task, optimizer: r.optimizer))
            XCTAssertEqual(r.value, runs.compactMap(\.run.bestValLoss).min())
        }
    }

    /// `verify` reads each run on its own: a run whose row does not decode is one problem, and
    /// the other runs are still checked.
    func testVerifyReportsAnUnreadableRunAndChecksTheOthers() throws {
        let store = try Store(path: temporaryStorePath())
        let bad = try store.createRun(sampleRun()), good = try store.createRun(sampleRun(optimizer: "sgd"))
        try store.commitEpoch(sampleEpoch(1, valLoss: 0.5), run: good)
        try store.write { db in try db.execute(sql: "UPDATE runs SET epochs_done = 'many' WHERE id = ?", arguments: [bad.id]) }
        let findings = try store.reader.verify()
        let badFinding = try XCTUnwrap(findings.first { $0.scope == "run \(bad.id)" })
        XCTAssertFalse(badFinding.ok)
        XCTAssertTrue(badFinding.detail.hasPrefix("its row cannot be read: corrupt data"), badFinding.detail)
        let goodFinding = try XCTUnwrap(findings.first { $0.scope == "run \(good.id)" })
        XCTAssertEqual(goodFinding.detail, "1 epochs, best-so-far consistent")
    }

    /// A study name that stands for two studies (merged shards of different grids) selects the
    /// runs of both, in the results table as in every other `best`.
    func testAStudyNameSharedByTwoStudiesSelectsBoth() throws {
        let store = try Store(path: temporaryStorePath())
        let first = try store.study(named: "s", configuration: "{\"grid\": 1}")
        try store.write { db in
            try db.execute(sql: "INSERT INTO studies (uid, name, configuration, created_at) VALUES ('other', 's', '{\"grid\": 2}', 0)")
        }
        let second = try store.reader.read { db in try Int64.fetchOne(db, sql: "SELECT id FROM studies WHERE uid = 'other'") }
        for (study, optimizer, loss) in [(first, "adam", 0.5), (try XCTUnwrap(second), "sgd", 0.25)] {
            var run = sampleRun(optimizer: optimizer)
            run.studyID = study
            try store.commitEpoch(sampleEpoch(1, valLoss: loss), run: try store.createRun(run))
        }
        XCTAssertEqual(try store.reader.best(BestQuery(study: "s")).map(\.optimizer), ["adam", "sgd"])
        XCTAssertEqual(try store.reader.best(BestQuery(filter: try RunFilter("study=s"))).map(\.optimizer), ["adam", "sgd"])
        XCTAssertEqual(try store.reader.best(BestQuery(study: "none")), [])
    }

    /// The comparison key is built the same way in Swift and in SQL, and the results table (the
    /// named query) and the general builder partition by it alike.
    func testComparisonKeysAgreeAndBestPartitionsByThem() throws {
        let store = try Store(path: temporaryStorePath())
        for (fingerprint, epochs, samples, synthetic, optimizer, loss) in [
            ("f1", 4, nil, false, "adam", 0.5), ("f1", 4, nil, false, "sgd", 0.4), ("f1", 8, nil, false, "adam", 0.3),
            ("f2", 4, 128, false, "adam", 0.2), ("s", 4, 64, true, "adam", 0.1), ("s2", 4, 64, true, "sgd", 0.6),
        ] as [(String, Int, Int?, Bool, String, Double)] {
            var run = sampleRun(optimizer: optimizer, epochs: epochs)
            run.datasetFingerprint = fingerprint
            run.dataset = synthetic ? "synthetic boston" : "data \(fingerprint)"
            run.modelConfiguration = "{\"task\": \"boston\", \"batch_size\": 32, \"samples\": \(samples.map(String.init) ?? "null"), "
                + "\"validation_samples\": null, \"synthetic\": \(synthetic)}"
            try store.commitEpoch(sampleEpoch(1, valLoss: loss), run: try store.createRun(run))
        }
        let sqlKeys = try store.reader.read { db in
            try String.fetchAll(db, sql: "SELECT \(Comparison.sqlKey) FROM runs r ORDER BY id")
        }
        let runs = try store.reader.runs(study: nil).sorted { $0.run.id < $1.run.id }
        XCTAssertEqual(runs.map { Comparison($0.run).key }, sqlKeys)
        XCTAssertEqual(Set(sqlKeys).count, 4, "f1 at 4 and at 8 epochs, f2, and synthetic (by name, whatever its fingerprint)")
        let named = try store.reader.best(BestQuery())
        XCTAssertEqual(named.count, 6, "adam and sgd at f1/4; adam at f1/8; adam at f2; adam and sgd on synthetic")
        let built = try store.reader.best(BestQuery(filter: try RunFilter("epochs_done>=0")))
        XCTAssertEqual(Set(built.map { "\($0.run) \($0.comparison!.key)" }), Set(named.map { "\($0.run) \($0.comparison!.key)" }))
        XCTAssertTrue(BestQuery.spansComparisons(named))
        XCTAssertEqual(try store.reader.comparisons(task: "boston").map(\.runs), [2, 1, 1, 2])
        XCTAssertEqual(try store.reader.comparisons(task: "boston", dataset: "F2").map(\.runs), [1], "by fingerprint prefix")
        XCTAssertEqual(try store.reader.comparisons(task: "boston", dataset: "SYNTH").map(\.runs), [2], "by name, any case")
        XCTAssertThrowsError(try store.reader.bestRuns(task: "boston", study: nil, optimizerOrder: ["adam", "sgd"]))
        XCTAssertEqual(try store.reader.bestRuns(task: "boston", study: nil, dataset: "synthetic", optimizerOrder: ["sgd", "adam"]), [6, 5])
    }
}
