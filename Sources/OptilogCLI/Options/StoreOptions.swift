import ArgumentParser
import Foundation
import Store

/// `--db FILE`: the research log (default `./optilog.sqlite`, or `OPTILOG_DB`).
struct StoreOptions: ParsableArguments {
    @Option(name: .customLong("db"), help: ArgumentHelp("The research log (default ./optilog.sqlite, or OPTILOG_DB).", valueName: "FILE"))
    var path: String?

    var resolvedPath: String { path ?? Self.defaultPath }
    /// Where the log is when no `--db` is given.
    static var defaultPath: String { ProcessInfo.processInfo.environment["OPTILOG_DB"] ?? "optilog.sqlite" }

    /// The store for writing; a warning first if it is on a network filesystem.
    func open() throws -> Store {
        if let warning = Filesystem.warning(for: resolvedPath) { warn("optilog: warning: \(warning)") }
        return try Store(path: resolvedPath)
    }
}
