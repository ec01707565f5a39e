import Basics
import Data
import Engine
import Foundation
import Store
import Synchronization

/// Runs a study's grid, idempotently: a completed cell is skipped, an interrupted one resumed,
/// a missing one started; a cell another live process is training is left to it. Cells run in
/// this process one after another, or (`jobs` > 1) in child processes of this executable, up
/// to `jobs` at a time. Tests drive the decisions and the pool without training or processes.
public struct StudyRunner {
    /// What to do with a cell, decided from the study's run for it (if any).
    public enum Decision: Equatable, Sendable {
        case start
        case resume(Int64)
        /// Finished one way or another (completed, diverged, failed, nondeterministic, or more
        /// epochs logged than the grid asks): why.
        case done(String)
        /// A live process trains it: who.
        case trainedElsewhere(String)
    }

    public static func decide(_ cell: StudyPlan.Cell, existing run: Run?, staleAfter: Double = Run.defaultStaleAfter,
                              now: Double = Date().timeIntervalSince1970) -> Decision {
        guard let run else { return .start }
        switch run.status {
        case .completed where run.epochsDone >= cell.epochs: return .done("completed")
        case .diverged, .failed, .nondeterministic: return .done(run.status.rawValue)
        case _ where run.epochsDone > cell.epochs: return .done("it has more epochs logged than the grid asks")
        case .running:
            if let owner = run.liveOwner(staleAfter: staleAfter, now: now) { return .trainedElsewhere(owner) }
            return .resume(run.id)
        default: return .resume(run.id)
        }
    }

    public let plan: StudyPlan
    public let store: Store
    public let storePath: String
    public var dataDir: String?
    /// Shard `index` of `count` of the grid (a Slurm array's task), or the whole grid.
    public var shard: (index: Int, count: Int)?
    public var jobs = 1
    /// Progress lines for the user (standard error).
    public var report: (String) -> Void = { _ in }
    /// What each cell is doing, as it happens (a live display).
    public var observe: (StudyEvent) -> Void = { _ in }
    /// Asked between cells and at every step: a stop request (Ctrl-C).
    public var shouldStop: () -> Bool = { false }
    /// Starts a child process with these arguments (`study --jobs`); tests pass their own.
    public var launch: ([String]) throws -> Worker = ChildProcess.launch

    public init(plan: StudyPlan, store: Store, storePath: String, dataDir: String? = nil) {
        (self.plan, self.store, self.storePath, self.dataDir) = (plan, store, storePath, dataDir)
    }

    public var cells: [StudyPlan.Cell] { shard.map { plan.shard($0.index, of: $0.count) } ?? plan.cells }

    public struct Outcome: Sendable {
        public var study: Int64
        public var cells: Int
        public var done: Int
        public var trainedElsewhere: Int
        public var attempted: Int
        /// Cells that failed (the others still ran); run the study again to resume them.
        public var failures: Int
    }

