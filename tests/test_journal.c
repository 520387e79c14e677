/*
 * test_journal.c: the trading journal in the store (host/journal.c):
 * round trips of orders and fills with every field, the record encoding's
 * refusals (every truncation, a trailing byte, the version, a missing NUL,
 * non-finite numbers) and random bytes into the decoders, isolation of bots
 * and accounts, fill deduplication and dense sequences, the layout record,
 * pruning, state blobs, and a writer killed with SIGKILL at a random moment
 * whose journal must still be consistent.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ftw.h>
#include <lmdb.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "journal.h"
#include "log.h"
#include "store.h"

#define NS TACK_NS_PER_SEC

typedef struct fixture {
  char dir[256];
  char path[300];
  tack_store *st;
  tack_journal *j;
} fixture;

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb;
  (void)ftw;
  if (flag == FTW_DP)
    rmdir(path);
  else
    unlink(path);
  return 0;
}

static int make_dir(fixture *f) {
  const char *base = getenv("TMPDIR");
  snprintf(f->dir, sizeof f->dir, "%s/tack-journal-XXXXXX", base && *base ? base : "/tmp");
  if (!mkdtemp(f->dir))
    return -1;
  snprintf(f->path, sizeof f->path, "%s/store", f->dir);
  return 0;
}

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  if (!f || make_dir(f) != 0)
    return -1;
  if (tack_store_open(f->path, 0, &f->st) != 0 || tack_journal_open(f->st, "bot1", &f->j) != 0)
    return -1;
  *state = f;
  return 0;
}

static void close_all(fixture *f) {
  tack_journal_close(f->j);
  tack_store_close(f->st);
  f->j = NULL;
  f->st = NULL;
}

static int teardown(void **state) {
  fixture *f = *state;
  close_all(f);
  nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
  free(f);
  return 0;
}

/* An order with every field set to something distinct. */
static tack_order full_order(const char *id, uint32_t status, tack_time updated) {
  tack_order o;
  memset(&o, 0, sizeof o);
  tack_copy_text(o.req.client_id, sizeof o.req.client_id, id);
  tack_copy_text(o.req.symbol, sizeof o.req.symbol, "BTC-USD");
  o.req.side = TACK_SIDE_SELL;
  o.req.type = TACK_ORDER_STOP_LIMIT;
  o.req.tif = TACK_TIF_GTD;
  o.req.flags = TACK_ORDER_REDUCE_ONLY;
  o.req.quantity = 1.25;
  o.req.limit_price = 99.5;
  o.req.stop_price = 100.25;
  o.req.expire_at = -5 * NS;
  o.req.ts = 1700000000 * NS;
  tack_copy_text(o.venue_id, sizeof o.venue_id, "venue-77");
  tack_copy_text(o.link, sizeof o.link, "T0");
  tack_copy_text(o.reason, sizeof o.reason, "a reason, with text");
  o.status = status;
  o.error = TACK_EREJECTED;
  o.origin = TACK_ORIGIN_PROTECT;
  o.link_kind = TACK_LINK_BRACKET_SL;
  o.held = 2;
  o.attempts = 3;
  o.on_timeout = TACK_ORDERS_REPLACE_MARKET;
  o.flags = TACK_ORDERS_TIMED_OUT | TACK_ORDERS_FOLLOWED;
  o.filled = 0.75;
  o.avg_price = 100.125;
  o.fees = -0.0625;
  o.venue_filled = 1;
  o.tp_price = 120;
  o.sl_price = 80;
  o.created = 1700000001 * NS;
  o.updated = updated;
  o.timeout_ns = UINT64_MAX - 1;
  o.seq = UINT64_C(0x0102030405060708);
  return o;
}

static tack_fill full_fill(const char *cid, const char *tid, double qty) {
  tack_fill f;
  memset(&f, 0, sizeof f);
  tack_copy_text(f.client_id, sizeof f.client_id, cid);
  tack_copy_text(f.venue_order_id, sizeof f.venue_order_id, "venue-77");
  tack_copy_text(f.trade_id, sizeof f.trade_id, tid);
  tack_copy_text(f.symbol, sizeof f.symbol, "BTC-USD");
  f.ts = -123456789;
  f.side = TACK_SIDE_BUY;
  f.liquidity = TACK_LIQ_MAKER;
  f.price = 101.5;
  f.quantity = qty;
  f.fee = -0.01;
  tack_copy_text(f.fee_currency, sizeof f.fee_currency, "USD");
  return f;
}

/* Collects what a walk delivers. */
typedef struct seen {
  tack_order orders[64];
  size_t n_orders;
  tack_fill fills[1024];
  uint64_t seqs[1024];
  size_t n_fills;
  int stop_at; /* a callback returns 7 at this call (1-based), 0 never */
} seen;

static int on_order(void *user, const tack_order *o) {
  seen *s = user;
  if (s->n_orders < 64)
    s->orders[s->n_orders] = *o;
  s->n_orders++;
  return s->stop_at && (int)s->n_orders == s->stop_at ? 7 : 0;
}

