/// A trainable variable and the gradient of the last backward pass.
///
/// A class so that the model, the optimizer and checkpointing all see the same storage; the
/// optimizer updates `value` in place. `gradient` is overwritten (never accumulated) by each
/// backward pass.
public final class Parameter {
    /// Keras-style path, e.g. `dense_1/kernel`.
    public let name: String
    public let shape: [Int]
    public var value: [Float]
    public var gradient: [Float]

    init(name: String, shape: [Int], value: [Float]) {
        precondition(shape.reduce(1, *) == value.count, "\(name): shape \(shape) vs \(value.count) values")
        self.name = name
        self.shape = shape
        self.value = value
        self.gradient = [Float](repeating: 0, count: value.count)
    }

    public var count: Int { value.count }
}
