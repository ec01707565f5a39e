import Foundation
import Store

/// `runs --watch`: a compact view of a store another process is filling, redrawn every few
/// seconds — running runs first (progress bar, epochs, best val_loss, heartbeat age, who trains
/// it), then the newest others — under a line of counts by status. On a terminal the screen is
/// redrawn in place; in a pipe each refresh is printed after the last, separated by a blank line.
struct RunsWatch {
    let reader: ReadOnlyStore
    let interval: Double
    let count: Int?
    var live = isatty(STDOUT_FILENO) == 1

    func loop(_ listings: () throws -> [RunListing]) throws {
        var shown = 0
        while !Interruption.requested {
            let frame = render(try listings(), now: Date().timeIntervalSince1970, rows: live ? Self.rows() : 40)
            if live {
                print("\u{1B}[H\u{1B}[2J" + frame, terminator: "")
            } else {
                print((shown > 0 ? "\n" : "") + frame, terminator: "")
            }
            fflush(nil)
            shown += 1
            if let count, shown >= count { return }
            // Sleep in short slices, so Ctrl-C ends the watch at once.
            let until = Date().addingTimeInterval(interval)
            while Date() < until, !Interruption.requested { Thread.sleep(forTimeInterval: min(0.1, interval)) }
        }
    }

    /// One refresh: the counts line, then at most `rows` − 3 runs.
    func render(_ listings: [RunListing], now: Double, rows: Int) -> String {
        // A `running` run no live process owns any more is counted apart: it waits for a resume.
        func state(_ r: Run) -> String { r.status == .running && r.liveOwner(staleAfter: Run.defaultStaleAfter) == nil ? "running (stale)" : r.status.rawValue }
        let byStatus = Dictionary(grouping: listings, by: { state($0.run) }).mapValues(\.count)
        let counts = (RunStatus.allCases.map(\.rawValue) + ["running (stale)"]).compactMap { s in byStatus[s].map { "\($0) \(s)" } }.joined(separator: ", ")
        let header = "optilog runs --watch  \(reader.path)  \(utcTime(now)) UTC  every \(String(format: "%g", interval)) s  (Ctrl-C to stop)\n"
            + (counts.isEmpty ? "no runs yet" : counts) + "\n"
        let running = listings.filter { $0.run.status == .running }, others = listings.filter { $0.run.status != .running }
        let shown = Array((running + others).prefix(max(1, rows - 4)))
        let table = RowPrinter(columns: ["run", "task", "optimizer", "seed", "status", "progress", "epochs", "best_val_loss", "heartbeat", "study"],
                               format: .table, color: false)
        let cells: [[RowPrinter.Cell]] = shown.map { l in
            let r = l.run
            let fraction = r.epochsPlanned > 0 ? Double(r.epochsDone) / Double(r.epochsPlanned) : 0
            let status = state(r)
            let heartbeat = r.status == .running ? r.heartbeatAt.map { StudyProgress.duration(max(0, now - $0)) + " ago" } ?? "–" : ""
            return [.integer(Int(r.id)), .text(r.task), .text(r.optimizer), RowPrinter.Cell(r[.seed]), .text(status),
                    .text(StudyProgress.bar(min(1, fraction), width: 12)), .text("\(r.epochsDone)/\(r.epochsPlanned)"),
                    .optional(r.bestValLoss), .text(heartbeat), .optional(l.study)]
        }
        let more = listings.count > shown.count ? "… \(listings.count - shown.count) more (optilog runs lists them)\n" : ""
        return header + (shown.isEmpty ? "" : table.render(cells)) + more
    }

    /// The terminal's height (40 when it cannot be asked).
    static func rows() -> Int {
        var size = winsize()
        guard ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_row > 0 else { return 40 }
        return Int(size.ws_row)
    }
}