static int on_fill(void *user, uint64_t seq, const tack_fill *f) {
  seen *s = user;
  if (s->n_fills < 1024) {
    s->fills[s->n_fills] = *f;
    s->seqs[s->n_fills] = seq;
  }
  s->n_fills++;
  return s->stop_at && (int)s->n_fills == s->stop_at ? 7 : 0;
}

static void test_order_round_trip(void **state) {
  fixture *f = *state;
  tack_order o = full_order("T1", TACK_STATUS_PARTIAL, 42), back;
  unsigned char buf[TACK_JOURNAL_ORDER_MAX];
  int len = tack_journal_encode_order(&o, buf, sizeof buf);
  assert_true(len > 0);
  assert_int_equal(tack_journal_decode_order(buf, (size_t)len, &back), 0);
  assert_memory_equal(&o, &back, sizeof o);

  /* The longest record fits the declared maximum. */
  tack_order big = o;
  memset(big.req.client_id, 'c', sizeof big.req.client_id - 1);
  memset(big.req.symbol, 's', sizeof big.req.symbol - 1);
  memset(big.venue_id, 'v', sizeof big.venue_id - 1);
  memset(big.link, 'l', sizeof big.link - 1);
  memset(big.reason, 'r', sizeof big.reason - 1);
  len = tack_journal_encode_order(&big, buf, sizeof buf);
  assert_true(len > 0 && len <= TACK_JOURNAL_ORDER_MAX);
  assert_int_equal(tack_journal_decode_order(buf, (size_t)len, &back), 0);
  assert_memory_equal(&big, &back, sizeof big);

  assert_int_equal(tack_journal_put_order(f->j, "acc", &o, 9), 0);
  o.status = TACK_STATUS_FILLED;
  o.filled = 1.25;
  assert_int_equal(tack_journal_put_order(f->j, "acc", &o, 8), 0); /* replaces */
  seen s = {0};
  assert_int_equal(tack_journal_each_order(f->j, "acc", on_order, &s), 0);
  assert_int_equal(s.n_orders, 1);
  assert_memory_equal(&s.orders[0], &o, sizeof o);
  uint64_t next = 0;
  assert_int_equal(tack_journal_next_seq(f->j, "acc", &next), 0);
  assert_int_equal(next, 9); /* never goes back */
  assert_int_equal(tack_journal_put_order(f->j, "acc", &o, 12), 0);
  assert_int_equal(tack_journal_next_seq(f->j, "acc", &next), 0);
  assert_int_equal(next, 12);
  assert_int_equal(tack_journal_next_seq(f->j, "other", &next), 0);
  assert_int_equal(next, 1);

  /* Survives a reopen. */
  close_all(f);
  assert_int_equal(tack_store_open(f->path, 0, &f->st), 0);
  assert_int_equal(tack_journal_open(f->st, "bot1", &f->j), 0);
  memset(&s, 0, sizeof s);
  assert_int_equal(tack_journal_each_order(f->j, "acc", on_order, &s), 0);
  assert_int_equal(s.n_orders, 1);
  assert_memory_equal(&s.orders[0], &o, sizeof o);
}

static void test_fill_round_trip(void **state) {
  fixture *f = *state;
  tack_fill fl = full_fill("", "tr-1", 0.5), back;
  unsigned char buf[TACK_JOURNAL_FILL_MAX];
  int len = tack_journal_encode_fill(&fl, "T1", buf, sizeof buf);
  assert_true(len > 0);
  assert_int_equal(tack_journal_decode_fill(buf, (size_t)len, &back), 0);
  tack_fill want = fl;
  tack_copy_text(want.client_id, sizeof want.client_id, "T1");
  assert_memory_equal(&want, &back, sizeof want);
  len = tack_journal_encode_fill(&fl, NULL, buf, sizeof buf);
  assert_int_equal(tack_journal_decode_fill(buf, (size_t)len, &back), 0);
  assert_memory_equal(&fl, &back, sizeof fl);

  tack_fill big = fl;
  memset(big.client_id, 'c', sizeof big.client_id - 1);
  memset(big.venue_order_id, 'v', sizeof big.venue_order_id - 1);
  memset(big.trade_id, 't', sizeof big.trade_id - 1);
  memset(big.symbol, 's', sizeof big.symbol - 1);
  memset(big.fee_currency, 'f', sizeof big.fee_currency - 1);
  len = tack_journal_encode_fill(&big, NULL, buf, sizeof buf);
  assert_true(len > 0 && len <= TACK_JOURNAL_FILL_MAX);

  /* put_fill stores the fill under the order's id, with the order. */
  tack_order o = full_order("T1", TACK_STATUS_PARTIAL, 5);
  uint64_t seq = 0;
  assert_int_equal(tack_journal_put_fill(f->j, "acc", &fl, &o, &seq), 0);
  assert_int_equal(seq, 1);
  seen s = {0};
  assert_int_equal(tack_journal_each_fill(f->j, "acc", on_fill, &s), 0);
  assert_int_equal(s.n_fills, 1);
  assert_int_equal(s.seqs[0], 1);
  assert_memory_equal(&s.fills[0], &want, sizeof want);
  assert_int_equal(tack_journal_each_order(f->j, "acc", on_order, &s), 0);
  assert_int_equal(s.n_orders, 1);
  assert_memory_equal(&s.orders[0], &o, sizeof o);
  assert_int_equal(tack_journal_has_fill(f->j, "acc", "tr-1"), 1);
  assert_int_equal(tack_journal_has_fill(f->j, "acc", "tr-2"), 0);

  /* An external fill: no order. */
  tack_fill ext = full_fill("X9", "tr-2", 1);
  assert_int_equal(tack_journal_put_fill(f->j, "acc", &ext, NULL, &seq), 0);
  assert_int_equal(seq, 2);
  memset(&s, 0, sizeof s);
  assert_int_equal(tack_journal_each_fill(f->j, "acc", on_fill, &s), 0);
  assert_int_equal(s.n_fills, 2);
  assert_string_equal(s.fills[1].client_id, "X9");
  assert_int_equal(tack_journal_each_order(f->j, "acc", on_order, &s), 0);
  assert_int_equal(s.n_orders, 1);
}

