import XCTest
@testable import Engine

/// Every layer, activation and loss against Keras 3 itself: the same weights and input give
/// the same output and the same gradients (fixtures/keras_layers.json, made by
/// tools/reference/make_layer_reference.py with TensorFlow's GradientTape).
/// Tolerance: relative 2e-5 — the engine sums in a different order than oneDNN/Eigen, so a few
/// float32 ulps of difference are expected; a wrong gate order, layout or clip is off by far more.
final class KerasLayerReferenceTests: XCTestCase {
    nonisolated(unsafe) static let reference: [String: Any] = {
        let url = packageRoot.appendingPathComponent("fixtures/keras_layers.json")
        return (try? loadJSON(url)) as? [String: Any] ?? [:]
    }()

    func layerCase(_ name: String) throws -> [String: Any] {
        let cases = Self.reference["layers"] as? [[String: Any]] ?? []
        return try XCTUnwrap(cases.first { $0["name"] as? String == name }, "no case \(name) in fixtures/keras_layers.json")
    }

    func check(_ name: String, _ layer: any Layer, rtol: Float = 2e-5, atol: Float = 2e-6) throws {
        let c = try layerCase(name)
        let inputShape = ints(c["input_shape"])
        _ = try layer.build(inputShape: Array(inputShape.dropFirst()), context: BuildContext(index: 0, seed: 0))
        let weights = c["weights"] as? [[String: Any]] ?? []
        XCTAssertEqual(layer.parameters.count, weights.count, "\(name): weight count")
        for (p, w) in zip(layer.parameters, weights) {
            XCTAssertEqual(p.shape, ints(w["shape"]), "\(name): \(p.name) shape")
            p.value = floats(w["values"])
        }
        let x = try Tensor(shape: inputShape, scalars: floats(c["input"]))
        let y = layer.forward(x, context: ForwardContext(training: false))
        XCTAssertEqual(y.shape, ints(c["output_shape"]), "\(name): output shape")
        assertClose(y.scalars, floats(c["output"]), rtol: rtol, atol: atol, "\(name) output")

        let dy = try Tensor(shape: y.shape, scalars: floats(c["upstream"]))
        let expectsInputGradient = !(c["input_gradient"] is NSNull)
        let dx = layer.backward(dy, needsInputGradient: expectsInputGradient)
        if expectsInputGradient {
            assertClose(try XCTUnwrap(dx).scalars, floats(c["input_gradient"]), rtol: rtol, atol: atol, "\(name) input gradient")
        }
        let expected = c["weight_gradients"] as? [Any] ?? []
        for (p, g) in zip(layer.parameters, expected) {
            assertClose(p.gradient, floats(g), rtol: rtol, atol: atol, "\(name) \(p.name) gradient")
        }
    }

    func testDenseWithEveryActivation() throws {
        for act in ActivationFunction.allCases {
            try check("dense_\(act.rawValue)", Dense(4, activation: act))
        }
    }

    func testConv2D() throws {
        try check("conv2d_relu", Conv2D(4, kernelSize: 3, activation: .relu))
        try check("conv2d_linear_k2x3", Conv2D(2, kernelSize: (2, 3)))
    }

    func testPooling() throws {
        try check("max_pooling2d", MaxPooling2D(2))
        try check("max_pooling1d", MaxPooling1D(5))
        try check("global_max_pooling1d", GlobalMaxPooling1D())
    }

    func testConv1D() throws { try check("conv1d_relu", Conv1D(4, kernelSize: 3, activation: .relu)) }

    func testEmbeddingWithRepeatedIds() throws { try check("embedding", Embedding(inputDim: 8, outputDim: 3)) }

    func testLSTMGateOrderAndBackpropagationThroughTime() throws { try check("lstm", LSTM(3)) }

    func testActivationLayers() throws {
        for act in [ActivationFunction.relu, .sigmoid, .tanh, .softmax] {
            try check("activation_\(act.rawValue)", Activation(act))
        }
    }

    func testLossesValueAndGradient() throws {
        let cases = Self.reference["losses"] as? [[String: Any]] ?? []
        XCTAssertEqual(cases.count, 6)
        for c in cases {
            let name = try XCTUnwrap(c["name"] as? String)
            let loss = try XCTUnwrap(Loss(rawValue: name.replacingOccurrences(of: "_unnormalised", with: "")))
            let p = try Tensor(shape: ints(c["prediction_shape"]), scalars: floats(c["predictions"]))
            let t = try Tensor(shape: ints(c["target_shape"]), scalars: floats(c["targets"]))
            let value = loss.value(predictions: p, targets: t)
            XCTAssertEqual(value, Float((c["value"] as? NSNumber)?.doubleValue ?? .nan), accuracy: 2e-6 * max(1, abs(value)), name)
            assertClose(loss.gradient(predictions: p, targets: t).scalars, floats(c["gradient"]), rtol: 2e-5, atol: 1e-7, "\(name) gradient")
        }
    }
}
