#include "tests/support/model_builder.h"

#include <stdlib.h>
#include <string.h>

#include "loaders/file.h"
#include "tests/support/assertions.h"

void sc_test_model_init(struct sc_test_model *b, int64_t opset)
{
  Onnx__ModelProto m = ONNX__MODEL_PROTO__INIT;
  Onnx__GraphProto g = ONNX__GRAPH_PROTO__INIT;
  Onnx__OperatorSetIdProto os = ONNX__OPERATOR_SET_ID_PROTO__INIT;
  memset(b, 0, sizeof *b);
  b->model = m;
  b->graph = g;
  b->opset = os;
  b->opset.domain = "";
  b->opset.has_version = 1;
  b->opset.version = opset;
  b->opsets[0] = &b->opset;
  b->model.has_ir_version = 1;
  b->model.ir_version = 8;
  b->model.n_opset_import = 1;
  b->model.opset_import = b->opsets;
  b->model.graph = &b->graph;
  b->graph.name = "test";
  b->graph.node = b->node_ptrs;
  b->graph.initializer = b->init_ptrs;
  b->graph.input = b->input_ptrs;
  b->graph.output = b->output_ptrs;
}

static Onnx__TypeProto *model_type(struct sc_test_model *b, int elem_type,
                                   int rank, const int64_t *dims)
{
  int k = b->n_types++, i;
  Onnx__TypeProto t = ONNX__TYPE_PROTO__INIT;
  Onnx__TypeProto__Tensor tt = ONNX__TYPE_PROTO__TENSOR__INIT;
  Onnx__TensorShapeProto sh = ONNX__TENSOR_SHAPE_PROTO__INIT;
  b->types[k] = t;
  b->tensor_types[k] = tt;
  b->shapes[k] = sh;
  b->types[k].value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
  b->types[k].tensor_type = &b->tensor_types[k];
  b->tensor_types[k].has_elem_type = 1;
  b->tensor_types[k].elem_type = elem_type;
  b->tensor_types[k].shape = &b->shapes[k];
  b->shapes[k].n_dim = (size_t)rank;
  b->shapes[k].dim = b->dim_ptrs[k];
  for (i = 0; i < rank; i++) {
    Onnx__TensorShapeProto__Dimension d =
        ONNX__TENSOR_SHAPE_PROTO__DIMENSION__INIT;
    b->dims[k][i] = d;
    b->dims[k][i].value_case =
        ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
    b->dims[k][i].dim_value = dims[i];
    b->dim_ptrs[k][i] = &b->dims[k][i];
  }
  return &b->types[k];
}

void sc_test_model_add_input(struct sc_test_model *b, const char *name,
                             int rank, const int64_t *dims)
{
  Onnx__ValueInfoProto vi = ONNX__VALUE_INFO_PROTO__INIT;
  size_t k = b->graph.n_input++;
  b->inputs[k] = vi;
  b->inputs[k].name = (char *)name;
  b->inputs[k].type = model_type(b, 1, rank, dims);
  b->input_ptrs[k] = &b->inputs[k];
}

void sc_test_model_add_output(struct sc_test_model *b, const char *name)
{
  Onnx__ValueInfoProto vi = ONNX__VALUE_INFO_PROTO__INIT;
  size_t k = b->graph.n_output++;
  b->outputs[k] = vi;
  b->outputs[k].name = (char *)name;
  b->output_ptrs[k] = &b->outputs[k];
}

Onnx__NodeProto *sc_test_model_add_node(struct sc_test_model *b, const char *op,
                                        const char *name, char **inputs,
                                        int n_in, char **outputs, int n_out)
{
  Onnx__NodeProto n = ONNX__NODE_PROTO__INIT;
  size_t k = b->graph.n_node++;
  b->nodes[k] = n;
  b->nodes[k].op_type = (char *)op;
  b->nodes[k].name = (char *)name;
  b->nodes[k].input = inputs;
  b->nodes[k].n_input = (size_t)n_in;
  b->nodes[k].output = outputs;
  b->nodes[k].n_output = (size_t)n_out;
  b->node_ptrs[k] = &b->nodes[k];
  return &b->nodes[k];
}

/* An initializer with raw little-endian float data. */
Onnx__TensorProto *
sc_test_model_add_raw_init(struct sc_test_model *b, const char *name, int rank,
                           int64_t *dims, const float *values, size_t n_values)
{
  Onnx__TensorProto t = ONNX__TENSOR_PROTO__INIT;
  size_t k = b->graph.n_initializer++;
  b->inits[k] = t;
  b->inits[k].name = (char *)name;
  b->inits[k].has_data_type = 1;
  b->inits[k].data_type = 1;
  b->inits[k].n_dims = (size_t)rank;
  b->inits[k].dims = dims;
  b->inits[k].has_raw_data = 1;
  b->inits[k].raw_data.len = n_values * sizeof(float);
  b->inits[k].raw_data.data = (uint8_t *)values;
  b->init_ptrs[k] = &b->inits[k];
  return &b->inits[k];
}

/* Serialises the model into dir/name; returns the malloc'ed path. */
char *sc_test_model_write(const char *dir, const char *name,
                          const Onnx__ModelProto *m)
{
  size_t size = onnx__model_proto__get_packed_size(m);
  uint8_t *buf = malloc(size + 1);
  char *path = sc_path_join(dir, name);
  assert_non_null(buf);
  onnx__model_proto__pack(m, buf);
  assert_int_equal(sc_file_write_atomic(path, buf, size, NULL), SC_OK);
  free(buf);
  return path;
}
