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

/// Where a 2D window (a kernel or a pool) of `size` moved by `strides` goes over an input of
/// `height` × `width` with `padding`: the output's size and the padding before each axis.
struct WindowGrid {
    let outH: Int, outW: Int, padTop: Int, padLeft: Int

    init(height: Int, width: Int, size: (Int, Int), strides: (Int, Int), padding: Padding) {
        (outH, outW) = (padding.outputLength(input: height, size: size.0, stride: strides.0),
                        padding.outputLength(input: width, size: size.1, stride: strides.1))
        (padTop, padLeft) = (padding.before(input: height, size: size.0, stride: strides.0),
                             padding.before(input: width, size: size.1, stride: strides.1))
    }
}
