import Foundation

/// A JSON value that keeps the order of object keys, so an optimizer's configuration is written
/// exactly as Keras's `get_config()` lists it, and numbers print as the shortest round-tripping
/// decimal (as Python's `json` does).
public indirect enum ConfigValue: Equatable, Sendable, CustomStringConvertible {
    case null
    case bool(Bool)
    case number(Double)
    /// A number written without a fraction or exponent (Keras's `decay_steps`, `boundaries`).
    case integer(Int)
    case string(String)
    case array([ConfigValue])
    case object([(String, ConfigValue)])

    public static func == (a: ConfigValue, b: ConfigValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case let (.bool(x), .bool(y)): return x == y
        case let (.number(x), .number(y)): return x == y || (x.isNaN && y.isNaN)
        case let (.integer(x), .integer(y)): return x == y
        case let (.string(x), .string(y)): return x == y
        case let (.array(x), .array(y)): return x == y
        case let (.object(x), .object(y)): return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    public subscript(key: String) -> ConfigValue? {
        if case .object(let pairs) = self { return pairs.first { $0.0 == key }?.1 }
        return nil
    }

    /// Compact JSON text.
    public var json: String {
        switch self {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .number(let d):
            if d.isNaN { return "NaN" }
            if d.isInfinite { return d > 0 ? "Infinity" : "-Infinity" }
            return "\(d)"  // shortest round-trip form, as Python's repr: 0.001, 1e-07, 1.0
        case .integer(let n): return String(n)
        case .string(let s): return Self.quoted(s)
        case .array(let items): return "[" + items.map(\.json).joined(separator: ", ") + "]"
        case .object(let pairs): return "{" + pairs.map { Self.quoted($0.0) + ": " + $0.1.json }.joined(separator: ", ") + "}"
        }
    }

    public var description: String { json }

    static func quoted(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if scalar.value < 0x20 { out += String(format: "\\u%04x", scalar.value) } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out + "\""
    }

    /// Parses JSON text (also Python's NaN / Infinity literals). Object key order is kept.
    public static func parse(_ text: String) throws -> ConfigValue {
        var parser = Parser(Array(text.utf8))
        let value = try parser.value()
        parser.skipSpace()
        guard parser.atEnd else { throw parser.error("unexpected text after the value") }
        return value
    }

    /// A `--set` value: JSON when it is JSON (numbers, true/false, null, objects, arrays),
    /// otherwise the text itself as a string.
    public static func fromSetting(_ text: String) -> ConfigValue {
        switch text.lowercased() {
        case "none": return .null
        case "true": return .bool(true)
        case "false": return .bool(false)
        default: return (try? parse(text)) ?? .string(text)
        }
    }

    private struct Parser {
        let bytes: [UInt8]
        var i = 0
        init(_ bytes: [UInt8]) { self.bytes = bytes }
        var atEnd: Bool { i >= bytes.count }

        func error(_ what: String) -> JSONError { JSONError(description: "invalid configuration: JSON: \(what) at offset \(i)") }

        mutating func skipSpace() {
            while i < bytes.count, [0x20, 0x0A, 0x0D, 0x09].contains(bytes[i]) { i += 1 }
        }

        mutating func literal(_ word: String) -> Bool {
            let w = Array(word.utf8)
            guard i + w.count <= bytes.count, Array(bytes[i..<(i + w.count)]) == w else { return false }
            i += w.count
            return true
        }

        mutating func value(depth: Int = 0) throws -> ConfigValue {
            guard depth < 64 else { throw error("nesting too deep") }
            skipSpace()
            guard !atEnd else { throw error("unexpected end") }
            switch bytes[i] {
            case UInt8(ascii: "{"):
                i += 1
                var pairs: [(String, ConfigValue)] = []
                skipSpace()
                if !atEnd, bytes[i] == UInt8(ascii: "}") { i += 1; return .object(pairs) }
                while true {
                    skipSpace()
                    guard case .string(let key) = try value(depth: depth + 1) else { throw error("object keys must be strings") }
                    skipSpace()
                    guard !atEnd, bytes[i] == UInt8(ascii: ":") else { throw error("expected ':'") }
                    i += 1
                    pairs.append((key, try value(depth: depth + 1)))
                    skipSpace()
                    guard !atEnd else { throw error("unterminated object") }
                    if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                    if bytes[i] == UInt8(ascii: "}") { i += 1; return .object(pairs) }
                    throw error("expected ',' or '}'")
                }
            case UInt8(ascii: "["):
                i += 1
                var items: [ConfigValue] = []
                skipSpace()
                if !atEnd, bytes[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
                while true {
                    items.append(try value(depth: depth + 1))
                    skipSpace()
                    guard !atEnd else { throw error("unterminated array") }
                    if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                    if bytes[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
                    throw error("expected ',' or ']'")
                }
            case UInt8(ascii: "\""):
                i += 1
                        var raw: [UInt8] = []
                while true {
                    guard !atEnd else { throw error("unterminated string") }
                    let b = bytes[i]
                    i += 1
                    if b == UInt8(ascii: "\"") { break }
                    if b == UInt8(ascii: "\\") {
                        guard !atEnd else { throw error("unterminated escape") }
                        let e = bytes[i]
                        i += 1
                        let simple: [UInt8: UInt8] = [0x22: 0x22, 0x5C: 0x5C, 0x2F: 0x2F, 0x62: 0x08, 0x66: 0x0C, 0x6E: 0x0A, 0x72: 0x0D, 0x74: 0x09]
                        if let c = simple[e] { raw.append(c); continue }
                        guard e == UInt8(ascii: "u"), i + 4 <= bytes.count,
                              let code = UInt32(String(decoding: bytes[i..<(i + 4)], as: UTF8.self), radix: 16),
                              let scalar = Unicode.Scalar(code) else { throw error("bad escape") }
                        i += 4
                        raw += Array(String(scalar).utf8)
                        continue
                    }
                    raw.append(b)
                }
                return .string(String(decoding: raw, as: UTF8.self))
            default:
                if literal("true") { return .bool(true) }
                if literal("false") { return .bool(false) }
                if literal("null") { return .null }
                if literal("NaN") { return .number(.nan) }
                if literal("Infinity") { return .number(.infinity) }
                if literal("-Infinity") { return .number(-.infinity) }
                let start = i
                while i < bytes.count, "+-0123456789.eE".utf8.contains(bytes[i]) { i += 1 }
                let text = String(decoding: bytes[start..<i], as: UTF8.self)
                if !text.contains(where: { ".eE".contains($0) }), let n = Int(text) { return .integer(n) }
                guard i > start, let d = Double(text) else { throw error("unexpected character") }
                return .number(d)
            }
        }
    }
}

/// Text that is not the JSON a configuration must be (the message says where).
public struct JSONError: Error, Equatable, CustomStringConvertible {
    public let description: String
}
