#if canImport(Glibc)
import Glibc
#endif

/// Keras's losses with `reduction="sum_over_batch_size"`: a per-sample value (the mean or sum
/// over the last axis, as Keras defines each loss), averaged over the batch.
public enum Loss: String, CaseIterable, Sendable {
    case meanAbsoluteError = "mean_absolute_error"
    case meanSquaredError = "mean_squared_error"
    case binaryCrossentropy = "binary_crossentropy"
    case categoricalCrossentropy = "categorical_crossentropy"
    case sparseCategoricalCrossentropy = "sparse_categorical_crossentropy"

    /// A loss by the name (or class) Keras's `compile(loss=…)` takes, with its default options.
    public init(kerasName name: String) throws {
        switch name {
        case "mse", "mean_squared_error", "MeanSquaredError": self = .meanSquaredError
        case "mae", "mean_absolute_error", "MeanAbsoluteError": self = .meanAbsoluteError
        case "binary_crossentropy", "BinaryCrossentropy": self = .binaryCrossentropy
        case "categorical_crossentropy", "CategoricalCrossentropy": self = .categoricalCrossentropy
        case "sparse_categorical_crossentropy", "SparseCategoricalCrossentropy": self = .sparseCategoricalCrossentropy
        default:
            throw EngineError.unsupportedModel("loss '\(name)' is not supported (optilog has mse, mae, binary_crossentropy, categorical_crossentropy, sparse_categorical_crossentropy)")
        }
    }

    /// Keras's `backend.epsilon()`, which clips probabilities in the cross-entropies.
    public static let epsilon: Float = 1e-7

    /// Mean loss over the batch, accumulated in Float64.
    public func value(predictions: Tensor, targets: Tensor) -> Float {
        let (rows, width) = layout(predictions, targets)
        let p = predictions.scalars, y = targets.scalars
        var total = 0.0
        for r in 0..<rows {
            total += Double(sampleLoss(p, y, row: r, width: width))
        }
        return Float(total / Double(rows))
    }

    /// dLoss/dPredictions for the batch mean, as Keras's autodiff sees it (clips included).
    public func gradient(predictions: Tensor, targets: Tensor) -> Tensor {
        let (rows, width) = layout(predictions, targets)
        let p = predictions.scalars, y = targets.scalars
        var g = [Float](repeating: 0, count: p.count)
        let eps = Self.epsilon
        let perRow = 1 / Float(rows)
        switch self {
        case .meanAbsoluteError, .meanSquaredError, .binaryCrossentropy:
            let scale = perRow / Float(width)
            for i in p.indices {
                switch self {
                case .meanAbsoluteError:
                    let d = p[i] - y[i]
                    g[i] = d > 0 ? scale : (d < 0 ? -scale : 0)
                case .meanSquaredError:
                    g[i] = 2 * (p[i] - y[i]) * scale
                default:
                    // L = −[y·log(q+ε) + (1−y)·log(1−q+ε)], q = clip(p, ε, 1−ε)
                    guard p[i] >= eps && p[i] <= 1 - eps else { g[i] = 0; continue }
                    g[i] = -(y[i] / (p[i] + eps) - (1 - y[i]) / (1 - p[i] + eps)) * scale
                }
            }
        case .categoricalCrossentropy, .sparseCategoricalCrossentropy:
            // L = −Σ t·log(clip(p/Σp)); differentiate through the normalisation and the clip.
            for r in 0..<rows {
                let base = r * width
                var sum: Float = 0
                for j in 0..<width { sum += p[base + j] }
                var dq = [Float](repeating: 0, count: width)
                for j in 0..<width {
                    let q = p[base + j] / sum
                    let t = target(y, row: r, column: j, width: width)
                    dq[j] = (q >= eps && q <= 1 - eps) ? -t / q : 0
                }
                var dot: Float = 0
                for j in 0..<width { dot += dq[j] * p[base + j] }
                for j in 0..<width { g[base + j] = (dq[j] - dot / sum) / sum * perRow }
            }
        }
        return Tensor(unchecked: predictions.shape, g)
    }

    private func layout(_ predictions: Tensor, _ targets: Tensor) -> (rows: Int, width: Int) {
        let rows = predictions.batch, width = predictions.itemCount
        if self == .sparseCategoricalCrossentropy {
            precondition(targets.count == rows, "\(rawValue): \(targets.count) class ids for \(rows) predictions")
        } else {
            precondition(targets.count == predictions.count,
                         "\(rawValue): targets \(targets.shape) do not match predictions \(predictions.shape)")
        }
        return (rows, width)
    }

    @inline(__always)
    private func target(_ y: [Float], row: Int, column: Int, width: Int) -> Float {
        if self == .sparseCategoricalCrossentropy { return Int(y[row]) == column ? 1 : 0 }
        return y[row * width + column]
    }

    private func sampleLoss(_ p: [Float], _ y: [Float], row: Int, width: Int) -> Float {
        let base = row * width, eps = Self.epsilon
        switch self {
        case .meanAbsoluteError:
            var s: Float = 0
            for j in 0..<width { s += abs(p[base + j] - y[base + j]) }
            return s / Float(width)
        case .meanSquaredError:
            var s: Float = 0
            for j in 0..<width { let d = p[base + j] - y[base + j]; s += d * d }
            return s / Float(width)
        case .binaryCrossentropy:
            var s: Float = 0
            for j in 0..<width {
                let q = min(max(p[base + j], eps), 1 - eps), t = y[base + j]
                s += -(t * logf(q + eps) + (1 - t) * logf(1 - q + eps))
            }
            return s / Float(width)
        case .categoricalCrossentropy, .sparseCategoricalCrossentropy:
            var sum: Float = 0
            for j in 0..<width { sum += p[base + j] }
            var s: Float = 0
            for j in 0..<width {
                let t = target(y, row: row, column: j, width: width)
                if t != 0 { s -= t * logf(min(max(p[base + j] / sum, eps), 1 - eps)) }
            }
            return s
        }
    }
}
