import XCTest
@testable import Engine

/// An Embedding feeding a Conv1D runs the convolution on the table's distinct rows. It must
/// give what the two layers give apart (the Keras-checked path), gradients included.
final class EmbeddingConvFusionTests: XCTestCase {
    func testFusedMatchesSeparateLayers() throws {
        let ids = try Tensor(shape: [3, 9], scalars: [1, 4, 4, 0, 7, 2, 2, 5, 1,  3, 3, 3, 6, 0, 1, 1, 4, 7,  2, 5, 5, 5, 0, 0, 6, 1, 3])
        let fused = try Sequential(inputShape: [9], layers: [Embedding(inputDim: 8, outputDim: 5), Conv1D(4, kernelSize: 3, activation: .tanh)], seed: 2)
        let embedding = try XCTUnwrap(fused.layers[0] as? Embedding), fusedConv = try XCTUnwrap(fused.layers[1] as? Conv1D)
        XCTAssertTrue(fusedConv.lookup === embedding)
        let separate = try built(Conv1D(4, kernelSize: 3, activation: .tanh), inputShape: [9, 5])
        XCTAssertNil(separate.lookup)
        separate.kernel.value = fusedConv.kernel.value
        separate.bias.value = fusedConv.bias.value

        let upstream = randomTensor([3, 7, 4], seed: 4)
        let y = fused.forward(ids, context: ForwardContext(training: true))
        fused.backward(upstream)
        let x = embedding.forward(ids, context: ForwardContext(training: true))
        let ySeparate = separate.forward(x, context: ForwardContext(training: true))
        let dx = try XCTUnwrap(separate.backward(upstream, needsInputGradient: true))
        assertClose(y.scalars, ySeparate.scalars, "output")
        assertClose(fusedConv.kernel.gradient, separate.kernel.gradient, "kernel gradient")
        assertClose(fusedConv.bias.gradient, separate.bias.gradient, "bias gradient")
        // The table's gradient: dx summed into the rows of the ids, as Embedding.backward does.
        let fusedTable = embedding.table.gradient
        _ = embedding.backward(dx, needsInputGradient: false)
        assertClose(fusedTable, embedding.table.gradient, "table gradient")
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
