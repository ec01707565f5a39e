import Basics

/// Keras `RMSprop` (learning_rate 0.001, rho 0.9, momentum 0, epsilon 1e-7, centered False).
/// Slots `velocity`, `momentum` (when momentum > 0), `average_gradient` (when centered):
///
///     v = ρ·v + (1 − ρ)·g²
///     centered: ḡ = ρ·ḡ + (1 − ρ)·g;  den = (v − ḡ²) + ε;   otherwise den = v + ε
///     inc = (lr·g) / sqrt(den)                               (ε inside the root)
///     momentum μ: mom = μ·mom + inc; w = w − mom;  otherwise w = w − inc
public final class RMSprop: Optimizer {
    public let rho: Double, momentum: Double, epsilon: Double
    public let centered: Bool

    public init(_ common: CommonSettings = CommonSettings(learningRate: .constant(0.001)), rho: Double = 0.9, momentum: Double = 0,
                epsilon: Double = 1e-7, centered: Bool = false) throws {
        guard momentum >= 0 else { throw EngineError.invalidConfiguration("RMSprop: momentum must not be negative, got \(momentum)") }
        (self.rho, self.momentum, self.epsilon, self.centered) = (rho, momentum, epsilon, centered)
        try super.init(common: common)
    }

    override public var className: String { "RMSprop" }
    override public var slotNames: [String] {
        ["velocity"] + (momentum > 0 ? ["momentum"] : []) + (centered ? ["average_gradient"] : [])
    }
    override var settings: [(String, ConfigValue)] {
        [("rho", .number(rho)), ("momentum", .number(momentum)), ("epsilon", .number(epsilon)), ("centered", .bool(centered))]
    }

    override func update(_ index: Int, gradient g: UnsafeBufferPointer<Float>, weights w: UnsafeMutableBufferPointer<Float>, learningRate lr: Float) {
        let r = Float(rho), oneMinusR = Float(1 - rho), mu = Float(momentum), eps = Float(epsilon)
        let v = slots[index, 0]
        let mom = momentum > 0 ? slots[index, 1] : v
        let average = centered ? slots[index, slotNames.count - 1] : v
        for i in 0..<w.count {
            v[i] = r * v[i] + oneMinusR * (g[i] * g[i])
            var denominator = v[i] + eps
            if centered {
                average[i] = r * average[i] + oneMinusR * g[i]
                denominator = (v[i] - average[i] * average[i]) + eps
            }
            let increment = (lr * g[i]) / denominator.squareRoot()
            if momentum > 0 {
                mom[i] = mu * mom[i] + increment
                w[i] = w[i] - mom[i]
            } else {
                w[i] = w[i] - increment
            }
        }
    }
}
