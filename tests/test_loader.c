/*
 * test_loader.c: the plugin loader (host/loader.c) against the fixture
 * plugins of tests/fixtures/loader and the ABI 1.0 golden plugin: a good
 * plugin of each kind loads; every refusal reason gives its own TACK_ELOAD_*
 * code and a message that names the file and says what to do; a refused file
 * is unloaded and none of its code runs; scans, TACK_PLUGIN_PATH and the
 * default folder; allocation failures at every step.
 *
 * Refused fixtures have callbacks that abort(), so reaching an assertion
 * after loading one proves the loader called none of them.
 */
/* glibc declares realpath() only for X/Open (or default) builds. */
#define _XOPEN_SOURCE 700

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "loader.h"

typedef struct fixture {
  tack_loader *ld;
  char tmp[64]; /* a temporary folder, or "" */
  char tmp2[64];
} fixture;

/* ---------------------------------------------------------------------- */
/* Helpers                                                                 */
/* ---------------------------------------------------------------------- */

static const char *fixture_root(void) {
  const char *dir = getenv("TACK_FIXTURE_DIR");
  if (!dir)
    fail_msg("TACK_FIXTURE_DIR is not set: run this test through ctest");
  return dir;
}

/* <fixtures>/loader/<folder>, written into the caller's buffer. */
static const char *folder_path(char *buf, size_t cap, const char *folder) {
  snprintf(buf, cap, "%s/loader/%s", fixture_root(), folder);
  return buf;
}

/* <fixtures>/loader/<folder>/<name>.so */
static const char *plugin_path(char *buf, size_t cap, const char *folder, const char *name) {
  snprintf(buf, cap, "%s/loader/%s/%s.so", fixture_root(), folder, name);
  return buf;
}

static void assert_contains(const char *text, const char *word) {
  if (!text || !strstr(text, word))
    fail_msg("expected \"%s\" in: %s", word, text ? text : "(null)");
}

static void make_tmp(char *buf, size_t cap) {
  snprintf(buf, cap, "/tmp/tack-loader-XXXXXX");
  assert_non_null(mkdtemp(buf));
}

static void copy_file(const char *from, const char *to) {
  char block[8192];
  size_t n;
  FILE *in = fopen(from, "rb");
  FILE *out = fopen(to, "wb");
  assert_non_null(in);
  assert_non_null(out);
  while ((n = fread(block, 1, sizeof block, in)) > 0)
    assert_int_equal(fwrite(block, 1, n, out), n);
  assert_int_equal(fclose(in), 0);
  assert_int_equal(fclose(out), 0);
}

/* Copy fixture <folder>/<name>.so into dir as <as>. */
static void copy_fixture(const char *folder, const char *name, const char *dir, const char *as) {
  char from[PATH_MAX], to[PATH_MAX];
  plugin_path(from, sizeof from, folder, name);
  snprintf(to, sizeof to, "%s/%s", dir, as);
  copy_file(from, to);
}

/* Remove a flat temporary folder and what is in it. */
static void remove_tmp(const char *dir) {
  char path[PATH_MAX];
  DIR *d;
  struct dirent *ent;
  if (!dir[0])
    return;
  chmod(dir, 0700);
  d = opendir(dir);
  if (d) {
    while ((ent = readdir(d)) != NULL) {
      if (strcmp(ent->d_name, ".") == 0 || strcmp(ent->d_name, "..") == 0)
        continue;
      snprintf(path, sizeof path, "%s/%s", dir, ent->d_name);
      unlink(path);
    }
    closedir(d);
  }
  rmdir(dir);
}

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  if (!f || tack_loader_new(&f->ld) != 0)
    return -1;
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  tack_loader_free(f->ld);
  remove_tmp(f->tmp);
  remove_tmp(f->tmp2);
  free(f);
  return 0;
}

/* True when the shared object at path is mapped in this process. */
static int is_loaded(const char *path) {
  char real[PATH_MAX];
  void *h;
  if (!realpath(path, real))
    return 0;
  h = dlopen(real, RTLD_NOW | RTLD_NOLOAD);
  if (!h)
    return 0;
  dlclose(h);
  return 1;
}

/*
 * Load path into a fresh loader state and check the refusal: the code, one
 * refusal recorded under the file's path, a message starting with that path
 * and holding every word of the NULL-terminated list, no plugin kept, and
 * the file no longer mapped. Returns the refusal for further checks.
 */
