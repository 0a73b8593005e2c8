/* internal.h — what graph.c (load-time preparation) and plan.c/engine.c (oneDNN execution)
 * share inside src/nn.
 * Private to src/nn: the stage's door is engine.h. */
#ifndef BS_NN_INTERNAL_H
#define BS_NN_INTERNAL_H

#include <oneapi/dnnl/dnnl.h>
#include <stddef.h>
#include <stdint.h>

#include "engine.h"

#define MAXD BS_ONNX_MAX_DIMS

enum op_kind {
    OP_CONV,
    OP_RELU,
    OP_MAXPOOL,
    OP_AVGPOOL,
    OP_GAP,
    OP_LRN,
    OP_CONCAT,
    OP_FLATTEN,
    OP_GEMM,
    OP_SOFTMAX,
    OP_ADD,
    OP_SUB,
    OP_MUL,
    OP_BN,
    OP_PAD
};

enum { T_INPUT, T_CONST, T_VALUE };

typedef struct nn_tensor {
    const char *name;           /* borrowed from the model */
    int kind;                   /* T_INPUT, T_CONST, T_VALUE */
    const bs_onnx_tensor *cval; /* T_CONST */
    int producer;               /* op index for T_VALUE */
    int consumers;              /* live ops reading it */
    int consumer;               /* the last such op (the only one when consumers == 1) */
    int requested;              /* a requested output */
} nn_tensor;

typedef struct nn_op {
    int kind;
    const bs_onnx_node *node;
    int in[3]; /* tensor ids, -1 when absent */
    int nin;
    int *cin; /* OP_CONCAT: all inputs */
    int out;
    int dead;
    /* Conv / pools */
    int64_t kernel[2], stride[2], dil[2], pad_l[2], pad_r[2];
    int auto_pad; /* 0 NOTSET/VALID-with-pads, 1 SAME_UPPER, 2 SAME_LOWER, 3 VALID */
    int64_t group;
    int ceil_mode, count_include_pad;
    int relu; /* fused Relu post-op */
    /* LRN */
    int64_t size;
    float alpha, beta, bias;
    /* Concat / Flatten / Softmax */
    int64_t axis;
    int softmax_2d; /* opset < 13 semantics: coerce to 2D at axis */
    /* Gemm: weights [O,K] and bias [O] prepared at load; BN: scale/shift/mean/var */
    const bs_onnx_tensor *w, *b, *mean, *var, *scaleshift;
    float eps;
    /* Pad */
    int64_t pads[2 * MAXD];
    float pad_value;
} nn_op;

struct nn_plan;

struct bs_engine {
    bs_onnx_model *model;
    nn_tensor *tensors;
    size_t n_tensors, cap_tensors;
    int *tindex; /* open-addressing hash: name -> tensor id (+1), 0 = empty */
    size_t tindex_cap;
    nn_op *ops;
    size_t n_ops;
    int input; /* tensor id */
    int *outputs;
    char **output_names;
    size_t n_outputs;
    bs_onnx_tensor **owned; /* constants made at load (folded weights, Constant nodes) */
    size_t n_owned, cap_owned;
    /* oneDNN */
    dnnl_engine_t eng;
    dnnl_stream_t stream;
    struct wcache *wcache; /* constants reordered into primitive-preferred layouts */
    size_t n_wcache, cap_wcache;
    struct nn_plan *plans[4];
    struct nn_plan *current;
};

/* graph.c */
int bs_nn_graph_prepare(bs_engine *e, const char *const *outputs, size_t n_outputs);
int bs_nn_tensor_find(const bs_engine *e, const char *name);
bs_onnx_tensor *bs_nn_owned_tensor(bs_engine *e, int ndim, const int64_t *dims, const char *name);

/* plan.c */
struct nn_plan *bs_nn_plan_build(bs_engine *e, int ndim, const int64_t *shape, int threads);
void bs_nn_plan_free(struct nn_plan *p);
int bs_nn_plan_run(bs_engine *e, struct nn_plan *p, const float *input);
int bs_nn_plan_matches(const struct nn_plan *p, int ndim, const int64_t *shape, int threads);
const float *bs_nn_plan_output(const struct nn_plan *p, size_t i, int *ndim, int64_t *shape);
void bs_nn_wcache_free(bs_engine *e);

#endif
