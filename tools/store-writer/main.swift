// A writer process for the store's multi-process tests: creates runs and commits epochs into
// one store as fast as it can, each epoch one transaction with a small checkpoint.
//   optilog-store-writer DB RUNS EPOCHS TAG
import Engine
import Foundation
import Store

let args = CommandLine.arguments
guard args.count == 5, let runs = Int(args[2]), let epochs = Int(args[3]) else {
    FileHandle.standardError.write(Data("usage: optilog-store-writer DB RUNS EPOCHS TAG\n".utf8))
    exit(2)
}
do {
    let store = try Store(path: args[1])
    for r in 0..<runs {
        let run = try store.createRun(NewRun(task: "boston", dataset: "writer-\(args[4])", datasetFingerprint: "fp", modelConfiguration: "{}",
                                             optimizer: "adam", optimizerConfiguration: "{}", configurationFingerprint: "cfg",
                                             seed: UInt64(r), batchSize: 32, epochsPlanned: epochs, codeVersion: "test"))
        for e in 1...epochs {
            let weights = CheckpointPayload(tensors: [CheckpointPayload.Tensor(name: "w", shape: [64], floats: (0..<64).map { Float($0 * e) })],
                                     metadata: ["epoch": "\(e)"])
            try store.commitEpoch(EpochCommit(row: Epoch(epoch: e, loss: 1 / Double(e), metric: 0, valLoss: 1 / Double(e), valMetric: 0,
                                              gradNormMean: 1, gradNormMin: 1, gradNormMax: 1, gradNormLast: 1, learningRate: 0.001,
                                              optimizerChecksum: "\(args[4])-\(r)-\(e)", seconds: 0, samplesPerSecond: 0), firstStep: 0,
                                              stepLosses: [1, 2], stepGradNorms: [3, 4], layerNorms: [("dense", 1)],
                                              checkpoint: (e * 2, "cfg", weights.encoded())), run: run)
        }
        try store.setStatus(run: run, .completed)
    }
} catch {
    FileHandle.standardError.write(Data("optilog-store-writer: \(error)\n".utf8))
    exit(1)
}
