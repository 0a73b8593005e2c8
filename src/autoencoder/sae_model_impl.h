/* sae_model_impl.h — the loss and gradient written once, instantiated by sae_model.c for
 * R = float (names ending _f, products by dnnl_sgemm) and R = double (names ending _d, plain
 * loops). Include only from sae_model.c, with R, SFX, GEMM, LOGSIG and KERNEL defined.
 * Shapes are in the comments: n samples, d features, h hidden units, row-major.
 * Private to src/autoencoder (sae_model.c alone includes it). */

#define SAE_CAT2(a, b) a##b
#define SAE_CAT(a, b) SAE_CAT2(a, b)
#define FN(name) SAE_CAT(name, SFX)
/* Loops over fewer elements than this run on one thread (small problems, tests). */
#define PAR_MIN 65536

typedef struct FN(sae_ws) {
    int64_t n, d, h, np;
    R *xs;          /* n × d  scaled training data */
    R *wb;          /* np     working weights, parameter layout */
    R *gb;          /* np     gradient of the weight blocks (bias blocks unused) */
    R *a1;          /* n × h  hidden activations */
    R *dz1;         /* n × h  dperf/dZ1 */
    R *a2;          /* n × d  output activations; dperf/dZ2 after the backward pass */
    R *c2;          /* d      −2·(1/gain)²/(n·d): dperf/dA2 = c2·(Xs − A2) */
    R *csp;         /* h      sparsity term of dperf/dA1 */
    double *range2; /* d      (1/gain)², to measure errors in original units */
    double *rowacc; /* n      per-row SSE */
    double *rho;    /* h      clipped mean activation ρ̂ */
    double *part;   /* blocks of the Σw² reduction */
    int64_t nblocks;
    double sumw2;
    int have_forward;
    /* Data-parallel training (bs_sae_objective_distribute): this workspace holds one rank's
     * shard of n rows out of nglobal; sums over samples are combined across ranks. */
    int dist;
    int64_t nglobal;
    double *red; /* h + 1  ρ̂ sums and SSE, reduced together */
} FN(sae_ws);

/* z (h) ← logsig(z + b) */
KERNEL static void FN(k_encode_row)(R *restrict z, const R *restrict b, int64_t h) {
#pragma omp simd
    for (int64_t j = 0; j < h; j++) z[j] = LOGSIG(z[j] + b[j]);
}

/* z (d) ← a = logsig(z + b); returns Σ (xs − a)²·range2 */
KERNEL static double FN(k_decode_row)(R *restrict z, const R *restrict b, const R *restrict xs,
                                      const double *restrict range2, int64_t d) {
    double acc = 0;
#pragma omp simd reduction(+ : acc)
    for (int64_t j = 0; j < d; j++) {
        R a = LOGSIG(z[j] + b[j]);
        z[j] = a;
        R e = xs[j] - a;
        acc += (double)(e * e) * range2[j];
    }
    return acc;
}

/* a (d) ← dZ2 = c2·(xs − a)·a·(1 − a) */
KERNEL static void FN(k_dz2_row)(R *restrict a, const R *restrict xs, const R *restrict c2,
                                 int64_t d) {
#pragma omp simd
    for (int64_t j = 0; j < d; j++) {
        R v = a[j];
        a[j] = c2[j] * (xs[j] - v) * v * ((R)1 - v);
    }
}

/* da (h) ← dZ1 = (da + csp)·a·(1 − a) */
KERNEL static void FN(k_dz1_row)(R *restrict da, const R *restrict a, const R *restrict csp,
                                 int64_t h) {
#pragma omp simd
    for (int64_t j = 0; j < h; j++) da[j] = (da[j] + csp[j]) * a[j] * ((R)1 - a[j]);
}

/* out[j] (m) = scale·Σ_i M[i, j] over an n × m matrix, in double; fixed order. */
#define COLBLOCK 256
static void FN(colsum)(const R *M, int64_t n, int64_t m, double scale, double *out) {
    int64_t nb = (m + COLBLOCK - 1) / COLBLOCK;
#pragma omp parallel for schedule(static) if (n * m >= PAR_MIN)
    for (int64_t b = 0; b < nb; b++) {
        int64_t lo = b * COLBLOCK, w = lo + COLBLOCK < m ? COLBLOCK : m - lo;
        double acc[COLBLOCK] = {0};
        for (int64_t i = 0; i < n; i++) {
            const R *row = M + i * m + lo;
            for (int64_t j = 0; j < w; j++) acc[j] += row[j];
        }
        for (int64_t j = 0; j < w; j++) out[lo + j] = scale * acc[j];
    }
}

