import CZlib
import Foundation
import XCTest
@testable import Data

/// Crafted files that once crashed optilog (a trap, a stack overflow, an attempt to allocate
/// exabytes) or were accepted when they must not be: each is now one error naming the file.
final class HostileDataTests: XCTestCase {
    // MARK: ZIP64 directories

    /// A one-member archive whose sizes and offsets live in ZIP64 records, with any of them
    /// replaced by a crafted value.
    func zip64(member: [UInt8], size: UInt64? = nil, compressed: UInt64? = nil, local: UInt64? = nil,
               directoryOffset: UInt64? = nil, recordOffset: UInt64? = nil, entries: UInt64? = nil) -> [UInt8] {
        func le(_ v: UInt64, _ n: Int) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: v >> (8 * UInt64($0))) } }
        let name = Array("x.npy".utf8)
        var out: [UInt8] = []
        out += le(0x0403_4B50, 4) + le(45, 2) + le(0, 2) + le(0, 2) + le(0, 4) + le(0, 4)
        out += le(0xFFFF_FFFF, 4) + le(0xFFFF_FFFF, 4) + le(UInt64(name.count), 2) + le(0, 2) + name + member
        let directory = UInt64(out.count)
        let extra = le(1, 2) + le(24, 2) + le(size ?? UInt64(member.count), 8) + le(compressed ?? UInt64(member.count), 8) + le(local ?? 0, 8)
        out += le(0x0201_4B50, 4) + le(45, 2) + le(45, 2) + le(0, 2) + le(0, 2) + le(0, 4) + le(0, 4)
        out += le(0xFFFF_FFFF, 4) + le(0xFFFF_FFFF, 4) + le(UInt64(name.count), 2) + le(UInt64(extra.count), 2) + le(0, 2)
        out += le(0, 2) + le(0, 2) + le(0, 4) + le(0xFFFF_FFFF, 4) + name + extra
        let directorySize = UInt64(out.count) - directory
        let record = UInt64(out.count)
        out += le(0x0606_4B50, 4) + le(44, 8) + le(45, 2) + le(45, 2) + le(0, 4) + le(0, 4)
        out += le(entries ?? 1, 8) + le(entries ?? 1, 8) + le(directorySize, 8) + le(directoryOffset ?? directory, 8)
        out += le(0x0706_4B50, 4) + le(0, 4) + le(recordOffset ?? record, 8) + le(1, 4)
        out += le(0x0605_4B50, 4) + le(0, 2) + le(0, 2) + le(0xFFFF, 2) + le(0xFFFF, 2) + le(0xFFFF_FFFF, 4) + le(0xFFFF_FFFF, 4) + le(0, 2)
        return out
    }

    func npy(_ header: String, payload: [UInt8]) -> [UInt8] {
        var h = Array(header.utf8)
        while (10 + h.count + 1) % 64 != 0 { h.append(0x20) }
        h.append(0x0A)
        return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(h.count & 255), UInt8(h.count >> 8)] + h + payload
    }

    func testZIP64FieldsWithHugeSizesAndOffsetsAreErrors() throws {
        let member = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", payload: [0, 0, 0x80, 0x3F])
        XCTAssertEqual(try NumPyArchive(bytes: zip64(member: member), name: "z").array("x", in: "z").floats, [1], "the well-formed archive reads")
        let huge: [UInt64] = [UInt64(Int64.max), UInt64.max, 1 << 62, 0xFFFF_FFFF_FFFF]
        for value in huge {
            for (label, archive) in [("uncompressed size", zip64(member: member, size: value)),
                                     ("compressed size", zip64(member: member, compressed: value)),
                                     ("local header offset", zip64(member: member, local: value)),
                                     ("directory offset", zip64(member: member, directoryOffset: value)),
                                     ("ZIP64 end record offset", zip64(member: member, recordOffset: value)),
                                     ("entry count", zip64(member: member, entries: value))] {
                XCTAssertThrowsError(try NumPyArchive(bytes: archive, name: "z"), "\(label) \(value)") { error in
                    XCTAssertTrue(error is DataError, "\(label): \(error)")
                    XCTAssertTrue("\(error)".hasPrefix("z"), "\(error)")
                }
            }
        }
        // A deflated member that declares far more than deflate can expand to is refused before
        // any memory is taken for it.
        XCTAssertThrowsError(try Inflate.inflateRaw([0x03, 0x00], declaredSize: 1 << 40, name: "m")) {
            XCTAssertEqual("\($0)", "m: declares 1099511627776 bytes from 2 compressed, more than deflate can hold")
        }
    }

    // MARK: pickles

    func objectArray(_ pickle: [UInt8]) -> [UInt8] {
        npy("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", payload: pickle)
    }

    /// Tuples nested a million levels deep overflowed the stack; lists nested as deep are freed
    /// without recursion.
    func testPicklesNestedAMillionLevelsDeepAreErrors() throws {
        let depth = 1_000_000
        let tuples: [UInt8] = [0x80, 0x02, 0x4E] + [UInt8](repeating: 0x85, count: depth) + [0x2E]
        XCTAssertThrowsError(try NumPyArray(npy: objectArray(tuples), name: "t")) {
            XCTAssertEqual("\($0)", "t: pickled object: tuples nested more than 64 levels deep (at byte 68)")
        }
        // A tuple of depth 40 shared through DUP: 3⁴⁰ paths, read at once (it once walked them all).
        let shared: [UInt8] = [0x80, 0x02, 0x29] + (0..<40).flatMap { _ in [UInt8]([0x32, 0x32, 0x87]) } + [0x2E]
        let started = Date()
        XCTAssertThrowsError(try NumPyArray(npy: objectArray(shared), name: "d")) { XCTAssertEqual("\($0)", "d: pickled object is not a NumPy array") }
        XCTAssertLessThan(Date().timeIntervalSince(started), 5)
        let lists: [UInt8] = [0x80, 0x02] + [UInt8](repeating: 0x5D, count: depth) + [UInt8](repeating: 0x61, count: depth - 1) + [0x2E]
        XCTAssertThrowsError(try NumPyArray(npy: objectArray(lists), name: "l")) {
            XCTAssertEqual("\($0)", "l: pickled object is not a NumPy array")
        }
    }

    /// An object array pickled by NumPy 2.4 (protocol 3) holding the sequence [1, 2⁶³−1].
    static let hugeWordID: [UInt8] = {
        let hex = "8003636e756d70792e5f636f72652e6d756c746961727261790a5f7265636f6e7374727563740a7100636e756d70790a6e6461727261790a71014b008571024301627103877104527105284b014b01857106636e756d70790a64747970650a710758020000004f387108898887710952710a284b0358010000007c710b4e4e4e4affffffff4affffffff4b3f74710c62895d710d5d710e284b018a08ffffffffffffff7f656174710f622e"
        var bytes: [UInt8] = []
        var i = hex.startIndex
        while i < hex.endIndex {
            let j = hex.index(i, offsetBy: 2)
            bytes.append(UInt8(hex[i..<j], radix: 16)!)
            i = j
        }
        return bytes
    }()

    /// A stored zip of `.npy` members.
    func zip(_ members: [(String, [UInt8])]) -> [UInt8] {
        func le(_ v: Int, _ n: Int) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
        var out: [UInt8] = [], directory: [UInt8] = []
        for (name, data) in members {
            let n = Array((name + ".npy").utf8), offset = out.count
            let crc = data.withUnsafeBufferPointer { Int(crc32(0, $0.baseAddress, uInt($0.count))) }
            out += le(0x0403_4B50, 4) + le(20, 2) + le(0, 2) + le(0, 2) + le(0, 4) + le(crc, 4) + le(data.count, 4) + le(data.count, 4)
            out += le(n.count, 2) + le(0, 2) + n + data
            directory += le(0x0201_4B50, 4) + le(20, 2) + le(20, 2) + le(0, 2) + le(0, 2) + le(0, 4) + le(crc, 4) + le(data.count, 4)
            directory += le(data.count, 4) + le(n.count, 2) + le(0, 2) + le(0, 2) + le(0, 2) + le(0, 2) + le(0, 4) + le(offset, 4) + n
        }
        let start = out.count
        out += directory
        out += le(0x0605_4B50, 4) + le(0, 2) + le(0, 2) + le(members.count, 2) + le(members.count, 2) + le(directory.count, 4) + le(start, 4) + le(0, 2)
        return out
    }

    func temporary(_ bytes: [UInt8], _ name: String) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("optilog-\(UUID().uuidString)-\(name)")
        try Data(bytes).write(to: url)
        return url.path
    }

    /// A word id of 2⁶³−1 overflowed when Keras's `index_from` was added.
    func testAnIMDBWordIDNearIntMaxIsAnError() throws {
        let labels = npy("{'descr': '<i8', 'fortran_order': False, 'shape': (1,), }", payload: [1, 0, 0, 0, 0, 0, 0, 0])
        let path = try temporary(zip([("x_train", objectArray(Self.hugeWordID)), ("y_train", labels),
                                      ("x_test", objectArray(Self.hugeWordID)), ("y_test", labels)]), "imdb.npz")
        XCTAssertThrowsError(try IMDB.load(npz: path)) {
            XCTAssertEqual("\($0)", "\(path): x_train[0] holds word id 9223372036854775807, out of range")
        }
    }

    /// NaN and infinities in an .npz are refused, as the CSV readers refuse them.
    func testNonFiniteValuesInAnNpzAreRefused() throws {
        func floats(_ values: [Float], shape: String) -> [UInt8] {
            var payload: [UInt8] = []
            for v in values { for b in 0..<4 { payload.append(UInt8(truncatingIfNeeded: v.bitPattern >> UInt32(8 * b))) } }
            return npy("{'descr': '<f4', 'fortran_order': False, 'shape': \(shape), }", payload: payload)
        }
        var x: [Float] = (0..<(20 * 13)).map { i in Float(i % 7) + Float(i / 13) * 0.01 }
        let y: [Float] = (0..<20).map { Float($0) }
        let good = try temporary(zip([("x", floats(x, shape: "(20, 13)")), ("y", floats(y, shape: "(20,)"))]), "boston_housing.npz")
        XCTAssertEqual(try BostonHousing.load(path: good).train.count, 16)
        x[5 * 13 + 2] = Float.nan
        let nan = try temporary(zip([("x", floats(x, shape: "(20, 13)")), ("y", floats(y, shape: "(20,)"))]), "boston_housing.npz")
        XCTAssertThrowsError(try BostonHousing.load(path: nan)) { XCTAssertEqual("\($0)", "\(nan): array 'x' holds a non-finite value (nan) at flat index 67") }
        var infinite = y
        infinite[3] = -.infinity
        let finite: [Float] = x.map { $0.isNaN ? 0 : $0 }
        let inf = try temporary(zip([("x", floats(finite, shape: "(20, 13)")), ("y", floats(infinite, shape: "(20,)"))]), "b.npz")
        XCTAssertThrowsError(try BostonHousing.load(path: inf)) { XCTAssertEqual("\($0)", "\(inf): array 'y' holds a non-finite value (-inf) at flat index 3") }
    }

    // MARK: gzip

    func gzipMember(_ bytes: [UInt8]) -> [UInt8] {
        var stream = z_stream()
        deflateInit2_(&stream, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: bytes.count + 1024)
        var input = bytes
        let produced = input.withUnsafeMutableBufferPointer { src in
            output.withUnsafeMutableBufferPointer { dst -> Int in
                stream.next_in = src.baseAddress
                stream.avail_in = uInt(src.count)
                stream.next_out = dst.baseAddress
                stream.avail_out = uInt(dst.count)
                deflate(&stream, Z_FINISH)
                return dst.count - Int(stream.avail_out)
            }
        }
        return Array(output.prefix(produced))
    }

    func testGzipMembersAreAllReadAndInflatingIsBounded() throws {
        let text = gzipMember(Array("date,x\n".utf8)) + gzipMember(Array("2026-01-01,1\n".utf8))
        XCTAssertEqual(String(decoding: try gunzip(text, name: "m"), as: UTF8.self), "date,x\n2026-01-01,1\n", "every member, as gzip -d gives")
        XCTAssertEqual(try gunzip(text + [0, 0, 0, 0], name: "m").count, 20, "zero padding after the last member")
        XCTAssertThrowsError(try gunzip(text + Array("junk".utf8), name: "g")) {
            XCTAssertEqual("\($0)", "g: holds 4 bytes after its compressed data that are not another gzip member")
        }
        // A bomb: 64 MiB of zeros in 64 KiB. Refused at the limit, before holding it all.
        let bomb = gzipMember([UInt8](repeating: 0, count: 64 << 20))
        XCTAssertLessThan(bomb.count, 100_000)
        XCTAssertThrowsError(try Inflate.gunzip(bomb, name: "b", limit: 1 << 20)) { XCTAssertEqual("\($0)", "b: decompresses to more than 1048576 bytes") }
        XCTAssertEqual(try Inflate.gunzip(bomb, name: "b").count, 64 << 20)
        // An IDX file inflates no further than its header declares: 100 labels declared, a
        // megabyte of them inflated.
        let idx = gzipMember([0, 0, 8, 1, 0, 0, 0, 100] + [UInt8](repeating: 1, count: 1 << 20))
        let idxPath = try temporary(idx, "labels.gz")
        XCTAssertThrowsError(try IDXArray(path: idxPath)) { XCTAssertEqual("\($0)", "\(idxPath): decompresses to more than 108 bytes") }
        // A member whose trailer lies about its size is caught by zlib's own length check.
        var lying = gzipMember(Array("hello".utf8))
        lying[lying.count - 4] = 2
        XCTAssertThrowsError(try gunzip(lying, name: "l")) { XCTAssertTrue("\($0)".contains("l: damaged compressed data"), "\($0)") }
        // A raw deflate member that inflates past the size it declares stops there.
        let raw = Array(gzipMember([UInt8](repeating: 7, count: 10_000)).dropFirst(10).dropLast(8))
        XCTAssertThrowsError(try Inflate.inflateRaw(raw, declaredSize: 100, name: "r")) { XCTAssertEqual("\($0)", "r: inflates to more than the 100 bytes it declares") }
        XCTAssertEqual(try Inflate.inflateRaw(raw, declaredSize: 10_000, name: "r"), [UInt8](repeating: 7, count: 10_000))
    }

    // MARK: text

    /// A CSV saved with a UTF-8 byte-order mark (as Excel saves it) reads like one without.
    func testACSVWithAByteOrderMarkReads() throws {
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("fixtures/boston_house_prices.csv")
        let plain = [UInt8](try Data(contentsOf: fixtures))
        let marked = try temporary([0xEF, 0xBB, 0xBF] + plain, "boston_house_prices.csv")
        XCTAssertEqual(try BostonHousing.load(path: marked).train.x.scalars, try BostonHousing.load(path: fixtures.path).train.x.scalars)
        XCTAssertEqual(try CSVTable(text: "\u{FEFF}a,b\n1,2\n", name: "t").header, ["a", "b"])
    }
}