static const tack_refusal *expect_refusal(tack_loader *ld, const char *path, int code,
                                          const char *const *words) {
  char real[PATH_MAX];
  const tack_refusal *r;
  const char *key = realpath(path, real) ? real : path;

  assert_int_equal(tack_loader_load_file(ld, path), code);
  assert_int_equal(tack_loader_refusal_count(ld), 1);
  assert_int_equal(tack_loader_count(ld), 0);
  r = tack_loader_refusal_at(ld, 0);
  assert_non_null(r);
  assert_int_equal(r->code, code);
  assert_string_equal(r->path, key);
  assert_int_equal(strncmp(r->message, key, strlen(key)), 0);
  for (; *words; words++)
    assert_contains(r->message, *words);
  assert_false(is_loaded(path));
  return r;
}

/* ---------------------------------------------------------------------- */
/* Good plugins                                                            */
/* ---------------------------------------------------------------------- */

static void test_good_each_kind(void **state) {
  static const struct {
    const char *id;
    uint32_t kind;
  } cases[] = {{"good_exchange", TACK_KIND_EXCHANGE},
               {"good_filter", TACK_KIND_FILTER},
               {"good_indicator", TACK_KIND_INDICATOR},
               {"good_scorer", TACK_KIND_SCORER},
               {"good_strategy", TACK_KIND_STRATEGY}};
  fixture *f = *state;
  char dir[PATH_MAX], path[PATH_MAX], real[PATH_MAX];

  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const tack_plugin *p;
    assert_int_equal(tack_loader_scan_dir(f->ld, folder_path(dir, sizeof dir, cases[i].id)), 0);
    assert_int_equal(tack_loader_count(f->ld), i + 1);
    p = tack_loader_at(f->ld, i);
    assert_non_null(p);
    assert_string_equal(p->desc->id, cases[i].id);
    assert_int_equal(p->desc->kind, cases[i].kind);
    assert_int_equal(p->abi_major, TACK_ABI_MAJOR);
    assert_int_equal(p->abi_minor, TACK_ABI_MINOR);
    assert_int_equal(p->index, 0);
    assert_non_null(realpath(plugin_path(path, sizeof path, cases[i].id, cases[i].id), real));
    assert_string_equal(p->path, real);
    assert_ptr_equal(tack_loader_find(f->ld, cases[i].id), p);
    assert_true(is_loaded(real));
  }
  assert_int_equal(tack_loader_refusal_count(f->ld), 0);
  assert_null(tack_loader_find(f->ld, "nope"));
  assert_null(tack_loader_at(f->ld, 5));
}

static void test_golden_1_0(void **state) {
  static const char *const ids[] = {"golden_exchange", "golden_filter", "golden_indicator",
                                    "golden_scorer", "golden_strategy"};
  fixture *f = *state;
  char path[PATH_MAX];

  /* Built against tests/golden/tack-1.0.h only: old plugins keep loading. */
  assert_int_equal(
      tack_loader_load_file(f->ld, plugin_path(path, sizeof path, "golden", "golden_1_0")), 0);
  assert_int_equal(tack_loader_refusal_count(f->ld), 0);
  assert_int_equal(tack_loader_count(f->ld), 5);
  for (uint32_t i = 0; i < 5; i++) {
    const tack_plugin *p = tack_loader_at(f->ld, i);
    assert_string_equal(p->desc->id, ids[i]);
    assert_int_equal(p->desc->kind, i + 1);
    assert_int_equal(p->index, i);
    assert_int_equal(p->abi_major, 1);
    assert_int_equal(p->abi_minor, 0);
  }
}

static void test_scan_name_order(void **state) {
  fixture *f = *state;
  make_tmp(f->tmp, sizeof f->tmp);
  copy_fixture("good_filter", "good_filter", f->tmp, "b.so");
  copy_fixture("good_strategy", "good_strategy", f->tmp, "a.so");
  copy_fixture("good_scorer", "good_scorer", f->tmp, "C.so"); /* 'C' < 'a' in byte order */
  copy_fixture("good_indicator", "good_indicator", f->tmp, ".hidden.so");
  copy_fixture("good_exchange", "good_exchange", f->tmp, "exchange.so.1");

  assert_int_equal(tack_loader_scan_dir(f->ld, f->tmp), 0);
  assert_int_equal(tack_loader_refusal_count(f->ld), 0);
  assert_int_equal(tack_loader_count(f->ld), 3);
  assert_string_equal(tack_loader_at(f->ld, 0)->desc->id, "good_scorer");
  assert_string_equal(tack_loader_at(f->ld, 1)->desc->id, "good_strategy");
  assert_string_equal(tack_loader_at(f->ld, 2)->desc->id, "good_filter");
}

