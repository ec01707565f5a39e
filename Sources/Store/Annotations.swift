import Foundation
import GRDB

/// Tag names: what `optilog tag` accepts and `--where tag.KEY` reads. Lower case, so that a
/// filter (whose keys are case-insensitive) always finds them.
public enum Tags {
    public static let keyRule = "a letter, then letters, digits, '_', '-' or '.', at most 64 characters"

    public static func isValidKey(_ key: String) -> Bool {
        guard let first = key.first, first.isASCII, first.isLetter, key.count <= 64 else { return false }
        return key.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "_-.".contains($0)) }
    }

    /// `key=value` as typed: the key lower-cased; refused with the rule when it breaks it.
    public static func parse(_ text: String) throws -> (key: String, value: String) {
        guard let eq = text.firstIndex(of: "=") else { throw StoreError.refused("tag \"\(text)\" is not KEY=VALUE") }
        let key = text[..<eq].trimmingCharacters(in: .whitespaces).lowercased()
        let value = text[text.index(after: eq)...].trimmingCharacters(in: .whitespaces)
        guard isValidKey(key) else { throw StoreError.refused("tag \"\(text)\": the key must be \(keyRule)") }
        guard !value.isEmpty else { throw StoreError.refused("tag \"\(printable(text))\" has no value (to remove a tag: optilog tag RUN --remove \(key))") }
        guard !value.unicodeScalars.contains(where: isControl) else {
            throw StoreError.refused("tag \(key): the value holds a control character (a line break, tab or escape); tags are one line of text")
        }
        return (key, value)
    }

    static func isControl(_ c: Unicode.Scalar) -> Bool { c.properties.generalCategory == .control }

    /// Text from the store as a terminal may show it: control characters (from a merged store,
    /// or written by another program) become U+FFFD, so they can neither break a table's rows
    /// nor drive the terminal.
    public static func printable(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isControl) else { return text }
        return String(String.UnicodeScalarView(text.unicodeScalars.map { isControl($0) ? "\u{FFFD}" : $0 }))
    }
}

/// A run's tags, notes and archive mark: what users added to it after the fact.
public struct RunAnnotations: Sendable, Equatable {
    public var tags: [(key: String, value: String)] = []
    public var notes: [(createdAt: Double, text: String)] = []
    /// When it was archived (nil: shown), and why.
    public var archivedAt: Double?
    public var archiveReason: String?

    public init() {}

    public static func == (a: RunAnnotations, b: RunAnnotations) -> Bool {
        a.tags.map { "\($0.key)=\($0.value)" } == b.tags.map { "\($0.key)=\($0.value)" }
            && a.notes.map { "\($0.createdAt)|\($0.text)" } == b.notes.map { "\($0.createdAt)|\($0.text)" }
            && a.archivedAt == b.archivedAt && a.archiveReason == b.archiveReason
    }
}

extension ReadOnlyStore {
    /// Tags (by key), notes (oldest first) and archive mark of each run, by run id.
    public func annotations(runs: [Int64]) throws -> [Int64: RunAnnotations] {
        guard !runs.isEmpty else { return [:] }
        let list = runs.map(String.init).joined(separator: ",")
        return try read { db in
            var out: [Int64: RunAnnotations] = [:]
            for r in try Row.fetchAll(db, sql: "SELECT run_id, key, value FROM run_tags WHERE run_id IN (\(list)) ORDER BY run_id, key") {
                out[r[0], default: RunAnnotations()].tags.append((r[1], r[2]))
            }
            for r in try Row.fetchAll(db, sql: "SELECT run_id, created_at, text FROM run_notes WHERE run_id IN (\(list)) ORDER BY run_id, created_at") {
                out[r[0], default: RunAnnotations()].notes.append((r[1], r[2]))
            }
            for r in try Row.fetchAll(db, sql: "SELECT run_id, archived_at, reason FROM run_archive WHERE run_id IN (\(list))") {
                out[r[0], default: RunAnnotations()].archivedAt = r[1]
                out[r[0], default: RunAnnotations()].archiveReason = r[2]
            }
            return out
        }
    }

    /// Every tag key in use, sorted.
    public func tagKeys() throws -> [String] {
        try read { db in try String.fetchAll(db, sql: "SELECT DISTINCT key FROM run_tags ORDER BY key") }
    }
}

extension Store {
    /// Sets tags on runs (a key set again takes the new value) and removes others, in one
    /// transaction. Returns how many tags changed.
    @discardableResult
    public func tag(runs: [Int64], set: [(key: String, value: String)], remove: [String] = []) throws -> Int {
        try write { db in
            var changed = 0
            for run in runs {
                try Self.requireRun(db, run)
                for (key, value) in set {
                    try db.execute(sql: """
                        INSERT INTO run_tags (run_id, key, value, set_at) VALUES (?, ?, ?, ?)
                        ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value, set_at = excluded.set_at WHERE value != excluded.value
                        """, arguments: [run, key, value, Self.now])
                    changed += db.changesCount
                }
                for key in remove {
                    try db.execute(sql: "DELETE FROM run_tags WHERE run_id = ? AND key = ?", arguments: [run, key.lowercased()])
                    changed += db.changesCount
                }
            }
            return changed
        }
    }

    /// Appends a note to runs.
    public func note(runs: [Int64], _ text: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw StoreError.refused("the note is empty") }
        // One line: line breaks and tabs become spaces; any other control character is refused.
        let oneLine = trimmed.replacingOccurrences(of: "\r\n", with: " ").replacingOccurrences(of: "\n", with: " ")
            .replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\t", with: " ")
        guard !oneLine.unicodeScalars.contains(where: Tags.isControl) else {
            throw StoreError.refused("the note holds a control character (an escape?); notes are text")
        }
        try write { db in
            let now = Self.now
            for run in runs {
                try Self.requireRun(db, run)
                try db.execute(sql: "INSERT OR IGNORE INTO run_notes (run_id, created_at, text) VALUES (?, ?, ?)", arguments: [run, now, oneLine])
            }
        }
    }

    static func requireRun(_ db: Database, _ run: Int64) throws {
        guard try Run.exists(db, key: run) else { throw StoreError.refused("no run \(run)") }
    }
}
