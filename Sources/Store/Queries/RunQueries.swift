import Foundation
import GRDB

/// A run with the name of its study, as listings show it.
public struct RunListing: Sendable, Equatable {
    public var run: Run
    public var study: String?
}

/// `optilog runs`: which runs to list, newest first.
public struct RunListQuery: Sendable {
    public var task: String?
    public var optimizer: String?
    public var status: RunStatus?
    public var study: String?
    /// Unix time: only runs created since.
    public var since: Double?
    /// Only these runs (nil: any), e.g. those a `--where` filter matched.
    public var ids: [Int64]?
    public var archived: ArchivedRuns
    public var limit: Int

    /// Which runs a listing shows, by their archive mark.
    public enum ArchivedRuns: Int, Sendable {
        case hidden = -1, only = 1, included = 0
    }

    public init(task: String? = nil, optimizer: String? = nil, status: RunStatus? = nil, study: String? = nil, since: Double? = nil,
                ids: [Int64]? = nil, archived: ArchivedRuns = .hidden, limit: Int = 100) {
        (self.task, self.optimizer, self.status, self.study, self.since, self.limit) = (task, optimizer, status, study, since, limit)
        (self.ids, self.archived) = (ids, archived)
    }
}

extension ReadOnlyStore {
    /// RUN as given on the command line: a run id, or a prefix (4+ characters) of its uid.
    public func resolveRun(_ reference: String) throws -> Int64 {
        try read { db in
            // An id first; digits can also start a uid ("14984897-…"), so those are tried next.
            if let id = Int64(reference), try Run.exists(db, key: id) { return id }
            let prefix = reference.lowercased()
            guard prefix.count >= 4, prefix.allSatisfy({ $0.isHexDigit || $0 == "-" }) else {
                if Int64(reference) != nil { throw StoreError.refused("no run \(reference) in \(path)") }
                throw StoreError.refused("\(reference) is not a run id or the start of a run uid (4 or more characters)")
            }
            let found = try Int64.fetchAll(db, sql: "SELECT id FROM runs WHERE substr(uid, 1, ?) = ? LIMIT 2", arguments: [prefix.count, prefix])
            guard found.count == 1 else {
                if found.isEmpty, Int64(reference) != nil { throw StoreError.refused("no run \(reference) in \(path)") }
                throw StoreError.refused(found.isEmpty ? "no run with uid \(reference)… in \(path)" : "uid \(reference)… names more than one run; give more of it")
            }
            return found[0]
        }
    }

    /// The id of the study with this name.
    public func studyID(named name: String) throws -> Int64 {
        guard let id = try read({ db in try Int64.fetchOne(db, sql: "SELECT id FROM studies WHERE name = ? ORDER BY id LIMIT 1", arguments: [name]) }) else {
            throw StoreError.refused("no study named \(name) in \(path)")
        }
        return id
    }

    public func study(_ id: Int64) throws -> Study? {
        try read { db in try Study.fetchOne(db, key: id) }
    }

    public func run(_ id: Int64) throws -> Run? {
        try read { db in try Run.fetchOne(db, key: id) }
    }

    /// The run and its study's name.
    public func listing(_ id: Int64) throws -> RunListing? {
        try read { db in
            try Run.fetchOne(db, key: id).map { run in
                RunListing(run: run, study: try run.studyID.flatMap { try String.fetchOne(db, sql: "SELECT name FROM studies WHERE id = ?", arguments: [$0]) })
            }
        }
    }

    /// Runs newest first, by the query's filters (the named query `runs`).
    public func runs(_ q: RunListQuery) throws -> [RunListing] {
        let sql = try Store.query("runs")
        return try read { db in
            try Row.fetchAll(db, sql: sql, arguments: ["task": q.task, "optimizer": q.optimizer?.lowercased(), "status": q.status?.rawValue,
                                                       "study": q.study, "since": q.since,
                                                       "ids": q.ids.map { "[" + $0.map(String.init).joined(separator: ",") + "]" },
                                                       "archived": q.archived == .hidden ? nil : q.archived.rawValue, "limit": q.limit])
                .map { RunListing(run: try Run(row: $0), study: $0["study_name"]) }
        }
    }

