/// Keras's metrics, as the fraction or mean over a batch; the training loop weights batches by
/// their size, as Keras's running means do.
public enum Metric: String, CaseIterable, Sendable {
    /// Categorical: argmax of prediction equals argmax of the one-hot target.
    case accuracy
    case binaryAccuracy = "binary_accuracy"
    case sparseCategoricalAccuracy = "sparse_categorical_accuracy"
    case meanAbsoluteError = "mean_absolute_error"
    case meanSquaredError = "mean_squared_error"

    /// The name Keras's `compile()` takes for exactly this metric (`accuracy` is categorical here).
    public var kerasName: String {
        switch self {
        case .accuracy: return "categorical_accuracy"
        case .binaryAccuracy: return "binary_accuracy"
        case .sparseCategoricalAccuracy: return "sparse_categorical_accuracy"
        case .meanAbsoluteError: return "mae"
        case .meanSquaredError: return "mse"
        }
    }

    /// Accuracies go up; errors go down.
    public var higherIsBetter: Bool { self != .meanAbsoluteError && self != .meanSquaredError }

    /// A metric by the name Keras's `compile(metrics=[…])` takes. `accuracy` means what Keras 3
    /// makes of it from the shapes (`is_binary_or_sparse_categorical`): binary for an output one
    /// wide, sparse for class-id targets (a sparse loss), categorical otherwise.
    public init(kerasName name: String, loss: Loss, outputWidth: Int) throws {
        switch name {
        case "accuracy", "acc":
            if outputWidth == 1 { self = .binaryAccuracy }
            else if loss == .sparseCategoricalCrossentropy { self = .sparseCategoricalAccuracy }
            else { self = .accuracy }
        case "binary_accuracy": self = .binaryAccuracy
        case "categorical_accuracy": self = .accuracy
        case "sparse_categorical_accuracy": self = .sparseCategoricalAccuracy
        case "mae", "mean_absolute_error": self = .meanAbsoluteError
        case "mse", "mean_squared_error": self = .meanSquaredError
        default:
            throw EngineError.unsupportedModel("metric '\(name)' is not supported (optilog has accuracy, binary_accuracy, categorical_accuracy, sparse_categorical_accuracy, mae, mse)")
        }
    }

    public func value(predictions: Tensor, targets: Tensor) -> Double {
        let rows = predictions.batch, width = predictions.itemCount
        let p = predictions.scalars, y = targets.scalars
        guard rows > 0 else { return 0 }
        switch self {
        case .meanAbsoluteError:
            var s = 0.0
            for i in p.indices { s += Double(abs(p[i] - y[i])) }
            return s / Double(p.count)
        case .meanSquaredError:
            var s = 0.0
            for i in p.indices { let d = Double(p[i] - y[i]); s += d * d }
            return s / Double(p.count)
        case .binaryAccuracy:
            // Keras thresholds at 0.5: prediction > 0.5 counts as 1.
            var hits = 0
            for i in p.indices where (p[i] > 0.5 ? 1 : 0) == (y[i] > 0.5 ? 1 : 0) { hits += 1 }
            return Double(hits) / Double(p.count)
        case .accuracy, .sparseCategoricalAccuracy:
            var hits = 0
            for r in 0..<rows {
                let predicted = argmax(p, from: r * width, count: width)
                let actual = self == .accuracy ? argmax(y, from: r * width, count: width) : Int(y[r])
                if predicted == actual { hits += 1 }
            }
            return Double(hits) / Double(rows)
        }
    }

    private func argmax(_ v: [Float], from start: Int, count: Int) -> Int {
        var best = 0
        for j in 1..<max(count, 1) where v[start + j] > v[start + best] { best = j }
        return best
    }
}
