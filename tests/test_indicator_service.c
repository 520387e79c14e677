/*
 * test_indicator_service.c: the host's indicator service (host->ind_open,
 * ind_reset, ind_close; host/indicator_service.c) through the real loader
 * and instances, with the fixture strategy "probe.ind"
 * (fixtures/strategies/probe.c), which opens what its `specs` parameter
 * lists and records what happened:
 *   - open, feed, close; the handle's fields; values equal to the same
 *     indicator run directly, bit for bit, provisional bars included;
 *   - opening in create, configure and start; TACK_ESTATE elsewhere;
 *   - bad specs: unknown id, another kind, bad or too many values, each
 *     reported at the opener's config file and line with the spec;
 *   - lifetime: children destroyed with the opener (ASan tells), closed
 *     early, stale and foreign handles refused, reset with and without the
 *     indicator's own reset; allocation failures at every step.
 */
#include <dlfcn.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "alloc.h"
#include "probe.h"
#include "strat_test_util.h"

static st_env env;
static probe_record *calls;
static void *probe_so;

#define LEN(a) (sizeof(a) / sizeof((a)[0]))

static probe_state *probe_of(st_inst *in) { return tack_instance_self(in->ctx); }

/* A probe opening specs (';'-separated) with more params; must succeed. */
static void probe_new(st_inst *in, const char *specs, const char *more) {
  char params[512];
  snprintf(params, sizeof params, "specs = \"%s\";%s%s", specs, more ? " " : "", more ? more : "");
  tack_diag d = TACK_DIAG_INIT;
  int rc = st_new(&env, in, "probe.ind", params, &d);
  if (rc != 0) {
    tack_diag_print(&d, stderr);
    fail_msg("probe {%s}: %s", params, tack_err_name(rc));
  }
  tack_diag_free(&d);
}

/* The indicators opened, run against the same ones made directly: every
 * value equal, bit for bit, every bar; provisional versions included. */
static void test_open_update_close(void **state) {
  (void)state;
  static const struct {
    const char *spec; /* as a strategy writes it */
    const char *id;   /* the same indicator made directly */
    const char *params;
    uint32_t n_outputs;
    int32_t lookback;
    const char *first_output;
  } cases[] = {
      {"ema:12", "ema", "period = 12;", 1, 11, "value"},
      {"macd:12,26,9", "macd", "fast = 12; slow = 26; signal = 9;", 3, 33, "macd"},
      {"bbands:period=20,nbdevup=2.5", "bbands", "period = 20; nbdevup = 2.5;", 3, 19, "upper"},
      {"rsi:7,hlc3", "rsi", "period = 7; source = \"hlc3\";", 1, 7, "value"},
      {"supertrend:multiplier=2.5", "supertrend", "multiplier = 2.5;", 2, 10, "value"},
      {"probe.count", "probe.count", NULL, 1, -1, "count"},
  };
  char specs[512] = "";
  for (size_t c = 0; c < LEN(cases); c++)
    snprintf(specs + strlen(specs), sizeof specs - strlen(specs), "%s%s", c ? "|" : "",
             cases[c].spec);
  st_inst probe, direct[LEN(cases)];
  probe_new(&probe, specs, NULL);
  probe_state *ps = probe_of(&probe);
  assert_int_equal(ps->n, (int)LEN(cases));
  for (size_t c = 0; c < LEN(cases); c++) {
    assert_int_equal(calls->rc[c], 0);
    const tack_ind *ind = ps->ind[c];
    assert_non_null(ind);
    assert_int_equal(ind->size, sizeof(tack_ind));
    assert_int_equal(ind->n_outputs, cases[c].n_outputs);
    assert_int_equal(ind->lookback, cases[c].lookback);
    assert_string_equal(ind->outputs[0].name, cases[c].first_output);
    assert_null(ind->outputs[ind->n_outputs].name);
    assert_non_null(ind->update);
    assert_int_equal(st_new_in(&env, &direct[c], "indicators", cases[c].id, cases[c].params, NULL),
                     0);
  }

  tack_bar bars[300];
  st_random_walk(5, bars, LEN(bars));
  for (size_t i = 0; i < LEN(bars); i++) {
    for (int k = 0; k < 2; k++) {
      tack_bar b = bars[i];
      if (k == 0) { /* a provisional version first */
        b.flags = 0;
        b.close = b.close * 1.003;
        b.high = fmax(b.high, b.close);
      }
      tack_signal sig;
      assert_int_equal(st_bar(&probe, &b, &sig), 0);
      for (size_t c = 0; c < LEN(cases); c++) {
        double out[PROBE_OUT_MAX];
        int rc = tack_instance_indicator_update(direct[c].ctx, &b, out);
        assert_int_equal(ps->ready[c], rc);
        if (rc == 1)
          assert_memory_equal(ps->out[c], out, cases[c].n_outputs * sizeof(double));
        if (k == 1 && rc == 1 && cases[c].lookback >= 0)
          assert_true(i >= (size_t)cases[c].lookback);
        if (k == 1 && cases[c].lookback >= 0 && i == (size_t)cases[c].lookback)
          assert_int_equal(rc, 1);
      }
    }
  }

  /* Close one early: the others go on. */
  const tack_ind *first = ps->ind[0];
  tack_host_services.ind_close(probe.ctx, first);
  ps->ind[0] = NULL;
  tack_signal sig;
  assert_int_equal(st_bar(&probe, &bars[0], &sig), 0);
  assert_int_equal(ps->ready[1], 1);
  /* The same handle again, and NULL: refused or ignored, nothing breaks. */
  tack_host_services.ind_close(probe.ctx, first);
  tack_host_services.ind_close(probe.ctx, NULL);
  for (size_t c = 0; c < LEN(cases); c++)
    st_free(&direct[c]);
  st_free(&probe);
}