    /// A study's runs (or every run) but archived ones, by task, optimizer and id.
    public func runs(study: Int64?) throws -> [RunListing] {
        try listings(where: "(:study IS NULL OR r.study_id = :study) AND \(RunFilter.shown)", order: "r.task, r.optimizer, r.id", arguments: ["study": study])
    }

    /// Runs matching a `--where` filter (and optionally a study by name, or these ids), by id;
    /// archived ones only when the filter names `archived`.
    public func runs(matching filter: RunFilter, study: String? = nil, ids: [Int64]? = nil) throws -> [RunListing] {
        var condition = try filter.sql()
        if let study {
            condition.sql += " AND s.name = ?"
            condition.arguments.append(study)
        }
        if let ids { condition.sql += " AND r.id IN (\(ids.map(String.init).joined(separator: ",")))" }
        return try listings(where: condition.sql, order: "r.id", arguments: StatementArguments(condition.arguments))
    }

    func listings(where condition: String, order: String, arguments: StatementArguments) throws -> [RunListing] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT r.*, s.name AS study_name FROM runs r LEFT JOIN studies s ON s.id = r.study_id WHERE \(condition) ORDER BY \(order)",
                             arguments: arguments)
                .map { RunListing(run: try Run(row: $0), study: $0["study_name"]) }
        }
    }

    /// The newest run of a study for a grid cell, if any: with `configuration`, the run of that
    /// optimizer configuration (a cell of a sweep); without, any run of the cell.
    public func studyRun(study: Int64, task: String, optimizer: String, seed: UInt64, configuration: String? = nil) throws -> Run? {
        try read { db in
            try Run.fetchOne(db, sql: """
                SELECT * FROM runs WHERE study_id = ? AND task = ? AND optimizer = ? AND seed = ?
                  AND (? IS NULL OR optimizer_configuration = ?) ORDER BY id DESC LIMIT 1
                """, arguments: [study, task, optimizer, Int64(bitPattern: seed), configuration, configuration])
        }
    }

    /// Runs to resume: interrupted ones, and running ones no live process owns (the named query
    /// `resumable_runs`, then `Run.liveOwner`).
    public func resumableRuns(staleAfter: Double = Run.defaultStaleAfter) throws -> [Int64] {
        try read { db in
            try Run.fetchAll(db, sql: try Store.query("resumable_runs"))
                .filter { $0.liveOwner(staleAfter: staleAfter) == nil }.map(\.id)
        }
    }

    /// Keys for `--where`, `--by` and `--setting` must name a run column or a setting some
    /// logged run's optimizer has: a typo (`lr` for `learning_rate`) is an error naming them,
    /// not an empty table.
    public func checkKeys(_ keys: [String]) throws {
        let tags = keys.compactMap(RunFilter.tagKey)
        if !tags.isEmpty {
            let known = try tagKeys()
            if let tag = tags.first(where: { !known.contains($0) }) {
                throw StoreError.refused("no run has the tag '\(tag)' (tags in use: \(known.isEmpty ? "none" : known.joined(separator: ", ")))")
            }
        }
        let unknown = keys.filter { RunFilter.columns[$0] == nil && RunFilter.tagKey($0) == nil }
        guard !unknown.isEmpty else { return }
        let settings = try read { db in
            try String.fetchAll(db, sql: "SELECT DISTINCT j.key FROM runs, json_each(CASE WHEN json_valid(runs.optimizer_configuration) THEN runs.optimizer_configuration ELSE '{}' END) j ORDER BY 1")
        }
        if let key = unknown.first(where: { !settings.contains($0) }) {
            throw StoreError.refused("unknown key '\(key)': not a run column (\(RunFilter.columns.keys.sorted().joined(separator: ", "))), a tag (tag.KEY) "
                                     + "nor a setting of a logged run's optimizer (\(settings.isEmpty ? "none logged" : settings.joined(separator: ", ")))")
        }
    }

    /// The columns of a table in this file (a schema-1 store read as it is lacks schema 2's).
    public func columns(of table: String) throws -> [String] {
        try read { db in try String.fetchAll(db, sql: "SELECT name FROM pragma_table_info(?)", arguments: [table]) }
    }
}
