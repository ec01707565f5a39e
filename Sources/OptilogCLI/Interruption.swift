import Foundation
import Synchronization

/// SIGINT / SIGTERM: the first asks training to stop at the next step boundary (the run is then
/// marked interrupted, exit 130 / 143); a second one exits at once — the store stays whole,
/// since every epoch is one transaction.
enum Interruption {
    static let requests = Atomic<Int>(0)
    static let signalNumber = Atomic<Int32>(0)

    static func install() {
        for sig in [SIGINT, SIGTERM] {
            signal(sig) { received in
                Interruption.signalNumber.store(received, ordering: .relaxed)
                if Interruption.requests.wrappingAdd(1, ordering: .relaxed).newValue >= 2 { _exit(128 + received) }
            }
        }
    }

    static var requested: Bool { requests.load(ordering: .relaxed) > 0 }
    static var exitCode: Int32 { 128 + signalNumber.load(ordering: .relaxed) }
}
