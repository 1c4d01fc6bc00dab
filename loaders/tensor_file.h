/* Tensor files: numpy .npy (read and write), ONNX TensorProto .pb (via
 * loaders/onnx.h) and raw .bin with a given dtype and shape.
 *
 * Every reader checks the header and the data size against the declared
 * shape before allocating; failures are SC_ERR_FORMAT naming the file. */
#ifndef SC_LOADERS_TENSOR_FILE_H
#define SC_LOADERS_TENSOR_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/tensor.h"

/* Parses .npy bytes (any version, little- or big-endian, C or Fortran
 * order, numeric and bool dtypes). `name` labels messages. */
sc_status sc_npy_parse(const uint8_t *data, size_t size, const char *name,
                       struct sc_tensor **out, struct sc_error *err);
sc_status sc_npy_load(const char *path, struct sc_tensor **out,
                      struct sc_error *err);

/* Serialises to .npy version 1.0 bytes (malloc'ed) / writes a file
 * atomically. float16 is written as '<f2'; bfloat16 has no numpy type and is
 * widened to float32. */
sc_status sc_npy_encode(const struct sc_tensor *t, uint8_t **data, size_t *size,
                        struct sc_error *err);
sc_status sc_npy_save(const char *path, const struct sc_tensor *t,
                      struct sc_error *err);

/* Raw little-endian elements; the file size must match exactly. */
sc_status sc_raw_load(const char *path, enum sc_dtype dtype, int rank,
                      const int64_t *dims, struct sc_tensor **out,
                      struct sc_error *err);

/* Loads by extension: .npy or .pb (TensorProto). Other extensions fail
 * with SC_ERR_FORMAT naming the file. */
sc_status sc_tensor_file_load(const char *path, struct sc_tensor **out,
                              struct sc_error *err);

#endif
