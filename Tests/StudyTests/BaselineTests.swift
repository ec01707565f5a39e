import Basics
import XCTest
import Data
import Engine
@testable import Store
@testable import Study

/// The trivial baseline — predicting the training targets' mean (or class prior) — scored with
/// the task's own loss and metric, by hand; and logged with every new run.
final class BaselineTests: XCTestCase {
    func splits(train: [Float], validation: [Float], width: Int = 1) throws -> DataSplits {
        func set(_ y: [Float]) throws -> Dataset {
            try Dataset(name: "d", x: try Tensor(shape: [y.count / width, 1], scalars: Array(repeating: 0, count: y.count / width)),
                        y: try Tensor(shape: [y.count / width, width], scalars: y))
        }
        return DataSplits(train: try set(train), validation: try set(validation))
    }

    func testRegressionPredictsTheTrainingMean() throws {
        let b = Baseline(task: .boston, data: try splits(train: [1, 2, 3], validation: [2, 6]))
        XCTAssertEqual(b.valLoss, 2, accuracy: 1e-6, "MAE of predicting 2: (0 + 4) / 2")
        XCTAssertEqual(b.valMetric, 2, accuracy: 1e-6)
    }

    func testBinaryClassesPredictThePrior() throws {
        let b = Baseline(task: .imdb, data: try splits(train: [1, 1, 0, 0, 1], validation: [1, 0, 0, 0]))
        // p = 0.6: −(log 0.6 + 3 log 0.4) / 4; every prediction says "1" (p > 0.5): 1 of 4 right.
        XCTAssertEqual(b.valLoss, -(log(0.6) + 3 * log(0.4)) / 4, accuracy: 1e-5)
        XCTAssertEqual(b.valMetric, 0.25, accuracy: 1e-6)
    }

    func testOneHotClassesPredictThePrior() throws {
        // Priors (0.5, 0.25, 0.25); validation: classes 1 and 0.
        let b = Baseline(task: .fashionMNIST, data: try splits(train: [1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1], validation: [0, 1, 0, 1, 0, 0], width: 3))
        XCTAssertEqual(b.valLoss, -(log(0.25) + log(0.5)) / 2, accuracy: 1e-5)
        XCTAssertEqual(b.valMetric, 0.5, accuracy: 1e-6, "argmax of the prior is class 0: one of two")
    }

    /// A new run logs its baseline; the table's winner must beat it.
    func testARunLogsItsBaseline() throws {
        let store = try Store(path: NSTemporaryDirectory() + "optilog-baseline-\(UUID().uuidString).sqlite")
        let spec = RunSpec(task: .boston, optimizer: "adam", optimizerConfiguration: try Optimizers.make("adam", settings: []).config,
                           epochs: 1, samples: 64, validationSamples: 32, synthetic: true)
        let training = try LoggedTraining.start(spec, store: store)
        let expected = try PreparedRun(spec, locator: DataLocator()).baseline()
        let run = try XCTUnwrap(try store.reader.run(training.run))
        XCTAssertEqual(run.baselineValLoss, expected.valLoss)
        XCTAssertEqual(run.baselineValMetric, expected.valMetric)
        XCTAssertEqual(Comparison(run).baseline(.valLoss), expected.valLoss)
        XCTAssertNil(Comparison(run).baseline(.loss), "training loss has no baseline")
    }
}

/// Runs logged before stratified slices keep their first-N slices, and their JSON (so their
/// configuration fingerprint, which resume checks) is unchanged.
final class SlicingCompatibilityTests: XCTestCase {
    func testAnOldRunKeepsItsSlicesAndFingerprint() throws {
        let old = #"{"task": "imdb", "architecture": "imdb", "batch_size": 32, "seed": 1, "samples": 512, "validation_samples": 256, "synthetic": false}"#
        let adam = try Optimizers.make("adam", settings: []).config
        let spec = try RunSpec(json: try ConfigValue.parse(old), optimizer: "adam", optimizerConfiguration: adam, epochs: 2)
        XCTAssertEqual(spec.slicing, .prefix)
        XCTAssertEqual(spec.json.json, old)
        let new = RunSpec(task: .imdb, optimizer: "adam", optimizerConfiguration: adam, epochs: 2, samples: 512, validationSamples: 256)
        XCTAssertEqual(new.slicing, .stratified)
        XCTAssertTrue(new.json.json.hasSuffix(#""synthetic": false, "slicing": "stratified-2"}"#), new.json.json)
        XCTAssertNotEqual(new.fingerprint(datasetFingerprint: "d"), spec.fingerprint(datasetFingerprint: "d"))
        let back = try RunSpec(json: new.json, optimizer: "adam", optimizerConfiguration: adam, epochs: 2)
        XCTAssertEqual(back.slicing, .stratified)
        let everyRow = old.replacingOccurrences(of: "}", with: #", "slicing": "stratified-1"}"#)
        let lastSession = try RunSpec(json: try ConfigValue.parse(everyRow), optimizer: "adam", optimizerConfiguration: adam, epochs: 2)
        XCTAssertEqual(lastSession.slicing, .stratifiedEveryRow)
        XCTAssertEqual(lastSession.json.json, everyRow)
        XCTAssertThrowsError(try RunSpec(json: try ConfigValue.parse(old.replacingOccurrences(of: "}", with: #", "slicing": "magic"}"#)),
                                         optimizer: "adam", optimizerConfiguration: adam, epochs: 2))
    }
}
