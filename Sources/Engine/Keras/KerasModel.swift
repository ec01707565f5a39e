import Basics
import Foundation

/// A user's own Keras model, read from Keras's serialization: the JSON of `model.to_json()` or
/// the `config.json` of a `.keras` file. A Sequential model, or a functional one that is a single
/// chain, of layers optilog has; anything else is refused with one line naming the layer.
///
/// The model keeps what to build, not built layers: every run builds its own from its seed.
public struct KerasModel: Sendable {
    /// The model's own name (`sequential`, `functional`, or the user's).
    public let name: String
    /// Per-sample input shape.
    public let inputShape: [Int]
    /// The input holds integer ids (an Embedding reads it).
    public let integerInput: Bool
    /// The first layer's `input_dim` when it is an Embedding: ids must lie below it.
    public var vocabulary: Int? { if case .embedding(let n, _, _)? = layers.first?.kind { return n } else { return nil } }
    /// What the model's `compile()` stored, when it was saved compiled (a `.keras` file).
    public let compileLoss: ConfigValue?
    public let compileMetrics: [ConfigValue]
    /// Per-sample output shape.
    public private(set) var outputShape: [Int]
    /// Every layer's class and the options it uses, with the input shape: what the fingerprint covers.
    public let architecture: ConfigValue
    /// SHA-256 of `architecture`: two JSONs of one network (layer names aside) share it.
    public let fingerprint: String
    let layers: [Spec]

    /// A layer to build: its name in the JSON and what it is.
    struct Spec: Sendable {
        var name: String
        var kind: Kind
    }

    enum Kind: Sendable {
        case dense(units: Int, activation: ActivationFunction, useBias: Bool, kernel: Initializer, bias: Initializer)
        case conv1D(filters: Int, size: Int, stride: Int, padding: Padding, activation: ActivationFunction, useBias: Bool,
                    kernel: Initializer, bias: Initializer)
        case conv2D(filters: Int, size: (Int, Int), strides: (Int, Int), padding: Padding, activation: ActivationFunction,
                    useBias: Bool, kernel: Initializer, bias: Initializer)
        case pool1D(max: Bool, size: Int, stride: Int, padding: Padding)
        case pool2D(max: Bool, size: (Int, Int), strides: (Int, Int), padding: Padding)
        case globalMax1D
        case globalAverage(rank: Int)
        case flatten
        case dropout(rate: Float)
        case activation(function: ActivationFunction)
        case embedding(inputDim: Int, outputDim: Int, initializer: Initializer)
        case lstm(units: Int, returnSequences: Bool, kernel: Initializer, recurrent: Initializer, bias: Initializer,
                  unitForgetBias: Bool)
    }

    /// The layer classes optilog builds from a Keras configuration.
    public static let supportedLayers = ["InputLayer", "Dense", "Conv1D", "Conv2D", "MaxPooling1D", "MaxPooling2D", "AveragePooling1D",
                                         "AveragePooling2D", "GlobalMaxPooling1D", "GlobalAveragePooling1D", "GlobalAveragePooling2D",
                                         "Flatten", "Dropout", "Activation", "Embedding", "LSTM"]

    public init(json text: String) throws {
        let value: ConfigValue
        do { value = try ConfigValue.parse(text) } catch {
            throw EngineError.unsupportedModel("the model is not valid JSON (\(error))")
        }
        try self.init(value)
    }

