/*
 * test_crash.c: kill -9 of a trading tack at many points, and recovery.
 *
 * One paper-trading session (persist = true, paced bars, a script strategy
 * that trades on nearly every bar, partial fills, shorts and reversals, a
 * fee on every fill) is run on one store and killed with SIGKILL again and
 * again: at log lines read from its stderr (the first start's deposit, an
 * order created but not yet acknowledged, acknowledged but not filled,
 * filled at the venue before the fill is booked, a fill booked, an IOC rest
 * cancelled, a reconciliation under way, the flatten of the stop) and after
 * a spread of delays. After each kill the same config is started again on
 * the same store, until a run ends by itself (exit 0), and once more to see
 * that a finished session restarts cleanly. Then, reading the store itself
 * (host/journal.h for the bot's journal, the paper venue's records in the
 * kv database):
 *   - no client order id names two orders at the venue, and every venue
 *     order is the order the bot's journal holds under that id;
 *   - every venue fill is in the journal exactly once, and the journal
 *     holds no other execution, one deposit and no adoption;
 *   - the position is flat at the venue and in the ledger rebuilt from the
 *     journal, whose cash equals the venue's cash to the last 10^-18;
 *   - the last summary says "ledger exact", with that cash.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "journal.h"
#include "ledger.h"
#include "store.h"
#include "tr_util.h"

static tr_env env;
static char skip_why[600];

#define BOT "crash"
#define SYMBOL "BTC-USD"
#define BARS 600
#define TICK 0.01
#define LOT 0.001
/* One run may take this long (ASan included) before it counts as hung. */
#define RUN_MS 60000L

/* ------------------------------------------------------------------------ */
/* Running and killing                                                       */
/* ------------------------------------------------------------------------ */

/* Where a run is killed: at the nth line holding needle, or after ms. */
typedef struct kill_plan {
  const char *needle; /* NULL: by time */
  int nth;
  long ms;
} kill_plan;

static long elapsed_ms(const struct timespec *t0) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long)(t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* Count the needle in the complete lines of buf (*len bytes), keep the
 * incomplete rest. */
static int scan_lines(char *buf, size_t *len, const char *needle) {
  int hits = 0;
  char *start = buf, *nl;
  while ((nl = memchr(start, '\n', *len - (size_t)(start - buf))) != NULL) {
    *nl = '\0';
    if (needle && strstr(start, needle))
      hits++;
    start = nl + 1;
  }
  *len -= (size_t)(start - buf);
  memmove(buf, start, *len);
  return hits;
}

/*
 * Run tack on cfg with stderr through a pipe (copied to <tag>.err). With a
 * plan, SIGKILL it when the plan's point comes. Returns the exit status, or
 * -9 when it was killed, -1 on a failure of the test's own (or a hang).
 */
static int run_until(const char *cfg, const char *tag, const kill_plan *plan) {
  char out[400], err[400];
  int fds[2];
  snprintf(out, sizeof out, "%s/%s.out", env.tmp, tag);
  snprintf(err, sizeof err, "%s/%s.err", env.tmp, tag);
  if (pipe(fds) != 0)
    return -1;
  FILE *copy = fopen(err, "w");
  if (!copy)
    return -1;
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0)
    return -1;
  if (pid == 0) {
    int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (o < 0)
      _exit(127);
    dup2(o, STDOUT_FILENO);
    dup2(fds[1], STDERR_FILENO);
    close(fds[0]);
    close(fds[1]);
    execl(env.exe, env.exe, "run", cfg, (char *)NULL);
    _exit(127);
  }
  close(fds[1]);
  struct timespec t0;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  char buf[16384];
  size_t len = 0;
  int hits = 0, killed = 0, open_pipe = 1;
  while (open_pipe) {
    long now = elapsed_ms(&t0);
    if (!killed && plan && !plan->needle && now >= plan->ms) {
      kill(pid, SIGKILL);
      killed = 1;
    }
    if (now > RUN_MS) {
      fprintf(stderr, "%s: no end after %ld ms: killed\n", tag, now);
      kill(pid, SIGKILL);
      killed = -1;
    }
    struct pollfd p = {fds[0], POLLIN, 0};
    if (poll(&p, 1, 2) <= 0)
      continue;
    ssize_t n = read(fds[0], buf + len, sizeof buf - len - 1);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      open_pipe = 0;
      break;
    }
    fwrite(buf + len, 1, (size_t)n, copy);
    len += (size_t)n;
    hits += scan_lines(buf, &len, plan ? plan->needle : NULL);
    if (len == sizeof buf - 1)
      len = 0; /* a line this long is not one we look for */
    if (!killed && plan && plan->needle && hits >= plan->nth) {
      kill(pid, SIGKILL);
      killed = 1;
    }
  }
  close(fds[0]);
  fclose(copy);
  int status = 0;
  waitpid(pid, &status, 0);
  if (killed < 0)
    return -1;
  if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL && killed)
    return -9;
  if (WIFEXITED(status))
    return WEXITSTATUS(status);
  fprintf(stderr, "%s: ended by signal %d\n", tag, WTERMSIG(status));
  tr_show("its stderr", err);
  return -1;
}

