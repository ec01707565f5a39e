import Crypto
import Engine
import Foundation

/// SHA-256 of a data set as the model sees it (shapes, then every value's bits), recorded with
/// every run so that two runs on different data are never compared silently.
public enum Fingerprint {
    public static func of(_ source: any SampleSource) -> String {
        var hasher = SHA256()
        func add(_ text: String) { hasher.update(data: Data(text.utf8)) }
        func add(_ values: [Float]) {
            values.withUnsafeBufferPointer { p in
                // Float32 bit patterns, little-endian as on every machine optilog runs on.
                hasher.update(bufferPointer: UnsafeRawBufferPointer(p))
            }
        }
        switch source {
        case let d as Dataset:
            add("dataset x\(d.x.shape) y\(d.y.shape)")
            add(d.x.scalars)
            add(d.y.scalars)
        case let w as WindowedSeries:
            add("windows \(w.features) \(w.length) \(w.samplingRate) \(w.targetOffset) \(w.starts.count) \(w.starts.first ?? -1)")
            add(w.series)
            add(w.targets)
            add(w.starts.map { Float($0) })
        default:
            // Any other source: hash what it yields, in order.
            add("source \(source.inputShape) \(source.count)")
            var start = 0
            while start < source.count {
                let (x, y) = source.batch(start..<min(source.count, start + 1024))
                add(x.scalars)
                add(y.scalars)
                start += 1024
            }
        }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }
}
