#if canImport(Glibc)
import Glibc
#endif

public enum OptilogProcess {
    /// OpenBLAS reads its settings once, when the library loads, so the process re-executes
    /// itself once with them set: idle BLAS threads sleep almost at once instead of spinning for
    /// ~0.1 s after every call (these machines are shared), and OpenBLAS starts with one thread
    /// until a command asks for more.
    public static func prepareEnvironment() {
        guard getenv("OPENBLAS_THREAD_TIMEOUT") == nil else { return }
        setenv("OPENBLAS_THREAD_TIMEOUT", "4", 1)
        if getenv("OPENBLAS_NUM_THREADS") == nil { setenv("OPENBLAS_NUM_THREADS", "1", 1) }
        _ = execv("/proc/self/exe", CommandLine.unsafeArgv)
        // execv returns only on failure: carry on with OpenBLAS's defaults.
    }
}
