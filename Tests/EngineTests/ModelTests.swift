import XCTest
@testable import Engine

final class ModelTests: XCTestCase {
    /// Parameter counts as Keras 3 reports them for the study's models
    /// (../shared/reference/peer_timings.md, measured with `model.count_params()`).
    func testStudyArchitecturesMatchKerasParameterCounts() throws {
        XCTAssertEqual(try StudyTask.boston.build(seed: 0).parameterCount, 5_121)
        XCTAssertEqual(try StudyTask.fashionMNIST.build(seed: 0).parameterCount, 225_034)
        XCTAssertEqual(try StudyTask.imdb.build(seed: 0).parameterCount, 1_315_937)
        XCTAssertEqual(try StudyTask.jena.build(seed: 0).parameterCount, 6_049)
    }

    func testArchitecturesAreSizedFromTheInputShape() throws {
        let small = try StudyTask.fashionMNIST.build(inputShape: [12, 12, 1], classes: 4, seed: 0)
        XCTAssertEqual(small.outputShapes, [[10, 10, 32], [5, 5, 32], [3, 3, 64], [1, 1, 64], [64], [128], [4]])
        XCTAssertEqual(try StudyTask.boston.build(inputShape: [8], seed: 0).parameterCount, 8 * 64 + 64 + 64 * 64 + 64 + 65)
        XCTAssertEqual(try StudyTask.jena.build(inputShape: [24, 6], seed: 0).parameterCount, 4 * 32 * (6 + 32 + 1) + 33)
        XCTAssertEqual(try StudyTask.imdb.build(inputShape: [200], vocabulary: 500, seed: 0).outputShapes.map { $0 },
                       [[200, 128], [194, 32], [38, 32], [32, 32], [32], [1]])
    }

    func testImpossibleShapesAreClearErrors() {
        XCTAssertThrowsError(try StudyTask.fashionMNIST.build(inputShape: [6, 6, 1], seed: 0)) { error in
            XCTAssertEqual("\(error)", "shape mismatch: conv2d_1: a 3×3 kernel does not fit a 2×2 input")
        }
        XCTAssertThrowsError(try Sequential(inputShape: [28, 28, 1], layers: [Dense(3)], seed: 0)) { error in
            XCTAssertEqual("\(error)", "shape mismatch: dense expects a flat input [features], got [28, 28, 1]; add a Flatten layer")
        }
        XCTAssertThrowsError(try Sequential(inputShape: [4], layers: [], seed: 0))
        XCTAssertThrowsError(try Sequential(inputShape: [4], layers: [Dropout(1.0)], seed: 0))
        XCTAssertThrowsError(try Sequential(inputShape: [10, 3], layers: [Conv1D(2, kernelSize: 11)], seed: 0))
    }

    func testKerasStyleNamesAndSummary() throws {
        let model = try StudyTask.fashionMNIST.build(seed: 0)
        XCTAssertEqual(model.layers.map(\.name), ["conv2d", "max_pooling2d", "conv2d_1", "max_pooling2d_1", "flatten", "dense", "dense_1"])
        XCTAssertEqual(model.parameters.map(\.name).prefix(2), ["conv2d/kernel", "conv2d/bias"])
        let summary = model.summary()
        XCTAssertTrue(summary.contains(" conv2d_1 (Conv2D)"))
        XCTAssertTrue(summary.contains("(None, 5, 5, 64)"))
        XCTAssertTrue(summary.contains("204,928"))
        XCTAssertTrue(summary.contains("Total params: 225,034 (879.04 KB)"))
    }

    func testGradientNormsCoverEveryParameter() throws {
        let model = try StudyTask.boston.build(seed: 1)
        let x = randomTensor([8, 13], seed: 1)
        let y = randomTensor([8, 1], seed: 2)
        _ = model.lossAndGradients(x: x, y: y, loss: .meanSquaredError, context: ForwardContext(training: true))
        let perLayer = model.layerGradientNorms
        XCTAssertEqual(perLayer.map(\.layer), ["dense", "dense_1", "dense_2"])
        let combined = perLayer.reduce(0.0) { $0 + $1.norm * $1.norm }.squareRoot()
        XCTAssertEqual(model.gradientNorm, combined, accuracy: 1e-12 * combined)
        var direct = 0.0
        for p in model.parameters { for g in p.gradient { direct += Double(g) * Double(g) } }
        XCTAssertEqual(model.gradientNorm, direct.squareRoot(), accuracy: 1e-9)
        XCTAssertGreaterThan(model.gradientNorm, 0)
    }

    func testForwardMACsMatchThePeerTable() throws {
        // Forward multiply-adds per sample from ../shared/reference/peer_timings.md.
        XCTAssertEqual(try StudyTask.boston.forwardMACs(), 4_992)
        XCTAssertEqual(try StudyTask.fashionMNIST.forwardMACs(), 2_631_040)
        XCTAssertEqual(try StudyTask.imdb.forwardMACs(), 14_823_456)
        XCTAssertEqual(try StudyTask.jena.forwardMACs(), 706_592)
    }
}
