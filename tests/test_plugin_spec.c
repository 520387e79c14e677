/*
 * test_plugin_spec.c: "NAME[:PARAMS]" specs (host/plugin_spec.c) against
 * plugins defined here, in process: positional, named and mixed values,
 * each parameter type, every kind of error with its code and message (the
 * spec and the parameter named, secrets never shown), the plugin's own
 * refusals from create and configure, filter chains with growing buffers,
 * and out-of-memory at every allocation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "instance.h"
#include "params.h"
#include "plugin_spec.h"

/* ------------------------------------------------------------------------ */
/* Plugins                                                                   */
/* ------------------------------------------------------------------------ */

typedef struct demo {
  tack_ctx *ctx;
  const tack_host *host;
  int64_t period;
} demo;

static int demo_create(tack_ctx *ctx, const tack_host *host, void **self) {
  const char *label = NULL;
  host->param_string(ctx, "label", &label);
  if (label && strcmp(label, "fail_create") == 0)
    return TACK_EIO;
  demo *d = host->alloc(ctx, sizeof *d);
  if (!d)
    return TACK_ENOMEM;
  d->ctx = ctx;
  d->host = host;
  *self = d;
  return 0;
}

static int demo_configure(void *self) {
  demo *d = self;
  d->host->param_int(d->ctx, "period", &d->period);
  if (d->period == 13)
    return d->host->param_error(d->ctx, "period", "13 is unlucky");
  return 0;
}

static void demo_destroy(void *self) {
  demo *d = self;
  d->host->free(d->ctx, d);
}

static int demo_update(void *self, const tack_bar *bar, double *out) {
  demo *d = self;
  out[0] = bar->close * (double)d->period;
  return 1;
}

static const tack_output_spec demo_outputs[] = {{"value", "close times period"}, {NULL, NULL}};

static const tack_param_spec demo_params[] = {
    {"period", TACK_PARAM_INT, 0, 2, 1000, 14, NULL, NULL, "bars"},
    {"ratio", TACK_PARAM_DOUBLE, 0, 0, 1, 0.5, NULL, NULL, "a fraction"},
    {"smooth", TACK_PARAM_BOOL, 0, 0, 0, 0, NULL, NULL, "smooth it"},
    {"source", TACK_PARAM_STRING, 0, 0, 0, 0, "close", "close|open", "price"},
    {"label", TACK_PARAM_STRING, 0, 0, 0, 0, NULL, NULL, "any text"},
    {"key", TACK_PARAM_STRING, TACK_PARAM_SECRET, 0, 0, 0, NULL, NULL, "an API key"},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL}};

static const tack_indicator_vtable demo_vtable = {
    sizeof(tack_indicator_vtable),
    0,
    {demo_create, demo_configure, NULL, NULL, demo_destroy},
    demo_outputs,
    NULL,
    demo_update,
    NULL};

static const tack_plugin_desc demo_desc = {sizeof(tack_plugin_desc),
                                           TACK_KIND_INDICATOR,
                                           "demo",
                                           "Demo",
                                           "1.0",
                                           "for tests",
                                           demo_params,
                                           &demo_vtable};

static const tack_param_spec need_params[] = {
    {"size", TACK_PARAM_DOUBLE, TACK_PARAM_REQUIRED, 0, 10, 0, NULL, NULL, "brick size"},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL}};

static const tack_plugin_desc need_desc = {
    sizeof(tack_plugin_desc), TACK_KIND_INDICATOR, "need",      "Need", "1.0",
    "a required param",       need_params,         &demo_vtable};

/* A filter that makes `copies` bars per input (close bars with a close of
 * c make c bars when copies is 0), each 1 ns apart. */
typedef struct rep {
  tack_ctx *ctx;
  const tack_host *host;
  int64_t copies;
} rep;

static int rep_create(tack_ctx *ctx, const tack_host *host, void **self) {
  rep *r = host->alloc(ctx, sizeof *r);
  if (!r)
    return TACK_ENOMEM;
  r->ctx = ctx;
  r->host = host;
  host->param_int(ctx, "copies", &r->copies);
  *self = r;
  return 0;
}

