import Basics
import Crypto
import Foundation

/// A training checkpoint: named tensors (weights, optimizer state as bytes, counters) and
/// string metadata, in a self-describing layout in the spirit of safetensors — no code, every
/// length and range validated on the way in.
///
/// Payload (uncompressed), all integers little-endian:
///
///     "OPTICKPT"                 8 bytes
///     u64 header length H
///     H bytes of JSON: {"format": 1 or 2, "metadata": {"k": "v", …},
///                       "tensors": [{"name": …, "dtype": "F32"|"F64"|"U8"|"I64", "shape": […],
///                                    "offsets": [begin, end]}, …]}
///     the tensors' bytes, back to back in header order (offsets relative to here)
///
/// Stored blob: "OPTZ", u8 version 1, u8 shuffle width (4), u16 0, u64 payload length, then
/// one zstd frame of the byte-shuffled payload. The SHA-256 of the payload is kept beside it.
public struct CheckpointPayload: Equatable, Sendable {
    public enum DType: String, Sendable {
        case f32 = "F32", u8 = "U8", i64 = "I64", f64 = "F64"
        var size: Int { self == .f32 ? 4 : self == .u8 ? 1 : 8 }
    }

    public struct Tensor: Equatable, Sendable {
        public var name: String
        public var dtype: DType
        public var shape: [Int]
        /// Little-endian bytes.
        public var data: [UInt8]

        public init(name: String, dtype: DType, shape: [Int], data: [UInt8]) {
            (self.name, self.dtype, self.shape, self.data) = (name, dtype, shape, data)
        }

        public init(name: String, shape: [Int], floats: [Float]) {
            var bytes = [UInt8](repeating: 0, count: floats.count * 4)
            bytes.withUnsafeMutableBytes { dst in
                floats.withUnsafeBytes { src in
                    #if _endian(little)
                    dst.copyMemory(from: src)
                    #else
                    for (i, v) in floats.enumerated() { dst.storeBytes(of: v.bitPattern.littleEndian, toByteOffset: 4 * i, as: UInt32.self) }
                    #endif
                }
            }
            self.init(name: name, dtype: .f32, shape: shape, data: bytes)
        }

        public init(name: String, shape: [Int], doubles: [Double]) {
            let bytes = doubles.flatMap { v in (0..<8).map { UInt8(truncatingIfNeeded: v.bitPattern >> (8 * UInt64($0))) } }
            self.init(name: name, dtype: .f64, shape: shape, data: bytes)
        }

        /// Float64 values, bit for bit (exact sums and norms that must survive a resume).
        public var doubles: [Double]? { dtype == .f64 ? words.map(Double.init(bitPattern:)) : nil }

        /// The data as little-endian 64-bit words (F64 and I64 tensors).
        public var words: [UInt64] {
            (0..<(data.count / 8)).map { i in (0..<8).reduce(UInt64(0)) { $0 | UInt64(data[i * 8 + $1]) << (8 * UInt64($1)) } }
        }

        public var floats: [Float]? {
            guard dtype == .f32 else { return nil }
            return data.withUnsafeBytes { raw in
                (0..<(data.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
            }
        }
    }

    public var tensors: [Tensor]
    public var metadata: [String: String]

    public init(tensors: [Tensor], metadata: [String: String] = [:]) {
        self.tensors = tensors
        self.metadata = metadata
    }

    public func tensor(_ name: String) -> Tensor? { tensors.first { $0.name == name } }

    // MARK: Payload

    static let magic = Array("OPTICKPT".utf8)
    static let blobMagic = Array("OPTZ".utf8)
    /// Decoding refuses payloads larger than this (a corrupt length must not allocate the machine).
    public static let maximumPayload = 1 << 33

    public var payload: [UInt8] {
        var offset = 0
        let entries: [ConfigValue] = tensors.map { t in
            defer { offset += t.data.count }
            return .object([("name", .string(t.name)), ("dtype", .string(t.dtype.rawValue)),
                            ("shape", .array(t.shape.map { .integer($0) })),
                            ("offsets", .array([.integer(offset), .integer(offset + t.data.count)]))])
        }
        let header: ConfigValue = .object([
            // Format 2 is format 1 plus the F64 dtype: a reader that predates F64 refuses the
            // payload by its format, and one with only F32, U8 and I64 tensors stays format 1.
            ("format", .integer(tensors.contains { $0.dtype == .f64 } ? 2 : 1)),
            ("metadata", .object(metadata.keys.sorted().map { ($0, .string(metadata[$0]!)) })),
            ("tensors", .array(entries)),
        ])
        let json = Array(header.json.utf8)
        var out = Self.magic
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out += $0 }
        out += json
        for t in tensors { out += t.data }
        return out
    }

