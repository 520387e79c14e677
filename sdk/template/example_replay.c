/*
 * example_replay.c: the template exchange adapter "example.replay", a venue
 * that replays bars. Its data is either a CSV file (param csv; the header
 * ts,open,high,low,close,volume, then one bar per line, ts in UNIX seconds,
 * oldest first) or, without csv, a deterministic random walk per symbol
 * (params seed, bars, start_price, volatility, timeframe). Every interval_ms
 * it publishes the next closed bar of every subscribed symbol; after the
 * last one it reports TACK_CONN_EOF. It fills no orders: each is rejected
 * with TACK_ENOTSUP, and reconcile reports zero balances and positions.
 *
 * An exchange adapter is the one asynchronous kind of plugin. Every request
 * from the host (connect, instruments, subscribe, submit, reconcile) returns
 * at once, 0 when accepted; the venue's answer comes later, on the loop
 * thread, through the host's ex_* services. A real adapter answers when a
 * socket has data. This one has no socket, so it queues its answers and
 * sends them from a zero-delay host timer: the same shape, and the reason
 * it never calls an ex_* service from inside a request.
 *
 * Time: bars carry their own timestamps (from the file, or from a fixed
 * start); host timers pace them. It uses no libuv and no threads: a real
 * adapter that needs sockets asks for the loop with
 * host->get_extension(ctx, TACK_EXT_LOOP).
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tack.h>

#define REPLAY_MAX_SYMBOLS 64u
#define REPLAY_LINE_MAX 512
#define REPLAY_DEFAULT_BARS 1000u
#define REPLAY_DEFAULT_TIMEFRAME 60u
/* 2024-01-01T00:00:00Z: where the random walk's first bar starts. */
#define REPLAY_WALK_START_S INT64_C(1704067200)
#define REPLAY_REJECT_REASON "the example replay exchange does not fill orders"

/* One instrument the venue lists, and its random walk. */
typedef struct replay_symbol {
  tack_instrument instr;
  int subscribed;
  double price; /* random walk: the last close */
  uint64_t rng; /* random walk: generator state */
} replay_symbol;

/* What configure() builds from the parameters; replaced whole on success. */
typedef struct replay_data {
  replay_symbol *symbols;
  uint32_t n_symbols;
  tack_bar *rows; /* CSV bars, NULL for the random walk */
  uint32_t n_bars;
  uint32_t timeframe_s;
  double volatility;
  uint64_t interval_ns;
  char source[128]; /* for log lines: "BTC.csv" or "random walk, seed 7" */
} replay_data;

/* Answers waiting for the next loop iteration. */
#define REPLY_CONNECTED 1u
#define REPLY_INSTRUMENTS 2u
#define REPLY_RECONCILE 3u
#define REPLY_REJECT 4u

typedef struct replay_reply {
  uint32_t what; /* REPLY_* */
  uint64_t req;  /* request id for INSTRUMENTS and RECONCILE */
  tack_order_update order;
} replay_reply;

typedef struct replay {
  tack_ctx *ctx;
  const tack_host *host;
  replay_data data;
  uint32_t next_bar; /* index of the next bar to publish */
  int started;
  int connected;
  int tick_armed;
  uint64_t tick_timer;
  replay_reply *outbox;
  uint32_t n_outbox, cap_outbox;
  int flush_armed;
  uint64_t flush_timer;
} replay;

static const tack_param_spec replay_params[] = {
    {.name = "symbols",
     .type = TACK_PARAM_STRING,
     .def_str = "BTC-USD,ETH-USD",
     .help = "instruments listed, comma-separated BASE-QUOTE"},
    {.name = "csv",
     .type = TACK_PARAM_STRING,
     .flags = TACK_PARAM_PATH, /* the host resolves it against the config's folder */
     .def_str = "",
     .help = "CSV file of bars, relative to the config file; empty: random walk"},
    {.name = "seed",
     .type = TACK_PARAM_INT,
     .min = 0,
     .max = 9007199254740991.0,
     .def = 1,
     .help = "random walk: generator seed; equal seeds give equal bars"},
    {.name = "bars",
     .type = TACK_PARAM_INT,
     .min = 0,
     .max = 100000000,
     .def = 0,
     .help = "bars to replay; 0: every row of csv, or 1000 for the random walk"},
    {.name = "start_price",
     .type = TACK_PARAM_DOUBLE,
     .min = 1e-9,
     .max = 1e12,
     .def = 100.0,
     .help = "random walk: the first open"},
    {.name = "volatility",
     .type = TACK_PARAM_DOUBLE,
     .min = 0.0,
     .max = 0.5,
     .def = 0.01,
     .help = "random walk: largest relative move of one bar"},
    {.name = "timeframe",
     .type = TACK_PARAM_INT,
     .min = 0,
     .max = 604800,
     .def = 0,
     .help = "bar length in seconds; 0: the csv's spacing, or 60 for the random walk"},
    {.name = "interval_ms",
     .type = TACK_PARAM_INT,
     .min = 0,
     .max = 3600000,
     .def = 100,
     .help = "time between two published bars on the host clock"},
    {.name = NULL},
};

