/* graph.c — load-time preparation of an ONNX graph for the engine: operator attributes
 * parsed and checked, Constant/Identity/Dropout resolved, BatchNormalization and zero Pad
 * folded into the preceding/following Conv, Relu fused into Conv/Gemm, nodes that do not
 * feed a requested output dropped. Shapes are not known here (they depend on the batch);
 * plan.c infers them. Not for: oneDNN (plan.c). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/io.h"
#include "internal.h"

/* ---- tensors ---- */

static size_t name_hash(const char *s) {
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return (size_t)h;
}

int bs_nn_tensor_find(const bs_engine *e, const char *name) {
    if (!e->tindex_cap) return -1;
    for (size_t i = name_hash(name) & (e->tindex_cap - 1);; i = (i + 1) & (e->tindex_cap - 1)) {
        int v = e->tindex[i];
        if (!v) return -1;
        if (strcmp(e->tensors[v - 1].name, name) == 0) return v - 1;
    }
}

static void index_put(bs_engine *e, int id) {
    size_t i = name_hash(e->tensors[id].name) & (e->tindex_cap - 1);
    while (e->tindex[i]) i = (i + 1) & (e->tindex_cap - 1);
    e->tindex[i] = id + 1;
}

/* Names are unique (onnx.c checks), so the index never holds two entries for one name. */
static int add_tensor(bs_engine *e, const char *name, int kind) {
    if (e->n_tensors == e->cap_tensors) {
        size_t cap = e->cap_tensors ? 2 * e->cap_tensors : 64;
        nn_tensor *t = bs_realloc(e->tensors, cap * sizeof *t);
        if (!t) return -1;
        e->tensors = t;
        e->cap_tensors = cap;
    }
    if (2 * (e->n_tensors + 1) > e->tindex_cap) { /* keep the load factor <= 1/2 */
        size_t cap = e->tindex_cap ? 2 * e->tindex_cap : 128;
        int *idx = bs_calloc(cap, sizeof *idx);
        if (!idx) return -1;
        free(e->tindex);
        e->tindex = idx;
        e->tindex_cap = cap;
        for (size_t i = 0; i < e->n_tensors; i++) index_put(e, (int)i);
    }
    nn_tensor *t = &e->tensors[e->n_tensors];
    memset(t, 0, sizeof *t);
    t->name = name;
    t->kind = kind;
    t->producer = -1;
    t->consumer = -1;
    index_put(e, (int)e->n_tensors);
    return (int)e->n_tensors++;
}

bs_onnx_tensor *bs_nn_owned_tensor(bs_engine *e, int ndim, const int64_t *dims, const char *name) {
    if (e->n_owned == e->cap_owned) {
        size_t cap = e->cap_owned ? 2 * e->cap_owned : 16;
        bs_onnx_tensor **o = bs_realloc(e->owned, cap * sizeof *o);
        if (!o) return NULL;
        e->owned = o;
        e->cap_owned = cap;
    }
    bs_onnx_tensor *t = bs_calloc(1, sizeof *t);
    if (!t) return NULL;
    t->dtype = BS_ONNX_FLOAT;
    t->ndim = ndim;
    t->count = 1;
    for (int i = 0; i < ndim; i++) {
        t->dims[i] = dims[i];
        t->count *= (size_t)dims[i];
    }
    t->name = bs_strdup(name ? name : "");
    t->data = bs_calloc(t->count ? t->count : 1, sizeof(float));
    if (!t->name || !t->data) {
        bs_onnx_tensor_clear(t);
        free(t);
        return NULL;
    }
    e->owned[e->n_owned++] = t;
    return t;
}

/* ---- attributes ---- */

static int attr_int(const bs_onnx_node *n, const char *name, int64_t def, int64_t *out) {
    const bs_onnx_attr *a = bs_onnx_attr_find(n, name);
    if (!a) {
        *out = def;
        return 0;
    }
    if (a->type != BS_ONNX_ATTR_INT)
        return bs_error("node '%s' (%s): attribute '%s' must be an integer", n->name, n->op_type,
                        name);
    *out = a->i;
    return 0;
}

static int attr_float(const bs_onnx_node *n, const char *name, float def, float *out) {
    const bs_onnx_attr *a = bs_onnx_attr_find(n, name);
    if (!a) {
        *out = def;
        return 0;
    }
    if (a->type != BS_ONNX_ATTR_FLOAT)
        return bs_error("node '%s' (%s): attribute '%s' must be a float", n->name, n->op_type,
                        name);
    if (!isfinite(a->f))
        return bs_error("node '%s' (%s): attribute '%s' is not finite", n->name, n->op_type, name);
    *out = a->f;
    return 0;
}

