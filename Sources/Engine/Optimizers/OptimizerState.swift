import Basics
import Crypto
import Foundation

/// The whole state of an optimizer as bytes, and its SHA-256 checksum.
///
/// Canonical layout (all integers little-endian, floats as IEEE-754 binary32 bit patterns):
///
///     "OPTS"                     magic, 4 bytes
///     u32  version               1
///     str  class name            e.g. "Adam"      (str = u32 byte count + UTF-8 bytes)
///     i64  iterations
///     u32  scalar count, then per scalar:  str name, f32 value      (Nadam: u_product)
///     u32  slot count,   then per slot:    str name                 (Keras's slot order)
///     u32  variable count (0 before the first step), then per variable: u64 element count,
///          then every slot's values in slot order (count × f32)
///
/// The checksum is SHA-256 over exactly these bytes, so it changes if any bit of any slot,
/// scalar or the iteration count changes, and two optimizers in the same state agree.
public struct OptimizerState: Equatable, Sendable {
    public let bytes: [UInt8]

    public init(bytes: [UInt8]) { self.bytes = bytes }

    public var checksum: String { sha256Hex(bytes) }

}

extension Optimizer {
    /// Serializes iterations, scalars and every slot (see `OptimizerState` for the layout).
    public var state: OptimizerState {
        var out: [UInt8] = Array("OPTS".utf8)
        func u32(_ v: Int) { withUnsafeBytes(of: UInt32(v).littleEndian) { out += $0 } }
        func str(_ s: String) { u32(s.utf8.count); out += Array(s.utf8) }
        u32(1)
        str(className)
        withUnsafeBytes(of: iterations.littleEndian) { out += $0 }
        u32(scalars.count)
        for (name, value) in scalars {
            str(name)
            withUnsafeBytes(of: value.bitPattern.littleEndian) { out += $0 }
        }
        u32(slotNames.count)
        slotNames.forEach(str)
        u32(slots.counts.count)
        for (count, row) in zip(slots.counts, slots.buffers) {
            withUnsafeBytes(of: UInt64(count).littleEndian) { out += $0 }
            for buffer in row {
                #if _endian(little)
                out.append(contentsOf: UnsafeRawBufferPointer(buffer))  // already the little-endian layout
                #else
                for v in buffer { withUnsafeBytes(of: v.bitPattern.littleEndian) { out += $0 } }
                #endif
            }
        }
        return OptimizerState(bytes: out)
    }

    /// Restores a state made by the same kind of optimizer for variables of these sizes.
    /// Every length, name and count is checked; nothing is changed unless all of it fits.
    public func restore(_ state: OptimizerState, variableCounts: [Int]) throws {
        var reader = ByteReader(state.bytes)
        guard try reader.bytes(4) == Array("OPTS".utf8) else { throw reader.error("not an optimizer state (bad magic)") }
        let version = try reader.u32()
        guard version == 1 else { throw reader.error("unsupported optimizer state version \(version)") }
        let name = try reader.string()
        guard name == className else { throw reader.error("state of \(name) cannot be restored into \(className)") }
        let restoredIterations = try reader.i64()
        guard restoredIterations >= 0 else { throw reader.error("negative iteration count") }
        let scalarCount = try reader.u32()
        guard scalarCount == scalars.count else { throw reader.error("\(scalarCount) scalars, \(className) has \(scalars.count)") }
        var restoredScalars = scalars
        for i in 0..<scalarCount {
            let scalarName = try reader.string()
            guard scalarName == scalars[i].name else { throw reader.error("scalar '\(scalarName)', expected '\(scalars[i].name)'") }
            restoredScalars[i].value = Float(bitPattern: try reader.u32AsBits())
        }
        let slotCount = try reader.u32()
        guard slotCount == slotNames.count else { throw reader.error("\(slotCount) slots, \(className) as configured has \(slotNames.count)") }
        for i in 0..<slotCount {
            let slotName = try reader.string()
            guard slotName == slotNames[i] else { throw reader.error("slot '\(slotName)', expected '\(slotNames[i])'") }
        }
        let variableCount = try reader.u32()
        // 0 variables: the state of an optimizer that has not taken a step yet.
        guard variableCount == variableCounts.count || (variableCount == 0 && restoredIterations == 0) else {
            throw reader.error("state for \(variableCount) variables, the model has \(variableCounts.count)")
        }
        var values: [[[Float]]] = []
        for v in 0..<variableCount {
            let count = try reader.u64()
            guard count == UInt64(variableCounts[v]) else {
                throw reader.error("variable \(v) has \(count) values in the state, \(variableCounts[v]) in the model")
            }
            values.append(try (0..<slotCount).map { _ in try reader.floats(Int(count)) })
        }
        guard reader.atEnd else { throw reader.error("\(reader.remaining) unexpected trailing bytes") }
        slots.prepare(for: variableCount == 0 ? [] : variableCounts, count: slotCount, initialValue: initialValue(ofSlot:))
        for (v, row) in values.enumerated() {
            for (s, data) in row.enumerated() {
                let buffer = slots[v, s]
                _ = data.withUnsafeBufferPointer { buffer.update(fromContentsOf: $0) }
            }
        }
        scalars = restoredScalars
        iterations = restoredIterations
    }
}

/// Bounds-checked little-endian reads; every failure is an error, never a trap.
struct ByteReader {
    let bytes: [UInt8]
    var offset = 0
    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var atEnd: Bool { offset == bytes.count }
    var remaining: Int { bytes.count - offset }

    func error(_ what: String) -> EngineError { .invalidConfiguration("optimizer state: \(what)") }

    mutating func bytes(_ n: Int) throws -> [UInt8] {
        guard n >= 0, n <= remaining else { throw error("truncated at byte \(offset) (needs \(n) more, has \(remaining))") }
        defer { offset += n }
        return Array(bytes[offset..<(offset + n)])
    }

    mutating func u32AsBits() throws -> UInt32 {
        try bytes(4).enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (8 * UInt32($1.offset)) }
    }

    mutating func u32() throws -> Int { Int(try u32AsBits()) }

    mutating func u64() throws -> UInt64 {
        try bytes(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
    }

    mutating func i64() throws -> Int64 { Int64(bitPattern: try u64()) }

    mutating func string() throws -> String {
        let n = try u32()
        guard n <= 1024 else { throw error("name of \(n) bytes") }
        guard let s = String(validating: try bytes(n), as: UTF8.self) else { throw error("name is not UTF-8") }
        return s
    }

    mutating func floats(_ n: Int) throws -> [Float] {
        guard n <= remaining / 4 else { throw error("truncated: \(n) values announced, \(remaining / 4) present") }
        defer { offset += n * 4 }
        return bytes.withUnsafeBytes { raw in
            (0..<n).map { i in Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: offset + 4 * i, as: UInt32.self))) }
        }
    }
}