static void test_same_file_twice(void **state) {
  fixture *f = *state;
  char path[PATH_MAX], other[PATH_MAX], link[PATH_MAX];

  plugin_path(path, sizeof path, "good_filter", "good_filter");
  assert_int_equal(tack_loader_load_file(f->ld, path), 0);
  assert_int_equal(tack_loader_load_file(f->ld, path), 0);
  snprintf(other, sizeof other, "%s/loader/good_filter/../good_filter/./good_filter.so",
           fixture_root());
  assert_int_equal(tack_loader_load_file(f->ld, other), 0);
  make_tmp(f->tmp, sizeof f->tmp);
  snprintf(link, sizeof link, "%s/link.so", f->tmp);
  assert_int_equal(symlink(path, link), 0);
  assert_int_equal(tack_loader_load_file(f->ld, link), 0);
  assert_int_equal(tack_loader_scan_dir(f->ld, f->tmp), 0);
  assert_int_equal(tack_loader_count(f->ld), 1);
  assert_int_equal(tack_loader_refusal_count(f->ld), 0);
}

/* ---------------------------------------------------------------------- */
/* Refusals, in the order the loader checks                                */
/* ---------------------------------------------------------------------- */

static void test_missing_file(void **state) {
  fixture *f = *state;
  static const char *const words[] = {"cannot open", "No such file", NULL};
  expect_refusal(f->ld, "/nonexistent/tack/plugin.so", TACK_ELOAD_OPEN, words);
}

static void test_not_a_regular_file(void **state) {
  fixture *f = *state;
  char dir[PATH_MAX];
  static const char *const words[] = {"not a regular file", NULL};
  make_tmp(f->tmp, sizeof f->tmp);
  snprintf(dir, sizeof dir, "%s/folder.so", f->tmp);
  assert_int_equal(mkdir(dir, 0755), 0);
  expect_refusal(f->ld, dir, TACK_ELOAD_OPEN, words);
  rmdir(dir);
}

static void test_world_writable_file(void **state) {
  fixture *f = *state;
  char path[PATH_MAX];
  static const char *const words[] = {"the file is writable by every user", "mode 0646",
                                      "chmod o-w", NULL};
  make_tmp(f->tmp, sizeof f->tmp);
  copy_fixture("good_strategy", "good_strategy", f->tmp, "open.so");
  snprintf(path, sizeof path, "%s/open.so", f->tmp);
  assert_int_equal(chmod(path, 0646), 0);
  expect_refusal(f->ld, path, TACK_ELOAD_PERM, words);
}

static void test_world_writable_folder(void **state) {
  fixture *f = *state;
  char path[PATH_MAX];
  const char *words[] = {"its folder", "writable by every user", "mode 0757", f->tmp, NULL};
  make_tmp(f->tmp, sizeof f->tmp);
  copy_fixture("good_strategy", "good_strategy", f->tmp, "good.so");
  assert_int_equal(chmod(f->tmp, 0757), 0);
  snprintf(path, sizeof path, "%s/good.so", f->tmp);
  expect_refusal(f->ld, path, TACK_ELOAD_PERM, words);
}

static void test_symlink_in_world_writable_folder(void **state) {
  fixture *f = *state;
  char target[PATH_MAX], link[PATH_MAX];
  const char *words[] = {"its folder", "writable by every user", f->tmp2, NULL};
  const tack_refusal *r;

  /* The file lives in a safe folder; the link to it does not. */
  make_tmp(f->tmp, sizeof f->tmp);
  make_tmp(f->tmp2, sizeof f->tmp2);
  copy_fixture("good_strategy", "good_strategy", f->tmp, "good.so");
  snprintf(target, sizeof target, "%s/good.so", f->tmp);
  snprintf(link, sizeof link, "%s/link.so", f->tmp2);
  assert_int_equal(symlink(target, link), 0);
  assert_int_equal(chmod(f->tmp2, 0777), 0);
  r = expect_refusal(f->ld, link, TACK_ELOAD_PERM, words);
  assert_string_equal(r->path, target);
}

