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
            Your own model (every optimizer × seed on it, --epochs each, default 10):
              optilog study --model model.json --data data.npz --loss categorical_crossentropy --seeds 1 2 3 --name my-problem
            """)

    @Option(help: "quick (the default), seed or seed-2020 (seed with SGD at the study's learning rate 0.001).") var preset: StudyPlan.Preset?
    @Option(help: "Study name (default study-<preset>); runs are grouped under it.") var name: String?
    @Option(name: .customLong("tasks"), parsing: .upToNextOption, help: "Tasks, a,b or a b (default all).")
    var taskNames: [String] = StudyTask.allValueStrings
    @Option(name: .customLong("optimizers"), parsing: .upToNextOption, help: "Optimizers, a,b or a b (default all eight).")
    var optimizerNames: [String] = Optimizers.names
    @Option(name: .customLong("seeds"), parsing: .upToNextOption, help: "Seeds, a,b or a b (default 1).") var seedList: [String] = ["1"]
    // Checked by validate().
    var tasks: [StudyTask] { (try? Lists.tasks(taskNames)) ?? [] }
    var optimizers: [String] { (try? Lists.optimizers(optimizerNames)) ?? [] }
    var seeds: [UInt64] { (try? Lists.seeds(seedList)) ?? [] }
    @Option(help: "Epochs for every task (default: the preset's; 10 for your own model).") var epochs: Int?
    @Option(help: "Samples per batch of your own model (the built-in tasks train with 32).") var batchSize: Int = 32
    @OptionGroup(title: "Your own model") var custom: CustomTaskOptions
    @Option(name: .customLong("set"), parsing: .unconditionalSingleValue, help: ArgumentHelp("An optimizer setting for every cell, by its Keras name (optimizers without it run without it).",
                                                         valueName: "KEY=VALUE"))
    var settings: [Setting] = []
    @Option(parsing: .unconditionalSingleValue, help: ArgumentHelp("Sweep a setting: one cell per value (several --grid multiply), e.g. learning_rate=1e-4,1e-3,1e-2.",
                               valueName: "KEY=V1,V2,…"))
    var grid: [GridAxis] = []
    @Option(help: ArgumentHelp("Sweep N learning rates per optimizer, log-spaced from 1/100 to 100 times its own default.", valueName: "N"))
    var lrSweep: Int?
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
        if let cell, let of, !(of >= 1 && (0..<of).contains(cell)) {
            throw ValidationError("--cell must be in 0…N-1 for --of N (got \(cell) of \(of))")
        }
        if let epochs, !(1...1_000_000).contains(epochs) { throw ValidationError("--epochs must be between 1 and 1000000") }
        // Lists: a,b or a b, names in any case.
        guard try !Lists.tasks(taskNames).isEmpty, try !Lists.optimizers(optimizerNames).isEmpty, try !Lists.seeds(seedList).isEmpty else {
            throw ValidationError("--tasks, --optimizers and --seeds need at least one value each")
        }
        if let of, of > 1_000_000 { throw ValidationError("--of must be at most 1000000") }
        if let n = lrSweep, !(1...25).contains(n) { throw ValidationError("--lr-sweep must be between 1 and 25") }
        let keys = grid.map(\.axis.key)
        if let twice = keys.first(where: { k in keys.filter { $0 == k }.count > 1 }) { throw ValidationError("--grid \(twice) is given twice") }
        if lrSweep != nil, keys.contains("learning_rate") { throw ValidationError("--lr-sweep and --grid learning_rate=… both sweep the learning rate; use one") }
        for axis in grid.map(\.axis) {
            if let twice = axis.values.first(where: { v in axis.values.filter { $0 == v }.count > 1 }) {
                throw ValidationError("--grid \(axis.key): \(twice) is given twice")
            }
        }
        if let both = settings.first(where: { keys.contains($0.key) }) { throw ValidationError("\(both.key) is both --set and --grid") }
        guard (1...1_000_000).contains(batchSize) else { throw ValidationError("--batch-size must be between 1 and 1000000") }
        if batchSize != 32, !custom.given { throw ValidationError("--batch-size is for your own model (--model); the built-in tasks train with 32") }
        if custom.given, preset != nil { throw ValidationError("--preset sets the built-in tasks' budgets; a study of your model takes --epochs and --batch-size") }
        if custom.given, taskNames != StudyTask.allValueStrings { throw ValidationError("--tasks and --model exclude each other: a study of your model has one task") }

    }

    func run() throws {
        let sweep = StudyPlan.Sweep(fixed: settings.map { StudyPlan.Setting($0.key, $0.value) }, grid: grid.map(\.axis), learningRates: lrSweep)
        let plan: StudyPlan
        do {
            if let customTask = try custom.task(defaultName: name) {
                plan = try StudyPlan(custom: customTask, name: name ?? "study-\(customTask.name)", optimizers: optimizers, seeds: seeds,
                                     epochs: epochs, batchSize: batchSize, sweep: sweep)
            } else {
                plan = try StudyPlan(preset: preset ?? .quick, name: name, tasks: tasks, optimizers: optimizers, seeds: seeds, epochs: epochs, sweep: sweep)
            }
        } catch let error as EngineError {
            throw CleanError("\(error)")
        }
        if listCells {
            let printer = RowPrinter(columns: ["cell", "task", "optimizer", "settings", "seed", "epochs"], format: format)
            print(
                printer.render(
                    plan.cells.enumerated().map { i, c in
                        [.integer(i), .text(c.taskName), .text(c.optimizer), .text(c.settings.map(\.description).joined(separator: " ")),
                         .text(String(c.seed)), .integer(c.epochs)]
                    }), terminator: "")
            return
        }
        var runner = StudyRunner(plan: plan, store: try store.open(), storePath: store.resolvedPath, dataDir: dataDir)
        runner.shard = cell.map { ($0, of!) }
        runner.jobs = jobs
        let reader = runner.store.reader
        let progress = StudyProgress(jobs: jobs, bestValLoss: { (try? reader.run($0))??.bestValLoss })
        runner.report = { progress.message($0) }
        runner.observe = { progress.handle($0) }
        runner.shouldStop = { Interruption.requested }
        Interruption.install()
        let outcome: StudyRunner.Outcome
        do {
            defer { progress.finish() }
            outcome = try runner.run()
        }
        // The results table as `best --study` prints it (with seeds: mean ± sd and a tested winner).
        let summaries = try reader.seedSummaries(BestQuery(study: plan.name))
        TaskInfo.register(reader)
        let tasks = TaskInfo.ordered(plan.custom.map { [$0.name] } ?? plan.tasks.map(\.rawValue))
        let lower: (String) -> (Double, Double) -> Bool = { _ in { $0 < $1 } }
        print(
            summaries.contains(where: { $0.n > 1 }) || !plan.sweep.isEmpty
                ? (format == .table || format == .markdown
                    ? SeedTables.wide(summaries, tasks: tasks, statistic: .mean, better: lower, format: format)
                    : SeedTables.long(summaries, keys: ["task", "optimizer"], metric: "val_loss", statistic: .mean, better: lower, format: format))
                : BestTable.render(try reader.best(BestQuery(study: plan.name)), tasks: tasks, optimizers: plan.optimizers, format: format),
            terminator: "")
        if Interruption.requested { throw ExitCode(Interruption.exitCode) }
        if outcome.failures > 0 { throw CleanError("\(outcome.failures) cell(s) did not complete; run the study again to resume them") }
    }
}
