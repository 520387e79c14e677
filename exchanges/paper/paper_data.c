/*
 * paper_data.c: what the paper venue trades and the market data it replays.
 * Reads every parameter (paper_data_build), splits the symbol list into
 * instruments on one grid, and loads each symbol's events: bars or trades
 * from CSV files (the format is told by the header), a seeded random walk
 * of bars, or the candles of the host's store, read through the host's
 * candle services into a window of PAPER_WINDOW events per symbol that is
 * refilled as the replay advances (paper_data_fill). Everything that can be
 * is checked here, in configure(), so that `tack check` reports a bad file,
 * naming it and the line, before anything runs.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "paper.h"
#include "utc.h"

#define DATA_LINE_MAX 512
/* Seconds that fit in int64 nanoseconds: up to the year 2262. */
#define DATA_MAX_SECONDS INT64_C(9223372035)
/* 2024-01-01T00:00:00Z: where the random walk starts. */
#define WALK_START_S INT64_C(1704067200)
/* How many rows are checked for prices finer than the tick. */
#define GRID_CHECK_ROWS 1000u

static const char bars_header[] = "ts,open,high,low,close,volume";
static const char trades_header[] = "ts,price,size,side";

void paper_data_free(paper *p, paper_data *d) {
  for (uint32_t i = 0; d->symbols && i < d->n_symbols; i++) {
    if (d->symbols[i].read_id)
      p->host->candles_close(p->ctx, d->symbols[i].read_id);
    p->host->free(p->ctx, d->symbols[i].events);
  }
  p->host->free(p->ctx, d->symbols);
  p->host->free(p->ctx, d->page);
  memset(d, 0, sizeof *d);
}

/* ------------------------------------------------------------------------ */
/* Parameters                                                                */
/* ------------------------------------------------------------------------ */

/* x as money (10^-18); TACK_ERANGE with more decimals or too large. */
static int money_from_double(double x, tack_wide *out) {
  tack_decimal d;
  int rc = tack_decimal_from_double(x, &d);
  if (rc < 0)
    return rc;
  tack_wide v = d.units;
  for (int k = d.scale; k < PAPER_MONEY_SCALE; k++)
    if (__builtin_mul_overflow(v, 10, &v))
      return TACK_ERANGE;
  *out = v;
  return 0;
}

/* "2024-01-01", "2024-01-01T12:00:00Z" or whole seconds since 1970 (UTC);
 * empty: none (*out left as is). */
static int parse_when(paper *p, const char *key, const char *text, tack_time *out) {
  const char *c = text;
  int64_t secs = 0;
  if (text == NULL || text[0] == '\0')
    return 0;
  if (*c == '-')
    c++;
  if (*c >= '0' && *c <= '9' && strspn(c, "0123456789") == strlen(c)) {
    for (; *c; c++) {
      secs = secs * 10 + (*c - '0');
      if (secs > DATA_MAX_SECONDS)
        return p->host->param_error(p->ctx, key, "%s seconds is past what the venue's clock holds",
                                    text);
    }
    *out = (text[0] == '-' ? -secs : secs) * TACK_NS_PER_SEC;
    return 0;
  }
  if (tack_utc_parse(text, out) == 0)
    return 0;
  return p->host->param_error(p->ctx, key,
                              "\"%s\" is not a UTC time: write 2024-01-01, 2024-01-01T12:00:00Z or "
                              "seconds since 1970",
                              text);
}

/* True when data, as the host hands it (a path parameter: joined to the
 * config's folder), is the word "store": its last component is "store" and
 * it is no CSV file or folder (nothing is there, or the host's own store,
 * an LMDB folder). */
static int names_the_store(const char *data) {
  char mdb[4096];
  struct stat st;
  size_t n = strlen(data);
  if (strcmp(data, "store") != 0 && !(n > 6 && strcmp(data + n - 6, "/store") == 0))
    return 0;
  if (stat(data, &st) != 0)
    return 1;
  snprintf(mdb, sizeof mdb, "%s/data.mdb", data);
  return S_ISDIR(st.st_mode) && stat(mdb, &st) == 0;
}