/* An INTS attribute with exactly `count` entries (or absent: `*present` = 0). */
static int attr_ints(const bs_onnx_node *n, const char *name, size_t count, int64_t *out,
                     int *present) {
    const bs_onnx_attr *a = bs_onnx_attr_find(n, name);
    *present = 0;
    if (!a) return 0;
    if (a->type != BS_ONNX_ATTR_INTS)
        return bs_error("node '%s' (%s): attribute '%s' must be a list of integers", n->name,
                        n->op_type, name);
    if (a->n != count)
        return bs_error("node '%s' (%s): attribute '%s' has %zu values, expected %zu", n->name,
                        n->op_type, name, a->n, count);
    for (size_t i = 0; i < count; i++) out[i] = a->ints[i];
    *present = 1;
    return 0;
}

/* kernel_shape, strides, dilations, pads, auto_pad for 2-D Conv and pools. */
static int parse_window(nn_op *op, int need_kernel) {
    const bs_onnx_node *n = op->node;
    int present;
    int64_t pads[4] = {0, 0, 0, 0};
    op->kernel[0] = op->kernel[1] = 0;
    op->stride[0] = op->stride[1] = 1;
    op->dil[0] = op->dil[1] = 1;
    const bs_onnx_attr *ks = bs_onnx_attr_find(n, "kernel_shape");
    if (ks && (ks->type != BS_ONNX_ATTR_INTS || ks->n != 2))
        return bs_error(
            "node '%s' (%s): only 2-D kernels are supported (kernel_shape must have 2 values)",
            n->name, n->op_type);
    if (attr_ints(n, "kernel_shape", 2, op->kernel, &present)) return -1;
    if (need_kernel && !present)
        return bs_error("node '%s' (%s): kernel_shape is required", n->name, n->op_type);
    if (attr_ints(n, "strides", 2, op->stride, &present)) return -1;
    if (attr_ints(n, "dilations", 2, op->dil, &present)) return -1;
    if (attr_ints(n, "pads", 4, pads, &present)) return -1;
    op->pad_l[0] = pads[0];
    op->pad_l[1] = pads[1];
    op->pad_r[0] = pads[2];
    op->pad_r[1] = pads[3];
    for (int i = 0; i < 2; i++) {
        if (op->kernel[i] < 0 || op->kernel[i] > 4096 || (present && 0) || op->stride[i] < 1 ||
            op->stride[i] > 4096 || op->dil[i] < 1 || op->dil[i] > 4096 || op->pad_l[i] < 0 ||
            op->pad_l[i] > 4096 || op->pad_r[i] < 0 || op->pad_r[i] > 4096)
            return bs_error("node '%s' (%s): kernel/stride/dilation/pad values out of range",
                            n->name, n->op_type);
        if (need_kernel && op->kernel[i] < 1)
            return bs_error("node '%s' (%s): kernel_shape values must be >= 1", n->name,
                            n->op_type);
    }
    const bs_onnx_attr *ap = bs_onnx_attr_find(n, "auto_pad");
    op->auto_pad = 0;
    if (ap) {
        if (ap->type != BS_ONNX_ATTR_STRING)
            return bs_error("node '%s' (%s): auto_pad must be a string", n->name, n->op_type);
        if (strcmp(ap->s, "NOTSET") == 0)
            op->auto_pad = 0;
        else if (strcmp(ap->s, "SAME_UPPER") == 0)
            op->auto_pad = 1;
        else if (strcmp(ap->s, "SAME_LOWER") == 0)
            op->auto_pad = 2;
        else if (strcmp(ap->s, "VALID") == 0)
            op->auto_pad = 3;
        else
            return bs_error("node '%s' (%s): unknown auto_pad '%s'", n->name, n->op_type, ap->s);
    }
    return 0;
}

static const bs_onnx_tensor *const_of(const bs_engine *e, int t) {
    return (t >= 0 && e->tensors[t].kind == T_CONST) ? e->tensors[t].cval : NULL;
}

static int need_const_float(const bs_engine *e, const nn_op *op, int idx, const char *what,
                            const bs_onnx_tensor **out) {
    const bs_onnx_tensor *c = const_of(e, op->in[idx]);
    if (!c)
        return bs_error("node '%s' (%s): %s must be a constant initializer", op->node->name,
                        op->node->op_type, what);
    if (c->dtype != BS_ONNX_FLOAT)
        return bs_error("node '%s' (%s): %s must be float32", op->node->name, op->node->op_type,
                        what);
    *out = c;
    return 0;
}

/* ---- per-operator parsing ---- */

