import Foundation
import Synchronization

/// The fixtures optilog carries, read from memory. The file readers take them by the name
/// `embedded:NAME`, which no path the locator builds (a folder, a slash, a name) can equal.
extension EmbeddedFixtures {
    static let prefix = "embedded:"

    /// The fixture a path names, if it names one.
    static func name(of path: String) -> String? {
        path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : nil
    }

    private static let decoded = Mutex<[String: [UInt8]]>([:])

    /// A fixture's bytes (decoded once).
    public static func bytes(_ name: String) -> [UInt8]? {
        if let cached = decoded.withLock({ $0[name] }) { return cached }
        guard let base64 = files[name], let data = Data(base64Encoded: base64) else { return nil }
        let bytes = [UInt8](data)
        decoded.withLock { $0[name] = bytes }
        return bytes
    }
}
