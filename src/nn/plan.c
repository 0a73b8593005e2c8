/* plan.c — one execution plan per (input shape, thread count): shape inference, oneDNN
 * primitive descriptors with "any" layouts for convolutions (blocked nChw16c/8c tensors flow
 * between convolutions, pools, LRN and concat without reorders), constant weights reordered
 * once into the layout each primitive prefers, a memory plan that reuses buffers once a tensor's
 * last reader has run, and a single user-managed scratchpad. Outputs are reordered to plain
 * C order at the end. Not for: graph rewriting (graph.c) or the public API (engine.c). */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <oneapi/dnnl/dnnl_debug.h>

#include "core/error.h"
#include "core/io.h"
#include "internal.h"

#define ARG_SCRATCH (-2)
#define ARG_CONST (-1)
/* Largest single tensor (bytes) a plan may hold. */
#define MAX_TENSOR_BYTES ((size_t)1 << 34)

typedef struct pt {
    int ndim;
    int64_t dims[MAXD];
    dnnl_memory_desc_t md;
    int defined;
    int is_const, is_input;
    const void *cdata; /* const: data in `md` */
    int alt;           /* a copy in another layout (as_layout cache), -1 none */
    int buf, def, last;
} pt;

typedef struct parg {
    int arg;
    int t; /* plan tensor, ARG_CONST (cdata), ARG_SCRATCH */
    const void *cdata;
    dnnl_memory_desc_t md;
    int out;
} parg;

enum { STEP_PRIM, STEP_FILL };

typedef struct step {
    int kind;
    dnnl_primitive_t prim;
    int nargs;
    parg *args;
    dnnl_exec_arg_t *exec;
    float fill;
    int fill_t;
} step;

typedef struct pbuf {
    size_t size;
    void *ptr;
    int users;
} pbuf;

struct wcache {
    const void *src;
    dnnl_memory_desc_t md;
    void *data;
};

typedef struct nn_plan {
    int ndim, threads;
    int64_t shape[MAXD];
    pt *t;
    size_t nt, capt;
    step *steps;
    size_t ns, caps;
    pbuf *bufs;
    size_t nb;
    size_t scratch_size;
    void *scratch;
    dnnl_memory_t *mems; /* every memory object, for cleanup */
    size_t nmems;
    dnnl_memory_t *input_mems;
    size_t n_input_mems;
    int *out_t;
    size_t n_out;
    dnnl_primitive_attr_t attr;
    bs_engine *e;
} nn_plan;

static int dnnl_fail(dnnl_status_t s, const char *what, const bs_onnx_node *n) {
    if (n)
        return bs_error("node '%s' (%s): oneDNN cannot %s (%s)", n->name, n->op_type, what,
                        dnnl_status2str(s));
    return bs_error("oneDNN cannot %s (%s)", what, dnnl_status2str(s));
}
#define DN(call, what, node)                                                                       \
    do {                                                                                           \
        dnnl_status_t s_ = (call);                                                                 \
        if (s_ != dnnl_success) return dnnl_fail(s_, what, node);                                  \
    } while (0)

/* The plan's attributes, plus a fused ReLU post-op when the node absorbed one (Conv, Gemm).
 * *attr is p_attr itself when there is nothing to add; the caller destroys it otherwise. */
static int fused_relu_attr(dnnl_primitive_attr_t p_attr, int relu, dnnl_primitive_attr_t *attr,
                           const bs_onnx_node *n) {
    *attr = p_attr;
    if (!relu) return 0;
    dnnl_post_ops_t po;
    DN(dnnl_primitive_attr_clone(attr, p_attr), "set up attributes", n);
    dnnl_status_t st = dnnl_post_ops_create(&po);
    if (st == dnnl_success) {
        dnnl_post_ops_append_eltwise(po, 1.f, dnnl_eltwise_relu, 0.f, 0.f);
        st = dnnl_primitive_attr_set_post_ops(*attr, po);
        dnnl_post_ops_destroy(po);
    }
    if (st != dnnl_success) {
        dnnl_primitive_attr_destroy(*attr);
        *attr = p_attr;
        return dnnl_fail(st, "set up post-ops", n);
    }
    return 0;
}

static dnnl_format_tag_t plain_tag(int ndim) {
    static const dnnl_format_tag_t tags[] = {dnnl_a,    dnnl_a,     dnnl_ab,    dnnl_abc,
                                             dnnl_abcd, dnnl_abcde, dnnl_abcdef};
    return ndim >= 0 && ndim <= 6 ? tags[ndim] : dnnl_format_tag_undef;
}

static int md_plain(dnnl_memory_desc_t *md, int ndim, const int64_t *dims) {
    dnnl_dims_t d;
    int nd = ndim ? ndim : 1;
    if (nd > 6) return bs_error("tensors of rank %d are not supported (at most 6)", ndim);
    for (int i = 0; i < nd; i++) d[i] = ndim ? dims[i] : 1;
    DN(dnnl_memory_desc_init_by_tag(md, nd, d, dnnl_f32, plain_tag(nd)), "describe a tensor", NULL);
    return 0;
}

static int md_any(dnnl_memory_desc_t *md, int ndim, const int64_t *dims) {
    dnnl_dims_t d;
    for (int i = 0; i < ndim; i++) d[i] = dims[i];
    DN(dnnl_memory_desc_init_by_tag(md, ndim, d, dnnl_f32, dnnl_format_tag_any),
       "describe a tensor", NULL);
    return 0;
}

static int add_t(nn_plan *p) {
    if (p->nt == p->capt) {
        size_t cap = p->capt ? 2 * p->capt : 64;
        pt *n = bs_realloc(p->t, cap * sizeof *n);
        if (!n) return -1;
        p->t = n;
        p->capt = cap;
    }
    memset(&p->t[p->nt], 0, sizeof p->t[p->nt]);
    p->t[p->nt].alt = -1;
    p->t[p->nt].buf = -1;
    p->t[p->nt].def = -1;
    p->t[p->nt].last = -1;
    return (int)p->nt++;
}

/* Define tensor t's shape and layout; checks the size. */
static int define(nn_plan *p, int t, int ndim, const int64_t *dims, const dnnl_memory_desc_t *md) {
    pt *x = &p->t[t];
    size_t n = 4;
    for (int i = 0; i < ndim; i++) {
        if (dims[i] < 1)
            return bs_error("tensor '%s' would have an empty dimension",
                            t < (int)p->e->n_tensors ? p->e->tensors[t].name : "(internal)");
        if (bs_mul_size(n, (size_t)dims[i], &n) || n > MAX_TENSOR_BYTES)
            return bs_error("tensor '%s' would be too large",
                            t < (int)p->e->n_tensors ? p->e->tensors[t].name : "(internal)");
    }
    x->ndim = ndim;
    for (int i = 0; i < ndim; i++) x->dims[i] = dims[i];
    if (md)
        x->md = *md;
    else if (md_plain(&x->md, ndim, dims))
        return -1;
    x->defined = 1;
    return 0;
}

