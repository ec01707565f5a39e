import ArgumentParser
import Foundation
import Store

/// `optilog sql`: read-only SQL over the log, for whatever the other commands do not cover.
struct Sql: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a read-only SQL query over the log (schema: sql/README.md).",
        discussion: """
            SQLite itself decides that the statement only reads (an authorizer denies ATTACH, DETACH \
            and every write; the connection is read-only). Parameters are named (:name) and each \
            needs --param. Example:
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
        guard timeout > 0 && timeout <= 86_400 else { throw ValidationError("--timeout must be between 0 and 86400 seconds") }
    }

    func run() throws {
        var named: [String: StoredValue] = [:]
        for i in stride(from: 0, to: param.count, by: 2) {
            let value = param[i + 1]
            let name = param[i].hasPrefix(":") ? String(param[i].dropFirst()) : param[i]
            named[name] = Int64(value).map { .integer($0) } ?? Double(value).map { .real($0) } ?? .text(value)
        }
        let reader = try ReadOnlyStore(path: store.resolvedPath)
        if let note = reader.note { warn("optilog: note: \(note)") }
        let result = try UserQuery.run(path: store.resolvedPath, sql: query, parameters: named, timeout: timeout)
        print(RowPrinter(columns: result.columns, format: format).render(result.rows.map { $0.map(RowPrinter.Cell.init) }), terminator: "")
    }
}
