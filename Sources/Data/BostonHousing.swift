import Engine
import Foundation

/// Boston housing: 13 features, the median value in $1000s as target; split as Keras's
/// `boston_housing.load_data()` splits it (shuffled by NumPy's `RandomState(113)`, the first 80%
/// for training), then each feature normalised with the training rows' mean and standard
/// deviation (as Deep Learning with Python does before this model). Reads Keras's
/// `boston_housing.npz` (arrays `x` [506, 13], `y` [506]) or the classic CSV (scikit-learn's
/// layout, with or without its leading "506,13" line).
public enum BostonHousing {
    public static let features = ["CRIM", "ZN", "INDUS", "CHAS", "NOX", "RM", "AGE", "DIS", "RAD", "TAX", "PTRATIO", "B", "LSTAT"]

    public static func load(path: String, testSplit: Double = 0.2, seed: UInt32 = 113, normalize: Bool = true) throws -> (train: Dataset, test: Dataset) {
        let (x, y) = path.hasSuffix(".npz") ? try readNpz(path) : try readCSV(path)
        var (train, test) = try split(x: x, y: y, testSplit: testSplit, seed: seed, name: path)
        if normalize {
            for f in 0..<13 {
                let column = (0..<train.count).map { Double(train.x.scalars[$0 * 13 + f]) }
                let mean = column.reduce(0, +) / Double(column.count)
                let std = (column.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(column.count)).squareRoot()
                guard std > 0 else { throw DataError(path, "feature \(features[f]) is constant over the training rows") }
                for r in 0..<train.count { train.x.scalars[r * 13 + f] = Float((Double(train.x.scalars[r * 13 + f]) - mean) / std) }
                for r in 0..<test.count { test.x.scalars[r * 13 + f] = Float((Double(test.x.scalars[r * 13 + f]) - mean) / std) }
            }
        }
        return (train, test)
    }

    static func readNpz(_ path: String) throws -> ([Float], [Float]) {
        let archive = try NumPyArchive(path: path)
        let x = try archive.array("x", in: path), y = try archive.array("y", in: path)
        guard x.shape.count == 2, x.shape[1] == 13, y.shape == [x.shape[0]] else {
            throw DataError(path, "x \(x.shape) and y \(y.shape) are not [n, 13] and [n]")
        }
        return (try archive.finiteFloats("x", in: path), try archive.finiteFloats("y", in: path))
    }

    static func readCSV(_ path: String) throws -> ([Float], [Float]) {
        var lines = try readText(path).split(whereSeparator: \.isNewline)
        // scikit-learn's file starts with "506,13" (samples, features) before the header.
        if let first = lines.first, first.split(separator: ",").filter({ !$0.isEmpty }).allSatisfy({ Int($0) != nil }) { lines.removeFirst() }
        let table = try CSVTable(text: lines.joined(separator: "\n"), name: path)
        guard table.header.count == 14, Array(table.header.prefix(13)) == features, table.header[13] == "MEDV" else {
            throw DataError(path, "columns \(table.header.joined(separator: ",")) are not Boston housing's 13 features and MEDV")
        }
        guard !table.rows.isEmpty else { throw DataError(path, "has no rows") }
        let columns = try (0..<14).map { try table.numbers(column: $0, name: path) }
        let n = table.rows.count
        return ((0..<n).flatMap { r in (0..<13).map { columns[$0][r] } }, columns[13])
    }

    static func split(x: [Float], y: [Float], testSplit: Double, seed: UInt32, name: String) throws -> (train: Dataset, test: Dataset) {
        let n = y.count
        var order = Array(0..<n)
        var rng = NumPyRandomState(seed: seed)
        rng.shuffle(&order)
        let cut = Int(Double(n) * (1 - testSplit))
        guard cut > 0, cut < n else { throw DataError(name, "has \(n) rows, too few to split 80/20 into training and test rows") }
        func take(_ rows: ArraySlice<Int>, _ label: String) throws -> Dataset {
            try Dataset(name: "boston_\(label)", x: Tensor(shape: [rows.count, 13], scalars: rows.flatMap { x[($0 * 13)..<($0 * 13 + 13)] }),
                        y: Tensor(shape: [rows.count, 1], scalars: rows.map { y[$0] }))
        }
        return (try take(order[0..<cut], "train"), try take(order[cut...], "test"))
    }
}
