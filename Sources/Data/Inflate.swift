import CZlib
import Foundation

/// zlib's inflate for the two containers the data sets use: gzip files (`.gz` IDX files) and raw
/// deflate streams (members of `.npz` archives).
enum Inflate {
    enum Format {
        case gzip, raw
        var windowBits: Int32 { self == .gzip ? 15 + 16 : -15 }
    }

    /// Inflates `input` completely; refuses truncated or damaged streams and outputs larger than
    /// `limit` bytes (a corrupt length must not exhaust memory).
    static func inflate(_ input: [UInt8], format: Format, expectedSize: Int? = nil, limit: Int = 1 << 32, name: String) throws -> [UInt8] {
        var stream = z_stream()
        guard inflateInit2_(&stream, format.windowBits, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw DataError(name, "zlib could not start")
        }
        defer { inflateEnd(&stream) }
        var output = [UInt8]()
        output.reserveCapacity(expectedSize ?? max(1 << 16, input.count * 4))
        var chunk = [UInt8](repeating: 0, count: 1 << 18)
        var status: Int32 = Z_OK
        try input.withUnsafeBufferPointer { src in
            stream.next_in = UnsafeMutablePointer(mutating: src.baseAddress)
            stream.avail_in = uInt(src.count)
            repeat {
                let produced: Int = chunk.withUnsafeMutableBufferPointer { dst in
                    stream.next_out = dst.baseAddress
                    stream.avail_out = uInt(dst.count)
                    status = CZlib.inflate(&stream, Z_NO_FLUSH)
                    return dst.count - Int(stream.avail_out)
                }
                if status == Z_BUF_ERROR && produced == 0 && stream.avail_in == 0 { break }  // input ran out: truncated
                guard status == Z_OK || status == Z_STREAM_END || (status == Z_BUF_ERROR && produced > 0) else {
                    let message = stream.msg.map { String(cString: $0) } ?? "code \(status)"
                    throw DataError(name, "damaged compressed data (\(message))")
                }
                output += chunk[0..<produced]
                guard output.count <= limit else { throw DataError(name, "decompresses to more than \(limit) bytes") }
                if produced == 0 && status != Z_STREAM_END && stream.avail_in == 0 { break }
            } while status != Z_STREAM_END
        }
        guard status == Z_STREAM_END else { throw DataError(name, "the compressed data is truncated") }
        if let expectedSize, output.count != expectedSize {
            throw DataError(name, "decompressed to \(output.count) bytes, \(expectedSize) expected")
        }
        return output
    }

    static func isGzip(_ bytes: [UInt8]) -> Bool { bytes.count >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B }
}

/// Reads a whole file, gunzipping it when it is gzip'd (whatever its name).
func readFile(_ path: String) throws -> [UInt8] {
    guard let data = FileManager.default.contents(atPath: path) else {
        throw DataError(path, FileManager.default.fileExists(atPath: path) ? "cannot be read" : "no such file")
    }
    let bytes = [UInt8](data)
    return Inflate.isGzip(bytes) ? try Inflate.inflate(bytes, format: .gzip, name: path) : bytes
}

/// A whole (possibly gzip'd) file as UTF-8 text.
func readText(_ path: String) throws -> String {
    guard let text = String(validating: try readFile(path), as: UTF8.self) else { throw DataError(path, "is not UTF-8 text") }
    return text
}

/// A gzip stream's contents, for callers that hold the bytes (the fuzzers among them).
public func gunzip(_ bytes: [UInt8], name: String) throws -> [UInt8] { try Inflate.inflate(bytes, format: .gzip, name: name) }
