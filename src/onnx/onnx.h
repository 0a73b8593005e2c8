/* onnx.h — read an ONNX model file into a clean, validated graph description.
 *
 * The file is untrusted. bs_onnx_load parses the ModelProto with protobuf-c, checks every
 * dimension, byte count and name reference, sorts the nodes topologically (a cycle is an
 * error), copies what the engine needs into the plain structs below and frees the protobuf.
 * After a successful load:
 *   - every node input is "" (omitted optional input), an initializer, a graph input or the
 *     output of exactly one node that comes earlier in `nodes`;
 *   - every graph output is produced by a node, an initializer or a graph input;
 *   - initializers are float32 or int64 with count == product(dims) elements;
 *   - the default-domain opset is in [7, 17] and no node uses another domain.
 * Not for: operator semantics (attribute meaning, shapes): that is the engine's (src/nn). */
#ifndef BS_ONNX_ONNX_H
#define BS_ONNX_ONNX_H

#include <stddef.h>
#include <stdint.h>

#define BS_ONNX_MAX_DIMS 8
#define BS_ONNX_OPSET_MIN 7
#define BS_ONNX_OPSET_MAX 17

/* Element types kept after loading (values are ONNX TensorProto.DataType codes). DOUBLE is
 * converted to FLOAT and INT32 to INT64 on load. */
enum { BS_ONNX_FLOAT = 1, BS_ONNX_INT64 = 7 };

/* Attribute kinds (ONNX AttributeProto.AttributeType codes). */
enum {
    BS_ONNX_ATTR_FLOAT = 1,
    BS_ONNX_ATTR_INT = 2,
    BS_ONNX_ATTR_STRING = 3,
    BS_ONNX_ATTR_TENSOR = 4,
    BS_ONNX_ATTR_FLOATS = 6,
    BS_ONNX_ATTR_INTS = 7,
    BS_ONNX_ATTR_STRINGS = 8
};

typedef struct bs_onnx_tensor {
    char *name;
    int dtype; /* BS_ONNX_FLOAT or BS_ONNX_INT64 */
    int ndim;
    int64_t dims[BS_ONNX_MAX_DIMS];
    size_t count; /* product of dims (1 for a scalar) */
    void *data;   /* float[count] or int64_t[count], malloc'd, owned; NULL when count == 0 */
} bs_onnx_tensor;

typedef struct bs_onnx_attr {
    char *name;
    int type;          /* BS_ONNX_ATTR_* */
    float f;           /* FLOAT */
    int64_t i;         /* INT */
    char *s;           /* STRING (NUL-terminated) */
    size_t n;          /* element count of FLOATS / INTS / STRINGS */
    float *floats;     /* FLOATS */
    int64_t *ints;     /* INTS */
    bs_onnx_tensor *t; /* TENSOR */
} bs_onnx_attr;

typedef struct bs_onnx_node {
    char *name; /* never NULL; "" when the file gives none */
    char *op_type;
    size_t n_inputs, n_outputs, n_attrs;
    char **inputs;  /* "" marks an omitted optional input */
    char **outputs; /* "" marks an unused optional output */
    bs_onnx_attr *attrs;
} bs_onnx_node;

/* A declared value: graph input/output or value_info. dims[i] == -1 when symbolic/unknown;
 * ndim == -1 when the rank is unknown. */
typedef struct bs_onnx_value {
    char *name;
    int dtype; /* ONNX code as declared, 0 if absent */
    int ndim;
    int64_t dims[BS_ONNX_MAX_DIMS];
} bs_onnx_value;

typedef struct bs_onnx_model {
    char *path; /* for messages */
    int64_t ir_version;
    int64_t opset; /* default-domain opset */
    size_t n_nodes, n_inits, n_inputs, n_outputs, n_value_info, n_meta;
    bs_onnx_node *nodes; /* topological order */
    bs_onnx_tensor *inits;
    bs_onnx_value *inputs; /* graph inputs that are not initializers */
    bs_onnx_value *outputs;
    bs_onnx_value *value_info;
    char **meta_keys, **meta_values;
} bs_onnx_model;

/* Most nodes in a graph (the shipped models have 143 and 226). */
#define BS_ONNX_MAX_NODES (1 << 20)
/* Largest model file read (bytes). */
#define BS_ONNX_MAX_FILE ((size_t)2 << 30)

/* Load and validate a model file. On failure returns -1, *out is NULL and bs_error names the
 * file and the reason. */
int bs_onnx_load(const char *path, bs_onnx_model **out);
/* Same from memory; `name` is used in messages. */
int bs_onnx_parse(const unsigned char *buf, size_t len, const char *name, bs_onnx_model **out);
void bs_onnx_free(bs_onnx_model *m);

/* metadata_props value for key, or NULL. */
const char *bs_onnx_meta(const bs_onnx_model *m, const char *key);
const bs_onnx_attr *bs_onnx_attr_find(const bs_onnx_node *n, const char *name);
/* Initializer by name, or NULL. */
bs_onnx_tensor *bs_onnx_init_find(const bs_onnx_model *m, const char *name);
void bs_onnx_tensor_clear(bs_onnx_tensor *t);

#endif