static step *add_step(nn_plan *p, int kind, int nargs) {
    if (p->ns == p->caps) {
        size_t cap = p->caps ? 2 * p->caps : 64;
        step *n = bs_realloc(p->steps, cap * sizeof *n);
        if (!n) return NULL;
        p->steps = n;
        p->caps = cap;
    }
    step *s = &p->steps[p->ns];
    memset(s, 0, sizeof *s);
    s->kind = kind;
    s->args = bs_calloc((size_t)nargs + 1, sizeof *s->args);
    s->exec = bs_calloc((size_t)nargs + 1, sizeof *s->exec);
    if (!s->args || !s->exec) {
        free(s->args);
        free(s->exec);
        return NULL;
    }
    p->ns++;
    return s;
}

static void set_arg(step *s, int arg, int t, const dnnl_memory_desc_t *md, int out) {
    parg *a = &s->args[s->nargs++];
    a->arg = arg;
    a->t = t;
    a->md = *md;
    a->out = out;
}

static void set_const_arg(step *s, int arg, const void *data, const dnnl_memory_desc_t *md) {
    parg *a = &s->args[s->nargs++];
    a->arg = arg;
    a->t = ARG_CONST;
    a->cdata = data;
    a->md = *md;
}

/* Create the primitive from pd, account its scratchpad; adds the scratchpad arg. */
static int finish_prim(nn_plan *p, step *s, dnnl_primitive_desc_t pd, const bs_onnx_node *n) {
    const dnnl_memory_desc_t *smd = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    if (smd) {
        size_t sz = dnnl_memory_desc_get_size(smd);
        if (sz) {
            if (sz > p->scratch_size) p->scratch_size = sz;
            parg *a = &s->args[s->nargs++];
            a->arg = DNNL_ARG_SCRATCHPAD;
            a->t = ARG_SCRATCH;
            a->md = *smd;
        }
    }
    dnnl_status_t st = dnnl_primitive_create(&s->prim, pd);
    dnnl_primitive_desc_destroy(pd);
    if (st != dnnl_success) return dnnl_fail(st, "create a primitive", n);
    return 0;
}

/* Constant data in layout md (reordered once and cached on the engine). */
static int const_layout(bs_engine *e, const void *src, const dnnl_memory_desc_t *src_md,
                        const dnnl_memory_desc_t *md, const void **out) {
    if (dnnl_memory_desc_equal(src_md, md)) {
        *out = src;
        return 0;
    }
    for (size_t i = 0; i < e->n_wcache; i++)
        if (e->wcache[i].src == src && dnnl_memory_desc_equal(&e->wcache[i].md, md)) {
            *out = e->wcache[i].data;
            return 0;
        }
    if (e->n_wcache == e->cap_wcache) {
        size_t cap = e->cap_wcache ? 2 * e->cap_wcache : 32;
        struct wcache *w = bs_realloc(e->wcache, cap * sizeof *w);
        if (!w) return -1;
        e->wcache = w;
        e->cap_wcache = cap;
    }
    size_t sz = dnnl_memory_desc_get_size(md);
    void *data = aligned_alloc(64, (sz + 63) / 64 * 64);
    if (!data) return bs_error("out of memory for reordered weights (%zu bytes)", sz);
    dnnl_memory_t ms = NULL, md_ = NULL;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_primitive_t r = NULL;
    dnnl_status_t st = dnnl_memory_create(&ms, src_md, e->eng, (void *)src);
    if (st == dnnl_success) st = dnnl_memory_create(&md_, md, e->eng, data);
    if (st == dnnl_success)
        st = dnnl_reorder_primitive_desc_create(&pd, src_md, e->eng, md, e->eng, NULL);
    if (st == dnnl_success) st = dnnl_primitive_create(&r, pd);
    if (st == dnnl_success) {
        dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, ms}, {DNNL_ARG_TO, md_}};
        st = dnnl_primitive_execute(r, e->stream, 2, args);
        if (st == dnnl_success) st = dnnl_stream_wait(e->stream);
    }
    if (r) dnnl_primitive_destroy(r);
    if (pd) dnnl_primitive_desc_destroy(pd);
    if (ms) dnnl_memory_destroy(ms);
    if (md_) dnnl_memory_destroy(md_);
    if (st != dnnl_success) {
        free(data);
        return dnnl_fail(st, "reorder weights", NULL);
    }
    e->wcache[e->n_wcache].src = src;
    e->wcache[e->n_wcache].md = *md;
    e->wcache[e->n_wcache].data = data;
    e->n_wcache++;
    *out = data;
    return 0;
}

void bs_nn_wcache_free(bs_engine *e) {
    for (size_t i = 0; i < e->n_wcache; i++) free(e->wcache[i].data);
    free(e->wcache);
    e->wcache = NULL;
    e->n_wcache = e->cap_wcache = 0;
}

/* Tensor t in layout md: t itself, or a copy made by a reorder step. */
static int as_layout(nn_plan *p, int t, const dnnl_memory_desc_t *md, int *out) {
    if (dnnl_memory_desc_equal(&p->t[t].md, md)) {
        *out = t;
        return 0;
    }
    if (p->t[t].alt >= 0 && dnnl_memory_desc_equal(&p->t[p->t[t].alt].md, md)) {
        *out = p->t[t].alt;
        return 0;
    }
    if (p->t[t].is_const) {
        int c = add_t(p);
        if (c < 0) return -1;
        pt *x = &p->t[t], *y = &p->t[c];
        y->ndim = x->ndim;
        memcpy(y->dims, x->dims, sizeof y->dims);
        y->md = *md;
        y->defined = y->is_const = 1;
        if (const_layout(p->e, x->cdata, &x->md, md, &y->cdata)) return -1;
        p->t[t].alt = c;
        *out = c;
        return 0;
    }
    int c = add_t(p);
    if (c < 0) return -1;
    if (define(p, c, p->t[t].ndim, p->t[t].dims, md)) return -1;
    dnnl_primitive_desc_t pd;
    DN(dnnl_reorder_primitive_desc_create(&pd, &p->t[t].md, p->e->eng, md, p->e->eng, p->attr),
       "reorder a tensor", NULL);
    step *s = add_step(p, STEP_PRIM, 3);
    if (!s) {
        dnnl_primitive_desc_destroy(pd);
        return -1;
    }
    set_arg(s, DNNL_ARG_FROM, t, &p->t[t].md, 0);
    set_arg(s, DNNL_ARG_TO, c, md, 1);
    if (finish_prim(p, s, pd, NULL)) return -1;
    p->t[t].alt = c;
    *out = c;
    return 0;
}

