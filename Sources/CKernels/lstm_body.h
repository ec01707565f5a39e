// The LSTM kernels' bodies, included once per instruction set by lstm_kernels.c (so no include
// guard) with VARIANT (a name suffix), TARGET (a target attribute) and MULADD / MULADD1 (a·b + c
// on vectors / scalars: fused where the instruction set has FMA) defined. Variants with FMA give
// the same bits as each other; the baseline rounds the products separately.

typedef float VARIANT(vf) __attribute__((ext_vector_type(16)));
typedef int VARIANT(vi) __attribute__((ext_vector_type(16)));
#define VF VARIANT(vf)
#define VI VARIANT(vi)

static inline TARGET VF VARIANT(load)(const float *p) {
    VF v;
    __builtin_memcpy(&v, p, sizeof v);
    return v;
}

static inline TARGET void VARIANT(store)(float *p, VF v) { __builtin_memcpy(p, &v, sizeof v); }

static inline TARGET VF VARIANT(splat)(float x) { return (VF)(x); }

/// mask ? a : b, lane by lane, as bits (a comparison's lanes are all ones or all zeros).
static inline TARGET VF VARIANT(select)(VI mask, VF a, VF b) {
    return (VF)(((VI)a & mask) | ((VI)b & ~mask));
}

/// e^x for 16 lanes: x = n·ln2 + r with |r| ≤ ln2/2, e^r by Cephes's degree-6 polynomial
/// (within 2 ulp of glibc's expf over the range a gate sees), scaled by 2^n through the exponent
/// bits. Inputs are clamped to ±87.3 so 2^n stays a normal number; NaN stays NaN.
static inline TARGET VF VARIANT(exp)(VF x) {
    const VF hi = VARIANT(splat)(87.3f), lo = VARIANT(splat)(-87.3f);
    x = VARIANT(select)(x > hi, hi, x);
    x = VARIANT(select)(x < lo, lo, x);
    // Round x·log2(e) to the nearest integer by adding 1.5·2^23: n sits in the low bits.
    const VF shifter = VARIANT(splat)(12582912.0f);
    VF t = x * VARIANT(splat)(1.44269504088896341f) + shifter;
    VF n = t - shifter;
    VI ni = (VI)t - (VI)shifter;
    VF r = x - n * VARIANT(splat)(0.693359375f);
    r = r - n * VARIANT(splat)(-2.12194440e-4f);
    VF p = VARIANT(splat)(1.9875691500e-4f);
    p = p * r + VARIANT(splat)(1.3981999507e-3f);
    p = p * r + VARIANT(splat)(8.3334519073e-3f);
    p = p * r + VARIANT(splat)(4.1665795894e-2f);
    p = p * r + VARIANT(splat)(1.6666665459e-1f);
    p = p * r + VARIANT(splat)(5.0000001201e-1f);
    p = p * (r * r) + r + VARIANT(splat)(1.0f);
    VF scale = (VF)((ni + 127) << 23);
    return p * scale;
}

static inline TARGET VF VARIANT(sigmoid)(VF x) {
    const VF one = VARIANT(splat)(1.0f);
    return one / (one + VARIANT(exp)(-x));
}

/// tanh as the engine's scalar `hyperbolicTangent`: an odd polynomial below 1/16, where
/// (1 − e)/(1 + e) would cancel, and one exponential elsewhere; the sign (and −0) kept.
static inline TARGET VF VARIANT(tanh)(VF x) {
    const VF one = VARIANT(splat)(1.0f);
    const VI sign = (VI)(0x80000000u);
    VF a = (VF)((VI)x & ~sign);
    VF x2 = x * x;
    VF small = x + x * x2 * (VARIANT(splat)(-1.0f / 3) + x2 * (VARIANT(splat)(2.0f / 15) + x2 * VARIANT(splat)(-17.0f / 315)));
    VF e = VARIANT(exp)(VARIANT(splat)(-2.0f) * a);
    VF big = (one - e) / (one + e);
    big = (VF)((VI)big | ((VI)x & sign));
    return VARIANT(select)(a < VARIANT(splat)(0.0625f), small, big);
}

