import ArgumentParser
import Foundation
import Study

/// `optilog`: run and query an optimizer study. Exit codes: 0 success, 1 error (one line on
/// stderr), 2 usage error.
public struct Optilog: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "optilog",
        abstract: "Compare neural-network optimizers with evidence: train, log, query, resume.",
        version: "\(LoggedTraining.codeVersion) (recorded with every run as its code_version)",
        groupedSubcommands: [
            CommandGroup(name: "Training", subcommands: [StudyCommand.self, RunCommand.self, Resume.self]),
            CommandGroup(
                name: "Query",
                subcommands: [
                    Best.self, Runs.self, Show.self, Compare.self, Curves.self, Sensitivity.self, FindingsCommand.self, Report.self,
                    Export.self, Sql.self, Verify.self,
                ]),
            CommandGroup(name: "Manage", subcommands: [Tag.self, Note.self, Archive.self, Unarchive.self, Delete.self, Checkpoints.self, Vacuum.self]),
            CommandGroup(name: "Shard", subcommands: [Merge.self]),
            CommandGroup(name: "Standalone", subcommands: [Train.self, Surface.self, Datasets.self, Summary.self]),
        ]
    )

    public init() {}

    /// ArgumentParser exits 64 on usage errors; the optilog convention is 2, and runtime errors
    /// are a single `optilog: error: …` line with exit 1, never a stack trace.
    public static func main(_ arguments: [String]? = nil) -> Never {
        do {
            var command = try parseAsRoot(sqlAsPositional(arguments ?? Array(CommandLine.arguments.dropFirst())))
            try command.run()
            Foundation.exit(0)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            if error is ExitCode { Foundation.exit(code.rawValue) }
            if code == .validationFailure {
                warn(fullMessage(for: error))
                Foundation.exit(2)
            }
            warn("optilog: error: \(error)")
            Foundation.exit(1)
        }
    }
}

/// `optilog sql "-- why\nSELECT …"`: a word that starts with `--` but holds whitespace cannot be
/// an option; it is SQL that begins with a comment, so it goes behind `--` to be read as the
/// query.
func sqlAsPositional(_ arguments: [String]) -> [String] {
    guard arguments.first == "sql", !arguments.contains("--") else { return arguments }
    var rest = arguments
    var queries: [String] = []
    var i = 1
    while i < rest.count {
        if rest[i].hasPrefix("--") && rest[i].contains(where: \.isWhitespace) {
            queries.append(rest.remove(at: i))
        } else {
            i += 1
        }
    }
    return queries.isEmpty ? arguments : rest + ["--"] + queries
}
