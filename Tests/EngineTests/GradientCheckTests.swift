import XCTest
@testable import Engine

/// Central finite differences against every analytic gradient.
///
/// L = Σ r ⊙ layer(x) with a fixed random r, summed in Float64. Each checked element is moved
/// by ±h (h = 1e-2 for smooth layers, 1e-3 for piecewise-linear ones) and
/// dL/dθ ≈ (L(θ+h) − L(θ−h)) / 2h. Tolerance: |fd − analytic| ≤ 2e-3 + 1e-2·|analytic|,
/// which Float32 rounding of the forward pass allows and a wrong sign, index or factor does not.
final class GradientCheckTests: XCTestCase {
    struct Check {
        var h: Float = 1e-2
        var rtol: Double = 1e-2
        var atol: Double = 2e-3
        /// At most this many elements per tensor (spread evenly) are checked.
        var samples = 40
    }

    func objective(_ layer: any Layer, _ x: Tensor, _ r: [Float], _ context: ForwardContext) -> Double {
        let y = layer.forward(x, context: context)
        var s = 0.0
        for i in y.scalars.indices { s += Double(y.scalars[i]) * Double(r[i]) }
        return s
    }

    func gradientCheck(_ layer: any Layer, input x: Tensor, checkInput: Bool = true, context: ForwardContext = ForwardContext(training: false),
                       _ check: Check = Check(), file: StaticString = #filePath, line: UInt = #line) {
        let y = layer.forward(x, context: context)
        var rng = RandomStream(seed: 11, purpose: .data, 5)
        let r = (0..<y.count).map { _ in Float(rng.normal()) }
        let dx = layer.backward(Tensor(unchecked: y.shape, r), needsInputGradient: checkInput)
        let analyticParameters = layer.parameters.map(\.gradient)

        func indices(_ count: Int) -> [Int] {
            count <= check.samples ? Array(0..<count) : (0..<check.samples).map { $0 * count / check.samples }
        }
        func compare(_ fd: Double, _ analytic: Float, _ what: String) {
            XCTAssertLessThanOrEqual(abs(fd - Double(analytic)), check.atol + check.rtol * abs(Double(analytic)),
                                     "\(layer.name) \(what): finite difference \(fd), analytic \(analytic)", file: file, line: line)
        }
        for (p, parameter) in layer.parameters.enumerated() {
            for i in indices(parameter.count) {
                let saved = parameter.value[i]
                parameter.value[i] = saved + check.h
                let plus = objective(layer, x, r, context)
                parameter.value[i] = saved - check.h
                let minus = objective(layer, x, r, context)
                parameter.value[i] = saved
                compare((plus - minus) / (2 * Double(check.h)), analyticParameters[p][i], "\(parameter.name)[\(i)]")
            }
        }
        guard checkInput, let dx else { return }
        var probe = x
        for i in indices(x.count) {
            let saved = probe.scalars[i]
            probe.scalars[i] = saved + check.h
            let plus = objective(layer, probe, r, context)
            probe.scalars[i] = saved - check.h
            let minus = objective(layer, probe, r, context)
            probe.scalars[i] = saved
            compare((plus - minus) / (2 * Double(check.h)), dx.scalars[i], "input[\(i)]")
        }
    }

    func testDenseWithSmoothActivations() throws {
        for act in [ActivationFunction.linear, .sigmoid, .tanh, .softmax] {
            let layer = try built(Dense(5, activation: act), inputShape: [6])
            gradientCheck(layer, input: randomTensor([4, 6], seed: 1))
        }
    }

    func testDenseRelu() throws {
        // Biases of ±1 with small inputs keep every pre-activation far from the kink at 0: units
        // with +1 are active, units with −1 dead (their gradients must be exactly 0).
        let layer = try built(Dense(5, activation: .relu), inputShape: [6])
        layer.bias.value = [1, -1, 1, -1, 1]
        gradientCheck(layer, input: randomTensor([4, 6], seed: 2, scale: 0.1), Check(h: 1e-3))
        XCTAssertEqual(layer.bias.gradient[1], 0)
        XCTAssertEqual(layer.bias.gradient[3], 0)
    }

