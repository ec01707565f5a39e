/// Keras `MaxPooling2D`: by default `padding="valid"` and strides equal to the pool size,
/// output floor(h/ph) × floor(w/pw); `same` padding and other strides as Keras computes them
/// (padding never wins). The gradient goes to the first maximum of each window in row-major
/// order, as TensorFlow's CPU kernel routes it.
public final class MaxPooling2D: Layer {
    public let kind = "MaxPooling2D"
    public var name = "max_pooling2d"
    public let poolSize: (Int, Int)
    public let strides: (Int, Int)
    public let padding: Padding
    public var parameters: [Parameter] { [] }

    private var inH = 0, inW = 0, channels = 0, outH = 0, outW = 0, batch = 0, padTop = 0, padLeft = 0
    /// For every output value, the flat input index of its maximum.
    private var argmax: [Int32] = []

    public init(poolSize: (Int, Int) = (2, 2), strides: (Int, Int)? = nil, padding: Padding = .valid) {
        self.poolSize = poolSize
        self.strides = strides ?? poolSize
        self.padding = padding
    }
    public convenience init(_ pool: Int) { self.init(poolSize: (pool, pool)) }

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

    public func forward(_ x: Tensor, context: ForwardContext) -> Tensor {
        precondition(x.count < Int(Int32.max), "\(name): input too large for 32-bit indices")
        batch = x.batch
        let lane = SIMD16<Int32>(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
        let (ph, pw) = poolSize
        let (inH, inW, channels, outH, outW, (sh, sw), padTop, padLeft) = (inH, inW, channels, outH, outW, strides, padTop, padLeft)
        let count = batch * outH * outW * channels
        var y: [Float] = uninitializedArray(count: count)
        var arg: [Int32] = uninitializedArray(count: count)
        x.scalars.withUnsafeBufferPointer { xp in
            y.withUnsafeMutableBufferPointer { yp in
                arg.withUnsafeMutableBufferPointer { ap in
                  let pointers = UncheckedSendable((xp, yp, ap))
                  // Blocks of samples on the threads; each writes only its own outputs.
                  Parallel.forEachBlock(of: batch, size: Parallel.samplesPerBlock(itemsPerSample: inH * inW * channels)) { samples in
                    let (xp, yp, ap) = pointers.value
                    // Channels innermost: each window position compares a whole channel vector.
                    var o = samples.lowerBound * outH * outW * channels
                    for b in samples {
                        for oh in 0..<outH {
                            let (top, rows) = windowTaps(output: oh, stride: sh, padBefore: padTop, size: ph, input: inH)
                            for ow in 0..<outW {
                                let (left, cols) = windowTaps(output: ow, stride: sw, padBefore: padLeft, size: pw, input: inW)
                                // The window's first input position; taps are counted from it.
                                let corner = ((b * inH + top + rows.lowerBound) * inW + left + cols.lowerBound) * channels
                                let (wh, ww) = (rows.count, cols.count)
                                var c = 0
                                // 16 channels at a time, branch-free (random data defeats the
                                // branch predictor); strict > keeps the first maximum.
                                while c + 16 <= channels {
                                    var best = load(xp.baseAddress! + corner + c)
                                    var where_ = SIMD16<Int32>(repeating: Int32(truncatingIfNeeded: corner + c)) &+ lane
                                    for i in 0..<wh {
                                        for j in 0..<ww where i > 0 || j > 0 {
                                            let base = corner + (i * inW + j) * channels + c
                                            let v = load(xp.baseAddress! + base)
                                            let better = v .> best
                                            best.replace(with: v, where: better)
                                            where_.replace(with: SIMD16<Int32>(repeating: Int32(truncatingIfNeeded: base)) &+ lane,
                                                           where: better)
                                        }
                                    }
                                    store(best, yp.baseAddress! + o + c)
                                    UnsafeMutableRawPointer(ap.baseAddress! + o + c).storeBytes(of: where_, as: SIMD16<Int32>.self)
                                    c += 16
                                }
                                while c < channels {
                                    var best = xp[corner + c], bestIndex = corner + c
                                    for i in 0..<wh {
                                        for j in 0..<ww where i > 0 || j > 0 {
                                            let index = corner + (i * inW + j) * channels + c
                                            if xp[index] > best { (best, bestIndex) = (xp[index], index) }
                                        }
                                    }
                                    yp[o + c] = best
                                    ap[o + c] = Int32(truncatingIfNeeded: bestIndex)
                                    c += 1
                                }
                                o += channels
                            }
                        }
                    }
                  }
                }
            }
        }
        argmax = arg
        return Tensor(unchecked: [batch, outH, outW, channels], y)
    }

    public func backward(_ dy: Tensor, needsInputGradient: Bool) -> Tensor? {
        guard needsInputGradient else { return nil }
        let (input, pooled) = (inH * inW * channels, outH * outW * channels)
        var dx: [Float] = uninitializedArray(count: batch * input)
        dy.scalars.withUnsafeBufferPointer { gp in
            argmax.withUnsafeBufferPointer { ip in
                dx.withUnsafeMutableBufferPointer { dp in
                    let pointers = UncheckedSendable((gp, ip, dp))
                    // A sample's maxima all lie in that sample's input: blocks of samples are disjoint.
                    Parallel.forEachBlock(of: batch, size: Parallel.samplesPerBlock(itemsPerSample: input)) { samples in
                        let (g, indices, dx) = pointers.value
                        (dx.baseAddress! + samples.lowerBound * input).initialize(repeating: 0, count: samples.count * input)
                        for o in (samples.lowerBound * pooled)..<(samples.upperBound * pooled) { dx[Int(indices[o])] += g[o] }
                    }
                }
            }
        }
        return Tensor(unchecked: [batch, inH, inW, channels], dx)
    }
}

/// dx[indices[o]] += g[o]: routes pooled gradients back to the inputs that won.
func scatterAdd(_ g: [Float], at indices: [Int32], into dx: inout [Float]) {
    precondition(g.count == indices.count)
    g.withUnsafeBufferPointer { gp in
        indices.withUnsafeBufferPointer { ip in
            dx.withUnsafeMutableBufferPointer { dp in
                for o in 0..<gp.count { dp[Int(ip[o])] += gp[o] }
            }
        }
    }
}
