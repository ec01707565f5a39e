/// Keras `AveragePooling1D`: [batch, steps, c] → [batch, out, c], an AveragePooling2D of
/// height 1 (the same values in the same order).
public final class AveragePooling1D: Layer {
    public let kind = "AveragePooling1D"
    public var name = "average_pooling1d"
    public var parameters: [Parameter] { [] }
    private let pooling: AveragePooling2D
    private var steps = 0, channels = 0, outSteps = 0

    public init(_ poolSize: Int = 2, strides: Int? = nil, padding: Padding = .valid) {
        pooling = AveragePooling2D(poolSize: (1, poolSize), strides: (1, strides ?? poolSize), padding: padding)
    }

    public func build(inputShape: [Int], context: BuildContext) throws -> [Int] {
        guard inputShape.count == 2 else { throw EngineError.shapeMismatch("\(name) expects [steps, channels], got \(inputShape)") }
        pooling.name = name
        (steps, channels) = (inputShape[0], inputShape[1])
        outSteps = try pooling.build(inputShape: [1, steps, channels], context: context)[1]
        return [outSteps, channels]
    }

    public func forward(_ x: Tensor, context: ForwardContext) -> Tensor {
        let y = pooling.forward(Tensor(unchecked: [x.batch, 1, steps, channels], x.scalars), context: context)
        return Tensor(unchecked: [x.batch, outSteps, channels], y.scalars)
    }

    public func backward(_ dy: Tensor, needsInputGradient: Bool) -> Tensor? {
        pooling.backward(Tensor(unchecked: [dy.batch, 1, outSteps, channels], dy.scalars), needsInputGradient: needsInputGradient)
            .map { Tensor(unchecked: [dy.batch, steps, channels], $0.scalars) }
    }
}
