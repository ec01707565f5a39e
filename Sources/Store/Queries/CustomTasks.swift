import GRDB

/// A user's own task as the log knows it (the named query `custom_tasks`).
public struct CustomTaskRecord: Sendable, Equatable {
    public var task: String
    public var modelFingerprint: String
    public var loss: String
    public var metric: String
    /// The starting weights' fingerprint, or `seeded`.
    public var weights: String
    public var firstRun: Int64

    /// Model, loss, metric and starting weights: what one task name stands for.
    public var identity: String { [modelFingerprint, loss, metric, weights].joined(separator: "|") }
}

extension ReadOnlyStore {
    /// Every custom task in the log, each identity it has been logged with.
    public func customTasks() throws -> [CustomTaskRecord] {
        try read { db in
            try Row.fetchAll(db, sql: try Store.query("custom_tasks")).map { row in
                CustomTaskRecord(task: row["task"], modelFingerprint: row["model_fingerprint"] ?? "", loss: row["loss"] ?? "",
                                 metric: row["metric"] ?? "", weights: row["weights"] ?? "seeded", firstRun: row["first_run"])
            }
        }
    }
}
