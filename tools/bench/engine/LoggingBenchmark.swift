import Data
import Engine
import Foundation
import Store
import Study

/// Logging overhead: the same training with the research log (every epoch committed with its
/// step series, layer norms and a checkpoint) against logging off; and `study --jobs 2`
/// against `--jobs 1` wall time.
func loggingBenchmark(_ options: Options, emit: (String) -> Void) throws {
    emit("")
    emit("## Logging overhead")
    emit("")
    emit("Same data, model, optimizer (Adam) and epochs; logged = `LoggedTraining` into a fresh store (one transaction per epoch with a checkpoint), "
         + "plain = `TrainingLoop` alone. Median of 3 alternating repeats.")
    emit("")
    emit("| task | samples × epochs | plain s | logged s | overhead |")
    emit("|---|---|---|---|---|")
    BLAS.threads = 1
    for task in options.tasks {
        let (samples, _) = workload(task)
        let epochs = task == .boston ? 20 : 2
        var plain: [Double] = [], logged: [Double] = []
        for _ in 0..<3 {
            let spec = RunSpec(task: task, optimizer: "adam", optimizerConfiguration: try Optimizers.make("adam", settings: []).config,
                               epochs: epochs, samples: samples, validationSamples: 64, synthetic: true)
            let data = try SyntheticData.splits(task, train: samples, validation: 64, seed: 1)
            let loop = try TrainingLoop(model: try task.build(seed: 1), optimizer: try Optimizers.make("adam", settings: []), loss: task.loss,
                                        metric: task.metric, data: data, configuration: TrainingConfiguration(epochs: epochs, seed: 1))
            var t = now()
            loop.run()
            plain.append(now() - t)
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("optilog-logbench-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: dir) }
            let store = try Store(path: dir.appendingPathComponent("log.sqlite").path)
            t = now()
            let training = try LoggedTraining.start(spec, store: store)
            try training.train()
            logged.append(now() - t)
        }
        let (p, l) = (median(plain), median(logged))
        emit("| \(task.rawValue) | \(samples) × \(epochs) | \(f(p, 3)) | \(f(l, 3)) | \(f(100 * (l - p) / p, 1))% |")
    }

    // study --jobs 2 against --jobs 1, through the release executable next to this one.
    let optilog = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("optilog").path
    guard FileManager.default.isExecutableFile(atPath: optilog) else {
        emit("")
        emit("(study --jobs timing skipped: build the optilog product in release first)")
        return
    }
    var times: [Int: Double] = [:]
    for jobs in [1, 2] {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("optilog-jobs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let t = now()
        _ = try runChild([optilog, "study", "--preset", "quick", "--jobs", String(jobs), "--db", dir.appendingPathComponent("s.sqlite").path])
        times[jobs] = now() - t
    }
    emit("")
    emit("`optilog study --preset quick` (32 runs): --jobs 1 \(f(times[1]!, 1)) s, --jobs 2 \(f(times[2]!, 1)) s "
         + "(speed-up \(f(times[1]! / times[2]!, 2))× on \(ProcessInfo.processInfo.activeProcessorCount) cores).")
}
