import Engine
import Foundation
import GRDB
import Store

/// The research log's numbers: epoch-commit latency with a Fashion-MNIST-sized checkpoint,
/// bytes per epoch, checkpoint compression, and the best-per-optimizer-per-task query on a
/// 2,000-run × 100-epoch store against the plain GROUP BY over epochs it replaces.
func storeBenchmark(emit: (String) -> Void) throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("optilog-bench-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    func size(_ path: String) -> Int {
        [path, path + "-wal"].reduce(0) { $0 + ((try? FileManager.default.attributesOfItem(atPath: $1)[.size] as? Int) ?? 0) }
    }

    // A Fashion-MNIST CNN checkpoint: weights after a few Adam steps and the optimizer state.
    let model = try StudyTask.fashionMNIST.build(seed: 1)
    let optimizer = try Optimizers.make("adam", settings: [])
    var rng = RandomStream(seed: 1, purpose: .data)
    for _ in 0..<5 {
        for p in model.parameters { p.gradient = (0..<p.count).map { _ in Float(rng.normal()) * 0.01 } }
        optimizer.apply(to: model.parameters)
    }
    var tensors = model.parameters.map { CheckpointPayload.Tensor(name: $0.name, shape: $0.shape, floats: $0.value) }
    tensors.append(CheckpointPayload.Tensor(name: "optimizer", dtype: .u8, shape: [optimizer.state.bytes.count], data: optimizer.state.bytes))
    let checkpoint = CheckpointPayload(tensors: tensors, metadata: ["epoch": "1"])
    let payload = checkpoint.payload
    let encoded = checkpoint.encoded()
    let plainZstd = try zstdSize(payload)

    emit("")
    emit("## Research log (store)")
    emit("")
    emit("Checkpoint of the Fashion-MNIST CNN (225,034 weights + Adam state): raw payload \(payload.count) bytes; "
         + "byte-shuffle + zstd \(encoded.blob.count) bytes (ratio \(f(Double(payload.count) / Double(encoded.blob.count), 2))×); "
         + "zstd without the shuffle \(plainZstd) bytes (ratio \(f(Double(payload.count) / Double(plainZstd), 2))×).")

    // Commit latency: 300 epochs, each one transaction with its checkpoint (retain 2).
    let path = dir.appendingPathComponent("commits.sqlite").path
    let store = try Store(path: path)
    let run = try store.createRun(NewRun(task: "fashion_mnist", dataset: "bench", datasetFingerprint: "f", modelConfiguration: "{}",
                                         optimizer: "adam", optimizerConfiguration: "{}", configurationFingerprint: "c", seed: 1,
                                         batchSize: 32, epochsPlanned: 300, codeVersion: "bench"))
    var withCheckpoint: [Double] = [], encodeTimes: [Double] = []
    for e in 1...300 {
        let t0 = now()
        let blob = checkpoint.encoded()
        let t1 = now()
        try store.commitEpoch(benchEpoch(e, steps: 1875, checkpoint: blob), run: run, retain: 2)
        withCheckpoint.append(now() - t1)
        encodeTimes.append(t1 - t0)
    }
    let run2 = try store.createRun(NewRun(task: "boston", dataset: "bench", datasetFingerprint: "f", modelConfiguration: "{}",
                                          optimizer: "adam", optimizerConfiguration: "{}", configurationFingerprint: "c", seed: 1,
                                          batchSize: 32, epochsPlanned: 300, codeVersion: "bench"))
    var without: [Double] = []
    for e in 1...300 {
        let t0 = now()
        try store.commitEpoch(benchEpoch(e, steps: 13, checkpoint: nil), run: run2)
        without.append(now() - t0)
    }
    func ms(_ v: [Double], _ q: Double) -> String { f(v.sorted()[min(v.count - 1, Int(Double(v.count) * q))] * 1000, 2) }
    emit("")
    emit("| epoch commit (one transaction, synchronous=FULL) | median ms | p99 ms |")
    emit("|---|---|---|")
    emit("| with a Fashion-MNIST checkpoint (encode not included), 1,875 steps of series | \(ms(withCheckpoint, 0.5)) | \(ms(withCheckpoint, 0.99)) |")
    emit("| checkpoint encoding (shuffle + zstd + SHA-256), outside the transaction | \(ms(encodeTimes, 0.5)) | \(ms(encodeTimes, 0.99)) |")
    emit("| without a checkpoint, 13 steps (Boston) | \(ms(without, 0.5)) | \(ms(without, 0.99)) |")

    // 2,000 runs × 100 epochs: 4 tasks × 8 optimizers × 62–63 seeds, through the same commit path.
    let bigPath = dir.appendingPathComponent("big.sqlite").path
    let buildSeconds = try buildBigStore(at: bigPath)
    emit("")
    emit("Store of 2,000 runs × 100 epochs (200,000 epochs, 100 steps of series each, no checkpoints) built through the same "
         + "per-epoch transactions in \(f(buildSeconds, 1)) s: \(size(bigPath)) bytes, \(f(Double(size(bigPath)) / 200_000, 0)) bytes per epoch.")

    let reader = try ReadOnlyStore(path: bigPath)
    let bestSQL = try Store.query("best_val_loss_per_optimizer_per_task")
    let naiveSQL = """
        SELECT r.task, r.optimizer, MIN(e.val_loss) FROM epochs e JOIN runs r ON r.id = e.run_id
        GROUP BY r.task, r.optimizer ORDER BY r.task, r.optimizer
        """
    func time(_ sql: String, repeats: Int) throws -> Double {
        let arguments: [DatabaseValueConvertible?] = sql.contains("?1") ? [nil] : []
        _ = try reader.rows(sql, arguments: arguments)
        var times: [Double] = []
        for _ in 0..<repeats {
            let t = now()
            let rows = try reader.rows(sql, arguments: arguments)
            times.append(now() - t)
            precondition(rows.rows.count == 32)
        }
        return median(times)
    }
    let best = try time(bestSQL, repeats: 50), naive = try time(naiveSQL, repeats: 5)
    emit("")
    emit("| query on 2,000 runs × 100 epochs (read-only connection, median) | ms |")
    emit("|---|---|")
    emit("| best val_loss per optimizer per task (`sql/queries/best_val_loss_per_optimizer_per_task.sql`) | \(f(best * 1000, 3)) |")
    emit("| the same from a JOIN and GROUP BY over all epochs (baseline) | \(f(naive * 1000, 1)) |")
    emit("| ratio baseline / optilog | \(f(naive / best, 0))× |")
}

