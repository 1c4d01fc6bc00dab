#include <stdlib.h>
#include <string.h>

#include "runtime/op.h"
#include "runtime/ops/families.h"

static const struct sc_op_family families[] = {
#define SC_FAMILY(name) {#name, sc_ops_##name, 0},
    SC_OP_FAMILIES
#undef SC_FAMILY
};

static size_t family_count(const struct sc_op_family *f)
{
  size_t n = 0;
  while (f->ops[n].op_type)
    n++;
  return n;
}

const struct sc_op_family *sc_op_families(size_t *n_families)
{
  static struct sc_op_family resolved[sizeof families / sizeof families[0]];
  static int done;
  size_t i;
  if (!__atomic_load_n(&done, __ATOMIC_ACQUIRE)) {
    for (i = 0; i < sizeof families / sizeof families[0]; i++) {
      resolved[i] = families[i];
      resolved[i].n_ops = family_count(&families[i]);
    }
    __atomic_store_n(&done, 1, __ATOMIC_RELEASE);
  }
  *n_families = sizeof families / sizeof families[0];
  return resolved;
}

const struct sc_op *sc_op_lookup(const char *domain, const char *op_type,
                                 int64_t version)
{
  size_t n_families, f, i;
  const struct sc_op_family *fam = sc_op_families(&n_families);
  const char *d = (!domain || strcmp(domain, "ai.onnx") == 0) ? "" : domain;

  for (f = 0; f < n_families; f++)
    for (i = 0; i < fam[f].n_ops; i++) {
      const struct sc_op *op = &fam[f].ops[i];
      if (strcmp(op->op_type, op_type) == 0 && strcmp(op->domain, d) == 0 &&
          version >= op->since_version && version <= op->until_version)
        return op;
    }
  return NULL;
}
