import Engine
import Foundation
import Store

/// The parts of the report that tell its story before the figures: where the data came from and
/// what each run was allowed, one line per task on who won and by how much, and the accuracy of
/// the classification tasks.
enum ReportSections {
    /// Contents: a link to every section present, in page order.
    static func contents(_ sections: [(id: String, title: String)]) -> String {
        "<nav class=\"contents\"><strong>Contents</strong><ol>"
            + sections.map { "<li><a href=\"#\($0.id)\">\(xmlEscape($0.title))</a></li>" }.joined() + "</ol></nav>\n"
    }

    /// Per task and comparison: the data set (as the runs recorded it, with its fingerprint),
    /// the budget, and how many runs, seeds and optimizers stand on it.
    static func provenance(_ runs: [RunListing], tasks: [TaskInfo]) -> String {
        var html = "<h2 id=\"data\">Data and budgets</h2>\n<table class=\"data\"><thead><tr><th>task</th><th>loss (unit), direction</th>"
            + "<th>data set</th><th>fingerprint</th><th>samples (train/validation)</th><th>epochs</th><th>batch</th><th>runs</th><th>seeds</th>"
            + "<th>optimizers</th></tr></thead><tbody>\n"
        for task in tasks {
            let own = runs.filter { $0.run.task == task.rawValue }
            var groups: [Comparison: [Run]] = [:]
            for r in own { groups[Comparison(r.run), default: []].append(r.run) }
            for (comparison, members) in groups.sorted(by: { $0.key < $1.key }) {
                let sizes = comparison.samples == nil && comparison.validationSamples == nil ? "all"
                    : "\(comparison.samples.map(String.init) ?? "all")/\(comparison.validationSamples.map(String.init) ?? "all")"
                let seeds = Set(members.map(\.seed)).sorted().map(String.init).joined(separator: ", ")
                let optimizers = Optimizers.names.filter { o in members.contains { $0.optimizer == o } }.joined(separator: ", ")
                html += "<tr><th>\(task.rawValue)</th><td>\(xmlEscape(Caption.unit(task, .valLoss))), lower is better</td>"
                    + "<td>\(xmlEscape(comparison.dataset))</td><td><code>\(comparison.synthetic ? "synthetic" : String(comparison.datasetFingerprint.prefix(12)))</code></td>"
                    + "<td>\(sizes)</td><td>\(comparison.epochs)</td><td>\(comparison.batchSize)</td><td>\(members.count)</td>"
                    + "<td>\(xmlEscape(seeds))</td><td>\(xmlEscape(optimizers))</td></tr>\n"
            }
        }
        let versions = Set(runs.map(\.run.codeVersion)).sorted().joined(separator: ", ")
        let hosts = Set(runs.map(\.run.host)).sorted().joined(separator: ", ")
        return html + "</tbody></table>\n<p class=\"meta\">Trained by \(xmlEscape(versions)) on \(xmlEscape(hosts)). "
            + "Runs stand side by side only on the same data (fingerprint of the prepared arrays) and budget.</p>\n"
    }

    /// One line per task (and comparison): the winner, its value in the task's unit, the margin
    /// to the runner-up, and whether the seeds' spread backs it (Welch's t-test), or why there
    /// is no winner.
    static func summary(_ cells: [SeedSummary], tasks: [TaskInfo]) -> String {
        var items: [String] = []
        let rows = tasks.flatMap { task in SeedTables.rows(cells).filter { $0[0].task == task.rawValue } }
        let labelled = Set(rows.map { $0[0].task }).count < rows.count
        for row in rows {
            guard let task = TaskInfo.named(row[0].task) else { continue }
            items.append(line(row, task: task, labelled: labelled))
        }
        guard !items.isEmpty else { return "" }
        return "<h2 id=\"summary\">At a glance</h2>\n<ul class=\"summary\">\n" + items.map { "<li>\($0)</li>\n" }.joined() + "</ul>\n"
    }

