import GRDB
import Basics
import Foundation

/// The published study's claims (a comparison of Keras's eight optimizers at their defaults on
/// four problems, 2020), each checked against a study's logged runs. A check reads each
/// optimizer's cell (its runs over seeds): `best` is the mean over seeds of each run's lowest
/// val_loss, `final` the mean val_loss at the last epoch, and the mean curves of val_loss and
/// training loss. The thresholds are `Findings.Rule`s, stated in the README and in each row.
public struct ClaimCheck: Sendable, Equatable {
    public enum Verdict: String, Sendable {
        case agrees
        case disagrees
        case notEnoughRuns = "not enough runs"
    }

    /// A task (with its comparison's label when the study has several), or `all`.
    public var task: String
    public var claim: String
    /// The definition the verdict applies.
    public var check: String
    public var verdict: Verdict
    /// The numbers behind the verdict, with their spread over seeds.
    public var evidence: String
}

public enum Findings {
    /// The thresholds of the checks.
    public enum Rule {
        /// Does not converge: the final val_loss is at least this fraction of the trivial baseline.
        public static let noConvergence = 0.9
        /// Reaches the minimum: the best val_loss is within this factor of the task's best.
        public static let nearBest = 1.25
        /// Behaves badly: does not converge, or its best val_loss is this factor of the task's best.
        public static let bad = 2.0
        /// Slow: its lowest mean val_loss comes in the last fifth of the epochs (still falling):
        /// after epoch ⌊0.8 × epochs⌋ ...
        public static let lateFraction = 0.8
        /// ... and it does fall: the final val_loss is at most this fraction of the first epoch's.
        public static let falls = 0.9
        /// Fastest: fewest epochs until the mean val_loss has made this share of the task's best
        /// improvement over the trivial baseline (ties: the lower val_loss at that epoch).
        public static let reachShare = 0.9
        /// Overfits: the last val_loss is this factor above its minimum, reached earlier, while
        /// the training loss at the end is below its value at that minimum.
        public static let overfitRise = 1.05
        /// A good first candidate: a mean rank across tasks of at most this (of all eight).
        public static let firstCandidateRank = 3.0
        /// Claims across tasks need at least this many tasks.
        public static let tasksForOverall = 2
    }

    /// What one task's runs show, per optimizer.
    struct Task {
        var name: String
        var baseline: Double?
        var cells: [String: SeedSummary]
        var validation: [String: SeedCurve]
        var training: [String: SeedCurve]
        var verdicts: [String: SeedVerdict]
        /// Per optimizer: its runs that diverged (a non-finite loss), of how many.
        var diverged: [String: (count: Int, of: Int)] = [:]