/// z = b + x·W + h·U (4u values) for one row; per element: the bias, then the features and the
/// units in order, each a MULADD.
static inline TARGET void VARIANT(projection1)(size_t features, size_t u, float *z, const float *bias,
                                               const float *x, const float *w, const float *h, const float *u_mat) {
    size_t g4 = 4 * u, col = 0;
    for (; col + 16 <= g4; col += 16) {
        VF acc = VARIANT(load)(bias + col);
        for (size_t k = 0; k < features; k++) acc = MULADD(VARIANT(splat)(x[k]), VARIANT(load)(w + k * g4 + col), acc);
        for (size_t k = 0; k < u; k++) acc = MULADD(VARIANT(splat)(h[k]), VARIANT(load)(u_mat + k * g4 + col), acc);
        VARIANT(store)(z + col, acc);
    }
    for (; col < g4; col++) {
        float acc = bias[col];
        for (size_t k = 0; k < features; k++) acc = MULADD1(x[k], w[k * g4 + col], acc);
        for (size_t k = 0; k < u; k++) acc = MULADD1(h[k], u_mat[k * g4 + col], acc);
        z[col] = acc;
    }
}

/// Accumulates a[r]·M (rows k of M, `depth` of them) into four rows' pairs of 16-column
/// accumulators: each pair of vectors of M loaded serves four rows.
#define PROJECT4(depth, a, m, ld) \
    for (size_t k = 0; k < (depth); k++) { \
        const float *mk = (m) + k * (ld); \
        VF wa = VARIANT(load)(mk), wb = VARIANT(load)(mk + 16); \
        VF h0 = VARIANT(splat)((a)[0][k]), h1 = VARIANT(splat)((a)[1][k]), h2 = VARIANT(splat)((a)[2][k]), h3 = VARIANT(splat)((a)[3][k]); \
        a0 = MULADD(h0, wa, a0); b0 = MULADD(h0, wb, b0); \
        a1 = MULADD(h1, wa, a1); b1 = MULADD(h1, wb, b1); \
        a2 = MULADD(h2, wa, a2); b2 = MULADD(h2, wb, b2); \
        a3 = MULADD(h3, wa, a3); b3 = MULADD(h3, wb, b3); \
    }

/// `projection1` for 4 rows at once, 32 columns at a time, with exactly its operations on
/// every element.
static inline TARGET void VARIANT(projection4)(size_t features, size_t u, float *const z[4], const float *bias,
                                               const float *const x[4], const float *w, const float *const h[4],
                                               const float *u_mat) {
    size_t g4 = 4 * u, col = 0;
    for (; col + 32 <= g4; col += 32) {
        VF a0 = VARIANT(load)(bias + col), a1 = a0, a2 = a0, a3 = a0;
        VF b0 = VARIANT(load)(bias + col + 16), b1 = b0, b2 = b0, b3 = b0;
        PROJECT4(features, x, w + col, g4)
        PROJECT4(u, h, u_mat + col, g4)
        VARIANT(store)(z[0] + col, a0); VARIANT(store)(z[1] + col, a1); VARIANT(store)(z[2] + col, a2); VARIANT(store)(z[3] + col, a3);
        VARIANT(store)(z[0] + col + 16, b0); VARIANT(store)(z[1] + col + 16, b1);
        VARIANT(store)(z[2] + col + 16, b2); VARIANT(store)(z[3] + col + 16, b3);
    }
    if (col < g4) {
        // The last 16 columns or fewer: row by row, the same arithmetic per element.
        for (size_t r = 0; r < 4; r++) {
            for (size_t c = col; c < g4; c++) {
                float acc = bias[c];
                for (size_t k = 0; k < features; k++) acc = MULADD1(x[r][k], w[k * g4 + c], acc);
                for (size_t k = 0; k < u; k++) acc = MULADD1(h[r][k], u_mat[k * g4 + c], acc);
                z[r][c] = acc;
            }
        }
    }
}
#undef PROJECT4

