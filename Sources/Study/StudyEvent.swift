import Foundation

/// What a study is doing, as it happens, for a display: which cells are planned, which one each
/// slot (this process, or one of `--jobs` children) trains, its steps and epochs, how it ended.
public enum StudyEvent: Sendable, Equatable {
    /// The cells this invocation will run (in order), and how many of the study's were done.
    case planned(tasks: [String], done: Int, total: Int)
    case cellStarted(slot: Int, label: String, task: String, epochs: Int)
    case step(slot: Int, epoch: Int, step: Int, steps: Int, loss: Float)
    /// `loss`: the epoch's training loss (the live line's loss, when steps went by unseen).
    case epochEnded(slot: Int, epoch: Int, valLoss: Double?, loss: Double? = nil)
    /// `run`: the run it logged into, when known; `outcome`: completed, interrupted, diverged
    /// at step N, or the error; `failed`: it counts as a failure.
    case cellEnded(slot: Int, label: String, task: String, run: Int64?, outcome: String, failed: Bool)
}

/// The line protocol a `--jobs` child speaks on standard error when `OPTILOG_PROGRESS=1`: its
/// steps (at most a few a second) and epochs, beside the lines it prints for people.
public enum ProgressLine {
    public static let environment = "OPTILOG_PROGRESS"
    static let prefix = "optilog-progress "

    public static func step(epoch: Int, step: Int, steps: Int, loss: Float) -> String {
        "\(prefix)step \(epoch) \(step) \(steps) \(loss)"
    }

    public static func epoch(_ epoch: Int, valLoss: Double?, loss: Double? = nil) -> String {
        "\(prefix)epoch \(epoch) \(valLoss.map { "\($0)" } ?? "nan") \(loss.map { "\($0)" } ?? "nan")"
    }

    public static func run(_ id: Int64) -> String { "\(prefix)run \(id)" }

    /// A child's line read back: an event for `slot`, a run id, or nil (a line for people).
    public enum Parsed: Equatable {
        case event(StudyEvent)
        case run(Int64)
    }

    public static func parse(_ line: String, slot: Int) -> Parsed? {
        guard line.hasPrefix(prefix) else { return nil }
        let words = line.dropFirst(prefix.count).split(separator: " ").map(String.init)
        switch words.first {
        case "step" where words.count == 5:
            guard let e = Int(words[1]), let s = Int(words[2]), let n = Int(words[3]), let loss = Float(words[4]) else { return nil }
            return .event(.step(slot: slot, epoch: e, step: s, steps: n, loss: loss))
        case "epoch" where words.count == 3 || words.count == 4:
            guard let e = Int(words[1]) else { return nil }
            let v = Double(words[2]), l = words.count == 4 ? Double(words[3]) : nil
            return .event(.epochEnded(slot: slot, epoch: e, valLoss: v?.isFinite == true ? v : nil, loss: l?.isFinite == true ? l : nil))
        case "run" where words.count == 2:
            return Int64(words[1]).map { .run($0) }
        default: return nil
        }
    }
}
