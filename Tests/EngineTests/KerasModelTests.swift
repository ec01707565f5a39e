import Basics
import XCTest
@testable import Engine

/// Reading a user's Keras model: the three fixture models build with Keras's shapes and parameter
/// counts, and every layer, option or value optilog does not have is refused in one line that
/// names the layer.
final class KerasModelTests: XCTestCase {
    func fixture(_ name: String) throws -> String {
        try String(contentsOf: packageRoot.appendingPathComponent("fixtures/custom/\(name).json"), encoding: .utf8)
    }

    func testFixtureModelsBuildWithKerasShapesAndParameterCounts() throws {
        // (input, output shapes per layer, parameters) as Keras's model.summary() gives them.
        let mlp = try KerasModel(json: try fixture("mlp")).build(seed: 1)
        XCTAssertEqual(mlp.inputShape, [13])
        XCTAssertEqual(mlp.outputShapes, [[32], [16], [1]])
        XCTAssertEqual(mlp.parameterCount, 13 * 32 + 32 + 32 * 16 + 16 + 17)
        XCTAssertEqual(mlp.layers.map(\.name), ["dense", "dense_1", "dense_2"])

        let cnn = try KerasModel(json: try fixture("cnn")).build(seed: 1)
        XCTAssertEqual(cnn.outputShapes, [[28, 28, 8], [14, 14, 8], [7, 7, 16], [3, 3, 16], [144], [10]])
        XCTAssertEqual(cnn.parameterCount, (9 * 8 + 8) + (9 * 8 * 16 + 16) + (144 * 10 + 10))
        XCTAssertEqual(cnn.layers.map(\.kind), ["Conv2D", "MaxPooling2D", "Conv2D", "AveragePooling2D", "Flatten", "Dense"])

        let lstm = try KerasModel(json: try fixture("lstm")).build(seed: 1)
        XCTAssertEqual(lstm.outputShapes, [[24, 16], [8], [1]])
        XCTAssertEqual(lstm.parameterCount, 4 * 16 * (4 + 16 + 1) + 4 * 8 * (16 + 8 + 1) + 9)
    }

    /// The study's four networks written in Keras (fixtures/custom/builtin/) are the built-in
    /// models: the same layers and fused stages, the same weights from a seed, the same bits
    /// forward and backward — and so the same speed.
    func testAModelOfABuiltInShapeIsTheBuiltInModel() throws {
        for task in StudyTask.allCases {
            let custom = try KerasModel(json: try fixture("builtin/\(task.rawValue)")).build(seed: 7)
            let builtin = try task.build(seed: 7)
            XCTAssertEqual(custom.layers.map(\.kind), builtin.layers.map(\.kind), task.rawValue)
            XCTAssertEqual(custom.stages.map { "\(type(of: $0))" }, builtin.stages.map { "\(type(of: $0))" }, task.rawValue)
            XCTAssertEqual(custom.parameters.map(\.value), builtin.parameters.map(\.value), task.rawValue)
            var rng = RandomStream(seed: 5, purpose: .data, 0)
            let shape = [4] + builtin.inputShape
            let x = Tensor(unchecked: shape, (0..<shape.reduce(1, *)).map { _ in
                task == .imdb ? Float(Int(rng.nextFloat() * 9999)) : Float(rng.normal())
            })
            let width = builtin.outputShape.reduce(1, *)
            var targets = [Float](repeating: 0, count: 4 * width)
            for i in targets.indices {
                // One-hot rows for the classifier, 0/1 elsewhere.
                let hot: Bool = task == .fashionMNIST ? i % width == (i / width) % width : i % 2 == 1
                targets[i] = hot ? 1 : 0
            }
            let y = Tensor(unchecked: [4] + builtin.outputShape, targets)
            let a = custom.lossAndGradients(x: x, y: y, loss: task.loss, context: ForwardContext(training: true, seed: 1, step: 0))
            let b = builtin.lossAndGradients(x: x, y: y, loss: task.loss, context: ForwardContext(training: true, seed: 1, step: 0))
            XCTAssertEqual(a.loss.bitPattern, b.loss.bitPattern, task.rawValue)
            XCTAssertEqual(custom.parameters.map { $0.gradient.map(\.bitPattern) }, builtin.parameters.map { $0.gradient.map(\.bitPattern) }, task.rawValue)
        }
    }

