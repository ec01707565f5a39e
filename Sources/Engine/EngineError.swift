/// Errors a user can cause by describing an impossible model or feeding mismatched data.
/// Programming errors inside the engine stay preconditions.
public enum EngineError: Error, Equatable, CustomStringConvertible {
    case shapeMismatch(String)
    case invalidConfiguration(String)
    /// A Keras model that uses a layer, an option or a value optilog does not have.
    case unsupportedModel(String)

    public var description: String {
        switch self {
        case .shapeMismatch(let message): return "shape mismatch: \(message)"
        case .invalidConfiguration(let message): return "invalid configuration: \(message)"
        case .unsupportedModel(let message): return message
        }
    }
}