    public init(_ json: ConfigValue) throws {
        guard case .string(let modelClass)? = json["class_name"], let config = json["config"], case .object = config else {
            throw EngineError.unsupportedModel("the JSON is not a Keras model (no class_name and config): write it with model.to_json()")
        }
        guard modelClass == "Sequential" || modelClass == "Functional" || modelClass == "Model" else {
            throw EngineError.unsupportedModel("model class \(modelClass) is not supported (optilog reads Sequential models and single-chain functional ones)")
        }
        if case .string(let n)? = config["name"] { name = n } else { name = modelClass.lowercased() }
        guard case .array(var entries)? = config["layers"], !entries.isEmpty else {
            throw EngineError.unsupportedModel("the model has no layers")
        }
        if modelClass != "Sequential" { try Self.checkChain(entries, config: config) }
        // The input: an InputLayer, or the shape the model (or its first layer) was built with.
        var shape: [Int]?
        if case .string("InputLayer")? = entries[0]["class_name"] {
            var input = try KerasLayerConfig(kind: "InputLayer", config: entries.removeFirst()["config"] ?? .null)
            let batchShape = input.take("batch_shape") ?? input.take("batch_input_shape")
            shape = try Self.sampleShape(batchShape, label: input.label)
            // An integer dtype feeding anything but an Embedding is cast to float, as Keras does.
            if case .string(let dtype)? = input.take("dtype") {
                guard dtype.hasPrefix("float") || dtype.hasPrefix("int") || dtype.hasPrefix("uint") else {
                    throw input.refuse("dtype \(dtype) is not supported")
                }
            }
            try input.finish()
        }
        if shape == nil, let built = config["build_input_shape"] { shape = try Self.sampleShape(built, label: "the model") }
        if shape == nil, let first = entries.first {
            let given = first["config"]?["batch_input_shape"] ?? first["config"]?["batch_shape"] ?? first["build_config"]?["input_shape"]
            if let given { shape = try Self.sampleShape(given, label: "the model") }
        }
        guard let inputShape = shape else {
            throw EngineError.unsupportedModel("the model has no input shape: give it keras.Input(shape=…) before model.to_json()")
        }
        guard !entries.isEmpty else { throw EngineError.unsupportedModel("the model has no layers after its input") }
        var specs: [Spec] = []
        var architecture: [ConfigValue] = []
        for entry in entries {
            guard case .string(let kind)? = entry["class_name"] else { throw EngineError.unsupportedModel("a layer has no class_name") }
            var layer = try KerasLayerConfig(kind: kind, config: entry["config"] ?? .object([]))
            // Keras 2 wrote batch_input_shape into the first layer; it was read above.
            _ = layer.take("batch_input_shape")
            if let registered = entry["registered_name"], registered != .null, registered != .string(kind) {
                throw layer.refuse("is a custom object (\(registered.json)); optilog builds Keras's own layers only: \(Self.supportedLayers.joined(separator: ", "))")
            }
            let spec = try Self.spec(&layer)
            if case .embedding = spec.kind, !specs.isEmpty {
                throw layer.refuse("an Embedding must be the model's first layer (it reads the input's integer ids)")
            }
            specs.append(spec)
            try layer.finish()
            architecture.append(.object([("class_name", .string(kind))] + layer.taken.filter { $0.0 != "batch_input_shape" }))
        }
        self.inputShape = inputShape
        self.integerInput = specs.first.map { if case .embedding = $0.kind { return true } else { return false } } ?? false
        self.layers = specs
        self.architecture = .object([("input_shape", .array(inputShape.map { .integer($0) })), ("integer_input", .bool(integerInput)),
                                     ("layers", .array(architecture))])
        fingerprint = sha256Hex(Data(("optilog-keras-model-1|" + self.architecture.json).utf8))
        let compile = json["compile_config"] ?? config["compile_config"]
        compileLoss = compile?["loss"].flatMap { $0 == .null ? nil : $0 }
        if let weights = compile?["loss_weights"], ![.null, .number(1), .integer(1), .array([.number(1)]), .array([.integer(1)])].contains(weights) {
            throw EngineError.unsupportedModel("compile() loss_weights \(weights.json) is not supported (it scales the loss)")
        }
        if case .array(let m)? = compile?["metrics"] { compileMetrics = m } else { compileMetrics = [] }
        outputShape = []
        outputShape = try build(seed: 0).outputShape  // a model that cannot be built fails here
    }

    /// Keras's `(None, d1, d2, …)` as the per-sample shape.
    static func sampleShape(_ value: ConfigValue?, label: String) throws -> [Int]? {
        guard let value, value != .null else { return nil }
        guard case .array(let items) = value, items.count >= 2, items[0] == .null else {
            throw EngineError.unsupportedModel("\(label): input shape \(value.json) is not (None, d1, …)")
        }
        var dims: [Int] = []
        for item in items.dropFirst() {
            guard case .integer(let n) = item, n > 0, n <= KerasLayerConfig.largest else {
                throw EngineError.unsupportedModel("\(label): input shape \(value.json) has a free, non-positive or huge dimension; optilog needs every dimension but the batch, each at most \(KerasLayerConfig.largest)")
            }
            dims.append(n)
        }
        return dims
    }

