/*
 * test_store.c: the LMDB store: namespaces, persistence, the schema version,
 * sizes and limits, and the mapping of LMDB's failures to TACK_E* codes.
 */
#include <lmdb.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "rt_test_util.h"
#include "store.h"

typedef struct fixture {
  char dir[256];
  char path[300];
} fixture;

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  if (!f || rt_tmpdir(f->dir, sizeof f->dir) != 0)
    return -1;
  snprintf(f->path, sizeof f->path, "%s/var/store", f->dir);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  rt_rmtree(f->dir);
  free(f);
  return 0;
}

static void test_open_creates_folder_0700(void **state) {
  fixture *f = *state;
  tack_store *st = NULL;
  assert_int_equal(tack_store_open(f->path, 0, &st), 0);
  assert_non_null(st);
  assert_string_equal(tack_store_path(st), f->path);
  struct stat sb;
  assert_int_equal(stat(f->path, &sb), 0);
  assert_true(S_ISDIR(sb.st_mode));
  assert_int_equal(sb.st_mode & 0777, 0700);
  char data[400];
  snprintf(data, sizeof data, "%s/data.mdb", f->path);
  assert_int_equal(stat(data, &sb), 0);
  assert_int_equal(tack_store_max_key(st), 511);
  tack_store_close(st);
}

static void test_namespaces_are_isolated(void **state) {
  fixture *f = *state;
  tack_store *st = NULL;
  assert_int_equal(tack_store_open(f->path, 0, &st), 0);
  const tack_store_ns ns[4] = {{"bot1", "strategies", "a"},
                               {"bot1", "strategies", "b"},
                               {"bot2", "strategies", "a"},
                               {"bot1", "filters", "a"}};
  for (int i = 0; i < 4; i++) {
    int v = 100 + i;
    assert_int_equal(tack_store_kv_put(st, &ns[i], "k", 1, &v, sizeof v), 0);
  }
  for (int i = 0; i < 4; i++) {
    int v = 0;
    size_t len = 0;
    assert_int_equal(tack_store_kv_get(st, &ns[i], "k", 1, &v, sizeof v, &len), 0);
    assert_int_equal(len, sizeof v);
    assert_int_equal(v, 100 + i);
  }
  /* A name that ends where another's begins must not collide: "a" + "b\0"
   * versus "ab" + "\0". */
  const tack_store_ns x = {"bot1", "strategies", "ab"};
  size_t len = 0;
  int v;
  assert_int_equal(tack_store_kv_get(st, &x, "k", 1, &v, sizeof v, &len), TACK_ENOENT);

  assert_int_equal(tack_store_kv_del(st, &ns[0], "k", 1), 0);
  assert_int_equal(tack_store_kv_get(st, &ns[0], "k", 1, &v, sizeof v, &len), TACK_ENOENT);
  assert_int_equal(tack_store_kv_get(st, &ns[1], "k", 1, &v, sizeof v, &len), 0);
  assert_int_equal(tack_store_kv_del(st, &ns[0], "k", 1), TACK_ENOENT);
  tack_store_close(st);
}

static void test_persists_across_reopen(void **state) {
  fixture *f = *state;
  const tack_store_ns ns = {"bot", "strategies", "trend@BTC-USD"};
  tack_store *st = NULL;
  assert_int_equal(tack_store_open(f->path, 0, &st), 0);
  assert_int_equal(tack_store_kv_put(st, &ns, "state", 5, "hello", 5), 0);
  assert_int_equal(tack_store_kv_put(st, &ns, "empty", 5, NULL, 0), 0);
  tack_store_close(st);

  st = NULL;
  assert_int_equal(tack_store_open(f->path, 0, &st), 0);
  char buf[16] = {0};
  size_t len = 0;
  assert_int_equal(tack_store_kv_get(st, &ns, "state", 5, buf, sizeof buf, &len), 0);
  assert_int_equal(len, 5);
  assert_memory_equal(buf, "hello", 5);
  assert_int_equal(tack_store_kv_get(st, &ns, "empty", 5, NULL, 0, &len), 0);
  assert_int_equal(len, 0);
  tack_store_close(st);
}

