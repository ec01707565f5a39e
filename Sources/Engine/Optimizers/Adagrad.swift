import Basics

/// Keras `Adagrad` (learning_rate 0.001, initial_accumulator_value 0.1, epsilon 1e-7).
/// Slot `accumulator`, starting at initial_accumulator_value:
///
///     acc = acc + g²;  w = w − (lr·g) / sqrt(acc + ε)    (ε inside the root)
public final class Adagrad: Optimizer {
    public let initialAccumulatorValue: Double, epsilon: Double

    public init(_ common: CommonSettings = CommonSettings(learningRate: .constant(0.001)), initialAccumulatorValue: Double = 0.1,
                epsilon: Double = 1e-7) throws {
        guard initialAccumulatorValue >= 0 else { throw EngineError.invalidConfiguration("Adagrad: initial_accumulator_value must not be negative") }
        (self.initialAccumulatorValue, self.epsilon) = (initialAccumulatorValue, epsilon)
        try super.init(common: common)
    }

    override public var className: String { "Adagrad" }
    override public var slotNames: [String] { ["accumulator"] }
    override func initialValue(ofSlot index: Int) -> Float { Float(initialAccumulatorValue) }
    override var settings: [(String, ConfigValue)] {
        [("initial_accumulator_value", .number(initialAccumulatorValue)), ("epsilon", .number(epsilon))]
    }

    override func update(_ index: Int, gradient g: UnsafeBufferPointer<Float>, weights w: UnsafeMutableBufferPointer<Float>, learningRate lr: Float) {
        let eps = Float(epsilon), acc = slots[index, 0]
        for i in 0..<w.count {
            acc[i] = acc[i] + g[i] * g[i]
            w[i] = w[i] - (lr * g[i]) / (acc[i] + eps).squareRoot()
        }
    }
}
