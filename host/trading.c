/*
 * trading.c: the trading engine (trading.h). Accounts and traders, the path
 * from a signal to an order and from a fill to the ledger, recovery from the
 * journal and the venue, protective exits, the trading day, and the
 * orderly flatten of a stop.
 */
#include "trading.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "instance.h"
#include "journal.h"
#include "ledger.h"
#include "log.h"
#include "orders.h"
#include "risk.h"
#include "rounding.h"
#include "sizing.h"

/* Special client ids of journal fill records that are not executions. */
#define DEPOSIT_ID "@deposit"
#define ADOPT_ID "@adopt"

/* Reconcile asks for fills since the last one booked, less this margin
 * (venue clocks and ours differ). */
#define RECONCILE_MARGIN_NS ((tack_time)60 * TACK_NS_PER_SEC)

typedef struct tr_account tr_account;

/* The venue's position of a symbol as it reported it during a
 * reconciliation. */
typedef struct venue_view {
  int has;
  double quantity;
  double avg_price;
  double mark;
} venue_view;

typedef struct tr_symbol {
  tr_account *acct;
  char symbol[TACK_SYMBOL_MAX];
  tack_trading_policy policy;
  int enabled;
  int refused; /* recovery found a state it will not trade over */
  int has_instr;
  tack_instrument instr;
  tack_rounding grid;
  tack_sizing_state sizing;
  tack_risk_protect protect;
  tack_risk_rate rate;
  double last_price;
  int has_pending;
  tack_signal pending;
  int closing;           /* flattening: stop, lock, kill or operator */
  uint32_t close_origin; /* TACK_ORIGIN_* of the closes */
  uint32_t close_sent;   /* closes sent during this flatten */
  int exit_kind;         /* a protective exit is under way (TACK_RISK_EXIT_*) */
  /* An order the venue called final whose fills have not all arrived: the
   * position is unknown until they do. */
  char awaiting[TACK_ORDER_ID_MAX];
  uint64_t signals, dropped, orders, refused_orders, fills, exits, small;
} tr_symbol;

struct tr_account {
  tack_trading *t;
  tack_ctx *ex;
  char *name; /* the exchange instance's, copied: the summary outlives it */
  tack_exchange_caps caps;
  tack_orders *orders;
  tack_ledger *ledger;
  char quote[TACK_CURRENCY_MAX];
  tr_symbol **syms;
  size_t n_syms;
  tack_instrument *instrs; /* every instrument the venue listed */
  size_t n_instrs;
  int started;    /* the first TACK_CONN_UP was handled */
  int ready;      /* recovered: may trade */
  int recovering; /* between the reconcile request and its done */
  uint64_t req_instruments, req_reconcile;
  tack_time last_fill_ts;
  uint64_t replayed, booked_live, adopted;
  int has_deposit;
  int has_quote_balance;
  double quote_balance;
  tack_risk_switches sw;
  tack_risk_day day;
  venue_view *views; /* per symbol (syms order), during a reconciliation */
};

struct tack_trading {
  const tack_trading_cfg *cfg;
  tack_store *store;
  tack_journal *journal;
  char *bot;
  tack_trading_hooks hooks;
  tr_account **accts;
  size_t n_accts;
  tr_symbol **all; /* every symbol, in the order added */
  size_t n_all;
  uint64_t next_req;
  int stopping;
  tack_time stop_deadline;
  int kill;
  char stop_why[160];
};

/* ------------------------------------------------------------------------ */
/* Small helpers                                                             */
/* ------------------------------------------------------------------------ */

static tack_time now_of(const tack_trading *t) { return t->hooks.now(t->hooks.user); }

static void *grow(void *arr, size_t n, size_t elem) {
  return tack_realloc(NULL, arr, (n + 1) * elem);
}

static tr_account *account_of(const tack_trading *t, const tack_ctx *ex) {
  for (size_t i = 0; i < t->n_accts; i++)
    if (t->accts[i]->ex == ex)
      return t->accts[i];
  return NULL;
}

/* symbol as a field of TACK_SYMBOL_MAX bytes holds it (cut there), compared
 * without the copy: this runs on every bar. */
static tr_symbol *symbol_of(const tr_account *a, const char *symbol) {
  for (size_t i = 0; i < a->n_syms; i++)
    if (strncmp(a->syms[i]->symbol, symbol, TACK_SYMBOL_MAX - 1) == 0)
      return a->syms[i];
  return NULL;
}

static const tack_instrument *instrument_of(const tr_account *a, const char *symbol) {
  for (size_t i = 0; i < a->n_instrs; i++)
    if (strcmp(a->instrs[i].symbol, symbol) == 0)
      return &a->instrs[i];
  return NULL;
}

/* The ledger's position of s in size units, and its average entry: kept
 * by the ledger as doubles, so cheap on every bar. */
static double ledger_position(const tr_symbol *s, double *avg) {
  double q = 0;
  if (avg)
    *avg = 0;
  if (s->acct->ledger)
    tack_ledger_quantity(s->acct->ledger, s->symbol, &q, avg);
  return q;
}

static double account_equity(const tr_account *a) {
  tack_money equity;
  if (!a->ledger || tack_ledger_equity(a->ledger, &equity) != 0)
    return 0;
  return tack_money_double(equity);
}

static void tell_position(tr_symbol *s) {
  tack_trading *t = s->acct->t;
  tack_position pos;
  if (!s->acct->ledger || tack_ledger_position(s->acct->ledger, s->symbol, &pos) != 0) {
    memset(&pos, 0, sizeof pos);
    tack_copy_text(pos.symbol, sizeof pos.symbol, s->symbol);
  }
  /* The position includes every fill booked: never stamped earlier than the
   * latest of them (a venue's clock may run ahead of ours), so that a
   * strategy does not apply one of those fills on top of it again. */
  pos.ts = now_of(t);
  if (pos.ts < s->acct->last_fill_ts)
    pos.ts = s->acct->last_fill_ts;
  if (t->hooks.position)
    t->hooks.position(t->hooks.user, s->acct->ex, &pos);
}

static const char *side_name(uint32_t side) { return side == TACK_SIDE_BUY ? "buy" : "sell"; }

/* ------------------------------------------------------------------------ */
/* Persistence of the traders' own state                                     */
/* ------------------------------------------------------------------------ */

/* Per symbol: sizing state and protection peak, "<account>/<symbol>". */
typedef struct saved_symbol {
  int32_t direction;
  uint32_t entries;
  double peak;
  int32_t armed;
  int32_t enabled;
} saved_symbol;

static void state_name(const tr_symbol *s, char *buf, size_t cap) {
  snprintf(buf, cap, "trader/%s/%s", s->acct->name, s->symbol);
}

static void save_symbol(tr_symbol *s) {
  tack_trading *t = s->acct->t;
  unsigned char buf[32];
  char name[160];
  if (!t->journal)
    return;
  saved_symbol v = {s->sizing.direction, s->sizing.entries, s->protect.peak, s->protect.armed,
                    s->enabled};
  /* Fixed little-endian layout: version, direction, entries, peak, armed, enabled. */
  uint64_t peak_bits;
  memcpy(&peak_bits, &v.peak, sizeof peak_bits);
  uint32_t words[5] = {1u, (uint32_t)v.direction, v.entries, (uint32_t)v.armed,
                       (uint32_t)v.enabled};
  for (int i = 0; i < 5; i++)
    for (int b = 0; b < 4; b++)
      buf[i * 4 + b] = (unsigned char)(words[i] >> (8 * b));
  for (int b = 0; b < 8; b++)
    buf[20 + b] = (unsigned char)(peak_bits >> (8 * b));
  state_name(s, name, sizeof name);
  int rc = tack_journal_put_state(t->journal, name, buf, 28);
  if (rc != 0)
    tack_log(TACK_LOG_ERROR, s->acct->name, "%s: saving the trader's state failed: %s", s->symbol,
             tack_strerror(rc));
}

