/// Keras `Dropout`: in training, zero each value with probability `rate` and scale survivors by
/// 1/(1 − rate); the identity at inference. The mask is drawn from (seed, layer, global step),
/// so a resumed run draws exactly the masks it would have drawn.
public final class Dropout: Layer {
    public let kind = "Dropout"
    public var name = "dropout"
    public let rate: Float
    public var parameters: [Parameter] { [] }
    private var layerIndex = 0
    /// 0 or 1/(1−rate) per value; empty when the last forward pass did not drop.
    private var mask: [Float] = []

    public init(_ rate: Float) { self.rate = rate }

    public func build(inputShape: [Int], context: BuildContext) throws -> [Int] {
        guard rate >= 0, rate < 1 else { throw EngineError.invalidConfiguration("\(name): rate must be in [0, 1), got \(rate)") }
        layerIndex = context.index
        return inputShape
    }

    public func forward(_ x: Tensor, context: ForwardContext) -> Tensor {
        guard context.training, rate > 0 else { mask = []; return x }
        var rng = RandomStream(seed: context.seed, purpose: .dropout, UInt64(layerIndex), context.step)
        let scale = 1 / (1 - rate)
        mask = (0..<x.count).map { _ in rng.nextFloat() >= rate ? scale : 0 }
        var y = x
        for i in y.scalars.indices { y.scalars[i] *= mask[i] }
        return y
    }

    public func backward(_ dy: Tensor, needsInputGradient: Bool) -> Tensor? {
        guard needsInputGradient else { return nil }
        guard !mask.isEmpty else { return dy }
        var dx = dy
        for i in dx.scalars.indices { dx.scalars[i] *= mask[i] }
        return dx
    }
}
