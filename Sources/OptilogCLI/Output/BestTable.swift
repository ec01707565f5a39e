import Engine
import Store

/// The results table: one row per task, one column per optimizer, each cell the best value and
/// its epoch, the row's winner marked with * (and in colour on a terminal). A task whose runs
/// are on different data or budgets gets one row per comparison, labelled in a `data` column,
/// each with its own winner: no star spans two comparisons. Where the log has it, a `baseline`
/// column shows the trivial baseline (the training mean or class prior); a row where no
/// optimizer beats it gets no winner.
enum BestTable {
    static func render(
        _ rows: [BestResult], tasks: [TaskInfo], optimizers: [String], format: OutputFormat, metric: Epoch.Columns = .valLoss,
        better: (TaskInfo) -> (Double, Double) -> Bool = { _ in (<) }
    ) -> String {
        let labelled = BestQuery.spansComparisons(rows)
        let lines = Self.lines(rows, tasks: tasks)
        let baselines = lines.map { $0.comparison?.baseline(metric) }
        let showBaseline = baselines.contains { $0 != nil }
        var winners: Set<[Int]> = []
        var unbeaten: [String] = []
        let first = 1 + (labelled ? 1 : 0) + (showBaseline ? 1 : 0)
        // Files and scripts get numbers: a value column and an epoch column per optimizer, and the
        // winner by name (a table shows `3.3247 (e20) *`).
        let machine = format != .table && format != .markdown
        let printed: [[RowPrinter.Cell]] = lines.enumerated().map { r, line in
            let isBetter = better(line.task)
            let best = line.cells.map(\.value).reduce(nil as Double?) { b, v in b.map { isBetter(v, $0) ? v : $0 } ?? v }
            // A winner must beat the baseline too.
            let beats = best.map { b in baselines[r].map { isBetter(b, $0) } ?? true } ?? false
            if best != nil, !beats { unbeaten.append(line.task.rawValue + (labelled ? " (\(line.comparison?.label ?? ""))" : "")) }
            var head: [RowPrinter.Cell] = [.text(line.task.rawValue)]
            if labelled { head.append(.text(line.comparison?.label ?? "")) }
            if showBaseline {
                head.append(baselines[r].map { machine ? .number($0, digits: 6) : .text(String(format: "%.4f", $0)) } ?? .text("–"))
            }
            var winner = ""
            let cells = optimizers.enumerated().flatMap { c, optimizer -> [RowPrinter.Cell] in
                guard let cell = line.cells.first(where: { $0.optimizer == optimizer }) else { return machine ? [.null, .null] : [.text("–")] }
                let wins = cell.value == best && beats
                if wins { winners.insert([r, c + first]); winner = optimizer }
                if machine { return [.number(cell.value, digits: 6), .integer(cell.epoch)] }
                return [.text(String(format: "%.4f (e%d)%@", cell.value, cell.epoch, wins ? " *" : ""))]
            }
            return head + cells + (machine ? [.text(winner)] : [])
        }
        let columns = ["task"] + (labelled ? ["data"] : []) + (showBaseline ? ["baseline"] : [])
            + (machine ? optimizers.flatMap { [$0, "\($0)_epoch"] } + ["winner"] : optimizers)
        let table = RowPrinter(columns: columns, format: format, emphasis: winners).render(printed)
        guard format == .table || format == .markdown else { return table }
        return table + Caption.lines(metric: metric, tasks: lines.map(\.task), bracket: "best epoch",
                                     higherIsBetter: { better($0)(1, 0) }, baseline: showBaseline, unbeaten: unbeaten)
    }

    /// The table's rows: each task, split by comparison where its runs span several.
    static func lines(_ rows: [BestResult], tasks: [TaskInfo]) -> [(task: TaskInfo, comparison: Comparison?, cells: [BestResult])] {
        tasks.flatMap { task -> [(task: TaskInfo, comparison: Comparison?, cells: [BestResult])] in
            let cells = rows.filter { $0.task == task.rawValue }
            let comparisons = Array(Set(cells.compactMap(\.comparison))).sorted()
            guard comparisons.count > 1 else { return [(task, comparisons.first, cells)] }
            return comparisons.map { c in (task, c, cells.filter { $0.comparison == c }) }
        }
    }
}

/// What a results table shows, said under it: the metric and each task's unit, which way is
/// better, what the baseline is, and the rows no optimizer won.
enum Caption {
    static func unit(_ task: TaskInfo, _ metric: Epoch.Columns) -> String {
        let loss = task.lossUnit
        switch metric {
        case .loss, .valLoss: return loss
        case .metric, .valMetric: return !task.metric.higherIsBetter ? "\(task.metric.rawValue) (\(task.metric == .meanAbsoluteError && task.lossUnit.hasPrefix("MAE") ? loss : "same unit as the targets"))" : "\(task.metric.rawValue), a fraction"
        default: return metric.rawValue
        }
    }

    /// `bracket`: what the brackets after each value hold; `higherIsBetter`: the table's
    /// direction per task (the metric's own, or `--mode`).
    static func lines(metric: Epoch.Columns, tasks: [TaskInfo], bracket: String, higherIsBetter: (TaskInfo) -> Bool,
                      baseline: Bool, unbeaten: [String]) -> String {
        var seen: [TaskInfo] = []
        for t in tasks where !seen.contains(t) { seen.append(t) }
        let units = seen.map { t in "\(t.rawValue): \(unit(t, metric)), \(higherIsBetter(t) ? "higher" : "lower") is better" }
        var text = "\(metric.rawValue), \(bracket) in brackets — " + units.joined(separator: "; ") + "\n"
        if baseline {
            text += "baseline: predicting the training mean (regression) or class prior (classification) on the validation data; "
                + "a winner (*) must beat it\n"
        }
        if !unbeaten.isEmpty { text += "no optimizer beats the baseline, so no winner: " + unbeaten.joined(separator: "; ") + "\n" }
        return text
    }
}
