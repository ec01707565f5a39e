import Data
import Engine
import Foundation
import Store

/// What one epoch produced; the unit the research log stores.
public struct EpochRecord: Sendable, Equatable {
    /// How the epoch ended: all its steps, a stop requested at a step boundary, or a
    /// non-finite loss or gradient at a global step (that step's update is not applied).
    public enum Outcome: Sendable, Equatable {
        case completed
        case stopped(atStep: Int)
        case diverged(atStep: Int)
    }

    public var outcome: Outcome = .completed
    /// When stopped mid-epoch: everything needed to finish the epoch later to the same bits.
    public var progress: EpochProgress?
    /// Global index of the epoch's first step.
    public var firstStep: Int = 0
    public var stepLosses: [Float] = []
    public var stepGradientNorms: [Float] = []
    /// Each layer's gradient norm at the epoch's last step.
    public var layerGradientNorms: [String: Double]
    /// The epoch's row as the log keeps it (run and optimizer checksum filled in when logged).
    public var row: Epoch

    public var epoch: Int { row.epoch }
}

/// A partly done epoch: its steps so far and their running sums, exactly (Float64 bits).
public struct EpochProgress: Sendable, Equatable {
    public var stepsDone: Int
    public var lossSum: Double
    public var metricSum: Double
    public var losses: [Float]
    public var norms: [Double]
    public var learningRate: Double

    public init(stepsDone: Int, lossSum: Double, metricSum: Double, losses: [Float], norms: [Double], learningRate: Double) {
        (self.stepsDone, self.lossSum, self.metricSum, self.losses, self.norms, self.learningRate) = (stepsDone, lossSum, metricSum, losses, norms, learningRate)
    }
}

public struct TrainingConfiguration: Sendable {
    public var epochs: Int
    public var batchSize: Int
    public var seed: UInt64
    public var shuffle: Bool

    public init(epochs: Int, batchSize: Int = 32, seed: UInt64 = 0, shuffle: Bool = true) {
        self.epochs = epochs
        self.batchSize = batchSize
        self.seed = seed
        self.shuffle = shuffle
    }
}

/// Keras's `fit`, read top to bottom: per epoch, shuffle with the epoch's own stream, then for
/// each batch forward, loss, backward, gradient norms, optimizer step; then validate.
/// Losses and metrics are means over samples, as Keras's progress bar reports them.
public final class TrainingLoop {
    public let model: Sequential
    public let optimizer: Optimizer
    public let loss: Loss
    public let metric: Metric
    public let data: DataSplits
    public let configuration: TrainingConfiguration

    public init(model: Sequential, optimizer: Optimizer, loss: Loss, metric: Metric,
                data: DataSplits, configuration: TrainingConfiguration) throws {
        guard configuration.epochs >= 0 else { throw EngineError.invalidConfiguration("epochs must not be negative") }
        guard configuration.batchSize > 0 else { throw EngineError.invalidConfiguration("batch size must be positive") }
        guard data.train.count > 0 else { throw EngineError.invalidConfiguration("the training set is empty") }
        guard data.train.inputShape == model.inputShape, data.validation.inputShape == model.inputShape else {
            throw EngineError.shapeMismatch("data inputs \(data.train.inputShape) do not fit the model's \(model.inputShape)")
        }
        self.model = model
        self.optimizer = optimizer
        self.loss = loss
        self.metric = metric
        self.data = data
        self.configuration = configuration
    }

    public var stepsPerEpoch: Int { (data.train.count + configuration.batchSize - 1) / configuration.batchSize }

    /// Trains `configuration.epochs` epochs, calling `onEpoch` after each.
    @discardableResult
    public func run(onEpoch: (EpochRecord) -> Void = { _ in }) -> [EpochRecord] {
        (0..<configuration.epochs).map { epoch in
            let record = runEpoch(epoch)
            onEpoch(record)
            return record
        }
    }

