#ifndef OPTILOG_LSTM_KERNELS_H
#define OPTILOG_LSTM_KERNELS_H

#include <stddef.h>

/// The LSTM's recurrence for batch rows [row_begin, row_end), all steps, one row at a time.
/// Rows never interact, so any split of the rows among threads gives the same bits.
///
/// z:      [steps, batch, 4u]  x·W + b on entry; the gate activations i, f, g, o on return
/// u_mat:  [u, 4u]             the recurrent kernel
/// cells, hiddens: [steps + 1, batch, u]; entry 0 is the initial state (read), the rest written
/// tanh_cells: [steps, batch, u] tanh(c_t), kept for the backward pass
void optilog_lstm_forward(size_t steps, size_t batch, size_t units, size_t row_begin, size_t row_end,
                          float *z, const float *u_mat, float *cells, float *hiddens, float *tanh_cells);

/// Backpropagation through time for rows [row_begin, row_end): writes dz [steps, batch, 4u]
/// (the gradient with respect to each step's pre-activations) from dL/dh of the last step.
/// u_transposed: [4u, u]. Returns 0, or -1 when scratch memory could not be had.
int optilog_lstm_backward(size_t steps, size_t batch, size_t units, size_t row_begin, size_t row_end,
                          const float *gates, const float *cells, const float *tanh_cells,
                          const float *dh_last, const float *u_transposed, float *dz);

/// The kernel variant in use ("avx512", "avx2" or "baseline"), for benchmark reports.
const char *optilog_lstm_kernel_variant(void);

/// The highest variant this CPU can run: 2 (AVX-512), 1 (AVX2 with FMA) or 0 (baseline).
int optilog_lstm_supported_level(void);

/// Uses at most `level` from now on (tests compare the variants' bits); -1 restores the default.
void optilog_lstm_limit_level(int level);

#endif