static void rep_destroy(void *self) {
  rep *r = self;
  r->host->free(r->ctx, r);
}

static int rep_update(void *self, const tack_bar *in, tack_bar *out, uint32_t cap,
                      uint32_t *n_out) {
  rep *r = self;
  uint64_t n = r->copies ? (uint64_t)r->copies : (uint64_t)in->close;
  *n_out = 0;
  if (n > cap)
    return TACK_ENOSPC;
  for (uint64_t i = 0; i < n; i++) {
    out[i] = *in;
    out[i].ts = in->ts + (tack_time)i;
  }
  *n_out = (uint32_t)n;
  return 0;
}

static const tack_param_spec rep_params[] = {
    {"copies", TACK_PARAM_INT, 0, 0, 100, 2, NULL, NULL, "bars per input; 0: the close"},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL}};

static const tack_filter_vtable rep_vtable = {
    sizeof(tack_filter_vtable), 0, {rep_create, NULL, NULL, NULL, rep_destroy}, rep_update, NULL};

static const tack_plugin_desc rep_desc = {
    sizeof(tack_plugin_desc), TACK_KIND_FILTER, "rep",      "Repeat", "1.0",
    "repeats bars",           rep_params,       &rep_vtable};

static const tack_plugin_desc plain_desc = {sizeof(tack_plugin_desc),
                                            TACK_KIND_FILTER,
                                            "plain",
                                            "Plain",
                                            "1.0",
                                            "no parameters",
                                            NULL,
                                            &rep_vtable};

static const tack_plugin plugins[] = {
    {&demo_desc, "/test/demo.so", 1, 0, 0},
    {&need_desc, "/test/demo.so", 1, 0, 1},
    {&rep_desc, "/test/filters.so", 1, 0, 0},
    {&plain_desc, "/test/filters.so", 1, 0, 1},
};
static const tack_plugin *const plugin_list[] = {&plugins[0], &plugins[1], &plugins[2],
                                                 &plugins[3]};
static const tack_plugin_set set = {plugin_list, 4, NULL, 0};

/* ------------------------------------------------------------------------ */
/* Parsing                                                                   */
/* ------------------------------------------------------------------------ */

/* Expected value of a parameter the text set: 'i' int, 'I' 64-bit int,
 * 'd' double, 'b' bool, 's' string. */
typedef struct want_value {
  const char *key;
  char type;
  double num;
  const char *str;
} want_value;

static void check_value(const config_setting_t *params, const want_value *w) {
  const config_setting_t *s = config_setting_get_member(params, w->key);
  if (!s)
    fail_msg("%s is not set", w->key);
  switch (w->type) {
  case 'i':
    assert_int_equal(config_setting_type(s), CONFIG_TYPE_INT);
    assert_true(config_setting_get_int(s) == (int)w->num);
    break;
  case 'I':
    assert_int_equal(config_setting_type(s), CONFIG_TYPE_INT64);
    assert_true((double)config_setting_get_int64(s) == w->num);
    break;
  case 'd':
    assert_int_equal(config_setting_type(s), CONFIG_TYPE_FLOAT);
    assert_true(config_setting_get_float(s) == w->num);
    break;
  case 'b':
    assert_int_equal(config_setting_type(s), CONFIG_TYPE_BOOL);
    assert_int_equal(config_setting_get_bool(s), (int)w->num);
    break;
  default:
    assert_int_equal(config_setting_type(s), CONFIG_TYPE_STRING);
    assert_string_equal(config_setting_get_string(s), w->str);
    break;
  }
}

typedef struct good_case {
  const char *text;
  uint32_t kind;
  int n_values;
  want_value values[6];
} good_case;

