import GRDB

/// A study as the log keeps it (table `studies`): a named grid of runs.
public struct Study: Sendable, Equatable {
    public var id: Int64
    /// Derived from the name and the grid (see `Store.studyUID`), so the shards of one study,
    /// trained into separate stores, name the same study; survives merges.
    public var uid: String
    public var name: String
    /// JSON: the grid.
    public var configuration: String
    public var createdAt: Double

    public enum Columns: String, CaseIterable, Sendable {
        case id, uid, name, configuration, createdAt = "created_at"
    }
}

extension Study: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "studies"

    public init(row: Row) throws {
        let what = "study \(row[Columns.id.rawValue] as DatabaseValue? ?? .null)"
        id = try row.decode(Columns.id.rawValue, in: what)
        uid = try row.decode(Columns.uid.rawValue, in: what)
        name = try row.decode(Columns.name.rawValue, in: what)
        configuration = try row.decode(Columns.configuration.rawValue, in: what)
        createdAt = try row.decode(Columns.createdAt.rawValue, in: what)
    }

    public func encode(to container: inout PersistenceContainer) {
        container[Columns.id.rawValue] = id == 0 ? nil : id
        container[Columns.uid.rawValue] = uid
        container[Columns.name.rawValue] = name
        container[Columns.configuration.rawValue] = configuration
        container[Columns.createdAt.rawValue] = createdAt
    }
}