    func testFingerprintCoversTheArchitectureNotTheNames() throws {
        let text = try fixture("mlp")
        let a = try KerasModel(json: text)
        let renamed = try KerasModel(json: text.replacingOccurrences(of: "\"dense_1\"", with: "\"hidden\""))
        XCTAssertEqual(a.fingerprint, renamed.fingerprint)
        let wider = try KerasModel(json: text.replacingOccurrences(of: "\"units\": 32", with: "\"units\": 33"))
        XCTAssertNotEqual(a.fingerprint, wider.fingerprint)
        XCTAssertEqual(try wider.build(seed: 1).outputShapes[0], [33])
    }

    func testSequentialAndSingleChainFunctionalAndKeras2Layouts() throws {
        let input = #"{"class_name": "InputLayer", "config": {"batch_shape": [null, 10, 3], "dtype": "float32", "name": "in"}, "name": "in", "inbound_nodes": []}"#
        func node(_ from: String) -> String {
            #"[{"args": [{"class_name": "__keras_tensor__", "config": {"shape": [null, 1], "dtype": "float32", "keras_history": [""# + from + #"", 0, 0]}}], "kwargs": {}}]"#
        }
        let functional = #"{"class_name": "Functional", "config": {"name": "f", "layers": ["# + input
            + #", {"class_name": "LSTM", "config": {"name": "l", "units": 4, "return_sequences": true}, "name": "l", "inbound_nodes": "# + node("in") + "}"
            + #", {"class_name": "GlobalAveragePooling1D", "config": {"name": "g"}, "name": "g", "inbound_nodes": "# + node("l") + "}"
            + #"], "input_layers": [["in", 0, 0]], "output_layers": [["g", 0, 0]]}}"#
        let model = try KerasModel(json: functional).build(seed: 2)
        XCTAssertEqual(model.outputShapes, [[10, 4], [4]])
        // A branch (g called on the input, skipping l) is not a chain.
        let branched = functional.replacingOccurrences(of: #"["l", 0, 0]}}], "kwargs": {}}], "name": "g""#, with: "x")
        _ = branched
        let skip = functional.replacingOccurrences(of: "\"keras_history\": [\"l\"", with: "\"keras_history\": [\"in\"")
        XCTAssertThrowsError(try KerasModel(json: skip)) { error in
            XCTAssertEqual("\(error)", "layer 'g' (GlobalAveragePooling1D) is not called once on 'l': optilog reads functional models that are a single chain")
        }
        // Keras 2: batch_input_shape on the first layer, dtype as a string.
        let keras2 = #"{"class_name": "Sequential", "config": {"name": "s", "layers": [{"class_name": "Dense", "config": {"name": "d", "units": 3, "activation": "softmax", "dtype": "float32", "batch_input_shape": [null, 5], "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": null}}, "bias_initializer": {"class_name": "Zeros", "config": {}}}}]}, "keras_version": "2.15.0"}"#
        XCTAssertEqual(try KerasModel(json: keras2).build(seed: 1).outputShapes, [[3]])
        // Keras 3 replaces a call's training= with the model's own flag, as optilog does; other
        // call arguments change the math and are refused.
        let forced = functional.replacingOccurrences(of: #""keras_history": ["l", 0, 0]}}], "kwargs": {}"#,
                                                     with: #""keras_history": ["l", 0, 0]}}], "kwargs": {"training": true}"#)
        XCTAssertNotEqual(forced, functional)
        XCTAssertEqual(try KerasModel(json: forced).fingerprint, try KerasModel(json: functional).fingerprint)
        let masked = functional.replacingOccurrences(of: #""keras_history": ["l", 0, 0]}}], "kwargs": {}"#,
                                                     with: #""keras_history": ["l", 0, 0]}}], "kwargs": {"mask": "m"}"#)
        XCTAssertThrowsError(try KerasModel(json: masked)) {
            XCTAssertEqual("\($0)", #"layer 'g' (GlobalAveragePooling1D) is called with mask="m", which optilog does not apply"#)
        }
    }

    /// Every refusal is one line naming the layer and what it cannot do.
    func testUnsupportedLayersOptionsAndValuesAreRefusedNamingTheLayer() throws {
        func model(_ layer: String, input: String = "[null, 8, 8, 3]") -> String {
            #"{"class_name": "Sequential", "config": {"name": "s", "layers": [{"class_name": "InputLayer", "config": {"batch_shape": "# + input
                + #", "dtype": "float32", "name": "input_layer"}}, "# + layer + "]}}"
        }
        let cases: [(String, String, String)] = [
            (#"{"class_name": "BatchNormalization", "config": {"name": "bn"}}"#, "[null, 8, 8, 3]",
             "layer 'bn' (BatchNormalization): is not a layer optilog has (it has InputLayer, Dense, Conv1D, Conv2D, MaxPooling1D, MaxPooling2D, AveragePooling1D, AveragePooling2D, GlobalMaxPooling1D, GlobalAveragePooling1D, GlobalAveragePooling2D, Flatten, Dropout, Activation, Embedding, LSTM)"),
            (#"{"class_name": "Conv2D", "config": {"name": "c", "filters": 4, "kernel_size": [3, 3], "dilation_rate": [2, 2]}}"#, "[null, 8, 8, 3]",
             "layer 'c' (Conv2D): option 'dilation_rate' = [2, 2] is not supported"),
            (#"{"class_name": "Conv1D", "config": {"name": "c1", "filters": 4, "kernel_size": 3, "padding": "causal"}}"#, "[null, 8, 3]",
             #"layer 'c1' (Conv1D): padding "causal" is not supported (optilog has "valid" and "same")"#),
            (#"{"class_name": "Dense", "config": {"name": "d", "units": 4, "activation": "gelu"}}"#, "[null, 8]",
             #"layer 'd' (Dense): activation "gelu" is not supported (optilog has linear, relu, sigmoid, tanh, softmax)"#),
            (#"{"class_name": "Dense", "config": {"name": "d", "units": 4, "kernel_regularizer": {"class_name": "L2", "config": {"l2": 0.01}}}}"#, "[null, 8]",
             #"layer 'd' (Dense): option 'kernel_regularizer' = {"class_name": "L2", "config": {"l2": 0.01}} is not supported"#),
            (#"{"class_name": "Dense", "config": {"name": "d", "units": 4, "kernel_initializer": {"class_name": "HeNormal", "config": {"seed": 7}}}}"#, "[null, 8]",
             "layer 'd' (Dense): kernel_initializer HeNormal has seed 7; optilog draws initial weights from the run's seed (give the weights with --initial-weights instead)"),
            (#"{"class_name": "Dense", "config": {"name": "d", "units": 4, "kernel_initializer": "identity"}}"#, "[null, 8]",
             "layer 'd' (Dense): kernel_initializer identity is not supported (optilog has GlorotUniform, GlorotNormal, HeUniform, HeNormal, LecunUniform, LecunNormal, VarianceScaling, RandomUniform, RandomNormal, TruncatedNormal, Orthogonal, Zeros, Ones, Constant)"),
            (#"{"class_name": "Dense", "config": {"name": "d", "units": 4, "trainable": false}}"#, "[null, 8]",
             "layer 'd' (Dense): option 'trainable' = false is not supported"),
            (#"{"class_name": "Dense", "config": {"name": "d", "units": 4, "dtype": "float16"}}"#, "[null, 8]",
             #"layer 'd' (Dense): option 'dtype' = "float16" is not supported"#),
            (#"{"class_name": "LSTM", "config": {"name": "l", "units": 4, "go_backwards": true}}"#, "[null, 5, 3]",
             "layer 'l' (LSTM): option 'go_backwards' = true is not supported"),
            (#"{"class_name": "LSTM", "config": {"name": "l", "units": 4, "recurrent_dropout": 0.2}}"#, "[null, 5, 3]",
             "layer 'l' (LSTM): option 'recurrent_dropout' = 0.2 is not supported"),
            (#"{"class_name": "LSTM", "config": {"name": "l", "units": 4, "activation": "relu"}}"#, "[null, 5, 3]",
             "layer 'l' (LSTM): activation other than tanh is not supported"),
            (#"{"class_name": "Dropout", "config": {"name": "dr", "rate": 0.5, "noise_shape": [null, 1]}}"#, "[null, 8]",
             "layer 'dr' (Dropout): option 'noise_shape' = [null, 1] is not supported"),
            (#"{"class_name": "Embedding", "config": {"name": "e", "input_dim": 10, "output_dim": 4, "mask_zero": true}}"#, "[null, 8]",
             "layer 'e' (Embedding): option 'mask_zero' = true is not supported"),
            (#"{"class_name": "MyLayer", "config": {"name": "mine"}, "registered_name": "Custom>MyLayer"}"#, "[null, 8]",
             #"layer 'mine' (MyLayer): is a custom object ("Custom>MyLayer"); optilog builds Keras's own layers only: InputLayer, Dense, Conv1D, Conv2D, MaxPooling1D, MaxPooling2D, AveragePooling1D, AveragePooling2D, GlobalMaxPooling1D, GlobalAveragePooling1D, GlobalAveragePooling2D, Flatten, Dropout, Activation, Embedding, LSTM"#),
            (#"{"class_name": "Dense", "config": {"name": "d", "units": 4}}"#, "[null, null]",
             "input_layer: input shape [null, null] has a free, non-positive or huge dimension; optilog needs every dimension but the batch, each at most 16777216"),
            (#"{"class_name": "Dense", "config": {"name": "d", "units": 4611686018427387904}}"#, "[null, 8]",
             "layer 'd' (Dense): units 4611686018427387904 is larger than optilog allows (16777216)"),
            (#"{"class_name": "Dense", "config": {"name": "d", "units": 16777216}}"#, "[null, 16777216]",
             "the model does not build: invalid configuration: d's kernel of shape [16777216, 16777216] is larger than optilog allows (268435456 values)"),
            (#"{"class_name": "Conv2D", "config": {"name": "c", "filters": 4, "kernel_size": 3, "strides": 9223372036854775807, "padding": "same"}}"#, "[null, 8, 8, 3]",
             "layer 'c' (Conv2D): strides 9223372036854775807 is larger than optilog allows (16777216)"),
            (#"{"class_name": "Dense", "config": {"name": "d", "units": 4}}, {"class_name": "Embedding", "config": {"name": "e", "input_dim": 10, "output_dim": 2}}"#, "[null, 8]",
             "layer 'e' (Embedding): an Embedding must be the model's first layer (it reads the input's integer ids)"),
            (#"{"class_name": "Dense", "config": {"name": "d", "units": 4}}"#, "[null, 8, 8]",
             "the model does not build: shape mismatch: d expects a flat input [features], got [8, 8]; add a Flatten layer"),
        ]
        for (layer, input, expected) in cases {
            XCTAssertThrowsError(try KerasModel(json: model(layer, input: input)), expected) { error in
                XCTAssertEqual("\(error)", expected.replacingOccurrences(of: "input_layer:", with: "layer 'input_layer' (InputLayer):"))
                XCTAssertFalse("\(error)".contains("\n"))
            }
        }
        XCTAssertThrowsError(try KerasModel(json: "{not json")) { XCTAssert("\($0)".hasPrefix("the model is not valid JSON")) }
        // A compiled model that scales its loss.
        let weighted = try fixture("mlp").replacingOccurrences(of: #""compile_config": {}"#,
                                                                with: #""compile_config": {"loss": "mae", "loss_weights": [2.0]}"#)
        XCTAssertThrowsError(try KerasModel(json: weighted)) {
            XCTAssertEqual("\($0)", "compile() loss_weights [2.0] is not supported (it scales the loss)")
        }
        XCTAssertThrowsError(try KerasModel(json: #"{"class_name": "Sequential", "config": {"layers": [{"class_name": "Dense", "config": {"units": 1}}]}}"#)) {
            XCTAssertEqual("\($0)", "the model has no input shape: give it keras.Input(shape=…) before model.to_json()")
        }
    }

    func testKerasInitializersHaveTheirDistributions() {
        var rng = RandomStream(seed: 3, purpose: .weights, 0)
        // He normal: truncated at 2 sd, sd sqrt(2 / fan_in) overall.
        let he = Initializer.varianceScaling(scale: 2, mode: .fanIn, distribution: .truncatedNormal).values(shape: [200, 100], rng: &rng)
        let sd = (he.map { Double($0 * $0) }.reduce(0, +) / Double(he.count)).squareRoot()
        XCTAssertEqual(sd, (2.0 / 200).squareRoot(), accuracy: 0.004)
        XCTAssertLessThanOrEqual(he.map { abs($0) }.max()!, Float(2 * (2.0 / 200).squareRoot() / 0.87962566103423978) + 1e-6)
        let lecun = Initializer.varianceScaling(scale: 1, mode: .fanIn, distribution: .uniform).values(shape: [300, 50], rng: &rng)
        XCTAssertLessThanOrEqual(lecun.map { abs($0) }.max()!, Float((3.0 / 300).squareRoot()))
        XCTAssertGreaterThan(lecun.map { abs($0) }.max()!, Float((3.0 / 300).squareRoot()) * 0.99)
        XCTAssertEqual(Initializer.constant(0.5).values(shape: [3], rng: &rng), [0.5, 0.5, 0.5])
    }
}