    /// Records the study (once), decides every cell, trains the pending ones.
    public func run() throws -> Outcome {
        let study = try store.study(named: plan.name, configuration: plan.json.json)
        // A study's sweep is part of what it is: the same name with other settings is refused.
        if let stored = try store.reader.study(study), StudyPlan.storedSettings(stored.configuration) != StudyPlan.storedSettings(plan.json.json) {
            throw StoreError.refused(
                "study \(plan.name) was started with the settings \(StudyPlan.storedSettings(stored.configuration)), not "
                    + "\(StudyPlan.storedSettings(plan.json.json)); give this one another --name")
        }
        for note in plan.notes { report("optilog: note: \(note)") }
        var pending: [(StudyPlan.Cell, Decision)] = []
        var done = 0, elsewhere = 0, archivedCells = 0
        let archivedRuns = Set(try store.reader.runs(matching: RunFilter("archived=1"), study: plan.name).map(\.run.id))
        for cell in cells {
            // A cell with settings is told from its neighbours by its optimizer configuration.
            let configuration = cell.settings.isEmpty ? nil : try Self.configuration(cell).json
            let existing = try store.reader.studyRun(study: study, task: cell.taskName, optimizer: cell.optimizer, seed: cell.seed,
                                                     configuration: configuration)
            // An archived run is the user's decision to set it aside: the study leaves it alone.
            let archived = existing.map { archivedRuns.contains($0.id) } ?? false
            switch archived ? .done("archived") : Self.decide(cell, existing: existing) {
            case .done(let why):
                done += 1
                if why == "archived" { archivedCells += 1 }
            case .trainedElsewhere: elsewhere += 1
            case let decision: pending.append((cell, decision))
            }
        }
        report("study \(plan.name) (id \(study)): \(cells.count) cells\(shard.map { " (shard \($0.index) of \($0.count))" } ?? ""), \(done) done, "
               + (archivedCells > 0 ? "\(archivedCells) of them archived (left alone: optilog delete them to train those cells again), " : "")
               + (elsewhere > 0 ? "\(elsewhere) being trained by another process, " : "") + "\(pending.count) to run")
        observe(.planned(tasks: pending.map { $0.0.taskName }, done: done + elsewhere, total: cells.count))
        let failures = jobs == 1 ? try trainHere(pending, study: study) : try trainInProcesses(pending, study: study)
        return Outcome(study: study, cells: cells.count, done: done, trainedElsewhere: elsewhere, attempted: pending.count, failures: failures)
    }

    static func label(_ cell: StudyPlan.Cell) -> String {
        "\(cell.taskName) \(cell.optimizer)\(cell.settings.map { " " + $0.description }.joined()) seed \(cell.seed)"
    }

    static func spec(_ cell: StudyPlan.Cell) throws -> RunSpec {
        if let custom = cell.custom {
            return RunSpec(custom: custom, optimizer: cell.optimizer, optimizerConfiguration: try configuration(cell), epochs: cell.epochs,
                           batchSize: cell.batchSize, seed: cell.seed)
        }
        guard let task = cell.task else { throw EngineError.invalidConfiguration("a cell needs a task") }
        return RunSpec(task: task, optimizer: cell.optimizer, optimizerConfiguration: try configuration(cell),
                epochs: cell.epochs, seed: cell.seed, samples: cell.samples, validationSamples: cell.validationSamples)
    }

    static func configuration(_ cell: StudyPlan.Cell) throws -> ConfigValue {
        try Optimizers.make(cell.optimizer, settings: cell.settings.map { ($0.key, $0.value) }).config
    }

    /// One cell after another in this process; returns how many failed.
    func trainHere(_ pending: [(StudyPlan.Cell, Decision)], study: Int64) throws -> Int {
        var failures = 0
        let locator = DataLocator(dataDir: searchedDirectory)
        // A data note (where a task's data came from) is said once, not once per cell.
        var said: Set<String> = []
        for (cell, decision) in pending {
            if shouldStop() { break }
            let label = Self.label(cell)
            do {
                let training: LoggedTraining
                if case .resume(let run) = decision {
                    training = try LoggedTraining.resume(run: run, store: store, locator: locator, epochs: cell.epochs)
                } else {
                    guard let started = try LoggedTraining.startStudyCell(Self.spec(cell), store: store, locator: locator, studyID: study) else {
                        report("  \(label): taken by another study process; skipped")
                        continue
                    }
                    training = started
                }
                for warning in training.warnings where said.insert(warning).inserted { report("optilog: warning: \(warning)") }
                observe(.cellStarted(slot: 0, label: label, task: cell.taskName, epochs: cell.epochs))
                let ending = try training.train(
                    shouldStop: shouldStop, onStep: { observe(.step(slot: 0, epoch: $0, step: $1, steps: $2, loss: $3)) },
                    onEpoch: { record, replayed in
                        if !replayed { observe(.epochEnded(slot: 0, epoch: record.epoch, valLoss: record.row.valLoss, loss: record.row.loss)) }
                    })
                observe(.cellEnded(slot: 0, label: label, task: cell.taskName, run: training.run, outcome: Self.text(ending), failed: false))
            } catch StoreError.owned(let message) {
                report("  \(label): \(message); skipped")
            } catch {
                // One cell's failure is reported; the others still run.
                observe(.cellEnded(slot: 0, label: label, task: cell.taskName, run: nil, outcome: "optilog: error: \(error)", failed: true))
                failures += 1
            }
        }
        return failures
    }

