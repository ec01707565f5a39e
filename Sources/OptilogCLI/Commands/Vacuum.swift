import ArgumentParser
import Foundation
import Store

/// `optilog vacuum`: give the space of deleted runs and pruned checkpoints back to the disk.
struct Vacuum: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Shrink the store file after deletes and checkpoint pruning (SQLite's VACUUM).",
        discussion: """
            Rewrites the file without its free pages; every run, epoch and checkpoint stays as it is. \
            Refused while a run in the store is being trained (its epoch commits would wait behind the \
            rewrite). Needs free disk space about the size of the store while it runs.
            """)

    @OptionGroup var store: StoreOptions

    func run() throws {
        let writable = try store.open()
        let (before, after) = try writable.vacuum()
        warn("optilog: \(store.resolvedPath): \(byteText(before)) → \(byteText(after)) (\(byteText(max(0, before - after))) freed)")
    }
}