/* Offsets into an encoded order: the version, the client id, the symbol
 * and then the side, type, tif and flags come before the quantity. */
static void test_decode_refusals(void **state) {
  (void)state;
  unsigned char buf[TACK_JOURNAL_ORDER_MAX + 8], tmp[TACK_JOURNAL_ORDER_MAX + 8];
  tack_order o = full_order("T1", TACK_STATUS_OPEN, 1), back;
  memset(o.req.client_id, 'x', sizeof o.req.client_id - 1); /* 63 bytes and the NUL */
  int len = tack_journal_encode_order(&o, buf, sizeof buf);
  assert_true(len > 0);
  for (int n = 0; n < len; n++)
    assert_int_equal(tack_journal_decode_order(buf, (size_t)n, &back), TACK_EPARSE);
  memcpy(tmp, buf, (size_t)len);
  tmp[len] = 0;
  assert_int_equal(tack_journal_decode_order(tmp, (size_t)len + 1, &back), TACK_EPARSE);
  /* Version. */
  for (uint32_t v = 0; v < 4; v++) {
    if (v == TACK_JOURNAL_RECORD_VERSION)
      continue;
    memcpy(tmp, buf, (size_t)len);
    tmp[0] = (unsigned char)v;
    assert_int_equal(tack_journal_decode_order(tmp, (size_t)len, &back), TACK_EPARSE);
  }
  memcpy(tmp, buf, (size_t)len);
  tmp[3] = 1;
  assert_int_equal(tack_journal_decode_order(tmp, (size_t)len, &back), TACK_EPARSE);
  /* The client id's NUL: 64 bytes without one is too long for the field. */
  memcpy(tmp, buf, (size_t)len);
  assert_int_equal(tmp[4 + 63], 0);
  tmp[4 + 63] = 'y';
  assert_int_equal(tack_journal_decode_order(tmp, (size_t)len, &back), TACK_EPARSE);
  /* Non-finite quantity: after the version, the texts and four u32s. */
  size_t q = 4 + 64 + strlen(o.req.symbol) + 1 + 16;
  double bad[3] = {NAN, INFINITY, -INFINITY};
  for (int i = 0; i < 3; i++) {
    memcpy(tmp, buf, (size_t)len);
    uint64_t bits;
    memcpy(&bits, &bad[i], 8);
    for (int b = 0; b < 8; b++)
      tmp[q + (size_t)b] = (unsigned char)(bits >> (8 * b));
    assert_int_equal(tack_journal_decode_order(tmp, (size_t)len, &back), TACK_EPARSE);
  }
  /* The untouched record still decodes. */
  assert_int_equal(tack_journal_decode_order(buf, (size_t)len, &back), 0);

  /* Fills: every truncation, the last text's NUL, a non-finite price. */
  tack_fill fl = full_fill("T1", "tr", 1), fb;
  len = tack_journal_encode_fill(&fl, NULL, buf, sizeof buf);
  assert_true(len > 0);
  for (int n = 0; n < len; n++)
    assert_int_equal(tack_journal_decode_fill(buf, (size_t)n, &fb), TACK_EPARSE);
  memcpy(tmp, buf, (size_t)len);
  tmp[len - 1] = 'D'; /* fee_currency without its NUL */
  assert_int_equal(tack_journal_decode_fill(tmp, (size_t)len, &fb), TACK_EPARSE);
  memcpy(tmp, buf, (size_t)len);
  tmp[len] = 'x';
  assert_int_equal(tack_journal_decode_fill(tmp, (size_t)len + 1, &fb), TACK_EPARSE);
  memcpy(tmp, buf, (size_t)len);
  tmp[0] = 2;
  assert_int_equal(tack_journal_decode_fill(tmp, (size_t)len, &fb), TACK_EPARSE);
  size_t p = 4 + 3 + 9 + 3 + 8 + 8 + 8; /* "T1", "venue-77", "tr", "BTC-USD", ts, side+liq */
  memcpy(tmp, buf, (size_t)len);
  memset(tmp + p, 0xff, 8); /* a NaN */
  assert_int_equal(tack_journal_decode_fill(tmp, (size_t)len, &fb), TACK_EPARSE);
  assert_int_equal(tack_journal_decode_fill(buf, (size_t)len, &fb), 0);
  assert_memory_equal(&fl, &fb, sizeof fl);

  /* Encoding refuses what would not decode, and a short buffer. */
  o = full_order("T1", TACK_STATUS_OPEN, 1);
  o.avg_price = NAN;
  assert_int_equal(tack_journal_encode_order(&o, buf, sizeof buf), TACK_EINVAL);
  o = full_order("T1", TACK_STATUS_OPEN, 1);
  memset(o.reason, 'r', sizeof o.reason);
  assert_int_equal(tack_journal_encode_order(&o, buf, sizeof buf), TACK_EINVAL);
  o = full_order("T1", TACK_STATUS_OPEN, 1);
  assert_int_equal(tack_journal_encode_order(&o, buf, 20), TACK_ENOSPC);
  fl.fee = INFINITY;
  assert_int_equal(tack_journal_encode_fill(&fl, NULL, buf, sizeof buf), TACK_EINVAL);
  fl = full_fill("T1", "tr", 1);
  assert_int_equal(tack_journal_encode_fill(&fl, NULL, buf, 10), TACK_ENOSPC);
}

