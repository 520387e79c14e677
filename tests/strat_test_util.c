/* strat_test_util.c: helpers of the strategy tests; see strat_test_util.h. */
#include "strat_test_util.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bars_csv.h"

int st_env_open(st_env *e) {
  const char *build = getenv("TACK_BUILD_DIR");
  const char *fixtures = getenv("TACK_FIXTURE_DIR");
  char dir[PATH_MAX];
  memset(e, 0, sizeof *e);
  if (!build || !fixtures) {
    fprintf(stderr, "TACK_BUILD_DIR and TACK_FIXTURE_DIR must be set: run through ctest\n");
    return -1;
  }
  if (tack_loader_new(&e->ld) != 0)
    return -1;
  snprintf(dir, sizeof dir, "%s/plugins", build);
  if (tack_loader_scan_dir(e->ld, dir) != 0) {
    fprintf(stderr, "%s: cannot be scanned\n", dir);
    return -1;
  }
  snprintf(dir, sizeof dir, "%s/strategies", fixtures);
  if (tack_loader_scan_dir(e->ld, dir) != 0) {
    fprintf(stderr, "%s: cannot be scanned\n", dir);
    return -1;
  }
  const char *needed[] = {
      "ema_cross",         "rsi_reversion", "macd_trend",  "bollinger", "donchian_breakout",
      "supertrend_follow", "ema",           "heikin_ashi", "renko",     "probe.ind"};
  for (size_t i = 0; i < sizeof needed / sizeof needed[0]; i++) {
    if (!tack_loader_find(e->ld, needed[i])) {
      fprintf(stderr, "plugin %s not found in %s/plugins or %s/strategies:\n", needed[i], build,
              fixtures);
      tack_loader_print_refusals(e->ld, stderr);
      return -1;
    }
  }
  tack_instance_set_registry(e->ld);
  return rt_tmpdir(e->tmp, sizeof e->tmp);
}

void st_env_close(st_env *e) {
  tack_instance_set_registry(NULL);
  tack_loader_free(e->ld);
  e->ld = NULL;
  if (e->tmp[0])
    rt_rmtree(e->tmp);
}

int st_new_in(st_env *e, st_inst *in, const char *section, const char *id, const char *params_text,
              tack_diag *d) {
  memset(in, 0, sizeof *in);
  const tack_plugin *p = tack_loader_find(e->ld, id);
  if (!p) {
    fprintf(stderr, "no plugin %s\n", id);
    return TACK_ENOENT;
  }
  if (rt_ci_make(&in->c, e->tmp, p, section, "s", params_text) != 0)
    return TACK_EIO;
  int rc = tack_instance_new(&in->c.ci, NULL, d, &in->ctx);
  if (rc == 0)
    rc = tack_instance_start(in->ctx);
  if (rc != 0) {
    tack_instance_free(in->ctx);
    in->ctx = NULL;
  }
  return rc;
}

int st_new(st_env *e, st_inst *in, const char *id, const char *params_text, tack_diag *d) {
  return st_new_in(e, in, "strategies", id, params_text, d);
}

void st_free(st_inst *in) {
  tack_instance_free(in->ctx);
  in->ctx = NULL;
  rt_ci_free(&in->c);
}

int st_bar(st_inst *in, const tack_bar *bar, tack_signal *sig) {
  memset(sig, 0, sizeof *sig);
  return tack_instance_strategy_on_bar(in->ctx, bar, sig);
}

static const tack_strategy_vtable *vtable_of(st_inst *in) {
  return tack_instance_desc(in->ctx)->vtable;
}

void st_position(st_inst *in, double qty, tack_time ts) {
  tack_position pos;
  memset(&pos, 0, sizeof pos);
  tack_copy_text(pos.symbol, sizeof pos.symbol, "BTC-USD");
  pos.ts = ts;
  pos.quantity = qty;
  vtable_of(in)->on_position(tack_instance_self(in->ctx), &pos);
}

void st_fill(st_inst *in, uint32_t side, double qty, tack_time ts) {
  tack_fill f;
  memset(&f, 0, sizeof f);
  tack_copy_text(f.symbol, sizeof f.symbol, "BTC-USD");
  f.ts = ts;
  f.side = side;
  f.quantity = qty;
  f.price = 100;
  vtable_of(in)->on_fill(tack_instance_self(in->ctx), &f);
}

