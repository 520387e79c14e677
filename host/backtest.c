/*
 * backtest.c: `tack backtest` (backtest.h, docs/backtesting.md): the
 * `backtest` config group, the venue substitution that turns a config's
 * exchanges into paper venues over stored candles, the recorder that watches
 * a run through the runtime's observer hooks and makes its result (trades,
 * equity, prices, attribution, regimes; metrics.c computes the figures), the
 * progress bar, and the result as JSON.
 */
#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "backtest.h"
#include "candles.h"
#include "config.h"
#include "config_override.h"
#include "instance.h"
#include "loader.h"
#include "log.h"
#include "metrics.h"
#include "params.h"
#include "runtime.h"
#include "store.h"
#include "trading.h"
#include "utc.h"

/* ------------------------------------------------------------------------ */
/* The backtest group                                                        */
/* ------------------------------------------------------------------------ */

enum { B_VENUE, B_RETURNS, B_YEAR_DAYS, B_RISK_FREE, B_MONTE_CARLO, B_COUNT };
static const tack_key_spec backtest_keys[B_COUNT] = {
    [B_VENUE] = {"venue", TACK_SETTING_GROUP, 0, "a group of paper venue params { ... }",
                 "venue = { cash = 100000.0; taker_bps = 5.0; slippage = \"fixed\"; };"},
    [B_RETURNS] = {"returns", TACK_SETTING_STRING, 0,
                   "\"bar\" or a duration such as \"1d\" or \"1h\"", "returns = \"1d\";"},
    [B_YEAR_DAYS] = {"year_days", TACK_SETTING_INT | TACK_SETTING_FLOAT, 0,
                     "a number of days from 1 to 366", "year_days = 365;"},
    [B_RISK_FREE] = {"risk_free", TACK_SETTING_INT | TACK_SETTING_FLOAT, 0,
                     "an annual rate as a fraction, from -1 to 1", "risk_free = 0.02;"},
    [B_MONTE_CARLO] = {"monte_carlo", TACK_SETTING_GROUP, 0, "a group { runs = 1000; seed = 1; }",
                       "monte_carlo = { runs = 1000; seed = 1; };"},
};

enum { MC_RUNS, MC_SEED, MC_COUNT };
static const tack_key_spec mc_keys[MC_COUNT] = {
    [MC_RUNS] = {"runs", TACK_SETTING_INT, 0, "an integer from 0 to 1000000", "runs = 1000;"},
    [MC_SEED] = {"seed", TACK_SETTING_INT, 0, "an integer of 0 or more", "seed = 1;"},
};

#define MAX_MC_RUNS 1000000

/* "bar" is 0; a duration is its seconds; -1 when neither. */
static int64_t returns_of(const char *text) {
  uint32_t s = 0;
  if (strcmp(text, "bar") == 0)
    return 0;
  if (tack_timeframe_parse(text, &s) != 0 || s == 0)
    return -1;
  return s;
}

int tack_backtest_check_schema(const config_setting_t *group, const char *file, tack_diag *d) {
  const config_setting_t *f[B_COUNT], *m[MC_COUNT];
  tack_checker ck = {d, file, tack_check_keys(d, group, backtest_keys, B_COUNT, f)};
  if (f[B_RETURNS] && returns_of(config_setting_get_string(f[B_RETURNS])) < 0) {
    tack_check_problem(
        &ck, f[B_RETURNS], NULL,
        "must be \"bar\" or a duration such as \"1h\" or \"1d\" (at most 7 days), got \"%s\"",
        config_setting_get_string(f[B_RETURNS]));
  }
  if (f[B_YEAR_DAYS]) {
    double v = tack_setting_number(f[B_YEAR_DAYS]);
    if (!(v >= 1 && v <= 366)) {
      tack_check_problem(
          &ck, f[B_YEAR_DAYS], NULL,
          "must be a number of days from 1 to 366 (365 for markets that never close, 252 "
          "for exchange trading days), got %g",
          v);
    }
  }
  if (f[B_RISK_FREE]) {
    double v = tack_setting_number(f[B_RISK_FREE]);
    if (!(v >= -1 && v <= 1)) {
      tack_check_problem(&ck, f[B_RISK_FREE], NULL,
                         "must be an annual rate as a fraction from -1 to 1 (0.03 is 3%%), got %g",
                         v);
    }
  }
  if (f[B_MONTE_CARLO]) {
    ck.problems += tack_check_keys(d, f[B_MONTE_CARLO], mc_keys, MC_COUNT, m);
    if (m[MC_RUNS] &&
        (tack_setting_int(m[MC_RUNS]) < 0 || tack_setting_int(m[MC_RUNS]) > MAX_MC_RUNS)) {
      tack_check_problem(&ck, m[MC_RUNS], NULL, "must be an integer from 0 (none) to %d, got %lld",
                         MAX_MC_RUNS, (long long)tack_setting_int(m[MC_RUNS]));
    }
    if (m[MC_SEED] && tack_setting_int(m[MC_SEED]) < 0) {
      tack_check_problem(&ck, m[MC_SEED], NULL, "must be an integer of 0 or more, got %lld",
                         (long long)tack_setting_int(m[MC_SEED]));
    }
  }
  return ck.problems ? TACK_ECONFIG : 0;
}

int tack_backtest_read_settings(const config_setting_t *group, tack_bt_settings *out) {
  const tack_bt_settings def = TACK_BT_SETTINGS_DEFAULT;
  *out = def;
  if (!group)
    return 0;
  const config_setting_t *m;
  if ((m = config_setting_get_member(group, "returns")) && config_setting_get_string(m))
    out->return_interval_s = (uint32_t)returns_of(config_setting_get_string(m));
  if ((m = config_setting_get_member(group, "year_days")))
    out->year_days = tack_setting_number(m);
  if ((m = config_setting_get_member(group, "risk_free")))
    out->risk_free = tack_setting_number(m);
  const config_setting_t *mc = config_setting_get_member(group, "monte_carlo");
  if (mc && (m = config_setting_get_member(mc, "runs")))
    out->mc_runs = (uint32_t)tack_setting_int(m);
  if (mc && (m = config_setting_get_member(mc, "seed")))
    out->mc_seed = (uint64_t)tack_setting_int(m);
  return 0;
}

void tack_bt_opts_init(tack_bt_opts *o) {
  memset(o, 0, sizeof *o);
  o->from = INT64_MIN;
  o->to = INT64_MAX;
  o->details = 1;
  o->log_level = -1;
}

/* ------------------------------------------------------------------------ */
/* The recorder                                                              */
/* ------------------------------------------------------------------------ */

/* Quantities below this are flat: the ledger rounds to instrument lots, so
 * what is left of a closed position is exactly 0; this only absorbs the
 * last bit of a double sum. */
#define FLAT_EPS 1e-12

typedef struct rec_sym {
  tack_bt_symbol *out;
  double qty;  /* the position, from fills */
  double last; /* the last close */
  uint64_t bars;
  int has_last;
  /* The trade in progress. */
  int in_trade;
  tack_bt_trade cur;
  double add_qty, add_notional; /* fills that grew it */
  double red_qty, red_notional; /* fills that shrank it */
  /* A trade goes from flat to flat, so its P&L before fees is exactly what
   * the shrinking fills brought in minus what the growing ones cost (with
   * the side's sign), whatever the order of the fills in between. */
  double realized; /* net pnl of the closed trades */
  double signal;   /* the last signal's strength */
  uint64_t entry_bar;
  /* The tree entries of the distinct member nodes, and their rows. */
  size_t member_entry[TACK_BT_MAX_MEMBERS];
  size_t member_row[TACK_BT_MAX_MEMBERS];
  size_t n_member_entries;
  /* Regime switches seen so far, per regime entry. */
  uint64_t regime_switches[TACK_BT_MAX_REGIMES];
} rec_sym;

