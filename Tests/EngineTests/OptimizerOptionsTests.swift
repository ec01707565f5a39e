import Basics
import XCTest
@testable import Engine

/// The options every Keras optimizer has (clipnorm, clipvalue, global_clipnorm, weight_decay),
/// the three learning-rate schedules and every optimizer with non-default settings, against
/// fixtures/keras_optimizer_options.json (made by tools/reference/make_optimizer_traces.py with
/// Keras 3): two variables, 15 steps, every value at every step; the final slots; and
/// `get_config()` itself, key for key and in Keras's order.
final class OptimizerOptionsTests: XCTestCase {
    static let fixture: ConfigValue? = {
        let url = packageRoot.appendingPathComponent("fixtures/keras_optimizer_options.json")
        return (try? String(contentsOf: url, encoding: .utf8)).flatMap { try? ConfigValue.parse($0) }
    }()

    func hex(_ value: ConfigValue?) -> [UInt32] {
        guard case .array(let items)? = value else { return [] }
        return items.compactMap { if case .string(let s) = $0 { return UInt32(s, radix: 16) } else { return nil } }
    }

    func items(_ value: ConfigValue?) -> [ConfigValue] {
        if case .array(let items)? = value { return items }
        return []
    }

    func string(_ value: ConfigValue?) -> String {
        if case .string(let s)? = value { return s }
        return ""
    }

    /// Differences in units in the last place, with −0 = +0.
    func ulps(_ a: UInt32, _ b: UInt32) -> Int64 {
        func ordered(_ x: UInt32) -> Int64 { x & 0x8000_0000 != 0 ? -Int64(x & 0x7FFF_FFFF) : Int64(x) }
        return abs(ordered(a) - ordered(b))
    }

    func testEveryOptionAgainstKeras() throws {
        let fixture = try XCTUnwrap(Self.fixture, "fixtures/keras_optimizer_options.json is missing or unreadable")
        let runs = items(fixture["runs"])
        XCTAssertEqual(runs.count, 25)
        let initial = items(fixture["initial_hex"]).map { hex($0).map(Float.init(bitPattern:)) }
        let gradients = items(fixture["gradients_hex"]).map { items($0).map { hex($0).map(Float.init(bitPattern:)) } }
        for run in runs {
            let id = string(run["id"])
            let optimizer = try Optimizers.make(string(run["class_name"]).lowercased(), config: try XCTUnwrap(run["kwargs"]))
            // Keras numbers its instances (adam_1, …); the rest of the configuration must match exactly.
            guard case .object(var kerasConfig)? = run["config"] else { return XCTFail("\(id): no config") }
            kerasConfig[0].1 = .string(optimizer.name)
            XCTAssertEqual(optimizer.config, .object(kerasConfig), "\(id): get_config()")
            // Clipping by norm sums squares in another order than TensorFlow, so the scale may
            // differ in its last bit: there, a relative 1e-5 instead of 0 ulp.
            let relative: Float? = id.contains("clipnorm") ? 1e-5 : nil
            func check(_ got: [UInt32], _ want: [UInt32], _ what: String) -> Bool {
                guard got.count == want.count else { XCTFail("\(what): \(got.count) values, Keras \(want.count)"); return false }
                for (a, b) in zip(got, want) {
                    let (x, y) = (Float(bitPattern: a), Float(bitPattern: b))
                    let ok = relative.map { abs(x - y) <= $0 * max(abs(x), abs(y)) + 1e-12 } ?? (ulps(a, b) == 0)
                    if !ok { XCTFail("\(what): \(x) vs Keras \(y)"); return false }
                }
                return true
            }
            let variables = [Parameter(name: "w0", shape: [3, 4], value: initial[0]), Parameter(name: "w1", shape: [5], value: initial[1])]
            // Ftrl is held to the graph-mode trace (sqrt, as model.fit computes it); the rest to eager.
            let isFtrl = optimizer is Ftrl
            stepping: for (step, expected) in items(run[isFtrl ? "steps_graph" : "steps"]).enumerated() {
                for (v, g) in gradients[step].enumerated() { variables[v].gradient = g }
                optimizer.apply(to: variables)
                for (v, want) in items(expected).enumerated() where !check(variables[v].value.map(\.bitPattern), hex(want), "\(id) step \(step + 1) w\(v)") {
                    break stepping
                }
            }
            XCTAssertEqual(optimizer.iterations, 15, id)
            // Final slots are eager-mode values; Ftrl's differ there (see above).
            for slot in items(run["final_slots"]) where !isFtrl {
                let path = string(slot["path"])
                let last = String(path.split(separator: "/").last ?? "")
                if last == "learning_rate" { continue }
                let have: [UInt32]
                if last.hasPrefix("variable") {
                    have = [optimizer.scalars[0].value.bitPattern]  // Nadam's u_product
                } else {
                    let v = last.hasPrefix("w0_") ? 0 : 1
                    let name = String(last.dropFirst(3))
                    let s = try XCTUnwrap(optimizer.slotNames.firstIndex(of: name), "\(id): no slot \(name)")
                    have = Array(optimizer.slots[v, s]).map(\.bitPattern)
                }
                _ = check(have, hex(slot["values_hex"]), "\(id) \(path)")
            }
        }
    }