/* Writes schema_version = ver straight through LMDB. */
static void force_schema(const char *path, uint32_t ver, size_t size) {
  MDB_env *env;
  MDB_txn *txn;
  MDB_dbi dbi;
  unsigned char le[8] = {0};
  for (int i = 0; i < 4; i++)
    le[i] = (unsigned char)(ver >> (8 * i));
  assert_int_equal(mdb_env_create(&env), 0);
  assert_int_equal(mdb_env_set_maxdbs(env, 16), 0);
  assert_int_equal(mdb_env_open(env, path, 0, 0600), 0);
  assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
  assert_int_equal(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
  MDB_val k = {14, "schema_version"}, v = {size, le};
  assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
  assert_int_equal(mdb_txn_commit(txn), 0);
  mdb_env_close(env);
}

static void test_newer_schema_is_refused(void **state) {
  fixture *f = *state;
  tack_store *st = NULL;
  assert_int_equal(tack_store_open(f->path, 0, &st), 0);
  tack_store_close(st);

  force_schema(f->path, TACK_STORE_SCHEMA_VERSION + 1, 4);
  st = NULL;
  assert_int_equal(tack_store_open(f->path, 0, &st), TACK_ENOTSUP);
  assert_null(st);

  force_schema(f->path, 1, 8);
  assert_int_equal(tack_store_open(f->path, 0, &st), TACK_EPARSE);

  force_schema(f->path, 1, 4);
  assert_int_equal(tack_store_open(f->path, 0, &st), 0);
  tack_store_close(st);
}

static void test_big_values_and_small_buffers(void **state) {
  fixture *f = *state;
  const tack_store_ns ns = {"bot", "strategies", "big"};
  const size_t n = 3u << 20;
  unsigned char *val = malloc(n), *back = malloc(n);
  assert_non_null(val);
  assert_non_null(back);
  for (size_t i = 0; i < n; i++)
    val[i] = (unsigned char)(i * 7 + (i >> 11));
  tack_store *st = NULL;
  assert_int_equal(tack_store_open(f->path, 0, &st), 0);
  assert_int_equal(tack_store_kv_put(st, &ns, "model", 5, val, n), 0);

  size_t len = 0;
  assert_int_equal(tack_store_kv_get(st, &ns, "model", 5, back, n, &len), 0);
  assert_int_equal(len, n);
  assert_memory_equal(back, val, n);

  /* Too small a buffer: the first cap bytes, the full length, ENOSPC. */
  memset(back, 0, 100);
  len = 0;
  assert_int_equal(tack_store_kv_get(st, &ns, "model", 5, back, 10, &len), TACK_ENOSPC);
  assert_int_equal(len, n);
  assert_memory_equal(back, val, 10);
  assert_int_equal(back[10], 0);
  len = 0;
  assert_int_equal(tack_store_kv_get(st, &ns, "model", 5, NULL, 0, &len), TACK_ENOSPC);
  assert_int_equal(len, n);
  tack_store_close(st);
  free(val);
  free(back);
}

static void test_key_limits(void **state) {
  fixture *f = *state;
  tack_store *st = NULL;
  char key[600];
  memset(key, 'k', sizeof key);
  const tack_store_ns ns = {"bot", "strategies", "x"}; /* 3+1+10+1+1+1 = 17 bytes */
  assert_int_equal(tack_store_open(f->path, 0, &st), 0);
  assert_int_equal(tack_store_kv_put(st, &ns, key, 511 - 17, "v", 1), 0);
  assert_int_equal(tack_store_kv_put(st, &ns, key, 511 - 16, "v", 1), TACK_ERANGE);
  size_t len;
  char v;
  assert_int_equal(tack_store_kv_get(st, &ns, key, 511 - 17, &v, 1, &len), 0);
  assert_int_equal(tack_store_kv_get(st, &ns, key, 600, &v, 1, &len), TACK_ERANGE);
  assert_int_equal(tack_store_kv_del(st, &ns, key, 600), TACK_ERANGE);
  assert_int_equal(tack_store_kv_put(st, &ns, key, 0, "v", 1), TACK_EINVAL);
  const tack_store_ns bad = {"bot", NULL, "x"};
  assert_int_equal(tack_store_kv_put(st, &bad, "k", 1, "v", 1), TACK_EINVAL);
  tack_store_close(st);
}

static void test_map_full_is_enospc(void **state) {
  fixture *f = *state;
  const tack_store_ns ns = {"bot", "strategies", "full"};
  tack_store *st = NULL;
  assert_int_equal(tack_store_open(f->path, 256u << 10, &st), 0);
  size_t n = 1u << 20;
  void *val = calloc(1, n);
  assert_int_equal(tack_store_kv_put(st, &ns, "big", 3, val, n), TACK_ENOSPC);
  /* The failed write left nothing behind, and small writes still work. */
  size_t len;
  assert_int_equal(tack_store_kv_get(st, &ns, "big", 3, NULL, 0, &len), TACK_ENOENT);
  assert_int_equal(tack_store_kv_put(st, &ns, "small", 5, val, 16), 0);
  tack_store_close(st);
  free(val);
}

static void test_unusable_path(void **state) {
  fixture *f = *state;
  char file[300];
  snprintf(file, sizeof file, "%s/plain", f->dir);
  FILE *fp = fopen(file, "w");
  assert_non_null(fp);
  fclose(fp);
  tack_store *st = NULL;
  assert_int_equal(tack_store_open(file, 0, &st), TACK_EIO);
  assert_null(st);
  assert_int_equal(tack_store_open("", 0, &st), TACK_EINVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_open_creates_folder_0700, setup, teardown),
      cmocka_unit_test_setup_teardown(test_namespaces_are_isolated, setup, teardown),
      cmocka_unit_test_setup_teardown(test_persists_across_reopen, setup, teardown),
      cmocka_unit_test_setup_teardown(test_newer_schema_is_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(test_big_values_and_small_buffers, setup, teardown),
      cmocka_unit_test_setup_teardown(test_key_limits, setup, teardown),
      cmocka_unit_test_setup_teardown(test_map_full_is_enospc, setup, teardown),
      cmocka_unit_test_setup_teardown(test_unusable_path, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
