import ArgumentParser
import Basics
import Engine
import Foundation
import Store

/// `optilog sensitivity`: how each optimizer's best result moves with a setting (the learning
/// rate by default) over a sweep — one line per optimizer, x on a log scale.
struct Sensitivity: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Best val_loss against a swept setting (learning_rate by default), per optimizer and task.",
        discussion: """
            Reads the runs of a sweep (study --lr-sweep N, or --grid learning_rate=…): for each task, \
            optimizer and value, the mean (--stat) of the runs' best values over seeds. Prints a chart \
            per task and the rows; --svg writes the charts; --format csv|json|… prints the rows only. Examples:
              optilog study --preset quick --tasks boston --lr-sweep 5 --db sweep.sqlite
              optilog sensitivity --db sweep.sqlite
              optilog sensitivity --task boston --svg boston-lr.svg --db sweep.sqlite
            """)

    @Option(help: "Only this task.") var task: StudyTask?
    @Option(help: ArgumentHelp("The swept setting, by its Keras name.", valueName: "KEY")) var setting: String = "learning_rate"
    @Option(help: "A per-epoch column (each run's best of it).") var metric: Epoch.Columns = .valLoss
    @Option(help: "Only the runs of this study (by name).") var study: String?
    @Option(help: ArgumentHelp("Only runs on this data set: a part of its name, or the start of its fingerprint.", valueName: "TEXT"))
    var dataset: String?
    @Option(help: "The number per point over seeds: mean, median, min or max.") var stat: SeedStatistic = .mean
    @Option(help: ArgumentHelp("Write the charts as one SVG file (one figure per task).", valueName: "FILE")) var svg: String?
    @Flag(help: "Overwrite the output file even if it is an SQLite database (never the log itself).") var force = false
    @Option(help: "Output format of the rows: table, csv, tsv, json, ndjson, markdown.") var format: OutputFormat = .table
    @OptionGroup var store: StoreOptions

    func validate() throws {
        do { try RunFilter.checkGroupKey(setting) } catch { throw ValidationError("--setting: \(error)") }
        guard !["task", "optimizer", "seed", "study"].contains(setting) else { throw ValidationError("--setting names an optimizer setting, e.g. learning_rate") }
    }

    /// One point: a task (on one comparison), an optimizer, a value of the setting, its seeds;
    /// `others`, the optimizer's other settings where they vary too (one line each).
    struct Point {
        var cell: SeedSummary
        var value: Double
        var others = ""
        var line: String { cell.optimizer + (others.isEmpty ? "" : " " + others) }
    }

    static func points(_ reader: ReadOnlyStore, setting: String, metric: Epoch.Columns, study: String?, dataset: String?,
                       task: StudyTask?) throws -> [Point] {
        // Each run's best: the lowest loss, MAE or norm; the highest accuracy.
        TaskInfo.register(reader)
        let minimized = Set(TaskInfo.all.filter { !metric.higherIsBetter(task: $0.rawValue) }.map(\.rawValue))
        let query = BestQuery(metric: metric, groupBy: ["task", "optimizer", setting], study: study, dataset: dataset,
                              minimizedTasks: metric == .valLoss ? nil : minimized)
        let cells = try reader.seedSummaries(query).filter { task == nil || $0.task == task?.rawValue }
        return cells.compactMap { cell in
            guard cell.group.count == 3, let v = cell.group[2].double, v.isFinite else { return nil }
            let siblings = cells.filter { $0.task == cell.task && $0.optimizer == cell.optimizer && $0.comparison == cell.comparison }
            return Point(cell: cell, value: v, others: SeedTables.distinguishingSettings(cell, in: siblings, except: setting))
        }
    }

    /// One chart per task and comparison, for the tasks where some optimizer ran two values or more.
    static func charts(_ points: [Point], setting: String, metric: Epoch.Columns, stat: SeedStatistic) -> [LineChart] {
        var order: [String] = []
        var byRow: [String: [Point]] = [:]
        for p in points {
            let key = "\(p.cell.task)|\(p.cell.comparison?.key ?? "")"
            if byRow[key] == nil { order.append(key) }
            byRow[key, default: []].append(p)
        }
        let labelled = Set(order.map { $0.split(separator: "|").first! }).count < order.count
        return order.compactMap { key in
            let row = byRow[key]!
            var lines: [String] = []
            for p in row where !lines.contains(p.line) { lines.append(p.line) }
            lines = lines.filter { l in row.filter { $0.line == l }.count > 1 }
            guard !lines.isEmpty else { return nil }
            // A log scale for positive values spanning a decade or more (learning rates).
            let values = row.map(\.value)
            let log = values.allSatisfy { $0 > 0 } && values.max()! >= 10 * values.min()!
            let first = row[0].cell
            let title = "\(first.task)\(labelled ? " (\(first.comparison?.label ?? ""))" : "") — best \(metric.rawValue) (\(stat.rawValue) over seeds) against \(setting)"
            return LineChart(
                title: title, xLabel: setting, yLabel: metric.rawValue,
                lines: lines.map { l in
                    let mine = row.filter { $0.line == l }.sorted { $0.value < $1.value }
                    let x = { (p: Point) in log ? log10(p.value) : p.value }
                    return LineChart.Line(
                        label: l, slot: OptimizerOrder.slot(mine[0].cell.optimizer), points: mine.map { (x($0), $0.cell.value(stat)) },
                        band: mine.compactMap { p in p.cell.sd.map { (x(p), p.cell.mean - $0, p.cell.mean + $0) } })
                },
                logX: log)
        }
    }

    func run() throws {
        let reader = try ReadOnlyStore(path: store.resolvedPath)
        let setting = self.setting.lowercased()
        try reader.checkKeys([setting])
        let points = try Self.points(reader, setting: setting, metric: metric, study: study, dataset: dataset, task: task)
        let charts = Self.charts(points, setting: setting, metric: metric, stat: stat)
        guard !charts.isEmpty else {
            throw CleanError("no optimizer ran with two numeric values of \(setting) or more\(task.map { " on \($0.rawValue)" } ?? "")"
                + "\(study.map { " in study \($0)" } ?? ""); sweep one with: optilog study --lr-sweep 5 (or --grid \(setting)=V1,V2,…)")
        }
        if let svg {
            let page = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"720\" height=\"\(400 * charts.count)\">\n"
                + charts.enumerated().map { i, c in "<g transform=\"translate(0 \(400 * i))\">\n" + c.svg() + "</g>\n" }.joined() + "</svg>\n"
            try OutputFile(path: svg, store: store.resolvedPath, force: force).write(page, what: "\(charts.count) figure\(charts.count == 1 ? "" : "s")")
            return
        }
        if format == .table {
            for chart in charts { print(chart.terminal(color: Terminal.colorEnabled(for: .table))) }
        }
        let labelled = Set(points.map { "\($0.cell.task)|\($0.cell.comparison?.key ?? "")" }).count > Set(points.map(\.cell.task)).count
        let others = points.contains { !$0.others.isEmpty }
        let printer = RowPrinter(
            columns: ["task", "optimizer", setting, "\(metric.rawValue) (\(stat.rawValue))", "n", "sd", "runs"] + (others ? ["other_settings"] : [])
                + (labelled ? ["comparison"] : []),
            format: format)
        print(
            printer.render(
                points.map { p in
                    [.text(p.cell.task), .text(p.cell.optimizer), .number(p.value, digits: 6), .number(p.cell.value(stat), digits: 6),
                     .integer(p.cell.n), .optional(p.cell.sd), .text(p.cell.runs.map(String.init).joined(separator: " "))]
                        + (others ? [.text(p.others)] : []) + (labelled ? [.text(p.cell.comparison?.label ?? "")] : [])
                }), terminator: "")
    }
}