    /// A functional model must be input → layer → … → output, each layer called once on the one before.
    static func checkChain(_ entries: [ConfigValue], config: ConfigValue) throws {
        func names(_ value: ConfigValue?) -> [String] {
            // ["name", 0, 0] or [["name", 0, 0], …]
            guard case .array(let items)? = value else { return [] }
            if case .string(let n)? = items.first { return [n] }
            return items.compactMap { if case .array(let a) = $0, case .string(let n)? = a.first { return n } else { return nil } }
        }
        func source(_ node: ConfigValue) -> [String] {
            // Keras 3: {"args": [{"class_name": "__keras_tensor__", "config": {"keras_history": [name, 0, 0]}}], …}
            if case .array(let args)? = node["args"] {
                return args.compactMap { arg in
                    if case .array(let h)? = arg["config"]?["keras_history"], case .string(let n)? = h.first { return n }
                    return nil
                }
            }
            // Keras 2: [["name", 0, 0, {}], …]
            if case .array(let calls) = node {
                return calls.compactMap { if case .array(let c) = $0, case .string(let n)? = c.first { return n } else { return nil } }
            }
            return []
        }
        var previous: String?
        for entry in entries {
            let name: String
            if case .string(let n)? = entry["name"] ?? entry["config"]?["name"] { name = n } else { name = "?" }
            let kind: String
            if case .string(let k)? = entry["class_name"] { kind = k } else { kind = "?" }
            guard case .array(let nodes)? = entry["inbound_nodes"] else {
                throw EngineError.unsupportedModel("layer '\(name)' (\(kind)): the functional model lists no inbound_nodes")
            }
            if let previous {
                guard nodes.count == 1, source(nodes[0]) == [previous] else {
                    throw EngineError.unsupportedModel("layer '\(name)' (\(kind)) is not called once on '\(previous)': optilog reads functional models that are a single chain")
                }
                // Call arguments may change the math. Keras 3 replaces a call's `training` with the
                // model's own (on in fit, off in evaluate), as optilog does; Keras 2 honoured it.
                var kwargs: [(String, ConfigValue)] = []
                if case .object(let k)? = nodes[0]["kwargs"] { kwargs = k.filter { $0.0 != "training" } }
                if case .array(let calls) = nodes[0], case .array(let call)? = calls.first, call.count > 3, case .object(let k) = call[3] { kwargs = k }
                if let (key, value) = kwargs.first(where: { $0.1 != .null }) {
                    throw EngineError.unsupportedModel("layer '\(name)' (\(kind)) is called with \(key)=\(value.json), which optilog does not apply")
                }
            } else if !nodes.isEmpty || kind != "InputLayer" {
                throw EngineError.unsupportedModel("layer '\(name)' (\(kind)): a functional model must start with its Input")
            }
            previous = name
        }
        let inputs = names(config["input_layers"]), outputs = names(config["output_layers"])
        guard inputs.count == 1, outputs == [previous ?? ""] else {
            throw EngineError.unsupportedModel("the functional model has inputs \(inputs) and outputs \(outputs): optilog reads a single chain from one input to its last layer")
        }
    }

    static func spec(_ c: inout KerasLayerConfig) throws -> Spec {
        Spec(name: c.name, kind: try kind(&c))
    }

