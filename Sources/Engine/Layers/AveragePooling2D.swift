/// Keras `AveragePooling2D`: the mean of each window, by default `padding="valid"` and strides
/// = pool size. With `same` padding a window at the border averages only its input positions
/// (TensorFlow's rule). The gradient spreads each output's gradient evenly over its window.
public final class AveragePooling2D: Layer {
    public let kind = "AveragePooling2D"
    public var name = "average_pooling2d"
    public let poolSize: (Int, Int)
    public let strides: (Int, Int)
    public let padding: Padding
    public var parameters: [Parameter] { [] }
    private var inH = 0, inW = 0, channels = 0, outH = 0, outW = 0, batch = 0, padTop = 0, padLeft = 0

    public init(poolSize: (Int, Int) = (2, 2), strides: (Int, Int)? = nil, padding: Padding = .valid) {
        self.poolSize = poolSize
        self.strides = strides ?? poolSize
        self.padding = padding
    }

    public func build(inputShape: [Int], context: BuildContext) throws -> [Int] {
        guard inputShape.count == 3 else {
            throw EngineError.shapeMismatch("\(name) expects [height, width, channels], got \(inputShape)")
        }
        guard poolSize.0 > 0, poolSize.1 > 0, strides.0 > 0, strides.1 > 0 else {
            throw EngineError.invalidConfiguration("\(name): pool size and strides must be positive")
        }
        (inH, inW, channels) = (inputShape[0], inputShape[1], inputShape[2])
        let grid = WindowGrid(height: inH, width: inW, size: poolSize, strides: strides, padding: padding)
        (outH, outW, padTop, padLeft) = (grid.outH, grid.outW, grid.padTop, grid.padLeft)
        guard outH > 0, outW > 0 else { throw EngineError.shapeMismatch("\(name): pool \(poolSize) larger than input \(inputShape)") }
        return [outH, outW, channels]
    }

    /// Calls `body(output index, first input index of each window row, rows, columns)` for every window.
    private func windows(_ body: (Int, Int, Range<Int>, Range<Int>, Int) -> Void) {
        var o = 0
        for b in 0..<batch {
            for oh in 0..<outH {
                let (top, rows) = windowTaps(output: oh, stride: strides.0, padBefore: padTop, size: poolSize.0, input: inH)
                for ow in 0..<outW {
                    let (left, cols) = windowTaps(output: ow, stride: strides.1, padBefore: padLeft, size: poolSize.1, input: inW)
                    body(o, (b * inH + top) * inW + left, rows, cols, rows.count * cols.count)
                    o += channels
                }
            }
        }
    }

    public func forward(_ x: Tensor, context: ForwardContext) -> Tensor {
        batch = x.batch
        let (inW, channels) = (inW, channels)
        var y = [Float](repeating: 0, count: batch * outH * outW * channels)
        x.scalars.withUnsafeBufferPointer { xp in
            y.withUnsafeMutableBufferPointer { yp in
                windows { o, corner, rows, cols, count in
                    let out = yp.baseAddress! + o
                    for i in rows { for j in cols { addInPlace(out, xp.baseAddress! + ((corner + i * inW + j) * channels), count: channels) } }
                    let scale = Float(count)
                    for c in 0..<channels { out[c] /= scale }
                }
            }
        }
        return Tensor(unchecked: [batch, outH, outW, channels], y)
    }

    public func backward(_ dy: Tensor, needsInputGradient: Bool) -> Tensor? {
        guard needsInputGradient else { return nil }
        let (inW, channels) = (inW, channels)
        var dx = [Float](repeating: 0, count: batch * inH * inW * channels)
        dy.scalars.withUnsafeBufferPointer { gp in
            dx.withUnsafeMutableBufferPointer { dp in
                var share = [Float](repeating: 0, count: channels)
                windows { o, corner, rows, cols, count in
                    let scale = Float(count)
                    for c in 0..<channels { share[c] = gp[o + c] / scale }
                    for i in rows { for j in cols { addInPlace(dp.baseAddress! + ((corner + i * inW + j) * channels), share, count: channels) } }
                }
            }
        }
        return Tensor(unchecked: [batch, inH, inW, channels], dx)
    }
}