static void load_symbol(tr_symbol *s) {
  tack_trading *t = s->acct->t;
  unsigned char buf[32];
  char name[160];
  size_t len = 0;
  uint32_t words[5];
  uint64_t peak_bits = 0;
  if (!t->journal)
    return;
  state_name(s, name, sizeof name);
  if (tack_journal_get_state(t->journal, name, buf, sizeof buf, &len) != 0 || len != 28)
    return;
  for (int i = 0; i < 5; i++) {
    words[i] = 0;
    for (int b = 0; b < 4; b++)
      words[i] |= (uint32_t)buf[i * 4 + b] << (8 * b);
  }
  for (int b = 0; b < 8; b++)
    peak_bits |= (uint64_t)buf[20 + b] << (8 * b);
  if (words[0] != 1u)
    return;
  s->sizing.direction = (int32_t)words[1];
  s->sizing.entries = words[2];
  s->protect.armed = (int)words[3];
  s->enabled = (int)words[4];
  memcpy(&s->protect.peak, &peak_bits, sizeof s->protect.peak);
}

/* Per account: its trading day (risk.h), "day/<account>", so that a
 * restart neither forgets the day's lock nor measures the day's P&L afresh
 * from the equity it restarts with. */
#define DAY_WORDS 7

static void save_day(tr_account *a) {
  unsigned char buf[DAY_WORDS * 8];
  char name[160];
  uint64_t equity_bits;
  if (!a->t->journal)
    return;
  memcpy(&equity_bits, &a->day.start_equity, sizeof equity_bits);
  /* Fixed little-endian layout: version, day_start, start_equity, lock,
   * locked_at, unlocked_by_operator, next_start. */
  uint64_t words[DAY_WORDS] = {1u,
                               (uint64_t)a->day.day_start,
                               equity_bits,
                               a->day.lock,
                               (uint64_t)a->day.locked_at,
                               (uint64_t)a->day.unlocked_by_operator,
                               (uint64_t)a->day.next_start};
  for (int i = 0; i < DAY_WORDS; i++)
    for (int b = 0; b < 8; b++)
      buf[i * 8 + b] = (unsigned char)(words[i] >> (8 * b));
  snprintf(name, sizeof name, "day/%s", a->name);
  int rc = tack_journal_put_state(a->t->journal, name, buf, sizeof buf);
  if (rc != 0)
    tack_log(TACK_LOG_ERROR, a->name, "saving the trading day failed: %s", tack_strerror(rc));
}

static void load_day(tr_account *a) {
  unsigned char buf[DAY_WORDS * 8];
  char name[160];
  size_t len = 0;
  uint64_t words[DAY_WORDS];
  if (!a->t->journal)
    return;
  snprintf(name, sizeof name, "day/%s", a->name);
  if (tack_journal_get_state(a->t->journal, name, buf, sizeof buf, &len) != 0 || len != sizeof buf)
    return;
  for (int i = 0; i < DAY_WORDS; i++) {
    words[i] = 0;
    for (int b = 0; b < 8; b++)
      words[i] |= (uint64_t)buf[i * 8 + b] << (8 * b);
  }
  double equity;
  memcpy(&equity, &words[2], sizeof equity);
  if (words[0] != 1u || words[3] > TACK_RISK_DAY_OPERATOR || !isfinite(equity))
    return;
  a->day.day_start = (tack_time)words[1];
  a->day.start_equity = equity;
  a->day.lock = (uint32_t)words[3];
  a->day.locked_at = (tack_time)words[4];
  a->day.unlocked_by_operator = (int)words[5];
  a->day.next_start = (tack_time)words[6];
  a->sw.locked = a->day.lock != TACK_RISK_DAY_OPEN;
}

/* ------------------------------------------------------------------------ */
/* Order manager callbacks                                                   */
/* ------------------------------------------------------------------------ */

static int io_persist(void *user, const tack_order *o, uint64_t next_seq) {
  tr_account *a = user;
  if (!a->t->journal)
    return 0;
  int rc = tack_journal_put_order(a->t->journal, a->name, o, next_seq);
  if (rc != 0)
    tack_log(TACK_LOG_ERROR, a->name, "order %s: writing it to the journal failed: %s",
             o->req.client_id, tack_strerror(rc));
  return rc;
}

static int io_send(void *user, const tack_order_request *req) {
  tr_account *a = user;
  return tack_instance_exchange_submit(a->ex, req);
}

static int io_cancel(void *user, const char *client_id, const char *venue_id) {
  tr_account *a = user;
  return tack_instance_exchange_cancel(a->ex, client_id, venue_id);
}

static void io_log(void *user, int level, const char *msg) {
  tr_account *a = user;
  tack_log(level, a->name, "%s", msg);
}

static void reconcile(tr_account *a, const char *why);

static void io_reconcile(void *user, const char *why) { reconcile(user, why); }

static void after_fill(tr_symbol *s, const tack_fill *f);

/* Book one execution: ledger, then journal. */
static int book_fill(tr_account *a, const tack_order *o, const tack_fill *f, int replay) {
  const tack_instrument *in = instrument_of(a, f->symbol);
  tr_symbol *s = symbol_of(a, f->symbol);
  int rc;
  if (!a->ledger) {
    tack_log(TACK_LOG_ERROR, a->name, "fill %s of %s before the account knows its currency",
             f->trade_id, f->symbol);
    return TACK_ESTATE;
  }
  if (strcmp(f->client_id, DEPOSIT_ID) == 0) {
    rc = tack_ledger_deposit(a->ledger, f->quantity);
  } else if (!in) {
    tack_log(TACK_LOG_ERROR, a->name,
             "fill %s of %s: the venue lists no such instrument, so it cannot be booked",
             f->trade_id, f->symbol);
    return TACK_ENOENT;
  } else if (strcmp(f->client_id, ADOPT_ID) == 0) {
    rc = tack_ledger_adopt(a->ledger, in, f);
  } else {
    rc = tack_ledger_apply_fill(a->ledger, in, f);
  }
  if (rc != 0) {
    tack_log(TACK_LOG_ERROR, a->name, "fill %s of %s refused by the ledger: %s", f->trade_id,
             f->symbol, tack_ledger_error(a->ledger));
    if (s)
      s->refused = 1;
    return rc;
  }
  if (!replay && a->t->journal) {
    uint64_t seq = 0;
    tack_order after;
    if (o)
      tack_order_after_fill(o, f, &after); /* the order once this fill is counted */
    rc = tack_journal_put_fill(a->t->journal, a->name, f, o ? &after : NULL, &seq);
    if (rc != 0 && rc != TACK_EEXIST) {
      tack_log(TACK_LOG_ERROR, a->name,
               "fill %s of %s: writing it to the journal failed (%s): stopping, since what "
               "happens next could not be recovered",
               f->trade_id, f->symbol, tack_strerror(rc));
      a->t->hooks.stop(a->t->hooks.user, "the journal cannot be written", 1);
    }
  }
  if (f->ts > a->last_fill_ts && strcmp(f->client_id, DEPOSIT_ID) != 0)
    a->last_fill_ts = f->ts;
  if (strcmp(f->client_id, DEPOSIT_ID) == 0)
    a->has_deposit = 1;
  if (s && o && s->awaiting[0] && strcmp(o->req.client_id, s->awaiting) == 0 &&
      o->filled + f->quantity >= o->venue_filled * (1 - 1e-12))
    s->awaiting[0] = '\0';
  if (s && strcmp(f->client_id, DEPOSIT_ID) != 0) {
    s->fills++;
    if (!replay)
      after_fill(s, f);
  }
  return 0;
}

static int io_fill(void *user, const tack_order *o, const tack_fill *f) {
  tr_account *a = user;
  if (!o)
    tack_log(TACK_LOG_WARN, a->name,
             "fill %s of %s (%s %.17g at %.17g) belongs to no order of this bot: booked as an "
             "external fill, since the venue's position includes it",
             f->trade_id, f->symbol, side_name(f->side), f->quantity, f->price);
  int rc = book_fill(a, o, f, 0);
  if (rc == 0)
    a->booked_live += a->recovering ? 1 : 0;
  return rc;
}

