import Basics
import XCTest
@testable import Engine

/// Every optimizer's whole state serializes and restores losslessly; the checksum tracks every
/// bit; an optimizer restored from bytes continues bit-identically; configurations round-trip.
final class OptimizerStateTests: XCTestCase {
    /// Each optimizer with options that give it all its slots.
    let configurations: [(String, [(key: String, value: String)])] = [
        ("adadelta", []), ("adagrad", []), ("adam", [("amsgrad", "true")]), ("adamax", []),
        ("ftrl", [("l1_regularization_strength", "0.01"), ("learning_rate_power", "-0.6")]), ("nadam", []),
        ("rmsprop", [("momentum", "0.9"), ("centered", "true")]), ("sgd", [("momentum", "0.9"), ("nesterov", "true")]),
        ("sgd", []),  // no slots at all
    ]

    func variables() -> [Parameter] {
        [Parameter(name: "a", shape: [4, 5], value: (0..<20).map { Float($0) * 0.1 - 1 }),
         Parameter(name: "b", shape: [3], value: [0.5, -0.25, 2])]
    }

    func step(_ optimizer: Optimizer, _ params: [Parameter], _ t: Int) {
        for p in params { p.gradient = (0..<p.count).map { i in sinf(Float(i * 7 + t * 13)) * (i % 5 == 0 ? 0 : 1) } }
        optimizer.apply(to: params)
    }

    func testResumedFromBytesContinuesBitIdentically() throws {
        for (name, settings) in configurations {
            let straight = try Optimizers.make(name, settings: settings), straightParams = variables()
            for t in 0..<10 { step(straight, straightParams, t) }

            let first = try Optimizers.make(name, settings: settings), params = variables()
            for t in 0..<4 { step(first, params, t) }
            let saved = first.state
            let resumed = try Optimizers.make(name, settings: settings)
            try resumed.restore(saved, variableCounts: params.map(\.count))
            XCTAssertEqual(resumed.state, saved, name)
            XCTAssertEqual(resumed.state.checksum, saved.checksum, name)
            XCTAssertEqual(resumed.iterations, 4)
            for t in 4..<10 { step(resumed, params, t) }
            XCTAssertEqual(params.flatMap(\.value).map(\.bitPattern), straightParams.flatMap(\.value).map(\.bitPattern), name)
            XCTAssertEqual(resumed.state.checksum, straight.state.checksum, name)
        }
    }

    func testChecksumChangesWithAnyBit() throws {
        let optimizer = try Optimizers.make("nadam", settings: []), params = variables()
        step(optimizer, params, 0)
        let state = optimizer.state
        XCTAssertEqual(state.checksum.count, 64)
        XCTAssertEqual(state.checksum, optimizer.state.checksum)
        var seen = Set([state.checksum])
        // Flip one bit in every byte after the header: each gives a new checksum.
        for i in stride(from: 8, to: state.bytes.count, by: 1) {
            var bytes = state.bytes
            bytes[i] ^= 0x01
            seen.insert(OptimizerState(bytes: bytes).checksum)
        }
        XCTAssertEqual(seen.count, state.bytes.count - 8 + 1)
        // The documented layout: magic, version 1, class name, iterations.
        XCTAssertEqual(Array(state.bytes[0..<4]), Array("OPTS".utf8))
        XCTAssertEqual(Array(state.bytes[4..<8]), [1, 0, 0, 0])
        XCTAssertEqual(Array(state.bytes[8..<12]), [5, 0, 0, 0])
        XCTAssertEqual(String(decoding: state.bytes[12..<17], as: UTF8.self), "Nadam")
        XCTAssertEqual(Array(state.bytes[17..<25]), [1, 0, 0, 0, 0, 0, 0, 0])
    }

    func testDamagedOrMismatchedStatesAreRefusedWithoutChanges() throws {
        let adam = try Optimizers.make("adam", settings: []), params = variables()
        step(adam, params, 0)
        let good = adam.state
        let counts = params.map(\.count)
        let fresh = try Optimizers.make("adam", settings: [])
        let before = fresh.state
        let cases: [([UInt8], String)] = [
            (Array(good.bytes.prefix(good.bytes.count - 3)), "truncated"),
            (good.bytes + [0], "trailing"),
            (Array("JUNK".utf8) + good.bytes.dropFirst(4), "bad magic"),
            ([], "truncated"),
        ]
        for (bytes, what) in cases {
            XCTAssertThrowsError(try fresh.restore(OptimizerState(bytes: bytes), variableCounts: counts)) { error in
                XCTAssertTrue("\(error)".contains(what), "\(error)")
            }
            XCTAssertEqual(fresh.state, before, "a failed restore changed the optimizer")
        }
        XCTAssertThrowsError(try fresh.restore(good, variableCounts: [20, 4])) { XCTAssertTrue("\($0)".contains("3 values in the state, 4 in the model"), "\($0)") }
        XCTAssertThrowsError(try Optimizers.make("sgd", settings: []).restore(good, variableCounts: counts)) {
            XCTAssertTrue("\($0)".contains("state of Adam cannot be restored into SGD"), "\($0)")
        }
        XCTAssertThrowsError(try Optimizers.make("adam", settings: [("amsgrad", "true")]).restore(good, variableCounts: counts)) {
            XCTAssertTrue("\($0)".contains("2 slots"), "\($0)")
        }
        // Random bytes never trap.
        var rng = RandomStream(seed: 1, purpose: .data)
        for n in 0..<300 {
            var bytes = good.bytes
            for _ in 0..<(1 + n % 4) { bytes[rng.nextInt(below: bytes.count)] = UInt8(rng.nextInt(below: 256)) }
            _ = try? fresh.restore(OptimizerState(bytes: Array(bytes.prefix(rng.nextInt(below: bytes.count + 1)))), variableCounts: counts)
        }
    }

