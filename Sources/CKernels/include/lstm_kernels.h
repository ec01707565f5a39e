#ifndef OPTILOG_LSTM_KERNELS_H
#define OPTILOG_LSTM_KERNELS_H

#include <stddef.h>

/// The LSTM's forward pass for batch rows [row_begin, row_end), all steps, batch-major; rows
/// never interact, so any split of the rows among threads gives the same bits.
///
/// x:     [batch, steps, features]     w: [features, 4u]   u_mat: [u, 4u]   bias: [4u]
/// gates: [batch, steps, 4u]  written: the activations i, f, g, o of each step
/// h_prev, c_prev: [batch, steps, u]  written: the state entering each step (zeros at step 0)
/// tanh_cells: [batch, steps, u]  written: tanh(c) of each step, for the backward pass
/// h_last: [batch, u]  written: the last step's output.  Returns 0, or -1 without memory.
int optilog_lstm_forward(size_t steps, size_t features, size_t units, size_t row_begin, size_t row_end,
                         const float *x, const float *w, const float *u_mat, const float *bias, float *gates,
                         float *h_prev, float *c_prev, float *tanh_cells, float *h_last);

/// Backpropagation through time for rows [row_begin, row_end): writes dz [batch, steps, 4u],
/// the gradient with respect to each step's pre-activations, from dL/dh of the last step
/// (dh_last [batch, u]) or, when the layer returns sequences, of every step (dh_sequence
/// [batch, steps, u], added to what flows back from the later steps; dh_last is then NULL).
/// u_transposed: [4u, u]. Returns 0, or -1 without memory.
int optilog_lstm_backward(size_t steps, size_t units, size_t row_begin, size_t row_end,
                          const float *gates, const float *c_prev, const float *tanh_cells,
                          const float *dh_last, const float *dh_sequence, const float *u_transposed, float *dz);

/// C = Aᵀ·B summed over `depth` rows, for C's columns [col_begin, col_end) (blocks of 32 go to
/// threads): A [depth, m], B [depth, n], C [m, n], row-major with the given row strides. For the
/// LSTM's weight gradients, where m and n are small and depth (steps × batch) is large, the
/// shape OpenBLAS handles worst (it packs A and B for every block of depth).
void optilog_gemm_tn(size_t depth, size_t m, const float *a, size_t lda, const float *b, size_t ldb,
                     float *c, size_t ldc, size_t col_begin, size_t col_end);

/// The kernel variant in use ("avx512", "avx2" or "baseline"), for benchmark reports.
const char *optilog_lstm_kernel_variant(void);

/// The highest variant this CPU (and OS) can run: 2 (AVX-512 F, BW, DQ, VL), 1 (AVX2 with FMA)
/// or 0 (baseline). BLAS also asks it which OpenBLAS kernels to request.
int optilog_lstm_supported_level(void);

/// Uses at most `level` from now on (tests compare the variants' bits); -1 restores the default.
void optilog_lstm_limit_level(int level);

#endif
