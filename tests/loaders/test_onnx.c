/* ONNX loading: every encoding of initializers, attributes of every kind,
 * external data confined to the model directory, and every malformed-input
 * path with its status, exit code and a message naming the offender.
 *
 * Models are assembled here with protobuf-c directly (not with the loader
 * under test) and serialised to temporary files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "loaders/dump.h"
#include "loaders/file.h"
#include "loaders/onnx.h"
#include "onnx.pb-c.h"
#include "runtime/executor.h"
#include "tests/support/assertions.h"
#include "tests/support/model_builder.h"

static char *write_bytes(const char *dir, const char *name, const void *data,
                         size_t size)
{
  char *path = sc_path_join(dir, name);
  assert_int_equal(sc_file_write_atomic(path, data, size, NULL), SC_OK);
  return path;
}

/* y = Add(x, w) with w a 2x3 raw initializer */
static char *in_x[] = {"x", "w"}, *out_y[] = {"y"};
static int64_t dims23[] = {2, 3};
static float w_values[] = {1, 2, 3, 4, 5, 6};

static void build_add_model(struct sc_test_model *b)
{
  sc_test_model_init(b, 13);
  sc_test_model_add_input(b, "x", 2, dims23);
  sc_test_model_add_raw_init(b, "w", 2, dims23, w_values, 6);
  sc_test_model_add_node(b, "Add", "add_node", in_x, 2, out_y, 1);
  sc_test_model_add_output(b, "y");
}

/* Loads and prepares; returns the status and leaves the message in err. */
static sc_status load_and_prepare(const char *path, struct sc_error *err)
{
  struct sc_graph *g = NULL;
  sc_status st;
  sc_error_clear(err);
  st = sc_onnx_load(path, &g, err);
  if (!st)
    st = sc_graph_prepare(g, err);
  sc_graph_free(g);
  return st;
}

static void assert_malformed(sc_status st, const struct sc_error *err,
                             const char *must_mention)
{
  assert_int_equal(st, SC_ERR_FORMAT);
  assert_int_equal(sc_status_exit_code(st), 3);
  if (!strstr(err->message, must_mention))
    fail_msg("message \"%s\" does not mention \"%s\"", err->message,
             must_mention);
}

/* --- success paths ------------------------------------------------------ */

static void test_load_valid_model_runs(void **state)
{
  struct sc_test_model b;
  char *dir = sc_test_tmpdir(), *path;
  struct sc_graph *g = NULL;
  struct sc_error err;
  float xv[] = {10, 20, 30, 40, 50, 60}, yv[] = {11, 22, 33, 44, 55, 66};
  struct sc_tensor *x, *want, *outputs[1] = {NULL};
  struct sc_feed feed;
  (void)state;

  build_add_model(&b);
  path = sc_test_model_write(dir, "m.onnx", &b.model);
  assert_int_equal(sc_onnx_load(path, &g, &err), SC_OK);
  assert_int_equal(g->n_inputs, 1);
  assert_int_equal(g->n_outputs, 1);
  x = sc_test_tensor_f32(2, dims23, xv);
  want = sc_test_tensor_f32(2, dims23, yv);
  feed.name = "x";
  feed.tensor = x;
  assert_int_equal(sc_graph_run(g, 1, &feed, outputs, NULL, &err), SC_OK);
  assert_tensor_close(outputs[0], want, 0, 0);
  sc_tensor_free(outputs[0]);
  sc_tensor_free(x);
  sc_tensor_free(want);
  sc_graph_free(g);
  free(path);
  sc_test_rmtree(dir);
  free(dir);
}

