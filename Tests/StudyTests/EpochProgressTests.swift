import XCTest
@testable import Store
@testable import Study

/// A part-way epoch survives a checkpoint bit for bit, in today's layout (F64 tensors) and in
/// the first one (norms as I64 words and sums as hex metadata), which older stores still hold.
final class EpochProgressTests: XCTestCase {
    let progress = EpochProgress(stepsDone: 3, lossSum: 0.1 + 0.2, metricSum: -.leastNonzeroMagnitude, losses: [1.5, .nan, 3],
                                 norms: [1e-300, .pi, 7], learningRate: 0.001)

    func same(_ a: EpochProgress, _ b: EpochProgress) {
        XCTAssertEqual(a.stepsDone, b.stepsDone)
        XCTAssertEqual([a.lossSum, a.metricSum, a.learningRate].map(\.bitPattern), [b.lossSum, b.metricSum, b.learningRate].map(\.bitPattern))
        XCTAssertEqual(a.norms.map(\.bitPattern), b.norms.map(\.bitPattern))
        XCTAssertEqual(a.losses.map(\.bitPattern), b.losses.map(\.bitPattern))
    }

    func testRoundTripThroughAnEncodedCheckpoint() throws {
        let payload = CheckpointPayload(tensors: progress.tensors, metadata: ["partial_steps": "3"])
        XCTAssertEqual(payload.tensor("progress_norms")?.dtype, .f64)
        XCTAssertTrue(String(decoding: payload.payload.prefix(200), as: UTF8.self).contains("\"format\": 2"), "F64 tensors make a format-2 payload")
        XCTAssertTrue(String(decoding: CheckpointPayload(tensors: []).payload.prefix(100), as: UTF8.self).contains("\"format\": 1"))
        let decoded = try CheckpointPayload(blob: payload.encoded().blob)
        same(try XCTUnwrap(try EpochProgress(checkpoint: decoded)), progress)
        XCTAssertNil(try EpochProgress(checkpoint: CheckpointPayload(tensors: [], metadata: ["epoch": "2"])), "an end-of-epoch checkpoint")
    }

    func testTheFirstLayoutStillReads() throws {
        let words = progress.norms.flatMap { v in (0..<8).map { UInt8(truncatingIfNeeded: v.bitPattern >> (8 * UInt64($0))) } }
        let payload = CheckpointPayload(tensors: [
            CheckpointPayload.Tensor(name: "progress_losses", shape: [3], floats: progress.losses),
            CheckpointPayload.Tensor(name: "progress_norms", dtype: .i64, shape: [3], data: words),
        ], metadata: ["partial_steps": "3", "loss_sum": String(progress.lossSum.bitPattern, radix: 16),
                      "metric_sum": String(progress.metricSum.bitPattern, radix: 16),
                      "learning_rate": String(progress.learningRate.bitPattern, radix: 16)])
        same(try XCTUnwrap(try EpochProgress(checkpoint: payload)), progress)
    }

    func testAnIncompleteProgressIsCorrupt() {
        let payload = CheckpointPayload(tensors: [CheckpointPayload.Tensor(name: "progress_losses", shape: [3], floats: [1, 2, 3])],
                                        metadata: ["partial_steps": "3"])
        XCTAssertThrowsError(try EpochProgress(checkpoint: payload)) { XCTAssertEqual("\($0)", "corrupt data: part-way checkpoint lacks its step series") }
    }
}
