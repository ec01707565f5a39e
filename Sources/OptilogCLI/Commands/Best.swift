import ArgumentParser
import Engine
import Foundation
import Store

/// `optilog best`: the study's results table from the log.
struct Best: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The results table: per task and optimizer, the best value of a metric (and its epoch).",
        discussion: """
            By default one row per task, one column per optimizer, each cell the best val_loss and its \
            epoch, the row's winner marked *. --by groups by other keys (then one row per group), \
            --where filters runs, --long prints one row per group with its run. Examples:
              optilog best --metric val_metric
              optilog best --by task,optimizer,learning_rate --where "task=imdb, optimizer=adam|nadam"
              optilog best --where "learning_rate<=0.01 and status=completed" --long
            --where: clauses joined by , or and; operators = != < <= > >= ~ (contains); a|b for one of \
            several values. Keys: task, optimizer, status, seed, batch_size, epochs_done, best_val_loss, \
            dataset, host, study, id, or any optimizer setting by its Keras name (learning_rate, momentum, …).
            """)

    enum Mode: String, ExpressibleByArgument { case min, max }

    @Option(help: "A per-epoch column: \(Epoch.Columns.allValueStrings.joined(separator: ", ")).") var metric: Epoch.Columns = .valLoss
    @Option(help: "min or max (default: min for losses, MAE, norms and times; max for accuracies and throughput).") var mode: Mode?
    @Option(parsing: .upToNextOption, help: ArgumentHelp("Group by these keys (a,b or a b).", valueName: "KEYS")) var by: [String] = ["task,optimizer"]
    @Option(name: .customLong("where"), help: ArgumentHelp("Only runs matching this filter.", valueName: "FILTER")) var filter: String?
    @Option(help: "Only the runs of this study (by name).") var study: String?
    @Option(help: ArgumentHelp("Only runs on this data set: a part of its name, or the start of its fingerprint.", valueName: "TEXT"))
    var dataset: String?
    @Flag(help: "One row per group, with the run and epoch.") var long = false
    @Option(help: "With several seeds per cell, the number shown: mean, median, min or max of the runs' best values.")
    var stat: SeedStatistic = .mean
    @Flag(help: "Rank the optimizers in each task (and comparison) and average the ranks across them.") var rank = false
    @Flag(help: "Each optimizer at its best setting of a sweep (chosen on this metric of the validation data), the setting named.")
    var tuned = false
    @Flag(help: "Only runs at each optimizer's Keras defaults (with --tuned: both tables, defaults first).") var defaults = false
    @Option(help: "Output format: table, csv, tsv, json, ndjson, markdown.") var format: OutputFormat = .table
    @OptionGroup var store: StoreOptions

    var groupKeys: [String] { Lists.flatten(by).map { $0.lowercased() } }

    func validate() throws {
        guard !groupKeys.isEmpty, !groupKeys.contains(where: \.isEmpty) else {
            throw ValidationError("--by needs one or more keys, e.g. task,optimizer")
        }
        do {
            for key in groupKeys { try RunFilter.checkGroupKey(key) }
            if let filter { _ = try RunFilter(filter) }
        } catch {
            throw ValidationError("\(error)")
        }
        if rank && groupKeys != ["task", "optimizer"] { throw ValidationError("--rank ranks optimizers within tasks: use it with the default --by") }
        if (tuned || defaults) && groupKeys != ["task", "optimizer"] {
            throw ValidationError("--tuned and --defaults compare optimizers within tasks: use them with the default --by")
        }
        if (tuned || defaults) && (rank || long) {
            throw ValidationError("--tuned and --defaults print their own tables; use them without --rank and --long")
        }
        if tuned && defaults && !(format == .table || format == .markdown) {
            throw ValidationError("--tuned with --defaults prints two tables; with --format \(format.rawValue) ask for one at a time")
        }
    }

    func run() throws {
        let reader = try ReadOnlyStore(path: store.resolvedPath)
        let filterKeys = try RunFilter(filter ?? "").clauses.map(\.key)
        try reader.checkKeys(groupKeys + filterKeys)
        // Which way is better for a task: --mode, or the metric's own direction there (losses,
        // MAE, norms and times go down, accuracies and throughput up).
        let (chosenMode, column) = (mode, metric)
        let higher: (String) -> Bool = { task in chosenMode.map { $0 == .max } ?? column.higherIsBetter(task: task) }
        let better: (String) -> (Double, Double) -> Bool = { higher($0) ? { $0 > $1 } : { $0 < $1 } }
        // val_loss downwards everywhere needs no per-task direction (the per-run best is kept).
        TaskInfo.register(reader)
        let everywhereLower = !TaskInfo.all.contains { higher($0.rawValue) }
        let query = BestQuery(
            metric: metric, groupBy: groupKeys, filter: try RunFilter(filter ?? ""), study: study, dataset: dataset,
            minimizedTasks: everywhereLower && metric == .valLoss ? nil : Set(TaskInfo.all.filter { !higher($0.rawValue) }.map(\.rawValue)))
        // Several seeds per cell: statistics, a test before a winner, ranks on request.
        var summaries = try reader.seedSummaries(query)
        if summaries.isEmpty {
            warn("optilog: note: no runs match" + (filter.map { " --where \"\($0)\"" } ?? "") + (study.map { " in study \($0)" } ?? "")
                 + (dataset.map { " on data \"\($0)\"" } ?? ""))
            // Files keep their header (a script reads an empty result); a table has nothing to show.
            if format == .table { return }
        }
        if defaults && !tuned { summaries = summaries.filter(SeedTables.isDefault) }
        if tuned || defaults {
            print(try protocols(summaries, better: better), terminator: "")
            return
        }
        if rank {
            print(SeedTables.ranks(summaries, statistic: stat, better: better, format: format), terminator: "")
            return
        }
        if summaries.contains(where: { $0.n > 1 }) {
            let wide = groupKeys == ["task", "optimizer"] && !long && (format == .table || format == .markdown)
            let tasks = TaskInfo.ordered(summaries.map(\.task))
            print(wide ? SeedTables.wide(summaries, tasks: tasks, statistic: stat, metric: metric, better: better, format: format)
                       : SeedTables.long(summaries, keys: groupKeys, metric: metric.rawValue, metricColumn: metric, statistic: stat, better: better, format: format),
                  terminator: "")
            return
        }
        let results = try reader.best(query)
        if groupKeys == ["task", "optimizer"] && !long {
            let tasks = TaskInfo.ordered(results.map(\.task))
            let optimizers = Optimizers.names.filter { o in results.contains { $0.optimizer == o } }
            print(
                BestTable.render(
                    results, tasks: tasks, optimizers: optimizers, format: format, metric: metric,
                    better: { better($0.rawValue) }), terminator: "")
            return
        }
        // Runs on different data or budgets are never one group: a column says which is which.
        let labelled = BestQuery.spansComparisons(results)
        let showBaseline = results.contains { $0.comparison?.baseline(metric) != nil }
        let printer = RowPrinter(
            columns: groupKeys + [metric.rawValue, "epoch", "run"] + (showBaseline ? ["baseline"] : []) + (labelled ? ["comparison"] : []),
            format: format)
        print(
            printer.render(
                results.map { r in
                    r.group.map(RowPrinter.Cell.init) + [.number(r.value, digits: 6), .integer(r.epoch), .integer(Int(r.run))]
                        + (showBaseline ? [.optional(r.comparison?.baseline(metric))] : [])
                        + (labelled ? [.text(r.comparison?.label ?? "")] : [])
                }), terminator: "")
    }

    /// `--tuned` and `--defaults`: the tuning protocol of Crowded Valley — each optimizer at its
    /// defaults, and at its best setting of a sweep — as tables (or one as rows for scripts).
    func protocols(_ summaries: [SeedSummary], better: @escaping (String) -> (Double, Double) -> Bool) throws -> String {
        let tasks = TaskInfo.ordered(summaries.map(\.task))
        let atDefaults = summaries.filter(SeedTables.isDefault)
        if defaults && atDefaults.isEmpty { throw CleanError("no runs at an optimizer's default settings\(study.map { " in study \($0)" } ?? "")") }
        guard format == .table || format == .markdown else {
            let chosen = tuned ? SeedTables.rows(summaries).flatMap { SeedTables.bestSettings($0, statistic: stat, better: better($0[0].task)) } : atDefaults
            return SeedTables.long(chosen, keys: groupKeys, metric: metric.rawValue, metricColumn: metric, statistic: stat, better: better, format: format,
                                   settingsAmong: tuned ? summaries : nil)
        }
        var out = ""
        if defaults {
            out += "At Keras's defaults:\n" + SeedTables.wide(atDefaults, tasks: tasks, statistic: stat, metric: metric, better: better, format: format)
        }
        if tuned {
            if defaults { out += "\n" }
            let swept = Set(summaries.map { "\($0.task)|\($0.optimizer)|\($0.comparison?.key ?? "")" }).count < summaries.count
            out += "Tuned (each optimizer at the setting with the best \(stat.rawValue) \(metric.rawValue); chosen and reported on the same "
                + "validation data, so optimistic):\n" + SeedTables.wide(summaries, tasks: tasks, statistic: stat, metric: metric, better: better, format: format)
            if !swept { out += "no optimizer ran with more than one setting: nothing was tuned (study --grid or --lr-sweep sweeps settings)\n" }
        }
        return out
    }
}
