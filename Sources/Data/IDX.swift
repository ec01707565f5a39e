/// The IDX format of MNIST and Fashion-MNIST (gzip'd or not): a big-endian magic
/// 0x0000 <type> <rank>, `rank` big-endian u32 dimensions, then the values.
public struct IDXArray: Sendable {
    public let shape: [Int]
    /// The values as unsigned bytes (type 0x08, the only one the image and label files use).
    public let bytes: [UInt8]

    /// A gzip'd file inflates no further than its IDX header declares.
    public init(path: String) throws {
        let raw = try readRaw(path)
        if Inflate.isGzip(raw) {
            let head = try Inflate.gunzipPrefix(raw, count: 4 + 4 * 4, name: path)
            try self.init(bytes: try Inflate.gunzip(raw, name: path, limit: try Self.declaredBytes(head, name: path)), name: path)
        } else {
            try self.init(bytes: raw, name: path)
        }
    }

    /// Header and values, as the header declares them.
    static func declaredBytes(_ head: [UInt8], name: String) throws -> Int {
        guard head.count >= 4, head[0] == 0, head[1] == 0 else { throw DataError(name, "not an IDX file (bad magic)") }
        let rank = Int(head[3])
        guard rank >= 1, rank <= 4, head.count >= 4 + 4 * rank else { throw DataError(name, "IDX header is truncated") }
        var count = 1
        for d in 0..<rank {
            let o = 4 + 4 * d
            let n = Int(head[o]) << 24 | Int(head[o + 1]) << 16 | Int(head[o + 2]) << 8 | Int(head[o + 3])
            let (product, overflow) = count.multipliedReportingOverflow(by: n)
            guard !overflow else { throw DataError(name, "IDX dimensions are too large for any file") }
            count = product
        }
        return min(count, Int.max - 64) + 4 + 4 * rank
    }

    public init(bytes: [UInt8], name: String) throws {
        guard bytes.count >= 4, bytes[0] == 0, bytes[1] == 0 else { throw DataError(name, "not an IDX file (bad magic)") }
        guard bytes[2] == 0x08 else { throw DataError(name, "IDX value type 0x\(String(bytes[2], radix: 16)) is not supported (only unsigned bytes)") }
        let rank = Int(bytes[3])
        guard rank >= 1, rank <= 4, bytes.count >= 4 + 4 * rank else { throw DataError(name, "IDX header is truncated") }
        var shape: [Int] = []
        var count = 1
        for d in 0..<rank {
            let o = 4 + 4 * d
            let n = Int(bytes[o]) << 24 | Int(bytes[o + 1]) << 16 | Int(bytes[o + 2]) << 8 | Int(bytes[o + 3])
            shape.append(n)
            // Dimensions of up to 2³² each: the product can overflow (found by fuzzing).
            let (product, overflow) = count.multipliedReportingOverflow(by: n)
            guard !overflow else { throw DataError(name, "IDX dimensions \(shape)… are too large for any file") }
            count = product
        }
        let start = 4 + 4 * rank
        guard bytes.count - start == count else {
            throw DataError(name, "IDX dimensions \(shape) need \(count) values, the file holds \(bytes.count - start)")
        }
        self.shape = shape
        self.bytes = Array(bytes[start...])
    }
}