static int read_params(paper *p, paper_config *c, const char **symbols, const char **data,
                       double grid[4]) {
  const tack_host *h = p->host;
  tack_ctx *x = p->ctx;
  const char *quote, *slip, *reject_symbol, *source, *from, *to;
  double cash, maker, taker;
  int rc;
  if ((rc = h->param_string(x, "symbols", symbols)) < 0 ||
      (rc = h->param_string(x, "data", data)) < 0 || (rc = h->param_int(x, "seed", &c->seed)) < 0 ||
      (rc = h->param_int(x, "bars", &c->bars)) < 0 ||
      (rc = h->param_double(x, "start_price", &c->start_price)) < 0 ||
      (rc = h->param_double(x, "volatility", &c->volatility)) < 0 ||
      (rc = h->param_int(x, "timeframe", &c->timeframe)) < 0 ||
      (rc = h->param_int(x, "interval_ms", &c->interval_ms)) < 0 ||
      (rc = h->param_string(x, "quote", &quote)) < 0 ||
      (rc = h->param_double(x, "cash", &cash)) < 0 ||
      (rc = h->param_double(x, "tick", &grid[0])) < 0 ||
      (rc = h->param_double(x, "lot", &grid[1])) < 0 ||
      (rc = h->param_double(x, "min_size", &grid[2])) < 0 ||
      (rc = h->param_double(x, "min_notional", &grid[3])) < 0 ||
      (rc = h->param_bool(x, "shorts", &c->shorts)) < 0 ||
      (rc = h->param_double(x, "maker_bps", &maker)) < 0 ||
      (rc = h->param_double(x, "taker_bps", &taker)) < 0 ||
      (rc = h->param_string(x, "slippage", &slip)) < 0 ||
      (rc = h->param_double(x, "slippage_bps", &c->slippage_bps)) < 0 ||
      (rc = h->param_double(x, "impact", &c->impact)) < 0 ||
      (rc = h->param_int(x, "latency_ms", &c->latency_ms)) < 0 ||
      (rc = h->param_int(x, "feed_latency_ms", &c->feed_latency_ms)) < 0 ||
      (rc = h->param_double(x, "participation", &c->participation)) < 0 ||
      (rc = h->param_int(x, "reject_nth", &c->reject_nth)) < 0 ||
      (rc = h->param_string(x, "reject_symbol", &reject_symbol)) < 0 ||
      (rc = h->param_bool(x, "persist", &c->persist)) < 0 ||
      (rc = h->param_string(x, "source", &source)) < 0 ||
      (rc = h->param_string(x, "from", &from)) < 0 || (rc = h->param_string(x, "to", &to)) < 0)
    return rc;

  int has_data = *data != NULL && (*data)[0] != '\0';
  /* data = "store": the shorthand of source = "store". */
  if (has_data && names_the_store(*data) &&
      (source == NULL || strcmp(source, "auto") == 0 || strcmp(source, "store") == 0)) {
    *data = "";
    has_data = 0;
    source = "store";
  }
  if (source == NULL || strcmp(source, "auto") == 0)
    c->source = has_data ? PAPER_SOURCE_FILES : PAPER_SOURCE_WALK;
  else if (strcmp(source, "files") == 0)
    c->source = PAPER_SOURCE_FILES;
  else if (strcmp(source, "walk") == 0)
    c->source = PAPER_SOURCE_WALK;
  else if (strcmp(source, "store") == 0)
    c->source = PAPER_SOURCE_STORE;
  else
    return h->param_error(x, "source", "\"%s\" is not one of auto, files, walk, store", source);
  if (c->source == PAPER_SOURCE_FILES && !has_data)
    return h->param_error(x, "source", "is files but data names no file or folder");
  if (c->source != PAPER_SOURCE_FILES && has_data)
    return h->param_error(x, "data",
                          "names %s but source is %s: data is read only with source = files "
                          "(or auto)",
                          *data, source);
  if (c->source == PAPER_SOURCE_STORE && !TACK_HOST_HAS(h, candles_close))
    return h->param_error(x, "source",
                          "is store but this host has no candle services (tack ABI 1.1 or later)");
  c->from = INT64_MIN;
  c->to = INT64_MAX;
  if ((rc = parse_when(p, "from", from, &c->from)) < 0 ||
      (rc = parse_when(p, "to", to, &c->to)) < 0)
    return rc;
  if (c->from >= c->to)
    return h->param_error(x, "to", "%s is not after from (%s): the range would be empty", to, from);

  if (quote == NULL || quote[0] == '\0' || strlen(quote) >= TACK_CURRENCY_MAX ||
      strchr(quote, '-') != NULL)
    return h->param_error(x, "quote", "\"%s\" is not a currency code of 1 to %d characters",
                          quote ? quote : "", TACK_CURRENCY_MAX - 1);
  tack_copy_text(c->quote, sizeof c->quote, quote);
  if (reject_symbol && strlen(reject_symbol) >= TACK_SYMBOL_MAX)
    return h->param_error(x, "reject_symbol", "is longer than %d characters", TACK_SYMBOL_MAX - 1);
  tack_copy_text(c->reject_symbol, sizeof c->reject_symbol, reject_symbol);
  if (!isfinite(cash) || cash < 0 || money_from_double(cash, &c->cash) < 0)
    return h->param_error(x, "cash", "%.17g is not an amount of at most 18 decimals", cash);
  if (!isfinite(maker) || tack_decimal_from_double(maker, &c->maker_bps) < 0)
    return h->param_error(x, "maker_bps", "%.17g is not a usable fee rate", maker);
  if (!isfinite(taker) || tack_decimal_from_double(taker, &c->taker_bps) < 0)
    return h->param_error(x, "taker_bps", "%.17g is not a usable fee rate", taker);
  if (slip == NULL || strcmp(slip, "fixed") == 0)
    c->slippage = PAPER_SLIP_FIXED;
  else if (strcmp(slip, "none") == 0)
    c->slippage = PAPER_SLIP_NONE;
  else if (strcmp(slip, "volume") == 0)
    c->slippage = PAPER_SLIP_VOLUME;
  else if (strcmp(slip, "sqrt") == 0)
    c->slippage = PAPER_SLIP_SQRT;
  else
    return h->param_error(x, "slippage", "\"%s\" is not one of none, fixed, volume, sqrt", slip);
  if (!(c->participation > 0 && c->participation <= 1))
    return h->param_error(x, "participation", "%g is not in (0, 1]", c->participation);
  return 0;
}

/* ------------------------------------------------------------------------ */
/* Symbols and their grid                                                    */
/* ------------------------------------------------------------------------ */

