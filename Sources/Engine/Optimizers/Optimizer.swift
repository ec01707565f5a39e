/// A Keras optimizer: per-variable slots and an update rule, applied once per step.
///
/// Rules follow Keras 3 in Float32, op by op in Keras's order and with no fused multiply-add,
/// so a step is bit-identical to Keras's eager step. Python-float constants such as
/// `1 - beta_1` are formed in Float64 and rounded once, as TensorFlow does when it meets them.
public protocol Optimizer: AnyObject {
    /// Keras's `get_config()["name"]`, e.g. `adam`.
    var name: String { get }
    /// Steps applied so far (Keras's `iterations`).
    var iterations: Int64 { get }
    /// Slot names per variable, in Keras's order, e.g. `["momentum", "velocity"]`.
    var slotNames: [String] { get }
    /// Applies one step to `parameters` using their current gradients.
    func apply(to parameters: [Parameter])
}

/// Optimizers whose per-variable slots live in a `Slots` store (all of them; checkpoints and
/// parity tests read the slots through it).
protocol SlotHolder {
    var slots: Slots { get }
}

/// Slot storage shared by the rules: one buffer per (parameter, slot), created on first use and
/// updated in place (no copy-on-write on the hot path).
final class Slots {
    private var buffers: [[UnsafeMutableBufferPointer<Float>]] = []

    func prepare(for parameters: [Parameter], names: [String], initial: Float = 0) {
        guard buffers.count != parameters.count else { return }
        release()
        buffers = parameters.map { p in
            names.map { _ in
                let b = UnsafeMutableBufferPointer<Float>.allocate(capacity: p.count)
                b.initialize(repeating: initial)
                return b
            }
        }
    }

    subscript(parameter: Int, slot: Int) -> UnsafeMutableBufferPointer<Float> { buffers[parameter][slot] }

    private func release() {
        for row in buffers { for b in row { b.deallocate() } }
        buffers = []
    }

    deinit { release() }
}

/// A Python float as TensorFlow sees it when it meets a Float32 tensor: rounded from Float64.
@inline(__always)
func k(_ x: Double) -> Float { Float(x) }
