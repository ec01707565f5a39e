import ArgumentParser
import Foundation
import Store

/// `--db FILE`: the research log (default `./optilog.sqlite`, or `OPTILOG_DB`).
struct StoreOptions: ParsableArguments {
    @Option(name: .customLong("db"), help: ArgumentHelp("The research log (default ./optilog.sqlite, or OPTILOG_DB).", valueName: "FILE"))
    var path: String?

    var resolvedPath: String { path ?? ProcessInfo.processInfo.environment["OPTILOG_DB"] ?? "optilog.sqlite" }

    func open() throws -> Store { try Store(path: resolvedPath) }
}
