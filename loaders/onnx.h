/* ONNX model loading: ModelProto -> struct sc_graph.
 *
 * The protobuf-c message is unpacked, copied into runtime structures and
 * freed; nothing of protobuf survives the call. Every failure names the file
 * and the tensor, node or attribute concerned:
 *   SC_ERR_FORMAT       truncated/garbage file, wrong field types, negative
 *                       or overflowing dims, data size not matching dims,
 *                       external data outside the model's directory;
 *   SC_ERR_UNSUPPORTED  string tensors, sequence/map inputs, sparse formats
 *                       it cannot densify;
 *   SC_ERR_NOMEM        sizes beyond SC_MAX_TENSOR_SIZE.
 * Structural checks (dangling inputs, cycles) happen in sc_graph_prepare. */
#ifndef SC_LOADERS_ONNX_H
#define SC_LOADERS_ONNX_H

#include <stddef.h>

#include "runtime/graph.h"

/* Largest model file accepted (protobuf's own limit). */
#define SC_ONNX_MAX_FILE_SIZE ((size_t)2 << 30)

/* Loads a model file. External data files are resolved relative to the
 * model's directory and must stay inside it. */
sc_status sc_onnx_load(const char *path, struct sc_graph **out,
                       struct sc_error *err);

/* Loads a model from memory. base_dir (may be NULL: external data refused)
 * resolves external data; `name` labels messages. */
sc_status sc_onnx_load_buffer(const void *data, size_t size,
                              const char *base_dir, const char *name,
                              struct sc_graph **out, struct sc_error *err);

/* Loads a serialized TensorProto (.pb, as in the ONNX test data). *name
 * (optional) receives a copy of the tensor's name, or "" if it has none. */
sc_status sc_onnx_load_tensor(const char *path, struct sc_tensor **out,
                              char **name, struct sc_error *err);

/* Serialises a tensor as a TensorProto file (raw_data). */
sc_status sc_onnx_save_tensor(const char *path, const struct sc_tensor *t,
                              const char *name, struct sc_error *err);

#endif
