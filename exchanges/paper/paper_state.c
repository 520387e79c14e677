/*
 * paper_state.c: the paper venue's memory across restarts, in the host's
 * key-value storage (namespaced per instance by the host). Three kinds of
 * key, each a little-endian binary record that starts with an 8-byte magic
 * and a format version and ends with an FNV-1a checksum:
 *
 *   "state"      the truth: the configuration it belongs to (quote,
 *                symbols and their grid, data kind), the clock, counters,
 *                cash, every symbol's cursors (counts of events from the
 *                start of the replayed range) and position, and the open
 *                orders; then a trailer, "RSUM" and each symbol's last
 *                published time (where a read of the store's candles
 *                resumes), which a state written before it lacks: the
 *                store's replay then resumes by counting. Rewritten after
 *                every change.
 *   "order/<n>"  order P<n> once it is final (filled, cancelled, expired),
 *                so that a resent client id is still recognised.
 *   "fill/<n>"   execution PT<n>, written before the state that counts it.
 *
 * A crash between two writes leaves the state key saying what it said
 * before: a final-order record of an order the state still holds open is
 * ignored, and a fill record past the state's trade counter is overwritten.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "paper.h"

#define STATE_VERSION 1u
#define RESUME_TAG 0x4d555352u /* "RSUM" read as a little-endian u32 */
#define STATE_KEY "state"
static const char state_magic[8] = {'T', 'A', 'C', 'K', 'P', 'A', 'P', 'R'};
static const char order_magic[8] = {'T', 'A', 'C', 'K', 'P', 'O', 'R', 'D'};
static const char fill_magic[8] = {'T', 'A', 'C', 'K', 'P', 'F', 'I', 'L'};

/* ------------------------------------------------------------------------ */
/* Little-endian writer and reader                                           */
/* ------------------------------------------------------------------------ */

typedef struct wbuf {
  paper *p;
  uint8_t *b;
  size_t len, cap;
  int failed;
} wbuf;

static void put(wbuf *w, const void *src, size_t n) {
  if (w->failed)
    return;
  if (w->len + n > w->cap) {
    size_t cap = w->cap ? w->cap * 2 : 1024;
    while (cap < w->len + n)
      cap *= 2;
    uint8_t *b = w->p->host->realloc(w->p->ctx, w->b, cap);
    if (b == NULL) {
      w->failed = 1;
      return;
    }
    w->b = b;
    w->cap = cap;
  }
  memcpy(w->b + w->len, src, n);
  w->len += n;
}

static void put_u64(wbuf *w, uint64_t v) {
  uint8_t b[8];
  for (int i = 0; i < 8; i++)
    b[i] = (uint8_t)(v >> (8 * i));
  put(w, b, sizeof b);
}

static void put_u32(wbuf *w, uint32_t v) {
  uint8_t b[4];
  for (int i = 0; i < 4; i++)
    b[i] = (uint8_t)(v >> (8 * i));
  put(w, b, sizeof b);
}

static void put_i64(wbuf *w, int64_t v) { put_u64(w, (uint64_t)v); }

static void put_wide(wbuf *w, tack_wide v) {
  unsigned __int128 u = (unsigned __int128)v;
  put_u64(w, (uint64_t)u);
  put_u64(w, (uint64_t)(u >> 64));
}

static void put_f64(wbuf *w, double v) {
  uint64_t u;
  memcpy(&u, &v, sizeof u);
  put_u64(w, u);
}

static void put_str(wbuf *w, const char *s) {
  size_t n = strlen(s);
  put_u32(w, (uint32_t)n);
  put(w, s, n);
}

typedef struct rbuf {
  const uint8_t *b;
  size_t len, at;
  int bad;
} rbuf;

static const uint8_t *take(rbuf *r, size_t n) {
  if (r->bad || r->len - r->at < n) {
    r->bad = 1;
    return NULL;
  }
  r->at += n;
  return r->b + r->at - n;
}

static uint64_t get_u64(rbuf *r) {
  const uint8_t *b = take(r, 8);
  uint64_t v = 0;
  for (int i = 0; b && i < 8; i++)
    v |= (uint64_t)b[i] << (8 * i);
  return v;
}

static uint32_t get_u32(rbuf *r) {
  const uint8_t *b = take(r, 4);
  uint32_t v = 0;
  for (int i = 0; b && i < 4; i++)
    v |= (uint32_t)b[i] << (8 * i);
  return v;
}

