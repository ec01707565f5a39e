import Foundation

/// Where a store lives matters: SQLite's locking and WAL's shared memory need a local
/// filesystem; on NFS, SMB or a cluster filesystem concurrent writers can damage the file.
public enum Filesystem {
    /// Network and cluster filesystem types as /proc/self/mountinfo names them.
    static let network: Set<String> = ["nfs", "nfs4", "cifs", "smb3", "smbfs", "9p", "afs", "coda", "ceph", "lustre", "gpfs",
                                       "beegfs", "glusterfs", "ocfs2", "gfs2", "panfs", "orangefs", "fuse.sshfs", "fuse.glusterfs"]

    /// The filesystem type `path` (or, for a file not yet made, its folder) is on, and whether
    /// it is a network one; nil when it cannot be told. `OPTILOG_FAULT=network-fs` makes any path
    /// count as NFS, to test the warning.
    public static func networkFilesystem(at path: String) -> String? {
        if FaultInjection.isActive("network-fs") { return "nfs" }
        guard let type = type(of: path), isNetwork(type) else { return nil }
        return type
    }

    static func isNetwork(_ type: String) -> Bool {
        network.contains(type) || (type.hasPrefix("fuse.") && type != "fuse.lxcfs")
    }

    /// The type of the mount holding `path`: the longest mount point that contains it.
    static func type(of path: String) -> String? {
        var url = URL(fileURLWithPath: path).standardizedFileURL
        if !FileManager.default.fileExists(atPath: url.path) { url.deleteLastPathComponent() }
        let resolved = url.resolvingSymlinksInPath().path
        guard let table = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8) else { return nil }
        var best: (point: String, type: String)?
        for line in table.split(separator: "\n") {
            // id parent major:minor root mount-point options [optional…] - type source super-options
            let fields = line.split(separator: " ").map(String.init)
            guard fields.count > 6, let dash = fields.firstIndex(of: "-"), dash + 1 < fields.count else { continue }
            let point = fields[4].replacingOccurrences(of: "\\040", with: " ")
            let inside = point == "/" || resolved == point || resolved.hasPrefix(point + "/")
            if inside && point.count >= (best?.point.count ?? -1) { best = (point, fields[dash + 1]) }
        }
        return best?.type
    }

    public static func warning(for path: String) -> String? {
        networkFilesystem(at: path).map {
            "\(path) is on a network filesystem (\($0)); SQLite's locking is unreliable there and concurrent writers can damage the log. "
                + "Train into a store on local disk and copy it over with optilog merge --publish."
        }
    }
}
