import XCTest
@testable import Engine

final class InitializerTests: XCTestCase {
    func testFansFollowKeras() {
        XCTAssertTrue(Initializer.fans([13, 64]) == (13, 64))
        XCTAssertTrue(Initializer.fans([3, 3, 32, 64]) == (288, 576))  // receptive field 9
        XCTAssertTrue(Initializer.fans([7, 128, 32]) == (896, 224))
    }

    func testGlorotUniformBoundsAndVariance() {
        var rng = RandomStream(seed: 1, purpose: .weights)
        let v = Initializer.glorotUniform.values(shape: [200, 300], rng: &rng)
        let limit = Float((6.0 / 500.0).squareRoot())
        XCTAssert(v.allSatisfy { abs($0) <= limit })
        let variance = v.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(v.count)
        XCTAssertEqual(variance, 2.0 / 500.0, accuracy: 0.0001)  // Var U(−a, a) = a²/3 = 2/(fan_in + fan_out)
    }

    func testOrthogonalIsOrthonormal() {
        for shape in [[32, 128], [128, 32], [16, 16]] {
            var rng = RandomStream(seed: 2, purpose: .weights)
            let q = Initializer.orthogonal(gain: 1).values(shape: shape, rng: &rng)
            let (rows, cols) = (shape[0], shape[1])
            // The shorter side's vectors are orthonormal: QQᵀ = I (rows ≤ cols) or QᵀQ = I.
            let n = min(rows, cols)
            for a in 0..<n {
                for b in 0..<n {
                    var dot = 0.0
                    for k in 0..<max(rows, cols) {
                        dot += rows <= cols ? Double(q[a * cols + k]) * Double(q[b * cols + k])
                                            : Double(q[k * cols + a]) * Double(q[k * cols + b])
                    }
                    XCTAssertEqual(dot, a == b ? 1 : 0, accuracy: 1e-5, "\(shape) [\(a), \(b)]")
                }
            }
        }
    }

    func testLayerDefaults() throws {
        let lstm = try built(LSTM(32), inputShape: [120, 14])
        XCTAssertEqual(lstm.bias.value[0..<32], ArraySlice(repeating: 0, count: 32))
        XCTAssertEqual(lstm.bias.value[32..<64], ArraySlice(repeating: 1, count: 32))  // unit_forget_bias
        XCTAssertEqual(lstm.bias.value[64..<128], ArraySlice(repeating: 0, count: 64))
        let embedding = try built(Embedding(inputDim: 100, outputDim: 8), inputShape: [5])
        XCTAssert(embedding.table.value.allSatisfy { abs($0) <= 0.05 })
        XCTAssertGreaterThan(embedding.table.value.map(abs).max()!, 0.045)
        let dense = try built(Dense(4), inputShape: [3])
        XCTAssertEqual(dense.bias.value, [0, 0, 0, 0])
    }

    func testWeightsArePureFunctionsOfTheSeed() throws {
        let a = try StudyTask.fashionMNIST.build(seed: 5).parameters.flatMap(\.value).map(\.bitPattern)
        let b = try StudyTask.fashionMNIST.build(seed: 5).parameters.flatMap(\.value).map(\.bitPattern)
        let c = try StudyTask.fashionMNIST.build(seed: 6).parameters.flatMap(\.value).map(\.bitPattern)
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a, c)
    }
}
