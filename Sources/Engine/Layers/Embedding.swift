/// Keras `Embedding`: integer ids [batch, length] (carried as exact Float32 integers) →
/// rows of a [inputDim, outputDim] table, initialised U(−0.05, 0.05).
///
/// The gradient is the full dense table, zero in rows the batch did not use, with repeated ids
/// summed: Keras applies Embedding gradients densely, so every optimizer sees what it would see
/// in Keras.
public final class Embedding: Layer {
    public let kind = "Embedding"
    public var name = "embedding"
    public let inputDim: Int
    public let outputDim: Int
    public var embeddingsInitializer = Initializer.uniform(low: -0.05, high: 0.05)
    public private(set) var table: Parameter!
    public var parameters: [Parameter] { [table] }
    private var length = 0
    /// The ids of the last forward pass, row-major [batch · length].
    private(set) var ids: [Int32] = []

    public init(inputDim: Int, outputDim: Int) {
        self.inputDim = inputDim
        self.outputDim = outputDim
    }

    public func build(inputShape: [Int], context: BuildContext) throws -> [Int] {
        guard inputShape.count == 1 else {
            throw EngineError.shapeMismatch("\(name) expects [sequence length] of ids, got \(inputShape)")
        }
        guard inputDim > 0, outputDim > 0 else { throw EngineError.invalidConfiguration("\(name): dimensions must be positive") }
        length = inputShape[0]
        var rng = context.weightStream
        let shape = [inputDim, outputDim]
        _ = try checkedCount(shape, "\(name)'s table")
        table = Parameter(name: "\(name)/embeddings", shape: shape,
                          value: embeddingsInitializer.values(shape: shape, rng: &rng))
        return [length, outputDim]
    }

    /// The ids of a batch, checked to be integers in 0..<inputDim.
    func ids(of x: Tensor) -> [Int32] {
        x.scalars.map { v in
            precondition(v >= 0 && v < Float(inputDim) && v == v.rounded(), "\(name): id \(v) is not an integer in 0..<\(inputDim)")
            return Int32(v)
        }
    }

    public func forward(_ x: Tensor, context: ForwardContext) -> Tensor {
        let d = outputDim
        ids = ids(of: x)
        var y: [Float] = uninitializedArray(count: ids.count * d)
        table.value.withUnsafeBufferPointer { tp in
            y.withUnsafeMutableBufferPointer { yp in
                for (n, id) in ids.enumerated() {
                    (yp.baseAddress! + n * d).update(from: tp.baseAddress! + Int(id) * d, count: d)
                }
            }
        }
        return Tensor(unchecked: [x.batch, length, d], y)
    }

    public func backward(_ dy: Tensor, needsInputGradient: Bool) -> Tensor? {
        let d = outputDim
        dy.scalars.withUnsafeBufferPointer { gp in
            table.gradient.withUnsafeMutableBufferPointer { dp in
                dp.update(repeating: 0)
                for (n, id) in ids.enumerated() {
                    let row = dp.baseAddress! + Int(id) * d, g = gp.baseAddress! + n * d
                    for j in 0..<d { row[j] += g[j] }
                }
            }
        }
        return nil  // ids are not differentiable
    }
}
