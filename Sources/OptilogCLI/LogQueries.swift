import ArgumentParser
import Engine
import Foundation
import GRDB
import Store

/// A per-epoch column of the log that curves, compare and export can show.
enum EpochColumn: String, ExpressibleByArgument, CaseIterable {
    case loss, metric, valLoss = "val_loss", valMetric = "val_metric"
    case gradNormMean = "grad_norm_mean", gradNormMin = "grad_norm_min", gradNormMax = "grad_norm_max", gradNormLast = "grad_norm_last"
    case learningRate = "learning_rate", seconds, samplesPerSecond = "samples_per_second"

    /// Throughput and accuracies go up; losses, MAE, norms and times down.
    func higherIsBetter(task: String?) -> Bool {
        switch self {
        case .samplesPerSecond: return true
        case .metric, .valMetric: return task.flatMap(Architecture.init(rawValue:)).map { $0.metric != .meanAbsoluteError } ?? false
        default: return false
        }
    }
}

/// One curve: a run's values of a column, epoch by epoch.
struct Series {
    var run: Int64
    var task: String
    var label: String
    var optimizer: String
    var points: [(epoch: Int, value: Double)]
}

/// The reads the query commands share, all through the read-only connection.
extension ReadOnlyStore {
    /// RUN as given on the command line: a run id, or a prefix (4+ characters) of its uid.
    func resolveRun(_ reference: String) throws -> Int64 {
        // An id first; digits can also start a uid ("14984897-…"), so those are tried next.
        if let id = Int64(reference), try !rows("SELECT 1 FROM runs WHERE id = ?", arguments: [id]).rows.isEmpty { return id }
        let prefix = reference.lowercased()
        guard prefix.count >= 4, prefix.allSatisfy({ $0.isHexDigit || $0 == "-" }) else {
            if Int64(reference) != nil { throw CleanError("no run \(reference) in \(path)") }
            throw CleanError("\(reference) is not a run id or the start of a run uid (4 or more characters)")
        }
        let found = try rows("SELECT id FROM runs WHERE substr(uid, 1, ?) = ? LIMIT 2", arguments: [prefix.count, prefix]).rows
        guard found.count == 1, let id = Int64.fromDatabaseValue(found[0][0]) else {
            if found.isEmpty, Int64(reference) != nil { throw CleanError("no run \(reference) in \(path)") }
            throw CleanError(found.isEmpty ? "no run with uid \(reference)… in \(path)" : "uid \(reference)… names more than one run; give more of it")
        }
        return id
    }

    /// The id of the study with this name.
    func studyID(named name: String) throws -> Int64 {
        guard let id = try rows("SELECT id FROM studies WHERE name = ? ORDER BY id LIMIT 1", arguments: [name]).rows.first
            .flatMap({ Int64.fromDatabaseValue($0[0]) }) else { throw CleanError("no study named \(name) in \(path)") }
        return id
    }

    /// For a task: each optimizer's best run by validation loss (runs without one: the one with
    /// the most epochs), in the order of `Optimizers.names`.
    func bestRuns(task: String, study: String?) throws -> [Int64] {
        let studyID = try study.map(studyID(named:))
        let result = try rows("""
            SELECT id FROM (
                SELECT r.id, r.optimizer, ROW_NUMBER() OVER (PARTITION BY r.optimizer
                    ORDER BY r.best_val_loss IS NULL, r.best_val_loss, r.epochs_done DESC, r.id) AS rank
                FROM runs r WHERE r.task = ? AND (? IS NULL OR r.study_id = ?) AND r.epochs_done > 0)
            WHERE rank = 1 ORDER BY CASE optimizer \(OptimizerOrder.sql) END, id
            """, arguments: [task, studyID, studyID])
        return result.rows.compactMap { Int64.fromDatabaseValue($0[0]) }
    }

    /// Each run's values of `column` by epoch (NULLs — non-finite values — left out), in `runs` order.
    func series(_ runs: [Int64], column: EpochColumn) throws -> [Series] {
        guard !runs.isEmpty else { return [] }
        let list = runs.map(String.init).joined(separator: ",")
        let labels = try rows("SELECT id, optimizer, task, seed FROM runs WHERE id IN (\(list))").rows
        var byRun: [Int64: Series] = [:]
        for r in labels {
            let id = Int64.fromDatabaseValue(r[0]) ?? 0, optimizer = String.fromDatabaseValue(r[1]) ?? "?"
            byRun[id] = Series(run: id, task: String.fromDatabaseValue(r[2]) ?? "", label: "\(optimizer) #\(id)", optimizer: optimizer, points: [])
        }
        // The column name comes from the enum, never from typed text.
        let values = try rows("""
            SELECT run_id, epoch, \(column.rawValue) FROM epochs WHERE run_id IN (\(list)) AND \(column.rawValue) IS NOT NULL ORDER BY run_id, epoch
            """).rows
        for r in values {
            if let id = Int64.fromDatabaseValue(r[0]), let epoch = Int.fromDatabaseValue(r[1]), let v = Double.fromDatabaseValue(r[2]) {
                byRun[id]?.points.append((epoch, v))
            }
        }
        return runs.compactMap { byRun[$0] }
    }
}

/// Optimizers in the study's order (`Optimizers.names`).
enum OptimizerOrder {
    static let sql = Optimizers.names.enumerated().map { "WHEN '\($1)' THEN \($0)" }.joined(separator: " ") + " ELSE 99"

    /// A fixed colour slot per optimizer, so each keeps its colour in every figure.
    static func slot(_ optimizer: String) -> Int { Optimizers.names.firstIndex(of: optimizer) ?? 7 }
}