static int to_plain(nn_plan *p, int t, int *out) {
    dnnl_memory_desc_t md;
    if (md_plain(&md, p->t[t].ndim, p->t[t].dims)) return -1;
    return as_layout(p, t, &md, out);
}

static const char *tname(const nn_plan *p, int t) { return p->e->tensors[t].name; }

/* ---- operators ---- */

static int pad_into(nn_plan *p, int src, const int64_t *begin, const int64_t *end, float value,
                    int out, const bs_onnx_node *n, int *result);

static int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

/* Output size and effective pads of a 2-D window along one axis. */
static int window_out(const nn_op *op, int ax, int64_t in, int ceil_mode, int64_t *out, int64_t *pl,
                      int64_t *pr, int64_t *pr_declared) {
    int64_t k = op->kernel[ax], s = op->stride[ax], d = op->dil[ax];
    int64_t eff = (k - 1) * d + 1;
    *pl = op->pad_l[ax];
    *pr = op->pad_r[ax];
    if (op->auto_pad == 3) *pl = *pr = 0;
    if (op->auto_pad == 1 || op->auto_pad == 2) {
        int64_t o = ceil_div(in, s);
        int64_t total = (o - 1) * s + eff - in;
        if (total < 0) total = 0;
        *pl = op->auto_pad == 1 ? total / 2 : total - total / 2;
        *pr = total - *pl;
    }
    int64_t span = in + *pl + *pr - eff;
    if (span < 0)
        return bs_error("node '%s' (%s): the window (%lld) is larger than the padded input (%lld)",
                        op->node->name, op->node->op_type, (long long)eff,
                        (long long)(in + *pl + *pr));
    *out = (ceil_mode ? ceil_div(span, s) : span / s) + 1;
    if (pr_declared) *pr_declared = *pr;
    /* ceil mode: extend the right padding so oneDNN sees a consistent shape */
    int64_t need = (*out - 1) * s + eff - in - *pl;
    if (need > *pr) *pr = need;
    return 0;
}

static int build_conv(nn_plan *p, nn_op *op) {
    bs_engine *e = p->e;
    pt *x = &p->t[op->in[0]];
    const bs_onnx_tensor *W = op->w;
    const bs_onnx_node *n = op->node;
    if (x->ndim != 4)
        return bs_error("node '%s' (Conv): input has rank %d, expected 4", n->name, x->ndim);
    int64_t N = x->dims[0], C = x->dims[1], O = W->dims[0], g = op->group;
    if (C != W->dims[1] * g)
        return bs_error("node '%s' (Conv): input has %lld channels, weights expect %lld", n->name,
                        (long long)C, (long long)(W->dims[1] * g));
    int64_t oh, ow, pl[2], pr[2];
    if (window_out(op, 0, x->dims[2], 0, &oh, &pl[0], &pr[0], NULL) ||
        window_out(op, 1, x->dims[3], 0, &ow, &pl[1], &pr[1], NULL))
        return -1;
    int64_t sdims[4] = {N, C, x->dims[2], x->dims[3]}, ddims[4] = {N, O, oh, ow};
    int64_t wdims[5];
    int wnd;
    if (g == 1) {
        wnd = 4;
        memcpy(wdims, W->dims, 4 * sizeof(int64_t));
    } else {
        wnd = 5;
        wdims[0] = g;
        wdims[1] = O / g;
        wdims[2] = W->dims[1];
        wdims[3] = W->dims[2];
        wdims[4] = W->dims[3];
    }
    dnnl_memory_desc_t s_any, w_any, d_any, b_md, w_plain;
    if (md_any(&s_any, 4, sdims) || md_any(&w_any, wnd, wdims) || md_any(&d_any, 4, ddims) ||
        md_plain(&b_md, 1, &O) || md_plain(&w_plain, wnd, wdims))
        return -1;
    dnnl_dims_t st = {op->stride[0], op->stride[1]}, dl = {op->dil[0] - 1, op->dil[1] - 1},
                l = {pl[0], pl[1]}, r = {pr[0], pr[1]};
    dnnl_convolution_desc_t cd;
    DN(dnnl_dilated_convolution_forward_desc_init(&cd, dnnl_forward_inference,
                                                  dnnl_convolution_direct, &s_any, &w_any,
                                                  op->b ? &b_md : NULL, &d_any, st, dl, l, r),
       "set up this convolution", n);
    dnnl_primitive_attr_t attr;
    if (fused_relu_attr(p->attr, op->relu, &attr, n)) return -1;
    dnnl_primitive_desc_t pd;
    dnnl_status_t s_ = dnnl_primitive_desc_create(&pd, &cd, attr, e->eng, NULL);
    if (attr != p->attr) dnnl_primitive_attr_destroy(attr);
    if (s_ != dnnl_success) return dnnl_fail(s_, "set up this convolution", n);
    dnnl_memory_desc_t smd = *dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0);
    dnnl_memory_desc_t wmd = *dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    dnnl_memory_desc_t dmd = *dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0);
    int src;
    const void *wdata;
    if (as_layout(p, op->in[0], &smd, &src) || const_layout(e, W->data, &w_plain, &wmd, &wdata) ||
        define(p, op->out, 4, ddims, &dmd)) {
        dnnl_primitive_desc_destroy(pd);
        return -1;
    }
    step *s = add_step(p, STEP_PRIM, 5);
    if (!s) {
        dnnl_primitive_desc_destroy(pd);
        return -1;
    }
    set_arg(s, DNNL_ARG_SRC, src, &smd, 0);
    set_const_arg(s, DNNL_ARG_WEIGHTS, wdata, &wmd);
    if (op->b) set_const_arg(s, DNNL_ARG_BIAS, op->b->data, &b_md);
    set_arg(s, DNNL_ARG_DST, op->out, &dmd, 1);
    return finish_prim(p, s, pd, n);
}