static int64_t get_i64(rbuf *r) { return (int64_t)get_u64(r); }

static tack_wide get_wide(rbuf *r) {
  unsigned __int128 lo = get_u64(r), hi = get_u64(r);
  return (tack_wide)(lo | (hi << 64));
}

static double get_f64(rbuf *r) {
  uint64_t u = get_u64(r);
  double v;
  memcpy(&v, &u, sizeof v);
  return v;
}

/* A string into a fixed field of cap bytes; too long is corrupt. */
static void get_str(rbuf *r, char *out, size_t cap) {
  uint32_t n = get_u32(r);
  const uint8_t *b = n < cap ? take(r, n) : NULL;
  if (b == NULL) {
    r->bad = 1;
    out[0] = '\0';
    return;
  }
  memcpy(out, b, n);
  memset(out + n, 0, cap - n);
}

static uint64_t checksum(const uint8_t *b, size_t n) {
  uint64_t h = UINT64_C(14695981039346656037);
  for (size_t i = 0; i < n; i++)
    h = (h ^ b[i]) * UINT64_C(1099511628211);
  return h;
}

/* Starts a record: magic and version. */
static void begin(wbuf *w, const char magic[8]) {
  put(w, magic, 8);
  put_u32(w, STATE_VERSION);
}

/* Checks magic, version and checksum; leaves r after the version. A
 * message for the log in why. */
static int open_record(rbuf *r, const char magic[8], const char **why) {
  if (r->len < 8 + 4 + 8 || memcmp(r->b, magic, 8) != 0) {
    *why = "not a paper venue record";
    return TACK_EPARSE;
  }
  uint64_t want = checksum(r->b, r->len - 8);
  rbuf tail = {r->b + r->len - 8, 8, 0, 0};
  if (get_u64(&tail) != want) {
    *why = "checksum mismatch (damaged)";
    return TACK_EPARSE;
  }
  r->at = 8;
  uint32_t version = get_u32(r);
  if (version != STATE_VERSION) {
    *why = version > STATE_VERSION ? "written by a newer version of the paper venue"
                                   : "an unknown format version";
    return TACK_EPARSE;
  }
  r->len -= 8;
  return 0;
}

/* ------------------------------------------------------------------------ */
/* Records                                                                   */
/* ------------------------------------------------------------------------ */

static void put_order(wbuf *w, const paper_order *o) {
  put_u64(w, o->venue_no);
  put_str(w, o->client_id);
  put_str(w, o->symbol);
  put_u32(w, o->sym);
  put_u32(w, o->side);
  put_u32(w, o->type);
  put_u32(w, o->tif);
  put_u32(w, o->flags);
  put_u32(w, o->status);
  put_u32(w, (uint32_t)o->error);
  put_u32(w, o->triggered);
  put_u32(w, o->arrived);
  put_i64(w, o->lots);
  put_i64(w, o->limit_ticks);
  put_i64(w, o->stop_ticks);
  put_i64(w, o->expire_at);
  put_i64(w, o->accepted_at);
  put_i64(w, o->eligible_from);
  put_i64(w, o->updated_at);
  put_i64(w, o->filled);
  put_wide(w, o->notional);
  put_wide(w, o->fees);
  put_f64(w, o->req_quantity);
  put_f64(w, o->req_limit);
  put_f64(w, o->req_stop);
  put_str(w, o->reason);
}