/* ------------------------------------------------------------------------ */
/* The random walk                                                           */
/* ------------------------------------------------------------------------ */

/* splitmix64: small, fast and the same on every platform, which is what a
 * reproducible replay needs (rand() differs between C libraries). */
static uint64_t replay_next_u64(uint64_t *state) {
  uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
  z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
  return z ^ (z >> 31);
}

/* Uniform in [0, 1) from the top 53 bits. */
static double replay_uniform(uint64_t *state) {
  return (double)(replay_next_u64(state) >> 11) * (1.0 / 9007199254740992.0);
}

/* FNV-1a, so that each symbol's walk depends on its name, not on its place
 * in the list. */
static uint64_t replay_hash(const char *s) {
  uint64_t h = UINT64_C(14695981039346656037);
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * UINT64_C(1099511628211);
  return h;
}

static tack_bar replay_walk_bar(const replay_data *d, replay_symbol *sym, uint32_t index) {
  tack_time start = (REPLAY_WALK_START_S - REPLAY_WALK_START_S % d->timeframe_s) * TACK_NS_PER_SEC;
  double vol = d->volatility;
  double open = sym->price;
  double close = open * (1.0 + (2.0 * replay_uniform(&sym->rng) - 1.0) * vol);
  double top = open > close ? open : close;
  double bottom = open < close ? open : close;
  tack_bar bar = {
      .ts = start + (tack_time)index * d->timeframe_s * TACK_NS_PER_SEC,
      .open = open,
      .high = top * (1.0 + replay_uniform(&sym->rng) * vol / 2.0),
      .low = bottom * (1.0 - replay_uniform(&sym->rng) * vol / 2.0),
      .close = close,
      .volume = 1.0 + 99.0 * replay_uniform(&sym->rng),
      .timeframe_s = d->timeframe_s,
      .flags = TACK_BAR_CLOSED,
  };
  sym->price = close;
  return bar;
}

/* ------------------------------------------------------------------------ */
/* Configuration: symbols and the CSV file                                   */
/* ------------------------------------------------------------------------ */

static void replay_data_free(replay *r, replay_data *d) {
  r->host->free(r->ctx, d->symbols);
  r->host->free(r->ctx, d->rows);
  memset(d, 0, sizeof *d);
}

/* Split "BTC-USD,ETH-USD" into instruments. */
static int replay_parse_symbols(replay *r, const char *text, replay_data *d) {
  size_t cap = 1;
  for (const char *c = text; *c; c++)
    cap += *c == ',';
  if (cap > REPLAY_MAX_SYMBOLS)
    return r->host->param_error(r->ctx, "symbols", "more than %u symbols",
                                (unsigned)REPLAY_MAX_SYMBOLS);
  d->symbols = r->host->alloc(r->ctx, cap * sizeof *d->symbols);
  if (d->symbols == NULL)
    return TACK_ENOMEM;
  memset(d->symbols, 0, cap * sizeof *d->symbols);
  const char *p = text;
  while (*p) {
    size_t len = strcspn(p, ",");
    while (len > 0 && *p == ' ') {
      p++;
      len--;
    }
    while (len > 0 && p[len - 1] == ' ')
      len--;
    if (len == 0 || len >= TACK_SYMBOL_MAX)
      return r->host->param_error(r->ctx, "symbols",
                                  "symbol %u is empty or longer than %d characters in \"%s\"",
                                  (unsigned)d->n_symbols + 1, TACK_SYMBOL_MAX - 1, text);
    size_t dash = strcspn(p, "-");
    if (dash == 0 || dash >= len - 1 || dash >= TACK_CURRENCY_MAX ||
        len - dash - 1 >= TACK_CURRENCY_MAX)
      return r->host->param_error(r->ctx, "symbols",
                                  "\"%.*s\" is not BASE-QUOTE with currencies of at most %d "
                                  "characters",
                                  (int)len, p, TACK_CURRENCY_MAX - 1);
    tack_instrument *in = &d->symbols[d->n_symbols].instr;
    memcpy(in->symbol, p, len);
    memcpy(in->base, p, dash);
    memcpy(in->quote, p + dash + 1, len - dash - 1);
    memcpy(in->settle, in->quote, sizeof in->settle);
    in->type = TACK_INSTR_SPOT;
    /* Not TACK_INSTR_TRADING: this venue takes no orders, and says so. */
    in->flags = 0;
    in->price_increment = 0.01;
    in->size_increment = 1e-8;
    in->min_size = 1e-8;
    in->contract_size = 1.0;
    for (uint32_t i = 0; i < d->n_symbols; i++)
      if (strcmp(d->symbols[i].instr.symbol, in->symbol) == 0)
        return r->host->param_error(r->ctx, "symbols", "\"%s\" is listed twice", in->symbol);
    d->n_symbols++;
    p += strcspn(p, ",");
    if (*p == ',')
      p++;
  }
  if (d->n_symbols == 0)
    return r->host->param_error(r->ctx, "symbols", "lists no symbol");
  return 0;
}

