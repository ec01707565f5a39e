import Foundation
import XCTest
@testable import Engine
@testable import Store

final class CheckpointTests: XCTestCase {
    /// A real model's weights, its optimizer's state and counters, encoded and decoded.
    func sampleCheckpoint() throws -> CheckpointPayload {
        let model = try StudyTask.jena.build(seed: 4)
        let optimizer = try Optimizers.make("nadam", settings: [])
        for p in model.parameters { p.gradient = p.value.map { $0 * 0.5 } }
        optimizer.apply(to: model.parameters)
        var tensors = model.parameters.map { CheckpointPayload.Tensor(name: $0.name, shape: $0.shape, floats: $0.value) }
        tensors.append(CheckpointPayload.Tensor(name: "optimizer", dtype: .u8, shape: [optimizer.state.bytes.count], data: optimizer.state.bytes))
        tensors.append(CheckpointPayload.Tensor(name: "special", shape: [4], floats: [.nan, -0.0, .infinity, .leastNonzeroMagnitude]))
        tensors.append(CheckpointPayload.Tensor(name: "empty", shape: [0, 3], floats: []))
        return CheckpointPayload(tensors: tensors, metadata: ["epoch": "3", "step": "96", "rng": "shuffle:3", "configuration": "abc"])
    }

    func testRoundTripIsBitExact() throws {
        let checkpoint = try sampleCheckpoint()
        let encoded = checkpoint.encoded()
        let decoded = try CheckpointPayload(blob: encoded.blob, expectedSHA256: encoded.payloadSHA256)
        XCTAssertEqual(decoded, checkpoint)
        XCTAssertEqual(decoded.tensor("special")?.floats?.map(\.bitPattern), [Float.nan.bitPattern, (-0.0 as Float).bitPattern,
                                                                                Float.infinity.bitPattern, Float.leastNonzeroMagnitude.bitPattern])
        XCTAssertEqual(encoded.payloadBytes, checkpoint.payload.count)
        XCTAssertEqual(encoded.payloadSHA256.count, 64)
        // The recorded checksum is enforced.
        XCTAssertThrowsError(try CheckpointPayload(blob: encoded.blob, expectedSHA256: String(repeating: "0", count: 64))) {
            XCTAssertTrue("\($0)".contains("does not match the recorded"), "\($0)")
        }
    }