static int parse_conv(bs_engine *e, nn_op *op) {
    const bs_onnx_node *n = op->node;
    if (op->nin < 2) return bs_error("node '%s' (Conv): needs inputs X and W", n->name);
    if (parse_window(op, 0)) return -1;
    if (attr_int(n, "group", 1, &op->group)) return -1;
    const bs_onnx_tensor *w;
    if (need_const_float(e, op, 1, "the weight W", &w)) return -1;
    if (w->ndim != 4)
        return bs_error("node '%s' (Conv): only 2-D convolutions are supported (W has rank %d)",
                        n->name, w->ndim);
    if (w->count == 0) return bs_error("node '%s' (Conv): empty weight", n->name);
    if (op->group < 1 || op->group > w->dims[0] || w->dims[0] % op->group)
        return bs_error("node '%s' (Conv): group %lld does not divide the %lld output channels",
                        n->name, (long long)op->group, (long long)w->dims[0]);
    int present;
    int64_t ks[2];
    if (attr_ints(n, "kernel_shape", 2, ks, &present)) return -1;
    if (present && (ks[0] != w->dims[2] || ks[1] != w->dims[3]))
        return bs_error("node '%s' (Conv): kernel_shape disagrees with W", n->name);
    op->kernel[0] = w->dims[2];
    op->kernel[1] = w->dims[3];
    op->w = w;
    if (op->nin > 2 && op->in[2] >= 0) {
        const bs_onnx_tensor *b;
        if (need_const_float(e, op, 2, "the bias B", &b)) return -1;
        if (b->count != (size_t)w->dims[0])
            return bs_error("node '%s' (Conv): bias has %zu values for %lld output channels",
                            n->name, b->count, (long long)w->dims[0]);
        op->b = b;
    }
    return 0;
}

static int parse_pool(nn_op *op, int is_max) {
    const bs_onnx_node *n = op->node;
    if (parse_window(op, 1)) return -1;
    int64_t v = 0;
    if (attr_int(n, "ceil_mode", 0, &v)) return -1;
    op->ceil_mode = v != 0;
    if (attr_int(n, "count_include_pad", 0, &v)) return -1;
    op->count_include_pad = v != 0;
    if (is_max) {
        if (attr_int(n, "storage_order", 0, &v)) return -1;
        if (n->n_outputs > 1 && *n->outputs[1])
            return bs_error("node '%s' (MaxPool): the Indices output is not supported", n->name);
    } else if (op->dil[0] != 1 || op->dil[1] != 1) {
        return bs_error("node '%s' (AveragePool): dilations are not supported", n->name);
    }
    return 0;
}

static int parse_gemm(bs_engine *e, nn_op *op) {
    const bs_onnx_node *n = op->node;
    if (op->nin < 2) return bs_error("node '%s' (Gemm): needs inputs A and B", n->name);
    int64_t ta = 0, tb = 0;
    float alpha, beta;
    if (attr_int(n, "transA", 0, &ta) || attr_int(n, "transB", 0, &tb) ||
        attr_float(n, "alpha", 1.f, &alpha) || attr_float(n, "beta", 1.f, &beta))
        return -1;
    if (ta) return bs_error("node '%s' (Gemm): transA=1 is not supported", n->name);
    const bs_onnx_tensor *B;
    if (need_const_float(e, op, 1, "B", &B)) return -1;
    if (B->ndim != 2 || B->count == 0)
        return bs_error("node '%s' (Gemm): B must be a non-empty matrix", n->name);
    int64_t O = tb ? B->dims[0] : B->dims[1], K = tb ? B->dims[1] : B->dims[0];
    int64_t wd[2] = {O, K};
    bs_onnx_tensor *w = bs_nn_owned_tensor(e, 2, wd, B->name);
    bs_onnx_tensor *b = bs_nn_owned_tensor(e, 1, &O, "gemm bias");
    if (!w || !b) return -1;
    const float *src = B->data;
    float *dw = w->data, *db = b->data;
    for (int64_t o = 0; o < O; o++)
        for (int64_t k = 0; k < K; k++)
            dw[o * K + k] = alpha * (tb ? src[o * K + k] : src[k * O + o]);
    if (op->nin > 2 && op->in[2] >= 0) {
        const bs_onnx_tensor *C;
        if (need_const_float(e, op, 2, "C", &C)) return -1;
        /* C broadcast over rows: [O], [1,O], or a scalar */
        int ok = (C->count == 1) ||
                 (C->count == (size_t)O && (C->ndim == 1 || (C->ndim == 2 && C->dims[0] == 1)));
        if (!ok) return bs_error("node '%s' (Gemm): C must be a scalar, [O] or [1,O]", n->name);
        const float *c = C->data;
        for (int64_t o = 0; o < O; o++) db[o] = beta * c[C->count == 1 ? 0 : o];
    }
    op->w = w;
    op->b = b;
    return 0;
}

