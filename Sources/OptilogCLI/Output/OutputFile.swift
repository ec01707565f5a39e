import Foundation
import Store

/// Where a command writes a file (`report -o`, `export -o`, `curves --svg`, `surface --svg`),
/// such that no output path can destroy the log or anything that is not a plain file:
/// - `-` is standard output; `/dev/stdout`, `/dev/stderr`, `/dev/fd/N` and `/proc/self/fd/N` are
///   written through that descriptor (a redirected file is appended to or written as the shell
///   set it up, never replaced);
/// - the store, its `-wal`, `-shm` or `-journal` — by file identity (device and inode, after
///   links are resolved) or by name — is refused, `--force` or not;
/// - an existing file that is not a regular file (a device, a FIFO, `/dev/stdout`) is written
///   in place, never replaced;
/// - an existing SQLite file (a database, WAL or journal, or a `-shm` beside one) is replaced only
///   with `--force`;
/// - any other path gets a temporary file beside it, renamed over it once complete.
struct OutputFile {
    let path: String
    let store: String?
    let force: Bool

    /// Writes `text`, then says on stderr what was written (not for standard output).
    func write(_ text: String, what: String) throws {
        if path == "-" {
            FileHandle.standardOutput.write(Data(text.utf8))
            return
        }
        let bytes = Array(text.utf8)
        if let fd = Self.descriptor(path) {
            try writeAll(fd, bytes)
            return
        }
        let target = try checkedTarget()
        if let target {
            try writeInPlace(bytes, to: target)
        } else {
            try replace(with: bytes, at: resolved(path))
        }
        warn("wrote \(path) (\(what))")
    }

    /// The open descriptor a path names, for the names that mean one.
    static func descriptor(_ path: String) -> Int32? {
        switch path {
        case "/dev/stdout": return 1
        case "/dev/stderr": return 2
        default:
            for prefix in ["/dev/fd/", "/proc/self/fd/"] where path.hasPrefix(prefix) {
                if let n = Int32(path.dropFirst(prefix.count)), fcntl(n, F_GETFD) != -1 { return n }
            }
            return nil
        }
    }

    /// Refuses what must not be written; returns the path to write in place, or nil for an
    /// atomic replacement.
    func checkedTarget() throws -> String? {
        let target = resolved(path)
        if let store {
            let storePath = resolved(store)
            let names = [storePath] + StoreFile.companions(of: storePath)
            if names.contains(target) {
                throw CleanError("\(path) is the research log \(store) (or one of its companion files); refusing to write over it")
            }
            if let id = StoreFile.identity(target), names.compactMap(StoreFile.identity).contains(id) {
                throw CleanError(
                    "\(path) is the research log \(store) (or one of its companion files, through a link); refusing to write over it")
            }
        }
        var info = stat()
        guard stat(target, &info) == 0 else {
            var link = stat()
            if lstat(path, &link) == 0 && (link.st_mode & S_IFMT) == S_IFLNK {
                throw CleanError("\(path) is a symbolic link to nothing; give the file itself")
            }
            return nil  // a new file
        }
        switch info.st_mode & S_IFMT {
        case S_IFREG:
            // A name under /dev or /proc stands for something else: written in place.
            if path.hasPrefix("/dev/") || path.hasPrefix("/proc/") || target.hasPrefix("/proc/") { return target }
            if !force, let kind = sqliteKind(target) {
                throw CleanError("\(path) is \(kind); give --force to overwrite it")
            }
            return nil
        case S_IFDIR: throw CleanError("\(path) is a folder; give a file name")
        default: return target  // a device, a FIFO, a socket: written in place
        }
    }

    /// The path with every symbolic link resolved (for a file not there yet: its folder's).
    func resolved(_ path: String) -> String {
        let absolute = StoreFile.absolutePath(path)
        if let real = realpath(absolute, nil) {
            defer { free(real) }
            return String(cString: real)
        }
        let folder = (absolute as NSString).deletingLastPathComponent, name = (absolute as NSString).lastPathComponent
        if let real = realpath(folder, nil) {
            defer { free(real) }
            return (String(cString: real) as NSString).appendingPathComponent(name)
        }
        return absolute
    }

    /// What kind of SQLite file `path` is, if it is one.
    func sqliteKind(_ path: String) -> String? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        let head = [UInt8]((try? handle.read(upToCount: 16)) ?? Data())
        if head == Array("SQLite format 3\0".utf8) { return "an SQLite database" }
        if head.count >= 4, head[0] == 0x37, head[1] == 0x7F, head[2] == 0x06, head[3] & 0xFE == 0x82 { return "an SQLite WAL file" }
        if head.starts(with: [0xD9, 0xD5, 0x05, 0xF9, 0x20, 0xA1, 0x63, 0xD7]) { return "an SQLite journal" }
        for suffix in ["-wal", "-shm", "-journal"] where path.hasSuffix(suffix) {
            if sqliteKind(String(path.dropLast(suffix.count))) == "an SQLite database" { return "a companion file of an SQLite database" }
        }
        return nil
    }

    func writeInPlace(_ bytes: [UInt8], to target: String) throws {
        let fd = open(target, O_WRONLY | O_TRUNC | O_CLOEXEC)
        guard fd >= 0 else { throw CleanError("cannot write \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        try writeAll(fd, bytes)
    }

    /// A temporary file in the same folder, filled, flushed and renamed over `target`.
    func replace(with bytes: [UInt8], at target: String) throws {
        let folder = (target as NSString).deletingLastPathComponent
        var template = Array(((folder as NSString).appendingPathComponent(".\((target as NSString).lastPathComponent).XXXXXX")).utf8CString)
        let fd = mkstemp(&template)
        guard fd >= 0 else { throw CleanError("cannot write \(path): \(String(cString: strerror(errno)))") }
        let temporary = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var renamed = false
        defer {
            close(fd)
            if !renamed { unlink(temporary) }
        }
        // The mode a new file would get (or the replaced file's own).
        var existing = stat()
        let mask = umask(0)
        umask(mask)
        fchmod(fd, stat(target, &existing) == 0 ? existing.st_mode & 0o7777 : 0o666 & ~mask)
        try writeAll(fd, bytes)
        guard fsync(fd) == 0 else { throw CleanError("cannot write \(path): \(String(cString: strerror(errno)))") }
        guard rename(temporary, target) == 0 else { throw CleanError("cannot write \(path): \(String(cString: strerror(errno)))") }
        renamed = true
    }

    func writeAll(_ fd: Int32, _ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw CleanError("cannot write \(path): \(String(cString: strerror(errno)))") }
            offset += n
        }
    }
}
