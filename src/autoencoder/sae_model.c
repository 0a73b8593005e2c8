/* sae_model.c — msesparse loss and gradient (see sae_model.h), instantiated from
 * sae_model_impl.h in float (dnnl_sgemm, the production path) and in double (plain loops,
 * the reference path), plus the float encoder used by bs_sae_encode.
 * Not for: training logic (scg.c) or the file format (sae_file.c). */
#include "sae_model.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <oneapi/dnnl/dnnl.h>

#include "core/dist.h"
#include "core/error.h"
#include "core/io.h"

/* Row kernels are compiled for AVX-512, AVX2 and baseline x86-64 and picked at load time. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define KERNEL_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define KERNEL_CLONES
#endif

/* logsig(x) = 1/(1 + e^−x) in float, vectorisable: e^t = 2^k·e^r with k = round(t/ln 2),
 * |r| <= ln2/2, e^r by its degree-7 Taylor polynomial (truncation < 3e-8 relative), 2^k
 * built in the exponent bits. t is clamped to ±88 so 2^k stays a normal float; beyond that
 * logsig is 0 or 1 to float precision anyway. NaN in, NaN out (a diverging trial step must
 * give a NaN perf, which SCG rejects). */
static inline float logsig_f32(float x) {
    float t =
        x == x ? -x : 0.0f; /* NaN: computed on 0 (no undefined int conversion), returned as NaN */
    t = t > 88.0f ? 88.0f : t;
    t = t < -88.0f ? -88.0f : t;
    const float shifter = 12582912.0f; /* 1.5·2^23: adding it rounds to an integer */
    float k = (t * 1.44269504088896341f + shifter) - shifter;
    float r = t - k * 0.693359375f;
    r = r - k * -2.12194440e-4f;
    float e = 1.0f / 5040.0f;
    e = e * r + 1.0f / 720.0f;
    e = e * r + 1.0f / 120.0f;
    e = e * r + 1.0f / 24.0f;
    e = e * r + 1.0f / 6.0f;
    e = e * r + 0.5f;
    e = e * r + 1.0f;
    e = e * r + 1.0f;
    union {
        int32_t i;
        float f;
    } scale;
    scale.i = ((int32_t)k + 127) << 23;
    float y = 1.0f / (1.0f + e * scale.f);
    return x == x ? y : x;
}

static inline double logsig_f64(double x) { return 1.0 / (1.0 + exp(-x)); }

static int gemm_f32(char ta, char tb, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                    int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc) {
    dnnl_status_t st = dnnl_sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    if (st != dnnl_success)
        return bs_error("autoencoder: dnnl_sgemm(%c%c, %lld×%lld×%lld) failed with status %d", ta,
                        tb, (long long)m, (long long)n, (long long)k, (int)st);
    return 0;
}

/* The same contract as dnnl_sgemm (row-major C = alpha·op(A)·op(B) + beta·C), in double. */
static int gemm_f64(char ta, char tb, int64_t m, int64_t n, int64_t k, double alpha,
                    const double *a, int64_t lda, const double *b, int64_t ldb, double beta,
                    double *c, int64_t ldc) {
    const int at = ta == 'T' || ta == 't', bt = tb == 'T' || tb == 't';
#pragma omp parallel for schedule(static) if (m * n * k >= (1 << 18))
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            double s = 0;
            for (int64_t l = 0; l < k; l++)
                s +=
                    (at ? a[l * lda + i] : a[i * lda + l]) * (bt ? b[j * ldb + l] : b[l * ldb + j]);
            c[i * ldc + j] = alpha * s + (beta == 0 ? 0 : beta * c[i * ldc + j]);
        }
    return 0;
}

#define R float
#define SFX _f
#define GEMM gemm_f32
#define LOGSIG logsig_f32
#define KERNEL KERNEL_CLONES
#include "sae_model_impl.h"
#undef R
#undef SFX
#undef GEMM
#undef LOGSIG
#undef KERNEL

#define R double
#define SFX _d
#define GEMM gemm_f64
#define LOGSIG logsig_f64
#define KERNEL
#include "sae_model_impl.h"
#undef R
#undef SFX
#undef GEMM
#undef LOGSIG
#undef KERNEL

struct sae_objective {
    bs_sae_precision prec;
    sae_hyper hp;
    sae_ws_f *f;
    sae_ws_d *d;
};

sae_objective *bs_sae_objective_new(bs_sae_precision prec, const float *x, int64_t d,
                                    const int64_t *rows, int64_t n, int64_t h,
                                    const bs_mapminmax *mm, const sae_hyper *hp) {
    if (n < 1 || d < 1 || h < 1) {
        bs_error("autoencoder: need at least one sample, feature and hidden unit (n=%lld, d=%lld, "
                 "h=%lld)",
                 (long long)n, (long long)d, (long long)h);
        return NULL;
    }
    if (!(hp->rho > 0 && hp->rho < 1)) {
        bs_error("autoencoder: sparsity proportion must be in (0, 1), not %g", hp->rho);
        return NULL;
    }
    sae_objective *o = bs_calloc(1, sizeof *o);
    if (!o) return NULL;
    o->prec = prec;
    o->hp = *hp;
    if (prec == BS_SAE_FLOAT64)
        o->d = ws_new_d(x, d, rows, n, h, mm, hp);
    else
        o->f = ws_new_f(x, d, rows, n, h, mm, hp);
    if (!o->d && !o->f) {
        free(o);
        return NULL;
    }
    return o;
}