/* What no run may say: recovery found the journal and the venue apart, or
 * the ledger refused what it was given. */
static void expect_clean_run(const char *tag) {
  static const char *const never[] = {"ledger check failed",   "adopted the difference",
                                      "booked the difference", "refused by the ledger",
                                      "could not be booked",   "is not traded"};
  char err[400];
  snprintf(err, sizeof err, "%s/%s.err", env.tmp, tag);
  for (size_t i = 0; i < sizeof never / sizeof never[0]; i++) {
    if (tr_contains(err, never[i])) {
      fprintf(stderr, "%s says \"%s\"\n", tag, never[i]);
      tr_show("its stderr", err);
    }
    assert_false(tr_contains(err, never[i]));
  }
}

/* ------------------------------------------------------------------------ */
/* The paper venue's records (exchanges/paper/paper_state.c, format 1)       */
/* ------------------------------------------------------------------------ */

typedef struct rd {
  const uint8_t *b;
  size_t len, at;
  int bad;
} rd;

static const uint8_t *take(rd *r, size_t n) {
  if (r->bad || r->len - r->at < n) {
    r->bad = 1;
    return NULL;
  }
  r->at += n;
  return r->b + r->at - n;
}

static uint64_t u64(rd *r) {
  const uint8_t *b = take(r, 8);
  uint64_t v = 0;
  for (int i = 0; b && i < 8; i++)
    v |= (uint64_t)b[i] << (8 * i);
  return v;
}

static uint32_t u32(rd *r) {
  const uint8_t *b = take(r, 4);
  uint32_t v = 0;
  for (int i = 0; b && i < 4; i++)
    v |= (uint32_t)b[i] << (8 * i);
  return v;
}

static tack_wide wide(rd *r) {
  unsigned __int128 lo = u64(r), hi = u64(r);
  return (tack_wide)(lo | (hi << 64));
}

static void str(rd *r, char *out, size_t cap) {
  uint32_t n = u32(r);
  const uint8_t *b = n < cap ? take(r, n) : NULL;
  if (!b) {
    r->bad = 1;
    out[0] = '\0';
    return;
  }
  memcpy(out, b, n);
  out[n] = '\0';
}

/* Magic and version 1; the checksum is left to the venue. */
static int record(rd *r, const char *magic) {
  if (r->len < 20 || memcmp(r->b, magic, 8) != 0)
    return -1;
  r->at = 8;
  if (u32(r) != 1)
    return -1;
  r->len -= 8; /* the checksum */
  return 0;
}

typedef struct venue_order {
  uint64_t no;
  char client_id[TACK_ORDER_ID_MAX];
  uint32_t side;
  int64_t lots;
} venue_order;

static int read_order(rd *r, venue_order *o) {
  char text[TACK_REASON_MAX + 8];
  o->no = u64(r);
  str(r, o->client_id, sizeof o->client_id);
  str(r, text, sizeof text); /* symbol */
  u32(r);                    /* sym */
  o->side = u32(r);
  for (int i = 0; i < 7; i++) /* type, tif, flags, status, error, triggered, arrived */
    u32(r);
  o->lots = (int64_t)u64(r);
  for (int i = 0; i < 7; i++) /* limit, stop, expire, accepted, eligible, updated, filled */
    u64(r);
  wide(r); /* notional */
  wide(r); /* fees */
  for (int i = 0; i < 3; i++)
    u64(r);
  str(r, text, sizeof text); /* reason */
  return r->bad ? -1 : 0;
}

typedef struct venue_fill {
  uint64_t trade_no, order_no;
  char client_id[TACK_ORDER_ID_MAX];
  uint32_t side;
  int64_t lots, ticks;
} venue_fill;

