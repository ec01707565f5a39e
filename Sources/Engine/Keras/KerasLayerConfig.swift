import Basics

/// One layer's entry of a Keras model configuration, read option by option. Every option must
/// be either taken by the layer or hold the value that changes nothing (no regularizer, float32,
/// channels last, …): anything else is refused with one line naming the layer, so a model is
/// never trained as something other than what its JSON says.
struct KerasLayerConfig {
    let kind: String
    let name: String
    private var remaining: [(String, ConfigValue)]
    /// What was taken, as written: the layer's part of the model's fingerprint.
    private(set) var taken: [(String, ConfigValue)] = []

    init(kind: String, config: ConfigValue) throws {
        self.kind = kind
        guard case .object(let pairs) = config else {
            throw EngineError.unsupportedModel("layer of class \(kind): its config is not a JSON object")
        }
        if case .string(let n)? = config["name"] { name = n } else { name = kind }
        remaining = pairs.filter { $0.0 != "name" }
    }

    /// The largest size (units, filters, kernel, strides, pool, vocabulary) a model may give.
    static let largest = 1 << 24

    /// The line a refusal starts with.
    var label: String { "layer '\(name)' (\(kind))" }

    func refuse(_ what: String) -> EngineError { EngineError.unsupportedModel("\(label): \(what)") }

    /// Records what a taken option means, in place of how it was written (an initializer's
    /// `shared_object_id` or `module` must not change a fingerprint).
    private mutating func normalize(_ key: String, _ value: ConfigValue) {
        if let i = taken.lastIndex(where: { $0.0 == key }) { taken[i].1 = value }
    }

    mutating func take(_ key: String) -> ConfigValue? {
        guard let i = remaining.firstIndex(where: { $0.0 == key }) else { return nil }
        let value = remaining.remove(at: i).1
        taken.append((key, value))
        return value
    }

    func integer(_ value: ConfigValue) -> Int? {
        switch value {
        case .integer(let n): return n
        case .number(let d) where d == d.rounded() && abs(d) < 1e15: return Int(d)
        default: return nil
        }
    }

    mutating func int(_ key: String, default fallback: Int? = nil) throws -> Int {
        guard let value = take(key), value != .null else {
            if let fallback { return fallback }
            throw refuse("its config has no '\(key)'")
        }
        guard let n = integer(value), n > 0 else { throw refuse("\(key) \(value.json) is not a positive integer") }
        guard n <= Self.largest else { throw refuse("\(key) \(n) is larger than optilog allows (\(Self.largest))") }
        return n
    }

    /// An integer or a list of `count` integers (Keras writes kernel_size, strides and pool_size
    /// both ways); nil when absent or null.
    mutating func ints(_ key: String, count: Int) throws -> [Int]? {
        guard let value = take(key), value != .null else { return nil }
        let items: [ConfigValue]
        if case .array(let a) = value { items = a } else { items = Array(repeating: value, count: count) }
        let numbers = items.compactMap(integer)
        guard numbers.count == count, items.count == count, numbers.allSatisfy({ $0 > 0 }) else {
            throw refuse("\(key) \(value.json) is not \(count == 1 ? "a positive integer" : "\(count) positive integers")")
        }
        guard numbers.allSatisfy({ $0 <= Self.largest }) else { throw refuse("\(key) \(value.json) is larger than optilog allows (\(Self.largest))") }
        return numbers
    }

    mutating func float(_ key: String, default fallback: Float) throws -> Float {
        guard let value = take(key), value != .null else { return fallback }
        switch value {
        case .number(let d): return Float(d)
        case .integer(let n): return Float(n)
        default: throw refuse("\(key) \(value.json) is not a number")
        }
    }

    mutating func bool(_ key: String, default fallback: Bool) throws -> Bool {
        guard let value = take(key), value != .null else { return fallback }
        guard case .bool(let b) = value else { throw refuse("\(key) \(value.json) is not true or false") }
        return b
    }

    mutating func padding() throws -> Padding {
        guard let value = take("padding"), value != .null else { return .valid }
        guard case .string(let s) = value, let padding = Padding(rawValue: s.lowercased()) else {
            throw refuse("padding \(value.json) is not supported (optilog has \"valid\" and \"same\")")
        }
        return padding
    }