/* create, configure and start may open; on_bar may not (TACK_ESTATE), nor
 * may anyone once the instance is configured or running. */
static void test_states(void **state) {
  (void)state;
  const char *whens[] = {"create", "configure", "start"};
  for (size_t w = 0; w < LEN(whens); w++) {
    char more[64];
    st_inst p;
    snprintf(more, sizeof more, "when = \"%s\";", whens[w]);
    probe_new(&p, "ema:5|sma:3", more);
    assert_int_equal(calls->n, 2);
    assert_int_equal(calls->rc[0], 0);
    assert_int_equal(calls->rc[1], 0);
    tack_bar bars[10];
    st_random_walk(1, bars, LEN(bars));
    st_run run = {0};
    st_feed(&p, bars, LEN(bars), &run);
    assert_int_equal(probe_of(&p)->ready[0], 1);
    assert_int_equal(probe_of(&p)->ready[1], 1);
    st_free(&p);
  }

  st_inst p;
  probe_new(&p, "ema:5", "open_in_bar = true;");
  tack_bar bar;
  tack_signal sig;
  st_random_walk(1, &bar, 1);
  calls->bar_open_rc = 0;
  assert_int_equal(st_bar(&p, &bar, &sig), 0);
  assert_int_equal(calls->bar_open_rc, TACK_ESTATE);

  static const tack_ind stale;
  const tack_ind *ind = &stale; /* a refused open still clears the result */
  assert_int_equal(tack_host_services.ind_open(p.ctx, "ema:5", &ind), TACK_ESTATE);
  assert_null(ind);
  tack_instance_stop(p.ctx);
  assert_int_equal(tack_host_services.ind_open(p.ctx, "ema:5", &ind), TACK_ESTATE);
  assert_int_equal(tack_host_services.ind_open(NULL, "ema:5", &ind), TACK_EINVAL);
  st_free(&p);
}

/* Every bad spec fails the opener's configure with its own code recorded
 * by the probe, and a message at the probe's config file and line (line 2
 * of the file rt_ci_make writes) naming the spec, the problem and the
 * opener. */