static void act(tr_symbol *s);
static void continue_close(tr_symbol *s);
static void close_symbol(tr_symbol *s, uint32_t origin);
static void settle(tr_symbol *s);

/* The symbol's orders may have all finished: go on with a flatten, or with
 * the signal that waited. */
static void settle(tr_symbol *s) {
  if (s->awaiting[0] || tack_orders_live(s->acct->orders, s->symbol) != 0)
    return;
  if (s->exit_kind && ledger_position(s, NULL) == 0)
    s->exit_kind = 0;
  if (s->closing)
    continue_close(s);
  else if (s->has_pending)
    act(s);
}

static void io_changed(void *user, const tack_order *o, uint32_t old_status) {
  tr_account *a = user;
  tr_symbol *s = symbol_of(a, o->req.symbol);
  if (o->status == TACK_STATUS_REJECTED && old_status != TACK_STATUS_REJECTED)
    tack_log(TACK_LOG_WARN, a->name, "order %s (%s %s %.17g) rejected: %s%s%s", o->req.client_id,
             o->req.symbol, side_name(o->req.side), o->req.quantity,
             tack_strerror(o->error ? o->error : TACK_EREJECTED), o->reason[0] ? ": " : "",
             o->reason);
  if (!s || !tack_order_status_final(o->status))
    return;
  /* The venue may say FILLED before its fills arrive: the position is not
   * known until they are booked (after_fill settles then). */
  if (o->filled < o->venue_filled) {
    tack_copy_text(s->awaiting, sizeof s->awaiting, o->req.client_id);
    return;
  }
  settle(s);
}

/* ------------------------------------------------------------------------ */
/* Setup                                                                     */
/* ------------------------------------------------------------------------ */

int tack_trading_new(const tack_trading_cfg *cfg, tack_store *store, const char *bot,
                     const tack_trading_hooks *hooks, tack_trading **out) {
  *out = NULL;
  tack_trading *t = tack_calloc(NULL, 1, sizeof *t);
  if (!t)
    return TACK_ENOMEM;
  t->cfg = cfg;
  t->store = store;
  t->hooks = *hooks;
  t->next_req = 1;
  t->bot = tack_strdup(NULL, bot ? bot : "tack");
  if (!t->bot) {
    tack_free(NULL, t);
    return TACK_ENOMEM;
  }
  /* Without a store nothing is persisted: the runtime says so when it
   * matters (a backtest keeps nothing on purpose). */
  if (store) {
    int rc = tack_journal_open(store, t->bot, &t->journal);
    if (rc != 0) {
      tack_trading_free(t);
      return rc;
    }
  }
  *out = t;
  return 0;
}

void tack_trading_free(tack_trading *t) {
  if (!t)
    return;
  for (size_t i = 0; i < t->n_accts; i++) {
    tr_account *a = t->accts[i];
    tack_orders_free(a->orders);
    tack_ledger_free(a->ledger);
    tack_free(NULL, a->syms);
    tack_free(NULL, a->instrs);
    tack_free(NULL, a->views);
    tack_free(NULL, a->name);
    tack_free(NULL, a);
  }
  for (size_t i = 0; i < t->n_all; i++)
    tack_free(NULL, t->all[i]);
  tack_free(NULL, t->all);
  tack_free(NULL, t->accts);
  tack_journal_close(t->journal);
  tack_free(NULL, t->bot);
  tack_free(NULL, t);
}

/* Client ids: "t" + 6 hex digits of the bot and account name + "-" + seq:
 * short enough for every venue, distinct between bots sharing a venue. */
static void id_prefix(const tack_trading *t, const char *account, char *buf, size_t cap) {
  uint32_t h = 2166136261u;
  for (const char *p = t->bot; *p; p++)
    h = (h ^ (unsigned char)*p) * 16777619u;
  h = (h ^ '/') * 16777619u;
  for (const char *p = account; *p; p++)
    h = (h ^ (unsigned char)*p) * 16777619u;
  snprintf(buf, cap, "t%06x-", (unsigned)(h & 0xffffffu));
}

int tack_trading_add_account(tack_trading *t, tack_ctx *exchange) {
  if (account_of(t, exchange))
    return 0;
  tr_account **grown = grow(t->accts, t->n_accts, sizeof *grown);
  if (!grown)
    return TACK_ENOMEM;
  t->accts = grown;
  tr_account *a = tack_calloc(NULL, 1, sizeof *a);
  if (!a)
    return TACK_ENOMEM;
  a->t = t;
  a->ex = exchange;
  a->name = tack_strdup(NULL, tack_instance_name(exchange));
  a->caps.size = sizeof a->caps;
  int rc = a->name ? tack_instance_exchange_caps(exchange, &a->caps) : TACK_ENOMEM;
  if (rc != 0) {
    tack_free(NULL, a->name);
    tack_free(NULL, a);
    return rc;
  }
  char prefix[16];
  uint64_t next_seq = 1;
  id_prefix(t, a->name, prefix, sizeof prefix);
  if (t->journal && (rc = tack_journal_next_seq(t->journal, a->name, &next_seq)) != 0) {
    tack_free(NULL, a->name);
    tack_free(NULL, a);
    return rc;
  }
  tack_orders_opts oo = {prefix, next_seq, a->caps.flags,
                         t->cfg->global.max_attempts ? t->cfg->global.max_attempts : 3};
  tack_orders_io io = {a,       io_persist, io_send,      io_cancel,
                       io_fill, io_changed, io_reconcile, io_log};
  rc = tack_orders_new(&oo, &io, &a->orders);
  if (rc != 0) {
    tack_free(NULL, a->name);
    tack_free(NULL, a);
    return rc;
  }
  t->accts[t->n_accts++] = a;
  load_day(a);
  return 0;
}

int tack_trading_add_symbol(tack_trading *t, tack_ctx *exchange, const char *symbol,
                            const tack_trading_policy *policy, int enabled) {
  tr_account *a = account_of(t, exchange);
  if (!a)
    return TACK_ENOENT;
  if (symbol_of(a, symbol))
    return TACK_EEXIST;
  tr_symbol **ga = grow(a->syms, a->n_syms, sizeof *ga);
  if (!ga)
    return TACK_ENOMEM;
  a->syms = ga;
  tr_symbol **gt = grow(t->all, t->n_all, sizeof *gt);
  if (!gt)
    return TACK_ENOMEM;
  t->all = gt;
  tr_symbol *s = tack_calloc(NULL, 1, sizeof *s);
  if (!s)
    return TACK_ENOMEM;
  s->acct = a;
  tack_copy_text(s->symbol, sizeof s->symbol, symbol);
  s->policy = *policy;
  s->enabled = enabled;
  a->syms[a->n_syms++] = s;
  t->all[t->n_all++] = s;
  load_symbol(s);
  return 0;
}

/* Orders come back now; fills are replayed once the venue has said what its
 * instruments are (the ledger needs their increments). */
static int load_order(void *user, const tack_order *o) { return tack_orders_load(user, o); }

int tack_trading_start(tack_trading *t) {
  for (size_t i = 0; i < t->n_accts && t->journal; i++) {
    tr_account *a = t->accts[i];
    int rc = tack_journal_each_order(t->journal, a->name, load_order, a->orders);
    if (rc != 0) {
      tack_log(TACK_LOG_ERROR, a->name, "reading its orders from the journal failed: %s",
               tack_strerror(rc));
      return rc;
    }
  }
  return 0;
}

/* ------------------------------------------------------------------------ */
/* Recovery                                                                  */
/* ------------------------------------------------------------------------ */

static void reconcile(tr_account *a, const char *why) {
  if (a->recovering || !a->started)
    return;
  tack_time since =
      a->last_fill_ts > RECONCILE_MARGIN_NS ? a->last_fill_ts - RECONCILE_MARGIN_NS : 0;
  a->req_reconcile = a->t->next_req++;
  a->recovering = 1;
  tack_log(TACK_LOG_INFO, a->name, "reconciling with the venue (%s)", why);
  tack_orders_reconcile_begin(a->orders, now_of(a->t));
  int rc = tack_instance_exchange_reconcile(a->ex, a->req_reconcile, since);
  if (rc != 0) {
    a->recovering = 0;
    tack_log(TACK_LOG_ERROR, a->name, "reconcile request refused: %s", tack_strerror(rc));
  }
}

