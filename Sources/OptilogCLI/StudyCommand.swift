import ArgumentParser
import Data
import Engine
import Foundation
import Store
import Study

/// `optilog study`: the grid of the Keras optimizer study, idempotent — completed runs are
/// skipped, interrupted ones resumed, missing ones started — then the results table.
struct StudyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "study",
        abstract: "Run the optimizer study's grid (tasks × optimizers × seeds) and print the results table.",
        discussion: """
        --preset quick runs in a few minutes on small slices (the fixtures on a fresh machine); \
        --preset seed is the study as published (Keras's defaults, full data). Run it again at any \
        time: it only does what is missing. Example:
          optilog study --preset quick --db study.sqlite
        """)

    @Option(help: "quick or seed.") var preset: StudyPlan.Preset = .quick
    @Option(help: "Study name (default study-<preset>); runs are grouped under it.") var name: String?
    @Option(parsing: .upToNextOption, help: "Tasks (default all).") var tasks: [Architecture] = Architecture.allCases
    @Option(parsing: .upToNextOption, help: "Optimizers (default all eight).") var optimizers: [String] = Optimizers.names
    @Option(parsing: .upToNextOption, help: "Seeds (default 1).") var seeds: [UInt64] = [1]
    @Option(help: "Epochs for every task (default: the preset's).") var epochs: Int?
    @Option(help: "Runs trained at once, in separate processes.") var jobs: Int = 1
    @Option(help: "Directory searched first for data sets.") var dataDir: String?
    @Option(help: "Output format of the results table.") var format: OutputFormat = .table
    @Option(help: ArgumentHelp("Train only cell I (0-based) of the grid split N ways — cells I, I+N, I+2N, … (with --of).", valueName: "I"))
    var cell: Int?
    @Option(help: ArgumentHelp("The number of shards the grid is split into (with --cell).", valueName: "N")) var of: Int?
    @Flag(help: "Print the grid's cells (index, task, optimizer, seed, epochs) and train nothing.") var listCells = false
    @OptionGroup var store: StoreOptions

    func validate() throws {
        guard jobs >= 1 && jobs <= 64 else { throw ValidationError("--jobs must be between 1 and 64") }
        guard (cell == nil) == (of == nil) else { throw ValidationError("--cell and --of go together") }
        if let cell, let of, !(of >= 1 && (0..<of).contains(cell)) { throw ValidationError("--cell must be in 0…N-1 for --of N (got \(cell) of \(of))") }
        if let epochs, !(1...1_000_000).contains(epochs) { throw ValidationError("--epochs must be between 1 and 1000000") }
        if let seed = seeds.first(where: { $0 > UInt64(Int64.max) }) { throw ValidationError("--seeds: \(seed) is above 9223372036854775807") }
        if let of, of > 1_000_000 { throw ValidationError("--of must be at most 1000000") }
        for o in optimizers where !Optimizers.names.contains(o) {
            throw ValidationError("unknown optimizer '\(o)'; available: \(Optimizers.names.joined(separator: ", "))")
        }
    }

    static let runningElsewhere = "being trained by another process"

    /// What to do with a cell.
    enum Action { case skip(String), resume(Int64), start }

    func run() throws {
        let plan = StudyPlan(preset: preset, name: name, tasks: tasks, optimizers: optimizers, seeds: seeds, epochs: epochs)
        if listCells {
            let printer = RowPrinter(columns: ["cell", "task", "optimizer", "seed", "epochs"], format: format)
            print(printer.render(plan.cells.enumerated().map { i, c in
                [.integer(i), .text(c.task.rawValue), .text(c.optimizer), .text(String(c.seed)), .integer(c.epochs)]
            }), terminator: "")
            return
        }
        let log = try store.open()
        let study = try log.study(named: plan.name, configuration: plan.json.json)
        Interruption.install()
        var pending: [(StudyPlan.Cell, Action)] = []
        var skipped = 0, elsewhere = 0
        let cells = of.map { plan.shard(cell!, of: $0) } ?? plan.cells
        for cell in cells {
            switch try decide(cell, study: study, log: log) {
            case .skip(let why) where why == Self.runningElsewhere: elsewhere += 1
            case .skip: skipped += 1
            case let action: pending.append((cell, action))
            }
        }
        FileHandle.standardError.write(Data(("study \(plan.name) (id \(study)): \(cells.count) cells\(of.map { " (shard \(cell!) of \($0))" } ?? ""), \(skipped) done, "
                                              + (elsewhere > 0 ? "\(elsewhere) being trained by another process, " : "") + "\(pending.count) to run\n").utf8))
        var failures = 0
        if jobs == 1 {
            for (cell, action) in pending {
                if Interruption.requested { break }
                let label = "\(cell.task.rawValue) \(cell.optimizer) seed \(cell.seed)"
                do {
                    let training: LoggedTraining
                    switch action {
                    case .resume(let run):
                        training = try LoggedTraining.resume(run: run, store: log, locator: DataLocator(dataDir: dataDir), epochs: cell.epochs)
                    default:
                        guard let started = try LoggedTraining.startStudyCell(spec(cell), store: log, locator: DataLocator(dataDir: dataDir), studyID: study) else {
                            FileHandle.standardError.write(Data("  \(label): taken by another study process; skipped\n".utf8))
                            continue
                        }
                        training = started
                    }
                    for warning in training.warnings { FileHandle.standardError.write(Data("optilog: warning: \(warning)\n".utf8)) }
                    let ending = try training.train(shouldStop: { Interruption.requested })
                    FileHandle.standardError.write(Data("  \(label): run \(training.run) \(ending)\n".utf8))
                } catch StoreError.owned(let message) {
                    FileHandle.standardError.write(Data("  \(label): \(message); skipped\n".utf8))
                } catch {
                    // One cell's failure is reported; the others still run.
                    FileHandle.standardError.write(Data("  \(label): optilog: error: \(error)\n".utf8))
                    failures += 1
                }
            }
        } else {
            failures = try runInProcesses(pending, study: study)
        }
        print(BestTable.render(try log.reader.best(BestQuery(study: plan.name)), tasks: plan.tasks, optimizers: plan.optimizers, format: format),
              terminator: "")
        if Interruption.requested { throw ExitCode(Interruption.exitCode) }
        if failures > 0 { throw CleanError("\(failures) cell(s) did not complete; run the study again to resume them") }
    }

    func spec(_ cell: StudyPlan.Cell) throws -> RunSpec {
        RunSpec(task: cell.task, optimizer: cell.optimizer, optimizerConfiguration: try Optimizers.make(cell.optimizer, settings: []).config,
                epochs: cell.epochs, seed: cell.seed, samples: cell.samples, validationSamples: cell.validationSamples)
    }

    func decide(_ cell: StudyPlan.Cell, study: Int64, log: Store) throws -> Action {
        guard let row = try log.reader.studyRun(study: study, task: cell.task.rawValue, optimizer: cell.optimizer, seed: cell.seed) else { return .start }
        switch row.status {
        case .completed where row.epochsDone >= cell.epochs: return .skip("completed")
        case .diverged, .failed, .nondeterministic: return .skip(row.status.rawValue)
        case _ where row.epochsDone > cell.epochs: return .skip("it has more epochs logged than the grid asks")
        case .running where row.liveOwner(staleAfter: Run.defaultStaleAfter) != nil: return .skip(Self.runningElsewhere)
        default: return .resume(row.id)
        }
    }

    /// Up to `jobs` child processes at a time: `optilog run … --study-id` or `optilog resume RUN`;
    /// returns how many failed.
    func runInProcesses(_ pending: [(StudyPlan.Cell, Action)], study: Int64) throws -> Int {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var queue = pending[...]
        var running: [(Process, String)] = []
        var failures = 0
        while !queue.isEmpty || !running.isEmpty {
            while running.count < jobs, let (cell, action) = queue.popFirst(), !Interruption.requested {
                var args: [String]
                switch action {
                case .resume(let run): args = ["resume", String(run), "--epochs", String(cell.epochs), "--skip-if-owned"]
                default:
                    args = ["run", "--task", cell.task.rawValue, "--optimizer", cell.optimizer, "--epochs", String(cell.epochs),
                            "--seed", String(cell.seed), "--study-id", String(study), "--study-cell"]
                    if let n = cell.samples { args += ["--samples", String(n)] }
                    if let n = cell.validationSamples { args += ["--validation-samples", String(n)] }
                }
                args += ["--db", store.resolvedPath, "--format", "ndjson"]
                if let dataDir { args += ["--data-dir", dataDir] }
                let p = Process()
                p.executableURL = executable
                p.arguments = args
                p.standardOutput = FileHandle.nullDevice
                try p.run()
                running.append((p, "\(cell.task.rawValue) \(cell.optimizer) seed \(cell.seed)"))
            }
            if Interruption.requested {
                for (p, _) in running where p.isRunning { p.interrupt() }
                queue = []
            }
            Thread.sleep(forTimeInterval: 0.05)
            running.removeAll { p, label in
                guard !p.isRunning else { return false }
                if p.terminationStatus != 0 { failures += 1 }
                FileHandle.standardError.write(Data("  \(label): exit \(p.terminationStatus)\n".utf8))
                return true
            }
        }
        return failures
    }
}