static void test_load_typed_fields_every_dtype(void **state)
{
  /* each typed field of TensorProto, decoded into the right dtype */
  Onnx__TensorProto t = ONNX__TENSOR_PROTO__INIT;
  int64_t dims[] = {3};
  int32_t i32[] = {-1, 0x3c00, 255}; /* 0x3c00 = 1.0 in float16 */
  int64_t i64[] = {-5, 0, 1LL << 40};
  double f64[] = {0.5, -2.25, 1e300};
  uint64_t u64[] = {1, 2, 4000000000ULL};
  char *dir = sc_test_tmpdir(), *path;
  struct sc_tensor *out = NULL;
  struct sc_error err;
  uint8_t buf[256];
  size_t size;
  (void)state;

  t.n_dims = 1;
  t.dims = dims;
  t.has_data_type = 1;

  t.data_type = SC_DTYPE_INT8;
  t.n_int32_data = 3;
  t.int32_data = i32;
  size = onnx__tensor_proto__pack(&t, buf);
  path = write_bytes(dir, "i8.pb", buf, size);
  assert_int_equal(sc_onnx_load_tensor(path, &out, NULL, &err), SC_OK);
  assert_int_equal(out->dtype, SC_DTYPE_INT8);
  assert_int_equal(((int8_t *)out->data)[0], -1);
  sc_tensor_free(out);
  free(path);

  t.data_type = SC_DTYPE_FLOAT16;
  size = onnx__tensor_proto__pack(&t, buf);
  path = write_bytes(dir, "f16.pb", buf, size);
  assert_int_equal(sc_onnx_load_tensor(path, &out, NULL, &err), SC_OK);
  assert_true(sc_half_to_float(((uint16_t *)out->data)[1]) == 1.0f);
  sc_tensor_free(out);
  free(path);

  t.n_int32_data = 0;
  t.data_type = SC_DTYPE_INT64;
  t.n_int64_data = 3;
  t.int64_data = i64;
  size = onnx__tensor_proto__pack(&t, buf);
  path = write_bytes(dir, "i64.pb", buf, size);
  assert_int_equal(sc_onnx_load_tensor(path, &out, NULL, &err), SC_OK);
  assert_true(((int64_t *)out->data)[2] == (1LL << 40));
  sc_tensor_free(out);
  free(path);

  t.n_int64_data = 0;
  t.data_type = SC_DTYPE_DOUBLE;
  t.n_double_data = 3;
  t.double_data = f64;
  size = onnx__tensor_proto__pack(&t, buf);
  path = write_bytes(dir, "f64.pb", buf, size);
  assert_int_equal(sc_onnx_load_tensor(path, &out, NULL, &err), SC_OK);
  assert_true(((double *)out->data)[2] == 1e300);
  sc_tensor_free(out);
  free(path);

  t.n_double_data = 0;
  t.data_type = SC_DTYPE_UINT32;
  t.n_uint64_data = 3;
  t.uint64_data = u64;
  size = onnx__tensor_proto__pack(&t, buf);
  path = write_bytes(dir, "u32.pb", buf, size);
  assert_int_equal(sc_onnx_load_tensor(path, &out, NULL, &err), SC_OK);
  assert_true(((uint32_t *)out->data)[2] == 4000000000U);
  sc_tensor_free(out);
  free(path);

  sc_test_rmtree(dir);
  free(dir);
}

static void test_load_attributes_of_every_kind(void **state)
{
  struct sc_test_model b;
  Onnx__AttributeProto a[7], *ap[7];
  Onnx__TensorProto at = ONNX__TENSOR_PROTO__INIT;
  float floats[] = {1.5f, 2.5f};
  int64_t ints[] = {7, -8, 9};
  ProtobufCBinaryData strs[2] = {{1, (uint8_t *)"a"}, {2, (uint8_t *)"bc"}};
  float tv[] = {3.0f};
  int64_t tdims[] = {1};
  char *dir = sc_test_tmpdir(), *path;
  struct sc_graph *g = NULL;
  struct sc_error err;
  const struct sc_node *node;
  int i;
  (void)state;

  build_add_model(&b);
  for (i = 0; i < 7; i++) {
    Onnx__AttributeProto init = ONNX__ATTRIBUTE_PROTO__INIT;
    a[i] = init;
    a[i].has_type = 1;
    ap[i] = &a[i];
  }
  a[0].name = "f";
  a[0].type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT;
  a[0].has_f = 1;
  a[0].f = 0.25f;
  a[1].name = "i";
  a[1].type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
  a[1].has_i = 1;
  a[1].i = -3;
  a[2].name = "s";
  a[2].type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING;
  a[2].has_s = 1;
  a[2].s.len = 4;
  a[2].s.data = (uint8_t *)"edge";
  a[3].name = "fs";
  a[3].type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS;
  a[3].n_floats = 2;
  a[3].floats = floats;
  a[4].name = "is";
  a[4].type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS;
  a[4].n_ints = 3;
  a[4].ints = ints;
  a[5].name = "ss";
  a[5].type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS;
  a[5].n_strings = 2;
  a[5].strings = strs;
  at.has_data_type = 1;
  at.data_type = 1;
  at.n_dims = 1;
  at.dims = tdims;
  at.n_float_data = 1;
  at.float_data = tv;
  a[6].name = "t";
  a[6].type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR;
  a[6].t = &at;
  b.nodes[0].n_attribute = 7;
  b.nodes[0].attribute = ap;

  path = sc_test_model_write(dir, "attrs.onnx", &b.model);
  assert_int_equal(sc_onnx_load(path, &g, &err), SC_OK);
  node = &g->nodes[0];
  assert_int_equal(node->n_attrs, 7);
  assert_true(sc_node_attr(node, "f")->f == 0.25f);
  assert_int_equal(sc_node_attr(node, "i")->i, -3);
  assert_string_equal(sc_node_attr(node, "s")->s, "edge");
  assert_int_equal(sc_node_attr(node, "fs")->n, 2);
  assert_true(sc_node_attr(node, "fs")->floats[1] == 2.5f);
  assert_int_equal(sc_node_attr(node, "is")->ints[1], -8);
  assert_string_equal(sc_node_attr(node, "ss")->strings[1], "bc");
  assert_true(((float *)sc_node_attr(node, "t")->t->data)[0] == 3.0f);
  {
    int64_t v;
    /* a getter of the wrong type names the node and the attribute */
    assert_int_equal(sc_node_attr_int(node, "s", 0, &v, &err), SC_ERR_FORMAT);
    assert_non_null(strstr(err.message, "add_node"));
    assert_non_null(strstr(err.message, "'s'"));
  }
  sc_graph_free(g);
  free(path);
  sc_test_rmtree(dir);
  free(dir);
}

