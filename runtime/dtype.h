/* Element types, numbered exactly as ONNX's TensorProto.DataType, and the
 * conversions between them that kernels share (float16/bfloat16 rounding,
 * generic load/store through double for slow paths). */
#ifndef SC_RUNTIME_DTYPE_H
#define SC_RUNTIME_DTYPE_H

#include <stddef.h>
#include <stdint.h>

enum sc_dtype {
  SC_DTYPE_UNDEFINED = 0,
  SC_DTYPE_FLOAT = 1,
  SC_DTYPE_UINT8 = 2,
  SC_DTYPE_INT8 = 3,
  SC_DTYPE_UINT16 = 4,
  SC_DTYPE_INT16 = 5,
  SC_DTYPE_INT32 = 6,
  SC_DTYPE_INT64 = 7,
  SC_DTYPE_STRING = 8,
  SC_DTYPE_BOOL = 9,
  SC_DTYPE_FLOAT16 = 10,
  SC_DTYPE_DOUBLE = 11,
  SC_DTYPE_UINT32 = 12,
  SC_DTYPE_UINT64 = 13,
  SC_DTYPE_COMPLEX64 = 14,
  SC_DTYPE_COMPLEX128 = 15,
  SC_DTYPE_BFLOAT16 = 16
};

/* Bytes per element; 0 for types the runtime cannot hold (string, complex,
 * undefined, unknown numbers). */
size_t sc_dtype_size(enum sc_dtype dtype);

/* numpy-style name ("float32", "uint8", "bool", ...); "undefined" for 0 and
 * "dtype(N)" style names are never returned: unknown numbers give "unknown". */
const char *sc_dtype_name(enum sc_dtype dtype);

/* Parses a numpy-style or ONNX-style name ("float32", "float", "FLOAT",
 * "int8", "fp16", "bfloat16" ...). Returns 0 on success, -1 if unknown. */
int sc_dtype_from_name(const char *name, enum sc_dtype *out);

int sc_dtype_is_float(enum sc_dtype dtype); /* float16/bfloat16/float/double */
int sc_dtype_is_integer(enum sc_dtype dtype); /* signed or unsigned, not bool */
int sc_dtype_is_signed(enum sc_dtype dtype);  /* signed integers and floats */

/* IEEE binary16 and bfloat16 <-> float, round to nearest even, NaN kept. */
float sc_half_to_float(uint16_t h);
uint16_t sc_float_to_half(float f);
float sc_bfloat16_to_float(uint16_t b);

/* n conversions at once, bit for bit those of the functions above; with
 * F16C where the CPU has it (NaNs go through the scalar functions, so
 * their payloads are kept as those keep them). */
void sc_half_to_float_n(const uint16_t *src, float *dst, int64_t n);
void sc_float_to_half_n(const float *src, uint16_t *dst, int64_t n);
uint16_t sc_float_to_bfloat16(float f);

/* Reads element i of an array of the given dtype as double / writes a
 * double into it with C conversion rules (integers: truncation toward
 * zero, saturated to the type's range; NaN becomes 0; bool: x != 0).
 * Meant for slow generic paths and tests. */
double sc_dtype_load(enum sc_dtype dtype, const void *data, int64_t i);
void sc_dtype_store(enum sc_dtype dtype, void *data, int64_t i, double value);

/* int64 variants, exact for 64-bit integers. */
int64_t sc_dtype_load_i64(enum sc_dtype dtype, const void *data, int64_t i);
void sc_dtype_store_i64(enum sc_dtype dtype, void *data, int64_t i,
                        int64_t value);

#endif