static uint64_t rng_state = 88172645463325252ull;

static uint64_t rnd(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}

/* Random bytes and mutated records into the decoders: 0 or TACK_EPARSE,
 * and a record that decodes encodes again to something that decodes. */
static void test_decode_fuzz(void **state) {
  (void)state;
  unsigned char good_o[TACK_JOURNAL_ORDER_MAX], good_f[TACK_JOURNAL_FILL_MAX];
  unsigned char buf[700], again[TACK_JOURNAL_ORDER_MAX];
  tack_order o = full_order("T1", TACK_STATUS_OPEN, 1), ob;
  tack_fill fl = full_fill("T1", "tr", 1), fb;
  int lo = tack_journal_encode_order(&o, good_o, sizeof good_o);
  int lf = tack_journal_encode_fill(&fl, NULL, good_f, sizeof good_f);
  size_t decoded = 0;
  for (int it = 0; it < 200000; it++) {
    size_t len;
    int which = (int)(rnd() % 4);
    if (which < 2) {
      len = (size_t)(rnd() % sizeof buf);
      for (size_t i = 0; i < len; i++)
        buf[i] = (unsigned char)rnd();
      if (len >= 4 && rnd() % 2) {
        buf[0] = 1; /* a valid version, so the fields get read */
        buf[1] = buf[2] = buf[3] = 0;
      }
    } else {
      const unsigned char *src = which == 2 ? good_o : good_f;
      len = (size_t)(which == 2 ? lo : lf);
      memcpy(buf, src, len);
      int flips = 1 + (int)(rnd() % 4);
      for (int k = 0; k < flips; k++)
        buf[rnd() % len] = (unsigned char)rnd();
      if (rnd() % 8 == 0)
        len = (size_t)(rnd() % (len + 1));
    }
    int rc = tack_journal_decode_order(buf, len, &ob);
    assert_true(rc == 0 || rc == TACK_EPARSE);
    if (rc == 0) {
      decoded++;
      int n = tack_journal_encode_order(&ob, again, sizeof again);
      assert_true(n > 0);
      assert_int_equal(tack_journal_decode_order(again, (size_t)n, &ob), 0);
    }
    rc = tack_journal_decode_fill(buf, len, &fb);
    assert_true(rc == 0 || rc == TACK_EPARSE);
    if (rc == 0) {
      decoded++;
      int n = tack_journal_encode_fill(&fb, NULL, again, sizeof again);
      assert_true(n > 0);
      assert_int_equal(tack_journal_decode_fill(again, (size_t)n, &fb), 0);
    }
  }
  assert_true(decoded > 0); /* the mutations do reach valid records */
}