static void test_load_input_that_is_initializer_is_not_fed(void **state)
{
  struct sc_test_model b;
  char *dir = sc_test_tmpdir(), *path;
  struct sc_graph *g = NULL;
  struct sc_error err;
  (void)state;

  build_add_model(&b);
  sc_test_model_add_input(&b, "w", 2,
                          dims23); /* old exporters list weights as inputs */
  path = sc_test_model_write(dir, "m.onnx", &b.model);
  assert_int_equal(sc_onnx_load(path, &g, &err), SC_OK);
  assert_int_equal(g->n_inputs, 1);
  assert_string_equal(g->values[g->inputs[0]].name, "x");
  sc_graph_free(g);
  free(path);
  sc_test_rmtree(dir);
  free(dir);
}

/* --- external data ---------------------------------------------------- */

static Onnx__StringStringEntryProto entries[3];
static Onnx__StringStringEntryProto *entry_ptrs[3];

static void set_external(Onnx__TensorProto *t, const char *location,
                         const char *offset, const char *length)
{
  int n = 0;
  Onnx__StringStringEntryProto e = ONNX__STRING_STRING_ENTRY_PROTO__INIT;
  t->has_raw_data = 0;
  t->has_data_location = 1;
  t->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
  entries[n] = e;
  entries[n].key = "location";
  entries[n].value = (char *)location;
  entry_ptrs[n] = &entries[n];
  n++;
  if (offset) {
    entries[n] = e;
    entries[n].key = "offset";
    entries[n].value = (char *)offset;
    entry_ptrs[n] = &entries[n];
    n++;
  }
  if (length) {
    entries[n] = e;
    entries[n].key = "length";
    entries[n].value = (char *)length;
    entry_ptrs[n] = &entries[n];
    n++;
  }
  t->n_external_data = (size_t)n;
  t->external_data = entry_ptrs;
}

static void test_external_data_inside_model_dir_loads(void **state)
{
  struct sc_test_model b;
  char *dir = sc_test_tmpdir(), *path, *data_path;
  struct sc_graph *g = NULL;
  struct sc_error err;
  float blob[8] = {0, 0, 1, 2, 3, 4, 5, 6}; /* 8-byte offset */
  int w;
  (void)state;

  build_add_model(&b);
  set_external(&b.inits[0], "weights.bin", "8", "24");
  data_path = write_bytes(dir, "weights.bin", blob, sizeof blob);
  path = sc_test_model_write(dir, "m.onnx", &b.model);
  assert_int_equal(sc_onnx_load(path, &g, &err), SC_OK);
  w = sc_graph_find_value(g, "w");
  assert_true(w >= 0);
  assert_true(((float *)g->values[w].initializer->data)[5] == 6.0f);
  sc_graph_free(g);
  free(path);
  free(data_path);
  sc_test_rmtree(dir);
  free(dir);
}

static void check_external_refused(const char *location, const char *offset,
                                   const char *must_mention)
{
  struct sc_test_model b;
  char *dir = sc_test_tmpdir(), *path;
  struct sc_error err;
  float blob[6] = {1, 2, 3, 4, 5, 6};
  char *data_path;

  build_add_model(&b);
  set_external(&b.inits[0], location, offset, NULL);
  data_path = write_bytes(dir, "weights.bin", blob, sizeof blob);
  path = sc_test_model_write(dir, "m.onnx", &b.model);
  assert_malformed(load_and_prepare(path, &err), &err, must_mention);
  assert_non_null(strstr(err.message, "'w'")); /* names the tensor */
  free(path);
  free(data_path);
  sc_test_rmtree(dir);
  free(dir);
}

static void test_external_data_absolute_path_refused(void **state)
{
  (void)state;
  check_external_refused("/etc/passwd", NULL, "absolute path");
}

static void test_external_data_dotdot_refused(void **state)
{
  (void)state;
  check_external_refused("../weights.bin", NULL, "'..'");
  check_external_refused("sub/../../x.bin", NULL, "'..'");
}

static void test_external_data_symlink_outside_refused(void **state)
{
  struct sc_test_model b;
  char *dir = sc_test_tmpdir(), *outside = sc_test_tmpdir();
  char *path, *target, *link_path;
  struct sc_error err;
  float blob[6] = {1, 2, 3, 4, 5, 6};
  (void)state;

  target = write_bytes(outside, "secret.bin", blob, sizeof blob);
  link_path = sc_path_join(dir, "link.bin");
  assert_int_equal(symlink(target, link_path), 0);
  build_add_model(&b);
  set_external(&b.inits[0], "link.bin", NULL, NULL);
  path = sc_test_model_write(dir, "m.onnx", &b.model);
  assert_malformed(load_and_prepare(path, &err), &err, "outside");
  free(path);
  free(target);
  free(link_path);
  sc_test_rmtree(dir);
  sc_test_rmtree(outside);
  free(dir);
  free(outside);
}

static void test_external_data_short_file_refused(void **state)
{
  (void)state;
  check_external_refused("weights.bin", "16", "holds");
}

static void test_external_data_missing_file_refused(void **state)
{
  (void)state;
  check_external_refused("absent.bin", NULL, "absent.bin");
}