/* Parse one number followed by `sep` ('\0' for the end of the line). */
static int replay_field(const char **p, char sep, double *out) {
  char *end;
  errno = 0;
  *out = strtod(*p, &end);
  if (end == *p || errno == ERANGE || !isfinite(*out))
    return -1;
  while (*end == ' ' || *end == '\r' || *end == '\n')
    end++;
  if (*end != sep)
    return -1;
  *p = sep ? end + 1 : end;
  return 0;
}

/* Parse one data line into bar; a message for the user in why on failure. */
static int replay_parse_row(const char *line, tack_bar *bar, const char **why) {
  const char *p = line;
  char *end;
  errno = 0;
  long long ts = strtoll(p, &end, 10);
  /* Seconds that fit in int64 nanoseconds: up to the year 2262. */
  if (end == p || errno == ERANGE || *end != ',' || ts < 0 || ts > INT64_C(9223372036)) {
    *why = "ts is not a whole number of seconds since 1970";
    return -1;
  }
  p = end + 1;
  double *fields[5] = {&bar->open, &bar->high, &bar->low, &bar->close, &bar->volume};
  for (int i = 0; i < 5; i++) {
    if (replay_field(&p, i < 4 ? ',' : '\0', fields[i]) < 0) {
      *why = "expected 5 numbers after ts: open,high,low,close,volume";
      return -1;
    }
  }
  double top = bar->open > bar->close ? bar->open : bar->close;
  double bottom = bar->open < bar->close ? bar->open : bar->close;
  if (!(bar->low > 0.0) || bar->low > bottom || bar->high < top || bar->volume < 0.0) {
    *why = "prices must be positive with low <= open, close <= high, and volume >= 0";
    return -1;
  }
  bar->ts = (tack_time)ts * TACK_NS_PER_SEC;
  bar->flags = TACK_BAR_CLOSED;
  return 0;
}

/* Read the whole file into d->rows; checks everything, so that `tack check`
 * reports a bad file before anything runs. */
