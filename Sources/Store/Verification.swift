import Foundation
import GRDB

/// One thing `verify` checked: where, whether it is sound, and what it found.
public struct Finding: Sendable, Equatable {
    public var scope: String
    public var ok: Bool
    public var detail: String
}

extension ReadOnlyStore {
    /// Checks the store (SQLite's integrity and foreign-key checks) and each run — or just `run`:
    /// its epochs are 1…epochs_done without gaps, its best-so-far is its epochs' best, and every
    /// checkpoint decodes, hashes to its recorded SHA-256, carries the run's configuration
    /// fingerprint, and holds the optimizer state whose checksum the log recorded.
    public func verify(run: Int64? = nil) throws -> [Finding] {
        var findings: [Finding] = []
        let integrity = try rows("PRAGMA integrity_check").rows.compactMap { String.fromDatabaseValue($0[0]) }
        findings.append(Finding(scope: "store", ok: integrity == ["ok"], detail: integrity == ["ok"] ? "integrity check ok" : "integrity check: " + integrity.prefix(5).joined(separator: "; ")))
        let foreign = try rows("PRAGMA foreign_key_check").rows
        findings.append(Finding(scope: "store", ok: foreign.isEmpty, detail: foreign.isEmpty ? "foreign keys ok" : "\(foreign.count) rows refer to missing rows"))

        let runs = try rows("SELECT id, epochs_done, best_val_loss, best_epoch, configuration_fingerprint FROM runs WHERE ? IS NULL OR id = ? ORDER BY id",
                            arguments: [run, run]).rows
        if let run, runs.isEmpty { throw StoreError.notFound("run \(run)") }
        for r in runs {
            findings += try verifyRun(r)
        }
        return findings
    }

    private func verifyRun(_ r: [DatabaseValue]) throws -> [Finding] {
        let id = Int64.fromDatabaseValue(r[0]) ?? 0, done = Int.fromDatabaseValue(r[1]) ?? 0
        let recordedBest = Double.fromDatabaseValue(r[2]), recordedEpoch = Int.fromDatabaseValue(r[3])
        let fingerprint = String.fromDatabaseValue(r[4]) ?? ""
        let scope = "run \(id)"
        var problems: [String] = []
        var numbers: [Int] = []
        var checksums: [Int: String] = [:]
        var best: Double?, bestEpoch: Int?
        for e in try rows("SELECT epoch, val_loss, optimizer_checksum FROM epochs WHERE run_id = ? ORDER BY epoch", arguments: [id]).rows {
            guard let n = Int.fromDatabaseValue(e[0]) else { continue }
            numbers.append(n)
            checksums[n] = String.fromDatabaseValue(e[2]) ?? ""
            if let v = Double.fromDatabaseValue(e[1]), best == nil || v < best! {
                best = v
                bestEpoch = n
            }
        }
        if numbers != Array(stride(from: 1, through: done, by: 1)) {
            let range = numbers.isEmpty ? "none" : "\(numbers.first!)…\(numbers.last!)"
            problems.append("epochs logged \(range) (\(numbers.count)), epochs_done says \(done)")
        }
        if best != recordedBest || bestEpoch != recordedEpoch {
            let said = recordedBest.map { "\($0) at epoch \(recordedEpoch ?? 0)" } ?? "none"
            let found = best.map { "\($0) at epoch \(bestEpoch ?? 0)" } ?? "none"
            problems.append("best_val_loss \(said) but the epochs' best is \(found)")
        }
        var findings = [Finding(scope: scope, ok: problems.isEmpty,
                                detail: problems.isEmpty ? "\(numbers.count) epochs, best-so-far consistent" : problems.joined(separator: "; "))]
        let checkpoints = try rows("""
            SELECT epoch, payload_sha256, optimizer_checksum, configuration_fingerprint, blob FROM checkpoints WHERE run_id = ? ORDER BY epoch
            """, arguments: [id]).rows
        for c in checkpoints {
            let epoch = Int.fromDatabaseValue(c[0]) ?? 0
            findings.append(verifyCheckpoint(scope: "\(scope) checkpoint e\(epoch)", row: c, runFingerprint: fingerprint,
                                             loggedChecksum: checksums[epoch], partialAllowed: epoch == done + 1))
        }
        return findings
    }

    private func verifyCheckpoint(scope: String, row c: [DatabaseValue], runFingerprint: String, loggedChecksum: String?,
                                  partialAllowed: Bool) -> Finding {
        let sha = String.fromDatabaseValue(c[1]) ?? "", recordedState = String.fromDatabaseValue(c[2]) ?? ""
        guard String.fromDatabaseValue(c[3]) == runFingerprint else {
            return Finding(scope: scope, ok: false, detail: "made with another configuration than the run's")
        }
        guard let blob = Data.fromDatabaseValue(c[4]) else { return Finding(scope: scope, ok: false, detail: "blob is not a blob") }
        let checkpoint: Checkpoint
        do {
            checkpoint = try Checkpoint(blob: Array(blob), expectedSHA256: sha)
        } catch {
            return Finding(scope: scope, ok: false, detail: "\(error)")
        }
        guard let state = checkpoint.tensor("optimizer_state") else { return Finding(scope: scope, ok: false, detail: "holds no optimizer state") }
        let checksum = sha256Hex(state.data)
        guard checksum == recordedState else {
            return Finding(scope: scope, ok: false, detail: "optimizer state hashes to \(checksum.prefix(12))…, recorded \(recordedState.prefix(12))…")
        }
        if let loggedChecksum {
            guard loggedChecksum == checksum else {
                return Finding(scope: scope, ok: false, detail: "optimizer state \(checksum.prefix(12))… is not the epoch's logged \(loggedChecksum.prefix(12))…")
            }
        } else if !(partialAllowed && checkpoint.metadata["partial_steps"] != nil) {
            return Finding(scope: scope, ok: false, detail: "no logged epoch for this checkpoint")
        }
        let part = checkpoint.metadata["partial_steps"].map { ", part-way (\($0) steps)" } ?? ""
        return Finding(scope: scope, ok: true, detail: "\(blob.count) bytes decode to \(checkpoint.tensors.count) tensors, SHA-256 and optimizer checksum match\(part)")
    }
}
