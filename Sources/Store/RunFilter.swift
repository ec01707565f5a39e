import Foundation
import GRDB

/// `--where` and `--by` for the query commands: a small language over a run's columns and its
/// optimizer settings, turned into SQL whose values are always bound parameters (never text
/// pasted into the statement), so a filter can only ever select.
///
///     task=imdb, optimizer=adam|nadam, learning_rate<=0.01, status!=diverged, seed>=2
///
/// Clauses are joined by `,` or `and`; operators `=` (or `==`), `!=`, `<`, `<=`, `>`, `>=`, and
/// `~` (contains); `a|b` after `=` or `!=` is one of several values. Keys are the run columns
/// below, `study` (its name), `archived` (1 or 0), `tag.KEY` (a tag's value), `note` (the run's
/// notes), or any other name, read as a Keras optimizer setting from the run's configuration
/// (`learning_rate`, `momentum`, `beta_1`, …). Archived runs are left out unless a clause names
/// `archived`.
public struct RunFilter: Sendable, Equatable {
    public struct Clause: Sendable, Equatable {
        public var key: String
        public var op: String
        public var values: [String]
    }

    public var clauses: [Clause]

    /// Every run.
    public static let all = RunFilter(clauses: [])

    init(clauses: [Clause]) { self.clauses = clauses }

    /// Columns of `runs` (alias `r`) a filter or grouping may name, and `study` (alias `s`).
    public static let columns: [String: String] = [
        "id": "r.id", "run": "r.id", "uid": "r.uid", "task": "r.task", "optimizer": "r.optimizer", "status": "r.status",
        "seed": "r.seed", "batch_size": "r.batch_size", "epochs_done": "r.epochs_done", "epochs_planned": "r.epochs_planned",
        "best_val_loss": "r.best_val_loss", "best_epoch": "r.best_epoch", "dataset": "r.dataset", "host": "r.host",
        "threads": "r.threads", "code_version": "r.code_version", "study": "s.name",
        "archived": "EXISTS (SELECT 1 FROM run_archive a WHERE a.run_id = r.id)",
        "note": "(SELECT group_concat(n.text, char(10)) FROM run_notes n WHERE n.run_id = r.id)",
    ]

    /// The condition every table and listing puts on `runs r`: archived runs are hidden.
    package static let shown = "NOT EXISTS (SELECT 1 FROM run_archive a WHERE a.run_id = r.id)"

    /// The tag a `tag.KEY` key names, if it is one.
    package static func tagKey(_ key: String) -> String? {
        key.hasPrefix("tag.") && key.count > 4 ? String(key.dropFirst(4)) : nil
    }

    static let operators = ["<=", ">=", "!=", "==", "=", "<", ">", "~"]

    public init(_ text: String) throws {
        clauses = []
        guard !text.trimmingCharacters(in: .whitespaces).isEmpty else { return }
        let pieces = Self.clauses(of: text)
        for raw in pieces {
            let piece = raw.trimmingCharacters(in: .whitespaces)
            guard !piece.isEmpty else { throw StoreError.refused("--where: empty condition in \"\(text)\"") }
            guard let (range, op) = Self.operators.lazy.compactMap({ op in piece.range(of: op).map { ($0, op) } })
                .min(by: { $0.0.lowerBound < $1.0.lowerBound }) else {
                throw StoreError.refused("--where: \"\(piece)\" has no operator (=, !=, <, <=, >, >=, ~)")
            }
            // At one position the longest operator wins ("<=" before "<").
            let start = range.lowerBound
            let chosen = Self.operators.first { piece[start...].hasPrefix($0) } ?? op
            let key = piece[..<start].trimmingCharacters(in: .whitespaces).lowercased()
            let value = String(piece[piece.index(start, offsetBy: chosen.count)...]).trimmingCharacters(in: .whitespaces)
            try Self.checkKey(key)
            let values = value.split(separator: "|", omittingEmptySubsequences: false).map { Self.unquote($0.trimmingCharacters(in: .whitespaces)) }
            guard !values.contains(where: \.isEmpty) else { throw StoreError.refused("--where: \"\(piece)\" has no value") }
            guard values.count == 1 || chosen == "=" || chosen == "==" || chosen == "!=" else {
                throw StoreError.refused("--where: \"\(piece)\": a|b works with = and != only")
            }
            clauses.append(Clause(key: key, op: chosen == "==" ? "=" : chosen, values: values))
        }
    }

    /// This filter, reaching archived runs too (`values`: "1" only archived ones, "0|1" both)
    /// unless it already says which it wants.
    public func reaching(archived values: String) -> RunFilter {
        guard !clauses.contains(where: { $0.key == "archived" }) else { return self }
        return RunFilter(clauses: clauses + [Clause(key: "archived", op: "=", values: values.split(separator: "|").map(String.init))])
    }

