import ArgumentParser
import Foundation
import Study
import Engine

/// The output formats every row-printing command takes.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case table, csv, tsv, json, ndjson, markdown
}

extension StudyTask: ExpressibleByArgument {
    /// Any case, and `-` for `_` (`Fashion-MNIST`).
    public init?(argument: String) { self.init(rawValue: argument.lowercased().replacingOccurrences(of: "-", with: "_")) }
    public static var allValueStrings: [String] { allCases.map(\.rawValue) }
}

/// `--set KEY=VALUE`, with Keras's own argument names.
struct Setting: ExpressibleByArgument {
    let key: String
    let value: String

    init?(argument: String) {
        guard let eq = argument.firstIndex(of: "="), eq != argument.startIndex else { return nil }
        key = String(argument[..<eq])
        value = Lists.ascii(String(argument[argument.index(after: eq)...]))
    }

    static var defaultCompletionKind: CompletionKind { .default }
}

extension StudyPlan.Preset: ExpressibleByArgument {
    public init?(argument: String) { self.init(rawValue: argument.lowercased()) }
}

/// `--grid KEY=V1,V2,…`: one axis of a study's settings grid. Commas inside a JSON value
/// (a schedule) do not split it.
struct GridAxis: ExpressibleByArgument {
    let axis: StudyPlan.Sweep.Grid

    init?(argument: String) {
        guard let setting = Setting(argument: Lists.ascii(argument)) else { return nil }
        var values: [String] = [], current = "", depth = 0, quoted = false
        for c in setting.value {
            if c == "\"" { quoted.toggle() }
            if !quoted && (c == "{" || c == "[") { depth += 1 }
            if !quoted && (c == "}" || c == "]") { depth -= 1 }
            if c == ",", depth == 0, !quoted {
                values.append(current.trimmingCharacters(in: .whitespaces))
                current = ""
            } else {
                current.append(c)
            }
        }
        values.append(current.trimmingCharacters(in: .whitespaces))
        guard !values.contains(where: \.isEmpty) else { return nil }
        axis = StudyPlan.Sweep.Grid(key: setting.key.trimmingCharacters(in: .whitespaces), values: values)
    }

    static var defaultCompletionKind: CompletionKind { .default }
}
