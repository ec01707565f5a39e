import Data
import Engine
import Foundation
import Store
import Study

/// CPU seconds of the calling thread so far.
func threadCPU() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
}

/// The quick preset's epochs and training / validation samples, from its own plan (Boston's
/// whole set, 404 + 102, where the preset takes all of it).
func quickSize(_ task: StudyTask) throws -> (epochs: Int, train: Int, validation: Int) {
    guard let cell = try StudyPlan(preset: .quick, tasks: [task]).cells.first else { throw BenchError("no quick cell for \(task)") }
    return (cell.epochs, cell.samples ?? 404, cell.validationSamples ?? 102)
}

/// Logging overhead: the same training with the research log (every epoch committed with its
/// step series, layer norms and a checkpoint) against logging off; and `study --jobs 2`
/// against `--jobs 1` wall time.
func loggingBenchmark(_ options: Options, emit: (String) -> Void) throws {
    emit("")
    emit("## Logging overhead")
    emit("")
    emit("At the quick preset's sizes (training and validation samples, epochs), synthetic data; same model, optimizer (Adam) and epochs; "
         + "logged = `LoggedTraining` into a fresh store (one transaction per epoch, the final epoch's checkpoint, as `study --preset quick` does), "
         + "plain = `TrainingLoop` alone; 1 training thread. 7 alternating repeats. The machine is shared, so noise only adds time: "
         + "the overhead is taken between the fastest plain and the fastest logged run, and between their training threads' CPU seconds "
         + "(which a busy neighbour does not inflate); the median is shown for the spread. The training thread also times its own logging "
         + "(taking the epoch's state, handing the commit over, waiting for the previous one, heartbeats, the final status) against its training time: "
         + "a measure of the overhead that the machine's noise does not blur.")
    emit("")
    emit("| task | samples (+ validation) × epochs | plain s (fastest) | logged s (fastest) | overhead, fastest | overhead, medians | training-thread CPU overhead | logging on the training thread (timed inside, median, max) | preparing the logged run s |")
    emit("|---|---|---|---|---|---|---|---|---|")
    BLAS.threads = 1
    for task in options.tasks {
        let (epochs, train, validation) = try quickSize(task)
        var plain: [Double] = [], logged: [Double] = [], starts: [Double] = [], plainCPU: [Double] = [], loggedCPU: [Double] = []
        var loggingShare: [Double] = []
        for _ in 0..<7 {
            let spec = RunSpec(task: task, optimizer: "adam", optimizerConfiguration: try Optimizers.make("adam", settings: []).config,
                               epochs: epochs, samples: train, validationSamples: validation, synthetic: true)
            let data = try SyntheticData.splits(task, train: train, validation: validation, seed: 1)
            let loop = try TrainingLoop(model: try task.build(seed: 1), optimizer: try Optimizers.make("adam", settings: []), loss: task.loss,
                                        metric: task.metric, data: data, configuration: TrainingConfiguration(epochs: epochs, seed: 1))
            var (t, c) = (now(), threadCPU())
            loop.run()
            plain.append(now() - t)
            plainCPU.append(threadCPU() - c)
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("optilog-logbench-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: dir) }
            let store = try Store(path: dir.appendingPathComponent("log.sqlite").path)
            // Preparing the run (its data, their fingerprint, the run's row) is timed apart: the
            // plain loop above was handed its data ready-made.
            t = now()
            let training = try LoggedTraining.start(spec, store: store)
            starts.append(now() - t)
            (t, c) = (now(), threadCPU())
            try training.train()
            logged.append(now() - t)
            loggedCPU.append(threadCPU() - c)
            loggingShare.append(training.loggingSeconds / (logged.last! - training.loggingSeconds))
        }
        func percent(_ a: Double, _ b: Double) -> String { "\(f(100 * (b - a) / a, 1))%" }
        emit("| \(task.rawValue) | \(train) (+ \(validation)) × \(epochs) | \(f(plain.min()!, 3)) | \(f(logged.min()!, 3)) | "
             + "\(percent(plain.min()!, logged.min()!)) | \(percent(median(plain), median(logged))) | \(percent(median(plainCPU), median(loggedCPU))) | "
             + "\(f(100 * median(loggingShare), 2))%, \(f(100 * loggingShare.max()!, 2))% | \(f(median(starts), 3)) |")
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
