/// The files of a (ustar or GNU) tar archive, gzip'd or not — how Stanford ships aclImdb and how
/// Keras's cache keeps it (`aclImdb_v1.tar.gz`).
public struct TarArchive: Sendable {
    public let files: [(path: String, contents: ArraySlice<UInt8>)]

    public init(path: String) throws {
        try self.init(bytes: readFile(path), name: path)
    }

    public init(bytes: [UInt8], name: String) throws {
        var files: [(String, ArraySlice<UInt8>)] = []
        var offset = 0
        var longName: String?
        while offset + 512 <= bytes.count {
            let header = bytes[offset..<(offset + 512)]
            if header.allSatisfy({ $0 == 0 }) { break }
            func text(_ range: Range<Int>) -> String {
                String(decoding: header[(offset + range.lowerBound)..<(offset + range.upperBound)].prefix { $0 != 0 }, as: UTF8.self)
            }
            guard let size = Int(text(124..<136).trimmingCharacters(in: .whitespaces), radix: 8) else {
                throw DataError(name, "damaged tar header at byte \(offset)")
            }
            let type = header[offset + 156]
            let prefix = text(345..<500)
            var path = longName ?? (prefix.isEmpty ? text(0..<100) : prefix + "/" + text(0..<100))
            longName = nil
            let start = offset + 512
            guard size >= 0, start + size <= bytes.count else { throw DataError(name, "\(path) is truncated") }
            if type == UInt8(ascii: "L") {  // GNU long name for the next entry
                longName = String(decoding: bytes[start..<(start + size)].prefix { $0 != 0 }, as: UTF8.self)
            } else if type == 0 || type == UInt8(ascii: "0") {
                if path.hasPrefix("./") { path.removeFirst(2) }
                files.append((path, bytes[start..<(start + size)]))
            }
            offset = start + (size + 511) / 512 * 512
        }
        self.files = files
    }
}

import Foundation
