import Basics
#if canImport(Glibc)
import Glibc
#endif

/// Keras `Nadam` (learning_rate 0.001, beta_1 0.9, beta_2 0.999, epsilon 1e-7). Slots
/// `momentum`, `velocity`, and one optimizer-wide scalar, the momentum cache `u_product`
/// (starting at 1), updated once per step before the variables:
///
///     u_product = (u_product·β1)·(1 − 0.5·0.96^t)
///     u_t = β1·(1 − 0.5·0.96^t);  u_t1 = β1·(1 − 0.5·0.96^(t+1))
///     m = m + (g − m)·(1 − β1);   v = v + (g² − v)·(1 − β2)      (1 − β in Float32 here)
///     m̂ = (u_t1·m)/(1 − u_product·u_t1) + ((1 − u_t)·g)/(1 − u_product);  v̂ = v/(1 − β2^t)
///     w = w − (m̂·lr)/(sqrt(v̂) + ε)
public final class Nadam: Optimizer {
    public let beta1: Double, beta2: Double, epsilon: Double

    public init(_ common: CommonSettings = CommonSettings(learningRate: .constant(0.001)), beta1: Double = 0.9, beta2: Double = 0.999,
                epsilon: Double = 1e-7) throws {
        (self.beta1, self.beta2, self.epsilon) = (beta1, beta2, epsilon)
        try super.init(common: common)
        scalars = [("u_product", 1)]
    }

    override public var className: String { "Nadam" }
    override public var slotNames: [String] { ["momentum", "velocity"] }
    override var settings: [(String, ConfigValue)] { [("beta_1", .number(beta1)), ("beta_2", .number(beta2)), ("epsilon", .number(epsilon))] }

    private func momentumCache(_ t: Float) -> Float { Float(beta1) * (1 - 0.5 * powf(Float(0.96), t)) }

    override func prepareStep() {
        let t = Float(iterations + 1)
        scalars[0].value = (scalars[0].value * Float(beta1)) * (1 - 0.5 * powf(Float(0.96), t))
    }

    override func update(_ index: Int, gradient g: UnsafeBufferPointer<Float>, weights w: UnsafeMutableBufferPointer<Float>, learningRate lr: Float) {
        let b1 = Float(beta1), b2 = Float(beta2), eps = Float(epsilon)
        let t = Float(iterations + 1), t1 = Float(iterations + 2)
        let uT = momentumCache(t), uT1 = momentumCache(t1)
        let uProduct = scalars[0].value, uProductNext = uProduct * uT1
        let b2p = powf(b2, t)
        let m = slots[index, 0], v = slots[index, 1]
        for i in 0..<w.count {
            m[i] = m[i] + (g[i] - m[i]) * (1 - b1)
            v[i] = v[i] + (g[i] * g[i] - v[i]) * (1 - b2)
            let mHat = (uT1 * m[i]) / (1 - uProductNext) + ((1 - uT) * g[i]) / (1 - uProduct)
            let vHat = v[i] / (1 - b2p)
            w[i] = w[i] - (mHat * lr) / (vHat.squareRoot() + eps)
        }
    }
}