    func testPayloadLayoutIsSelfDescribing() throws {
        let payload = CheckpointPayload(tensors: [CheckpointPayload.Tensor(name: "w", shape: [2], floats: [1, 2])], metadata: ["epoch": "1"]).payload
        XCTAssertEqual(Array(payload[0..<8]), Array("OPTICKPT".utf8))
        let headerLength = Int(payload[8]) | Int(payload[9]) << 8
        let header = String(decoding: payload[16..<(16 + headerLength)], as: UTF8.self)
        XCTAssertEqual(header, #"{"format": 1, "metadata": {"epoch": "1"}, "tensors": [{"name": "w", "dtype": "F32", "shape": [2], "offsets": [0, 8]}]}"#)
        XCTAssertEqual(Array(payload[(16 + headerLength)...]), [0, 0, 0x80, 0x3F, 0, 0, 0, 0x40])
    }

    /// Truncations, bit flips, byte changes and random blobs: decoding only ever throws.
    func testDamagedBlobsOnlyEverThrow() throws {
        let encoded = try sampleCheckpoint().encoded()
        let blob = encoded.blob
        var rng = RandomStream(seed: 77, purpose: .data)
        var failures = 0, cases = 0
        func attempt(_ bytes: [UInt8], checksum: Bool) {
            cases += 1
            do { _ = try CheckpointPayload(blob: bytes, expectedSHA256: checksum ? encoded.payloadSHA256 : nil) } catch { failures += 1 }
        }
        for length in stride(from: 0, to: blob.count, by: max(1, blob.count / 400)) { attempt(Array(blob.prefix(length)), checksum: true) }
        for _ in 0..<1500 {
            var bytes = blob
            let i = rng.nextInt(below: bytes.count)
            bytes[i] ^= UInt8(1 << rng.nextInt(below: 8))
            attempt(bytes, checksum: true)
        }
        for _ in 0..<500 { attempt((0..<rng.nextInt(below: 600)).map { _ in UInt8(rng.nextInt(below: 256)) }, checksum: false) }
        for _ in 0..<200 { attempt(Array("OPTZ".utf8) + [1, 4, 0, 0] + (0..<rng.nextInt(below: 100)).map { _ in UInt8(rng.nextInt(below: 256)) }, checksum: false) }
        XCTAssertGreaterThan(cases, 2500)
        XCTAssertEqual(failures, cases, "every damaged blob must be refused")
    }

    /// The payload parser on its own (after a checksum that a forged blob could satisfy):
    /// mutated headers and data never trap; consistent ones decode.
    func testDamagedPayloadsOnlyEverThrow() throws {
        let payload = try sampleCheckpoint().payload
        var rng = RandomStream(seed: 78, purpose: .data)
        let headerEnd = 16 + (Int(payload[8]) | Int(payload[9]) << 8 | Int(payload[10]) << 16)
        var refused = 0
        for n in 0..<3000 {
            var bytes = payload
            // Mostly in the header, where the structure is.
            let i = n % 3 == 0 ? rng.nextInt(below: bytes.count) : rng.nextInt(below: headerEnd)
            bytes[i] = UInt8(rng.nextInt(below: 256))
            if n % 7 == 0 { bytes = Array(bytes.prefix(rng.nextInt(below: bytes.count))) }
            do { _ = try CheckpointPayload(payload: bytes) } catch { refused += 1 }
        }
        XCTAssertGreaterThan(refused, 1000)
        for (bad, message) in [
            (#"{"format": 1, "metadata": {}, "tensors": [{"name": "w", "dtype": "F32", "shape": [3], "offsets": [0, 8]}]}"#, "8 bytes for shape [3]"),
            (#"{"format": 1, "metadata": {}, "tensors": [{"name": "w", "dtype": "F16", "shape": [1], "offsets": [0, 8]}]}"#, "unknown dtype"),
            (#"{"format": 2, "metadata": {}, "tensors": [{"name": "w", "dtype": "F64", "shape": [2], "offsets": [0, 8]}]}"#, "8 bytes for shape [2]"),
            (#"{"format": 1, "metadata": {}, "tensors": [{"name": "w", "dtype": "F64", "shape": [1], "offsets": [0, 8]}]}"#, "F64 in a format-1 payload"),
            (#"{"format": 1, "metadata": {}, "tensors": [{"name": "w", "dtype": "F32", "shape": [4], "offsets": [4, 20]}]}"#, "not where the previous tensor ended"),
            (#"{"format": 1, "metadata": {}, "tensors": [{"name": "w", "dtype": "F32", "shape": [9223372036854775807, 4], "offsets": [0, 8]}]}"#, "shape too large"),
            (#"{"format": 3, "metadata": {}, "tensors": []}"#, "unknown format"),
            (#"{"format": 1, "metadata": {}, "tensors": []}"#, "bytes after the last tensor"),
        ] {
            let json = Array(bad.utf8)
            var bytes = Array("OPTICKPT".utf8)
            withUnsafeBytes(of: UInt64(json.count).littleEndian) { bytes += $0 }
            bytes += json + [UInt8](repeating: 0, count: 8)
            XCTAssertThrowsError(try CheckpointPayload(payload: bytes)) { XCTAssertTrue("\($0)".contains(message), "\($0) — expected \(message)") }
        }
    }

    func testShuffleHelpsCompression() throws {
        let weights = try StudyTask.fashionMNIST.build(seed: 1).parameters
        let checkpoint = CheckpointPayload(tensors: weights.map { CheckpointPayload.Tensor(name: $0.name, shape: $0.shape, floats: $0.value) })
        let raw = checkpoint.payload
        let shuffled = checkpoint.encoded().blob.count
        let plain = Zstd.compress(raw).count
        XCTAssertLessThan(shuffled, plain, "byte shuffling should make zstd smaller on Float32 weights")
        XCTAssertLessThan(shuffled, raw.count)
        XCTAssertEqual(ByteShuffle.unshuffle(ByteShuffle.shuffle(Array(raw.prefix(1001)), elementSize: 4), elementSize: 4), Array(raw.prefix(1001)))
    }
}
