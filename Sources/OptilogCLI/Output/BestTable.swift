import Engine
import Store

/// The results table: one row per task, one column per optimizer, each cell the best value and
/// its epoch, the row's winner marked with * (and in colour on a terminal).
enum BestTable {
    static func render(
        _ rows: [BestResult], tasks: [StudyTask], optimizers: [String], format: OutputFormat,
        better: (StudyTask) -> (Double, Double) -> Bool = { _ in (<) }
    ) -> String {
        var winners: Set<[Int]> = []
        let lines: [[RowPrinter.Cell]] = tasks.enumerated().map { r, task in
            let cells = rows.filter { $0.task == task.rawValue }
            let isBetter = better(task)
            let best = cells.map(\.value).reduce(nil as Double?) { b, v in b.map { isBetter(v, $0) ? v : $0 } ?? v }
            return [.text(task.rawValue)]
                + optimizers.enumerated().map { c, optimizer in
                    guard let cell = cells.first(where: { $0.optimizer == optimizer }) else { return .text("–") }
                    if cell.value == best { winners.insert([r, c + 1]) }
                    if format == .json || format == .ndjson { return .number(cell.value, digits: 6) }
                    return .text(String(format: "%.4f (e%d)%@", cell.value, cell.epoch, cell.value == best ? " *" : ""))
                }
        }
        return RowPrinter(columns: ["task"] + optimizers, format: format, emphasis: winners).render(lines)
    }
}