static int build_pool(nn_plan *p, nn_op *op) {
    pt *x = &p->t[op->in[0]];
    const bs_onnx_node *n = op->node;
    if (x->ndim != 4)
        return bs_error("node '%s' (%s): input has rank %d, expected 4", n->name, n->op_type,
                        x->ndim);
    nn_op w = *op;
    if (op->kind == OP_GAP) {
        memset(w.pad_l, 0, sizeof w.pad_l);
        memset(w.pad_r, 0, sizeof w.pad_r);
        w.kernel[0] = x->dims[2];
        w.kernel[1] = x->dims[3];
        w.stride[0] = w.stride[1] = w.dil[0] = w.dil[1] = 1;
        w.auto_pad = 0;
        w.ceil_mode = 0;
    }
    int64_t oh, ow, pl[2], pr[2], prd[2];
    if (window_out(&w, 0, x->dims[2], w.ceil_mode, &oh, &pl[0], &pr[0], &prd[0]) ||
        window_out(&w, 1, x->dims[3], w.ceil_mode, &ow, &pl[1], &pr[1], &prd[1]))
        return -1;
    int src = op->in[0];
    if (op->kind == OP_AVGPOOL && w.count_include_pad && (pr[0] > prd[0] || pr[1] > prd[1])) {
        /* ONNX counts the declared pads in the divisor but not the ceil-mode overhang past them:
         * materialise the declared pads as zeros, then average excluding the overhang. */
        int plain;
        int64_t b4[4] = {0, 0, pl[0], pl[1]}, e4[4] = {0, 0, prd[0], prd[1]};
        if (to_plain(p, src, &plain) || pad_into(p, plain, b4, e4, 0.f, -1, n, &src)) return -1;
        for (int i = 0; i < 2; i++) {
            pr[i] -= prd[i];
            pl[i] = 0;
        }
        w.count_include_pad = 0;
        x = &p->t[src];
    }
    int64_t ddims[4] = {x->dims[0], x->dims[1], oh, ow};
    dnnl_memory_desc_t d_any;
    if (md_any(&d_any, 4, ddims)) return -1;
    dnnl_alg_kind_t alg = op->kind == OP_MAXPOOL ? dnnl_pooling_max
                          : (w.count_include_pad && op->kind == OP_AVGPOOL)
                              ? dnnl_pooling_avg_include_padding
                              : dnnl_pooling_avg_exclude_padding;
    dnnl_dims_t st = {w.stride[0], w.stride[1]}, k = {w.kernel[0], w.kernel[1]},
                dl = {w.dil[0] - 1, w.dil[1] - 1}, l = {pl[0], pl[1]}, r = {pr[0], pr[1]};
    dnnl_pooling_v2_desc_t pdsc;
    DN(dnnl_pooling_v2_forward_desc_init(&pdsc, dnnl_forward_inference, alg, &x->md, &d_any, st, k,
                                         dl, l, r),
       "set up this pooling", n);
    dnnl_primitive_desc_t pd;
    DN(dnnl_primitive_desc_create(&pd, &pdsc, p->attr, p->e->eng, NULL), "set up this pooling", n);
    dnnl_memory_desc_t dmd = *dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0);
    step *s;
    if (define(p, op->out, 4, ddims, &dmd) || !(s = add_step(p, STEP_PRIM, 4))) {
        dnnl_primitive_desc_destroy(pd);
        return -1;
    }
    set_arg(s, DNNL_ARG_SRC, src, &p->t[src].md, 0);
    set_arg(s, DNNL_ARG_DST, op->out, &dmd, 1);
    /* max pooling in inference needs no workspace */
    return finish_prim(p, s, pd, n);
}

/* Ops whose descriptor takes the input md and produce the same shape: LRN, Relu, BN. */
static int build_same_shape(nn_plan *p, nn_op *op) {
    pt *x = &p->t[op->in[0]];
    const bs_onnx_node *n = op->node;
    dnnl_primitive_desc_t pd;
    dnnl_memory_desc_t xmd = x->md;
    if (op->kind == OP_LRN) {
        if (x->ndim < 3) return bs_error("node '%s' (LRN): input must have rank >= 3", n->name);
        dnnl_lrn_desc_t d;
        DN(dnnl_lrn_forward_desc_init(&d, dnnl_forward_inference, dnnl_lrn_across_channels, &xmd,
                                      op->size, op->alpha, op->beta, op->bias),
           "set up this LRN", n);
        DN(dnnl_primitive_desc_create(&pd, &d, p->attr, p->e->eng, NULL), "set up this LRN", n);
    } else if (op->kind == OP_RELU) {
        dnnl_eltwise_desc_t d;
        DN(dnnl_eltwise_forward_desc_init(&d, dnnl_forward_inference, dnnl_eltwise_relu, &xmd, 0.f,
                                          0.f),
           "set up this Relu", n);
        DN(dnnl_primitive_desc_create(&pd, &d, p->attr, p->e->eng, NULL), "set up this Relu", n);
    } else {
        if (x->ndim < 2 || x->dims[1] != (int64_t)op->mean->count)
            return bs_error(
                "node '%s' (BatchNormalization): input has %lld channels, parameters %zu", n->name,
                (long long)(x->ndim >= 2 ? x->dims[1] : 0), op->mean->count);
        dnnl_batch_normalization_desc_t d;
        DN(dnnl_batch_normalization_forward_desc_init(&d, dnnl_forward_inference, &xmd, op->eps,
                                                      dnnl_use_global_stats | dnnl_use_scaleshift),
           "set up this BatchNormalization", n);
        DN(dnnl_primitive_desc_create(&pd, &d, p->attr, p->e->eng, NULL),
           "set up this BatchNormalization", n);
    }
    dnnl_memory_desc_t dmd = *dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0);
    step *s;
    if (define(p, op->out, x->ndim, x->dims, &dmd) || !(s = add_step(p, STEP_PRIM, 7))) {
        dnnl_primitive_desc_destroy(pd);
        return -1;
    }
    set_arg(s, DNNL_ARG_SRC, op->in[0], &xmd, 0);
    if (op->kind == OP_BN) {
        int64_t C = x->dims[1], d2[2] = {2, C};
        dnnl_memory_desc_t c_md, ss_md;
        if (md_plain(&c_md, 1, &C) || md_plain(&ss_md, 2, d2)) {
            dnnl_primitive_desc_destroy(pd);
            return -1;
        }
        set_const_arg(s, DNNL_ARG_MEAN, op->mean->data, &c_md);
        set_const_arg(s, DNNL_ARG_VARIANCE, op->var->data, &c_md);
        set_const_arg(s, DNNL_ARG_SCALE_SHIFT, op->scaleshift->data, &ss_md);
    }
    set_arg(s, DNNL_ARG_DST, op->out, &dmd, 1);
    return finish_prim(p, s, pd, n);
}