struct tack_bt_recorder {
  tack_runtime *rt;
  tack_bt_settings settings;
  int details;
  tack_bt_result res;
  rec_sym *syms;
  size_t n_syms;
  int started; /* cash and positions taken from the engine */
  double cash, mtm;
  size_t n_open; /* symbols with a position */
  tack_metrics_acc acc;
  int acc_ready;
  int error;
  tack_time cur_ts;
  int have_cur;
  /* The equity and exposure after the current bar time's last bar, taken
   * before the next bar's fills change them. */
  double pending_equity;
  int pending_exposed;
  uint32_t base_tf;
  /* Progress. */
  int progress; /* 1 bar, 0 lines */
  tack_time span_from, span_to;
  uint64_t bars_total;
  struct timespec t0, last_draw;
  int last_decile;
  int show_progress;
  /* Live status. */
  FILE *status_out;
  int status_tty;
  double status_every;
  int status_lines; /* drawn last time, for the redraw */
  struct timespec last_status;
};

static double wall_seconds(const struct timespec *a, const struct timespec *b) {
  return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) * 1e-9;
}

static void rec_fail(tack_bt_recorder *r, int rc, const char *what) {
  if (r->error)
    return;
  r->error = rc;
  tack_log(TACK_LOG_ERROR, "backtest", "recording %s: %s", what, tack_strerror(rc));
  tack_runtime_request_stop(r->rt, "the backtest cannot record its result", 1);
}

/* Cash and positions as the engine has them when the first bar comes. */
static void rec_start(tack_bt_recorder *r) {
  tack_trading *t = tack_runtime_trading(r->rt);
  tack_trading_sums tot;
  r->started = 1;
  if (!t || tack_trading_get_sums(t, &tot) != 0)
    return;
  r->cash = tot.cash;
  tack_copy_text(r->res.currency, sizeof r->res.currency, tot.quote);
  for (size_t i = 0; i < r->n_syms; i++) {
    tack_position pos;
    rec_sym *s = &r->syms[i];
    if (tack_trading_position(t, tack_runtime_symbol_exchange(r->rt, i), s->out->symbol, &pos) ==
            0 &&
        fabs(pos.quantity) > FLAT_EPS) {
      s->qty = pos.quantity;
      r->n_open++;
    }
  }
}

static double rec_equity(const tack_bt_recorder *r) { return r->cash + r->mtm; }

static void push_point(tack_bt_recorder *r) {
  if (!r->acc_ready) {
    double start = r->pending_equity;
    if (!(start > 0)) {
      rec_fail(r, TACK_ESTATE, "the starting equity (the account holds nothing to trade with)");
      return;
    }
    int rc = tack_metrics_acc_init(&r->acc, &r->settings, r->base_tf, start);
    if (rc != 0) {
      rec_fail(r, rc, "the metrics");
      return;
    }
    r->acc_ready = 1;
  }
  int rc = tack_metrics_acc_bar(&r->acc, r->cur_ts, r->pending_equity, r->pending_exposed);
  if (rc != 0)
    rec_fail(r, rc, "the equity curve");
}

static void draw_progress(tack_bt_recorder *r, tack_time now_ts, int final) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  double frac = 1.0;
  if (!final && r->span_to > r->span_from)
    frac = (double)(now_ts - r->span_from) / (double)(r->span_to - r->span_from);
  if (frac < 0)
    frac = 0;
  if (frac > 1)
    frac = 1;
  double el = wall_seconds(&r->t0, &now);
  double rate = el > 0 ? (double)r->bars_total / el : 0;
  double left = frac > 0 ? el * (1 - frac) / frac : 0;
  if (r->progress) {
    char bar[31];
    int fill = (int)(frac * 30);
    for (int i = 0; i < 30; i++)
      bar[i] = i < fill ? '#' : '.';
    bar[30] = '\0';
    fprintf(stderr, "\r[%s] %3.0f%%  %" PRIu64 " bars  %.2fM bars/s  %s %.1fs   %s", bar,
            frac * 100, r->bars_total, rate / 1e6, final ? "took" : "left", final ? el : left,
            final ? "\n" : "");
    fflush(stderr);
  } else {
    int decile = (int)(frac * 10);
    if (decile > r->last_decile || final) {
      r->last_decile = decile;
      fprintf(stderr, "backtest: %3.0f%%  %" PRIu64 " bars  %.2fM bars/s  %s %.1fs\n", frac * 100,
              r->bars_total, rate / 1e6, final ? "took" : "left", final ? el : left);
    }
  }
  r->last_draw = now;
}

/* The symbol's P&L now: closed trades, and the open one marked. */
static double live_pnl(const rec_sym *s) {
  double pnl = s->realized;
  if (s->in_trade)
    pnl += s->cur.side * (s->red_notional + fabs(s->qty) * s->last - s->add_notional) - s->cur.fees;
  return pnl;
}

static void draw_status(tack_bt_recorder *r, tack_time ts) {
  char when[40];
  FILE *out = r->status_out;
  tack_utc_format(ts, when, sizeof when);
  if (r->status_tty && r->status_lines)
    fprintf(out, "\033[%dA", r->status_lines);
  double total = 0;
  for (size_t i = 0; i < r->n_syms; i++)
    total += live_pnl(&r->syms[i]);
  fprintf(out, "%s%-24s equity %14.2f  P&L %+12.2f\n", r->status_tty ? "\033[2K" : "", when,
          rec_equity(r), total);
  for (size_t i = 0; i < r->n_syms; i++) {
    const rec_sym *s = &r->syms[i];
    fprintf(out, "%s  %-12s price %12.4f  signal %+5.2f  position %+14.6f  P&L %+12.2f\n",
            r->status_tty ? "\033[2K" : "", s->out->symbol, s->last, s->signal, s->qty,
            live_pnl(s));
  }
  r->status_lines = (int)r->n_syms + 1;
  fflush(out);
}

void tack_bt_recorder_status(tack_bt_recorder *r, FILE *out, int tty, double every_s) {
  r->status_out = out;
  r->status_tty = tty;
  r->status_every = every_s;
}

static void on_bar(void *user, size_t i, const tack_bar *bar) {
  tack_bt_recorder *r = user;
  if (i >= r->n_syms)
    return;
  rec_sym *s = &r->syms[i];
  if (!r->started)
    rec_start(r);
  if (r->have_cur && bar->ts != r->cur_ts)
    push_point(r);
  if (!r->have_cur || bar->ts != r->cur_ts) {
    r->cur_ts = bar->ts;
    r->have_cur = 1;
    if (!r->base_tf)
      r->base_tf = bar->timeframe_s;
  }
  if (s->has_last)
    r->mtm += s->qty * (bar->close - s->last);
  else
    r->mtm += s->qty * bar->close;
  s->last = bar->close;
  s->has_last = 1;
  s->bars++;
  if (r->details)
    tack_bt_candles_push(&s->out->prices, bar);
  r->pending_equity = rec_equity(r);
  r->pending_exposed = r->n_open > 0;
  if (r->status_out) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (wall_seconds(&r->last_status, &now) >= r->status_every) {
      r->last_status = now;
      draw_status(r, bar->ts + (tack_time)bar->timeframe_s * TACK_NS_PER_SEC);
    }
  }
  if ((++r->bars_total & 4095) == 0 && r->show_progress) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (wall_seconds(&r->last_draw, &now) >= (r->progress ? 0.1 : 0.5))
      draw_progress(r, bar->ts, 0);
  }
}

