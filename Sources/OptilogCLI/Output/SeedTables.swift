import ArgumentParser
import Basics
import Engine
import Foundation
import Store

extension SeedStatistic: ExpressibleByArgument {}

/// `best` when cells hold several seeds: the number each cell stands for (`--stat`), its spread
/// and count, and a winner only beyond the seeds' noise (Welch's t-test, p < 0.05, against each
/// other cell of its row) and only if it beats the row's baseline; cells that cannot be told
/// from the best are marked tied (~). The table, the files and the report judge a row alike.
enum SeedTables {
    /// Rows: the cells of one comparison (a task on one data set and budget).
    static func rows(_ cells: [SeedSummary]) -> [[SeedSummary]] {
        var order: [String] = []
        var rows: [String: [SeedSummary]] = [:]
        for cell in cells {
            let key = cell.comparison?.key ?? cell.task
            if rows[key] == nil { order.append(key) }
            rows[key, default: []].append(cell)
        }
        return order.map { rows[$0]! }
    }

    /// A row judged: each optimizer at its best setting (`chosen`) with its verdict, every cell
    /// (all settings) with its verdict against the best, and whether the best beats the baseline.
    struct Judged {
        var chosen: [SeedSummary]
        var verdicts: [(verdict: SeedVerdict, p: Double?)]
        var all: [(cell: SeedSummary, verdict: SeedVerdict, p: Double?)]
        var baseline: Double?
        var beatsBaseline: Bool
    }

    static func judge(_ row: [SeedSummary], statistic: SeedStatistic, metric: Epoch.Columns, better: (Double, Double) -> Bool) -> Judged {
        let chosen = bestSettings(row, statistic: statistic, better: better)
        var verdicts = ReadOnlyStore.verdicts(chosen, statistic: statistic, better: better)
        let baseline = row.compactMap { $0.comparison?.baseline(metric) }.first
        let top = chosen.map { $0.value(statistic) }.min(by: better)
        let beats = top.map { t in baseline.map { better(t, $0) } ?? true } ?? false
        // No winner, and nothing tied with it, when the best does not beat the baseline.
        if !beats { verdicts = verdicts.map { (.behind, $0.p) } }
        let bestCell = verdicts.indices.first { [.winner, .tied, .best].contains(verdicts[$0].verdict) }.map { chosen[$0] }
        let all = row.map { cell -> (cell: SeedSummary, verdict: SeedVerdict, p: Double?) in
            if let i = chosen.firstIndex(of: cell) { return (cell, verdicts[i].verdict, verdicts[i].p) }
            // Another setting of an optimizer: against the row's best.
            guard let bestCell, beats else { return (cell, .behind, nil) }
            let p = Welch.test(bestCell.values, cell.values)?.p
            let apart = (p.map { $0 < Welch.alpha } ?? false) && better(bestCell.mean, cell.mean)
            return (cell, apart || cell.n == 1 && bestCell.n == 1 ? .behind : .tied, p)
        }
        return Judged(chosen: chosen, verdicts: verdicts, all: all, baseline: baseline, beatsBaseline: beats)
    }

    static func text(_ cell: SeedSummary, _ statistic: SeedStatistic) -> String {
        let sd = cell.sd.map { String(format: " ± %.4f", $0) } ?? ""
        return String(format: "%.4f", cell.value(statistic)) + sd + " (\(cell.n))"
    }

    static func mark(_ verdict: SeedVerdict) -> String {
        switch verdict {
        case .winner, .best: return " *"
        case .tied: return " ~"
        case .behind: return ""
        }
    }

    static func rowLabel(_ row: [SeedSummary], labelled: Bool) -> String {
        row[0].task + (labelled ? " (\(row[0].comparison?.label ?? ""))" : "")
    }

    /// The settings (but `except`) that tell a cell from the optimizer's other cells in its row,
    /// e.g. `learning_rate=0.01` (empty when the optimizer ran with one configuration).
    static func distinguishingSettings(_ cell: SeedSummary, in row: [SeedSummary], except: String? = nil) -> String {
        let siblings = row.filter { $0.optimizer == cell.optimizer }
        guard siblings.count > 1, case .object(let pairs)? = try? ConfigValue.parse(cell.settings) else { return "" }
        let others = siblings.compactMap { try? ConfigValue.parse($0.settings) }
        return pairs.filter { key, value in key != except && others.contains { $0[key] != value } }
            .map { key, value in "\(key)=\(settingText(value))" }.joined(separator: " ")
    }