    static func text(_ ending: LoggedTraining.Ending) -> String {
        switch ending {
        case .completed: return "completed"
        case .interrupted: return "interrupted"
        case .diverged(let step): return "diverged at step \(step)"
        }
    }

    /// The command line of a child process for a cell: `run … --study-id` for a new cell (it
    /// claims the cell itself), `resume RUN` for a stopped one.
    func childArguments(_ cell: StudyPlan.Cell, _ decision: Decision, study: Int64) -> [String] {
        var args: [String]
        if case .resume(let run) = decision {
            args = ["resume", String(run), "--epochs", String(cell.epochs), "--skip-if-owned"]
        } else {
            args = ["run"] + (cell.custom.map(Self.customArguments) ?? ["--task", cell.taskName])
                + ["--optimizer", cell.optimizer, "--epochs", String(cell.epochs), "--seed", String(cell.seed)]
                + (cell.custom != nil ? ["--batch-size", String(cell.batchSize)] : [])
                + ["--study-id", String(study), "--study-cell"]
            if let n = cell.samples { args += ["--samples", String(n)] }
            if let n = cell.validationSamples { args += ["--validation-samples", String(n)] }
            for setting in cell.settings { args += ["--set", setting.description] }
        }
        args += ["--db", storePath, "--format", "ndjson"]
        if let searchedDirectory { args += ["--data-dir", searchedDirectory] }
        return args
    }

    /// Where a resumed run looks for data it cannot find at its logged path: `--data-dir`, or for
    /// a study of the user's model the folder of the data file given now (the file moved; its
    /// fingerprint is still checked against the log).
    var searchedDirectory: String? {
        dataDir ?? plan.custom.map { ($0.data.path as NSString).deletingLastPathComponent }
    }

    /// The options that name a custom task to `optilog run`.
    static func customArguments(_ custom: CustomTask) -> [String] {
        // --option=value: a value that starts with '-' stays a value.
        var args = ["--model=\(custom.modelPath ?? "")", "--data=\(custom.data.path)", "--task-name=\(custom.name)",
                    "--loss=\(custom.loss.rawValue)", "--metric=\(custom.metric.kerasName)"]
        if let t = custom.data.target { args.append("--target=\(t)") }
        if let s = custom.data.validationSplit { args.append("--validation-split=\(s)") }
        if let w = custom.initialWeights { args.append("--initial-weights=\(w)") }
        return args
    }

    /// Up to `jobs` child processes at a time; a stop request interrupts the running ones and
    /// starts no more. Returns how many exited with an error.
    func trainInProcesses(_ pending: [(StudyPlan.Cell, Decision)], study: Int64, poll: Double = 0.05) throws -> Int {
        var queue = pending[...]
        var running: [(worker: Worker, cell: StudyPlan.Cell, slot: Int, run: Int64?)] = []
        var failures = 0
        func drain(_ i: Int) {
            for line in running[i].worker.takeLines() {
                switch ProgressLine.parse(line, slot: running[i].slot) {
                case .event(let event)?: observe(event)
                case .run(let id)?: running[i].run = id
                case nil: report(line)
                }
            }
        }
        while !queue.isEmpty || !running.isEmpty {
            while running.count < jobs, !shouldStop(), let (cell, decision) = queue.popFirst() {
                // The lowest slot no running child holds.
                let slot = (0..<jobs).first { s in !running.contains { $0.slot == s } } ?? running.count
                let worker = try launch(childArguments(cell, decision, study: study))
                if case .resume(let run) = decision { running.append((worker, cell, slot, run)) } else { running.append((worker, cell, slot, nil)) }
                observe(.cellStarted(slot: slot, label: Self.label(cell), task: cell.taskName, epochs: cell.epochs))
            }
            if shouldStop() {
                for r in running where r.worker.isRunning { r.worker.interrupt() }
                queue = []
            }
            Thread.sleep(forTimeInterval: poll)
            for i in running.indices { drain(i) }
            for i in running.indices where !running[i].worker.isRunning {
                _ = running[i].worker.exitStatus  // reads what it wrote last
                drain(i)
            }
            running.removeAll { r in
                guard !r.worker.isRunning else { return false }
                let status = r.worker.exitStatus
                if status != 0 { failures += 1 }
                let outcome = r.worker.signal.map { "killed by signal \($0)" }
                    ?? (status == 0 ? "completed" : status == 130 || status == 143 ? "interrupted" : "failed (exit \(status))")
                observe(.cellEnded(slot: r.slot, label: Self.label(r.cell), task: r.cell.taskName, run: r.run, outcome: outcome,
                                   failed: r.worker.signal != nil || (status != 0 && status != 130 && status != 143)))
                return true
            }
        }
        return failures
    }
}

