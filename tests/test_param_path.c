/*
 * test_param_path.c: parameters flagged TACK_PARAM_PATH are read relative to
 * the folder of the config file that sets them; zeroed bounds are no bounds;
 * the loader refuses the PATH flag on anything but a string.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <libconfig.h>

#include "diag.h"
#include "instance.h"
#include "params.h"
#include "tack.h"

static int plain_create(tack_ctx *ctx, const tack_host *host, void **self) {
  (void)ctx;
  (void)host;
  static int instance;
  *self = &instance;
  return 0;
}
static void plain_destroy(void *self) { (void)self; }
static int plain_on_bar(void *self, const tack_bar *bar, tack_signal *out) {
  (void)self;
  (void)bar;
  (void)out;
  return 0;
}

static const tack_param_spec path_params[] = {
    {.name = "data", .type = TACK_PARAM_STRING, .flags = TACK_PARAM_PATH, .def_str = "d.csv"},
    {.name = "label", .type = TACK_PARAM_STRING, .def_str = "x/y"},
    {.name = "level", .type = TACK_PARAM_INT, .def = 0},
    {.name = NULL}};

static const tack_strategy_vtable path_vtable = {sizeof(tack_strategy_vtable),
                                                 0,
                                                 {plain_create, NULL, NULL, NULL, plain_destroy},
                                                 plain_on_bar,
                                                 NULL,
                                                 NULL};

static const tack_plugin_desc path_desc = {
    sizeof(tack_plugin_desc), TACK_KIND_STRATEGY, "test.path", "Path params", "1.0.0",
    "reads path parameters",  path_params,        &path_vtable};

static const tack_plugin path_plugin = {&path_desc, "/nowhere/test.so", 1, 0, 0};

/* An instance whose params come from `text`, said to be set in `file`. */
static tack_ctx *make(config_t *cfg, const char *file, const char *text) {
  tack_cfg_instance ci;
  tack_diag d = TACK_DIAG_INIT;
  tack_ctx *ctx = NULL;
  config_init(cfg);
  assert_int_equal(config_read_string(cfg, text), CONFIG_TRUE);
  memset(&ci, 0, sizeof ci);
  ci.name = "p";
  ci.section = "strategies";
  ci.kind = TACK_KIND_STRATEGY;
  ci.plugin_id = "test.path";
  ci.plugin = &path_plugin;
  ci.params = config_lookup(cfg, "params");
  ci.file = file;
  ci.line = 1;
  /* The instance keeps a pointer to ci: give it storage that outlives make. */
  static tack_cfg_instance keep[4];
  static int next;
  keep[next % 4] = ci;
  int rc = tack_instance_new(&keep[next++ % 4], NULL, &d, &ctx);
  tack_diag_print(&d, stderr);
  tack_diag_free(&d);
  assert_int_equal(rc, 0);
  return ctx;
}

static void test_relative_path_follows_config(void **state) {
  (void)state;
  config_t cfg;
  const char *s = NULL;
  tack_ctx *ctx = make(&cfg, "/etc/bots/a.cfg", "params = { data = \"../data/btc.csv\"; };");
  assert_int_equal(tack_host_services.param_string(ctx, "data", &s), 0);
  assert_string_equal(s, "/etc/bots/../data/btc.csv");
  /* Asking twice gives the same text. */
  assert_int_equal(tack_host_services.param_string(ctx, "data", &s), 0);
  assert_string_equal(s, "/etc/bots/../data/btc.csv");
  /* A string without the flag is left alone. */
  assert_int_equal(tack_host_services.param_string(ctx, "label", &s), 0);
  assert_string_equal(s, "x/y");
  tack_instance_free(ctx);
  config_destroy(&cfg);
}

static void test_default_and_absolute_paths(void **state) {
  (void)state;
  config_t cfg;
  const char *s = NULL;
  tack_ctx *ctx = make(&cfg, "configs/demo.cfg", "params = { };");
  assert_int_equal(tack_host_services.param_string(ctx, "data", &s), 0);
  assert_string_equal(s, "configs/d.csv"); /* the default, also relative to the config */
  tack_instance_free(ctx);
  config_destroy(&cfg);

  ctx = make(&cfg, "configs/demo.cfg", "params = { data = \"/srv/x.csv\"; };");
  assert_int_equal(tack_host_services.param_string(ctx, "data", &s), 0);
  assert_string_equal(s, "/srv/x.csv");
  tack_instance_free(ctx);
  config_destroy(&cfg);

  /* A config file given without a folder: the working directory. */
  ctx = make(&cfg, "demo.cfg", "params = { data = \"x.csv\"; };");
  assert_int_equal(tack_host_services.param_string(ctx, "data", &s), 0);
  assert_string_equal(s, "x.csv");
  tack_instance_free(ctx);
  config_destroy(&cfg);
}

static void test_zeroed_bounds_are_no_bounds(void **state) {
  (void)state;
  config_t cfg;
  tack_diag d = TACK_DIAG_INIT;
  config_init(&cfg);
  assert_int_equal(config_read_string(&cfg, "params = { level = 12345; };"), CONFIG_TRUE);
  assert_int_equal(tack_params_check(&path_desc, config_lookup(&cfg, "params"), &d), 0);
  assert_int_equal(d.n, 0);
  tack_param_spec bounded = {.name = "x", .type = TACK_PARAM_INT, .min = 1, .max = 3};
  tack_param_spec zeroed = {.name = "x", .type = TACK_PARAM_INT};
  tack_param_spec reversed = {.name = "x", .type = TACK_PARAM_INT, .min = 1, .max = -1};
  tack_param_spec only_negative = {.name = "x", .type = TACK_PARAM_INT, .min = -5, .max = 0};
  assert_true(tack_param_bounded(&bounded));
  assert_false(tack_param_bounded(&zeroed));
  assert_false(tack_param_bounded(&reversed));
  assert_true(tack_param_bounded(&only_negative));
  tack_diag_free(&d);
  config_destroy(&cfg);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_relative_path_follows_config),
      cmocka_unit_test(test_default_and_absolute_paths),
      cmocka_unit_test(test_zeroed_bounds_are_no_bounds),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
