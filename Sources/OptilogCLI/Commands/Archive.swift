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

    func run() throws {
        let writable = try store.open()
        let ids = try selection.resolve(references, reader: writable.reader, archived: "0")
        if ids.isEmpty { throw CleanError("no runs match; nothing was archived") }
        let added = try writable.archive(runs: ids, reason: reason)
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

    func run() throws {
        let writable = try store.open()
        let ids = try selection.resolve(references, reader: writable.reader, archived: "1")
        if ids.isEmpty { throw CleanError("no archived runs match") }
        let removed = try writable.unarchive(runs: ids)
        warn("optilog: unarchived \(removed) of \(runsPhrase(ids))\(removed < ids.count ? " (the others were not archived)" : "")")
    }
}
