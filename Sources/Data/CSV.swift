/// A small RFC-4180 reader: commas, double-quoted fields with "" escapes, \n or \r\n line ends,
/// an optional final newline. Rows of a different width than the header are an error.
public struct CSVTable: Sendable {
    public let header: [String]
    public let rows: [[Substring]]

    public init(text: String, name: String) throws {
        var records: [[Substring]] = []
        let text = text.hasPrefix("\u{FEFF}") ? String(text.dropFirst()) : text   // a byte-order mark
        for (n, line) in text.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).enumerated() {
            let trimmed = line.hasSuffix("\r") ? line.dropLast() : line
            if trimmed.isEmpty { continue }
            records.append(try Self.fields(trimmed, line: n + 1, name: name))
        }
        guard let first = records.first else { throw DataError(name, "is empty") }
        header = first.map { String($0) }
        rows = Array(records.dropFirst())
        for (i, row) in rows.enumerated() where row.count != header.count {
            throw DataError(name, "line \(i + 2) has \(row.count) fields, the header has \(header.count)")
        }
    }

    private static func fields(_ line: Substring, line number: Int, name: String) throws -> [Substring] {
        guard line.contains("\"") else { return line.split(separator: ",", omittingEmptySubsequences: false) }
        var out: [Substring] = []
        var current = ""
        var quoted = false
        var i = line.startIndex
        while i < line.endIndex {
            let c = line[i]
            if quoted {
                if c == "\"" {
                    let next = line.index(after: i)
                    if next < line.endIndex, line[next] == "\"" { current.append("\""); i = next } else { quoted = false }
                } else {
                    current.append(c)
                }
            } else if c == "\"" {
                quoted = true
            } else if c == "," {
                out.append(Substring(current))
                current = ""
            } else {
                current.append(c)
            }
            i = line.index(after: i)
        }
        guard !quoted else { throw DataError(name, "line \(number) has an unterminated quote") }
        out.append(Substring(current))
        return out
    }

    /// Column `c` of every row as finite numbers.
    func numbers(column c: Int, name: String) throws -> [Float] {
        try rows.enumerated().map { i, row in
            let text = row[c].trimmingCharacters(in: .whitespaces)
            guard let v = Float(text), v.isFinite else {
                throw DataError(name, "line \(i + 2), column \"\(header[c])\": \"\(text)\" is not a finite number")
            }
            return v
        }
    }
}

import Foundation
