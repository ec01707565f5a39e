import Basics
import ArgumentParser
import Engine
import Foundation
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

    @Option(name: [.customShort("o"), .long], help: ArgumentHelp("The HTML file to write.", valueName: "FILE")) var output: String =
        "report.html"
    @Flag(help: "Overwrite the output file even if it is an SQLite database (never the log itself).") var force = false
    @Option(help: "Only the runs of this study (by name).") var study: String?
    @Option(help: "Optimizer steps on each test surface.") var surfaceSteps: Int = 500
    @Option(help: "Learning rate of every optimizer on the test surfaces.") var surfaceLearningRate: Double = 0.01
    @OptionGroup var store: StoreOptions

    func validate() throws {
        guard (1...100_000).contains(surfaceSteps) else { throw ValidationError("--surface-steps must be 1…100000") }
        guard surfaceLearningRate > 0, surfaceLearningRate.isFinite else {
            throw ValidationError("--surface-learning-rate must be positive")
        }
    }

    func run() throws {
        let reader = try ReadOnlyStore(path: store.resolvedPath)
        let html = try Self.page(reader: reader, study: study, surfaceSteps: surfaceSteps, surfaceLearningRate: surfaceLearningRate)
        try OutputFile(path: output, store: store.resolvedPath, force: force).write(html, what: "\(html.utf8.count / 1024) KiB")
    }

    static func page(reader: ReadOnlyStore, study: String?, surfaceSteps: Int, surfaceLearningRate: Double) throws -> String {
        let studyID = try study.map(reader.studyID(named:))
        let runs = try reader.runs(study: studyID)
        TaskInfo.register(reader)
        let tasks = TaskInfo.ordered(runs.map(\.run.task))
        var body = "<h1>optilog report\(study.map { ": " + xmlEscape($0) } ?? "")</h1>\n"
        body += "<p class=\"meta\">\(runs.count) runs from <code>\(xmlEscape(reader.path))</code>, written \(Self.now()).</p>\n"
        let summaries = try reader.seedSummaries(BestQuery(study: study))
        let classification = tasks.filter { $0.metric.higherIsBetter }.map(\.rawValue)
        let accuracyCells = classification.isEmpty ? []
            : try reader.seedSummaries(BestQuery(metric: .valMetric, filter: RunFilter("task=" + classification.joined(separator: "|")), study: study,
                                                 minimizedTasks: []))
        // Each section with its anchor, for the contents at the top.
        var sections: [(id: String, title: String, html: String)] = [
            ("summary", "At a glance", ReportSections.summary(summaries, tasks: tasks)),
            ("data", "Data and budgets", ReportSections.provenance(runs, tasks: tasks)),
            ("best", "Best validation loss", summaries.contains { $0.n > 1 } ? seedResultsTable(summaries, tasks: tasks)
                : resultsTable(try reader.best(BestQuery(study: study)), tasks: tasks)),
            ("accuracy", "Best validation accuracy", ReportSections.accuracy(accuracyCells, tasks: tasks)),
            ("findings", "The published claims, checked", findingsSection(reader: reader, study: study)),
            ("models", "Your own models", modelsSection(runs, tasks: tasks)),
        ]
        for task in tasks {
            let comparisons = try reader.comparisons(task: task.rawValue, study: study).map(\.comparison)
            for comparison in comparisons.count > 1 ? comparisons.map(Optional.some) : [nil] {
                let (anchor, html) = try taskFigures(task, comparison: comparison, reader: reader, study: study)
                sections.append((anchor, "\(task.rawValue) curves" + (comparison.map { " — " + $0.shortDataset } ?? ""), html))
            }
        }
        sections.append(("sensitivity", "Learning-rate sensitivity", try sensitivityFigures(reader: reader, study: study)))
        sections.append(("surfaces", "Test surfaces", try surfaceFigures(steps: surfaceSteps, learningRate: surfaceLearningRate)))
        sections.append(("runs", "Runs", runsTable(runs)))
        let present = sections.filter { !$0.html.isEmpty }
        body += ReportSections.contents(present.map { ($0.id, $0.title) }) + present.map(\.html).joined()
        return document(title: "optilog report" + (study.map { ": " + xmlEscape($0) } ?? ""), body: body)
    }

    /// The study's results table, each row's winner highlighted.
    static func resultsTable(_ best: [BestResult], tasks: [TaskInfo]) -> String {
        let optimizers = Optimizers.names.filter { o in best.contains { $0.optimizer == o } }
        // A task on different data or budgets gets a row per comparison, each with its winner.
        let labelled = BestQuery.spansComparisons(best)
        let lines = BestTable.lines(best, tasks: tasks)
        let showBaseline = lines.contains { $0.comparison?.baselineValLoss != nil }
        var html = "<h2 id=\"best\">Best validation loss per task and optimizer</h2>\n<table class=\"best\"><thead><tr><th>task</th><th>val_loss: unit, direction</th>"
        html += (labelled ? "<th>data</th>" : "") + (showBaseline ? "<th>baseline</th>" : "")
        html += optimizers.map { "<th>\($0)</th>" }.joined() + "</tr></thead><tbody>\n"
        for (task, comparison, cells) in lines {
            let baseline = comparison?.baselineValLoss
            // A winner must beat the baseline (predicting the training mean or class prior).
            let winner = cells.map(\.value).min().flatMap { best in baseline.map { best < $0 } ?? true ? best : nil }
            html += "<tr><th>\(task.rawValue)</th><td class=\"unit\">\(xmlEscape(Caption.unit(task, .valLoss))), lower is better</td>"
                + (labelled ? "<td>\(xmlEscape(comparison?.label ?? ""))</td>" : "")
            if showBaseline { html += "<td>" + (baseline.map { String(format: "%.4f", $0) } ?? "–") + "</td>" }
            for optimizer in optimizers {
                guard let c = cells.first(where: { $0.optimizer == optimizer }) else { html += "<td>–</td>"; continue }
                let text = String(format: "%.4f <small>(e%d, run %lld)</small>", c.value, c.epoch, c.run)
                html += c.value == winner ? "<td class=\"winner\">\(text)</td>" : "<td>\(text)</td>"
            }
            html += "</tr>\n"
        }
        let caption = Caption.lines(metric: .valLoss, tasks: lines.map(\.task), bracket: "best epoch and run", higherIsBetter: { _ in false },
                                    baseline: showBaseline, unbeaten: [])
        return html + "</tbody></table>\n<p class=\"meta\">"
            + caption.split(separator: "\n").map { xmlEscape(String($0)) }.joined(separator: "<br/>") + "</p>\n"
    }

    /// With several seeds per cell: mean ± sd (n) of each run's best val_loss; the winner only
    /// beyond the seeds' spread (Welch's t-test), cells not separable from the best marked tied.
    static func seedResultsTable(_ cells: [SeedSummary], tasks: [TaskInfo]) -> String {
        let optimizers = Optimizers.names.filter { o in cells.contains { $0.optimizer == o } }
        let rows = tasks.flatMap { task in SeedTables.rows(cells).filter { $0[0].task == task.rawValue } }
        let labelled = Set(rows.map { $0[0].task }).count < rows.count
        let judged = rows.map { SeedTables.judge($0, statistic: .mean, metric: .valLoss, better: { $0 < $1 }) }
        let showBaseline = judged.contains { $0.baseline != nil }
        var html = "<h2 id=\"best\">Best validation loss per task and optimizer (mean ± sd over seeds)</h2>\n"
        html += "<table class=\"best\"><thead><tr><th>task</th><th>val_loss: unit, direction</th>" + (labelled ? "<th>data</th>" : "") + (showBaseline ? "<th>baseline</th>" : "")
        html += optimizers.map { "<th>\($0)</th>" }.joined() + "</tr></thead><tbody>\n"
        for row in judged {
            let first = row.chosen[0]
            let unit = TaskInfo.named(first.task).map { Caption.unit($0, .valLoss) + ", lower is better" } ?? ""
            html += "<tr><th>\(first.task)</th><td class=\"unit\">\(xmlEscape(unit))</td>" + (labelled ? "<td>\(xmlEscape(first.comparison?.label ?? ""))</td>" : "")
            if showBaseline { html += "<td>" + (row.baseline.map { String(format: "%.4f", $0) } ?? "–") + "</td>" }
            for optimizer in optimizers {
                guard let i = row.chosen.firstIndex(where: { $0.optimizer == optimizer }) else { html += "<td>–</td>"; continue }
                let text = xmlEscape(SeedTables.text(row.chosen[i], .mean) + SeedTables.mark(row.verdicts[i].verdict))
                let winner = row.verdicts[i].verdict == .winner || row.verdicts[i].verdict == .best
                html += winner ? "<td class=\"winner\">\(text)</td>" : "<td>\(text)</td>"
            }
            html += "</tr>\n"
        }
        return html + "</tbody></table>\n<p class=\"meta\">* best beyond the seeds' spread (Welch's t-test, p &lt; \(Welch.alpha)) "
            + "and better than the baseline; ~ not separable from the best.</p>\n"
    }

    /// A task's training loss, validation loss and gradient-norm curves (each optimizer's best
    /// run), per comparison when its runs span several (data or budgets).
    static func taskFigures(_ task: TaskInfo, comparison: Comparison?, reader: ReadOnlyStore, study: String?) throws -> (anchor: String, html: String) {
        let seeded = try reader.seedCurves(task: task.rawValue, study: study, comparison: comparison, column: .valLoss, optimizerOrder: Optimizers.names)
        let ids = seeded == nil ? try reader.bestRuns(task: task.rawValue, study: study, comparison: comparison, optimizerOrder: Optimizers.names) : []
        let heading = task.rawValue + (comparison.map { " — " + xmlEscape($0.label) } ?? "")
        let anchor = "task-\(task.rawValue)" + (comparison.map { "-" + String(sha256Hex(Array($0.key.utf8)).prefix(8)) } ?? "")
        var html = "<h2 id=\"\(anchor)\">\(heading)</h2>\n"
        html += "<p class=\"meta\">" + (seeded != nil ? "Each optimizer's mean over seeds, with a band of ± one sd." : "Each optimizer's run with the lowest validation loss.")
            + " Losses in \(xmlEscape(Caption.unit(task, .valLoss))); gradient norm: the global L2 norm of the gradient, mean over an epoch's steps (log scale).</p>\n"
        html += "<div class=\"figures\">\n"
        for (column, log) in [(Epoch.Columns.loss, false), (.valLoss, false), (.gradNormMean, true)] {
            let title = "\(task.rawValue) — \(column == .loss ? "training loss" : column == .valLoss ? "validation loss" : "gradient norm")"
            var chart = seeded != nil
                ? Curves.chart(
                    try reader.seedCurves(task: task.rawValue, study: study, comparison: comparison, column: column, optimizerOrder: Optimizers.names) ?? [],
                    metric: column, title: title + ", mean ± sd over seeds", logY: log)
                : Curves.chart(try reader.curves(ids, column: column), metric: column, title: title, logY: log)
            chart.yLabel = column == .gradNormMean ? "gradient L2 norm" : "\(column.rawValue) (\(Caption.unit(task, column)))"
            html += "<figure>" + chart.svg(width: 560, height: 340) + "</figure>\n"
        }
        return (anchor, html + "</div>\n")
    }

    /// Each of the user's own tasks: its model as Keras's `summary()` shows it, the layers'
    /// fingerprint, loss, metric and where its data came from.
    static func modelsSection(_ runs: [RunListing], tasks: [TaskInfo]) -> String {
        var html = ""
        for task in tasks where StudyTask(rawValue: task.rawValue) == nil {
            guard let run = runs.first(where: { $0.run.task == task.rawValue })?.run,
                  let stored = (try? ConfigValue.parse(run.modelConfiguration))?["custom"], let json = stored["model"],
                  let model = try? KerasModel(json), let built = try? model.build(seed: 0) else { continue }
            var name = model.name
            if case .string(let n)? = json["config"]?["name"] { name = n }
            html += "<h3>\(xmlEscape(task.rawValue))</h3>\n<p class=\"meta\">Loss \(xmlEscape(task.lossUnit)), metric \(xmlEscape(task.metric.rawValue)); "
                + "model fingerprint <code>\(model.fingerprint.prefix(12))</code>"
                + (stored["initial_weights"] != nil ? "; every run starts from the same given weights" : "; initial weights drawn from each run's seed")
                + ".</p>\n<pre class=\"summary\">\(xmlEscape(built.summary(name: name)))</pre>\n"
        }
        return html.isEmpty ? "" : "<h2 id=\"models\">Your own models</h2>\n" + html
    }

    /// The published claims checked against the study (the report's study, else study-seed-2020
    /// or study-seed); nothing when there is no such study or it sweeps settings.
    static func findingsSection(reader: ReadOnlyStore, study: String?) -> String {
        guard let name = study ?? ["study-seed-2020", "study-seed"].first(where: { (try? reader.studyID(named: $0)) != nil }),
              let (findings, notes) = try? reader.findings(study: name) else { return "" }
        var html = "<h2 id=\"findings\">The published claims, checked (study \(xmlEscape(name)))</h2>\n"
            + "<table class=\"findings\"><thead><tr><th>task</th><th>claim</th><th>verdict</th><th>evidence</th><th>check</th></tr></thead><tbody>\n"
        for f in findings {
            html += "<tr class=\"\(f.verdict == .agrees ? "agrees" : f.verdict == .disagrees ? "disagrees" : "unknown")\"><td>\(xmlEscape(f.task))</td>"
                + "<td>\(xmlEscape(f.claim))</td><td>\(xmlEscape(f.verdict.rawValue))</td><td>\(xmlEscape(f.evidence))</td><td>\(xmlEscape(f.check))</td></tr>\n"
        }
        html += "</tbody></table>\n"
        for note in notes { html += "<p class=\"note\">\(xmlEscape(note))</p>\n" }
        return html
    }

    /// Best val_loss against the learning rate, per task, where the runs sweep it.
    static func sensitivityFigures(reader: ReadOnlyStore, study: String?) throws -> String {
        let points = try Sensitivity.points(reader, setting: "learning_rate", metric: .valLoss, study: study, dataset: nil, task: nil)
        let charts = Sensitivity.charts(points, setting: "learning_rate", metric: .valLoss, stat: .mean)
        guard !charts.isEmpty else { return "" }
        return "<h2 id=\"sensitivity\">Learning-rate sensitivity</h2>\n<div class=\"figures\">\n"
            + charts.map { "<figure>" + $0.svg(width: 560, height: 340) + "</figure>\n" }.joined() + "</div>\n"
    }

    /// The four test surfaces with every optimizer's path.
    static func surfaceFigures(steps: Int, learningRate: Double) throws -> String {
        var html = "<h2 id=\"surfaces\">Test surfaces (\(steps) steps, learning_rate=\(learningRate))</h2>\n"
            + "<p class=\"meta\">Every optimizer from the same start (open circle) at learning_rate=\(learningRate), its other settings Keras's "
            + "defaults; a cross marks where a path left the frame, the legend gives each path's final value or the step where it "
            + "diverged. Earlier paths are drawn wider, so overlapping ones stay visible.</p>\n<div class=\"figures\">\n"
        for function in TestSurface.allCases {
            let figure = try Surface.figure(
                function, optimizers: Optimizers.names, settings: [("learning_rate", "\(learningRate)")],
                start: nil, steps: steps)
            html += "<figure>" + figure.svg() + "</figure>\n"
        }
        return html + "</div>\n"
    }

    /// Every run with its configuration (folded).
    static func runsTable(_ runs: [RunListing]) -> String {
        let headers = [
            "run", "task", "optimizer", "seed", "status", "epochs", "best val_loss", "batch", "study", "data set",
            "optimizer configuration",
        ]
        var html =
            "<h2 id=\"runs\">Runs</h2>\n<table class=\"runs\"><thead><tr>" + headers.map { "<th>\($0)</th>" }.joined()
            + "</tr></thead><tbody>\n"
        for listing in runs {
            let r = listing.run
            var cells = [
                String(r.id), r.task, r.optimizer, RowPrinter.Cell(r[.seed]).plain, r.status.rawValue, "\(r.epochsDone)/\(r.epochsPlanned)",
            ].map(xmlEscape)
            cells.append(r.bestValLoss.map { String(format: "%.6g (e%d)", $0, r.bestEpoch ?? 0) } ?? "–")
            cells.append(String(r.batchSize))
            cells.append(xmlEscape(listing.study ?? "–"))
            cells.append(xmlEscape(r.dataset))
            html += "<tr>" + cells.map { "<td>\($0)</td>" }.joined()
            html += "<td><details><summary>show</summary><pre>\(xmlEscape(r.optimizerConfiguration))</pre></details></td></tr>\n"
        }
        return html + "</tbody></table>\n"
    }

    static func document(title: String, body: String) -> String {
        """
        <!DOCTYPE html>
        <html xmlns="http://www.w3.org/1999/xhtml" lang="en">
        <head>
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title>\(title)</title>
        <style>
        body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1500px; padding: 0 1em; color: #222; }
        h1 { margin-bottom: 0.2em; } .meta { color: #666; margin-top: 0; }
        nav.contents ol { columns: 3 14em; margin: 0.4em 0 1em; }
        ul.summary li { margin: 0.4em 0; line-height: 1.4; }
        table { border-collapse: collapse; margin: 1em 0; font-size: 14px; display: block; overflow-x: auto; max-width: 100%; }
        th, td { border: 1px solid #ddd; padding: 4px 8px; text-align: left; vertical-align: top; }
        table.best td { text-align: right; font-variant-numeric: tabular-nums; } table.best td.unit { text-align: left; color: #555; }
        td.winner { background: #e6f4e6; font-weight: bold; }
        .figures { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 460px), 1fr)); gap: 12px; }
        figure { margin: 0; border: 1px solid #eee; min-width: 0; }
        figure svg { width: 100%; height: auto; display: block; }
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