/// A child process training one cell, as the pool sees it.
public protocol Worker: AnyObject {
    var isRunning: Bool { get }
    var exitStatus: Int32 { get }
    /// Asks it to stop at the next step boundary (SIGINT).
    func interrupt()
    /// Whole lines it wrote to standard error since the last call.
    func takeLines() -> [String]
    /// The signal that ended it, if one did (then `exitStatus` is the signal's number).
    var signal: Int32? { get }
}

extension Worker {
    public func takeLines() -> [String] { [] }
    public var signal: Int32? { nil }
}

/// This executable again, with other arguments (its standard output discarded; its standard
/// error read line by line, progress lines among them).
public final class ChildProcess: Worker, @unchecked Sendable {
    let process = Process()
    let errors = Pipe()
    private let buffer = Mutex<(pending: Data, lines: [String])>((Data(), []))

    public static func launch(_ arguments: [String]) throws -> Worker {
        let child = ChildProcess()
        child.process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        child.process.arguments = arguments
        child.process.standardOutput = FileHandle.nullDevice
        child.process.standardError = child.errors
        var environment = ProcessInfo.processInfo.environment
        environment[ProgressLine.environment] = "1"
        // The children use this process's OpenBLAS kernels, so a cell trains to the same bits
        // whether it runs here or in a child.
        if BLAS.coreName != "unknown" { environment["OPENBLAS_CORETYPE"] = BLAS.coreName }
        child.process.environment = environment
        child.errors.fileHandleForReading.readabilityHandler = { [child] handle in
            let data = handle.availableData
            child.buffer.withLock { state in
                state.pending.append(data)
                while let newline = state.pending.firstIndex(of: 10) {
                    let line = state.pending[state.pending.startIndex..<newline]
                    state.lines.append(String(decoding: line, as: UTF8.self))
                    state.pending.removeSubrange(state.pending.startIndex...newline)
                }
                if data.isEmpty, !state.pending.isEmpty {  // the end: a last line without a newline
                    state.lines.append(String(decoding: state.pending, as: UTF8.self))
                    state.pending.removeAll()
                }
            }
            if data.isEmpty { handle.readabilityHandler = nil }
        }
        try child.process.run()
        return child
    }

    public var isRunning: Bool { process.isRunning }
    public var exitStatus: Int32 {
        // What it wrote before it exited is read before its exit is reported.
        process.waitUntilExit()
        errors.fileHandleForReading.readabilityHandler = nil
        let rest = errors.fileHandleForReading.readDataToEndOfFile()
        if !rest.isEmpty {
            buffer.withLock { state in
                state.pending.append(rest)
                let text = String(decoding: state.pending, as: UTF8.self)
                state.lines += text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
                state.pending.removeAll()
            }
        }
        return process.terminationStatus
    }
    public func interrupt() { process.interrupt() }
    public var signal: Int32? { !process.isRunning && process.terminationReason == .uncaughtSignal ? process.terminationStatus : nil }
    public func takeLines() -> [String] { buffer.withLock { state in defer { state.lines = [] }; return state.lines } }
}
