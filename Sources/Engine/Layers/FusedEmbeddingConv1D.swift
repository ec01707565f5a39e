/// An `Embedding` feeding a `Conv1D`, run as one fused stage (named as fused, as llm.c names its
/// fused kernels): the convolution reads the table's rows directly, and the Embedding's output
/// is never gathered. The two layers keep their names, weights and place in the model (summary,
/// checkpoints, per-layer gradient norms); `Sequential(…, fusing: false)` runs them apart, and
/// the tests hold the two ways to the same outputs and gradients.
///
/// The input row at position r is the table row E[id_r], so every product that involves the
/// input can be taken over the batch's U distinct ids instead of its batch·steps positions:
///
///     P = E_U · W̃                          out[r] = b + Σ_j P[u(r + j), tap j]
///     S[u] = Σ_{s : u(s) = u} G̃[s]          dW̃ = E_Uᵀ · S      dE_U = S · W̃ᵀ
///
/// (W̃ and G̃ as in Conv1D.swift; u(s) is position s's index among the distinct ids.) The
/// algebra is the same; the products shrink by U / (batch·steps) — about half for uniformly
/// random ids in a batch of 32 reviews of 500 tokens, far more for real text. The table's
/// gradient is dense, zero in rows the batch did not use, as Keras applies it.
public final class FusedEmbeddingConv1D: Stage {
    public let embedding: Embedding
    public let conv: Conv1D
    /// The batch's distinct ids, in order of first appearance.
    private var distinctIDs: [Int32] = []
    /// Each position's index among `distinctIDs`.
    private var positionRow: [Int32] = []
    /// The table rows of `distinctIDs`, as the forward pass read them.
    private var distinctTable: [Float] = []

    init(_ embedding: Embedding, _ conv: Conv1D) {
        precondition(conv.channels == embedding.outputDim, "\(conv.name) reads \(conv.channels) channels, \(embedding.name) gives \(embedding.outputDim)")
        (self.embedding, self.conv) = (embedding, conv)
    }

    public func forward(_ x: Tensor, context: ForwardContext) -> Tensor {
        let ids = embedding.ids(of: x)
        conv.batch = x.batch
        let c = conv.channels, wide = conv.kernelSize * conv.filters
        precondition(ids.count == conv.batch * conv.steps, "\(conv.name): \(ids.count) ids for \(conv.batch * conv.steps) positions")
        var index = [Int32](repeating: -1, count: embedding.inputDim)
        distinctIDs.removeAll(keepingCapacity: true)
        positionRow = ids.map { id in
            if index[Int(id)] < 0 {
                index[Int(id)] = Int32(distinctIDs.count)
                distinctIDs.append(id)
            }
            return index[Int(id)]
        }
        let u = distinctIDs.count
        distinctTable = uninitializedArray(count: u * c)
        embedding.table.value.withUnsafeBufferPointer { src in
            distinctTable.withUnsafeMutableBufferPointer { dst in
                for (n, id) in distinctIDs.enumerated() {
                    (dst.baseAddress! + n * c).update(from: src.baseAddress! + Int(id) * c, count: c)
                }
            }
        }
        var p: [Float] = uninitializedArray(count: u * wide)
        BLAS.gemm(m: u, n: wide, k: c, a: distinctTable, lda: c, b: conv.tapMajorKernel(), ldb: wide, c: &p, ldc: wide)
        p.withUnsafeBufferPointer { pp in
            positionRow.withUnsafeBufferPointer { rowOf in conv.shiftAdd(pp.baseAddress!) { Int(rowOf[$0]) } }
        }
        conv.activation.apply(&conv.output, rowLength: conv.filters)
        return Tensor(unchecked: [conv.batch, conv.outSteps, conv.filters], conv.output)
    }

    /// Writes the kernel's, the bias's and the table's gradients; ids have no gradient.
    public func backward(_ dy: Tensor, needsInputGradient: Bool) -> Tensor? {
        let (batch, steps, outSteps) = (conv.batch, conv.steps, conv.outSteps)
        let k = conv.kernelSize, f = conv.filters, c = conv.channels, wide = k * f, u = distinctIDs.count
        var g = dy.scalars
        conv.activation.backward(output: conv.output, gradient: &g, rowLength: f)
        columnSums(g, rows: batch * outSteps, columns: f, into: &conv.bias.gradient)
        var s = [Float](repeating: 0, count: u * wide)
        g.withUnsafeBufferPointer { gp in
            positionRow.withUnsafeBufferPointer { rowOf in
                s.withUnsafeMutableBufferPointer { sp in
                    for b in 0..<batch {
                        for t in 0..<outSteps {
                            let src = gp.baseAddress! + (b * outSteps + t) * f
                            for j in 0..<k {
                                addInPlace(sp.baseAddress! + Int(rowOf[b * steps + t + j]) * wide + j * f, src, count: f)
                            }
                        }
                    }
                }
            }
        }
        var dTapMajor: [Float] = uninitializedArray(count: c * wide)
        BLAS.gemm(transA: true, m: c, n: wide, k: u, a: distinctTable, lda: c, b: s, ldb: wide, c: &dTapMajor, ldc: wide)
        conv.setKernelGradient(fromTapMajor: dTapMajor)
        var dRows: [Float] = uninitializedArray(count: u * c)
        BLAS.gemm(transB: true, m: u, n: c, k: wide, a: s, lda: wide, b: conv.tapMajorKernel(), ldb: wide, c: &dRows, ldc: c)
        dRows.withUnsafeBufferPointer { src in
            embedding.table.gradient.withUnsafeMutableBufferPointer { dst in
                dst.update(repeating: 0)
                for (n, id) in distinctIDs.enumerated() {
                    (dst.baseAddress! + Int(id) * c).update(from: src.baseAddress! + n * c, count: c)
                }
            }
        }
        return nil
    }
}