static int get_order(rbuf *r, const paper *p, paper_order *o) {
  memset(o, 0, sizeof *o);
  o->venue_no = get_u64(r);
  get_str(r, o->client_id, sizeof o->client_id);
  get_str(r, o->symbol, sizeof o->symbol);
  o->sym = get_u32(r);
  o->side = get_u32(r);
  o->type = get_u32(r);
  o->tif = get_u32(r);
  o->flags = get_u32(r);
  o->status = get_u32(r);
  o->error = (int32_t)get_u32(r);
  o->triggered = get_u32(r);
  o->arrived = get_u32(r);
  o->lots = get_i64(r);
  o->limit_ticks = get_i64(r);
  o->stop_ticks = get_i64(r);
  o->expire_at = get_i64(r);
  o->accepted_at = get_i64(r);
  o->eligible_from = get_i64(r);
  o->updated_at = get_i64(r);
  o->filled = get_i64(r);
  o->notional = get_wide(r);
  o->fees = get_wide(r);
  o->req_quantity = get_f64(r);
  o->req_limit = get_f64(r);
  o->req_stop = get_f64(r);
  get_str(r, o->reason, sizeof o->reason);
  if (r->bad || o->venue_no == 0 || o->client_id[0] == '\0' || o->sym >= p->data.n_symbols ||
      strcmp(o->symbol, p->data.symbols[o->sym].instr.symbol) != 0 ||
      (o->side != TACK_SIDE_BUY && o->side != TACK_SIDE_SELL) || o->type < TACK_ORDER_MARKET ||
      o->type > TACK_ORDER_STOP_LIMIT || o->tif < TACK_TIF_GTC || o->tif > TACK_TIF_DAY ||
      o->status < TACK_STATUS_OPEN || o->status > TACK_STATUS_EXPIRED || o->lots <= 0 ||
      o->filled < 0 || o->filled > o->lots)
    return TACK_EPARSE;
  return 0;
}

static void put_fill(wbuf *w, const paper_fill *f) {
  put_u64(w, f->trade_no);
  put_u64(w, f->venue_no);
  put_str(w, f->client_id);
  put_u32(w, f->sym);
  put_u32(w, f->side);
  put_u32(w, f->liquidity);
  put_i64(w, f->ts);
  put_i64(w, f->lots);
  put_i64(w, f->ticks);
  put_wide(w, f->fee);
}

static int get_fill(rbuf *r, const paper *p, paper_fill *f) {
  memset(f, 0, sizeof *f);
  f->trade_no = get_u64(r);
  f->venue_no = get_u64(r);
  get_str(r, f->client_id, sizeof f->client_id);
  f->sym = get_u32(r);
  f->side = get_u32(r);
  f->liquidity = get_u32(r);
  f->ts = get_i64(r);
  f->lots = get_i64(r);
  f->ticks = get_i64(r);
  f->fee = get_wide(r);
  if (r->bad || f->sym >= p->data.n_symbols || f->lots <= 0 || f->ticks <= 0 ||
      (f->side != TACK_SIDE_BUY && f->side != TACK_SIDE_SELL))
    return TACK_EPARSE;
  return 0;
}

/* ------------------------------------------------------------------------ */
/* Writing                                                                   */
/* ------------------------------------------------------------------------ */

static int write_key(paper *p, const char *key, wbuf *w, const char *what) {
  int rc;
  put_u64(w, w->failed ? 0 : checksum(w->b, w->len));
  if (w->failed)
    rc = TACK_ENOMEM;
  else
    rc = p->host->kv_put(p->ctx, key, strlen(key), w->b, w->len);
  if (rc < 0)
    p->host->log(p->ctx, TACK_LOG_ERROR, "cannot save %s under the key \"%s\": %s (%s)", what, key,
                 tack_strerror(rc), tack_err_name(rc));
  p->host->free(p->ctx, w->b);
  return rc;
}

int paper_state_save(paper *p) {
  const paper_data *d = &p->data;
  wbuf w = {.p = p};
  begin(&w, state_magic);
  put_str(&w, d->cfg.quote);
  put_u32(&w, (uint32_t)d->cfg.shorts);
  put_u32(&w, d->kind);
  put_u32(&w, d->timeframe_s);
  put_u32(&w, d->n_symbols);
  for (uint32_t i = 0; i < d->n_symbols; i++) {
    const paper_symbol *s = &d->symbols[i];
    put_str(&w, s->instr.symbol);
    put_i64(&w, s->grid.tick.units);
    put_u32(&w, (uint32_t)s->grid.tick.scale);
    put_i64(&w, s->grid.lot.units);
    put_u32(&w, (uint32_t)s->grid.lot.scale);
  }
  put_i64(&w, p->clock);
  put_u64(&w, p->steps);
  put_u64(&w, p->submitted);
  put_u64(&w, p->last_order_no);
  put_u64(&w, p->last_trade_no);
  put_u32(&w, (uint32_t)p->eof);
  put_wide(&w, p->cash);
  for (uint32_t i = 0; i < d->n_symbols; i++) {
    const paper_symbol *s = &d->symbols[i];
    put_u64(&w, s->cursor);
    put_u64(&w, s->published);
    put_i64(&w, s->lots);
    put_wide(&w, s->cost);
    put_wide(&w, s->realized);
    put_f64(&w, s->last);
  }
  uint32_t n_open = 0;
  for (uint32_t i = 0; i < p->n_open; i++)
    n_open += !paper_status_final(p->orders[p->open[i]].status);
  put_u32(&w, n_open);
  for (uint32_t i = 0; i < p->n_open; i++)
    if (!paper_status_final(p->orders[p->open[i]].status))
      put_order(&w, &p->orders[p->open[i]]);
  put_u32(&w, RESUME_TAG);
  for (uint32_t i = 0; i < d->n_symbols; i++)
    put_i64(&w, d->symbols[i].pub_ts);
  int rc = write_key(p, STATE_KEY, &w, "the paper venue's state");
  if (rc == 0)
    p->dirty = 0;
  return rc;
}

