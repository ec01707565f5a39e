import Engine
import Store
import Synchronization

/// What tables, captions and reports need to know of a task: its name, its metric (and so which
/// way is better), the unit of its loss. The four built-in tasks, and the user's own tasks the
/// log holds (`register`), each with the loss and metric its runs were trained with.
struct TaskInfo: Hashable, Sendable {
    let rawValue: String
    let metric: Metric
    let lossUnit: String

    init(_ task: StudyTask) {
        rawValue = task.rawValue
        metric = task.metric
        switch task {
        case .boston: lossUnit = "MAE in k$"
        case .jena: lossUnit = "MAE in °C"
        case .fashionMNIST: lossUnit = "categorical cross-entropy"
        case .imdb: lossUnit = "binary cross-entropy"
        }
    }

    init(custom name: String, loss: Loss, metric: Metric) {
        rawValue = name
        self.metric = metric
        switch loss {
        case .meanAbsoluteError: lossUnit = "MAE"
        case .meanSquaredError: lossUnit = "MSE"
        case .binaryCrossentropy: lossUnit = "binary cross-entropy"
        case .categoricalCrossentropy: lossUnit = "categorical cross-entropy"
        case .sparseCategoricalCrossentropy: lossUnit = "sparse categorical cross-entropy"
        }
    }

    /// The user's own tasks found in the logs read so far.
    private static let custom = Mutex<[String: TaskInfo]>([:])

    /// Learns the user's own tasks of a log (their loss and metric).
    static func register(_ reader: ReadOnlyStore) {
        guard let records = try? reader.customTasks() else { return }
        custom.withLock { known in
            for r in records {
                guard let loss = Loss(rawValue: r.loss), let metric = Metric(rawValue: r.metric) else { continue }
                known[r.task] = TaskInfo(custom: r.task, loss: loss, metric: metric)
            }
        }
    }

    static func named(_ name: String) -> TaskInfo? {
        if let task = StudyTask(rawValue: name) { return TaskInfo(task) }
        return custom.withLock { $0[name] }
    }

    /// Built-in tasks in the study's order, then the user's own by name.
    static var all: [TaskInfo] {
        StudyTask.allCases.map(TaskInfo.init) + custom.withLock { $0.values.sorted { $0.rawValue < $1.rawValue } }
    }

    /// The known tasks among `names`, in `all`'s order.
    static func ordered(_ names: some Sequence<String>) -> [TaskInfo] {
        let wanted = Set(names)
        return all.filter { wanted.contains($0.rawValue) }
    }
}
