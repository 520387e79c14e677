/*
 * test_orders.c: the order manager (host/orders.c) against a scripted
 * venue: every legal and illegal transition, stale and malformed updates,
 * duplicate fills and fills matched by venue id or arriving before the
 * order's acknowledgement, unknown updates and fills through
 * reconciliation, write-ahead (persist before send), refusals, retries
 * with the same id, held stops on prices and bars, OCO and brackets,
 * timeouts with market replacement, cancel_all, pending_quantity, a
 * restart from persisted records, a million fills, and a randomized
 * property test of reordered and duplicated venue messages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "orders.h"

#define NS TACK_NS_PER_SEC
#define SEQ_MAX 4096

/* ------------------------------------------------------------------------ */
/* A scripted owner                                                          */
/* ------------------------------------------------------------------------ */

typedef struct booked {
  tack_fill f;
  tack_order order; /* as io.fill saw it */
  int has_order;
} booked;

typedef struct mock {
  tack_orders *m;
  /* What the manager did, in order: P persist, S send, C cancel, F fill. */
  char events[8192];
  size_t n_events;
  tack_order_request *sent;
  size_t n_sent, cap_sent;
  char (*cancels)[TACK_ORDER_ID_MAX];
  size_t n_cancels, cap_cancels;
  booked *fills;
  size_t n_fills, cap_fills;
  tack_order last_persist;
  uint64_t persist_next_seq;
  size_t n_persist;
  tack_order records[SEQ_MAX]; /* the last persisted record of each sequence */
  int persist_ok_left;         /* < 0: always succeed; else that many, then fail */
  int send_rc, cancel_rc, fill_rc;
  size_t reconciles;
  char why[256];
  size_t changes;
  uint32_t status_of[SEQ_MAX]; /* last status io.changed reported per sequence */
  int backwards;               /* io.changed reported a status going back */
  char last_log[1024];
  size_t n_logs;
  int quiet;
  /* A venue that answers from inside send, and callbacks that come back in. */
  int paper;     /* send reports OPEN, then fills market and limit orders at once */
  int chain;     /* io.changed submits a new market order when a TRADER order fills */
  int refeed;    /* io.fill offers the same fill again from inside */
  int refeed_rc; /* what that returned */
  size_t n_reentered;
} mock;

static int trank(uint32_t s) {
  switch (s) {
  case TACK_STATUS_PENDING:
    return 0;
  case TACK_STATUS_OPEN:
    return 1;
  case TACK_STATUS_PARTIAL:
    return 2;
  case TACK_STATUS_FILLED:
  case TACK_STATUS_CANCELLED:
  case TACK_STATUS_REJECTED:
  case TACK_STATUS_EXPIRED:
    return 3;
  default:
    return -1;
  }
}

static void event(mock *k, char c) {
  if (k->n_events + 1 < sizeof k->events)
    k->events[k->n_events++] = c;
}

static void *grow(void *p, size_t *cap, size_t n, size_t size) {
  if (n < *cap)
    return p;
  *cap = *cap ? *cap * 2 : 64;
  p = realloc(p, *cap * size);
  assert_non_null(p);
  return p;
}

static int io_persist(void *user, const tack_order *o, uint64_t next_seq) {
  mock *k = user;
  if (k->persist_ok_left == 0)
    return TACK_EIO;
  if (k->persist_ok_left > 0)
    k->persist_ok_left--;
  event(k, 'P');
  k->last_persist = *o;
  k->persist_next_seq = next_seq;
  k->n_persist++;
  if (o->seq < SEQ_MAX)
    k->records[o->seq] = *o;
  return 0;
}

static tack_order_update upd(const char *cid, const char *vid, uint32_t status, double qty,
                             double filled);
static tack_fill fil(const char *cid, const char *vid, const char *tid, double price, double qty);

static int io_send(void *user, const tack_order_request *req) {
  mock *k = user;
  event(k, 'S');
  k->sent = grow(k->sent, &k->cap_sent, k->n_sent, sizeof *k->sent);
  k->sent[k->n_sent++] = *req;
  if (k->paper && k->m && (req->type == TACK_ORDER_MARKET || req->type == TACK_ORDER_LIMIT)) {
    char vid[TACK_ORDER_ID_MAX], tid[TACK_ORDER_ID_MAX];
    snprintf(vid, sizeof vid, "P-%.60s", req->client_id);
    snprintf(tid, sizeof tid, "pt-%.60s", req->client_id);
    tack_order_update u = upd(req->client_id, vid, TACK_STATUS_OPEN, req->quantity, 0);
    assert_int_equal(tack_orders_on_update(k->m, &u, req->ts), 0);
    double px = req->type == TACK_ORDER_LIMIT ? req->limit_price : 100;
    tack_fill f = fil(req->client_id, vid, tid, px, req->quantity);
    assert_int_equal(tack_orders_on_fill(k->m, &f, req->ts), 0);
    u = upd(req->client_id, vid, TACK_STATUS_FILLED, req->quantity, req->quantity);
    assert_int_equal(tack_orders_on_update(k->m, &u, req->ts), 1); /* the fill got there first */
    k->n_reentered++;
  }
  return k->send_rc;
}

static int io_cancel(void *user, const char *client_id, const char *venue_id) {
  mock *k = user;
  (void)venue_id;
  event(k, 'C');
  k->cancels = grow(k->cancels, &k->cap_cancels, k->n_cancels, sizeof *k->cancels);
  tack_copy_text(k->cancels[k->n_cancels++], TACK_ORDER_ID_MAX, client_id);
  return k->cancel_rc;
}

static int io_fill(void *user, const tack_order *order, const tack_fill *f) {
  mock *k = user;
  if (k->fill_rc)
    return k->fill_rc;
  event(k, 'F');
  k->fills = grow(k->fills, &k->cap_fills, k->n_fills, sizeof *k->fills);
  booked *b = &k->fills[k->n_fills++];
  b->f = *f;
  b->has_order = order != NULL;
  if (order)
    b->order = *order;
  if (k->refeed) {
    k->refeed = 0;
    tack_fill again = *f;
    k->refeed_rc = tack_orders_on_fill(k->m, &again, 0);
  }
  return 0;
}

static void io_changed(void *user, const tack_order *o, uint32_t old_status) {
  mock *k = user;
  k->changes++;
  if (o->seq < SEQ_MAX) {
    if (old_status != 0 && trank(o->status) < trank(k->status_of[o->seq]))
      k->backwards++;
    k->status_of[o->seq] = o->status;
  }
  if (old_status && trank(o->status) < trank(old_status))
    k->backwards++;
  if (k->chain > 0 && o->origin == TACK_ORIGIN_TRADER && o->status == TACK_STATUS_FILLED &&
      old_status != TACK_STATUS_FILLED) {
    k->chain--;
    tack_order_request r;
    memset(&r, 0, sizeof r);
    tack_copy_text(r.symbol, sizeof r.symbol, o->req.symbol);
    r.side = TACK_SIDE_BUY;
    r.type = TACK_ORDER_MARKET;
    r.quantity = 0.5;
    assert_int_equal(tack_orders_submit(k->m, &r, NULL, o->updated, NULL), 0);
  }
}

static void io_reconcile(void *user, const char *why) {
  mock *k = user;
  k->reconciles++;
  tack_copy_text(k->why, sizeof k->why, why);
}

static void io_log(void *user, int level, const char *msg) {
  mock *k = user;
  k->n_logs++;
  tack_copy_text(k->last_log, sizeof k->last_log, msg);
  if (!k->quiet && getenv("TACK_TEST_VERBOSE"))
    print_message("[%d] %s\n", level, msg);
}

static mock *mk_seq(uint32_t caps, uint32_t max_attempts, uint64_t next_seq) {
  mock *k = calloc(1, sizeof *k);
  assert_non_null(k);
  k->persist_ok_left = -1;
  tack_orders_io io = {k,       io_persist, io_send,      io_cancel,
                       io_fill, io_changed, io_reconcile, io_log};
  tack_orders_opts opts = {"T", next_seq, caps, max_attempts};
  assert_int_equal(tack_orders_new(&opts, &io, &k->m), 0);
  return k;
}

static mock *mk(uint32_t caps) { return mk_seq(caps, 3, 1); }

static void done(mock *k) {
  tack_orders_free(k->m);
  free(k->sent);
  free(k->cancels);
  free(k->fills);
  free(k);
}

static tack_order_request req(const char *symbol, uint32_t side, uint32_t type, double qty,
                              double limit, double stop) {
  tack_order_request r;
  memset(&r, 0, sizeof r);
  tack_copy_text(r.symbol, sizeof r.symbol, symbol);
  r.side = side;
  r.type = type;
  r.quantity = qty;
  r.limit_price = limit;
  r.stop_price = stop;
  return r;
}

static tack_order_update upd(const char *cid, const char *vid, uint32_t status, double qty,
                             double filled) {
  tack_order_update u;
  memset(&u, 0, sizeof u);
  tack_copy_text(u.client_id, sizeof u.client_id, cid);
  tack_copy_text(u.venue_id, sizeof u.venue_id, vid);
  u.status = status;
  u.quantity = qty;
  u.filled = filled;
  return u;
}

static tack_fill fil(const char *cid, const char *vid, const char *tid, double price, double qty) {
  tack_fill f;
  memset(&f, 0, sizeof f);
  tack_copy_text(f.client_id, sizeof f.client_id, cid);
  tack_copy_text(f.venue_order_id, sizeof f.venue_order_id, vid);
  tack_copy_text(f.trade_id, sizeof f.trade_id, tid);
  f.price = price;
  f.quantity = qty;
  f.fee = 0.01;
  tack_copy_text(f.fee_currency, sizeof f.fee_currency, "USD");
  return f;
}

/* Submits a plain order and returns its id in id (TACK_ORDER_ID_MAX). */
static void submit(mock *k, tack_order_request r, const tack_orders_submit_opts *o, tack_time now,
                   char *id) {
  assert_int_equal(tack_orders_submit(k->m, &r, o, now, id), 0);
}

static const tack_order *get(mock *k, const char *id) {
  const tack_order *o = tack_orders_get(k->m, id);
  assert_non_null(o);
  return o;
}

static tack_orders_stats stats(mock *k) {
  tack_orders_stats s;
  tack_orders_get_stats(k->m, &s);
  return s;
}

/* ------------------------------------------------------------------------ */
/* States                                                                    */
/* ------------------------------------------------------------------------ */

static void test_transition_table(void **state) {
  (void)state;
  for (uint32_t from = 0; from <= 8; from++) {
    for (uint32_t to = 0; to <= 8; to++) {
      int rf = trank(from), rt = trank(to), want;
      if (rf < 0 || rt < 0 || rf == 3)
        want = 0;
      else if (from == to)
        want = from == TACK_STATUS_PARTIAL;
      else
        want = rt > rf;
      if (tack_order_transition_ok(from, to) != want)
        fail_msg("transition %u -> %u: expected %d", from, to, want);
    }
    assert_int_equal(tack_order_status_final(from), trank(from) == 3);
  }
  assert_string_equal(tack_order_status_name(TACK_STATUS_PENDING), "pending");
  assert_string_equal(tack_order_status_name(TACK_STATUS_PARTIAL), "partial");
  assert_string_equal(tack_order_status_name(TACK_STATUS_EXPIRED), "expired");
  assert_string_equal(tack_order_status_name(0), "unknown");
  assert_string_equal(tack_order_status_name(8), "unknown");
}

/* Every update the state machine allows moves the order; every other one
 * is stale: driven through the manager from each reachable state. */
