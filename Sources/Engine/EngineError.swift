/// Errors a user can cause by describing an impossible model or feeding mismatched data.
/// Programming errors inside the engine stay preconditions.
public enum EngineError: Error, Equatable, CustomStringConvertible {
    case shapeMismatch(String)
    case invalidConfiguration(String)

    public var description: String {
        switch self {
        case .shapeMismatch(let message): return "shape mismatch: \(message)"
        case .invalidConfiguration(let message): return "invalid configuration: \(message)"
        }
    }
}
