/// Keras `MaxPooling2D` with `padding="valid"` and strides equal to the pool size (Keras's
/// default): output floor(h/ph) × floor(w/pw). The gradient goes to the first maximum of each
/// window in row-major order, as TensorFlow's CPU kernel routes it.
public final class MaxPooling2D: Layer {
    public let kind = "MaxPooling2D"
    public var name = "max_pooling2d"
    public let poolSize: (Int, Int)
    public var parameters: [Parameter] { [] }

    private var inH = 0, inW = 0, channels = 0, outH = 0, outW = 0, batch = 0
    /// For every output value, the flat input index of its maximum.
    private var argmax: [Int32] = []

    public init(poolSize: (Int, Int) = (2, 2)) { self.poolSize = poolSize }
    public convenience init(_ pool: Int) { self.init(poolSize: (pool, pool)) }

    public func build(inputShape: [Int], context: BuildContext) throws -> [Int] {
        guard inputShape.count == 3 else {
            throw EngineError.shapeMismatch("\(name) expects [height, width, channels], got \(inputShape)")
        }
        guard poolSize.0 > 0, poolSize.1 > 0 else { throw EngineError.invalidConfiguration("\(name): pool size must be positive") }
        (inH, inW, channels) = (inputShape[0], inputShape[1], inputShape[2])
        (outH, outW) = (inH / poolSize.0, inW / poolSize.1)
        guard outH > 0, outW > 0 else { throw EngineError.shapeMismatch("\(name): pool \(poolSize) larger than input \(inputShape)") }
        return [outH, outW, channels]
    }

    public func forward(_ x: Tensor, context: ForwardContext) -> Tensor {
        batch = x.batch
        let (ph, pw) = poolSize
        var y = [Float](repeating: 0, count: batch * outH * outW * channels)
        argmax = [Int32](repeating: 0, count: y.count)
        x.scalars.withUnsafeBufferPointer { xp in
            var o = 0
            for b in 0..<batch {
                for oh in 0..<outH {
                    for ow in 0..<outW {
                        for c in 0..<channels {
                            var best = -Float.infinity
                            var bestIndex = ((b * inH + oh * ph) * inW + ow * pw) * channels + c
                            for i in 0..<ph {
                                for j in 0..<pw {
                                    let idx = ((b * inH + oh * ph + i) * inW + ow * pw + j) * channels + c
                                    if xp[idx] > best { best = xp[idx]; bestIndex = idx }
                                }
                            }
                            y[o] = xp[bestIndex]
                            argmax[o] = Int32(bestIndex)
                            o += 1
                        }
                    }
                }
            }
        }
        return Tensor(unchecked: [batch, outH, outW, channels], y)
    }

    public func backward(_ dy: Tensor, needsInputGradient: Bool) -> Tensor? {
        guard needsInputGradient else { return nil }
        var dx = [Float](repeating: 0, count: batch * inH * inW * channels)
        for (o, g) in dy.scalars.enumerated() { dx[Int(argmax[o])] += g }
        return Tensor(unchecked: [batch, inH, inW, channels], dx)
    }
}