    func testConfigurationsRoundTripThroughJSON() throws {
        let schedule = #"{"class_name": "ExponentialDecay", "config": {"initial_learning_rate": 0.1, "decay_steps": 100, "decay_rate": 0.96}}"#
        for (name, settings) in configurations + [("sgd", [("learning_rate", schedule), ("clipvalue", "0.5")]),
                                                  ("adam", [("weight_decay", "0.004"), ("global_clipnorm", "1.0")])] {
            let optimizer = try Optimizers.make(name, settings: settings)
            let text = optimizer.config.json
            let again = try Optimizers.make(name, config: try ConfigValue.parse(text))
            XCTAssertEqual(again.config.json, text, name)
            XCTAssertEqual(again.config, optimizer.config, name)
        }
        let adam = try Optimizers.make("adam", settings: [])
        XCTAssertEqual(adam.config.json, #"{"name": "adam", "learning_rate": 0.0010000000474974513, "weight_decay": null, "clipnorm": null, "global_clipnorm": null, "clipvalue": null, "use_ema": false, "ema_momentum": 0.99, "ema_overwrite_frequency": null, "loss_scale_factor": null, "gradient_accumulation_steps": null, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-07, "amsgrad": false}"#)
    }

    func testConfigValueParsesAndPrintsJSON() throws {
        let text = #"{"a": [1, 2.5, -3e-07, true, null, "x\"y\u00e9"], "b": {"c": NaN}}"#
        let value = try ConfigValue.parse(text)
        XCTAssertEqual(value["a"], .array([.integer(1), .number(2.5), .number(-3e-07), .bool(true), .null, .string("x\"yé")]))
        XCTAssertEqual(try ConfigValue.parse(value.json), value)
        for bad in ["{", "[1,]", "{\"a\" 1}", "tru", "\"open", "1 2", String(repeating: "[", count: 100)] {
            XCTAssertThrowsError(try ConfigValue.parse(bad), bad)
        }
    }
}

final class EmbeddingUpdateTests: XCTestCase {
    /// Keras applies Embedding gradients densely: a row used at step 1 and absent at step 2
    /// still moves at step 2 under Adam (its momentum is not 0), and Ftrl sets rows never used
    /// to exactly 0 at the first step (w = −z/q with z = 0). Under plain SGD an absent row stays.
    func testRowsAbsentFromABatchMoveAsInKeras() throws {
        func run(_ optimizer: Optimizer) throws -> (embedding: Embedding, afterFirst: [Float], afterSecond: [Float]) {
            let model = try Sequential(inputShape: [2], layers: [Embedding(inputDim: 4, outputDim: 2), Flatten(), Dense(1)], seed: 3)
            let embedding = try XCTUnwrap(model.layers[0] as? Embedding)
            let y = try Tensor(shape: [1, 1], scalars: [1])
            _ = model.lossAndGradients(x: try Tensor(shape: [1, 2], scalars: [1, 2]), y: y, loss: .meanSquaredError, context: ForwardContext(training: true))
            optimizer.apply(to: model.parameters)
            let afterFirst = embedding.table.value
            _ = model.lossAndGradients(x: try Tensor(shape: [1, 2], scalars: [2, 2]), y: y, loss: .meanSquaredError, context: ForwardContext(training: true))
            XCTAssertEqual(Array(embedding.table.gradient[2..<4]), [0, 0], "row 1 is absent from the second batch")
            optimizer.apply(to: model.parameters)
            return (embedding, afterFirst, embedding.table.value)
        }
        let adam = try run(try Adam(learningRate: 0.001))
        XCTAssertNotEqual(Array(adam.afterSecond[2..<4]), Array(adam.afterFirst[2..<4]), "Adam moves row 1 by its momentum")
        XCTAssertEqual(Array(adam.afterSecond[6..<8]), Array(adam.afterFirst[6..<8]), "row 3 was never used")
        let sgd = try run(try SGD(learningRate: 0.01))
        XCTAssertEqual(Array(sgd.afterSecond[2..<4]), Array(sgd.afterFirst[2..<4]), "plain SGD leaves an absent row alone")
        let ftrl = try run(try Optimizers.make("ftrl", settings: []))
        XCTAssertEqual(Array(ftrl.afterFirst[0..<2]), [0, 0], "Ftrl zeroes a row never used")
    }
}