    func testConv2D() throws {
        let layer = try built(Conv2D(3, kernelSize: (3, 2), activation: .tanh), inputShape: [6, 5, 2])
        gradientCheck(layer, input: randomTensor([2, 6, 5, 2], seed: 3))
    }

    func testMaxPooling2DWithOddSizes() throws {
        let layer = try built(MaxPooling2D(poolSize: (2, 3)), inputShape: [5, 7, 2])
        gradientCheck(layer, input: randomTensor([2, 5, 7, 2], seed: 4), Check(h: 1e-3, samples: 140))
    }

    func testFlattenAndDropout() throws {
        let flatten = try built(Flatten(), inputShape: [3, 4, 2])
        gradientCheck(flatten, input: randomTensor([2, 3, 4, 2], seed: 5))
        // Same (seed, step) → same mask, so the training-mode function is a fixed linear map.
        let dropout = try built(Dropout(0.4), inputShape: [10])
        gradientCheck(dropout, input: randomTensor([3, 10], seed: 6), context: ForwardContext(training: true, seed: 3, step: 9))
    }

    func testEmbeddingWithRepeatedIndices() throws {
        let layer = try built(Embedding(inputDim: 6, outputDim: 3), inputShape: [5])
        let ids = try Tensor(shape: [2, 5], scalars: [1, 4, 4, 0, 4, 2, 2, 5, 1, 1])
        gradientCheck(layer, input: ids, checkInput: false, Check(samples: 18))
        // Row 3 is never used: its gradient is exactly zero.
        XCTAssertEqual(Array(layer.table.gradient[9..<12]), [0, 0, 0])
    }

    func testConv1D() throws {
        let layer = try built(Conv1D(4, kernelSize: 3, activation: .sigmoid), inputShape: [9, 3])
        gradientCheck(layer, input: randomTensor([3, 9, 3], seed: 7), Check(samples: 60))
    }

    func testPooling1D() throws {
        let pool = try built(MaxPooling1D(3), inputShape: [10, 2])
        gradientCheck(pool, input: randomTensor([2, 10, 2], seed: 8), Check(h: 1e-3, samples: 40))
        let global = try built(GlobalMaxPooling1D(), inputShape: [7, 3])
        gradientCheck(global, input: randomTensor([2, 7, 3], seed: 9), Check(h: 1e-3, samples: 42))
    }

    func testLSTMOverSeveralSteps() throws {
        let layer = try built(LSTM(4), inputShape: [6, 3])
        gradientCheck(layer, input: randomTensor([2, 6, 3], seed: 10), Check(samples: 60))
        // 18 units: the SIMD kernel's whole 16-lane block and a ragged one; 5 rows: a group of 4 and of 1.
        let wide = try built(LSTM(18), inputShape: [4, 3])
        gradientCheck(wide, input: randomTensor([5, 4, 3], seed: 6), Check(samples: 50))
    }

    func testActivationLayers() throws {
        for act in [ActivationFunction.linear, .sigmoid, .tanh, .softmax] {
            let layer = try built(Activation(act), inputShape: [5])
            gradientCheck(layer, input: randomTensor([3, 5], seed: 12))
        }
        // relu: inputs kept at least 0.1 away from 0.
        let relu = try built(Activation(.relu), inputShape: [5])
        var x = randomTensor([3, 5], seed: 13)
        for i in x.scalars.indices { x.scalars[i] += x.scalars[i] >= 0 ? 0.1 : -0.1 }
        gradientCheck(relu, input: x, Check(h: 1e-3))
    }