static void test_bad_specs(void **state) {
  (void)state;
  static const struct {
    const char *spec;
    int rc;
    const char *text;
  } cases[] = {
      {"nosuch:5", TACK_ENOENT, "indicator nosuch:5: no plugin 'nosuch' is loaded"},
      {"rsx", TACK_ENOENT, "did you mean: rsi (indicator)"},
      {"heikin_ashi", TACK_ETYPE, "plugin 'heikin_ashi' is a filter, not an indicator"},
      {"ema_cross:3,5", TACK_ETYPE, "is a strategy, not an indicator"},
      {"ema:1", TACK_ECONFIG, "ema:1: parameter 1 ('period'): must be"},
      {"ema:12,close,7", TACK_ECONFIG, "too many values: plugin ema takes 2 parameters"},
      {"ema:period=x", TACK_ECONFIG, "parameter 'period': must be an integer, got 'x'"},
      {"ema:periodd=12", TACK_ECONFIG, "did you mean 'period'"},
      {"ema:source=median", TACK_ECONFIG, "source"},
      {"ema:12,period=14", TACK_ECONFIG, "set twice"},
      {"macd:signal=0", TACK_ECONFIG, "signal"},
      {"|", TACK_ECONFIG, "empty plugin spec"},
      {"ema:", TACK_ECONFIG, "nothing after ':'"},
  };
  for (size_t c = 0; c < LEN(cases); c++) {
    char params[256];
    tack_diag d = TACK_DIAG_INIT;
    st_inst p;
    snprintf(params, sizeof params, "specs = \"%s\";", cases[c].spec);
    memset(calls->rc, 0, sizeof calls->rc);
    int rc = st_new(&env, &p, "probe.ind", params, &d);
    assert_int_equal(rc, TACK_ECONFIG);
    assert_null(p.ctx);
    if (cases[c].spec[0])
      assert_int_equal(calls->rc[0], cases[c].rc);
    char place[PATH_MAX + 128];
    snprintf(place, sizeof place, "%s:2: strategies.s: ind_open: indicator ", p.c.file);
    int found = 0;
    for (size_t i = 0; i < d.n; i++)
      found |= strncmp(d.msgs[i], place, strlen(place)) == 0 &&
               strstr(d.msgs[i], cases[c].text) != NULL &&
               strstr(d.msgs[i], "(opened by plugin probe.ind)") != NULL;
    if (!found) {
      tack_diag_print(&d, stderr);
      fail_msg("spec \"%s\": no message starting \"%s\" with \"%s\"", cases[c].spec, place,
               cases[c].text);
    }
    tack_diag_free(&d);
    rt_ci_free(&p.c);
  }

  /* An empty spec list opens nothing; the probe skips empty items. */
  st_inst p;
  probe_new(&p, "", NULL);
  assert_int_equal(calls->n, 0);
  st_free(&p);

  /* A good indicator before a bad one: the instance fails, and the good
   * child goes with it (ASan and the leak report tell). */
  tack_diag d = TACK_DIAG_INIT;
  assert_int_equal(st_new(&env, &p, "probe.ind", "specs = \"ema:12|macd:12,26,9|nosuch\";", &d),
                   TACK_ECONFIG);
  assert_int_equal(calls->rc[0], 0);
  assert_int_equal(calls->rc[1], 0);
  assert_int_equal(calls->rc[2], TACK_ENOENT);
  assert_int_equal(d.n, 1);
  tack_diag_free(&d);
  rt_ci_free(&p.c);

  /* Outside create and configure a bad spec is logged, not a config
   * problem: the instance starts. */
  probe_new(&p, "nosuch|ema:4", "when = \"start\";");
  assert_int_equal(calls->rc[0], TACK_ENOENT);
  assert_int_equal(calls->rc[1], 0);
  st_free(&p);

  /* Without a registry nothing can be found. */
  tack_instance_set_registry(NULL);
  assert_int_equal(st_new(&env, &p, "probe.ind", "specs = \"ema:12\";", NULL), TACK_ECONFIG);
  assert_int_equal(calls->rc[0], TACK_ENOENT);
  rt_ci_free(&p.c);
  tack_instance_set_registry(env.ld);
}

/* Children live as long as the opener: a probe that does not close its
 * indicators leaves nothing behind (LeakSanitizer checks at exit); a
 * handle of another instance is refused and stays usable. */