        var best: Double? { cells.values.map(\.mean).min() }
        /// Something learned: the task's best beats the trivial baseline (as `best` requires of
        /// a winner). Claims about who is best or fastest need it.
        var learned: Bool { best.map { b in baseline.map { b < $0 } ?? false } ?? false }
        func has(_ optimizers: [String]) -> Bool { optimizers.allSatisfy { cells[$0] != nil && validation[$0]?.points.isEmpty == false } }
        func final(_ o: String) -> SeedCurve.Point? { validation[o]?.points.last }
        func spread(_ o: String) -> String {
            guard let c = cells[o] else { return "–" }
            return String(format: "%.4g", c.mean) + (c.sd.map { String(format: " ± %.2g", $0) } ?? "") + " (\(c.n))"
        }
        func finalText(_ o: String) -> String {
            guard let f = final(o) else { return "–" }
            return String(format: "%.4g", f.mean) + (f.sd.map { String(format: " ± %.2g", $0) } ?? "")
        }
        func doesNotConverge(_ o: String) -> Bool? {
            guard let baseline, let f = final(o) else { return nil }
            return f.mean >= Rule.noConvergence * baseline
        }
        /// Its val_loss falls: the final mean at most `Rule.falls` of the first epoch's.
        func falls(_ o: String) -> Bool? {
            guard let points = validation[o]?.points, let first = points.first, let last = points.last else { return nil }
            return last.mean <= Rule.falls * first.mean
        }
        func ratio(_ o: String) -> Double? { best.flatMap { b in cells[o].map { $0.mean / b } } }
        /// The epoch of the lowest mean val_loss, and the number of epochs.
        func lowest(_ o: String) -> (epoch: Int, of: Int)? {
            guard let points = validation[o]?.points, let low = points.min(by: { $0.mean < $1.mean }) else { return nil }
            return (low.epoch, points.last!.epoch)
        }
        /// The val_loss that counts as converged for "fastest": `reachShare` of the way from the
        /// baseline down to the task's best.
        var target: Double? {
            guard let best, let baseline, learned else { return nil }
            return best + (1 - Rule.reachShare) * (baseline - best)
        }
        /// The first epoch at or below the target, and the mean val_loss there.
        func reach(_ o: String) -> (epoch: Int, value: Double)? {
            guard let target else { return nil }
            return validation[o]?.points.first { $0.mean <= target }.map { ($0.epoch, $0.mean) }
        }
        /// Total variation of the mean val_loss over its descent: 0 for a monotone fall; nil
        /// for fewer than three epochs or a curve that never falls.
        func irregularity(_ o: String) -> Double? {
            guard let points = validation[o]?.points, points.count > 2, let low = points.map(\.mean).min() else { return nil }
            let descent = points[0].mean - low
            guard descent > 0 else { return nil }
            let path = zip(points, points.dropFirst()).map { abs($1.mean - $0.mean) }.reduce(0, +)
            return path / descent - 1
        }
        func overfits(_ o: String) -> Bool? {
            guard let v = validation[o]?.points, let t = training[o]?.points, let low = v.min(by: { $0.mean < $1.mean }),
                  let last = v.last, let trainLast = t.last, let trainAtLow = t.first(where: { $0.epoch == low.epoch }) else { return nil }
            return low.epoch < last.epoch && last.mean >= Rule.overfitRise * low.mean && trainLast.mean < trainAtLow.mean
        }
        func standing(_ o: String) -> String {
            switch verdicts[o] {
            case .winner?: return "the best, beyond the seeds' spread"
            case .best?: return "the best (one seed)"
            case .tied?: return "not separable from the best (Welch, p ≥ \(Welch.alpha))"
            default:
                let top = cells.min { $0.value.mean < $1.value.mean }?.key ?? "?"
                return "behind \(top) (\(spread(top)))"
            }
        }
        func isBest(_ o: String) -> Bool { [.winner, .best, .tied].contains(verdicts[o]) }
        /// Why a claim about the best or the fastest cannot be judged here, if it cannot.
        var unjudged: String? {
            guard let best else { return "no runs" }
            guard let baseline else { return "no baseline logged" }
            return learned ? nil : String(format: "no optimizer beats the trivial baseline (best %.4g, baseline %.4g)", best, baseline)
        }
    }

    static func notEnough(_ task: String, _ claim: String, _ check: String, _ missing: String) -> ClaimCheck {
        ClaimCheck(task: task, claim: claim, check: check, verdict: .notEnoughRuns, evidence: missing)
    }

    static func verdict(_ holds: Bool) -> ClaimCheck.Verdict { holds ? .agrees : .disagrees }

    /// A stored study configuration whose sweep varies the learning rate alone (`--lr-sweep`, or a
    /// `--grid` of learning_rate only; `--set` may fix other settings).
    static func sweepsLearningRateOnly(_ configuration: String) -> Bool {
        guard let json = try? ConfigValue.parse(configuration), let sweep = json["sweep"] else { return false }
        var axes: [String] = []
        if case .array(let grid)? = sweep["grid"] {
            axes = grid.compactMap { if case .string(let s) = $0 { return String(s.prefix { $0 != "=" }) } else { return nil } }
        }
        let lrSweep: Bool
        if case .integer(let n)? = sweep["lr_sweep"] { lrSweep = n > 1 } else { lrSweep = false }
        return (lrSweep && axes.isEmpty) || (!lrSweep && axes == ["learning_rate"])
    }

