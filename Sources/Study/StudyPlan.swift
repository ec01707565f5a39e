import Basics
import Data
import Engine
import Foundation

/// The grid of a study: every (task, optimizer, setting, seed) cell with its run settings.
/// Presets: `seed`, the Keras study (4 tasks × 8 optimizers at Keras 3's defaults, full data);
/// `seed-2020`, the same at the study's own "learning rate 0.001 for all" (Keras 3 raised SGD's
/// default to 0.01; every other default is unchanged); `quick`, a one-minute version on small
/// slices (the embedded fixtures on a fresh machine). A `Sweep` multiplies the cells by settings.
public struct StudyPlan: Sendable {
    public enum Preset: String, CaseIterable, Sendable {
        case quick, seed
        case seed2020 = "seed-2020"
    }

    /// One optimizer setting by its Keras name, as `--set` takes it.
    public struct Setting: Sendable, Hashable, CustomStringConvertible {
        public var key: String
        public var value: String
        public init(_ key: String, _ value: String) { (self.key, self.value) = (key, value) }
        public var description: String { "\(key)=\(value)" }
    }

    /// Settings beyond the optimizers' defaults: fixed ones (`--set`), a grid (`--grid KEY=v1,v2`,
    /// several multiply) and a learning-rate sweep around each optimizer's own default.
    public struct Sweep: Sendable, Equatable {
        public var fixed: [Setting] = []
        public var grid: [Grid] = []
        /// `--lr-sweep N`: N learning rates, log-spaced from a hundredth to a hundred times the
        /// optimizer's default (so N = 5 gives decades, N = 9 half-decades).
        public var learningRates: Int?

        public struct Grid: Sendable, Equatable {
            public var key: String
            public var values: [String]
            public init(key: String, values: [String]) { (self.key, self.values) = (key, values) }
        }

        public init(fixed: [Setting] = [], grid: [Grid] = [], learningRates: Int? = nil) {
            (self.fixed, self.grid, self.learningRates) = (fixed, grid, learningRates)
        }

        public var isEmpty: Bool { fixed.isEmpty && grid.isEmpty && learningRates == nil }

        /// Stored with the study: part of its identity.
        var json: ConfigValue {
            var pairs: [(String, ConfigValue)] = []
            if !fixed.isEmpty { pairs.append(("set", .array(fixed.map { .string($0.description) }))) }
            if !grid.isEmpty {
                pairs.append(("grid", .array(grid.map { .string("\($0.key)=\($0.values.joined(separator: ","))") })))
            }
            if let n = learningRates { pairs.append(("lr_sweep", .integer(n))) }
            return .object(pairs)
        }
    }

    public struct Cell: Sendable {
        /// A built-in task, or nil for the user's own (`custom`).
        public var task: StudyTask?
        public var custom: CustomTask?
        public var taskName: String { custom?.name ?? task?.rawValue ?? "" }
        public var optimizer: String
        public var seed: UInt64
        public var epochs: Int
        public var samples: Int?
        public var validationSamples: Int?
        /// The optimizer's settings beyond its defaults (none: Keras's defaults).
        public var settings: [Setting] = []
        public var batchSize = 32
    }

    public var name: String
    public var cells: [Cell]
    public var tasks: [StudyTask]
    /// The user's own task, when the study is of their model (then `tasks` is empty).
    public var custom: CustomTask?
    /// What such a study is of: the task's identity, its data file's SHA-256, how the data are
    /// read and the batch size (a study's name never stands for two of these).
    var customIdentity: String?
    public var optimizers: [String]
    public var preset: Preset
    public var sweep: Sweep
    /// Said to the user: grid keys an optimizer has no setting for (it runs without them).
    public var notes: [String] = []

    public init(preset: Preset, name: String? = nil, tasks: [StudyTask] = StudyTask.allCases, optimizers: [String] = Optimizers.names,
                seeds: [UInt64] = [1], epochs: Int? = nil, sweep: Sweep = Sweep()) throws {
        try self.init(preset: preset, name: name, tasks: tasks, custom: nil, optimizers: optimizers, seeds: seeds, epochs: epochs, sweep: sweep)
    }