    /// A setting as a user types it: Keras keeps numbers as float32, so 0.1 reads back as
    /// 0.10000000149011612; the float's shortest text is what was asked for.
    static func settingText(_ value: ConfigValue) -> String {
        switch value {
        case .number(let d): if let f = Float(exactly: d), f.isFinite { return "\(f)" } else { return value.json }
        case .array(let items): return "[" + items.map(settingText).joined(separator: ", ") + "]"
        case .object(let pairs): return "{" + pairs.map { ConfigValue.string($0.0).json + ": " + settingText($0.1) }.joined(separator: ", ") + "}"
        default: return value.json
        }
    }

    /// Is this cell's configuration the optimizer's own defaults (Keras 3's)?
    static func isDefault(_ cell: SeedSummary) -> Bool {
        guard let defaults = defaultConfigurations[cell.optimizer] else { return false }
        return (try? ConfigValue.parse(cell.settings)) == defaults
    }

    /// Each optimizer's Keras defaults, built once rather than once per cell.
    static let defaultConfigurations: [String: ConfigValue] = Dictionary(
        uniqueKeysWithValues: Optimizers.names.compactMap { name in (try? Optimizers.make(name, settings: []).config).map { (name, $0) } })

    /// Task × optimizer, for reading: `mean ± sd (n)` with * or ~ (and, when an optimizer ran
    /// with several settings, the one shown).
    static func wide(_ cells: [SeedSummary], tasks: [TaskInfo], statistic: SeedStatistic, metric: Epoch.Columns = .valLoss,
                     better: (String) -> (Double, Double) -> Bool, format: OutputFormat) -> String {
        let optimizers = Optimizers.names.filter { o in cells.contains { $0.optimizer == o } }
        let grouped = rows(cells)
        let ordered = tasks.flatMap { task in grouped.filter { $0[0].task == task.rawValue } }
        let labelled = Set(ordered.map { $0[0].task }).count < ordered.count
        let judged = ordered.map { judge($0, statistic: statistic, metric: metric, better: better($0[0].task)) }
        let showBaseline = judged.contains { $0.baseline != nil }
        var emphasis: Set<[Int]> = []
        let first = 1 + (labelled ? 1 : 0) + (showBaseline ? 1 : 0)
        let lines: [[RowPrinter.Cell]] = judged.enumerated().map { r, row in
            var head: [RowPrinter.Cell] = [.text(row.chosen[0].task)]
            if labelled { head.append(.text(row.chosen[0].comparison?.label ?? "")) }
            if showBaseline { head.append(.text(row.baseline.map { String(format: "%.4f", $0) } ?? "–")) }
            return head + optimizers.enumerated().map { c, optimizer in
                guard let i = row.chosen.firstIndex(where: { $0.optimizer == optimizer }) else { return .text("–") }
                if row.verdicts[i].verdict == .winner || row.verdicts[i].verdict == .best { emphasis.insert([r, c + first]) }
                let setting = distinguishingSettings(row.chosen[i], in: ordered[r])
                return .text(text(row.chosen[i], statistic) + mark(row.verdicts[i].verdict) + (setting.isEmpty ? "" : " @ " + setting))
            }
        }
        let several = ordered.contains { row in Set(row.map(\.optimizer)).count < row.count }
        let note = "\(statistic.rawValue) ± sd (n seeds) of each run's best; * best beyond the seeds' spread "
            + "(Welch's t-test, p < \(Welch.alpha)), ~ not separable from the best"
            + (several ? "; an optimizer run with several settings shows its best (@ the setting, chosen on this \(metric.rawValue) "
                + "of the validation data; --long lists them all)" : "") + "\n"
        let columns = ["task"] + (labelled ? ["data"] : []) + (showBaseline ? ["baseline"] : []) + optimizers
        let unbeaten = zip(ordered, judged).filter { !$0.1.beatsBaseline }.map { rowLabel($0.0, labelled: labelled) }
        return RowPrinter(columns: columns, format: format, emphasis: emphasis).render(lines) + note
            + Caption.lines(metric: metric, tasks: ordered.compactMap { TaskInfo.named($0[0].task) }, bracket: "n seeds",
                            higherIsBetter: { better($0.rawValue)(1, 0) }, baseline: showBaseline, unbeaten: unbeaten)
    }

    /// Of an optimizer's cells in a row (one per configuration), the one with the best statistic.
    static func bestSettings(_ row: [SeedSummary], statistic: SeedStatistic, better: (Double, Double) -> Bool) -> [SeedSummary] {
        var chosen: [String: SeedSummary] = [:]
        var order: [String] = []
        for cell in row {
            if let current = chosen[cell.optimizer] {
                if better(cell.value(statistic), current.value(statistic)) { chosen[cell.optimizer] = cell }
            } else {
                chosen[cell.optimizer] = cell
                order.append(cell.optimizer)
            }
        }
        return order.map { chosen[$0]! }
    }

