import Foundation
import XCTest
@testable import Engine

/// The package root, found from this file's path so tests run from any working directory.
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

func loadJSON(_ url: URL) throws -> Any {
    try JSONSerialization.jsonObject(with: Data(contentsOf: url))
}

func floats(_ any: Any?) -> [Float] {
    (any as? [Any] ?? []).map { value in
        if let n = value as? NSNumber { return Float(n.doubleValue) }
        switch value as? String {
        case "NaN": return .nan
        case "Infinity": return .infinity
        case "-Infinity": return -.infinity
        default: return .nan
        }
    }
}

func ints(_ any: Any?) -> [Int] { (any as? [Any] ?? []).compactMap { ($0 as? NSNumber)?.intValue } }

/// Elementwise |a − b| ≤ atol + rtol·|b|, with the first offending index in the message.
func assertClose(_ actual: [Float], _ expected: [Float], rtol: Float = 1e-5, atol: Float = 1e-6,
                 _ what: String, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.count, expected.count, "\(what): count", file: file, line: line)
    guard actual.count == expected.count else { return }
    var worst = 0, worstExcess: Float = 0
    for i in actual.indices {
        let excess = abs(actual[i] - expected[i]) - (atol + rtol * abs(expected[i]))
        if excess > worstExcess || !(actual[i] - expected[i]).isFinite && actual[i] != expected[i] {
            worst = i
            worstExcess = excess.isFinite ? excess : .infinity
        }
    }
    XCTAssert(worstExcess <= 0, "\(what): element \(worst) is \(actual[worst]), expected \(expected[worst])",
              file: file, line: line)
}

/// Builds one layer on its own (as layer 0 of a model would be built).
func built<L: Layer>(_ layer: L, inputShape: [Int], seed: UInt64 = 7) throws -> L {
    layer.name = snakeCase(layer.kind)
    _ = try layer.build(inputShape: inputShape, context: BuildContext(index: 0, seed: seed))
    return layer
}

func randomTensor(_ shape: [Int], seed: UInt64, scale: Float = 1) -> Tensor {
    var rng = RandomStream(seed: seed, purpose: .data, 99)
    return try! Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in scale * Float(rng.normal()) })
}