/// The query benchmarks' store: 2,000 runs × 100 epochs (4 tasks × 8 optimizers × 62–63
/// seeds), written through the training path's per-epoch transactions. Returns the seconds taken.
func buildBigStore(at path: String) throws -> Double {
    let big = try Store(path: path)
    let tasks = ["boston", "fashion_mnist", "imdb", "jena"], optimizers = Optimizers.names
    let t0 = now()
    var rng = RandomStream(seed: 2, purpose: .data)
    for r in 0..<2000 {
        let config = try Optimizers.make(optimizers[(r / 4) % 8], settings: []).config.json
        let id = try big.createRun(NewRun(task: tasks[r % 4], dataset: "bench", datasetFingerprint: "f", modelConfiguration: "{}",
                                          optimizer: optimizers[(r / 4) % 8], optimizerConfiguration: config, configurationFingerprint: "c",
                                          seed: UInt64(r), batchSize: 32, epochsPlanned: 100, codeVersion: "bench"))
        for e in 1...100 {
            var epoch = benchEpoch(e, steps: 100, checkpoint: nil)
            epoch.row.valLoss = 1 / Double(e) + rng.nextDouble()
            try big.commitEpoch(epoch, run: id)
        }
        try big.setStatus(run: id, .completed)
    }
    return now() - t0
}

func benchEpoch(_ e: Int, steps: Int, checkpoint: CheckpointPayload.Encoded?) -> EpochCommit {
    EpochCommit(row: Epoch(epoch: e, loss: 1 / Double(e), metric: 0.5, valLoss: 1 / Double(e), valMetric: 0.5, gradNormMean: 1, gradNormMin: 0.5,
                gradNormMax: 2, gradNormLast: 1, learningRate: 0.001, optimizerChecksum: String(repeating: "a", count: 64),
                seconds: 1, samplesPerSecond: 1000), firstStep: (e - 1) * steps,
                stepLosses: (0..<steps).map { Float(1) / Float($0 + e) }, stepGradNorms: (0..<steps).map { Float($0 % 7) * 0.3 },
                layerNorms: [("conv2d", 0.1), ("conv2d_1", 0.2), ("dense", 0.3), ("dense_1", 0.4)],
                checkpoint: checkpoint.map { (e * steps, "c", $0) })
}

/// zstd at the same level without the byte shuffle, for the compression comparison.
func zstdSize(_ payload: [UInt8]) throws -> Int { CheckpointPayload.compressedSizeWithoutShuffle(payload) }