static const good_case good_cases[] = {
    {"demo", TACK_KIND_INDICATOR, 0, {{0}}},
    {"demo:20", TACK_KIND_INDICATOR, 1, {{"period", 'i', 20, NULL}}},
    {"demo:+20", TACK_KIND_INDICATOR, 1, {{"period", 'i', 20, NULL}}},
    {"demo:20,0.25,true,open,hello world",
     TACK_KIND_INDICATOR,
     5,
     {{"period", 'i', 20, NULL},
      {"ratio", 'd', 0.25, NULL},
      {"smooth", 'b', 1, NULL},
      {"source", 's', 0, "open"},
      {"label", 's', 0, "hello world"}}},
    /* Typed by the spec: "1" is a double for ratio. */
    {"demo:period=20,ratio=1",
     TACK_KIND_INDICATOR,
     2,
     {{"period", 'i', 20, NULL}, {"ratio", 'd', 1, NULL}}},
    {"demo:ratio=.5e0,smooth=false",
     TACK_KIND_INDICATOR,
     2,
     {{"ratio", 'd', 0.5, NULL}, {"smooth", 'b', 0, NULL}}},
    /* Mixed, and a value may hold ':' and '='. */
    {"demo:30,label=a:b=c",
     TACK_KIND_INDICATOR,
     2,
     {{"period", 'i', 30, NULL}, {"label", 's', 0, "a:b=c"}}},
    {"demo:key=hunter2", TACK_KIND_INDICATOR, 1, {{"key", 's', 0, "hunter2"}}},
    {"need:size=2.5", TACK_KIND_INDICATOR, 1, {{"size", 'd', 2.5, NULL}}},
    {"rep:3", TACK_KIND_FILTER, 1, {{"copies", 'i', 3, NULL}}},
    {"plain", TACK_KIND_FILTER, 0, {{0}}},
};

static void test_good_specs(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof good_cases / sizeof good_cases[0]; i++) {
    const good_case *c = &good_cases[i];
    tack_diag d = TACK_DIAG_INIT;
    tack_plugin_spec *s = NULL;
    int rc = tack_plugin_spec_new(c->text, c->kind, &set, &d, &s);
    if (rc != 0)
      fail_msg("%s: %s (%s)", c->text, tack_err_name(rc), d.n ? d.msgs[0] : "no message");
    const config_setting_t *params = tack_plugin_spec_params(s);
    assert_int_equal(config_setting_length(params), c->n_values);
    for (int k = 0; k < c->n_values; k++)
      check_value(params, &c->values[k]);
    const tack_cfg_instance *ci = tack_plugin_spec_config(s);
    assert_ptr_equal(ci->params, params);
    assert_int_equal(ci->kind, c->kind);
    assert_string_equal(ci->plugin_id, tack_plugin_spec_desc(s)->id);
    assert_null(tack_plugin_spec_instance(s));
    assert_int_equal(tack_plugin_spec_start(s, &d), 0);
    assert_non_null(tack_plugin_spec_instance(s));
    assert_int_equal(tack_plugin_spec_start(s, &d), TACK_ESTATE);
    assert_int_equal(d.n, 0);
    tack_plugin_spec_free(s);
  }
  tack_plugin_spec_free(NULL);
}

/* The defaults are the spec's; the instance sees the typed values. */
static void test_instance_sees_values(void **state) {
  (void)state;
  tack_diag d = TACK_DIAG_INIT;
  tack_plugin_spec *s = NULL;
  tack_bar bar = {0};
  double out = 0;
  int64_t period;
  const char *source;
  assert_int_equal(tack_plugin_spec_new("demo:7", TACK_KIND_INDICATOR, &set, &d, &s), 0);
  assert_int_equal(tack_params_int(&demo_desc, tack_plugin_spec_params(s), "period", &period), 0);
  assert_int_equal(period, 7);
  assert_int_equal(tack_params_string(&demo_desc, tack_plugin_spec_params(s), "source", &source),
                   0);
  assert_string_equal(source, "close");
  assert_int_equal(tack_plugin_spec_start(s, &d), 0);
  bar.close = 3;
  bar.flags = TACK_BAR_CLOSED;
  assert_int_equal(tack_instance_indicator_update(tack_plugin_spec_instance(s), &bar, &out), 1);
  assert_true(out == 21);
  const tack_output_spec *o = tack_instance_indicator_outputs(tack_plugin_spec_instance(s));
  assert_string_equal(o[0].name, "value");
  assert_null(o[1].name);
  tack_plugin_spec_free(s);
}

