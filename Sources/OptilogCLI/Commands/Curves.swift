import ArgumentParser
import Engine
import Basics
import Foundation
import Store

/// `optilog curves`: a task's learning curves, one line per optimizer, in the terminal or as SVG.
struct Curves: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Learning curves of a task's runs: a chart in the terminal, or SVG with --svg.",
        discussion: """
            By default each optimizer's best run of the task (by val_loss); --runs picks runs. Examples:
              optilog curves --task fashion_mnist
              optilog curves --task jena --metric loss --log-y --svg jena-loss.svg
              optilog curves --runs 3,4,9 --metric grad_norm_mean
            """)

    @Option(help: "The task (its optimizers' best runs).") var task: String?
    @Option(parsing: .upToNextOption, help: ArgumentHelp("These runs instead (ids or uid prefixes: a,b or a b).", valueName: "RUNS"))
    var runs: [String] = []
    @Option(help: "Only runs of this study.") var study: String?
    @Option(help: ArgumentHelp("Only runs on this data set: a part of its name, or the start of its fingerprint.", valueName: "TEXT"))
    var dataset: String?
    @Option(help: "The column: \(Epoch.Columns.allValueStrings.joined(separator: ", ")).") var metric: Epoch.Columns = .valLoss
    @Flag(help: "Logarithmic y axis.") var logY = false
    @Option(help: ArgumentHelp("Write the chart as SVG to this file instead.", valueName: "FILE")) var svg: String?
    @Flag(help: "Overwrite the output file even if it is an SQLite database (never the log itself).") var force = false
    @Option(help: "Terminal chart width in characters.") var width: Int = 72
    @Option(help: "Terminal chart height in lines.") var height: Int = 18
    @OptionGroup var store: StoreOptions

    func validate() throws {
        guard (task == nil) != Lists.flatten(runs).isEmpty else { throw ValidationError("give --task or --runs (one of them)") }
        guard (10...1000).contains(width), (4...200).contains(height) else { throw ValidationError("--width 10…1000 and --height 4…200") }
    }

    func run() throws {
        let reader = try ReadOnlyStore(path: store.resolvedPath)
        // Several seeds per cell: each optimizer's mean with its spread.
        let task = self.task.map(Lists.taskName)
        if let task, let seeded = try reader.seedCurves(task: task, study: study, dataset: dataset, column: metric, optimizerOrder: Optimizers.names) {
            try show(Self.chart(seeded, metric: metric, title: "\(task) — \(metric.rawValue), mean ± sd over seeds", logY: logY))
            return
        }
        let ids =
            try task.map { try reader.bestRuns(task: $0, study: study, dataset: dataset, optimizerOrder: Optimizers.names) }
            ?? Lists.flatten(runs).map { try reader.resolveRun($0) }
        guard !ids.isEmpty else { throw CleanError("no runs with logged epochs for task \(task ?? "?")") }
        let series = try reader.curves(ids, column: metric)
        if let note = Compare.acrossTasks(series, metric: metric) { warn("optilog: warning: \(note.replacingOccurrences(of: " (no * marks)", with: ""))") }
        try show(Self.chart(series, metric: metric, title: "\(task ?? "runs") — \(metric.rawValue)", logY: logY))
    }

    func show(_ chart: LineChart) throws {
        if let svg {
            try OutputFile(path: svg, store: store.resolvedPath, force: force).write(chart.svg(), what: "\(chart.lines.count) series")
        } else {
            print(chart.terminal(width: width, height: height, color: Terminal.colorEnabled(for: .table)), terminator: "")
        }
    }

    /// Mean lines with a band of ± one standard deviation (where an epoch has two runs or more).
    static func chart(_ series: [SeedCurve], metric: Epoch.Columns, title: String, logY: Bool) -> LineChart {
        LineChart(
            title: title, xLabel: "epoch", yLabel: metric.rawValue,
            lines: series.map { curve in
                let n = curve.runs.count
                return LineChart.Line(
                    label: "\(curve.optimizer) (mean of \(n) seed\(n == 1 ? "" : "s"))", slot: OptimizerOrder.slot(curve.optimizer),
                    points: curve.points.map { (Double($0.epoch), $0.mean) },
                    band: curve.points.compactMap { p in p.sd.map { (Double(p.epoch), p.mean - $0, p.mean + $0) } })
            },
            logY: logY)
    }

    static func chart(_ series: [Curve], metric: Epoch.Columns, title: String, logY: Bool) -> LineChart {
        let labels = legend(series)
        return LineChart(
            title: title, xLabel: "epoch", yLabel: metric.rawValue,
            lines: zip(series, labels).map { curve, label in
                LineChart.Line(label: label, slot: OptimizerOrder.slot(curve.optimizer), points: curve.points.map { (Double($0.epoch), $0.value) })
            },
            logY: logY)
    }

    /// What a figure's legend calls each curve: its optimizer, then the settings that tell it
    /// from the other curves of that optimizer (`sgd learning_rate=0.1`), then — only when two
    /// would still read alike (seeds, tasks) — its run (`adam (run 12)`).
    static func legend(_ series: [Curve]) -> [String] {
        let configs = series.map { (try? ConfigValue.parse($0.settings)) ?? .object([]) }
        let labels = series.indices.map { i -> String in
            guard case .object(let pairs) = configs[i] else { return series[i].optimizer }
            let siblings = series.indices.filter { $0 != i && series[$0].optimizer == series[i].optimizer }.map { configs[$0] }
            let differing = pairs.filter { key, value in key != "name" && siblings.contains { $0[key] != value } }
            return ([series[i].optimizer] + differing.map { "\($0.0)=\(SeedTables.settingText($0.1))" }).joined(separator: " ")
        }
        return labels.enumerated().map { i, label in
            labels.filter { $0 == label }.count > 1 || Set(series.map(\.task)).count > 1 && series.filter({ $0.optimizer == series[i].optimizer }).count > 1
                ? label + " (run \(series[i].run))" : label
        }
    }
}