    /// Parses and validates a payload; any inconsistency is a `StoreError.corrupt`.
    public init(payload bytes: [UInt8]) throws {
        func corrupt(_ what: String) -> StoreError { .corrupt("checkpoint: \(what)") }
        guard bytes.count >= 16, Array(bytes[0..<8]) == Self.magic else { throw corrupt("not a checkpoint payload (bad magic)") }
        let headerLength = bytes[8..<16].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard headerLength <= UInt64(bytes.count - 16), headerLength <= 1 << 24 else {
            throw corrupt("header length \(headerLength) exceeds the \(bytes.count - 16) bytes present")
        }
        let dataStart = 16 + Int(headerLength)
        guard let text = String(validating: bytes[16..<dataStart], as: UTF8.self) else { throw corrupt("header is not UTF-8") }
        let header: ConfigValue
        do { header = try ConfigValue.parse(text) } catch { throw corrupt("header is not valid JSON (\(error))") }
        guard header["format"] == .integer(1) || header["format"] == .integer(2) else {
            throw corrupt("unknown format \(header["format"]?.json ?? "none") (this optilog reads formats 1 and 2)")
        }
        guard case .object(let meta)? = header["metadata"], case .array(let entries)? = header["tensors"] else {
            throw corrupt("header lacks metadata or tensors")
        }
        var metadata: [String: String] = [:]
        for (k, v) in meta {
            guard case .string(let s) = v else { throw corrupt("metadata \(k) is not a string") }
            metadata[k] = s
        }
        let dataLength = bytes.count - dataStart
        var expectedOffset = 0
        var names = Set<String>()
        var tensors: [Tensor] = []
        for entry in entries {
            guard case .string(let name)? = entry["name"], !name.isEmpty, names.insert(name).inserted else {
                throw corrupt("a tensor without a name, or a repeated name")
            }
            guard case .string(let d)? = entry["dtype"], let dtype = DType(rawValue: d) else { throw corrupt("\(name): unknown dtype") }
            guard dtype != .f64 || header["format"] == .integer(2) else { throw corrupt("\(name): F64 in a format-1 payload") }
            guard case .array(let dims)? = entry["shape"], case .array(let offsets)? = entry["offsets"], offsets.count == 2,
                  case .integer(let begin) = offsets[0], case .integer(let end) = offsets[1] else {
                throw corrupt("\(name): shape or offsets missing")
            }
            var count = 1
            var shape: [Int] = []
            for dim in dims {
                guard case .integer(let n) = dim, n >= 0 else { throw corrupt("\(name): invalid dimension") }
                let (product, overflow) = count.multipliedReportingOverflow(by: n)
                guard !overflow, product <= Self.maximumPayload else { throw corrupt("\(name): shape too large") }
                count = product
                shape.append(n)
            }
            guard begin == expectedOffset, end >= begin, end <= dataLength else {
                throw corrupt("\(name): byte range \(begin)..<\(end) is not where the previous tensor ended (\(expectedOffset)) or runs past the data (\(dataLength))")
            }
            guard end - begin == count * dtype.size else {
                throw corrupt("\(name): \(end - begin) bytes for shape \(shape) of \(dtype.rawValue)")
            }
            tensors.append(Tensor(name: name, dtype: dtype, shape: shape, data: Array(bytes[(dataStart + begin)..<(dataStart + end)])))
            expectedOffset = end
        }
        guard expectedOffset == dataLength else { throw corrupt("\(dataLength - expectedOffset) bytes after the last tensor") }
        self.init(tensors: tensors, metadata: metadata)
    }

    // MARK: Blob

    public struct Encoded: Sendable {
        public var blob: [UInt8]
        public var payloadSHA256: String
        public var payloadBytes: Int
    }

    /// Byte-shuffled, zstd-compressed blob and the payload's SHA-256.
    public func encoded(level: Int32 = 3) -> Encoded {
        let raw = payload
        var blob = Self.blobMagic + [1, 4, 0, 0]
        withUnsafeBytes(of: UInt64(raw.count).littleEndian) { blob += $0 }
        blob += Zstd.compress(ByteShuffle.shuffle(raw, elementSize: 4), level: level)
        return Encoded(blob: blob, payloadSHA256: sha256Hex(raw), payloadBytes: raw.count)
    }

    /// zstd size of a payload without the byte shuffle (for the benchmark's comparison).
    public static func compressedSizeWithoutShuffle(_ payload: [UInt8], level: Int32 = 3) -> Int {
        Zstd.compress(payload, level: level).count
    }

    /// Decodes a blob; with `expectedSHA256`, the payload must hash to it.
    public init(blob: [UInt8], expectedSHA256: String? = nil) throws {
        guard blob.count >= 16, Array(blob[0..<4]) == Self.blobMagic else { throw StoreError.corrupt("checkpoint: not a checkpoint blob (bad magic)") }
        guard blob[4] == 1 else { throw StoreError.corrupt("checkpoint: unknown blob version \(blob[4])") }
        let width = Int(blob[5])
        guard width == 1 || width == 4, blob[6] == 0, blob[7] == 0 else { throw StoreError.corrupt("checkpoint: unknown blob flags") }
        let length = blob[8..<16].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard length <= UInt64(Self.maximumPayload) else { throw StoreError.corrupt("checkpoint: payload length \(length) is implausible") }
        let shuffled = try Zstd.decompress(blob[16...], expectedSize: Int(length))
        let raw = ByteShuffle.unshuffle(shuffled, elementSize: width)
        if let expectedSHA256, sha256Hex(raw) != expectedSHA256 {
            throw StoreError.corrupt("checkpoint: payload checksum \(sha256Hex(raw).prefix(12))… does not match the recorded \(expectedSHA256.prefix(12))…")
        }
        try self.init(payload: raw)
    }
}