static int replay_load_csv(replay *r, const char *path, replay_data *d) {
  char line[REPLAY_LINE_MAX];
  unsigned long lineno = 0;
  uint32_t cap = 0;
  int rc = 0;
  FILE *f = fopen(path, "r");
  if (f == NULL)
    return r->host->param_error(r->ctx, "csv", "cannot open %s: %s", path, strerror(errno));

  while (fgets(line, sizeof line, f) != NULL) {
    lineno++;
    size_t len = strlen(line);
    if (len == sizeof line - 1 && line[len - 1] != '\n' && !feof(f)) {
      rc = r->host->param_error(r->ctx, "csv", "%s:%lu: line longer than %d bytes", path, lineno,
                                REPLAY_LINE_MAX - 2);
      goto done;
    }
    line[strcspn(line, "\r\n")] = '\0';
    if (lineno == 1) {
      if (strcmp(line, "ts,open,high,low,close,volume") != 0) {
        rc = r->host->param_error(r->ctx, "csv",
                                  "%s:1: expected the header ts,open,high,low,close,volume", path);
        goto done;
      }
      continue;
    }
    if (line[0] == '\0')
      continue;
    if (d->n_bars == cap) {
      uint32_t grown = cap ? cap * 2 : 1024;
      tack_bar *rows = r->host->realloc(r->ctx, d->rows, grown * sizeof *rows);
      if (rows == NULL) {
        rc = TACK_ENOMEM;
        goto done;
      }
      d->rows = rows;
      cap = grown;
    }
    tack_bar *bar = &d->rows[d->n_bars];
    const char *why = NULL;
    if (replay_parse_row(line, bar, &why) < 0) {
      rc = r->host->param_error(r->ctx, "csv", "%s:%lu: %s", path, lineno, why);
      goto done;
    }
    if (d->n_bars > 0 && bar->ts <= d->rows[d->n_bars - 1].ts) {
      rc = r->host->param_error(r->ctx, "csv", "%s:%lu: ts must increase from row to row", path,
                                lineno);
      goto done;
    }
    d->n_bars++;
  }
  if (ferror(f)) {
    rc = r->host->param_error(r->ctx, "csv", "cannot read %s: %s", path, strerror(errno));
    goto done;
  }
  if (d->n_bars == 0)
    rc = r->host->param_error(r->ctx, "csv", "%s has no data rows", path);
done:
  fclose(f);
  return rc;
}

/* The CSV's timeframe: the smallest gap between two rows (a file may miss a
 * bar here and there, but never has two in one interval). */
static int replay_csv_timeframe(replay *r, replay_data *d, int64_t wanted) {
  int64_t gap = 0;
  for (uint32_t i = 1; i < d->n_bars; i++) {
    int64_t g = (d->rows[i].ts - d->rows[i - 1].ts) / TACK_NS_PER_SEC;
    if (gap == 0 || g < gap)
      gap = g;
  }
  if (gap == 0) /* one row: nothing to measure */
    gap = wanted ? wanted : REPLAY_DEFAULT_TIMEFRAME;
  if (gap > 604800)
    return r->host->param_error(r->ctx, "csv", "rows are %lld s apart; at most 7 days allowed",
                                (long long)gap);
  if (wanted != 0 && wanted != gap)
    return r->host->param_error(r->ctx, "timeframe",
                                "is %lld s but the rows of the csv are %lld s apart",
                                (long long)wanted, (long long)gap);
  d->timeframe_s = (uint32_t)gap;
  for (uint32_t i = 0; i < d->n_bars; i++)
    d->rows[i].timeframe_s = d->timeframe_s;
  return 0;
}

static int replay_build(replay *r, replay_data *d) {
  const char *symbols, *csv;
  int64_t seed, bars, timeframe, interval_ms;
  double start_price;
  int rc;
  if ((rc = r->host->param_string(r->ctx, "symbols", &symbols)) < 0 ||
      (rc = r->host->param_string(r->ctx, "csv", &csv)) < 0 ||
      (rc = r->host->param_int(r->ctx, "seed", &seed)) < 0 ||
      (rc = r->host->param_int(r->ctx, "bars", &bars)) < 0 ||
      (rc = r->host->param_double(r->ctx, "start_price", &start_price)) < 0 ||
      (rc = r->host->param_double(r->ctx, "volatility", &d->volatility)) < 0 ||
      (rc = r->host->param_int(r->ctx, "timeframe", &timeframe)) < 0 ||
      (rc = r->host->param_int(r->ctx, "interval_ms", &interval_ms)) < 0)
    return rc;
  d->interval_ns = (uint64_t)interval_ms * 1000000u;

  if ((rc = replay_parse_symbols(r, symbols, d)) < 0)
    return rc;

  if (csv != NULL && csv[0] != '\0') {
    if ((rc = replay_load_csv(r, csv, d)) < 0 || (rc = replay_csv_timeframe(r, d, timeframe)) < 0)
      return rc;
    if (bars > 0 && (uint64_t)bars < d->n_bars)
      d->n_bars = (uint32_t)bars;
    snprintf(d->source, sizeof d->source, "%s", csv);
  } else {
    d->n_bars = bars > 0 ? (uint32_t)bars : REPLAY_DEFAULT_BARS;
    d->timeframe_s = timeframe > 0 ? (uint32_t)timeframe : REPLAY_DEFAULT_TIMEFRAME;
    for (uint32_t i = 0; i < d->n_symbols; i++) {
      d->symbols[i].price = start_price;
      d->symbols[i].rng = (uint64_t)seed ^ replay_hash(d->symbols[i].instr.symbol);
    }
    snprintf(d->source, sizeof d->source, "random walk, seed %lld", (long long)seed);
  }
  return 0;
}

