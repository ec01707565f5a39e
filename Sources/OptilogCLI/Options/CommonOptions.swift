import ArgumentParser
import Study
import Engine

/// The output formats every row-printing command takes.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case table, csv, tsv, json, ndjson, markdown
}

extension StudyTask: ExpressibleByArgument {
    public init?(argument: String) { self.init(rawValue: argument) }
    public static var allValueStrings: [String] { allCases.map(\.rawValue) }
}

/// `--set KEY=VALUE`, with Keras's own argument names.
struct Setting: ExpressibleByArgument {
    let key: String
    let value: String

    init?(argument: String) {
        guard let eq = argument.firstIndex(of: "="), eq != argument.startIndex else { return nil }
        key = String(argument[..<eq])
        value = String(argument[argument.index(after: eq)...])
    }

    static var defaultCompletionKind: CompletionKind { .default }
}

extension StudyPlan.Preset: ExpressibleByArgument {}
