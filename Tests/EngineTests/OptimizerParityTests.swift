import Basics
import XCTest
@testable import Engine

/// All eight optimizers against Keras 3's own traces in fixtures/keras_optimizer_parity.json, made by
/// tools/reference/make_optimizer_parity.py (18 configurations; a [3,4] variable, 20 fixed gradient
/// steps with zeros, a 50.0 spike and an all-zero step; Beale and Rosenbrock paths of 200 steps): every step's values and every slot must be bit-identical (0 ulp) to Keras's
/// eager step. Ftrl is held to `model.fit`'s graph-mode trace (TensorFlow computes pow(x, 0.5)
/// as sqrt there, bit-exact); its p = −0.6 configuration runs glibc's powf where eager TF runs
/// Eigen's vectorised pow, so it is allowed 64 ulp.
final class OptimizerParityTests: XCTestCase {
    nonisolated(unsafe) static var cached: [String: Any]?

    func traces() throws -> [String: Any] {
        if let cached = Self.cached { return cached }
        let url = packageRoot.appendingPathComponent("fixtures/keras_optimizer_parity.json")
        let all = try XCTUnwrap(try loadJSON(url) as? [String: Any], "\(url.path): not a JSON object")
        Self.cached = all
        return all
    }

    func hex(_ any: Any?) -> [UInt32] { (any as? [String] ?? []).compactMap { UInt32($0, radix: 16) } }

    /// Keras's kwargs as an optilog configuration.
    func optimizer(_ run: [String: Any]) throws -> Optimizer {
        let kwargs = run["kwargs"] as? [String: Any] ?? [:]
        let pairs: [(String, ConfigValue)] = kwargs.keys.sorted().map { key in
            let v = kwargs[key]
            if ["nesterov", "amsgrad", "centered"].contains(key) { return (key, .bool((v as? NSNumber)?.boolValue ?? false)) }
            return (key, .number((v as? NSNumber)?.doubleValue ?? .nan))
        }
        return try Optimizers.make((run["class"] as? String ?? "").lowercased(), config: .object(pairs))
    }

    func ulps(_ a: UInt32, _ b: UInt32) -> Int64 {
        func ordered(_ x: UInt32) -> Int64 { x & 0x8000_0000 != 0 ? -Int64(x & 0x7FFF_FFFF) : Int64(x) }
        return abs(ordered(a) - ordered(b))
    }

    func testEveryConfigurationOnTheFixedGradientTrace() throws {
        let all = try traces()
        let t = try XCTUnwrap(all["fixed_gradient_trace"] as? [String: Any])
        let runs = t["optimizers"] as? [[String: Any]] ?? []
        XCTAssertEqual(runs.count, 18)
        for run in runs {
            let id = run["id"] as? String ?? "?"
            let isFtrl = run["class"] as? String == "Ftrl"
            let tolerance: Int64 = id == "ftrl_all_options" ? 64 : 0
            // The 12-element trace tiled 3 times (36 values: two 16-lane blocks and a tail of 4),
            // so vectorised and scalar paths are both held to Keras's bits.
            func tiled<T>(_ v: [T]) -> [T] { v + v + v }
            let parameter = Parameter(name: "w", shape: [3, 12], value: tiled(hex(t["initial_value_hex"]).map(Float.init(bitPattern:))))
            let gradients = (t["gradients_hex"] as? [Any] ?? []).map(hex).map(tiled)
            let expected = (run[isFtrl ? "values_per_step_graph_mode_hex" : "values_per_step_hex"] as? [Any] ?? []).map(hex).map(tiled)
            XCTAssertEqual(gradients.count, 20)
            XCTAssertEqual(expected.count, 20, id)
            let optimizer = try optimizer(run)
            var worst: Int64 = 0
            for (step, g) in gradients.enumerated() {
                parameter.gradient = g.map(Float.init(bitPattern:))
                optimizer.apply(to: [parameter])
                let got = parameter.value.map(\.bitPattern)
                for i in got.indices { worst = max(worst, ulps(got[i], expected[step][i])) }
                guard !isFtrl else { continue }
                // Every slot after every step, by Keras's variable path `<opt>/w_<slot>`.
                let kerasSlots = try XCTUnwrap((run["slots_per_step"] as? [[String: Any]])?[step])
                for (s, name) in optimizer.slotNames.enumerated() {
                    let key = try XCTUnwrap(kerasSlots.keys.first { $0.hasSuffix("/w_\(name)") }, "\(id): no Keras slot \(name)")
                    XCTAssertEqual(Array(optimizer.slots[0, s]).map(\.bitPattern), tiled(floats(kerasSlots[key]).map(\.bitPattern)),
                                   "\(id) step \(step + 1) slot \(name)")
                }
                XCTAssertEqual(kerasSlots.keys.filter { $0.contains("/w_") }.count, optimizer.slotNames.count, "\(id): slot count")
                if id == "nadam", let key = kerasSlots.keys.first(where: { $0.hasSuffix("/variable") || $0 == "variable" }) {
                    XCTAssertEqual(optimizer.scalars[0].value.bitPattern, floats(kerasSlots[key]).first?.bitPattern, "nadam u_product step \(step + 1)")
                }
            }
            XCTAssertLessThanOrEqual(worst, tolerance, "\(id): worst difference from Keras in ulp")
            XCTAssertEqual(optimizer.iterations, 20)
        }
    }