static void test_unreadable(void **state) {
  fixture *f = *state;
  char path[PATH_MAX];
  static const char *const words[] = {"cannot load it", "Permission denied", NULL};
  if (geteuid() == 0) {
    fprintf(stderr, "test_unreadable: skipped: running as root, which can read a file of "
                    "mode 000, so the refusal of an unreadable file cannot be provoked\n");
    skip();
  }
  make_tmp(f->tmp, sizeof f->tmp);
  copy_fixture("good_strategy", "good_strategy", f->tmp, "locked.so");
  snprintf(path, sizeof path, "%s/locked.so", f->tmp);
  assert_int_equal(chmod(path, 0000), 0);
  expect_refusal(f->ld, path, TACK_ELOAD_OPEN, words);
}

static void test_not_elf(void **state) {
  fixture *f = *state;
  char path[PATH_MAX];
  const tack_refusal *r;
  static const char *const words[] = {"cannot load it", "shared object", NULL};
  r = expect_refusal(f->ld, plugin_path(path, sizeof path, "not_elf", "x"), TACK_ELOAD_OPEN, words);
  /* The dlerror text, without the path it repeats. */
  if (!strstr(r->message, "invalid ELF header") && !strstr(r->message, "file too short"))
    fail_msg("expected the dlerror text in: %s", r->message);
}

static void test_noentry(void **state) {
  fixture *f = *state;
  char path[PATH_MAX];
  static const char *const words[] = {"no tack_plugin_entry symbol", "TACK_PLUGINS(", NULL};
  expect_refusal(f->ld, plugin_path(path, sizeof path, "noentry", "noentry"), TACK_ELOAD_NOENTRY,
                 words);
}

static void test_entry_function(void **state) {
  fixture *f = *state;
  char path[PATH_MAX];
  static const char *const words[] = {"its tack_plugin_entry symbol is a function", "TACK_PLUGINS(",
                                      NULL};
  expect_refusal(f->ld, plugin_path(path, sizeof path, "entry_function", "entry_function"),
                 TACK_ELOAD_MAGIC, words);
}

static void test_entry_small(void **state) {
  fixture *f = *state;
  char path[PATH_MAX];
  static const char *const words[] = {"its tack_plugin_entry symbol is only 4 bytes", NULL};
  expect_refusal(f->ld, plugin_path(path, sizeof path, "entry_small", "entry_small"),
                 TACK_ELOAD_MAGIC, words);
}

static void test_bad_magic(void **state) {
  fixture *f = *state;
  char path[PATH_MAX];
  static const char *const words[] = {"starts with 0xdeadbeef", "not TACK_MAGIC (0x4b434154",
                                      "TACK_PLUGINS(", NULL};
  expect_refusal(f->ld, plugin_path(path, sizeof path, "bad_magic", "bad_magic"), TACK_ELOAD_MAGIC,
                 words);
}

/* A count larger than the list: refused by walking to the list's NULL,
 * never past it. */
static void test_count_mismatch(void **state) {
  fixture *f = *state;
  char path[PATH_MAX];
  static const char *const words[] = {"says 2 plugins but ends after 1 entries",
                                      "ends the list with NULL", NULL};
  expect_refusal(f->ld, plugin_path(path, sizeof path, "count_mismatch", "count_mismatch"),
                 TACK_ELOAD_DESCRIPTOR, words);
}

static void test_abi_major(void **state) {
  fixture *f = *state;
  char path[PATH_MAX], host[64], sdk[64];
  snprintf(host, sizeof host, "this host provides %d.%d", TACK_ABI_MAJOR, TACK_ABI_MINOR);
  snprintf(sdk, sizeof sdk, "against a tack %d.x SDK", TACK_ABI_MAJOR);
  const char *words[] = {"built for tack ABI 2.0", host, sdk, "pkg-config --cflags tack-sdk",
                         "or use a tack 2.x host", NULL};
  /* The fixture's create aborts: the refusal comes before any plugin code. */
  expect_refusal(f->ld, plugin_path(path, sizeof path, "abi_major", "abi_major"),
                 TACK_ELOAD_ABI_MAJOR, words);
}