/// The gates of one row in place (z → i, f, g, o) and its new state.
static inline TARGET void VARIANT(cell)(size_t u, float *z, const float *c_prev, float *c_next, float *h_next, float *tc) {
    for (size_t j = 0; j < u; j += 16) {
        size_t n = u - j < 16 ? u - j : 16;
        // A last block of fewer than 16 units goes through zero-padded copies.
        float pad[5][16] = {{0}};
        const float *zi = z + j, *zf = z + u + j, *zg = z + 2 * u + j, *zo = z + 3 * u + j, *cp = c_prev + j;
        if (n < 16) {
            for (size_t l = 0; l < n; l++) {
                pad[0][l] = zi[l]; pad[1][l] = zf[l]; pad[2][l] = zg[l]; pad[3][l] = zo[l]; pad[4][l] = cp[l];
            }
            zi = pad[0]; zf = pad[1]; zg = pad[2]; zo = pad[3]; cp = pad[4];
        }
        VF i = VARIANT(sigmoid)(VARIANT(load)(zi)), f = VARIANT(sigmoid)(VARIANT(load)(zf));
        VF g = VARIANT(tanh)(VARIANT(load)(zg)), o = VARIANT(sigmoid)(VARIANT(load)(zo));
        VF c = f * VARIANT(load)(cp) + i * g;
        VF t = VARIANT(tanh)(c);
        VF h = o * t;
        if (n == 16) {
            VARIANT(store)(z + j, i); VARIANT(store)(z + u + j, f); VARIANT(store)(z + 2 * u + j, g); VARIANT(store)(z + 3 * u + j, o);
            VARIANT(store)(c_next + j, c); VARIANT(store)(tc + j, t); VARIANT(store)(h_next + j, h);
        } else {
            float out[7][16];
            VARIANT(store)(out[0], i); VARIANT(store)(out[1], f); VARIANT(store)(out[2], g); VARIANT(store)(out[3], o);
            VARIANT(store)(out[4], c); VARIANT(store)(out[5], t); VARIANT(store)(out[6], h);
            for (size_t l = 0; l < n; l++) {
                z[j + l] = out[0][l]; z[u + j + l] = out[1][l]; z[2 * u + j + l] = out[2][l]; z[3 * u + j + l] = out[3][l];
                c_next[j + l] = out[4][l]; tc[j + l] = out[5][l]; h_next[j + l] = out[6][l];
            }
        }
    }
}

static TARGET int VARIANT(forward)(size_t steps, size_t features, size_t u, size_t row_begin, size_t row_end,
                                   const float *x, const float *w, const float *u_mat, const float *bias, float *gates,
                                   float *h_prev, float *c_prev, float *tanh_cells, float *h_last) {
    size_t g4 = 4 * u, n_rows = row_end - row_begin;
    // The last step's cell state is needed by no one: it goes to scratch.
    float *c_last = malloc(n_rows * u * sizeof(float) + 1);
    if (!c_last) return -1;
    for (size_t b = row_begin; b < row_end; b++) {
        memset(h_prev + b * steps * u, 0, u * sizeof(float));
        memset(c_prev + b * steps * u, 0, u * sizeof(float));
    }
    // Step by step across the groups of 4 rows (not group by group): consecutive groups do not
    // depend on each other, so the CPU overlaps one group's gates with the next one's product.
    for (size_t t = 0; t < steps; t++) {
        int last = t + 1 == steps;
        for (size_t b0 = row_begin; b0 < row_end; b0 += 4) {
            size_t rows = row_end - b0 < 4 ? row_end - b0 : 4;
            float *zr[4] = {0};
            const float *hr[4] = {0}, *xr[4] = {0};
            for (size_t r = 0; r < rows; r++) {
                size_t row = (b0 + r) * steps + t;
                zr[r] = gates + row * g4;
                hr[r] = h_prev + row * u;
                xr[r] = x + row * features;
            }
            if (rows == 4) VARIANT(projection4)(features, u, zr, bias, xr, w, hr, u_mat);
            else for (size_t r = 0; r < rows; r++) VARIANT(projection1)(features, u, zr[r], bias, xr[r], w, hr[r], u_mat);
            for (size_t r = 0; r < rows; r++) {
                size_t b = b0 + r, row = b * steps + t;
                VARIANT(cell)(u, zr[r], c_prev + row * u, last ? c_last + (b - row_begin) * u : c_prev + (row + 1) * u,
                              last ? h_last + b * u : h_prev + (row + 1) * u, tanh_cells + row * u);
            }
        }
    }
    free(c_last);
    return 0;
}