/* ------------------------------------------------------------------------ */
/* Lifecycle                                                                 */
/* ------------------------------------------------------------------------ */

static int replay_create(tack_ctx *ctx, const tack_host *host, void **self) {
  replay *r = host->alloc(ctx, sizeof *r);
  if (r == NULL)
    return TACK_ENOMEM;
  memset(r, 0, sizeof *r);
  r->ctx = ctx;
  r->host = host;
  *self = r;
  return 0;
}

/* Build the new data aside and swap it in only when all of it is good: a
 * rejected change leaves the instance as it was. */
static int replay_configure(void *self) {
  replay *r = self;
  replay_data d;
  memset(&d, 0, sizeof d);
  int rc = replay_build(r, &d);
  if (rc < 0) {
    replay_data_free(r, &d);
    return rc;
  }
  replay_data_free(r, &r->data);
  r->data = d;
  r->next_bar = 0;
  r->host->log(r->ctx, TACK_LOG_DEBUG, "%u bars of %u s for %u symbols from %s", (unsigned)d.n_bars,
               (unsigned)d.timeframe_s, (unsigned)d.n_symbols, d.source);
  return 0;
}

static int replay_start(void *self) {
  replay *r = self;
  r->started = 1;
  return 0;
}

/* stop: release what start and the requests acquired. No callback of ours
 * may run after it returns, so both timers are stopped and queued answers
 * dropped: the host no longer expects them. */
static void replay_stop(void *self) {
  replay *r = self;
  if (r->tick_armed)
    r->host->timer_stop(r->ctx, r->tick_timer);
  if (r->flush_armed)
    r->host->timer_stop(r->ctx, r->flush_timer);
  r->tick_armed = 0;
  r->flush_armed = 0;
  r->n_outbox = 0;
  r->started = 0;
  r->connected = 0;
  for (uint32_t i = 0; i < r->data.n_symbols; i++)
    r->data.symbols[i].subscribed = 0;
}

static void replay_destroy(void *self) {
  replay *r = self;
  tack_ctx *ctx = r->ctx;
  const tack_host *host = r->host;
  replay_data_free(r, &r->data);
  host->free(ctx, r->outbox);
  host->free(ctx, r);
}

/* ------------------------------------------------------------------------ */
/* Answers, sent one loop iteration after the request                        */
/* ------------------------------------------------------------------------ */

static void replay_send(replay *r, const replay_reply *rep) {
  const replay_data *d = &r->data;
  char detail[192];
  switch (rep->what) {
  case REPLY_CONNECTED:
    snprintf(detail, sizeof detail, "replaying %u bars from %s", (unsigned)d->n_bars, d->source);
    r->host->ex_connection(r->ctx, TACK_CONN_UP, detail);
    break;
  case REPLY_INSTRUMENTS:
    for (uint32_t i = 0; i < d->n_symbols; i++)
      r->host->ex_instrument(r->ctx, &d->symbols[i].instr);
    r->host->ex_done(r->ctx, rep->req, 0, NULL);
    break;
  case REPLY_RECONCILE: {
    /* Nothing is ever bought here: every currency is at zero, every
     * position flat. Each currency is reported once. */
    tack_time now = r->host->now(r->ctx);
    for (uint32_t i = 0; i < d->n_symbols; i++) {
      const tack_instrument *in = &d->symbols[i].instr;
      const char *currencies[2] = {in->base, in->quote};
      for (int c = 0; c < 2; c++) {
        int seen = 0;
        for (uint32_t j = 0; j < i && !seen; j++)
          seen = strcmp(currencies[c], d->symbols[j].instr.base) == 0 ||
                 strcmp(currencies[c], d->symbols[j].instr.quote) == 0;
        if (c == 1 && strcmp(in->quote, in->base) == 0)
          seen = 1;
        if (seen)
          continue;
        tack_balance bal = {.ts = now};
        tack_copy_text(bal.currency, sizeof bal.currency, currencies[c]);
        r->host->ex_balance(r->ctx, &bal);
      }
      tack_position pos = {.ts = now};
      tack_copy_text(pos.symbol, sizeof pos.symbol, in->symbol);
      r->host->ex_position(r->ctx, &pos);
    }
    r->host->ex_done(r->ctx, rep->req, 0, NULL);
    break;
  }
  case REPLY_REJECT:
    r->host->ex_order_update(r->ctx, &rep->order);
    break;
  }
}

