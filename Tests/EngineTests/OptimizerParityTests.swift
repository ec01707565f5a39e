import XCTest
@testable import Engine

/// SGD and Adam against Keras 3's own traces in ../shared/reference/keras_optimizer_traces.json
/// (a [3,4] variable, 20 fixed gradient steps with zeros, a 50× spike and an all-zero step):
/// every step's values must be bit-identical (0 ulp) to Keras's eager step.
final class OptimizerParityTests: XCTestCase {
    func trace() throws -> [String: Any] {
        let url = sharedDirectory.appendingPathComponent("reference/keras_optimizer_traces.json")
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw XCTSkip("Keras traces not found at \(url.path) (set OPTILOG_SHARED)")
        }
        return try XCTUnwrap((try loadJSON(url) as? [String: Any])?["fixed_gradient_trace"] as? [String: Any])
    }

    func hex(_ any: Any?) -> [UInt32] {
        (any as? [String] ?? []).compactMap { UInt32($0, radix: 16) }
    }

    func replay(_ id: String, _ make: () -> any Optimizer) throws {
        let t = try trace()
        let runs = t["optimizers"] as? [[String: Any]] ?? []
        let run = try XCTUnwrap(runs.first { $0["id"] as? String == id }, "no trace \(id)")
        // The 12-element trace tiled 3 times (36 values: two 16-lane blocks and a tail of 4), so
        // the vectorised and scalar paths of each rule are both held to Keras's bits.
        func tiled<T>(_ v: [T]) -> [T] { v + v + v }
        let parameter = Parameter(name: "v", shape: [3, 12], value: tiled(hex(t["initial_value_hex"]).map(Float.init(bitPattern:))))
        let gradients = (t["gradients_hex"] as? [Any] ?? []).map(hex).map(tiled)
        let expected = (run["values_per_step_hex"] as? [Any] ?? []).map(hex).map(tiled)
        XCTAssertEqual(gradients.count, 20)
        XCTAssertEqual(expected.count, 20)
        let optimizer = make()
        for (step, g) in gradients.enumerated() {
            parameter.gradient = g.map(Float.init(bitPattern:))
            optimizer.apply(to: [parameter])
            let got = parameter.value.map(\.bitPattern)
            if got != expected[step] {
                let i = got.indices.first { got[$0] != expected[step][$0] } ?? 0
                XCTFail("\(id) step \(step + 1) element \(i): \(Float(bitPattern: got[i])) vs Keras \(Float(bitPattern: expected[step][i]))")
                return
            }
            // Every slot after every step, by Keras's variable path `<opt>/w_<slot>`.
            let slots = try XCTUnwrap((optimizer as? SlotHolder)?.slots)
            let kerasSlots = try XCTUnwrap((run["slots_per_step"] as? [[String: Any]])?[step])
            for (s, name) in optimizer.slotNames.enumerated() {
                let key = try XCTUnwrap(kerasSlots.keys.first { $0.hasSuffix("/w_\(name)") }, "\(id): no Keras slot \(name)")
                let want = tiled(floats(kerasSlots[key]).map(\.bitPattern))
                let have = Array(slots[0, s]).map(\.bitPattern)
                XCTAssertEqual(have, want, "\(id) step \(step + 1) slot \(name)")
            }
            XCTAssertEqual(kerasSlots.keys.filter { $0.contains("/w_") }.count, optimizer.slotNames.count, "\(id): slot count")
        }
        XCTAssertEqual(optimizer.iterations, 20)
    }

    func testSGD() throws {
        try replay("sgd") { SGD() }
        try replay("sgd_lr0.001") { SGD(learningRate: 0.001) }
        try replay("sgd_momentum") { SGD(momentum: 0.9) }
        try replay("sgd_nesterov") { SGD(momentum: 0.9, nesterov: true) }
    }

    func testAdam() throws {
        try replay("adam") { Adam() }
        try replay("adam_amsgrad") { Adam(amsgrad: true) }
    }

    func testRegistryUsesKerasNamesAndRejectsUnknownSettings() throws {
        let sgd = try XCTUnwrap(try OptimizerRegistry.make("sgd", settings: [("momentum", "0.9"), ("nesterov", "true")]) as? SGD)
        XCTAssertEqual(sgd.momentum, 0.9)
        XCTAssertTrue(sgd.nesterov)
        XCTAssertEqual(sgd.learningRate, 0.01)
        XCTAssertThrowsError(try OptimizerRegistry.make("adam", settings: [("beta1", "0.8")])) { error in
            XCTAssertEqual("\(error)", "invalid configuration: adam has no setting 'beta1'")
        }
        XCTAssertThrowsError(try OptimizerRegistry.make("adam", settings: [("learning_rate", "fast")]))
        XCTAssertThrowsError(try OptimizerRegistry.make("adam", settings: [("learning_rate", "nan")]))
        XCTAssertThrowsError(try OptimizerRegistry.make("lion"))
    }
}