static int make_grid(paper *p, paper_data *d, paper_symbol *s, const double grid[4]) {
  const paper_config *c = &d->cfg;
  tack_instrument *in = &s->instr;
  in->type = c->shorts ? TACK_INSTR_PERPETUAL : TACK_INSTR_SPOT;
  in->flags = TACK_INSTR_TRADING | (c->shorts ? TACK_INSTR_CAN_SHORT : 0u);
  in->price_increment = grid[0];
  in->size_increment = grid[1];
  in->min_size = grid[2] > 0 ? grid[2] : grid[1];
  in->min_notional = grid[3];
  in->contract_size = 1.0;
  if (tack_rounding_init(&s->grid, in) < 0)
    return p->host->param_error(p->ctx, "tick",
                                "tick %.17g, lot %.17g, min_size %.17g and min_notional %.17g must "
                                "be positive (minimums: zero or more) with at most %d decimals",
                                grid[0], grid[1], grid[2], grid[3], TACK_DECIMAL_MAX_SCALE);
  int scale = s->grid.tick.scale + s->grid.lot.scale;
  tack_wide unit = (tack_wide)s->grid.tick.units * s->grid.lot.units;
  for (; scale < PAPER_MONEY_SCALE; scale++)
    unit *= 10;
  if (scale > PAPER_MONEY_SCALE)
    return p->host->param_error(p->ctx, "lot",
                                "tick %.17g times lot %.17g has more than %d decimals: the venue "
                                "keeps money to 10^-%d",
                                grid[0], grid[1], PAPER_MONEY_SCALE, PAPER_MONEY_SCALE);
  s->unit = unit;
  return 0;
}

/* Splits "BTC-USD,ETH-USD" into instruments. */
static int parse_symbols(paper *p, const char *text, paper_data *d, const double grid[4]) {
  const tack_host *h = p->host;
  size_t cap = 1;
  for (const char *c = text; *c; c++)
    cap += *c == ',';
  if (cap > PAPER_MAX_SYMBOLS)
    return h->param_error(p->ctx, "symbols", "lists more than %u symbols",
                          (unsigned)PAPER_MAX_SYMBOLS);
  d->symbols = h->alloc(p->ctx, cap * sizeof *d->symbols);
  if (d->symbols == NULL)
    return TACK_ENOMEM;
  memset(d->symbols, 0, cap * sizeof *d->symbols);
  for (const char *at = text; *at;) {
    size_t len = strcspn(at, ",");
    const char *next = at + len + (at[len] == ',');
    while (len > 0 && *at == ' ') {
      at++;
      len--;
    }
    while (len > 0 && at[len - 1] == ' ')
      len--;
    if (len == 0 || len >= TACK_SYMBOL_MAX)
      return h->param_error(p->ctx, "symbols",
                            "symbol %u is empty or longer than %d characters in \"%s\"",
                            (unsigned)d->n_symbols + 1, TACK_SYMBOL_MAX - 1, text);
    size_t dash = strcspn(at, "-");
    if (dash == 0 || dash + 1 >= len || dash >= TACK_CURRENCY_MAX)
      return h->param_error(p->ctx, "symbols",
                            "\"%.*s\" is not BASE-QUOTE with a base of at most %d characters",
                            (int)len, at, TACK_CURRENCY_MAX - 1);
    for (size_t i = 0; i < len; i++)
      if (at[i] == '/' || at[i] == '\\' || (unsigned char)at[i] < 0x21)
        return h->param_error(p->ctx, "symbols", "\"%.*s\" holds a '%c': not allowed in a symbol",
                              (int)len, at, at[i] < 0x21 ? ' ' : at[i]);
    paper_symbol *s = &d->symbols[d->n_symbols];
    memcpy(s->instr.symbol, at, len);
    memcpy(s->instr.base, at, dash);
    tack_copy_text(s->instr.quote, sizeof s->instr.quote, d->cfg.quote);
    tack_copy_text(s->instr.settle, sizeof s->instr.settle, d->cfg.quote);
    for (uint32_t i = 0; i < d->n_symbols; i++) {
      if (strcmp(d->symbols[i].instr.symbol, s->instr.symbol) == 0)
        return h->param_error(p->ctx, "symbols", "\"%s\" is listed twice", s->instr.symbol);
      if (strcmp(d->symbols[i].instr.base, s->instr.base) == 0)
        return h->param_error(p->ctx, "symbols",
                              "\"%s\" and \"%s\" share the base %s: the paper venue keeps one "
                              "holding per base currency, so list one of them",
                              d->symbols[i].instr.symbol, s->instr.symbol, s->instr.base);
    }
    if (strcmp(s->instr.base, d->cfg.quote) == 0)
      return h->param_error(p->ctx, "symbols", "\"%s\": the base %s is the quote currency",
                            s->instr.symbol, s->instr.base);
    int rc = make_grid(p, d, s, grid);
    if (rc < 0)
      return rc;
    d->n_symbols++;
    at = next;
  }
  if (d->n_symbols == 0)
    return h->param_error(p->ctx, "symbols", "lists no symbol");
  return 0;
}

/* ------------------------------------------------------------------------ */
/* CSV files                                                                 */
/* ------------------------------------------------------------------------ */

/* A number followed by sep ('\0': the end of the line). */
static int parse_number(const char **at, char sep, double *out) {
  char *end;
  errno = 0;
  *out = strtod(*at, &end);
  if (end == *at || errno == ERANGE || !isfinite(*out))
    return -1;
  while (*end == ' ')
    end++;
  if (*end != sep)
    return -1;
  *at = sep ? end + 1 : end;
  return 0;
}

/* Seconds since 1970, with an optional fraction, as nanoseconds; digits
 * past the ninth decimal are dropped. */
static int parse_ts(const char **at, int fraction, tack_time *out) {
  const char *c = *at;
  int64_t secs = 0, ns = 0;
  int digits = 0;
  while (*c == ' ')
    c++;
  for (; *c >= '0' && *c <= '9'; c++, digits++) {
    secs = secs * 10 + (*c - '0');
    if (secs > DATA_MAX_SECONDS)
      return -1;
  }
  if (digits == 0)
    return -1;
  if (*c == '.' && fraction) {
    int place = 0;
    c++;
    for (; *c >= '0' && *c <= '9'; c++, place++)
      if (place < 9)
        ns = ns * 10 + (*c - '0');
    if (place == 0)
      return -1;
    for (; place < 9; place++)
      ns *= 10;
  }
  while (*c == ' ')
    c++;
  if (*c != ',')
    return -1;
  *at = c + 1;
  *out = secs * TACK_NS_PER_SEC + ns;
  return 0;
}

