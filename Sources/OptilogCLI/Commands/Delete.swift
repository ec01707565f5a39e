import ArgumentParser
import Foundation
import Store

/// `optilog delete RUN…|--where … --yes`: remove runs and all they logged.
struct Delete: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Remove runs with their epochs and checkpoints (asks for --yes).",
        discussion: """
            Without --yes it lists what would go and changes nothing (exit 1). With --yes the runs, \
            their epochs, step series, layer norms, checkpoints, tags and notes go in one transaction: \
            killed part-way, the store keeps all of them. A run a live process is training is refused. \
            The file does not shrink until optilog vacuum, whose gain it prints. To hide a run and \
            keep it, use optilog archive. Examples:
              optilog delete 12 13 --yes
              optilog delete --where "archived=1, task=boston" --yes
            """)

    @Argument(help: ArgumentHelp("Runs: ids or uid prefixes (a,b or a b).", valueName: "run")) var references: [String] = []
    @Flag(help: "Really delete.") var yes = false
    @OptionGroup var selection: RunSelection
    @OptionGroup var store: StoreOptions

    func validate() throws { try selection.check(references) }

    func run() throws {
        let path = store.resolvedPath
        if !yes {
            let reader = try ReadOnlyStore(path: path)
            let ids = try selection.resolve(references, reader: reader, archived: "0|1")
            if ids.isEmpty { throw CleanError("no runs match; nothing would be deleted") }
            let listings = try reader.runs(RunListQuery(ids: ids, archived: .included, limit: ids.count))
            for l in listings.sorted(by: { $0.run.id < $1.run.id }) {
                print("would delete run \(l.run.id): \(l.run.task) \(l.run.optimizer) seed \(l.run.seed), \(l.run.status.rawValue), \(l.run.epochsDone) epochs\(l.study.map { ", study \($0)" } ?? "")")
            }
            throw CleanError("nothing was deleted: add --yes to delete \(runsPhrase(ids))")
        }
        let ids = try selection.resolve(references, path: path, archived: "0|1")
        if ids.isEmpty { throw CleanError("no runs match; nothing was deleted") }
        let report = try store.open().delete(runs: ids)
        warn("optilog: deleted \(runsPhrase(ids)) (\(counted(report.epochs, "epoch")), \(counted(report.checkpoints, "checkpoint"))); "
             + "optilog vacuum would free \(byteText(report.reclaimableBytes)) of \(path)")
    }
}
