/*
 * fake_host.h: a tack_host for testing plugins without the tack host. It
 * loads a plugin shared object with dlopen, gives each instance parameters
 * written as text, counts allocations, runs timers on a virtual clock and
 * records everything an exchange adapter reports. Used by the template
 * tests so that they hold whatever state the real host is in.
 */
#ifndef TACK_TEST_FAKE_HOST_H
#define TACK_TEST_FAKE_HOST_H

#include <stddef.h>
#include <stdint.h>

#include "tack.h"

#define FAKE_MAX_TIMERS 8
#define FAKE_MAX_RECORDS 64

/* One parameter, as its config text; the fake converts it by the spec. */
typedef struct fake_param {
  const char *key;
  const char *value;
} fake_param;

typedef struct fake_timer {
  int active;
  uint64_t id;
  tack_time due;
  uint64_t repeat_ns;
  tack_timer_cb cb;
  void *user;
} fake_timer;

typedef struct fake_bar {
  char symbol[TACK_SYMBOL_MAX];
  tack_bar bar;
  tack_time at; /* the fake clock when it was reported */
} fake_bar;

/* The host side of one instance: what tack.h keeps opaque. */
struct tack_ctx {
  const tack_plugin_desc *desc;
  const fake_param *params; /* NULL-key terminated, or NULL */
  void *self;
  tack_time now;

  long live_blocks;
  long n_allocs;
  long fail_at; /* the fail_at-th allocation fails; 0: none fails */

  fake_timer timers[FAKE_MAX_TIMERS];
  uint64_t last_timer_id;

  char param_error[512]; /* the last one: "key: message" */
  int n_param_errors;

  uint32_t conn[FAKE_MAX_RECORDS];
  char conn_detail[256];
  size_t n_conn;
  tack_instrument instruments[FAKE_MAX_RECORDS];
  size_t n_instruments;
  fake_bar *bars;
  size_t n_bars, cap_bars;
  tack_order_update updates[FAKE_MAX_RECORDS];
  size_t n_updates;
  tack_balance balances[FAKE_MAX_RECORDS];
  size_t n_balances;
  tack_position positions[FAKE_MAX_RECORDS];
  size_t n_positions;
  uint64_t done_req[FAKE_MAX_RECORDS];
  int done_status[FAKE_MAX_RECORDS];
  size_t n_done;
};

extern const tack_host fake_host;

/* dlopen a plugin file and return its entry (NULL with a message on stderr
 * when it cannot be opened). *handle is for fake_unload. */
const tack_plugin_list *fake_load(const char *path, void **handle);
void fake_unload(void *handle);

/* The lifecycle inside a descriptor's vtable, whatever its kind. */
const tack_lifecycle *fake_lifecycle(const tack_plugin_desc *desc);

/* Set up ctx for desc with params, then run create and configure. Returns
 * the first failing code; destroy has then run if create succeeded. */
int fake_instance_new(tack_ctx *ctx, const tack_plugin_desc *desc, const fake_param *params);
/* destroy, then free what the fake recorded. */
void fake_instance_free(tack_ctx *ctx);

/* Fire due timers in time order, moving the clock forward, until none is
 * active or max have fired. Returns how many fired. */
int fake_run_timers(tack_ctx *ctx, int max);

#endif