static int same_word(const char *a, const char *b) {
  for (; *a && *b; a++, b++) {
    char ca = *a >= 'A' && *a <= 'Z' ? (char)(*a - 'A' + 'a') : *a;
    if (ca != *b)
      return 0;
  }
  return *a == *b;
}

static const char *parse_bar(const char *line, paper_event *e) {
  const char *at = line;
  if (parse_ts(&at, 0, &e->ts) < 0)
    return "ts is not a whole number of seconds since 1970";
  double *fields[5] = {&e->open, &e->high, &e->low, &e->close, &e->volume};
  for (int i = 0; i < 5; i++)
    if (parse_number(&at, i < 4 ? ',' : '\0', fields[i]) < 0)
      return "expected 5 numbers after ts: open,high,low,close,volume";
  double top = e->open > e->close ? e->open : e->close;
  double bottom = e->open < e->close ? e->open : e->close;
  if (!(e->low > 0.0) || e->low > bottom || e->high < top || e->volume < 0.0)
    return "prices must be positive with low <= open, close <= high, and volume >= 0";
  return NULL;
}

static const char *parse_trade(const char *line, paper_event *e) {
  const char *at = line;
  double price, size;
  if (parse_ts(&at, 1, &e->ts) < 0)
    return "ts is not seconds since 1970 (a fraction is allowed)";
  if (parse_number(&at, ',', &price) < 0 || parse_number(&at, ',', &size) < 0)
    return "expected price and size after ts";
  if (!(price > 0.0) || size < 0.0)
    return "price must be positive and size zero or more";
  while (*at == ' ')
    at++;
  char side[8];
  size_t n = strlen(at);
  while (n > 0 && at[n - 1] == ' ')
    n--;
  if (n >= sizeof side)
    return "side must be buy, sell or empty";
  memcpy(side, at, n);
  side[n] = '\0';
  if (n == 0)
    e->side = 0;
  else if (same_word(side, "buy") || same_word(side, "b"))
    e->side = TACK_SIDE_BUY;
  else if (same_word(side, "sell") || same_word(side, "s"))
    e->side = TACK_SIDE_SELL;
  else
    return "side must be buy, sell or empty";
  e->open = e->high = e->low = e->close = price;
  e->volume = size;
  return NULL;
}

/* True when x lies on the tick grid (within rounding.h's snap). */
static int on_tick(const paper_symbol *s, double x) {
  int64_t down, up;
  return tack_rounding_price(&s->grid, x, TACK_ROUND_DOWN, &down) == 0 &&
         tack_rounding_price(&s->grid, x, TACK_ROUND_UP, &up) == 0 && down == up;
}

static int grow_events(paper *p, paper_symbol *s, uint64_t *cap) {
  uint64_t grown = *cap ? *cap * 2 : 1024;
  if (grown > SIZE_MAX / sizeof(paper_event))
    return TACK_ENOMEM;
  paper_event *ev = p->host->realloc(p->ctx, s->events, (size_t)grown * sizeof *ev);
  if (ev == NULL)
    return TACK_ENOMEM;
  s->events = ev;
  *cap = grown;
  return 0;
}

/* "from 2024-01-01T00:00:00Z to 2024-02-01T00:00:00Z" for messages; empty
 * when the range is everything. */
static void range_text(const paper_config *c, char *buf, size_t cap) {
  char a[48] = "", b[48] = "";
  /* INT64_MIN and INT64_MAX stand for no bound: never formatted. */
  if (c->from != INT64_MIN)
    tack_utc_format(c->from, a, sizeof a);
  if (c->to != INT64_MAX)
    tack_utc_format(c->to, b, sizeof b);
  if (c->from == INT64_MIN && c->to == INT64_MAX)
    snprintf(buf, cap, "%s", "");
  else if (c->from == INT64_MIN)
    snprintf(buf, cap, " before %s", b);
  else if (c->to == INT64_MAX)
    snprintf(buf, cap, " from %s", a);
  else
    snprintf(buf, cap, " from %s to %s", a, b);
}

/* Reads one file into s->events, keeping the rows whose ts is in [from,
 * to) (every row is checked); *kind is set from its header and *gap_s to
 * the smallest gap between two rows of bars, in seconds (0 with one row). */