typedef struct replay_ctx {
  tr_account *a;
  int rc;
} replay_ctx;

static int replay_fill(void *user, uint64_t seq, const tack_fill *f) {
  replay_ctx *rc = user;
  (void)seq;
  int r = book_fill(rc->a, NULL, f, 1);
  if (r == 0) {
    rc->a->replayed++;
    if (strcmp(f->client_id, DEPOSIT_ID) != 0 && strcmp(f->client_id, ADOPT_ID) != 0)
      tack_orders_seed_fill(rc->a->orders, f->trade_id);
  }
  return r;
}

/* Instruments are in: make the ledger and replay the journal's fills. */
static int rebuild(tr_account *a) {
  const char *quote = NULL;
  for (size_t i = 0; i < a->n_syms; i++) {
    tr_symbol *s = a->syms[i];
    const tack_instrument *in = instrument_of(a, s->symbol);
    if (!in) {
      tack_log(TACK_LOG_ERROR, a->name, "%s: the venue does not list it; it is not traded",
               s->symbol);
      s->refused = 1;
      continue;
    }
    s->instr = *in;
    int rc = tack_rounding_init(&s->grid, in);
    if (rc != 0) {
      tack_log(TACK_LOG_ERROR, a->name, "%s: unusable increments (%s); it is not traded", s->symbol,
               tack_strerror(rc));
      s->refused = 1;
      continue;
    }
    s->has_instr = 1;
    if (!quote) {
      quote = in->quote;
    } else if (strcmp(quote, in->quote) != 0) {
      tack_log(TACK_LOG_ERROR, a->name,
               "%s is quoted in %s, other symbols of this account in %s: one account keeps "
               "one currency; %s is not traded",
               s->symbol, in->quote, quote, s->symbol);
      s->refused = 1;
      s->has_instr = 0;
    }
  }
  if (!quote) {
    tack_log(TACK_LOG_ERROR, a->name, "no symbol of this account can be traded");
    return TACK_ENOENT;
  }
  tack_copy_text(a->quote, sizeof a->quote, quote);
  tack_ledger_free(a->ledger);
  a->ledger = NULL;
  int rc = tack_ledger_new(a->quote, 0, &a->ledger);
  if (rc != 0)
    return rc;
  replay_ctx r = {a, 0};
  if (a->t->journal) {
    rc = tack_journal_each_fill(a->t->journal, a->name, replay_fill, &r);
    if (rc != 0) {
      tack_log(TACK_LOG_ERROR, a->name,
               "replaying the journal's fills failed (%s): refusing to trade over a ledger "
               "that does not add up",
               tack_strerror(rc));
      return rc;
    }
  }
  for (size_t i = 0; i < a->n_syms; i++) {
    tr_symbol *s = a->syms[i];
    double avg = 0, q = ledger_position(s, &avg);
    double peak = s->protect.peak;
    int armed = s->protect.armed;
    tack_risk_protect_set(&s->protect, q, avg);
    if (q != 0 && peak > 0) {
      s->protect.peak = peak;
      s->protect.armed = armed;
    }
    tack_sizing_sync(&s->sizing, q);
  }
  return 0;
}

/* A synthetic journal record: a deposit or an adoption. */
static int book_adjustment(tr_account *a, const char *kind, const char *symbol, uint32_t side,
                           double quantity, double price) {
  tack_fill f;
  memset(&f, 0, sizeof f);
  tack_copy_text(f.client_id, sizeof f.client_id, kind);
  tack_copy_text(f.symbol, sizeof f.symbol, symbol);
  snprintf(f.trade_id, sizeof f.trade_id, "%s-%s-%lld", kind + 1, symbol, (long long)now_of(a->t));
  f.ts = now_of(a->t);
  f.side = side;
  f.quantity = quantity;
  f.price = price;
  tack_copy_text(f.fee_currency, sizeof f.fee_currency, a->quote);
  return book_fill(a, NULL, &f, 0);
}

static void compare_positions(tr_account *a) {
  for (size_t i = 0; i < a->n_syms; i++) {
    tr_symbol *s = a->syms[i];
    if (!s->has_instr)
      continue;
    venue_view *v = &a->views[i];
    double avg = 0, mine = ledger_position(s, &avg);
    if (!v->has)
      continue;
    /* A restart whose market stays quiet (or whose data has ended) brings
     * no price: the venue's mark lets a stop still close the position. */
    if (!(s->last_price > 0) && v->mark > 0 && isfinite(v->mark))
      s->last_price = v->mark;
    int64_t mine_lots = 0, venue_lots = 0;
    tack_rounding_size(&s->grid, mine, TACK_ROUND_NEAREST, &mine_lots);
    if (tack_rounding_size(&s->grid, v->quantity, TACK_ROUND_NEAREST, &venue_lots) != 0)
      continue;
    if (mine_lots == venue_lots)
      continue;
    double diff = tack_rounding_size_double(&s->grid, venue_lots - mine_lots);
    double price = v->avg_price > 0 ? v->avg_price : v->mark;
    if (a->t->cfg->on_mismatch == TACK_RECOVERY_REFUSE || !(price > 0)) {
      s->refused = 1;
      tack_log(TACK_LOG_ERROR, a->name,
               "%s: the venue holds %.17g, the bot's ledger %.17g: the state is ambiguous, so "
               "%s is not traded until an operator decides (recovery.on_mismatch = \"%s\"%s)",
               s->symbol, v->quantity, mine, s->symbol,
               a->t->cfg->on_mismatch == TACK_RECOVERY_REFUSE ? "refuse" : "adopt",
               price > 0 ? "" : "; the venue gave no price to adopt it at");
      continue;
    }
    int64_t ticks = 0;
    tack_rounding_price(&s->grid, price, TACK_ROUND_NEAREST, &ticks);
    double at = tack_rounding_price_double(&s->grid, ticks);
    int rc = book_adjustment(a, ADOPT_ID, s->symbol, diff > 0 ? TACK_SIDE_BUY : TACK_SIDE_SELL,
                             fabs(diff), at);
    if (rc != 0) {
      s->refused = 1;
      continue;
    }
    a->adopted++;
    tack_log(TACK_LOG_WARN, a->name,
             "%s: the venue holds %.17g, the ledger had %.17g: adopted the difference %+.17g at "
             "%.17g",
             s->symbol, v->quantity, mine, diff, at);
    tack_risk_protect_set(&s->protect, v->quantity, avg > 0 ? avg : at);
    tack_sizing_sync(&s->sizing, v->quantity);
  }
}

static void compare_cash(tr_account *a) {
  tack_ledger_totals tot;
  if (!a->has_quote_balance || tack_ledger_get_totals(a->ledger, &tot) != 0)
    return;
  double cash = tack_money_double(tot.cash);
  if (!a->has_deposit) {
    if (book_adjustment(a, DEPOSIT_ID, a->quote, TACK_SIDE_BUY, a->quote_balance, 0) == 0)
      tack_log(TACK_LOG_INFO, a->name, "first start: %.17g %s at the venue is the starting equity",
               a->quote_balance, a->quote);
    return;
  }
  if (cash == a->quote_balance)
    return;
  if (a->t->cfg->on_mismatch == TACK_RECOVERY_ADOPT &&
      book_adjustment(a, DEPOSIT_ID, a->quote, TACK_SIDE_BUY, a->quote_balance - cash, 0) == 0) {
    tack_log(TACK_LOG_WARN, a->name,
             "the venue holds %.17g %s, the ledger %.17g: booked the difference as a deposit",
             a->quote_balance, a->quote, cash);
    return;
  }
  tack_log(TACK_LOG_ERROR, a->name,
           "the venue holds %.17g %s, the ledger %.17g: the state is ambiguous; nothing is traded "
           "on this account",
           a->quote_balance, a->quote, cash);
  for (size_t i = 0; i < a->n_syms; i++)
    a->syms[i]->refused = 1;
}