static int parse_pad(bs_engine *e, bs_onnx_model *m, nn_op *op) {
    const bs_onnx_node *n = op->node;
    const bs_onnx_attr *mode = bs_onnx_attr_find(n, "mode");
    if (mode && (mode->type != BS_ONNX_ATTR_STRING || strcmp(mode->s, "constant") != 0))
        return bs_error("node '%s' (Pad): only mode 'constant' is supported (got '%s')", n->name,
                        mode->type == BS_ONNX_ATTR_STRING ? mode->s : "?");
    memset(op->pads, 0, sizeof op->pads);
    op->pad_value = 0;
    size_t np;
    const int64_t *pv;
    if (m->opset < 11) {
        const bs_onnx_attr *a = bs_onnx_attr_find(n, "pads");
        if (!a || a->type != BS_ONNX_ATTR_INTS)
            return bs_error("node '%s' (Pad): attribute 'pads' is required", n->name);
        np = a->n;
        pv = a->ints;
        if (attr_float(n, "value", 0.f, &op->pad_value)) return -1;
    } else {
        const bs_onnx_tensor *p = op->nin > 1 ? const_of(e, op->in[1]) : NULL;
        if (!p || p->dtype != BS_ONNX_INT64)
            return bs_error("node '%s' (Pad): 'pads' must be a constant int64 tensor", n->name);
        np = p->count;
        pv = p->data;
        if (op->nin > 2 && op->in[2] >= 0) {
            const bs_onnx_tensor *v = const_of(e, op->in[2]);
            if (!v || v->dtype != BS_ONNX_FLOAT || v->count != 1)
                return bs_error("node '%s' (Pad): constant_value must be a constant float scalar",
                                n->name);
            op->pad_value = *(const float *)v->data;
        }
    }
    if (np % 2 || np == 0 || np > 2 * MAXD)
        return bs_error("node '%s' (Pad): bad number of pads (%zu)", n->name, np);
    for (size_t i = 0; i < np; i++) {
        if (pv[i] < 0)
            return bs_error("node '%s' (Pad): negative pads (cropping) are not supported", n->name);
        if (pv[i] > 1 << 20)
            return bs_error("node '%s' (Pad): pad %lld too large", n->name, (long long)pv[i]);
        op->pads[i] = pv[i];
    }
    op->size = (int64_t)(np / 2); /* rank the pads describe */
    op->nin = 1;
    return 0;
}

/* Constant node -> a T_CONST tensor. */
static int make_constant(bs_engine *e, const bs_onnx_node *n, const char *out_name) {
    if (n->n_attrs != 1)
        return bs_error("node '%s' (Constant): needs exactly one value attribute", n->name);
    const bs_onnx_attr *a = &n->attrs[0];
    const bs_onnx_tensor *src = NULL;
    bs_onnx_tensor *t = NULL;
    if (strcmp(a->name, "value") == 0 && a->type == BS_ONNX_ATTR_TENSOR) {
        src = a->t;
    } else if (strcmp(a->name, "value_float") == 0 && a->type == BS_ONNX_ATTR_FLOAT) {
        t = bs_nn_owned_tensor(e, 0, NULL, out_name);
        if (!t) return -1;
        *(float *)t->data = a->f;
    } else if (strcmp(a->name, "value_floats") == 0 && a->type == BS_ONNX_ATTR_FLOATS) {
        int64_t d = (int64_t)a->n;
        t = bs_nn_owned_tensor(e, 1, &d, out_name);
        if (!t) return -1;
        if (a->n) memcpy(t->data, a->floats, a->n * sizeof(float));
    } else if ((strcmp(a->name, "value_int") == 0 && a->type == BS_ONNX_ATTR_INT) ||
               (strcmp(a->name, "value_ints") == 0 && a->type == BS_ONNX_ATTR_INTS)) {
        int scalar = a->type == BS_ONNX_ATTR_INT;
        int64_t d = scalar ? 1 : (int64_t)a->n;
        t = bs_nn_owned_tensor(e, scalar ? 0 : 1, &d, out_name);
        if (!t) return -1;
        free(t->data);
        t->dtype = BS_ONNX_INT64;
        t->data = bs_calloc(d ? (size_t)d : 1, sizeof(int64_t));
        if (!t->data) return -1;
        if (scalar)
            *(int64_t *)t->data = a->i;
        else if (a->n)
            memcpy(t->data, a->ints, a->n * sizeof(int64_t));
    } else {
        return bs_error("node '%s' (Constant): attribute '%s' is not supported", n->name, a->name);
    }
    int id = add_tensor(e, out_name, T_CONST);
    if (id < 0) return -1;
    e->tensors[id].cval = src ? src : t;
    return 0;
}

