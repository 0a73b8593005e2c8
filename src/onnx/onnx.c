/* onnx.c — ModelProto (protobuf-c) -> bs_onnx_model, with every untrusted field checked.
 * See onnx.h for the guarantees. Not for: operator semantics (src/nn). */
#include "onnx.h"

#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/io.h"
#include "onnx.pb-c.h"

/* Nesting limit for the recursive parts of the schema (subgraphs, nested types). protobuf-c
 * recurses once per level, so a hostile file could otherwise exhaust the stack. */
#define MAX_NESTING 32
/* Largest declared dimension we accept anywhere (value_info, initializers). */
#define MAX_DIM ((int64_t)1 << 31)

/* ---- a schema-aware nesting check on the raw wire format, run before protobuf-c ---- */

enum {
    M_NONE,
    M_MODEL,
    M_GRAPH,
    M_NODE,
    M_ATTR,
    M_VALUEINFO,
    M_TYPE,
    M_TYPE_ELEM,
    M_TYPE_MAP,
    M_FUNC,
    M_TRAIN
};

/* Which fields of which message lead (possibly) back into a recursive message. */
static int child_kind(int kind, uint64_t field) {
    switch (kind) {
        case M_MODEL:
            return field == 7 ? M_GRAPH : field == 20 ? M_TRAIN : field == 25 ? M_FUNC : M_NONE;
        case M_TRAIN: return (field == 1 || field == 3) ? M_GRAPH : M_NONE;
        case M_GRAPH:
            return field == 1                                    ? M_NODE
                   : (field == 11 || field == 12 || field == 13) ? M_VALUEINFO
                                                                 : M_NONE;
        case M_FUNC: return field == 7 ? M_NODE : M_NONE;
        case M_NODE: return field == 5 ? M_ATTR : M_NONE;
        case M_ATTR:
            return (field == 6 || field == 11)    ? M_GRAPH
                   : (field == 14 || field == 15) ? M_TYPE
                                                  : M_NONE;
        case M_VALUEINFO: return field == 2 ? M_TYPE : M_NONE;
        case M_TYPE:
            return (field == 4 || field == 9) ? M_TYPE_ELEM : field == 5 ? M_TYPE_MAP : M_NONE;
        case M_TYPE_ELEM: return field == 1 ? M_TYPE : M_NONE;
        case M_TYPE_MAP: return field == 2 ? M_TYPE : M_NONE;
        default: return M_NONE;
    }
}

static int read_varint(const unsigned char *p, size_t len, size_t *pos, uint64_t *v) {
    uint64_t r = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (*pos >= len) return -1;
        unsigned char b = p[(*pos)++];
        r |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = r;
            return 0;
        }
    }
    return -1;
}

/* Returns -1 only when nesting is too deep; wire errors are left to protobuf-c. */
static int check_nesting(const unsigned char *p, size_t len, int kind, int depth) {
    if (depth > MAX_NESTING) return -1;
    size_t pos = 0;
    while (pos < len) {
        uint64_t key, v;
        if (read_varint(p, len, &pos, &key)) return 0;
        switch (key & 7) {
            case 0:
                if (read_varint(p, len, &pos, &v)) return 0;
                break;
            case 1:
                if (len - pos < 8) return 0;
                pos += 8;
                break;
            case 5:
                if (len - pos < 4) return 0;
                pos += 4;
                break;
            case 2: {
                if (read_varint(p, len, &pos, &v) || v > len - pos) return 0;
                int child = child_kind(kind, key >> 3);
                if (child != M_NONE && check_nesting(p + pos, (size_t)v, child, depth + 1))
                    return -1;
                pos += (size_t)v;
                break;
            }
            default: return 0;
        }
    }
    return 0;
}

/* ---- helpers ---- */

static char *dup_str(const char *s) { return bs_strdup(s ? s : ""); }

void bs_onnx_tensor_clear(bs_onnx_tensor *t) {
    if (!t) return;
    free(t->name);
    free(t->data);
    memset(t, 0, sizeof *t);
}

static void attr_clear(bs_onnx_attr *a) {
    free(a->name);
    free(a->s);
    free(a->floats);
    free(a->ints);
    if (a->t) {
        bs_onnx_tensor_clear(a->t);
        free(a->t);
    }
}