static int build_concat(nn_plan *p, nn_op *op) {
    const bs_onnx_node *n = op->node;
    pt *x0 = &p->t[op->cin[0]];
    int r = x0->ndim;
    int64_t axis = op->axis < 0 ? op->axis + r : op->axis;
    if (axis < 0 || axis >= r)
        return bs_error("node '%s' (Concat): axis %lld out of range", n->name, (long long)op->axis);
    int64_t dims[MAXD];
    memcpy(dims, x0->dims, sizeof dims);
    dims[axis] = 0;
    dnnl_memory_desc_t *mds = bs_calloc((size_t)op->nin, sizeof *mds);
    if (!mds) return -1;
    for (int i = 0; i < op->nin; i++) {
        pt *x = &p->t[op->cin[i]];
        int bad = x->ndim != r;
        for (int k = 0; k < r && !bad; k++)
            if (k != axis && x->dims[k] != x0->dims[k]) bad = 1;
        if (bad) {
            free(mds);
            return bs_error("node '%s' (Concat): input '%s' has a mismatched shape", n->name,
                            tname(p, op->cin[i]));
        }
        if (dims[axis] > ((int64_t)1 << 40)) {
            free(mds);
            return bs_error("node '%s' (Concat): too large", n->name);
        }
        dims[axis] += x->dims[axis];
        mds[i] = x->md;
    }
    dnnl_primitive_desc_t pd;
    dnnl_status_t st =
        dnnl_concat_primitive_desc_create(&pd, NULL, op->nin, (int)axis, mds, p->attr, p->e->eng);
    if (st != dnnl_success) {
        free(mds);
        return dnnl_fail(st, "set up this concat", n);
    }
    dnnl_memory_desc_t dmd = *dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0);
    step *s;
    if (define(p, op->out, r, dims, &dmd) || !(s = add_step(p, STEP_PRIM, op->nin + 2))) {
        free(mds);
        dnnl_primitive_desc_destroy(pd);
        return -1;
    }
    for (int i = 0; i < op->nin; i++) set_arg(s, DNNL_ARG_MULTIPLE_SRC + i, op->cin[i], &mds[i], 0);
    set_arg(s, DNNL_ARG_DST, op->out, &dmd, 1);
    free(mds);
    return finish_prim(p, s, pd, n);
}

static int build_flatten(nn_plan *p, nn_op *op) {
    pt *x = &p->t[op->in[0]];
    int r = x->ndim;
    int64_t axis = op->axis < 0 ? op->axis + r : op->axis;
    if (axis < 0 || axis > r)
        return bs_error("node '%s' (Flatten): axis %lld out of range", op->node->name,
                        (long long)op->axis);
    int64_t d[2] = {1, 1};
    for (int i = 0; i < r; i++) d[i >= axis] *= x->dims[i];
    dnnl_memory_desc_t plain_x;
    if (md_plain(&plain_x, r, x->dims) || define(p, op->out, 2, d, NULL)) return -1;
    dnnl_primitive_desc_t pd;
    DN(dnnl_reorder_primitive_desc_create(&pd, &x->md, p->e->eng, &plain_x, p->e->eng, p->attr),
       "flatten", op->node);
    step *s = add_step(p, STEP_PRIM, 3);
    if (!s) {
        dnnl_primitive_desc_destroy(pd);
        return -1;
    }
    set_arg(s, DNNL_ARG_FROM, op->in[0], &p->t[op->in[0]].md, 0);
    set_arg(s, DNNL_ARG_TO, op->out, &plain_x, 1);
    return finish_prim(p, s, pd, op->node);
}

static int build_gemm(nn_plan *p, nn_op *op) {
    const bs_onnx_node *n = op->node;
    int src;
    if (p->t[op->in[0]].ndim != 2)
        return bs_error("node '%s' (Gemm): input A has rank %d, expected 2", n->name,
                        p->t[op->in[0]].ndim);
    if (to_plain(p, op->in[0], &src)) return -1;
    pt *x = &p->t[src];
    int64_t M = x->dims[0], K = x->dims[1], O = op->w->dims[0];
    if (K != op->w->dims[1])
        return bs_error("node '%s' (Gemm): A has %lld columns, B expects %lld", n->name,
                        (long long)K, (long long)op->w->dims[1]);
    int64_t wd[2] = {O, K}, dd[2] = {M, O};
    dnnl_memory_desc_t w_any, w_plain, b_md, d_md;
    if (md_any(&w_any, 2, wd) || md_plain(&w_plain, 2, wd) || md_plain(&b_md, 1, &O) ||
        md_plain(&d_md, 2, dd))
        return -1;
    dnnl_inner_product_desc_t d;
    DN(dnnl_inner_product_forward_desc_init(&d, dnnl_forward_inference, &x->md, &w_any, &b_md,
                                            &d_md),
       "set up this Gemm", n);
    dnnl_primitive_attr_t attr;
    if (fused_relu_attr(p->attr, op->relu, &attr, n)) return -1;
    dnnl_primitive_desc_t pd;
    dnnl_status_t st = dnnl_primitive_desc_create(&pd, &d, attr, p->e->eng, NULL);
    if (attr != p->attr) dnnl_primitive_attr_destroy(attr);
    if (st != dnnl_success) return dnnl_fail(st, "set up this Gemm", n);
    dnnl_memory_desc_t wmd = *dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    const void *wdata;
    step *s;
    if (const_layout(p->e, op->w->data, &w_plain, &wmd, &wdata) ||
        define(p, op->out, 2, dd, &d_md) || !(s = add_step(p, STEP_PRIM, 5))) {
        dnnl_primitive_desc_destroy(pd);
        return -1;
    }
    set_arg(s, DNNL_ARG_SRC, src, &p->t[src].md, 0);
    set_const_arg(s, DNNL_ARG_WEIGHTS, wdata, &wmd);
    set_const_arg(s, DNNL_ARG_BIAS, op->b->data, &b_md);
    set_arg(s, DNNL_ARG_DST, op->out, &d_md, 1);
    return finish_prim(p, s, pd, n);
}

