/// Conv1D on an Embedding's output, computed on the table's rows.
///
/// The input row at position r is the table row E[id_r], so every product that involves the
/// input can be taken over the batch's U distinct ids instead of its batch·steps positions:
///
///     P = E_U · W̃                          out[r] = b + Σ_j P[u(r + j), tap j]
///     S[u] = Σ_{s : u(s) = u} G̃[s]          dW̃ = E_Uᵀ · S      dE_U = S · W̃ᵀ
///
/// (W̃ and G̃ as in Conv1D.swift; u(s) is position s's index among the distinct ids.) The
/// algebra is the same; the products shrink by U / (batch·steps) — about half for uniformly
/// random ids in a batch of 32 reviews of 500 tokens, far more for real text — and the
/// Embedding's gradient is written here, rows untouched by the batch being zero.
extension Conv1D {
    func forwardFromTable(_ lookup: Embedding) -> Tensor {
        let ids = lookup.ids
        let k = kernelSize, f = filters, c = channels, wide = k * f
        precondition(ids.count == batch * steps, "\(name): \(ids.count) ids for \(batch * steps) positions")
        // Distinct ids in order of first appearance, and each position's index among them.
        var index = [Int32](repeating: -1, count: lookup.inputDim)
        distinctIDs.removeAll(keepingCapacity: true)
        positionRow = ids.map { id in
            if index[Int(id)] < 0 {
                index[Int(id)] = Int32(distinctIDs.count)
                distinctIDs.append(id)
            }
            return index[Int(id)]
        }
        let u = distinctIDs.count
        distinctTable = distinctRows(lookup)  // kept for the backward pass
        var p: [Float] = uninitializedArray(count: u * wide)
        BLAS.gemm(m: u, n: wide, k: c, a: distinctTable, lda: c, b: tapMajorKernel(), ldb: wide, c: &p, ldc: wide)
        p.withUnsafeBufferPointer { pp in
            positionRow.withUnsafeBufferPointer { rowOf in shiftAdd(pp.baseAddress!) { Int(rowOf[$0]) } }
        }
        activation.apply(&output, rowLength: f)
        return Tensor(unchecked: [batch, outSteps, f], output)
    }

    /// E_U: the table rows of the batch's distinct ids, in `distinctIDs` order.
    private func distinctRows(_ lookup: Embedding) -> [Float] {
        let c = channels
        var rows: [Float] = uninitializedArray(count: distinctIDs.count * c)
        lookup.table.value.withUnsafeBufferPointer { src in
            rows.withUnsafeMutableBufferPointer { dst in
                for (n, id) in distinctIDs.enumerated() {
                    (dst.baseAddress! + n * c).update(from: src.baseAddress! + Int(id) * c, count: c)
                }
            }
        }
        return rows
    }

    /// `g` is dL/d(pre-activation output) [batch, outSteps, filters]; writes the kernel's and the
    /// Embedding table's gradients (the bias's is done by the caller).
    func backwardIntoTable(_ lookup: Embedding, _ g: [Float]) {
        let k = kernelSize, f = filters, c = channels, wide = k * f, u = distinctIDs.count
        var s = [Float](repeating: 0, count: u * wide)
        let (steps, outSteps) = (steps, outSteps)
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
        setKernelGradient(fromTapMajor: dTapMajor)
        var dRows: [Float] = uninitializedArray(count: u * c)
        BLAS.gemm(transB: true, m: u, n: c, k: wide, a: s, lda: wide, b: tapMajorKernel(), ldb: wide, c: &dRows, ldc: c)
        dRows.withUnsafeBufferPointer { src in
            lookup.table.gradient.withUnsafeMutableBufferPointer { dst in
                dst.update(repeating: 0)
                for (n, id) in distinctIDs.enumerated() {
                    (dst.baseAddress! + Int(id) * c).update(from: src.baseAddress! + n * c, count: c)
                }
            }
        }
    }
}