int paper_state_save_order(paper *p, const paper_order *o) {
  char key[48];
  wbuf w = {.p = p};
  snprintf(key, sizeof key, "order/%" PRIu64, o->venue_no);
  begin(&w, order_magic);
  put_order(&w, o);
  return write_key(p, key, &w, "an order");
}

int paper_state_save_fill(paper *p, const paper_fill *f) {
  char key[48];
  wbuf w = {.p = p};
  snprintf(key, sizeof key, "fill/%" PRIu64, f->trade_no);
  begin(&w, fill_magic);
  put_fill(&w, f);
  return write_key(p, key, &w, "a fill");
}

/* ------------------------------------------------------------------------ */
/* Loading                                                                   */
/* ------------------------------------------------------------------------ */

/* The value of key into a buffer from host->alloc (*out, *len); the
 * host's code (TACK_ENOENT when absent) otherwise. */
static int read_key(paper *p, const char *key, uint8_t **out, size_t *len) {
  uint8_t small[512];
  size_t n = 0;
  int rc = p->host->kv_get(p->ctx, key, strlen(key), small, sizeof small, &n);
  *out = NULL;
  if (rc < 0 && rc != TACK_ENOSPC)
    return rc;
  uint8_t *b = p->host->alloc(p->ctx, n ? n : 1);
  if (b == NULL)
    return TACK_ENOMEM;
  if (rc == TACK_ENOSPC) {
    size_t again = 0;
    rc = p->host->kv_get(p->ctx, key, strlen(key), b, n, &again);
    if (rc == 0 && again != n)
      rc = TACK_EIO; /* changed under us: nobody else writes our keys */
    if (rc < 0) {
      p->host->free(p->ctx, b);
      return rc;
    }
  } else {
    memcpy(b, small, n);
  }
  *out = b;
  *len = n;
  return 0;
}

static int corrupt(paper *p, const char *key, const char *why) {
  p->host->log(p->ctx, TACK_LOG_ERROR,
               "the saved paper venue state (key \"%s\") is unusable: %s; nothing was loaded. "
               "To start the venue afresh, run with persist = false or with a new bot name",
               key, why);
  return TACK_EPARSE;
}

static int mismatch(paper *p, const char *what) {
  p->host->log(p->ctx, TACK_LOG_ERROR,
               "the saved paper venue state belongs to another configuration: %s. Restore that "
               "configuration, or start afresh with persist = false or a new bot name",
               what);
  return TACK_ECONFIG;
}

/* "bars of 60 s" or "trades". */
static void data_text(uint32_t kind, uint32_t tf, char *buf, size_t cap) {
  if (kind == PAPER_DATA_BARS)
    snprintf(buf, cap, "bars of %u s", (unsigned)tf);
  else
    snprintf(buf, cap, "trades");
}