/// One step of one row backwards: dz from the kept gates, dh and the carried dc (updated).
static inline TARGET void VARIANT(cell_backward)(size_t u, const float *gate, const float *c_prev, const float *tc,
                                                 const float *dh, float *dc, float *dz) {
    const VF one = VARIANT(splat)(1.0f);
    for (size_t j = 0; j < u; j += 16) {
        size_t n = u - j < 16 ? u - j : 16;
        float pad[8][16] = {{0}};
        const float *gi = gate + j, *gf = gate + u + j, *gg = gate + 2 * u + j, *go = gate + 3 * u + j;
        const float *cp = c_prev + j, *tv = tc + j, *dhv = dh + j, *dcv = dc + j;
        if (n < 16) {
            for (size_t l = 0; l < n; l++) {
                pad[0][l] = gi[l]; pad[1][l] = gf[l]; pad[2][l] = gg[l]; pad[3][l] = go[l];
                pad[4][l] = cp[l]; pad[5][l] = tv[l]; pad[6][l] = dhv[l]; pad[7][l] = dcv[l];
            }
            gi = pad[0]; gf = pad[1]; gg = pad[2]; go = pad[3]; cp = pad[4]; tv = pad[5]; dhv = pad[6]; dcv = pad[7];
        }
        VF i = VARIANT(load)(gi), f = VARIANT(load)(gf), g = VARIANT(load)(gg), o = VARIANT(load)(go);
        VF t = VARIANT(load)(tv), h = VARIANT(load)(dhv);
        VF total = VARIANT(load)(dcv) + h * o * (one - t * t);
        VF di = total * g * i * (one - i);
        VF df = total * VARIANT(load)(cp) * f * (one - f);
        VF dg = total * i * (one - g * g);
        VF d_o = h * t * o * (one - o);
        VF carried = total * f;
        if (n == 16) {
            VARIANT(store)(dz + j, di); VARIANT(store)(dz + u + j, df); VARIANT(store)(dz + 2 * u + j, dg);
            VARIANT(store)(dz + 3 * u + j, d_o); VARIANT(store)(dc + j, carried);
        } else {
            float out[5][16];
            VARIANT(store)(out[0], di); VARIANT(store)(out[1], df); VARIANT(store)(out[2], dg);
            VARIANT(store)(out[3], d_o); VARIANT(store)(out[4], carried);
            for (size_t l = 0; l < n; l++) {
                dz[j + l] = out[0][l]; dz[u + j + l] = out[1][l]; dz[2 * u + j + l] = out[2][l]; dz[3 * u + j + l] = out[3][l];
                dc[j + l] = out[4][l];
            }
        }
    }
}

/// dh_prev = dz·Uᵀ for one row, summed over the 4u gates in order.
static inline TARGET void VARIANT(recurrent_product_backward1)(size_t u, const float *dz, const float *u_t, float *dh_prev) {
    size_t g4 = 4 * u, col = 0;
    for (; col + 16 <= u; col += 16) {
        VF acc = VARIANT(splat)(dz[0]) * VARIANT(load)(u_t + col);
        for (size_t k = 1; k < g4; k++) acc = MULADD(VARIANT(splat)(dz[k]), VARIANT(load)(u_t + k * u + col), acc);
        VARIANT(store)(dh_prev + col, acc);
    }
    for (; col < u; col++) {
        float acc = dz[0] * u_t[col];
        for (size_t k = 1; k < g4; k++) acc = MULADD1(dz[k], u_t[k * u + col], acc);
        dh_prev[col] = acc;
    }
}

