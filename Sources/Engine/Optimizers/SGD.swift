/// Keras `SGD` (learning_rate 0.01, momentum 0, nesterov False).
/// Slot `momentum` holds lr·velocity (TensorFlow's form), only when momentum ≠ 0:
///
///     plain:     w = w − g·lr
///     momentum:  m = m·μ − g·lr;  w = w + m
///     nesterov:  m = m·μ − g·lr;  w = w + (m·μ − g·lr)
public final class SGD: Optimizer, SlotHolder {
    public let name = "SGD"
    public var learningRate: Float
    public let momentum: Double
    public let nesterov: Bool
    public private(set) var iterations: Int64 = 0
    public var slotNames: [String] { momentum != 0 ? ["momentum"] : [] }
    let slots = Slots()

    public init(learningRate: Double = 0.01, momentum: Double = 0, nesterov: Bool = false) {
        self.learningRate = Float(learningRate)
        self.momentum = momentum
        self.nesterov = nesterov
    }

    public func apply(to parameters: [Parameter]) {
        let lr = learningRate, mu = k(momentum)
        slots.prepare(for: parameters, names: slotNames)
        for (p, parameter) in parameters.enumerated() {
            parameter.gradient.withUnsafeBufferPointer { g in
                parameter.value.withUnsafeMutableBufferPointer { w in
                    if momentum == 0 {
                        for i in 0..<w.count { w[i] = w[i] - g[i] * lr }
                        return
                    }
                    let m = slots[p, 0]
                    for i in 0..<w.count {
                        m[i] = m[i] * mu - g[i] * lr
                        w[i] = nesterov ? w[i] + (m[i] * mu - g[i] * lr) : w[i] + m[i]
                    }
                }
            }
        }
        iterations += 1
    }
}
