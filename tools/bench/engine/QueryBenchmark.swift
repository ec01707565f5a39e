import Foundation

/// The query commands end to end — process start, opening the store, the query, printing — on
/// the 2,000-run × 100-epoch store, against the same process doing nothing but print its help
/// (the baseline, measured in the same run). Goal: each under 50 ms.
func queryBenchmark(emit: (String) -> Void) throws {
    let optilog = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("optilog").path
    guard FileManager.default.isExecutableFile(atPath: optilog) else {
        throw BenchError("no optilog next to optilog-bench (swift build -c release --product optilog)")
    }
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("optilog-query-bench-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    // OPTILOG_BENCH_STORE=FILE keeps the store there (built once) for profiling the queries.
    let kept = ProcessInfo.processInfo.environment["OPTILOG_BENCH_STORE"]
    let db = kept ?? dir.appendingPathComponent("big.sqlite").path
    let build = kept.map { FileManager.default.fileExists(atPath: $0) } == true ? 0 : try buildBigStore(at: db)
    emit("")
    emit("## Query commands, end to end")
    emit("")
    emit("Store: 2,000 runs × 100 epochs (built in \(f(build, 1)) s). Each command run 30 times as a new process "
         + "(\(optilog)) with its output to /dev/null; wall time from posix_spawn to waitpid.")
    emit("")
    // posix_spawn and waitpid: Foundation's Process.waitUntilExit polls its run loop and
    // would add tens of milliseconds to every measurement.
    func wall(_ arguments: [String], executable: String = optilog) throws -> [Double] {
        var times: [Double] = []
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for i in 0..<31 {
            var pid: pid_t = 0
            let t = now()
            guard posix_spawn(&pid, executable, &actions, nil, argv, environ) == 0 else { throw BenchError("cannot start \(executable)") }
            var status: Int32 = 0
            waitpid(pid, &status, 0)
            if i > 0 { times.append(now() - t) }       // the first warms the page cache
            guard status == 0 else { throw BenchError("\(executable) \(arguments.joined(separator: " ")) exited with status \(status)") }
        }
        return times.sorted()
    }
    let baseline = try wall(["--help"])
    // SQLite's own shell answering the same question from the same named query, if installed.
    let query = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("sql/queries/best_val_loss_per_optimizer_per_task.sql").path
    let sqlite3 = ["/usr/bin/sqlite3", "/usr/local/bin/sqlite3"].first { FileManager.default.isExecutableFile(atPath: $0) }
    let shell = try sqlite3.map { try wall(["-readonly", db, ".read \(query)"], executable: $0) }
    var bestMedian: Double?
    emit("| command | median ms | p90 ms | ratio to `optilog --help` | under 50 ms |")
    emit("|---|---|---|---|---|")
    emit("| `optilog --help` (baseline: process start and exit) | \(f(baseline[15] * 1000, 1)) | \(f(baseline[27] * 1000, 1)) | 1.00 | |")
    for arguments in [["best"], ["best", "--format", "json"], ["best", "--metric", "val_metric"], ["best", "--where", "optimizer=adam|nadam, seed<1000", "--long"],
                      ["runs"], ["runs", "--task", "imdb", "--limit", "1000", "--format", "csv"], ["show", "1000"], ["curves", "--task", "imdb"],
                      ["compare", "--task", "jena"]] {
        let t = try wall(arguments + ["--db", db])
        emit("| `optilog \(arguments.map { $0.contains(" ") ? "\"\($0)\"" : $0 }.joined(separator: " "))` | \(f(t[15] * 1000, 1)) | \(f(t[27] * 1000, 1)) | "
             + "\(f(t[15] / baseline[15], 2)) | \(t[27] < 0.05 ? "yes" : "**no**") |")
        if arguments == ["best"], let shell {
            bestMedian = t[15]
            emit("| `sqlite3 -readonly STORE '.read sql/queries/best_val_loss_per_optimizer_per_task.sql'` (SQLite's shell, the same question) | "
                 + "\(f(shell[15] * 1000, 1)) | \(f(shell[27] * 1000, 1)) | \(f(shell[15] / baseline[15], 2)) | |")
        }
    }
    if let shell, let bestMedian {
        emit("")
        emit("`optilog best` / `sqlite3` on the same question: \(f(bestMedian / shell[15], 2))× (median to median).")
    }
}