    /// One epoch; a pure function of (weights, optimizer state, seed, epoch). `shouldStop` is
    /// asked before every step; `onStep(step, loss)` hears after each (for progress displays).
    /// `from` continues an epoch stopped part-way.
    /// `onStepsDone` runs once the epoch's last step has been applied and before the validation
    /// pass, which only reads the weights (a logged run encodes its checkpoint meanwhile).
    public func runEpoch(_ epoch: Int, from progress: EpochProgress? = nil, shouldStop: () -> Bool = { false },
                         onStep: (Int, Float) -> Void = { _, _ in }, onStepsDone: () -> Void = {}) -> EpochRecord {
        let started = DispatchTime.now().uptimeNanoseconds
        let n = data.train.count, batchSize = configuration.batchSize
        var shuffleStream = RandomStream(seed: configuration.seed, purpose: .shuffle, UInt64(epoch))
        let order = configuration.shuffle ? shuffleStream.permutation(n) : Array(0..<n)

        var lossSum = progress?.lossSum ?? 0, metricSum = progress?.metricSum ?? 0
        var norms: [Double] = progress?.norms ?? [], losses: [Float] = progress?.losses ?? []
        norms.reserveCapacity(stepsPerEpoch)
        let firstStep = epoch * stepsPerEpoch
        let learningRate = progress?.learningRate ?? Double(optimizer.currentLearningRate)
        var outcome = EpochRecord.Outcome.completed
        var stoppedProgress: EpochProgress?
        for step in (progress?.stepsDone ?? 0)..<stepsPerEpoch {
            if shouldStop() {
                outcome = .stopped(atStep: firstStep + step)
                stoppedProgress = EpochProgress(stepsDone: step, lossSum: lossSum, metricSum: metricSum, losses: losses, norms: norms,
                                                learningRate: learningRate)
                break
            }
            let rows = order[(step * batchSize)..<min(n, (step + 1) * batchSize)]
            let (x, y) = data.train.batch(rows)
            let context = ForwardContext(training: true, seed: configuration.seed, step: UInt64(firstStep + step))
            let (batchLoss, predictions) = model.lossAndGradients(x: x, y: y, loss: loss, context: context)
            let norm = model.gradientNorm
            losses.append(batchLoss)
            norms.append(norm)
            guard batchLoss.isFinite, norm.isFinite else {
                outcome = .diverged(atStep: firstStep + step)
                break
            }
            optimizer.apply(to: model.parameters)
            lossSum += Double(batchLoss) * Double(rows.count)
            metricSum += metric.value(predictions: predictions, targets: y) * Double(rows.count)
            onStep(step + 1, batchLoss)
        }
        let layerNorms = Dictionary(uniqueKeysWithValues: model.layerGradientNorms.map { ($0.layer, $0.norm) })
        let trainSeconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        if outcome == .completed { onStepsDone() }
        let (validationLoss, validationMetric) = outcome == .completed ? evaluate(data.validation) : (.nan, .nan)
        return EpochRecord(
            outcome: outcome, progress: stoppedProgress, firstStep: firstStep, stepLosses: losses, stepGradientNorms: norms.map(Float.init),
            layerGradientNorms: layerNorms,
            row: Epoch(epoch: epoch + 1, loss: lossSum / Double(n), metric: metricSum / Double(n), valLoss: validationLoss,
                       valMetric: validationMetric, gradNormMean: norms.reduce(0, +) / Double(norms.count), gradNormMin: norms.min() ?? 0,
                       gradNormMax: norms.max() ?? 0, gradNormLast: norms.last ?? 0, learningRate: learningRate,
                       seconds: Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9, samplesPerSecond: Double(n) / trainSeconds))
    }

    /// Sample-weighted mean loss and metric over a data set, in inference mode.
    public func evaluate(_ set: any SampleSource, batchSize: Int = 256) -> (loss: Double, metric: Double) {
        guard set.count > 0 else { return (.nan, .nan) }
        var lossSum = 0.0, metricSum = 0.0
        var start = 0
        while start < set.count {
            let rows = start..<min(set.count, start + batchSize)
            let (x, y) = set.batch(rows)
            let predictions = model.forward(x)
            lossSum += Double(loss.value(predictions: predictions, targets: y)) * Double(rows.count)
            metricSum += metric.value(predictions: predictions, targets: y) * Double(rows.count)
            start = rows.upperBound
        }
        return (lossSum / Double(set.count), metricSum / Double(set.count))
    }
}