static void test_abi_minor(void **state) {
  fixture *f = *state;
  char path[PATH_MAX], needs[64], host[64];
  snprintf(needs, sizeof needs, "needs tack ABI %d.%d", TACK_ABI_MAJOR, TACK_ABI_MINOR + 1);
  snprintf(host, sizeof host, "this host provides %d.%d", TACK_ABI_MAJOR, TACK_ABI_MINOR);
  const char *words[] = {needs, host, "Upgrade tack", "rebuild the plugin", NULL};
  expect_refusal(f->ld, plugin_path(path, sizeof path, "abi_minor", "abi_minor"),
                 TACK_ELOAD_ABI_MINOR, words);
}

static void test_layout(void **state) {
  fixture *f = *state;
  char path[PATH_MAX], theirs[64], ours[64];
  snprintf(theirs, sizeof theirs, "fingerprint 0x%016llx",
           (unsigned long long)(TACK_LAYOUT_FINGERPRINT ^ UINT64_C(0x40)));
  snprintf(ours, sizeof ours, "this host's is 0x%016llx",
           (unsigned long long)TACK_LAYOUT_FINGERPRINT);
  const char *words[] = {"another layout", theirs, ours, "unmodified tack.h", NULL};
  /* The fixture's create aborts: the refusal comes before any plugin code. */
  expect_refusal(f->ld, plugin_path(path, sizeof path, "layout", "layout"), TACK_ELOAD_LAYOUT,
                 words);
}

static void test_bad_id(void **state) {
  fixture *f = *state;
  char path[PATH_MAX];
  static const char *const words[] = {"plugin #0: id 'Bad ID!'", "has 'B' at position 0",
                                      "[a-z0-9_.-]", NULL};
  expect_refusal(f->ld, plugin_path(path, sizeof path, "bad_id", "bad_id"), TACK_ELOAD_DESCRIPTOR,
                 words);
}

static void test_bad_params(void **state) {
  fixture *f = *state;
  char path[PATH_MAX];
  static const char *const words[] = {"plugin 'bad_params'", "parameter 'period'", "declared twice",
                                      NULL};
  expect_refusal(f->ld, plugin_path(path, sizeof path, "bad_params", "bad_params"),
                 TACK_ELOAD_DESCRIPTOR, words);
}

static void test_bad_kind(void **state) {
  fixture *f = *state;
  char path[PATH_MAX];
  static const char *const words[] = {"plugin 'bad_kind' has kind 99", "knows kinds 1 to 5", NULL};
  expect_refusal(f->ld, plugin_path(path, sizeof path, "bad_kind", "bad_kind"), TACK_ELOAD_KIND,
                 words);
}

static void test_small_vtable(void **state) {
  fixture *f = *state;
  char path[PATH_MAX], needs[96];
  snprintf(needs, sizeof needs, "an indicator vtable needs at least %zu bytes",
           sizeof(tack_indicator_vtable));
  const char *words[] = {"indicator 'small_vtable': vtable size 24", needs,
                         "sizeof(tack_indicator_vtable)", NULL};
  expect_refusal(f->ld, plugin_path(path, sizeof path, "small_vtable", "small_vtable"),
                 TACK_ELOAD_VTABLE, words);
}

static void test_missing_callback(void **state) {
  fixture *f = *state;
  char path[PATH_MAX];
  static const char *const words[] = {"strategy 'missing_cb': required callback on_bar is NULL",
                                      NULL};
  expect_refusal(f->ld, plugin_path(path, sizeof path, "missing_cb", "missing_cb"),
                 TACK_ELOAD_VTABLE, words);
  /* Refused whole: the valid filter of the same file is not loaded either. */
  assert_null(tack_loader_find(f->ld, "missing_cb_filter"));
}

static void test_duplicate_across_files(void **state) {
  fixture *f = *state;
  char dir[PATH_MAX], a[PATH_MAX], b[PATH_MAX], real_a[PATH_MAX], real_b[PATH_MAX];
  const tack_refusal *r;

  assert_int_equal(tack_loader_scan_dir(f->ld, folder_path(dir, sizeof dir, "duplicate")), 0);
  assert_non_null(realpath(plugin_path(a, sizeof a, "duplicate", "dup_a"), real_a));
  assert_non_null(realpath(plugin_path(b, sizeof b, "duplicate", "dup_b"), real_b));
  assert_int_equal(tack_loader_count(f->ld), 1);
  assert_string_equal(tack_loader_at(f->ld, 0)->path, real_a);
  assert_int_equal(tack_loader_refusal_count(f->ld), 1);
  r = tack_loader_refusal_at(f->ld, 0);
  assert_int_equal(r->code, TACK_ELOAD_DUPLICATE);
  assert_string_equal(r->path, real_b);
  assert_contains(r->message, real_b);
  assert_contains(r->message, real_a);
  assert_contains(r->message, "plugin id 'dup' is already provided by");
  assert_true(is_loaded(real_a));
  assert_false(is_loaded(real_b));
}

