import ArgumentParser
import Data
import Foundation
import Store
import Study

/// `optilog resume RUN` / `optilog resume --all`: continue interrupted runs from their last
/// checkpoint, bit-identically to runs that never stopped.
struct Resume: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Continue interrupted runs from their last checkpoint.",
        discussion: """
            Before continuing, the data set fingerprint, the configuration fingerprint and the \
            checkpoint's optimizer-state checksum are checked against the log; any mismatch refuses \
            to resume. --all resumes every interrupted run and every running one whose heartbeat is \
            older than --stale-after seconds (its process died without saying so).
            """)

    @Argument(help: ArgumentHelp("The run: its id or the first 4+ characters of its uid.", valueName: "run")) var runID: String?
    @Flag(help: "Resume every interrupted run.") var all = false
    @Option(help: "Train up to this many epochs in all (default: as planned; never fewer than are logged).") var epochs: Int?
    @Option(help: "Seconds without a heartbeat after which a run another host was training counts as interrupted.") var staleAfter: Double =
        Run.defaultStaleAfter
    @Option(help: "Directory searched first for data sets (default: the one the run was started with).") var dataDir: String?
    @Option(help: "Output format of the epoch lines.") var format: OutputFormat = .table
    @Option(help: "Seconds between checkpoints (default: the run's own policy).") var checkpointEvery: Double?
    @Option(help: "A checkpoint at least every this many epochs (default: the run's own policy).") var checkpointEpochs: Int?
    /// For `study --jobs`: a run another live process owns is skipped, not an error.
    @Flag(help: .hidden) var skipIfOwned = false
    @OptionGroup var store: StoreOptions

    func validate() throws {
        guard (runID == nil) == all else { throw ValidationError("give a run id or --all") }
        if let epochs, !(1...1_000_000).contains(epochs) { throw ValidationError("--epochs must be between 1 and 1000000") }
        guard staleAfter >= 0 && staleAfter.isFinite else { throw ValidationError("--stale-after must be a number of seconds, 0 or more") }
        if let checkpointEvery, !(checkpointEvery >= 0 && checkpointEvery <= 1e9) {
            throw ValidationError("--checkpoint-every must be between 0 and 1e9 seconds")
        }
        if let checkpointEpochs, !(0...1_000_000).contains(checkpointEpochs) {
            throw ValidationError("--checkpoint-epochs must be between 0 and 1000000")
        }
    }

    func run() throws {
        let log = try store.open()
        let runs = all ? try log.reader.resumableRuns(staleAfter: staleAfter) : [try log.reader.resolveRun(runID!)]
        if runs.isEmpty { warn("nothing to resume") }
        var failures = 0
        for id in runs {
            do {
                let row = try log.reader.run(id)
                let policy =
                    checkpointEvery != nil || checkpointEpochs != nil
                    ? CheckpointPolicy(
                        seconds: checkpointEvery ?? row?.checkpointPolicy.seconds ?? 10,
                        epochs: checkpointEpochs ?? row?.checkpointPolicy.epochs ?? 100) : nil
                let training = try LoggedTraining.resume(
                    run: id, store: log, locator: DataLocator(dataDir: dataDir), epochs: epochs, policy: policy, staleAfter: staleAfter)
                try LoggedTrainingOutput.train(training, dbPath: store.resolvedPath, format: format)
            } catch StoreError.owned(let message) where skipIfOwned {
                warn("\(message); skipped")
            } catch let error where all && !(error is ExitCode) {
                // --all reports each refusal and goes on with the other runs.
                warn("optilog: error: \(error)")
                failures += 1
            }
        }
        if failures > 0 { throw CleanError("\(failures) of \(runs.count) runs could not be resumed (see above)") }
    }
}
