import ArgumentParser
import Foundation
import GRDB
import Store

/// `optilog sql`: read-only SQL over the log, for whatever the other commands do not cover.
struct Sql: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a read-only SQL query over the log (schema: sql/README.md).",
        discussion: """
        The store is opened read-only: statements that could write are refused. Example:
          optilog sql "SELECT optimizer, AVG(val_loss) FROM epochs JOIN runs ON runs.id = run_id WHERE task = :t GROUP BY 1" --param t jena
        """)

    @Argument(help: "One SQL statement (SELECT, WITH, or a read-only PRAGMA).") var query: String
    @Option(parsing: .upToNextOption, help: ArgumentHelp("A named parameter and its value (:name in the query).", valueName: "NAME VALUE"))
    var param: [String] = []
    @Option(help: "Seconds before the query is stopped.") var timeout: Double = 10
    @Option(help: "Output format: table, csv, tsv, json, ndjson, markdown.") var format: OutputFormat = .table
    @OptionGroup var store: StoreOptions

    func validate() throws {
        guard param.count % 2 == 0 else { throw ValidationError("--param takes a name and a value") }
        guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
    }

    func run() throws {
        var named: [String: DatabaseValueConvertible?] = [:]
        for i in stride(from: 0, to: param.count, by: 2) {
            let value = param[i + 1]
            named[param[i]] = Int64(value).map { $0 as DatabaseValueConvertible } ?? Double(value).map { $0 as DatabaseValueConvertible } ?? value
        }
        let reader = try ReadOnlyStore(path: store.resolvedPath)
        let result = try reader.rows(query, namedArguments: named, timeout: timeout)
        print(RowPrinter(columns: result.columns, format: format).render(result.rows.map { $0.map(RowPrinter.Cell.init) }), terminator: "")
    }
}