    static func kind(_ c: inout KerasLayerConfig) throws -> Kind {
        switch c.kind {
        case "Dense":
            return .dense(units: try c.int("units"), activation: try c.activation(), useBias: try c.bool("use_bias", default: true),
                          kernel: try c.initializer("kernel_initializer", default: .glorotUniform),
                          bias: try c.initializer("bias_initializer", default: .zeros))
        case "Conv1D", "Conv2D":
            let rank = c.kind == "Conv1D" ? 1 : 2
            let filters = try c.int("filters")
            guard let size = try c.ints("kernel_size", count: rank) else { throw c.refuse("its config has no kernel_size") }
            let strides = try c.ints("strides", count: rank) ?? Array(repeating: 1, count: rank)
            let padding = try c.padding()
            let activation = try c.activation(), useBias = try c.bool("use_bias", default: true)
            let kernel = try c.initializer("kernel_initializer", default: .glorotUniform)
            let bias = try c.initializer("bias_initializer", default: .zeros)
            if rank == 1 {
                return .conv1D(filters: filters, size: size[0], stride: strides[0], padding: padding, activation: activation,
                               useBias: useBias, kernel: kernel, bias: bias)
            }
            return .conv2D(filters: filters, size: (size[0], size[1]), strides: (strides[0], strides[1]), padding: padding,
                           activation: activation, useBias: useBias, kernel: kernel, bias: bias)
        case "MaxPooling1D", "AveragePooling1D":
            let size = try c.ints("pool_size", count: 1) ?? [2]
            let strides = try c.ints("strides", count: 1) ?? size
            return .pool1D(max: c.kind.hasPrefix("Max"), size: size[0], stride: strides[0], padding: try c.padding())
        case "MaxPooling2D", "AveragePooling2D":
            let size = try c.ints("pool_size", count: 2) ?? [2, 2]
            let strides = try c.ints("strides", count: 2) ?? size
            return .pool2D(max: c.kind.hasPrefix("Max"), size: (size[0], size[1]), strides: (strides[0], strides[1]),
                           padding: try c.padding())
        case "GlobalMaxPooling1D": return .globalMax1D
        case "GlobalAveragePooling1D": return .globalAverage(rank: 1)
        case "GlobalAveragePooling2D": return .globalAverage(rank: 2)
        case "Flatten": return .flatten
        case "Dropout":
            let rate = try c.float("rate", default: 0)
            guard rate >= 0, rate < 1 else { throw c.refuse("rate \(rate) is not in [0, 1)") }
            return .dropout(rate: rate)
        case "Activation": return .activation(function: try c.activation())
        case "Embedding":
            return .embedding(inputDim: try c.int("input_dim"), outputDim: try c.int("output_dim"),
                              initializer: try c.initializer("embeddings_initializer", default: .uniform(low: -0.05, high: 0.05)))
        case "LSTM":
            let units = try c.int("units")
            guard try c.activation(default: .tanh) == .tanh else { throw c.refuse("activation other than tanh is not supported") }
            guard try c.activation("recurrent_activation", default: .sigmoid) == .sigmoid else {
                throw c.refuse("recurrent_activation other than sigmoid is not supported")
            }
            guard try c.bool("use_bias", default: true) else { throw c.refuse("use_bias false is not supported") }
            return .lstm(units: units, returnSequences: try c.bool("return_sequences", default: false),
                         kernel: try c.initializer("kernel_initializer", default: .glorotUniform),
                         recurrent: try c.initializer("recurrent_initializer", default: .orthogonal(gain: 1)),
                         bias: try c.initializer("bias_initializer", default: .zeros),
                         unitForgetBias: try c.bool("unit_forget_bias", default: true))
        default:
            throw c.refuse("is not a layer optilog has (it has \(supportedLayers.joined(separator: ", ")))")
        }
    }

    /// A fresh model: its layers built, named as in the JSON, weights drawn from `seed`.
    public func build(seed: UInt64) throws -> Sequential {
        let built: [any Layer] = layers.map { spec in
            switch spec.kind {
            case let .dense(units, activation, useBias, kernel, bias):
                let d = Dense(units, activation: activation, useBias: useBias)
                (d.kernelInitializer, d.biasInitializer) = (kernel, bias)
                return d
            case let .conv1D(filters, size, stride, padding, activation, useBias, kernel, bias):
                let l = Conv1D(filters, kernelSize: size, strides: stride, padding: padding, useBias: useBias, activation: activation)
                (l.kernelInitializer, l.biasInitializer) = (kernel, bias)
                return l
            case let .conv2D(filters, size, strides, padding, activation, useBias, kernel, bias):
                let l = Conv2D(filters, kernelSize: size, strides: strides, padding: padding, useBias: useBias, activation: activation)
                (l.kernelInitializer, l.biasInitializer) = (kernel, bias)
                return l
            case let .pool1D(max, size, stride, padding):
                return max ? MaxPooling1D(size, strides: stride, padding: padding) : AveragePooling1D(size, strides: stride, padding: padding)
            case let .pool2D(max, size, strides, padding):
                return max ? MaxPooling2D(poolSize: size, strides: strides, padding: padding)
                           : AveragePooling2D(poolSize: size, strides: strides, padding: padding)
            case .globalMax1D: return GlobalMaxPooling1D()
            case let .globalAverage(rank): return GlobalAveragePooling(rank: rank)
            case .flatten: return Flatten()
            case let .dropout(rate): return Dropout(rate)
            case let .activation(function): return Activation(function)
            case let .embedding(inputDim, outputDim, initializer):
                let e = Embedding(inputDim: inputDim, outputDim: outputDim)
                e.embeddingsInitializer = initializer
                return e
            case let .lstm(units, returnSequences, kernel, recurrent, bias, unitForgetBias):
                let l = LSTM(units, returnSequences: returnSequences)
                (l.kernelInitializer, l.recurrentInitializer, l.biasInitializer, l.unitForgetBias) = (kernel, recurrent, bias, unitForgetBias)
                return l
            }
        }
        do {
            return try Sequential(inputShape: inputShape, layers: built, seed: seed, names: layers.map(\.name))
        } catch let error as EngineError {
            throw EngineError.unsupportedModel("the model does not build: \(error)")
        }
    }

    /// Multiply-adds per sample of the layers that dominate, for speed reports.
    public func forwardMACs() throws -> Int { try build(seed: 0).forwardMACs() }
}