    /// A study of the user's own model: every optimizer (and setting) × seed on it, `epochs` each
    /// (default 10), on all its data.
    public init(custom: CustomTask, name: String, optimizers: [String] = Optimizers.names, seeds: [UInt64] = [1], epochs: Int? = nil,
                batchSize: Int = 32, sweep: Sweep = Sweep()) throws {
        try self.init(preset: .quick, name: name, tasks: [], custom: custom, optimizers: optimizers, seeds: seeds, epochs: epochs,
                      batchSize: batchSize, sweep: sweep)
    }

    private init(preset: Preset, name: String?, tasks: [StudyTask], custom: CustomTask?, optimizers: [String], seeds: [UInt64], epochs: Int?,
                 batchSize: Int = 32, sweep: Sweep) throws {
        self.name = name ?? Self.defaultName(preset: preset, sweep: sweep)
        self.tasks = tasks
        self.custom = custom
        if let custom {
            let data = custom.data
            customIdentity = custom.identity + "; data \(try custom.dataFileFingerprint().prefix(16))"
                + (data.target.map { ", target \($0)" } ?? "") + (data.validationSplit.map { ", validation_split \($0)" } ?? "")
                + "; batch \(batchSize)"
        }
        self.optimizers = optimizers
        self.preset = preset
        self.sweep = sweep
        func budget(_ task: StudyTask) -> (epochs: Int, samples: Int?, validation: Int?) {
            switch (preset, task) {
            case (.quick, .boston): return (20, nil, nil)
            case (.quick, .fashionMNIST): return (3, 2_048, 512)
            case (.quick, .imdb): return (2, 2_048, 512)
            case (.quick, .jena): return (2, 2_048, 512)
            case (.seed, .boston), (.seed2020, .boston): return (100, nil, nil)
            case (.seed, _), (.seed2020, _): return (10, nil, nil)
            }
        }
        var notes: [String] = []
        let settings = try optimizers.map { try Self.settings($0, preset: preset, sweep: sweep, notes: &notes) }
        for key in Set(sweep.grid.map(\.key) + sweep.fixed.map(\.key)) {
            let without = optimizers.filter { !Self.settingNames($0).contains(key) }
            guard without.count < optimizers.count else {
                throw EngineError.invalidConfiguration("no optimizer of the study has a setting '\(key)' (\(optimizers.joined(separator: ", ")))")
            }
            if !without.isEmpty { notes.append("\(without.joined(separator: ", ")) \(without.count == 1 ? "has" : "have") no setting '\(key)' and run\(without.count == 1 ? "s" : "") without it") }
        }
        self.notes = notes.sorted()
        // The user's own task: all its data, 10 epochs unless told.
        let entries: [(task: StudyTask?, custom: CustomTask?)] = custom.map { [(nil, $0)] } ?? tasks.map { ($0, nil) }
        var cells: [Cell] = []
        for entry in entries {
            let b: (epochs: Int, samples: Int?, validation: Int?) = entry.task.map(budget) ?? (10, nil, nil)
            for (optimizer, combinations) in zip(optimizers, settings) {
                for combination in combinations {
                    for seed in seeds {
                        cells.append(Cell(task: entry.task, custom: entry.custom, optimizer: optimizer, seed: seed, epochs: epochs ?? b.epochs,
                                          samples: b.samples, validationSamples: b.validation, settings: combination, batchSize: batchSize))
                    }
                }
            }
        }
        self.cells = cells
    }

    /// `study-<preset>`, and a short digest of the sweep when there is one (a sweep is another study).
    static func defaultName(preset: Preset, sweep: Sweep) -> String {
        let base = "study-\(preset.rawValue)"
        return sweep.isEmpty ? base : base + "-sweep-" + sha256Hex(Array(sweep.json.json.utf8)).prefix(8)
    }

    /// The settings Keras's `get_config()` of the optimizer names.
    static func settingNames(_ optimizer: String) -> Set<String> {
        guard let config = try? Optimizers.make(optimizer, settings: []).config, case .object(let pairs) = config else { return [] }
        return Set(pairs.map(\.0))
    }