static int build_softmax(nn_plan *p, nn_op *op) {
    int src;
    if (to_plain(p, op->in[0], &src)) return -1;
    pt *x = &p->t[src];
    int r = x->ndim;
    int64_t axis = op->axis < 0 ? op->axis + r : op->axis;
    if (r == 0 || axis < 0 || axis >= r)
        return bs_error("node '%s' (Softmax): axis %lld out of range", op->node->name,
                        (long long)op->axis);
    dnnl_memory_desc_t md;
    int sm_axis = (int)axis;
    if (op->softmax_2d) {
        int64_t d[2] = {1, 1};
        for (int i = 0; i < r; i++) d[i >= axis] *= x->dims[i];
        if (md_plain(&md, 2, d)) return -1;
        sm_axis = 1;
    } else if (md_plain(&md, r, x->dims)) {
        return -1;
    }
    if (define(p, op->out, r, x->dims, NULL)) return -1;
    dnnl_softmax_desc_t d;
    DN(dnnl_softmax_forward_desc_init(&d, dnnl_forward_inference, &md, sm_axis),
       "set up this Softmax", op->node);
    dnnl_primitive_desc_t pd;
    DN(dnnl_primitive_desc_create(&pd, &d, p->attr, p->e->eng, NULL), "set up this Softmax",
       op->node);
    step *s = add_step(p, STEP_PRIM, 3);
    if (!s) {
        dnnl_primitive_desc_destroy(pd);
        return -1;
    }
    set_arg(s, DNNL_ARG_SRC, src, &md, 0);
    set_arg(s, DNNL_ARG_DST, op->out, &md, 1);
    return finish_prim(p, s, pd, op->node);
}

/* Numpy broadcasting of a binary node's inputs A and B: their dims padded to the common rank
 * *r (a, b) and the output's (o); a scalar op scalar is rank 1. */
static int binary_shapes(nn_plan *p, const nn_op *op, int64_t *a, int64_t *b, int64_t *o,
                         int *rank) {
    const bs_onnx_node *n = op->node;
    int A = op->in[0], B = op->in[1];
    int ra = p->t[A].ndim, rb = p->t[B].ndim, r = ra > rb ? ra : rb;
    if (r > 6) return bs_error("node '%s' (%s): rank %d not supported", n->name, n->op_type, r);
    for (int i = 0; i < r; i++) {
        a[i] = i < r - ra ? 1 : p->t[A].dims[i - (r - ra)];
        b[i] = i < r - rb ? 1 : p->t[B].dims[i - (r - rb)];
        if (a[i] != b[i] && a[i] != 1 && b[i] != 1)
            return bs_error("node '%s' (%s): shapes of '%s' and '%s' do not broadcast", n->name,
                            n->op_type, tname(p, A), tname(p, B));
        o[i] = a[i] > b[i] ? a[i] : b[i];
    }
    if (r == 0) { /* scalar op scalar */
        r = 1;
        a[0] = b[0] = o[0] = 1;
    }
    *rank = r;
    return 0;
}

/* The primitive's attributes: the plan's, or for a Sub whose inputs were swapped (so the
 * broadcast one is src1) a copy that negates the result: a - b = -(b - a). */
static int binary_attr(nn_plan *p, const nn_op *op, int swapped, dnnl_primitive_attr_t *attr) {
    const bs_onnx_node *n = op->node;
    *attr = p->attr;
    if (!swapped || op->kind != OP_SUB) return 0;
    dnnl_post_ops_t po;
    DN(dnnl_primitive_attr_clone(attr, p->attr), "set up attributes", n);
    DN(dnnl_post_ops_create(&po), "set up post-ops", n);
    dnnl_post_ops_append_eltwise(po, 1.f, dnnl_eltwise_linear, -1.f, 0.f);
    dnnl_primitive_attr_set_post_ops(*attr, po);
    dnnl_post_ops_destroy(po);
    return 0;
}

static int build_binary(nn_plan *p, nn_op *op) {
    const bs_onnx_node *n = op->node;
    int A = op->in[0], B = op->in[1];
    if (A < 0 || B < 0) return bs_error("node '%s' (%s): needs two inputs", n->name, n->op_type);
    int64_t a[MAXD], b[MAXD], o[MAXD];
    int r = 0;
    if (binary_shapes(p, op, a, b, o, &r)) return -1;
    int a_full = 1, b_full = 1;
    for (int i = 0; i < r; i++) {
        a_full &= a[i] == o[i];
        b_full &= b[i] == o[i];
    }
    int swapped = 0;
    int s0 = A, s1 = B;
    int64_t *d1 = b;
    if (!a_full) {
        if (!b_full)
            return bs_error("node '%s' (%s): both inputs broadcast; not supported", n->name,
                            n->op_type);
        swapped = 1;
        s0 = B;
        s1 = A;
        d1 = a;
    }
    /* src0 keeps its layout (blocked activations stay blocked); a full-shape src1 follows it */
    dnnl_memory_desc_t m0, m1;
    int src0 = s0, src1;
    if (p->t[s0].ndim != r || p->t[s0].is_const) {
        if (p->t[s0].is_const) {
            if (md_plain(&m0, r, o)) return -1;
        } else if (to_plain(p, s0, &src0) || md_plain(&m0, r, o)) {
            return -1;
        }
    } else {
        m0 = p->t[s0].md;
    }
    int s1_full = 1;
    for (int i = 0; i < r; i++) s1_full &= d1[i] == o[i];
    if (s1_full && !p->t[s1].is_const && p->t[s1].ndim == r && p->t[src0].ndim == r &&
        !p->t[s0].is_const) {
        if (as_layout(p, s1, &m0, &src1)) return -1;
        m1 = m0;
    } else {
        if (p->t[s1].is_const)
            src1 = s1;
        else if (to_plain(p, s1, &src1))
            return -1;
        if (md_plain(&m1, r, d1)) return -1;
    }
    dnnl_alg_kind_t alg = op->kind == OP_ADD   ? dnnl_binary_add
                          : op->kind == OP_SUB ? dnnl_binary_sub
                                               : dnnl_binary_mul;
    dnnl_memory_desc_t dmd = m0;
    dnnl_binary_desc_t bd;
    DN(dnnl_binary_desc_init(&bd, alg, &m0, &m1, &dmd), "set up this elementwise operation", n);
    dnnl_primitive_attr_t attr;
    if (binary_attr(p, op, swapped, &attr)) return -1;
    dnnl_primitive_desc_t pd;
    dnnl_status_t st = dnnl_primitive_desc_create(&pd, &bd, attr, p->e->eng, NULL);
    if (attr != p->attr) dnnl_primitive_attr_destroy(attr);
    if (st != dnnl_success) return dnnl_fail(st, "set up this elementwise operation", n);
    step *s;
    if (define(p, op->out, r, o, &dmd) || !(s = add_step(p, STEP_PRIM, 4))) {
        dnnl_primitive_desc_destroy(pd);
        return -1;
    }
    if (p->t[s0].is_const)
        set_const_arg(s, DNNL_ARG_SRC_0, p->t[s0].cdata, &m0);
    else
        set_arg(s, DNNL_ARG_SRC_0, src0, &m0, 0);
    if (p->t[src1].is_const)
        set_const_arg(s, DNNL_ARG_SRC_1, p->t[src1].cdata, &m1);
    else
        set_arg(s, DNNL_ARG_SRC_1, src1, &m1, 0);
    set_arg(s, DNNL_ARG_DST, op->out, &dmd, 1);
    return finish_prim(p, s, pd, n);
}

