import Basics
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

        // Each run read on its own: a run whose row does not decode (a damaged or hand-edited
        // store) is a finding, and the others are still checked.
        let ids = try read { db in try Int64.fetchAll(db, sql: "SELECT id FROM runs WHERE ? IS NULL OR id = ? ORDER BY id", arguments: [run, run]) }
        if let run, ids.isEmpty { throw StoreError.notFound("run \(run)") }
        for id in ids {
            do {
                guard let r = try self.run(id) else { continue }
                findings += try verifyRun(r)
            } catch {
                findings.append(Finding(scope: "run \(id)", ok: false, detail: "its row cannot be read: \(error)"))
            }
        }
        return findings
    }

    private func verifyRun(_ run: Run) throws -> [Finding] {
        let scope = "run \(run.id)", done = run.epochsDone
        var problems: [String] = []
        var epochs: [Epoch] = []
        var epochsReadable = true
        do { epochs = try self.epochs(run: run.id) } catch {
            problems.append("its epochs cannot be read: \(error)")
            epochsReadable = false
        }
        let numbers = epochs.map(\.epoch)
        let checksums = Dictionary(epochs.map { ($0.epoch, $0.optimizerChecksum) }, uniquingKeysWith: { a, _ in a })
        var best: Double?, bestEpoch: Int?
        for e in epochs {
            if let v = e.valLoss, best == nil || v < best! {
                best = v
                bestEpoch = e.epoch
            }
        }
        if epochsReadable, numbers != Array(stride(from: 1, through: done, by: 1)) {
            let range = numbers.isEmpty ? "none" : "\(numbers.first!)…\(numbers.last!)"
            problems.append("epochs logged \(range) (\(numbers.count)), epochs_done says \(done)")
        }
        if epochsReadable, best != run.bestValLoss || bestEpoch != run.bestEpoch {
            let said = run.bestValLoss.map { "\($0) at epoch \(run.bestEpoch ?? 0)" } ?? "none"
            let found = best.map { "\($0) at epoch \(bestEpoch ?? 0)" } ?? "none"
            problems.append("best_val_loss \(said) but the epochs' best is \(found)")
        }
        var findings = [Finding(scope: scope, ok: problems.isEmpty,
                                detail: problems.isEmpty ? "\(numbers.count) epochs, best-so-far consistent" : problems.joined(separator: "; "))]
        let checkpoints: [Checkpoint]
        do { checkpoints = try self.checkpoints(run: run.id) } catch {
            return findings + [Finding(scope: "\(scope) checkpoints", ok: false, detail: "cannot be read: \(error)")]
        }
        for c in checkpoints {
            findings.append(verifyCheckpoint(scope: "\(scope) checkpoint e\(c.epoch)", c, runFingerprint: run.configurationFingerprint,
                                             // Epochs unreadable: the payload is still decoded and hashed.
                                             loggedChecksum: epochsReadable ? checksums[c.epoch] : c.optimizerChecksum,
                                             partialAllowed: c.epoch == done + 1))
        }
        return findings
    }

    private func verifyCheckpoint(scope: String, _ c: Checkpoint, runFingerprint: String, loggedChecksum: String?,
                                  partialAllowed: Bool) -> Finding {
        let recordedState = c.optimizerChecksum, blob = c.blob
        guard c.configurationFingerprint == runFingerprint else {
            return Finding(scope: scope, ok: false, detail: "made with another configuration than the run's")
        }
        let checkpoint: CheckpointPayload
        do {
            checkpoint = try c.payload()
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