    static func line(_ row: [SeedSummary], task: TaskInfo, labelled: Bool) -> String {
        let judged = SeedTables.judge(row, statistic: .mean, metric: .valLoss, better: { $0 < $1 })
        let unit = Caption.unit(task, .valLoss)
        let name = "<strong>\(task.rawValue)</strong>" + (labelled ? " (\(xmlEscape(row[0].comparison?.label ?? "")))" : "")
        let ranked = judged.chosen.indices.sorted { judged.chosen[$0].mean < judged.chosen[$1].mean }
        guard let first = ranked.first else { return name + ": no runs" }
        let best = judged.chosen[first]
        func value(_ c: SeedSummary) -> String {
            String(format: "%.4g", c.mean) + (c.sd.map { String(format: " ± %.2g", $0) } ?? "")
        }
        func who(_ c: SeedSummary) -> String {
            let setting = SeedTables.distinguishingSettings(c, in: row)
            return xmlEscape(c.optimizer + (setting.isEmpty ? "" : " (\(setting))"))
        }
        if !judged.beatsBaseline {
            let baseline = judged.baseline.map { String(format: "%.4g", $0) } ?? "?"
            return name + ": no optimizer beats the baseline (\(baseline), \(xmlEscape(unit)), predicting the training mean or class prior); "
                + "the lowest is \(who(best)) at \(value(best))."
        }
        var text = name + ": <strong>\(who(best))</strong> reaches the lowest validation loss, \(value(best)) (\(xmlEscape(unit))"
            + (best.n > 1 ? ", mean ± sd over \(best.n) seeds" : "") + ")"
        if let second = ranked.dropFirst().first {
            let runner = judged.chosen[second]
            text += ", \(percent((runner.mean - best.mean) / abs(runner.mean))) below \(who(runner)) (\(value(runner)))"
        }
        if let baseline = judged.baseline { text += " and \(percent((baseline - best.mean) / abs(baseline))) below the baseline (\(String(format: "%.4g", baseline)))" }
        let verdict = judged.verdicts[first].verdict
        if judged.chosen.allSatisfy({ $0.n < 2 }) {
            text += "; one seed each, so the margin has no spread to be judged by."
        } else if best.n < 2 {
            text += "; it has one seed, so its margin cannot be judged against the others' spread."
        } else if verdict == .winner {
            text += "; beyond the seeds' spread (Welch's t-test, p < \(Welch.alpha) against every other)."
        } else {
            let tied = ranked.dropFirst().filter { judged.verdicts[$0].verdict == .tied }.map { who(judged.chosen[$0]) }
            text += "; not separable from " + (tied.isEmpty ? "the others" : tied.joined(separator: ", ")) + " over the seeds (p ≥ \(Welch.alpha)): no winner."
        }
        return text
    }

    /// A relative difference as a percentage with the digits it needs: 52%, 5.6%, 0.10%.
    static func percent(_ fraction: Double) -> String {
        let p = fraction * 100
        if abs(p) >= 10 { return String(format: "%.0f%%", p) }
        if abs(p) >= 1 { return String(format: "%.1f%%", p) }
        return String(format: "%.2g%%", p)
    }

    /// The classification tasks' best validation accuracy per optimizer (higher is better).
    static func accuracy(_ cells: [SeedSummary], tasks: [TaskInfo]) -> String {
        let classification = tasks.filter { $0.metric.higherIsBetter }
        let rows = classification.flatMap { task in SeedTables.rows(cells).filter { $0[0].task == task.rawValue } }
        guard !rows.isEmpty else { return "" }
        let optimizers = Optimizers.names.filter { o in rows.contains { $0.contains { $0.optimizer == o } } }
        let labelled = Set(rows.map { $0[0].task }).count < rows.count
        var html = "<h2 id=\"accuracy\">Best validation accuracy (classification tasks)</h2>\n<table class=\"best\"><thead><tr><th>task</th>"
            + (labelled ? "<th>data</th>" : "") + "<th>baseline</th>" + optimizers.map { "<th>\($0)</th>" }.joined() + "</tr></thead><tbody>\n"
        for row in rows {
            let judged = SeedTables.judge(row, statistic: .mean, metric: .valMetric, better: { $0 > $1 })
            html += "<tr><th>\(row[0].task)</th>" + (labelled ? "<td>\(xmlEscape(row[0].comparison?.label ?? ""))</td>" : "")
            html += "<td>" + (judged.baseline.map { String(format: "%.4f", $0) } ?? "–") + "</td>"
            let top = judged.chosen.map(\.mean).max()
            for optimizer in optimizers {
                guard let c = judged.chosen.first(where: { $0.optimizer == optimizer }) else { html += "<td>–</td>"; continue }
                let text = String(format: "%.4f", c.mean) + (c.sd.map { String(format: " ± %.4f", $0) } ?? "")
                    + (c.n > 1 ? " (\(c.n))" : " <small>(e\(c.epochs.first ?? 0))</small>")
                html += c.mean == top && judged.beatsBaseline ? "<td class=\"winner\">\(text)</td>" : "<td>\(text)</td>"
            }
            html += "</tr>\n"
        }
        return html + "</tbody></table>\n<p class=\"meta\">val_metric: accuracy, the fraction of validation samples classified right; "
            + "higher is better. Each run's best epoch (in brackets with one seed; mean ± sd (n) over seeds). Baseline: always "
            + "predicting the most frequent training class.</p>\n"
    }
}