/* The member of the symbol's composition that leads in direction side now:
 * the largest signed contribution among the members under the root (under
 * the active regime of a regime entry). "" for a single strategy. */
static void leading_member(const tack_bt_recorder *r, size_t i, int side, char *out, size_t cap) {
  size_t n = tack_runtime_tree_count(r->rt, i);
  double best = 0;
  out[0] = '\0';
  if (n <= 1) {
    if (n == 1) {
      tack_compose_entry e;
      if (tack_runtime_tree_at(r->rt, i, 0, &e) == 0)
        tack_copy_text(out, cap, e.name);
    }
    return;
  }
  for (size_t k = 1; k < n; k++) {
    tack_compose_entry e;
    if (tack_runtime_tree_at(r->rt, i, k, &e) != 0 || strcmp(e.role, "member") != 0)
      continue;
    double c = e.contribution * side;
    if (c > best) {
      best = c;
      tack_copy_text(out, cap, e.name);
    }
  }
  if (!out[0]) /* no member leaned that way: the entry that holds (a regime's strategy) */
    for (size_t k = 1; k < n; k++) {
      tack_compose_entry e;
      if (tack_runtime_tree_at(r->rt, i, k, &e) == 0 && strcmp(e.role, "regime") == 0 && e.active) {
        tack_copy_text(out, cap, e.name);
        break;
      }
    }
}

static tack_bt_member *member_row(tack_bt_symbol *o, const char *name) {
  for (size_t k = 0; k < o->n_members; k++)
    if (strcmp(o->members[k].name, name) == 0)
      return &o->members[k];
  if (o->n_members >= TACK_BT_MAX_MEMBERS || !name[0])
    return NULL;
  tack_bt_member *m = &o->members[o->n_members++];
  memset(m, 0, sizeof *m);
  tack_copy_text(m->name, sizeof m->name, name);
  return m;
}

static int push_trade(tack_bt_recorder *r, const tack_bt_trade *t) {
  tack_bt_result *res = &r->res;
  if (res->n_trades == res->cap_trades) {
    size_t cap = res->cap_trades ? res->cap_trades * 2 : 64;
    tack_bt_trade *p = tack_realloc(NULL, res->trades, cap * sizeof *p);
    if (!p)
      return TACK_ENOMEM;
    res->trades = p;
    res->cap_trades = cap;
  }
  res->trades[res->n_trades++] = *t;
  return 0;
}

/* Close the trade in progress at time ts (its exit averages are set). */
static void close_trade(tack_bt_recorder *r, rec_sym *s, tack_time ts, int open) {
  tack_bt_trade *t = &s->cur;
  t->open = open;
  t->exit_ts = ts;
  t->entry_price = s->add_qty > 0 ? s->add_notional / s->add_qty : 0;
  t->exit_price = s->red_qty > 0 ? s->red_notional / s->red_qty : s->last;
  /* What is left (open at the end) is marked at the last close. */
  double out = s->red_notional + (open ? fabs(s->qty) * s->last : 0);
  t->pnl = t->side * (out - s->add_notional) - t->fees;
  double basis = t->entry_price * t->quantity;
  t->ret = basis > 0 ? t->pnl / basis : 0;
  t->bars = s->bars - s->entry_bar;
  s->out->pnl += t->pnl;
  if (!open)
    s->realized += t->pnl;
  tack_bt_member *m = r->details ? member_row(s->out, t->member) : NULL;
  if (m) {
    m->trades++;
    m->pnl += t->pnl;
  }
  int rc = push_trade(r, t);
  if (rc != 0)
    rec_fail(r, rc, "a trade");
  s->in_trade = 0;
}

static void open_trade(tack_bt_recorder *r, rec_sym *s, size_t i, int side, const tack_fill *f,
                       double qty, double fee) {
  memset(&s->cur, 0, sizeof s->cur);
  tack_copy_text(s->cur.symbol, sizeof s->cur.symbol, s->out->symbol);
  s->cur.side = side;
  s->cur.entry_ts = f->ts;
  s->cur.equity_at_entry = rec_equity(r);
  s->cur.quantity = qty;
  s->cur.fees = fee;
  s->add_qty = qty;
  s->add_notional = qty * f->price;
  s->red_qty = s->red_notional = 0;
  s->entry_bar = s->bars;
  s->in_trade = 1;
  if (r->details)
    leading_member(r, i, side, s->cur.member, sizeof s->cur.member);
}

static void push_marker(tack_bt_recorder *r, rec_sym *s, const tack_fill *f, int opens) {
  tack_bt_symbol *o = s->out;
  if (o->n_markers == o->cap_markers) {
    size_t cap = o->cap_markers ? o->cap_markers * 2 : 64;
    tack_bt_marker *p = tack_realloc(NULL, o->markers, cap * sizeof *p);
    if (!p) {
      rec_fail(r, TACK_ENOMEM, "a fill");
      return;
    }
    o->markers = p;
    o->cap_markers = cap;
  }
  o->markers[o->n_markers++] = (tack_bt_marker){
      .ts = f->ts,
      .price = f->price,
      .quantity = f->quantity,
      .side = f->side == TACK_SIDE_BUY ? 1 : -1,
      .opens = opens,
  };
}

static int sign_of(double q) { return q > FLAT_EPS ? 1 : q < -FLAT_EPS ? -1 : 0; }

static void on_fill(void *user, size_t i, const tack_fill *f) {
  tack_bt_recorder *r = user;
  if (i >= r->n_syms || !(f->quantity > 0) || !isfinite(f->price))
    return;
  rec_sym *s = &r->syms[i];
  if (!r->started)
    rec_start(r);
  int dir = f->side == TACK_SIDE_BUY ? 1 : -1;
  double q0 = s->qty, dq = dir * f->quantity, q1 = q0 + dq;
  double fee = isfinite(f->fee) ? f->fee : 0;
  int s0 = sign_of(q0), s1 = sign_of(q1);
  /* Cash pays for the fill and its fee; the position is marked at the last
   * close until the next bar moves it. */
  r->cash -= dq * f->price + fee;
  r->mtm += dq * (s->has_last ? s->last : f->price);
  s->qty = s1 ? q1 : 0;
  s->out->fills++;
  s->out->fees += fee;
  if (s0 == 0 && s1 != 0)
    r->n_open++;
  else if (s0 != 0 && s1 == 0)
    r->n_open--;
  if (r->details)
    push_marker(r, s, f, s0 == 0 || s0 == dir);

  if (s0 == 0) { /* from flat */
    if (s1 != 0)
      open_trade(r, s, i, s1, f, fabs(q1), fee);
    return;
  }
  if (!s->in_trade) { /* a position held before the run: its trade starts here */
    open_trade(r, s, i, s0, f, fabs(q0), 0);
    s->add_notional = fabs(q0) * f->price;
  }
  if (s0 == dir) { /* grows */
    s->add_qty += f->quantity;
    s->add_notional += f->quantity * f->price;
    s->cur.fees += fee;
    if (fabs(q1) > s->cur.quantity)
      s->cur.quantity = fabs(q1);
    return;
  }
  /* Shrinks, closes or reverses. */
  double closing = s1 == s0 ? f->quantity : fabs(q0);
  double part = f->quantity > 0 ? closing / f->quantity : 1;
  s->red_qty += closing;
  s->red_notional += closing * f->price;
  s->cur.fees += fee * part;
  if (s1 == s0)
    return;
  close_trade(r, s, f->ts, 0);
  if (s1 != 0)
    open_trade(r, s, i, s1, f, fabs(q1), fee * (1 - part));
}