static void test_updates_follow_the_machine(void **state) {
  (void)state;
  const uint32_t all[] = {TACK_STATUS_PENDING, TACK_STATUS_OPEN,      TACK_STATUS_PARTIAL,
                          TACK_STATUS_FILLED,  TACK_STATUS_CANCELLED, TACK_STATUS_REJECTED,
                          TACK_STATUS_EXPIRED};
  for (size_t a = 0; a < 7; a++) {
    for (size_t b = 0; b < 7; b++) {
      mock *k = mk(0);
      char id[TACK_ORDER_ID_MAX];
      submit(k, req("BTC-USD", TACK_SIDE_BUY, TACK_ORDER_LIMIT, 2, 100, 0), NULL, 1, id);
      uint32_t from = all[a], to = all[b];
      double ffrom = from == TACK_STATUS_PARTIAL ? 0.5 : from == TACK_STATUS_FILLED ? 2 : 0;
      if (from != TACK_STATUS_PENDING) {
        tack_order_update u = upd(id, "V1", from, 2, ffrom);
        assert_int_equal(tack_orders_on_update(k->m, &u, 2), 0);
      }
      assert_int_equal(get(k, id)->status, from);
      double fto = to == TACK_STATUS_PARTIAL ? 1 : to == TACK_STATUS_FILLED ? 2 : ffrom;
      tack_order_update u = upd(id, "V1", to, 2, fto);
      int want = tack_order_transition_ok(from, to) ? 0 : 1;
      assert_int_equal(tack_orders_on_update(k->m, &u, 3), want);
      assert_int_equal(get(k, id)->status, want == 0 ? to : from);
      assert_int_equal(stats(k).stale_updates, (uint64_t)want);
      assert_int_equal(k->backwards, 0);
      done(k);
    }
  }
}

static void test_skips_and_stale(void **state) {
  (void)state;
  mock *k = mk(0);
  char id[TACK_ORDER_ID_MAX];
  submit(k, req("BTC-USD", TACK_SIDE_BUY, TACK_ORDER_LIMIT, 1, 100, 0), NULL, 1, id);
  tack_order_update u = upd(id, "V1", TACK_STATUS_OPEN, 1, 0);
  assert_int_equal(tack_orders_on_update(k->m, &u, 2), 0);
  assert_int_equal(tack_orders_on_update(k->m, &u, 2), 1); /* OPEN again */
  u = upd(id, "V1", TACK_STATUS_PARTIAL, 1, 0.5);
  assert_int_equal(tack_orders_on_update(k->m, &u, 3), 0);
  assert_int_equal(tack_orders_on_update(k->m, &u, 3), 1); /* same filled */
  u = upd(id, "V1", TACK_STATUS_PARTIAL, 1, 0.3);
  assert_int_equal(tack_orders_on_update(k->m, &u, 3), 1); /* filled went back */
  u = upd(id, "V1", TACK_STATUS_OPEN, 1, 0.5);
  assert_int_equal(tack_orders_on_update(k->m, &u, 3), 1); /* OPEN after PARTIAL */
  u = upd(id, "V1", TACK_STATUS_PENDING, 1, 0.5);
  assert_int_equal(tack_orders_on_update(k->m, &u, 3), 1);
  u = upd(id, "V1", TACK_STATUS_PARTIAL, 1, 0.8);
  assert_int_equal(tack_orders_on_update(k->m, &u, 4), 0);
  assert_true(get(k, id)->venue_filled == 0.8);
  u = upd(id, "V1", TACK_STATUS_CANCELLED, 1, 0.5);
  assert_int_equal(tack_orders_on_update(k->m, &u, 4), 1); /* cumulative never decreases */
  u = upd(id, "V1", TACK_STATUS_FILLED, 1, 1);
  assert_int_equal(tack_orders_on_update(k->m, &u, 5), 0);
  u = upd(id, "V1", TACK_STATUS_CANCELLED, 1, 1);
  assert_int_equal(tack_orders_on_update(k->m, &u, 6), 1); /* after a final state */
  assert_int_equal(get(k, id)->status, TACK_STATUS_FILLED);
  assert_int_equal(stats(k).stale_updates, 7);
  assert_int_equal(stats(k).updates, 11);
  assert_int_equal(stats(k).filled, 1);
  assert_string_equal(get(k, id)->venue_id, "V1");

  /* Skipping states: PENDING straight to FILLED, to REJECTED with its
   * error, OPEN to EXPIRED. */
  char a[TACK_ORDER_ID_MAX], b[TACK_ORDER_ID_MAX], c[TACK_ORDER_ID_MAX];
  submit(k, req("BTC-USD", TACK_SIDE_SELL, TACK_ORDER_MARKET, 1, 0, 0), NULL, 7, a);
  submit(k, req("BTC-USD", TACK_SIDE_SELL, TACK_ORDER_MARKET, 1, 0, 0), NULL, 7, b);
  submit(k, req("BTC-USD", TACK_SIDE_SELL, TACK_ORDER_LIMIT, 1, 90, 0), NULL, 7, c);
  u = upd(a, "", TACK_STATUS_FILLED, 1, 1);
  assert_int_equal(tack_orders_on_update(k->m, &u, 8), 0);
  u = upd(b, "", TACK_STATUS_REJECTED, 1, 0);
  u.error = TACK_ENOFUNDS;
  tack_copy_text(u.reason, sizeof u.reason, "insufficient balance");
  assert_int_equal(tack_orders_on_update(k->m, &u, 8), 0);
  assert_int_equal(get(k, b)->error, TACK_ENOFUNDS);
  assert_string_equal(get(k, b)->reason, "insufficient balance");
  u = upd(c, "", TACK_STATUS_OPEN, 1, 0);
  assert_int_equal(tack_orders_on_update(k->m, &u, 8), 0);
  u = upd(c, "", TACK_STATUS_EXPIRED, 1, 0);
  assert_int_equal(tack_orders_on_update(k->m, &u, 9), 0);
  assert_int_equal(get(k, c)->status, TACK_STATUS_EXPIRED);
  tack_orders_stats s = stats(k);
  assert_int_equal(s.filled, 2);
  assert_int_equal(s.rejected, 1);
  assert_int_equal(s.expired, 1);
  assert_int_equal(tack_orders_live(k->m, NULL), 0);
  /* Each status change was persisted before it was acknowledged. */
  assert_int_equal(k->last_persist.status, TACK_STATUS_EXPIRED);
  assert_int_equal(k->backwards, 0);
  done(k);
}

static void test_malformed_messages(void **state) {
  (void)state;
  mock *k = mk(0);
  char id[TACK_ORDER_ID_MAX];
  submit(k, req("BTC-USD", TACK_SIDE_BUY, TACK_ORDER_LIMIT, 1, 100, 0), NULL, 1, id);
  tack_order_update bad[12];
  for (int i = 0; i < 12; i++)
    bad[i] = upd(id, "V1", TACK_STATUS_OPEN, 1, 0);
  bad[0].quantity = -1;
  bad[1].filled = NAN;
  bad[2].filled = 1.5; /* more than the quantity */
  bad[3].status = 0;
  bad[4].status = 8;
  bad[5].client_id[0] = 0;
  bad[5].venue_id[0] = 0;
  memset(bad[6].client_id, 'x', sizeof bad[6].client_id); /* no NUL */
  bad[7].fees = INFINITY;
  bad[8].avg_price = -3;
  memset(bad[9].reason, 'r', sizeof bad[9].reason);
  tack_copy_text(bad[10].symbol, sizeof bad[10].symbol, "ETH-USD"); /* not the order's */
  bad[11].side = TACK_SIDE_SELL;
  for (int i = 0; i < 12; i++) {
    if (tack_orders_on_update(k->m, &bad[i], 2) != TACK_EINVAL)
      fail_msg("bad update %d was not refused", i);
  }
  tack_fill bf[9];
  for (int i = 0; i < 9; i++)
    bf[i] = fil(id, "", "t1", 100, 0.5);
  bf[0].price = 0;
  bf[1].quantity = -0.5;
  bf[2].quantity = NAN;
  bf[3].fee = NAN;
  bf[4].trade_id[0] = 0;
  bf[5].client_id[0] = 0;
  memset(bf[6].fee_currency, 'u', sizeof bf[6].fee_currency);
  bf[7].side = TACK_SIDE_SELL;
  tack_copy_text(bf[8].symbol, sizeof bf[8].symbol, "ETH-USD");
  for (int i = 0; i < 9; i++) {
    if (tack_orders_on_fill(k->m, &bf[i], 2) != TACK_EINVAL)
      fail_msg("bad fill %d was not refused", i);
  }
  tack_orders_stats s = stats(k);
  assert_int_equal(s.bad_updates, 21);
  assert_int_equal(s.fills, 0);
  assert_int_equal(k->n_fills, 0);
  assert_int_equal(get(k, id)->status, TACK_STATUS_PENDING);
  assert_non_null(strstr(k->last_log, "malformed"));
  /* The same fill, well formed, is still booked: a refusal books nothing. */
  tack_fill ok = fil(id, "", "t1", 100, 0.5);
  assert_int_equal(tack_orders_on_fill(k->m, &ok, 3), 0);

  /* Malformed requests are refused before anything is persisted. */
  size_t persisted = k->n_persist;
  tack_order_request r[8];
  for (int i = 0; i < 8; i++)
    r[i] = req("BTC-USD", TACK_SIDE_BUY, TACK_ORDER_LIMIT, 1, 100, 0);
  r[0].quantity = 0;
  r[1].side = 3;
  r[2].limit_price = 0;
  r[3].type = TACK_ORDER_STOP; /* no stop price */
  r[4].symbol[0] = 0;
  r[5].quantity = INFINITY;
  r[6].tif = TACK_TIF_GTD; /* no expire_at */
  tack_copy_text(r[7].client_id, sizeof r[7].client_id, "has space");
  for (int i = 0; i < 8; i++)
    assert_int_equal(tack_orders_submit(k->m, &r[i], NULL, 4, NULL), TACK_EINVAL);
  tack_orders_submit_opts o = {TACK_ORIGIN_TRADER, 0, 0, 90, 110}; /* tp below sl for a buy */
  tack_order_request good = req("BTC-USD", TACK_SIDE_BUY, TACK_ORDER_LIMIT, 1, 100, 0);
  assert_int_equal(tack_orders_submit(k->m, &good, &o, 4, NULL), TACK_EINVAL);
  o = (tack_orders_submit_opts){9, 0, 0, 0, 0};
  assert_int_equal(tack_orders_submit(k->m, &good, &o, 4, NULL), TACK_EINVAL);
  assert_int_equal(k->n_persist, persisted);
  assert_int_equal(tack_orders_count(k->m), 1);
  done(k);
}

/* ------------------------------------------------------------------------ */
/* Submitting                                                                */
/* ------------------------------------------------------------------------ */