static void test_duplicate_in_file(void **state) {
  fixture *f = *state;
  char path[PATH_MAX];
  static const char *const words[] = {"plugin id 'twice' is listed twice in this file",
                                      "entries #0 and #1", NULL};
  expect_refusal(f->ld, plugin_path(path, sizeof path, "dup_in_file", "dup_in_file"),
                 TACK_ELOAD_DUPLICATE, words);
}

/* ---------------------------------------------------------------------- */
/* Bookkeeping and scans                                                   */
/* ---------------------------------------------------------------------- */

static void test_refused_once(void **state) {
  fixture *f = *state;
  char path[PATH_MAX], dir[PATH_MAX];
  plugin_path(path, sizeof path, "abi_minor", "abi_minor");
  assert_int_equal(tack_loader_load_file(f->ld, path), TACK_ELOAD_ABI_MINOR);
  assert_int_equal(tack_loader_load_file(f->ld, path), TACK_ELOAD_ABI_MINOR);
  assert_int_equal(tack_loader_scan_dir(f->ld, folder_path(dir, sizeof dir, "abi_minor")), 0);
  assert_int_equal(tack_loader_refusal_count(f->ld), 1);
  assert_null(tack_loader_refusal_at(f->ld, 1));
}

static void test_refusal_keeps_host_going(void **state) {
  static const char *const folders[] = {"not_elf",     "noentry",     "bad_magic",    "abi_major",
                                        "good_filter", "abi_minor",   "layout",       "bad_id",
                                        "bad_params",  "bad_kind",    "small_vtable", "missing_cb",
                                        "duplicate",   "dup_in_file", "good_scorer"};
  static const int codes[] = {TACK_ELOAD_OPEN,       TACK_ELOAD_NOENTRY,    TACK_ELOAD_MAGIC,
                              TACK_ELOAD_ABI_MAJOR,  TACK_ELOAD_ABI_MINOR,  TACK_ELOAD_LAYOUT,
                              TACK_ELOAD_DESCRIPTOR, TACK_ELOAD_DESCRIPTOR, TACK_ELOAD_KIND,
                              TACK_ELOAD_VTABLE,     TACK_ELOAD_VTABLE,     TACK_ELOAD_DUPLICATE,
                              TACK_ELOAD_DUPLICATE};
  fixture *f = *state;
  char dir[PATH_MAX];

  for (size_t i = 0; i < sizeof folders / sizeof folders[0]; i++)
    assert_int_equal(tack_loader_scan_dir(f->ld, folder_path(dir, sizeof dir, folders[i])), 0);
  assert_int_equal(tack_loader_count(f->ld), 3);
  assert_non_null(tack_loader_find(f->ld, "good_filter"));
  assert_non_null(tack_loader_find(f->ld, "good_scorer"));
  assert_non_null(tack_loader_find(f->ld, "dup"));
  assert_int_equal(tack_loader_refusal_count(f->ld), sizeof codes / sizeof codes[0]);
  for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
    assert_int_equal(tack_loader_refusal_at(f->ld, i)->code, codes[i]);
}

static void test_scan_missing_folder(void **state) {
  fixture *f = *state;
  const tack_refusal *r;
  assert_int_equal(tack_loader_scan_dir(f->ld, "/nonexistent/tack/plugins"), TACK_ENOENT);
  assert_int_equal(tack_loader_scan_dir(f->ld, "/nonexistent/tack/plugins"), TACK_ENOENT);
  assert_int_equal(tack_loader_refusal_count(f->ld), 1);
  r = tack_loader_refusal_at(f->ld, 0);
  assert_int_equal(r->code, TACK_ENOENT);
  assert_string_equal(r->path, "/nonexistent/tack/plugins");
  assert_contains(r->message, "cannot read this plugin folder");
  assert_contains(r->message, "TACK_PLUGIN_PATH");
}

