/// What a layer learns about its place in the model when the model is built.
public struct BuildContext {
    /// Position in the model; keys the layer's weight and dropout streams.
    public let index: Int
    public let seed: UInt64
    public var weightStream: RandomStream { RandomStream(seed: seed, purpose: .weights, UInt64(index)) }
}

/// What varies between calls of the same layer.
public struct ForwardContext: Sendable {
    public var training: Bool
    public var seed: UInt64
    /// Global step: keys dropout masks, so a step's mask is rebuilt exactly after a resume.
    public var step: UInt64

    public init(training: Bool, seed: UInt64 = 0, step: UInt64 = 0) {
        self.training = training
        self.seed = seed
        self.step = step
    }
}

/// One stage of a model's forward and backward passes: a layer, or layers fused into one
/// kernel (`FusedEmbeddingConv1D`). A forward pass keeps what its backward pass needs.
public protocol Stage: AnyObject {
    func forward(_ x: Tensor, context: ForwardContext) -> Tensor
    /// Writes every parameter's gradient and returns dL/dx when `needsInputGradient`.
    func backward(_ dy: Tensor, needsInputGradient: Bool) -> Tensor?
}

/// A Keras-style layer: built once from its input shape (without the batch axis), then run as
/// a stage of its model (or inside a fused stage).
public protocol Layer: Stage {
    /// Keras's class name, e.g. `Dense`.
    var kind: String { get }
    /// Unique within a model, e.g. `dense_1`; set by the model.
    var name: String { get set }
    var parameters: [Parameter] { get }
    /// Creates the weights and returns the output shape without the batch axis.
    func build(inputShape: [Int], context: BuildContext) throws -> [Int]
}

extension Layer {
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.count } }
}

/// The most weights one array may hold (1 GiB of Float32) and the most values a layer's output
/// may hold per sample: sizes beyond them are an error, not an allocation that kills the process.
let maximumWeights = 1 << 28
let maximumSampleValues = 1 << 28

/// The number of values of `shape`, checked: a model described with absurd sizes is refused.
func checkedCount(_ shape: [Int], limit: Int = maximumWeights, _ what: @autoclosure () -> String) throws -> Int {
    var count = 1
    for d in shape {
        let (product, overflow) = count.multipliedReportingOverflow(by: d)
        guard d >= 0, !overflow, product <= limit else {
            throw EngineError.invalidConfiguration("\(what()) of shape \(shape) is larger than optilog allows (\(limit) values)")
        }
        count = product
    }
    return count
}

/// Keras's snake_case of a class name: `GlobalMaxPooling1D` → `global_max_pooling1d`.
func snakeCase(_ kind: String) -> String {
    var out = ""
    let chars = Array(kind)
    for (i, c) in chars.enumerated() {
        if c.isUppercase, i > 0, chars[i - 1].isLowercase { out.append("_") }
        out.append(Character(c.lowercased()))
    }
    return out
}
