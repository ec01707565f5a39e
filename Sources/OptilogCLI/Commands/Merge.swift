import ArgumentParser
import Foundation
import Store

/// `optilog merge`: shards of a study (one store per cluster task) into one store.
struct Merge: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Merge shard stores into one store, or publish one shard safely.",
        discussion: """
            Each shard is copied whole — runs, epochs, step series, layer norms, checkpoints, studies — \
            in one transaction: all of it or nothing. Runs are matched by uid, so merging again changes \
            nothing; a run that differs from its copy already in the store is refused with its uid and \
            nothing of that shard is written. --verify then compares row counts and checkpoint \
            checksums, run by run. --publish copies one store to -o safely (VACUUM INTO a temporary \
            name beside it, then an atomic rename), e.g. from a node's local disk to shared storage.
              optilog merge shards/cell-*.sqlite -o study.sqlite --verify
              optilog merge --publish /tmp/cell-3.sqlite -o /shared/shards/cell-3.sqlite
            """)

    @Argument(help: ArgumentHelp("Shard stores.", valueName: "shard")) var shards: [String]
    @Option(name: [.customShort("o"), .long], help: ArgumentHelp("The store to merge into (created if missing).", valueName: "STORE"))
    var output: String
    @Flag(help: "After merging, compare every run's rows and checkpoint checksums with its shard.") var verify = false
    @Flag(help: "Copy the one shard to -o with VACUUM INTO and a rename, instead of merging.") var publish = false

    func validate() throws {
        guard !shards.isEmpty else { throw ValidationError("give at least one shard") }
        if publish && shards.count != 1 { throw ValidationError("--publish copies one store") }
    }

    func run() throws {
        if publish {
            try Store.publish(shards[0], to: output)
            warn("published \(shards[0]) as \(output)")
            return
        }
        let store = try Store(path: output)
        var failures = 0
        for shard in shards {
            let r = try store.merge(shard: shard)
            warn(
                "\(shard): \(r.runsAdded) runs added (\(r.epochsAdded) epochs, \(r.checkpointsAdded) checkpoints), "
                    + "\(r.runsAlreadyPresent) already present, \(r.studiesAdded) studies added")
            if verify {
                let checks = try store.verifyMerged(shard: shard)
                for c in checks where !c.ok { warn("  run \(c.uid): \(c.detail)") }
                failures += checks.filter { !$0.ok }.count
                warn("  verified \(checks.count) runs: \(checks.filter(\.ok).count) equal")
            }
        }
        if failures > 0 { throw CleanError("\(failures) merged run(s) differ from their shard") }
    }
}
