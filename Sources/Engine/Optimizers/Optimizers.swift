import Basics

/// Builds any of the eight optimizers from its name and Keras-named settings: `--set` pairs,
/// or a `get_config()` object (which round-trips: `make(name, config: o.config).config == o.config`).
public enum Optimizers {
    /// The names the CLI takes, in the study's order.
    public static let names = ["adadelta", "adagrad", "adam", "adamax", "ftrl", "nadam", "rmsprop", "sgd"]

    /// From `--set KEY=VALUE` pairs; values are JSON where they parse as JSON (so a schedule can
    /// be given as `learning_rate={"class_name": "ExponentialDecay", "config": {...}}`).
    public static func make(_ name: String, settings: [(key: String, value: String)]) throws -> Optimizer {
        try make(name, config: .object(settings.map { ($0.key, ConfigValue.fromSetting($0.value)) }))
    }

    public static func make(_ name: String, config: ConfigValue) throws -> Optimizer {
        let key = name.lowercased()
        guard names.contains(key) else {
            throw EngineError.invalidConfiguration("unknown optimizer '\(name)'; available: \(names.joined(separator: ", "))")
        }
        let owner = key
        var r = try SettingsReader(config, owner: owner)
        _ = try r.string("name", default: key)
        let defaultLearningRate = key == "sgd" ? 0.01 : 0.001
        let learningRate: CommonSettings.LearningRate
        switch r.value("learning_rate") {
        case nil, .null?: learningRate = .constant(defaultLearningRate)
        case .number(let d)?:
            guard d.isFinite, Float(d).isFinite else { throw EngineError.invalidConfiguration("\(owner): learning_rate=\(d) is not a finite float32") }
            learningRate = .constant(d)
        case .integer(let n)?: learningRate = .constant(Double(n))
        case let schedule?:
            if case .object = schedule { learningRate = .schedule(try LearningRateSchedule(config: schedule)) } else {
                throw EngineError.invalidConfiguration("\(owner): learning_rate=\(schedule.json) is not a number or a schedule")
            }
        }
        let common = CommonSettings(learningRate: learningRate, weightDecay: try r.optionalNumber("weight_decay"),
                                    clipnorm: try r.optionalNumber("clipnorm"), globalClipnorm: try r.optionalNumber("global_clipnorm"),
                                    clipvalue: try r.optionalNumber("clipvalue"))
        // Options Keras has and optilog does not run; accepted only at their defaults.
        guard try !r.bool("use_ema", default: false) else { throw EngineError.invalidConfiguration("\(owner): use_ema is not supported") }
        _ = try r.number("ema_momentum", default: 0.99)
        for unsupported in ["ema_overwrite_frequency", "loss_scale_factor", "gradient_accumulation_steps"] {
            if let v = r.value(unsupported), v != .null {
                throw EngineError.invalidConfiguration("\(owner): \(unsupported) is not supported (got \(v.json))")
            }
        }
        let optimizer: Optimizer
        switch key {
        case "sgd":
            optimizer = try SGD(common, momentum: try r.number("momentum", default: 0), nesterov: try r.bool("nesterov", default: false))
        case "adam":
            optimizer = try Adam(common, beta1: try r.number("beta_1", default: 0.9), beta2: try r.number("beta_2", default: 0.999),
                                 epsilon: try r.number("epsilon", default: 1e-7), amsgrad: try r.bool("amsgrad", default: false))
        case "adamax":
            optimizer = try Adamax(common, beta1: try r.number("beta_1", default: 0.9), beta2: try r.number("beta_2", default: 0.999),
                                   epsilon: try r.number("epsilon", default: 1e-7))
        case "nadam":
            optimizer = try Nadam(common, beta1: try r.number("beta_1", default: 0.9), beta2: try r.number("beta_2", default: 0.999),
                                  epsilon: try r.number("epsilon", default: 1e-7))
        case "rmsprop":
            optimizer = try RMSprop(common, rho: try r.number("rho", default: 0.9), momentum: try r.number("momentum", default: 0),
                                    epsilon: try r.number("epsilon", default: 1e-7), centered: try r.bool("centered", default: false))
        case "adagrad":
            optimizer = try Adagrad(common, initialAccumulatorValue: try r.number("initial_accumulator_value", default: 0.1),
                                    epsilon: try r.number("epsilon", default: 1e-7))
        case "adadelta":
            optimizer = try Adadelta(common, rho: try r.number("rho", default: 0.95), epsilon: try r.number("epsilon", default: 1e-7))
        default:  // ftrl
            optimizer = try Ftrl(common, learningRatePower: try r.number("learning_rate_power", default: -0.5),
                                 initialAccumulatorValue: try r.number("initial_accumulator_value", default: 0.1),
                                 l1: try r.number("l1_regularization_strength", default: 0),
                                 l2: try r.number("l2_regularization_strength", default: 0),
                                 l2Shrinkage: try r.number("l2_shrinkage_regularization_strength", default: 0),
                                 beta: try r.number("beta", default: 0))
        }
        try r.rejectUnused()
        return optimizer
    }
}