/* What the venue holds, as its records say. */
typedef struct venue {
  uint64_t last_order_no, last_trade_no;
  tack_wide cash;
  int64_t lots; /* of SYMBOL, the only symbol */
  venue_order *orders;
  size_t n_orders;
  venue_fill *fills;
  size_t n_fills;
} venue;

static int kv(tack_store *st, const char *key, uint8_t **out, size_t *len) {
  tack_store_ns ns = {BOT, "exchanges", "sim"};
  size_t n = 0;
  int rc = tack_store_kv_get(st, &ns, key, strlen(key), NULL, 0, &n);
  if (rc != 0 && rc != TACK_ENOSPC)
    return rc;
  *out = malloc(n ? n : 1);
  if (!*out)
    return TACK_ENOMEM;
  *len = n;
  return tack_store_kv_get(st, &ns, key, strlen(key), *out, n, &n);
}

static int read_venue(tack_store *st, venue *v) {
  uint8_t *b = NULL;
  size_t len = 0;
  char text[64];
  memset(v, 0, sizeof *v);
  if (kv(st, "state", &b, &len) != 0)
    return -1;
  rd r = {b, len, 0, 0};
  if (record(&r, "TACKPAPR") != 0)
    goto bad;
  str(&r, text, sizeof text); /* quote */
  u32(&r);                    /* shorts */
  u32(&r);                    /* kind */
  u32(&r);                    /* timeframe */
  if (u32(&r) != 1)
    goto bad;
  str(&r, text, sizeof text);
  if (strcmp(text, SYMBOL) != 0)
    goto bad;
  u64(&r); /* tick, scale, lot, scale */
  u32(&r);
  u64(&r);
  u32(&r);
  u64(&r); /* clock */
  u64(&r); /* steps */
  u64(&r); /* submitted */
  v->last_order_no = u64(&r);
  v->last_trade_no = u64(&r);
  u32(&r); /* eof */
  v->cash = wide(&r);
  u64(&r); /* cursor */
  u64(&r); /* published */
  v->lots = (int64_t)u64(&r);
  wide(&r); /* cost */
  wide(&r); /* realized */
  u64(&r);  /* last */
  uint32_t n_open = u32(&r);
  v->orders = calloc(v->last_order_no + n_open + 1, sizeof *v->orders);
  v->fills = calloc(v->last_trade_no + 1, sizeof *v->fills);
  if (!v->orders || !v->fills)
    goto bad;
  for (uint32_t i = 0; i < n_open; i++)
    if (read_order(&r, &v->orders[v->n_orders++]) != 0)
      goto bad;
  if (r.bad)
    goto bad;
  free(b);
  b = NULL;
  for (uint64_t n = 1; n <= v->last_order_no; n++) {
    char key[48];
    int open_in_state = 0;
    for (uint32_t i = 0; i < n_open; i++)
      open_in_state |= v->orders[i].no == n;
    if (open_in_state)
      continue; /* a final record the state does not count yet is the venue's to ignore */
    snprintf(key, sizeof key, "order/%" PRIu64, n);
    int rc = kv(st, key, &b, &len);
    if (rc == TACK_ENOENT) {
      free(b);
      b = NULL;
      continue; /* still open (in the state), or never final */
    }
    rd o = {b, len, 0, 0};
    if (rc != 0 || record(&o, "TACKPORD") != 0 || read_order(&o, &v->orders[v->n_orders++]) != 0)
      goto bad;
    free(b);
    b = NULL;
  }
  for (uint64_t n = 1; n <= v->last_trade_no; n++) {
    char key[48];
    snprintf(key, sizeof key, "fill/%" PRIu64, n);
    if (kv(st, key, &b, &len) != 0)
      goto bad;
    rd f = {b, len, 0, 0};
    venue_fill *x = &v->fills[v->n_fills++];
    if (record(&f, "TACKPFIL") != 0)
      goto bad;
    x->trade_no = u64(&f);
    x->order_no = u64(&f);
    str(&f, x->client_id, sizeof x->client_id);
    u32(&f); /* sym */
    x->side = u32(&f);
    u32(&f); /* liquidity */
    u64(&f); /* ts */
    x->lots = (int64_t)u64(&f);
    x->ticks = (int64_t)u64(&f);
    if (f.bad || x->trade_no != n)
      goto bad;
    free(b);
    b = NULL;
  }
  return 0;
bad:
  free(b);
  fprintf(stderr, "the paper venue's records do not decode as format 1: if exchanges/paper "
                  "changed them, update test_crash.c's reader\n");
  return -1;
}

