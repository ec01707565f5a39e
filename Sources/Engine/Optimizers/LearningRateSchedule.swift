import Basics
#if canImport(Glibc)
import Glibc
#endif

/// Keras's learning-rate schedules, evaluated in Float32 at the optimizer's iteration count
/// (before the step's increment), as Keras evaluates them.
public enum LearningRateSchedule: Equatable, Sendable {
    /// lr = initial · rate^(step / decaySteps), the exponent floored when `staircase`.
    case exponentialDecay(initial: Double, decaySteps: Int, rate: Double, staircase: Bool)
    /// lr = initial / (1 + rate · step / decaySteps), the quotient floored when `staircase`.
    case inverseTimeDecay(initial: Double, decaySteps: Int, rate: Double, staircase: Bool)
    /// values[0] while step ≤ boundaries[0], values[i] while boundaries[i−1] < step ≤ boundaries[i], the last value after.
    case piecewiseConstantDecay(boundaries: [Int], values: [Double])

    public func learningRate(at step: Int64) -> Float {
        switch self {
        case let .exponentialDecay(initial, decaySteps, rate, staircase):
            var p = Float(step) / Float(decaySteps)
            if staircase { p = p.rounded(.down) }
            return Float(initial) * powf(Float(rate), p)
        case let .inverseTimeDecay(initial, decaySteps, rate, staircase):
            var p = Float(step) / Float(decaySteps)
            if staircase { p = p.rounded(.down) }
            return Float(initial) / (1 + Float(rate) * p)
        case let .piecewiseConstantDecay(boundaries, values):
            let index = boundaries.firstIndex { step <= Int64($0) } ?? boundaries.count
            return Float(values[index])
        }
    }

    public var className: String {
        switch self {
        case .exponentialDecay: return "ExponentialDecay"
        case .inverseTimeDecay: return "InverseTimeDecay"
        case .piecewiseConstantDecay: return "PiecewiseConstantDecay"
        }
    }

    /// `keras.saving.serialize_keras_object(schedule)`.
    public var config: ConfigValue {
        let inner: [(String, ConfigValue)]
        switch self {
        case let .exponentialDecay(initial, decaySteps, rate, staircase), let .inverseTimeDecay(initial, decaySteps, rate, staircase):
            inner = [("initial_learning_rate", .number(initial)), ("decay_steps", .integer(decaySteps)),
                     ("decay_rate", .number(rate)), ("staircase", .bool(staircase)), ("name", .string(className))]
        case let .piecewiseConstantDecay(boundaries, values):
            inner = [("boundaries", .array(boundaries.map { .integer($0) })), ("values", .array(values.map { .number($0) })),
                     ("name", .string("PiecewiseConstant"))]  // Keras's default name for this one
        }
        return .object([("module", .string("keras.optimizers.schedules")), ("class_name", .string(className)),
                        ("config", .object(inner)), ("registered_name", .null)])
    }

    /// Reads a serialized schedule (the form `config` writes; `module` and `registered_name` optional).
    public init(config value: ConfigValue) throws {
        guard case .string(let name)? = value["class_name"], let inner = value["config"] else {
            throw EngineError.invalidConfiguration("a learning-rate schedule needs \"class_name\" and \"config\"")
        }
        var reader = try SettingsReader(inner, owner: name)
        _ = try reader.string("name", default: name)  // a custom name is accepted and not kept
        switch name {
        case "ExponentialDecay", "InverseTimeDecay":
            let initial = try reader.number("initial_learning_rate", default: nil)
            let steps = try reader.integer("decay_steps", default: nil)
            let rate = try reader.number("decay_rate", default: nil)
            let staircase = try reader.bool("staircase", default: false)
            guard steps > 0 else { throw EngineError.invalidConfiguration("\(name): decay_steps must be positive") }
            self = name == "ExponentialDecay"
                ? .exponentialDecay(initial: initial, decaySteps: steps, rate: rate, staircase: staircase)
                : .inverseTimeDecay(initial: initial, decaySteps: steps, rate: rate, staircase: staircase)
        case "PiecewiseConstantDecay":
            let boundaries = try reader.integers("boundaries")
            let values = try reader.numbers("values")
            guard values.count == boundaries.count + 1 else {
                throw EngineError.invalidConfiguration("PiecewiseConstantDecay: values must have one more entry than boundaries")
            }
            self = .piecewiseConstantDecay(boundaries: boundaries, values: values)
        default:
            throw EngineError.invalidConfiguration("unknown learning-rate schedule '\(name)'; available: ExponentialDecay, InverseTimeDecay, PiecewiseConstantDecay")
        }
        try reader.rejectUnused()
    }
}

