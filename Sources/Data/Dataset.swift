import Engine

/// Inputs and targets of one split, row i of `x` going with row i of `y`.
public struct Dataset: Sendable {
    public var name: String
    public var x: Tensor
    public var y: Tensor

    public init(name: String, x: Tensor, y: Tensor) throws {
        guard x.batch == y.batch else {
            throw EngineError.shapeMismatch("\(name): \(x.batch) inputs but \(y.batch) targets")
        }
        self.name = name
        self.x = x
        self.y = y
    }

    public var count: Int { x.batch }
    public var inputShape: [Int] { Array(x.shape.dropFirst()) }
}

/// A training split and the split that validates it.
public struct DataSplits: Sendable {
    public var train: any SampleSource
    public var validation: any SampleSource

    public init(train: any SampleSource, validation: any SampleSource) {
        self.train = train
        self.validation = validation
    }
}