static void test_submit_writes_ahead(void **state) {
  (void)state;
  mock *k = mk_seq(0, 3, 41);
  char id[TACK_ORDER_ID_MAX];
  submit(k, req("BTC-USD", TACK_SIDE_BUY, TACK_ORDER_LIMIT, 1, 100, 0), NULL, 5 * NS, id);
  assert_string_equal(id, "T41");
  assert_string_equal(k->events, "PS");
  assert_int_equal(k->last_persist.status, TACK_STATUS_PENDING);
  assert_int_equal(k->last_persist.seq, 41);
  assert_int_equal(k->last_persist.attempts, 1);
  assert_int_equal(k->last_persist.origin, TACK_ORIGIN_TRADER);
  assert_int_equal(k->persist_next_seq, 42);
  assert_int_equal(k->n_sent, 1);
  assert_string_equal(k->sent[0].client_id, "T41");
  assert_int_equal(k->sent[0].ts, 5 * NS);
  assert_int_equal(k->changes, 1);
  assert_int_equal(tack_orders_next_seq(k->m), 42);
  const tack_order *o = get(k, "T41");
  assert_int_equal(o->status, TACK_STATUS_PENDING);
  assert_int_equal(o->created, 5 * NS);
  assert_ptr_equal(tack_orders_at(k->m, 0), o);
  assert_null(tack_orders_at(k->m, 1));

  /* An id of the caller's: used as given, and later ids stay clear of it. */
  tack_order_request r = req("BTC-USD", TACK_SIDE_BUY, TACK_ORDER_LIMIT, 1, 100, 0);
  tack_copy_text(r.client_id, sizeof r.client_id, "T90");
  assert_int_equal(tack_orders_submit(k->m, &r, NULL, 6, id), 0);
  assert_string_equal(id, "T90");
  assert_int_equal(tack_orders_next_seq(k->m), 91);
  /* Reusing an id is refused: nothing persisted, nothing sent. */
  size_t persisted = k->n_persist;
  assert_int_equal(tack_orders_submit(k->m, &r, NULL, 7, id), TACK_EEXIST);
  tack_copy_text(r.client_id, sizeof r.client_id, "T41");
  assert_int_equal(tack_orders_submit(k->m, &r, NULL, 7, id), TACK_EEXIST);
  assert_int_equal(k->n_persist, persisted);
  assert_int_equal(k->n_sent, 2);
  submit(k, req("BTC-USD", TACK_SIDE_BUY, TACK_ORDER_MARKET, 1, 0, 0), NULL, 8, id);
  assert_string_equal(id, "T91");
  assert_int_equal(stats(k).submitted, 3);
  done(k);
}

static void test_persist_failure_sends_nothing(void **state) {
  (void)state;
  mock *k = mk(0);
  k->persist_ok_left = 0;
  char id[TACK_ORDER_ID_MAX] = "unchanged";
  tack_order_request r = req("BTC-USD", TACK_SIDE_BUY, TACK_ORDER_LIMIT, 1, 100, 0);
  assert_int_equal(tack_orders_submit(k->m, &r, NULL, 1, id), TACK_EIO);
  assert_string_equal(id, "unchanged");
  assert_int_equal(k->n_sent, 0);
  assert_int_equal(tack_orders_count(k->m), 0);
  assert_null(tack_orders_get(k->m, "T1"));
  assert_int_equal(stats(k).submitted, 0);

  /* OCO: the second leg cannot be written, so neither is sent and the
   * first (written) is withdrawn. */
  k->persist_ok_left = 1;
  tack_order_request a = req("BTC-USD", TACK_SIDE_SELL, TACK_ORDER_LIMIT, 1, 110, 0);
  tack_order_request b = req("BTC-USD", TACK_SIDE_SELL, TACK_ORDER_LIMIT, 1, 120, 0);
  char ia[TACK_ORDER_ID_MAX], ib[TACK_ORDER_ID_MAX];
  assert_int_equal(tack_orders_submit_oco(k->m, &a, &b, NULL, 2, ia, ib), TACK_EIO);
  assert_int_equal(k->n_sent, 0);
  assert_int_equal(tack_orders_count(k->m), 1);
  assert_int_equal(tack_orders_at(k->m, 0)->status, TACK_STATUS_REJECTED);
  assert_int_equal(tack_orders_live(k->m, NULL), 0);

  /* A status change that cannot be written is not applied. */
  k->persist_ok_left = -1;
  char id2[TACK_ORDER_ID_MAX];
  submit(k, req("BTC-USD", TACK_SIDE_BUY, TACK_ORDER_LIMIT, 1, 100, 0), NULL, 3, id2);
  k->persist_ok_left = 0;
  tack_order_update u = upd(id2, "V", TACK_STATUS_OPEN, 1, 0);
  assert_int_equal(tack_orders_on_update(k->m, &u, 4), TACK_EIO);
  assert_int_equal(get(k, id2)->status, TACK_STATUS_PENDING);
  /* Nor a cancel: it is not sent. */
  assert_int_equal(tack_orders_cancel(k->m, id2, 4), TACK_EIO);
  assert_int_equal(k->n_cancels, 0);
  k->persist_ok_left = -1;
  assert_int_equal(tack_orders_on_update(k->m, &u, 5), 0);
  assert_int_equal(get(k, id2)->status, TACK_STATUS_OPEN);
  done(k);
}

static void test_send_refusal_is_rejected(void **state) {
  (void)state;
  mock *k = mk(0);
  k->send_rc = TACK_ENOTCONN;
  char id[TACK_ORDER_ID_MAX];
  submit(k, req("BTC-USD", TACK_SIDE_BUY, TACK_ORDER_LIMIT, 1, 100, 0), NULL, 1, id);
  const tack_order *o = get(k, id);
  assert_int_equal(o->status, TACK_STATUS_REJECTED);
  assert_int_equal(o->error, TACK_ENOTCONN);
  assert_string_equal(k->events, "PSP");
  assert_int_equal(k->last_persist.status, TACK_STATUS_REJECTED);
  assert_int_equal(k->last_persist.error, TACK_ENOTCONN);
  assert_int_equal(stats(k).rejected, 1);
  assert_int_equal(tack_orders_live(k->m, NULL), 0);
  done(k);
}

static void test_retry_same_id_and_max_attempts(void **state) {
  (void)state;
  mock *k = mk_seq(0, 3, 1);
  char id[TACK_ORDER_ID_MAX];
  submit(k, req("BTC-USD", TACK_SIDE_BUY, TACK_ORDER_LIMIT, 1, 100, 0), NULL, 1, id);
  assert_int_equal(tack_orders_retry(k->m, id, 2), 0);
  assert_int_equal(tack_orders_retry(k->m, id, 3), 0);
  assert_int_equal(get(k, id)->attempts, 3);
  assert_int_equal(k->last_persist.attempts, 3);
  assert_int_equal(k->n_sent, 3);
  for (size_t i = 0; i < 3; i++)
    assert_string_equal(k->sent[i].client_id, id);
  assert_string_equal(k->events, "PSPSPS"); /* each send written ahead */
  assert_int_equal(tack_orders_retry(k->m, id, 4), TACK_ERANGE);
  assert_int_equal(k->n_sent, 3);
  assert_int_equal(get(k, id)->status, TACK_STATUS_REJECTED);
  assert_int_equal(get(k, id)->error, TACK_ETIMEDOUT);
  assert_int_equal(stats(k).retries, 2);
  assert_int_equal(tack_orders_retry(k->m, id, 5), TACK_ESTATE);
  assert_int_equal(tack_orders_retry(k->m, "nope", 5), TACK_ENOENT);
  submit(k, req("BTC-USD", TACK_SIDE_BUY, TACK_ORDER_LIMIT, 1, 100, 0), NULL, 6, id);
  tack_order_update u = upd(id, "V", TACK_STATUS_OPEN, 1, 0);
  assert_int_equal(tack_orders_on_update(k->m, &u, 7), 0);
  assert_int_equal(tack_orders_retry(k->m, id, 8), TACK_ESTATE); /* acknowledged */
  /* A retry the adapter refuses: REJECTED. */
  submit(k, req("BTC-USD", TACK_SIDE_BUY, TACK_ORDER_LIMIT, 1, 100, 0), NULL, 9, id);
  k->send_rc = TACK_ENOTCONN;
  assert_int_equal(tack_orders_retry(k->m, id, 10), 0);
  assert_int_equal(get(k, id)->status, TACK_STATUS_REJECTED);
  done(k);

  /* max_attempts 1: no retry at all. */
  k = mk_seq(0, 1, 1);
  submit(k, req("BTC-USD", TACK_SIDE_BUY, TACK_ORDER_LIMIT, 1, 100, 0), NULL, 1, id);
  assert_int_equal(tack_orders_retry(k->m, id, 2), TACK_ERANGE);
  done(k);
}

static void test_new_refuses_bad_options(void **state) {
  (void)state;
  tack_orders *m = NULL;
  tack_orders_io io = {NULL,    io_persist, io_send,      io_cancel,
                       io_fill, io_changed, io_reconcile, io_log};
  tack_orders_opts opts = {"T", 1, 0, 3};
  const char *bad_prefix[] = {"", "has space", "under_score", "0123456789012345678901234"};
  for (int i = 0; i < 4; i++) {
    opts.prefix = bad_prefix[i];
    assert_int_equal(tack_orders_new(&opts, &io, &m), TACK_EINVAL);
    assert_null(m);
  }
  opts.prefix = "bot-1-ACC";
  opts.max_attempts = 0;
  assert_int_equal(tack_orders_new(&opts, &io, &m), TACK_EINVAL);
  opts.max_attempts = 1;
  io.fill = NULL;
  assert_int_equal(tack_orders_new(&opts, &io, &m), TACK_EINVAL);
  io.fill = io_fill;
  io.changed = NULL; /* optional */
  assert_int_equal(tack_orders_new(&opts, &io, &m), 0);
  tack_orders_free(m);
}

/* ------------------------------------------------------------------------ */
/* Fills                                                                     */
/* ------------------------------------------------------------------------ */

static void test_duplicate_fills_and_averages(void **state) {
  (void)state;
  mock *k = mk(0);
  char id[TACK_ORDER_ID_MAX];
  submit(k, req("BTC-USD", TACK_SIDE_BUY, TACK_ORDER_LIMIT, 2, 110, 0), NULL, 1, id);
  tack_fill f1 = fil(id, "", "t1", 100, 1.5);
  tack_fill f2 = fil(id, "", "t2", 104, 0.5);
  f2.fee = 0.03;
  assert_int_equal(tack_orders_on_fill(k->m, &f1, 2), 0);
  assert_int_equal(tack_orders_on_fill(k->m, &f1, 2), 1);
  assert_int_equal(tack_orders_on_fill(k->m, &f2, 3), 0);
  assert_int_equal(tack_orders_on_fill(k->m, &f1, 3), 1);
  assert_int_equal(tack_orders_on_fill(k->m, &f2, 3), 1);
  const tack_order *o = get(k, id);
  assert_true(o->filled == 2);
  assert_true(fabs(o->avg_price - 101) < 1e-12);
  assert_true(fabs(o->fees - 0.04) < 1e-12);
  assert_int_equal(o->status, TACK_STATUS_FILLED);
  assert_int_equal(k->n_fills, 2);
  /* The order io.fill saw is the record before the fill was counted. */
  assert_true(k->fills[0].order.filled == 0);
  assert_int_equal(k->fills[0].order.status, TACK_STATUS_PENDING);
  assert_true(k->fills[1].order.filled == 1.5);
  assert_int_equal(k->fills[1].order.status, TACK_STATUS_PARTIAL);
  tack_orders_stats s = stats(k);
  assert_int_equal(s.fills, 2);
  assert_int_equal(s.duplicate_fills, 3);
  /* tack_order_after_fill is how the manager counts. */
  tack_order after;
  tack_order_after_fill(&k->fills[1].order, &f2, &after);
  assert_true(after.filled == o->filled && after.avg_price == o->avg_price &&
              after.fees == o->fees && after.status == o->status);
  /* A fill moving the status was persisted; the FILLED record is durable. */
  assert_int_equal(k->last_persist.status, TACK_STATUS_FILLED);
  assert_true(k->last_persist.filled == 2);
  /* A seeded trade id is a duplicate too. */
  assert_int_equal(tack_orders_seed_fill(k->m, "t3"), 0);
  assert_int_equal(tack_orders_seed_fill(k->m, "t3"), 0);
  tack_fill f3 = fil(id, "", "t3", 100, 0.1);
  assert_int_equal(tack_orders_on_fill(k->m, &f3, 4), 1);
  done(k);
}