    func testLosses() throws {
        var rng = RandomStream(seed: 21, purpose: .data, 1)
        let probabilities = try Tensor(shape: [4, 3], scalars: (0..<12).map { _ in 0.05 + 0.9 * rng.nextFloat() })
        let oneHot = try Tensor(shape: [4, 3], scalars: [1, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 1])
        let classIds = try Tensor(shape: [4, 1], scalars: [0, 2, 1, 2])
        let bits = try Tensor(shape: [4, 3], scalars: (0..<12).map { _ in Float(rng.nextInt(below: 2)) })
        let real = randomTensor([4, 3], seed: 22)
        let cases: [(Loss, Tensor, Tensor)] = [
            (.meanAbsoluteError, real, randomTensor([4, 3], seed: 23)),
            (.meanSquaredError, real, randomTensor([4, 3], seed: 23)),
            (.binaryCrossentropy, probabilities, bits),
            (.categoricalCrossentropy, probabilities, oneHot),  // rows do not sum to 1: the normalisation is differentiated too
            (.sparseCategoricalCrossentropy, probabilities, classIds),
        ]
        let h: Float = 1e-3
        for (loss, p, t) in cases {
            let g = loss.gradient(predictions: p, targets: t)
            for i in p.scalars.indices {
                var plus = p, minus = p
                plus.scalars[i] += h
                minus.scalars[i] -= h
                let fd = (Double(loss.value(predictions: plus, targets: t)) - Double(loss.value(predictions: minus, targets: t))) / (2 * Double(h))
                XCTAssertEqual(fd, Double(g.scalars[i]), accuracy: 1e-3 + 1e-2 * abs(Double(g.scalars[i])), "\(loss.rawValue)[\(i)]")
            }
        }
    }

    /// The whole model's backward pass against finite differences of the loss itself.
    func testSequentialModelEndToEnd() throws {
        let model = try Sequential(inputShape: [8, 3], layers: [Conv1D(4, kernelSize: 3, activation: .tanh), GlobalMaxPooling1D(),
                                                                 Dense(3, activation: .softmax)], seed: 5)
        let x = randomTensor([4, 8, 3], seed: 30)
        let y = try Tensor(shape: [4, 3], scalars: [1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 0, 0])
        _ = model.lossAndGradients(x: x, y: y, loss: .categoricalCrossentropy, context: ForwardContext(training: true))
        let analytic = model.parameters.map(\.gradient)
        let h: Float = 1e-2
        for (p, parameter) in model.parameters.enumerated() {
            for i in stride(from: 0, to: parameter.count, by: max(1, parameter.count / 15)) {
                let saved = parameter.value[i]
                parameter.value[i] = saved + h
                let plus = Loss.categoricalCrossentropy.value(predictions: model.forward(x), targets: y)
                parameter.value[i] = saved - h
                let minus = Loss.categoricalCrossentropy.value(predictions: model.forward(x), targets: y)
                parameter.value[i] = saved
                let fd = (Double(plus) - Double(minus)) / (2 * Double(h))
                XCTAssertEqual(fd, Double(analytic[p][i]), accuracy: 2e-3 + 2e-2 * abs(Double(analytic[p][i])), "\(parameter.name)[\(i)]")
            }
        }
    }
}

/// The layers a user's own model may add: padding, strides, average pooling, sequences.
extension GradientCheckTests {
    func input(_ shape: [Int], seed: UInt64 = 4) -> Tensor {
        var rng = RandomStream(seed: seed, purpose: .data, 1)
        return Tensor(unchecked: shape, (0..<shape.reduce(1, *)).map { _ in Float(rng.normal()) })
    }

    func build(_ layer: any Layer, _ shape: [Int]) throws -> any Layer {
        _ = try layer.build(inputShape: Array(shape.dropFirst()), context: BuildContext(index: 0, seed: 9))
        return layer
    }