/* A new plain tensor: tensor `src` (plain) with `begin`/`end` elements of `value` around it on each
 * axis; a fill step and a reorder into the interior. `out` < 0 creates a hidden tensor. */
static int pad_into(nn_plan *p, int src, const int64_t *begin, const int64_t *end, float value,
                    int out, const bs_onnx_node *n, int *result) {
    int r = p->t[src].ndim;
    int64_t o[MAXD];
    dnnl_dims_t xd, off;
    for (int i = 0; i < r; i++) {
        o[i] = p->t[src].dims[i] + begin[i] + end[i];
        xd[i] = p->t[src].dims[i];
        off[i] = begin[i];
    }
    if (out < 0 && (out = add_t(p)) < 0) return -1;
    if (define(p, out, r, o, NULL)) return -1;
    dnnl_memory_desc_t sub;
    DN(dnnl_memory_desc_init_submemory(&sub, &p->t[out].md, xd, off), "describe the padded region",
       n);
    step *f = add_step(p, STEP_FILL, 1);
    if (!f) return -1;
    f->fill = value;
    f->fill_t = out;
    set_arg(f, DNNL_ARG_DST, out, &p->t[out].md, 1);
    dnnl_primitive_desc_t pd;
    DN(dnnl_reorder_primitive_desc_create(&pd, &p->t[src].md, p->e->eng, &sub, p->e->eng, p->attr),
       "pad", n);
    step *s = add_step(p, STEP_PRIM, 3);
    if (!s) {
        dnnl_primitive_desc_destroy(pd);
        return -1;
    }
    set_arg(s, DNNL_ARG_FROM, src, &p->t[src].md, 0);
    set_arg(s, DNNL_ARG_TO, out, &sub, 1);
    *result = out;
    return finish_prim(p, s, pd, n);
}

static int build_pad(nn_plan *p, nn_op *op) {
    const bs_onnx_node *n = op->node;
    int src, res;
    if (to_plain(p, op->in[0], &src)) return -1;
    int r = p->t[src].ndim;
    if (op->size != r)
        return bs_error("node '%s' (Pad): %lld pads pairs for a rank-%d input", n->name,
                        (long long)op->size, r);
    return pad_into(p, src, op->pads, op->pads + r, op->pad_value, op->out, n, &res);
}

/* ---- memory plan and creation ---- */

static int assign_buffers(nn_plan *p) {
    for (size_t s = 0; s < p->ns; s++)
        for (int i = 0; i < p->steps[s].nargs; i++) {
            parg *a = &p->steps[s].args[i];
            if (a->t < 0) continue;
            pt *x = &p->t[a->t];
            if (x->is_const || x->is_input) continue;
            if (a->out && x->def < 0) x->def = (int)s;
            if ((int)s > x->last) x->last = (int)s;
        }
    for (size_t i = 0; i < p->n_out; i++) p->t[p->out_t[i]].last = INT_MAX;
    p->bufs = bs_calloc(p->nt + 1, sizeof *p->bufs);
    if (!p->bufs) return -1;
    for (size_t s = 0; s < p->ns; s++) {
        for (int i = 0; i < p->steps[s].nargs; i++) {
            parg *a = &p->steps[s].args[i];
            if (a->t < 0 || !a->out) continue;
            pt *x = &p->t[a->t];
            if (x->def != (int)s || x->buf >= 0 || x->is_input) continue;
            size_t need = dnnl_memory_desc_get_size(&x->md);
            int best = -1, largest = -1;
            for (size_t b = 0; b < p->nb; b++) {
                if (p->bufs[b].users) continue;
                if (p->bufs[b].size >= need && (best < 0 || p->bufs[b].size < p->bufs[best].size))
                    best = (int)b;
                if (largest < 0 || p->bufs[b].size > p->bufs[largest].size) largest = (int)b;
            }
            if (best < 0) best = largest;
            if (best < 0) best = (int)p->nb++;
            if (p->bufs[best].size < need) p->bufs[best].size = need;
            p->bufs[best].users++;
            x->buf = best;
        }
        for (size_t t = 0; t < p->nt; t++)
            if (p->t[t].last == (int)s && p->t[t].buf >= 0) p->bufs[p->t[t].buf].users--;
    }
    for (size_t b = 0; b < p->nb; b++) {
        p->bufs[b].ptr = aligned_alloc(64, (p->bufs[b].size + 63) / 64 * 64 + 64);
        if (!p->bufs[b].ptr)
            return bs_error("out of memory for activations (%zu bytes)", p->bufs[b].size);
    }
    if (p->scratch_size) {
        p->scratch = aligned_alloc(64, (p->scratch_size + 63) / 64 * 64);
        if (!p->scratch) return bs_error("out of memory for the scratchpad");
    }
    return 0;
}

static int create_memories(nn_plan *p) {
    size_t total = 0;
    for (size_t s = 0; s < p->ns; s++) total += (size_t)p->steps[s].nargs;
    p->mems = bs_calloc(total + 1, sizeof *p->mems);
    p->input_mems = bs_calloc(total + 1, sizeof *p->input_mems);
    if (!p->mems || !p->input_mems) return -1;
    for (size_t s = 0; s < p->ns; s++) {
        step *st = &p->steps[s];
        for (int i = 0; i < st->nargs; i++) {
            parg *a = &st->args[i];
            void *ptr;
            int input = 0;
            if (a->t == ARG_CONST)
                ptr = (void *)a->cdata;
            else if (a->t == ARG_SCRATCH)
                ptr = p->scratch;
            else if (p->t[a->t].is_const)
                ptr = (void *)p->t[a->t].cdata;
            else if (p->t[a->t].is_input) {
                ptr = DNNL_MEMORY_NONE;
                input = 1;
            } else
                ptr = p->bufs[p->t[a->t].buf].ptr;
            dnnl_memory_t m;
            DN(dnnl_memory_create(&m, &a->md, p->e->eng, ptr), "create a memory object", NULL);
            p->mems[p->nmems++] = m;
            if (input) p->input_mems[p->n_input_mems++] = m;
            st->exec[i].arg = a->arg;
            st->exec[i].memory = m;
        }
    }
    return 0;
}