static void finish_recovery(tr_account *a) {
  size_t settled = tack_orders_reconcile_end(a->orders, now_of(a->t));
  a->recovering = 0;
  if (!a->ready) {
    compare_cash(a);
    compare_positions(a);
  }
  tack_free(NULL, a->views);
  a->views = NULL;
  char why[256];
  if (tack_ledger_check(a->ledger, why, sizeof why) != 0)
    tack_log(TACK_LOG_ERROR, a->name, "ledger check failed after recovery: %s", why);
  int first = !a->ready;
  a->ready = 1;
  tack_log(TACK_LOG_INFO, a->name,
           "%s: %llu journal records replayed, %llu fills booked from the venue, %zu orders "
           "settled, %llu positions adopted, %zu orders live; equity %.17g %s",
           first ? "recovered" : "reconciled", (unsigned long long)a->replayed,
           (unsigned long long)a->booked_live, settled, (unsigned long long)a->adopted,
           tack_orders_live(a->orders, NULL), account_equity(a), a->quote);
  for (size_t i = 0; i < a->n_syms; i++) {
    tr_symbol *s = a->syms[i];
    double avg = 0, q = ledger_position(s, &avg);
    if (q != 0 || s->refused)
      tack_log(TACK_LOG_INFO, a->name, "%s: position %.17g at %.17g%s", s->symbol, q, avg,
               s->refused ? " (not traded)" : "");
    tell_position(s);
  }
  if (first && a->sw.locked) {
    /* Locked before the restart: what is still open (a flatten cut short)
     * is closed now, and nothing new is opened today. */
    tack_log(TACK_LOG_WARN, a->name,
             "the trading day is locked (daily limit or operator) since before this start: no "
             "new exposure until the next day or 'tack ctl unlock'");
    for (size_t i = 0; i < a->n_syms; i++)
      if (ledger_position(a->syms[i], NULL) != 0)
        close_symbol(a->syms[i], TACK_ORIGIN_FLATTEN);
  }
  if (first && a->t->hooks.ready)
    a->t->hooks.ready(a->t->hooks.user, a->ex);
}

void tack_trading_on_connection(tack_trading *t, tack_ctx *exchange, uint32_t state) {
  tr_account *a = account_of(t, exchange);
  if (!a)
    return;
  if (state == TACK_CONN_UP && !a->started) {
    a->started = 1;
    a->req_instruments = t->next_req++;
    int rc = tack_instance_exchange_instruments(exchange, a->req_instruments);
    if (rc != 0) {
      tack_log(TACK_LOG_ERROR, a->name, "instruments request refused: %s", tack_strerror(rc));
      t->hooks.stop(t->hooks.user, "the exchange will not list its instruments", 1);
    }
  } else if (state == TACK_CONN_UP && a->ready) {
    reconcile(a, "reconnected");
  }
}

int tack_trading_on_instrument(tack_trading *t, tack_ctx *exchange, const tack_instrument *in) {
  tr_account *a = account_of(t, exchange);
  if (!a)
    return 0;
  tack_instrument copy = *in;
  copy.symbol[TACK_SYMBOL_MAX - 1] = '\0';
  copy.quote[TACK_CURRENCY_MAX - 1] = '\0';
  for (size_t i = 0; i < a->n_instrs; i++) {
    if (strcmp(a->instrs[i].symbol, copy.symbol) == 0) {
      a->instrs[i] = copy;
      return 0;
    }
  }
  tack_instrument *grown = grow(a->instrs, a->n_instrs, sizeof *grown);
  if (!grown)
    return TACK_ENOMEM;
  a->instrs = grown;
  a->instrs[a->n_instrs++] = copy;
  return 0;
}

int tack_trading_on_done(tack_trading *t, tack_ctx *exchange, uint64_t req, int status) {
  tr_account *a = account_of(t, exchange);
  if (!a)
    return 0;
  if (req == a->req_instruments && !a->ledger) {
    if (status != 0 || rebuild(a) != 0) {
      t->hooks.stop(t->hooks.user, "the account could not be recovered", 1);
      return 0;
    }
    a->views = tack_calloc(NULL, a->n_syms ? a->n_syms : 1, sizeof *a->views);
    if (!a->views) {
      t->hooks.stop(t->hooks.user, "out of memory", 1);
      return TACK_ENOMEM;
    }
    reconcile(a, a->replayed ? "restart" : "start");
  } else if (req == a->req_reconcile && a->recovering) {
    if (status != 0 && !a->ready) {
      tack_log(TACK_LOG_ERROR, a->name, "the venue could not reconcile (%s): not trading",
               tack_strerror(status));
      t->hooks.stop(t->hooks.user, "the venue could not reconcile", 1);
      return 0;
    }
    if (!a->views)
      a->views = tack_calloc(NULL, a->n_syms ? a->n_syms : 1, sizeof *a->views);
    if (!a->views) {
      t->hooks.stop(t->hooks.user, "out of memory", 1);
      return TACK_ENOMEM;
    }
    finish_recovery(a);
  }
  return 0;
}

int tack_trading_on_order_update(tack_trading *t, tack_ctx *exchange, const tack_order_update *u) {
  tr_account *a = account_of(t, exchange);
  if (!a)
    return 0;
  int rc = tack_orders_on_update(a->orders, u, now_of(t));
  return rc == 1 ? 0 : rc;
}

int tack_trading_on_fill(tack_trading *t, tack_ctx *exchange, const tack_fill *f) {
  tr_account *a = account_of(t, exchange);
  if (!a)
    return 0;
  if (!a->ledger) {
    tack_log(TACK_LOG_WARN, a->name,
             "fill %s of %s before the account recovered: it is booked when the venue "
             "reconciles",
             f->trade_id, f->symbol);
    return 0;
  }
  return tack_orders_on_fill(a->orders, f, now_of(t));
}

int tack_trading_on_balance(tack_trading *t, tack_ctx *exchange, const tack_balance *b) {
  tr_account *a = account_of(t, exchange);
  if (!a || !isfinite(b->total))
    return a ? TACK_EINVAL : 0;
  char cur[TACK_CURRENCY_MAX];
  tack_copy_text(cur, sizeof cur, b->currency);
  if (a->quote[0] && strcmp(cur, a->quote) == 0) {
    a->quote_balance = b->total;
    a->has_quote_balance = 1;
  }
  return 0;
}

int tack_trading_on_position(tack_trading *t, tack_ctx *exchange, const tack_position *p) {
  tr_account *a = account_of(t, exchange);
  if (!a || !a->views)
    return 0;
  for (size_t i = 0; i < a->n_syms; i++) {
    char name[TACK_SYMBOL_MAX];
    tack_copy_text(name, sizeof name, p->symbol);
    if (strcmp(a->syms[i]->symbol, name) == 0 && isfinite(p->quantity)) {
      a->views[i].has = 1;
      a->views[i].quantity = p->quantity;
      a->views[i].avg_price = isfinite(p->avg_price) ? p->avg_price : 0;
      a->views[i].mark = isfinite(p->mark_price) ? p->mark_price : 0;
    }
  }
  return 0;
}

/* ------------------------------------------------------------------------ */
/* Orders from the trader                                                    */
/* ------------------------------------------------------------------------ */

/* Round, gate and send one order of quantity (signed) for s. Returns 0
 * when sent, 1 when nothing was sent (too small, refused), or an error. */