typedef struct bad_case {
  const char *text;
  uint32_t kind;
  int rc;
  const char *msg; /* the whole first message */
} bad_case;

static const bad_case bad_cases[] = {
    {"", TACK_KIND_INDICATOR, TACK_EPARSE, ": empty plugin spec: name a plugin"},
    {":14", TACK_KIND_INDICATOR, TACK_EPARSE, ":14: no plugin id before ':'"},
    {"demo:", TACK_KIND_INDICATOR, TACK_EPARSE,
     "demo:: nothing after ':' (write the plugin id alone for its default parameters)"},
    {"dmeo:14", TACK_KIND_INDICATOR, TACK_ENOENT,
     "dmeo:14: no plugin 'dmeo' is loaded; did you mean: demo (indicator)?"},
    {"re", TACK_KIND_FILTER, TACK_ENOENT,
     "re: no plugin 're' is loaded; did you mean: rep (filter)?"},
    {"zzzzzzzz", TACK_KIND_INDICATOR, TACK_ENOENT,
     "zzzzzzzz: no plugin 'zzzzzzzz' is loaded; `tack plugins` lists the 4 loaded plugins"},
    {"rep", TACK_KIND_INDICATOR, TACK_ETYPE, "rep: plugin 'rep' is a filter, not an indicator"},
    {"demo", TACK_KIND_FILTER, TACK_ETYPE, "demo: plugin 'demo' is an indicator, not a filter"},
    {"demo:20,0.5,true,open,x,hunter2,7", TACK_KIND_INDICATOR, TACK_EPARSE,
     "demo:20,0.5,true,open,x,***,7: parameter 7 ('7'): too many values: plugin demo takes 6 "
     "parameters, in this order: period, ratio, smooth, source, label, key"},
    {"plain:3", TACK_KIND_FILTER, TACK_EPARSE,
     "plain:3: parameter 1 ('3'): plugin plain takes no parameters"},
    {"plain:x=3", TACK_KIND_FILTER, TACK_EPARSE,
     "plain:x=3: parameter 1: plugin plain takes no parameters"},
    {"demo:perido=3", TACK_KIND_INDICATOR, TACK_EPARSE,
     "demo:perido=3: parameter 1: plugin demo has no parameter 'perido' (did you mean "
     "'period'?)"},
    {"demo:zzzzzzz=3", TACK_KIND_INDICATOR, TACK_EPARSE,
     "demo:zzzzzzz=3: parameter 1: plugin demo has no parameter 'zzzzzzz' (it takes: period, "
     "ratio, smooth, source, label, key)"},
    {"demo:period=3,4", TACK_KIND_INDICATOR, TACK_EPARSE,
     "demo:period=3,4: parameter 2 has no name but follows a named one: positional values come "
     "first"},
    {"demo:20,period=3", TACK_KIND_INDICATOR, TACK_EPARSE,
     "demo:20,period=3: parameter 'period' is set twice (first as parameter 1 ('period'))"},
    {"demo:abc", TACK_KIND_INDICATOR, TACK_EPARSE,
     "demo:abc: parameter 1 ('period'): must be an integer, got 'abc'"},
    {"demo:2.5", TACK_KIND_INDICATOR, TACK_EPARSE,
     "demo:2.5: parameter 1 ('period'): must be an integer, got '2.5'"},
    {"demo: 20", TACK_KIND_INDICATOR, TACK_EPARSE,
     "demo: 20: parameter 1 ('period'): must be an integer, got ' 20'"},
    {"demo:99999999999999999999", TACK_KIND_INDICATOR, TACK_EPARSE,
     "demo:99999999999999999999: parameter 1 ('period'): '99999999999999999999' is beyond the "
     "range of a 64-bit integer"},
    {"demo:20,x", TACK_KIND_INDICATOR, TACK_EPARSE,
     "demo:20,x: parameter 2 ('ratio'): must be a number, got 'x'"},
    {"demo:20,nan", TACK_KIND_INDICATOR, TACK_EPARSE,
     "demo:20,nan: parameter 2 ('ratio'): must be a number, got 'nan'"},
    {"demo:ratio=1e999", TACK_KIND_INDICATOR, TACK_EPARSE,
     "demo:ratio=1e999: parameter 'ratio': '1e999' is beyond the range of a double"},
    {"demo:20,0.5,yes", TACK_KIND_INDICATOR, TACK_EPARSE,
     "demo:20,0.5,yes: parameter 3 ('smooth'): must be true or false, got 'yes'"},
    {"demo:20,,true", TACK_KIND_INDICATOR, TACK_EPARSE,
     "demo:20,,true: parameter 2 is empty (two commas in a row, or one at the end?)"},
    {"demo:20,", TACK_KIND_INDICATOR, TACK_EPARSE,
     "demo:20,: parameter 2 is empty (two commas in a row, or one at the end?)"},
    {"demo:=3", TACK_KIND_INDICATOR, TACK_EPARSE, "demo:=3: parameter 1 has no name before '='"},
    {"demo:period=", TACK_KIND_INDICATOR, TACK_EPARSE,
     "demo:period=: parameter 'period' has no value after '='"},
    /* Well-formed, refused by the spec: not a usage error. */
    {"demo:1", TACK_KIND_INDICATOR, TACK_ECONFIG,
     "demo:1: parameter 1 ('period'): must be an integer in [2, 1000], got 1"},
    {"demo:5000000000", TACK_KIND_INDICATOR, TACK_ECONFIG,
     "demo:5000000000: parameter 1 ('period'): must be an integer in [2, 1000], got "
     "5000000000L"},
    {"demo:20,5", TACK_KIND_INDICATOR, TACK_ECONFIG,
     "demo:20,5: parameter 2 ('ratio'): must be a number in [0, 1], got 5.0"},
    {"demo:source=high", TACK_KIND_INDICATOR, TACK_ECONFIG,
     "demo:source=high: parameter 'source': must be one of close|open, got \"high\""},
    {"need", TACK_KIND_INDICATOR, TACK_ECONFIG,
     "need: parameter 'size': required by plugin need but not set (brick size)"},
    /* A secret's value never appears. */
    {"demo:key=hunter2,smooth=1", TACK_KIND_INDICATOR, TACK_EPARSE,
     "demo:key=***,smooth=1: parameter 'smooth': must be true or false, got '1'"},
};