static void test_bots_and_accounts_isolated(void **state) {
  fixture *f = *state;
  tack_journal *j2;
  assert_int_equal(tack_journal_open(f->st, "bot2", &j2), 0);
  tack_journal *js[2] = {f->j, j2};
  const char *accounts[2] = {"acc", "acc2"}; /* one a prefix of the other */
  uint64_t seq;
  for (int b = 0; b < 2; b++) {
    for (int a = 0; a < 2; a++) {
      tack_order o = full_order("T1", TACK_STATUS_OPEN, 1);
      o.req.quantity = 1 + b * 10 + a;
      assert_int_equal(tack_journal_put_order(js[b], accounts[a], &o, (uint64_t)(5 + b * 10 + a)),
                       0);
      tack_fill fl = full_fill("T1", "same-trade", 0.25 + b + a);
      assert_int_equal(tack_journal_put_fill(js[b], accounts[a], &fl, &o, &seq), 0);
      assert_int_equal(seq, 1);
    }
    char blob[8];
    snprintf(blob, sizeof blob, "b%d", b);
    assert_int_equal(tack_journal_put_state(js[b], "equity", blob, 2), 0);
  }
  for (int b = 0; b < 2; b++) {
    for (int a = 0; a < 2; a++) {
      seen s = {0};
      assert_int_equal(tack_journal_each_order(js[b], accounts[a], on_order, &s), 0);
      assert_int_equal(s.n_orders, 1);
      assert_true(s.orders[0].req.quantity == 1 + b * 10 + a);
      assert_int_equal(tack_journal_each_fill(js[b], accounts[a], on_fill, &s), 0);
      assert_int_equal(s.n_fills, 1);
      assert_true(s.fills[0].quantity == 0.25 + b + a);
      uint64_t next;
      assert_int_equal(tack_journal_next_seq(js[b], accounts[a], &next), 0);
      assert_int_equal(next, (uint64_t)(5 + b * 10 + a));
      assert_int_equal(tack_journal_has_fill(js[b], accounts[a], "same-trade"), 1);
    }
    char blob[8];
    size_t len;
    assert_int_equal(tack_journal_get_state(js[b], "equity", blob, sizeof blob, &len), 0);
    assert_int_equal(len, 2);
    assert_int_equal(blob[1], '0' + b);
  }
  assert_int_equal(tack_journal_has_fill(f->j, "acc3", "same-trade"), 0);
  seen s = {0};
  assert_int_equal(tack_journal_each_order(f->j, "ac", on_order, &s), 0);
  assert_int_equal(s.n_orders, 0);
  tack_journal_close(j2);
}

static void test_duplicate_fill_writes_nothing(void **state) {
  fixture *f = *state;
  tack_order o = full_order("T1", TACK_STATUS_PARTIAL, 1);
  o.filled = 0.5;
  tack_fill fl = full_fill("T1", "tr-1", 0.5);
  uint64_t seq = 0;
  assert_int_equal(tack_journal_put_fill(f->j, "acc", &fl, &o, &seq), 0);
  tack_order changed = o;
  changed.filled = 1.0;
  seq = 99;
  assert_int_equal(tack_journal_put_fill(f->j, "acc", &fl, &changed, &seq), TACK_EEXIST);
  assert_int_equal(seq, 99);
  seen s = {0};
  assert_int_equal(tack_journal_each_fill(f->j, "acc", on_fill, &s), 0);
  assert_int_equal(s.n_fills, 1);
  assert_int_equal(tack_journal_each_order(f->j, "acc", on_order, &s), 0);
  assert_true(s.orders[0].filled == 0.5);
  /* The next fill takes the next sequence: the refused one used none. */
  fl = full_fill("T1", "tr-2", 0.5);
  assert_int_equal(tack_journal_put_fill(f->j, "acc", &fl, &changed, &seq), 0);
  assert_int_equal(seq, 2);
  /* Bad input writes nothing either. */
  fl = full_fill("T1", "", 0.5);
  assert_int_equal(tack_journal_put_fill(f->j, "acc", &fl, NULL, &seq), TACK_EINVAL);
  fl = full_fill("T1", "tr-3", NAN);
  assert_int_equal(tack_journal_put_fill(f->j, "acc", &fl, NULL, &seq), TACK_EINVAL);
  fl = full_fill("T1", "tr-3", 1);
  changed.fees = INFINITY;
  assert_int_equal(tack_journal_put_fill(f->j, "acc", &fl, &changed, &seq), TACK_EINVAL);
  assert_int_equal(tack_journal_has_fill(f->j, "acc", "tr-3"), 0);
  assert_int_equal(tack_journal_put_fill(f->j, "", &fl, NULL, &seq), TACK_EINVAL);
}

static void test_fills_in_sequence_order(void **state) {
  fixture *f = *state;
  tack_order o = full_order("T1", TACK_STATUS_PARTIAL, 1);
  o.filled = 0;
  for (int i = 0; i < 600; i++) { /* past 255 and 511: big-endian keys keep the order */
    char tid[32];
    snprintf(tid, sizeof tid, "z%d", 600 - i); /* trade ids sort the other way */
    tack_fill fl = full_fill("T1", tid, 0.25);
    o.filled += 0.25;
    uint64_t seq;
    assert_int_equal(tack_journal_put_fill(f->j, "acc", &fl, &o, &seq), 0);
    assert_int_equal(seq, (uint64_t)i + 1);
  }
  seen *s = calloc(1, sizeof *s);
  assert_non_null(s);
  assert_int_equal(tack_journal_each_fill(f->j, "acc", on_fill, s), 0);
  assert_int_equal(s->n_fills, 600);
  for (size_t i = 0; i < 600; i++) {
    assert_int_equal(s->seqs[i], i + 1);
    char tid[32];
    snprintf(tid, sizeof tid, "z%d", 600 - (int)i);
    assert_string_equal(s->fills[i].trade_id, tid);
  }
  /* A callback's non-zero return stops the walk and is returned. */
  memset(s, 0, sizeof *s);
  s->stop_at = 3;
  assert_int_equal(tack_journal_each_fill(f->j, "acc", on_fill, s), 7);
  assert_int_equal(s->n_fills, 3);
  free(s);
}

/* A writer that never stops: orders of four fills each, each fill
 * journaled together with its order's new filled quantity. */