void st_record(st_run *run, size_t bar, int rc, const tack_signal *sig) {
  if (rc < 0)
    fail_msg("on_bar of bar %zu failed: %s", bar, tack_err_name(rc));
  assert_true(rc == 0 || rc == 1);
  if (rc == 0)
    return;
  if (!isfinite(sig->strength) || !isfinite(sig->confidence) || sig->strength < -1.0 ||
      sig->strength > 1.0 || sig->confidence < 0.0 || sig->confidence > 1.0)
    fail_msg("bar %zu: signal out of range: strength %g, confidence %g (%s)", bar, sig->strength,
             sig->confidence, sig->reason);
  assert_true(memchr(sig->reason, '\0', sizeof sig->reason) != NULL);
  assert_true(sig->reason[0] != '\0');
  if (run->n == run->cap) {
    run->cap = run->cap ? run->cap * 2 : 64;
    run->sigs = realloc(run->sigs, run->cap * sizeof *run->sigs);
    assert_non_null(run->sigs);
  }
  run->sigs[run->n].bar = bar;
  run->sigs[run->n].sig = *sig;
  run->n++;
}

void st_feed(st_inst *in, const tack_bar *bars, size_t n, st_run *run) {
  for (size_t i = 0; i < n; i++) {
    tack_signal sig;
    int rc = st_bar(in, &bars[i], &sig);
    st_record(run, i, rc, &sig);
  }
}

void st_run_free(st_run *run) {
  free(run->sigs);
  memset(run, 0, sizeof *run);
}

int st_run_equal(const st_run *a, const st_run *b) {
  if (a->n != b->n)
    return 0;
  for (size_t i = 0; i < a->n; i++) {
    const tack_signal *x = &a->sigs[i].sig, *y = &b->sigs[i].sig;
    if (a->sigs[i].bar != b->sigs[i].bar || x->strength != y->strength ||
        x->confidence != y->confidence || strcmp(x->reason, y->reason) != 0)
      return 0;
  }
  return 1;
}

void st_bars_from_closes(const double *closes, size_t n, double spread, tack_bar *out) {
  for (size_t i = 0; i < n; i++) {
    double open = i ? closes[i - 1] : closes[0];
    memset(&out[i], 0, sizeof out[i]);
    out[i].ts = (tack_time)(1700000000 + 3600 * (int64_t)i) * TACK_NS_PER_SEC;
    out[i].open = open;
    out[i].close = closes[i];
    out[i].high = fmax(open, closes[i]) + spread;
    out[i].low = fmin(open, closes[i]) - spread;
    out[i].volume = 1.0;
    out[i].timeframe_s = 3600;
    out[i].flags = TACK_BAR_CLOSED;
  }
}

/* splitmix64: a small generator good enough for test series. */
static uint64_t next_u64(uint64_t *s) {
  uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static double uniform(uint64_t *s) { return (double)(next_u64(s) >> 11) / 9007199254740992.0; }

void st_random_walk(uint64_t seed, tack_bar *out, size_t n) {
  uint64_t s = seed;
  double price = 100.0;
  for (size_t i = 0; i < n; i++) {
    double open = price;
    price *= 1.0 + (uniform(&s) - 0.5) * 0.03;
    memset(&out[i], 0, sizeof out[i]);
    out[i].ts = (tack_time)(1700000000 + 3600 * (int64_t)i) * TACK_NS_PER_SEC;
    out[i].open = open;
    out[i].close = price;
    out[i].high = fmax(open, price) * (1.0 + uniform(&s) * 0.01);
    out[i].low = fmin(open, price) * (1.0 - uniform(&s) * 0.01);
    out[i].volume = 1.0 + uniform(&s) * 10.0;
    out[i].timeframe_s = 3600;
    out[i].flags = TACK_BAR_CLOSED;
  }
}

void st_load_bars(const char *name, uint32_t tf, size_t fallback, tack_bar **bars, size_t *n,
                  int *real) {
  *real = 0;
  if (bars_csv_shared_dir() && bars_csv_bars(name, tf, bars, n) == 0) {
    *real = 1;
    return;
  }
  fprintf(stderr, "note: %s not available (TACK_SHARED_DIR/data); using a random walk instead\n",
          name);
  *bars = malloc(fallback * sizeof **bars);
  assert_non_null(*bars);
  st_random_walk(7, *bars, fallback);
  *n = fallback;
}

int st_filter_run(st_inst *f, const tack_bar *in, size_t n, tack_bar **out, size_t *n_out) {
  size_t cap = n + 64, len = 0;
  tack_bar *all = malloc(cap * sizeof *all);
  tack_bar made[256];
  assert_non_null(all);
  for (size_t i = 0; i < n; i++) {
    uint32_t k = 0;
    int rc = tack_instance_filter_update(f->ctx, &in[i], made, 256, &k);
    if (rc != 0) {
      free(all);
      return rc;
    }
    if (len + k > cap) {
      cap = (len + k) * 2;
      all = realloc(all, cap * sizeof *all);
      assert_non_null(all);
    }
    memcpy(all + len, made, k * sizeof *made);
    len += k;
  }
  *out = all;
  *n_out = len;
  return 0;
}
