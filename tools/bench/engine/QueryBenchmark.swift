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
         + "(\(optilog)), output to a pipe; wall time from spawn to exit.")
    emit("")
    func wall(_ arguments: [String]) throws -> [Double] {
        var times: [Double] = []
        for i in 0..<31 {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: optilog)
            p.arguments = arguments
            let out = Pipe()
            p.standardOutput = out
            p.standardError = FileHandle.nullDevice
            let t = now()
            try p.run()
            _ = out.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            if i > 0 { times.append(now() - t) }       // the first warms the page cache
            guard p.terminationStatus == 0 else { throw BenchError("optilog \(arguments.joined(separator: " ")) exited \(p.terminationStatus)") }
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
