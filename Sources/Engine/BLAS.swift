import COpenBLAS

/// The one door to OpenBLAS: every matrix product in the engine is a row-major `cblas_sgemm`.
public enum BLAS {
    /// OpenBLAS's own thread count. Set it explicitly: the machines are shared, and 1 and 2
    /// threads are both measured. OpenBLAS splits C among threads, never K, so each output
    /// element is summed in the same order whatever the count (the determinism tests check it).
    public static var threads: Int {
        get { Int(openblas_get_num_threads()) }
        set { openblas_set_num_threads(Int32(max(1, newValue))) }
    }

    /// C[m×n] = alpha · op(A)[m×k] · op(B)[k×n] + beta · C, all row-major.
    @inline(__always)
    static func gemm(
        transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        guard m > 0, n > 0 else { return }
        if k == 0 {
            // OpenBLAS leaves C alone for k == 0 only when beta == 1; be explicit.
            for i in 0..<m { for j in 0..<n { c[i * ldc + j] *= beta } }
            return
        }
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// Human-readable OpenBLAS build string, recorded with benchmark results.
    public static var configuration: String {
        guard let cString = openblas_get_config() else { return "unknown" }
        return String(cString: cString) + " core=" + (openblas_get_corename().map { String(cString: $0) } ?? "?")
    }
}