static const struct {
    const char *name;
    int kind;
} op_table[] = {{"Conv", OP_CONV},
                {"Relu", OP_RELU},
                {"MaxPool", OP_MAXPOOL},
                {"AveragePool", OP_AVGPOOL},
                {"GlobalAveragePool", OP_GAP},
                {"LRN", OP_LRN},
                {"Concat", OP_CONCAT},
                {"Flatten", OP_FLATTEN},
                {"Gemm", OP_GEMM},
                {"Softmax", OP_SOFTMAX},
                {"Add", OP_ADD},
                {"Sub", OP_SUB},
                {"Mul", OP_MUL},
                {"BatchNormalization", OP_BN},
                {"Pad", OP_PAD}};

#define SUPPORTED                                                                                  \
    "Conv, Relu, MaxPool, AveragePool, GlobalAveragePool, LRN, Concat, Flatten, Gemm, Softmax, "   \
    "Add, Sub, Mul, "                                                                              \
    "BatchNormalization, Pad, Identity, Dropout, Constant"

/* Identity and Dropout outputs: other names of their inputs. */
typedef struct {
    char **from, **to;
    size_t n;
} alias_table;

/* Resolve a name through Identity/Dropout aliases. */
static const char *resolve(const alias_table *a, const char *name) {
    for (int guard = 0; guard < 100000; guard++) {
        size_t i;
        for (i = 0; i < a->n; i++)
            if (strcmp(a->from[i], name) == 0) break;
        if (i == a->n) return name;
        name = a->to[i];
    }
    return name;
}

static int parse_op(bs_engine *e, nn_op *op) {
    const bs_onnx_node *n = op->node;
    switch (op->kind) {
        case OP_CONV: return parse_conv(e, op);
        case OP_MAXPOOL: return parse_pool(op, 1);
        case OP_AVGPOOL: return parse_pool(op, 0);
        case OP_GAP:
        case OP_RELU: return 0;
        case OP_LRN:
            if (attr_int(n, "size", 0, &op->size) || attr_float(n, "alpha", 1e-4f, &op->alpha) ||
                attr_float(n, "beta", 0.75f, &op->beta) || attr_float(n, "bias", 1.f, &op->bias))
                return -1;
            if (op->size < 1 || op->size > 1024)
                return bs_error("node '%s' (LRN): size must be in [1, 1024]", n->name);
            return 0;
        case OP_CONCAT:
            if (!bs_onnx_attr_find(n, "axis"))
                return bs_error("node '%s' (Concat): attribute 'axis' is required", n->name);
            return attr_int(n, "axis", 1, &op->axis);
        case OP_FLATTEN: return attr_int(n, "axis", 1, &op->axis);
        case OP_SOFTMAX:
            op->softmax_2d = e->model->opset < 13;
            return attr_int(n, "axis", op->softmax_2d ? 1 : -1, &op->axis);
        case OP_GEMM: return parse_gemm(e, op);
        case OP_ADD:
        case OP_SUB:
        case OP_MUL:
            if (op->nin != 2)
                return bs_error("node '%s' (%s): needs 2 inputs", n->name, n->op_type);
            if (e->model->opset < 7 && bs_onnx_attr_find(n, "broadcast"))
                return bs_error("node '%s' (%s): legacy broadcast attribute", n->name, n->op_type);
            return 0;
        case OP_PAD: return parse_pad(e, e->model, op);
    }
    return bs_error("internal: unknown op kind");
}

/* ---- folding and fusion ---- */

static void count_consumers(bs_engine *e) {
    for (size_t i = 0; i < e->n_tensors; i++) e->tensors[i].consumers = 0;
    for (size_t i = 0; i < e->n_ops; i++) {
        nn_op *op = &e->ops[i];
        if (op->dead) continue;
        int n = op->kind == OP_CONCAT ? op->nin : op->nin;
        for (int j = 0; j < n; j++) {
            int t = op->kind == OP_CONCAT ? op->cin[j] : op->in[j];
            if (t >= 0) {
                e->tensors[t].consumers++;
                e->tensors[t].consumer = (int)i;
            }
        }
    }
}

/* The op's output tensor feeds exactly one live op and is not requested: return that op. */
static nn_op *sole_consumer(bs_engine *e, int t) {
    if (t < 0 || e->tensors[t].consumers != 1 || e->tensors[t].requested) return NULL;
    nn_op *op = &e->ops[e->tensors[t].consumer];
    return op->dead ? NULL : op;
}

