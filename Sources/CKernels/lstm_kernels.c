// SIMD kernels for the LSTM, built for AVX-512, AVX2 and baseline x86-64 (or the machine's
// baseline elsewhere) and chosen once by the CPU: a batch-32, 32-unit step is a 32×46×128
// product, too small for OpenBLAS's call, packing and blocking to pay, and the weight gradients
// are products over 3,840 rows into a 32×128 result, which OpenBLAS packs block by block.
#include "lstm_kernels.h"
#include <stdlib.h>
#include <string.h>

// Only the products the body spells MULADD are fused (on AVX2 and AVX-512, which have FMA, as
// OpenBLAS's kernels are); the compiler may not contract anything else, so the AVX2 and AVX-512
// variants give the same bits.
#pragma clang fp contract(off)
// The 16-lane vectors only pass between static, inlined functions, so no calling convention
// is ever shared across instruction sets.
#pragma clang diagnostic ignored "-Wpsabi"

#define VARIANT(name) name##_baseline
#define TARGET
#define MULADD(a, b, c) ((c) + (a) * (b))
#define MULADD1(a, b, c) ((c) + (a) * (b))
#include "lstm_body.h"
#undef VARIANT
#undef TARGET
#undef MULADD
#undef MULADD1

#define MULADD(a, b, c) __builtin_elementwise_fma(a, b, c)
#define MULADD1(a, b, c) __builtin_fmaf(a, b, c)

#if defined(__x86_64__)
#define VARIANT(name) name##_avx2
#define TARGET __attribute__((target("avx2,fma")))
#include "lstm_body.h"
#undef VARIANT
#undef TARGET

#define VARIANT(name) name##_avx512
#define TARGET __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl")))
#include "lstm_body.h"
#undef VARIANT
#undef TARGET
#endif
#undef MULADD
#undef MULADD1

int optilog_lstm_supported_level(void) {
#if defined(__x86_64__)
    static int cached = -1;
    int level = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (level < 0) {
        __builtin_cpu_init();
        if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
            && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl")) level = 2;
        else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) level = 1;
        else level = 0;
        __atomic_store_n(&cached, level, __ATOMIC_RELAXED);
    }
    return level;
#else
    return 0;
#endif
}

static int limit = -1;

void optilog_lstm_limit_level(int level) { __atomic_store_n(&limit, level, __ATOMIC_RELAXED); }

static int vector_level(void) {
    int level = optilog_lstm_supported_level(), cap = __atomic_load_n(&limit, __ATOMIC_RELAXED);
    return cap >= 0 && cap < level ? cap : level;
}

int optilog_lstm_forward(size_t steps, size_t features, size_t units, size_t row_begin, size_t row_end,
                         const float *x, const float *w, const float *u_mat, const float *bias, float *gates,
                         float *h_prev, float *c_prev, float *tanh_cells, float *h_last) {
#if defined(__x86_64__)
    switch (vector_level()) {
    case 2: return forward_avx512(steps, features, units, row_begin, row_end, x, w, u_mat, bias, gates, h_prev, c_prev, tanh_cells, h_last);
    case 1: return forward_avx2(steps, features, units, row_begin, row_end, x, w, u_mat, bias, gates, h_prev, c_prev, tanh_cells, h_last);
    }
#endif
    return forward_baseline(steps, features, units, row_begin, row_end, x, w, u_mat, bias, gates, h_prev, c_prev, tanh_cells, h_last);
}

int optilog_lstm_backward(size_t steps, size_t units, size_t row_begin, size_t row_end,
                          const float *gates, const float *c_prev, const float *tanh_cells,
                          const float *dh_last, const float *dh_sequence, const float *u_transposed, float *dz) {
#if defined(__x86_64__)
    switch (vector_level()) {
    case 2: return backward_avx512(steps, units, row_begin, row_end, gates, c_prev, tanh_cells, dh_last, dh_sequence, u_transposed, dz);
    case 1: return backward_avx2(steps, units, row_begin, row_end, gates, c_prev, tanh_cells, dh_last, dh_sequence, u_transposed, dz);
    }
#endif
    return backward_baseline(steps, units, row_begin, row_end, gates, c_prev, tanh_cells, dh_last, dh_sequence, u_transposed, dz);
}

void optilog_gemm_tn(size_t depth, size_t m, const float *a, size_t lda, const float *b, size_t ldb,
                     float *c, size_t ldc, size_t col_begin, size_t col_end) {
#if defined(__x86_64__)
    switch (vector_level()) {
    case 2: gemm_tn_avx512(depth, m, a, lda, b, ldb, c, ldc, col_begin, col_end); return;
    case 1: gemm_tn_avx2(depth, m, a, lda, b, ldb, c, ldc, col_begin, col_end); return;
    }
#endif
    gemm_tn_baseline(depth, m, a, lda, b, ldb, c, ldc, col_begin, col_end);
}

const char *optilog_lstm_kernel_variant(void) {
    switch (vector_level()) {
    case 2: return "avx512";
    case 1: return "avx2";
    default: return "baseline";
    }
}