/// The same for 4 rows at once (each vector of Uᵀ loaded serves four rows), with exactly the
/// operations of `recurrent_product_backward1` on every element.
static inline TARGET void VARIANT(recurrent_product_backward4)(size_t u, const float *const dz[4], const float *u_t,
                                                               float *const dh_prev[4]) {
    size_t g4 = 4 * u, col = 0;
    for (; col + 16 <= u; col += 16) {
        VF w = VARIANT(load)(u_t + col);
        VF a0 = VARIANT(splat)(dz[0][0]) * w, a1 = VARIANT(splat)(dz[1][0]) * w;
        VF a2 = VARIANT(splat)(dz[2][0]) * w, a3 = VARIANT(splat)(dz[3][0]) * w;
        const float *wp = u_t + u + col;
        for (size_t k = 1; k < g4; k++, wp += u) {
            w = VARIANT(load)(wp);
            a0 = MULADD(VARIANT(splat)(dz[0][k]), w, a0);
            a1 = MULADD(VARIANT(splat)(dz[1][k]), w, a1);
            a2 = MULADD(VARIANT(splat)(dz[2][k]), w, a2);
            a3 = MULADD(VARIANT(splat)(dz[3][k]), w, a3);
        }
        VARIANT(store)(dh_prev[0] + col, a0); VARIANT(store)(dh_prev[1] + col, a1);
        VARIANT(store)(dh_prev[2] + col, a2); VARIANT(store)(dh_prev[3] + col, a3);
    }
    if (col < u) {
        for (size_t r = 0; r < 4; r++) {
            for (size_t c = col; c < u; c++) {
                float acc = dz[r][0] * u_t[c];
                for (size_t k = 1; k < g4; k++) acc = MULADD1(dz[r][k], u_t[k * u + c], acc);
                dh_prev[r][c] = acc;
            }
        }
    }
}

static TARGET int VARIANT(backward)(size_t steps, size_t u, size_t row_begin, size_t row_end,
                                    const float *gates, const float *c_prev, const float *tanh_cells,
                                    const float *dh_last, const float *dh_seq, const float *u_t, float *dz) {
    // dh, dh_prev and dc of every row in the range.
    size_t g4 = 4 * u, n_rows = row_end - row_begin;
    float *scratch = malloc(3 * n_rows * u * sizeof(float) + 1);
    if (!scratch) return -1;
    float *dh = scratch, *dh_prev = scratch + n_rows * u, *dc = scratch + 2 * n_rows * u;
    if (dh_seq) {
        for (size_t b = row_begin; b < row_end; b++)
            memcpy(dh + (b - row_begin) * u, dh_seq + (b * steps + steps - 1) * u, u * sizeof(float));
    } else {
        memcpy(dh, dh_last + row_begin * u, n_rows * u * sizeof(float));
    }
    memset(dc, 0, n_rows * u * sizeof(float));
    for (size_t t = steps; t-- > 0;) {
        for (size_t b0 = row_begin; b0 < row_end; b0 += 4) {
            size_t rows = row_end - b0 < 4 ? row_end - b0 : 4;
            const float *dzr[4] = {0};
            float *dhp[4] = {0};
            for (size_t r = 0; r < rows; r++) {
                size_t b = b0 + r, row = b * steps + t, k = (b - row_begin) * u;
                VARIANT(cell_backward)(u, gates + row * g4, c_prev + row * u, tanh_cells + row * u, dh + k, dc + k, dz + row * g4);
                dzr[r] = dz + row * g4;
                dhp[r] = dh_prev + k;
            }
            if (rows == 4) VARIANT(recurrent_product_backward4)(u, dzr, u_t, dhp);
            else for (size_t r = 0; r < rows; r++) VARIANT(recurrent_product_backward1)(u, dzr[r], u_t, dhp[r]);
        }
        float *swap = dh; dh = dh_prev; dh_prev = swap;
        // A sequence output adds its own gradient at step t − 1 to what came back from step t.
        if (dh_seq && t > 0) {
            for (size_t b = row_begin; b < row_end; b++) {
                float *d = dh + (b - row_begin) * u;
                const float *s = dh_seq + (b * steps + t - 1) * u;
                for (size_t j = 0; j < u; j++) d[j] += s[j];
            }
        }
    }
    free(scratch);
    return 0;
}

