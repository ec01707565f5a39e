/// Keras `Activation`: an activation on its own, over the last axis for softmax.
public final class Activation: Layer {
    public let kind = "Activation"
    public var name = "activation"
    public let function: ActivationFunction
    public var parameters: [Parameter] { [] }
    private var rowLength = 1
    private var output = Tensor(zeros: [0])

    public init(_ function: ActivationFunction) { self.function = function }

    public func build(inputShape: [Int], context: BuildContext) throws -> [Int] {
        rowLength = inputShape.last ?? 1
        return inputShape
    }

    public func forward(_ x: Tensor, context: ForwardContext) -> Tensor {
        var y = x
        function.apply(&y.scalars, rowLength: rowLength)
        output = y
        return y
    }

    public func backward(_ dy: Tensor, needsInputGradient: Bool) -> Tensor? {
        guard needsInputGradient else { return nil }
        var dx = dy
        function.backward(output: output.scalars, gradient: &dx.scalars, rowLength: rowLength)
        return dx
    }
}
