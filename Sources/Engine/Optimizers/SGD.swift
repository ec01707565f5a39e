import Basics

/// Keras `SGD` (learning_rate 0.01, momentum 0, nesterov False). The `momentum` slot exists only
/// when momentum ≠ 0 and holds lr·velocity (TensorFlow's form, not PyTorch's):
///
///     plain:     w = w − g·lr
///     momentum:  m = m·μ − g·lr;  w = w + m
///     nesterov:  m = m·μ − g·lr;  w = w + (m·μ − g·lr)
public final class SGD: Optimizer {
    public let momentum: Double
    public let nesterov: Bool

    public init(_ common: CommonSettings = CommonSettings(learningRate: .constant(0.01)), momentum: Double = 0, nesterov: Bool = false) throws {
        guard momentum >= 0, momentum <= 1 else { throw EngineError.invalidConfiguration("SGD: momentum must be in [0, 1], got \(momentum)") }
        self.momentum = momentum
        self.nesterov = nesterov
        try super.init(common: common)
    }

    public convenience init(learningRate: Double, momentum: Double = 0, nesterov: Bool = false) throws {
        try self.init(CommonSettings(learningRate: .constant(learningRate)), momentum: momentum, nesterov: nesterov)
    }

    override public var className: String { "SGD" }
    override public var slotNames: [String] { momentum != 0 ? ["momentum"] : [] }
    override var settings: [(String, ConfigValue)] { [("momentum", .number(momentum)), ("nesterov", .bool(nesterov))] }

    override func update(_ index: Int, gradient g: UnsafeBufferPointer<Float>, weights w: UnsafeMutableBufferPointer<Float>, learningRate lr: Float) {
        guard momentum != 0 else {
            for i in 0..<w.count { w[i] = w[i] - g[i] * lr }
            return
        }
        let mu = Float(momentum), m = slots[index, 0]
        for i in 0..<w.count {
            m[i] = m[i] * mu - g[i] * lr
            w[i] = nesterov ? w[i] + (m[i] * mu - g[i] * lr) : w[i] + m[i]
        }
    }
}