static void test_scan_env(void **state) {
  fixture *f = *state;
  char value[4 * PATH_MAX], a[PATH_MAX], b[PATH_MAX];

  snprintf(value, sizeof value,
           "%s::%s:/nonexistent/tack/plugins:", folder_path(a, sizeof a, "good_filter"),
           folder_path(b, sizeof b, "good_strategy"));
  assert_int_equal(setenv(TACK_PLUGIN_PATH_ENV, value, 1), 0);
  assert_int_equal(tack_loader_scan_env(f->ld), TACK_ENOENT);
  unsetenv(TACK_PLUGIN_PATH_ENV);
  assert_int_equal(tack_loader_count(f->ld), 2);
  assert_string_equal(tack_loader_at(f->ld, 0)->desc->id, "good_filter");
  assert_string_equal(tack_loader_at(f->ld, 1)->desc->id, "good_strategy");
  assert_int_equal(tack_loader_refusal_count(f->ld), 1);
  assert_int_equal(tack_loader_scan_env(f->ld), 0);
}

static void test_default_dir(void **state) {
  char dir[PATH_MAX], build_plugins[PATH_MAX], expect[PATH_MAX];
  const char *build = getenv("TACK_BUILD_DIR");
  struct stat st;
  (void)state;

  assert_non_null(build);
  /* This test runs from <build>/tests, so its "../plugins" is the build
   * tree's plugin folder whenever that exists. */
  snprintf(build_plugins, sizeof build_plugins, "%s/plugins", build);
  if (stat(build_plugins, &st) == 0 && S_ISDIR(st.st_mode))
    assert_non_null(realpath(build_plugins, expect));
  else
    snprintf(expect, sizeof expect, "%s", TACK_PLUGIN_INSTALL_DIR);
  assert_int_equal(tack_loader_default_dir(NULL, dir, sizeof dir), 0);
  assert_string_equal(dir, expect);
  assert_int_equal(tack_loader_default_dir("/no/such/argv0", dir, sizeof dir), 0);
  assert_string_equal(dir, expect);
  assert_int_equal(tack_loader_default_dir(NULL, dir, 2), TACK_ENOSPC);
}

static void test_scan_defaults(void **state) {
  fixture *f = *state;
  char dir[PATH_MAX];
  const tack_plugin *p;

  /* What the default folder holds depends on the build; the folder of
   * TACK_PLUGIN_PATH comes first, so its plugin is always loaded. */
  assert_int_equal(setenv(TACK_PLUGIN_PATH_ENV, folder_path(dir, sizeof dir, "good_indicator"), 1),
                   0);
  (void)tack_loader_scan_defaults(f->ld, NULL);
  unsetenv(TACK_PLUGIN_PATH_ENV);
  p = tack_loader_find(f->ld, "good_indicator");
  assert_non_null(p);
  assert_ptr_equal(tack_loader_at(f->ld, 0), p);
}

static void test_kind_names(void **state) {
  (void)state;
  assert_string_equal(tack_kind_name(TACK_KIND_EXCHANGE), "exchange");
  assert_string_equal(tack_kind_name(TACK_KIND_FILTER), "filter");
  assert_string_equal(tack_kind_name(TACK_KIND_INDICATOR), "indicator");
  assert_string_equal(tack_kind_name(TACK_KIND_SCORER), "scorer");
  assert_string_equal(tack_kind_name(TACK_KIND_STRATEGY), "strategy");
  assert_string_equal(tack_kind_name(0), "unknown");
  assert_string_equal(tack_kind_name(TACK_KIND_COUNT_), "unknown");
  for (uint32_t k = 1; k < TACK_KIND_COUNT_; k++)
    assert_int_equal(tack_kind_parse(tack_kind_name(k)), k);
  assert_int_equal(tack_kind_parse("unknown"), 0);
  assert_int_equal(tack_kind_parse(NULL), 0);
}

static void test_bad_arguments(void **state) {
  fixture *f = *state;
  assert_int_equal(tack_loader_new(NULL), TACK_EINVAL);
  assert_int_equal(tack_loader_load_file(NULL, "x.so"), TACK_EINVAL);
  assert_int_equal(tack_loader_load_file(f->ld, NULL), TACK_EINVAL);
  assert_int_equal(tack_loader_scan_dir(f->ld, NULL), TACK_EINVAL);
  assert_int_equal(tack_loader_count(NULL), 0);
  assert_int_equal(tack_loader_refusal_count(NULL), 0);
  tack_loader_free(NULL);
}

