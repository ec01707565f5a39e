import Basics
#if canImport(Glibc)
import Glibc
#endif

/// Keras `Adam` (learning_rate 0.001, beta_1 0.9, beta_2 0.999, epsilon 1e-7, amsgrad False).
/// Slots `momentum`, `velocity` (and `velocity_hat` with amsgrad):
///
///     α = lr·sqrt(1 − β2^t) / (1 − β1^t)          (β^t by powf on Float32)
///     m = m + (g − m)·(1 − β1);  v = v + (g² − v)·(1 − β2)
///     w = w − (m·α) / (sqrt(v) + ε)               (ε outside the root, not bias-corrected)
public final class Adam: Optimizer {
    public let beta1: Double, beta2: Double, epsilon: Double
    public let amsgrad: Bool

    public init(_ common: CommonSettings = CommonSettings(learningRate: .constant(0.001)), beta1: Double = 0.9, beta2: Double = 0.999,
                epsilon: Double = 1e-7, amsgrad: Bool = false) throws {
        (self.beta1, self.beta2, self.epsilon, self.amsgrad) = (beta1, beta2, epsilon, amsgrad)
        try super.init(common: common)
    }

    public convenience init(learningRate: Double, amsgrad: Bool = false) throws {
        try self.init(CommonSettings(learningRate: .constant(learningRate)), amsgrad: amsgrad)
    }

    override public var className: String { "Adam" }
    override public var slotNames: [String] { amsgrad ? ["momentum", "velocity", "velocity_hat"] : ["momentum", "velocity"] }
    override var settings: [(String, ConfigValue)] {
        [("beta_1", .number(beta1)), ("beta_2", .number(beta2)), ("epsilon", .number(epsilon)), ("amsgrad", .bool(amsgrad))]
    }

    override func update(_ index: Int, gradient g: UnsafeBufferPointer<Float>, weights w: UnsafeMutableBufferPointer<Float>, learningRate lr: Float) {
        let t = Float(iterations + 1)
        let b1p = powf(Float(beta1), t), b2p = powf(Float(beta2), t)
        let alpha = (lr * (1 - b2p).squareRoot()) / (1 - b1p)
        let oneMinusB1 = Float(1 - beta1), oneMinusB2 = Float(1 - beta2), eps = Float(epsilon)
        let m = slots[index, 0], v = slots[index, 1]
        let vh = amsgrad ? slots[index, 2] : v
        // The same IEEE operations per element in 16 lanes (no fusing), then the tail.
        let n = w.count, whole = n - n % Lanes.scalarCount
        let b1 = Lanes(repeating: oneMinusB1), b2 = Lanes(repeating: oneMinusB2)
        let a = Lanes(repeating: alpha), e = Lanes(repeating: eps)
        var i = 0
        while i < whole {
            let gi = load(g.baseAddress! + i)
            var mi = load(m.baseAddress! + i), vi = load(v.baseAddress! + i)
            mi = mi + (gi - mi) * b1
            vi = vi + (gi * gi - vi) * b2
            store(mi, m.baseAddress! + i)
            store(vi, v.baseAddress! + i)
            var denominator = vi
            if amsgrad {
                denominator = pointwiseMax(load(vh.baseAddress! + i), vi)
                store(denominator, vh.baseAddress! + i)
            }
            store(load(w.baseAddress! + i) - (mi * a) / (denominator.squareRoot() + e), w.baseAddress! + i)
            i += Lanes.scalarCount
        }
        while i < n {
            m[i] = m[i] + (g[i] - m[i]) * oneMinusB1
            v[i] = v[i] + (g[i] * g[i] - v[i]) * oneMinusB2
            if amsgrad { vh[i] = max(vh[i], v[i]) }
            w[i] = w[i] - (m[i] * alpha) / (vh[i].squareRoot() + eps)
            i += 1
        }
    }
}
