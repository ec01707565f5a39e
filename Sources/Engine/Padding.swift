/// Keras's `padding` of convolutions and poolings along one axis. `same` pads so that the
/// output has ceil(input / stride) positions, with the smaller half of the padding before
/// (TensorFlow's rule, which Keras 3 follows on every backend).
public enum Padding: String, Sendable, CaseIterable {
    case valid, same

    /// Output positions for a window of `size` moved by `stride` over `input` positions.
    public func outputLength(input: Int, size: Int, stride: Int) -> Int {
        switch self {
        case .valid: return input >= size ? (input - size) / stride + 1 : 0
        case .same: return (input + stride - 1) / stride
        }
    }

    /// Positions of padding before the first input position.
    public func before(input: Int, size: Int, stride: Int) -> Int {
        guard self == .same else { return 0 }
        let out = outputLength(input: input, size: size, stride: stride)
        return max((out - 1) * stride + size - input, 0) / 2
    }
}

/// Where a window of one axis falls: its first position in the input (negative inside the
/// padding) and the range of its taps that land on input positions.
@inline(__always)
func windowTaps(output o: Int, stride: Int, padBefore: Int, size: Int, input: Int) -> (start: Int, taps: Range<Int>) {
    let start = o * stride - padBefore
    return (start, max(0, -start)..<min(size, input - start))
}
