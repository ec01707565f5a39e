/// Counter-based randomness: the n-th number of a stream is a pure function of
/// (seed, purpose, a, b, n), so any point of a run can be rebuilt from its seed and position
/// without replaying what came before, and no draw ever touches the system generator.
///
/// The mixer is SplitMix64's finaliser (Steele, Lea & Flood 2014) applied to a keyed Weyl
/// sequence; it passes BigCrush as a counter-based generator.
public struct RandomStream: Sendable {
    /// What a stream is for; part of the key, so two purposes never share numbers.
    public enum Purpose: UInt64, Sendable {
        case weights = 1      // a = layer index
        case shuffle = 2      // a = epoch
        case dropout = 3      // a = layer index, b = global step
        case data = 4         // synthetic data sets, splits
    }

    public let key: UInt64
    /// How many 64-bit words have been drawn; with `key` this is the stream's whole state.
    public private(set) var counter: UInt64

    public init(seed: UInt64, purpose: Purpose, _ a: UInt64 = 0, _ b: UInt64 = 0, counter: UInt64 = 0) {
        var k = Self.mix(seed ^ 0x6F70_7469_6C6F_6721)  // "optilog!"
        k = Self.mix(k ^ purpose.rawValue)
        k = Self.mix(k ^ a)
        k = Self.mix(k ^ b)
        self.key = k
        self.counter = counter
    }

    @inline(__always)
    static func mix(_ z0: UInt64) -> UInt64 {
        var z = z0 &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    @inline(__always)
    public mutating func next() -> UInt64 {
        counter &+= 1
        return Self.mix(key &+ counter &* 0xD1B5_4A32_D192_ED03)
    }

    /// Uniform in [0, 1) with 24 random bits: every representable step of a Float32 mantissa.
    @inline(__always)
    public mutating func nextFloat() -> Float {
        Float(next() >> 40) * 0x1p-24
    }

    /// Uniform in [0, 1) with 53 random bits.
    @inline(__always)
    public mutating func nextDouble() -> Double {
        Double(next() >> 11) * 0x1p-53
    }

    public mutating func uniform(_ low: Float, _ high: Float) -> Float {
        low + (high - low) * nextFloat()
    }

    /// Standard normal by Box–Muller in Float64, one value per call (the partner is dropped so a
    /// value depends only on its own position).
    public mutating func normal() -> Double {
        let u1 = 1.0 - nextDouble()  // (0, 1]
        let u2 = nextDouble()
        return (-2.0 * _log(u1)).squareRoot() * _cos(2.0 * Double.pi * u2)
    }

    /// Uniform integer in 0..<bound without modulo bias (Lemire 2019).
    public mutating func nextInt(below bound: Int) -> Int {
        precondition(bound > 0, "bound must be positive")
        let b = UInt64(bound)
        var product = next().multipliedFullWidth(by: b)
        if product.low < b {
            let threshold = (0 &- b) % b
            while product.low < threshold { product = next().multipliedFullWidth(by: b) }
        }
        return Int(product.high)
    }

    /// A uniformly random permutation of 0..<count (Fisher–Yates).
    public mutating func permutation(_ count: Int) -> [Int] {
        var p = Array(0..<count)
        if count > 1 {
            for i in stride(from: count - 1, to: 0, by: -1) {
                p.swapAt(i, nextInt(below: i + 1))
            }
        }
        return p
    }
}

#if canImport(Glibc)
import Glibc
@inline(__always) private func _log(_ x: Double) -> Double { Glibc.log(x) }
@inline(__always) private func _cos(_ x: Double) -> Double { Glibc.cos(x) }
#else
import Foundation
@inline(__always) private func _log(_ x: Double) -> Double { Foundation.log(x) }
@inline(__always) private func _cos(_ x: Double) -> Double { Foundation.cos(x) }
#endif