static void test_fill_by_venue_id_and_before_open(void **state) {
  (void)state;
  mock *k = mk(0);
  char a[TACK_ORDER_ID_MAX], b[TACK_ORDER_ID_MAX];
  submit(k, req("BTC-USD", TACK_SIDE_BUY, TACK_ORDER_LIMIT, 1, 100, 0), NULL, 1, a);
  submit(k, req("BTC-USD", TACK_SIDE_SELL, TACK_ORDER_LIMIT, 1, 120, 0), NULL, 1, b);
  tack_order_update u = upd(a, "VA", TACK_STATUS_OPEN, 1, 0);
  assert_int_equal(tack_orders_on_update(k->m, &u, 2), 0);
  tack_fill f = fil("", "VA", "t1", 100, 0.25);
  assert_int_equal(tack_orders_on_fill(k->m, &f, 3), 0);
  assert_true(get(k, a)->filled == 0.25);
  assert_string_equal(k->fills[0].order.req.client_id, a);

  /* A fill before the acknowledgement: counted, PARTIAL; the late OPEN is
   * stale; the PARTIAL with the venue's cumulative is applied. */
  f = fil(b, "VB", "t2", 120, 0.5);
  assert_int_equal(tack_orders_on_fill(k->m, &f, 4), 0);
  assert_int_equal(get(k, b)->status, TACK_STATUS_PARTIAL);
  assert_string_equal(get(k, b)->venue_id, "VB"); /* learnt from the fill */
  u = upd(b, "VB", TACK_STATUS_OPEN, 1, 0);
  assert_int_equal(tack_orders_on_update(k->m, &u, 5), 1);
  u = upd(b, "VB", TACK_STATUS_PARTIAL, 1, 0.5);
  assert_int_equal(tack_orders_on_update(k->m, &u, 5), 0);
  f = fil("", "VB", "t3", 120, 0.5);
  assert_int_equal(tack_orders_on_fill(k->m, &f, 6), 0);
  assert_int_equal(get(k, b)->status, TACK_STATUS_FILLED);
  done(k);
}

/* A fill naming only a venue id that no order has yet is kept, and booked
 * as soon as an update binds that venue id. */
static void test_fill_waits_for_its_venue_id(void **state) {
  (void)state;
  mock *k = mk(0);
  char id[TACK_ORDER_ID_MAX];
  submit(k, req("BTC-USD", TACK_SIDE_BUY, TACK_ORDER_LIMIT, 1, 100, 0), NULL, 1, id);
  tack_fill f = fil("", "V9", "t1", 100, 0.4);
  assert_int_equal(tack_orders_on_fill(k->m, &f, 2), TACK_ENOENT);
  assert_int_equal(tack_orders_on_fill(k->m, &f, 2), 1); /* kept: a duplicate */
  assert_int_equal(k->reconciles, 1);
  assert_non_null(strstr(k->why, "t1"));
  assert_int_equal(k->n_fills, 0);
  tack_order_update u = upd(id, "V9", TACK_STATUS_OPEN, 1, 0);
  assert_int_equal(tack_orders_on_update(k->m, &u, 3), 0);
  assert_int_equal(k->n_fills, 1);
  assert_true(get(k, id)->filled == 0.4);
  assert_int_equal(get(k, id)->status, TACK_STATUS_PARTIAL);
  tack_orders_stats s = stats(k);
  assert_int_equal(s.unknown_fills, 1);
  assert_int_equal(s.fills, 1);
  /* Nothing is left for reconciliation to book as external. */
  tack_orders_reconcile_begin(k->m, 4);
  u = upd(id, "V9", TACK_STATUS_PARTIAL, 1, 0.4);
  tack_orders_on_update(k->m, &u, 4);
  tack_orders_reconcile_end(k->m, 5);
  assert_int_equal(k->n_fills, 1);
  assert_int_equal(stats(k).external_fills, 0);
  done(k);
}

static void test_fill_booking_failure(void **state) {
  (void)state;
  mock *k = mk(0);
  char id[TACK_ORDER_ID_MAX];
  submit(k, req("BTC-USD", TACK_SIDE_BUY, TACK_ORDER_LIMIT, 1, 100, 0), NULL, 1, id);
  tack_fill f = fil(id, "", "t1", 100, 0.4);
  k->fill_rc = TACK_EIO;
  assert_int_equal(tack_orders_on_fill(k->m, &f, 2), TACK_EIO);
  assert_true(get(k, id)->filled == 0);
  assert_int_equal(stats(k).fills, 0);
  k->fill_rc = 0;
  assert_int_equal(tack_orders_on_fill(k->m, &f, 3), 0); /* offered again: booked */
  assert_int_equal(tack_orders_on_fill(k->m, &f, 3), 1);
  assert_true(get(k, id)->filled == 0.4);
  done(k);
}

/* ------------------------------------------------------------------------ */
/* Unknown orders and reconciliation                                         */
/* ------------------------------------------------------------------------ */

static void test_unknown_update_kept_and_settled(void **state) {
  (void)state;
  mock *k = mk(0);
  tack_order_update u = upd("X1", "VX1", TACK_STATUS_OPEN, 1, 0);
  tack_copy_text(u.symbol, sizeof u.symbol, "BTC-USD");
  assert_int_equal(tack_orders_on_update(k->m, &u, 1), TACK_ENOENT);
  assert_int_equal(k->reconciles, 1);
  assert_non_null(strstr(k->why, "X1"));
  u = upd("X2", "", TACK_STATUS_PARTIAL, 1, 0.5);
  assert_int_equal(tack_orders_on_update(k->m, &u, 1), TACK_ENOENT);
  assert_int_equal(k->reconciles, 1); /* asked once until reconcile_end */
  assert_int_equal(stats(k).unknown_updates, 2);
  assert_int_equal(tack_orders_count(k->m), 0);
  tack_orders_reconcile_begin(k->m, 2);
  assert_int_equal(tack_orders_reconcile_end(k->m, 3), 0);
  assert_non_null(strstr(k->last_log, "reconciliation")); /* the summary */
  assert_int_equal(tack_orders_count(k->m), 0);
  /* Kept updates went: another reconciliation does not see them again,
   * and a new unknown update asks again. */
  size_t logs = k->n_logs;
  tack_orders_reconcile_begin(k->m, 4);
  tack_orders_reconcile_end(k->m, 4);
  assert_int_equal(k->n_logs, logs + 2);
  assert_int_equal(tack_orders_on_update(k->m, &u, 5), TACK_ENOENT);
  assert_int_equal(k->reconciles, 2);
  /* End without begin does nothing. */
  assert_int_equal(tack_orders_reconcile_end(k->m, 6), 0);
  done(k);
}

/* An update that named only a venue id nobody had is applied once an
 * order learns that id. */
static void test_unknown_update_applied_when_bound(void **state) {
  (void)state;
  mock *k = mk(0);
  char id[TACK_ORDER_ID_MAX];
  submit(k, req("BTC-USD", TACK_SIDE_BUY, TACK_ORDER_LIMIT, 1, 100, 0), NULL, 1, id);
  tack_order_update u = upd("", "V5", TACK_STATUS_CANCELLED, 1, 0.25);
  assert_int_equal(tack_orders_on_update(k->m, &u, 2), TACK_ENOENT);
  tack_fill f = fil(id, "V5", "t1", 100, 0.25);
  assert_int_equal(tack_orders_on_fill(k->m, &f, 3), 0);
  assert_int_equal(get(k, id)->status, TACK_STATUS_CANCELLED);
  assert_true(get(k, id)->filled == 0.25);
  done(k);
}

static void test_unknown_fill_is_external_after_reconcile(void **state) {
  (void)state;
  mock *k = mk(0);
  tack_fill f = fil("Z1", "VZ", "tz", 50, 2);
  tack_copy_text(f.symbol, sizeof f.symbol, "ETH-USD");
  assert_int_equal(tack_orders_on_fill(k->m, &f, 1), TACK_ENOENT);
  assert_int_equal(k->n_fills, 0);
  assert_int_equal(k->reconciles, 1);
  tack_orders_reconcile_begin(k->m, 2);
  /* The venue reports it again during reconciliation: still one. */
  assert_int_equal(tack_orders_on_fill(k->m, &f, 2), 1);
  k->fill_rc = TACK_EIO; /* booking fails: kept for the next round */
  assert_int_equal(tack_orders_reconcile_end(k->m, 3), 0);
  assert_int_equal(k->n_fills, 0);
  k->fill_rc = 0;
  tack_orders_reconcile_begin(k->m, 4);
  tack_orders_reconcile_end(k->m, 5);
  assert_int_equal(k->n_fills, 1);
  assert_false(k->fills[0].has_order);
  assert_string_equal(k->fills[0].f.trade_id, "tz");
  tack_orders_stats s = stats(k);
  assert_int_equal(s.external_fills, 1);
  assert_int_equal(s.unknown_fills, 1);
  assert_int_equal(tack_orders_on_fill(k->m, &f, 6), 1); /* booked: a duplicate now */
  done(k);
}

static void test_reconcile_settles_unreported(void **state) {
  (void)state;
  mock *k = mk(0);
  char a[TACK_ORDER_ID_MAX], b[TACK_ORDER_ID_MAX], c[TACK_ORDER_ID_MAX], d[TACK_ORDER_ID_MAX],
      e[TACK_ORDER_ID_MAX], h[TACK_ORDER_ID_MAX];
  submit(k, req("BTC-USD", TACK_SIDE_BUY, TACK_ORDER_LIMIT, 1, 100, 0), NULL, 1, a);
  submit(k, req("BTC-USD", TACK_SIDE_BUY, TACK_ORDER_LIMIT, 1, 100, 0), NULL, 1, b);
  submit(k, req("BTC-USD", TACK_SIDE_BUY, TACK_ORDER_LIMIT, 1, 100, 0), NULL, 1, c);
  submit(k, req("BTC-USD", TACK_SIDE_BUY, TACK_ORDER_LIMIT, 1, 100, 0), NULL, 1, d);
  submit(k, req("BTC-USD", TACK_SIDE_BUY, TACK_ORDER_STOP, 1, 0, 150), NULL, 1, h);
  tack_order_update u = upd(a, "VA", TACK_STATUS_OPEN, 1, 0);
  tack_orders_on_update(k->m, &u, 2);
  u = upd(b, "VB", TACK_STATUS_OPEN, 1, 0);
  tack_orders_on_update(k->m, &u, 2);
  tack_fill f = fil(d, "VD", "td", 100, 0.4);
  tack_orders_on_fill(k->m, &f, 2);

  tack_orders_reconcile_begin(k->m, 10);
  u = upd(a, "VA", TACK_STATUS_OPEN, 1, 0); /* still open: stale, but seen */
  assert_int_equal(tack_orders_on_update(k->m, &u, 11), 1);
  submit(k, req("BTC-USD", TACK_SIDE_BUY, TACK_ORDER_LIMIT, 1, 100, 0), NULL, 11, e);
  assert_int_equal(tack_orders_reconcile_end(k->m, 12), 3);
  assert_int_equal(get(k, a)->status, TACK_STATUS_OPEN);
  assert_int_equal(get(k, b)->status, TACK_STATUS_CANCELLED);
  assert_string_equal(get(k, b)->reason, "not open at the venue");
  assert_int_equal(get(k, c)->status, TACK_STATUS_REJECTED);
  assert_string_equal(get(k, c)->reason, "never reached the venue");
  assert_int_equal(get(k, d)->status, TACK_STATUS_CANCELLED);
  assert_true(get(k, d)->filled == 0.4);
  assert_int_equal(get(k, e)->status, TACK_STATUS_PENDING); /* sent after begin */
  assert_int_equal(get(k, h)->status, TACK_STATUS_OPEN);    /* held in the host */
  assert_int_equal(stats(k).reconciled, 3);
  assert_int_equal(k->records[get(k, c)->seq].status, TACK_STATUS_REJECTED); /* persisted */

  /* A live order whose fills cover it is settled FILLED. */
  char g[TACK_ORDER_ID_MAX];
  submit(k, req("BTC-USD", TACK_SIDE_SELL, TACK_ORDER_LIMIT, 1, 100, 0), NULL, 20, g);
  u = upd(g, "VG", TACK_STATUS_FILLED, 1, 1);
  tack_orders_on_update(k->m, &u, 21); /* final: not settled again */
  tack_orders_reconcile_begin(k->m, 22);
  assert_int_equal(tack_orders_reconcile_end(k->m, 23), 2); /* a and e */
  assert_int_equal(get(k, g)->status, TACK_STATUS_FILLED);
  assert_int_equal(k->backwards, 0);
  done(k);
}