static void replay_flush(void *user, uint64_t timer_id) {
  replay *r = user;
  (void)timer_id;
  /* A host callback made from replay_send may ask for more (a rejected
   * order may be followed by a reconcile); such answers join the queue and
   * go out in this same pass. Each is copied out first because the queue
   * may move when it grows. */
  for (uint32_t i = 0; i < r->n_outbox && r->started; i++) {
    replay_reply rep = r->outbox[i];
    replay_send(r, &rep);
  }
  r->n_outbox = 0;
  r->flush_armed = 0;
}

static int replay_defer(replay *r, const replay_reply *rep) {
  if (r->n_outbox == r->cap_outbox) {
    uint32_t grown = r->cap_outbox ? r->cap_outbox * 2 : 8;
    replay_reply *q = r->host->realloc(r->ctx, r->outbox, grown * sizeof *q);
    if (q == NULL)
      return TACK_ENOMEM;
    r->outbox = q;
    r->cap_outbox = grown;
  }
  if (!r->flush_armed) {
    int rc = r->host->timer_start(r->ctx, 0, 0, replay_flush, r, &r->flush_timer);
    if (rc < 0)
      return rc;
    r->flush_armed = 1;
  }
  r->outbox[r->n_outbox++] = *rep;
  return 0;
}

/* ------------------------------------------------------------------------ */
/* Market data: one bar per symbol per tick                                  */
/* ------------------------------------------------------------------------ */

static int replay_any_subscribed(const replay *r) {
  for (uint32_t i = 0; i < r->data.n_symbols; i++)
    if (r->data.symbols[i].subscribed)
      return 1;
  return 0;
}

static void replay_tick(void *user, uint64_t timer_id);

static int replay_arm_tick(replay *r) {
  int rc = r->host->timer_start(r->ctx, r->data.interval_ns, 0, replay_tick, r, &r->tick_timer);
  if (rc == 0)
    r->tick_armed = 1;
  return rc;
}

/* Every symbol's walk moves on each tick, watched or not, so a symbol's bars
 * do not depend on when it was subscribed. */
static void replay_tick(void *user, uint64_t timer_id) {
  replay *r = user;
  replay_data *d = &r->data;
  (void)timer_id;
  r->tick_armed = 0;
  uint32_t index = r->next_bar++;
  for (uint32_t i = 0; i < d->n_symbols; i++) {
    replay_symbol *sym = &d->symbols[i];
    tack_bar bar = d->rows ? d->rows[index] : replay_walk_bar(d, sym, index);
    if (sym->subscribed)
      r->host->ex_bar(r->ctx, sym->instr.symbol, &bar);
  }
  /* The host may have stopped us from inside ex_bar (a kill switch). */
  if (!r->started)
    return;
  if (r->next_bar == d->n_bars) {
    char detail[192];
    snprintf(detail, sizeof detail, "replayed %u bars from %s", (unsigned)d->n_bars, d->source);
    r->host->ex_connection(r->ctx, TACK_CONN_EOF, detail);
    return;
  }
  if (replay_any_subscribed(r) && replay_arm_tick(r) < 0)
    r->host->ex_connection(r->ctx, TACK_CONN_FAILED, "cannot start the replay timer");
}

/* ------------------------------------------------------------------------ */
/* Requests from the host                                                    */
/* ------------------------------------------------------------------------ */

static int replay_caps(void *self, tack_exchange_caps *out) {
  replay *r = self;
  /* out->size was set by the host: write only fields it has room for. Every
   * field used here is part of ABI 1.0, so the check is a formality now and
   * the pattern for fields a later minor appends. */
  if (out->size < sizeof *out)
    return TACK_EINVAL;
  out->flags = TACK_CAP_SIMULATED;
  memset(out->bar_timeframes, 0, sizeof out->bar_timeframes);
  out->bar_timeframes[0] = r->data.timeframe_s;
  return 0;
}

static int replay_connect(void *self) {
  replay *r = self;
  if (!r->started)
    return TACK_ESTATE;
  if (r->connected)
    return 0;
  replay_reply rep = {.what = REPLY_CONNECTED};
  int rc = replay_defer(r, &rep);
  if (rc == 0)
    r->connected = 1;
  return rc;
}

