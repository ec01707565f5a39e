/// The four tasks of the Keras optimizer study: each a data set, a network (sized from the input
/// shape), a loss and a metric.
public enum StudyTask: String, CaseIterable, Sendable {
    /// Boston housing: Dense(64, relu) → Dense(64, relu) → Dense(1), MAE.
    case boston
    /// Fashion-MNIST: Conv2D(32,3) → MaxPool → Conv2D(64,3) → MaxPool → Flatten → Dense(128) → Dense(10, softmax).
    case fashionMNIST = "fashion_mnist"
    /// IMDB: Embedding(vocab, 128) → Conv1D(32,7) → MaxPool1D(5) → Conv1D(32,7) → GlobalMaxPool1D → Dense(1, sigmoid).
    case imdb
    /// Jena climate: LSTM(32) → Dense(1), MAE.
    case jena

    /// The canonical per-sample input shape of the study.
    public var canonicalInputShape: [Int] {
        switch self {
        case .boston: return [13]
        case .fashionMNIST: return [28, 28, 1]
        case .imdb: return [500]
        case .jena: return [120, 14]
        }
    }

    public var loss: Loss {
        switch self {
        case .boston, .jena: return .meanAbsoluteError
        case .fashionMNIST: return .categoricalCrossentropy
        case .imdb: return .binaryCrossentropy
        }
    }

    public var metric: Metric {
        switch self {
        case .boston, .jena: return .meanAbsoluteError
        case .fashionMNIST: return .accuracy
        case .imdb: return .binaryAccuracy
        }
    }

    /// Forward multiply-adds per sample, for GFLOP/s reports (counted from the layer shapes).
    public func forwardMACs(inputShape: [Int]? = nil, classes: Int = 10, vocabulary: Int = 10_000) throws -> Int {
        try build(inputShape: inputShape, classes: classes, vocabulary: vocabulary, seed: 0).forwardMACs()
    }

    /// A freshly initialised model; weights depend only on `seed`.
    public func build(inputShape: [Int]? = nil, classes: Int = 10, vocabulary: Int = 10_000, seed: UInt64) throws -> Sequential {
        let shape = inputShape ?? canonicalInputShape
        let layers: [any Layer]
        switch self {
        case .boston:
            layers = [Dense(64, activation: .relu), Dense(64, activation: .relu), Dense(1)]
        case .fashionMNIST:
            layers = [Conv2D(32, kernelSize: 3, activation: .relu), MaxPooling2D(2),
                      Conv2D(64, kernelSize: 3, activation: .relu), MaxPooling2D(2), Flatten(),
                      Dense(128, activation: .relu), Dense(classes, activation: .softmax)]
        case .imdb:
            layers = [Embedding(inputDim: vocabulary, outputDim: 128),
                      Conv1D(32, kernelSize: 7, activation: .relu), MaxPooling1D(5),
                      Conv1D(32, kernelSize: 7, activation: .relu), GlobalMaxPooling1D(),
                      Dense(1, activation: .sigmoid)]
        case .jena:
            layers = [LSTM(32), Dense(1)]
        }
        return try Sequential(inputShape: shape, layers: layers, seed: seed)
    }
}
