/// Builds an optimizer from its Keras name and `--set` style settings (Keras's argument names).
public enum OptimizerRegistry {
    public static let available = ["adam", "sgd"]

    public static func make(_ name: String, settings: [(key: String, value: String)] = []) throws -> any Optimizer {
        var values = Settings(settings, optimizer: name)
        let optimizer: any Optimizer
        switch name.lowercased() {
        case "sgd":
            optimizer = SGD(learningRate: try values.double("learning_rate", default: 0.01),
                            momentum: try values.double("momentum", default: 0),
                            nesterov: try values.bool("nesterov", default: false))
        case "adam":
            optimizer = Adam(learningRate: try values.double("learning_rate", default: 0.001),
                             beta1: try values.double("beta_1", default: 0.9),
                             beta2: try values.double("beta_2", default: 0.999),
                             epsilon: try values.double("epsilon", default: 1e-7),
                             amsgrad: try values.bool("amsgrad", default: false))
        default:
            throw EngineError.invalidConfiguration(
                "unknown optimizer '\(name)'; available: \(available.joined(separator: ", "))")
        }
        try values.rejectUnused()
        return optimizer
    }

    private struct Settings {
        var remaining: [String: String]
        let optimizer: String

        init(_ pairs: [(key: String, value: String)], optimizer: String) {
            remaining = [:]
            for (k, v) in pairs { remaining[k] = v }
            self.optimizer = optimizer
        }

        mutating func double(_ key: String, default value: Double) throws -> Double {
            guard let text = remaining.removeValue(forKey: key) else { return value }
            guard let d = Double(text), d.isFinite else {
                throw EngineError.invalidConfiguration("\(key)=\(text) is not a finite number")
            }
            return d
        }

        mutating func bool(_ key: String, default value: Bool) throws -> Bool {
            guard let text = remaining.removeValue(forKey: key) else { return value }
            switch text.lowercased() {
            case "true", "1", "yes": return true
            case "false", "0", "no": return false
            default: throw EngineError.invalidConfiguration("\(key)=\(text) is not true or false")
            }
        }

        func rejectUnused() throws {
            if let key = remaining.keys.sorted().first {
                throw EngineError.invalidConfiguration("\(optimizer) has no setting '\(key)'")
            }
        }
    }
}
