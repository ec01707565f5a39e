import CKernels
import COpenBLAS

/// The one door to OpenBLAS: every matrix product in the engine is a row-major `cblas_sgemm`.
public enum BLAS {
    /// Threads for matrix work. OpenBLAS itself always runs single-threaded: its threaded
    /// GEMM blocks K differently from its serial one, so results would change with the thread
    /// count, and its idle workers spin. Instead `gemm` cuts C into blocks fixed by the shapes
    /// alone and hands them to `Parallel`'s workers.
    public static var threads: Int {
        get { Parallel.threads }
        set {
            openblas_set_num_threads(1)
            Parallel.threads = newValue
        }
    }

    /// OpenBLAS starts with one thread per core; pin it to one before its first product.
    private static let serialOpenBLAS: Void = openblas_set_num_threads(1)

    /// Products smaller than this many multiply-adds run as one call.
    static let parallelThreshold = 1 << 19
    /// Rows (or columns) per block, at least; blocks are at most `maxBlocks`.
    static let minimumBlock = 32
    static let maxBlocks = 8

    /// C[m×n] = alpha · op(A)[m×k] · op(B)[k×n] + beta · C, all row-major. Large products are
    /// split into row blocks of C (or column blocks when C is short and wide); each element is
    /// still one serial dot product over all of k, so the split never changes a bit.
    static func gemm(
        transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        _ = serialOpenBLAS
        let work = m * n * k
        let byRows = m >= 2 * minimumBlock
        let span = byRows ? m : n
        let blocks = work < parallelThreshold ? 1 : min(maxBlocks, span / minimumBlock)
        if blocks <= 1 {
            serialGEMM(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                       b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
            return
        }
        let size = (span + blocks - 1) / blocks
        let pointers = UncheckedSendable((a, b, c))
        Parallel.forEach(blocks) { block in
            let (a, b, c) = pointers.value
            let start = block * size, count = min(size, span - start)
            guard count > 0 else { return }
            if byRows {
                // Rows of op(A) and of C.
                let aBlock = transA ? a + start : a + start * lda
                serialGEMM(transA: transA, transB: transB, m: count, n: n, k: k, alpha: alpha, a: aBlock, lda: lda,
                           b: b, ldb: ldb, beta: beta, c: c + start * ldc, ldc: ldc)
            } else {
                // Columns of op(B) and of C.
                let bBlock = transB ? b + start * ldb : b + start
                serialGEMM(transA: transA, transB: transB, m: m, n: count, k: k, alpha: alpha, a: a, lda: lda,
                           b: bBlock, ldb: ldb, beta: beta, c: c + start, ldc: ldc)
            }
        }
    }

    /// `gemm` on whole arrays: C = alpha · op(A) · op(B) + beta · C.
    static func gemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
                     a: [Float], lda: Int, b: [Float], ldb: Int, beta: Float = 0, c: inout [Float], ldc: Int) {
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                c.withUnsafeMutableBufferPointer { cp in
                    gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: ap.baseAddress!, lda: lda,
                         b: bp.baseAddress!, ldb: ldb, beta: beta, c: cp.baseAddress!, ldc: ldc)
                }
            }
        }
    }

    /// One `cblas_sgemm` call on the calling thread, for callers that split the work themselves.
    @inline(__always)
    static func serialGEMM(
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

    /// The kernels to ask OpenBLAS for when its own CPU detection fell back to a generic SSE
    /// core on a CPU with AVX2 or AVX-512 (OpenBLAS 0.3.21 on Sapphire Rapids, or in VMs that
    /// report a generic model: 29 against 116 GFLOP/s for a 1024³ sgemm on one core here).
    /// nil when OpenBLAS chose a specific core itself. `OPENBLAS_CORETYPE` set by the user wins.
    static var fallbackCoreReplacement: String? {
        let generic: Set<String> = ["prescott", "core2", "nehalem", "katmai", "coppermine", "northwood", "banias", "atom"]
        guard let name = openblas_get_corename().map({ String(cString: $0).lowercased() }), generic.contains(name)
        else { return nil }
        switch optilog_lstm_supported_level() {
        case 2: return "SkylakeX"
        case 1: return "Haswell"
        default: return nil
        }
    }

    /// The OpenBLAS core whose kernels this process runs (as `OPENBLAS_CORETYPE` names it).
    public static var coreName: String {
        openblas_get_corename().map { String(cString: $0) } ?? "unknown"
    }

    /// Human-readable OpenBLAS build string, recorded with benchmark results.
    public static var configuration: String {
        guard let cString = openblas_get_config() else { return "unknown" }
        return String(cString: cString) + " core=" + (openblas_get_corename().map { String(cString: $0) } ?? "?")
    }
}

#if canImport(Glibc)
import Glibc

extension BLAS {
    /// OpenBLAS reads its settings once, when the library loads, so an executable re-executes
    /// itself once with them set: one OpenBLAS thread (optilog parallelises around it), and idle
    /// BLAS threads that sleep at once instead of spinning for ~0.1 s (these machines are
    /// shared); and keeps glibc from returning large buffers to the system between steps.
    /// Call first thing in `main`; the exec is skipped when already done or when it fails.
    public static func prepareProcess() {
        guard getenv("OPENBLAS_THREAD_TIMEOUT") == nil else { return }
        // Training allocates the same large buffers every step; glibc would mmap and unmap
        // each one (page faults and page clearing on every step). Keep them on the heap.
        setenv("MALLOC_MMAP_THRESHOLD_", String(32 << 20), 0)
        setenv("MALLOC_TRIM_THRESHOLD_", String(1 << 30), 0)
        setenv("OPENBLAS_THREAD_TIMEOUT", "4", 1)
        setenv("OPENBLAS_NUM_THREADS", "1", 1)
        if getenv("OPENBLAS_CORETYPE") == nil, let core = fallbackCoreReplacement {
            setenv("OPENBLAS_CORETYPE", core, 1)
        }
        _ = execv("/proc/self/exe", CommandLine.unsafeArgv)
    }
}
#endif
