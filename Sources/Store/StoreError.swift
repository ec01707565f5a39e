/// What can go wrong with a store, each with a message a user can act on.
public enum StoreError: Error, Equatable, CustomStringConvertible {
    /// Damaged bytes: a checkpoint blob, a series, a store file.
    case corrupt(String)
    /// The file was written by a newer optilog.
    case newerSchema(path: String, found: [String])
    /// Not an SQLite file, unreadable, or missing.
    case cannotOpen(path: String, reason: String)
    /// A run, epoch or checkpoint that is not there.
    case notFound(String)
    /// A statement a read-only connection refuses, or a request that contradicts the store.
    case refused(String)
    /// An SQLite file that fails its structural check.
    case damaged(path: String, reason: String)
    /// A run another live process is training.
    case owned(String)
    /// This process no longer owns the run it was writing (another took it over).
    case lostOwnership(String)

    public var description: String {
        switch self {
        case .corrupt(let what): return "corrupt data: \(what)"
        case let .newerSchema(path, found):
            return "\(path) was written by a newer optilog (schema \(found.joined(separator: ", "))); upgrade optilog to open it"
        case let .cannotOpen(path, reason): return "cannot open \(path): \(reason)"
        case .notFound(let what): return "not found: \(what)"
        case .refused(let what): return what
        case let .damaged(path, reason):
            return "\(path) is damaged (\(reason)); nothing was written. `optilog verify --db \(path)` says more; "
                + "SQLite's .recover salvages what is left: sqlite3 \(path) .recover | sqlite3 recovered.sqlite"
        case .owned(let what): return what
        case .lostOwnership(let what): return what
        }
    }
}