    mutating func activation(_ key: String = "activation", default fallback: ActivationFunction = .linear) throws -> ActivationFunction {
        guard let value = take(key), value != .null else { return fallback }
        var text: String?
        switch value {
        case .string(let s): text = s
        case .object: if case .string(let s)? = value["config"] { text = s } else if case .string(let s)? = value["class_name"] { text = s }
        default: break
        }
        guard let text, let function = ActivationFunction(rawValue: text == "softmax_v2" ? "softmax" : text) else {
            throw refuse("\(key) \(value.json) is not supported (optilog has \(ActivationFunction.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        normalize(key, .string(function.rawValue))
        return function
    }

    /// One of Keras's initializers, by its class or its string alias, with no seed.
    mutating func initializer(_ key: String, default fallback: Initializer) throws -> Initializer {
        guard let value = take(key), value != .null else { return fallback }
        let className: String
        var config: ConfigValue = .object([])
        switch value {
        case .string(let s): className = s
        case .object:
            guard case .string(let c)? = value["class_name"] else { throw refuse("\(key) \(value.json) names no initializer class") }
            className = c
            if let c = value["config"] { config = c }
            if let r = value["registered_name"], r != .null, r != .string(c) {
                throw refuse("\(key) is a custom initializer (\(r.json)); optilog has Keras's own initializers only")
            }
        default: throw refuse("\(key) \(value.json) is not an initializer")
        }
        var options = try KerasLayerConfig(kind: className, config: config)
        func unsupported() -> EngineError {
            refuse("\(key) \(className) is not supported (optilog has GlorotUniform, GlorotNormal, HeUniform, HeNormal, LecunUniform, LecunNormal, VarianceScaling, RandomUniform, RandomNormal, TruncatedNormal, Orthogonal, Zeros, Ones, Constant)")
        }
        let result: Initializer
        switch className {
        case "GlorotUniform", "glorot_uniform": result = .glorotUniform
        case "GlorotNormal", "glorot_normal": result = .varianceScaling(scale: 1, mode: .fanAverage, distribution: .truncatedNormal)
        case "HeUniform", "he_uniform": result = .varianceScaling(scale: 2, mode: .fanIn, distribution: .uniform)
        case "HeNormal", "he_normal": result = .varianceScaling(scale: 2, mode: .fanIn, distribution: .truncatedNormal)
        case "LecunUniform", "lecun_uniform": result = .varianceScaling(scale: 1, mode: .fanIn, distribution: .uniform)
        case "LecunNormal", "lecun_normal": result = .varianceScaling(scale: 1, mode: .fanIn, distribution: .truncatedNormal)
        case "VarianceScaling", "variance_scaling":
            let scale = try options.float("scale", default: 1)
            let modeValue = options.take("mode") ?? .string("fan_in")
            let distributionValue = options.take("distribution") ?? .string("truncated_normal")
            guard case .string(let m) = modeValue, let mode = Initializer.FanMode(rawValue: m) else {
                throw refuse("\(key) VarianceScaling mode \(modeValue.json) is not fan_in, fan_out or fan_avg")
            }
            guard case .string(let d) = distributionValue,
                  let distribution = Initializer.Distribution(rawValue: d == "normal" ? "truncated_normal" : d) else {
                throw refuse("\(key) VarianceScaling distribution \(distributionValue.json) is not supported")
            }
            guard scale > 0 else { throw refuse("\(key) VarianceScaling scale must be positive") }
            result = .varianceScaling(scale: Double(scale), mode: mode, distribution: distribution)
        case "RandomUniform", "random_uniform", "uniform":
            let low = try options.float("minval", default: -0.05), high = try options.float("maxval", default: 0.05)
            guard low < high else { throw refuse("\(key) RandomUniform needs minval < maxval") }
            result = .uniform(low: low, high: high)
        case "RandomNormal", "random_normal", "normal":
            result = .normal(mean: try options.float("mean", default: 0), stddev: try options.float("stddev", default: 0.05))
        case "TruncatedNormal", "truncated_normal":
            result = .truncatedNormal(mean: try options.float("mean", default: 0), stddev: try options.float("stddev", default: 0.05))
        case "Orthogonal", "orthogonal": result = .orthogonal(gain: try options.float("gain", default: 1))
        case "Zeros", "zeros": result = .zeros
        case "Ones", "ones": result = .ones
        case "Constant", "constant": result = .constant(try options.float("value", default: 0))
        default: throw unsupported()
        }
        // A seed would ask for Keras's own draws, which optilog does not reproduce.
        for (k, v) in options.remaining {
            switch (k, v) {
            case ("seed", .null), ("input_axes", .null), ("output_axes", .null): continue
            case ("seed", _): throw refuse("\(key) \(className) has seed \(v.json); optilog draws initial weights from the run's seed (give the weights with --initial-weights instead)")
            default: throw refuse("\(key) \(className) option '\(k)' = \(v.json) is not supported")
            }
        }
        normalize(key, .string("\(result)"))
        return result
    }

    /// Refuses anything not taken unless it holds its neutral value.
    func finish() throws {
        for (key, value) in remaining where !Self.isNeutral(key, value) {
            throw refuse("option '\(key)' = \(value.json) is not supported")
        }
    }

    /// Options whose value here changes nothing optilog computes.
    static func isNeutral(_ key: String, _ value: ConfigValue) -> Bool {
        if value == .null, key.hasSuffix("_regularizer") || key.hasSuffix("_constraint") { return true }
        switch key {
        case "trainable": return value == .bool(true)
        case "dtype":
            if value == .null || value == .string("float32") { return true }
            if case .string(let s)? = value["config"]?["name"] ?? value["config"] { return s == "float32" }
            return false
        case "data_format": return value == .null || value == .string("channels_last")
        case "dilation_rate": return value == .integer(1) || value == .array([.integer(1)]) || value == .array([.integer(1), .integer(1)])
        case "groups": return value == .integer(1)
        case "quantization_config", "noise_shape", "lora_rank", "lora_alpha", "seed", "input_length": return value == .null
        case "mask_zero", "keepdims", "return_state", "go_backwards", "stateful", "sparse", "ragged", "optional":
            return value == .bool(false)
        // Without masks and on CPU these change how, not what, is computed.
        case "unroll", "zero_output_for_mask", "use_cudnn", "implementation": return true
        case "dropout", "recurrent_dropout": return value == .number(0) || value == .integer(0)
        default: return false
        }
    }
}
