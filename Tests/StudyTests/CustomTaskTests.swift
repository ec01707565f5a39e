import Basics
import Data
import Engine
import Foundation
import OptilogTestSupport
import Store
import Study
import XCTest

/// A user's own model and data: its first epochs match Keras 3's `fit` from the same weights on
/// the same data order (`fixtures/custom/keras_fit_reference.json`, written by
/// `tools/reference/make_custom_models.py`), its runs resume bit-identically, and its data and
/// task name are checked.
final class CustomTaskTests: XCTestCase {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    func fixture(_ name: String) -> String { root.appendingPathComponent("fixtures/custom/\(name)").path }

    override func setUp() { setenv("OPENBLAS_CORETYPE", BLAS.coreName, 1) }
    override func tearDown() { unsetenv("OPENBLAS_CORETYPE") }

    func task(_ name: String, loss: String? = nil, metric: String? = nil, weights: Bool = true, taskName: String? = nil) throws -> CustomTask {
        try CustomTask(name: taskName ?? name, modelPath: fixture("\(name).json"), data: UserData.Request(path: fixture("\(name)-data.npz")),
                       loss: loss, metric: metric, initialWeights: weights ? fixture("\(name)-weights.npz") : nil)
    }

    /// Three models (an MLP, a CNN with same padding and strides, a stacked LSTM), Adam and SGD,
    /// three epochs without shuffling from Keras's initial weights: every epoch's loss, metric,
    /// val_loss and val_metric within 1e-5 relative of Keras's (the largest difference seen is
    /// 2.2e-7: Float32 sums in another order; the test prints it).
    func testFirstEpochsMatchKerasFit() throws {
        let reference = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: fixture("keras_fit_reference.json")))) as? [String: Any])
        let cases = try XCTUnwrap(reference["cases"] as? [String: [String: Any]])
        XCTAssertEqual(Set(cases.keys), ["mlp", "cnn", "lstm"])
        var worst: (difference: Double, what: String) = (0, "")
        defer { print("CustomTaskTests: largest relative difference to Keras's fit: \(worst.difference) (\(worst.what))") }
        for (name, c) in cases.sorted(by: { $0.key < $1.key }) {
            let custom = try task(name, loss: c["loss"] as? String, metric: c["metric"] as? String)
            for (optimizer, history) in try XCTUnwrap(c["runs"] as? [String: [String: [Double]]]) {
                let spec = RunSpec(custom: custom, optimizer: optimizer, optimizerConfiguration: try Optimizers.make(optimizer, settings: []).config,
                                   epochs: 3, batchSize: 32)
                let p = try PreparedRun(spec, locator: DataLocator())
                let loop = try TrainingLoop(model: p.model, optimizer: p.optimizer, loss: spec.loss, metric: spec.metric, data: p.data,
                                            configuration: TrainingConfiguration(epochs: 3, batchSize: 32, seed: 1, shuffle: false))
                let epochs = loop.run()
                let metricKey = history.keys.first { $0 != "loss" && !$0.hasPrefix("val_") }!
                for (i, e) in epochs.enumerated() {
                    let pairs: [(String, Double?, Double)] = [("loss", e.row.loss, history["loss"]![i]), (metricKey, e.row.metric, history[metricKey]![i]),
                                                              ("val_loss", e.row.valLoss, history["val_loss"]![i]),
                                                              ("val_" + metricKey, e.row.valMetric, history["val_" + metricKey]![i])]
                    for (what, mine, keras) in pairs {
                        let value = try XCTUnwrap(mine, "\(name) \(optimizer) epoch \(i + 1) \(what)")
                        let difference = abs(value - keras) / max(1, abs(keras))
                        if difference > worst.difference { worst = (difference, "\(name) \(optimizer) epoch \(i + 1) \(what)") }
                        XCTAssertEqual(value, keras, accuracy: 1e-5 * max(1, abs(keras)), "\(name) \(optimizer) epoch \(i + 1) \(what)")
                    }
                }
            }
        }
    }

    /// Killed (stopped) part-way and resumed: the same log as a run never interrupted.
    func testCustomRunResumesBitIdentically() throws {
        let spec = RunSpec(custom: try task("lstm", loss: "mse", weights: false), optimizer: "rmsprop",
                           optimizerConfiguration: try Optimizers.make("rmsprop", settings: []).config, epochs: 2, batchSize: 16)
        let dir = freshDirectory("optilog-custom")
        let reference = try Store(path: dir.appendingPathComponent("reference.sqlite").path)
        XCTAssertEqual(try LoggedTraining.start(spec, store: reference, policy: CheckpointPolicy(seconds: 0)).train(), .completed)
        let stopped = try Store(path: dir.appendingPathComponent("stopped.sqlite").path)
        var steps = 0
        let first = try LoggedTraining.start(spec, store: stopped, policy: CheckpointPolicy(seconds: 0))
        XCTAssertEqual(try first.train(shouldStop: { steps == 9 }, onStep: { _, _, _, _ in steps += 1 }), .interrupted)
        XCTAssertEqual(try LoggedTraining.resume(run: 1, store: stopped).train(), .completed)
        func log(_ store: Store) throws -> [String] {
            try store.reader.epochs(run: 1).map { "\($0.epoch) \($0.loss.map(\.bitPattern) ?? 0) \($0.valLoss.map(\.bitPattern) ?? 0) \($0.optimizerChecksum)" }
        }
        XCTAssertEqual(try log(stopped), try log(reference))
        XCTAssertEqual(try log(reference).count, 2)
        let run = try XCTUnwrap(try reference.reader.run(1))
        XCTAssertEqual(run.task, "lstm")
        let stored = try ConfigValue.parse(run.modelConfiguration)
        XCTAssertEqual(stored["architecture"], .string("keras"))
        XCTAssertEqual(stored["custom"]?["model_fingerprint"], .string(spec.custom!.model.fingerprint))
        XCTAssertNotNil(stored["custom"]?["model"]?["config"], "the model's JSON is kept with the run")
    }

    /// A compiled `.keras` file: its config.json gives the model, the loss and the metric, its
    /// model.weights.h5 (HDF5) the starting weights — the very values of the .npz.
    func testAKerasFileGivesModelCompileSettingsAndWeights() throws {
        for name in ["cnn", "lstm"] {
            let fromKeras = try CustomTask(name: name, modelPath: fixture("\(name).keras"), data: UserData.Request(path: fixture("\(name)-data.npz")),
                                           loss: nil, metric: nil, initialWeights: fixture("\(name).keras"))
            let fromNumPy = try task(name, loss: name == "cnn" ? "categorical_crossentropy" : "mse", metric: name == "cnn" ? "accuracy" : "mae")
            XCTAssertEqual(fromKeras.loss, fromNumPy.loss)
            XCTAssertEqual(fromKeras.metric, fromNumPy.metric)
            XCTAssertEqual(fromKeras.model.fingerprint, fromNumPy.model.fingerprint)
            XCTAssertEqual(fromKeras.initialWeightsFingerprint, fromNumPy.initialWeightsFingerprint, "\(name): the same starting weights")
            let layers = try fromKeras.model.build(seed: 0).savedNames
            let h5 = try KerasFiles.weights(fixture("\(name).keras"), layers: layers)
            let npz = try KerasFiles.weights(fixture("\(name)-weights.npz"))
            XCTAssertEqual(h5.map(\.shape), npz.map(\.shape))
            XCTAssertEqual(h5.map { $0.values.map(\.bitPattern) }, npz.map { $0.values.map(\.bitPattern) })
        }
        XCTAssertThrowsError(try KerasFiles.weights(fixture("mlp.json"))) {
            XCTAssertEqual("\($0)", "mlp.json: is not an .npz archive; save the weights with np.savez(\"weights.npz\", *model.get_weights())")
        }
    }

    /// The metric is Keras's for the loss and shapes, is stored by what it computes, and reads
    /// back (resume, `--jobs` children) as the same metric.
    func testMetricsFitTheLossAndReadBackAsThemselves() throws {
        XCTAssertThrowsError(try task("cnn", loss: "sparse_categorical_crossentropy", metric: "mae", weights: false)) {
            XCTAssertEqual("\($0)", "metric mae does not fit sparse_categorical_crossentropy, whose targets are class ids (use accuracy or sparse_categorical_accuracy)")
        }
        XCTAssertThrowsError(try task("cnn", loss: "categorical_crossentropy", metric: "sparse_categorical_accuracy", weights: false)) {
            XCTAssertEqual("\($0)", "metric sparse_categorical_accuracy reads class ids; with categorical_crossentropy the targets are not (use accuracy)")
        }
        // Keras: accuracy of a 10-wide output under binary cross-entropy is categorical accuracy.
        let binary = try task("cnn", loss: "binary_crossentropy", metric: "accuracy", weights: false)
        XCTAssertEqual(binary.metric, .accuracy)
        XCTAssertEqual(try task("mlp", loss: "mse", metric: "accuracy", weights: false).metric, .binaryAccuracy)
        let categorical = try task("mlp", loss: "binary_crossentropy", metric: "categorical_accuracy", weights: false)
        let stored = try CustomTask(stored: categorical.json, dataDir: nil)
        XCTAssertEqual(stored.metric, .accuracy, "categorical accuracy stays categorical on a one-wide output")
        XCTAssertEqual(stored.identity, categorical.identity)
    }

    /// An output with several axes: Keras's cross-entropies take a distribution per step, so
    /// only the elementwise losses and metrics are allowed.
    func testOutputsWithSeveralAxesTakeElementwiseLossesOnly() throws {
        let file = freshDirectory("optilog-custom").appendingPathComponent("steps.json")
        try #"{"class_name": "Sequential", "config": {"name": "steps", "layers": [{"class_name": "InputLayer", "config": {"batch_shape": [null, 24, 4]}}, {"class_name": "Conv1D", "config": {"name": "per_step", "filters": 3, "kernel_size": 1, "activation": "softmax"}}]}}"#
            .write(to: file, atomically: true, encoding: .utf8)
        func make(_ loss: String, _ metric: String?) throws -> CustomTask {
            try CustomTask(name: "steps", modelPath: file.path, data: UserData.Request(path: fixture("lstm-data.npz")), loss: loss, metric: metric, initialWeights: nil)
        }
        XCTAssertThrowsError(try make("categorical_crossentropy", nil)) {
            XCTAssertEqual("\($0)", "the model's output has shape [24, 3]: with more than one axis optilog trains mse, mae and binary_crossentropy, with mae, mse or binary_accuracy (add a Flatten or a global pooling before the last Dense)")
        }
        XCTAssertEqual(try make("mse", nil).model.outputShape, [24, 3])
    }

    /// A study stopped part-way, its data file moved, run again with the file's new path: the
    /// stopped cell resumes from its checkpoint on the moved file (its fingerprint still checked).
    func testAStudyRunAgainFindsItsMovedDataFile() throws {
        let dir = freshDirectory("optilog-custom")
        let (first, second) = (dir.appendingPathComponent("first"), dir.appendingPathComponent("second"))
        for folder in [first, second] { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) }
        try FileManager.default.copyItem(atPath: fixture("mlp-data.npz"), toPath: first.appendingPathComponent("mlp-data.npz").path)
        func plan(_ folder: URL) throws -> StudyPlan {
            let task = try CustomTask(name: "moved", modelPath: fixture("mlp.json"), data: UserData.Request(path: folder.appendingPathComponent("mlp-data.npz").path),
                                      loss: "mae", metric: nil, initialWeights: nil)
            return try StudyPlan(custom: task, name: "moved", optimizers: ["sgd"], epochs: 4)
        }
        let path = dir.appendingPathComponent("log.sqlite").path
        let store = try Store(path: path)
        var runner = StudyRunner(plan: try plan(first), store: store, storePath: path)
        var steps = 0
        runner.observe = { if case .step = $0 { steps += 1 } }
        runner.shouldStop = { steps >= 20 }
        _ = try runner.run()
        XCTAssertEqual(try store.reader.run(1)?.status, .interrupted)
        try FileManager.default.moveItem(atPath: first.appendingPathComponent("mlp-data.npz").path, toPath: second.appendingPathComponent("mlp-data.npz").path)
        let again = StudyRunner(plan: try plan(second), store: store, storePath: path)
        let outcome = try again.run()
        XCTAssertEqual(outcome.failures, 0)
        XCTAssertEqual(try store.reader.run(1)?.status, .completed)
        XCTAssertEqual(try store.reader.epochs(run: 1).count, 4)
    }

    func testOneTaskNameStandsForOneModel() throws {
        let store = try Store(path: freshDirectory("optilog-custom").appendingPathComponent("log.sqlite").path)
        let sgd = try Optimizers.make("sgd", settings: []).config
        let mlp = RunSpec(custom: try task("mlp", loss: "mae", taskName: "mine"), optimizer: "sgd", optimizerConfiguration: sgd, epochs: 1)
        XCTAssertEqual(try LoggedTraining.start(mlp, store: store).train(), .completed)
        let other = RunSpec(custom: try task("mlp", loss: "mse", taskName: "mine"), optimizer: "sgd", optimizerConfiguration: sgd, epochs: 1)
        XCTAssertThrowsError(try LoggedTraining.start(other, store: store)) { error in
            XCTAssertEqual("\(error)", "task 'mine' in this log (run 1 on) has another loss; give this one another --task-name")
        }
        XCTAssertThrowsError(try task("mlp", loss: "mae", taskName: "boston")) {
            XCTAssertEqual("\($0)", "invalid configuration: 'boston' is a built-in task; give your own model's task another name (--task-name)")
        }
        XCTAssertEqual(try store.reader.customTasks().map(\.task), ["mine"])
    }

    func testDataIsCheckedAgainstTheModel() throws {
        let dir = freshDirectory("optilog-custom")
        let mlp = try task("mlp", loss: "mae", weights: false)
        // A CSV with a target column, validated on its last fifth as Keras's validation_split.
        let csv = dir.appendingPathComponent("table.csv")
        var text = (0..<13).map { "f\($0)" }.joined(separator: ",") + ",price\n"
        for r in 0..<10 { text += (0..<13).map { String(r * 13 + $0) }.joined(separator: ",") + ",\(r)\n" }
        try text.write(to: csv, atomically: true, encoding: .utf8)
        let (splits, description, _) = try UserData.load(UserData.Request(path: csv.path, target: "price", validationSplit: 0.2), expecting: mlp.expectation)
        XCTAssertEqual([splits.train.count, splits.validation.count], [8, 2])
        XCTAssertEqual(splits.validation.batch([0]).y.scalars, [8])
        XCTAssertEqual(splits.validation.batch([0]).x.scalars.first, 104)
        XCTAssertEqual(description, "table.csv: 8 train, 2 validation (validation_split 0.2)")
        func refusal(_ request: UserData.Request, _ expectation: UserData.Expectation? = nil) -> String {
            do { _ = try UserData.load(request, expecting: expectation ?? mlp.expectation); return "no error" } catch { return "\(error)" }
        }
        XCTAssertEqual(refusal(UserData.Request(path: csv.path, target: "cost", validationSplit: 0.2)),
                       "table.csv: has no column 'cost' (it has f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, price)")
        XCTAssertEqual(refusal(UserData.Request(path: csv.path, target: "price")), "table.csv: a CSV file holds one table: give --validation-split (e.g. 0.2)")
        try (text + String(repeating: "1,", count: 13) + "nan\n").write(to: csv, atomically: true, encoding: .utf8)
        XCTAssertEqual(refusal(UserData.Request(path: csv.path, target: "price", validationSplit: 0.2)),
                       "table.csv: line 12, column 'price': \"nan\" is not a finite number")
        // The CNN's data against the MLP: shapes named.
        XCTAssertEqual(refusal(UserData.Request(path: fixture("cnn-data.npz"))),
                       "cnn-data.npz: train: x has samples of shape [28, 28, 1], the model's input is [13]")
        // Class ids for a sparse loss must be ids of the model's classes.
        let cnn = try task("cnn", loss: "sparse_categorical_crossentropy", weights: false)
        XCTAssertEqual(cnn.metric, .sparseCategoricalAccuracy)
        XCTAssertEqual(refusal(UserData.Request(path: fixture("cnn-data.npz")), cnn.expectation),
                       "cnn-data.npz: train: sparse_categorical_crossentropy reads one class id per sample, y has shape [600, 10]")
        XCTAssertEqual(refusal(UserData.Request(path: fixture("mlp.json"))),
                       "mlp.json: is neither .npz nor .csv (optilog reads np.savez archives and CSV tables)")
        // Weights of another model.
        XCTAssertThrowsError(try CustomTask(name: "x", modelPath: fixture("mlp.json"), data: UserData.Request(path: fixture("mlp-data.npz")),
                                            loss: "mae", metric: nil, initialWeights: fixture("cnn-weights.npz"))) {
            XCTAssertEqual("\($0)", "shape mismatch: weight array 0 has shape [3, 3, 1, 8]; dense/kernel is [13, 32]")
        }
        // An Embedding's ids must lie below its input_dim; class ids must be classes (not 1e30).
        let ids = dir.appendingPathComponent("ids.csv")
        try "a,b,y\n1,2,0\n3,50,1\n4,5,0\n6,7,1\n".write(to: ids, atomically: true, encoding: .utf8)
        let embedding = UserData.Expectation(inputShape: [2], vocabulary: 10, outputShape: [1], loss: .binaryCrossentropy)
        XCTAssertEqual(refusal(UserData.Request(path: ids.path, target: "y", validationSplit: 0.25), embedding),
                       "ids.csv: train: the model's Embedding reads ids in 0..<10, but x holds 50.0 at flat index 3")
        try "a,b,y\n1,2,0\n3,5,1e30\n4,5,0\n6,7,1\n".write(to: ids, atomically: true, encoding: .utf8)
        let sparse = UserData.Expectation(inputShape: [2], vocabulary: nil, outputShape: [3], loss: .sparseCategoricalCrossentropy)
        XCTAssertEqual(refusal(UserData.Request(path: ids.path, target: "y", validationSplit: 0.25), sparse),
                       "ids.csv: train: y holds 1e+30 at index 1, not a class id in 0..<3")
        try "a,y,y\n1,2,0\n".write(to: ids, atomically: true, encoding: .utf8)
        XCTAssertEqual(refusal(UserData.Request(path: ids.path, target: "y", validationSplit: 0.25), sparse), "ids.csv: has several columns named 'y'")
        XCTAssertThrowsError(try task("mlp", loss: "hinge")) {
            XCTAssertEqual("\($0)", "loss 'hinge' is not supported (optilog has mse, mae, binary_crossentropy, categorical_crossentropy, sparse_categorical_crossentropy)")
        }
    }
}