/* --- malformed files ---------------------------------------------------- */

static void test_missing_file_is_malformed_input(void **state)
{
  struct sc_error err;
  (void)state;
  assert_malformed(load_and_prepare("/nonexistent/model.onnx", &err), &err,
                   "/nonexistent/model.onnx");
}

/* The model file is mapped, not read: a directory in its place is refused
 * before any mapping, with the path in the message. */
static void test_directory_is_malformed(void **state)
{
  char *dir = sc_test_tmpdir();
  struct sc_error err;
  (void)state;
  assert_malformed(load_and_prepare(dir, &err), &err, "not a regular file");
  assert_non_null(strstr(err.message, dir));
  sc_test_rmtree(dir);
  free(dir);
}

static void test_empty_file_is_malformed(void **state)
{
  char *dir = sc_test_tmpdir(), *path = write_bytes(dir, "e.onnx", "", 0);
  struct sc_error err;
  (void)state;
  assert_malformed(load_and_prepare(path, &err), &err, "e.onnx");
  free(path);
  sc_test_rmtree(dir);
  free(dir);
}

static void test_truncated_file_is_malformed(void **state)
{
  struct sc_test_model b;
  size_t size, cut;
  uint8_t *buf;
  char *dir = sc_test_tmpdir(), *path;
  struct sc_error err;
  int failures = 0;
  (void)state;

  build_add_model(&b);
  size = onnx__model_proto__get_packed_size(&b.model);
  buf = malloc(size);
  onnx__model_proto__pack(&b.model, buf);
  /* every truncation either fails cleanly or yields a loadable prefix
   * model; none may crash, and the midpoint cut must fail */
  for (cut = 1; cut < size; cut++) {
    path = write_bytes(dir, "t.onnx", buf, cut);
    if (load_and_prepare(path, &err) != SC_OK) {
      failures++;
      if (err.status != SC_ERR_FORMAT)
        fail_msg("cut %zu: %s: %s", cut, sc_status_name(err.status),
                 err.message);
      assert_non_null(strstr(err.message, "t.onnx"));
    }
    free(path);
  }
  path = write_bytes(dir, "half.onnx", buf, size / 2);
  assert_malformed(load_and_prepare(path, &err), &err, "half.onnx");
  assert_true(failures > 0);
  free(path);
  free(buf);
  sc_test_rmtree(dir);
  free(dir);
}

static void test_garbage_and_wrong_wire_types_are_malformed(void **state)
{
  /* field 7 (graph) must be length-delimited; here it is a varint */
  static const uint8_t wrong_wire[] = {0x08, 0x08, 0x38, 0x01};
  static const uint8_t garbage[] = "this is not a protobuf at all \xff\xff";
  char *dir = sc_test_tmpdir(), *path;
  struct sc_error err;
  (void)state;

  path = write_bytes(dir, "wire.onnx", wrong_wire, sizeof wrong_wire);
  assert_malformed(load_and_prepare(path, &err), &err, "wire.onnx");
  free(path);
  path = write_bytes(dir, "garbage.onnx", garbage, sizeof garbage);
  assert_malformed(load_and_prepare(path, &err), &err, "garbage.onnx");
  free(path);
  sc_test_rmtree(dir);
  free(dir);
}

/* Wraps buf[*pos..end) in a length-delimited field `field` (one-byte
 * tag), writing backwards from *pos. */
static void wrap_field(uint8_t *buf, size_t *pos, size_t end, int field)
{
  uint8_t varint[10];
  size_t length = end - *pos, n = 0, i;
  do {
    varint[n++] = (uint8_t)((length & 0x7f) | (length > 0x7f ? 0x80 : 0));
    length >>= 7;
  } while (length);
  for (i = n; i > 0; i--)
    buf[--*pos] = varint[i - 1];
  buf[--*pos] = (uint8_t)(field << 3 | 2);
}

/* A model whose graph holds a node whose attribute holds a graph ...
 * `levels` times: GraphProto.node = 1, NodeProto.attribute = 5,
 * AttributeProto.g = 6, ModelProto.graph = 7. */
static uint8_t *nested_model(int levels, size_t *size)
{
  size_t cap = (size_t)levels * 3 * 12 + 16, pos = cap;
  uint8_t *buf = malloc(cap);
  int i;
  assert_non_null(buf);
  for (i = 0; i < levels; i++) {
    wrap_field(buf, &pos, cap, 6); /* the graph, as attribute g */
    wrap_field(buf, &pos, cap, 5); /* the attribute, in a node */
    wrap_field(buf, &pos, cap, 1); /* the node, in a graph */
  }
  wrap_field(buf, &pos, cap, 7); /* the graph, in the model */
  memmove(buf, buf + pos, cap - pos);
  *size = cap - pos;
  return buf;
}

/* protobuf-c unpacks nested messages recursively: a file nested 100 000
 * graphs deep (1.4 MB) is refused before it can overflow the stack; a
 * nesting within the limits gets past that check. */
