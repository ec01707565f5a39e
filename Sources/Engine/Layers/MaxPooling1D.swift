/// Keras `MaxPooling1D`: [batch, steps, c] → [batch, out, c], by default `padding="valid"` and
/// strides = pool size (out = floor(steps/pool)); `same` padding and other strides as Keras
/// computes them. The gradient goes to each window's first maximum.
public final class MaxPooling1D: Layer {
    public let kind = "MaxPooling1D"
    public var name = "max_pooling1d"
    public let poolSize: Int
    public let strides: Int
    public let padding: Padding
    public var parameters: [Parameter] { [] }
    private var steps = 0, channels = 0, outSteps = 0, batch = 0, padBefore = 0
    private var argmax: [Int32] = []

    public init(_ poolSize: Int = 2, strides: Int? = nil, padding: Padding = .valid) {
        self.poolSize = poolSize
        self.strides = strides ?? poolSize
        self.padding = padding
    }

    public func build(inputShape: [Int], context: BuildContext) throws -> [Int] {
        guard inputShape.count == 2 else { throw EngineError.shapeMismatch("\(name) expects [steps, channels], got \(inputShape)") }
        guard poolSize > 0, strides > 0 else { throw EngineError.invalidConfiguration("\(name): pool size and strides must be positive") }
        (steps, channels) = (inputShape[0], inputShape[1])
        outSteps = padding.outputLength(input: steps, size: poolSize, stride: strides)
        padBefore = padding.before(input: steps, size: poolSize, stride: strides)
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
                    let (start, taps) = windowTaps(output: t, stride: strides, padBefore: padBefore, size: poolSize, input: steps)
                    let first = (b * steps + start + taps.lowerBound) * channels
                    for ch in 0..<channels {
                        var bestIndex = first + ch
                        for p in 1..<max(taps.count, 1) where xp[first + p * channels + ch] > xp[bestIndex] {
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