static void count_regimes(tack_bt_recorder *r, size_t i) {
  rec_sym *s = &r->syms[i];
  size_t n = tack_runtime_regime_count(r->rt, i);
  for (size_t k = 0; k < n && k < TACK_BT_MAX_REGIMES; k++) {
    tack_compose_regime_stats st;
    if (tack_runtime_regime_at(r->rt, i, k, &st) != 0 || st.switches == s->regime_switches[k])
      continue;
    uint64_t fresh = st.switches - s->regime_switches[k];
    s->regime_switches[k] = st.switches;
    /* The newest switches are kept (TACK_COMPOSE_RECENT): count those new. */
    for (size_t j = st.n_recent > fresh ? st.n_recent - fresh : 0; j < st.n_recent; j++) {
      for (size_t q = 0; q < s->out->n_regimes; q++) {
        tack_bt_regime *g = &s->out->regimes[q];
        if (strcmp(g->entry, st.entry) == 0 && strcmp(g->name, st.recent[j].to) == 0)
          g->switches_into++;
      }
    }
  }
}

static void on_signal(void *user, size_t i, const tack_signal *sig) {
  tack_bt_recorder *r = user;
  if (i >= r->n_syms)
    return;
  r->syms[i].signal = sig->strength;
  if (!r->details)
    return;
  rec_sym *rs = &r->syms[i];
  tack_bt_symbol *o = rs->out;
  o->signals++;
  for (size_t q = 0; q < rs->n_member_entries; q++) {
    tack_compose_entry e;
    if (tack_runtime_tree_at(r->rt, i, rs->member_entry[q], &e) != 0)
      continue;
    tack_bt_member *m = &o->members[rs->member_row[q]];
    if (e.has_signal)
      m->signals++;
    m->contribution += fabs(e.contribution); /* a sum until finish() divides */
  }
  count_regimes(r, i);
}

int tack_bt_recorder_attach(tack_runtime *rt, const tack_bt_settings *s, int details,
                            tack_bt_recorder **out) {
  tack_bt_recorder *r = tack_calloc(NULL, 1, sizeof *r);
  *out = NULL;
  if (!r)
    return TACK_ENOMEM;
  r->rt = rt;
  r->settings = *s;
  r->details = details;
  r->last_decile = -1;
  r->n_syms = tack_runtime_symbol_count(rt);
  r->syms = tack_calloc(NULL, r->n_syms ? r->n_syms : 1, sizeof *r->syms);
  r->res.symbols = tack_calloc(NULL, r->n_syms ? r->n_syms : 1, sizeof *r->res.symbols);
  if (!r->syms || !r->res.symbols)
    goto nomem;
  r->res.n_symbols = r->n_syms;
  r->res.settings = *s;
  for (size_t i = 0; i < r->n_syms; i++) {
    tack_runtime_symbol_stats st;
    tack_bt_symbol *o = &r->res.symbols[i];
    r->syms[i].out = o;
    tack_runtime_symbol_stats_at(rt, i, &st);
    tack_copy_text(o->symbol, sizeof o->symbol, st.symbol);
    tack_copy_text(o->exchange, sizeof o->exchange,
                   tack_instance_name(tack_runtime_symbol_exchange(rt, i)));
    tack_compose_entry root;
    if (tack_runtime_tree_count(rt, i) > 0 && tack_runtime_tree_at(rt, i, 0, &root) == 0)
      tack_copy_text(o->strategy, sizeof o->strategy, root.name);
    if (details && tack_bt_candles_init(&o->prices) != 0)
      goto nomem;
    /* The members, once each: a node shared by two parents (one composite
     * under two regimes) is listed under each. */
    rec_sym *rs = &r->syms[i];
    size_t nt = details ? tack_runtime_tree_count(rt, i) : 0;
    for (size_t k = 1; k < nt && rs->n_member_entries < TACK_BT_MAX_MEMBERS; k++) {
      tack_compose_entry e;
      if (tack_runtime_tree_at(rt, i, k, &e) != 0 || strcmp(e.role, "member") != 0)
        continue;
      int dup = 0;
      for (size_t q = 0; q < rs->n_member_entries && !dup; q++) {
        tack_compose_entry f;
        dup = tack_runtime_tree_at(rt, i, rs->member_entry[q], &f) == 0 && f.node == e.node;
      }
      tack_bt_member *m = dup ? NULL : member_row(o, e.name);
      if (!m)
        continue;
      rs->member_entry[rs->n_member_entries] = k;
      rs->member_row[rs->n_member_entries++] = (size_t)(m - o->members);
    }
    /* The regime rows, in tree order, so that the report lists them so. */
    size_t nr = tack_runtime_regime_count(rt, i);
    for (size_t k = 0; k < nr; k++) {
      tack_compose_regime_stats rs;
      if (tack_runtime_regime_at(rt, i, k, &rs) != 0)
        continue;
      for (size_t q = 0; q < rs.n_regimes && o->n_regimes < TACK_BT_MAX_REGIMES; q++) {
        tack_bt_regime *g = &o->regimes[o->n_regimes++];
        tack_copy_text(g->entry, sizeof g->entry, rs.entry);
        tack_copy_text(g->name, sizeof g->name, rs.names[q]);
      }
    }
  }
  clock_gettime(CLOCK_MONOTONIC, &r->t0);
  r->last_draw = r->last_status = r->t0;
  tack_runtime_observer obs = {r, on_bar, on_signal, on_fill};
  tack_runtime_set_observer(rt, &obs);
  *out = r;
  return 0;

nomem:
  tack_bt_recorder_free(r);
  return TACK_ENOMEM;
}

void tack_bt_recorder_progress(tack_bt_recorder *r, int bar, tack_time from, tack_time to) {
  r->show_progress = 1;
  r->progress = bar;
  r->span_from = from;
  r->span_to = to;
}

void tack_bt_recorder_free(tack_bt_recorder *r) {
  if (!r)
    return;
  if (r->rt)
    tack_runtime_set_observer(r->rt, NULL);
  if (r->acc_ready)
    tack_metrics_acc_free(&r->acc);
  tack_bt_result_free(&r->res);
  tack_free(NULL, r->syms);
  tack_free(NULL, r);
}