/// Reads named settings from a configuration object, with defaults, and rejects the ones
/// nobody asked for, so a typo is an error rather than a silently ignored option.
struct SettingsReader {
    private var remaining: [(String, ConfigValue)]
    let owner: String

    init(_ value: ConfigValue, owner: String) throws {
        guard case .object(let pairs) = value else { throw EngineError.invalidConfiguration("\(owner): the configuration must be an object") }
        remaining = pairs
        self.owner = owner
    }

    init(pairs: [(String, ConfigValue)], owner: String) {
        remaining = pairs
        self.owner = owner
    }

    private mutating func take(_ key: String) -> ConfigValue? {
        guard let i = remaining.lastIndex(where: { $0.0 == key }) else { return nil }
        let value = remaining[i].1
        remaining.removeAll { $0.0 == key }
        return value
    }

    func fail(_ key: String, _ value: ConfigValue, _ expected: String) -> EngineError {
        .invalidConfiguration("\(owner): \(key)=\(value.json) is not \(expected)")
    }

    mutating func number(_ key: String, default value: Double?) throws -> Double {
        switch take(key) {
        case nil, .null?:
            guard let value else { throw EngineError.invalidConfiguration("\(owner): \(key) is required") }
            return value
        case .number(let d)?: guard d.isFinite else { throw fail(key, .number(d), "a finite number") }; return d
        case .integer(let n)?: return Double(n)
        case let other?: throw fail(key, other, "a finite number")
        }
    }

    /// A number or null (Keras's None).
    mutating func optionalNumber(_ key: String) throws -> Double? {
        switch take(key) {
        case nil, .null?: return nil
        case .number(let d)?: guard d.isFinite else { throw fail(key, .number(d), "a finite number or null") }; return d
        case .integer(let n)?: return Double(n)
        case let other?: throw fail(key, other, "a finite number or null")
        }
    }

    mutating func integer(_ key: String, default value: Int?) throws -> Int {
        switch take(key) {
        case nil, .null?:
            guard let value else { throw EngineError.invalidConfiguration("\(owner): \(key) is required") }
            return value
        case .integer(let n)?: return n
        case .number(let d)? where d == d.rounded() && abs(d) < 1e15: return Int(d)
        case let other?: throw fail(key, other, "an integer")
        }
    }

    mutating func bool(_ key: String, default value: Bool) throws -> Bool {
        switch take(key) {
        case nil: return value
        case .bool(let b)?: return b
        case .integer(let n)? where n == 0 || n == 1: return n == 1
        case let other?: throw fail(key, other, "true or false")
        }
    }

    mutating func string(_ key: String, default value: String) throws -> String {
        switch take(key) {
        case nil, .null?: return value
        case .string(let s)?: return s
        case let other?: throw fail(key, other, "a string")
        }
    }

    mutating func integers(_ key: String) throws -> [Int] {
        guard case .array(let items)? = take(key) else { throw EngineError.invalidConfiguration("\(owner): \(key) must be a list of integers") }
        return try items.map {
            if case .integer(let n) = $0 { return n }
            throw fail(key, $0, "an integer")
        }
    }

    mutating func numbers(_ key: String) throws -> [Double] {
        guard case .array(let items)? = take(key) else { throw EngineError.invalidConfiguration("\(owner): \(key) must be a list of numbers") }
        return try items.map {
            switch $0 {
            case .number(let d) where d.isFinite: return d
            case .integer(let n): return Double(n)
            default: throw fail(key, $0, "a finite number")
            }
        }
    }

    mutating func value(_ key: String) -> ConfigValue? { take(key) }

    func rejectUnused() throws {
        if let (key, _) = remaining.first {
            throw EngineError.invalidConfiguration("\(owner) has no setting '\(key)'")
        }
    }
}