    /// A key `--by` may group by: a run column, `study`, or an optimizer setting's name.
    public static func checkGroupKey(_ key: String) throws { _ = try expression(key) }

    static func checkKey(_ key: String) throws {
        if let tag = tagKey(key) {
            guard Tags.isValidKey(tag) else { throw StoreError.refused("--where/--by: \"\(key)\" is not a tag name (\(Tags.keyRule))") }
            return
        }
        guard !key.isEmpty, key.count <= 64, key.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }),
              key.first!.isLetter else {
            throw StoreError.refused("--where/--by: \"\(key)\" is not a column or an optimizer setting name")
        }
    }

    /// The text split at `,` and at ` and ` (any case), but not inside quotes: a quoted value
    /// may hold either (`tag.note="a, b"`).
    static func clauses(of text: String) -> [Substring] {
        var pieces: [Substring] = []
        var start = text.startIndex, i = text.startIndex
        var quote: Character?
        while i < text.endIndex {
            let c = text[i]
            if let q = quote {
                if c == q { quote = nil }
            } else if c == "\"" || c == "'" {
                quote = c
            } else if c == "," {
                pieces.append(text[start..<i])
                start = text.index(after: i)
            } else if c.isWhitespace, let match = text[i...].range(of: #"^\s+and\s+"#, options: [.regularExpression, .caseInsensitive]) {
                pieces.append(text[start..<i])
                start = match.upperBound
                i = match.upperBound
                continue
            }
            i = text.index(after: i)
        }
        pieces.append(text[start...])
        return pieces
    }

    static func unquote(_ s: String) -> String {
        if s.count >= 2, let f = s.first, f == s.last, f == "\"" || f == "'" { return String(s.dropFirst().dropLast()) }
        return s
    }

    /// SQL for a key: a column, or a setting in the run's optimizer configuration. The key has
    /// been checked to be a plain identifier, and a setting's path goes in as a parameter.
    package static func expression(_ key: String) throws -> (sql: String, arguments: [DatabaseValueConvertible?]) {
        try checkKey(key)
        if let column = columns[key] { return (column, []) }
        if let tag = tagKey(key) { return ("(SELECT t.value FROM run_tags t WHERE t.run_id = r.id AND t.key = ?)", [tag]) }
        return ("json_extract(r.optimizer_configuration, ?)", ["$." + key])
    }

    /// The condition (archived runs hidden unless a clause names `archived`) and its arguments,
    /// for a query over `runs r LEFT JOIN studies s`.
    package func sql() throws -> (sql: String, arguments: [DatabaseValueConvertible?]) {
        var parts: [String] = clauses.contains { $0.key == "archived" } ? [] : [Self.shown]
        var arguments: [DatabaseValueConvertible?] = []
        for clause in clauses {
            let (expr, exprArguments) = try Self.expression(clause.key)
            func value(_ v: String) -> DatabaseValueConvertible {
                if let n = Double(v), n.isFinite, !["uid", "dataset", "host", "note"].contains(clause.key), Self.tagKey(clause.key) == nil { return n }
                if clause.key == "optimizer" || clause.key == "task" || clause.key == "status" { return v.lowercased() }
                return v
            }
            // Keras keeps an optimizer's numbers as float32: learning_rate=0.1 is logged as
            // 0.10000000149011612, and `=` matches either.
            let isSetting = Self.columns[clause.key] == nil && Self.tagKey(clause.key) == nil
            func values(_ v: String) -> [DatabaseValueConvertible] {
                let plain = value(v)
                guard isSetting, let n = plain as? Double, Float(n).isFinite, Double(Float(n)) != n else { return [plain] }
                return [n, Double(Float(n))]
            }
            // A tag compared by order with a number is read as a number.
            let ordered = Self.tagKey(clause.key) != nil && Double(clause.values[0]) != nil ? "CAST(\(expr) AS REAL)" : expr
            switch clause.op {
            case "=", "!=":
                let bound = clause.values.flatMap(values)
                let list = Array(repeating: "?", count: bound.count).joined(separator: ", ")
                parts.append(clause.op == "=" ? "\(expr) IN (\(list))" : "(\(expr) IS NULL OR \(expr) NOT IN (\(list)))")
                arguments += exprArguments + (clause.op == "=" ? [] : exprArguments) + bound
            case "~":
                parts.append("instr(lower(CAST(\(expr) AS TEXT)), lower(?)) > 0")
                arguments += exprArguments + [clause.values[0]]
            default:
                parts.append("\(ordered) \(clause.op) ?")
                arguments += exprArguments + [ordered == expr ? value(clause.values[0]) : Double(clause.values[0])!]
            }
        }
        return (parts.isEmpty ? "1" : parts.map { "(\($0))" }.joined(separator: " AND "), arguments)
    }
}
