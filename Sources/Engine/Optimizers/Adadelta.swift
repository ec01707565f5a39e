import Basics

/// Keras `Adadelta` (learning_rate 0.001, rho 0.95, epsilon 1e-7). Slots `accumulated_grad`,
/// `accumulated_delta_var`:
///
///     Eg = ρ·Eg + (1 − ρ)·g²
///     Δ = −(sqrt(Edx + ε)·g) / sqrt(Eg + ε)        (the old Edx; ε inside both roots)
///     Edx = ρ·Edx + (1 − ρ)·Δ²;  w = w + lr·Δ      (the paper's rule is lr = 1)
public final class Adadelta: Optimizer {
    public let rho: Double, epsilon: Double

    public init(_ common: CommonSettings = CommonSettings(learningRate: .constant(0.001)), rho: Double = 0.95, epsilon: Double = 1e-7) throws {
        (self.rho, self.epsilon) = (rho, epsilon)
        try super.init(common: common)
    }

    override public var className: String { "Adadelta" }
    override public var slotNames: [String] { ["accumulated_grad", "accumulated_delta_var"] }
    override var settings: [(String, ConfigValue)] { [("rho", .number(rho)), ("epsilon", .number(epsilon))] }

    override func update(_ index: Int, gradient g: UnsafeBufferPointer<Float>, weights w: UnsafeMutableBufferPointer<Float>, learningRate lr: Float) {
        let r = Float(rho), oneMinusR = Float(1 - rho), eps = Float(epsilon)
        let eg = slots[index, 0], edx = slots[index, 1]
        for i in 0..<w.count {
            eg[i] = r * eg[i] + oneMinusR * (g[i] * g[i])
            let delta = -(((edx[i] + eps).squareRoot() * g[i]) / (eg[i] + eps).squareRoot())
            edx[i] = r * edx[i] + oneMinusR * (delta * delta)
            w[i] = w[i] + lr * delta
        }
    }
}