static void test_hostile_nesting_is_malformed(void **state)
{
  char *dir = sc_test_tmpdir(), *path;
  struct sc_error err;
  size_t size;
  uint8_t *bytes;
  (void)state;

  bytes = nested_model(100000, &size);
  path = write_bytes(dir, "deep.onnx", bytes, size);
  assert_malformed(load_and_prepare(path, &err), &err, "deep.onnx");
  assert_non_null(strstr(err.message, "nested"));
  free(path);
  free(bytes);
  bytes = nested_model(10, &size);
  path = write_bytes(dir, "shallow.onnx", bytes, size);
  assert_int_not_equal(load_and_prepare(path, &err), SC_OK); /* no op type */
  assert_null(strstr(err.message, "nested"));
  free(path);
  free(bytes);
  sc_test_rmtree(dir);
  free(dir);
}

static void test_dangling_input_names_node_and_tensor(void **state)
{
  struct sc_test_model b;
  static char *ins[] = {"x", "nowhere"};
  char *dir = sc_test_tmpdir(), *path;
  struct sc_error err;
  (void)state;

  build_add_model(&b);
  b.nodes[0].input = ins;
  path = sc_test_model_write(dir, "m.onnx", &b.model);
  assert_malformed(load_and_prepare(path, &err), &err, "nowhere");
  assert_non_null(strstr(err.message, "m.onnx")); /* names the file */
  assert_non_null(strstr(err.message, "add_node"));
  free(path);
  sc_test_rmtree(dir);
  free(dir);
}

static void test_cycle_names_a_node(void **state)
{
  struct sc_test_model b;
  static char *in_a[] = {"x", "b_out"}, *out_a[] = {"a_out"};
  static char *in_b[] = {"a_out", "w"}, *out_b[] = {"b_out"};
  char *dir = sc_test_tmpdir(), *path;
  struct sc_error err;
  (void)state;

  sc_test_model_init(&b, 13);
  sc_test_model_add_input(&b, "x", 2, dims23);
  sc_test_model_add_raw_init(&b, "w", 2, dims23, w_values, 6);
  sc_test_model_add_node(&b, "Add", "node_a", in_a, 2, out_a, 1);
  sc_test_model_add_node(&b, "Add", "node_b", in_b, 2, out_b, 1);
  sc_test_model_add_output(&b, "b_out");
  path = sc_test_model_write(dir, "m.onnx", &b.model);
  assert_malformed(load_and_prepare(path, &err), &err, "cycle");
  assert_non_null(strstr(err.message, "m.onnx")); /* names the file */
  assert_true(strstr(err.message, "node_a") || strstr(err.message, "node_b"));
  free(path);
  sc_test_rmtree(dir);
  free(dir);
}

static void test_negative_dim_names_tensor(void **state)
{
  struct sc_test_model b;
  static int64_t bad[] = {-2, 3};
  char *dir = sc_test_tmpdir(), *path;
  struct sc_error err;
  (void)state;

  build_add_model(&b);
  b.inits[0].dims = bad;
  path = sc_test_model_write(dir, "m.onnx", &b.model);
  assert_malformed(load_and_prepare(path, &err), &err, "'w'");
  assert_non_null(strstr(err.message, "negative"));
  free(path);
  sc_test_rmtree(dir);
  free(dir);
}

static void test_negative_input_dim_names_input(void **state)
{
  struct sc_test_model b;
  char *dir = sc_test_tmpdir(), *path;
  struct sc_error err;
  (void)state;

  build_add_model(&b);
  b.dims[0][0].dim_value = -7;
  path = sc_test_model_write(dir, "m.onnx", &b.model);
  assert_malformed(load_and_prepare(path, &err), &err, "'x'");
  free(path);
  sc_test_rmtree(dir);
  free(dir);
}

static void test_overflowing_dims_name_tensor(void **state)
{
  struct sc_test_model b;
  static int64_t huge[] = {INT64_C(1) << 40, INT64_C(1) << 40};
  char *dir = sc_test_tmpdir(), *path;
  struct sc_error err;
  (void)state;

  build_add_model(&b);
  b.inits[0].dims = huge;
  path = sc_test_model_write(dir, "m.onnx", &b.model);
  assert_malformed(load_and_prepare(path, &err), &err, "'w'");
  assert_non_null(strstr(err.message, "overflow"));
  free(path);
  sc_test_rmtree(dir);
  free(dir);
}

static void test_data_size_mismatch_names_tensor(void **state)
{
  struct sc_test_model b;
  char *dir = sc_test_tmpdir(), *path;
  struct sc_error err;
  (void)state;

  /* raw data two bytes short */
  build_add_model(&b);
  b.inits[0].raw_data.len -= 2;
  path = sc_test_model_write(dir, "raw.onnx", &b.model);
  assert_malformed(load_and_prepare(path, &err), &err, "'w'");
  assert_non_null(strstr(err.message, "raw data"));
  free(path);

  /* typed field with too few values */
  build_add_model(&b);
  b.inits[0].has_raw_data = 0;
  b.inits[0].n_float_data = 5;
  b.inits[0].float_data = w_values;
  path = sc_test_model_write(dir, "typed.onnx", &b.model);
  assert_malformed(load_and_prepare(path, &err), &err, "'w'");
  free(path);
  sc_test_rmtree(dir);
  free(dir);
}