/* The saved configuration must be this one. */
static int check_config(paper *p, rbuf *r) {
  const paper_data *d = &p->data;
  char text[TACK_SYMBOL_MAX], msg[256];
  get_str(r, text, TACK_CURRENCY_MAX);
  uint32_t shorts = get_u32(r), kind = get_u32(r), tf = get_u32(r), n = get_u32(r);
  if (r->bad)
    return corrupt(p, STATE_KEY, "truncated");
  if (strcmp(text, d->cfg.quote) != 0) {
    snprintf(msg, sizeof msg, "it was saved with quote %s, the config says %s", text, d->cfg.quote);
    return mismatch(p, msg);
  }
  if (shorts != (uint32_t)d->cfg.shorts)
    return mismatch(p, shorts ? "it was saved with shorts = true"
                              : "it was saved with shorts = false");
  if (kind != d->kind || tf != d->timeframe_s) {
    char was[48], now[48];
    data_text(kind, tf, was, sizeof was);
    data_text(d->kind, d->timeframe_s, now, sizeof now);
    snprintf(msg, sizeof msg, "it was saved replaying %s, the data now gives %s", was, now);
    return mismatch(p, msg);
  }
  if (n != d->n_symbols) {
    snprintf(msg, sizeof msg, "it was saved with %u symbols, the config lists %u", (unsigned)n,
             (unsigned)d->n_symbols);
    return mismatch(p, msg);
  }
  for (uint32_t i = 0; i < n; i++) {
    const paper_symbol *s = &d->symbols[i];
    get_str(r, text, sizeof text);
    int64_t tick = get_i64(r);
    uint32_t tick_scale = get_u32(r);
    int64_t lot = get_i64(r);
    uint32_t lot_scale = get_u32(r);
    if (r->bad)
      return corrupt(p, STATE_KEY, "truncated");
    if (strcmp(text, s->instr.symbol) != 0) {
      snprintf(msg, sizeof msg, "symbol %u was %s, the config lists %s", (unsigned)i + 1, text,
               s->instr.symbol);
      return mismatch(p, msg);
    }
    if (tick != s->grid.tick.units || tick_scale != (uint32_t)s->grid.tick.scale ||
        lot != s->grid.lot.units || lot_scale != (uint32_t)s->grid.lot.scale) {
      snprintf(msg, sizeof msg, "%s was saved with another tick or lot", text);
      return mismatch(p, msg);
    }
  }
  return 0;
}

/* Final orders and fills from their own keys. */
static int load_logs(paper *p, const paper_order *open, uint32_t n_open) {
  uint32_t next_open = 0;
  uint64_t missing_fills = 0;
  char key[48];
  int rc;
  for (uint64_t n = 1; n <= p->last_order_no; n++) {
    paper_order o;
    if (next_open < n_open && open[next_open].venue_no == n) {
      o = open[next_open++];
      if ((rc = paper_book_add(p, &o, NULL)) < 0 || (rc = paper_book_open(p, p->n_orders - 1)) < 0)
        return rc;
      continue;
    }
    uint8_t *b;
    size_t len;
    const char *why = NULL;
    snprintf(key, sizeof key, "order/%" PRIu64, n);
    rc = read_key(p, key, &b, &len);
    if (rc == TACK_ENOENT)
      continue; /* lost in a crash before it was written; the state never held it open */
    if (rc < 0)
      return rc;
    rbuf r = {b, len, 0, 0};
    rc = open_record(&r, order_magic, &why);
    if (rc == 0 && (get_order(&r, p, &o) < 0 || o.venue_no != n || !paper_status_final(o.status))) {
      why = "malformed";
      rc = TACK_EPARSE;
    }
    p->host->free(p->ctx, b);
    if (rc < 0)
      return corrupt(p, key, why);
    if (paper_book_find(p, o.client_id) != NULL)
      return corrupt(p, key, "a client id appears twice");
    if ((rc = paper_book_add(p, &o, NULL)) < 0)
      return rc;
  }
  if (next_open != n_open)
    return corrupt(p, STATE_KEY, "an open order is numbered past the order counter");
  for (uint64_t n = 1; n <= p->last_trade_no; n++) {
    uint8_t *b;
    size_t len;
    const char *why = NULL;
    paper_fill f;
    snprintf(key, sizeof key, "fill/%" PRIu64, n);
    rc = read_key(p, key, &b, &len);
    if (rc == TACK_ENOENT) {
      missing_fills++;
      continue;
    }
    if (rc < 0)
      return rc;
    rbuf r = {b, len, 0, 0};
    rc = open_record(&r, fill_magic, &why);
    if (rc == 0 && (get_fill(&r, p, &f) < 0 || f.trade_no != n)) {
      why = "malformed";
      rc = TACK_EPARSE;
    }
    p->host->free(p->ctx, b);
    if (rc < 0)
      return corrupt(p, key, why);
    if ((rc = paper_book_log_fill(p, &f)) < 0)
      return rc;
  }
  if (missing_fills)
    p->host->log(p->ctx, TACK_LOG_WARN,
                 "%" PRIu64 " of %" PRIu64 " fills are missing from the saved fill log; "
                 "reconcile will not report them",
                 missing_fills, p->last_trade_no);
  return 0;
}