/* Every allocation of a scan fails in turn: each run ends cleanly with
 * TACK_ENOMEM or the normal result, and leaks nothing (ASan checks). */
static void test_allocation_failures(void **state) {
  char dir[PATH_MAX];
  int completed = 0;
  (void)state;

  for (uint64_t n = 1; n < 200 && !completed; n++) {
    tack_loader *ld = NULL;
    int rc;
    tack_alloc_fail_after(n);
    rc = tack_loader_new(&ld);
    if (rc == 0) {
      rc = tack_loader_scan_dir(ld, folder_path(dir, sizeof dir, "duplicate"));
      if (rc == 0)
        rc = tack_loader_scan_dir(ld, folder_path(dir, sizeof dir, "good_filter"));
      if (rc == 0)
        rc = tack_loader_scan_dir(ld, "/nonexistent/tack/plugins");
    }
    tack_alloc_fail_after(0);
    if (rc == TACK_ENOENT) {
      /* Nothing failed: the whole scan ran. */
      assert_int_equal(tack_loader_count(ld), 2);
      assert_int_equal(tack_loader_refusal_count(ld), 2);
      completed = 1;
    } else {
      assert_int_equal(rc, TACK_ENOMEM);
    }
    tack_loader_free(ld);
  }
  assert_true(completed);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_good_each_kind, setup, teardown),
      cmocka_unit_test_setup_teardown(test_golden_1_0, setup, teardown),
      cmocka_unit_test_setup_teardown(test_scan_name_order, setup, teardown),
      cmocka_unit_test_setup_teardown(test_same_file_twice, setup, teardown),
      cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
      cmocka_unit_test_setup_teardown(test_not_a_regular_file, setup, teardown),
      cmocka_unit_test_setup_teardown(test_world_writable_file, setup, teardown),
      cmocka_unit_test_setup_teardown(test_world_writable_folder, setup, teardown),
      cmocka_unit_test_setup_teardown(test_symlink_in_world_writable_folder, setup, teardown),
      cmocka_unit_test_setup_teardown(test_unreadable, setup, teardown),
      cmocka_unit_test_setup_teardown(test_not_elf, setup, teardown),
      cmocka_unit_test_setup_teardown(test_noentry, setup, teardown),
      cmocka_unit_test_setup_teardown(test_entry_function, setup, teardown),
      cmocka_unit_test_setup_teardown(test_entry_small, setup, teardown),
      cmocka_unit_test_setup_teardown(test_bad_magic, setup, teardown),
      cmocka_unit_test_setup_teardown(test_count_mismatch, setup, teardown),
      cmocka_unit_test_setup_teardown(test_abi_major, setup, teardown),
      cmocka_unit_test_setup_teardown(test_abi_minor, setup, teardown),
      cmocka_unit_test_setup_teardown(test_layout, setup, teardown),
      cmocka_unit_test_setup_teardown(test_bad_id, setup, teardown),
      cmocka_unit_test_setup_teardown(test_bad_params, setup, teardown),
      cmocka_unit_test_setup_teardown(test_bad_kind, setup, teardown),
      cmocka_unit_test_setup_teardown(test_small_vtable, setup, teardown),
      cmocka_unit_test_setup_teardown(test_missing_callback, setup, teardown),
      cmocka_unit_test_setup_teardown(test_duplicate_across_files, setup, teardown),
      cmocka_unit_test_setup_teardown(test_duplicate_in_file, setup, teardown),
      cmocka_unit_test_setup_teardown(test_refused_once, setup, teardown),
      cmocka_unit_test_setup_teardown(test_refusal_keeps_host_going, setup, teardown),
      cmocka_unit_test_setup_teardown(test_scan_missing_folder, setup, teardown),
      cmocka_unit_test_setup_teardown(test_scan_env, setup, teardown),
      cmocka_unit_test_setup_teardown(test_default_dir, setup, teardown),
      cmocka_unit_test_setup_teardown(test_scan_defaults, setup, teardown),
      cmocka_unit_test_setup_teardown(test_kind_names, setup, teardown),
      cmocka_unit_test_setup_teardown(test_bad_arguments, setup, teardown),
      cmocka_unit_test_setup_teardown(test_allocation_failures, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
