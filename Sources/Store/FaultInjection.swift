import Foundation

/// Crash testing: `OPTILOG_FAULT=commit-epoch:3` makes the process kill itself (SIGKILL, as a
/// power cut or the OOM killer would) in the middle of epoch 3's transaction — after its rows
/// and checkpoint are written, before the commit. `OPTILOG_FAULT=network-fs` makes every store
/// look as if it were on NFS. Without the variable this is one lookup.
enum FaultInjection {
    static let spec = ProcessInfo.processInfo.environment["OPTILOG_FAULT"]

    /// A fault that is a condition, not a moment (e.g. `network-fs`).
    static func isActive(_ name: String) -> Bool { spec == name }

    static let target: (point: String, epoch: Int)? = {
        guard let spec else { return nil }
        let parts = spec.split(separator: ":")
        guard parts.count == 2, let epoch = Int(parts[1]) else { return nil }
        return (String(parts[0]), epoch)
    }()

    static func hit(_ point: String, epoch: Int) {
        guard let target, target.point == point, target.epoch == epoch else { return }
        kill(getpid(), SIGKILL)
    }
}
