import Basics
import Crypto
import Data
import Engine
import Foundation

/// Everything that defines a run. Its fingerprint covers what changes the numbers (task, data,
/// model, optimizer configuration, batch size, seed, sample limits); the planned epoch count
/// may grow on resume without changing it.
public struct RunSpec: Sendable, Equatable {
    /// A built-in task, or nil for the user's own (`custom`).
    public var task: StudyTask?
    public var custom: CustomTask?
    public var optimizer: String
    /// Keras's `get_config()` of the optimizer.
    public var optimizerConfiguration: ConfigValue
    public var epochs: Int
    public var batchSize: Int
    public var seed: UInt64
    public var samples: Int?
    public var validationSamples: Int?
    public var synthetic: Bool
    /// How `samples` and `validationSamples` cut the data (`prefix` for runs logged before
    /// stratified slices, so that they resume on their own data).
    public var slicing: Slicing

    public init(task: StudyTask, optimizer: String, optimizerConfiguration: ConfigValue, epochs: Int, batchSize: Int = 32,
                seed: UInt64 = 1, samples: Int? = nil, validationSamples: Int? = nil, synthetic: Bool = false,
                slicing: Slicing = .stratified) {
        self.init(task: task, custom: nil, optimizer: optimizer, optimizerConfiguration: optimizerConfiguration, epochs: epochs,
                  batchSize: batchSize, seed: seed, samples: samples, validationSamples: validationSamples, synthetic: synthetic, slicing: slicing)
    }

    /// A run of the user's own model on their data.
    public init(custom: CustomTask, optimizer: String, optimizerConfiguration: ConfigValue, epochs: Int, batchSize: Int = 32, seed: UInt64 = 1) {
        self.init(task: nil, custom: custom, optimizer: optimizer, optimizerConfiguration: optimizerConfiguration, epochs: epochs,
                  batchSize: batchSize, seed: seed, samples: nil, validationSamples: nil, synthetic: false, slicing: .stratified)
    }

    private init(task: StudyTask?, custom: CustomTask?, optimizer: String, optimizerConfiguration: ConfigValue, epochs: Int, batchSize: Int,
                 seed: UInt64, samples: Int?, validationSamples: Int?, synthetic: Bool, slicing: Slicing) {
        self.task = task
        self.custom = custom
        self.optimizer = optimizer
        self.optimizerConfiguration = optimizerConfiguration
        self.epochs = epochs
        self.batchSize = batchSize
        self.seed = seed
        self.samples = samples
        self.validationSamples = validationSamples
        self.synthetic = synthetic
        self.slicing = slicing
    }

    /// The task's name in the log.
    public var taskName: String { custom?.name ?? task?.rawValue ?? "" }
    public var loss: Loss { custom?.loss ?? task?.loss ?? .meanSquaredError }
    public var metric: Metric { custom?.metric ?? task?.metric ?? .meanAbsoluteError }

    /// Stored in `runs.model_configuration`: the run's own settings besides the optimizer's.
    public var json: ConfigValue {
        if let custom {
            return .object([("task", .string(custom.name)), ("architecture", .string("keras")), ("batch_size", .integer(batchSize)),
                            ("seed", .integer(Int(bitPattern: UInt(seed)))), ("samples", .null), ("validation_samples", .null),
                            ("synthetic", .bool(false)), ("custom", custom.json)])
        }
        func optional(_ n: Int?) -> ConfigValue { n.map { .integer($0) } ?? .null }
        // Runs of the first layout (prefix slices) keep their JSON, and so their fingerprint.
        let slices: [(String, ConfigValue)] = slicing == .prefix ? [] : [("slicing", .string(slicing.rawValue))]
        let task = self.task?.rawValue ?? ""
        return .object([("task", .string(task)), ("architecture", .string(task)), ("batch_size", .integer(batchSize)),
                        ("seed", .integer(Int(bitPattern: UInt(seed)))), ("samples", optional(samples)),
                        ("validation_samples", optional(validationSamples)), ("synthetic", .bool(synthetic))] + slices)
    }

    public init(json: ConfigValue, optimizer: String, optimizerConfiguration: ConfigValue, epochs: Int, dataDir: String? = nil) throws {
        func int(_ key: String) -> Int? { if case .integer(let n)? = json[key] { return n } else { return nil } }
        if json["architecture"] == .string("keras") {
            guard let stored = json["custom"], let batchSize = int("batch_size"), let seed = int("seed") else {
                throw EngineError.invalidConfiguration("the stored run configuration is incomplete: \(json.json)")
            }
            self.init(custom: try CustomTask(stored: stored, dataDir: dataDir), optimizer: optimizer, optimizerConfiguration: optimizerConfiguration,
                      epochs: epochs, batchSize: batchSize, seed: UInt64(bitPattern: Int64(seed)))
            return
        }
        guard case .string(let taskName)? = json["task"], let task = StudyTask(rawValue: taskName),
              let batchSize = int("batch_size"), let seed = int("seed") else {
            throw EngineError.invalidConfiguration("the stored run configuration is incomplete: \(json.json)")
        }
        self.init(task: task, optimizer: optimizer, optimizerConfiguration: optimizerConfiguration, epochs: epochs, batchSize: batchSize,
                  seed: UInt64(bitPattern: Int64(seed)), samples: int("samples"), validationSamples: int("validation_samples"),
                  synthetic: json["synthetic"] == .bool(true), slicing: .prefix)
        if case .string(let name)? = json["slicing"] {
            guard let slicing = Slicing(rawValue: name) else {
                throw EngineError.invalidConfiguration("the stored run slices its data as \"\(name)\", which this optilog does not know")
            }
            self.slicing = slicing
        }
    }

    /// For a custom task: its identity (model, loss, metric, starting weights) in place of the
    /// stored JSON, so that the same model and data at other paths make the same run.
    public func fingerprint(datasetFingerprint: String) -> String {
        let settings = custom.map { "keras|\($0.name)|\($0.identity)|\(batchSize)|\(seed)" } ?? json.json
        let text = "optilog-run-1|\(settings)|\(optimizer)|\(optimizerConfiguration.json)|\(datasetFingerprint)"
        return sha256Hex(Data(text.utf8))
    }
}

extension RunSpec {
    /// Synthetic training samples when none are asked for: a size that trains in seconds.
    public static func defaultSyntheticSamples(_ task: StudyTask) -> Int {
        switch task {
        case .boston: return 404
        case .fashionMNIST: return 2_000
        case .imdb: return 500
        case .jena: return 1_000
        }
    }

    /// The run's data (the located data set, or synthetic data), cut to the sample limits, and
    /// what it is.
    /// (`notes`: what the user should hear about where the data came from.)
    public func prepareData(locator: DataLocator) throws -> (splits: DataSplits, dataset: String, notes: [String]) {
        if let custom {
            let (data, description, notes) = try UserData.load(custom.data, expecting: custom.expectation)
            return (data, description, notes)
        }
        guard let task else { throw EngineError.invalidConfiguration("a run needs a task") }
        if synthetic {
            let train = samples ?? Self.defaultSyntheticSamples(task)
            return (try SyntheticData.splits(task, train: train, validation: validationSamples ?? max(1, train / 4), seed: seed),
                    "synthetic \(task.rawValue)", [])
        }
        let found = try locator.locate(task)
        let (data, notes) = try slicing.cut(found.splits, train: samples, validation: validationSamples)
        return (data, "\(found.dataset) from \(found.source)", found.notes + notes)
    }
}