static void test_bad_specs(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
    const bad_case *c = &bad_cases[i];
    tack_diag d = TACK_DIAG_INIT;
    tack_plugin_spec *s = NULL;
    int rc = tack_plugin_spec_new(c->text, c->kind, &set, &d, &s);
    if (rc != c->rc || d.n < 1 || strcmp(d.msgs[0], c->msg) != 0)
      fail_msg("'%s': got %s, %zu messages, first:\n  %s\nwanted %s:\n  %s", c->text,
               tack_err_name(rc), d.n, d.n ? d.msgs[0] : "(none)", tack_err_name(c->rc), c->msg);
    assert_null(s);
    for (size_t k = 0; k < d.n; k++)
      assert_null(strstr(d.msgs[k], "hunter2"));
    assert_int_equal(tack_plugin_spec_malformed(rc),
                     rc == TACK_EPARSE || rc == TACK_ENOENT || rc == TACK_ETYPE);
    tack_diag_free(&d);
  }
}

/* Every problem of a spec is reported at once. */
static void test_all_problems_at_once(void **state) {
  (void)state;
  tack_diag d = TACK_DIAG_INIT;
  tack_plugin_spec *s = NULL;
  assert_int_equal(tack_plugin_spec_new("demo:abc,x,maybe", TACK_KIND_INDICATOR, &set, &d, &s),
                   TACK_EPARSE);
  assert_int_equal(d.n, 3);
  assert_non_null(strstr(d.msgs[0], "parameter 1 ('period')"));
  assert_non_null(strstr(d.msgs[1], "parameter 2 ('ratio')"));
  assert_non_null(strstr(d.msgs[2], "parameter 3 ('smooth')"));
  tack_diag_free(&d);
}

