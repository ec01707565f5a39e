import Basics
import Foundation

/// The files a Keras user already has: a model's JSON (`model.to_json()`), a `.keras` file
/// (whose `config.json` is that JSON with the `compile()` settings, and `model.weights.h5` its
/// weights), and weights saved with `np.savez(path, *model.get_weights())`.
public enum KerasFiles {
    /// The model's configuration from a `.json` or `.keras` file.
    public static func modelConfiguration(_ path: String) throws -> ConfigValue {
        let name = (path as NSString).lastPathComponent
        let text: String
        if path.lowercased().hasSuffix(".keras") {
            let members = try Zip.members(try readRaw(path), name: name, wanted: { $0 == "config.json" })
            guard let config = members.first?.1 else { throw DataError(name, "is a zip without config.json: not a Keras 3 .keras file") }
            text = String(decoding: config, as: UTF8.self)
        } else if path.lowercased().hasSuffix(".h5") || path.lowercased().hasSuffix(".hdf5") {
            throw DataError(name, "is an HDF5 model (Keras 2's format); write its JSON with model.to_json(), or save it as .keras")
        } else {
            text = try readText(path)
        }
        do { return try ConfigValue.parse(text) } catch { throw DataError(name, "is not valid JSON (\(error))") }
    }

    /// Arrays in `model.get_weights()` order, as Float32: from an `np.savez(path, *weights)`
    /// archive (`arr_0`, `arr_1`, …), or from a `.keras` file's `model.weights.h5` (Keras 3 keeps a
    /// layer's weights under `layers/NAME/…/vars/0, 1, …`; `layers` gives those names in the model's order).
    public static func weights(_ path: String, layers: [String] = []) throws -> [(shape: [Int], values: [Float])] {
        let name = (path as NSString).lastPathComponent
        let lower = path.lowercased()
        if lower.hasSuffix(".keras") {
            let members = try Zip.members(try readRaw(path), name: name, wanted: { $0 == "model.weights.h5" })
            guard let weights = members.first?.1 else { throw DataError(name, "has no model.weights.h5: not a Keras 3 .keras file") }
            let file = try HDF5File(bytes: weights, name: "\(name):model.weights.h5")
            func order(_ a: String, _ b: String) -> Bool {
                // vars/2 before vars/10: numbers compare as numbers.
                for (x, y) in zip(a.split(separator: "/"), b.split(separator: "/")) where x != y {
                    if let i = Int(x), let j = Int(y) { return i < j }
                    return x < y
                }
                return a.split(separator: "/").count < b.split(separator: "/").count
            }
            return try layers.flatMap { layer in
                try file.datasets.keys.filter { $0.hasPrefix("layers/\(layer)/") }.sorted(by: order).map { try file.dataset($0) }
            }
        }
        if lower.hasSuffix(".h5") || lower.hasSuffix(".hdf5") {
            throw DataError(name, "is a Keras 2 HDF5 weights file; save the weights with np.savez(\"weights.npz\", *model.get_weights()) or the model as .keras")
        }
        guard lower.hasSuffix(".npz") else {
            throw DataError(name, "is not an .npz archive; save the weights with np.savez(\"weights.npz\", *model.get_weights())")
        }
        let archive = try NumPyArchive(path: path)
        let count = archive.arrays.count
        let expected = (0..<count).map { "arr_\($0)" }
        guard Set(archive.arrays.keys) == Set(expected) else {
            throw DataError(name, "holds arrays \(archive.arrays.keys.sorted().joined(separator: ", ")); optilog reads positional ones "
                            + "(arr_0, arr_1, …) as np.savez(path, *model.get_weights()) writes them")
        }
        return try expected.map { key in (try archive.array(key, in: name).shape, try archive.finiteFloats(key, in: name)) }
    }
}
