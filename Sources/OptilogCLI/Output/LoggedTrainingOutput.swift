import ArgumentParser
import Foundation
import Store
import Study

/// What `run` and `resume` print while a logged training goes: a live line on a terminal
/// (epoch, step, loss, samples/s, ETA) on standard error, each epoch's row on standard output as
/// it ends, what a replay confirmed, a closing summary, and the exit code (130 after Ctrl-C).
enum LoggedTrainingOutput {
    /// Shared by `run` and `resume`: epoch lines as they end, a summary, the exit code.
    static func train(_ training: LoggedTraining, dbPath: String, format: OutputFormat) throws {
        Interruption.install()
        // A `study --jobs` child tells its parent where it is in progress lines; the parent
        // says what starts and ends.
        let child = ProcessInfo.processInfo.environment[ProgressLine.environment] == "1"
        for warning in training.warnings { warn("optilog: warning: \(warning)") }
        if child {
            warn(ProgressLine.run(training.run))
        } else {
            warn(
                "run \(training.run): \(training.spec.taskName) with \(training.spec.optimizer), epochs \(training.epochsDone + 1)–\(training.spec.epochs), logging to \(dbPath)"
            )
        }
        let replay = training.epochsDone < training.loggedEpochs ? (training.epochsDone + 1)...training.loggedEpochs : nil
        if let replay {
            let from =
                replay.lowerBound == 1 ? "from the start (no usable checkpoint)" : "from the checkpoint of epoch \(replay.lowerBound - 1)"
            warn(
                "run \(training.run): replaying epochs \(replay.lowerBound)–\(replay.upperBound) \(from), each checked bit for bit against the log"
            )
        }
        var lines = EpochLines(metric: training.spec.metric.rawValue, format: format)
        // On a terminal, a live line (epoch, step, loss, samples/s, ETA) on stderr; plain lines otherwise.
        let live = isatty(2) == 1 && !child
        let started = Date()
        var lastDraw = Date.distantPast, stepsDone = 0
        let totalSteps = (training.spec.epochs - training.epochsDone) * max(1, training.stepsPerEpoch)
        var position: (epoch: Int, step: Int, steps: Int)?
        func progress(epoch: Int, step: Int, steps: Int, loss: Float) {
            stepsDone += 1
            position = (epoch, step, steps)
            guard live || child, Date().timeIntervalSince(lastDraw) > (child ? 0.25 : 0.1) else { return }
            lastDraw = Date()
            if child { return warn(ProgressLine.step(epoch: epoch, step: step, steps: steps, loss: loss)) }
            let elapsed = Date().timeIntervalSince(started)
            let rate = Double(stepsDone * training.spec.batchSize) / max(elapsed, 1e-9)
            let eta = elapsed / Double(stepsDone) * Double(max(0, totalSteps - stepsDone))
            let width = 24, filled = width * step / max(1, steps)
            let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
            writeStandardError(
                String(
                    format: "\repoch %d/%d %@ step %d/%d  loss %.4f  %.0f samples/s  ETA %.0fs\u{1B}[K",
                    epoch, training.spec.epochs, bar, step, steps, loss, rate, eta))
        }
        let ending: LoggedTraining.Ending
        do {
            ending = try training.train(shouldStop: { Interruption.requested }, onStep: progress) { record, replayed in
                if live { writeStandardError("\r\u{1B}[K") }
                if replayed {
                    if record.epoch == replay?.upperBound {
                        warn("run \(training.run): epochs \(replay!.lowerBound)–\(record.epoch) replayed, bit-identical to the log")
                    }
                } else {
                    lines.add(record)
                    if child { warn(ProgressLine.epoch(record.epoch, valLoss: record.row.valLoss, loss: record.row.loss)) }
                }
            }
        } catch {
            // A failed write (a full disk, a lost file) leaves every committed epoch in place.
            if live { writeStandardError("\r\u{1B}[K") }
            lines.finish()
            if error is DeterminismFailure { throw CleanError("\(error)") }
            if case StoreError.lostOwnership = error { throw CleanError("\(error)") }
            let logged = max(training.epochsCommitted, training.loggedEpochs)
            let kept = logged == 0 ? "no epoch was logged" : "the log keeps epochs 1–\(logged)"
            throw CleanError("\(error); \(kept); once fixed, continue with: optilog resume \(training.run) --db \(dbPath)")
        }
        if live { writeStandardError("\r\u{1B}[K") }
        lines.finish()
        let best = try training.store.reader.run(training.run)
        switch ending {
        case .completed:
            let logged = best.map { "(\($0.epochsDone) epochs logged)" } ?? ""
            if !child { warn("run \(training.run) completed: \(training.epochsDone) epochs; best val_loss \(Self.bestText(training)) \(logged)") }
        case .interrupted:
            let whereStopped =
                training.epochsDone < training.loggedEpochs
                ? "while replaying epoch \(training.epochsDone + 1) (the log keeps epochs 1–\(training.loggedEpochs))"
                : position.map { p in
                    p.epoch > training.epochsDone && p.step < p.steps
                        ? "in epoch \(p.epoch) at step \(p.step) of \(p.steps) ("
                            + (training.epochsDone == 0 ? "no epoch logged yet)" : "epochs 1–\(training.epochsDone) logged)")
                        : "after epoch \(training.epochsDone)"
                } ?? "after epoch \(training.epochsDone)"
            warn("run \(training.run) interrupted \(whereStopped); continue with: optilog resume \(training.run) --db \(dbPath)")
            throw ExitCode(Interruption.exitCode)
        case .diverged(let step):
            warn(
                "run \(training.run) diverged at step \(step) (non-finite loss or gradient); its last good checkpoint is epoch \(training.epochsDone)"
            )
        }
    }

    static func bestText(_ training: LoggedTraining) -> String {
        guard let rows = try? training.store.reader.epochs(run: training.run),
            let best = rows.compactMap({ r in r.valLoss.map { ($0, r.epoch) } }).min(by: { $0.0 < $1.0 })
        else { return "–" }
        return String(format: "%.4f at epoch %d", best.0, best.1)
    }
}