#define WBLOCK 16384
/* wb = (R)(w + t·p); returns Σ wb² over the two weight matrices (not the biases). */
static double FN(load_weights)(FN(sae_ws) * s, const double *w, const double *p, double t) {
    const int64_t np = s->np, b1 = sae_off_b1(s->d, s->h), w2 = sae_off_w2(s->d, s->h),
                  b2 = sae_off_b2(s->d, s->h);
    R *wb = s->wb;
#pragma omp parallel for schedule(static) if (np >= PAR_MIN)
    for (int64_t blk = 0; blk < s->nblocks; blk++) {
        int64_t lo = blk * WBLOCK, hi = lo + WBLOCK < np ? lo + WBLOCK : np;
        double sq = 0;
        for (int64_t i = lo; i < hi; i++) {
            R v = (R)(t == 0 || !p ? w[i] : w[i] + t * p[i]);
            wb[i] = v;
            if (i < b1 || (i >= w2 && i < b2)) sq += (double)v * (double)v;
        }
        s->part[blk] = sq;
    }
    double sum = 0;
    for (int64_t blk = 0; blk < s->nblocks; blk++) sum += s->part[blk];
    return sum;
}

static void FN(ws_free)(FN(sae_ws) * s) {
    if (!s) return;
    free(s->xs);
    free(s->wb);
    free(s->gb);
    free(s->a1);
    free(s->dz1);
    free(s->a2);
    free(s->c2);
    free(s->csp);
    free(s->range2);
    free(s->rowacc);
    free(s->rho);
    free(s->part);
    free(s->red);
    free(s);
}

static void *FN(alloc)(int64_t count, size_t size) {
    size_t bytes;
    if (count < 0 || bs_mul_size((size_t)count, size, &bytes)) return NULL;
    return bs_malloc(bytes ? bytes : 1);
}

static FN(sae_ws) * FN(ws_new)(const float *x, int64_t d, const int64_t *rows, int64_t n, int64_t h,
                               const bs_mapminmax *mm, const sae_hyper *hp) {
    FN(sae_ws) *s = bs_calloc(1, sizeof *s);
    if (!s) return NULL;
    s->n = n;
    s->nglobal = n;
    s->d = d;
    s->h = h;
    s->np = sae_nparams(d, h);
    s->nblocks = (s->np + WBLOCK - 1) / WBLOCK;
    if (!(s->xs = FN(alloc)(n * d, sizeof(R))) || !(s->wb = FN(alloc)(s->np, sizeof(R))) ||
        !(s->gb = FN(alloc)(s->np, sizeof(R))) || !(s->a1 = FN(alloc)(n * h, sizeof(R))) ||
        !(s->dz1 = FN(alloc)(n * h, sizeof(R))) || !(s->a2 = FN(alloc)(n * d, sizeof(R))) ||
        !(s->c2 = FN(alloc)(d, sizeof(R))) || !(s->csp = FN(alloc)(h, sizeof(R))) ||
        !(s->range2 = FN(alloc)(d, sizeof(double))) ||
        !(s->rowacc = FN(alloc)(n, sizeof(double))) || !(s->rho = FN(alloc)(h, sizeof(double))) ||
        !(s->part = FN(alloc)(s->nblocks, sizeof(double)))) {
        FN(ws_free)(s);
        return NULL;
    }
    double *tmp = bs_malloc((size_t)d * sizeof(double));
    if (!tmp) {
        FN(ws_free)(s);
        return NULL;
    }
    for (int64_t i = 0; i < n; i++) {
        bs_mapminmax_apply_d(mm, x + (rows ? rows[i] : i) * d, tmp);
        for (int64_t j = 0; j < d; j++) s->xs[i * d + j] = (R)tmp[j];
    }
    free(tmp);
    double mse = (hp->terms & SAE_TERM_MSE) ? 1.0 : 0.0;
    for (int64_t j = 0; j < d; j++) {
        double inv = 1.0 / mm->gain[j]; /* original units = scaled units / gain */
        s->range2[j] = inv * inv;
        s->c2[j] = (R)(-2.0 * mse * s->range2[j] / ((double)n * (double)d));
    }
    return s;
}