    func testConv2DSamePaddingAndStrides() throws {
        let layer = try build(Conv2D(3, kernelSize: (3, 2), strides: (2, 1), padding: .same, activation: .tanh), [2, 5, 4, 2])
        gradientCheck(layer, input: input([2, 5, 4, 2]))
        let noBias = try build(Conv2D(2, kernelSize: (2, 2), strides: (2, 2), padding: .valid, useBias: false), [2, 5, 5, 1])
        XCTAssertEqual(noBias.parameters.count, 1)
        gradientCheck(noBias, input: input([2, 5, 5, 1]))
    }

    func testConv1DSamePaddingAndStridesRunsAsConv2D() throws {
        let layer = try build(Conv1D(3, kernelSize: 3, strides: 2, padding: .same, activation: .sigmoid), [2, 7, 2])
        XCTAssertEqual(layer.parameters.map(\.shape), [[3, 2, 3], [3]])
        gradientCheck(layer, input: input([2, 7, 2]))
    }

    func testPoolingWithPaddingAndStrides() throws {
        gradientCheck(try build(AveragePooling2D(poolSize: (2, 2), padding: .same), [2, 5, 3, 2]), input: input([2, 5, 3, 2]), Check(h: 1e-3))
        gradientCheck(try build(AveragePooling1D(3, strides: 2), [2, 7, 2]), input: input([2, 7, 2]), Check(h: 1e-3))
        gradientCheck(try build(MaxPooling2D(poolSize: (3, 3), strides: (2, 2), padding: .same), [1, 5, 5, 2]), input: input([1, 5, 5, 2]), Check(h: 1e-3))
        gradientCheck(try build(MaxPooling1D(2, strides: 1, padding: .same), [2, 5, 3]), input: input([2, 5, 3]), Check(h: 1e-3))
        gradientCheck(try build(GlobalAveragePooling(rank: 2), [2, 3, 3, 2]), input: input([2, 3, 3, 2]), Check(h: 1e-3))
        gradientCheck(try build(GlobalAveragePooling(rank: 1), [2, 4, 3]), input: input([2, 4, 3]), Check(h: 1e-3))
    }

    /// Same padding gives ceil(n / stride) positions, the smaller half of the padding first;
    /// padding never wins a max and is not counted in an average (TensorFlow's rule).
    func testSamePaddingValues() throws {
        let avg = try build(AveragePooling2D(poolSize: (2, 2), padding: .same), [1, 3, 3, 1])
        let x = Tensor(unchecked: [1, 3, 3, 1], [1, 2, 3, 4, 5, 6, 7, 8, 9])
        XCTAssertEqual(avg.forward(x, context: ForwardContext(training: false)).scalars, [3, 4.5, 7.5, 9])
        let max = try build(MaxPooling2D(poolSize: (2, 2), padding: .same), [1, 3, 3, 1])
        let negative = Tensor(unchecked: [1, 3, 3, 1], [-1, -2, -3, -4, -5, -6, -7, -8, -9])
        XCTAssertEqual(max.forward(negative, context: ForwardContext(training: false)).scalars, [-1, -3, -7, -9])
        XCTAssertEqual(Padding.same.outputLength(input: 7, size: 3, stride: 2), 4)
        XCTAssertEqual(Padding.same.before(input: 7, size: 3, stride: 2), 1)
        XCTAssertEqual(Padding.same.before(input: 6, size: 3, stride: 2), 0)
    }

    func testLSTMReturnSequences() throws {
        let layer = try build(LSTM(5, returnSequences: true), [3, 4, 2])
        gradientCheck(layer, input: input([3, 4, 2]))
        // The last step of the sequence is what return_sequences=False returns.
        let last = try build(LSTM(5), [3, 4, 2])
        for (a, b) in zip(last.parameters, layer.parameters) { a.value = b.value }
        let x = input([3, 4, 2])
        let sequence = layer.forward(x, context: ForwardContext(training: false)).scalars
        let final = last.forward(x, context: ForwardContext(training: false)).scalars
        for b in 0..<3 { XCTAssertEqual(Array(sequence[(b * 4 + 3) * 5..<(b * 4 + 4) * 5]), Array(final[b * 5..<(b + 1) * 5])) }
    }
}