static void value_clear(bs_onnx_value *v) { free(v->name); }

void bs_onnx_free(bs_onnx_model *m) {
    if (!m) return;
    for (size_t i = 0; i < m->n_nodes; i++) {
        bs_onnx_node *n = &m->nodes[i];
        free(n->name);
        free(n->op_type);
        for (size_t j = 0; j < n->n_inputs; j++) free(n->inputs[j]);
        for (size_t j = 0; j < n->n_outputs; j++) free(n->outputs[j]);
        for (size_t j = 0; j < n->n_attrs; j++) attr_clear(&n->attrs[j]);
        free(n->inputs);
        free(n->outputs);
        free(n->attrs);
    }
    for (size_t i = 0; i < m->n_inits; i++) bs_onnx_tensor_clear(&m->inits[i]);
    for (size_t i = 0; i < m->n_inputs; i++) value_clear(&m->inputs[i]);
    for (size_t i = 0; i < m->n_outputs; i++) value_clear(&m->outputs[i]);
    for (size_t i = 0; i < m->n_value_info; i++) value_clear(&m->value_info[i]);
    for (size_t i = 0; i < m->n_meta; i++) {
        free(m->meta_keys[i]);
        free(m->meta_values[i]);
    }
    free(m->nodes);
    free(m->inits);
    free(m->inputs);
    free(m->outputs);
    free(m->value_info);
    free(m->meta_keys);
    free(m->meta_values);
    free(m->path);
    free(m);
}

const char *bs_onnx_meta(const bs_onnx_model *m, const char *key) {
    for (size_t i = 0; i < m->n_meta; i++)
        if (strcmp(m->meta_keys[i], key) == 0) return m->meta_values[i];
    return NULL;
}

const bs_onnx_attr *bs_onnx_attr_find(const bs_onnx_node *n, const char *name) {
    for (size_t i = 0; i < n->n_attrs; i++)
        if (strcmp(n->attrs[i].name, name) == 0) return &n->attrs[i];
    return NULL;
}

bs_onnx_tensor *bs_onnx_init_find(const bs_onnx_model *m, const char *name) {
    for (size_t i = 0; i < m->n_inits; i++)
        if (strcmp(m->inits[i].name, name) == 0) return &m->inits[i];
    return NULL;
}

/* ---- tensors ---- */

static const char *dtype_name(int32_t t) {
    static const char *names[] = {"UNDEFINED",  "FLOAT",   "UINT8",  "INT8",   "UINT16",
                                  "INT16",      "INT32",   "INT64",  "STRING", "BOOL",
                                  "FLOAT16",    "DOUBLE",  "UINT32", "UINT64", "COMPLEX64",
                                  "COMPLEX128", "BFLOAT16"};
    return (t >= 0 && t < (int32_t)(sizeof names / sizeof names[0])) ? names[t] : "unknown";
}

/* Convert a TensorProto. `what` names it in messages. When `steal` is set, raw_data buffers
 * are taken over (protobuf-c mallocs each bytes field separately) to avoid a copy. */
/* The payload of a tensor holds exactly `count` elements of esz bytes: in raw_data when it is
 * present, else in the typed field (typed values). */
static int check_payload(const char *what, const char *tname, size_t count, size_t esz, int has_raw,
                         size_t raw_len, size_t typed) {
    size_t bytes;
    if (bs_mul_size(count, esz, &bytes)) return bs_error("%s '%s' is too large", what, tname);
    if (has_raw && raw_len != bytes)
        return bs_error("%s '%s' has %zu bytes of raw_data, dims say %zu", what, tname, raw_len,
                        bytes);
    if (!has_raw && typed != count)
        return bs_error("%s '%s' has %zu values, dims say %zu", what, tname, typed, count);
    return 0;
}

/* A FLOAT (1) or DOUBLE (11) tensor's values as float, from raw bytes or the typed field (the
 * sizes were checked by check_payload). Raw float32 bytes are taken over, not copied. */