static int replay_instruments(void *self, uint64_t req) {
  replay *r = self;
  if (!r->connected)
    return TACK_ENOTCONN;
  replay_reply rep = {.what = REPLY_INSTRUMENTS, .req = req};
  return replay_defer(r, &rep);
}

static replay_symbol *replay_find(replay *r, const char *symbol) {
  for (uint32_t i = 0; i < r->data.n_symbols; i++)
    if (strcmp(r->data.symbols[i].instr.symbol, symbol) == 0)
      return &r->data.symbols[i];
  return NULL;
}

/* Bars of one timeframe are all this venue has; the host builds longer
 * timeframes from them, and asks for nothing else when caps() says so. */
static int replay_subscribe(void *self, const tack_subscription *sub) {
  replay *r = self;
  if (!r->connected)
    return TACK_ENOTCONN;
  if (sub->channel != TACK_SUB_BARS || sub->timeframe_s != r->data.timeframe_s)
    return TACK_ENOTSUP;
  replay_symbol *sym = replay_find(r, sub->symbol);
  if (sym == NULL)
    return TACK_ENOENT;
  sym->subscribed = 1;
  if (r->tick_armed || r->next_bar == r->data.n_bars)
    return 0;
  return replay_arm_tick(r);
}

static int replay_unsubscribe(void *self, const tack_subscription *sub) {
  replay *r = self;
  replay_symbol *sym = replay_find(r, sub->symbol);
  if (sym == NULL)
    return TACK_ENOENT;
  sym->subscribed = 0;
  if (r->tick_armed && !replay_any_subscribed(r)) {
    r->host->timer_stop(r->ctx, r->tick_timer);
    r->tick_armed = 0;
  }
  return 0;
}

/* Every order is answered, later and honestly, with a rejection; the error
 * code and the reason tell the operator why. */
static int replay_submit(void *self, const tack_order_request *req) {
  replay *r = self;
  if (!r->connected)
    return TACK_ENOTCONN;
  replay_reply rep = {.what = REPLY_REJECT};
  tack_order_update *u = &rep.order;
  tack_copy_text(u->client_id, sizeof u->client_id, req->client_id);
  tack_copy_text(u->symbol, sizeof u->symbol, req->symbol);
  u->ts = r->host->now(r->ctx);
  u->status = TACK_STATUS_REJECTED;
  u->side = req->side;
  u->type = req->type;
  u->error = TACK_ENOTSUP;
  u->quantity = req->quantity;
  u->limit_price = req->limit_price;
  u->stop_price = req->stop_price;
  tack_copy_text(u->reason, sizeof u->reason, REPLAY_REJECT_REASON);
  return replay_defer(r, &rep);
}

/* No order ever rests here, so there is nothing to cancel. */
static int replay_cancel(void *self, const char *client_id, const char *venue_id) {
  (void)self;
  (void)client_id;
  (void)venue_id;
  return TACK_ENOENT;
}

static int replay_reconcile(void *self, uint64_t req, tack_time since) {
  replay *r = self;
  (void)since; /* there are no fills to report, since any time */
  if (!r->connected)
    return TACK_ENOTCONN;
  replay_reply rep = {.what = REPLY_RECONCILE, .req = req};
  return replay_defer(r, &rep);
}

/* history stays NULL (and TACK_CAP_HISTORY unset): this venue has no past
 * beyond what it replays. */
static const tack_exchange_vtable replay_vtable = {
    .size = sizeof(tack_exchange_vtable),
    .life =
        {
            .create = replay_create,
            .configure = replay_configure,
            .start = replay_start,
            .stop = replay_stop,
            .destroy = replay_destroy,
        },
    .caps = replay_caps,
    .connect = replay_connect,
    .instruments = replay_instruments,
    .subscribe = replay_subscribe,
    .unsubscribe = replay_unsubscribe,
    .submit = replay_submit,
    .cancel = replay_cancel,
    .reconcile = replay_reconcile,
};

static const tack_plugin_desc replay_desc = {
    .size = sizeof(tack_plugin_desc),
    .kind = TACK_KIND_EXCHANGE,
    .id = "example.replay",
    .name = "Bar replay (example)",
    .version = "1.0.0",
    .description = "Replays bars from a CSV file or a seeded random walk; fills no orders.",
    .params = replay_params,
    .vtable = &replay_vtable,
};

TACK_PLUGINS(&replay_desc);