static int FN(ws_forward)(FN(sae_ws) * s, const sae_hyper *hp, const double *w, const double *p,
                          double t, double *perf) {
    const int64_t n = s->n, d = s->d, h = s->h;
    R *w1 = s->wb, *b1 = s->wb + sae_off_b1(d, h), *w2 = s->wb + sae_off_w2(d, h),
      *b2 = s->wb + sae_off_b2(d, h);
    s->have_forward = 0;
    s->sumw2 = FN(load_weights)(s, w, p, t);
    /* A1 (n × h) = logsig(Xs (n × d) · W1ᵀ (d × h) + b1) */
    if (GEMM('N', 'T', n, h, d, 1, s->xs, d, w1, d, 0, s->a1, h)) return -1;
#pragma omp parallel for schedule(static) if (n * h >= PAR_MIN)
    for (int64_t i = 0; i < n; i++) FN(k_encode_row)(s->a1 + i * h, b1, h);
    FN(colsum)(s->a1, n, h, s->dist ? 1.0 : 1.0 / (double)n, s->rho);
    /* A2 (n × d) = logsig(A1 (n × h) · W2ᵀ (h × d) + b2), SSE in original units */
    if (GEMM('N', 'T', n, d, h, 1, s->a1, h, w2, h, 0, s->a2, d)) return -1;
#pragma omp parallel for schedule(static) if (n * d >= PAR_MIN)
    for (int64_t i = 0; i < n; i++)
        s->rowacc[i] = FN(k_decode_row)(s->a2 + i * d, b2, s->xs + i * d, s->range2, d);
    double sse = 0;
    for (int64_t i = 0; i < n; i++) sse += s->rowacc[i];
    if (s->dist) {
        /* Allreduce 1 of 2: ρ̂ (a mean over every sample) and the SSE. The KL term and the
         * sparsity gradient are nonlinear in ρ̂, so it is reduced before either is formed. */
        memcpy(s->red, s->rho, (size_t)h * sizeof(double));
        s->red[h] = sse;
        bs_dist_sum_d(s->red, (size_t)h + 1);
        for (int64_t j = 0; j < h; j++) s->rho[j] = s->red[j] * (1.0 / (double)s->nglobal);
        sse = s->red[h];
    }
    const int64_t nn = s->nglobal;

    double kl = 0;
    const double rho = hp->rho;
    for (int64_t j = 0; j < h; j++) {
        double r = s->rho[j];
        if (r < DBL_EPSILON) r = DBL_EPSILON; /* ρ̂ clipped to [eps, 1 − eps] */
        if (r > 1 - DBL_EPSILON) r = 1 - DBL_EPSILON;
        kl += rho * log(rho / r) + (1 - rho) * log((1 - rho) / (1 - r));
    }
    double v = 0;
    if (hp->terms & SAE_TERM_MSE) v += sse / ((double)nn * (double)d);
    if (hp->terms & SAE_TERM_L2) v += hp->l2 * s->sumw2 / (double)d;
    if (hp->terms & SAE_TERM_SPARSITY) v += 2 * hp->beta * kl / (double)d;
    *perf = v;
    s->have_forward = 1;
    return 0;
}