int bs_sae_objective_distribute(sae_objective *o, int64_t n_global) {
    if (n_global < 1) return bs_error("autoencoder: no training rows in the job");
    return o->d ? ws_distribute_d(o->d, n_global, &o->hp) : ws_distribute_f(o->f, n_global, &o->hp);
}

int bs_sae_objective_eval(sae_objective *o, const double *w, const double *p, double t,
                          double *perf, double *grad) {
    int rc = o->d ? ws_forward_d(o->d, &o->hp, w, p, t, perf)
                  : ws_forward_f(o->f, &o->hp, w, p, t, perf);
    if (rc || !grad) return rc;
    return bs_sae_objective_grad_last(o, grad);
}

int bs_sae_objective_grad_last(sae_objective *o, double *grad) {
    return o->d ? ws_backward_d(o->d, &o->hp, grad) : ws_backward_f(o->f, &o->hp, grad);
}

void bs_sae_objective_free(sae_objective *o) {
    if (!o) return;
    ws_free_d(o->d);
    ws_free_f(o->f);
    free(o);
}

int bs_sae_encode_f(const float *x, int64_t d, const int64_t *rows, int64_t n, int64_t h,
                    const bs_mapminmax *mm, const float *w1, const float *b1, float *out) {
    enum { CHUNK = 2048 }; /* rows scaled at a time: bounds the scratch memory */
    int64_t rows_per = n < CHUNK ? n : CHUNK;
    float *xs = alloc_f(rows_per * d, sizeof(float));
    if (!xs) return -1;
    for (int64_t i0 = 0; i0 < n; i0 += rows_per) {
        int64_t m = n - i0 < rows_per ? n - i0 : rows_per;
#pragma omp parallel for schedule(static) if (m * d >= 65536)
        for (int64_t i = 0; i < m; i++)
            bs_mapminmax_apply_f(mm, x + (rows ? rows[i0 + i] : i0 + i) * d, xs + i * d);
        /* Z (m × h) = Xs (m × d) · W1ᵀ (d × h), then logsig(Z + b1) */
        if (gemm_f32('N', 'T', m, h, d, 1, xs, d, w1, d, 0, out + i0 * h, h)) {
            free(xs);
            return -1;
        }
#pragma omp parallel for schedule(static) if (m * h >= 65536)
        for (int64_t i = 0; i < m; i++) k_encode_row_f(out + (i0 + i) * h, b1, h);
    }
    free(xs);
    return 0;
}

int bs_sae_reconstruction_error_f(const float *x, int64_t d, const int64_t *rows, int64_t n,
                                  int64_t h, const bs_mapminmax *mm, const float *w, double *err) {
    enum { CHUNK = 256 }; /* rows at a time: bounds the scratch memory */
    int64_t rows_per = n < CHUNK ? n : CHUNK;
    float *xs = alloc_f(rows_per * d, sizeof(float)), *a1 = alloc_f(rows_per * h, sizeof(float)),
          *a2 = alloc_f(rows_per * d, sizeof(float));
    double *range2 = alloc_f(d, sizeof(double));
    int rc = (xs && a1 && a2 && range2) ? 0 : -1;
    for (int64_t j = 0; j < d && rc == 0; j++) range2[j] = 1.0 / (mm->gain[j] * mm->gain[j]);
    const float *w1 = w, *b1 = w + sae_off_b1(d, h), *w2 = w + sae_off_w2(d, h),
                *b2 = w + sae_off_b2(d, h);
    for (int64_t i0 = 0; i0 < n && rc == 0; i0 += rows_per) {
        int64_t m = n - i0 < rows_per ? n - i0 : rows_per;
        for (int64_t i = 0; i < m; i++)
            bs_mapminmax_apply_f(mm, x + (rows ? rows[i0 + i] : i0 + i) * d, xs + i * d);
        /* A1 (m × h) = logsig(Xs · W1ᵀ + b1); A2 (m × d) = logsig(A1 · W2ᵀ + b2) */
        rc = gemm_f32('N', 'T', m, h, d, 1, xs, d, w1, d, 0, a1, h);
        for (int64_t i = 0; i < m && rc == 0; i++) k_encode_row_f(a1 + i * h, b1, h);
        if (rc == 0) rc = gemm_f32('N', 'T', m, d, h, 1, a1, h, w2, h, 0, a2, d);
        for (int64_t i = 0; i < m && rc == 0; i++)
            err[i0 + i] = k_decode_row_f(a2 + i * d, b2, xs + i * d, range2, d) / (double)d;
    }
    free(xs);
    free(a1);
    free(a2);
    free(range2);
    return rc;
}
