// optilog-fuzz: the parsers that read untrusted bytes, as libFuzzer targets. Built normally it
// replays files (a corpus, or crashes found earlier) through a target; built with
// `-sanitize=fuzzer -D FUZZING` (tools/fuzz/run.sh) libFuzzer drives it.
//
//   optilog-fuzz TARGET FILE...        TARGET: checkpoint idx gzip npy pickle npz csv where zip64 nesting
import Data
import Foundation
import Store

enum FuzzTarget: String, CaseIterable {
    case checkpoint, idx, gzip, npy, pickle, npz, csv, `where`, zip64, nesting

    /// Feeds one input to the parser; errors are the expected outcome, only a trap is a finding.
    func run(_ bytes: [UInt8]) {
        switch self {
        case .checkpoint:
            _ = try? CheckpointPayload(blob: bytes)
            _ = try? CheckpointPayload(payload: bytes)
        case .idx: _ = try? IDXArray(bytes: bytes, name: "fuzz")
        case .gzip: _ = try? gunzip(bytes, name: "fuzz")
        case .npy: _ = try? NumPyArray(npy: bytes, name: "fuzz")
        case .pickle:
            // An object array's header, then the fuzzer's bytes as its pickle.
            var header = Array("{'descr': '|O', 'fortran_order': False, 'shape': (3,), }".utf8)
            while (10 + header.count + 1) % 64 != 0 { header.append(0x20) }
            header.append(0x0A)
            let npy = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.count & 255), UInt8(header.count >> 8)] + header + bytes
            _ = try? NumPyArray(npy: npy, name: "fuzz")
        case .npz: _ = try? NumPyArchive(bytes: bytes, name: "fuzz")
        case .csv:
            let text = String(decoding: bytes, as: UTF8.self)
            _ = try? CSVTable(text: text, name: "fuzz")
            _ = try? JenaClimate.load(csv: text, name: "fuzz")
        case .where:
            let text = String(decoding: bytes, as: UTF8.self)
            _ = try? RunFilter(text).sql()
            _ = try? RunFilter.expression(text)
        case .zip64:
            // Structure-aware: the first 48 bytes are the ZIP64 fields (uncompressed size,
            // compressed size, local header offset, directory offset, end-record offset, entry
            // count) of an otherwise well-formed archive; the rest is its member.
            var fields = [UInt64](repeating: 0, count: 6)
            for i in 0..<min(48, bytes.count) { fields[i / 8] |= UInt64(bytes[i]) << (8 * UInt64(i % 8)) }
            _ = try? NumPyArchive(bytes: Zip64.archive(member: Array(bytes.dropFirst(48)), fields: fields), name: "fuzz")
        case .nesting:
            // Deep pickles: the first byte picks a pattern length n, the next two a repeat count
            // (up to 65,535 × 2: deep enough to overflow the stack before tuples were bounded,
            // quick enough for the fuzzer to try many; HostileDataTests nests a million), the
            // next n bytes the pattern, mapped onto the opcodes that nest.
            guard bytes.count >= 4 else { return }
            let n = Int(bytes[0] % 8) + 1, repeats = (Int(bytes[1]) | Int(bytes[2]) << 8) * 2
            let alphabet: [UInt8] = [0x5D, 0x28, 0x85, 0x86, 0x61, 0x65, 0x74, 0x6C, 0x4E, 0x29, 0x94, 0x68, 0x71, 0x00, 0x30, 0x32]
            let pattern = bytes.dropFirst(3).prefix(n).map { alphabet[Int($0) % alphabet.count] }
            var pickle: [UInt8] = [0x80, 0x02]
            pickle.reserveCapacity(2 + repeats * pattern.count + 1)
            for _ in 0..<repeats { pickle += pattern }
            pickle.append(0x2E)
            var header = Array("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }".utf8)
            while (10 + header.count + 1) % 64 != 0 { header.append(0x20) }
            header.append(0x0A)
            _ = try? NumPyArray(npy: [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.count & 255), UInt8(header.count >> 8)] + header + pickle, name: "fuzz")
        }
    }
}

