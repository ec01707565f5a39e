import Basics

/// What every Keras optimizer accepts besides its own settings.
public struct CommonSettings: Equatable, Sendable {
    public enum LearningRate: Equatable, Sendable {
        case constant(Double)
        case schedule(LearningRateSchedule)
    }

    public var learningRate: LearningRate
    public var weightDecay: Double?
    public var clipnorm: Double?
    public var globalClipnorm: Double?
    public var clipvalue: Double?

    public init(learningRate: LearningRate, weightDecay: Double? = nil, clipnorm: Double? = nil,
                globalClipnorm: Double? = nil, clipvalue: Double? = nil) {
        self.learningRate = learningRate
        self.weightDecay = weightDecay
        self.clipnorm = clipnorm
        self.globalClipnorm = globalClipnorm
        self.clipvalue = clipvalue
    }
}

/// A Keras 3 optimizer: the shared `apply` of Keras's `BaseOptimizer` (learning-rate schedule,
/// gradient clipping, weight decay, one update per variable, `iterations += 1`), and in each
/// subclass — one small file per optimizer — the slots it declares and its update rule.
///
/// Rules run in Float32, op by op in Keras's order, with no fused multiply-add, so a step is
/// bit-identical to Keras's eager step. Python-float constants such as `1 - beta_1` are formed in
/// Float64 and rounded once (`Float(_:)`), as TensorFlow does when it meets them.
public class Optimizer {
    public let common: CommonSettings
    /// Steps applied so far (Keras's `iterations`).
    public internal(set) var iterations: Int64 = 0
    let slots = Slots()
    /// Optimizer-wide Float32 state besides the slots (Nadam's `u_product`), in a fixed order.
    var scalars: [(name: String, value: Float)] = []

    init(common: CommonSettings) throws {
        let clips = [common.clipnorm, common.globalClipnorm, common.clipvalue].compactMap { $0 }
        guard clips.count <= 1 else {
            throw EngineError.invalidConfiguration("only one of clipnorm, clipvalue and global_clipnorm can be set")
        }
        if let bad = clips.first(where: { $0 <= 0 }) ?? common.weightDecay.flatMap({ $0 < 0 ? $0 : nil }) {
            throw EngineError.invalidConfiguration("clipping and weight decay values must be positive, got \(bad)")
        }
        if case .constant(let lr) = common.learningRate, !(lr >= 0) {
            throw EngineError.invalidConfiguration("learning_rate must be a non-negative number, got \(lr)")
        }
        self.common = common
    }

    // MARK: What each optimizer declares

    /// Keras's class name, e.g. `Adam`, `RMSprop`.
    public var className: String { fatalError("subclass") }
    /// Keras's default instance name: the class name in snake case (`adam`, `rm_sprop`, `sgd`).
    public var name: String { snakeCase(className) }
    /// Slot names per variable in Keras's order, e.g. `["momentum", "velocity"]`.
    public var slotNames: [String] { [] }
    /// Where every slot starts (Adagrad's and Ftrl's accumulators start at 0.1).
    func initialValue(ofSlot index: Int) -> Float { 0 }
    /// The optimizer's own `get_config()` entries, after the common ones, in Keras's order.
    var settings: [(String, ConfigValue)] { [] }
    /// Once per step, before the variables are updated (Nadam's momentum cache).
    func prepareStep() {}
    /// Keras's `update_step` for one variable; `slot(i)` is that variable's i-th slot.
    func update(_ index: Int, gradient g: UnsafeBufferPointer<Float>, weights w: UnsafeMutableBufferPointer<Float>, learningRate lr: Float) {
        fatalError("subclass")
    }

    // MARK: Keras's apply

    /// The learning rate this step uses: the constant as Float32, or the schedule at `iterations`.
    public var currentLearningRate: Float {
        switch common.learningRate {
        case .constant(let lr): return Float(lr)
        case .schedule(let schedule): return schedule.learningRate(at: iterations)
        }
    }