static int load_file(paper *p, const paper_config *c, paper_symbol *s, const char *path,
                     uint32_t *kind, int64_t *gap_s) {
  const tack_host *h = p->host;
  char line[DATA_LINE_MAX], range[120];
  unsigned long lineno = 0, off_grid = 0;
  uint64_t cap = 0, rows = 0;
  tack_time prev = 0;
  paper_event row;
  int rc = 0;
  *gap_s = 0;
  errno = 0;
  FILE *f = fopen(path, "r");
  if (f == NULL)
    return h->param_error(p->ctx, "data", "cannot open %s for %s: %s", path, s->instr.symbol,
                          strerror(errno));
  while (fgets(line, sizeof line, f) != NULL) {
    lineno++;
    size_t len = strlen(line);
    if (len == sizeof line - 1 && line[len - 1] != '\n' && !feof(f)) {
      rc = h->param_error(p->ctx, "data", "%s:%lu: line longer than %d bytes", path, lineno,
                          DATA_LINE_MAX - 2);
      goto done;
    }
    line[strcspn(line, "\r\n")] = '\0';
    const char *text = line;
    if (lineno == 1) {
      if (strncmp(text, "\xef\xbb\xbf", 3) == 0) /* a UTF-8 byte order mark */
        text += 3;
      if (strcmp(text, bars_header) == 0) {
        *kind = PAPER_DATA_BARS;
      } else if (strcmp(text, trades_header) == 0) {
        *kind = PAPER_DATA_TRADES;
      } else {
        rc = h->param_error(p->ctx, "data", "%s:1: expected the header %s (bars) or %s (trades)",
                            path, bars_header, trades_header);
        goto done;
      }
      continue;
    }
    if (text[0] == '\0')
      continue;
    paper_event *e = &row;
    memset(e, 0, sizeof *e);
    const char *why = *kind == PAPER_DATA_BARS ? parse_bar(text, e) : parse_trade(text, e);
    if (why != NULL) {
      rc = h->param_error(p->ctx, "data", "%s:%lu: %s", path, lineno, why);
      goto done;
    }
    if (rows > 0) {
      if (*kind == PAPER_DATA_BARS ? e->ts <= prev : e->ts < prev) {
        rc = h->param_error(p->ctx, "data", "%s:%lu: ts must %s from row to row", path, lineno,
                            *kind == PAPER_DATA_BARS ? "increase" : "not decrease");
        goto done;
      }
      int64_t g = (e->ts - prev) / TACK_NS_PER_SEC;
      if (*gap_s == 0 || g < *gap_s)
        *gap_s = g;
    }
    prev = e->ts;
    rows++;
    if (e->ts < c->from || e->ts >= c->to)
      continue;
    if (s->n_events == cap && (rc = grow_events(p, s, &cap)) < 0)
      goto done;
    s->events[s->n_events] = row;
    e = &s->events[s->n_events];
    if (s->n_events < GRID_CHECK_ROWS && off_grid == 0 &&
        (!on_tick(s, e->open) || !on_tick(s, e->high) || !on_tick(s, e->low) ||
         !on_tick(s, e->close)))
      off_grid = lineno;
    s->n_events++;
  }
  if (ferror(f)) {
    rc = h->param_error(p->ctx, "data", "cannot read %s: %s", path, strerror(errno));
    goto done;
  }
  if (rows == 0) {
    rc = h->param_error(p->ctx, "data", "%s has no data rows", path);
    goto done;
  }
  if (s->n_events == 0) {
    range_text(c, range, sizeof range);
    rc = h->param_error(p->ctx, "data", "%s has no rows%s (params from and to)", path, range);
    goto done;
  }
  if (off_grid)
    h->log(p->ctx, TACK_LOG_WARN,
           "%s:%lu: %s prices are finer than the tick %.17g; fills are rounded to the tick, "
           "against the taker",
           path, off_grid, s->instr.symbol, s->instr.price_increment);
done:
  fclose(f);
  return rc;
}

/* The bars' timeframe: the smallest gap between two rows, gap (a file may
 * miss a bar, never has two in one interval); every bar kept must start on
 * its grid. */
static int bars_timeframe(paper *p, paper_symbol *s, const char *path, int64_t gap,
                          int64_t fallback, uint32_t *tf) {
  if (gap == 0)
    gap = fallback;
  if (gap > 604800)
    return p->host->param_error(p->ctx, "data", "%s: rows are %lld s apart; at most 7 days allowed",
                                path, (long long)gap);
  for (uint64_t i = 0; i < s->n_events; i++)
    if ((s->events[i].ts / TACK_NS_PER_SEC) % gap != 0)
      return p->host->param_error(p->ctx, "data",
                                  "%s: row %llu starts at %lld, not on the %lld s grid counted "
                                  "from 1970-01-01T00:00:00Z",
                                  path, (unsigned long long)i + 1,
                                  (long long)(s->events[i].ts / TACK_NS_PER_SEC), (long long)gap);
  *tf = (uint32_t)gap;
  return 0;
}

/* "bars of 60 s" or "trades", for messages. */
static void kind_text(uint32_t kind, uint32_t tf, char *buf, size_t cap) {
  if (kind == PAPER_DATA_BARS)
    snprintf(buf, cap, "bars of %u s", (unsigned)tf);
  else
    snprintf(buf, cap, "trades");
}

static int load_files(paper *p, paper_data *d, const char *data) {
  const tack_host *h = p->host;
  struct stat st;
  int folder;
  if (stat(data, &st) != 0)
    return h->param_error(p->ctx, "data", "cannot read %s: %s", data, strerror(errno));
  folder = S_ISDIR(st.st_mode);
  if (!folder && d->n_symbols > 1)
    return h->param_error(p->ctx, "data",
                          "%s is one file but %u symbols are listed: give a folder holding "
                          "<SYMBOL>.csv for each",
                          data, (unsigned)d->n_symbols);
  for (uint32_t i = 0; i < d->n_symbols; i++) {
    paper_symbol *s = &d->symbols[i];
    char path[4096];
    uint32_t kind = 0, tf = 0;
    int64_t gap = 0;
    int n = folder ? snprintf(path, sizeof path, "%s/%s.csv", data, s->instr.symbol)
                   : snprintf(path, sizeof path, "%s", data);
    if (n < 0 || (size_t)n >= sizeof path)
      return h->param_error(p->ctx, "data", "the path %s is too long", data);
    int rc = load_file(p, &d->cfg, s, path, &kind, &gap);
    if (rc < 0)
      return rc;
    if (kind == PAPER_DATA_BARS &&
        (rc = bars_timeframe(p, s, path, gap, d->cfg.timeframe, &tf)) < 0)
      return rc;
    if (i == 0) {
      d->kind = kind;
      d->timeframe_s = tf;
    } else if (kind != d->kind || tf != d->timeframe_s) {
      char now[48], first[48];
      kind_text(kind, tf, now, sizeof now);
      kind_text(d->kind, d->timeframe_s, first, sizeof first);
      return h->param_error(p->ctx, "data",
                            "%s holds %s but the file of %s holds %s: every symbol's file must "
                            "hold the same kind of data (bars of one timeframe, or trades)",
                            path, now, d->symbols[0].instr.symbol, first);
    }
  }
  for (uint32_t i = 0; i < d->n_symbols; i++)
    d->symbols[i].first_ts = d->symbols[i].events[0].ts;
  snprintf(d->source, sizeof d->source, "%s", data);
  return 0;
}