/* Conv -> BatchNormalization: W' = W*s, b' = (b - mean)*s + beta, s = gamma/sqrt(var+eps), in double. */
static int fold_bn(bs_engine *e, nn_op *conv, nn_op *bn) {
    const bs_onnx_tensor *W = conv->w;
    int64_t O = W->dims[0];
    if ((size_t)O != bn->mean->count) return 0; /* leave it to the shape check at plan time */
    bs_onnx_tensor *w2 = bs_nn_owned_tensor(e, W->ndim, W->dims, W->name);
    bs_onnx_tensor *b2 = bs_nn_owned_tensor(e, 1, &O, "folded bias");
    if (!w2 || !b2) return -1;
    size_t per = W->count / (size_t)O;
    const float *ss = bn->scaleshift->data, *mean = bn->mean->data, *var = bn->var->data;
    for (int64_t o = 0; o < O; o++) {
        double s = (double)ss[o] / sqrt((double)var[o] + (double)bn->eps);
        for (size_t k = 0; k < per; k++)
            ((float *)w2->data)[o * per + k] =
                (float)((double)((const float *)W->data)[o * per + k] * s);
        double b = conv->b ? ((const float *)conv->b->data)[o] : 0.0;
        ((float *)b2->data)[o] = (float)((b - (double)mean[o]) * s + (double)ss[O + o]);
    }
    conv->w = w2;
    conv->b = b2;
    conv->out = bn->out;
    e->tensors[bn->out].producer = (int)(conv - e->ops);
    bn->dead = 1;
    return 1;
}

/* The rewrites below keep every live tensor's consumer count (a fused op's reader takes its
 * place), so the counts are computed once. */
static int optimise(bs_engine *e) {
    count_consumers(e);
    for (size_t i = 0; i < e->n_ops; i++) {
        nn_op *op = &e->ops[i];
        if (op->dead) continue;
        /* zero constant Pad on H, W only, feeding a Conv: add to the Conv's pads */
        if (op->kind == OP_PAD && op->pad_value == 0.f && op->size == 4 && !op->pads[0] &&
            !op->pads[1] && !op->pads[4] && !op->pads[5]) {
            nn_op *c = sole_consumer(e, op->out);
            if (c && c->kind == OP_CONV && c->in[0] == op->out && c->auto_pad == 0) {
                c->pad_l[0] += op->pads[2];
                c->pad_l[1] += op->pads[3];
                c->pad_r[0] += op->pads[6];
                c->pad_r[1] += op->pads[7];
                c->in[0] = op->in[0];
                op->dead = 1;
                if (e->tensors[c->in[0]].consumer == (int)i)
                    e->tensors[c->in[0]].consumer = (int)(c - e->ops);
                continue;
            }
        }
        if (op->kind == OP_CONV) {
            nn_op *c = sole_consumer(e, op->out);
            if (c && c->kind == OP_BN && c->in[0] == op->out) {
                if (fold_bn(e, op, c) < 0) return -1;
            }
        }
        if ((op->kind == OP_CONV || op->kind == OP_GEMM) && !op->relu) {
            nn_op *c = sole_consumer(e, op->out);
            if (c && c->kind == OP_RELU) {
                op->relu = 1;
                op->out = c->out;
                e->tensors[c->out].producer = (int)i;
                c->dead = 1;
            }
        }
    }
    return 0;
}

/* Mark ops needed for the requested outputs; the rest are dropped. */
static void prune(bs_engine *e) {
    char *need = calloc(e->n_ops ? e->n_ops : 1, 1);
    if (!need) return;
    for (size_t i = 0; i < e->n_outputs; i++) {
        int p = e->tensors[e->outputs[i]].producer;
        if (p >= 0) need[p] = 1;
    }
    for (size_t k = e->n_ops; k-- > 0;) {
        nn_op *op = &e->ops[k];
        if (!need[k] || op->dead) continue;
        for (int j = 0; j < op->nin; j++) {
            int t = op->kind == OP_CONCAT ? op->cin[j] : op->in[j];
            if (t >= 0 && e->tensors[t].producer >= 0) need[e->tensors[t].producer] = 1;
        }
    }
    for (size_t k = 0; k < e->n_ops; k++)
        if (!need[k]) e->ops[k].dead = 1;
    free(need);
}

/* ---- from nodes to ops ---- */

/* The graph input and the initializers, as the first tensors. */
static int add_input_and_constants(bs_engine *e) {
    bs_onnx_model *m = e->model;
    if (m->n_inputs != 1)
        return bs_error("%s: the graph has %zu inputs; exactly one (the image batch) is supported",
                        m->path, m->n_inputs);
    e->input = add_tensor(e, m->inputs[0].name, T_INPUT);
    if (e->input < 0) return -1;
    if (m->inputs[0].dtype && m->inputs[0].dtype != BS_ONNX_FLOAT)
        return bs_error("%s: input '%s' is not float32", m->path, m->inputs[0].name);
    for (size_t i = 0; i < m->n_inits; i++) {
        int id = add_tensor(e, m->inits[i].name, T_CONST);
        if (id < 0) return -1;
        e->tensors[id].cval = &m->inits[i];
    }
    return 0;
}