    /// Every combination of settings an optimizer runs with, in grid order.
    static func settings(_ optimizer: String, preset: Preset, sweep: Sweep, notes: inout [String]) throws -> [[Setting]] {
        let known = settingNames(optimizer)
        var fixed = sweep.fixed.filter { known.contains($0.key) }
        // The study's "learning rate 0.001 for all": only SGD's default differs in Keras 3.
        if preset == .seed2020, optimizer == "sgd", !fixed.contains(where: { $0.key == "learning_rate" }) {
            fixed.insert(Setting("learning_rate", "0.001"), at: 0)
        }
        var axes = sweep.grid.filter { known.contains($0.key) }.map { axis in axis.values.map { Setting(axis.key, $0) } }
        if let n = sweep.learningRates {
            let center: Double
            if let given = fixed.first(where: { $0.key == "learning_rate" }) {
                guard let value = Double(given.value), value > 0 else {
                    throw EngineError.invalidConfiguration("--lr-sweep needs a numeric learning_rate to sweep around, not \(given.value)")
                }
                center = value
                fixed.removeAll { $0.key == "learning_rate" }
            } else {
                guard case .number(let d)? = try Optimizers.make(optimizer, settings: []).config["learning_rate"] else {
                    throw EngineError.invalidConfiguration("\(optimizer) has no numeric default learning_rate to sweep around")
                }
                center = d
            }
            axes.append(learningRateSweep(around: center, count: n).map { Setting("learning_rate", $0) })
        }
        var combinations: [[Setting]] = [fixed]
        for axis in axes { combinations = combinations.flatMap { c in axis.map { c + [$0] } } }
        // Each combination must build (a bad value is an error before anything trains), and two
        // that build the same configuration (0.01 and 1e-2) are one.
        var seen: [String: [Setting]] = [:]
        for c in combinations {
            let config = try Optimizers.make(optimizer, settings: c.map { ($0.key, $0.value) }).config.json
            if let twin = seen[config] {
                throw EngineError.invalidConfiguration(
                    "\(optimizer): \(twin.map(\.description).joined(separator: " ")) and \(c.map(\.description).joined(separator: " ")) are the same setting")
            }
            seen[config] = c
        }
        return combinations
    }

    /// `count` learning rates from center/100 to center·100, log-spaced, each to 3 significant
    /// digits (written as the user would type them, so a cell's settings read back unchanged).
    public static func learningRateSweep(around center: Double, count: Int) -> [String] {
        guard count > 1 else { return [String(format: "%.3g", center)] }
        return (0..<count).map { i in
            let exponent = -2 + 4 * Double(i) / Double(count - 1)
            return String(format: "%.3g", center * pow(10, exponent))
        }
    }

    /// Shard `index` of `count`: cells index, index + count, … — a pure function of the grid,
    /// so any scheduler can hand out the indices (e.g. a Slurm array's task id).
    public func shard(_ index: Int, of count: Int) -> [Cell] {
        cells.enumerated().filter { $0.offset % count == index }.map(\.element)
    }

    /// Stored with the study. A study without a sweep keeps the layout it always had.
    public var json: ConfigValue {
        var pairs: [(String, ConfigValue)] = [("name", .string(name)),
                                             ("tasks", .array(custom.map { [.string($0.name)] } ?? tasks.map { .string($0.rawValue) })),
                                             ("optimizers", .array(optimizers.map { .string($0) })),
                                             ("cells", .integer(cells.count))]
        // A study of the user's model is of that model, loss, metric, starting weights, data and batch size.
        if let customIdentity { pairs.append(("custom", .string(customIdentity))) }
        if preset == .seed2020 { pairs.append(("preset", .string(preset.rawValue))) }
        if !sweep.isEmpty { pairs.append(("sweep", sweep.json)) }
        return .object(pairs)
    }

    /// What a stored study configuration says of its settings: the sweep and a preset that sets
    /// optimizer settings (`seed-2020`); `{}` for a study at the optimizers' defaults. A study's
    /// name never stands for two of these.
    public static func storedSettings(_ configuration: String) -> String {
        guard let json = try? ConfigValue.parse(configuration) else { return "{}" }
        var pairs: [(String, ConfigValue)] = []
        if let preset = json["preset"] { pairs.append(("preset", preset)) }
        if let custom = json["custom"] { pairs.append(("custom", custom)) }
        if let sweep = json["sweep"] { pairs.append(("sweep", sweep)) }
        return ConfigValue.object(pairs).json
    }
}
