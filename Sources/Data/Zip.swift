/// The members of a zip archive (stored or deflated, ZIP64 included): NumPy's `.npz` and Keras's
/// `.keras` files are both zips.
enum Zip {
    /// Reads the central directory. Every offset and size is checked against the file's own size
    /// before it is used, in arithmetic that cannot overflow: a crafted directory is an error,
    /// never a trap or a huge allocation. Members `wanted` rejects are not decompressed.
    static func members(_ bytes: [UInt8], name: String, wanted: (String) -> Bool = { _ in true }) throws -> [(String, [UInt8])] {
        func damaged(_ what: String) -> DataError { DataError(name, "damaged zip archive (\(what))") }
        /// Little-endian unsigned field of `n` bytes at `o`, which must lie inside the file.
        func field(_ o: Int, _ n: Int) throws -> UInt64 {
            guard o >= 0, o <= bytes.count - n else { throw damaged("a field lies outside the file") }
            var v: UInt64 = 0
            for i in 0..<n { v |= UInt64(bytes[o + i]) << (8 * UInt64(i)) }
            return v
        }
        func u16(_ o: Int) throws -> Int { Int(try field(o, 2)) }
        func u32(_ o: Int) throws -> Int { Int(try field(o, 4)) }
        /// A 64-bit size or offset, which cannot exceed the file's size.
        func position(_ o: Int, _ what: String) throws -> Int {
            let v = try field(o, 8)
            guard v <= UInt64(bytes.count) else { throw damaged("\(what) \(v) is beyond the file's \(bytes.count) bytes") }
            return Int(v)
        }
        // End of central directory: the last "PK\5\6" within the final 64 kB + 22 bytes.
        guard bytes.count >= 22 else { throw DataError(name, "not a zip archive (too short)") }
        var eocd = -1
        var i = bytes.count - 22
        while i >= max(0, bytes.count - 22 - 65_535) {
            if bytes[i] == 0x50, bytes[i + 1] == 0x4B, bytes[i + 2] == 5, bytes[i + 3] == 6 { eocd = i; break }
            i -= 1
        }
        guard eocd >= 0 else { throw DataError(name, "not a zip archive (no central directory)") }
        var entries = try u16(eocd + 10)
        var directory = try u32(eocd + 16)
        if directory == 0xFFFF_FFFF || entries == 0xFFFF {
            // ZIP64: the locator sits just before the end record.
            let locator = eocd - 20
            guard locator >= 0, try u32(locator) == 0x0706_4B50 else { throw damaged("no ZIP64 locator") }
            let record = try position(locator + 8, "ZIP64 end record offset")
            guard try u32(record) == 0x0606_4B50 else { throw damaged("no ZIP64 end record") }
            let count = try field(record + 32, 8)
            guard count <= UInt64(bytes.count / 46) else { throw damaged("\(count) entries cannot fit in \(bytes.count) bytes") }
            entries = Int(count)
            directory = try position(record + 48, "directory offset")
        }
        guard directory <= bytes.count else { throw damaged("the directory starts beyond the file") }
        var members: [(String, [UInt8])] = []
        var offset = directory
        for _ in 0..<entries {
            guard try u32(offset) == 0x0201_4B50 else { throw damaged("bad directory entry") }
            let method = try u16(offset + 10)
            var compressed = try u32(offset + 20), size = try u32(offset + 24)
            let nameLength = try u16(offset + 28), extraLength = try u16(offset + 30), commentLength = try u16(offset + 32)
            var local = try u32(offset + 42)
            guard offset + 46 + nameLength + extraLength <= bytes.count else { throw damaged("a directory entry runs past the end") }
            let member = String(decoding: bytes[(offset + 46)..<(offset + 46 + nameLength)], as: UTF8.self)
            // ZIP64 sizes and offsets live in extra field 0x0001, in this order, when saturated.
            var e = offset + 46 + nameLength
            let extraEnd = e + extraLength
            while e + 4 <= extraEnd {
                let id = try u16(e), length = try u16(e + 2)
                if id == 1 {
                    var p = e + 4
                    let end = min(e + 4 + length, extraEnd)
                    if size == 0xFFFF_FFFF, p + 8 <= end { size = Int(min(try field(p, 8), UInt64(Int.max / 2))); p += 8 }
                    if compressed == 0xFFFF_FFFF, p + 8 <= end { compressed = try position(p, "\(member): compressed size"); p += 8 }
                    if local == 0xFFFF_FFFF, p + 8 <= end { local = try position(p, "\(member): local header offset") }
                }
                e += 4 + length
            }
            offset = extraEnd + commentLength
            guard local <= bytes.count - 30, try u32(local) == 0x0403_4B50 else { throw DataError(name, "\(member): damaged zip entry") }
            let start = local + 30 + (try u16(local + 26)) + (try u16(local + 28))
            guard compressed <= bytes.count, start <= bytes.count - compressed else { throw DataError(name, "\(member): truncated") }
            guard wanted(member) else { continue }
            let payload = Array(bytes[start..<(start + compressed)])
            let content: [UInt8]
            switch method {
            case 0:
                guard compressed == size else { throw DataError(name, "\(member): stored sizes disagree") }
                content = payload
            case 8: content = try Inflate.inflateRaw(payload, declaredSize: size, name: "\(name):\(member)")
            default: throw DataError(name, "\(member): zip compression method \(method) is not supported")
            }
            members.append((member, content))
        }
        return members
    }
}
