import Foundation


/// Keras's `Sequential`: layers applied in order to inputs of a fixed per-sample shape.
public final class Sequential {
    public let inputShape: [Int]
    public let layers: [any Layer]
    /// Per-sample output shape of each layer.
    public let outputShapes: [[Int]]
    public let seed: UInt64
    /// How the passes run: each layer, except an Embedding feeding a Conv1D, which run as one
    /// fused stage (unless the model was built with `fusing: false`).
    public let stages: [any Stage]
    /// Each layer's name where Keras 3 saves its weights (`layers/NAME/…` in model.weights.h5):
    /// its class in snake case, numbered within the model — whatever name the layer was given.
    public let savedNames: [String]

    /// Builds every layer (creating its weights from the seed's weight streams) and names
    /// them as Keras does: `dense`, `dense_1`, … (or as `names` says, for a user's own model).
    public init(inputShape: [Int], layers: [any Layer], seed: UInt64, fusing: Bool = true, names: [String]? = nil) throws {
        guard !layers.isEmpty else { throw EngineError.invalidConfiguration("a model needs at least one layer") }
        guard inputShape.allSatisfy({ $0 > 0 }) else {
            throw EngineError.shapeMismatch("input shape \(inputShape) has a non-positive dimension")
        }
        _ = try checkedCount(inputShape, limit: maximumSampleValues, "the input")
        self.inputShape = inputShape
        self.layers = layers
        self.seed = seed
        var seen: [String: Int] = [:]
        var shape = inputShape
        var shapes: [[Int]] = []
        var paths: [String] = []
        for (index, layer) in layers.enumerated() {
            let base = snakeCase(layer.kind)
            let n = seen[base, default: 0]
            seen[base] = n + 1
            paths.append(n == 0 ? base : "\(base)_\(n)")
            layer.name = names?[index] ?? paths[index]
            shape = try layer.build(inputShape: shape, context: BuildContext(index: index, seed: seed))
            _ = try checkedCount(shape, limit: maximumSampleValues, "\(layer.name)'s output")
            shapes.append(shape)
        }
        self.outputShapes = shapes
        savedNames = paths
        stages = fusing ? Self.fuse(layers) : layers
    }

    /// The layers as stages, each Embedding → Conv1D pair as one `FusedEmbeddingConv1D`.
    static func fuse(_ layers: [any Layer]) -> [any Stage] {
        var stages: [any Stage] = []
        var i = 0
        while i < layers.count {
            if i + 1 < layers.count, let embedding = layers[i] as? Embedding, let conv = layers[i + 1] as? Conv1D, conv.isPlain {
                stages.append(FusedEmbeddingConv1D(embedding, conv))
                i += 2
            } else {
                stages.append(layers[i])
                i += 1
            }
        }
        return stages
    }

    public var outputShape: [Int] { outputShapes.last ?? inputShape }

    /// Sets every weight from arrays in Keras's `model.get_weights()` order (each layer's
    /// weights in the order Keras creates them), checked one by one against the model's shapes.
    public func setWeights(_ arrays: [(shape: [Int], values: [Float])]) throws {
        let params = parameters
        guard arrays.count == params.count else {
            throw EngineError.shapeMismatch("\(arrays.count) weight arrays for a model with \(params.count) (\(params.map(\.name).joined(separator: ", ")))")
        }
        for (i, (p, a)) in zip(params, arrays).enumerated() {
            guard a.shape == p.shape, a.values.count == p.count else {
                throw EngineError.shapeMismatch("weight array \(i) has shape \(a.shape); \(p.name) is \(p.shape)")
            }
            guard a.values.allSatisfy(\.isFinite) else { throw EngineError.invalidConfiguration("weight array \(i) (\(p.name)) holds a non-finite value") }
        }
        for (p, a) in zip(params, arrays) { p.value = a.values }
    }

    /// Forward multiply-adds per sample of the dense, convolution and recurrent layers.
    public func forwardMACs() -> Int {
        var macs = 0
        var shape = inputShape
        for (layer, out) in zip(layers, outputShapes) {
            switch layer {
            case let d as Dense: macs += shape.reduce(1, *) * d.units
            case let c as Conv2D: macs += out.reduce(1, *) * c.kernelSize.0 * c.kernelSize.1 * shape[2]
            case let c as Conv1D: macs += out.reduce(1, *) * c.kernelSize * shape[1]
            case let l as LSTM: macs += shape[0] * 4 * l.units * (shape[1] + l.units)
            default: break
            }
            shape = out
        }
        return macs
    }
    public var parameters: [Parameter] { layers.flatMap(\.parameters) }
    public var parameterCount: Int { layers.reduce(0) { $0 + $1.parameterCount } }