/* Identity or Dropout (inference: a copy): its output becomes another name of its input. */
static int add_alias(const bs_engine *e, const bs_onnx_node *n, alias_table *a) {
    if (n->n_inputs < 1 || !*n->inputs[0] || n->n_outputs < 1)
        return bs_error("node '%s' (%s): needs one input and one output", n->name, n->op_type);
    if (n->n_outputs > 1 && *n->outputs[1])
        return bs_error("node '%s' (Dropout): the mask output is not supported", n->name);
    if (strcmp(n->op_type, "Dropout") == 0 && n->n_inputs > 2 && *n->inputs[2]) {
        const bs_onnx_tensor *tm = bs_onnx_init_find(e->model, n->inputs[2]);
        if (!tm || tm->count != 1 || (tm->dtype == BS_ONNX_INT64 ? *(int64_t *)tm->data : 1) != 0)
            return bs_error("node '%s' (Dropout): training_mode must be a constant false", n->name);
    }
    a->from[a->n] = n->outputs[0];
    a->to[a->n] = (char *)resolve(a, n->inputs[0]);
    a->n++;
    return 0;
}

/* The op's input tensors: Concat's into cin (allocated here), BatchNormalization's and Pad's
 * (up to 5) into bn_in, the others' into in[]. */
static int bind_inputs(bs_engine *e, nn_op *op, const alias_table *a, int bn_in[5]) {
    const bs_onnx_node *n = op->node;
    size_t nin = n->n_inputs;
    if (op->kind == OP_CONCAT) {
        if (nin < 1) return bs_error("node '%s' (Concat): needs inputs", n->name);
        op->cin = bs_calloc(nin, sizeof(int));
        if (!op->cin) return -1;
    } else if (nin > (op->kind == OP_BN ? 5u : op->kind == OP_PAD ? 4u : 3u)) {
        return bs_error("node '%s' (%s): too many inputs (%zu)", n->name, n->op_type, nin);
    }
    for (size_t j = 0; j < nin; j++) {
        int t = -1;
        if (*n->inputs[j]) {
            t = bs_nn_tensor_find(e, resolve(a, n->inputs[j]));
            if (t < 0)
                return bs_error("node '%s' (%s): input '%s' is not available", n->name, n->op_type,
                                n->inputs[j]);
        }
        if (op->kind == OP_CONCAT) {
            if (t < 0) return bs_error("node '%s' (Concat): empty input name", n->name);
            op->cin[j] = t;
        } else if (op->kind == OP_BN || op->kind == OP_PAD) {
            bn_in[j] = t;
        } else {
            op->in[j] = t;
        }
    }
    op->nin = (int)nin;
    return 0;
}

/* BatchNormalization (inference): X in in[0]; scale and B into one owned scaleshift tensor,
 * mean and var kept as the constants they are. */
static int parse_bn(bs_engine *e, nn_op *op, const int bn_in[5]) {
    const bs_onnx_node *n = op->node;
    if (op->nin < 5) return bs_error("node '%s' (BatchNormalization): needs 5 inputs", n->name);
    const bs_onnx_tensor *c[4];
    for (int q = 0; q < 4; q++) {
        c[q] = const_of(e, bn_in[q + 1]);
        if (!c[q] || c[q]->dtype != BS_ONNX_FLOAT)
            return bs_error(
                "node '%s' (BatchNormalization): scale, B, mean and var must be float constants",
                n->name);
    }
    if (attr_float(n, "epsilon", 1e-5f, &op->eps)) return -1;
    int64_t training = 0;
    if (attr_int(n, "training_mode", 0, &training)) return -1;
    if (training)
        return bs_error("node '%s' (BatchNormalization): training_mode=1 is not supported",
                        n->name);
    size_t C = c[0]->count;
    if (!C || c[1]->count != C || c[2]->count != C || c[3]->count != C)
        return bs_error(
            "node '%s' (BatchNormalization): scale, B, mean and var must have the same length",
            n->name);
    int64_t d2[2] = {2, (int64_t)C};
    bs_onnx_tensor *ss = bs_nn_owned_tensor(e, 2, d2, "bn scaleshift");
    if (!ss) return -1;
    memcpy(ss->data, c[0]->data, C * sizeof(float));
    memcpy((float *)ss->data + C, c[1]->data, C * sizeof(float));
    op->scaleshift = ss;
    op->mean = c[2];
    op->var = c[3];
    op->nin = 1;
    op->in[1] = op->in[2] = -1;
    if (op->in[0] < 0) return bs_error("node '%s' (BatchNormalization): missing input X", n->name);
    return 0;
}

/* One operator node as the next op, e->ops[e->n_ops] (where the engine frees a half-built
 * op's cin), and its output tensor. */