static void test_lifetime(void **state) {
  (void)state;
  st_inst a, b;
  probe_new(&a, "ema:12|macd:12,26,9|bbands:20|probe.count", "close_in_destroy = false;");
  probe_new(&b, "ema:12", NULL);
  const tack_ind *foreign = probe_of(&a)->ind[0];
  tack_host_services.ind_close(b.ctx, foreign);
  tack_host_services.ind_reset(b.ctx, foreign);
  tack_bar bars[20];
  tack_signal sig;
  st_random_walk(2, bars, LEN(bars));
  for (size_t i = 0; i < LEN(bars); i++)
    assert_int_equal(st_bar(&a, &bars[i], &sig), 0);
  assert_int_equal(probe_of(&a)->ready[0], 1);
  int destroys = calls->destroys;
  st_free(&a);
  assert_int_equal(calls->destroys, destroys + 1);
  st_free(&b);

  /* Many opens and closes in one instance's life. */
  probe_new(&a, "ema:3|ema:4|ema:5|ema:6|ema:7|ema:8|ema:9|ema:10", "close_in_destroy = false;");
  for (int i = 0; i < PROBE_MAX; i += 2) {
    tack_host_services.ind_close(a.ctx, probe_of(&a)->ind[i]);
    probe_of(&a)->ind[i] = NULL;
  }
  st_free(&a);
}

/* ind_reset: as if just opened, with the indicator's reset and, for one
 * without (probe.count), with a new child behind the same handle. */
static void test_reset(void **state) {
  (void)state;
  st_inst p;
  probe_new(&p, "ema:5|probe.count", NULL);
  probe_state *ps = probe_of(&p);
  const tack_ind *ema = ps->ind[0], *count = ps->ind[1];
  tack_bar bars[30];
  tack_signal sig;
  double first[30];
  st_random_walk(9, bars, LEN(bars));
  for (size_t i = 0; i < LEN(bars); i++) {
    st_bar(&p, &bars[i], &sig);
    first[i] = ps->ready[0] == 1 ? ps->out[0][0] : NAN;
  }
  assert_true(ps->out[1][0] == 30.0);
  tack_host_services.ind_reset(p.ctx, ema);
  tack_host_services.ind_reset(p.ctx, count);
  assert_ptr_equal(ps->ind[0], ema);
  assert_ptr_equal(ps->ind[1], count);
  for (size_t i = 0; i < LEN(bars); i++) {
    st_bar(&p, &bars[i], &sig);
    if (i < 4) {
      assert_int_equal(ps->ready[0], 0);
    } else {
      assert_int_equal(ps->ready[0], 1);
      assert_true(ps->out[0][0] == first[i]);
    }
    assert_true(ps->out[1][0] == (double)(i + 1));
  }
  st_free(&p);
}

/* Every allocation of making a probe with indicators fails in turn: each
 * failure is an error (or absorbed), never a crash or a leak. */
static void test_allocation_failures(void **state) {
  (void)state;
  int succeeded = 0;
  for (uint64_t k = 1; k < 400 && !succeeded; k++) {
    st_inst p;
    memset(calls->rc, 0, sizeof calls->rc);
    tack_alloc_fail_after(k);
    int rc = st_new(&env, &p, "probe.ind", "specs = \"ema:12|macd:12,26,9\";", NULL);
    tack_alloc_fail_after(0);
    if (rc == 0) {
      succeeded = calls->rc[0] == 0 && calls->rc[1] == 0;
      st_free(&p);
    } else {
      assert_true(rc == TACK_ENOMEM || rc == TACK_ECONFIG);
      rt_ci_free(&p.c);
    }
  }
  assert_true(succeeded);
}

int main(void) {
  if (st_env_open(&env) != 0)
    return 1;
  /* The loader keeps the fixture loaded; a second dlopen of the same file
   * reaches the same record. */
  const tack_plugin *pp = tack_loader_find(env.ld, "probe.ind");
  probe_so = pp ? dlopen(pp->path, RTLD_NOW | RTLD_LOCAL) : NULL;
  calls = probe_so ? dlsym(probe_so, PROBE_RECORD_SYMBOL) : NULL;
  if (!calls) {
    fprintf(stderr, "probe.ind: no %s record\n", PROBE_RECORD_SYMBOL);
    st_env_close(&env);
    return 1;
  }
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_open_update_close),
      cmocka_unit_test(test_states),
      cmocka_unit_test(test_bad_specs),
      cmocka_unit_test(test_lifetime),
      cmocka_unit_test(test_reset),
      cmocka_unit_test(test_allocation_failures),
  };
  int failed = cmocka_run_group_tests(tests, NULL, NULL);
  dlclose(probe_so);
  st_env_close(&env);
  return failed;
}