/* ------------------------------------------------------------------------ */
/* The random walk                                                           */
/* ------------------------------------------------------------------------ */

/* splitmix64: small, and the same on every platform (rand() is not). */
static uint64_t walk_next(uint64_t *state) {
  uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
  z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
  return z ^ (z >> 31);
}

static double walk_uniform(uint64_t *state) {
  return (double)(walk_next(state) >> 11) * (1.0 / 9007199254740992.0);
}

/* FNV-1a of the symbol: each walk depends on its symbol, not its place. */
static uint64_t walk_hash(const char *s) {
  uint64_t h = UINT64_C(14695981039346656037);
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * UINT64_C(1099511628211);
  return h;
}

/* Nearest tick, at least one. */
static int64_t walk_ticks(const paper_symbol *s, double price) {
  int64_t t = 1;
  if (tack_rounding_price(&s->grid, price, TACK_ROUND_NEAREST, &t) < 0 || t < 1)
    t = 1;
  return t;
}

/* Bars on the tick grid: the open is the last close. They start at `from`
 * (rounded up to the timeframe's grid), by default 2024-01-01, and end
 * after `bars` bars or before `to`. */
static int make_walk(paper *p, paper_data *d) {
  const paper_config *c = &d->cfg;
  uint32_t tf = (uint32_t)c->timeframe;
  tack_time step = (tack_time)tf * TACK_NS_PER_SEC, start, last, room;
  int64_t bars = c->bars;
  char at[48];
  if (c->from == INT64_MIN)
    start = (WALK_START_S - WALK_START_S % tf) * TACK_NS_PER_SEC;
  else if (__builtin_mul_overflow(-tack_floor_div(-c->from, step), step, &start))
    return p->host->param_error(p->ctx, "from", "is past what the venue's clock holds");
  if (c->to != INT64_MAX) {
    tack_utc_format(start, at, sizeof at);
    if (c->to <= start)
      return p->host->param_error(p->ctx, "to",
                                  "leaves no bar of the random walk, which starts at %s", at);
    if (!__builtin_sub_overflow(c->to, start, &room) && (room - 1) / step + 1 < bars)
      bars = (room - 1) / step + 1;
  }
  if (__builtin_mul_overflow(bars - 1, step, &last) || __builtin_add_overflow(start, last, &last))
    return p->host->param_error(p->ctx, "bars",
                                "%lld bars of %u s run past what the venue's clock holds (the "
                                "year 2262)",
                                (long long)bars, (unsigned)tf);
  for (uint32_t i = 0; i < d->n_symbols; i++) {
    paper_symbol *s = &d->symbols[i];
    uint64_t rng = (uint64_t)c->seed ^ walk_hash(s->instr.symbol);
    int64_t open = walk_ticks(s, c->start_price);
    s->events = p->host->alloc(p->ctx, (size_t)bars * sizeof *s->events);
    if (s->events == NULL)
      return TACK_ENOMEM;
    s->n_events = (uint64_t)bars;
    s->first_ts = start;
    for (int64_t k = 0; k < bars; k++) {
      double o = tack_rounding_price_double(&s->grid, open);
      double move = (2.0 * walk_uniform(&rng) - 1.0) * c->volatility;
      int64_t close = walk_ticks(s, o * (1.0 + move));
      int64_t top = open > close ? open : close, bottom = open < close ? open : close;
      int64_t high = walk_ticks(s, tack_rounding_price_double(&s->grid, top) *
                                       (1.0 + walk_uniform(&rng) * c->volatility / 2.0));
      int64_t low = walk_ticks(s, tack_rounding_price_double(&s->grid, bottom) *
                                      (1.0 - walk_uniform(&rng) * c->volatility / 2.0));
      paper_event *e = &s->events[k];
      memset(e, 0, sizeof *e);
      e->ts = start + (tack_time)k * step;
      e->open = o;
      e->close = tack_rounding_price_double(&s->grid, close);
      e->high = tack_rounding_price_double(&s->grid, high > top ? high : top);
      e->low = tack_rounding_price_double(&s->grid, low < bottom ? low : bottom);
      e->volume = floor((1.0 + 99.0 * walk_uniform(&rng)) * 1000.0) / 1000.0;
      open = close;
    }
  }
  d->kind = PAPER_DATA_BARS;
  d->timeframe_s = tf;
  snprintf(d->source, sizeof d->source, "random walk, seed %lld", (long long)c->seed);
  return 0;
}

/* ------------------------------------------------------------------------ */
/* The host's store                                                          */
/* ------------------------------------------------------------------------ */

/* Appends n candles of a page to the window (which has room). The store
 * checked them (finite, low <= open, close <= high, on the grid); the venue
 * also needs positive prices: TACK_EINVAL, with why, for one that has not. */