void bs_nn_plan_free(nn_plan *p) {
    if (!p) return;
    for (size_t s = 0; s < p->ns; s++) {
        if (p->steps[s].prim) dnnl_primitive_destroy(p->steps[s].prim);
        free(p->steps[s].args);
        free(p->steps[s].exec);
    }
    for (size_t i = 0; i < p->nmems; i++) dnnl_memory_destroy(p->mems[i]);
    for (size_t b = 0; b < p->nb; b++) free(p->bufs[b].ptr);
    if (p->attr) dnnl_primitive_attr_destroy(p->attr);
    free(p->scratch);
    free(p->bufs);
    free(p->mems);
    free(p->input_mems);
    free(p->steps);
    free(p->t);
    free(p->out_t);
    free(p);
}

static int build_op(nn_plan *p, nn_op *op) {
    switch (op->kind) {
        case OP_CONV: return build_conv(p, op);
        case OP_MAXPOOL:
        case OP_AVGPOOL:
        case OP_GAP: return build_pool(p, op);
        case OP_LRN:
        case OP_RELU:
        case OP_BN: return build_same_shape(p, op);
        case OP_CONCAT: return build_concat(p, op);
        case OP_FLATTEN: return build_flatten(p, op);
        case OP_GEMM: return build_gemm(p, op);
        case OP_SOFTMAX: return build_softmax(p, op);
        case OP_ADD:
        case OP_SUB:
        case OP_MUL: return build_binary(p, op);
        case OP_PAD: return build_pad(p, op);
    }
    return bs_error("internal: unknown op");
}

nn_plan *bs_nn_plan_build(bs_engine *e, int ndim, const int64_t *shape, int threads) {
    nn_plan *p = bs_calloc(1, sizeof *p);
    if (!p) return NULL;
    p->e = e;
    p->ndim = ndim;
    p->threads = threads;
    memcpy(p->shape, shape, (size_t)ndim * sizeof *shape);
    if (dnnl_primitive_attr_create(&p->attr) != dnnl_success ||
        dnnl_primitive_attr_set_scratchpad_mode(p->attr, dnnl_scratchpad_mode_user) !=
            dnnl_success) {
        bs_error("oneDNN cannot create attributes");
        goto fail;
    }
    for (size_t i = 0; i < e->n_tensors; i++)
        if (add_t(p) < 0) goto fail;
    for (size_t i = 0; i < e->n_tensors; i++) {
        const nn_tensor *t = &e->tensors[i];
        pt *x = &p->t[i];
        if (t->kind == T_INPUT) {
            if (define(p, (int)i, ndim, shape, NULL)) goto fail;
            x->is_input = 1;
        } else if (t->kind == T_CONST) {
            if (t->cval->dtype != BS_ONNX_FLOAT || t->cval->ndim > 6)
                continue; /* int64 shape-likes: load-time only */
            int64_t one = 1;
            int nd = t->cval->ndim;
            if (nd == 0) { /* scalar -> [1] */
                x->ndim = 1;
                x->dims[0] = 1;
                if (md_plain(&x->md, 1, &one)) goto fail;
            } else {
                x->ndim = nd;
                memcpy(x->dims, t->cval->dims, sizeof x->dims);
                if (t->cval->count == 0) continue;
                if (md_plain(&x->md, nd, t->cval->dims)) goto fail;
            }
            x->defined = x->is_const = 1;
            x->cdata = t->cval->data;
        }
    }
    for (size_t i = 0; i < e->n_ops; i++) {
        nn_op *op = &e->ops[i];
        if (op->dead) continue;
        int nin = op->nin;
        for (int j = 0; j < nin; j++) {
            int t = op->kind == OP_CONCAT ? op->cin[j] : op->in[j];
            if (t >= 0 && !p->t[t].defined) {
                bs_error(
                    "node '%s' (%s): input '%s' has no usable value (empty or non-float constant)",
                    op->node->name, op->node->op_type, e->tensors[t].name);
                goto fail;
            }
            if (j == 0 && op->kind != OP_CONCAT && t >= 0 && p->t[t].is_const &&
                op->kind != OP_ADD && op->kind != OP_SUB && op->kind != OP_MUL) {
                bs_error("node '%s' (%s): a constant data input is not supported", op->node->name,
                         op->node->op_type);
                goto fail;
            }
        }
        if (build_op(p, op)) {
            if (!strstr(bs_error_message(), op->node->name))
                bs_error_prefix("node '%s' (%s): ", op->node->name, op->node->op_type);
            goto fail;
        }
    }
    p->out_t = bs_calloc(e->n_outputs + 1, sizeof *p->out_t);
    if (!p->out_t) goto fail;
    for (size_t i = 0; i < e->n_outputs; i++) {
        int t;
        if (to_plain(p, e->outputs[i], &t)) goto fail;
        p->out_t[p->n_out++] = t;
    }
    if (assign_buffers(p) || create_memories(p)) goto fail;
    return p;
fail:
    bs_nn_plan_free(p);
    return NULL;
}

int bs_nn_plan_matches(const nn_plan *p, int ndim, const int64_t *shape, int threads) {
    if (p->ndim != ndim || p->threads != threads) return 0;
    for (int i = 0; i < ndim; i++)
        if (p->shape[i] != shape[i]) return 0;
    return 1;
}

int bs_nn_plan_run(bs_engine *e, nn_plan *p, const float *input) {
    for (size_t i = 0; i < p->n_input_mems; i++)
        DN(dnnl_memory_set_data_handle(p->input_mems[i], (void *)input), "bind the input", NULL);
    for (size_t s = 0; s < p->ns; s++) {
        step *st = &p->steps[s];
        if (st->kind == STEP_FILL) {
            pt *x = &p->t[st->fill_t];
            float *d = p->bufs[x->buf].ptr;
            size_t n = dnnl_memory_desc_get_size(&x->md) / sizeof(float);
            for (size_t i = 0; i < n; i++) d[i] = st->fill;
            continue;
        }
        DN(dnnl_primitive_execute(st->prim, e->stream, st->nargs, st->exec), "run a primitive",
           NULL);
    }
    DN(dnnl_stream_wait(e->stream), "finish the run", NULL);
    return 0;
}

const float *bs_nn_plan_output(const nn_plan *p, size_t i, int *ndim, int64_t *shape) {
    const pt *x = &p->t[p->out_t[i]];
    *ndim = x->ndim;
    memcpy(shape, x->dims, (size_t)x->ndim * sizeof *shape);
    return p->bufs[x->buf].ptr;
}