static void free_venue(venue *v) {
  free(v->orders);
  free(v->fills);
}

/* ------------------------------------------------------------------------ */
/* The bot's journal                                                         */
/* ------------------------------------------------------------------------ */

typedef struct journal_view {
  tack_fill *fills;
  size_t n_fills, cap_fills;
  tack_order *orders;
  size_t n_orders, cap_orders;
} journal_view;

static int take_fill(void *user, uint64_t seq, const tack_fill *f) {
  journal_view *j = user;
  (void)seq;
  if (j->n_fills == j->cap_fills) {
    size_t cap = j->cap_fills ? 2 * j->cap_fills : 256;
    tack_fill *grown = realloc(j->fills, cap * sizeof *grown);
    if (!grown)
      return TACK_ENOMEM;
    j->fills = grown;
    j->cap_fills = cap;
  }
  j->fills[j->n_fills++] = *f;
  return 0;
}

static int take_order(void *user, const tack_order *o) {
  journal_view *j = user;
  if (j->n_orders == j->cap_orders) {
    size_t cap = j->cap_orders ? 2 * j->cap_orders : 256;
    tack_order *grown = realloc(j->orders, cap * sizeof *grown);
    if (!grown)
      return TACK_ENOMEM;
    j->orders = grown;
    j->cap_orders = cap;
  }
  j->orders[j->n_orders++] = *o;
  return 0;
}

static const tack_order *journal_order(const journal_view *j, const char *client_id) {
  for (size_t i = 0; i < j->n_orders; i++)
    if (strcmp(j->orders[i].req.client_id, client_id) == 0)
      return &j->orders[i];
  return NULL;
}

/* ------------------------------------------------------------------------ */
/* The session                                                               */
/* ------------------------------------------------------------------------ */

/* A price path that swings both ways with uneven volume, so that the
 * script's orders fill whole or in part. */
static void write_data(const char *path) {
  static tr_bar bars[BARS];
  double prev = 100;
  for (int i = 0; i < BARS; i++) {
    double c = 100 + 6 * sin(i / 9.0) + 2 * sin(i / 2.3);
    c = (double)(int64_t)(c * 100 + 0.5) / 100;
    double hi = (prev > c ? prev : c) + 0.25, lo = (prev < c ? prev : c) - 0.25;
    bars[i] = (tr_bar){prev, hi, lo, c, (double)(4 + (i * 7) % 9)};
    prev = c;
  }
  assert_int_equal(tr_write_bars(path, 1704067200LL, 60, bars, BARS), 0);
}