static int load_state(paper *p, rbuf *r) {
  paper_data *d = &p->data;
  paper_order *open = NULL;
  int rc = check_config(p, r);
  if (rc < 0)
    return rc;
  p->clock = get_i64(r);
  p->steps = get_u64(r);
  p->submitted = get_u64(r);
  p->last_order_no = get_u64(r);
  p->last_trade_no = get_u64(r);
  p->eof = get_u32(r) != 0;
  p->cash = get_wide(r);
  for (uint32_t i = 0; i < d->n_symbols; i++) {
    paper_symbol *s = &d->symbols[i];
    s->cursor = get_u64(r);
    s->published = get_u64(r);
    s->lots = get_i64(r);
    s->cost = get_wide(r);
    s->realized = get_wide(r);
    s->last = get_f64(r);
    s->pub_ts = INT64_MIN; /* unless the trailer says */
    /* A store replay holds a window, not every event: paper_data_seek()
     * checks its cursors once it has read up to them. */
    if (!r->bad && (s->published > s->cursor ||
                    (d->cfg.source != PAPER_SOURCE_STORE && s->cursor > s->n_events))) {
      char msg[200];
      snprintf(msg, sizeof msg,
               "%s was saved at event %" PRIu64 " but its data now has %" PRIu64 " events",
               s->instr.symbol, s->cursor, s->n_events);
      return mismatch(p, msg);
    }
    if (!r->bad && s->lots < 0 && !d->cfg.shorts)
      return corrupt(p, STATE_KEY, "a negative spot holding");
  }
  uint32_t n_open = get_u32(r);
  if (r->bad || n_open > (r->len - r->at) / 64)
    return corrupt(p, STATE_KEY, "truncated");
  if (n_open) {
    open = p->host->alloc(p->ctx, (size_t)n_open * sizeof *open);
    if (open == NULL)
      return TACK_ENOMEM;
  }
  for (uint32_t i = 0; i < n_open && rc == 0; i++)
    if (get_order(r, p, &open[i]) < 0 || paper_status_final(open[i].status) ||
        (i > 0 && open[i].venue_no <= open[i - 1].venue_no))
      rc = corrupt(p, STATE_KEY, "a malformed open order");
  if (rc == 0 && r->at != r->len) {
    if (r->len - r->at != 4 + (size_t)d->n_symbols * 8 || get_u32(r) != RESUME_TAG)
      rc = corrupt(p, STATE_KEY, "trailing bytes");
    for (uint32_t i = 0; rc == 0 && i < d->n_symbols; i++)
      d->symbols[i].pub_ts = get_i64(r);
  }
  if (rc == 0)
    rc = load_logs(p, open, n_open);
  p->host->free(p->ctx, open);
  return rc;
}

int paper_state_load(paper *p) {
  uint8_t *b = NULL;
  size_t len = 0;
  const char *why = NULL;
  p->persist = 0;
  if (!p->data.cfg.persist)
    return 0;
  int rc = read_key(p, STATE_KEY, &b, &len);
  if (rc == TACK_ESTATE) {
    p->host->log(p->ctx, TACK_LOG_WARN,
                 "persist is on but the host has no store: the venue's state lives in memory "
                 "only (configure a store, or set persist = false to silence this)");
    return 0;
  }
  if (rc == TACK_ENOENT) {
    p->persist = 1;
    return 0;
  }
  if (rc < 0) {
    p->host->log(p->ctx, TACK_LOG_ERROR, "cannot read the saved paper venue state: %s (%s)",
                 tack_strerror(rc), tack_err_name(rc));
    return rc;
  }
  rbuf r = {b, len, 0, 0};
  rc = open_record(&r, state_magic, &why);
  if (rc < 0)
    rc = corrupt(p, STATE_KEY, why);
  else
    rc = load_state(p, &r);
  p->host->free(p->ctx, b);
  if (rc == 0) {
    p->persist = 1;
    p->host->log(p->ctx, TACK_LOG_INFO,
                 "restored the paper venue: step %" PRIu64 ", %u open orders, %" PRIu64 " fills",
                 p->steps, (unsigned)p->n_open, p->n_fills);
  }
  return rc;
}