/* ------------------------------------------------------------------------ */
/* Cancelling                                                                */
/* ------------------------------------------------------------------------ */

static void test_cancel_and_cancel_all(void **state) {
  (void)state;
  mock *k = mk(0);
  char a[TACK_ORDER_ID_MAX], b[TACK_ORDER_ID_MAX], c[TACK_ORDER_ID_MAX], d[TACK_ORDER_ID_MAX],
      h[TACK_ORDER_ID_MAX];
  submit(k, req("BTC-USD", TACK_SIDE_BUY, TACK_ORDER_LIMIT, 1, 100, 0), NULL, 1, a);
  submit(k, req("BTC-USD", TACK_SIDE_SELL, TACK_ORDER_LIMIT, 1, 120, 0), NULL, 1, b);
  submit(k, req("ETH-USD", TACK_SIDE_BUY, TACK_ORDER_LIMIT, 1, 10, 0), NULL, 1, c);
  submit(k, req("BTC-USD", TACK_SIDE_BUY, TACK_ORDER_MARKET, 1, 0, 0), NULL, 1, d);
  submit(k, req("BTC-USD", TACK_SIDE_SELL, TACK_ORDER_STOP, 1, 0, 90), NULL, 1, h);
  tack_order_update u = upd(a, "VA", TACK_STATUS_OPEN, 1, 0);
  tack_orders_on_update(k->m, &u, 2);
  u = upd(d, "VD", TACK_STATUS_FILLED, 1, 1);
  tack_orders_on_update(k->m, &u, 2);

  assert_int_equal(tack_orders_cancel(k->m, "nope", 3), TACK_ENOENT);
  assert_int_equal(tack_orders_cancel(k->m, d, 3), TACK_ESTATE);
  assert_int_equal(tack_orders_live(k->m, "BTC-USD"), 3);
  assert_int_equal(tack_orders_live(k->m, NULL), 4);
  assert_int_equal(tack_orders_cancel_all(k->m, "BTC-USD", 3), 3);
  assert_int_equal(k->n_cancels, 2); /* the held stop needs no venue */
  assert_string_equal(k->cancels[0], a);
  assert_string_equal(k->cancels[1], b);
  assert_int_equal(get(k, h)->status, TACK_STATUS_CANCELLED);
  assert_true(get(k, a)->flags & TACK_ORDERS_CANCEL_ASKED);
  assert_int_equal(get(k, a)->status, TACK_STATUS_OPEN); /* until the venue says so */
  /* Asked again (a kill switch repeats itself), ETH too. */
  assert_int_equal(tack_orders_cancel_all(k->m, NULL, 4), 3);
  assert_int_equal(k->n_cancels, 5);
  u = upd(a, "VA", TACK_STATUS_CANCELLED, 1, 0);
  tack_orders_on_update(k->m, &u, 5);
  assert_int_equal(tack_orders_cancel(k->m, a, 6), TACK_ESTATE);
  assert_int_equal(tack_orders_live(k->m, "BTC-USD"), 1);
  /* The adapter refusing a cancel is an error for the caller. */
  k->cancel_rc = TACK_ENOTCONN;
  assert_int_equal(tack_orders_cancel(k->m, b, 7), TACK_ENOTCONN);
  done(k);
}

/* ------------------------------------------------------------------------ */
/* Held stops                                                                */
/* ------------------------------------------------------------------------ */

static void test_held_stop_on_price(void **state) {
  (void)state;
  mock *k = mk(0);
  char id[TACK_ORDER_ID_MAX];
  tack_orders_submit_opts o = {TACK_ORIGIN_STRATEGY, 0, 0, 0, 0};
  submit(k, req("BTC-USD", TACK_SIDE_BUY, TACK_ORDER_STOP, 1, 0, 100), &o, 1, id);
  const tack_order *p = get(k, id);
  assert_int_equal(p->held, 1);
  assert_int_equal(p->status, TACK_STATUS_OPEN);
  assert_int_equal(k->n_sent, 0);
  assert_string_equal(k->events, "P");
  assert_true(tack_orders_pending_quantity(k->m, "BTC-USD") == 0);
  tack_orders_on_price(k->m, "BTC-USD", 99.99, 2);
  tack_orders_on_price(k->m, "ETH-USD", 200, 2);
  tack_orders_on_price(k->m, "BTC-USD", NAN, 2);
  assert_int_equal(k->n_sent, 0);
  tack_orders_on_price(k->m, "BTC-USD", 100, 3);
  assert_int_equal(k->n_sent, 1);
  assert_string_equal(k->events, "PPPS"); /* child, then the held one, then the send */
  tack_order_request *c = &k->sent[0];
  assert_string_equal(c->client_id, "T2");
  assert_int_equal(c->type, TACK_ORDER_MARKET);
  assert_int_equal(c->side, TACK_SIDE_BUY);
  assert_true(c->quantity == 1);
  assert_true(c->stop_price == 0);
  const tack_order *child = get(k, "T2");
  assert_int_equal(child->link_kind, TACK_LINK_TRIGGERED);
  assert_string_equal(child->link, id);
  assert_int_equal(child->origin, TACK_ORIGIN_EMULATED);
  p = get(k, id);
  assert_int_equal(p->held, 2);
  assert_int_equal(stats(k).emulated_triggers, 1);
  tack_orders_on_price(k->m, "BTC-USD", 101, 4);
  assert_int_equal(k->n_sent, 1);                         /* triggers once */
  assert_int_equal(tack_orders_live(k->m, "BTC-USD"), 1); /* the child stands for it */

  /* The held order mirrors its child; the fill is booked once, on the child. */
  tack_order_update u = upd("T2", "V2", TACK_STATUS_OPEN, 1, 0);
  tack_orders_on_update(k->m, &u, 5);
  tack_fill f = fil("T2", "V2", "t1", 100.5, 0.25);
  assert_int_equal(tack_orders_on_fill(k->m, &f, 6), 0);
  assert_int_equal(k->n_fills, 1);
  assert_string_equal(k->fills[0].order.req.client_id, "T2");
  p = get(k, id);
  assert_int_equal(p->status, TACK_STATUS_PARTIAL);
  assert_true(p->filled == 0.25 && p->avg_price == 100.5);
  assert_true(tack_orders_pending_quantity(k->m, "BTC-USD") == 0.75);
  f = fil("T2", "V2", "t2", 100.5, 0.75);
  tack_orders_on_fill(k->m, &f, 7);
  p = get(k, id);
  assert_int_equal(p->status, TACK_STATUS_FILLED);
  assert_true(p->filled == 1);
  assert_int_equal(k->records[p->seq].status, TACK_STATUS_FILLED);
  assert_int_equal(tack_orders_live(k->m, NULL), 0);
  assert_int_equal(k->backwards, 0);

  /* Cancelling a triggered stop cancels its child. */
  submit(k, req("BTC-USD", TACK_SIDE_SELL, TACK_ORDER_STOP, 1, 0, 90), &o, 8, id);
  tack_orders_on_price(k->m, "BTC-USD", 89, 9);
  const char *child_id = k->sent[k->n_sent - 1].client_id;
  assert_int_equal(tack_orders_cancel(k->m, id, 10), 0);
  assert_string_equal(k->cancels[k->n_cancels - 1], child_id);
  u = upd(child_id, "V9", TACK_STATUS_CANCELLED, 1, 0);
  tack_orders_on_update(k->m, &u, 11);
  assert_int_equal(get(k, id)->status, TACK_STATUS_CANCELLED);
  done(k);
}

static void test_held_stop_on_bar(void **state) {
  (void)state;
  mock *k = mk(0);
  char buy[TACK_ORDER_ID_MAX], sell[TACK_ORDER_ID_MAX];
  submit(k, req("BTC-USD", TACK_SIDE_BUY, TACK_ORDER_STOP, 1, 0, 100), NULL, 1, buy);
  submit(k, req("BTC-USD", TACK_SIDE_SELL, TACK_ORDER_STOP, 2, 0, 95), NULL, 1, sell);
  tack_bar bar = {0, 97, 99.5, 95.5, 98, 10, 60, TACK_BAR_CLOSED};
  tack_orders_on_bar(k->m, "BTC-USD", &bar, 2);
  assert_int_equal(k->n_sent, 0);
  bar.high = 100.5; /* the high reaches the buy stop; the low stays above the sell */
  tack_orders_on_bar(k->m, "ETH-USD", &bar, 3);
  assert_int_equal(k->n_sent, 0);
  tack_orders_on_bar(k->m, "BTC-USD", &bar, 3);
  assert_int_equal(k->n_sent, 1);
  assert_int_equal(k->sent[0].side, TACK_SIDE_BUY);
  assert_int_equal(get(k, buy)->held, 2);
  assert_int_equal(get(k, sell)->held, 1);
  bar.low = 95; /* exactly at the stop */
  tack_orders_on_bar(k->m, "BTC-USD", &bar, 4);
  assert_int_equal(k->n_sent, 2);
  assert_int_equal(k->sent[1].side, TACK_SIDE_SELL);
  assert_true(k->sent[1].quantity == 2);
  assert_int_equal(get(k, sell)->held, 2);
  assert_non_null(strstr(get(k, sell)->reason, "95"));
  done(k);
}

static void test_stop_limit_and_native_stops(void **state) {
  (void)state;
  mock *k = mk(0);
  char id[TACK_ORDER_ID_MAX];
  tack_order_request r = req("BTC-USD", TACK_SIDE_SELL, TACK_ORDER_STOP_LIMIT, 1, 94.5, 95);
  r.tif = TACK_TIF_GTC;
  r.flags = TACK_ORDER_REDUCE_ONLY;
  submit(k, r, NULL, 1, id);
  tack_orders_on_price(k->m, "BTC-USD", 94.9, 2);
  assert_int_equal(k->n_sent, 1);
  assert_int_equal(k->sent[0].type, TACK_ORDER_LIMIT);
  assert_true(k->sent[0].limit_price == 94.5);
  assert_true(k->sent[0].stop_price == 0);
  assert_int_equal(k->sent[0].tif, TACK_TIF_GTC);
  assert_int_equal(k->sent[0].flags, TACK_ORDER_REDUCE_ONLY);
  done(k);

  /* A venue with stop orders gets them as they are. */
  k = mk(TACK_CAP_STOP_ORDERS);
  submit(k, req("BTC-USD", TACK_SIDE_SELL, TACK_ORDER_STOP, 1, 0, 95), NULL, 1, id);
  assert_int_equal(k->n_sent, 1);
  assert_int_equal(k->sent[0].type, TACK_ORDER_STOP);
  assert_int_equal(get(k, id)->held, 0);
  assert_int_equal(get(k, id)->status, TACK_STATUS_PENDING);
  tack_orders_on_price(k->m, "BTC-USD", 90, 2);
  assert_int_equal(k->n_sent, 1);
  assert_true(tack_orders_pending_quantity(k->m, "BTC-USD") == 0); /* not triggered yet */
  done(k);
}

