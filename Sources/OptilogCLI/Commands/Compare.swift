import ArgumentParser
import Foundation
import Engine
import Store

/// `optilog compare`: runs side by side, epoch by epoch.
struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Runs side by side, epoch by epoch (one column per run).",
        discussion: """
            Give run ids (or uid prefixes), or --task to compare each optimizer's best run of that task. \
            The best value of each epoch is marked * (and in colour on a terminal) for losses and metrics \
            of runs of one task; gradient norms, learning rates and timings have no best. Examples:
              optilog compare 3 7 12 --metric loss
              optilog compare --task imdb --study study-quick --format csv
            """)

    @Argument(help: ArgumentHelp("Runs: ids or uid prefixes.", valueName: "run")) var references: [String] = []
    @Option(help: "Each optimizer's best run of this task.") var task: String?
    @Option(help: "With --task: only runs of this study.") var study: String?
    @Option(help: ArgumentHelp("Only runs on this data set: a part of its name, or the start of its fingerprint.", valueName: "TEXT"))
    var dataset: String?
    @Option(help: "The column: \(Epoch.Columns.allValueStrings.joined(separator: ", ")).") var metric: Epoch.Columns = .valLoss
    @Option(help: "Output format: table, csv, tsv, json, ndjson, markdown.") var format: OutputFormat = .table
    @OptionGroup var store: StoreOptions

    func validate() throws {
        guard Lists.flatten(references).isEmpty != (task == nil) else { throw ValidationError("give runs or --task, not both (and not neither)") }
    }

    func run() throws {
        let reader = try ReadOnlyStore(path: store.resolvedPath)
        TaskInfo.register(reader)
        let task = self.task.map(Lists.taskName)
        let runs =
            try task.map { try reader.bestRuns(task: $0, study: study, dataset: dataset, optimizerOrder: Optimizers.names) }
            ?? Lists.flatten(references).map(reader.resolveRun)
        guard !runs.isEmpty else { throw CleanError("no runs with logged epochs for task \(task ?? "?")") }
        let series = try reader.curves(runs, column: metric)
        if let note = Self.acrossTasks(series, metric: metric) { warn("optilog: warning: \(note)") }
        print(Self.render(series, metric: metric, format: format), terminator: "")
    }

    /// Runs of different tasks measure different things (MAE beside cross-entropy): said once.
    static func acrossTasks(_ series: [Curve], metric: Epoch.Columns) -> String? {
        let tasks = Array(Set(series.map(\.task))).sorted()
        guard tasks.count > 1, hasBest(metric) else { return nil }
        return "these runs are of different tasks (\(tasks.joined(separator: ", "))): their \(metric.rawValue) values are on different scales "
            + "and are not compared (no * marks)"
    }

    /// Whether a column has a better direction at all: losses and metrics do; gradient norms,
    /// the learning rate and timings are facts to read, not to win.
    static func hasBest(_ metric: Epoch.Columns) -> Bool { [.loss, .metric, .valLoss, .valMetric].contains(metric) }

    /// Epoch rows, one column per series; the row's best marked (lower is better except for
    /// accuracies, which the caller's metric decides) — only for losses and metrics of one task.
    static func render(_ series: [Curve], metric: Epoch.Columns, format: OutputFormat) -> String {
        let epochs = Array(Set(series.flatMap { $0.points.map(\.epoch) })).sorted()
        let lookup = series.map { Dictionary($0.points.map { ($0.epoch, $0.value) }, uniquingKeysWith: { a, _ in a }) }
        let higherIsBetter = metric.higherIsBetter(task: series.first?.task)
        var marked: Set<[Int]> = []
        let machine = format == .json || format == .ndjson || format == .csv || format == .tsv
        let rows: [[RowPrinter.Cell]] = epochs.enumerated().map { r, epoch in
            let values = lookup.map { $0[epoch] }
            let best = values.compactMap { $0 }.reduce(nil as Double?) { b, v in b.map { higherIsBetter ? max($0, v) : min($0, v) } ?? v }
            return [.integer(epoch)]
                + values.enumerated().map { c, value in
                    guard let value else { return .null }
                    if machine || series.count < 2 || !hasBest(metric) || Set(series.map(\.task)).count > 1 { return .number(value, digits: 6) }
                    if value == best { marked.insert([r, c + 1]) }
                    return .text(String(format: "%.6f", value) + (value == best ? " *" : "  "))
                }
        }
        return RowPrinter(columns: ["epoch"] + series.map(\.label), format: format, emphasis: marked).render(rows)
    }
}
