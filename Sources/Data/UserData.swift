import Engine
import Foundation

/// A user's own data for their own model: a NumPy `.npz` (`x_train`, `y_train`, and `x_val` /
/// `y_val` or `x_test` / `y_test`) or a CSV file (numeric columns, one of them the target).
/// Inputs are checked against the model's input shape, targets against its output and loss;
/// non-finite values are refused, as Keras would fail on them only later and less clearly.
public enum UserData {
    public struct Request: Sendable {
        public var path: String
        /// CSV: the column to predict (the other columns are the features).
        public var target: String?
        /// Keras's `validation_split`: the last fraction of the training arrays, before any shuffling.
        public var validationSplit: Double?
        public init(path: String, target: String? = nil, validationSplit: Double? = nil) {
            (self.path, self.target, self.validationSplit) = (path, target, validationSplit)
        }
    }

    /// What the model expects of the data.
    public struct Expectation: Sendable {
        public var inputShape: [Int]
        /// The inputs are ids below this (an Embedding's input_dim), or nil for numbers.
        public var vocabulary: Int?
        public var outputShape: [Int]
        public var loss: Loss
        public init(inputShape: [Int], vocabulary: Int?, outputShape: [Int], loss: Loss) {
            (self.inputShape, self.vocabulary, self.outputShape, self.loss) = (inputShape, vocabulary, outputShape, loss)
        }
    }

    /// The splits, what they are (for the log's `dataset` column) and notes for the user.
    public static func load(_ request: Request, expecting model: Expectation) throws -> (splits: DataSplits, description: String, notes: [String]) {
        let path = request.path
        let name = (path as NSString).lastPathComponent
        if let split = request.validationSplit, !(split > 0 && split < 1) {
            throw DataError(name, "--validation-split must be between 0 and 1, not \(split)")
        }
        var arrays: [(x: (shape: [Int], values: [Float]), y: (shape: [Int], values: [Float]))] = []
        var notes: [String] = []
        if path.lowercased().hasSuffix(".csv") || path.lowercased().hasSuffix(".csv.gz") {
            guard let target = request.target else { throw DataError(name, "a CSV file needs --target COLUMN (the column to predict)") }
            guard request.validationSplit != nil else { throw DataError(name, "a CSV file holds one table: give --validation-split (e.g. 0.2)") }
            arrays.append(try csv(path, name: name, target: target))
        } else if path.lowercased().hasSuffix(".npz") {
            if request.target != nil { throw DataError(name, "--target is for CSV files; an .npz names its arrays x_train, y_train, …") }
            let archive = try NumPyArchive(path: path)
            func pair(_ x: String, _ y: String) throws -> (x: (shape: [Int], values: [Float]), y: (shape: [Int], values: [Float])) {
                let xa = try archive.array(x, in: name), ya = try archive.array(y, in: name)
                return ((xa.shape, try archive.finiteFloats(x, in: name)), (ya.shape, try archive.finiteFloats(y, in: name)))
            }
            arrays.append(try pair("x_train", "y_train"))
            let validation = archive.arrays["x_val"] != nil ? ("x_val", "y_val") : archive.arrays["x_test"] != nil ? ("x_test", "y_test") : nil
            if let validation, request.validationSplit == nil {
                arrays.append(try pair(validation.0, validation.1))
            } else if let validation {
                notes.append("\(name): --validation-split takes the validation data from x_train; \(validation.0) is not used")
            } else if request.validationSplit == nil {
                throw DataError(name, "has no x_val/y_val or x_test/y_test: add them, or give --validation-split (e.g. 0.2)")
            }
        } else {
            throw DataError(name, "is neither .npz nor .csv (optilog reads np.savez archives and CSV tables)")
        }
        let train = try dataset("train", arrays[0], model: model, file: name)
        let validation: Dataset
        var trainSet = train
        if let split = request.validationSplit {
            // Keras: the first floor(n · (1 − split)) samples train, the rest validate.
            let cut = Int((Double(train.count) * (1 - split)).rounded(.down))
            guard cut > 0, cut < train.count else {
                throw DataError(name, "--validation-split \(split) of \(train.count) samples leaves one side empty")
            }
            trainSet = try Dataset(name: "\(name) train", x: train.x.gatherRows(0..<cut), y: train.y.gatherRows(0..<cut))
            validation = try Dataset(name: "\(name) validation", x: train.x.gatherRows(cut..<train.count), y: train.y.gatherRows(cut..<train.count))
        } else {
            validation = try dataset("validation", arrays[1], model: model, file: name)
        }
        let description = "\(name): \(trainSet.count) train, \(validation.count) validation"
            + (request.validationSplit.map { " (validation_split \($0))" } ?? "")
        return (DataSplits(train: trainSet, validation: validation), description, notes)
    }

