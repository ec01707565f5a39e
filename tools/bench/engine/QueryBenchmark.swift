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
    let db = dir.appendingPathComponent("big.sqlite").path
    let build = try buildBigStore(at: db)
    emit("")
    emit("## Query commands, end to end")
    emit("")
    emit("Store: 2,000 runs × 100 epochs (built in \(f(build, 1)) s). Each command run 30 times as a new process "
         + "(\(optilog)) with its output to /dev/null; wall time from posix_spawn to waitpid.")
    emit("")
    // posix_spawn and waitpid: Foundation's Process.waitUntilExit polls its run loop and
    // would add tens of milliseconds to every measurement.
    func wall(_ arguments: [String]) throws -> [Double] {
        var times: [Double] = []
        let argv = ([optilog] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for i in 0..<31 {
            var pid: pid_t = 0
            let t = now()
            guard posix_spawn(&pid, optilog, &actions, nil, argv, environ) == 0 else { throw BenchError("cannot start \(optilog)") }
            var status: Int32 = 0
            waitpid(pid, &status, 0)
            if i > 0 { times.append(now() - t) }       // the first warms the page cache
            guard status == 0 else { throw BenchError("optilog \(arguments.joined(separator: " ")) exited with status \(status)") }
        }
        return times.sorted()
    }
    let baseline = try wall(["--help"])
    emit("| command | median ms | p90 ms | ratio to `optilog --help` | under 50 ms |")
    emit("|---|---|---|---|---|")
    emit("| `optilog --help` (baseline: process start and exit) | \(f(baseline[15] * 1000, 1)) | \(f(baseline[27] * 1000, 1)) | 1.00 | |")
    for arguments in [["best"], ["best", "--format", "json"], ["best", "--metric", "val_metric"], ["best", "--where", "optimizer=adam|nadam, seed<1000", "--long"],
                      ["runs"], ["runs", "--task", "imdb", "--limit", "1000", "--format", "csv"], ["show", "1000"], ["curves", "--task", "imdb"],
                      ["compare", "--task", "jena"]] {
        let t = try wall(arguments + ["--db", db])
        emit("| `optilog \(arguments.map { $0.contains(" ") ? "\"\($0)\"" : $0 }.joined(separator: " "))` | \(f(t[15] * 1000, 1)) | \(f(t[27] * 1000, 1)) | "
             + "\(f(t[15] / baseline[15], 2)) | \(t[27] < 0.05 ? "yes" : "**no**") |")
    }
}
