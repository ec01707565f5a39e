import Store

/// A part-way epoch in a checkpoint, exactly: its step losses (F32), its steps' gradient norms
/// and its running sums (F64, bit for bit), so the epoch finishes after a resume to the bits it
/// would have had.
extension EpochProgress {
    var tensors: [CheckpointPayload.Tensor] {
        [CheckpointPayload.Tensor(name: "progress_losses", shape: [losses.count], floats: losses),
         CheckpointPayload.Tensor(name: "progress_norms", shape: [norms.count], doubles: norms),
         CheckpointPayload.Tensor(name: "progress_sums", shape: [3], doubles: [lossSum, metricSum, learningRate])]
    }

    /// The progress a part-way checkpoint carries; nil for an end-of-epoch one. Reads the
    /// layout of optilog 0.1's first checkpoints too (norms as I64 words, sums as hex metadata).
    init?(checkpoint: CheckpointPayload) throws {
        guard let steps = checkpoint.metadata["partial_steps"].flatMap(Int.init) else { return nil }
        guard let losses = checkpoint.tensor("progress_losses")?.floats, losses.count == steps,
              let normTensor = checkpoint.tensor("progress_norms"), normTensor.data.count == steps * 8 else {
            throw StoreError.corrupt("part-way checkpoint lacks its step series")
        }
        let norms: [Double], sums: [Double]
        if normTensor.dtype == .f64, let values = normTensor.doubles {
            guard let s = checkpoint.tensor("progress_sums")?.doubles, s.count == 3 else { throw StoreError.corrupt("part-way checkpoint lacks its sums") }
            (norms, sums) = (values, s)
        } else if normTensor.dtype == .i64 {
            norms = normTensor.words.map(Double.init(bitPattern:))
            sums = try ["loss_sum", "metric_sum", "learning_rate"].map { key in
                guard let text = checkpoint.metadata[key], let bits = UInt64(text, radix: 16) else {
                    throw StoreError.corrupt("part-way checkpoint lacks \(key)")
                }
                return Double(bitPattern: bits)
            }
        } else {
            throw StoreError.corrupt("part-way checkpoint: progress_norms is \(normTensor.dtype.rawValue)")
        }
        self.init(stepsDone: steps, lossSum: sums[0], metricSum: sums[1], losses: losses, norms: norms, learningRate: sums[2])
    }
}
