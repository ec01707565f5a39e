import XCTest
@testable import Engine

/// Max pooling against a plain loop, with enough channels to take the 16-lane path and a
/// scalar tail (20 = 16 + 4), and with ties, which must go to the window's first maximum.
final class PoolingReferenceTests: XCTestCase {
    func testMaxPooling2DMatchesNaiveLoopIncludingTies() throws {
        let (batch, h, w, c) = (2, 7, 6, 20)
        var rng = RandomStream(seed: 4, purpose: .data)
        // Values from a small set so that windows often hold equal maxima.
        let x = try Tensor(shape: [batch, h, w, c], scalars: (0..<(batch * h * w * c)).map { _ in Float(rng.nextInt(below: 4)) })
        let layer = try built(MaxPooling2D(poolSize: (2, 3)), inputShape: [h, w, c])
        let y = layer.forward(x, context: ForwardContext(training: false))
        let (oh, ow) = (h / 2, w / 3)
        XCTAssertEqual(y.shape, [batch, oh, ow, c])
        var expected = [Float](), winners = [Int]()
        for b in 0..<batch { for i in 0..<oh { for j in 0..<ow { for ch in 0..<c {
            var best = -Float.infinity, at = -1
            for di in 0..<2 { for dj in 0..<3 {
                let index = ((b * h + i * 2 + di) * w + j * 3 + dj) * c + ch
                if x.scalars[index] > best { (best, at) = (x.scalars[index], index) }
            } }
            expected.append(best)
            winners.append(at)
        } } } }
        XCTAssertEqual(y.scalars, expected)
        let dy = try Tensor(shape: y.shape, scalars: (0..<y.count).map { Float($0 + 1) })
        let dx = try XCTUnwrap(layer.backward(dy, needsInputGradient: true))
        var expectedDx = [Float](repeating: 0, count: x.count)
        for (o, at) in winners.enumerated() { expectedDx[at] += Float(o + 1) }
        XCTAssertEqual(dx.scalars, expectedDx)
    }
}
