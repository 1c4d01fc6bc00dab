/* onnx_edit: the two model rewrites the benchmark needs (bench/README.md).
 *
 *   onnx_edit mark-outputs IN.onnx OUT.onnx
 *     Adds every node output that is not already a graph output to
 *     graph.output, with no type information (ONNX Runtime infers it). This is
 *     how peers get per-layer tensors: the cost being measured.
 *
 *   onnx_edit upcast-fp16 IN.onnx OUT.onnx
 *     Turns a float16 model into the float32 model with the same weights:
 *     float16 initializers and Constant tensors become float32 (exact),
 *     Cast(to=float16) becomes Cast(to=float) and float16 types in graph
 *     inputs, outputs and value_info become float. Used to build the float
 *     stage of the ISNet chain, whose float32 original is not published in
 *     any npm package.
 *
 * Built by bench/run.sh against the project's protobuf-c code for onnx.proto
 * (build-bench/proto). Exits 0 on success, 1 with a message on stderr
 * naming the file otherwise. Not part of the product. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx.pb-c.h"

enum { ONNX_FLOAT = 1, ONNX_FLOAT16 = 10 };

/* Reads a whole file into a malloc'd buffer. Returns NULL (message printed)
 * on failure; the caller frees the buffer. */
static uint8_t *file_read(const char *path, size_t *size)
{
  FILE *f = fopen(path, "rb");
  uint8_t *data = NULL;
  long length;

  if (!f) {
    fprintf(stderr, "onnx_edit: %s: %s\n", path, strerror(errno));
    return NULL;
  }
  if (fseek(f, 0, SEEK_END) != 0 || (length = ftell(f)) < 0 ||
      fseek(f, 0, SEEK_SET) != 0) {
    fprintf(stderr, "onnx_edit: %s: cannot seek\n", path);
    goto done;
  }
  data = malloc(length ? (size_t)length : 1);
  if (!data) {
    fprintf(stderr, "onnx_edit: %s: out of memory\n", path);
    goto done;
  }
  if (fread(data, 1, (size_t)length, f) != (size_t)length) {
    fprintf(stderr, "onnx_edit: %s: short read\n", path);
    free(data);
    data = NULL;
    goto done;
  }
  *size = (size_t)length;
done:
  fclose(f);
  return data;
}

/* Serialises the model to path. Returns 0, or -1 with a message. */
static int model_write(const Onnx__ModelProto *model, const char *path)
{
  size_t size = onnx__model_proto__get_packed_size(model);
  uint8_t *data = malloc(size ? size : 1);
  FILE *f;
  int rc = -1;

  if (!data) {
    fprintf(stderr, "onnx_edit: %s: out of memory\n", path);
    return -1;
  }
  onnx__model_proto__pack(model, data);
  f = fopen(path, "wb");
  if (!f) {
    fprintf(stderr, "onnx_edit: %s: %s\n", path, strerror(errno));
    goto done;
  }
  if (fwrite(data, 1, size, f) != size || fclose(f) != 0) {
    fprintf(stderr, "onnx_edit: %s: write failed\n", path);
    goto done;
  }
  rc = 0;
done:
  free(data);
  return rc;
}

static int is_graph_output(const Onnx__GraphProto *g, const char *name)
{
  size_t i;
  for (i = 0; i < g->n_output; i++)
    if (g->output[i]->name && strcmp(g->output[i]->name, name) == 0)
      return 1;
  return 0;
}

/* Appends every node output to graph.output. Memory comes from malloc, as
 * protobuf-c's default allocator, so the unpacked message frees it. */
static int mark_outputs(Onnx__GraphProto *g)
{
  size_t i, j, n_new = 0, capacity = g->n_output;
  Onnx__ValueInfoProto **outputs;

  for (i = 0; i < g->n_node; i++)
    capacity += g->node[i]->n_output;
  outputs = realloc(g->output, (capacity ? capacity : 1) * sizeof *outputs);
  if (!outputs)
    return -1;
  g->output = outputs;
  for (i = 0; i < g->n_node; i++) {
    const Onnx__NodeProto *node = g->node[i];
    for (j = 0; j < node->n_output; j++) {
      const char *name = node->output[j];
      Onnx__ValueInfoProto *info;
      if (!name || !name[0] || is_graph_output(g, name))
        continue;
      info = malloc(sizeof *info);
      if (!info)
        return -1;
      onnx__value_info_proto__init(info);
      info->name = strdup(name);
      if (!info->name) {
        free(info);
        return -1;
      }
      g->output[g->n_output++] = info;
      n_new++;
    }
  }
  fprintf(stderr, "onnx_edit: %zu outputs added (%zu in all)\n", n_new,
          g->n_output);
  return 0;
}

/* IEEE binary16 bits to float, exact (subnormals, infinities, NaN). */
static float half_to_float(uint16_t h)
{
  uint32_t sign = (uint32_t)(h >> 15) << 31;
  uint32_t exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff, bits;
  float f;

  if (exponent == 0x1f) {
    bits = sign | 0x7f800000u | (mantissa << 13);
  } else if (exponent == 0) {
    /* zero or subnormal: mantissa * 2^-24, exact in float */
    f = (float)mantissa * 5.9604644775390625e-8f;
    return sign ? -f : f;
  } else {
    bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
  }
  memcpy(&f, &bits, sizeof f);
  return f;
}

