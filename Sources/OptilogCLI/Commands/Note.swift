import ArgumentParser
import Foundation
import Store

/// `optilog note RUN… "text"`: a dated remark on runs, appended, never edited.
struct Note: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Add a dated note to runs (the last word is the note).",
        discussion: """
            Notes are appended and never edited; optilog show lists them, optilog runs counts them, \
            --where "note~flaky" finds them, optilog merge keeps them. Examples:
              optilog note 12 "loss spikes at epoch 3: bad shuffle seed?"
              optilog note --study study-quick "run on the shared box while it was loaded"
            """)

    @Argument(help: ArgumentHelp("Runs (ids or uid prefixes), then the note.", valueName: "run-or-text")) var words: [String] = []
    @OptionGroup var selection: RunSelection
    @OptionGroup var store: StoreOptions

    func validate() throws {
        guard let text = words.last, !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw ValidationError("give the note's text as the last argument")
        }
        try selection.check(Array(words.dropLast()))
    }

    func run() throws {
        let ids = try selection.resolve(Array(words.dropLast()), path: store.resolvedPath, archived: "0|1")
        if ids.isEmpty { throw CleanError("no runs match; no note was added") }
        try store.open().note(runs: ids, words.last!)
        warn("optilog: noted on \(runsPhrase(ids))")
    }
}