static void test_two_producers_names_tensor(void **state)
{
  struct sc_test_model b;
  char *dir = sc_test_tmpdir(), *path;
  struct sc_error err;
  (void)state;

  build_add_model(&b);
  sc_test_model_add_node(&b, "Add", "second", in_x, 2, out_y, 1);
  path = sc_test_model_write(dir, "m.onnx", &b.model);
  assert_malformed(load_and_prepare(path, &err), &err, "'y'");
  assert_non_null(strstr(err.message, "m.onnx")); /* names the file */
  free(path);
  sc_test_rmtree(dir);
  free(dir);
}

static void test_unsupported_nodes_all_listed(void **state)
{
  struct sc_test_model b;
  static char *o1[] = {"u1"}, *o2[] = {"u2"};
  static char *i2[] = {"u1"};
  char *dir = sc_test_tmpdir(), *path;
  struct sc_error err;
  sc_status st;
  (void)state;

  build_add_model(&b);
  sc_test_model_add_node(&b, "FancyOp", "first_unknown", in_x, 1, o1, 1);
  sc_test_model_add_node(&b, "OtherOp", "second_unknown", i2, 1, o2, 1);
  sc_test_model_add_output(&b, "u2");
  path = sc_test_model_write(dir, "m.onnx", &b.model);
  st = load_and_prepare(path, &err);
  assert_int_equal(st, SC_ERR_UNSUPPORTED);
  assert_int_equal(sc_status_exit_code(st), 4);
  assert_non_null(strstr(err.message, "FancyOp 'first_unknown'"));
  assert_non_null(strstr(err.message, "OtherOp 'second_unknown'"));
  assert_non_null(strstr(err.message, "2 unsupported nodes"));
  free(path);
  sc_test_rmtree(dir);
  free(dir);
}

static void test_non_tensor_input_is_unsupported(void **state)
{
  struct sc_test_model b;
  Onnx__TypeProto seq = ONNX__TYPE_PROTO__INIT;
  Onnx__TypeProto__Sequence s = ONNX__TYPE_PROTO__SEQUENCE__INIT;
  char *dir = sc_test_tmpdir(), *path;
  struct sc_error err;
  sc_status st;
  (void)state;

  build_add_model(&b);
  seq.value_case = ONNX__TYPE_PROTO__VALUE_SEQUENCE_TYPE;
  seq.sequence_type = &s;
  b.inputs[0].type = &seq;
  path = sc_test_model_write(dir, "m.onnx", &b.model);
  st = load_and_prepare(path, &err);
  assert_int_equal(st, SC_ERR_UNSUPPORTED);
  assert_non_null(strstr(err.message, "'x'"));
  free(path);
  sc_test_rmtree(dir);
  free(dir);
}

/* Dumps of tensors whose names are longer than a file name may be (255
 * bytes): the stem keeps a prefix and a hash, names that share the prefix
 * get different files, and the manifest maps both back. */
static void test_dump_long_names_round_trip(void **state)
{
  char *dir = sc_test_tmpdir(), name_a[301], name_b[301];
  int64_t dims[1] = {2};
  float va[2] = {1, 2}, vb[2] = {3, 4};
  struct sc_tensor *a = sc_test_tensor_f32(1, dims, va);
  struct sc_tensor *b = sc_test_tensor_f32(1, dims, vb);
  struct sc_dump_writer *w = NULL;
  struct sc_dump *d = NULL;
  struct sc_error err;
  char *stem;
  int i, seen = 0;
  (void)state;
  memset(name_a, 'x', 300);
  name_a[300] = '\0';
  memcpy(name_b, name_a, sizeof name_a);
  name_b[299] = 'y';
  stem = sc_dump_stem(name_a);
  assert_int_equal(strlen(stem), 200);
  free(stem);
  assert_int_equal(sc_dump_writer_create(dir, &w, &err), SC_OK);
  assert_int_equal(sc_dump_writer_add(w, name_a, a, NULL, NULL, NULL, &err),
                   SC_OK);
  assert_int_equal(sc_dump_writer_add(w, name_b, b, NULL, NULL, NULL, &err),
                   SC_OK);
  assert_int_equal(sc_dump_writer_finish(w, &err), SC_OK);
  sc_dump_writer_free(w);
  assert_int_equal(sc_dump_open(dir, &d, &err), SC_OK);
  assert_int_equal(d->n_entries, 2);
  for (i = 0; i < 2; i++) {
    struct sc_tensor *t = NULL;
    int is_a = strcmp(d->entries[i].name, name_a) == 0;
    assert_true(is_a || strcmp(d->entries[i].name, name_b) == 0);
    assert_int_equal(sc_dump_load(d, i, &t, &err), SC_OK);
    assert_tensor_close(t, is_a ? a : b, 0, 0);
    seen |= is_a ? 1 : 2;
    sc_tensor_free(t);
  }
  assert_int_equal(seen, 3);
  sc_dump_free(d);
  sc_tensor_free(a);
  sc_tensor_free(b);
  sc_test_rmtree(dir);
  free(dir);
}