static int take_page(paper_symbol *s, const tack_bar *bars, size_t n, char *why, size_t cap) {
  for (size_t i = 0; i < n; i++) {
    const tack_bar *b = &bars[i];
    if (!(b->low > 0)) {
      char at[48];
      tack_utc_format(b->ts, at, sizeof at);
      snprintf(why, cap,
               "%s: the store's candle at %s has a low of %.17g: the paper venue needs positive "
               "prices",
               s->instr.symbol, at, b->low);
      return TACK_EINVAL;
    }
    paper_event *e = &s->events[s->n_events - s->base];
    e->ts = b->ts;
    e->open = b->open;
    e->high = b->high;
    e->low = b->low;
    e->close = b->close;
    e->volume = b->volume;
    e->side = 0;
    e->reserved = 0;
    s->n_events++;
  }
  return 0;
}

/* paper_data_fill() for data d, which may not be the instance's yet. */
static int fill(paper *p, paper_data *d, paper_symbol *s) {
  while (s->more && s->cursor >= s->n_events) {
    /* Keep what is not published yet; the window then has room, unless
     * all of it waits for the feed latency: then it grows. */
    uint64_t keep = s->published < s->n_events ? s->published : s->n_events;
    uint64_t held = s->n_events - keep;
    if (keep > s->base) {
      memmove(s->events, paper_event_at(s, keep), (size_t)held * sizeof *s->events);
      s->base = keep;
    }
    if (held == s->cap_window) {
      uint64_t grown = s->cap_window * 2;
      paper_event *ev = grown > SIZE_MAX / sizeof *ev
                            ? NULL
                            : p->host->realloc(p->ctx, s->events, (size_t)grown * sizeof *ev);
      if (ev == NULL)
        return TACK_ENOMEM;
      s->events = ev;
      s->cap_window = grown;
    }
    while (s->n_events - s->base < s->cap_window) {
      uint64_t room = s->cap_window - (s->n_events - s->base);
      size_t want = room < PAPER_PAGE ? (size_t)room : PAPER_PAGE, n = 0;
      int rc = p->host->candles_next(p->ctx, s->read_id, d->page, want, &n);
      if (rc < 0) {
        p->host->log(p->ctx, TACK_LOG_ERROR,
                     "cannot read the candles of %s from the store: %s (%s)", s->instr.symbol,
                     tack_strerror(rc), tack_err_name(rc));
        return rc;
      }
      if (n == 0) {
        s->more = 0;
        break;
      }
      char why[320];
      if ((rc = take_page(s, d->page, n < want ? n : want, why, sizeof why)) < 0) {
        p->host->log(p->ctx, TACK_LOG_ERROR, "%s", why);
        return rc;
      }
    }
  }
  return 0;
}

int paper_data_fill(paper *p, paper_symbol *s) { return fill(p, &p->data, s); }

/* "BTC-USD at 60 s" and the range, for messages. */
static int no_candles(paper *p, const paper_data *d, const paper_symbol *s, uint64_t count,
                      tack_time first, tack_time last) {
  char range[120], a[48], b[48];
  const paper_config *c = &d->cfg;
  range_text(c, range, sizeof range);
  tack_utc_format(first, a, sizeof a);
  tack_utc_format(last, b, sizeof b);
  return p->host->param_error(p->ctx, c->from != INT64_MIN ? "from" : "to",
                              "%s at %u s: the host's store holds %llu candles from %s to %s, none"
                              "%s",
                              s->instr.symbol, (unsigned)d->timeframe_s, (unsigned long long)count,
                              a, b, range);
}

/* Opens every symbol's read at `from` and fills its first window. Returns
 * TACK_ESTATE, unreported, when the host has no store. */
static int open_reads(paper *p, paper_data *d) {
  const tack_host *h = p->host;
  const paper_config *c = &d->cfg;
  unsigned long off_grid = 0;
  int rc;
  if (d->page == NULL && (d->page = h->alloc(p->ctx, PAPER_PAGE * sizeof *d->page)) == NULL)
    return TACK_ENOMEM;
  for (uint32_t i = 0; i < d->n_symbols; i++) {
    paper_symbol *s = &d->symbols[i];
    uint64_t count = 0;
    tack_time first = 0, last = 0;
    rc = h->candles_info(p->ctx, s->instr.symbol, d->timeframe_s, &count, &first, &last);
    if (rc == TACK_ESTATE)
      return rc;
    if (rc == TACK_ENOENT)
      return h->param_error(p->ctx, "source",
                            "%s at %u s: the host's store holds no such candles: import them "
                            "(tack data import) or make some (tack data synth); tack data ls "
                            "lists what the store holds",
                            s->instr.symbol, (unsigned)d->timeframe_s);
    if (rc == 0 && s->events == NULL) {
      s->events = h->alloc(p->ctx, PAPER_WINDOW * sizeof *s->events);
      s->cap_window = PAPER_WINDOW;
      if (s->events == NULL)
        return TACK_ENOMEM;
    }
    if (rc == 0 && s->read_id == 0)
      rc = h->candles_open(p->ctx, s->instr.symbol, d->timeframe_s, c->from, c->to, &s->read_id);
    if (rc < 0)
      return h->param_error(p->ctx, "source", "%s at %u s: cannot read the host's store: %s (%s)",
                            s->instr.symbol, (unsigned)d->timeframe_s, tack_strerror(rc),
                            tack_err_name(rc));
    /* One page is enough to know the range is not empty; the window fills
     * up as the replay (or a restart's seek) needs it. */
    s->base = s->n_events = s->cursor = s->published = 0;
    s->more = 1;
    size_t n = 0;
    rc = h->candles_next(p->ctx, s->read_id, d->page, PAPER_PAGE, &n);
    if (rc < 0)
      return h->param_error(p->ctx, "source", "%s at %u s: cannot read the host's store: %s (%s)",
                            s->instr.symbol, (unsigned)d->timeframe_s, tack_strerror(rc),
                            tack_err_name(rc));
    char why[320];
    if (n == 0)
      s->more = 0;
    else if (take_page(s, d->page, n < PAPER_PAGE ? n : PAPER_PAGE, why, sizeof why) < 0)
      return h->param_error(p->ctx, "source", "%s", why);
    if (s->n_events == 0)
      return no_candles(p, d, s, count, first, last);
    s->first_ts = s->events[0].ts;
    for (uint64_t k = 0; k < s->n_events && k < GRID_CHECK_ROWS && off_grid == 0; k++) {
      const paper_event *e = &s->events[k];
      if (!on_tick(s, e->open) || !on_tick(s, e->high) || !on_tick(s, e->low) ||
          !on_tick(s, e->close)) {
        off_grid = 1;
        h->log(p->ctx, TACK_LOG_WARN,
               "%s: the store's candles have prices finer than the tick %.17g; fills are rounded "
               "to the tick, against the taker",
               s->instr.symbol, s->instr.price_increment);
      }
    }
  }
  d->reads_open = 1;
  return 0;
}