    /// Every claim, in the order the study makes them.
    static func check(_ tasks: [String: Task], sweeps: [String: (learningRate: Double, optimizers: Double)]) -> [ClaimCheck] {
        var out: [ClaimCheck] = []
        let all = ["adadelta", "adagrad", "adam", "adamax", "ftrl", "nadam", "rmsprop", "sgd"]
        let builtIn = ["boston", "fashion_mnist", "imdb", "jena"]
        // A study of the user's own model: its questions, not the four tasks' missing ones.
        let ownOnly = !tasks.isEmpty && !tasks.keys.contains { builtIn.contains($0) }
        func need(_ name: String, _ optimizers: [String], _ claim: String, _ check: String, _ body: (Task) -> ClaimCheck) {
            guard let t = tasks[name] else {
                if !ownOnly { out.append(notEnough(name, claim, check, "the study has no \(name) runs")) }
                return
            }
            let missing = optimizers.filter { !t.has([$0]) }
            guard missing.isEmpty, t.best != nil else {
                out.append(notEnough(t.name, claim, check, "no runs of \(missing.joined(separator: ", "))"))
                return
            }
            out.append(body(t))
        }
        let converge = "final val_loss ≥ \(Rule.noConvergence)× the trivial baseline"
        let reach = "best val_loss within \(Rule.nearBest)× the task's best"
        let slow = "best val_loss ≥ \(Rule.nearBest)× the task's best, reached in the last fifth of the epochs (still falling), "
            + "and the final val_loss ≤ \(Rule.falls)× the first epoch's (it falls)"
        let fastest = "fewest epochs until the mean val_loss has made \(Int(Rule.reachShare * 100))% of the task's best improvement over the baseline "
            + "(ties: the lower val_loss at that epoch)"
        let bestCheck = "the lowest mean best val_loss, or not separable from it (Welch's t-test over seeds, p ≥ \(Welch.alpha))"

        // Boston.
        need("boston", ["adadelta"], "Adadelta does not converge", converge) { t in
            guard let holds = t.doesNotConverge("adadelta") else { return notEnough(t.name, "Adadelta does not converge", converge, "no baseline logged") }
            return ClaimCheck(task: t.name, claim: "Adadelta does not converge", check: converge, verdict: verdict(holds),
                           evidence: "adadelta final \(t.finalText("adadelta")) vs baseline \(String(format: "%.4g", t.baseline!))")
        }
        need("boston", ["adagrad", "ftrl"], "Adagrad and Ftrl converge slowly, sub-optimally", slow) { t in
            let each = ["adagrad", "ftrl"].map { o -> (Bool, String) in
                let r = t.ratio(o)!, low = t.lowest(o)!
                let first = t.validation[o]!.points[0].mean, final = t.final(o)!.mean
                let falls = t.falls(o) == true
                let holds = r >= Rule.nearBest && low.epoch > Int(Rule.lateFraction * Double(low.of)) && falls
                return (holds, "\(o) best \(t.spread(o)) = \(String(format: "%.2f", r))× the best, lowest at epoch \(low.epoch) of \(low.of), "
                    + String(format: "from %.4g at epoch 1 to %.4g", first, final) + (falls ? "" : " (it does not fall)"))
            }
            return ClaimCheck(task: t.name, claim: "Adagrad and Ftrl converge slowly, sub-optimally", check: slow,
                           verdict: verdict(each.allSatisfy(\.0)), evidence: each.map(\.1).joined(separator: "; "))
        }
        let others = ["adam", "adamax", "nadam", "rmsprop", "sgd"]
        need("boston", others, "Adam, Adamax, Nadam, RMSprop and SGD reach a minimum", reach) { t in
            let missed = others.filter { t.ratio($0)! > Rule.nearBest }
            return ClaimCheck(task: t.name, claim: "Adam, Adamax, Nadam, RMSprop and SGD reach a minimum", check: reach, verdict: verdict(missed.isEmpty),
                           evidence: others.map { "\($0) \(String(format: "%.2f", t.ratio($0)!))×" }.joined(separator: ", "))
        }
        let irregular = "the largest total variation of the mean val_loss over its descent (Σ|Δ| / (first − lowest) − 1) among the optimizers whose val_loss falls"
        need("boston", ["sgd"], "SGD is irregular", irregular) { t in
            let converging = all.filter { t.has([$0]) && t.falls($0) == true }
            let scores = converging.compactMap { o in t.irregularity(o).map { (o, $0) } }
            guard !scores.isEmpty else {
                return notEnough(t.name, "SGD is irregular", irregular, "no falling curve of three epochs or more")
            }
            let top = scores.max { $0.1 < $1.1 }
            return ClaimCheck(task: t.name, claim: "SGD is irregular", check: irregular, verdict: verdict(top?.0 == "sgd"),
                              evidence: scores.map { "\($0.0) \(String(format: "%.3f", $0.1))" }.joined(separator: ", ")
                                  + (converging.contains("sgd") ? "" : "; sgd's val_loss does not fall"))
        }
        need("boston", ["rmsprop"], "RMSprop is best in absolute terms", bestCheck) { t in
            t.unjudged.map { notEnough(t.name, "RMSprop is best in absolute terms", bestCheck, $0) }
                ?? ClaimCheck(task: t.name, claim: "RMSprop is best in absolute terms", check: bestCheck, verdict: verdict(t.isBest("rmsprop")),
                              evidence: "rmsprop \(t.spread("rmsprop")): \(t.standing("rmsprop"))")
        }
        // Fashion-MNIST.
        let bad = "does not converge, or best val_loss ≥ \(Rule.bad)× the task's best"
        need("fashion_mnist", ["adadelta", "ftrl"], "Adadelta and Ftrl behave badly", bad) { t in
            let each = ["adadelta", "ftrl"].map { o -> (Bool, String) in
                (t.doesNotConverge(o) == true || t.ratio(o)! >= Rule.bad, "\(o) best \(t.spread(o)) = \(String(format: "%.2f", t.ratio(o)!))× the best, final \(t.finalText(o))")
            }
            return ClaimCheck(task: t.name, claim: "Adadelta and Ftrl behave badly", check: bad, verdict: verdict(each.allSatisfy(\.0)),
                           evidence: each.map(\.1).joined(separator: "; ") + (t.baseline.map { String(format: "; baseline %.4g", $0) } ?? ""))
        }
        need("fashion_mnist", ["adam"], "Adam has the best overall behaviour", bestCheck) { t in
            t.unjudged.map { notEnough(t.name, "Adam has the best overall behaviour", bestCheck, $0) }
                ?? ClaimCheck(task: t.name, claim: "Adam has the best overall behaviour", check: bestCheck, verdict: verdict(t.isBest("adam")),
                              evidence: "adam \(t.spread("adam")): \(t.standing("adam"))")
        }
        func fastestFinding(_ t: Task, _ o: String, _ claim: String) -> ClaimCheck {
            guard let target = t.target else { return notEnough(t.name, claim, fastest, t.unjudged ?? "no baseline logged") }
            let reached = all.filter { t.has([$0]) }.map { ($0, t.reach($0)) }
            let first = reached.compactMap { r in r.1.map { (r.0, $0) } }.min { ($0.1.epoch, $0.1.value) < ($1.1.epoch, $1.1.value) }
            return ClaimCheck(task: t.name, claim: claim, check: fastest, verdict: verdict(first?.0 == o),
                              evidence: reached.map { "\($0.0) \($0.1.map { "epoch \($0.epoch)" } ?? "never")" }.joined(separator: ", ")
                                  + String(format: " (target val_loss %.4g)", target))
        }
        need("fashion_mnist", ["rmsprop"], "RMSprop converges fastest", fastest) { fastestFinding($0, "rmsprop", "RMSprop converges fastest") }
        // IMDB.
        let overfit = "the last val_loss ≥ \(Rule.overfitRise)× its minimum, reached earlier, while the training loss still fell; most = more than half"
        need("imdb", [], "Most optimizers overfit", overfit) { t in
            let present = all.filter { t.has([$0]) }
            let yes = present.filter { t.overfits($0) == true }
            return ClaimCheck(task: t.name, claim: "Most optimizers overfit", check: overfit, verdict: verdict(yes.count * 2 > present.count),
                           evidence: "\(yes.count) of \(present.count) overfit" + (yes.isEmpty ? "" : ": " + yes.joined(separator: ", ")))
        }
        need("imdb", ["rmsprop"], "RMSprop reaches the best absolute value", bestCheck) { t in
            t.unjudged.map { notEnough(t.name, "RMSprop reaches the best absolute value", bestCheck, $0) }
                ?? ClaimCheck(task: t.name, claim: "RMSprop reaches the best absolute value", check: bestCheck, verdict: verdict(t.isBest("rmsprop")),
                              evidence: "rmsprop \(t.spread("rmsprop")): \(t.standing("rmsprop"))")
        }
        need("imdb", ["adam"], "Adam converges most efficiently", fastest) { fastestFinding($0, "adam", "Adam converges most efficiently") }
        // Jena.
        let miss = "best val_loss > \(Rule.nearBest)× the task's best"
        need("jena", ["ftrl", "nadam"], "Ftrl and Nadam do not find the minimum", miss) { t in
            ClaimCheck(task: t.name, claim: "Ftrl and Nadam do not find the minimum", check: miss,
                    verdict: verdict(["ftrl", "nadam"].allSatisfy { t.ratio($0)! > Rule.nearBest }),
                    evidence: ["ftrl", "nadam"].map { "\($0) \(t.spread($0)) = \(String(format: "%.2f", t.ratio($0)!))× the best" }.joined(separator: "; "))
        }
        need("jena", ["adagrad"], "Adagrad converges sub-optimally", miss + ", and its val_loss falls") { t in
            ClaimCheck(task: t.name, claim: "Adagrad converges sub-optimally", check: miss + ", and its val_loss falls",
                    verdict: verdict(t.ratio("adagrad")! > Rule.nearBest && t.falls("adagrad") == true),
                    evidence: "adagrad \(t.spread("adagrad")) = \(String(format: "%.2f", t.ratio("adagrad")!))× the best, final \(t.finalText("adagrad"))")
        }
        need("jena", ["adam", "rmsprop"], "Adam and RMSprop are best", bestCheck + ", for both") { t in
            if let why = t.unjudged { return notEnough(t.name, "Adam and RMSprop are best", bestCheck + ", for both", why) }
            return ClaimCheck(task: t.name, claim: "Adam and RMSprop are best", check: bestCheck + ", for both",
                    verdict: verdict(t.isBest("adam") && t.isBest("rmsprop")),
                    evidence: ["adam", "rmsprop"].map { "\($0) \(t.spread($0)): \(t.standing($0))" }.joined(separator: "; "))
        }
        // The user's own tasks: the study's questions asked of their model.
        let divergence = "no run of any optimizer hit a non-finite loss"
        for key in tasks.keys.sorted() where !builtIn.contains(key) {
            let t = tasks[key]!
            let present = all.filter { t.has([$0]) }
            if t.has(["adam"]) {
                let claim = "Adam is a good first candidate"
                out.append(t.unjudged.map { notEnough(t.name, claim, bestCheck, $0) }
                           ?? ClaimCheck(task: t.name, claim: claim, check: bestCheck, verdict: verdict(t.isBest("adam")),
                                         evidence: "adam \(t.spread("adam")): \(t.standing("adam"))"))
            } else {
                out.append(notEnough(t.name, "Adam is a good first candidate", bestCheck, "no runs of adam"))
            }
            // Every run counts here, also one that diverged before its first epoch (in no cell).
            let ran = all.filter { t.diverged[$0] != nil }
            let diverging = ran.filter { t.diverged[$0]!.count > 0 }
            out.append(ClaimCheck(task: t.name, claim: "No optimizer diverges", check: divergence, verdict: verdict(diverging.isEmpty),
                                  evidence: diverging.isEmpty ? "\(ran.count) optimizers, none diverged"
                                      : diverging.map { "\($0): \(t.diverged[$0]!.count) of \(t.diverged[$0]!.of) runs" }.joined(separator: ", ")))
            if let baseline = t.baseline {
                let stuck = present.filter { t.doesNotConverge($0) == true }
                out.append(ClaimCheck(task: t.name, claim: "Every optimizer converges", check: "no optimizer's " + converge, verdict: verdict(stuck.isEmpty),
                                      evidence: (stuck.isEmpty ? "all \(present.count) below" : "not converging: " + stuck.map { "\($0) final \(t.finalText($0))" }.joined(separator: ", ") + ";")
                                          + String(format: " baseline %.4g", baseline)))
            } else {
                out.append(notEnough(t.name, "Every optimizer converges", "no optimizer's " + converge, "no baseline logged"))
            }
            let overfitting = present.filter { t.overfits($0) == true }
            out.append(ClaimCheck(task: t.name, claim: "Most optimizers overfit", check: overfit, verdict: verdict(overfitting.count * 2 > present.count),
                                  evidence: "\(overfitting.count) of \(present.count) overfit" + (overfitting.isEmpty ? "" : ": " + overfitting.joined(separator: ", "))))
            out.append(t.has(["adam"]) ? fastestFinding(t, "adam", "Adam converges fastest")
                                       : notEnough(t.name, "Adam converges fastest", fastest, "no runs of adam"))
        }
        // Overall.
        let rankCheck = "Adam's mean rank (by mean best val_loss) among all eight optimizers, across at least \(Rule.tasksForOverall) tasks, "
            + "≤ \(Rule.firstCandidateRank)"
        let ranked = tasks.values.filter { $0.has(all) }
        if ranked.count < Rule.tasksForOverall {
            out.append(notEnough("all", "Adam is a good first candidate on different problems", rankCheck,
                                 "\(ranked.count) task(s) with runs of all eight optimizers"))
        } else {
            let ranks = ranked.sorted { $0.name < $1.name }.map { t -> (String, Int) in
                (t.name, 1 + t.cells.values.filter { $0.mean < t.cells["adam"]!.mean }.count)
            }
            let mean = Double(ranks.map(\.1).reduce(0, +)) / Double(ranks.count)
            out.append(ClaimCheck(task: "all", claim: "Adam is a good first candidate on different problems", check: rankCheck,
                               verdict: verdict(mean <= Rule.firstCandidateRank),
                               evidence: String(format: "mean rank %.2f: ", mean) + ranks.map { "\($0.0) \($0.1)" }.joined(separator: ", ")))
        }
        let lrCheck = "per task, the median spread (max − min) of an optimizer's best val_loss over a learning-rate sweep (a study sweeping "
            + "the learning rate alone, on the same data and budget) exceeds the spread over the optimizers at their defaults, in more than "
            + "half of at least \(Rule.tasksForOverall) tasks"
        if sweeps.count < Rule.tasksForOverall {
            out.append(notEnough("all", "The learning rate is the most important hyperparameter", lrCheck,
                                 "learning-rate sweeps on the same data and budget for \(sweeps.count) task(s)\(sweeps.isEmpty ? "" : " (" + sweeps.keys.sorted().joined(separator: ", ") + ")")"
                                    + " (optilog study --lr-sweep 5 --tasks … adds them)"))
        } else {
            let yes = sweeps.filter { $0.value.learningRate > $0.value.optimizers }
            out.append(ClaimCheck(task: "all", claim: "The learning rate is the most important hyperparameter", check: lrCheck,
                               verdict: verdict(yes.count * 2 > sweeps.count),
                               evidence: sweeps.sorted { $0.key < $1.key }.map {
                                   String(format: "%@ %.4g (lr) vs %.4g (optimizers)", $0.key, $0.value.learningRate, $0.value.optimizers)
                               }.joined(separator: "; ")))
        }
        return out
    }
}