static int send_order(tr_symbol *s, double quantity, uint32_t origin, int reduce_only) {
  tr_account *a = s->acct;
  tack_trading *t = a->t;
  uint32_t side = quantity > 0 ? TACK_SIDE_BUY : TACK_SIDE_SELL;
  int limit = s->policy.order_type == TACK_ORDER_LIMIT && origin == TACK_ORIGIN_TRADER;
  double price = s->last_price;
  if (limit) {
    double off = s->policy.limit_offset_bps / 10000.0;
    price = side == TACK_SIDE_BUY ? price * (1 - off) : price * (1 + off);
  }
  int64_t lots = 0, ticks = 0;
  int rc = tack_rounding_order(&s->grid, side, fabs(quantity), price, &lots, &ticks);
  if (rc == TACK_ERANGE && reduce_only) {
    /* A close below the minimum still closes: the whole position. */
    rc = tack_rounding_size(&s->grid, fabs(quantity), TACK_ROUND_NEAREST, &lots);
    tack_rounding_price(&s->grid, price, TACK_ROUND_NEAREST, &ticks);
  }
  if (rc != 0 || lots <= 0) {
    s->small++;
    tack_log(TACK_LOG_DEBUG, a->name, "%s: %s %.17g is below the instrument's minimum: no order",
             s->symbol, side_name(side), fabs(quantity));
    return 1;
  }
  double qty = tack_rounding_size_double(&s->grid, lots);
  double px = tack_rounding_price_double(&s->grid, ticks);
  tack_risk_order ro = {s->symbol, side == TACK_SIDE_BUY ? qty : -qty, px, ledger_position(s, NULL),
                        now_of(t)};
  tack_risk_refusal why;
  rc = tack_risk_check_order(&s->policy.limits, &a->sw, &s->rate, &ro, &why);
  if (rc != 0) {
    s->refused_orders++;
    tack_log(TACK_LOG_WARN, a->name, "%s: %s %.17g refused by the risk gate (%s): %s", s->symbol,
             side_name(side), qty, why.rule, why.why);
    return 1;
  }
  tack_order_request req;
  memset(&req, 0, sizeof req);
  tack_copy_text(req.symbol, sizeof req.symbol, s->symbol);
  req.side = side;
  req.type = limit ? TACK_ORDER_LIMIT : TACK_ORDER_MARKET;
  req.tif = limit ? TACK_TIF_GTC : TACK_TIF_IOC;
  req.flags = reduce_only ? TACK_ORDER_REDUCE_ONLY : 0;
  req.quantity = qty;
  req.limit_price = limit ? px : 0;
  req.ts = now_of(t);
  tack_orders_submit_opts so = {origin, limit ? s->policy.order_timeout_ns : 0,
                                s->policy.on_timeout, 0, 0};
  char id[TACK_ORDER_ID_MAX];
  rc = tack_orders_submit(a->orders, &req, &so, now_of(t), id);
  if (rc != 0) {
    tack_log(TACK_LOG_ERROR, a->name, "%s: the order could not be created: %s", s->symbol,
             tack_strerror(rc));
    return rc;
  }
  s->orders++;
  if (tack_log_level() >= TACK_LOG_INFO) {
    char qty_text[48], px_text[48];
    tack_rounding_format_size(&s->grid, lots, qty_text, sizeof qty_text);
    tack_rounding_format_price(&s->grid, ticks, px_text, sizeof px_text);
    tack_log(TACK_LOG_INFO, a->name, "%s: %s %s %s%s (order %s)", s->symbol, side_name(side),
             qty_text, limit ? "limit at " : "market", limit ? px_text : "", id);
  }
  return 0;
}

static int may_trade(const tr_symbol *s) {
  const tr_account *a = s->acct;
  return a->ready && s->enabled && !s->refused && s->has_instr && !a->t->stopping && !a->sw.kill &&
         !a->sw.locked;
}

/* Act on the pending signal, if the trader is free. */
static void act(tr_symbol *s) {
  tr_account *a = s->acct;
  if (!s->has_pending || !may_trade(s) || s->closing || s->exit_kind)
    return;
  if (s->awaiting[0] || tack_orders_live(a->orders, s->symbol) != 0)
    return; /* busy: acted on when its order is final and booked */
  if (!(s->last_price > 0))
    return; /* no price yet: the first bar brings one */
  tack_signal sig = s->pending;
  s->has_pending = 0;
  double current = ledger_position(s, NULL);
  tack_sizing_decision d;
  tack_sizing_state before = s->sizing;
  int can_short = (s->instr.flags & TACK_INSTR_CAN_SHORT) != 0;
  if (tack_sizing_decide(&s->policy.sizing, &s->sizing, sig.strength, current, s->last_price,
                         can_short, &d) != 0) {
    tack_log(TACK_LOG_ERROR, a->name,
             "%s: signal %+.17g at price %.17g with position %.17g cannot be sized: ignored",
             s->symbol, sig.strength, s->last_price, current);
    return;
  }
  if (d.tell_clamp)
    tack_log(TACK_LOG_INFO, a->name,
             "%s: short signals are held at flat: the instrument cannot be shorted", s->symbol);
  /* A durable write only when the sizing state moved: most signals leave it. */
  if (memcmp(&before, &s->sizing, sizeof before) != 0)
    save_symbol(s);
  if (d.action == TACK_SIZING_HOLD || d.delta == 0)
    return;
  int reducing = tack_risk_is_reducing(current, d.delta);
  send_order(s, d.delta, TACK_ORIGIN_TRADER, reducing);
}

void tack_trading_on_signal(tack_trading *t, tack_ctx *exchange, const char *symbol,
                            const tack_signal *sig) {
  tr_account *a = account_of(t, exchange);
  tr_symbol *s = a ? symbol_of(a, symbol) : NULL;
  if (!s)
    return;
  s->signals++;
  if (s->has_pending)
    s->dropped++;
  s->pending = *sig;
  s->has_pending = 1;
  act(s);
}

/* ------------------------------------------------------------------------ */
/* Flattening                                                                */
/* ------------------------------------------------------------------------ */

static void continue_close(tr_symbol *s) {
  tr_account *a = s->acct;
  if (s->awaiting[0] || tack_orders_live(a->orders, s->symbol) != 0)
    return;
  double q = ledger_position(s, NULL);
  if (q == 0) {
    if (s->closing)
      tack_log(TACK_LOG_INFO, a->name, "%s: flat", s->symbol);
    s->closing = 0;
    return;
  }
  uint32_t budget = 1 + a->t->cfg->shutdown_retries;
  if (s->close_sent >= budget) {
    if (s->closing == 1)
      tack_log(TACK_LOG_ERROR, a->name, "%s: still %.17g open after %u close orders: giving up",
               s->symbol, q, (unsigned)s->close_sent);
    s->closing = 2; /* gave up */
    return;
  }
  if (!(s->last_price > 0)) {
    s->closing = 2;
    tack_log(TACK_LOG_ERROR, a->name, "%s: no price known to close %.17g at", s->symbol, q);
    return;
  }
  s->close_sent++;
  if (send_order(s, -q, s->close_origin, 1) != 0 && tack_orders_live(a->orders, s->symbol) == 0)
    continue_close(s);
}

static void close_symbol(tr_symbol *s, uint32_t origin) {
  tr_account *a = s->acct;
  if (s->closing == 1)
    return;
  s->closing = 1;
  s->close_sent = 0;
  s->close_origin = origin;
  s->has_pending = 0;
  if (!a->ready || !s->has_instr) {
    s->closing = ledger_position(s, NULL) != 0 ? 2 : 0;
    return;
  }
  if (tack_orders_cancel_all(a->orders, s->symbol, now_of(a->t)) == 0)
    continue_close(s);
}

static void close_all(tack_trading *t, uint32_t origin) {
  for (size_t i = 0; i < t->n_all; i++)
    close_symbol(t->all[i], origin);
}

int tack_trading_begin_stop(tack_trading *t, const char *why) {
  if (t->stopping)
    return !tack_trading_stop_done(t);
  t->stopping = 1;
  tack_copy_text(t->stop_why, sizeof t->stop_why, why);
  t->stop_deadline = now_of(t) + (tack_time)t->cfg->shutdown_timeout_ns;
  if (!t->cfg->flatten_on_stop) {
    tack_log_info("stop: positions are left open (trading.shutdown.flatten = false)");
    return 0;
  }
  close_all(t, TACK_ORIGIN_FLATTEN);
  return !tack_trading_stop_done(t);
}

