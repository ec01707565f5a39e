// optilog-fuzz: the parsers that read untrusted bytes, as libFuzzer targets. Built normally it
// replays files (a corpus, or crashes found earlier) through a target; built with
// `-sanitize=fuzzer -D FUZZING` (tools/fuzz/run.sh) libFuzzer drives it.
//
//   optilog-fuzz TARGET FILE...        TARGET: checkpoint idx gzip npy pickle npz csv where
import Data
import Foundation
import Store

enum FuzzTarget: String, CaseIterable {
    case checkpoint, idx, gzip, npy, pickle, npz, csv, `where`

    /// Feeds one input to the parser; errors are the expected outcome, only a trap is a finding.
    func run(_ bytes: [UInt8]) {
        switch self {
        case .checkpoint:
            _ = try? Checkpoint(blob: bytes)
            _ = try? Checkpoint(payload: bytes)
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
        }
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
