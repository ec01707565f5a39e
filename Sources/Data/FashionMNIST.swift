import Engine

/// Fashion-MNIST from its IDX files (gzip'd or not, any number of images): images scaled to
/// [0, 1] as Float32 [n, 28, 28, 1], labels one-hot [n, 10], as the study feeds Keras.
public enum FashionMNIST {
    /// Keras's cache names (`~/.keras/datasets/fashion-mnist/`).
    public static let files = (trainImages: "train-images-idx3-ubyte.gz", trainLabels: "train-labels-idx1-ubyte.gz",
                               testImages: "t10k-images-idx3-ubyte.gz", testLabels: "t10k-labels-idx1-ubyte.gz")

    public static func load(images: String, labels: String, name: String) throws -> Dataset {
        let x = try IDXArray(path: images), y = try IDXArray(path: labels)
        guard x.shape.count == 3, x.shape[1] == 28, x.shape[2] == 28 else {
            throw DataError(images, "holds \(x.shape) values, not 28×28 images")
        }
        guard y.shape.count == 1 else { throw DataError(labels, "holds \(y.shape) values, not a list of labels") }
        guard x.shape[0] == y.shape[0] else {
            throw DataError(labels, "has \(y.shape[0]) labels for the \(x.shape[0]) images of \(images)")
        }
        let n = x.shape[0]
        var oneHot = [Float](repeating: 0, count: n * 10)
        for (i, label) in y.bytes.enumerated() {
            guard label < 10 else { throw DataError(labels, "label \(label) at position \(i) is not a class 0–9") }
            oneHot[i * 10 + Int(label)] = 1
        }
        return try Dataset(name: name, x: Tensor(shape: [n, 28, 28, 1], scalars: x.bytes.map { Float($0) / 255 }),
                           y: Tensor(shape: [n, 10], scalars: oneHot))
    }
}
