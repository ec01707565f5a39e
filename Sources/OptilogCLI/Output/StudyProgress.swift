import Foundation
import Study

/// `study`'s progress on standard error. On a terminal: one live line per running cell (epoch,
/// bar, step, loss, last val_loss) under the study's line (cells done of all, failures, running,
/// elapsed, ETA), redrawn in place; other messages print above it. In a pipe or file: one line
/// per finished cell, with the same counts and ETA.
final class StudyProgress {
    struct Slot {
        var label: String
        var task: String
        var epochs: Int
        var epoch = 0, step = 0, steps = 0
        var loss: Float?
        var valLoss: Double?
        let started = Date()

        /// The share of the cell's steps done (0 before its first step).
        var fraction: Double {
            guard steps > 0, epochs > 0 else { return 0 }
            return min(1, (Double(max(0, epoch - 1)) * Double(steps) + Double(step)) / (Double(epochs) * Double(steps)))
        }
    }

    let live: Bool
    let jobs: Int
    /// The best val_loss a run logged (for the line of a finished cell).
    let bestValLoss: (Int64) -> Double?
    private var total = 0, done = 0, failed = 0
    private var queued: [String] = []
    private var seconds: [String: [Double]] = [:]
    private var slots: [Int: Slot] = [:]
    private var drawn = 0
    private var lastDraw = Date.distantPast
    private let started = Date()

    init(live: Bool = isatty(STDERR_FILENO) == 1, jobs: Int, bestValLoss: @escaping (Int64) -> Double? = { _ in nil }) {
        (self.live, self.jobs, self.bestValLoss) = (live, jobs, bestValLoss)
    }

    func handle(_ event: StudyEvent) {
        switch event {
        case let .planned(tasks, doneBefore, all):
            (queued, done, total) = (tasks, doneBefore, all)
        case let .cellStarted(slot, label, task, epochs):
            if let i = queued.firstIndex(of: task) { queued.remove(at: i) }
            slots[slot] = Slot(label: label, task: task, epochs: epochs)
            draw(force: true)
        case let .step(slot, epoch, step, steps, loss):
            guard slots[slot] != nil else { return }
            (slots[slot]!.epoch, slots[slot]!.step, slots[slot]!.steps, slots[slot]!.loss) = (epoch, step, steps, loss)
            draw(force: false)
        case let .epochEnded(slot, epoch, valLoss, loss):
            guard slots[slot] != nil else { return }
            (slots[slot]!.epoch, slots[slot]!.valLoss) = (epoch, valLoss)
            if let loss { slots[slot]!.loss = Float(loss) }
            if slots[slot]!.steps > 0 { slots[slot]!.step = slots[slot]!.steps }
            draw(force: true)
        case let .cellEnded(slot, label, task, run, outcome, isFailure):
            let elapsed = slots[slot].map { Date().timeIntervalSince($0.started) }
            slots[slot] = nil
            // An interrupted cell is not done: the next `study` resumes it.
            if outcome != "interrupted" { done += 1 }
            if isFailure { failed += 1 }
            if let elapsed, outcome == "completed" { seconds[task, default: []].append(elapsed) }
            let best = run.flatMap(bestValLoss).map { String(format: ", best val_loss %.4f", $0) } ?? ""
            let took = elapsed.map { " in " + Self.duration($0) } ?? ""
            message((outcome == "interrupted" ? "[–/\(total)] " : "[\(done)/\(total)] ") + "\(label): " + (run.map { "run \($0) " } ?? "") + outcome + took + best + (live ? "" : " · " + counts()))
        }
    }

    /// A line for people, above the live block.
    func message(_ line: String) {
        clear()
        FileHandle.standardError.write(Data((line + "\n").utf8))
        draw(force: true)
    }

    /// Removes the live block (before the results table, or on the way out).
    func finish() { clear() }

    /// "12/32 done, 1 failed, 2 running, 3m 02s, ETA 14m 20s".
    func counts() -> String {
        var parts = ["\(done)/\(total) done"]
        if failed > 0 { parts.append("\(failed) failed") }
        if live && !slots.isEmpty { parts.append("\(slots.count) running") }
        parts.append(Self.duration(Date().timeIntervalSince(started)))
        parts.append("ETA " + (eta().map(Self.duration) ?? "–"))
        return parts.joined(separator: ", ")
    }

    /// Seconds left: each queued cell at its task's mean so far (any task's, before one ended),
    /// each running one from its own pace, shared among the jobs.
    func eta() -> Double? {
        let all = seconds.values.flatMap { $0 }
        func estimate(_ task: String) -> Double? {
            if let s = seconds[task], !s.isEmpty { return s.reduce(0, +) / Double(s.count) }
            if let pace = slots.values.filter({ $0.task == task && $0.fraction > 0.02 }).map({ Date().timeIntervalSince($0.started) / $0.fraction }).max() {
                return pace
            }
            return all.isEmpty ? nil : all.reduce(0, +) / Double(all.count)
        }
        var left = 0.0
        for task in queued {
            guard let e = estimate(task) else { return nil }
            left += e
        }
        for slot in slots.values {
            let elapsed = Date().timeIntervalSince(slot.started)
            if slot.fraction > 0.02 { left += elapsed / slot.fraction - elapsed } else if let e = estimate(slot.task) { left += max(0, e - elapsed) } else { return nil }
        }
        return left / Double(max(1, min(jobs, queued.count + slots.count)))
    }

    static func duration(_ s: Double) -> String {
        let t = Int(s.rounded())
        if t < 60 { return "\(t)s" }
        if t < 3600 { return String(format: "%dm %02ds", t / 60, t % 60) }
        return String(format: "%dh %02dm", t / 3600, (t % 3600) / 60)
    }

    private func draw(force: Bool) {
        guard live, total > 0, force || Date().timeIntervalSince(lastDraw) > 0.1 else { return }
        lastDraw = Date()
        let width = Self.columns()
        let labelWidth = slots.values.map(\.label.count).max() ?? 0
        var lines = slots.sorted { $0.key < $1.key }.map { slot, s -> String in
            let bar = Self.bar(s.fraction, width: 16)
            var text = String(format: "  [%d] %@  epoch %d/%d %@", slot + 1, s.label.padding(toLength: labelWidth, withPad: " ", startingAt: 0) as NSString, max(s.epoch, 1), s.epochs, bar as NSString)
            if s.steps > 0 { text += "  step \(s.step)/\(s.steps)" }
            if let loss = s.loss { text += String(format: "  loss %.4f", loss) }
            if let v = s.valLoss { text += String(format: "  val_loss %.4f", v) }
            return text
        }
        lines.append("study: " + counts())
        let text = lines.map { String($0.prefix(max(20, width - 1))) }
        var out = drawn > 1 ? "\r\u{1B}[\(drawn - 1)A" : "\r"
        out += text.joined(separator: "\u{1B}[K\n") + "\u{1B}[K\u{1B}[J"
        FileHandle.standardError.write(Data(out.utf8))
        drawn = text.count
    }

    private func clear() {
        guard live, drawn > 0 else { return }
        FileHandle.standardError.write(Data(((drawn > 1 ? "\r\u{1B}[\(drawn - 1)A" : "\r") + "\u{1B}[J").utf8))
        drawn = 0
    }

    static func bar(_ fraction: Double, width: Int) -> String {
        let filled = Int((fraction * Double(width)).rounded(.down))
        return String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
    }

    /// The terminal's width (100 when it cannot be asked).
    static func columns() -> Int {
        var size = winsize()
        guard ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return 100 }
        return Int(size.ws_col)
    }
}
