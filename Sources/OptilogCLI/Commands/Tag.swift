import ArgumentParser
import Foundation
import Store

/// `optilog tag RUN… KEY=VALUE…`: labels on runs, for `--where tag.KEY=…` and listings.
struct Tag: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Set, change or remove tags (KEY=VALUE) on runs; with no tags, list theirs.",
        discussion: """
            Words with '=' are tags, the others runs (ids or uid prefixes). A key set again takes the \
            new value. Keys are case-insensitive (stored lower-case). Tags show in optilog show and \
            optilog runs, are kept by optilog merge, and filter every query: --where "tag.split=holdout". \
            Examples:
              optilog tag 12 13 split=holdout reviewer=ana
              optilog tag --where "task=imdb, optimizer=ftrl" note=lr-too-low
              optilog tag 12 --remove reviewer
            """)

    @Argument(help: ArgumentHelp("Runs and KEY=VALUE tags.", valueName: "run-or-tag")) var words: [String] = []
    @Option(parsing: .upToNextOption, help: ArgumentHelp("Remove these tags (a,b or a b).", valueName: "KEY")) var remove: [String] = []
    @Option(help: "Output format of the listing: table, csv, tsv, json, ndjson, markdown.") var format: OutputFormat = .table
    @OptionGroup var selection: RunSelection
    @OptionGroup var store: StoreOptions

    func validate() throws {
        let references = words.filter { !$0.contains("=") }
        if remove.isEmpty && !words.contains(where: { $0.contains("=") }) && references.isEmpty && selection.isEmpty {
            throw ValidationError("name the runs (ids or uid prefixes) or select them with --where/--study")
        }
        if !remove.isEmpty || words.contains(where: { $0.contains("=") }) { try selection.check(references) }
    }

    func run() throws {
        let tags = try words.filter { $0.contains("=") }.map(Tags.parse)
        let references = words.filter { !$0.contains("=") }
        let removed = Lists.flatten(remove).map { $0.lowercased() }
        if tags.isEmpty && removed.isEmpty {
            let reader = try ReadOnlyStore(path: store.resolvedPath)
            let ids = try selection.resolve(references, reader: reader, archived: "0|1")
            let annotations = try reader.annotations(runs: ids)
            let rows: [[RowPrinter.Cell]] = ids.flatMap { id in
                (annotations[id]?.tags ?? []).map { [.integer(Int(id)), .text(Tags.printable($0.key)), .text(Tags.printable($0.value))] }
            }
            print(RowPrinter(columns: ["run", "key", "value"], format: format).render(rows), terminator: "")
            if rows.isEmpty { warn("optilog: note: \(runsPhrase(ids)) \(ids.count == 1 ? "has" : "have") no tags") }
            return
        }
        let ids = try selection.resolve(references, path: store.resolvedPath, archived: "0|1")
        if ids.isEmpty { throw CleanError("no runs match; nothing was tagged") }
        let changed = try store.open().tag(runs: ids, set: tags, remove: removed)
        let what = (tags.map { "\($0.key)=\($0.value)" } + removed.map { "-\($0)" }).joined(separator: " ")
        warn("optilog: \(runsPhrase(ids)): \(what) (\(changed) tag\(changed == 1 ? "" : "s") changed)")
    }
}
