import CZstd
import Synchronization

/// zstd frames in and out; every size is checked before memory is touched.
enum Zstd {
    /// One compression context, reused: a context per call costs more than compressing an
    /// epoch's step series. (An opaque pointer, only ever used under the lock.)
    private struct Context: @unchecked Sendable { let pointer: OpaquePointer }
    private static let context = Mutex(Context(pointer: ZSTD_createCCtx()))

    static func compress(_ input: [UInt8], level: Int32 = 3) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: ZSTD_compressBound(input.count))
        let written = input.withUnsafeBytes { src in
            out.withUnsafeMutableBytes { dst in
                context.withLock { ZSTD_compressCCtx($0.pointer, dst.baseAddress, dst.count, src.baseAddress, src.count, level) }
            }
        }
        precondition(ZSTD_isError(written) == 0, "zstd compression failed: \(String(cString: ZSTD_getErrorName(written)))")
        out.removeSubrange(written...)
        return out
    }

    /// Decompresses one frame whose content size must be exactly `expectedSize`.
    static func decompress(_ input: ArraySlice<UInt8>, expectedSize: Int) throws -> [UInt8] {
        let declared = input.withUnsafeBytes { ZSTD_getFrameContentSize($0.baseAddress, $0.count) }
        guard declared != ZSTD_CONTENTSIZE_ERROR, declared != ZSTD_CONTENTSIZE_UNKNOWN else {
            throw StoreError.corrupt("the compressed data is not a zstd frame with a known size")
        }
        guard declared == UInt64(expectedSize) else {
            throw StoreError.corrupt("the compressed data holds \(declared) bytes, \(expectedSize) expected")
        }
        var out = [UInt8](repeating: 0, count: expectedSize)
        let written = input.withUnsafeBytes { src in
            out.withUnsafeMutableBytes { dst in ZSTD_decompress(dst.baseAddress, dst.count, src.baseAddress, src.count) }
        }
        guard ZSTD_isError(written) == 0 else {
            throw StoreError.corrupt("zstd: \(String(cString: ZSTD_getErrorName(written)))")
        }
        guard written == expectedSize else { throw StoreError.corrupt("the compressed data decompressed to \(written) bytes, \(expectedSize) expected") }
        return out
    }

    /// Float32 arrays as stored in `step_series`: little-endian, compressed.
    static func compress(floats: [Float]) -> [UInt8] {
        compress(floats.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } })
    }

    static func decompressFloats(_ blob: [UInt8], count: Int) throws -> [Float] {
        guard count >= 0, count <= Int(UInt32.max) else { throw StoreError.corrupt("invalid value count \(count)") }
        let raw = try decompress(blob[...], expectedSize: count * 4)
        return (0..<count).map { i in
            Float(bitPattern: UInt32(raw[4 * i]) | UInt32(raw[4 * i + 1]) << 8 | UInt32(raw[4 * i + 2]) << 16 | UInt32(raw[4 * i + 3]) << 24)
        }
    }
}

/// Byte shuffling (as in Blosc/HDF5): byte k of every element goes to plane k. The high bytes
/// of Float32 weights (sign and exponent) are much alike, so zstd finds far more to share.
enum ByteShuffle {
    static func shuffle(_ data: [UInt8], elementSize: Int) -> [UInt8] {
        permute(data, elementSize: elementSize, forward: true)
    }

    static func unshuffle(_ data: [UInt8], elementSize: Int) -> [UInt8] {
        permute(data, elementSize: elementSize, forward: false)
    }

    /// Byte k of element i ↔ position k·n + i; a tail shorter than one element stays in place.
    private static func permute(_ data: [UInt8], elementSize: Int, forward: Bool) -> [UInt8] {
        let n = data.count / elementSize
        guard elementSize > 1, n > 0 else { return data }
        var out = data
        data.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for b in 0..<elementSize {
                    let plane = b * n
                    if forward {
                        for i in 0..<n { dst[plane + i] = src[i * elementSize + b] }
                    } else {
                        for i in 0..<n { dst[i * elementSize + b] = src[plane + i] }
                    }
                }
            }
        }
        return out
    }
}