/// A one-member ZIP64 archive with the given directory fields (0: the true value).
enum Zip64 {
    static func archive(member: [UInt8], fields: [UInt64]) -> [UInt8] {
        func le(_ v: UInt64, _ n: Int) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: v >> (8 * UInt64($0))) } }
        func pick(_ i: Int, _ real: UInt64) -> UInt64 { fields[i] == 0 ? real : fields[i] }
        let name = Array("x.npy".utf8)
        var out = le(0x0403_4B50, 4) + le(45, 2) + le(0, 2) + le(0, 2) + le(0, 4) + le(0, 4)
        out += le(0xFFFF_FFFF, 4) + le(0xFFFF_FFFF, 4) + le(UInt64(name.count), 2) + le(0, 2) + name + member
        let directory = UInt64(out.count)
        let extra = le(1, 2) + le(24, 2) + le(pick(0, UInt64(member.count)), 8) + le(pick(1, UInt64(member.count)), 8) + le(pick(2, 0), 8)
        out += le(0x0201_4B50, 4) + le(45, 2) + le(45, 2) + le(0, 2) + le(0, 2) + le(0, 4) + le(0, 4)
        out += le(0xFFFF_FFFF, 4) + le(0xFFFF_FFFF, 4) + le(UInt64(name.count), 2) + le(UInt64(extra.count), 2) + le(0, 2)
        out += le(0, 2) + le(0, 2) + le(0, 4) + le(0xFFFF_FFFF, 4) + name + extra
        let size = UInt64(out.count) - directory, record = UInt64(out.count)
        out += le(0x0606_4B50, 4) + le(44, 8) + le(45, 2) + le(45, 2) + le(0, 4) + le(0, 4)
        out += le(pick(5, 1), 8) + le(pick(5, 1), 8) + le(size, 8) + le(pick(3, directory), 8)
        out += le(0x0706_4B50, 4) + le(0, 4) + le(pick(4, record), 8) + le(1, 4)
        out += le(0x0605_4B50, 4) + le(0, 2) + le(0, 2) + le(0xFFFF, 2) + le(0xFFFF, 2) + le(0xFFFF_FFFF, 4) + le(0xFFFF_FFFF, 4) + le(0, 2)
        return out
    }
}

#if FUZZING
nonisolated(unsafe) let selected: FuzzTarget = {
    guard let name = ProcessInfo.processInfo.environment["OPTILOG_FUZZ_TARGET"], let target = FuzzTarget(rawValue: name) else {
        FileHandle.standardError.write(Data("set OPTILOG_FUZZ_TARGET to one of \(FuzzTarget.allCases.map(\.rawValue).joined(separator: " "))\n".utf8))
        exit(2)
    }
    return target
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    selected.run(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

@_silgen_name("LLVMFuzzerRunDriver")
func runDriver(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
               _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt) -> CInt

/// SwiftPM links an executable's entry point as `<module>_main`; hand control to libFuzzer's driver.
@_cdecl("optilog_fuzz_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    var count = argc
    var arguments: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = argv
    return runDriver(&count, &arguments) { data, size in fuzzOne(data, size) }
}
#else
@main
struct Replay {
    static func main() {
        let arguments = CommandLine.arguments.dropFirst()
        guard let name = arguments.first, let target = FuzzTarget(rawValue: name) else {
            FileHandle.standardError.write(Data("usage: optilog-fuzz \(FuzzTarget.allCases.map(\.rawValue).joined(separator: "|")) FILE...\n".utf8))
            exit(2)
        }
        var count = 0
        for path in arguments.dropFirst() {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { continue }
            let files = isDirectory.boolValue
                ? ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted().map { path + "/" + $0 } : [path]
            for file in files {
                guard let data = FileManager.default.contents(atPath: file) else { continue }
                target.run([UInt8](data))
                count += 1
            }
        }
        print("\(name): \(count) inputs replayed, no crash")
    }
}
#endif
