import Basics
import Data
import Engine

/// The grid of a study: every (task, optimizer, seed) cell with its run settings. Presets:
/// `seed`, the Keras study as published (4 tasks × 8 optimizers at Keras's defaults, full data),
/// and `quick`, a few-minute version on small slices (the embedded fixtures on a fresh machine).
public struct StudyPlan: Sendable {
    public enum Preset: String, CaseIterable, Sendable { case quick, seed }

    public struct Cell: Sendable {
        public var task: StudyTask
        public var optimizer: String
        public var seed: UInt64
        public var epochs: Int
        public var samples: Int?
        public var validationSamples: Int?
    }

    public var name: String
    public var cells: [Cell]
    public var tasks: [StudyTask]
    public var optimizers: [String]

    public init(preset: Preset, name: String? = nil, tasks: [StudyTask] = StudyTask.allCases, optimizers: [String] = Optimizers.names,
                seeds: [UInt64] = [1], epochs: Int? = nil) {
        self.name = name ?? "study-\(preset.rawValue)"
        self.tasks = tasks
        self.optimizers = optimizers
        func settings(_ task: StudyTask) -> (epochs: Int, samples: Int?, validation: Int?) {
            switch (preset, task) {
            case (.quick, .boston): return (20, nil, nil)
            case (.quick, .fashionMNIST): return (3, 2_048, 512)
            case (.quick, .imdb): return (2, 2_048, 512)
            case (.quick, .jena): return (2, 1_024, 256)
            case (.seed, .boston): return (100, nil, nil)
            case (.seed, _): return (10, nil, nil)
            }
        }
        cells = tasks.flatMap { task in
            optimizers.flatMap { optimizer in
                seeds.map { seed in
                    let s = settings(task)
                    return Cell(task: task, optimizer: optimizer, seed: seed, epochs: epochs ?? s.epochs, samples: s.samples, validationSamples: s.validation)
                }
            }
        }
    }

    /// Shard `index` of `count`: cells index, index + count, … — a pure function of the grid,
    /// so any scheduler can hand out the indices (e.g. a Slurm array's task id).
    public func shard(_ index: Int, of count: Int) -> [Cell] {
        cells.enumerated().filter { $0.offset % count == index }.map(\.element)
    }

    /// Stored with the study.
    public var json: ConfigValue {
        .object([("name", .string(name)), ("tasks", .array(tasks.map { .string($0.rawValue) })),
                 ("optimizers", .array(optimizers.map { .string($0) })),
                 ("cells", .integer(cells.count))])
    }
}