int tack_bt_recorder_finish(tack_bt_recorder *r, tack_bt_result *out) {
  tack_trading *t = tack_runtime_trading(r->rt);
  int rc = r->error;
  if (r->show_progress)
    draw_progress(r, r->cur_ts, 1);
  if (r->status_out && r->have_cur)
    draw_status(r, r->cur_ts + (tack_time)r->base_tf * TACK_NS_PER_SEC);
  /* The last point: after the stop's closes, which fill at the last close. */
  if (r->have_cur && rc == 0) {
    r->pending_equity = rec_equity(r);
    r->pending_exposed = r->n_open > 0;
    push_point(r);
    rc = r->error;
  }
  double fees = 0;
  for (size_t i = 0; i < r->n_syms; i++) {
    rec_sym *s = &r->syms[i];
    tack_bt_symbol *o = s->out;
    if (s->in_trade)
      close_trade(r, s, r->cur_ts + (tack_time)r->base_tf * TACK_NS_PER_SEC, 1);
    o->bars = s->bars;
    o->last_close = s->last;
    o->timeframe_s = r->base_tf;
    fees += o->fees;
    for (size_t k = 0; k < o->n_members; k++)
      if (o->signals)
        o->members[k].contribution /= (double)o->signals;
    if (t) {
      for (size_t k = 0, n = tack_trading_symbol_count(t); k < n; k++) {
        tack_trading_symbol_stats ts;
        if (tack_trading_symbol_stats_at(t, k, &ts) == 0 && strcmp(ts.symbol, o->symbol) == 0)
          o->orders = ts.orders;
      }
    }
    size_t nr = tack_runtime_regime_count(r->rt, i);
    for (size_t k = 0; k < nr; k++) {
      tack_compose_regime_stats rs;
      if (tack_runtime_regime_at(r->rt, i, k, &rs) != 0)
        continue;
      uint64_t total = 0;
      for (size_t q = 0; q < rs.n_regimes; q++)
        total += rs.bars[q];
      for (size_t q = 0; q < rs.n_regimes; q++)
        for (size_t g = 0; g < o->n_regimes; g++)
          if (strcmp(o->regimes[g].entry, rs.entry) == 0 &&
              strcmp(o->regimes[g].name, rs.names[q]) == 0) {
            o->regimes[g].bars = rs.bars[q];
            o->regimes[g].share = total ? (double)rs.bars[q] / (double)total : 0;
          }
    }
  }
  /* Closed trades by exit time (stable: by symbol then entry otherwise),
   * open ones last. They were pushed in exit order per run already: the
   * run's fills come in time order across symbols. */
  if (rc == 0 && r->acc_ready) {
    rc = tack_metrics_finish(&r->acc, r->res.trades, r->res.n_trades, fees, &r->res.metrics,
                             &r->res.curve, &r->res.n_curve);
    if (rc == 0 && r->settings.mc_runs > 0) {
      rc = tack_metrics_monte_carlo(r->res.trades, r->res.n_trades, r->res.metrics.start_equity,
                                    &r->settings, &r->res.mc);
      r->res.has_mc = rc == 0;
    }
  } else if (rc == 0) {
    rc = TACK_ENOENT; /* not a single bar */
  }
  if (t) {
    char why[256];
    r->res.ledger_exact = tack_trading_check(t, why, sizeof why) == 0;
    tack_copy_text(r->res.ledger_note, sizeof r->res.ledger_note,
                   r->res.ledger_exact
                       ? "exact: starting + realized + unrealized - fees = cash + positions at mark"
                       : why);
  }
  *out = r->res;
  memset(&r->res, 0, sizeof r->res);
  return rc;
}

/* ------------------------------------------------------------------------ */
/* The venue: each exchange a paper venue over the data                      */
/* ------------------------------------------------------------------------ */

typedef struct overrides {
  char **items;
  size_t n, cap;
} overrides;

static int ov_add(overrides *o, const char *fmt, ...) TACK_PRINTF(2, 3);
static int ov_add(overrides *o, const char *fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= sizeof buf)
    return TACK_EINVAL;
  if (o->n == o->cap) {
    size_t cap = o->cap ? o->cap * 2 : 16;
    char **p = tack_realloc(NULL, o->items, cap * sizeof *p);
    if (!p)
      return TACK_ENOMEM;
    o->items = p;
    o->cap = cap;
  }
  if (!(o->items[o->n] = tack_strdup(NULL, buf)))
    return TACK_ENOMEM;
  o->n++;
  return 0;
}

static void ov_free(overrides *o) {
  for (size_t i = 0; i < o->n; i++)
    tack_free(NULL, o->items[i]);
  tack_free(NULL, o->items);
  memset(o, 0, sizeof *o);
}

/* A scalar setting as an override's VALUE. */
static int setting_text(const config_setting_t *s, char *buf, size_t cap) {
  switch (config_setting_type(s)) {
  case CONFIG_TYPE_INT:
  case CONFIG_TYPE_INT64:
    snprintf(buf, cap, "%lld", (long long)tack_setting_int(s));
    return 0;
  case CONFIG_TYPE_FLOAT: {
    double v = config_setting_get_float(s);
    snprintf(buf, cap, "%.17g", v);
    if (!strpbrk(buf, ".eEn")) /* 2 would read back as an integer */
      strncat(buf, ".0", cap - strlen(buf) - 1);
    return 0;
  }
  case CONFIG_TYPE_BOOL:
    snprintf(buf, cap, "%s", config_setting_get_bool(s) ? "true" : "false");
    return 0;
  case CONFIG_TYPE_STRING: {
    const char *v = config_setting_get_string(s);
    size_t at = 0;
    if (cap < 3)
      return TACK_EINVAL;
    buf[at++] = '"';
    for (; *v && at + 3 < cap; v++) {
      if (*v == '"' || *v == '\\')
        buf[at++] = '\\';
      buf[at++] = *v;
    }
    if (*v)
      return TACK_EINVAL;
    buf[at++] = '"';
    buf[at] = '\0';
    return 0;
  }
  default:
    return TACK_EINVAL;
  }
}

static const char *param_string(const tack_cfg_instance *ex, const char *key) {
  const char *v = NULL;
  if (ex->params)
    config_setting_lookup_string(ex->params, key, &v);
  return v;
}

/* What one exchange of the config replays. */
typedef struct bt_venue {
  const tack_cfg_instance *ex;
  int keep;          /* a paper venue with its own data (a CSV or its random walk) */
  uint32_t tf;       /* the stored timeframe chosen */
  uint32_t smallest; /* the smallest timeframe its symbols use */
  char symbols[1024];
} bt_venue;

/* Whether sym is one of the comma-separated list. */
static int in_list(const char *list, const char *sym) {
  size_t n = strlen(sym);
  for (const char *p = list; *p;) {
    const char *end = strchr(p, ',');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    if (len == n && memcmp(p, sym, n) == 0)
      return 1;
    if (!end)
      break;
    p = end + 1;
  }
  return 0;
}

/* The first symbol of the list, into buf. */
static const char *first_of(const char *list, char *buf, size_t cap) {
  const char *end = strchr(list, ',');
  size_t len = end ? (size_t)(end - list) : strlen(list);
  if (len >= cap)
    len = cap - 1;
  memcpy(buf, list, len);
  buf[len] = '\0';
  return buf;
}

/* How many symbols of the list have the series (sym, tf) among ser. */
static size_t count_having(const char *list, uint32_t tf, const tack_candles_series *ser,
                           size_t n_ser) {
  size_t have = 0;
  for (size_t j = 0; j < n_ser; j++)
    have += ser[j].timeframe_s == tf && in_list(list, ser[j].symbol);
  return have;
}

static size_t list_len(const char *list) {
  size_t n = *list ? 1 : 0;
  for (; *list; list++)
    n += *list == ',';
  return n;
}

/* The largest timeframe stored for every symbol of v that divides the
 * smallest timeframe they use; the data's extent within [from, to). */
