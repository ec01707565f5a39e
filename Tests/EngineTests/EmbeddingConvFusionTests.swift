import XCTest
@testable import Engine

/// An Embedding feeding a Conv1D runs as one fused stage on the table's distinct rows. It must
/// give what the two layers give apart (the Keras-checked path), gradients included.
final class EmbeddingConvFusionTests: XCTestCase {
    func model(fusing: Bool) throws -> Sequential {
        try Sequential(inputShape: [9], layers: [Embedding(inputDim: 10, outputDim: 5), Conv1D(4, kernelSize: 3, activation: .tanh),
                                                 GlobalMaxPooling1D(), Dense(1, activation: .sigmoid)], seed: 2, fusing: fusing)
    }

    func testTheFusedStageMatchesTheLayersApart() throws {
        let fused = try model(fusing: true), apart = try model(fusing: false)
        XCTAssertEqual(fused.stages.count, 3)
        XCTAssertTrue(fused.stages[0] is FusedEmbeddingConv1D)
        XCTAssertEqual(apart.stages.count, 4)
        // The Keras view is the same either way: layers, names, weights, summary.
        XCTAssertEqual(fused.layers.map(\.name), ["embedding", "conv1d", "global_max_pooling1d", "dense"])
        XCTAssertEqual(fused.summary(), apart.summary())
        XCTAssertEqual(fused.parameters.map(\.value), apart.parameters.map(\.value))

        let ids = try Tensor(shape: [3, 9], scalars: [1, 4, 4, 0, 7, 2, 2, 5, 1,  3, 3, 3, 6, 0, 1, 1, 4, 7,  2, 5, 5, 5, 0, 0, 6, 1, 3])
        let y = try Tensor(shape: [3, 1], scalars: [1, 0, 1])
        let a = fused.lossAndGradients(x: ids, y: y, loss: .binaryCrossentropy, context: ForwardContext(training: true))
        let b = apart.lossAndGradients(x: ids, y: y, loss: .binaryCrossentropy, context: ForwardContext(training: true))
        assertClose(a.predictions.scalars, b.predictions.scalars, "output")
        XCTAssertEqual(a.loss, b.loss, accuracy: 1e-6)
        for (p, q) in zip(fused.parameters, apart.parameters) {
            assertClose(p.gradient, q.gradient, "\(p.name) gradient")
            XCTAssertGreaterThan(p.gradient.map(abs).max() ?? 0, 0, "\(p.name): a gradient was written")
        }
        // Rows of the table no id used get no gradient (Keras applies it densely, zeros there).
        let table = try XCTUnwrap(fused.parameters.first { $0.name == "embedding/embeddings" })
        XCTAssertEqual(Array(table.gradient[40..<50]), [Float](repeating: 0, count: 10), "ids 8 and 9 are not in the batch")
        XCTAssertTrue(table.gradient[5..<10].contains { $0 != 0 })
        XCTAssertEqual(Set(fused.layerGradientNorms.map(\.layer)), ["embedding", "conv1d", "dense"])
    }

    /// Smooth layers only (Flatten, not max pooling), so that moving a table row cannot switch a
    /// pooling winner between the two sides of a difference.
    func testFusedModelAgainstFiniteDifferences() throws {
        let model = try Sequential(inputShape: [8], layers: [Embedding(inputDim: 6, outputDim: 3), Conv1D(2, kernelSize: 3, activation: .sigmoid),
                                                              Flatten(), Dense(1, activation: .sigmoid)], seed: 9)
        let x = try Tensor(shape: [2, 8], scalars: [1, 1, 2, 5, 5, 5, 0, 2,  4, 2, 2, 1, 3, 3, 0, 1])
        let y = try Tensor(shape: [2, 1], scalars: [1, 0])
        _ = model.lossAndGradients(x: x, y: y, loss: .binaryCrossentropy, context: ForwardContext(training: true))
        let analytic = model.parameters.map(\.gradient)
        let h: Float = 1e-2
        for (p, parameter) in model.parameters.enumerated() {
            for i in 0..<parameter.count {
                let saved = parameter.value[i]
                parameter.value[i] = saved + h
                let plus = Loss.binaryCrossentropy.value(predictions: model.forward(x), targets: y)
                parameter.value[i] = saved - h
                let minus = Loss.binaryCrossentropy.value(predictions: model.forward(x), targets: y)
                parameter.value[i] = saved
                let fd = (Double(plus) - Double(minus)) / (2 * Double(h))
                XCTAssertEqual(fd, Double(analytic[p][i]), accuracy: 2e-3 + 2e-2 * abs(Double(analytic[p][i])), "\(parameter.name)[\(i)]")
            }
        }
    }
}
