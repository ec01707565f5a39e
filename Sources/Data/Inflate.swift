import CZlib
import Foundation

/// zlib's inflate for the two containers the data sets use: gzip files (`.gz` IDX and CSV files,
/// any number of members) and raw deflate streams (members of `.npz` archives). Memory is
/// bounded by what the format declares, never by what a stream claims while it inflates: a
/// zip member's declared size (checked against deflate's largest expansion), and for gzip the
/// exact size counted in a first pass (each member checked by zlib against its own length and
/// CRC), under `limit`.
enum Inflate {
    /// Deflate cannot expand data more than about 1032:1.
    static let maxRatio = 1032
    /// No data set optilog reads inflates to more than this.
    static let defaultLimit = 1 << 31

    /// A raw deflate stream declared (by its zip directory) to inflate to `declaredSize` bytes.
    static func inflateRaw(_ input: [UInt8], declaredSize: Int, name: String, limit: Int = defaultLimit) throws -> [UInt8] {
        guard declaredSize >= 0, declaredSize / maxRatio <= input.count + 1 else {
            throw DataError(name, "declares \(declaredSize) bytes from \(input.count) compressed, more than deflate can hold")
        }
        guard declaredSize <= limit else { throw DataError(name, "declares \(declaredSize) bytes, more than the \(limit) this reader accepts") }
        // Memory follows what actually inflates (a member may declare more than it holds), and
        // never goes past what it declares.
        var output: [UInt8] = []
        output.reserveCapacity(min(declaredSize, 64 << 20))
        try stream(input, windowBits: -15, name: name, members: false) { chunk in
            guard chunk.count <= declaredSize - output.count else { throw DataError(name, "inflates to more than the \(declaredSize) bytes it declares") }
            output.append(contentsOf: chunk)
        }
        guard output.count == declaredSize else { throw DataError(name, "decompressed to \(output.count) bytes, \(declaredSize) declared") }
        return output
    }

    /// Every member of a gzip file, joined. A first pass counts the bytes (bounded by `limit`),
    /// the second fills a buffer of exactly that size.
    static func gunzip(_ input: [UInt8], name: String, limit: Int = defaultLimit) throws -> [UInt8] {
        var total = 0
        try stream(input, windowBits: 15 + 16, name: name, members: true) { chunk in
            total += chunk.count
            guard total <= limit else { throw DataError(name, "decompresses to more than \(limit) bytes") }
        }
        var output = [UInt8](repeating: 0, count: total)
        var filled = 0
        try stream(input, windowBits: 15 + 16, name: name, members: true) { chunk in
            output.withUnsafeMutableBufferPointer { dst in
                _ = UnsafeMutableBufferPointer(rebasing: dst[filled..<(filled + chunk.count)]).initialize(from: chunk)
            }
            filled += chunk.count
        }
        return output
    }

    /// The first `count` bytes a gzip file inflates to (fewer if it holds fewer): enough to read
    /// a header that declares the size of the rest.
    static func gunzipPrefix(_ input: [UInt8], count: Int, name: String) throws -> [UInt8] {
        struct Enough: Error {}
        var output: [UInt8] = []
        do {
            try stream(input, windowBits: 15 + 16, name: name, members: true) { chunk in
                output.append(contentsOf: chunk.prefix(count - output.count))
                if output.count >= count { throw Enough() }
            }
        } catch is Enough {}
        return output
    }

    /// Inflates `input` through a fixed 256 KiB buffer, handing each piece to `sink`. With
    /// `members`, further gzip members after the first are read too (zero padding after the last
    /// is allowed, anything else is not).
    static func stream(_ input: [UInt8], windowBits: Int32, name: String, members: Bool,
                       sink: (UnsafeBufferPointer<UInt8>) throws -> Void) throws {
        var stream = z_stream()
        guard inflateInit2_(&stream, windowBits, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw DataError(name, "zlib could not start")
        }
        defer { inflateEnd(&stream) }
        var chunk = [UInt8](repeating: 0, count: 1 << 18)
        try input.withUnsafeBufferPointer { src in
            stream.next_in = UnsafeMutablePointer(mutating: src.baseAddress)
            stream.avail_in = uInt(src.count)
            while true {
                var status: Int32 = Z_OK
                let produced: Int = chunk.withUnsafeMutableBufferPointer { dst in
                    stream.next_out = dst.baseAddress
                    stream.avail_out = uInt(dst.count)
                    status = CZlib.inflate(&stream, Z_NO_FLUSH)
                    return dst.count - Int(stream.avail_out)
                }
                guard status == Z_OK || status == Z_STREAM_END || (status == Z_BUF_ERROR && produced > 0) else {
                    if status == Z_BUF_ERROR { throw DataError(name, "the compressed data is truncated") }
                    let message = stream.msg.map { String(cString: $0) } ?? "code \(status)"
                    throw DataError(name, "damaged compressed data (\(message))")
                }
                try chunk.withUnsafeBufferPointer { try sink(UnsafeBufferPointer(rebasing: $0[0..<produced])) }
                if status == Z_STREAM_END {
                    let rest = Int(stream.avail_in)
                    guard members, rest > 0 else { return }
                    let start = src.count - rest
                    if src[start...].allSatisfy({ $0 == 0 }) { return }
                    guard rest >= 2, src[start] == 0x1F, src[start + 1] == 0x8B else {
                        throw DataError(name, "holds \(rest) bytes after its compressed data that are not another gzip member")
                    }
                    guard inflateReset(&stream) == Z_OK else { throw DataError(name, "zlib could not restart") }
                } else if produced == 0 && stream.avail_in == 0 {
                    throw DataError(name, "the compressed data is truncated")
                }
            }
        }
    }

    static func isGzip(_ bytes: [UInt8]) -> Bool { bytes.count >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B }
}

/// A whole file's bytes as stored (an embedded fixture's from memory).
func readRaw(_ path: String) throws -> [UInt8] {
    if let name = EmbeddedFixtures.name(of: path) {
        guard let bytes = EmbeddedFixtures.bytes(name) else { throw DataError(path, "is not an embedded fixture") }
        return bytes
    }
    guard let data = FileManager.default.contents(atPath: path) else {
        throw DataError(path, FileManager.default.fileExists(atPath: path) ? "cannot be read" : "no such file")
    }
    return [UInt8](data)
}

/// Reads a whole file, gunzipping it when it is gzip'd (whatever its name).
func readFile(_ path: String) throws -> [UInt8] {
    let bytes = try readRaw(path)
    return Inflate.isGzip(bytes) ? try Inflate.gunzip(bytes, name: path) : bytes
}

/// A whole (possibly gzip'd) file as UTF-8 text, without the byte-order mark some editors
/// (Excel among them) put first.
func readText(_ path: String) throws -> String {
    var bytes = try readFile(path)
    if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
    guard let text = String(validating: bytes, as: UTF8.self) else { throw DataError(path, "is not UTF-8 text") }
    return text
}

/// A gzip stream's contents, for callers that hold the bytes (the fuzzers among them).
public func gunzip(_ bytes: [UInt8], name: String) throws -> [UInt8] { try Inflate.gunzip(bytes, name: name) }
