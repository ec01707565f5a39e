import ArgumentParser
import Foundation
import Store

/// The runs a managing command acts on: ids or uid prefixes, or `--where` (with `--study`).
struct RunSelection: ParsableArguments {
    @Option(name: .customLong("where"), help: ArgumentHelp("Runs matching this filter (as in optilog best --help).", valueName: "FILTER"))
    var filter: String?
    @Option(help: "Runs of this study (by name).") var study: String?

    /// True when neither option is given (the runs come from the positional arguments).
    var isEmpty: Bool { filter == nil && study == nil }

    /// For `validate()`: runs named, or selected, one way and not both.
    func check(_ references: [String]) throws {
        let refs = Lists.flatten(references)
        if !refs.isEmpty && !isEmpty { throw ValidationError("give runs or --where/--study, not both") }
        if refs.isEmpty && isEmpty { throw ValidationError("name the runs (ids or uid prefixes) or select them with --where/--study") }
        if let filter { do { _ = try RunFilter(filter) } catch { throw ValidationError("\(error)") } }
    }

    /// Run ids: `references` resolved one by one, or the runs the filter matches (archived ones
    /// only as `archived` says: "0" hidden ones never, "1" only them, "0|1" both). Read from the
    /// store as it is, before anything opens it for writing: a mistake changes nothing.
    func resolve(_ references: [String], path: String, archived: String = "0") throws -> [Int64] {
        try resolve(references, reader: try Self.reader(path), archived: archived)
    }

    /// The store read before a command writes to it: refused first, as the writer would refuse
    /// it, when it is damaged, another program's or newer.
    static func reader(_ path: String) throws -> ReadOnlyStore {
        if FileManager.default.fileExists(atPath: path) { try Store.checkOpenable(path) }
        return try ReadOnlyStore(path: path)
    }

    func resolve(_ references: [String], reader: ReadOnlyStore, archived: String = "0") throws -> [Int64] {
        let refs = Lists.flatten(references)
        if !refs.isEmpty && !isEmpty { throw ValidationError("give runs or --where/--study, not both") }
        guard isEmpty else {
            let parsed = try RunFilter(filter ?? "")
            try reader.checkKeys(parsed.clauses.map(\.key))
            if let study { _ = try reader.studyID(named: study) }
            return try reader.runs(matching: parsed.reaching(archived: archived), study: study).map(\.run.id)
        }
        guard !refs.isEmpty else { throw ValidationError("name the runs (ids or uid prefixes) or select them with --where/--study") }
        var seen: Set<Int64> = []
        return try refs.map { try reader.resolveRun($0) }.filter { seen.insert($0).inserted }
    }
}

/// Run ids as a short phrase: "run 3", "runs 3, 4, 7", "12 runs (3, 4, 5, …)".
func runsPhrase(_ ids: [Int64]) -> String {
    switch ids.count {
    case 0: return "no runs"
    case 1: return "run \(ids[0])"
    case 2...8: return "runs " + ids.map(String.init).joined(separator: ", ")
    default: return "\(ids.count) runs (" + ids.prefix(6).map(String.init).joined(separator: ", ") + ", …)"
    }
}

/// Bytes as people read them: 512 B, 3.4 KB, 12.0 MB (powers of 1,000).
func byteText(_ bytes: Int64) -> String {
    let b = Double(bytes)
    if b < 1_000 { return "\(bytes) B" }
    if b < 1_000_000 { return String(format: "%.1f KB", b / 1_000) }
    if b < 1_000_000_000 { return String(format: "%.1f MB", b / 1_000_000) }
    return String(format: "%.2f GB", b / 1_000_000_000)
}

/// "1 epoch", "3 epochs".
func counted(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }
