import Foundation

/// The datasets of an HDF5 file as h5py writes it by default — Keras 3's `model.weights.h5`
/// inside a `.keras` file: superblock version 0 or 1 with 8-byte offsets, version-1 object
/// headers, groups as symbol tables (version-1 B-trees and local heaps), contiguous or compact
/// float datasets. Anything else is refused in one line. Every address and size is checked
/// against the file before it is used: a damaged file is an error, never a trap.
struct HDF5File {
    let bytes: [UInt8]
    let name: String
    /// Every dataset's object header, by its path (`layers/dense/vars/0`).
    private(set) var datasets: [String: Int] = [:]

    init(bytes: [UInt8], name: String) throws {
        self.bytes = bytes
        self.name = name
        let signature: [UInt8] = [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]
        guard bytes.count >= 96, Array(bytes[0..<8]) == signature else { throw DataError(name, "is not an HDF5 file") }
        let version = Int(bytes[8])
        guard version <= 1 else { throw unsupported("superblock version \(version) (h5py's default is 0)") }
        guard bytes[13] == 8, bytes[14] == 8 else { throw unsupported("\(bytes[13])-byte offsets") }
        let rootEntry = (version == 0 ? 24 : 28) + 32
        var visited: Set<Int> = []
        try walk(header: try offset(rootEntry + 8), path: "", visited: &visited, depth: 0)
    }

    private func unsupported(_ what: String) -> DataError {
        DataError(name, "uses HDF5 \(what), which optilog does not read; save the weights with np.savez(\"weights.npz\", *model.get_weights())")
    }

    private func damaged(_ what: String) -> DataError { DataError(name, "damaged HDF5 file (\(what))") }

    /// A little-endian unsigned field of `n` bytes at `o`, inside the file.
    private func field(_ o: Int, _ n: Int) throws -> UInt64 {
        guard o >= 0, n <= 8, o <= bytes.count - n else { throw damaged("a field lies outside the file") }
        var v: UInt64 = 0
        for i in 0..<n { v |= UInt64(bytes[o + i]) << (8 * UInt64(i)) }
        return v
    }

    /// An address or size, which must lie inside the file.
    private func offset(_ o: Int) throws -> Int {
        let v = try field(o, 8)
        guard v < UInt64(bytes.count) else { throw damaged("address \(v) beyond the file's \(bytes.count) bytes") }
        return Int(v)
    }

    private func signature(_ o: Int, _ text: String) throws {
        guard o >= 0, o + 4 <= bytes.count, String(decoding: bytes[o..<(o + 4)], as: UTF8.self) == text else {
            throw damaged("no \(text) at \(o)")
        }
    }

    /// The messages of a version-1 object header (following continuation blocks): (type, data offset, size).
    private func messages(_ header: Int) throws -> [(type: Int, at: Int, size: Int)] {
        guard try field(header, 1) == 1 else { throw unsupported("object header version \(try field(header, 1))") }
        let count = Int(try field(header + 2, 2))
        var blocks = [(start: header + 16, end: header + 16 + Int(try field(header + 8, 4)))]
        var out: [(type: Int, at: Int, size: Int)] = []
        while let block = blocks.first, out.count < count {
            blocks.removeFirst()
            guard block.end <= bytes.count else { throw damaged("an object header runs past the end") }
            var p = block.start
            while p + 8 <= block.end, out.count < count {
                let type = Int(try field(p, 2)), size = Int(try field(p + 2, 2))
                guard p + 8 + size <= block.end else { throw damaged("a header message runs past its block") }
                if type == 0x10 { blocks.append((try offset(p + 8), try offset(p + 8) + (try offset(p + 16)))) }
                out.append((type, p + 8, size))
                p += 8 + size
            }
            guard blocks.count < 1000 else { throw damaged("too many continuation blocks") }
        }
        return out
    }

