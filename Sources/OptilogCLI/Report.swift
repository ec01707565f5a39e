import ArgumentParser
import Engine
import Foundation
import GRDB
import Store

/// `optilog report`: the study on one self-contained HTML page (no scripts, no external files).
struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write one self-contained HTML page: results table, curves, test surfaces, run configurations.",
        discussion: """
        For every task, the training and validation loss curves of each optimizer's best run and \
        their gradient norms; the four test surfaces with every optimizer's path; and each run's \
        configuration. The page has no scripts and loads nothing: mail it, archive it, open it offline.
          optilog report -o study.html --study study-quick
        """)

    @Option(name: [.customShort("o"), .long], help: ArgumentHelp("The HTML file to write.", valueName: "FILE")) var output: String = "report.html"
    @Option(help: "Only the runs of this study (by name).") var study: String?
    @Option(help: "Optimizer steps on each test surface.") var surfaceSteps: Int = 500
    @Option(help: "Learning rate of every optimizer on the test surfaces.") var surfaceLearningRate: Double = 0.01
    @OptionGroup var store: StoreOptions

    func validate() throws {
        guard (1...100_000).contains(surfaceSteps) else { throw ValidationError("--surface-steps must be 1…100000") }
        guard surfaceLearningRate > 0, surfaceLearningRate.isFinite else { throw ValidationError("--surface-learning-rate must be positive") }
    }

    func run() throws {
        let reader = try ReadOnlyStore(path: store.resolvedPath)
        let html = try Self.page(reader: reader, study: study, surfaceSteps: surfaceSteps, surfaceLearningRate: surfaceLearningRate)
        do {
            try html.write(toFile: output, atomically: true, encoding: .utf8)
        } catch {
            throw CleanError("cannot write \(output): \((error as NSError).localizedDescription)")
        }
        FileHandle.standardError.write(Data("wrote \(output) (\(html.utf8.count / 1024) KiB)\n".utf8))
    }

    static func page(reader: ReadOnlyStore, study: String?, surfaceSteps: Int, surfaceLearningRate: Double) throws -> String {
        let studyID = try study.map(reader.studyID(named:))
        let runs = try reader.rows("""
            SELECT r.id, r.task, r.optimizer, r.seed, r.status, r.epochs_done || '/' || r.epochs_planned, r.best_val_loss, r.best_epoch,
                   r.dataset, r.optimizer_configuration, s.name, r.batch_size, r.code_version, r.host
            FROM runs r LEFT JOIN studies s ON s.id = r.study_id WHERE ? IS NULL OR r.study_id = ? ORDER BY r.task, r.optimizer, r.id
            """, arguments: [studyID, studyID]).rows
        let tasks = Architecture.allCases.filter { t in runs.contains { String.fromDatabaseValue($0[1]) == t.rawValue } }
        var body = """
            <h1>optilog report\(study.map { ": " + xmlEscape($0) } ?? "")</h1>
            <p class="meta">\(runs.count) runs from <code>\(xmlEscape(reader.path))</code>, written \(Self.now()).</p>

            """
        // The results table.
        let best = try reader.bestPerOptimizerPerTask(study: studyID)
        let optimizers = Optimizers.names.filter { o in best.contains { $0.optimizer == o } }
        body += "<h2 id=\"best\">Best validation loss per task and optimizer</h2>\n<table class=\"best\"><thead><tr><th>task</th>"
        body += optimizers.map { "<th>\($0)</th>" }.joined() + "</tr></thead><tbody>\n"
        for task in tasks {
            let cells = best.filter { $0.task == task.rawValue }
            let winner = cells.map(\.bestValLoss).min()
            body += "<tr><th>\(task.rawValue)</th>" + optimizers.map { o in
                guard let c = cells.first(where: { $0.optimizer == o }) else { return "<td>–</td>" }
                let text = String(format: "%.4f <small>(e%d, run %lld)</small>", c.bestValLoss, c.bestEpoch, c.runID)
                return c.bestValLoss == winner ? "<td class=\"winner\">\(text)</td>" : "<td>\(text)</td>"
            }.joined() + "</tr>\n"
        }
        body += "</tbody></table>\n"
        // Curves per task.
        for task in tasks {
            let ids = try reader.bestRuns(task: task.rawValue, study: study)
            body += "<h2 id=\"task-\(task.rawValue)\">\(task.rawValue)</h2>\n<div class=\"figures\">\n"
            for (column, log) in [(EpochColumn.loss, false), (.valLoss, false), (.gradNormMean, true)] {
                let chart = Curves.chart(try reader.series(ids, column: column), metric: column, title: "\(task.rawValue) — \(column.rawValue)", logY: log)
                body += "<figure>" + chart.svg(width: 560, height: 340) + "</figure>\n"
            }
            body += "</div>\n"
        }
        // Test surfaces.
        body += "<h2 id=\"surfaces\">Test surfaces (\(surfaceSteps) steps, learning_rate=\(surfaceLearningRate))</h2>\n<div class=\"figures\">\n"
        for function in TestFunction.allCases {
            let figure = try Surface.figure(function, optimizers: Optimizers.names, settings: [("learning_rate", "\(surfaceLearningRate)")],
                                            start: nil, steps: surfaceSteps)
            body += "<figure>" + figure.svg() + "</figure>\n"
        }
        body += "</div>\n"
        // Every run's configuration.
        body += "<h2 id=\"runs\">Runs</h2>\n<table class=\"runs\"><thead><tr>"
            + ["run", "task", "optimizer", "seed", "status", "epochs", "best val_loss", "batch", "study", "data set", "optimizer configuration"]
            .map { "<th>\($0)</th>" }.joined() + "</tr></thead><tbody>\n"
        for r in runs {
            let bestText = Double.fromDatabaseValue(r[6]).map { String(format: "%.6g (e%d)", $0, Int.fromDatabaseValue(r[7]) ?? 0) } ?? "–"
            let cells = [r[0], r[1], r[2], r[3], r[4], r[5]].map { xmlEscape(RowPrinter.Cell($0).plain) } + [bestText, xmlEscape(RowPrinter.Cell(r[11]).plain),
                         xmlEscape(String.fromDatabaseValue(r[10]) ?? "–"), xmlEscape(String.fromDatabaseValue(r[8]) ?? "")]
            body += "<tr>" + cells.map { "<td>\($0)</td>" }.joined()
                + "<td><details><summary>show</summary><pre>\(xmlEscape(String.fromDatabaseValue(r[9]) ?? ""))</pre></details></td></tr>\n"
        }
        body += "</tbody></table>\n"
        return """
            <!DOCTYPE html>
            <html xmlns="http://www.w3.org/1999/xhtml" lang="en">
            <head>
            <meta charset="utf-8"/>
            <meta name="viewport" content="width=device-width, initial-scale=1"/>
            <title>optilog report\(study.map { ": " + xmlEscape($0) } ?? "")</title>
            <style>
            body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1800px; padding: 0 1em; color: #222; }
            h1 { margin-bottom: 0.2em; } .meta { color: #666; margin-top: 0; }
            table { border-collapse: collapse; margin: 1em 0; font-size: 14px; }
            th, td { border: 1px solid #ddd; padding: 4px 8px; text-align: left; vertical-align: top; }
            table.best td { text-align: right; font-variant-numeric: tabular-nums; }
            td.winner { background: #e6f4e6; font-weight: bold; }
            .figures { display: flex; flex-wrap: wrap; gap: 12px; }
            figure { margin: 0; border: 1px solid #eee; }
            pre { white-space: pre-wrap; max-width: 40em; font-size: 12px; }
            </style>
            </head>
            <body>
            \(body)</body>
            </html>

            """
    }

    static func now() -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: Date())
    }
}