/// C = Aᵀ·B over `depth` rows for C's columns [col_begin, col_end): A [depth, m] and B [depth, n]
/// row-major with row strides lda and ldb, C [m, n] with ldc, overwritten. Per element: the
/// first product, then MULADD over the rows in order, whatever tile the element falls in.
static TARGET void VARIANT(gemm_tn)(size_t depth, size_t m, const float *a, size_t lda, const float *b, size_t ldb,
                                    float *c, size_t ldc, size_t col_begin, size_t col_end) {
    if (depth == 0) {
        for (size_t i = 0; i < m; i++) for (size_t j = col_begin; j < col_end; j++) c[i * ldc + j] = 0;
        return;
    }
    // Depth in chunks, so that B's 32-column slice of a chunk stays in L1 while every row tile of
    // C passes over it; C's accumulators are stored and reloaded between chunks, which leaves
    // each element's order of operations as it is.
    const size_t chunk = 128;
    size_t j = col_begin;
    for (; j + 32 <= col_end; j += 32) {
        for (size_t k0 = 0; k0 < depth; k0 += chunk) {
            size_t k1 = depth - k0 < chunk ? depth : k0 + chunk;
            size_t i = 0;
            for (; i + 4 <= m; i += 4) {
                float *c0 = c + i * ldc + j, *c1 = c0 + ldc, *c2 = c1 + ldc, *c3 = c2 + ldc;
                const float *ak = a + k0 * lda + i, *bk = b + k0 * ldb + j;
                VF a0, a1, a2, a3, b0, b1, b2, b3;
                size_t k = k0;
                if (k0 == 0) {
                    VF wa = VARIANT(load)(bk), wb = VARIANT(load)(bk + 16);
                    a0 = VARIANT(splat)(ak[0]) * wa; b0 = VARIANT(splat)(ak[0]) * wb;
                    a1 = VARIANT(splat)(ak[1]) * wa; b1 = VARIANT(splat)(ak[1]) * wb;
                    a2 = VARIANT(splat)(ak[2]) * wa; b2 = VARIANT(splat)(ak[2]) * wb;
                    a3 = VARIANT(splat)(ak[3]) * wa; b3 = VARIANT(splat)(ak[3]) * wb;
                    ak += lda; bk += ldb; k++;
                } else {
                    a0 = VARIANT(load)(c0); b0 = VARIANT(load)(c0 + 16); a1 = VARIANT(load)(c1); b1 = VARIANT(load)(c1 + 16);
                    a2 = VARIANT(load)(c2); b2 = VARIANT(load)(c2 + 16); a3 = VARIANT(load)(c3); b3 = VARIANT(load)(c3 + 16);
                }
                for (; k < k1; k++, ak += lda, bk += ldb) {
                    VF wa = VARIANT(load)(bk), wb = VARIANT(load)(bk + 16);
                    VF h0 = VARIANT(splat)(ak[0]), h1 = VARIANT(splat)(ak[1]), h2 = VARIANT(splat)(ak[2]), h3 = VARIANT(splat)(ak[3]);
                    a0 = MULADD(h0, wa, a0); b0 = MULADD(h0, wb, b0);
                    a1 = MULADD(h1, wa, a1); b1 = MULADD(h1, wb, b1);
                    a2 = MULADD(h2, wa, a2); b2 = MULADD(h2, wb, b2);
                    a3 = MULADD(h3, wa, a3); b3 = MULADD(h3, wb, b3);
                }
                VARIANT(store)(c0, a0); VARIANT(store)(c0 + 16, b0); VARIANT(store)(c1, a1); VARIANT(store)(c1 + 16, b1);
                VARIANT(store)(c2, a2); VARIANT(store)(c2 + 16, b2); VARIANT(store)(c3, a3); VARIANT(store)(c3 + 16, b3);
            }
            for (; i < m; i++) {
                float *c0 = c + i * ldc + j;
                const float *ak = a + k0 * lda + i, *bk = b + k0 * ldb + j;
                VF a0, b0;
                size_t k = k0;
                if (k0 == 0) {
                    a0 = VARIANT(splat)(ak[0]) * VARIANT(load)(bk); b0 = VARIANT(splat)(ak[0]) * VARIANT(load)(bk + 16);
                    ak += lda; bk += ldb; k++;
                } else {
                    a0 = VARIANT(load)(c0); b0 = VARIANT(load)(c0 + 16);
                }
                for (; k < k1; k++, ak += lda, bk += ldb) {
                    a0 = MULADD(VARIANT(splat)(ak[0]), VARIANT(load)(bk), a0);
                    b0 = MULADD(VARIANT(splat)(ak[0]), VARIANT(load)(bk + 16), b0);
                }
                VARIANT(store)(c0, a0); VARIANT(store)(c0 + 16, b0);
            }
        }
    }
    for (; j < col_end; j++) {
        for (size_t i = 0; i < m; i++) {
            float acc = a[i] * b[j];
            for (size_t k = 1; k < depth; k++) acc = MULADD1(a[k * lda + i], b[k * ldb + j], acc);
            c[i * ldc + j] = acc;
        }
    }
}

#undef VF
#undef VI