static int load_store(paper *p, paper_data *d) {
  char range[120];
  d->kind = PAPER_DATA_BARS;
  d->timeframe_s = (uint32_t)d->cfg.timeframe;
  range_text(&d->cfg, range, sizeof range);
  snprintf(d->source, sizeof d->source, "the host's store (candles of %u s%s)",
           (unsigned)d->timeframe_s, range);
  for (uint32_t i = 0; i < d->n_symbols; i++)
    d->symbols[i].first_ts = INT64_MAX;
  int rc = open_reads(p, d);
  /* No store now (`tack check`): start opens the reads. */
  return rc == TACK_ESTATE ? 0 : rc;
}

int paper_data_prepare(paper *p) {
  paper_data *d = &p->data;
  if (d->cfg.source != PAPER_SOURCE_STORE || d->reads_open)
    return 0;
  int rc = open_reads(p, d);
  if (rc == TACK_ESTATE)
    p->host->log(p->ctx, TACK_LOG_ERROR,
                 "source is store but the host runs without a store: give the config a store "
                 "(store = \"...\"), or replay files (data) or the random walk");
  return rc;
}

int paper_data_seek(paper *p) {
  paper_data *d = &p->data;
  p->unpublished = 0;
  for (uint32_t i = 0; i < d->n_symbols; i++) {
    paper_symbol *s = &d->symbols[i];
    if (d->cfg.source == PAPER_SOURCE_STORE && s->published > 0 && s->pub_ts != INT64_MIN &&
        (s->pub_ts < d->cfg.from || s->pub_ts >= d->cfg.to)) {
      char at[48];
      tack_utc_format(s->pub_ts, at, sizeof at);
      p->host->log(p->ctx, TACK_LOG_ERROR,
                   "the saved paper venue state belongs to other data: %s was saved at its "
                   "candle of %s, outside the range replayed now (params from and to). Restore "
                   "that range, or start afresh with persist = false or a new bot name",
                   s->instr.symbol, at);
      return TACK_ECONFIG;
    }
    if (d->cfg.source == PAPER_SOURCE_STORE &&
        !(s->read_id && s->base <= s->published && s->published <= s->n_events)) {
      /* Read again from the candle after the last one published; without
       * its time (a state of format 1), from the start, skipping by count. */
      tack_time at = d->cfg.from;
      uint64_t base = 0;
      if (s->published > 0 && s->pub_ts != INT64_MIN) {
        base = s->published;
        if (s->pub_ts + 1 > at)
          at = s->pub_ts + 1;
      }
      if (s->read_id)
        p->host->candles_close(p->ctx, s->read_id);
      s->read_id = 0;
      int rc = p->host->candles_open(p->ctx, s->instr.symbol, d->timeframe_s, at, d->cfg.to,
                                     &s->read_id);
      if (rc < 0) {
        p->host->log(p->ctx, TACK_LOG_ERROR,
                     "cannot read the candles of %s from the store: %s (%s)", s->instr.symbol,
                     tack_strerror(rc), tack_err_name(rc));
        return rc;
      }
      s->base = s->n_events = base;
      s->more = 1;
    }
    if (d->cfg.source == PAPER_SOURCE_STORE) {
      int rc = fill(p, d, s);
      if (rc < 0)
        return rc;
    }
    if (s->cursor > s->n_events) {
      p->host->log(p->ctx, TACK_LOG_ERROR,
                   "the saved paper venue state belongs to other data: %s was saved at event "
                   "%llu but its data now has %llu events. Restore that data, or start afresh "
                   "with persist = false or a new bot name",
                   s->instr.symbol, (unsigned long long)s->cursor, (unsigned long long)s->n_events);
      return TACK_ECONFIG;
    }
    p->unpublished += s->cursor - s->published;
  }
  return 0;
}

int paper_data_build(paper *p, paper_data *d) {
  const char *symbols, *data;
  double grid[4];
  int rc = read_params(p, &d->cfg, &symbols, &data, grid);
  if (rc < 0)
    return rc;
  if (symbols == NULL || (rc = parse_symbols(p, symbols, d, grid)) < 0)
    return rc < 0 ? rc : p->host->param_error(p->ctx, "symbols", "is required");
  if (d->cfg.reject_symbol[0] != '\0') {
    int known = 0;
    for (uint32_t i = 0; i < d->n_symbols; i++)
      known |= strcmp(d->symbols[i].instr.symbol, d->cfg.reject_symbol) == 0;
    if (!known)
      return p->host->param_error(p->ctx, "reject_symbol", "\"%s\" is not one of symbols",
                                  d->cfg.reject_symbol);
  }
  if (d->cfg.source == PAPER_SOURCE_STORE)
    return load_store(p, d);
  if (d->cfg.source == PAPER_SOURCE_FILES)
    return load_files(p, d, data);
  return make_walk(p, d);
}
