import ArgumentParser
import Foundation
import Store

/// `optilog archive RUN…|--where …`: hide runs from every table, reversibly.
struct Archive: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Hide runs from every table and listing (reversible: optilog unarchive).",
        discussion: """
            An archived run keeps everything it logged; best, runs, curves, compare, report and the \
            other queries leave it out, and resume --all skips it. optilog show RUN still shows it, \
            optilog runs --archived lists archived runs, --where "archived=1" selects them. A run a \
            live process is training is refused. Examples:
              optilog archive 12 --reason "wrong data folder"
              optilog archive --where "status=diverged, task=boston"
            """)

    @Argument(help: ArgumentHelp("Runs: ids or uid prefixes (a,b or a b).", valueName: "run")) var references: [String] = []
    @Option(help: "Why (shown by optilog show).") var reason: String?
    @OptionGroup var selection: RunSelection
    @OptionGroup var store: StoreOptions

    func validate() throws { try selection.check(references) }

    func run() throws {
        let ids = try selection.resolve(references, path: store.resolvedPath, archived: "0")
        if ids.isEmpty { throw CleanError("no runs match; nothing was archived") }
        let added = try store.open().archive(runs: ids, reason: reason)
        warn("optilog: archived \(runsPhrase(ids))\(added < ids.count ? " (\(ids.count - added) already were)" : ""); optilog unarchive brings them back")
    }
}

/// `optilog unarchive RUN…|--where …`: show archived runs again.
struct Unarchive: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show archived runs again.",
        discussion: """
            Examples:
              optilog unarchive 12
              optilog unarchive --where "task=boston"    (the archived boston runs)
            """)

    @Argument(help: ArgumentHelp("Runs: ids or uid prefixes (a,b or a b).", valueName: "run")) var references: [String] = []
    @OptionGroup var selection: RunSelection
    @OptionGroup var store: StoreOptions

    func validate() throws { try selection.check(references) }

    func run() throws {
        let reader = try RunSelection.reader(store.resolvedPath)
        let ids = try selection.resolve(references, reader: reader, archived: "1")
        let archived = try reader.annotations(runs: ids).filter { $0.value.archivedAt != nil }.keys
        if archived.isEmpty { throw CleanError(ids.isEmpty ? "no archived runs match" : "\(runsPhrase(ids)) \(ids.count == 1 ? "is" : "are") not archived") }
        let removed = try store.open().unarchive(runs: ids.filter(archived.contains))
        let notArchived = ids.count - archived.count
        warn("optilog: unarchived \(runsPhrase(ids.filter(archived.contains)))" + (notArchived > 0 ? " (\(notArchived) of those named were not archived)" : "")
             + (removed < archived.count ? "; \(archived.count - removed) were unarchived meanwhile" : ""))
    }
}
