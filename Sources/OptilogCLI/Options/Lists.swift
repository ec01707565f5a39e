import ArgumentParser
import Engine
import Foundation

/// One grammar for lists: every list option takes `a,b`, `a b` and repeated flags alike, and
/// names are matched without regard to case.
enum Lists {
    /// The values of a list option, each once, in the order given.
    static func flatten(_ values: [String]) -> [String] {
        var seen: Set<String> = []
        return values.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && seen.insert($0.lowercased()).inserted }
    }

    /// A task name as the log stores it (`Boston` → `boston`, `Fashion-MNIST` → `fashion_mnist`);
    /// a name that is no built-in task (a user's own) is kept as typed.
    static func taskName(_ name: String) -> String { StudyTask(argument: name)?.rawValue ?? name }

    static func tasks(_ values: [String], option: String = "--tasks") throws -> [StudyTask] {
        try flatten(values).map { name in
            guard let task = StudyTask(argument: name) else {
                throw ValidationError("\(option): unknown task '\(name)'; available: \(StudyTask.allValueStrings.joined(separator: ", "))")
            }
            return task
        }
    }

    static func optimizers(_ values: [String], option: String = "--optimizers") throws -> [String] {
        try flatten(values).map { name in
            guard Optimizers.names.contains(name.lowercased()) else {
                throw ValidationError("\(option): unknown optimizer '\(name)'; available: \(Optimizers.names.joined(separator: ", "))")
            }
            return name.lowercased()
        }
    }

    static func seeds(_ values: [String], option: String = "--seeds") throws -> [UInt64] {
        try flatten(values).map { text in
            guard let seed = UInt64(text), seed <= UInt64(Int64.max) else {
                throw ValidationError("\(option): '\(text)' is not a seed (a whole number from 0 to 9223372036854775807)")
            }
            return seed
        }
    }

    /// A value as typed, with a Unicode minus (U+2212, as typeset documents write it) read as "-".
    static func ascii(_ text: String) -> String { text.replacingOccurrences(of: "\u{2212}", with: "-") }
}
