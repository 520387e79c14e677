/*
 * rt_test_util.h: helpers shared by the runtime's tests: loading the fixture
 * plugins (rt_fixtures.so) without the loader, config instances built by
 * hand with params read from a real file (so settings have file and line),
 * and temporary folders.
 */
#ifndef RT_TEST_UTIL_H
#define RT_TEST_UTIL_H

#include <libconfig.h>
#include <limits.h>

#include "config.h"
#include "loader.h"
#include "rt_fixtures.h"

typedef struct rt_fx {
  void *so;
  rt_fixture_record *rec;
  tack_plugin exchange, filter, strategy;
  char path[PATH_MAX];
} rt_fx;

/* dlopen $TACK_FIXTURE_DIR/runtime/rt_fixtures.so; 0 or -1. */
int rt_fx_open(rt_fx *fx);
void rt_fx_close(rt_fx *fx);

/* A config instance with its params group read from a file in dir. */
typedef struct rt_ci {
  config_t cfg;
  int has_cfg;
  char file[PATH_MAX];
  tack_cfg_instance ci;
} rt_ci;

/*
 * The file holds
 *   line 1: # comment
 *   line 2: inst = {             <- ci.line
 *   line 3:   params = {
 *   line 4..: one line per ';'-separated statement of params_text
 * so that the n-th parameter statement is on line 3 + n. params_text NULL:
 * no params group at all. Returns 0 or -1.
 */
int rt_ci_make(rt_ci *c, const char *dir, const tack_plugin *p, const char *section,
               const char *name, const char *params_text);
void rt_ci_free(rt_ci *c);

/* mkdtemp under TMPDIR (or /tmp) into buf; 0 or -1. */
int rt_tmpdir(char *buf, size_t cap);
/* rm -rf path (files and folders below it). */
void rt_rmtree(const char *path);

/* 1 when haystack's file at path contains needle. */
int rt_file_contains(const char *path, const char *needle);

#endif
