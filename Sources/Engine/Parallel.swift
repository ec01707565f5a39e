import Dispatch
import Synchronization

/// The engine's only parallelism: a job is cut into a fixed number of chunks that depends on
/// the job's size alone, never on the thread count, and up to `threads` workers take chunks
/// from a shared counter. Results are therefore bit-identical at any thread count, a busy
/// core only slows the worker on it (the other takes the remaining chunks), and idle workers
/// block inside libdispatch rather than spin.
public enum Parallel {
    nonisolated(unsafe) private static var _threads = 1

    /// Workers for matrix products and per-sample loops (1 by default; the machines are shared).
    public static var threads: Int {
        get { _threads }
        set { _threads = max(1, min(64, newValue)) }
    }

    /// Runs `body(0..<count)`, each index exactly once, on up to `threads` threads.
    static func forEach(_ count: Int, _ body: (Int) -> Void) {
        let workers = min(threads, count)
        if workers <= 1 {
            for i in 0..<count { body(i) }
            return
        }
        withoutActuallyEscaping(body) { body in
            let shared = UncheckedSendable(body)
            let next = Atomic<Int>(0)
            DispatchQueue.concurrentPerform(iterations: workers) { _ in
                while true {
                    let i = next.wrappingAdd(1, ordering: .relaxed).oldValue
                    if i >= count { return }
                    shared.value(i)
                }
            }
        }
    }
}

extension Parallel {
    /// Runs `body` on consecutive ranges of `0..<count`, `size` items each (the last may be
    /// shorter), on up to `threads` threads. Callers fix `size` from the shape alone.
    static func forEachBlock(of count: Int, size: Int, _ body: (Range<Int>) -> Void) {
        let size = max(1, size)
        forEach((count + size - 1) / size) { block in
            body((block * size)..<min(count, (block + 1) * size))
        }
    }

    /// Samples per block for per-sample work of `itemsPerSample` values: about 64 K values a
    /// block, so a block's data stays in L2 and handing it out costs little against its work.
    static func samplesPerBlock(itemsPerSample: Int) -> Int {
        max(1, (1 << 16) / max(1, itemsPerSample))
    }
}

/// For closures and pointers handed to workers that touch disjoint memory by construction.
public struct UncheckedSendable<T>: @unchecked Sendable {
    public let value: T
    public init(_ value: T) { self.value = value }
}