static int float_values(Onnx__TensorProto *tp, int32_t dt, size_t count, int has_raw,
                        bs_onnx_tensor *out) {
    if (has_raw && dt == 1) {
        /* Take the buffer over: protobuf-c allocated it with malloc, aligned for float. */
        out->data = tp->raw_data.data;
        tp->raw_data.data = NULL;
        tp->raw_data.len = 0;
        tp->has_raw_data = 0;
    } else {
        float *f = bs_malloc(count * sizeof(float));
        if (!f) return -1;
        for (size_t i = 0; i < count; i++) {
            if (dt == 1)
                f[i] = tp->float_data[i];
            else {
                double d;
                if (has_raw)
                    memcpy(&d, tp->raw_data.data + 8 * i, 8);
                else
                    d = tp->double_data[i];
                f[i] = (float)d;
            }
        }
        out->data = f;
    }
    return 0;
}

/* An INT64 (7) or INT32 (6) tensor's values as int64 (sizes checked by check_payload). */
static int int64_values(const Onnx__TensorProto *tp, int32_t dt, size_t count, int has_raw,
                        bs_onnx_tensor *out) {
    int64_t *v = bs_malloc(count * sizeof(int64_t));
    if (!v) return -1;
    for (size_t i = 0; i < count; i++) {
        if (has_raw && dt == 7)
            memcpy(&v[i], tp->raw_data.data + 8 * i, 8);
        else if (has_raw) {
            int32_t x;
            memcpy(&x, tp->raw_data.data + 4 * i, 4);
            v[i] = x;
        } else
            v[i] = dt == 7 ? tp->int64_data[i] : tp->int32_data[i];
    }
    out->data = v;
    return 0;
}

static int convert_tensor(Onnx__TensorProto *tp, const char *what, bs_onnx_tensor *out) {
    memset(out, 0, sizeof *out);
    const char *tname = tp->name ? tp->name : "";
    if ((tp->has_data_location &&
         tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL) ||
        tp->n_external_data > 0)
        return bs_error(
            "%s '%s' keeps its data in an external file; blastscan reads self-contained "
            "models only (re-save with onnx.save_model(m, path, save_as_external_data=False))",
            what, tname);
    if (tp->segment) return bs_error("%s '%s' is segmented, which is not supported", what, tname);
    if (tp->n_dims > BS_ONNX_MAX_DIMS)
        return bs_error("%s '%s' has %zu dimensions (at most %d supported)", what, tname,
                        tp->n_dims, BS_ONNX_MAX_DIMS);
    int32_t dt = tp->has_data_type ? tp->data_type : 0;
    size_t count = 1;
    for (size_t i = 0; i < tp->n_dims; i++) {
        if (tp->dims[i] < 0 || tp->dims[i] > MAX_DIM)
            return bs_error("%s '%s' has invalid dimension %lld", what, tname,
                            (long long)tp->dims[i]);
        if (bs_mul_size(count, (size_t)tp->dims[i], &count))
            return bs_error("%s '%s' has too many elements", what, tname);
        out->dims[i] = tp->dims[i];
    }
    out->ndim = (int)tp->n_dims;
    out->count = count;
    size_t raw_len = tp->has_raw_data ? tp->raw_data.len : 0;
    int has_raw = tp->has_raw_data && (tp->raw_data.data != NULL || raw_len == 0);
    if (dt == 1 || dt == 11) { /* FLOAT, DOUBLE -> float */
        size_t esz = dt == 1 ? 4 : 8;
        size_t typed = dt == 1 ? tp->n_float_data : tp->n_double_data;
        if (check_payload(what, tname, count, esz, has_raw, raw_len, typed)) return -1;
        out->dtype = BS_ONNX_FLOAT;
        if (count && float_values(tp, dt, count, has_raw, out)) return -1;
    } else if (dt == 7 || dt == 6) { /* INT64, INT32 -> int64 */
        size_t esz = dt == 7 ? 8 : 4;
        size_t typed = dt == 7 ? tp->n_int64_data : tp->n_int32_data;
        if (check_payload(what, tname, count, esz, has_raw, raw_len, typed)) return -1;
        out->dtype = BS_ONNX_INT64;
        if (count && int64_values(tp, dt, count, has_raw, out)) return -1;
    } else {
        return bs_error(
            "%s '%s' has element type %s (%d); only float32/float64/int32/int64 are supported",
            what, tname, dtype_name(dt), (int)dt);
    }
    out->name = dup_str(tname);
    if (!out->name) {
        bs_onnx_tensor_clear(out);
        return -1;
    }
    return 0;
}

