/// A contiguous, row-major Float32 array with a shape.
///
/// A value type backed by a copy-on-write `[Float]`, so layers can keep their inputs for the
/// backward pass without defensive copies. The first axis is the batch wherever a layer sees one.
public struct Tensor: Equatable, Sendable {
    public private(set) var shape: [Int]
    public var scalars: [Float]

    public init(shape: [Int], scalars: [Float]) throws {
        guard shape.allSatisfy({ $0 >= 0 }) else {
            throw EngineError.shapeMismatch("negative dimension in \(shape)")
        }
        let count = shape.reduce(1, *)
        guard count == scalars.count else {
            throw EngineError.shapeMismatch("shape \(shape) holds \(count) values, got \(scalars.count)")
        }
        self.shape = shape
        self.scalars = scalars
    }

    public init(zeros shape: [Int]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        self.shape = shape
        self.scalars = [Float](repeating: 0, count: shape.reduce(1, *))
    }

    /// For engine code that has just computed `scalars` for a known shape.
    init(unchecked shape: [Int], _ scalars: [Float]) {
        assert(shape.reduce(1, *) == scalars.count, "shape \(shape) vs \(scalars.count) values")
        self.shape = shape
        self.scalars = scalars
    }

    public var count: Int { scalars.count }
    public var rank: Int { shape.count }
    /// Size of the first axis (the batch).
    public var batch: Int { shape.first ?? 1 }
    /// Values per batch item.
    public var itemCount: Int { shape.count <= 1 ? 1 : shape.dropFirst().reduce(1, *) }

    public func reshaped(_ newShape: [Int]) throws -> Tensor {
        try Tensor(shape: newShape, scalars: scalars)
    }

    /// Rows `indices` of the first axis, in that order: the batch gather of the training loop.
    public func gatherRows(_ indices: some Collection<Int>) -> Tensor {
        let item = itemCount
        var out: [Float] = uninitializedArray(count: indices.count * item)
        scalars.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                var offset = 0
                for i in indices {
                    precondition(i >= 0 && i < batch, "row \(i) out of range 0..<\(batch)")
                    (dst.baseAddress! + offset).update(from: src.baseAddress! + i * item, count: item)
                    offset += item
                }
            }
        }
        return Tensor(unchecked: [indices.count] + shape.dropFirst(), out)
    }

    /// IEEE-754 bit patterns, for comparisons that must be exact (NaN == NaN, -0 != +0).
    public var bitPatterns: [UInt32] { scalars.map(\.bitPattern) }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let preview = scalars.prefix(8).map { "\($0)" }.joined(separator: ", ")
        return "Tensor\(shape)[\(preview)\(count > 8 ? ", …" : "")]"
    }
}

extension Tensor {
    /// Matrix product of two rank-2 tensors through `BLAS.gemm` (blocked and parallel like
    /// every product in the engine).
    public func matmul(_ other: Tensor) throws -> Tensor {
        guard rank == 2, other.rank == 2, shape[1] == other.shape[0] else {
            throw EngineError.shapeMismatch("cannot multiply \(shape) by \(other.shape)")
        }
        let (m, k, n) = (shape[0], shape[1], other.shape[1])
        var out = [Float](repeating: 0, count: m * n)
        BLAS.gemm(m: m, n: n, k: k, a: scalars, lda: k, b: other.scalars, ldb: n, c: &out, ldc: n)
        return Tensor(unchecked: [m, n], out)
    }
}

/// An array whose every element the caller overwrites before reading it (a GEMM with beta = 0,
/// a full copy): skips the zero-fill, which showed up as 8% of a training step.
@inline(__always)
func uninitializedArray<T: BitwiseCopyable>(count: Int) -> [T] {
    Array(unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
}
