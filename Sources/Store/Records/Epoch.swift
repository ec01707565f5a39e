import GRDB

/// One epoch of a run as the log keeps it: the only Swift declaration of table `epochs` (the
/// migrations declare it in SQL; a test holds the two to the same columns). The training path
/// commits it, replay compares it, and merge, export, show and every query read it.
/// SQLite has no NaN: a non-finite value (a diverged loss) is written as NULL and read back as
/// nil; in memory, before it is logged, it keeps its value (the live epoch line shows it).
public struct Epoch: Sendable, Equatable {
    public var runID: Int64
    public var epoch: Int
    public var loss: Double?
    public var metric: Double?
    public var valLoss: Double?
    public var valMetric: Double?
    /// Global L2 gradient norm over the epoch's steps.
    public var gradNormMean: Double?
    public var gradNormMin: Double?
    public var gradNormMax: Double?
    public var gradNormLast: Double?
    public var learningRate: Double?
    /// SHA-256 of the optimizer state after the epoch.
    public var optimizerChecksum: String
    public var seconds: Double?
    public var samplesPerSecond: Double?
    public var committedAt: Double

    public init(runID: Int64 = 0, epoch: Int, loss: Double?, metric: Double?, valLoss: Double?, valMetric: Double?,
                gradNormMean: Double?, gradNormMin: Double?, gradNormMax: Double?, gradNormLast: Double?, learningRate: Double?,
                optimizerChecksum: String = "", seconds: Double?, samplesPerSecond: Double?, committedAt: Double = 0) {
        self.runID = runID
        self.epoch = epoch
        self.loss = loss
        self.metric = metric
        self.valLoss = valLoss
        self.valMetric = valMetric
        self.gradNormMean = gradNormMean
        self.gradNormMin = gradNormMin
        self.gradNormMax = gradNormMax
        self.gradNormLast = gradNormLast
        self.learningRate = learningRate
        self.optimizerChecksum = optimizerChecksum
        self.seconds = seconds
        self.samplesPerSecond = samplesPerSecond
        self.committedAt = committedAt
    }

    /// A value as the log stores it: non-finite numbers are NULL (nil).
    public static func stored(_ x: Double?) -> Double? { x.flatMap { $0.isFinite ? $0 : nil } }

    /// The table's columns, in the schema's order.
    public enum Columns: String, CaseIterable, Sendable {
        case runID = "run_id", epoch, loss, metric, valLoss = "val_loss", valMetric = "val_metric"
        case gradNormMean = "grad_norm_mean", gradNormMin = "grad_norm_min", gradNormMax = "grad_norm_max", gradNormLast = "grad_norm_last"
        case learningRate = "learning_rate", optimizerChecksum = "optimizer_checksum", seconds, samplesPerSecond = "samples_per_second"
        case committedAt = "committed_at"

        /// The per-epoch numbers a curve, a comparison or `best` can show.
        public static let numeric: [Columns] = [.loss, .metric, .valLoss, .valMetric, .gradNormMean, .gradNormMin, .gradNormMax,
                                                .gradNormLast, .learningRate, .seconds, .samplesPerSecond]

        /// Throughput goes up; losses, norms and times down; a metric's way depends on the task
        /// (`higherMetricIsBetter`: accuracy up, MAE down).
        public func higherIsBetter(higherMetricIsBetter: Bool) -> Bool {
            switch self {
            case .samplesPerSecond: return true
            case .metric, .valMetric: return higherMetricIsBetter
            default: return false
            }
        }
    }

    /// What a replay must reproduce bit for bit (everything measured but the timings).
    public static let replayed: [Columns] = [.loss, .metric, .valLoss, .valMetric, .gradNormMean, .gradNormMin, .gradNormMax,
                                             .gradNormLast, .learningRate]

    /// A numeric column's value (nil: NULL, or not a numeric column).
    public subscript(number column: Columns) -> Double? {
        switch column {
        case .loss: return loss
        case .metric: return metric
        case .valLoss: return valLoss
        case .valMetric: return valMetric
        case .gradNormMean: return gradNormMean
        case .gradNormMin: return gradNormMin
        case .gradNormMax: return gradNormMax
        case .gradNormLast: return gradNormLast
        case .learningRate: return learningRate
        case .seconds: return seconds
        case .samplesPerSecond: return samplesPerSecond
        case .committedAt: return committedAt
        case .runID, .epoch, .optimizerChecksum: return nil
        }
    }

    /// Any column's value, as the log stores it.
    public subscript(column: Columns) -> StoredValue {
        switch column {
        case .runID: return .integer(runID)
        case .epoch: return .integer(Int64(epoch))
        case .optimizerChecksum: return .text(optimizerChecksum)
        default: return StoredValue(Self.stored(self[number: column]))
        }
    }
}

extension Epoch: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "epochs"

    public init(row: Row) throws {
        let what = "run \(row[Columns.runID.rawValue] as DatabaseValue? ?? .null) epoch \(row[Columns.epoch.rawValue] as DatabaseValue? ?? .null)"
        func number(_ c: Columns) throws -> Double? { try row.decode(c.rawValue, in: what) }
        runID = try row.decode(Columns.runID.rawValue, in: what)
        epoch = try row.decode(Columns.epoch.rawValue, in: what)
        loss = try number(.loss)
        metric = try number(.metric)
        valLoss = try number(.valLoss)
        valMetric = try number(.valMetric)
        gradNormMean = try number(.gradNormMean)
        gradNormMin = try number(.gradNormMin)
        gradNormMax = try number(.gradNormMax)
        gradNormLast = try number(.gradNormLast)
        learningRate = try number(.learningRate)
        optimizerChecksum = try row.decode(Columns.optimizerChecksum.rawValue, in: what)
        seconds = try number(.seconds)
        samplesPerSecond = try number(.samplesPerSecond)
        committedAt = try row.decode(Columns.committedAt.rawValue, in: what)
    }

    public func encode(to container: inout PersistenceContainer) {
        container[Columns.runID.rawValue] = runID
        container[Columns.epoch.rawValue] = epoch
        for c in Columns.numeric { container[c.rawValue] = Self.stored(self[number: c]) }
        container[Columns.optimizerChecksum.rawValue] = optimizerChecksum
        container[Columns.committedAt.rawValue] = committedAt
    }

    /// The columns after `run_id`, for statements that copy a run's epochs (merge).
    static var columnsAfterRun: String { Columns.allCases.dropFirst().map(\.rawValue).joined(separator: ", ") }
}
