// SIMD kernels for the LSTM's recurrence, built for AVX-512, AVX2 and baseline x86-64 (or the
// machine's baseline elsewhere) and chosen once by the CPU: a batch-32, 32-unit step is a
// 32×32×128 product, too small for OpenBLAS's call, packing and blocking to pay.
#include "lstm_kernels.h"
#include <stdlib.h>
#include <string.h>

// The same bits from every variant: no fused multiply-add, only the IEEE operations written.
#pragma clang fp contract(off)
// The 16-lane vectors only pass between static, inlined functions, so no calling convention
// is ever shared across instruction sets.
#pragma clang diagnostic ignored "-Wpsabi"

#define VARIANT(name) name##_baseline
#define TARGET
#include "lstm_body.h"
#undef VARIANT
#undef TARGET

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

void optilog_lstm_forward(size_t steps, size_t batch, size_t units, size_t row_begin, size_t row_end,
                          float *z, const float *u_mat, float *cells, float *hiddens, float *tanh_cells) {
#if defined(__x86_64__)
    switch (vector_level()) {
    case 2: forward_avx512(steps, batch, units, row_begin, row_end, z, u_mat, cells, hiddens, tanh_cells); return;
    case 1: forward_avx2(steps, batch, units, row_begin, row_end, z, u_mat, cells, hiddens, tanh_cells); return;
    }
#endif
    forward_baseline(steps, batch, units, row_begin, row_end, z, u_mat, cells, hiddens, tanh_cells);
}

int optilog_lstm_backward(size_t steps, size_t batch, size_t units, size_t row_begin, size_t row_end,
                          const float *gates, const float *cells, const float *tanh_cells,
                          const float *dh_last, const float *u_transposed, float *dz) {
#if defined(__x86_64__)
    switch (vector_level()) {
    case 2: return backward_avx512(steps, batch, units, row_begin, row_end, gates, cells, tanh_cells, dh_last, u_transposed, dz);
    case 1: return backward_avx2(steps, batch, units, row_begin, row_end, gates, cells, tanh_cells, dh_last, u_transposed, dz);
    }
#endif
    return backward_baseline(steps, batch, units, row_begin, row_end, gates, cells, tanh_cells, dh_last, u_transposed, dz);
}

const char *optilog_lstm_kernel_variant(void) {
    switch (vector_level()) {
    case 2: return "avx512";
    case 1: return "avx2";
    default: return "baseline";
    }
}
