import XCTest
import Data
import Engine
@testable import Study

/// A run is a pure function of its seed and configuration: the same seed gives bit-identical
/// weights, whatever OpenBLAS's thread count.
final class DeterminismTests: XCTestCase {
    override func tearDown() { BLAS.threads = 1 }

    /// Trains a small version of `architecture` and returns every weight's bit pattern.
    func trainedWeights(_ architecture: StudyTask, seed: UInt64, threads: Int, epochs: Int = 2,
                        optimizer: String = "adam") throws -> [UInt32] {
        BLAS.threads = threads
        let (model, data) = try smallProblem(architecture, seed: seed)
        let loop = try TrainingLoop(model: model, optimizer: try Optimizers.make(optimizer, settings: []), loss: architecture.loss,
                                    metric: architecture.metric, data: data,
                                    configuration: TrainingConfiguration(epochs: epochs, batchSize: 16, seed: seed))
        loop.run()
        return model.parameters.flatMap(\.value).map(\.bitPattern)
    }

    func smallProblem(_ architecture: StudyTask, seed: UInt64) throws -> (Sequential, DataSplits) {
        // Canonical layers and shapes, few samples to stay fast.
        (try architecture.build(seed: seed),
         try SyntheticData.splits(architecture, train: architecture == .boston ? 200 : 48, validation: 16, seed: seed))
    }

    func testSameSeedSameBitsForEveryArchitecture() throws {
        for architecture in StudyTask.allCases {
            let a = try trainedWeights(architecture, seed: 3, threads: 1)
            let b = try trainedWeights(architecture, seed: 3, threads: 1)
            XCTAssertEqual(zip(a, b).filter { $0 != $1 }.count, 0, "\(architecture): weights differing between two runs")
            XCTAssertEqual(a.count, b.count)
            let untrained = try architecture.build(seed: 3).parameters.flatMap(\.value).map(\.bitPattern)
            XCTAssertNotEqual(a, untrained, "\(architecture): training changed nothing")
        }
    }

    func testOneAndTwoOpenBLASThreadsGiveTheSameBits() throws {
        for architecture in StudyTask.allCases {
            let one = try trainedWeights(architecture, seed: 4, threads: 1)
            let two = try trainedWeights(architecture, seed: 4, threads: 2)
            XCTAssertEqual(one.count, two.count)
            XCTAssertEqual(zip(one, two).filter { $0 != $1 }.count, 0, "\(architecture): weights differing between 1 and 2 threads")
        }
    }

    func testDifferentSeedsDiffer() throws {
        XCTAssertNotEqual(try trainedWeights(.boston, seed: 1, threads: 1), try trainedWeights(.boston, seed: 2, threads: 1))
    }

    /// Any epoch can be recomputed from (weights, optimizer state, seed, epoch): epochs 1–2 then
    /// 3–4 in a second loop sharing the same model and optimizer equal epochs 1–4 in one go.
    func testEpochsAreReconstructibleFromSeedAndEpoch() throws {
        let data = try SyntheticData.splits(.boston, train: 100, validation: 20, seed: 8)
        func loop(_ model: Sequential, _ optimizer: Optimizer) throws -> TrainingLoop {
            try TrainingLoop(model: model, optimizer: optimizer, loss: .meanAbsoluteError, metric: .meanAbsoluteError, data: data,
                             configuration: TrainingConfiguration(epochs: 4, batchSize: 32, seed: 8))
        }
        let straight = try StudyTask.boston.build(seed: 8)
        let straightRecords = try loop(straight, try Adam()).run()

        let split = try StudyTask.boston.build(seed: 8)
        let optimizer = try Adam()
        let first = try loop(split, optimizer)
        let firstRecords = (0..<2).map { first.runEpoch($0) }
        let second = try loop(split, optimizer)  // a fresh loop, as after a restart
        let secondRecords = (2..<4).map { second.runEpoch($0) }
        XCTAssertEqual(split.parameters.flatMap(\.value).map(\.bitPattern), straight.parameters.flatMap(\.value).map(\.bitPattern))
        XCTAssertEqual((firstRecords + secondRecords).map(\.row.loss), straightRecords.map(\.row.loss))
    }

    func testDropoutMasksDependOnStepOnly() throws {
        let model = try Sequential(inputShape: [50], layers: [Dropout(0.5)], seed: 1)
        let x = try Tensor(shape: [1, 50], scalars: [Float](repeating: 1, count: 50))
        let a = model.forward(x, context: ForwardContext(training: true, seed: 1, step: 17))
        _ = model.forward(x, context: ForwardContext(training: true, seed: 1, step: 18))
        let b = model.forward(x, context: ForwardContext(training: true, seed: 1, step: 17))
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a, model.forward(x, context: ForwardContext(training: true, seed: 1, step: 18)))
        XCTAssertEqual(Set(a.scalars), [0, 2])
        XCTAssertEqual(model.forward(x, context: ForwardContext(training: false)), x)
    }
}