static void crash_writer(const char *path, int round) {
  tack_store *st;
  tack_journal *j;
  tack_log_set_level(TACK_LOG_ERROR);
  if (tack_store_open(path, 0, &st) != 0 || tack_journal_open(st, "bot", &j) != 0)
    _exit(3);
  for (int i = 0; i < 1000000; i++) {
    char id[32], tid[48];
    snprintf(id, sizeof id, "C%d", i / 4);
    tack_order o = full_order(id, TACK_STATUS_OPEN, i);
    o.req.quantity = 1000;
    o.filled = 0;
    if (i % 4 == 0 && tack_journal_put_order(j, "acc", &o, (uint64_t)i / 4 + 2) != 0)
      _exit(4);
    o.status = TACK_STATUS_PARTIAL;
    for (int k = 0; k <= i % 4; k++)
      o.filled += 0.25 * (k + 1);
    snprintf(tid, sizeof tid, "r%d-t%d", round, i);
    tack_fill fl = full_fill(id, tid, 0.25 * (i % 4 + 1));
    uint64_t seq;
    if (tack_journal_put_fill(j, "acc", &fl, &o, &seq) != 0 || seq != (uint64_t)i + 1)
      _exit(5);
  }
  _exit(0);
}

typedef struct crash_check {
  tack_journal *j;
  uint64_t n;
  double sums[1 << 16];
  int bad;
} crash_check;

static int crash_fill(void *user, uint64_t seq, const tack_fill *f) {
  crash_check *c = user;
  int id = 0;
  if (seq != c->n + 1 || sscanf(f->client_id, "C%d", &id) != 1 || id < 0 || id >= (1 << 16) ||
      tack_journal_has_fill(c->j, "acc", f->trade_id) != 1)
    c->bad++;
  else
    c->sums[id] += f->quantity;
  c->n++;
  return 0;
}

typedef struct crash_orders {
  crash_check *c;
  int orders;
  int bad;
} crash_orders;

static int crash_order(void *user, const tack_order *o) {
  crash_orders *w = user;
  int id = 0;
  w->orders++;
  if (sscanf(o->req.client_id, "C%d", &id) != 1 || id < 0 || id >= (1 << 16) ||
      o->filled != w->c->sums[id])
    w->bad++;
  return 0;
}