/* The names in dir, sorted, one per line ("" when it is empty). */
static char *names_in(const char *dir)
{
  char cmd[1024], *buf = calloc(1, 4096);
  FILE *p;
  size_t n;
  snprintf(cmd, sizeof cmd, "ls -A '%s' | sort", dir);
  p = popen(cmd, "r");
  assert_non_null(p);
  n = fread(buf, 1, 4095, p);
  buf[n] = '\0';
  pclose(p);
  return buf;
}

static void assert_names(const char *dir, const char *expected)
{
  char *names = names_in(dir);
  if (strcmp(names, expected) != 0)
    fail_msg("%s holds \"%s\", expected \"%s\"", dir, names, expected);
  free(names);
}

/* Writes a dump of the given tensor names (one value each) into dir. */
static sc_status write_dump(const char *dir, const char *const *names, int n,
                            int finish, struct sc_error *err)
{
  int64_t dims[1] = {1};
  float v[1] = {5};
  struct sc_tensor *t = sc_test_tensor_f32(1, dims, v);
  struct sc_dump_writer *w = NULL;
  sc_status st = sc_dump_writer_create(dir, &w, err);
  int i;
  for (i = 0; !st && i < n; i++)
    st = sc_dump_writer_add(w, names[i], t, NULL, NULL, NULL, err);
  if (!st && finish)
    st = sc_dump_writer_finish(w, err);
  sc_dump_writer_free(w);
  sc_tensor_free(t);
  return st;
}

/* A dump goes into a new or empty directory or replaces a dump the
 * writer made; it never writes over other files, never into a directory
 * holding the current one, and an unfinished dump leaves nothing. */
static void test_dump_writer_replaces_only_its_own_dumps(void **state)
{
  static const char *const ab[] = {"a", "b"}, *const c[] = {"c"};
  static const char notes[] = "a device dump's own notes\n";
  static const char foreign[] =
      "{\"tensors\": [{\"name\": \"c\", \"file\": \"c.npy\"}]}";
  char *parent = sc_test_tmpdir(), *dir = sc_path_join(parent, "d");
  char *file = sc_path_join(parent, "f"), *cwd = getcwd(NULL, 0);
  char *notes_path = sc_path_join(dir, "notes.txt"), *manifest;
  struct sc_dump *d = NULL;
  struct sc_error err;
  uint8_t *data;
  size_t size;
  (void)state;
  /* freed unfinished: no directory, no leftovers beside it */
  assert_int_equal(write_dump(dir, ab, 2, 0, &err), SC_OK);
  assert_names(parent, "");
  /* new; then replaced, the old files gone */
  assert_int_equal(write_dump(dir, ab, 2, 1, &err), SC_OK);
  assert_names(parent, "d\n");
  assert_names(dir, "a.npy\nb.npy\nmanifest.json\n");
  assert_int_equal(write_dump(dir, c, 1, 1, &err), SC_OK);
  assert_names(parent, "d\n");
  assert_names(dir, "c.npy\nmanifest.json\n");
  assert_int_equal(sc_dump_open(dir, &d, &err), SC_OK);
  assert_int_equal(d->n_entries, 1);
  assert_string_equal(d->entries[0].name, "c");
  sc_dump_free(d);
  /* a file the manifest does not list: refused, nothing changed */
  assert_int_equal(sc_file_write_atomic(notes_path, notes, strlen(notes), NULL),
                   SC_OK);
  assert_int_equal(write_dump(dir, ab, 2, 1, &err), SC_ERR_USAGE);
  assert_non_null(strstr(err.message, "not empty"));
  assert_non_null(strstr(err.message, dir));
  assert_names(parent, "d\n");
  assert_names(dir, "c.npy\nmanifest.json\nnotes.txt\n");
  assert_int_equal(sc_file_read(notes_path, 1024, &data, &size, NULL), SC_OK);
  assert_string_equal((char *)data, notes);
  free(data);
  /* a dump with another producer's manifest (here: none named) */
  unlink(notes_path);
  manifest = sc_path_join(dir, "manifest.json");
  assert_int_equal(
      sc_file_write_atomic(manifest, foreign, strlen(foreign), NULL), SC_OK);
  assert_int_equal(write_dump(dir, ab, 2, 1, &err), SC_ERR_USAGE);
  assert_names(dir, "c.npy\nmanifest.json\n");
  /* a file, and a directory holding the current one */
  assert_int_equal(sc_file_write_atomic(file, "x", 1, NULL), SC_OK);
  assert_int_equal(write_dump(file, ab, 2, 1, &err), SC_ERR_USAGE);
  assert_non_null(strstr(err.message, "not a directory"));
  assert_int_equal(chdir(dir), 0);
  unlink("c.npy");
  unlink("manifest.json");
  assert_int_equal(write_dump(".", ab, 2, 1, &err), SC_ERR_USAGE);
  assert_non_null(strstr(err.message, "current directory"));
  assert_int_equal(chdir(cwd), 0);
  assert_names(parent, "d\nf\n");
  /* an empty directory is taken */
  assert_int_equal(write_dump(dir, c, 1, 1, &err), SC_OK);
  assert_names(dir, "c.npy\nmanifest.json\n");
  assert_names(parent, "d\nf\n");
  sc_test_rmtree(parent);
  free(parent);
  free(dir);
  free(file);
  free(cwd);
  free(notes_path);
  free(manifest);
}