static int choose_timeframe(bt_venue *v, const tack_candles_series *ser, size_t n_ser,
                            tack_time from, tack_time to, tack_time *first, tack_time *last,
                            const char *store, tack_diag *d) {
  char list[256];
  size_t at = 0;
  list[0] = '\0';
  uint32_t best = 0;
  size_t want_n = list_len(v->symbols);
  for (size_t k = 0; k < n_ser; k++) {
    uint32_t tf = ser[k].timeframe_s;
    if (v->smallest % tf == 0 && tf > best && count_having(v->symbols, tf, ser, n_ser) == want_n)
      best = tf;
  }
  if (!best) {
    char sym[TACK_CANDLES_SYMBOL_MAX + 1];
    first_of(v->symbols, sym, sizeof sym);
    for (size_t k = 0; k < n_ser; k++) {
      if (strcmp(ser[k].symbol, sym) != 0)
        continue;
      char tfs[16];
      tack_timeframe_format(ser[k].timeframe_s, tfs, sizeof tfs);
      int w = snprintf(list + at, sizeof list - at, "%s%s", at ? ", " : "", tfs);
      if (w > 0 && (size_t)w < sizeof list - at)
        at += (size_t)w;
    }
    char want[16];
    tack_timeframe_format(v->smallest, want, sizeof want);
    tack_diag_add(d, v->ex->file, v->ex->line, v->ex->name,
                  "no candles to replay for %s in the store %s: the backtest needs a timeframe "
                  "that divides %s stored for each of them (%s has %s); add some with 'tack data "
                  "import' or 'tack data synth'",
                  v->symbols, store, want, sym, list[0] ? list : "none");
    return TACK_ECONFIG;
  }
  v->tf = best;
  for (size_t k = 0; k < n_ser; k++) {
    if (ser[k].timeframe_s != best || !in_list(v->symbols, ser[k].symbol))
      continue;
    tack_time a = ser[k].first > from ? ser[k].first : from;
    tack_time b = ser[k].last + (tack_time)best * TACK_NS_PER_SEC;
    if (b > to)
      b = to;
    if (a < *first)
      *first = a;
    if (b > *last)
      *last = b;
  }
  return 0;
}

/* The overrides that make the config's exchanges paper venues over the
 * data, and the data's extent. cfg is the config as written (with the
 * user's overrides). */
static int venue_overrides(const tack_config *cfg, const tack_bt_opts *o, overrides *ov,
                           tack_time *first, tack_time *last, tack_diag *d) {
  bt_venue v[64];
  size_t nv = 0;
  int rc = 0;
  *first = INT64_MAX;
  *last = INT64_MIN;
  memset(v, 0, sizeof v);
  for (size_t i = 0; i < cfg->n_symbols; i++) {
    const tack_cfg_symbol *cs = &cfg->symbols[i];
    if (!cs->enabled)
      continue;
    size_t k = 0;
    while (k < nv && v[k].ex != cs->exchange)
      k++;
    if (k == nv) {
      if (nv == sizeof v / sizeof v[0]) {
        tack_diag_add(d, cs->file, cs->line, NULL, "a backtest replays at most %zu exchanges", nv);
        return TACK_ECONFIG;
      }
      v[nv++].ex = cs->exchange;
    }
    size_t len = strlen(v[k].symbols);
    snprintf(v[k].symbols + len, sizeof v[k].symbols - len, "%s%s", len ? "," : "", cs->symbol);
    uint32_t tf = cs->strategy->all_timeframes[0];
    if (!v[k].smallest || tf < v[k].smallest)
      v[k].smallest = tf; /* every timeframe of a symbol is a multiple of its smallest */
  }
  /* A paper venue with data of its own keeps it, unless --data says. */
  int need_store = 0;
  for (size_t k = 0; k < nv; k++) {
    const char *data = param_string(v[k].ex, "data"), *source = param_string(v[k].ex, "source");
    const char *base = data ? strrchr(data, '/') : NULL;
    int store = (source && strcmp(source, "store") == 0) ||
                (data && strcmp(base ? base + 1 : data, "store") == 0 &&
                 !(source && strcmp(source, "auto") != 0));
    v[k].keep = !o->data && strcmp(v[k].ex->plugin_id, "paper") == 0 && !store;
    need_store |= !v[k].keep && !o->data;
  }
  tack_candles_series *ser = NULL;
  size_t n_ser = 0;
  tack_store *st = NULL;
  tack_candles *cs = NULL;
  if (need_store) {
    struct stat sb;
    if (!cfg->store_path) {
      tack_diag_add(d, cfg->path, 0, "store",
                    "a backtest over stored candles needs the config's store = { path = \"...\"; "
                    "} (or --data FILE for a CSV)");
      return TACK_ECONFIG;
    }
    if (stat(cfg->store_path, &sb) != 0) {
      tack_diag_add(d, cfg->path, 0, "store.path",
                    "the store %s does not exist: import candles first ('tack data import' or "
                    "'tack data synth' with --store %s)",
                    cfg->store_path, cfg->store_path);
      return TACK_ECONFIG;
    }
    if ((rc = tack_store_open(cfg->store_path, 0, &st)) != 0 ||
        (rc = tack_candles_open(st, &cs)) != 0 || (rc = tack_candles_list(cs, &ser, &n_ser)) != 0) {
      tack_diag_add(d, cfg->path, 0, "store.path", "the store %s cannot be read: %s",
                    cfg->store_path, tack_strerror(rc));
      rc = TACK_ECONFIG;
      goto out;
    }
  }
  char fromtext[40] = "", totext[40] = "";
  if (o->from != INT64_MIN)
    tack_utc_format(o->from, fromtext, sizeof fromtext);
  if (o->to != INT64_MAX)
    tack_utc_format(o->to, totext, sizeof totext);
  for (size_t k = 0; k < nv && rc == 0; k++) {
    const char *name = v[k].ex->name;
    if (!v[k].keep && !o->data) {
      rc = choose_timeframe(&v[k], ser, n_ser, o->from, o->to, first, last, cfg->store_path, d);
      if (rc != 0)
        break;
    }
    if (!v[k].keep && strcmp(v[k].ex->plugin_id, "paper") != 0) {
      /* Another venue: a paper venue in its place, with backtest.venue's params. */
      rc = ov_add(ov, "exchanges.%s.plugin=\"paper\"", name);
      if (rc == 0)
        rc = ov_add(ov, "exchanges.%s.params=", name);
      const config_setting_t *bt = config_lookup(&cfg->lc, "backtest.venue");
      for (int j = 0; bt && rc == 0 && j < config_setting_length(bt); j++) {
        const config_setting_t *p = config_setting_get_elem(bt, (unsigned)j);
        char val[900];
        if (setting_text(p, val, sizeof val) != 0) {
          tack_diag_add(d, config_setting_source_file(p), (int)config_setting_source_line(p),
                        "backtest.venue", "%s must be a number, a boolean or a string",
                        config_setting_name(p));
          rc = TACK_ECONFIG;
          break;
        }
        rc = ov_add(ov, "exchanges.%s.params.%s=%s", name, config_setting_name(p), val);
      }
      if (rc == 0)
        rc = ov_add(ov, "exchanges.%s.params.symbols=\"%s\"", name, v[k].symbols);
    }
    if (rc == 0 && o->data) {
      rc = ov_add(ov, "exchanges.%s.params.data=\"%s\"", name, o->data);
      if (rc == 0)
        rc = ov_add(ov, "exchanges.%s.params.source=\"files\"", name);
    } else if (rc == 0 && !v[k].keep) {
      rc = ov_add(ov, "exchanges.%s.params.data=", name);
      if (rc == 0)
        rc = ov_add(ov, "exchanges.%s.params.source=\"store\"", name);
      if (rc == 0)
        rc = ov_add(ov, "exchanges.%s.params.timeframe=%u", name, v[k].tf);
    }
    if (rc == 0 && fromtext[0])
      rc = ov_add(ov, "exchanges.%s.params.from=\"%s\"", name, fromtext);
    if (rc == 0 && totext[0])
      rc = ov_add(ov, "exchanges.%s.params.to=\"%s\"", name, totext);
    /* As fast as it goes, and nothing kept: a backtest leaves no state. */
    if (rc == 0)
      rc = ov_add(ov, "exchanges.%s.params.interval_ms=0", name);
    if (rc == 0)
      rc = ov_add(ov, "exchanges.%s.params.persist=false", name);
  }
out:
  tack_free(NULL, ser);
  tack_candles_close(cs);
  tack_store_close(st);
  return rc;
}

