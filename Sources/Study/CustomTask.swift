import Basics
import Data
import Engine
import Foundation

/// A user's own problem: their Keras model, their data, the loss and metric they train with.
/// It is a task like the built-in four — named, logged, compared only with runs of the same
/// model, loss, metric, starting weights and data.
public struct CustomTask: Sendable, Equatable {
    /// The task's name in the log (never a built-in task's).
    public var name: String
    /// The model's configuration as the user gave it (stored with every run).
    public var modelJSON: ConfigValue
    /// Where it was read from (for `study --jobs` children, which read it again).
    public var modelPath: String?
    public var model: KerasModel
    public var loss: Loss
    public var metric: Metric
    public var data: UserData.Request
    /// Weights every run starts from (instead of seed-drawn ones): a `.keras` file, or an
    /// `np.savez` of `model.get_weights()`.
    public var initialWeights: String?
    /// SHA-256 of the starting weights' values, when given.
    public var initialWeightsFingerprint: String?

    public static func == (a: CustomTask, b: CustomTask) -> Bool { a.json == b.json }

    /// Reads the model (and the weights), and settles loss and metric: the ones given, else the
    /// `compile()` settings stored in a `.keras` file.
    public init(name: String, modelPath: String, data: UserData.Request, loss: String?, metric: String?, initialWeights: String?) throws {
        try self.init(name: name, modelJSON: try KerasFiles.modelConfiguration(modelPath), data: data, loss: loss.map { .string($0) },
                      metric: metric.map { .string($0) }, initialWeights: initialWeights, file: (modelPath as NSString).lastPathComponent)
        self.modelPath = modelPath
    }

