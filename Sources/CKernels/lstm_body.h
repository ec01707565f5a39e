// The LSTM kernels' bodies, included once per instruction set by lstm_kernels.c (so no include
// guard) with VARIANT (a name suffix) and TARGET (a target attribute) defined. Every variant
// performs the same IEEE operations in the same order on each element, so all give the same bits.

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

/// z (4u values, x·W + b) += h_prev·U for `rows` (1…4) rows at once, so each vector of U
/// loaded serves every row; per element the sum runs over k in order, whatever `rows` is.
static inline TARGET void VARIANT(recurrent_product)(size_t u, size_t rows, float *const z[4], const float *u_mat,
                                                     const float *const h_prev[4]) {
    size_t g4 = 4 * u, col = 0;
    for (; col + 16 <= g4; col += 16) {
        VF acc0 = VARIANT(load)(z[0] + col), acc1 = acc0, acc2 = acc0, acc3 = acc0;
        if (rows > 1) acc1 = VARIANT(load)(z[1] + col);
        if (rows > 2) acc2 = VARIANT(load)(z[2] + col);
        if (rows > 3) acc3 = VARIANT(load)(z[3] + col);
        for (size_t k = 0; k < u; k++) {
            VF w = VARIANT(load)(u_mat + k * g4 + col);
            acc0 = acc0 + VARIANT(splat)(h_prev[0][k]) * w;
            if (rows > 1) acc1 = acc1 + VARIANT(splat)(h_prev[1][k]) * w;
            if (rows > 2) acc2 = acc2 + VARIANT(splat)(h_prev[2][k]) * w;
            if (rows > 3) acc3 = acc3 + VARIANT(splat)(h_prev[3][k]) * w;
        }
        VARIANT(store)(z[0] + col, acc0);
        if (rows > 1) VARIANT(store)(z[1] + col, acc1);
        if (rows > 2) VARIANT(store)(z[2] + col, acc2);
        if (rows > 3) VARIANT(store)(z[3] + col, acc3);
    }
    for (; col < g4; col++) {
        for (size_t r = 0; r < rows; r++) {
            float acc = z[r][col];
            for (size_t k = 0; k < u; k++) acc = acc + h_prev[r][k] * u_mat[k * g4 + col];
            z[r][col] = acc;
        }
    }
}

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

static TARGET void VARIANT(forward)(size_t steps, size_t batch, size_t u, size_t row_begin, size_t row_end,
                                    float *z, const float *u_mat, float *cells, float *hiddens, float *tanh_cells) {
    size_t g4 = 4 * u;
    for (size_t b0 = row_begin; b0 < row_end; b0 += 4) {
        size_t rows = row_end - b0 < 4 ? row_end - b0 : 4;
        for (size_t t = 0; t < steps; t++) {
            float *zr[4] = {0};
            const float *hr[4] = {0};
            for (size_t r = 0; r < rows; r++) {
                zr[r] = z + (t * batch + b0 + r) * g4;
                hr[r] = hiddens + (t * batch + b0 + r) * u;
            }
            VARIANT(recurrent_product)(u, rows, zr, u_mat, hr);
            for (size_t r = 0; r < rows; r++) {
                size_t prev = (t * batch + b0 + r) * u, next = ((t + 1) * batch + b0 + r) * u;
                VARIANT(cell)(u, zr[r], cells + prev, cells + next, hiddens + next, tanh_cells + prev);
            }
        }
    }
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

/// dh_prev = dz·Uᵀ for `rows` (1…4) rows at once, summed over the 4u gates in order.
static inline TARGET void VARIANT(recurrent_product_backward)(size_t u, size_t rows, const float *const dz[4],
                                                              const float *u_t, float *const dh_prev[4]) {
    size_t g4 = 4 * u, col = 0;
    for (; col + 16 <= u; col += 16) {
        VF w = VARIANT(load)(u_t + col);
        VF acc0 = VARIANT(splat)(dz[0][0]) * w, acc1 = acc0, acc2 = acc0, acc3 = acc0;
        if (rows > 1) acc1 = VARIANT(splat)(dz[1][0]) * w;
        if (rows > 2) acc2 = VARIANT(splat)(dz[2][0]) * w;
        if (rows > 3) acc3 = VARIANT(splat)(dz[3][0]) * w;
        for (size_t k = 1; k < g4; k++) {
            w = VARIANT(load)(u_t + k * u + col);
            acc0 = acc0 + VARIANT(splat)(dz[0][k]) * w;
            if (rows > 1) acc1 = acc1 + VARIANT(splat)(dz[1][k]) * w;
            if (rows > 2) acc2 = acc2 + VARIANT(splat)(dz[2][k]) * w;
            if (rows > 3) acc3 = acc3 + VARIANT(splat)(dz[3][k]) * w;
        }
        VARIANT(store)(dh_prev[0] + col, acc0);
        if (rows > 1) VARIANT(store)(dh_prev[1] + col, acc1);
        if (rows > 2) VARIANT(store)(dh_prev[2] + col, acc2);
        if (rows > 3) VARIANT(store)(dh_prev[3] + col, acc3);
    }
    for (; col < u; col++) {
        for (size_t r = 0; r < rows; r++) {
            float acc = dz[r][0] * u_t[col];
            for (size_t k = 1; k < g4; k++) acc = acc + dz[r][k] * u_t[k * u + col];
            dh_prev[r][col] = acc;
        }
    }
}

static TARGET int VARIANT(backward)(size_t steps, size_t batch, size_t u, size_t row_begin, size_t row_end,
                                    const float *gates, const float *cells, const float *tanh_cells,
                                    const float *dh_last, const float *u_t, float *dz) {
    // dh, dh_prev and dc for up to 4 rows.
    float *scratch = malloc(12 * u * sizeof(float));
    if (!scratch) return -1;
    size_t g4 = 4 * u;
    for (size_t b0 = row_begin; b0 < row_end; b0 += 4) {
        size_t rows = row_end - b0 < 4 ? row_end - b0 : 4;
        float *dh[4], *dh_prev[4], *dc[4];
        for (size_t r = 0; r < 4; r++) {
            dh[r] = scratch + r * u; dh_prev[r] = scratch + (4 + r) * u; dc[r] = scratch + (8 + r) * u;
        }
        for (size_t r = 0; r < rows; r++) {
            memcpy(dh[r], dh_last + (b0 + r) * u, u * sizeof(float));
            memset(dc[r], 0, u * sizeof(float));
        }
        for (size_t t = steps; t-- > 0;) {
            const float *dzr[4] = {0};
            for (size_t r = 0; r < rows; r++) {
                size_t row = t * batch + b0 + r;
                VARIANT(cell_backward)(u, gates + row * g4, cells + row * u, tanh_cells + row * u, dh[r], dc[r], dz + row * g4);
                dzr[r] = dz + row * g4;
            }
            VARIANT(recurrent_product_backward)(u, rows, dzr, u_t, dh_prev);
            for (size_t r = 0; r < 4; r++) { float *swap = dh[r]; dh[r] = dh_prev[r]; dh_prev[r] = swap; }
        }
    }
    free(scratch);
    return 0;
}

#undef VF
#undef VI