/* ------------------------------------------------------------------------ */
/* One backtest                                                              */
/* ------------------------------------------------------------------------ */

static int load_resolved(const tack_bt_opts *o, const char *const *ov, size_t n_ov, tack_loader *ld,
                         tack_config **cfg, tack_diag *d) {
  int rc = tack_config_load_with(o->config_path, ov, n_ov, cfg, d);
  if (rc != 0)
    return rc;
  rc = tack_config_load_plugins(*cfg, o->plugin_dirs, o->n_plugin_dirs, ld, d);
  if (rc != 0)
    return rc;
  tack_instance_set_registry(ld);
  return tack_config_resolve(*cfg, ld, d);
}

int tack_backtest_run(const tack_bt_opts *o, tack_bt_result *out, tack_diag *d) {
  tack_loader *ld = NULL;
  tack_config *cfg = NULL, *plain = NULL;
  tack_runtime *rt = NULL;
  tack_bt_recorder *rec = NULL;
  overrides ov = {0};
  tack_time first = INT64_MAX, last = INT64_MIN;
  int rc;
  memset(out, 0, sizeof *out);

  /* The config as written, to see its exchanges, symbols and timeframes. */
  rc = tack_config_load_with(o->config_path, o->overrides, o->n_overrides, &plain, d);
  if (rc != 0)
    goto done;
  if (!plain->trading.enabled) {
    tack_diag_add(d, plain->path, 0, "trading",
                  "a backtest trades: the config needs a trading group (trading = { sizing = "
                  "{ allocation = 10000.0; }; };, see docs/trading.md)");
    rc = TACK_ECONFIG;
    goto done;
  }
  if ((rc = venue_overrides(plain, o, &ov, &first, &last, d)) != 0)
    goto done;
  for (size_t i = 0; i < o->n_overrides; i++) /* the user's come last: they win */
    if ((rc = ov_add(&ov, "%s", o->overrides[i])) != 0)
      goto done;
  if ((rc = tack_loader_new(&ld)) != 0)
    goto done;
  if ((rc = load_resolved(o, (const char *const *)ov.items, ov.n, ld, &cfg, d)) != 0)
    goto done;
  tack_log_set_level(o->log_level >= 0 ? o->log_level : cfg->log_level);

  tack_bt_settings settings;
  tack_backtest_read_settings(config_lookup(&cfg->lc, "backtest"), &settings);
  tack_runtime_opts ropts = {cfg->name, cfg->store_path, 0, 0, 1, 1};
  if ((rc = tack_runtime_new(&ropts, &rt)) != 0)
    goto done;
  if ((rc = tack_runtime_build(rt, cfg, d)) != 0)
    goto done;
  if ((rc = tack_bt_recorder_attach(rt, &settings, o->details, &rec)) != 0)
    goto done;
  if (o->progress)
    tack_bt_recorder_progress(rec, o->progress == 1, first != INT64_MAX ? first : 0,
                              last != INT64_MIN ? last : 0);
  rc = tack_runtime_run(rt);
  if (rc != 0 && !(rc == TACK_EBUSY && tack_runtime_left_open(rt))) {
    tack_diag_add(d, cfg->path, 0, NULL, "the backtest stopped: %s (%s)", tack_strerror(rc),
                  tack_err_name(rc));
    goto done;
  }
  rc = tack_bt_recorder_finish(rec, out);
  tack_copy_text(out->bot, sizeof out->bot, cfg->name);
  tack_copy_text(out->config, sizeof out->config, o->config_path);
  tack_copy_text(out->mode, sizeof out->mode, "backtest");
  if (rc == TACK_ENOENT)
    tack_diag_add(d, cfg->path, 0, NULL,
                  "the backtest replayed no bar: no data in the range (see the log)");
  else if (rc != 0)
    tack_diag_add(d, cfg->path, 0, NULL, "the backtest's result: %s", tack_strerror(rc));

done:
  tack_bt_recorder_free(rec);
  tack_runtime_free(rt);
  if (cfg)
    tack_config_free(cfg);
  if (plain)
    tack_config_free(plain);
  if (ld)
    tack_loader_free(ld);
  ov_free(&ov);
  if (rc != 0)
    tack_bt_result_free(out);
  return rc;
}

/* ------------------------------------------------------------------------ */
/* JSON                                                                      */
/* ------------------------------------------------------------------------ */

/* A number, or null when it is not finite (JSON has no NaN or infinity). */
static json_t *num(double v) { return isfinite(v) ? json_real(v) : json_null(); }

static json_t *when(tack_time t) {
  char buf[40];
  tack_utc_format(t, buf, sizeof buf);
  return json_string(buf);
}

static int set(json_t *obj, const char *key, json_t *v) {
  return v ? json_object_set_new(obj, key, v) : -1;
}

static json_t *metrics_json(const tack_bt_metrics *m) {
  json_t *j = json_object();
  int bad = !j;
  bad |= set(j, "start", when(m->start));
  bad |= set(j, "end", when(m->end));
  bad |= set(j, "years", num(m->years));
  bad |= set(j, "start_equity", num(m->start_equity));
  bad |= set(j, "end_equity", num(m->end_equity));
  bad |= set(j, "total_return", num(m->total_return));
  bad |= set(j, "cagr", num(m->cagr));
  bad |= set(j, "volatility", num(m->volatility));
  bad |= set(j, "sharpe", num(m->sharpe));
  bad |= set(j, "sortino", num(m->sortino));
  bad |= set(j, "calmar", num(m->calmar));
  bad |= set(j, "max_drawdown", num(m->max_drawdown));
  bad |= set(j, "max_drawdown_start", when(m->max_drawdown_start));
  bad |= set(j, "max_drawdown_trough", when(m->max_drawdown_trough));
  bad |= set(j, "max_drawdown_end", m->max_drawdown_end ? when(m->max_drawdown_end) : json_null());
  bad |= set(j, "max_drawdown_duration_s", json_integer(m->max_drawdown_duration_s));
  bad |= set(j, "exposure", num(m->exposure));
  bad |= set(j, "trades", json_integer((json_int_t)m->trades));
  bad |= set(j, "wins", json_integer((json_int_t)m->wins));
  bad |= set(j, "losses", json_integer((json_int_t)m->losses));
  bad |= set(j, "win_rate", num(m->win_rate));
  bad |= set(j, "profit_factor", num(m->profit_factor));
  bad |= set(j, "expectancy", num(m->expectancy));
  bad |= set(j, "avg_win", num(m->avg_win));
  bad |= set(j, "avg_loss", num(m->avg_loss));
  bad |= set(j, "fees", num(m->fees));
  bad |= set(j, "var95", num(m->var95));
  bad |= set(j, "cvar95", num(m->cvar95));
  bad |= set(j, "intervals", json_integer((json_int_t)m->intervals));
  bad |= set(j, "return_interval_s", json_integer(m->return_interval_s));
  bad |= set(j, "intervals_per_year", num(m->intervals_per_year));
  if (bad) {
    json_decref(j);
    return NULL;
  }
  return j;
}