    init(name: String, modelJSON: ConfigValue, data: UserData.Request, loss: ConfigValue?, metric: ConfigValue?, initialWeights: String?,
         file: String) throws {
        guard StudyTask(rawValue: name) == nil else {
            throw EngineError.invalidConfiguration("'\(name)' is a built-in task; give your own model's task another name (--task-name)")
        }
        guard !name.isEmpty, name.count <= 64, name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
            throw EngineError.invalidConfiguration("task name '\(name)' must be 1–64 letters, digits, '-', '_' or '.' (give one with --task-name)")
        }
        self.name = name
        self.modelJSON = modelJSON
        do { model = try KerasModel(modelJSON) } catch let error as EngineError { throw EngineError.unsupportedModel("\(file): \(error)") }
        guard let lossValue = loss ?? model.compileLoss else {
            throw EngineError.invalidConfiguration("\(file) holds no compile() settings: give --loss (mse, mae, binary_crossentropy, categorical_crossentropy, sparse_categorical_crossentropy)")
        }
        self.loss = try Self.loss(lossValue)
        let width = model.outputShape.last ?? 1
        let metricName: String
        if case .string(let m)? = metric ?? model.compileMetrics.first { metricName = m }
        else if let m = metric ?? model.compileMetrics.first { throw EngineError.unsupportedModel("metric \(m.json) is not supported; give --metric") }
        else {
            // None given: accuracy for a classifier, MAE for a regression, as the study's own tasks.
            switch self.loss {
            case .meanAbsoluteError, .meanSquaredError: metricName = "mae"
            default: metricName = "accuracy"
            }
        }
        self.metric = try Metric(kerasName: metricName, loss: self.loss, outputWidth: width)
        // Class ids go with sparse accuracy only, and one-hot or numeric targets with the others.
        if (self.loss == .sparseCategoricalCrossentropy) != (self.metric == .sparseCategoricalAccuracy) {
            throw EngineError.unsupportedModel(self.loss == .sparseCategoricalCrossentropy
                ? "metric \(self.metric.kerasName) does not fit sparse_categorical_crossentropy, whose targets are class ids (use accuracy or sparse_categorical_accuracy\(width == 1 ? ", with an output wider than one" : ""))"
                : "metric sparse_categorical_accuracy reads class ids; with \(self.loss.rawValue) the targets are not (use accuracy)")
        }
        // An output with several axes ([steps, classes]): Keras takes a distribution per step, the
        // losses here one per sample; the elementwise losses and metrics agree, the others do not.
        if model.outputShape.count > 1, [.categoricalCrossentropy, .sparseCategoricalCrossentropy].contains(self.loss)
            || model.outputShape.count > 1 && [.accuracy, .sparseCategoricalAccuracy].contains(self.metric) {
            throw EngineError.unsupportedModel("the model's output has shape \(model.outputShape): with more than one axis optilog trains mse, mae and "
                                               + "binary_crossentropy, with mae, mse or binary_accuracy (add a Flatten or a global pooling before the last Dense)")
        }
        self.data = data
        if let initialWeights {
            let built = try model.build(seed: 0)
            let arrays = try KerasFiles.weights(initialWeights, layers: built.savedNames)
            try built.setWeights(arrays)   // shapes checked before anything trains
            self.initialWeights = initialWeights
            var bytes: [UInt8] = []
            for a in arrays {
                bytes += Array(a.shape.map(String.init).joined(separator: ",").utf8) + [0x7C]
                for v in a.values { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes += $0 } }
            }
            initialWeightsFingerprint = sha256Hex(Data(bytes))
        }
    }

    /// A Keras loss: a name, or a serialized loss object at its default options.
    static func loss(_ value: ConfigValue) throws -> Loss {
        switch value {
        case .string(let s): return try Loss(kerasName: s)
        case .object:
            guard case .string(let c)? = value["class_name"] else { throw EngineError.unsupportedModel("loss \(value.json) is not supported") }
            let loss = try Loss(kerasName: c)
            if case .object(let options)? = value["config"] {
                for (k, v) in options {
                    switch (k, v) {
                    case ("name", _), ("dtype", _), ("from_logits", .bool(false)), ("axis", .integer(-1)), ("ignore_class", .null),
                         ("reduction", .string("sum_over_batch_size")), ("reduction", .null), ("fn", _): continue
                    case ("label_smoothing", .number(0)), ("label_smoothing", .integer(0)): continue
                    default: throw EngineError.unsupportedModel("loss \(c) with \(k) = \(v.json) is not supported")
                    }
                }
            }
            return loss
        default: throw EngineError.unsupportedModel("loss \(value.json) is not supported")
        }
    }

    /// What the data must look like for this model.
    public var expectation: UserData.Expectation {
        UserData.Expectation(inputShape: model.inputShape, vocabulary: model.vocabulary, outputShape: model.outputShape, loss: loss)
    }

    /// Stored in the run's configuration: enough to rebuild the task on resume.
    public var json: ConfigValue {
        var data: [(String, ConfigValue)] = [("path", .string(self.data.path))]
        if let t = self.data.target { data.append(("target", .string(t))) }
        if let s = self.data.validationSplit { data.append(("validation_split", .number(s))) }
        var pairs: [(String, ConfigValue)] = [("name", .string(name)), ("model_fingerprint", .string(model.fingerprint)),
                                              ("loss", .string(loss.rawValue)), ("metric", .string(metric.rawValue)), ("data", .object(data))]
        if let w = initialWeights, let f = initialWeightsFingerprint {
            pairs.append(("initial_weights", .object([("path", .string(w)), ("fingerprint", .string(f))])))
        }
        pairs.append(("model", modelJSON))
        return .object(pairs)
    }

    /// SHA-256 of the data file's bytes.
    public func dataFileFingerprint() throws -> String {
        guard let bytes = FileManager.default.contents(atPath: data.path) else {
            throw EngineError.invalidConfiguration("cannot read \(data.path)")
        }
        return sha256Hex(bytes)
    }

    /// What makes two runs of this task alike: the model's architecture, loss, metric and
    /// starting weights (the data are compared by their own fingerprint).
    public var identity: String {
        "model \(model.fingerprint.prefix(16)), loss \(loss.rawValue), metric \(metric.rawValue), "
            + "starting weights \(initialWeightsFingerprint.map { String($0.prefix(16)) } ?? "from the seed")"
    }

    /// Rebuilds the task from a run's stored configuration. A file that moved is looked for by
    /// its name in `dataDir` (resume's `--data-dir`).
    public init(stored json: ConfigValue, dataDir: String?) throws {
        guard case .string(let name)? = json["name"], let model = json["model"], case .string(let path)? = json["data"]?["path"],
              case .string(let loss)? = json["loss"], case .string(let stored)? = json["metric"], let metric = Metric(rawValue: stored) else {
            throw EngineError.invalidConfiguration("the stored configuration of a custom task is incomplete")
        }
        func located(_ path: String) -> String {
            if FileManager.default.fileExists(atPath: path) { return path }
            if let dataDir {
                let moved = (dataDir as NSString).appendingPathComponent((path as NSString).lastPathComponent)
                if FileManager.default.fileExists(atPath: moved) { return moved }
            }
            return path
        }
        var split: Double?
        if case .number(let s)? = json["data"]?["validation_split"] { split = s }
        var target: String?
        if case .string(let t)? = json["data"]?["target"] { target = t }
        var weights: String?
        if case .string(let w)? = json["initial_weights"]?["path"] { weights = located(w) }
        for file in [located(path)] + (weights.map { [$0] } ?? []) where !FileManager.default.fileExists(atPath: file) {
            throw EngineError.invalidConfiguration("task \(name) was trained on \(file), which is gone; pass --data-dir with the folder "
                                                   + "that holds \((file as NSString).lastPathComponent) now")
        }
        try self.init(name: name, modelJSON: model, data: UserData.Request(path: located(path), target: target, validationSplit: split),
                      loss: .string(loss), metric: .string(metric.kerasName), initialWeights: weights, file: name)
        guard self.metric == metric else {
            throw EngineError.invalidConfiguration("the stored metric \(metric.rawValue) reads back as \(self.metric.rawValue)")
        }
        if case .string(let f)? = json["initial_weights"]?["fingerprint"], f != initialWeightsFingerprint {
            throw EngineError.invalidConfiguration("the starting weights at \(weights ?? "?") differ from the ones the run started from")
        }
    }
}
