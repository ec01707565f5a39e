/// Keras `GlobalAveragePooling1D` ([batch, steps, c]) and `GlobalAveragePooling2D` ([batch, h,
/// w, c]): the mean over every position → [batch, c]; the gradient spreads evenly back.
public final class GlobalAveragePooling: Layer {
    public let kind: String
    public var name: String
    public var parameters: [Parameter] { [] }
    private let rank: Int
    private var inputShape: [Int] = [], positions = 0, channels = 0

    /// `rank`: 1 for GlobalAveragePooling1D, 2 for GlobalAveragePooling2D.
    public init(rank: Int) {
        precondition(rank == 1 || rank == 2)
        self.rank = rank
        kind = "GlobalAveragePooling\(rank)D"
        name = "global_average_pooling\(rank)d"
    }

    public func build(inputShape: [Int], context: BuildContext) throws -> [Int] {
        guard inputShape.count == rank + 1, inputShape.allSatisfy({ $0 > 0 }) else {
            throw EngineError.shapeMismatch("\(name) expects \(rank == 1 ? "[steps, channels]" : "[height, width, channels]"), got \(inputShape)")
        }
        self.inputShape = inputShape
        (positions, channels) = (inputShape.dropLast().reduce(1, *), inputShape[rank])
        return [channels]
    }

    public func forward(_ x: Tensor, context: ForwardContext) -> Tensor {
        let batch = x.batch, (positions, channels) = (positions, channels)
        var y = [Float](repeating: 0, count: batch * channels)
        x.scalars.withUnsafeBufferPointer { xp in
            y.withUnsafeMutableBufferPointer { yp in
                for b in 0..<batch {
                    let out = yp.baseAddress! + b * channels
                    for p in 0..<positions { addInPlace(out, xp.baseAddress! + (b * positions + p) * channels, count: channels) }
                    for c in 0..<channels { out[c] /= Float(positions) }
                }
            }
        }
        return Tensor(unchecked: [batch, channels], y)
    }

    public func backward(_ dy: Tensor, needsInputGradient: Bool) -> Tensor? {
        guard needsInputGradient else { return nil }
        let batch = dy.batch, (positions, channels) = (positions, channels)
        var dx = [Float](repeating: 0, count: batch * positions * channels)
        for b in 0..<batch {
            for c in 0..<channels {
                let share = dy.scalars[b * channels + c] / Float(positions)
                for p in 0..<positions { dx[(b * positions + p) * channels + c] = share }
            }
        }
        return Tensor(unchecked: [batch] + inputShape, dx)
    }
}
