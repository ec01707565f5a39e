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

    @Argument(help: "The run id.") var runID: Int64?
    @Flag(help: "Resume every interrupted run.") var all = false
    @Option(help: "Train up to this many epochs in all (default: as planned).") var epochs: Int?
    @Option(help: "Seconds without a heartbeat after which a running run counts as interrupted.") var staleAfter: Double = 120
    @Option(help: "Directory searched first for data sets.") var dataDir: String?
    @Option(help: "Output format of the epoch lines.") var format: OutputFormat = .table
    @Option(help: "Seconds between checkpoints (0: every epoch).") var checkpointEvery: Double = 10
    @OptionGroup var store: StoreOptions

    func validate() throws {
        guard (runID == nil) == all else { throw ValidationError("give a run id or --all") }
        if let epochs, epochs < 1 { throw ValidationError("--epochs must be at least 1") }
    }

    func run() throws {
        let log = try store.open()
        let runs = all ? try log.resumableRuns(staleAfter: staleAfter) : [runID!]
        if runs.isEmpty { FileHandle.standardError.write(Data("nothing to resume\n".utf8)) }
        for id in runs {
            let training = try LoggedTraining.resume(run: id, store: log, locator: DataLocator(dataDir: dataDir), epochs: epochs)
            training.checkpointInterval = checkpointEvery
            for warning in training.warnings { FileHandle.standardError.write(Data("optilog: warning: \(warning)\n".utf8)) }
            try Run.train(training, dbPath: store.resolvedPath, format: format)
        }
    }
}