static int FN(ws_backward)(FN(sae_ws) * s, const sae_hyper *hp, double *grad) {
    const int64_t n = s->n, d = s->d, h = s->h, np = s->np;
    const int64_t ob1 = sae_off_b1(d, h), ow2 = sae_off_w2(d, h), ob2 = sae_off_b2(d, h);
    if (!s->have_forward) return bs_error("autoencoder: gradient requested without a forward pass");
    s->have_forward = 0; /* A2 is overwritten by dZ2 below */
    R *w2 = s->wb + ow2;
    /* dZ2 (n × d) = −2/(n·d)·(Xs − A2)/gain² ⊙ A2(1 − A2), in place of A2 */
#pragma omp parallel for schedule(static) if (n * d >= PAR_MIN)
    for (int64_t i = 0; i < n; i++) FN(k_dz2_row)(s->a2 + i * d, s->xs + i * d, s->c2, d);
    /* dW2 (d × h) = dZ2ᵀ (d × n) · A1 (n × h);  db2 = Σ_n dZ2 */
    if (GEMM('T', 'N', d, h, n, 1, s->a2, d, s->a1, h, 0, s->gb + ow2, h)) return -1;
    FN(colsum)(s->a2, n, d, 1.0, grad + ob2);
    /* dA1 (n × h) = dZ2 (n × d) · W2 (d × h) + sparsity term */
    if (GEMM('N', 'N', n, h, d, 1, s->a2, d, w2, h, 0, s->dz1, h)) return -1;
    const double rho = hp->rho;
    const double ks =
        (hp->terms & SAE_TERM_SPARSITY) ? 2 * hp->beta / ((double)d * (double)s->nglobal) : 0;
    for (int64_t j = 0; j < h; j++) {
        double r = s->rho[j];
        int clipped = r < DBL_EPSILON || r > 1 - DBL_EPSILON;
        s->csp[j] = clipped ? 0 : (R)(ks * (-rho / r + (1 - rho) / (1 - r)));
    }
    /* dZ1 (n × h) = dA1 ⊙ A1(1 − A1) */
#pragma omp parallel for schedule(static) if (n * h >= PAR_MIN)
    for (int64_t i = 0; i < n; i++) FN(k_dz1_row)(s->dz1 + i * h, s->a1 + i * h, s->csp, h);
    /* dW1 (h × d) = dZ1ᵀ (h × n) · Xs (n × d);  db1 = Σ_n dZ1 */
    if (GEMM('T', 'N', h, d, n, 1, s->dz1, h, s->xs, d, 0, s->gb, d)) return -1;
    FN(colsum)(s->dz1, n, h, 1.0, grad + ob1);
    /* weight blocks: + 2λ/d·W */
    const double kw = (hp->terms & SAE_TERM_L2) ? 2 * hp->l2 / (double)d : 0;
    const R *wb = s->wb, *gb = s->gb;
    if (s->dist) {
        /* Allreduce 2 of 2: the data terms of the whole gradient (np doubles); the L2 term,
         * the same on every rank, is added once afterwards. */
#pragma omp parallel for schedule(static) if (np >= PAR_MIN)
        for (int64_t blk = 0; blk < s->nblocks; blk++) {
            int64_t lo = blk * WBLOCK, hi = lo + WBLOCK < np ? lo + WBLOCK : np;
            for (int64_t i = lo; i < hi; i++)
                if (i < ob1 || (i >= ow2 && i < ob2)) grad[i] = (double)gb[i];
        }
        bs_dist_sum_d(grad, (size_t)np);
#pragma omp parallel for schedule(static) if (np >= PAR_MIN)
        for (int64_t blk = 0; blk < s->nblocks; blk++) {
            int64_t lo = blk * WBLOCK, hi = lo + WBLOCK < np ? lo + WBLOCK : np;
            for (int64_t i = lo; i < hi; i++)
                if (i < ob1 || (i >= ow2 && i < ob2)) grad[i] += kw * (double)wb[i];
        }
        return 0;
    }
#pragma omp parallel for schedule(static) if (np >= PAR_MIN)
    for (int64_t blk = 0; blk < s->nblocks; blk++) {
        int64_t lo = blk * WBLOCK, hi = lo + WBLOCK < np ? lo + WBLOCK : np;
        for (int64_t i = lo; i < hi; i++)
            if (i < ob1 || (i >= ow2 && i < ob2)) grad[i] = (double)gb[i] + kw * (double)wb[i];
    }
    return 0;
}

/* Make the workspace one shard of a data-parallel fit over nglobal rows (see sae_model.h). */
static int FN(ws_distribute)(FN(sae_ws) * s, int64_t nglobal, const sae_hyper *hp) {
    if (!(s->red = FN(alloc)(s->h + 1, sizeof(double)))) return -1;
    s->dist = 1;
    s->nglobal = nglobal;
    double mse = (hp->terms & SAE_TERM_MSE) ? 1.0 : 0.0;
    for (int64_t j = 0; j < s->d; j++)
        s->c2[j] = (R)(-2.0 * mse * s->range2[j] / ((double)nglobal * (double)s->d));
    return 0;
}

#undef FN
