import Data
import Engine
import Foundation
import Study

/// `--custom`: a user's Keras model of a built-in task's shape (fixtures/custom/builtin/*.json)
/// against the built-in model, on the same synthetic data, batch and optimizer, interleaved
/// round by round; the ratio is custom / built-in samples per second (1.00: as fast).
func customModelBenchmark(_ options: Options, emit: (String) -> Void) throws {
    let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("fixtures/custom/builtin")
    let rounds = options.rounds ?? 3
    emit("Your own model of a built-in shape (fixtures/custom/builtin/TASK.json) against the built-in model: same synthetic data, "
         + "Adam, batch 32, median samples/s of the timed epochs, best of \(rounds) interleaved rounds.")
    emit("")
    emit("| task | threads | built-in samples/s | your model samples/s | ratio |")
    emit("|---|---|---|---|---|")
    for task in options.tasks {
        let json = try String(contentsOf: folder.appendingPathComponent("\(task.rawValue).json"), encoding: .utf8)
        let model = try KerasModel(json: json)
        for threads in options.threads {
            var builtin: [Double] = [], custom: [Double] = []
            for _ in 0..<rounds {
                builtin.append(try throughput(task, threads: threads).samplesPerSecond)
                custom.append(try throughput(task, threads: threads, model: { try model.build(seed: 1) }).samplesPerSecond)
            }
            let (b, c) = (builtin.max()!, custom.max()!)
            emit("| \(task.rawValue) | \(threads) | \(f(b)) | \(f(c)) | \(f(c / b, 2)) |")
        }
    }
}