/* ------------------------------------------------------------------------ */
/* OCO and brackets                                                          */
/* ------------------------------------------------------------------------ */

static void test_oco_cancels_the_other_leg(void **state) {
  (void)state;
  mock *k = mk(TACK_CAP_STOP_ORDERS | TACK_CAP_OCO);
  char a[TACK_ORDER_ID_MAX], b[TACK_ORDER_ID_MAX];
  tack_order_request ra = req("BTC-USD", TACK_SIDE_SELL, TACK_ORDER_LIMIT, 1, 110, 0);
  tack_order_request rb = req("BTC-USD", TACK_SIDE_SELL, TACK_ORDER_STOP, 1, 0, 90);
  assert_int_equal(tack_orders_submit_oco(k->m, &ra, &rb, NULL, 1, a, b), 0);
  assert_string_equal(k->events, "PPSS"); /* both written before either is sent */
  assert_int_equal(get(k, a)->link_kind, TACK_LINK_OCO);
  assert_string_equal(get(k, a)->link, b);
  assert_string_equal(get(k, b)->link, a);
  assert_true(tack_orders_pending_quantity(k->m, "BTC-USD") == -1); /* the stop waits */
  tack_fill f = fil(a, "VA", "t1", 110, 0.3);
  assert_int_equal(tack_orders_on_fill(k->m, &f, 2), 0);
  assert_int_equal(k->n_cancels, 1);
  assert_string_equal(k->cancels[0], b);
  assert_true(get(k, b)->flags & TACK_ORDERS_CANCEL_ASKED);
  f = fil(a, "VA", "t2", 110, 0.3);
  tack_orders_on_fill(k->m, &f, 3);
  assert_int_equal(k->n_cancels, 1); /* asked once */
  assert_int_equal(stats(k).oco_cancels, 1);
  done(k);

  /* Emulated stop leg: cancelled in the host at once; and the other way
   * round, a triggered leg's fill cancels the limit leg. */
  k = mk(0);
  assert_int_equal(tack_orders_submit_oco(k->m, &ra, &rb, NULL, 1, a, b), 0);
  assert_int_equal(k->n_sent, 1);
  f = fil(a, "VA", "t1", 110, 0.1);
  tack_orders_on_fill(k->m, &f, 2);
  assert_int_equal(k->n_cancels, 0);
  assert_int_equal(get(k, b)->status, TACK_STATUS_CANCELLED);
  done(k);

  k = mk(0);
  assert_int_equal(tack_orders_submit_oco(k->m, &ra, &rb, NULL, 1, a, b), 0);
  tack_orders_on_price(k->m, "BTC-USD", 89, 2);
  const char *child = k->sent[1].client_id;
  f = fil(child, "VC", "t1", 89, 1);
  assert_int_equal(tack_orders_on_fill(k->m, &f, 3), 0);
  assert_int_equal(k->n_cancels, 1);
  assert_string_equal(k->cancels[0], a);
  assert_int_equal(get(k, b)->status, TACK_STATUS_FILLED);
  /* A bracket cannot be an OCO leg. */
  tack_orders_submit_opts o = {TACK_ORIGIN_TRADER, 0, 0, 120, 80};
  assert_int_equal(tack_orders_submit_oco(k->m, &ra, &rb, &o, 4, a, b), TACK_EINVAL);
  done(k);
}

static void test_bracket_exits_follow_filled_quantity(void **state) {
  (void)state;
  mock *k = mk(0);
  char id[TACK_ORDER_ID_MAX];
  tack_orders_submit_opts o = {TACK_ORIGIN_TRADER, 0, 0, 110, 90};
  submit(k, req("BTC-USD", TACK_SIDE_BUY, TACK_ORDER_LIMIT, 2, 100, 0), &o, 1, id);
  assert_int_equal(get(k, id)->link_kind, TACK_LINK_BRACKET_ENTRY);
  tack_order_update u = upd(id, "VE", TACK_STATUS_OPEN, 2, 0);
  tack_orders_on_update(k->m, &u, 2);
  tack_fill f = fil(id, "VE", "t1", 100, 1.5);
  tack_orders_on_fill(k->m, &f, 3);
  assert_int_equal(k->n_sent, 1); /* not final yet */
  u = upd(id, "VE", TACK_STATUS_CANCELLED, 2, 1.5);
  tack_orders_on_update(k->m, &u, 4);
  assert_int_equal(tack_orders_count(k->m), 3);
  assert_int_equal(k->n_sent, 2); /* the take profit; the stop is held */
  const tack_order *tp = tack_orders_at(k->m, 1), *sl = tack_orders_at(k->m, 2);
  assert_int_equal(tp->req.type, TACK_ORDER_LIMIT);
  assert_int_equal(tp->req.side, TACK_SIDE_SELL);
  assert_true(tp->req.quantity == 1.5);
  assert_true(tp->req.limit_price == 110);
  assert_int_equal(tp->link_kind, TACK_LINK_BRACKET_TP);
  assert_string_equal(tp->link, id);
  assert_int_equal(tp->origin, TACK_ORIGIN_PROTECT);
  assert_int_equal(sl->req.type, TACK_ORDER_STOP);
  assert_true(sl->req.quantity == 1.5);
  assert_true(sl->req.stop_price == 90);
  assert_int_equal(sl->held, 1);
  assert_int_equal(sl->link_kind, TACK_LINK_BRACKET_SL);
  assert_true(get(k, id)->flags & TACK_ORDERS_FOLLOWED);
  assert_true(tack_orders_pending_quantity(k->m, "BTC-USD") == 0); /* exits are protection */
  /* The take profit filling cancels the stop. */
  char tp_id[TACK_ORDER_ID_MAX], sl_id[TACK_ORDER_ID_MAX];
  tack_copy_text(tp_id, sizeof tp_id, tp->req.client_id);
  tack_copy_text(sl_id, sizeof sl_id, sl->req.client_id);
  f = fil(tp_id, "VT", "t2", 110, 0.5);
  tack_orders_on_fill(k->m, &f, 5);
  assert_int_equal(get(k, sl_id)->status, TACK_STATUS_CANCELLED);
  done(k);

  /* FILLED reported before the fills: the exits wait for them. */
  k = mk(TACK_CAP_STOP_ORDERS);
  submit(k, req("BTC-USD", TACK_SIDE_SELL, TACK_ORDER_MARKET, 1, 0, 0),
         &(tack_orders_submit_opts){TACK_ORIGIN_TRADER, 0, 0, 90, 0}, 1, id);
  u = upd(id, "VE", TACK_STATUS_FILLED, 1, 1);
  tack_orders_on_update(k->m, &u, 2);
  assert_int_equal(tack_orders_count(k->m), 1);
  f = fil(id, "VE", "t1", 100, 0.6);
  tack_orders_on_fill(k->m, &f, 3);
  assert_int_equal(tack_orders_count(k->m), 1);
  f = fil(id, "VE", "t2", 101, 0.4);
  tack_orders_on_fill(k->m, &f, 4);
  assert_int_equal(tack_orders_count(k->m), 2); /* only a take profit was asked for */
  const tack_order *x = tack_orders_at(k->m, 1);
  assert_int_equal(x->req.side, TACK_SIDE_BUY);
  assert_true(x->req.quantity == 1);
  assert_true(x->req.limit_price == 90);
  /* A late fill beyond the exits is warned about, and no second exits. */
  f = fil(id, "VE", "t3", 101, 0.1);
  tack_orders_on_fill(k->m, &f, 5);
  assert_int_equal(tack_orders_count(k->m), 2);
  done(k);

  /* An entry that never filled has no exits. */
  k = mk(0);
  submit(k, req("BTC-USD", TACK_SIDE_BUY, TACK_ORDER_LIMIT, 1, 100, 0), &o, 1, id);
  u = upd(id, "VE", TACK_STATUS_CANCELLED, 1, 0);
  tack_orders_on_update(k->m, &u, 2);
  assert_int_equal(tack_orders_count(k->m), 1);
  done(k);
}

/* ------------------------------------------------------------------------ */
/* Timeouts                                                                  */
/* ------------------------------------------------------------------------ */

static void test_timeouts(void **state) {
  (void)state;
  mock *k = mk(0);
  char id[TACK_ORDER_ID_MAX];
  tack_orders_submit_opts o = {TACK_ORIGIN_STRATEGY, 5 * NS, TACK_ORDERS_REPLACE_MARKET, 0, 0};
  submit(k, req("BTC-USD", TACK_SIDE_BUY, TACK_ORDER_LIMIT, 1, 100, 0), &o, 0, id);
  tack_orders_tick(k->m, 4 * NS);
  assert_int_equal(k->n_cancels, 0);
  tack_orders_tick(k->m, 5 * NS);
  assert_int_equal(k->n_cancels, 1);
  assert_string_equal(k->cancels[0], id);
  assert_true(get(k, id)->flags & TACK_ORDERS_TIMED_OUT);
  assert_true(k->last_persist.flags & TACK_ORDERS_TIMED_OUT); /* written before the cancel */
  assert_int_equal(stats(k).timeouts, 1);
  tack_orders_tick(k->m, 6 * NS);
  assert_int_equal(k->n_cancels, 1);
  tack_fill f = fil(id, "V1", "t1", 100, 0.4);
  tack_orders_on_fill(k->m, &f, 6 * NS);
  tack_order_update u = upd(id, "V1", TACK_STATUS_CANCELLED, 1, 0.4);
  tack_orders_on_update(k->m, &u, 7 * NS);
  assert_int_equal(k->n_sent, 2);
  tack_order_request *r = &k->sent[1];
  assert_int_equal(r->type, TACK_ORDER_MARKET);
  assert_int_equal(r->tif, TACK_TIF_IOC);
  assert_int_equal(r->side, TACK_SIDE_BUY);
  assert_true(fabs(r->quantity - 0.6) < 1e-12);
  const tack_order *rep = get(k, r->client_id);
  assert_int_equal(rep->link_kind, TACK_LINK_REPLACES);
  assert_string_equal(rep->link, id);
  assert_int_equal(rep->origin, TACK_ORIGIN_STRATEGY);
  assert_true(get(k, id)->flags & TACK_ORDERS_FOLLOWED);
  u = upd(id, "V1", TACK_STATUS_CANCELLED, 1, 0.4);
  tack_orders_on_update(k->m, &u, 8 * NS);
  assert_int_equal(k->n_sent, 2);
  done(k);

  /* Cancel only; an owner's cancel; and a timed-out order that filled. */
  k = mk(0);
  char a[TACK_ORDER_ID_MAX], b[TACK_ORDER_ID_MAX], c[TACK_ORDER_ID_MAX];
  tack_orders_submit_opts oc = {TACK_ORIGIN_TRADER, 5 * NS, TACK_ORDERS_TIMEOUT_CANCEL, 0, 0};
  submit(k, req("BTC-USD", TACK_SIDE_BUY, TACK_ORDER_LIMIT, 1, 100, 0), &oc, 0, a);
  submit(k, req("BTC-USD", TACK_SIDE_BUY, TACK_ORDER_LIMIT, 1, 100, 0), &o, 0, b);
  submit(k, req("BTC-USD", TACK_SIDE_BUY, TACK_ORDER_LIMIT, 1, 100, 0), &o, 0, c);
  tack_orders_tick(k->m, 10 * NS);
  assert_int_equal(k->n_cancels, 3);
  assert_int_equal(tack_orders_cancel(k->m, b, 11 * NS), 0);
  u = upd(a, "", TACK_STATUS_CANCELLED, 1, 0);
  tack_orders_on_update(k->m, &u, 12 * NS);
  u = upd(b, "", TACK_STATUS_CANCELLED, 1, 0);
  tack_orders_on_update(k->m, &u, 12 * NS);
  u = upd(c, "", TACK_STATUS_FILLED, 1, 1);
  tack_orders_on_update(k->m, &u, 12 * NS);
  assert_int_equal(k->n_sent, 3);
  assert_int_equal(tack_orders_count(k->m), 3);
  done(k);

  /* A held stop times out in the host and goes at market at once. */
  k = mk(0);
  submit(k, req("BTC-USD", TACK_SIDE_SELL, TACK_ORDER_STOP, 2, 0, 90), &o, 0, id);
  tack_orders_tick(k->m, 5 * NS);
  assert_int_equal(get(k, id)->status, TACK_STATUS_CANCELLED);
  assert_int_equal(k->n_cancels, 0);
  assert_int_equal(k->n_sent, 1);
  assert_int_equal(k->sent[0].type, TACK_ORDER_MARKET);
  assert_true(k->sent[0].quantity == 2);
  done(k);
}