static void test_kill_and_recover(void **state) {
  (void)state;
  if (!env.tmp[0])
    skip();
  char data[400], cfg[400], tag[64], ex[800];
  snprintf(data, sizeof data, "%s/bars.csv", env.tmp);
  snprintf(cfg, sizeof cfg, "%s/crash.cfg", env.tmp);
  write_data(data);
  snprintf(ex, sizeof ex,
           "symbols = \"" SYMBOL "\"; data = \"%s\"; cash = 10000.0; lot = %g; tick = %g; "
           "taker_bps = 7.0; slippage = \"fixed\"; slippage_bps = 3.0; participation = 0.4; "
           "shorts = true; persist = true; interval_ms = 4;",
           data, LOT, TICK);
  assert_int_equal(
      tr_write_config(&env, cfg, BOT, BOT, ex,
                      "script = \"1,0.5,-1,_,1,0,-0.5,1,1\"; repeat = true;",
                      "{ symbol = \"" SYMBOL "\"; exchange = \"sim\"; strategy = \"s\"; }",
                      "sizing = { allocation = 2000.0; tolerance = 0.0; on_opposite = \"reverse\"; "
                      "};"),
      0);

  /* Line needles are the log's own words (orders.c, trading.c). */
  static const kill_plan plans[] = {
      {"first start:", 1, 0},    /* the deposit is booked, nothing traded */
      {": created", 1, 0},       /* journaled PENDING; sent or not, not acknowledged */
      {"pending -> open", 1, 0}, /* acknowledged, not filled */
      {"open -> filled", 1, 0},  /* filled at the venue, the fill not booked yet */
      {"fill PT", 2, 0},         /* a fill booked */
      {"reconciling with the venue", 1, 0},
      {"partial -> cancelled", 1, 0}, /* an IOC rest cancelled */
      {": created", 3, 0},
      {"-> partial", 1, 0},
      {NULL, 0, 40},
      {NULL, 0, 70},
      {NULL, 0, 100},
      {NULL, 0, 140},
      {NULL, 0, 180},
      {NULL, 0, 230},
      {NULL, 0, 290},
      {NULL, 0, 360},
      {"stopping:", 1, 0}, /* in the flatten at the end of the data */
  };
  size_t kills = 0, runs = 0;
  int finished = 0;
  for (size_t i = 0; i < sizeof plans / sizeof plans[0]; i++) {
    snprintf(tag, sizeof tag, "run%02zu", runs++);
    int rc = run_until(cfg, tag, &plans[i]);
    expect_clean_run(tag);
    if (rc == -9) {
      kills++;
      continue;
    }
    char err[400];
    snprintf(err, sizeof err, "%s/%s.err", env.tmp, tag);
    if (rc != 0)
      tr_show("a run that was not killed failed", err);
    assert_int_equal(rc, 0);
    finished = 1; /* ended by itself: later plans restart a finished session */
  }
  /* Until it ends by itself, then once more on the finished session. */
  int rc = 0;
  for (int tries = 0; tries < 3 && !finished; tries++) {
    snprintf(tag, sizeof tag, "run%02zu", runs++);
    rc = run_until(cfg, tag, NULL);
    expect_clean_run(tag);
    finished = rc == 0;
  }
  assert_true(finished);
  snprintf(tag, sizeof tag, "run%02zu", runs++);
  assert_int_equal(run_until(cfg, tag, NULL), 0);
  expect_clean_run(tag);
  fprintf(stderr, "%zu runs, %zu killed with SIGKILL\n", runs, kills);
  assert_true(kills >= 12);

  char out[400], err[400];
  snprintf(out, sizeof out, "%s/%s.out", env.tmp, tag);
  snprintf(err, sizeof err, "%s/%s.err", env.tmp, tag);
  /* The last restart found everything as it was left. */
  if (!tr_contains(err, "0 fills booked from the venue, 0 orders settled, 0 positions adopted"))
    tr_show("the last restart", err);
  assert_true(tr_contains(err, "0 fills booked from the venue, 0 orders settled, 0 positions "
                               "adopted, 0 orders live"));
  assert_false(tr_contains(err, "booked the difference"));
  assert_true(tr_contains(out, "ledger exact"));
  assert_true(tr_contains(out, SYMBOL ": position 0 at 0"));

  /* The store as the runs left it. */
  tack_store *st = NULL;
  char store_path[400];
  snprintf(store_path, sizeof store_path, "%s/store-" BOT, env.tmp);
  assert_int_equal(tack_store_open(store_path, 0, &st), 0);
  venue v;
  journal_view j;
  memset(&j, 0, sizeof j);
  assert_int_equal(read_venue(st, &v), 0);
  tack_journal *jn = NULL;
  assert_int_equal(tack_journal_open(st, BOT, &jn), 0);
  assert_int_equal(tack_journal_each_fill(jn, "exchanges.sim", take_fill, &j), 0);
  assert_int_equal(tack_journal_each_order(jn, "exchanges.sim", take_order, &j), 0);
  fprintf(stderr, "venue: %" PRIu64 " orders, %" PRIu64 " fills; journal: %zu orders, %zu fills\n",
          v.last_order_no, v.last_trade_no, j.n_orders, j.n_fills);
  assert_true(v.last_trade_no >= 20); /* it traded */

  /* One venue order per client id, and it is the bot's order of that id. */
  for (size_t a = 0; a < v.n_orders; a++) {
    for (size_t b = a + 1; b < v.n_orders; b++) {
      if (strcmp(v.orders[a].client_id, v.orders[b].client_id) == 0)
        fprintf(stderr, "client id %s names venue orders P%" PRIu64 " and P%" PRIu64 "\n",
                v.orders[a].client_id, v.orders[a].no, v.orders[b].no);
      assert_string_not_equal(v.orders[a].client_id, v.orders[b].client_id);
    }
    const tack_order *o = journal_order(&j, v.orders[a].client_id);
    if (!o)
      fprintf(stderr, "venue order P%" PRIu64 " (%s) is not in the journal\n", v.orders[a].no,
              v.orders[a].client_id);
    assert_non_null(o);
    assert_int_equal(o->req.side, v.orders[a].side);
    assert_int_equal((int64_t)(o->req.quantity / LOT + 0.5), v.orders[a].lots);
    assert_true(tack_order_status_final(o->status));
  }
  for (size_t i = 0; i < j.n_orders; i++)
    assert_true(tack_order_status_final(j.orders[i].status));

  /* Every venue fill once in the journal, and nothing else but the deposit. */
  size_t deposits = 0, executions = 0;
  for (size_t i = 0; i < j.n_fills; i++) {
    const tack_fill *f = &j.fills[i];
    assert_true(strcmp(f->client_id, "@adopt") != 0);
    if (strcmp(f->client_id, "@deposit") == 0) {
      deposits++;
      continue;
    }
    executions++;
    uint64_t n = 0;
    assert_int_equal(sscanf(f->trade_id, "PT%" SCNu64, &n), 1);
    assert_true(n >= 1 && n <= v.last_trade_no);
    for (size_t k = i + 1; k < j.n_fills; k++)
      assert_string_not_equal(f->trade_id, j.fills[k].trade_id);
    const venue_fill *x = &v.fills[n - 1];
    assert_string_equal(f->client_id, x->client_id);
    assert_int_equal(f->side, x->side);
    assert_int_equal((int64_t)(f->quantity / LOT + 0.5), x->lots);
    assert_int_equal((int64_t)(f->price / TICK + 0.5), x->ticks);
  }
  assert_int_equal(deposits, 1);
  assert_int_equal(executions, v.last_trade_no);

  /* The ledger rebuilt from the journal: flat, exact, the venue's cash. */
  tack_instrument in;
  memset(&in, 0, sizeof in);
  snprintf(in.symbol, sizeof in.symbol, SYMBOL);
  snprintf(in.base, sizeof in.base, "BTC");
  snprintf(in.quote, sizeof in.quote, "USD");
  snprintf(in.settle, sizeof in.settle, "USD");
  in.type = TACK_INSTR_PERPETUAL;
  in.flags = TACK_INSTR_TRADING | TACK_INSTR_CAN_SHORT;
  in.price_increment = TICK;
  in.size_increment = LOT;
  in.min_size = LOT;
  in.contract_size = 1;
  tack_ledger *l = NULL;
  assert_int_equal(tack_ledger_new("USD", 0, &l), 0);
  for (size_t i = 0; i < j.n_fills; i++) {
    const tack_fill *f = &j.fills[i];
    if (strcmp(f->client_id, "@deposit") == 0)
      assert_int_equal(tack_ledger_deposit(l, f->quantity), 0);
    else
      assert_int_equal(tack_ledger_apply_fill(l, &in, f), 0);
  }
  char why[256];
  assert_int_equal(tack_ledger_check(l, why, sizeof why), 0);
  tack_position pos;
  if (tack_ledger_position(l, SYMBOL, &pos) == 0)
    assert_true(pos.quantity == 0);
  assert_int_equal(v.lots, 0);
  tack_ledger_totals tot;
  assert_int_equal(tack_ledger_get_totals(l, &tot), 0);
  char mine[64], theirs[64], line[120];
  tack_money_format(tot.cash, mine, sizeof mine);
  tack_money_format(v.cash, theirs, sizeof theirs);
  if (tot.cash != v.cash)
    fprintf(stderr, "cash: ledger %s, venue %s\n", mine, theirs);
  assert_true(tot.cash == v.cash);
  snprintf(line, sizeof line, ", cash %s)", theirs);
  if (!tr_contains(out, line))
    tr_show("the last summary", out);
  assert_true(tr_contains(out, line));

  tack_ledger_free(l);
  tack_journal_close(jn);
  tack_store_close(st);
  free_venue(&v);
  free(j.fills);
  free(j.orders);
}

static int setup_all(void **state) {
  (void)state;
  /* Every journal and venue write is an fsync'd transaction: on a busy
   * disk they, not the bars' pacing, would set the session's length. A
   * kill -9 leaves the page cache as it was, so memory-backed /dev/shm
   * loses nothing a crash of the process would keep. TMPDIR still wins. */
  const char *tmpdir = getenv("TMPDIR");
  if ((!tmpdir || !*tmpdir) && access("/dev/shm", W_OK) == 0)
    setenv("TMPDIR", "/dev/shm", 1);
  if (tr_env_open(&env, skip_why, sizeof skip_why) != 0)
    fprintf(stderr, "skipping the crash test: %s\n", skip_why);
  return 0;
}

static int teardown_all(void **state) {
  (void)state;
  tr_env_close(&env);
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_kill_and_recover),
  };
  return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
