import Basics
#if canImport(Glibc)
import Glibc
#endif

/// Keras `Ftrl` (learning_rate 0.001, learning_rate_power −0.5, initial_accumulator_value 0.1,
/// l1, l2, l2_shrinkage and beta all 0). Slots `accumulator` (from initial_accumulator_value)
/// and `linear`:
///
///     l2' = l2 + β/(2·lr);  g̃ = g + 2·l2_shrinkage·w;  n' = n + g²        (raw g here)
///     σ = (n'^−p − n^−p)/lr;  z = z + (g̃ − σ·w)
///     w = (clip(z, −l1, l1) − z) / (n'^−p/lr + 2·l2');  n = n'            (w is overwritten)
///
/// With p = −0.5 the powers are square roots, which is what `model.fit` runs (TensorFlow's
/// graph optimizer rewrites pow(x, 0.5) to sqrt); other powers use powf.
public final class Ftrl: Optimizer {
    public let learningRatePower: Double, initialAccumulatorValue: Double
    public let l1: Double, l2: Double, l2Shrinkage: Double, beta: Double

    public init(_ common: CommonSettings = CommonSettings(learningRate: .constant(0.001)), learningRatePower: Double = -0.5,
                initialAccumulatorValue: Double = 0.1, l1: Double = 0, l2: Double = 0, l2Shrinkage: Double = 0, beta: Double = 0) throws {
        guard learningRatePower <= 0 else { throw EngineError.invalidConfiguration("Ftrl: learning_rate_power must be ≤ 0, got \(learningRatePower)") }
        guard initialAccumulatorValue >= 0, l1 >= 0, l2 >= 0, l2Shrinkage >= 0 else {
            throw EngineError.invalidConfiguration("Ftrl: initial_accumulator_value and the regularization strengths must not be negative")
        }
        (self.learningRatePower, self.initialAccumulatorValue) = (learningRatePower, initialAccumulatorValue)
        (self.l1, self.l2, self.l2Shrinkage, self.beta) = (l1, l2, l2Shrinkage, beta)
        try super.init(common: common)
    }

    override public var className: String { "Ftrl" }
    override public var slotNames: [String] { ["accumulator", "linear"] }
    override func initialValue(ofSlot index: Int) -> Float { index == 0 ? Float(initialAccumulatorValue) : 0 }
    override var settings: [(String, ConfigValue)] {
        [("learning_rate_power", .number(learningRatePower)), ("initial_accumulator_value", .number(initialAccumulatorValue)),
         ("l1_regularization_strength", .number(l1)), ("l2_regularization_strength", .number(l2)),
         ("l2_shrinkage_regularization_strength", .number(l2Shrinkage)), ("beta", .number(beta))]
    }

    override func update(_ index: Int, gradient g: UnsafeBufferPointer<Float>, weights w: UnsafeMutableBufferPointer<Float>, learningRate lr: Float) {
        let l2Adjusted = Float(l2) + Float(beta) / (2 * lr)
        let shrinkage = Float(2 * l2Shrinkage), l1Strength = Float(l1), power = Float(-learningRatePower)
        let halfPower = learningRatePower == -0.5
        let n = slots[index, 0], z = slots[index, 1]
        for i in 0..<w.count {
            let gShrunk = g[i] + shrinkage * w[i]
            let nNew = n[i] + g[i] * g[i]
            let pNew = halfPower ? nNew.squareRoot() : powf(nNew, power)
            let pOld = halfPower ? n[i].squareRoot() : powf(n[i], power)
            z[i] = z[i] + (gShrunk - ((pNew - pOld) / lr) * w[i])
            let quadratic = pNew / lr + 2 * l2Adjusted
            w[i] = (min(max(z[i], -l1Strength), l1Strength) - z[i]) / quadratic
            n[i] = nNew
        }
    }
}
