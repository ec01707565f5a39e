/// Keras `MaxPooling1D` with `padding="valid"` and strides = pool size: [batch, steps, c] →
/// [batch, floor(steps/pool), c]; the gradient goes to each window's first maximum.
public final class MaxPooling1D: Layer {
    public let kind = "MaxPooling1D"
    public var name = "max_pooling1d"
    public let poolSize: Int
    public var parameters: [Parameter] { [] }
    private var steps = 0, channels = 0, outSteps = 0, batch = 0
    private var argmax: [Int32] = []

    public init(_ poolSize: Int = 2) { self.poolSize = poolSize }

    public func build(inputShape: [Int], context: BuildContext) throws -> [Int] {
        guard inputShape.count == 2 else { throw EngineError.shapeMismatch("\(name) expects [steps, channels], got \(inputShape)") }
        guard poolSize > 0 else { throw EngineError.invalidConfiguration("\(name): pool size must be positive") }
        (steps, channels) = (inputShape[0], inputShape[1])
        outSteps = steps / poolSize
        guard outSteps > 0 else { throw EngineError.shapeMismatch("\(name): pool \(poolSize) longer than \(steps) steps") }
        return [outSteps, channels]
    }

    public func forward(_ x: Tensor, context: ForwardContext) -> Tensor {
        batch = x.batch
        var y = [Float](repeating: 0, count: batch * outSteps * channels)
        argmax = [Int32](repeating: 0, count: y.count)
        x.scalars.withUnsafeBufferPointer { xp in
            for b in 0..<batch {
                for t in 0..<outSteps {
                    let o = (b * outSteps + t) * channels
                    let first = (b * steps + t * poolSize) * channels
                    for ch in 0..<channels {
                        var bestIndex = first + ch
                        for p in 1..<max(poolSize, 1) where xp[first + p * channels + ch] > xp[bestIndex] {
                            bestIndex = first + p * channels + ch
                        }
                        y[o + ch] = xp[bestIndex]
                        argmax[o + ch] = Int32(bestIndex)
                    }
                }
            }
        }
        return Tensor(unchecked: [batch, outSteps, channels], y)
    }

    public func backward(_ dy: Tensor, needsInputGradient: Bool) -> Tensor? {
        guard needsInputGradient else { return nil }
        var dx = [Float](repeating: 0, count: batch * steps * channels)
        scatterAdd(dy.scalars, at: argmax, into: &dx)
        return Tensor(unchecked: [batch, steps, channels], dx)
    }
}
