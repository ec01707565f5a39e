import Data
import Engine

/// Everything a run needs before it trains — its data (located, cut, fingerprinted), its model
/// with initial weights, its optimizer with empty state — so that bad input fails before the
/// log holds a run that cannot train. `train` (in memory) and logged runs share it.
public struct PreparedRun {
    public let spec: RunSpec
    public var data: DataSplits
    /// What the data set is and where it came from.
    public var dataset: String
    public var datasetFingerprint: String
    /// The run's configuration fingerprint (`RunSpec.fingerprint`).
    public var fingerprint: String
    public var model: Sequential
    public var optimizer: Optimizer
    /// What the user should hear about where the data came from.
    public var notes: [String]
    /// Predicting the training mean or class prior, scored on the validation data (a pass over
    /// both sets: call it once).
    public func baseline() -> Baseline { Baseline(loss: spec.loss, metric: spec.metric, classes: model.outputShape.last ?? 1, data: data) }

    public init(_ spec: RunSpec, locator: DataLocator) throws {
        let (data, dataset, notes) = try spec.prepareData(locator: locator)
        guard data.train.count > 0 else { throw EngineError.invalidConfiguration("\(dataset): the training set is empty") }
        guard data.validation.count > 0 else { throw EngineError.invalidConfiguration("\(dataset): the validation set is empty") }
        self.spec = spec
        self.data = data
        self.dataset = dataset
        self.notes = notes
        datasetFingerprint = Fingerprint.of(data.train) + ":" + Fingerprint.of(data.validation)
        fingerprint = spec.fingerprint(datasetFingerprint: datasetFingerprint)
        (model, optimizer) = try Self.fresh(spec, inputShape: data.train.inputShape)
    }

    /// The run's model with its initial weights, and its optimizer with empty state.
    static func fresh(_ spec: RunSpec, inputShape: [Int]) throws -> (Sequential, Optimizer) {
        let model: Sequential
        if let custom = spec.custom {
            model = try custom.model.build(seed: spec.seed)
            if let path = custom.initialWeights { try model.setWeights(try KerasFiles.weights(path, layers: model.savedNames)) }
        } else if let task = spec.task {
            model = try task.build(inputShape: inputShape, seed: spec.seed)
        } else {
            throw EngineError.invalidConfiguration("a run needs a task")
        }
        return (model, try Optimizers.make(spec.optimizer, config: spec.optimizerConfiguration))
    }

    /// The training loop over this model, optimizer and data.
    public func loop() throws -> TrainingLoop {
        try TrainingLoop(model: model, optimizer: optimizer, loss: spec.loss, metric: spec.metric, data: data,
                         configuration: TrainingConfiguration(epochs: spec.epochs, batchSize: spec.batchSize, seed: spec.seed))
    }
}