/* manifest.json is checked, not read leniently: a shape that contradicts
 * the .npy header, a name listed twice, an unknown layout, and text after
 * the JSON document are malformed dumps naming the manifest. */
static void test_dump_manifest_checked(void **state)
{
  static const struct {
    const char *text, *mention;
  } cases[] = {
      {"{\"tensors\": [{\"name\": \"a\", \"file\": \"a.npy\", \"shape\": "
       "[3]}]}",
       "shape"},
      {"{\"tensors\": [{\"name\": \"a\", \"file\": \"a.npy\"}, "
       "{\"name\": \"a\", \"file\": \"a.npy\"}]}",
       "listed twice"},
      {"{\"tensors\": [{\"name\": \"a\", \"file\": \"a.npy\", "
       "\"layout\": \"HWNC\"}]}",
       "layout"},
      {"{\"tensors\": [{\"name\": \"a\", \"file\": \"a.npy\"}]} trailing",
       "after the JSON"},
      {"{\"tensors\": [{\"name\": \"q\", \"file\": \"q.npy\", \"scale\": "
       "0.5, \"zero_point\": 1099511627776}]}",
       "outside uint8's range"},
      {"{\"tensors\": [{\"name\": \"a\", \"file\": \"a.npy\\u0000x\"}]}",
       "\"file\""},
  };
  char *dir = sc_test_tmpdir(), *manifest = sc_path_join(dir, "manifest.json");
  int64_t dims[1] = {2};
  float va[2] = {1, 2};
  struct sc_tensor *a = sc_test_tensor_f32(1, dims, va), *q = NULL;
  struct sc_dump_writer *w = NULL;
  struct sc_dump *d = NULL;
  struct sc_error err;
  size_t i;
  (void)state;
  assert_int_equal(sc_dump_writer_create(dir, &w, &err), SC_OK);
  assert_int_equal(sc_dump_writer_add(w, "a", a, NULL, NULL, NULL, &err),
                   SC_OK);
  assert_int_equal(sc_tensor_create(SC_DTYPE_UINT8, 1, dims, &q, NULL), SC_OK);
  memset(q->data, 7, 2);
  assert_int_equal(sc_dump_writer_add(w, "q", q, NULL, NULL, NULL, &err),
                   SC_OK);
  assert_int_equal(sc_dump_writer_finish(w, &err), SC_OK);
  sc_dump_writer_free(w);
  assert_int_equal(sc_dump_open(dir, &d, &err), SC_OK); /* as written */
  sc_dump_free(d);
  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    d = NULL;
    assert_int_equal(sc_file_write_atomic(manifest, cases[i].text,
                                          strlen(cases[i].text), &err),
                     SC_OK);
    assert_int_equal(sc_dump_open(dir, &d, &err), SC_ERR_FORMAT);
    assert_null(d);
    if (!strstr(err.message, "manifest.json") ||
        !strstr(err.message, cases[i].mention))
      fail_msg("case %zu: \"%s\"", i, err.message);
  }
  sc_tensor_free(a);
  sc_tensor_free(q);
  free(manifest);
  sc_test_rmtree(dir);
  free(dir);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_load_valid_model_runs),
      cmocka_unit_test(test_load_typed_fields_every_dtype),
      cmocka_unit_test(test_load_attributes_of_every_kind),
      cmocka_unit_test(test_load_input_that_is_initializer_is_not_fed),
      cmocka_unit_test(test_external_data_inside_model_dir_loads),
      cmocka_unit_test(test_external_data_absolute_path_refused),
      cmocka_unit_test(test_external_data_dotdot_refused),
      cmocka_unit_test(test_external_data_symlink_outside_refused),
      cmocka_unit_test(test_external_data_short_file_refused),
      cmocka_unit_test(test_external_data_missing_file_refused),
      cmocka_unit_test(test_missing_file_is_malformed_input),
      cmocka_unit_test(test_directory_is_malformed),
      cmocka_unit_test(test_empty_file_is_malformed),
      cmocka_unit_test(test_truncated_file_is_malformed),
      cmocka_unit_test(test_garbage_and_wrong_wire_types_are_malformed),
      cmocka_unit_test(test_hostile_nesting_is_malformed),
      cmocka_unit_test(test_dump_long_names_round_trip),
      cmocka_unit_test(test_dump_manifest_checked),
      cmocka_unit_test(test_dump_writer_replaces_only_its_own_dumps),
      cmocka_unit_test(test_dangling_input_names_node_and_tensor),
      cmocka_unit_test(test_cycle_names_a_node),
      cmocka_unit_test(test_negative_dim_names_tensor),
      cmocka_unit_test(test_negative_input_dim_names_input),
      cmocka_unit_test(test_overflowing_dims_name_tensor),
      cmocka_unit_test(test_data_size_mismatch_names_tensor),
      cmocka_unit_test(test_two_producers_names_tensor),
      cmocka_unit_test(test_unsupported_nodes_all_listed),
      cmocka_unit_test(test_non_tensor_input_is_unsupported),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