static void test_refused_files_are_mentioned(void **state) {
  (void)state;
  tack_refusal r = {"/x/bad.so", TACK_ELOAD_ABI_MAJOR, "/x/bad.so: built for ABI 2"};
  const tack_refusal *refusals[] = {&r};
  tack_plugin_set with = {plugin_list, 4, refusals, 1};
  tack_plugin_set none = {NULL, 0, NULL, 0};
  tack_diag d = TACK_DIAG_INIT;
  tack_plugin_spec *s = NULL;
  assert_int_equal(tack_plugin_spec_new("dem", TACK_KIND_INDICATOR, &with, &d, &s), TACK_ENOENT);
  assert_string_equal(d.msgs[0], "dem: no plugin 'dem' is loaded; did you mean: demo "
                                 "(indicator), rep (filter)? (1 plugin file or folder was "
                                 "refused: `tack plugins` says why)");
  assert_int_equal(tack_plugin_spec_new("rsi", TACK_KIND_INDICATOR, &none, &d, &s), TACK_ENOENT);
  assert_string_equal(d.msgs[1], "rsi: no plugin 'rsi': no plugins are loaded at all; check "
                                 "--plugin-dir and TACK_PLUGIN_PATH");
  tack_diag_free(&d);
}

/* The plugin's own refusals name the spec and the parameter too. */
static void test_plugin_refusals(void **state) {
  (void)state;
  tack_diag d = TACK_DIAG_INIT;
  tack_plugin_spec *s = NULL;
  assert_int_equal(tack_plugin_spec_new("demo:13", TACK_KIND_INDICATOR, &set, &d, &s), 0);
  assert_int_equal(tack_plugin_spec_start(s, &d), TACK_ECONFIG);
  assert_null(tack_plugin_spec_instance(s));
  assert_int_equal(d.n, 1);
  assert_string_equal(d.msgs[0], "demo:13: parameter 1 ('period'): 13 is unlucky (plugin demo)");
  tack_plugin_spec_free(s);

  assert_int_equal(
      tack_plugin_spec_new("demo:label=fail_create", TACK_KIND_INDICATOR, &set, &d, &s), 0);
  assert_int_equal(tack_plugin_spec_start(s, &d), TACK_EIO);
  assert_int_equal(d.n, 2);
  assert_string_equal(d.msgs[1], "demo:label=fail_create: plugin demo (/test/demo.so): create "
                                 "failed: input/output error (TACK_EIO)");
  tack_plugin_spec_free(s);
  tack_diag_free(&d);
}

/* ------------------------------------------------------------------------ */
/* Filters                                                                   */
/* ------------------------------------------------------------------------ */

typedef struct collected {
  tack_bar bars[64];
  size_t n;
  int fail_at; /* emit fails on this bar, 0 never */
} collected;

static int collect(void *data, const tack_bar *bar) {
  collected *c = data;
  if (c->fail_at && (int)c->n + 1 == c->fail_at)
    return TACK_EIO;
  assert_true(c->n < 64);
  c->bars[c->n++] = *bar;
  return 0;
}

static tack_plugin_spec *started(const char *text) {
  tack_diag d = TACK_DIAG_INIT;
  tack_plugin_spec *s = NULL;
  assert_int_equal(tack_plugin_spec_new(text, TACK_KIND_FILTER, &set, &d, &s), 0);
  assert_int_equal(tack_plugin_spec_start(s, &d), 0);
  return s;
}

