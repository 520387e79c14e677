/*
 * strat_test_util.h: what the tests of the stock strategies and of the
 * indicator service share: the real plugins, found by the real loader and
 * set as the instance registry (so strategies open their indicators through
 * the host, as in `tack run`); instances made from params written to a real
 * config file (so problems carry file and line); bar sequences; recording
 * the signals of a run.
 */
#ifndef STRAT_TEST_UTIL_H
#define STRAT_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "instance.h"
#include "loader.h"
#include "rt_test_util.h"

typedef struct st_env {
  tack_loader *ld;
  char tmp[256];
} st_env;

/* Load $TACK_BUILD_DIR/plugins and $TACK_FIXTURE_DIR/strategies, set the
 * registry and make a temporary folder. 0, or -1 with a message. */
int st_env_open(st_env *e);
/* Clear the registry, free the loader, remove the folder. */
void st_env_close(st_env *e);

/* One instance and the config file its params were read from. */
typedef struct st_inst {
  rt_ci c;
  tack_ctx *ctx;
} st_inst;

/*
 * tack_instance_new() for plugin id with params_text (rt_ci_make's syntax:
 * "fast = 3; slow = 5;"; the n-th statement is on line 3 + n; NULL for no
 * params group), in config section "strategies" as instance "s". d may be
 * NULL. On success the instance is started. Returns the code.
 */
int st_new(st_env *e, st_inst *in, const char *id, const char *params_text, tack_diag *d);
/* The same for another section ("filters", "indicators"). */
int st_new_in(st_env *e, st_inst *in, const char *section, const char *id, const char *params_text,
              tack_diag *d);
void st_free(st_inst *in);

/* The strategy callbacks. st_bar zeroes *sig first. */
int st_bar(st_inst *in, const tack_bar *bar, tack_signal *sig);
void st_position(st_inst *in, double qty, tack_time ts);
void st_fill(st_inst *in, uint32_t side, double qty, tack_time ts);

/* Signals of a run, with the index of the bar that gave each. */
typedef struct st_sig {
  size_t bar;
  tack_signal sig;
} st_sig;

typedef struct st_run {
  st_sig *sigs;
  size_t n;
  size_t cap;
} st_run;

/* Feed bars to a strategy, recording every signal; fails the test on an
 * on_bar error or a signal out of range (not finite, |strength| > 1,
 * confidence outside [0, 1], an empty reason). */
void st_feed(st_inst *in, const tack_bar *bars, size_t n, st_run *run);
/* Record one on_bar result (as st_feed does), for callers feeding bars
 * themselves. */
void st_record(st_run *run, size_t bar, int rc, const tack_signal *sig);
void st_run_free(st_run *run);
/* 1 when both runs hold the same signals at the same bars (every field). */
int st_run_equal(const st_run *a, const st_run *b);

/* Closed hourly bars from closes: open = the previous close (the first
 * close for bar 0), high/low = max/min(open, close) +/- spread, volume 1. */
void st_bars_from_closes(const double *closes, size_t n, double spread, tack_bar *out);

/* A seeded random walk of n closed hourly bars around 100. */
void st_random_walk(uint64_t seed, tack_bar *out, size_t n);

/* The shared file name's bars (closed, timeframe tf), or a random walk of
 * fallback bars when the shared data is absent (a message says so; *real is
 * 0 then). *bars is malloc'd. */
void st_load_bars(const char *name, uint32_t tf, size_t fallback, tack_bar **bars, size_t *n,
                  int *real);

/* Run n bars through a started filter instance; *out (malloc'd) gets every
 * bar it made. Returns 0 or the filter's code. */
int st_filter_run(st_inst *f, const tack_bar *in, size_t n, tack_bar **out, size_t *n_out);

#endif
