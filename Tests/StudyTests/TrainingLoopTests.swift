import XCTest
import Data
import Engine
@testable import Study

final class TrainingLoopTests: XCTestCase {
    func testEveryStudyModelLearnsItsSyntheticTask() throws {
        // (architecture, samples, epochs, what the last epoch's validation loss must beat)
        let cases: [(StudyTask, Int, Int, Double)] = [
            (.boston, 404, 30, 0.5),        // MAE falls to less than half of the first epoch's
            (.fashionMNIST, 512, 3, 0.5),
            (.imdb, 256, 4, 0.99),
            (.jena, 256, 4, 0.9),
        ]
        for (architecture, samples, epochs, ratio) in cases {
            let data = try SyntheticData.splits(architecture, train: samples, validation: samples / 4, seed: 1)
            let loop = try TrainingLoop(model: try architecture.build(seed: 1), optimizer: try Adam(learningRate: architecture == .boston ? 0.01 : 0.001),
                                        loss: architecture.loss, metric: architecture.metric, data: data,
                                        configuration: TrainingConfiguration(epochs: epochs, batchSize: 32, seed: 1))
            let records = loop.run()
            XCTAssertEqual(records.map(\.epoch), Array(1...epochs))
            let first = try XCTUnwrap(records.first), last = try XCTUnwrap(records.last)
            XCTAssertLessThan(try XCTUnwrap(last.row.loss), try XCTUnwrap(first.row.loss) * ratio, "\(architecture) train loss \(records.map(\.row.loss))")
            XCTAssertLessThan(try XCTUnwrap(last.row.valLoss), try XCTUnwrap(first.row.valLoss), "\(architecture) val loss \(records.map(\.row.valLoss))")
            for r in records {
                let (low, mean, high, end) = (try XCTUnwrap(r.row.gradNormMin), try XCTUnwrap(r.row.gradNormMean), try XCTUnwrap(r.row.gradNormMax),
                                              try XCTUnwrap(r.row.gradNormLast))
                XCTAssert(low <= mean && mean <= high)
                XCTAssert(end >= low && end <= high)
                XCTAssertGreaterThan(try XCTUnwrap(r.row.samplesPerSecond), 0)
                XCTAssertEqual(Set(r.layerGradientNorms.keys), Set(loop.model.layers.filter { !$0.parameters.isEmpty }.map(\.name)))
            }
        }
    }

    func testEpochLossIsTheSampleWeightedMeanOfBatchLosses() throws {
        // 10 samples in batches of 4: 4 + 4 + 2. With lr = 0 nothing moves, so the epoch's loss
        // must equal the loss of the whole set evaluated at once.
        let data = try SyntheticData.splits(.boston, train: 10, validation: 10, seed: 2)
        let model = try StudyTask.boston.build(seed: 2)
        let loop = try TrainingLoop(model: model, optimizer: try SGD(learningRate: 0), loss: .meanAbsoluteError, metric: .meanAbsoluteError,
                                    data: data, configuration: TrainingConfiguration(epochs: 1, batchSize: 4, seed: 2))
        let record = loop.runEpoch(0)
        let (x, y) = data.train.batch(0..<10)
        let whole = Loss.meanAbsoluteError.value(predictions: model.forward(x), targets: y)
        XCTAssertEqual(try XCTUnwrap(record.row.loss), Double(whole), accuracy: 1e-5)
        XCTAssertEqual(loop.stepsPerEpoch, 3)
    }

    func testInvalidConfigurationsAreClearErrors() throws {
        let data = try SyntheticData.splits(.boston, train: 10, validation: 5, seed: 1)
        let model = try StudyTask.boston.build(seed: 1)
        XCTAssertThrowsError(try TrainingLoop(model: model, optimizer: try Adam(), loss: .meanAbsoluteError, metric: .meanAbsoluteError, data: data,
                                              configuration: TrainingConfiguration(epochs: 1, batchSize: 0)))
        let jena = try SyntheticData.splits(.jena, train: 4, validation: 2, seed: 1)
        XCTAssertThrowsError(try TrainingLoop(model: model, optimizer: try Adam(), loss: .meanAbsoluteError, metric: .meanAbsoluteError, data: jena,
                                              configuration: TrainingConfiguration(epochs: 1))) { error in
            XCTAssertEqual("\(error)", "shape mismatch: data inputs [120, 14] do not fit the model's [13]")
        }
        XCTAssertThrowsError(try Dataset(name: "broken", x: Tensor(zeros: [3, 2]), y: Tensor(zeros: [2, 1])))
    }
}
