import Basics
#if canImport(Glibc)
import Glibc
#endif

/// Keras `Adamax` (learning_rate 0.001, beta_1 0.9, beta_2 0.999, epsilon 1e-7).
/// Slots `momentum`, `norm`:
///
///     m = m + (g − m)·(1 − β1);  u = max(β2·u, |g|)
///     w = w − (lr·m) / ((1 − β1^t)·(u + ε))      (ε inside the bias-corrected denominator)
public final class Adamax: Optimizer {
    public let beta1: Double, beta2: Double, epsilon: Double

    public init(_ common: CommonSettings = CommonSettings(learningRate: .constant(0.001)), beta1: Double = 0.9, beta2: Double = 0.999,
                epsilon: Double = 1e-7) throws {
        (self.beta1, self.beta2, self.epsilon) = (beta1, beta2, epsilon)
        try super.init(common: common)
    }

    override public var className: String { "Adamax" }
    override public var slotNames: [String] { ["momentum", "norm"] }
    override var settings: [(String, ConfigValue)] { [("beta_1", .number(beta1)), ("beta_2", .number(beta2)), ("epsilon", .number(epsilon))] }

    override func update(_ index: Int, gradient g: UnsafeBufferPointer<Float>, weights w: UnsafeMutableBufferPointer<Float>, learningRate lr: Float) {
        let b1p = powf(Float(beta1), Float(iterations + 1))
        let oneMinusB1 = Float(1 - beta1), b2 = Float(beta2), eps = Float(epsilon)
        let m = slots[index, 0], u = slots[index, 1]
        for i in 0..<w.count {
            m[i] = m[i] + (g[i] - m[i]) * oneMinusB1
            u[i] = max(b2 * u[i], abs(g[i]))
            w[i] = w[i] - (lr * m[i]) / ((1 - b1p) * (u[i] + eps))
        }
    }
}