    private mutating func walk(header: Int, path: String, visited: inout Set<Int>, depth: Int) throws {
        guard depth < 64, visited.insert(header).inserted else { throw damaged("groups nest in a cycle") }
        let found = try messages(header)
        if let table = found.first(where: { $0.type == 0x11 }) {
            let (tree, heap) = (try offset(table.at), try offset(table.at + 8))
            try signature(heap, "HEAP")
            let names = try offset(heap + 24)
            var budget = 100_000
            for (nameOffset, child) in try groupEntries(tree, depth: 0, budget: &budget) {
                var end = names + nameOffset
                while end < bytes.count, bytes[end] != 0 { end += 1 }
                guard names + nameOffset < bytes.count else { throw damaged("a link name lies outside the file") }
                let child_name = String(decoding: bytes[(names + nameOffset)..<end], as: UTF8.self)
                try walk(header: child, path: path.isEmpty ? child_name : path + "/" + child_name, visited: &visited, depth: depth + 1)
            }
        } else if found.contains(where: { $0.type == 0x08 }) {
            datasets[path] = header
        }
    }

    /// (link name offset in the local heap, object header) of every entry of a group's B-tree.
    /// (`budget`: nodes left to visit, so that a damaged tree pointing at itself ends.)
    private func groupEntries(_ node: Int, depth: Int, budget: inout Int) throws -> [(Int, Int)] {
        budget -= 1
        guard depth < 32, budget > 0 else { throw damaged("a group B-tree deeper than 32 levels or larger than 100,000 entries") }
        try signature(node, "TREE")
        guard try field(node + 4, 1) == 0 else { throw damaged("a group B-tree of another node type") }
        let level = Int(try field(node + 5, 1)), used = Int(try field(node + 6, 2))
        var out: [(Int, Int)] = []
        for i in 0..<used {
            let child = try offset(node + 24 + 8 + 16 * i)
            if level > 0 {
                out += try groupEntries(child, depth: depth + 1, budget: &budget)
            } else {
                try signature(child, "SNOD")
                let symbols = Int(try field(child + 6, 2))
                budget -= symbols
                guard budget > 0 else { throw damaged("a group with more than 100,000 entries") }
                for s in 0..<symbols {
                    let entry = child + 8 + 40 * s
                    out.append((try offset(entry), try offset(entry + 8)))
                }
            }
        }
        return out
    }

    /// A float dataset's shape and values as Float32.
    func dataset(_ path: String) throws -> (shape: [Int], values: [Float]) {
        guard let header = datasets[path] else { throw DataError(name, "has no dataset \(path)") }
        let found = try messages(header)
        guard let space = found.first(where: { $0.type == 0x01 }), let type = found.first(where: { $0.type == 0x03 }),
              let layout = found.first(where: { $0.type == 0x08 }) else { throw damaged("\(path) lacks its dataspace, datatype or layout") }
        let spaceVersion = Int(try field(space.at, 1)), rank = Int(try field(space.at + 1, 1))
        let dimsAt = spaceVersion == 1 ? space.at + 8 : space.at + 4
        let shape = try (0..<rank).map { i -> Int in
            let d = try field(dimsAt + 8 * i, 8)
            guard d < UInt64(Int32.max) else { throw damaged("\(path) has a dimension of \(d)") }
            return Int(d)
        }
        var count = 1
        for d in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: d)
            guard !overflow, product <= bytes.count else { throw damaged("\(path) has more values than the file has bytes") }
            count = product
        }
        let typeClass = Int(try field(type.at, 1)) & 0x0F, bigEndian = (try field(type.at + 1, 1)) & 1 == 1
        let size = Int(try field(type.at + 4, 4))
        guard typeClass == 1, !bigEndian, size == 4 || size == 8 else {
            throw DataError(name, "\(path) is not a little-endian float32 or float64 array")
        }
        guard try field(layout.at, 1) == 3 else { throw unsupported("data layout version \(try field(layout.at, 1))") }
        let data: Int
        switch try field(layout.at + 1, 1) {
        case 0: data = layout.at + 4
        case 1:
            guard count > 0 else { return (shape, []) }
            data = try offset(layout.at + 2)
        default: throw unsupported("chunked or virtual storage (\(path))")
        }
        guard count <= (bytes.count - data) / size else { throw damaged("\(path) runs past the end of the file") }
        let values = try (0..<count).map { i -> Float in
            let raw = try field(data + i * size, size)
            return size == 4 ? Float(bitPattern: UInt32(raw)) : Float(Double(bitPattern: raw))
        }
        return (shape, values)
    }
}