    /// Numeric columns; the target's column is y, the others x in file order.
    static func csv(_ path: String, name: String, target: String) throws -> (x: (shape: [Int], values: [Float]), y: (shape: [Int], values: [Float])) {
        var text = ""
        if path.hasSuffix(".gz") {
            text = String(decoding: try Inflate.gunzip(try readRaw(path), name: name), as: UTF8.self)
        } else {
            text = try readText(path)
        }
        let table = try CSVTable(text: text, name: name)
        guard let column = table.header.firstIndex(of: target) else {
            throw DataError(name, "has no column '\(target)' (it has \(table.header.joined(separator: ", ")))")
        }
        guard table.header.filter({ $0 == target }).count == 1 else { throw DataError(name, "has several columns named '\(target)'") }
        guard table.header.count > 1 else { throw DataError(name, "has no feature columns besides '\(target)'") }
        guard !table.rows.isEmpty else { throw DataError(name, "has a header but no rows") }
        var x: [Float] = [], y: [Float] = []
        x.reserveCapacity(table.rows.count * (table.header.count - 1))
        for (r, row) in table.rows.enumerated() {
            for (c, field) in row.enumerated() {
                let trimmed = field.trimmingCharacters(in: .whitespaces)
                guard let v = Float(trimmed), v.isFinite else {
                    throw DataError(name, "line \(r + 2), column '\(table.header[c])': \"\(trimmed)\" is not a finite number")
                }
                if c == column { y.append(v) } else { x.append(v) }
            }
        }
        return (([table.rows.count, table.header.count - 1], x), ([table.rows.count], y))
    }

    /// One split as the model will read it: x's shape checked, y shaped as the loss reads it.
    static func dataset(_ split: String, _ pair: (x: (shape: [Int], values: [Float]), y: (shape: [Int], values: [Float])),
                        model: Expectation, file: String) throws -> Dataset {
        let (xShape, yShape) = (pair.x.shape, pair.y.shape)
        guard let n = xShape.first, n > 0 else { throw DataError(file, "\(split): x has no samples") }
        guard yShape.first == n else { throw DataError(file, "\(split): \(n) inputs but \(yShape.first ?? 0) targets") }
        var sample = Array(xShape.dropFirst())
        // Keras adds the trailing channel axis of a (28, 28) image for an input of (28, 28, 1) only
        // when told; so does optilog: the shapes must agree, except for that one axis of size 1.
        if sample != model.inputShape, sample + [1] == model.inputShape { sample = model.inputShape }
        guard sample == model.inputShape else {
            throw DataError(file, "\(split): x has samples of shape \(xShape.dropFirst().map { $0 }), the model's input is \(model.inputShape)")
        }
        if let vocabulary = model.vocabulary {
            if let i = pair.x.values.firstIndex(where: { $0 != $0.rounded() || $0 < 0 || $0 >= Float(vocabulary) }) {
                throw DataError(file, "\(split): the model's Embedding reads ids in 0..<\(vocabulary), but x holds \(pair.x.values[i]) at flat index \(i)")
            }
        }
        let x = try Tensor(shape: [n] + model.inputShape, scalars: pair.x.values)
        let out = model.outputShape
        var ySample = Array(yShape.dropFirst())
        switch model.loss {
        case .sparseCategoricalCrossentropy:
            guard ySample == [] || ySample == [1] else {
                throw DataError(file, "\(split): sparse_categorical_crossentropy reads one class id per sample, y has shape \(yShape)")
            }
            let classes = out.last ?? 1
            if let i = pair.y.values.firstIndex(where: { !($0 >= 0 && $0 < Float(classes)) || $0 != $0.rounded() }) {
                throw DataError(file, "\(split): y holds \(pair.y.values[i]) at index \(i), not a class id in 0..<\(classes)")
            }
            return try Dataset(name: "\(file) \(split)", x: x, y: try Tensor(shape: [n], scalars: pair.y.values))
        default:
            if ySample == [] && out == [1] { ySample = [1] }
            guard ySample == out else {
                let hint = model.loss == .categoricalCrossentropy && (ySample == [] || ySample == [1])
                    ? " (class ids: use sparse_categorical_crossentropy, or one-hot targets)" : ""
                throw DataError(file, "\(split): y has samples of shape \(ySample), the model's output is \(out)\(hint)")
            }
            if model.loss == .binaryCrossentropy || model.loss == .categoricalCrossentropy,
               let i = pair.y.values.firstIndex(where: { $0 < 0 || $0 > 1 }) {
                throw DataError(file, "\(split): \(model.loss.rawValue) reads targets in [0, 1], y holds \(pair.y.values[i]) at index \(i)")
            }
            return try Dataset(name: "\(file) \(split)", x: x, y: try Tensor(shape: [n] + out, scalars: pair.y.values))
        }
    }
}
