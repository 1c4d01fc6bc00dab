/* Operator family: quantized (to be implemented). */
#include "runtime/ops/families.h"

const struct sc_op sc_ops_quantized[] = {
    {NULL, NULL, 0, 0, NULL, NULL, NULL, NULL, 0},
};