static int convert_value(const Onnx__ValueInfoProto *vi, const char *what, bs_onnx_value *out) {
    memset(out, 0, sizeof *out);
    out->ndim = -1;
    if (!vi->name || !*vi->name) return bs_error("a %s has no name", what);
    const Onnx__TypeProto *tp = vi->type;
    if (tp && tp->value_case == ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE && tp->tensor_type) {
        const Onnx__TypeProto__Tensor *tt = tp->tensor_type;
        out->dtype = tt->has_elem_type ? tt->elem_type : 0;
        if (tt->shape) {
            if (tt->shape->n_dim > BS_ONNX_MAX_DIMS)
                return bs_error("%s '%s' has %zu dimensions (at most %d supported)", what, vi->name,
                                tt->shape->n_dim, BS_ONNX_MAX_DIMS);
            out->ndim = (int)tt->shape->n_dim;
            for (size_t i = 0; i < tt->shape->n_dim; i++) {
                const Onnx__TensorShapeProto__Dimension *d = tt->shape->dim[i];
                out->dims[i] = -1;
                if (d && d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE) {
                    if (d->dim_value < 0 || d->dim_value > MAX_DIM)
                        return bs_error("%s '%s' declares invalid dimension %lld", what, vi->name,
                                        (long long)d->dim_value);
                    out->dims[i] = d->dim_value;
                }
            }
        }
    } else if (tp && tp->value_case != ONNX__TYPE_PROTO__VALUE__NOT_SET) {
        return bs_error(
            "%s '%s' is not a tensor (sequence, map and optional values are not supported)", what,
            vi->name);
    }
    out->name = bs_strdup(vi->name);
    return out->name ? 0 : -1;
}

static int convert_attr(const Onnx__AttributeProto *ap, const char *node, bs_onnx_attr *out) {
    memset(out, 0, sizeof *out);
    if (!ap->name || !*ap->name) return bs_error("node '%s' has an attribute without a name", node);
    if (ap->ref_attr_name && *ap->ref_attr_name)
        return bs_error("node '%s' attribute '%s' refers to a function attribute", node, ap->name);
    out->name = bs_strdup(ap->name);
    if (!out->name) return -1;
    int type = ap->has_type ? (int)ap->type : 0;
    if (type == 0) { /* IR < 0.0.2 heuristics: infer from which field is present */
        if (ap->has_f)
            type = BS_ONNX_ATTR_FLOAT;
        else if (ap->has_i)
            type = BS_ONNX_ATTR_INT;
        else if (ap->has_s)
            type = BS_ONNX_ATTR_STRING;
        else if (ap->t)
            type = BS_ONNX_ATTR_TENSOR;
        else if (ap->n_floats)
            type = BS_ONNX_ATTR_FLOATS;
        else if (ap->n_ints)
            type = BS_ONNX_ATTR_INTS;
        else if (ap->n_strings)
            type = BS_ONNX_ATTR_STRINGS;
    }
    out->type = type;
    switch (type) {
        case BS_ONNX_ATTR_FLOAT: out->f = ap->f; break;
        case BS_ONNX_ATTR_INT: out->i = ap->i; break;
        case BS_ONNX_ATTR_STRING: {
            out->s = bs_malloc(ap->s.len + 1);
            if (!out->s) return -1;
            if (ap->s.len) memcpy(out->s, ap->s.data, ap->s.len);
            out->s[ap->s.len] = 0;
            if (strlen(out->s) != ap->s.len)
                return bs_error("node '%s' attribute '%s' contains a NUL byte", node, ap->name);
            break;
        }
        case BS_ONNX_ATTR_TENSOR:
            if (!ap->t)
                return bs_error("node '%s' attribute '%s' has type TENSOR but no tensor", node,
                                ap->name);
            out->t = bs_calloc(1, sizeof *out->t);
            if (!out->t) return -1;
            if (convert_tensor(ap->t, "attribute tensor", out->t))
                return bs_error_prefix("node '%s' attribute '%s': ", node, ap->name);
            break;
        case BS_ONNX_ATTR_FLOATS:
            out->n = ap->n_floats;
            if (out->n) {
                out->floats = bs_malloc(out->n * sizeof(float));
                if (!out->floats) return -1;
                memcpy(out->floats, ap->floats, out->n * sizeof(float));
            }
            break;
        case BS_ONNX_ATTR_INTS:
            out->n = ap->n_ints;
            if (out->n) {
                out->ints = bs_malloc(out->n * sizeof(int64_t));
                if (!out->ints) return -1;
                memcpy(out->ints, ap->ints, out->n * sizeof(int64_t));
            }
            break;
        case BS_ONNX_ATTR_STRINGS: out->n = 0; break; /* kept as a type marker only */
        default:
            return bs_error(
                "node '%s' attribute '%s' has type %d (graphs, sparse tensors and type protos are "
                "not supported)",
                node, ap->name, type);
    }
    return 0;
}