int tack_trading_stop_done(tack_trading *t) {
  if (!t->cfg->flatten_on_stop)
    return 1;
  if (now_of(t) >= t->stop_deadline)
    return 1;
  for (size_t i = 0; i < t->n_all; i++) {
    tr_symbol *s = t->all[i];
    if (s->closing == 1 || tack_orders_live(s->acct->orders, s->symbol) != 0)
      return 0;
  }
  return 1;
}

size_t tack_trading_report_open(tack_trading *t) {
  size_t open = 0;
  for (size_t i = 0; i < t->n_all; i++) {
    tr_symbol *s = t->all[i];
    double avg = 0, q = ledger_position(s, &avg);
    size_t live = tack_orders_live(s->acct->orders, s->symbol);
    if (q != 0 || live != 0) {
      open++;
      tack_log(TACK_LOG_ERROR, s->acct->name,
               "%s: left open: position %.17g at %.17g, %zu live "
               "order%s",
               s->symbol, q, avg, live, live == 1 ? "" : "s");
    }
  }
  return open;
}

/* ------------------------------------------------------------------------ */
/* Market data: marks, exits, the day                                        */
/* ------------------------------------------------------------------------ */

static void check_day(tr_account *a) {
  tack_trading *t = a->t;
  char why[192];
  if (!a->ready || !a->ledger)
    return;
  /* Without a limit nothing can lock the day: skip the equity sum per bar. */
  const tack_risk_day_policy *dp = &t->cfg->day;
  if (!(dp->daily_loss_limit > 0 || dp->daily_loss_fraction > 0 || dp->daily_profit_target > 0) &&
      a->day.lock == TACK_RISK_DAY_OPEN)
    return;
  uint32_t before = a->day.lock;
  tack_time day_before = a->day.day_start;
  int locked =
      tack_risk_day_update(&a->day, &t->cfg->day, now_of(t), account_equity(a), why, sizeof why);
  if (a->day.lock != before || a->day.day_start != day_before)
    save_day(a);
  if (before != TACK_RISK_DAY_OPEN && a->day.lock == TACK_RISK_DAY_OPEN) {
    tack_log(TACK_LOG_INFO, a->name, "a new trading day: trading again");
    for (size_t i = 0; i < t->n_accts; i++)
      t->accts[i]->sw.locked = 0;
  }
  if (locked) {
    tack_log(TACK_LOG_WARN, a->name,
             "daily limit reached: %s; flattening everything and "
             "trading no more today",
             why);
    for (size_t i = 0; i < t->n_accts; i++) {
      t->accts[i]->sw.locked = 1;
      if (t->accts[i] != a) {
        tack_risk_day_lock(&t->accts[i]->day, now_of(t));
        save_day(t->accts[i]);
      }
    }
    close_all(t, TACK_ORIGIN_FLATTEN);
  }
}

static void protect(tr_symbol *s, int fired, const tack_risk_exit *ex) {
  if (!fired || s->exit_kind || s->closing)
    return;
  s->exit_kind = (int)ex->kind;
  s->exits++;
  tack_log(TACK_LOG_INFO, s->acct->name, "%s: %s", s->symbol, ex->why);
  s->has_pending = 0;
  if (tack_orders_cancel_all(s->acct->orders, s->symbol, now_of(s->acct->t)) == 0) {
    double q = ledger_position(s, NULL);
    if (q != 0 && send_order(s, -q, TACK_ORIGIN_PROTECT, 1) != 0)
      s->exit_kind = 0;
  }
}

static void on_price(tr_symbol *s, double price) {
  tr_account *a = s->acct;
  if (!(price > 0) || !isfinite(price))
    return;
  s->last_price = price;
  if (a->ledger && ledger_position(s, NULL) != 0)
    tack_ledger_mark(a->ledger, s->symbol, price);
}

void tack_trading_on_bar(tack_trading *t, tack_ctx *exchange, const char *symbol,
                         const tack_bar *bar) {
  tr_account *a = account_of(t, exchange);
  tr_symbol *s = a ? symbol_of(a, symbol) : NULL;
  if (!s)
    return;
  on_price(s, bar->close);
  if (!a->ready)
    return;
  /* Order timeouts are due on the host clock; market data is what wakes
   * the engine, so it checks them here (and held stops), when there are
   * orders to check: most bars have none, and need no clock. */
  if (tack_orders_watching(a->orders)) {
    tack_time now = now_of(t);
    tack_orders_tick(a->orders, now);
    tack_orders_on_bar(a->orders, s->symbol, bar, now);
  }
  tack_risk_exit ex;
  if (s->protect.quantity != 0 && !s->closing)
    protect(s, tack_risk_protect_bar(&s->protect, &s->policy.exits, bar, &ex) == 1, &ex);
  check_day(a);
  act(s);
}

void tack_trading_on_trade(tack_trading *t, tack_ctx *exchange, const char *symbol,
                           const tack_trade *trade) {
  tr_account *a = account_of(t, exchange);
  tr_symbol *s = a ? symbol_of(a, symbol) : NULL;
  if (!s)
    return;
  on_price(s, trade->price);
  if (!a->ready)
    return;
  if (tack_orders_watching(a->orders)) {
    tack_time now = now_of(t);
    tack_orders_tick(a->orders, now);
    tack_orders_on_price(a->orders, s->symbol, trade->price, now);
  }
  tack_risk_exit ex;
  if (s->protect.quantity != 0 && !s->closing)
    protect(s, tack_risk_protect_price(&s->protect, &s->policy.exits, trade->price, &ex) == 1, &ex);
  check_day(a);
  act(s);
}

/* A fill was booked: protection, sizing and the strategies follow it. */
static void after_fill(tr_symbol *s, const tack_fill *f) {
  tack_trading *t = s->acct->t;
  double avg = 0, q = ledger_position(s, &avg);
  tack_risk_protect_set(&s->protect, q, avg);
  tack_sizing_sync(&s->sizing, q);
  if (q == 0)
    s->exit_kind = 0;
  save_symbol(s);
  if (f->price > 0)
    s->last_price = s->last_price > 0 ? s->last_price : f->price;
  tell_position(s);
  if (t->hooks.fill && strcmp(f->client_id, ADOPT_ID) != 0)
    t->hooks.fill(t->hooks.user, s->acct->ex, f);
  settle(s);
}

/* ------------------------------------------------------------------------ */
/* Strategies' own orders, controls, figures                                 */
/* ------------------------------------------------------------------------ */

int tack_trading_submit(tack_trading *t, tack_ctx *exchange, const char *symbol,
                        const tack_order_request *req, char *client_id_out) {
  tr_account *a = account_of(t, exchange);
  tr_symbol *s = a ? symbol_of(a, symbol) : NULL;
  if (client_id_out)
    client_id_out[0] = '\0';
  if (!s || strcmp(req->symbol, s->symbol) != 0)
    return TACK_EINVAL;
  if (!may_trade(s))
    return TACK_ESTATE;
  if (!(req->quantity > 0) || (req->side != TACK_SIDE_BUY && req->side != TACK_SIDE_SELL))
    return TACK_EINVAL;
  int64_t lots = 0, ticks = 0;
  double price = req->type == TACK_ORDER_MARKET || req->type == TACK_ORDER_STOP ? s->last_price
                                                                                : req->limit_price;
  int rc = tack_rounding_order(&s->grid, req->side, req->quantity, price, &lots, &ticks);
  if (rc != 0)
    return rc;
  tack_order_request r = *req;
  r.quantity = tack_rounding_size_double(&s->grid, lots);
  if (r.type == TACK_ORDER_LIMIT || r.type == TACK_ORDER_STOP_LIMIT)
    r.limit_price = tack_rounding_price_double(&s->grid, ticks);
  if (r.type == TACK_ORDER_STOP || r.type == TACK_ORDER_STOP_LIMIT) {
    int64_t st = 0;
    if (tack_rounding_price(&s->grid, req->stop_price, TACK_ROUND_NEAREST, &st) != 0)
      return TACK_EINVAL;
    r.stop_price = tack_rounding_price_double(&s->grid, st);
  }
  r.ts = now_of(t);
  double signed_qty = r.side == TACK_SIDE_BUY ? r.quantity : -r.quantity;
  tack_risk_order ro = {s->symbol, signed_qty, price > 0 ? price : s->last_price,
                        ledger_position(s, NULL), now_of(t)};
  tack_risk_refusal why;
  if (tack_risk_check_order(&s->policy.limits, &a->sw, &s->rate, &ro, &why) != 0) {
    s->refused_orders++;
    tack_log(TACK_LOG_WARN, a->name, "%s: strategy order refused by the risk gate (%s): %s",
             s->symbol, why.rule, why.why);
    return TACK_EPERM;
  }
  tack_orders_submit_opts so = {TACK_ORIGIN_STRATEGY, 0, 0, 0, 0};
  rc = tack_orders_submit(a->orders, &r, &so, now_of(t), client_id_out);
  if (rc == 0)
    s->orders++;
  return rc;
}