extension ReadOnlyStore {
    /// The published claims checked against a study's runs (one configuration per optimizer),
    /// and notes on how its settings differ from the study's (learning rate 0.001 for all).
    public func findings(study: String) throws -> (findings: [ClaimCheck], notes: [String]) {
        _ = try studyID(named: study)
        let cells = try seedSummaries(BestQuery(study: study))
        var byRow: [String: [SeedSummary]] = [:]
        var order: [String] = []
        for cell in cells {
            let key = "\(cell.task)|\(cell.comparison?.key ?? "")"
            if byRow[key] == nil { order.append(key) }
            byRow[key, default: []].append(cell)
        }
        var notes: [String] = []
        let studyRuns = try runs(study: nil).filter { $0.study == study }.map(\.run)
        var tasks: [String: Findings.Task] = [:]
        var sweeps: [String: (learningRate: Double, optimizers: Double)] = [:]
        let several = Set(cells.map(\.task)).count < order.count
        // Learning-rate sweeps anywhere in this log: studies whose stored sweep varies the
        // learning rate and nothing else, each optimizer's cells by learning rate.
        var swept: [SeedSummary] = []
        for other in try read({ db in try Study.fetchAll(db) }) where Findings.sweepsLearningRateOnly(other.configuration) {
            swept += try seedSummaries(BestQuery(groupBy: ["task", "optimizer", "learning_rate"], study: other.name))
        }
        for key in order {
            let row = byRow[key]!
            let optimizers = row.map(\.optimizer)
            if let twice = optimizers.first(where: { o in optimizers.filter { $0 == o }.count > 1 }) {
                throw StoreError.refused("study \(study) ran \(twice) on \(row[0].task) with several settings; the claims are about one setting per "
                                         + "optimizer (check a study without a sweep, e.g. --preset seed-2020)")
            }
            let name = row[0].task + (several ? " (\(row[0].comparison?.label ?? ""))" : "")
            let verdicts = ReadOnlyStore.verdicts(row, statistic: .mean, better: { $0 < $1 })
            var task = Findings.Task(name: name, baseline: row.compactMap { $0.comparison?.baseline(.valLoss) }.first, cells: [:], validation: [:],
                                     training: [:], verdicts: [:])
            for (cell, v) in zip(row, verdicts) {
                task.cells[cell.optimizer] = cell
                task.verdicts[cell.optimizer] = v.verdict
                task.validation[cell.optimizer] = try seedCurve(cell, column: .valLoss)
                task.training[cell.optimizer] = try seedCurve(cell, column: .loss)
                if case .object(let pairs)? = try? ConfigValue.parse(cell.settings),
                   let lr = pairs.first(where: { $0.0 == "learning_rate" })?.1, case .number(let d) = lr, Float(d) != Float(0.001) {
                    notes.append("\(cell.optimizer) ran at learning_rate \(Float(d)); the study's claims were made at 0.001 for all "
                                 + "(optilog study --preset seed-2020 runs that)")
                }
            }
            for optimizer in Set(studyRuns.filter { $0.task == row[0].task }.map(\.optimizer)) {
                let own = studyRuns.filter { $0.task == row[0].task && $0.optimizer == optimizer }
                task.diverged[optimizer] = (own.filter { $0.status == .diverged }.count, own.count)
            }
            tasks[row[0].task] = tasks[row[0].task] ?? task
            if several && tasks[row[0].task]?.name != name {
                notes.append("\(row[0].task) was also run as \(name); the claims are checked on \(tasks[row[0].task]!.name)")
            }
            // A sweep on the same comparison: the median spread over learning rates per optimizer.
            let mine = swept.filter { $0.task == row[0].task && $0.comparison == row[0].comparison }
            var spreads: [Double] = []
            for o in Set(mine.map(\.optimizer)) {
                let cells = mine.filter { $0.optimizer == o }
                let values = cells.map(\.mean)
                if Set(cells.compactMap { $0.group.last?.double }).count > 1 { spreads.append(values.max()! - values.min()!) }
            }
            if !spreads.isEmpty, let hi = row.map(\.mean).max(), let lo = row.map(\.mean).min() {
                spreads.sort()
                let median = spreads.count % 2 == 1 ? spreads[spreads.count / 2] : (spreads[spreads.count / 2 - 1] + spreads[spreads.count / 2]) / 2
                sweeps[name] = (median, hi - lo)
            }
        }
        // Runs still training or stopped (of every study of this name, as the claims read them)
        // count with the epochs they logged, where their comparison is the one checked.
        let unfinished = try runs(study: nil).filter { $0.study == study }.map(\.run)
            .filter { [.running, .interrupted].contains($0.status) }
        if !unfinished.isEmpty {
            let epochs = unfinished.map { "\($0.task) \($0.optimizer) seed \($0.seed): \($0.epochsDone)/\($0.epochsPlanned) epochs, \($0.status.rawValue)" }
            notes.append("\(unfinished.count) run(s) of the study have not finished; where their data and budget are the ones checked, they count "
                         + "with the epochs they logged (\(epochs.joined(separator: "; ")))")
        }
        return (Findings.check(tasks, sweeps: sweeps), Array(Set(notes)).sorted())
    }
}