static size_t tensor_count(const Onnx__TensorProto *t)
{
  size_t i, n = 1;
  for (i = 0; i < t->n_dims; i++)
    n *= (size_t)(t->dims[i] > 0 ? t->dims[i] : 0);
  return n;
}

/* Converts a float16 tensor (raw_data or int32_data) to float32 raw_data in
 * place. Other tensors are left alone. Returns 0 or -1 (bad size, memory). */
static int tensor_upcast(Onnx__TensorProto *t)
{
  size_t i, n;
  float *values;

  if (!t || t->data_type != ONNX_FLOAT16)
    return 0;
  if (t->n_external_data) {
    fprintf(stderr, "onnx_edit: tensor %s: external data not supported\n",
            t->name ? t->name : "?");
    return -1;
  }
  n = tensor_count(t);
  if (t->has_raw_data ? t->raw_data.len != 2 * n : t->n_int32_data != n) {
    fprintf(stderr, "onnx_edit: tensor %s: size does not match its shape\n",
            t->name ? t->name : "?");
    return -1;
  }
  values = malloc((n ? n : 1) * sizeof *values);
  if (!values)
    return -1;
  for (i = 0; i < n; i++) {
    uint16_t h;
    if (t->has_raw_data)
      h = (uint16_t)(t->raw_data.data[2 * i] |
                     (t->raw_data.data[2 * i + 1] << 8));
    else
      h = (uint16_t)t->int32_data[i];
    values[i] = half_to_float(h);
  }
  free(t->raw_data.data);
  free(t->int32_data);
  t->int32_data = NULL;
  t->n_int32_data = 0;
  t->raw_data.data = (uint8_t *)values;
  t->raw_data.len = n * sizeof *values;
  t->has_raw_data = 1;
  t->data_type = ONNX_FLOAT;
  return 0;
}

static void type_upcast(Onnx__ValueInfoProto *info)
{
  if (info->type &&
      info->type->value_case == ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE &&
      info->type->tensor_type->elem_type == ONNX_FLOAT16)
    info->type->tensor_type->elem_type = ONNX_FLOAT;
}

/* float16 -> float32 everywhere in the graph (see the file comment). */
static int upcast_fp16(Onnx__GraphProto *g)
{
  size_t i, j, n_tensors = 0, n_casts = 0;

  for (i = 0; i < g->n_initializer; i++) {
    n_tensors += g->initializer[i]->data_type == ONNX_FLOAT16;
    if (tensor_upcast(g->initializer[i]))
      return -1;
  }
  for (i = 0; i < g->n_node; i++) {
    Onnx__NodeProto *node = g->node[i];
    if (node->domain && node->domain[0] && strcmp(node->domain, "ai.onnx")) {
      fprintf(stderr, "onnx_edit: node %s: domain %s not handled\n",
              node->name ? node->name : "?", node->domain);
      return -1;
    }
    for (j = 0; j < node->n_attribute; j++) {
      Onnx__AttributeProto *a = node->attribute[j];
      if (a->t) {
        n_tensors += a->t->data_type == ONNX_FLOAT16;
        if (tensor_upcast(a->t))
          return -1;
      }
      if (a->g || a->n_graphs) {
        fprintf(stderr, "onnx_edit: node %s: subgraphs not handled\n",
                node->name ? node->name : "?");
        return -1;
      }
      if (strcmp(node->op_type, "Cast") == 0 && strcmp(a->name, "to") == 0 &&
          a->i == ONNX_FLOAT16) {
        a->i = ONNX_FLOAT;
        n_casts++;
      }
    }
  }
  for (i = 0; i < g->n_input; i++)
    type_upcast(g->input[i]);
  for (i = 0; i < g->n_output; i++)
    type_upcast(g->output[i]);
  for (i = 0; i < g->n_value_info; i++)
    type_upcast(g->value_info[i]);
  fprintf(stderr, "onnx_edit: %zu float16 tensors and %zu casts upcast\n",
          n_tensors, n_casts);
  return 0;
}

static int usage(void)
{
  fprintf(stderr, "usage: onnx_edit mark-outputs|upcast-fp16 IN.onnx "
                  "OUT.onnx\n");
  return 1;
}

int main(int argc, char **argv)
{
  Onnx__ModelProto *model;
  uint8_t *data;
  size_t size = 0;
  int rc = 1;

  if (argc != 4)
    return usage();
  if (strcmp(argv[1], "mark-outputs") && strcmp(argv[1], "upcast-fp16"))
    return usage();
  data = file_read(argv[2], &size);
  if (!data)
    return 1;
  model = onnx__model_proto__unpack(NULL, size, data);
  free(data);
  if (!model || !model->graph) {
    fprintf(stderr, "onnx_edit: %s: not an ONNX model\n", argv[2]);
    goto done;
  }
  if (strcmp(argv[1], "mark-outputs") == 0 ? mark_outputs(model->graph)
                                           : upcast_fp16(model->graph)) {
    fprintf(stderr, "onnx_edit: %s: %s failed\n", argv[2], argv[1]);
    goto done;
  }
  if (model_write(model, argv[3]) == 0)
    rc = 0;
done:
  if (model)
    onnx__model_proto__free_unpacked(model, NULL);
  return rc;
}