static json_t *trade_json(const tack_bt_trade *t) {
  json_t *j = json_object();
  int bad = !j;
  bad |= set(j, "symbol", json_string(t->symbol));
  bad |= set(j, "side", json_string(t->side > 0 ? "long" : "short"));
  bad |= set(j, "open", json_boolean(t->open));
  bad |= set(j, "entry", when(t->entry_ts));
  bad |= set(j, "exit", when(t->exit_ts));
  bad |= set(j, "entry_price", num(t->entry_price));
  bad |= set(j, "exit_price", num(t->exit_price));
  bad |= set(j, "quantity", num(t->quantity));
  bad |= set(j, "pnl", num(t->pnl));
  bad |= set(j, "fees", num(t->fees));
  bad |= set(j, "return", num(t->ret));
  bad |= set(j, "bars", json_integer((json_int_t)t->bars));
  bad |= set(j, "member", json_string(t->member));
  if (bad) {
    json_decref(j);
    return NULL;
  }
  return j;
}

static json_t *symbol_json(const tack_bt_symbol *s) {
  json_t *j = json_object(), *fills = json_array(), *members = json_array(),
         *regimes = json_array();
  int bad = !j || !fills || !members || !regimes;
  bad |= set(j, "symbol", json_string(s->symbol));
  bad |= set(j, "exchange", json_string(s->exchange));
  bad |= set(j, "strategy", json_string(s->strategy));
  bad |= set(j, "timeframe_s", json_integer(s->timeframe_s));
  bad |= set(j, "bars", json_integer((json_int_t)s->bars));
  bad |= set(j, "signals", json_integer((json_int_t)s->signals));
  bad |= set(j, "orders", json_integer((json_int_t)s->orders));
  bad |= set(j, "fills", json_integer((json_int_t)s->fills));
  bad |= set(j, "fees", num(s->fees));
  bad |= set(j, "pnl", num(s->pnl));
  bad |= set(j, "last_close", num(s->last_close));
  for (size_t k = 0; !bad && k < s->n_members; k++) {
    const tack_bt_member *m = &s->members[k];
    json_t *e = json_object();
    bad |= !e || json_array_append_new(members, e);
    bad |= set(e, "name", json_string(m->name));
    bad |= set(e, "trades", json_integer((json_int_t)m->trades));
    bad |= set(e, "pnl", num(m->pnl));
    bad |= set(e, "signals", json_integer((json_int_t)m->signals));
    bad |= set(e, "contribution", num(m->contribution));
  }
  for (size_t k = 0; !bad && k < s->n_regimes; k++) {
    const tack_bt_regime *g = &s->regimes[k];
    json_t *e = json_object();
    bad |= !e || json_array_append_new(regimes, e);
    bad |= set(e, "entry", json_string(g->entry));
    bad |= set(e, "name", json_string(g->name));
    bad |= set(e, "bars", json_integer((json_int_t)g->bars));
    bad |= set(e, "share", num(g->share));
    bad |= set(e, "switches_into", json_integer((json_int_t)g->switches_into));
  }
  for (size_t k = 0; !bad && k < s->n_markers; k++) {
    const tack_bt_marker *m = &s->markers[k];
    json_t *e = json_pack("{s:o,s:s,s:o,s:o,s:b}", "time", when(m->ts), "side",
                          m->side > 0 ? "buy" : "sell", "price", num(m->price), "quantity",
                          num(m->quantity), "opens", m->opens);
    bad |= !e || json_array_append_new(fills, e);
  }
  bad |= set(j, "members", members);
  bad |= set(j, "regimes", regimes);
  bad |= set(j, "fills", fills);
  if (bad) {
    json_decref(j);
    return NULL;
  }
  return j;
}

static json_t *result_json(const tack_bt_result *r) {
  json_t *j = json_object(), *settings = json_object(), *curve = json_array(),
         *trades = json_array(), *symbols = json_array();
  int bad = !j || !settings || !curve || !trades || !symbols;
  bad |= set(j, "tack_backtest", json_integer(1)); /* the format's version */
  bad |= set(j, "bot", json_string(r->bot));
  bad |= set(j, "config", json_string(r->config));
  bad |= set(j, "mode", json_string(r->mode));
  bad |= set(j, "currency", json_string(r->currency));
  bad |= set(settings, "return_interval_s", json_integer(r->settings.return_interval_s));
  bad |= set(settings, "year_days", num(r->settings.year_days));
  bad |= set(settings, "risk_free", num(r->settings.risk_free));
  bad |= set(settings, "mc_runs", json_integer(r->settings.mc_runs));
  bad |= set(settings, "mc_seed", json_integer((json_int_t)r->settings.mc_seed));
  bad |= set(j, "settings", settings);
  bad |= set(j, "metrics", metrics_json(&r->metrics));
  bad |= set(j, "ledger_exact", json_boolean(r->ledger_exact));
  bad |= set(j, "ledger", json_string(r->ledger_note));
  for (size_t i = 0; !bad && i < r->n_symbols; i++)
    bad |= json_array_append_new(symbols, symbol_json(&r->symbols[i]));
  for (size_t i = 0; !bad && i < r->n_trades; i++)
    bad |= json_array_append_new(trades, trade_json(&r->trades[i]));
  for (size_t i = 0; !bad && i < r->n_curve; i++) {
    const tack_bt_point *p = &r->curve[i];
    bad |= json_array_append_new(
        curve, json_pack("[o,o,o]", when(p->ts), num(p->equity), num(p->drawdown)));
  }
  bad |= set(j, "symbols", symbols);
  bad |= set(j, "trades", trades);
  bad |= set(j, "equity", curve);
  if (r->has_mc && !bad) {
    const tack_bt_mc *m = &r->mc;
    json_t *mc = json_object(), *rows = json_array();
    bad |= !mc || !rows;
    for (size_t k = 0; !bad && k < TACK_BT_PCTS; k++)
      bad |= json_array_append_new(rows, json_pack("{s:o,s:o,s:o}", "percentile", num(m->pct[k]),
                                                   "total_return", num(m->total_return[k]),
                                                   "max_drawdown", num(m->max_drawdown[k])));
    bad |= set(mc, "runs", json_integer(m->runs));
    bad |= set(mc, "seed", json_integer((json_int_t)m->seed));
    bad |= set(mc, "prob_loss", num(m->prob_loss));
    bad |= set(mc, "percentiles", rows);
    bad |= set(j, "monte_carlo", mc);
  }
  if (bad) {
    json_decref(j);
    return NULL;
  }
  return j;
}

int tack_bt_result_write_json(const tack_bt_result *r, FILE *out) {
  json_t *j = result_json(r);
  if (!j)
    return TACK_ENOMEM;
  int rc = json_dumpf(j, out, JSON_INDENT(1) | JSON_REAL_PRECISION(17) | JSON_ENSURE_ASCII);
  json_decref(j);
  if (rc != 0 || fputc('\n', out) == EOF)
    return TACK_EIO;
  return 0;
}

int tack_bt_result_write_json_file(const char *path, const tack_bt_result *r) {
  char tmp[4096];
  if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
    return TACK_EINVAL;
  FILE *f = fopen(tmp, "w");
  if (!f) {
    tack_log_error("cannot write %s: %s", tmp, strerror(errno));
    return TACK_EIO;
  }
  int rc = tack_bt_result_write_json(r, f);
  if (fclose(f) != 0 && rc == 0)
    rc = TACK_EIO;
  if (rc == 0 && rename(tmp, path) != 0) {
    tack_log_error("cannot rename %s to %s: %s", tmp, path, strerror(errno));
    rc = TACK_EIO;
  }
  if (rc != 0) {
    unlink(tmp);
    if (rc == TACK_EIO)
      tack_log_error("cannot write %s", path);
  }
  return rc;
}
