/* A small ONNX model assembled with protobuf-c directly, not with the
 * loader under test, and written to a file: for tests that need a model
 * file of their own. Every failure here fails the test. */
#ifndef SC_TESTS_SUPPORT_MODEL_BUILDER_H
#define SC_TESTS_SUPPORT_MODEL_BUILDER_H

#include <stdint.h>

#include "onnx.pb-c.h"

#define SC_TEST_MODEL_MAX_ITEMS 16

/* The model and the storage its protobuf-c structs point into (names and
 * data are the caller's and must outlive the writing). */
struct sc_test_model {
  Onnx__ModelProto model;
  Onnx__GraphProto graph;
  Onnx__OperatorSetIdProto opset;
  Onnx__OperatorSetIdProto *opsets[1];
  Onnx__NodeProto nodes[SC_TEST_MODEL_MAX_ITEMS];
  Onnx__NodeProto *node_ptrs[SC_TEST_MODEL_MAX_ITEMS];
  Onnx__TensorProto inits[SC_TEST_MODEL_MAX_ITEMS];
  Onnx__TensorProto *init_ptrs[SC_TEST_MODEL_MAX_ITEMS];
  Onnx__ValueInfoProto inputs[SC_TEST_MODEL_MAX_ITEMS],
      outputs[SC_TEST_MODEL_MAX_ITEMS];
  Onnx__ValueInfoProto *input_ptrs[SC_TEST_MODEL_MAX_ITEMS],
      *output_ptrs[SC_TEST_MODEL_MAX_ITEMS];
  Onnx__TypeProto types[2 * SC_TEST_MODEL_MAX_ITEMS];
  Onnx__TypeProto__Tensor tensor_types[2 * SC_TEST_MODEL_MAX_ITEMS];
  Onnx__TensorShapeProto shapes[2 * SC_TEST_MODEL_MAX_ITEMS];
  Onnx__TensorShapeProto__Dimension dims[2 * SC_TEST_MODEL_MAX_ITEMS][4];
  Onnx__TensorShapeProto__Dimension *dim_ptrs[2 * SC_TEST_MODEL_MAX_ITEMS][4];
  int n_types;
};

/* An empty graph "test" importing the default domain at `opset`. */
void sc_test_model_init(struct sc_test_model *b, int64_t opset);

/* A float graph input of the given shape. */
void sc_test_model_add_input(struct sc_test_model *b, const char *name,
                             int rank, const int64_t *dims);
void sc_test_model_add_output(struct sc_test_model *b, const char *name);

/* A node of the default domain; its attributes may be added to it. */
Onnx__NodeProto *sc_test_model_add_node(struct sc_test_model *b, const char *op,
                                        const char *name, char **inputs,
                                        int n_in, char **outputs, int n_out);

/* An initializer with raw little-endian float data. */
Onnx__TensorProto *
sc_test_model_add_raw_init(struct sc_test_model *b, const char *name, int rank,
                           int64_t *dims, const float *values, size_t n_values);

/* Serialises m into dir/name; returns the malloc'ed path. */
char *sc_test_model_write(const char *dir, const char *name,
                          const Onnx__ModelProto *m);

#endif
