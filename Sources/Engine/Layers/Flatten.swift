/// Keras `Flatten`: [batch, ...] → [batch, product(...)]; row-major, so no data moves.
public final class Flatten: Layer {
    public let kind = "Flatten"
    public var name = "flatten"
    public var parameters: [Parameter] { [] }
    private var inputShape: [Int] = []

    public init() {}

    public func build(inputShape: [Int], context: BuildContext) throws -> [Int] {
        self.inputShape = inputShape
        return [inputShape.reduce(1, *)]
    }

    public func forward(_ x: Tensor, context: ForwardContext) -> Tensor {
        Tensor(unchecked: [x.batch, x.itemCount], x.scalars)
    }

    public func backward(_ dy: Tensor, needsInputGradient: Bool) -> Tensor? {
        needsInputGradient ? Tensor(unchecked: [dy.batch] + inputShape, dy.scalars) : nil
    }
}