/* ---- name table: open addressing over the distinct tensor names ---- */

typedef struct {
    const char **keys;
    int *vals; /* producer: >= 0 node index, -1 initializer, -2 graph input */
    size_t cap;
} name_map;

static uint64_t hash_str(const char *s) {
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static int map_init(name_map *m, size_t n) {
    m->cap = 16;
    while (m->cap < 2 * n + 16) m->cap *= 2;
    m->keys = bs_calloc(m->cap, sizeof *m->keys);
    m->vals = bs_calloc(m->cap, sizeof *m->vals);
    return (m->keys && m->vals) ? 0 : -1;
}

static void map_free(name_map *m) {
    free(m->keys);
    free(m->vals);
}

/* Slot for key: existing or the empty one where it would go. */
static size_t map_slot(const name_map *m, const char *key) {
    size_t i = (size_t)hash_str(key) & (m->cap - 1);
    while (m->keys[i] && strcmp(m->keys[i], key) != 0) i = (i + 1) & (m->cap - 1);
    return i;
}

static int map_get(const name_map *m, const char *key, int *val) {
    size_t i = map_slot(m, key);
    if (!m->keys[i]) return -1;
    *val = m->vals[i];
    return 0;
}

/* ---- the model, one part at a time (in the order errors are reported) ---- */

/* The default-domain opset, which decides the operator semantics. */
static int convert_opset(const Onnx__ModelProto *mp, bs_onnx_model *m) {
    int have_opset = 0;
    for (size_t i = 0; i < mp->n_opset_import; i++) {
        const Onnx__OperatorSetIdProto *os = mp->opset_import[i];
        if (!os) continue;
        if (!os->domain || !*os->domain || strcmp(os->domain, "ai.onnx") == 0) {
            m->opset = os->has_version ? os->version : 0;
            have_opset = 1;
        }
    }
    if (!have_opset) {
        if (mp->n_opset_import) return bs_error("no opset_import for the default ONNX domain");
        m->opset = 1; /* IR version 2 and earlier had no opset_import */
    }
    if (m->opset < BS_ONNX_OPSET_MIN || m->opset > BS_ONNX_OPSET_MAX)
        return bs_error("opset %lld is not supported (blastscan reads opsets %d-%d)",
                        (long long)m->opset, BS_ONNX_OPSET_MIN, BS_ONNX_OPSET_MAX);
    return 0;
}

static int convert_metadata(const Onnx__ModelProto *mp, bs_onnx_model *m) {
    if (!mp->n_metadata_props) return 0;
    m->meta_keys = bs_calloc(mp->n_metadata_props, sizeof(char *));
    m->meta_values = bs_calloc(mp->n_metadata_props, sizeof(char *));
    if (!m->meta_keys || !m->meta_values) return -1;
    for (size_t i = 0; i < mp->n_metadata_props; i++) {
        const Onnx__StringStringEntryProto *e = mp->metadata_props[i];
        if (!e) continue;
        m->meta_keys[m->n_meta] = dup_str(e->key);
        m->meta_values[m->n_meta] = dup_str(e->value);
        m->n_meta++;
        if (!m->meta_keys[m->n_meta - 1] || !m->meta_values[m->n_meta - 1]) return -1;
    }
    return 0;
}

static int convert_initializers(const Onnx__GraphProto *g, bs_onnx_model *m) {
    if (g->n_initializer) {
        m->inits = bs_calloc(g->n_initializer, sizeof *m->inits);
        if (!m->inits) return -1;
    }
    for (size_t i = 0; i < g->n_initializer; i++) {
        if (!g->initializer[i]->name || !*g->initializer[i]->name)
            return bs_error("initializer %zu has no name", i);
        if (convert_tensor(g->initializer[i], "initializer", &m->inits[i])) return -1;
        m->n_inits++;
    }
    return 0;
}

static int register_initializers(name_map *map, const bs_onnx_model *m) {
    for (size_t i = 0; i < m->n_inits; i++) {
        size_t s = map_slot(map, m->inits[i].name);
        if (map->keys[s]) return bs_error("initializer '%s' is defined twice", m->inits[i].name);
        map->keys[s] = m->inits[i].name;
        map->vals[s] = -1;
    }
    return 0;
}

/* Graph inputs, skipping those that are initializers (IR < 4 lists them as inputs). */
static int convert_inputs(const Onnx__GraphProto *g, name_map *map, bs_onnx_model *m) {
    if (g->n_input) {
        m->inputs = bs_calloc(g->n_input, sizeof *m->inputs);
        if (!m->inputs) return -1;
    }
    for (size_t i = 0; i < g->n_input; i++) {
        bs_onnx_value v;
        if (convert_value(g->input[i], "graph input", &v)) return -1;
        size_t s = map_slot(map, v.name);
        if (map->keys[s]) {
            int was = map->vals[s];
            value_clear(&v);
            if (was == -1) continue; /* initializer listed as an input */
            return bs_error("graph input '%s' is listed twice", map->keys[s]);
        }
        m->inputs[m->n_inputs++] = v;
        map->keys[s] = v.name;
        map->vals[s] = -2;
    }
    return 0;
}

/* One node's name, operator, tensor names and attributes. n starts zeroed; its counts grow
 * with what is converted, so bs_onnx_free releases a half-converted node. */
static int convert_node(const Onnx__NodeProto *np, size_t i, bs_onnx_node *n) {
    n->name = np->name && *np->name ? bs_strdup(np->name) : bs_strfmt("#%zu", i);
    n->op_type = dup_str(np->op_type);
    if (!n->name || !n->op_type) return -1;
    if (!*n->op_type) return bs_error("node '%s' has no op_type", n->name);
    if (np->domain && *np->domain && strcmp(np->domain, "ai.onnx") != 0)
        return bs_error("node '%s' uses operator %s from domain '%s'; only the default ONNX domain "
                        "is supported",
                        n->name, n->op_type, np->domain);
    if (np->n_input) n->inputs = bs_calloc(np->n_input, sizeof(char *));
    if (np->n_output) n->outputs = bs_calloc(np->n_output, sizeof(char *));
    if (np->n_attribute) n->attrs = bs_calloc(np->n_attribute, sizeof *n->attrs);
    if ((np->n_input && !n->inputs) || (np->n_output && !n->outputs) ||
        (np->n_attribute && !n->attrs))
        return -1;
    for (size_t j = 0; j < np->n_input; j++, n->n_inputs++)
        if (!(n->inputs[j] = dup_str(np->input[j]))) return -1;
    for (size_t j = 0; j < np->n_output; j++, n->n_outputs++)
        if (!(n->outputs[j] = dup_str(np->output[j]))) return -1;
    for (size_t j = 0; j < np->n_attribute; j++) {
        n->n_attrs++;
        if (convert_attr(np->attribute[j], n->name, &n->attrs[j])) return -1;
        for (size_t k = 0; k < j; k++)
            if (strcmp(n->attrs[k].name, n->attrs[j].name) == 0)
                return bs_error("node '%s' has attribute '%s' twice", n->name, n->attrs[j].name);
    }
    return 0;
}

/* Registers each output of node i with its producer; a tensor has one producer. */
static int register_outputs(name_map *map, const bs_onnx_node *n, size_t i) {
    for (size_t j = 0; j < n->n_outputs; j++) {
        if (!*n->outputs[j]) continue;
        size_t s = map_slot(map, n->outputs[j]);
        if (map->keys[s])
            return bs_error("tensor '%s' is produced twice (node '%s' and %s)", n->outputs[j],
                            n->name,
                            map->vals[s] >= 0    ? "another node"
                            : map->vals[s] == -1 ? "an initializer"
                                                 : "a graph input");
        map->keys[s] = n->outputs[j];
        map->vals[s] = (int)i;
    }
    return 0;
}

/* Nodes in file order, into m->nodes (all g->n_node of them, zeroed until converted, so that
 * bs_onnx_free releases them whatever fails). */
static int convert_nodes(const Onnx__GraphProto *g, name_map *map, bs_onnx_model *m) {
    if (!g->n_node) return 0;
    m->nodes = bs_calloc(g->n_node, sizeof *m->nodes);
    if (!m->nodes) return -1;
    m->n_nodes = g->n_node;
    for (size_t i = 0; i < g->n_node; i++)
        if (convert_node(g->node[i], i, &m->nodes[i]) || register_outputs(map, &m->nodes[i], i))
            return -1;
    return 0;
}

/* Edges producer node -> consumer node in compressed rows: the consumers of node p are
 * edges[edge_start[p] .. edge_start[p + 1]); indeg counts each node's producers. Inputs that
 * nothing provides are errors. */
static int build_edges(const bs_onnx_node *nodes, size_t nn, const name_map *map,
                       size_t *edge_start, size_t **edges_out, int *indeg) {
    size_t n_edges = 0;
    for (size_t i = 0; i < nn; i++) {
        for (size_t j = 0; j < nodes[i].n_inputs; j++) {
            const char *in = nodes[i].inputs[j];
            if (!*in) continue;
            int p;
            if (map_get(map, in, &p))
                return bs_error("node '%s' (%s) reads tensor '%s', which no node, initializer or "
                                "graph input provides",
                                nodes[i].name, nodes[i].op_type, in);
            if (p >= 0) {
                edge_start[p + 1]++;
                n_edges++;
            }
        }
    }
    for (size_t i = 0; i < nn; i++) edge_start[i + 1] += edge_start[i];
    size_t *edges = bs_calloc(n_edges + 1, sizeof *edges);
    size_t *fill = bs_calloc(nn + 1, sizeof *fill);
    if (!edges || !fill) {
        free(edges), free(fill);
        return -1;
    }
    for (size_t i = 0; i < nn; i++) {
        for (size_t j = 0; j < nodes[i].n_inputs; j++) {
            int p;
            if (!*nodes[i].inputs[j] || map_get(map, nodes[i].inputs[j], &p) || p < 0) continue;
            edges[edge_start[p] + fill[p]++] = i;
            indeg[i]++;
        }
    }
    free(fill);
    *edges_out = edges;
    return 0;
}

/* order: the nodes in a topological order, by Kahn's algorithm, stable (file order among
 * ready nodes). A cycle is an error. */
static int topological_order(const bs_onnx_node *nodes, size_t nn, const name_map *map,
                             int *order) {
    int *indeg = bs_calloc(nn + 1, sizeof *indeg);
    size_t *edge_start = bs_calloc(nn + 2, sizeof *edge_start), *edges = NULL;
    int rc = (indeg && edge_start) ? build_edges(nodes, nn, map, edge_start, &edges, indeg) : -1;
    size_t head = 0, tail = 0;
    if (rc == 0) {
        for (size_t i = 0; i < nn; i++)
            if (!indeg[i]) order[tail++] = (int)i;
        while (head < tail) {
            int u = order[head++];
            for (size_t e = edge_start[u]; e < edge_start[u + 1]; e++)
                if (--indeg[edges[e]] == 0) order[tail++] = (int)edges[e];
        }
    }
    for (size_t i = 0; rc == 0 && tail != nn && i < nn; i++)
        if (indeg[i])
            rc = bs_error("the graph has a cycle (node '%s', %s, is on or after it)", nodes[i].name,
                          nodes[i].op_type);
    free(indeg);
    free(edge_start);
    free(edges);
    return rc;
}

/* Graph outputs, each produced by something. */
static int convert_outputs(const Onnx__GraphProto *g, const name_map *map, bs_onnx_model *m) {
    if (!g->n_output) return bs_error("the graph has no outputs");
    m->outputs = bs_calloc(g->n_output, sizeof *m->outputs);
    if (!m->outputs) return -1;
    for (size_t i = 0; i < g->n_output; i++) {
        if (convert_value(g->output[i], "graph output", &m->outputs[i])) return -1;
        m->n_outputs++;
        int p;
        if (map_get(map, m->outputs[i].name, &p))
            return bs_error("graph output '%s' is not produced by any node", m->outputs[i].name);
    }
    return 0;
}

/* The optional value_info shapes of intermediate tensors. */
static int convert_value_info(const Onnx__GraphProto *g, bs_onnx_model *m) {
    if (g->n_value_info) {
        m->value_info = bs_calloc(g->n_value_info, sizeof *m->value_info);
        if (!m->value_info) return -1;
    }
    for (size_t i = 0; i < g->n_value_info; i++) {
        if (convert_value(g->value_info[i], "value_info", &m->value_info[i])) return -1;
        m->n_value_info++;
    }
    return 0;
}

/* Puts m->nodes into the order given (a permutation of 0..n_nodes-1). */
static int reorder_nodes(bs_onnx_model *m, const int *order) {
    if (!m->n_nodes) return 0;
    bs_onnx_node *sorted = bs_calloc(m->n_nodes, sizeof *sorted);
    if (!sorted) return -1;
    for (size_t i = 0; i < m->n_nodes; i++) sorted[i] = m->nodes[order[i]];
    free(m->nodes);
    m->nodes = sorted;
    return 0;
}

/* On failure m holds what was converted; the caller frees it with bs_onnx_free. */
static int convert_model(Onnx__ModelProto *mp, bs_onnx_model *m) {
    m->ir_version = mp->has_ir_version ? mp->ir_version : 0;
    if (convert_opset(mp, m)) return -1;
    const Onnx__GraphProto *g = mp->graph;
    if (!g) return bs_error("the model has no graph");
    if (g->n_sparse_initializer) return bs_error("sparse initializers are not supported");
    if (convert_metadata(mp, m) || convert_initializers(g, m)) return -1;
    if (g->n_node > BS_ONNX_MAX_NODES)
        return bs_error("the graph has %zu nodes (at most %d supported)", g->n_node,
                        BS_ONNX_MAX_NODES);

    size_t total_names = g->n_initializer + g->n_input;
    for (size_t i = 0; i < g->n_node; i++) total_names += g->node[i]->n_output;
    name_map map;
    int *order = NULL;
    int rc = map_init(&map, total_names);
    if (rc == 0) rc = register_initializers(&map, m);
    if (rc == 0) rc = convert_inputs(g, &map, m);
    if (rc == 0) rc = convert_nodes(g, &map, m);
    if (rc == 0) rc = (order = bs_calloc(g->n_node + 1, sizeof *order)) ? 0 : -1;
    if (rc == 0) rc = topological_order(m->nodes, m->n_nodes, &map, order);
    if (rc == 0) rc = convert_outputs(g, &map, m);
    if (rc == 0) rc = convert_value_info(g, m);
    if (rc == 0) rc = reorder_nodes(m, order);
    free(order);
    map_free(&map);
    return rc;
}

int bs_onnx_parse(const unsigned char *buf, size_t len, const char *name, bs_onnx_model **out) {
    *out = NULL;
    if (len == 0) return bs_error("%s: empty file, not an ONNX model", name);
    if (check_nesting(buf, len, M_MODEL, 0))
        return bs_error("%s: nesting deeper than %d levels, refused", name, MAX_NESTING);
    Onnx__ModelProto *mp = onnx__model_proto__unpack(NULL, len, buf);
    if (!mp)
        return bs_error(
            "%s: not a valid ONNX model (protobuf parse failed: truncated or corrupt file, "
            "or a field of the wrong type)",
            name);
    bs_onnx_model *m = bs_calloc(1, sizeof *m);
    if (!m) {
        onnx__model_proto__free_unpacked(mp, NULL);
        return -1;
    }
    m->path = bs_strdup(name);
    int rc = m->path ? convert_model(mp, m) : -1;
    onnx__model_proto__free_unpacked(mp, NULL);
    if (rc) {
        bs_error_prefix("%s: ", name);
        bs_onnx_free(m);
        return -1;
    }
    *out = m;
    return 0;
}

int bs_onnx_load(const char *path, bs_onnx_model **out) {
    *out = NULL;
    unsigned char *buf;
    size_t len;
    if (bs_read_file(path, BS_ONNX_MAX_FILE, &buf, &len)) return -1;
    int rc = bs_onnx_parse(buf, len, path, out);
    free(buf);
    return rc;
}
