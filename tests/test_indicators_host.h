/*
 * test_indicators_host.h: what the indicator tests and benchmark share: a
 * small tack_host whose parameters come from a key=value table, helpers that
 * open an indicator plugin through its descriptor and vtable as the host
 * does, the deterministic synthetic bar series the TA-Lib fixtures were
 * computed on, and a reader for the shared market data files.
 */
#ifndef TEST_INDICATORS_HOST_H
#define TEST_INDICATORS_HOST_H

#include <stddef.h>

#include "tack.h"

/* One parameter as text; converted to the type the plugin declares. */
typedef struct tih_param {
  const char *key;
  const char *value;
} tih_param;

#define TIH_MAX_PARAMS 16
#define TIH_MAX_OUTPUTS 8

/* An open indicator instance. */
typedef struct tih_ind {
  struct tack_ctx *ctx;
  void *self;
  const tack_plugin_desc *desc;
  const tack_indicator_vtable *vt;
  int n_out;
} tih_ind;

/* The indicator descriptor with this id in tack_plugin_entry, or NULL. */
const tack_plugin_desc *tih_find(const char *id);

/* create + configure with these parameters (the rest take their defaults).
 * Returns 0, or the plugin's error code with nothing left open. */
int tih_open(tih_ind *ind, const char *id, const tih_param *params, size_t n);
/* The same for a descriptor from anywhere (e.g. a dlopen'ed shared object). */
int tih_open_desc(tih_ind *ind, const tack_plugin_desc *desc, const tih_param *params, size_t n);
/* Change the parameters and run configure again. */
int tih_reconfigure(tih_ind *ind, const tih_param *params, size_t n);
void tih_close(tih_ind *ind);
static inline int tih_update(tih_ind *ind, const tack_bar *bar, double *out) {
  return ind->vt->update(ind->self, bar, out);
}

/* Host bookkeeping: blocks allocated and not freed, making allocation number
 * `n` from now fail (-1: never), and the last param_error message. */
long tih_live_allocs(void);
void tih_fail_alloc_after(long n);
const char *tih_last_error(void);

/* The synthetic series (closed hourly bars from 2021-01-01 UTC): a bounded
 * random walk in 0.25 ticks with flat bars, a 40-bar flat run (its second
 * half without volume), zero-volume bars, outside bars whose up-move equals
 * their down-move, opening gaps, and steady up and down runs. */
#define TIH_SYNTH_BARS 2000
void tih_synthetic(tack_bar *bars, size_t n);

/* The folder of the shared data (TACK_SHARED_DIR/data), or NULL when it is
 * absent; tests then skip the parts that need it. */
const char *tih_data_dir(void);
/* Read a ts,open,high,low,close,volume file of closed bars; *bars is
 * malloc'd. Returns 0 or -1 (with a message on stderr). */
int tih_load_csv(const char *path, uint32_t timeframe_s, tack_bar **bars, size_t *n);

#endif
