/* Prints the operator registry as the markdown table of the README's
 * "Supported operators" section (between <!-- ops:begin --> and
 * <!-- ops:end -->). With --check README.md it compares instead and fails
 * when the README is out of date; --write README.md rewrites the section
 * (scripts/update-readme.sh). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/op.h"

#define BEGIN "<!-- ops:begin -->\n"
#define END "<!-- ops:end -->"

static void append(char **buf, size_t *len, const char *s)
{
  size_t n = strlen(s);
  *buf = realloc(*buf, *len + n + 1);
  memcpy(*buf + *len, s, n + 1);
  *len += n;
}

/* "Conv (1-10, 11+)": versions of one op_type in one domain. */
static char *table(void)
{
  size_t n_families, f, i, k, len = 0;
  const struct sc_op_family *fam = sc_op_families(&n_families);
  char *out = NULL, line[8192];
  int total = 0;

  append(&out, &len, "| family | operators (opset ranges) |\n|---|---|\n");
  for (f = 0; f < n_families; f++) {
    size_t used = 0;
    line[0] = '\0';
    for (i = 0; i < fam[f].n_ops; i++) {
      const struct sc_op *op = &fam[f].ops[i];
      int first = 1;
      for (k = 0; k < i; k++) /* printed with an earlier row */
        if (!strcmp(fam[f].ops[k].op_type, op->op_type) &&
            !strcmp(fam[f].ops[k].domain, op->domain))
          break;
      if (k < i)
        continue;
      total++;
      used += (size_t)snprintf(line + used, sizeof line - used, "%s%s%s%s (",
                               used ? ", " : "", op->domain,
                               op->domain[0] ? "." : "", op->op_type);
      for (k = i; k < fam[f].n_ops && used < sizeof line; k++) {
        const struct sc_op *v = &fam[f].ops[k];
        if (strcmp(v->op_type, op->op_type) || strcmp(v->domain, op->domain))
          continue;
        if (v->until_version == SC_OPSET_LATEST)
          used += (size_t)snprintf(line + used, sizeof line - used, "%s%d+",
                                   first ? "" : ", ", v->since_version);
        else
          used += (size_t)snprintf(line + used, sizeof line - used, "%s%d-%d",
                                   first ? "" : ", ", v->since_version,
                                   v->until_version);
        first = 0;
      }
      if (used < sizeof line)
        used += (size_t)snprintf(line + used, sizeof line - used, ")");
    }
    if (fam[f].n_ops == 0)
      continue;
    append(&out, &len, "| ");
    append(&out, &len, fam[f].name);
    append(&out, &len, " | ");
    append(&out, &len, line);
    append(&out, &len, " |\n");
  }
  snprintf(line, sizeof line, "\n%d operators.\n", total);
  append(&out, &len, line);
  return out;
}

int main(int argc, char **argv)
{
  char *t = table();
  if (argc == 3 &&
      (strcmp(argv[1], "--check") == 0 || strcmp(argv[1], "--write") == 0)) {
    FILE *f = fopen(argv[2], "r");
    static char readme[1 << 20];
    size_t n;
    char *a, *b;
    if (!f) {
      printf("cannot open %s\n", argv[2]);
      return 1;
    }
    n = fread(readme, 1, sizeof readme - 1, f);
    readme[n] = '\0';
    fclose(f);
    a = strstr(readme, BEGIN);
    b = a ? strstr(a, END) : NULL;
    if (!a || !b) {
      printf("%s has no %s ... %s section\n", argv[2], "<!-- ops:begin -->",
             END);
      return 1;
    }
    a += strlen(BEGIN);
    if (strcmp(argv[1], "--write") == 0) {
      f = fopen(argv[2], "w");
      if (!f) {
        printf("cannot write %s\n", argv[2]);
        return 1;
      }
      fwrite(readme, 1, (size_t)(a - readme), f);
      fputs(t, f);
      fputs(b, f);
      fclose(f);
      printf("%s: operator table updated\n", argv[2]);
      free(t);
      return 0;
    }
    if ((size_t)(b - a) != strlen(t) || strncmp(a, t, strlen(t)) != 0) {
      printf("the operator table in %s is out of date: run "
             "scripts/update-readme.sh\n",
             argv[2]);
      return 1;
    }
    printf("README operator table matches the registry\n");
    free(t);
    return 0;
  }
  fputs(t, stdout);
  free(t);
  return 0;
}