    /// Beale and Rosenbrock paths from Keras's recorded gradients: 200 steps, 0 ulp, and the
    /// same Inf/NaN pattern where SGD diverges.
    func testTrajectoriesFromKerasGradients() throws {
        let all = try traces()
        let trajectories = try XCTUnwrap(all["trajectories"] as? [[String: Any]])
        XCTAssertEqual(trajectories.count, 2)
        for trajectory in trajectories {
            for run in trajectory["runs"] as? [[String: Any]] ?? [] {
                let id = "\(trajectory["function"] ?? "?")/\(run["id"] ?? "?")"
                let x = floats(run["x"]), y = floats(run["y"]), gx = floats(run["grad_x"]), gy = floats(run["grad_y"])
                let point = Parameter(name: "p", shape: [2], value: [x[0], y[0]])
                let optimizer = try optimizer(run)
                for step in 0..<200 {
                    point.gradient = [gx[step], gy[step]]
                    optimizer.apply(to: [point])
                    let same = point.value[0].bitPattern == x[step + 1].bitPattern && point.value[1].bitPattern == y[step + 1].bitPattern
                        || (point.value[0].isNaN && x[step + 1].isNaN && point.value[1].isNaN == y[step + 1].isNaN)
                    if !same {
                        XCTFail("\(id) step \(step + 1): (\(point.value[0]), \(point.value[1])) vs Keras (\(x[step + 1]), \(y[step + 1]))")
                        break
                    }
                }
            }
        }
    }

    func testSettingsUseKerasNamesAndRejectMistakes() throws {
        let sgd = try XCTUnwrap(try Optimizers.make("sgd", settings: [("momentum", "0.9"), ("nesterov", "true")]) as? SGD)
        XCTAssertEqual(sgd.momentum, 0.9)
        XCTAssertTrue(sgd.nesterov)
        XCTAssertEqual(sgd.currentLearningRate, 0.01)
        for (name, settings, message) in [
            ("adam", [("beta1", "0.8")], "invalid configuration: adam has no setting 'beta1'"),
            ("adam", [("learning_rate", "fast")], "invalid configuration: adam: learning_rate=\"fast\" is not a number or a schedule"),
            ("adam", [("epsilon", "NaN")], "invalid configuration: adam: epsilon=NaN is not a finite number"),
            ("rmsprop", [("clipnorm", "1"), ("clipvalue", "1")], "invalid configuration: only one of clipnorm, clipvalue and global_clipnorm can be set"),
            ("adam", [("use_ema", "true")], "invalid configuration: adam: use_ema is not supported"),
            ("lion", [], "invalid configuration: unknown optimizer 'lion'; available: adadelta, adagrad, adam, adamax, ftrl, nadam, rmsprop, sgd"),
            ("sgd", [("learning_rate", "{\"class_name\": \"CosineDecay\", \"config\": {}}")],
             "invalid configuration: unknown learning-rate schedule 'CosineDecay'; available: ExponentialDecay, InverseTimeDecay, PiecewiseConstantDecay"),
        ] as [(String, [(String, String)], String)] {
            XCTAssertThrowsError(try Optimizers.make(name, settings: settings.map { (key: $0.0, value: $0.1) }), name) { error in
                XCTAssertEqual("\(error)", message)
            }
        }
    }
}

extension OptimizerParityTests {
    /// `optilog surface` computes its own gradients; its paths must follow Keras's (from
    /// GradientTape) on Beale and Rosenbrock for all 18 configurations over 200 steps, to a
    /// relative 1e-5 on x and y, and diverge where Keras's diverge (within 3 steps).
    func testSurfacePathsFollowKerasPaths() throws {
        let all = try traces()
        let trajectories = try XCTUnwrap(all["trajectories"] as? [[String: Any]])
        for trajectory in trajectories {
            let function = try XCTUnwrap(TestSurface(rawValue: trajectory["function"] as? String ?? ""))
            let start = floats(trajectory["start"])
            XCTAssertEqual(function.defaultStart.x, start[0])
            XCTAssertEqual(function.defaultStart.y, start[1])
            for run in trajectory["runs"] as? [[String: Any]] ?? [] {
                let id = "\(function)/\(run["id"] ?? "?")"
                let x = floats(run["x"]), y = floats(run["y"]), loss = floats(run["loss"])
                let path = function.path(optimizer: try optimizer(run), steps: 200)
                XCTAssertEqual(path.count, 201)
                XCTAssertEqual(path[0].loss, loss[0], id)
                let kerasEnd = (run["first_non_finite_index"] as? NSNumber)?.intValue
                let oursEnd = path.firstIndex { !$0.x.isFinite || !$0.y.isFinite }
                for t in 0..<min(201, kerasEnd ?? 201) {
                    // On the way to divergence (loss beyond 1e6) rounding differences are amplified
                    // without bound; compare the paths up to there.
                    guard loss[t] < 1e6 else { break }
                    let ok = abs(path[t].x - x[t]) <= 1e-5 * max(1, abs(x[t])) && abs(path[t].y - y[t]) <= 1e-5 * max(1, abs(y[t]))
                    if !ok {
                        XCTFail("\(id) step \(t): (\(path[t].x), \(path[t].y)) vs Keras (\(x[t]), \(y[t]))")
                        break
                    }
                }
                if let kerasEnd {
                    let ours = try XCTUnwrap(oursEnd, "\(id): Keras diverges at step \(kerasEnd), optilog does not")
                    XCTAssertLessThanOrEqual(abs(ours - kerasEnd), 3, "\(id): divergence step")
                } else {
                    XCTAssertNil(oursEnd, "\(id): optilog diverges, Keras does not")
                }
            }
        }
    }
}
