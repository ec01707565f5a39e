import Engine
import Foundation
import Store

/// optilog's side of the logging and query comparisons with MLflow (tools/bench/peers.py runs
/// both and prints the ratios): 1,600 epoch records — 4 tasks × 8 optimizers × 50 epochs, six
/// metrics each — written through the store's per-epoch transactions (no step series, layer
/// norms or checkpoints, which MLflow would not have either), the store's size, and the best
/// val_loss per optimizer per task on a 2,000-run × 100-epoch store. Prints `key=value` lines.
func peerStoreBenchmark(emit: (String) -> Void) throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("optilog-peer-store-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("records.sqlite").path
    let tasks = ["boston", "fashion_mnist", "imdb", "jena"]
    var rng = RandomStream(seed: 3, purpose: .data)
    let t0 = now()
    try {
        let store = try Store(path: path)
        for task in tasks {
            for optimizer in Optimizers.names {
                let config = try Optimizers.make(optimizer, settings: []).config.json
                let run = try store.createRun(NewRun(task: task, dataset: "bench", datasetFingerprint: "f", modelConfiguration: "{}",
                                                     optimizer: optimizer, optimizerConfiguration: config, configurationFingerprint: "c",
                                                     seed: 1, batchSize: 32, epochsPlanned: 50, codeVersion: "bench"))
                for e in 1...50 {
                    let v = { 1 / Double(e) + rng.nextDouble() * 0.01 }
                    try store.commitEpoch(EpochCommit(row: Epoch(epoch: e, loss: v(), metric: v(), valLoss: v(), valMetric: v(), gradNormMean: v(),
                                                      gradNormMin: v(), gradNormMax: v(), gradNormLast: v(), learningRate: 0.001,
                                                      optimizerChecksum: String(repeating: "a", count: 64), seconds: 0, samplesPerSecond: 0),
                                                      firstStep: 0, stepLosses: [], stepGradNorms: [], layerNorms: [], checkpoint: nil), run: run)
                }
                try store.setStatus(run: run, .completed)
            }
        }
    }()    // the store closes here: SQLite folds the WAL into the file, as MLflow's file is whole
    let logging = now() - t0
    let bytes = [path, path + "-wal"].reduce(0) { $0 + ((try? FileManager.default.attributesOfItem(atPath: $1)[.size] as? Int) ?? 0) }
    emit("optilog_logging_seconds=\(logging)")
    emit("optilog_logging_bytes=\(bytes)")

    let big = dir.appendingPathComponent("big.sqlite").path
    let build = try buildBigStore(at: big)
    let bigReader = try ReadOnlyStore(path: big)
    let sql = try Store.query("best_val_loss_per_optimizer_per_task")
    _ = try bigReader.rows(sql, arguments: [nil])
    var times: [Double] = []
    for _ in 0..<30 {
        let t = now()
        let rows = try bigReader.rows(sql, arguments: [nil])
        times.append(now() - t)
        precondition(rows.rows.count == 32)
    }
    emit("optilog_query_store_build_seconds=\(build)")
    emit("optilog_query_seconds=\(median(times))")
}