    /// One row per cell with its statistics and verdict, for files and scripts.
    /// `settingsAmong`: the cells are each optimizer's choice among these (`--tuned`): a `setting`
    /// column names what tells the chosen one from the others.
    static func long(_ cells: [SeedSummary], keys: [String], metric: String, metricColumn: Epoch.Columns = .valLoss, statistic: SeedStatistic,
                     better: (String) -> (Double, Double) -> Bool, format: OutputFormat, settingsAmong: [SeedSummary]? = nil) -> String {
        let key = { (c: SeedSummary) in "\(c.group)|\(c.comparison?.key ?? "")" }
        // A group in two comparisons needs its comparison named; two cells of one group and
        // comparison differ in their settings, which are named then.
        let labelled = Set(cells.map(key)).count > Set(cells.map { "\($0.group)" }).count
        let settings = Set(cells.map(key)).count < cells.count
        let judged = rows(cells).map { judge($0, statistic: statistic, metric: metricColumn, better: better($0[0].task)) }
        let showBaseline = judged.contains { $0.baseline != nil }
        var lines: [[RowPrinter.Cell]] = []
        for row in judged {
            for (cell, verdict, p) in row.all {
                var line: [RowPrinter.Cell] = cell.group.map(RowPrinter.Cell.init)
                line.append(.number(cell.value(statistic), digits: 6))
                line.append(.integer(cell.n))
                line.append(.number(cell.mean, digits: 6))
                line.append(.optional(cell.sd))
                line.append(.number(cell.median, digits: 6))
                line.append(.optional(cell.values.min()))
                line.append(.optional(cell.values.max()))
                line.append(.text(verdict.rawValue))
                line.append(.optional(p))
                line.append(.text(cell.runs.map(String.init).joined(separator: " ")))
                if showBaseline { line.append(.optional(row.baseline)) }
                if labelled { line.append(.text(cell.comparison?.label ?? "")) }
                if settings { line.append(.text(cell.settings)) }
                if let among = settingsAmong {
                    line.append(.text(distinguishingSettings(cell, in: among.filter { $0.task == cell.task && $0.comparison == cell.comparison })))
                }
                lines.append(line)
            }
        }
        let columns = keys + ["\(metric) (\(statistic.rawValue))", "n", "mean", "sd", "median", "min", "max", "verdict", "p_vs_best", "runs"]
            + (showBaseline ? ["baseline"] : []) + (labelled ? ["comparison"] : []) + (settings ? ["optimizer_configuration"] : [])
            + (settingsAmong != nil ? ["setting"] : [])
        return RowPrinter(columns: columns, format: format).render(lines)
    }

    /// Mean rank of each optimizer (at its best setting) over the rows (tasks × comparisons) it
    /// ran in; ties share the average of their ranks.
    static func ranks(_ cells: [SeedSummary], statistic: SeedStatistic, better: (String) -> (Double, Double) -> Bool,
                      format: OutputFormat) -> String {
        let table = rows(cells).map { bestSettings($0, statistic: statistic, better: better($0[0].task)) }
        let labelled = Set(table.map { $0[0].task }).count < table.count
        let labels = table.map { rowLabel($0, labelled: labelled) }
        var ranks: [String: [Int: Double]] = [:]
        for (r, row) in table.enumerated() {
            let isBetter = better(row[0].task)
            for cell in row {
                let v = cell.value(statistic)
                let ahead = row.filter { isBetter($0.value(statistic), v) }.count
                let same = row.filter { $0.value(statistic) == v }.count
                ranks[cell.optimizer, default: [:]][r] = Double(ahead) + Double(same + 1) / 2
            }
        }
        let optimizers = Optimizers.names.filter { ranks[$0] != nil } + ranks.keys.filter { !Optimizers.names.contains($0) }.sorted()
        let mean = { (o: String) in ranks[o]!.values.reduce(0, +) / Double(ranks[o]!.count) }
        let sorted = optimizers.sorted { (mean($0), Optimizers.names.firstIndex(of: $0) ?? 99) < (mean($1), Optimizers.names.firstIndex(of: $1) ?? 99) }
        let lines: [[RowPrinter.Cell]] = sorted.map { o in
            [.text(o), .number(mean(o), digits: 2), .integer(ranks[o]!.count)]
                + table.indices.map { r in ranks[o]![r].map { .number($0, digits: 1) } ?? .null }
        }
        return RowPrinter(columns: ["optimizer", "mean_rank", "rows"] + labels, format: format).render(lines)
    }
}