    /// Saddle and Himmelblau paths (Keras's GradientTape gradients, 200 steps) from `path`,
    /// which computes its own gradients: relative 1e-5 on x and y while the loss is moderate.
    func testSurfacePathsOnSaddleAndHimmelblau() throws {
        let fixture = try XCTUnwrap(Self.fixture)
        let surfaces = items(fixture["surfaces"])
        XCTAssertEqual(surfaces.count, 2)
        func numbers(_ v: ConfigValue?) -> [Float] {
            items(v).map {
                switch $0 {
                case .number(let d): return Float(d)
                case .integer(let n): return Float(n)
                default: return .nan
                }
            }
        }
        for surface in surfaces {
            let function = try XCTUnwrap(TestSurface(rawValue: string(surface["function"])))
            let start = numbers(surface["start"])
            XCTAssertEqual([function.defaultStart.x, function.defaultStart.y], start)
            for run in items(surface["runs"]) {
                let id = "\(function)/\(string(run["id"]))"
                let optimizer = try Optimizers.make(string(run["class_name"]).lowercased(), config: try XCTUnwrap(run["kwargs"]))
                let path = function.path(optimizer: optimizer, steps: 200)
                let x = numbers(run["x"]), y = numbers(run["y"]), loss = numbers(run["loss"])
                XCTAssertEqual(x.count, 201, id)
                for t in 0..<201 where abs(loss[t]) < 1e6 {
                    let ok = abs(path[t].x - x[t]) <= 1e-5 * max(1, abs(x[t])) && abs(path[t].y - y[t]) <= 1e-5 * max(1, abs(y[t]))
                    if !ok {
                        XCTFail("\(id) step \(t): (\(path[t].x), \(path[t].y)) vs Keras (\(x[t]), \(y[t]))")
                        break
                    }
                }
            }
        }
    }

    func testSchedulesAsKerasDefinesThem() {
        let exp = LearningRateSchedule.exponentialDecay(initial: 0.1, decaySteps: 10, rate: 0.5, staircase: false)
        XCTAssertEqual(exp.learningRate(at: 0), 0.1)
        XCTAssertEqual(exp.learningRate(at: 10), 0.05)
        XCTAssertEqual(exp.learningRate(at: 5), 0.1 * powf(0.5, 0.5))
        let stairs = LearningRateSchedule.exponentialDecay(initial: 0.1, decaySteps: 10, rate: 0.5, staircase: true)
        XCTAssertEqual(stairs.learningRate(at: 19), 0.05)
        let inverse = LearningRateSchedule.inverseTimeDecay(initial: 0.1, decaySteps: 2, rate: 1, staircase: false)
        XCTAssertEqual(inverse.learningRate(at: 2), 0.05)
        let piecewise = LearningRateSchedule.piecewiseConstantDecay(boundaries: [3, 8], values: [1, 0.5, 0.1])
        XCTAssertEqual([0, 3, 4, 8, 9].map { piecewise.learningRate(at: $0) }, [1, 1, 0.5, 0.5, 0.1])
    }
}