int tack_trading_cancel(tack_trading *t, tack_ctx *exchange, const char *client_id) {
  tr_account *a = account_of(t, exchange);
  if (!a)
    return TACK_EINVAL;
  return tack_orders_cancel(a->orders, client_id, now_of(t));
}

int tack_trading_position(const tack_trading *t, tack_ctx *exchange, const char *symbol,
                          tack_position *out) {
  tr_account *a = account_of(t, exchange);
  memset(out, 0, sizeof *out);
  tack_copy_text(out->symbol, sizeof out->symbol, symbol);
  /* Never filled: flat, as out already says. */
  if (a && a->ledger)
    tack_ledger_position(a->ledger, symbol, out);
  return 0;
}

void tack_trading_set_kill(tack_trading *t, int on, const char *why) {
  t->kill = on;
  for (size_t i = 0; i < t->n_accts; i++)
    t->accts[i]->sw.kill = on;
  if (!on) {
    tack_log_info("kill switch off");
    return;
  }
  tack_log_warn("kill switch: %s; flattening everything and stopping", why);
  t->hooks.stop(t->hooks.user, "kill switch", 0);
}

int tack_trading_unlock_day(tack_trading *t) {
  for (size_t i = 0; i < t->n_accts; i++) {
    tr_account *a = t->accts[i];
    tack_risk_day_unlock(&a->day, account_equity(a));
    a->sw.locked = 0;
    save_day(a);
  }
  tack_log_info("the day's lock was lifted by the operator");
  return 0;
}

static tr_symbol *find_symbol(const tack_trading *t, const char *symbol) {
  for (size_t i = 0; i < t->n_all; i++)
    if (strcmp(t->all[i]->symbol, symbol) == 0)
      return t->all[i];
  return NULL;
}

int tack_trading_enable_symbol(tack_trading *t, const char *symbol, int enabled) {
  tr_symbol *s = find_symbol(t, symbol);
  if (!s)
    return TACK_ENOENT;
  s->enabled = enabled;
  save_symbol(s);
  tack_log(TACK_LOG_INFO, s->acct->name, "%s: trading %s", s->symbol,
           enabled ? "enabled" : "disabled; the position is closed");
  if (!enabled)
    close_symbol(s, TACK_ORIGIN_OPERATOR);
  return 0;
}

int tack_trading_flatten_symbol(tack_trading *t, const char *symbol, const char *why) {
  tr_symbol *s = find_symbol(t, symbol);
  if (!s)
    return TACK_ENOENT;
  tack_log(TACK_LOG_INFO, s->acct->name, "%s: flatten (%s)", s->symbol, why);
  close_symbol(s, TACK_ORIGIN_OPERATOR);
  return 0;
}

void tack_trading_close_store(tack_trading *t) {
  tack_journal_close(t->journal);
  t->journal = NULL;
}

size_t tack_trading_symbol_count(const tack_trading *t) { return t->n_all; }

int tack_trading_symbol_stats_at(const tack_trading *t, size_t i, tack_trading_symbol_stats *out) {
  if (i >= t->n_all)
    return TACK_ERANGE;
  const tr_symbol *s = t->all[i];
  memset(out, 0, sizeof *out);
  out->symbol = s->symbol;
  out->position = ledger_position(s, &out->avg_price);
  out->signals = s->signals;
  out->dropped_signals = s->dropped;
  out->orders = s->orders;
  out->refused = s->refused_orders;
  out->fills = s->fills;
  out->exits = s->exits;
  out->enabled = s->enabled;
  out->refused_by_recovery = s->refused;
  return 0;
}

int tack_trading_check(const tack_trading *t, char *why, size_t cap) {
  for (size_t i = 0; i < t->n_accts; i++) {
    if (t->accts[i]->ledger) {
      int rc = tack_ledger_check(t->accts[i]->ledger, why, cap);
      if (rc != 0)
        return rc;
    }
  }
  return 0;
}

void tack_trading_print_summary(const tack_trading *t, FILE *out) {
  for (size_t i = 0; i < t->n_accts; i++) {
    const tr_account *a = t->accts[i];
    tack_ledger_totals tot;
    tack_orders_stats os;
    char eq[64], cash[64], real[64], unreal[64], fees[64], start[64], why[256];
    tack_orders_get_stats(a->orders, &os);
    fprintf(out, "account %s:\n", a->name);
    if (!a->ledger || tack_ledger_get_totals(a->ledger, &tot) != 0) {
      fprintf(out, "  not recovered: nothing traded\n");
      continue;
    }
    tack_money_format(tot.equity, eq, sizeof eq);
    tack_money_format(tot.cash, cash, sizeof cash);
    tack_money_format(tot.realized, real, sizeof real);
    tack_money_format(tot.unrealized, unreal, sizeof unreal);
    tack_money_format(tot.fees, fees, sizeof fees);
    tack_money_format(tot.starting, start, sizeof start);
    fprintf(out, "  equity %s %s (starting %s, cash %s)\n", eq, a->quote, start, cash);
    fprintf(out, "  realized %s, unrealized %s, fees %s\n", real, unreal, fees);
    fprintf(out, "  ledger %s\n",
            tack_ledger_check(a->ledger, why, sizeof why) == 0 ? "exact: starting + realized + "
                                                                 "unrealized - fees = cash + "
                                                                 "positions at mark"
                                                               : why);
    fprintf(out,
            "  orders %llu submitted, %llu filled, %llu cancelled, %llu rejected; fills %llu "
            "(%llu duplicates dropped, %llu external)\n",
            (unsigned long long)os.submitted, (unsigned long long)os.filled,
            (unsigned long long)os.cancelled, (unsigned long long)os.rejected,
            (unsigned long long)os.fills, (unsigned long long)os.duplicate_fills,
            (unsigned long long)os.external_fills);
    for (size_t k = 0; k < a->n_syms; k++) {
      const tr_symbol *s = a->syms[k];
      double avg = 0, q = ledger_position(s, &avg);
      fprintf(out,
              "  %s: position %.17g at %.17g; %llu signals (%llu replaced while busy), %llu "
              "orders, %llu refused by risk, %llu fills, %llu exits%s%s\n",
              s->symbol, q, avg, (unsigned long long)s->signals, (unsigned long long)s->dropped,
              (unsigned long long)s->orders, (unsigned long long)s->refused_orders,
              (unsigned long long)s->fills, (unsigned long long)s->exits,
              s->enabled ? "" : " (disabled)", s->refused ? " (not traded: see the log)" : "");
    }
  }
}

int tack_trading_get_sums(const tack_trading *t, tack_trading_sums *out) {
  memset(out, 0, sizeof *out);
  for (size_t i = 0; i < t->n_accts; i++) {
    const tr_account *a = t->accts[i];
    tack_ledger_totals tot;
    if (!a->ledger || tack_ledger_get_totals(a->ledger, &tot) != 0)
      continue;
    if (out->accounts == 0)
      tack_copy_text(out->quote, sizeof out->quote, a->quote);
    out->accounts++;
    out->starting += tack_money_double(tot.starting);
    out->equity += tack_money_double(tot.equity);
    out->cash += tack_money_double(tot.cash);
    out->fees += tack_money_double(tot.fees);
    out->realized += tack_money_double(tot.realized);
  }
  return out->accounts ? 0 : TACK_ENOENT;
}