/* ------------------------------------------------------------------------ */
/* pending_quantity                                                          */
/* ------------------------------------------------------------------------ */

static void test_pending_quantity(void **state) {
  (void)state;
  mock *k = mk(0);
  char a[TACK_ORDER_ID_MAX], b[TACK_ORDER_ID_MAX], c[TACK_ORDER_ID_MAX], d[TACK_ORDER_ID_MAX];
  submit(k, req("BTC-USD", TACK_SIDE_BUY, TACK_ORDER_LIMIT, 1, 100, 0), NULL, 1, a);
  submit(k, req("BTC-USD", TACK_SIDE_SELL, TACK_ORDER_LIMIT, 0.5, 120, 0), NULL, 1, b);
  submit(k, req("ETH-USD", TACK_SIDE_BUY, TACK_ORDER_LIMIT, 3, 10, 0), NULL, 1, c);
  submit(k, req("BTC-USD", TACK_SIDE_BUY, TACK_ORDER_STOP, 7, 0, 150), NULL, 1, d);
  tack_fill f = fil(b, "", "t1", 120, 0.2);
  tack_orders_on_fill(k->m, &f, 2);
  assert_true(fabs(tack_orders_pending_quantity(k->m, "BTC-USD") - 0.7) < 1e-12);
  /* The venue's filled counts when it is ahead of the fills. */
  tack_order_update u = upd(a, "VA", TACK_STATUS_PARTIAL, 1, 0.25);
  tack_orders_on_update(k->m, &u, 3);
  assert_true(fabs(tack_orders_pending_quantity(k->m, "BTC-USD") - 0.45) < 1e-12);
  /* An OCO pair counts once, by its larger rest. */
  tack_order_request ra = req("BTC-USD", TACK_SIDE_SELL, TACK_ORDER_LIMIT, 1, 130, 0);
  tack_order_request rb = req("BTC-USD", TACK_SIDE_SELL, TACK_ORDER_LIMIT, 2, 140, 0);
  char oa[TACK_ORDER_ID_MAX], ob[TACK_ORDER_ID_MAX];
  assert_int_equal(tack_orders_submit_oco(k->m, &ra, &rb, NULL, 4, oa, ob), 0);
  assert_true(fabs(tack_orders_pending_quantity(k->m, "BTC-USD") - (0.45 - 2)) < 1e-12);
  assert_true(fabs(tack_orders_pending_quantity(k->m, NULL) - (3 + 0.45 - 2)) < 1e-12);
  assert_true(tack_orders_pending_quantity(k->m, "XRP-USD") == 0);
  /* Origin PROTECT is left out. */
  tack_orders_submit_opts p = {TACK_ORIGIN_PROTECT, 0, 0, 0, 0};
  submit(k, req("ETH-USD", TACK_SIDE_SELL, TACK_ORDER_LIMIT, 3, 12, 0), &p, 5, a);
  assert_true(tack_orders_pending_quantity(k->m, "ETH-USD") == 3);
  u = upd(c, "", TACK_STATUS_CANCELLED, 3, 0);
  tack_orders_on_update(k->m, &u, 6);
  assert_true(tack_orders_pending_quantity(k->m, "ETH-USD") == 0);
  done(k);
}

/* ------------------------------------------------------------------------ */
/* Restart                                                                   */
/* ------------------------------------------------------------------------ */

static void test_restart_restores_links(void **state) {
  (void)state;
  mock *k = mk(0);
  char entry[TACK_ORDER_ID_MAX], stop[TACK_ORDER_ID_MAX];
  tack_orders_submit_opts o = {TACK_ORIGIN_TRADER, 0, 0, 110, 90};
  submit(k, req("BTC-USD", TACK_SIDE_BUY, TACK_ORDER_LIMIT, 1, 100, 0), &o, 1, entry);
  tack_fill f = fil(entry, "VE", "t1", 100, 1);
  tack_orders_on_fill(k->m, &f, 2); /* FILLED: exits T2 (tp, sent) and T3 (sl, held) */
  submit(k, req("ETH-USD", TACK_SIDE_BUY, TACK_ORDER_STOP, 2, 0, 20), NULL, 3, stop); /* T4 */
  tack_orders_on_price(k->m, "ETH-USD", 21, 4);                                       /* child T5 */
  f = fil("T5", "V5", "t2", 21, 0.5);
  tack_orders_on_fill(k->m, &f, 5);
  uint64_t next = k->persist_next_seq;
  assert_int_equal(next, 6);
  tack_order records[8];
  memcpy(records, k->records, sizeof records);
  done(k);

  k = mk_seq(0, 3, next);
  for (uint64_t s = 5; s >= 1; s--) /* any order of loading */
    assert_int_equal(tack_orders_load(k->m, &records[s]), 0);
  assert_int_equal(tack_orders_load(k->m, &records[1]), TACK_EEXIST);
  tack_order broken = records[1];
  broken.status = 9;
  tack_copy_text(broken.req.client_id, sizeof broken.req.client_id, "T99");
  assert_int_equal(tack_orders_load(k->m, &broken), TACK_EINVAL);
  assert_int_equal(tack_orders_seed_fill(k->m, "t1"), 0);
  assert_int_equal(tack_orders_seed_fill(k->m, "t2"), 0);
  assert_int_equal(tack_orders_count(k->m), 5);
  f = fil(entry, "VE", "t1", 100, 1);
  assert_int_equal(tack_orders_on_fill(k->m, &f, 10), 1);
  /* The take profit filling still cancels the held stop. */
  f = fil("T2", "VT", "t3", 110, 1);
  assert_int_equal(tack_orders_on_fill(k->m, &f, 11), 0);
  assert_int_equal(get(k, "T3")->status, TACK_STATUS_CANCELLED);
  /* The triggered stop still mirrors its child. */
  f = fil("T5", "V5", "t4", 21, 1.5);
  assert_int_equal(tack_orders_on_fill(k->m, &f, 12), 0);
  assert_int_equal(get(k, stop)->status, TACK_STATUS_FILLED);
  assert_true(get(k, stop)->filled == 2);
  /* Ids go on where they stopped. */
  char id[TACK_ORDER_ID_MAX];
  submit(k, req("BTC-USD", TACK_SIDE_BUY, TACK_ORDER_LIMIT, 1, 100, 0), NULL, 13, id);
  assert_string_equal(id, "T6");
  /* No exits were sent again for the entry. */
  assert_int_equal(tack_orders_count(k->m), 6);
  tack_orders_reconcile_begin(k->m, 14);
  tack_orders_reconcile_end(k->m, 15);
  assert_int_equal(tack_orders_count(k->m), 6);
  done(k);

  /* A bracket entry whose exits were never written gets them at the
   * reconciliation after the restart; a held stop marked triggered whose
   * child never got written is held again. */
  k = mk_seq(0, 3, 10);
  tack_order e = records[1];
  e.flags = 0;
  assert_int_equal(tack_orders_load(k->m, &e), 0);
  tack_order held = records[4];
  assert_int_equal(held.held, 2);
  held.status = TACK_STATUS_OPEN;
  held.filled = held.avg_price = held.fees = held.venue_filled = 0;
  assert_int_equal(tack_orders_load(k->m, &held), 0);
  tack_orders_reconcile_begin(k->m, 20);
  assert_int_equal(tack_orders_reconcile_end(k->m, 21), 0);
  assert_int_equal(tack_orders_count(k->m), 4);
  assert_int_equal(get(k, "T10")->link_kind, TACK_LINK_BRACKET_TP);
  assert_int_equal(get(k, "T11")->link_kind, TACK_LINK_BRACKET_SL);
  assert_int_equal(get(k, stop)->held, 1);
  tack_orders_on_price(k->m, "ETH-USD", 22, 22);
  assert_int_equal(get(k, stop)->held, 2);
  done(k);

  /* A triggered stop whose child was still PENDING stays OPEN: mirroring
   * never moves a status back. */
  k = mk_seq(0, 3, 10);
  tack_order child = records[5];
  child.status = TACK_STATUS_PENDING;
  child.filled = child.avg_price = child.fees = child.venue_filled = 0;
  assert_int_equal(tack_orders_load(k->m, &child), 0);
  assert_int_equal(tack_orders_load(k->m, &held), 0);
  tack_orders_tick(k->m, 30);
  assert_int_equal(get(k, stop)->held, 2);
  assert_int_equal(get(k, stop)->status, TACK_STATUS_OPEN);
  assert_int_equal(k->backwards, 0);
  done(k);
}

/* ------------------------------------------------------------------------ */
/* Callbacks that come back in                                               */
/* ------------------------------------------------------------------------ */

/* The venue reports from inside send; each filled order's io.changed
 * submits the next (a chain long enough to move the order array under the
 * callers); a bracket's take profit fills while its stop is not yet sent. */