static int add_op(bs_engine *e, const bs_onnx_node *n, const alias_table *a) {
    int kind = -1;
    for (size_t k = 0; k < sizeof op_table / sizeof op_table[0]; k++)
        if (strcmp(n->op_type, op_table[k].name) == 0) kind = op_table[k].kind;
    if (kind < 0)
        return bs_error("%s: operator %s (node '%s') is not supported; blastscan runs " SUPPORTED,
                        e->model->path, n->op_type, n->name);
    nn_op *op = &e->ops[e->n_ops];
    memset(op, 0, sizeof *op);
    op->kind = kind;
    op->node = n;
    op->in[0] = op->in[1] = op->in[2] = -1;
    int bn_in[5] = {-1, -1, -1, -1, -1};
    if (bind_inputs(e, op, a, bn_in)) return -1;
    if (kind == OP_BN || kind == OP_PAD) {
        /* in[] has 3 slots; BN keeps X in in[0] and its constants through parse_bn */
        op->in[0] = bn_in[0];
        op->in[1] = bn_in[1];
        op->in[2] = bn_in[2];
        /* in[] has no slot for Pad's 4th input (axes, opset 18+): refuse it here. */
        if (kind == OP_PAD && bn_in[3] >= 0)
            return bs_error("node '%s' (Pad): the 'axes' input is not supported", n->name);
        if (kind == OP_BN && parse_bn(e, op, bn_in)) return -1;
    }
    if (kind != OP_BN) {
        if (kind != OP_CONCAT && (op->in[0] < 0))
            return bs_error("node '%s' (%s): missing first input", n->name, n->op_type);
        if (parse_op(e, op)) return -1;
    }
    if (n->n_outputs < 1 || !*n->outputs[0])
        return bs_error("node '%s' (%s): no output", n->name, n->op_type);
    op->out = add_tensor(e, n->outputs[0], T_VALUE);
    if (op->out < 0) return -1;
    e->tensors[op->out].producer = (int)e->n_ops;
    e->n_ops++;
    return 0;
}

/* Every node, in the model's (topological) order: Constant, alias or op. */
static int add_nodes(bs_engine *e, alias_table *a) {
    const bs_onnx_model *m = e->model;
    for (size_t i = 0; i < m->n_nodes; i++) {
        const bs_onnx_node *n = &m->nodes[i];
        int rc;
        if (strcmp(n->op_type, "Constant") == 0) {
            if (n->n_outputs != 1 || !*n->outputs[0])
                return bs_error("node '%s' (Constant): needs one output", n->name);
            rc = make_constant(e, n, n->outputs[0]);
        } else if (strcmp(n->op_type, "Identity") == 0 || strcmp(n->op_type, "Dropout") == 0) {
            rc = add_alias(e, n, a);
        } else {
            rc = add_op(e, n, a);
        }
        if (rc) return -1;
    }
    return 0;
}

/* The outputs asked for (none: the graph's own), which must be computed tensors. */
static int bind_outputs(bs_engine *e, const char *const *outputs, size_t n_outputs,
                        const alias_table *a) {
    const bs_onnx_model *m = e->model;
    size_t want = n_outputs ? n_outputs : m->n_outputs;
    e->outputs = bs_calloc(want, sizeof(int));
    e->output_names = bs_calloc(want, sizeof(char *));
    if (!e->outputs || !e->output_names) return -1;
    for (size_t i = 0; i < want; i++) {
        const char *name = n_outputs ? outputs[i] : m->outputs[i].name;
        int t = bs_nn_tensor_find(e, resolve(a, name));
        if (t < 0) return bs_error("%s: no tensor named '%s' in the graph", m->path, name);
        if (e->tensors[t].kind != T_VALUE)
            return bs_error("%s: output '%s' is a %s, not computed by the graph", m->path, name,
                            e->tensors[t].kind == T_CONST ? "constant" : "graph input");
        e->output_names[i] = bs_strdup(name);
        if (!e->output_names[i]) return -1;
        e->outputs[i] = t;
        e->tensors[t].requested = 1;
        e->n_outputs++;
    }
    return 0;
}

int bs_nn_graph_prepare(bs_engine *e, const char *const *outputs, size_t n_outputs) {
    bs_onnx_model *m = e->model;
    if (add_input_and_constants(e)) return -1;
    alias_table a = {bs_calloc(m->n_nodes + 1, sizeof(char *)),
                     bs_calloc(m->n_nodes + 1, sizeof(char *)), 0};
    e->ops = bs_calloc(m->n_nodes + 1, sizeof *e->ops);
    int rc = (a.from && a.to && e->ops) ? 0 : -1;
    if (rc == 0) rc = add_nodes(e, &a);
    if (rc == 0) rc = bind_outputs(e, outputs, n_outputs, &a);
    if (rc == 0) {
        prune(e);
        rc = optimise(e);
    }
    free(a.from);
    free(a.to);
    return rc;
}
