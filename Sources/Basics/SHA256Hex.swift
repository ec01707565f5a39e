import Crypto
import Foundation

/// SHA-256 as the log writes it everywhere (fingerprints, checksums, payload hashes): 64
/// lower-case hex digits.
public func sha256Hex<D: DataProtocol>(_ bytes: D) -> String {
    SHA256.hash(data: bytes).hex
}

extension SHA256.Digest {
    public var hex: String { map { String(format: "%02x", $0) }.joined() }
}
