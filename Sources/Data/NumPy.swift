import Foundation

/// A NumPy `.npy` array: its shape and its values, read from any of the numeric dtypes, or
/// an object array of integer sequences (Keras's ragged IMDB data), read by a restricted
/// unpickler that refuses anything but NumPy array data.
public struct NumPyArray: Sendable {
    public enum Kind: Sendable { case float, signed, unsigned, bool, object }

    public let shape: [Int]
    public let kind: Kind
    public let itemSize: Int
    public let littleEndian: Bool
    let raw: [UInt8]
    /// The sequences of an object array; nil for numeric arrays.
    public let sequences: [[Int]]?

    public var count: Int { shape.reduce(1, *) }

    public init(npy bytes: [UInt8], name: String) throws {
        let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else { throw DataError(name, "not a .npy array (bad magic)") }
        let major = bytes[6]
        let (headerLength, start): (Int, Int)
        switch major {
        case 1: (headerLength, start) = (Int(bytes[8]) | Int(bytes[9]) << 8, 10)
        case 2, 3:
            guard bytes.count >= 12 else { throw DataError(name, ".npy header is truncated") }
            (headerLength, start) = (Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24, 12)
        default: throw DataError(name, ".npy format version \(major) is not supported")
        }
        guard headerLength <= bytes.count - start else { throw DataError(name, ".npy header is truncated") }
        let header = String(decoding: bytes[start..<(start + headerLength)], as: UTF8.self)
        guard let descr = Self.field("descr", in: header, quoted: true), let order = Self.field("fortran_order", in: header, quoted: false),
              let shapeText = Self.tuple("shape", in: header) else {
            throw DataError(name, ".npy header is malformed: \(header.prefix(80))")
        }
        guard order == "False" else { throw DataError(name, "Fortran-ordered arrays are not supported") }
        var shape: [Int] = []
        for part in shapeText.split(separator: ",") {
            let t = part.trimmingCharacters(in: .whitespaces)
            if t.isEmpty { continue }
            guard let n = Int(t), n >= 0 else { throw DataError(name, "invalid shape (\(shapeText))") }
            shape.append(n)
        }
        let body = Array(bytes[(start + headerLength)...])
        if descr == "|O" || descr == "O" {
            let sequences = try Pickle.sequences(body, name: name)
            guard shape == [sequences.count] else { throw DataError(name, "header shape \(shape) disagrees with \(sequences.count) pickled sequences") }
            self.init(shape: shape, kind: .object, itemSize: 0, littleEndian: true, raw: [], sequences: sequences)
            return
        }
        try self.init(descr: descr, shape: shape, raw: body, name: name)
    }

    private init(shape: [Int], kind: Kind, itemSize: Int, littleEndian: Bool, raw: [UInt8], sequences: [[Int]]?) {
        (self.shape, self.kind, self.itemSize, self.littleEndian, self.raw, self.sequences) = (shape, kind, itemSize, littleEndian, raw, sequences)
    }

    /// A numeric array from its dtype string, shape and raw bytes (from a .npy file or a pickle).
    init(descr: String, shape: [Int], raw: [UInt8], name: String) throws {
        guard descr.count >= 3 else { throw DataError(name, "unknown dtype \(descr)") }
        let endian = descr.first!, code = descr[descr.index(after: descr.startIndex)]
        let kind: Kind
        guard let size = Int(descr.dropFirst(2)), [1, 2, 4, 8].contains(size) else {
            throw DataError(name, "unknown dtype \(descr)")
        }
        switch code {
        case "f" where size == 4 || size == 8: kind = .float
        case "i": kind = .signed
        case "u": kind = .unsigned
        case "b" where size == 1: kind = .bool
        default:
            throw DataError(name, "dtype \(descr) is not supported")
        }
        guard endian == "<" || endian == "|" || endian == ">" || endian == "=" else { throw DataError(name, "unknown byte order in \(descr)") }
        let count = shape.reduce(1) { $0.multipliedReportingOverflow(by: $1).overflow ? Int.max : $0 * $1 }
        guard count < Int.max / size, raw.count == count * size else {
            throw DataError(name, "shape \(shape) of \(descr) needs \(count.multipliedReportingOverflow(by: size).partialValue) bytes, \(raw.count) present")
        }
        self.init(shape: shape, kind: kind, itemSize: size, littleEndian: endian != ">", raw: raw, sequences: nil)
    }

