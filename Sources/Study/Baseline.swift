import Data
import Engine

/// The trivial baseline of a task on its data: predict, for every validation sample, the mean
/// of the training targets — the training mean for regression, the training class prior for
/// classification (the mean of 0/1 or one-hot targets) — and score it with the task's own loss
/// and metric. An optimizer that does not beat it has learned nothing.
public struct Baseline: Sendable, Equatable {
    public var valLoss: Double
    public var valMetric: Double

    public init(task: StudyTask, data: DataSplits, batchSize: Int = 256) {
        self.init(loss: task.loss, metric: task.metric, classes: 1, data: data, batchSize: batchSize)
    }

    /// `classes`: the model's output width (class ids of a sparse loss count into that many).
    public init(loss: Loss, metric: Metric, classes: Int, data: DataSplits, batchSize: Int = 256) {
        // Column means of the training targets (one-hot of class ids), accumulated in Float64.
        let sparse = loss == .sparseCategoricalCrossentropy
        var sums: [Double] = sparse ? Array(repeating: 0, count: max(1, classes)) : []
        var start = 0
        while start < data.train.count {
            let rows = start..<min(data.train.count, start + batchSize)
            let y = data.train.batch(rows).y
            if sparse {
                for v in y.scalars where Int(v) < sums.count { sums[Int(v)] += 1 }
            } else {
                let width = max(1, y.scalars.count / rows.count)
                if sums.isEmpty { sums = Array(repeating: 0, count: width) }
                for (i, v) in y.scalars.enumerated() { sums[i % width] += Double(v) }
            }
            start = rows.upperBound
        }
        let constant = sums.map { Float($0 / Double(max(1, data.train.count))) }
        var total = 0.0, score = 0.0
        start = 0
        while start < data.validation.count {
            let rows = start..<min(data.validation.count, start + batchSize)
            let y = data.validation.batch(rows).y
            let shape = sparse ? [rows.count, constant.count] : y.shape
            guard let predictions = try? Tensor(shape: shape, scalars: (0..<rows.count).flatMap { _ in constant }) else { break }
            total += Double(loss.value(predictions: predictions, targets: y)) * Double(rows.count)
            score += metric.value(predictions: predictions, targets: y) * Double(rows.count)
            start = rows.upperBound
        }
        let n = Double(max(1, data.validation.count))
        (valLoss, valMetric) = (total / n, score / n)
    }
}