static void test_chain(void **state) {
  (void)state;
  tack_plugin_spec *chain[2] = {started("rep:2"), started("rep:copies=3")};
  tack_bar bar = {1000, 1, 1, 1, 1, 0, 60, TACK_BAR_CLOSED};
  collected c = {.n = 0};
  size_t failed = 99;
  assert_int_equal(tack_plugin_spec_run_filters(chain, 2, &bar, collect, &c, &failed), 0);
  assert_int_equal(c.n, 6); /* 2 x 3, in order */
  for (size_t i = 0; i < 6; i++)
    assert_true(c.bars[i].ts == 1000 + (tack_time)(i / 3) + (tack_time)(i % 3));

  /* No filters: the bar goes through as it is. */
  c.n = 0;
  assert_int_equal(tack_plugin_spec_run_filters(chain, 0, &bar, collect, &c, &failed), 0);
  assert_int_equal(c.n, 1);
  assert_memory_equal(&c.bars[0], &bar, sizeof bar);

  /* emit's error stops the chain and says it came from emit. */
  c.n = 0;
  c.fail_at = 4;
  assert_int_equal(tack_plugin_spec_run_filters(chain, 2, &bar, collect, &c, &failed), TACK_EIO);
  assert_int_equal(failed, 2);
  assert_int_equal(c.n, 3);
  tack_plugin_spec_free(chain[0]);
  tack_plugin_spec_free(chain[1]);
}

/* A filter that needs more room than the buffer gets it, up to a limit. */
static void test_filter_buffer_grows(void **state) {
  (void)state;
  tack_plugin_spec *s = started("rep:0");
  tack_bar bar = {5, 1, 1, 1, 100000, 0, 60, TACK_BAR_CLOSED};
  const tack_bar *out;
  uint32_t n;
  assert_int_equal(tack_plugin_spec_filter(s, &bar, &out, &n), 0);
  assert_int_equal(n, 100000);
  assert_true(out[99999].ts == 5 + 99999);
  bar.close = 3;
  assert_int_equal(tack_plugin_spec_filter(s, &bar, &out, &n), 0);
  assert_int_equal(n, 3);
  bar.close = 4e6;
  assert_int_equal(tack_plugin_spec_filter(s, &bar, &out, &n), TACK_ENOSPC);
  assert_int_equal(n, 0);
  assert_null(out);

  size_t failed = 99;
  collected c = {.n = 0};
  tack_plugin_spec *chain[1] = {s};
  assert_int_equal(tack_plugin_spec_run_filters(chain, 1, &bar, collect, &c, &failed), TACK_ENOSPC);
  assert_int_equal(failed, 0);
  tack_plugin_spec_free(s);
}

/* Out of memory anywhere: an error, never a crash or a leak (ASan). */
static void test_out_of_memory(void **state) {
  (void)state;
  int succeeded = 0;
  for (uint64_t n = 1; n < 200 && !succeeded; n++) {
    tack_diag d = TACK_DIAG_INIT;
    tack_plugin_spec *s = NULL;
    tack_alloc_fail_after(n);
    int rc = tack_plugin_spec_new("demo:20,0.25,label=x", TACK_KIND_INDICATOR, &set, &d, &s);
    if (rc == 0)
      rc = tack_plugin_spec_start(s, &d);
    tack_alloc_fail_after(0);
    if (rc == 0)
      succeeded = 1;
    else
      assert_true(rc == TACK_ENOMEM || rc == TACK_ECONFIG);
    tack_plugin_spec_free(s);
    tack_diag_free(&d);
  }
  assert_true(succeeded);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_good_specs),
      cmocka_unit_test(test_instance_sees_values),
      cmocka_unit_test(test_bad_specs),
      cmocka_unit_test(test_all_problems_at_once),
      cmocka_unit_test(test_refused_files_are_mentioned),
      cmocka_unit_test(test_plugin_refusals),
      cmocka_unit_test(test_chain),
      cmocka_unit_test(test_filter_buffer_grows),
      cmocka_unit_test(test_out_of_memory),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