static void test_crash_safety(void **state) {
  (void)state;
  srand((unsigned)time(NULL) ^ (unsigned)getpid());
  for (int round = 0; round < 3; round++) {
    fixture f;
    memset(&f, 0, sizeof f);
    assert_int_equal(make_dir(&f), 0);
    int wait_ms = 30 + rand() % 300;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
      crash_writer(f.path, round);
    struct timespec ts = {wait_ms / 1000, (long)(wait_ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    kill(pid, SIGKILL);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    /* Killed mid-write, not failed on its own. */
    if (!WIFSIGNALED(status))
      fail_msg("the writer exited with %d before it was killed", WEXITSTATUS(status));

    assert_int_equal(tack_store_open(f.path, 0, &f.st), 0);
    assert_int_equal(tack_journal_open(f.st, "bot", &f.j), 0);
    crash_check *c = calloc(1, sizeof *c);
    assert_non_null(c);
    c->j = f.j;
    assert_int_equal(tack_journal_each_fill(f.j, "acc", crash_fill, c), 0);
    assert_int_equal(c->bad, 0);
    crash_orders w = {c, 0, 0};
    assert_int_equal(tack_journal_each_order(f.j, "acc", crash_order, &w), 0);
    assert_int_equal(w.bad, 0);
    /* Every order with a fill is there; at most one more (written just
     * before its first fill). */
    uint64_t with_fills = c->n ? (c->n - 1) / 4 + 1 : 0;
    assert_true((uint64_t)w.orders == with_fills || (uint64_t)w.orders == with_fills + 1);
    uint64_t next;
    assert_int_equal(tack_journal_next_seq(f.j, "acc", &next), 0);
    assert_int_equal(next, (uint64_t)w.orders + 1);
    /* The sequence goes on without a gap. */
    tack_fill fl = full_fill("C0", "after-crash", 1);
    uint64_t seq;
    assert_int_equal(tack_journal_put_fill(f.j, "acc", &fl, NULL, &seq), 0);
    assert_int_equal(seq, c->n + 1);
    print_message("crash round %d: killed after %d ms with %llu fills and %d orders\n", round,
                  wait_ms, (unsigned long long)c->n, w.orders);
    free(c);
    close_all(&f);
    nftw(f.dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
  }
}

/* Writes the layout record straight into meta. */
static void write_layout(fixture *f, const void *val, size_t len) {
  MDB_env *env = tack_store_env(f->st);
  MDB_txn *txn;
  MDB_dbi meta = tack_store_meta_dbi(f->st);
  MDB_val k = {14, (void *)"trading_layout"}, v = {len, (void *)val};
  assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
  assert_int_equal(mdb_put(txn, meta, &k, &v, 0), 0);
  assert_int_equal(mdb_txn_commit(txn), 0);
}

static void test_layout_record(void **state) {
  fixture *f = *state;
  tack_journal *j;
  unsigned char two[4] = {2, 0, 0, 0}, zero[4] = {0, 0, 0, 0}, one[4] = {1, 0, 0, 0};
  write_layout(f, two, 4);
  assert_int_equal(tack_journal_open(f->st, "bot1", &j), TACK_ENOTSUP);
  assert_null(j);
  write_layout(f, zero, 4);
  assert_int_equal(tack_journal_open(f->st, "bot1", &j), TACK_EPARSE);
  write_layout(f, one, 3);
  assert_int_equal(tack_journal_open(f->st, "bot1", &j), TACK_EPARSE);
  write_layout(f, one, 4);
  assert_int_equal(tack_journal_open(f->st, "bot1", &j), 0);
  tack_journal_close(j);
  assert_int_equal(tack_journal_open(f->st, "", &j), TACK_EINVAL);
  assert_int_equal(tack_journal_open(NULL, "bot", &j), TACK_EINVAL);

  /* A fresh store gets the record. */
  close_all(f);
  assert_int_equal(tack_store_open(f->path, 0, &f->st), 0);
  assert_int_equal(tack_journal_open(f->st, "bot1", &f->j), 0);
  MDB_txn *txn;
  MDB_val k = {14, (void *)"trading_layout"}, v;
  assert_int_equal(mdb_txn_begin(tack_store_env(f->st), NULL, MDB_RDONLY, &txn), 0);
  assert_int_equal(mdb_get(txn, tack_store_meta_dbi(f->st), &k, &v), 0);
  assert_int_equal(v.mv_size, 4);
  assert_memory_equal(v.mv_data, one, 4);
  mdb_txn_abort(txn);
}

/* A record that does not decode is reported, not skipped. */
static void test_damaged_record_reported(void **state) {
  fixture *f = *state;
  tack_order o = full_order("T1", TACK_STATUS_OPEN, 1);
  assert_int_equal(tack_journal_put_order(f->j, "acc", &o, 2), 0);
  MDB_env *env = tack_store_env(f->st);
  MDB_txn *txn;
  MDB_dbi dbi;
  unsigned char key[] = "bot1\0o\0acc\0T2";
  MDB_val k = {sizeof key - 1, key}, v = {3, (void *)"bad"};
  assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
  assert_int_equal(mdb_dbi_open(txn, "trading", 0, &dbi), 0);
  assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
  unsigned char fkey[] = "bot1\0f\0acc\0\0\0\0\0\0\0\0\x09";
  MDB_val fk = {sizeof fkey - 1, fkey};
  assert_int_equal(mdb_put(txn, dbi, &fk, &v, 0), 0);
  assert_int_equal(mdb_txn_commit(txn), 0);
  seen s = {0};
  assert_int_equal(tack_journal_each_order(f->j, "acc", on_order, &s), TACK_EPARSE);
  assert_int_equal(s.n_orders, 1); /* T1 came first */
  assert_int_equal(tack_journal_each_fill(f->j, "acc", on_fill, &s), TACK_EPARSE);
  assert_int_equal(tack_journal_prune_orders(f->j, "acc", INT64_MAX), TACK_EPARSE);
}

static void test_prune(void **state) {
  fixture *f = *state;
  struct {
    const char *id;
    uint32_t status;
    tack_time updated;
    const char *link;
    int stays;
  } rows[] = {
      {"A-old-filled", TACK_STATUS_FILLED, 10, "", 0},
      {"B-old-cancelled", TACK_STATUS_CANCELLED, 20, "", 0},
      {"C-new-filled", TACK_STATUS_FILLED, 200, "", 1},
      {"D-old-open", TACK_STATUS_OPEN, 10, "", 1},
      {"E-old-entry", TACK_STATUS_FILLED, 10, "", 1}, /* a live exit links to it */
      {"F-live-exit", TACK_STATUS_OPEN, 300, "E-old-entry", 1},
      {"G-old-rejected", TACK_STATUS_REJECTED, 99, "B-old-cancelled", 0},
  };
  size_t n = sizeof rows / sizeof rows[0];
  for (size_t i = 0; i < n; i++) {
    tack_order o = full_order(rows[i].id, rows[i].status, rows[i].updated);
    tack_copy_text(o.link, sizeof o.link, rows[i].link);
    assert_int_equal(tack_journal_put_order(f->j, "acc", &o, 50), 0);
    assert_int_equal(tack_journal_put_order(f->j, "other", &o, 50), 0);
  }
  assert_int_equal(tack_journal_prune_orders(f->j, "acc", 100), 3);
  seen s = {0};
  assert_int_equal(tack_journal_each_order(f->j, "acc", on_order, &s), 0);
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    if (!rows[i].stays)
      continue;
    assert_true(k < s.n_orders);
    assert_string_equal(s.orders[k].req.client_id, rows[i].id);
    k++;
  }
  assert_int_equal(s.n_orders, k);
  assert_int_equal(tack_journal_prune_orders(f->j, "acc", 100), 0);
  memset(&s, 0, sizeof s);
  assert_int_equal(tack_journal_each_order(f->j, "other", on_order, &s), 0);
  assert_int_equal(s.n_orders, n); /* another account is untouched */
}

static void test_state_blobs(void **state) {
  fixture *f = *state;
  char buf[16];
  size_t len = 99;
  assert_int_equal(tack_journal_get_state(f->j, "lock", buf, sizeof buf, &len), TACK_ENOENT);
  assert_int_equal(tack_journal_put_state(f->j, "lock", "0123456789", 10), 0);
  assert_int_equal(tack_journal_get_state(f->j, "lock", buf, sizeof buf, &len), 0);
  assert_int_equal(len, 10);
  assert_memory_equal(buf, "0123456789", 10);
  memset(buf, 0, sizeof buf);
  assert_int_equal(tack_journal_get_state(f->j, "lock", buf, 4, &len), TACK_ENOSPC);
  assert_int_equal(len, 10);
  assert_memory_equal(buf, "0123", 4);
  assert_int_equal(buf[4], 0);
  assert_int_equal(tack_journal_get_state(f->j, "lock", NULL, 0, &len), TACK_ENOSPC);
  assert_int_equal(len, 10);
  assert_int_equal(tack_journal_put_state(f->j, "lock", "", 0), 0); /* empty, replacing */
  assert_int_equal(tack_journal_get_state(f->j, "lock", buf, sizeof buf, &len), 0);
  assert_int_equal(len, 0);
  assert_int_equal(tack_journal_put_state(f->j, "", "x", 1), TACK_EINVAL);
  assert_int_equal(tack_journal_put_state(f->j, "x", NULL, 1), TACK_EINVAL);
  char long_name[600];
  memset(long_name, 'n', sizeof long_name - 1);
  long_name[sizeof long_name - 1] = 0;
  assert_int_equal(tack_journal_put_state(f->j, long_name, "x", 1), TACK_ERANGE);

  /* A full store is TACK_ENOSPC, and what was there stays. */
  fixture small;
  memset(&small, 0, sizeof small);
  assert_int_equal(make_dir(&small), 0);
  assert_int_equal(tack_store_open(small.path, (size_t)1 << 20, &small.st), 0);
  assert_int_equal(tack_journal_open(small.st, "bot", &small.j), 0);
  assert_int_equal(tack_journal_put_state(small.j, "a", "kept", 4), 0);
  size_t big_len = (size_t)2 << 20;
  char *big = calloc(1, big_len);
  assert_non_null(big);
  assert_int_equal(tack_journal_put_state(small.j, "big", big, big_len), TACK_ENOSPC);
  free(big);
  assert_int_equal(tack_journal_get_state(small.j, "a", buf, sizeof buf, &len), 0);
  assert_memory_equal(buf, "kept", 4);
  assert_int_equal(tack_journal_get_state(small.j, "big", buf, sizeof buf, &len), TACK_ENOENT);
  close_all(&small);
  nftw(small.dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void test_key_limits(void **state) {
  fixture *f = *state;
  char long_id[TACK_ORDER_ID_MAX];
  memset(long_id, 'i', sizeof long_id - 1);
  long_id[sizeof long_id - 1] = 0;
  char account[480];
  memset(account, 'a', sizeof account - 1);
  account[sizeof account - 1] = 0;
  tack_order o = full_order(long_id, TACK_STATUS_OPEN, 1);
  assert_int_equal(tack_journal_put_order(f->j, account, &o, 2), TACK_ERANGE);
  assert_int_equal(tack_journal_put_order(f->j, "", &o, 2), TACK_EINVAL);
  assert_int_equal(tack_journal_put_order(f->j, NULL, &o, 2), TACK_EINVAL);
  o = full_order("", TACK_STATUS_OPEN, 1);
  assert_int_equal(tack_journal_put_order(f->j, "acc", &o, 2), TACK_EINVAL);
  uint64_t next;
  assert_int_equal(tack_journal_next_seq(f->j, "acc", &next), 0);
  assert_int_equal(next, 1); /* the refused writes wrote nothing */
  assert_int_equal(tack_journal_has_fill(f->j, "acc", ""), TACK_EINVAL);
}

int main(void) {
  tack_log_set_level(TACK_LOG_ERROR + (getenv("TACK_TEST_VERBOSE") ? 3 : 0));
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_order_round_trip, setup, teardown),
      cmocka_unit_test_setup_teardown(test_fill_round_trip, setup, teardown),
      cmocka_unit_test(test_decode_refusals),
      cmocka_unit_test(test_decode_fuzz),
      cmocka_unit_test_setup_teardown(test_bots_and_accounts_isolated, setup, teardown),
      cmocka_unit_test_setup_teardown(test_duplicate_fill_writes_nothing, setup, teardown),
      cmocka_unit_test_setup_teardown(test_fills_in_sequence_order, setup, teardown),
      cmocka_unit_test(test_crash_safety),
      cmocka_unit_test_setup_teardown(test_layout_record, setup, teardown),
      cmocka_unit_test_setup_teardown(test_damaged_record_reported, setup, teardown),
      cmocka_unit_test_setup_teardown(test_prune, setup, teardown),
      cmocka_unit_test_setup_teardown(test_state_blobs, setup, teardown),
      cmocka_unit_test_setup_teardown(test_key_limits, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