    private static func field(_ key: String, in header: String, quoted: Bool) -> String? {
        guard let r = header.range(of: "'\(key)':") else { return nil }
        let rest = header[r.upperBound...].drop { $0 == " " }
        if quoted {
            guard let q = rest.first, q == "'" || q == "\"" else { return nil }
            let body = rest.dropFirst()
            guard let end = body.firstIndex(of: q) else { return nil }
            return String(body[..<end])
        }
        return String(rest.prefix { $0.isLetter })
    }

    private static func tuple(_ key: String, in header: String) -> String? {
        guard let r = header.range(of: "'\(key)':"), let open = header[r.upperBound...].firstIndex(of: "("),
              let close = header[open...].firstIndex(of: ")") else { return nil }
        return String(header[header.index(after: open)..<close])
    }

    @inline(__always)
    private func word(_ i: Int) -> UInt64 {
        var v: UInt64 = 0
        let base = i * itemSize
        for b in 0..<itemSize {
            let byte = UInt64(raw[base + (littleEndian ? b : itemSize - 1 - b)])
            v |= byte << (8 * UInt64(b))
        }
        return v
    }

    /// Every value as Float32 (the engine's type).
    public var floats: [Float] { kind == .object ? [] : (0..<count).map { Float(double(at: $0)) } }

    /// Every value as an integer; nil if any value is not one.
    public var integers: [Int]? {
        guard kind != .object else { return nil }
        var out = [Int]()
        out.reserveCapacity(count)
        for i in 0..<count {
            let d = double(at: i)
            guard d == d.rounded(), abs(d) < 9e15 else { return nil }
            out.append(Int(d))
        }
        return out
    }

    func double(at i: Int) -> Double {
        let w = word(i)
        switch kind {
        case .float: return itemSize == 4 ? Double(Float(bitPattern: UInt32(truncatingIfNeeded: w))) : Double(bitPattern: w)
        case .unsigned, .bool: return Double(w)
        case .object: return .nan
        case .signed:
            let shift = UInt64(64 - 8 * itemSize)
            return Double(Int64(bitPattern: w << shift) >> Int64(shift))
        }
    }
}

/// A NumPy `.npz` archive (a zip of `.npy` members, stored or deflated).
public struct NumPyArchive: Sendable {
    public let arrays: [String: NumPyArray]

    public init(path: String) throws {
        try self.init(bytes: try readRaw(path), name: path)
    }

    /// Every `.npy` member of the archive (read as `Zip` reads any zip).
    public init(bytes: [UInt8], name: String) throws {
        var arrays: [String: NumPyArray] = [:]
        for (member, content) in try Zip.members(bytes, name: name) {
            let key = member.hasSuffix(".npy") ? String(member.dropLast(4)) : member
            arrays[key] = try NumPyArray(npy: content, name: "\(name):\(member)")
        }
        self.arrays = arrays
    }

    public func array(_ key: String, in name: String) throws -> NumPyArray {
        guard let a = arrays[key] else {
            throw DataError(name, "has no array '\(key)' (it has \(arrays.keys.sorted().joined(separator: ", ")))")
        }
        return a
    }

    /// A numeric array's values as Float32, refusing NaN and infinities (and values too large
    /// for Float32) as the CSV readers do.
    public func finiteFloats(_ key: String, in name: String) throws -> [Float] {
        let values = try array(key, in: name).floats
        if let i = values.firstIndex(where: { !$0.isFinite }) {
            throw DataError(name, "array '\(key)' holds a non-finite value (\(values[i])) at flat index \(i)")
        }
        return values
    }
}