    /// Applies one step to `parameters` using their current gradients (which are not changed).
    public func apply(to parameters: [Parameter]) {
        prepareSlots(for: parameters)
        let lr = currentLearningRate
        let gradients = clippedGradients(parameters)
        if let wd = common.weightDecay {
            let decay = Float(wd)
            for p in parameters {
                p.value.withUnsafeMutableBufferPointer { w in
                    for i in 0..<w.count { w[i] = w[i] - w[i] * decay * lr }
                }
            }
        }
        prepareStep()
        for (index, parameter) in parameters.enumerated() {
            let update = { (g: UnsafeBufferPointer<Float>) in
                parameter.value.withUnsafeMutableBufferPointer { w in
                    self.update(index, gradient: g, weights: w, learningRate: lr)
                }
            }
            if let gradients { gradients[index].withUnsafeBufferPointer(update) } else { parameter.gradient.withUnsafeBufferPointer(update) }
        }
        iterations += 1
    }

    func prepareSlots(for parameters: [Parameter]) {
        slots.prepare(for: parameters.map(\.count), count: slotNames.count, initialValue: initialValue(ofSlot:))
    }

    /// Keras's `_clip_gradients`: nil when no clipping is set.
    private func clippedGradients(_ parameters: [Parameter]) -> [[Float]]? {
        if let clipnorm = common.clipnorm {
            let c = Float(clipnorm)
            return parameters.map { p in
                // g · c / max(‖g‖, c), always applied, as Keras does (g·c/c may move a bit).
                let sum = Float(Sequential.squaredNorm(p.gradient))
                let norm = sum > 0 ? sum.squareRoot() : sum
                let d = max(norm, c)
                return p.gradient.map { ($0 * c) / d }
            }
        }
        if let global = common.globalClipnorm {
            let c = Float(global)
            let total = Float(parameters.reduce(0.0) { $0 + Sequential.squaredNorm($1.gradient) })
            let useNorm = total.squareRoot()
            // clip · min(1/‖g‖, 1/clip) + (‖g‖ − ‖g‖): NaN when the norm is not finite.
            let scale = c * min(1 / useNorm, Float(1 / global)) + (useNorm - useNorm)
            return parameters.map { $0.gradient.map { $0 * scale } }
        }
        if let clipvalue = common.clipvalue {
            let v = Float(clipvalue)
            return parameters.map { $0.gradient.map { min(max($0, -v), v) } }
        }
        return nil
    }

    // MARK: Configuration

    /// Keras's `get_config()`, keys in Keras's order.
    public var config: ConfigValue {
        let lr: ConfigValue
        switch common.learningRate {
        case .constant(let v): lr = .number(Double(Float(v)))  // Keras reports the Float32 variable
        case .schedule(let s): lr = s.config
        }
        func optional(_ d: Double?) -> ConfigValue { d.map { .number($0) } ?? .null }
        return .object([
            ("name", .string(name)), ("learning_rate", lr), ("weight_decay", optional(common.weightDecay)),
            ("clipnorm", optional(common.clipnorm)), ("global_clipnorm", optional(common.globalClipnorm)),
            ("clipvalue", optional(common.clipvalue)), ("use_ema", .bool(false)), ("ema_momentum", .number(0.99)),
            ("ema_overwrite_frequency", .null), ("loss_scale_factor", .null), ("gradient_accumulation_steps", .null),
        ] + settings)
    }
}

/// Slot storage: one buffer per (parameter, slot), created on first use and updated in place
/// (no copy-on-write on the hot path).
final class Slots {
    private(set) var buffers: [[UnsafeMutableBufferPointer<Float>]] = []
    /// Values per variable (known even for optimizers without slots, such as plain SGD).
    private(set) var counts: [Int] = []

    func prepare(for counts: [Int], count: Int, initialValue: (Int) -> Float) {
        guard self.counts != counts else { return }
        release()
        self.counts = counts
        buffers = counts.map { n in
            (0..<count).map { s in
                let b = UnsafeMutableBufferPointer<Float>.allocate(capacity: n)
                b.initialize(repeating: initialValue(s))
                return b
            }
        }
    }

    subscript(parameter: Int, slot: Int) -> UnsafeMutableBufferPointer<Float> { buffers[parameter][slot] }

    private func release() {
        for row in buffers { for b in row { b.deallocate() } }
        buffers = []
    }

    deinit { release() }
}
