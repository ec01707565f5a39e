import Basics
import GRDB

/// Which runs may stand side by side: the same task, the same data (the fingerprint of the
/// prepared arrays; for synthetic data, its name and sizes) and the same training budget (epochs
/// planned, batch size, sample limits). `best`, `curves`, `compare --task` and the report never
/// put runs of two comparisons in one ranking.
public struct Comparison: Hashable, Sendable, Comparable {
    public var task: String
    /// What the data set is, as the run recorded it.
    public var dataset: String
    public var datasetFingerprint: String
    public var synthetic: Bool
    public var epochs: Int
    public var batchSize: Int
    public var samples: Int?
    public var validationSamples: Int?
    /// The trivial baseline on this data (the same for every run of the comparison; nil for
    /// runs logged before baselines were), in the task's loss and metric.
    public var baselineValLoss: Double?
    public var baselineValMetric: Double?

    public init(_ run: Run) {
        let configuration = try? ConfigValue.parse(run.modelConfiguration)
        func int(_ key: String) -> Int? { if case .integer(let n)? = configuration?[key] { return n } else { return nil } }
        task = run.task
        dataset = run.dataset
        datasetFingerprint = run.datasetFingerprint
        synthetic = configuration?["synthetic"] == .bool(true)
        epochs = run.epochsPlanned
        batchSize = run.batchSize
        samples = int("samples")
        validationSamples = int("validation_samples")
        baselineValLoss = run.baselineValLoss
        baselineValMetric = run.baselineValMetric
    }

    /// The baseline of a per-epoch column, where there is one (validation loss and metric).
    public func baseline(_ column: Epoch.Columns) -> Double? {
        switch column {
        case .valLoss: return baselineValLoss
        case .valMetric: return baselineValMetric
        default: return nil
        }
    }

    /// The same key in Swift and in SQL (`sqlKey`), so that a query can partition by it.
    public var key: String {
        [task, synthetic ? dataset : datasetFingerprint, String(epochs), String(batchSize), samples.map(String.init) ?? "",
         validationSamples.map(String.init) ?? ""].joined(separator: "|")
    }

    /// `key` over `runs r`.
    static let sqlKey = """
        (r.task || '|' || CASE WHEN json_extract(r.model_configuration, '$.synthetic') THEN r.dataset ELSE r.dataset_fingerprint END \
        || '|' || r.epochs_planned || '|' || r.batch_size || '|' || IFNULL(json_extract(r.model_configuration, '$.samples'), '') \
        || '|' || IFNULL(json_extract(r.model_configuration, '$.validation_samples'), ''))
        """

    /// The data set's name without where it came from ("NYC JFK hourly weather 2013").
    public var shortDataset: String { Self.shortName(dataset) }

    public static func shortName(_ dataset: String) -> String {
        var name = Substring(dataset)
        if let from = name.range(of: " from ") { name = name[..<from.lowerBound] }
        if let paren = name.range(of: " (") { name = name[..<paren.lowerBound] }
        return String(name)
    }

    /// "NYC JFK hourly weather 2013, 2 epochs, 1024/256 samples, batch 32 (38f1997b)".
    public var label: String {
        let sizes = samples == nil && validationSamples == nil ? "all samples"
            : "\(samples.map(String.init) ?? "all")/\(validationSamples.map(String.init) ?? "all") samples"
        let data = synthetic ? "synthetic" : String(datasetFingerprint.prefix(8))
        return "\(shortDataset), \(epochs) epoch\(epochs == 1 ? "" : "s"), \(sizes), batch \(batchSize) (\(data))"
    }

    public static func < (a: Comparison, b: Comparison) -> Bool { a.key < b.key }

    /// Two comparisons are one when their keys are (synthetic data of one name and size is one
    /// data set, whatever each seed drew).
    public static func == (a: Comparison, b: Comparison) -> Bool { a.key == b.key }
    public func hash(into hasher: inout Hasher) { hasher.combine(key) }
}

extension ReadOnlyStore {
    /// The comparisons a task's runs fall in (runs with at least one epoch, not archived), with how many runs
    /// each holds; `study` (a name) and `dataset` (a part of its name or fingerprint) narrow them.
    public func comparisons(task: String, study: String? = nil, dataset: String? = nil) throws -> [(comparison: Comparison, runs: Int)] {
        let runs = try read { db in
            try Run.fetchAll(db, sql: """
                SELECT r.* FROM runs r LEFT JOIN studies s ON s.id = r.study_id
                WHERE r.task = ? AND r.epochs_done > 0 AND (? IS NULL OR s.name = ?) AND \(Self.datasetCondition) AND \(RunFilter.shown)
                """, arguments: [task, study, study, dataset, dataset, dataset, dataset])
        }
        var counts: [Comparison: Int] = [:]
        for run in runs { counts[Comparison(run), default: 0] += 1 }
        return counts.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    /// `--dataset TEXT` over `runs r`: a part of the data set's name (any case) or the start of
    /// its fingerprint; four bindings of the text.
    static let datasetCondition = "(? IS NULL OR instr(lower(r.dataset), lower(?)) > 0 OR substr(r.dataset_fingerprint, 1, length(?)) = lower(?))"
}
