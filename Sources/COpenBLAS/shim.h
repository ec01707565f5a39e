// OpenBLAS's cblas.h also declares openblas_set_num_threads and friends.
#include <cblas.h>

/// 2 when the CPU and the OS support AVX-512 (F, BW, DQ, VL), 1 for AVX2 with FMA, else 0:
/// OpenBLAS 0.3.21 does not know some newer CPUs (or the model numbers a VM reports) and falls
/// back to its SSE3 "Prescott" kernels, a quarter of the machine's GEMM speed.
static inline int optilog_cpu_vector_level(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
        && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl")) return 2;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 1;
#endif
    return 0;
}