    public func forward(_ x: Tensor, context: ForwardContext = ForwardContext(training: false)) -> Tensor {
        precondition(Array(x.shape.dropFirst()) == inputShape, "input \(x.shape) does not match the model's [batch] + \(inputShape)")
        var h = x
        for stage in stages { h = stage.forward(h, context: context) }
        return h
    }

    /// Backpropagates dLoss/dOutput of the last forward pass into every parameter's gradient.
    /// The first layer's input gradient is never formed (nothing needs it).
    public func backward(_ dOutput: Tensor) {
        var g = dOutput
        for (index, stage) in stages.enumerated().reversed() {
            guard let next = stage.backward(g, needsInputGradient: index > 0) else { break }
            g = next
        }
    }

    /// One forward and backward pass over a batch: the loss, and gradients in every parameter.
    public func lossAndGradients(x: Tensor, y: Tensor, loss: Loss, context: ForwardContext) -> (loss: Float, predictions: Tensor) {
        let predictions = forward(x, context: context)
        let value = loss.value(predictions: predictions, targets: y)
        backward(loss.gradient(predictions: predictions, targets: y))
        return (value, predictions)
    }

    /// Predictions in batches, without keeping anything for backward beyond the last batch.
    public func predict(_ x: Tensor, batchSize: Int = 256) -> Tensor {
        let n = x.batch
        var out: [Float] = []
        out.reserveCapacity(n * outputShape.reduce(1, *))
        var start = 0
        while start < n {
            let end = min(n, start + batchSize)
            out += forward(x.gatherRows(start..<end)).scalars
            start = end
        }
        return Tensor(unchecked: [n] + outputShape, out)
    }

    /// L2 norm of all gradients together (Keras's `global_norm`), accumulated in Float64.
    public var gradientNorm: Double {
        parameters.reduce(0.0) { $0 + Self.squaredNorm($1.gradient) }.squareRoot()
    }

    /// L2 norm of each layer's gradients (layers without parameters are left out).
    public var layerGradientNorms: [(layer: String, norm: Double)] {
        layers.filter { !$0.parameters.isEmpty }.map { layer in
            (layer.name, layer.parameters.reduce(0.0) { $0 + Self.squaredNorm($1.gradient) }.squareRoot())
        }
    }

    /// Σ x² in Float64 (squares of Float32 values are exact in Float64), 8 lanes at a time.
    static func squaredNorm(_ v: [Float]) -> Double {
        v.withUnsafeBufferPointer { p in
            let n = p.count, whole = n - n % 8
            var lanes = SIMD8<Double>()
            var i = 0
            while i < whole {
                let x = SIMD8<Double>(UnsafeRawPointer(p.baseAddress! + i).loadUnaligned(as: SIMD8<Float>.self))
                lanes += x * x
                i += 8
            }
            var s = lanes.sum()
            while i < n { s += Double(p[i]) * Double(p[i]); i += 1 }
            return s
        }
    }

    /// A table in the manner of Keras's `model.summary()`.
    public func summary(name: String = "sequential") -> String {
        let rows = layers.enumerated().map { i, layer in
            ("\(layer.name) (\(layer.kind))", "(None, " + outputShapes[i].map(String.init).joined(separator: ", ") + ")",
             layer.parameterCount)
        }
        let w0 = max(29, rows.map { $0.0.count }.max() ?? 0) + 2
        let w1 = max(26, rows.map { $0.1.count }.max() ?? 0) + 2
        let w2 = 15
        func pad(_ s: String, _ w: Int) -> String { s + String(repeating: " ", count: max(0, w - s.count)) }
        func grouped(_ n: Int) -> String {
            let s = String(n)
            var out = ""
            for (i, c) in s.enumerated() {
                if i > 0, (s.count - i) % 3 == 0 { out.append(",") }
                out.append(c)
            }
            return out
        }
        let rule = String(repeating: "━", count: w0 + w1 + w2)
        var lines = ["Model: \"\(name)\"", rule,
                     pad(" Layer (type)", w0) + pad("Output Shape", w1) + "Param #", rule]
        for (i, row) in rows.enumerated() {
            lines.append(pad(" " + row.0, w0) + pad(row.1, w1) + grouped(row.2))
            if i < rows.count - 1 { lines.append(String(repeating: "─", count: w0 + w1 + w2)) }
        }
        let total = parameterCount
        let bytes = Double(total * 4)
        let size = bytes >= 1024 * 1024 ? String(format: "%.2f MB", bytes / 1024 / 1024) : String(format: "%.2f KB", bytes / 1024)
        lines += [rule,
                  " Total params: \(grouped(total)) (\(size))",
                  " Trainable params: \(grouped(total)) (\(size))",
                  " Non-trainable params: 0 (0.00 B)"]
        return lines.joined(separator: "\n")
    }
}
