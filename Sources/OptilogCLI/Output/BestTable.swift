import Engine
import Store

/// The results table: one row per task, one column per optimizer, each cell the best value and
/// its epoch, the row's winner marked with * (and in colour on a terminal). A task whose runs
/// are on different data or budgets gets one row per comparison, labelled in a `data` column,
/// each with its own winner: no star spans two comparisons.
enum BestTable {
    static func render(
        _ rows: [BestResult], tasks: [StudyTask], optimizers: [String], format: OutputFormat,
        better: (StudyTask) -> (Double, Double) -> Bool = { _ in (<) }
    ) -> String {
        let labelled = BestQuery.spansComparisons(rows)
        let lines = Self.lines(rows, tasks: tasks)
        var winners: Set<[Int]> = []
        let first = labelled ? 2 : 1
        let printed: [[RowPrinter.Cell]] = lines.enumerated().map { r, line in
            let isBetter = better(line.task)
            let best = line.cells.map(\.value).reduce(nil as Double?) { b, v in b.map { isBetter(v, $0) ? v : $0 } ?? v }
            let head: [RowPrinter.Cell] = [.text(line.task.rawValue)] + (labelled ? [.text(line.comparison?.label ?? "")] : [])
            return head
                + optimizers.enumerated().map { c, optimizer in
                    guard let cell = line.cells.first(where: { $0.optimizer == optimizer }) else { return .text("–") }
                    if cell.value == best { winners.insert([r, c + first]) }
                    if format == .json || format == .ndjson { return .number(cell.value, digits: 6) }
                    return .text(String(format: "%.4f (e%d)%@", cell.value, cell.epoch, cell.value == best ? " *" : ""))
                }
        }
        return RowPrinter(columns: ["task"] + (labelled ? ["data"] : []) + optimizers, format: format, emphasis: winners).render(printed)
    }

    /// The table's rows: each task, split by comparison where its runs span several.
    static func lines(_ rows: [BestResult], tasks: [StudyTask]) -> [(task: StudyTask, comparison: Comparison?, cells: [BestResult])] {
        tasks.flatMap { task -> [(task: StudyTask, comparison: Comparison?, cells: [BestResult])] in
            let cells = rows.filter { $0.task == task.rawValue }
            let comparisons = Array(Set(cells.compactMap(\.comparison))).sorted()
            guard comparisons.count > 1 else { return [(task, comparisons.first, cells)] }
            return comparisons.map { c in (task, c, cells.filter { $0.comparison == c }) }
        }
    }
}
