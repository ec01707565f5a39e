/// Keras `GlobalMaxPooling1D`: [batch, steps, c] → [batch, c], the maximum over time; the
/// gradient goes to the first step that holds it.
public final class GlobalMaxPooling1D: Layer {
    public let kind = "GlobalMaxPooling1D"
    public var name = "global_max_pooling1d"
    public var parameters: [Parameter] { [] }
    private var steps = 0, channels = 0, batch = 0
    private var argmax: [Int32] = []

    public init() {}

    public func build(inputShape: [Int], context: BuildContext) throws -> [Int] {
        guard inputShape.count == 2, inputShape[0] > 0 else {
            throw EngineError.shapeMismatch("\(name) expects [steps, channels], got \(inputShape)")
        }
        (steps, channels) = (inputShape[0], inputShape[1])
        return [channels]
    }

    public func forward(_ x: Tensor, context: ForwardContext) -> Tensor {
        batch = x.batch
        var y = [Float](repeating: 0, count: batch * channels)
        argmax = [Int32](repeating: 0, count: y.count)
        x.scalars.withUnsafeBufferPointer { xp in
            for b in 0..<batch {
                let base = b * steps * channels
                for ch in 0..<channels {
                    var bestIndex = base + ch
                    for t in 1..<steps where xp[base + t * channels + ch] > xp[bestIndex] {
                        bestIndex = base + t * channels + ch
                    }
                    y[b * channels + ch] = xp[bestIndex]
                    argmax[b * channels + ch] = Int32(bestIndex)
                }
            }
        }
        return Tensor(unchecked: [batch, channels], y)
    }

    public func backward(_ dy: Tensor, needsInputGradient: Bool) -> Tensor? {
        guard needsInputGradient else { return nil }
        var dx = [Float](repeating: 0, count: batch * steps * channels)
        scatterAdd(dy.scalars, at: argmax, into: &dx)
        return Tensor(unchecked: [batch, steps, channels], dx)
    }
}
