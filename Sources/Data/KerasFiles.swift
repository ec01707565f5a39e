import Basics
import Foundation

/// The files a Keras user already has: a model's JSON (`model.to_json()`), a `.keras` file
/// (whose `config.json` is that JSON with the `compile()` settings), and weights saved with
/// `np.savez(path, *model.get_weights())`.
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

    /// Arrays in `model.get_weights()` order from an `np.savez(path, *weights)` archive
    /// (`arr_0`, `arr_1`, …), as Float32.
    public static func weights(_ path: String) throws -> [(shape: [Int], values: [Float])] {
        let name = (path as NSString).lastPathComponent
        let lower = path.lowercased()
        if lower.hasSuffix(".keras") || lower.hasSuffix(".h5") || lower.hasSuffix(".hdf5") {
            throw DataError(name, "holds its weights in HDF5, which optilog does not read; save them with np.savez(\"weights.npz\", *model.get_weights())")
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