static void test_reentrant_callbacks(void **state) {
  (void)state;
  mock *k = mk(TACK_CAP_STOP_ORDERS);
  k->paper = 1;
  k->chain = 150;
  k->quiet = 1;
  char id[TACK_ORDER_ID_MAX];
  submit(k, req("BTC-USD", TACK_SIDE_BUY, TACK_ORDER_MARKET, 1, 0, 0), NULL, 1, id);
  assert_string_equal(id, "T1");
  assert_int_equal(k->chain, 0);
  assert_int_equal(tack_orders_count(k->m), 151);
  assert_int_equal(k->n_fills, 151);
  for (size_t i = 0; i < 151; i++) {
    const tack_order *o = tack_orders_at(k->m, i);
    assert_int_equal(o->status, TACK_STATUS_FILLED);
    assert_true(o->filled == o->req.quantity);
  }
  assert_int_equal(tack_orders_live(k->m, NULL), 0);
  done(k);

  k = mk(TACK_CAP_STOP_ORDERS);
  k->paper = 1;
  tack_orders_submit_opts o = {TACK_ORIGIN_TRADER, 0, 0, 110, 90};
  submit(k, req("BTC-USD", TACK_SIDE_BUY, TACK_ORDER_MARKET, 1, 0, 0), &o, 1, id);
  assert_int_equal(tack_orders_count(k->m), 3);
  const tack_order *tp = get(k, "T2"), *sl = get(k, "T3");
  assert_int_equal(tp->status, TACK_STATUS_FILLED);
  assert_int_equal(sl->status, TACK_STATUS_CANCELLED);
  assert_string_equal(sl->reason, "cancelled before it was sent");
  for (size_t i = 0; i < k->n_sent; i++)
    assert_string_not_equal(k->sent[i].client_id, "T3"); /* the stop never went out */
  assert_int_equal(k->n_sent, 2);
  done(k);

  /* The same fill offered again from inside its own booking: once. */
  k = mk(0);
  submit(k, req("BTC-USD", TACK_SIDE_BUY, TACK_ORDER_LIMIT, 1, 100, 0), NULL, 1, id);
  k->refeed = 1;
  tack_fill f = fil(id, "", "t1", 100, 0.5);
  assert_int_equal(tack_orders_on_fill(k->m, &f, 2), 0);
  assert_int_equal(k->refeed_rc, 1);
  assert_int_equal(k->n_fills, 1);
  assert_true(get(k, id)->filled == 0.5);
  done(k);
}

/* ------------------------------------------------------------------------ */
/* Scale                                                                     */
/* ------------------------------------------------------------------------ */

static int io_fill_count(void *user, const tack_order *order, const tack_fill *f) {
  (void)order;
  (void)f;
  (*(size_t *)user)++;
  return 0;
}

static int io_persist_ok(void *user, const tack_order *o, uint64_t next_seq) {
  (void)user;
  (void)o;
  (void)next_seq;
  return 0;
}

static int io_send_ok(void *user, const tack_order_request *r) {
  (void)user;
  (void)r;
  return 0;
}

static void io_log_quiet(void *user, int level, const char *msg) {
  (void)user;
  (void)level;
  (void)msg;
}

static void io_reconcile_quiet(void *user, const char *why) {
  (void)user;
  (void)why;
}

/* A million fills over many orders, each offered twice: no lookup grows
 * with the fills already booked (the test would take minutes if one did). */
static void test_million_fills(void **state) {
  (void)state;
  size_t booked = 0;
  tack_orders *m;
  tack_orders_io io = {&booked,       io_persist_ok, io_send_ok,         io_cancel,
                       io_fill_count, NULL,          io_reconcile_quiet, io_log_quiet};
  tack_orders_opts opts = {"M", 1, 0, 3};
  assert_int_equal(tack_orders_new(&opts, &io, &m), 0);
  const size_t n_orders = 1000, per = 1000;
  for (size_t i = 0; i < n_orders; i++) {
    tack_order_request r = req("BTC-USD", TACK_SIDE_BUY, TACK_ORDER_LIMIT, (double)per, 100, 0);
    assert_int_equal(tack_orders_submit(m, &r, NULL, 1, NULL), 0);
  }
  for (size_t j = 0; j < per; j++) {
    for (size_t i = 0; i < n_orders; i++) {
      char cid[32], vid[32], tid[48];
      snprintf(cid, sizeof cid, "M%zu", i + 1);
      snprintf(vid, sizeof vid, "V%zu", i + 1);
      snprintf(tid, sizeof tid, "trade-%zu-%zu", i, j);
      tack_fill f = fil(j == 0 ? cid : "", vid, tid, 100, 1);
      assert_int_equal(tack_orders_on_fill(m, &f, 2), 0);
      if (j % 97 == 0)
        assert_int_equal(tack_orders_on_fill(m, &f, 2), 1);
    }
  }
  assert_int_equal(booked, n_orders * per);
  tack_orders_stats s;
  tack_orders_get_stats(m, &s);
  assert_int_equal(s.fills, n_orders * per);
  for (size_t i = 0; i < n_orders; i += 111) {
    const tack_order *o = tack_orders_at(m, i);
    assert_true(o->filled == (double)per);
    assert_int_equal(o->status, TACK_STATUS_FILLED);
  }
  tack_orders_free(m);
}

/* ------------------------------------------------------------------------ */
/* Property: reordered, duplicated venue messages                            */
/* ------------------------------------------------------------------------ */

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

typedef struct msg {
  int is_fill;
  tack_order_update u;
  tack_fill f;
} msg;

/*
 * Each round: orders with a venue script (fills of quarters, the cumulative
 * PARTIAL updates, a final FILLED or CANCELLED), every message possibly
 * duplicated, all of them shuffled across orders, fills naming only the
 * venue id half of the time. Whatever the order: no fill lost or counted
 * twice, filled is the sum of the order's unique fills, statuses never go
 * back, and each order ends in its script's final status.
 */
static void test_property_reordered_duplicates(void **state) {
  (void)state;
  const char *seed_env = getenv("TACK_TEST_SEED");
  if (seed_env)
    rng = strtoull(seed_env, NULL, 10) | 1;
  print_message("property seed %llu (TACK_TEST_SEED)\n", (unsigned long long)rng);
  const int rounds = 300, n_orders = 12;
  msg *msgs = calloc(4096, sizeof *msgs);
  assert_non_null(msgs);
  for (int round = 0; round < rounds; round++) {
    mock *k = mk(TACK_CAP_STOP_ORDERS);
    k->quiet = 1;
    char ids[12][TACK_ORDER_ID_MAX];
    double expect_filled[12];
    uint32_t expect_status[12];
    size_t n = 0, unique_fills = 0;
    for (int i = 0; i < n_orders; i++) {
      int quarters = 1 + (int)(rnd() % 16);
      double qty = quarters * 0.25;
      submit(k,
             req("BTC-USD", i % 2 ? TACK_SIDE_SELL : TACK_SIDE_BUY, TACK_ORDER_LIMIT, qty, 100, 0),
             NULL, 1, ids[i]);
      char vid[TACK_ORDER_ID_MAX];
      snprintf(vid, sizeof vid, "V%d-%d", round, i);
      int fill_quarters = rnd() % 3 == 0 ? (int)(rnd() % (unsigned)quarters) : quarters;
      msgs[n].is_fill = 0;
      msgs[n++].u = upd(ids[i], vid, TACK_STATUS_OPEN, qty, 0);
      int cum = 0, t = 0;
      while (cum < fill_quarters) {
        int q = 1 + (int)(rnd() % (unsigned)(fill_quarters - cum));
        cum += q;
        char tid[TACK_ORDER_ID_MAX];
        snprintf(tid, sizeof tid, "r%d-o%d-t%d", round, i, t++);
        msgs[n].is_fill = 1;
        msgs[n++].f = fil(rnd() % 2 ? ids[i] : "", vid, tid, 100 + (double)(rnd() % 10), q * 0.25);
        unique_fills++;
        if (cum < quarters) {
          msgs[n].is_fill = 0;
          msgs[n++].u = upd(ids[i], vid, TACK_STATUS_PARTIAL, qty, cum * 0.25);
        }
      }
      expect_filled[i] = fill_quarters * 0.25;
      expect_status[i] = fill_quarters == quarters ? TACK_STATUS_FILLED : TACK_STATUS_CANCELLED;
      msgs[n].is_fill = 0;
      msgs[n++].u = upd(ids[i], vid, expect_status[i], qty, expect_filled[i]);
    }
    size_t base = n;
    for (size_t i = 0; i < base; i++)
      if (rnd() % 3 == 0)
        msgs[n++] = msgs[i];
    for (size_t i = n - 1; i > 0; i--) {
      size_t j = (size_t)(rnd() % (i + 1));
      msg tmp = msgs[i];
      msgs[i] = msgs[j];
      msgs[j] = tmp;
    }
    for (size_t i = 0; i < n; i++) {
      int rc = msgs[i].is_fill ? tack_orders_on_fill(k->m, &msgs[i].f, 2)
                               : tack_orders_on_update(k->m, &msgs[i].u, 2);
      if (rc != 0 && rc != 1 && rc != TACK_ENOENT)
        fail_msg("round %d message %zu: %s", round, i, tack_err_name(rc));
    }
    /* Reconciliation hands out anything still kept (nothing should be). */
    tack_orders_reconcile_begin(k->m, 3);
    tack_orders_reconcile_end(k->m, 4);
    assert_int_equal(k->n_fills, unique_fills);
    for (size_t i = 0; i < k->n_fills; i++) {
      assert_true(k->fills[i].has_order);
      for (size_t j = 0; j < i; j++)
        if (strcmp(k->fills[i].f.trade_id, k->fills[j].f.trade_id) == 0)
          fail_msg("round %d: trade %s booked twice", round, k->fills[i].f.trade_id);
    }
    for (int i = 0; i < n_orders; i++) {
      const tack_order *o = get(k, ids[i]);
      double sum = 0;
      for (size_t j = 0; j < k->n_fills; j++)
        if (strcmp(k->fills[j].order.req.client_id, ids[i]) == 0)
          sum += k->fills[j].f.quantity;
      if (o->filled != expect_filled[i] || o->filled != sum || o->status != expect_status[i])
        fail_msg("round %d order %s: filled %g (sum of fills %g, expected %g), status %s "
                 "(expected %s)",
                 round, ids[i], o->filled, sum, expect_filled[i], tack_order_status_name(o->status),
                 tack_order_status_name(expect_status[i]));
    }
    assert_int_equal(k->backwards, 0);
    tack_orders_stats s = stats(k);
    assert_int_equal(s.fills, unique_fills);
    assert_int_equal(s.external_fills, 0);
    assert_int_equal(s.bad_updates, 0);
    done(k);
  }
  free(msgs);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_transition_table),
      cmocka_unit_test(test_updates_follow_the_machine),
      cmocka_unit_test(test_skips_and_stale),
      cmocka_unit_test(test_malformed_messages),
      cmocka_unit_test(test_submit_writes_ahead),
      cmocka_unit_test(test_persist_failure_sends_nothing),
      cmocka_unit_test(test_send_refusal_is_rejected),
      cmocka_unit_test(test_retry_same_id_and_max_attempts),
      cmocka_unit_test(test_new_refuses_bad_options),
      cmocka_unit_test(test_duplicate_fills_and_averages),
      cmocka_unit_test(test_fill_by_venue_id_and_before_open),
      cmocka_unit_test(test_fill_waits_for_its_venue_id),
      cmocka_unit_test(test_fill_booking_failure),
      cmocka_unit_test(test_unknown_update_kept_and_settled),
      cmocka_unit_test(test_unknown_update_applied_when_bound),
      cmocka_unit_test(test_unknown_fill_is_external_after_reconcile),
      cmocka_unit_test(test_reconcile_settles_unreported),
      cmocka_unit_test(test_cancel_and_cancel_all),
      cmocka_unit_test(test_held_stop_on_price),
      cmocka_unit_test(test_held_stop_on_bar),
      cmocka_unit_test(test_stop_limit_and_native_stops),
      cmocka_unit_test(test_oco_cancels_the_other_leg),
      cmocka_unit_test(test_bracket_exits_follow_filled_quantity),
      cmocka_unit_test(test_timeouts),
      cmocka_unit_test(test_pending_quantity),
      cmocka_unit_test(test_restart_restores_links),
      cmocka_unit_test(test_reentrant_callbacks),
      cmocka_unit_test(test_million_fills),
      cmocka_unit_test(test_property_reordered_duplicates),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
