import Foundation
import GRDB
import XCTest
@testable import Store

/// `--where` and `--by`: what a filter parses to, the SQL it becomes (values always bound,
/// never pasted), the mistakes it refuses, and the runs it selects from a real store.
final class RunFilterTests: XCTestCase {
    func testClausesOperatorsAndValues() throws {
        let f = try RunFilter("task=imdb, optimizer = adam|nadam and learning_rate<=0.01 AND status!=diverged, seed>=2, host~node, uid==\"abc\"")
        XCTAssertEqual(f.clauses.map(\.key), ["task", "optimizer", "learning_rate", "status", "seed", "host", "uid"])
        XCTAssertEqual(f.clauses.map(\.op), ["=", "=", "<=", "!=", ">=", "~", "="])
        XCTAssertEqual(f.clauses[1].values, ["adam", "nadam"])
        XCTAssertEqual(try RunFilter("  ").clauses, [])
        XCTAssertEqual(try RunFilter("momentum > 0.5").clauses, [RunFilter.Clause(key: "momentum", op: ">", values: ["0.5"])])
        XCTAssertEqual(try RunFilter("dataset='a b'").clauses[0].values, ["a b"])
        // A quoted value keeps its commas and "and"s.
        let quoted = try RunFilter("tag.note=\"lr, then momentum and decay\", seed=1")
        XCTAssertEqual(quoted.clauses.map(\.values), [["lr, then momentum and decay"], ["1"]])
    }

    func testSQLBindsEveryValue() throws {
        let (sql, arguments) = try RunFilter("task=IMDB, learning_rate<=0.01, optimizer!=sgd|adam, dataset~Fix").sql()
        let shown = "(NOT EXISTS (SELECT 1 FROM run_archive a WHERE a.run_id = r.id)) AND "
        XCTAssertEqual(sql, shown + "(r.task IN (?)) AND (json_extract(r.optimizer_configuration, ?) <= ?) "
                       + "AND ((r.optimizer IS NULL OR r.optimizer NOT IN (?, ?))) AND (instr(lower(CAST(r.dataset AS TEXT)), lower(?)) > 0)")
        XCTAssertEqual(arguments.map { "\($0.map { "\($0)" } ?? "nil")" }, ["imdb", "$.learning_rate", "0.01", "sgd", "adam", "Fix"])
        XCTAssertEqual(try RunFilter("").sql().sql, "(NOT EXISTS (SELECT 1 FROM run_archive a WHERE a.run_id = r.id))", "archived runs hidden")
        XCTAssertEqual(try RunFilter("archived=0|1").sql().sql, "(EXISTS (SELECT 1 FROM run_archive a WHERE a.run_id = r.id) IN (?, ?))")
        let tag = try RunFilter("tag.Split=7").sql()
        XCTAssertEqual(tag.sql, shown + "((SELECT t.value FROM run_tags t WHERE t.run_id = r.id AND t.key = ?) IN (?))")
        XCTAssertEqual(tag.arguments.compactMap { $0 as? String }, ["split", "7"], "a tag's value is bound as text")
        // A setting's = matches the number and its float32 (Keras logs 0.1 as 0.10000000149011612).
        let lr = try RunFilter("learning_rate=0.1").sql()
        XCTAssertEqual(lr.arguments.compactMap { $0 as? Double }, [0.1, Double(Float(0.1))])
        XCTAssertEqual(try RunFilter("learning_rate=0.5").sql().arguments.compactMap { $0 as? Double }, [0.5], "exact in float32: once")
        XCTAssertTrue(try RunFilter("tag.n>8").sql().sql.contains("CAST((SELECT t.value FROM run_tags t WHERE t.run_id = r.id AND t.key = ?) AS REAL) > ?"))
        // An injection attempt is a value, bound as text.
        let hostile = try RunFilter("task=x' OR 1=1 --").sql()
        XCTAssertEqual(hostile.sql, shown + "(r.task IN (?))")
    }

    func testMistakesAreRefusedWithAMessage() {
        for (text, message) in [
            ("task", "--where: \"task\" has no operator (=, !=, <, <=, >, >=, ~)"),
            ("task=", "--where: \"task=\" has no value"),
            ("task=imdb,,seed=1", "--where: empty condition in \"task=imdb,,seed=1\""),
            ("seed<1|2", "--where: \"seed<1|2\": a|b works with = and != only"),
            ("drop table=1", "--where/--by: \"drop table\" is not a column or an optimizer setting name"),
            ("1abc=2", "--where/--by: \"1abc\" is not a column or an optimizer setting name"),
        ] {
            XCTAssertThrowsError(try RunFilter(text), text) { XCTAssertEqual("\($0)", message) }
        }
        XCTAssertThrowsError(try RunFilter.checkGroupKey("learning rate"))
        XCTAssertNoThrow(try RunFilter.checkGroupKey("learning_rate"))
        XCTAssertNoThrow(try RunFilter.checkGroupKey("study"))
    }

    func testFiltersSelectRunsOfARealStore() throws {
        let store = try Store(path: temporaryStorePath())
        for (optimizer, lr) in [("adam", 0.001), ("adam", 0.01), ("sgd", 0.01), ("nadam", 0.1)] {
            var run = sampleRun("imdb", optimizer: optimizer)
            run.optimizerConfiguration = "{\"learning_rate\": \(lr)}"
            let owned = try store.createRun(run)
            try store.commitEpoch(sampleEpoch(1, valLoss: lr), run: owned)
        }
        func selected(_ text: String) throws -> [String] {
            try store.reader.runs(matching: try RunFilter(text)).map { "\($0.run.optimizer)@\(try XCTUnwrap(try ConfigValueProbe.lr($0.run)))" }
        }
        XCTAssertEqual(try selected("learning_rate<=0.01"), ["adam@0.001", "adam@0.01", "sgd@0.01"])
        XCTAssertEqual(try selected("optimizer=ADAM|nadam, learning_rate>0.001"), ["adam@0.01", "nadam@0.1"])
        XCTAssertEqual(try selected("optimizer!=adam"), ["sgd@0.01", "nadam@0.1"])
        XCTAssertEqual(try selected("momentum=0.9"), [], "a setting no run has")
        XCTAssertEqual(try selected("best_val_loss<0.05, task=imdb"), ["adam@0.001", "adam@0.01", "sgd@0.01"])
        XCTAssertEqual(try selected("best_val_loss<0.005"), ["adam@0.001"])
    }
}

/// The learning rate in a run's stored configuration, for readable assertions.
enum ConfigValueProbe {
    static func lr(_ run: Run) throws -> String? {
        let object = try JSONSerialization.jsonObject(with: Data(run.optimizerConfiguration.utf8)) as? [String: Any]
        return (object?["learning_rate"] as? NSNumber).map { "\($0)" }
    }
}
