/*
 * candles.c: candles in the store's "candles" database, and their CSV form;
 * see candles.h for the layout and the contract, docs/data.md for the why.
 *
 * A handle keeps one read transaction, reset and renewed between reads (as
 * store.c does), so that a range read costs no allocation. Writes use one
 * write transaction per call, committed before returning or aborted.
 */
#include "candles.h"

#include <errno.h>
#include <stdarg.h>
#include <lmdb.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "log.h"

#define WHO "candles"
#define DB_NAME "candles"
#define DB_FLAGS (MDB_DUPSORT | MDB_DUPFIXED)
#define KEY_MAX (TACK_CANDLES_SYMBOL_MAX + 1 + 4)
#define VAL TACK_CANDLES_VALUE_SIZE
#define SIGN_BIT (UINT64_C(1) << 63)
#define READ_BATCH 256 /* candles per callback: 16 KiB of tack_bar */

struct tack_candles {
  tack_store *st;
  MDB_env *env;
  MDB_dbi dbi;
  MDB_txn *rtxn;              /* reset between reads; NULL until the first read */
  tack_bar batch[READ_BATCH]; /* what a read hands its callback */
};

/* ------------------------------------------------------------------------ */
/* Encoding                                                                  */
/* ------------------------------------------------------------------------ */

/* Spelled out byte by byte so that the compiler makes each one bswap. */
static void put_be64(unsigned char *p, uint64_t v) {
  p[0] = (unsigned char)(v >> 56);
  p[1] = (unsigned char)(v >> 48);
  p[2] = (unsigned char)(v >> 40);
  p[3] = (unsigned char)(v >> 32);
  p[4] = (unsigned char)(v >> 24);
  p[5] = (unsigned char)(v >> 16);
  p[6] = (unsigned char)(v >> 8);
  p[7] = (unsigned char)v;
}

static uint64_t get_be64(const unsigned char *p) {
  return (uint64_t)p[0] << 56 | (uint64_t)p[1] << 48 | (uint64_t)p[2] << 40 | (uint64_t)p[3] << 32 |
         (uint64_t)p[4] << 24 | (uint64_t)p[5] << 16 | (uint64_t)p[6] << 8 | (uint64_t)p[7];
}

/* Flipping the sign bit maps INT64_MIN..INT64_MAX onto 0..UINT64_MAX in
 * order, so big-endian bytes compare like the times. */
static uint64_t time_enc(tack_time t) { return (uint64_t)t ^ SIGN_BIT; }

static tack_time time_dec(uint64_t u) {
  uint64_t v = u ^ SIGN_BIT;
  tack_time t;
  memcpy(&t, &v, sizeof t); /* two's complement, without an out-of-range conversion */
  return t;
}

static void val_enc(const tack_bar *b, unsigned char *p) {
  put_be64(p, time_enc(b->ts));
  memcpy(p + 8, &b->open, 8);
  memcpy(p + 16, &b->high, 8);
  memcpy(p + 24, &b->low, 8);
  memcpy(p + 32, &b->close, 8);
  memcpy(p + 40, &b->volume, 8);
}

/* t is the value's time as get_be64() read it. */
static void val_dec(const unsigned char *p, uint64_t t, uint32_t tf, tack_bar *b) {
  b->ts = time_dec(t);
  memcpy(&b->open, p + 8, 8);
  memcpy(&b->high, p + 16, 8);
  memcpy(&b->low, p + 24, 8);
  memcpy(&b->close, p + 32, 8);
  memcpy(&b->volume, p + 40, 8);
  b->timeframe_s = tf;
  b->flags = TACK_BAR_CLOSED;
}

int tack_candles_symbol_check(const char *symbol) {
  if (!symbol)
    return TACK_EINVAL;
  size_t n = strlen(symbol);
  if (n == 0 || n > TACK_CANDLES_SYMBOL_MAX)
    return TACK_EINVAL;
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)symbol[i] < 0x21 || (unsigned char)symbol[i] > 0x7e)
      return TACK_EINVAL;
  return 0;
}

/* The series key: symbol, 0x00, timeframe big-endian. */
static int key_enc(const char *symbol, uint32_t tf, unsigned char *buf, MDB_val *k) {
  if (tack_candles_symbol_check(symbol) != 0 || tf == 0)
    return TACK_EINVAL;
  size_t n = strlen(symbol);
  memcpy(buf, symbol, n);
  buf[n] = 0;
  for (int i = 0; i < 4; i++)
    buf[n + 1 + (size_t)i] = (unsigned char)(tf >> (24 - 8 * i));
  k->mv_size = n + 5;
  k->mv_data = buf;
  return 0;
}

static int key_dec(const MDB_val *k, tack_candles_series *s) {
  const unsigned char *p = k->mv_data;
  if (k->mv_size < 6 || k->mv_size > KEY_MAX || p[k->mv_size - 5] != 0)
    return TACK_EPARSE;
  size_t n = k->mv_size - 5;
  memcpy(s->symbol, p, n);
  s->symbol[n] = '\0';
  if (tack_candles_symbol_check(s->symbol) != 0)
    return TACK_EPARSE;
  s->timeframe_s = (uint32_t)p[n + 1] << 24 | (uint32_t)p[n + 2] << 16 | (uint32_t)p[n + 3] << 8 |
                   (uint32_t)p[n + 4];
  return s->timeframe_s ? 0 : TACK_EPARSE;
}

/* ------------------------------------------------------------------------ */
/* Opening and the layout record                                             */
/* ------------------------------------------------------------------------ */

static int fail_mdb(const tack_candles *cs, const char *what, int mrc) {
  if (mrc == MDB_MAP_FULL) {
    MDB_envinfo info;
    mdb_env_info(cs->env, &info);
    tack_log(TACK_LOG_ERROR, WHO,
             "%s: %s: the store is full (map size %zu MiB): delete series that are no longer "
             "needed (tack data rm), or use another store",
             tack_store_path(cs->st), what, info.me_mapsize >> 20);
  } else {
    tack_log(TACK_LOG_ERROR, WHO, "%s: %s: %s", tack_store_path(cs->st), what, mdb_strerror(mrc));
  }
  return tack_store_error(mrc);
}

static const tack_store_db candles_db = {
    DB_NAME, DB_FLAGS, TACK_CANDLES_LAYOUT, WHO,
    "use the tack that wrote them (tack data export, then import here), or another store"};

int tack_candles_open(tack_store *st, tack_candles **out) {
  int rc;
  tack_candles *cs = NULL;
  if (!out)
    return TACK_EINVAL;
  *out = NULL;
  if (!st)
    return TACK_EINVAL;
  cs = tack_calloc(NULL, 1, sizeof *cs);
  if (!cs)
    return TACK_ENOMEM;
  cs->st = st;
  cs->env = tack_store_env(st);
  rc = tack_store_open_db(st, &candles_db, &cs->dbi);
  if (rc != 0)
    goto fail;
  *out = cs;
  return 0;

fail:
  tack_free(NULL, cs);
  return rc;
}

void tack_candles_close(tack_candles *cs) {
  if (!cs)
    return;
  if (cs->rtxn)
    mdb_txn_abort(cs->rtxn);
  tack_free(NULL, cs);
}

/* A reset read transaction is renewed, so reads after the first allocate
 * nothing; end_read() resets it again. */
static int begin_read(tack_candles *cs, MDB_txn **txn) {
  int mrc =
      cs->rtxn ? mdb_txn_renew(cs->rtxn) : mdb_txn_begin(cs->env, NULL, MDB_RDONLY, &cs->rtxn);
  if (mrc != 0) {
    if (cs->rtxn) {
      mdb_txn_abort(cs->rtxn);
      cs->rtxn = NULL;
    }
    return fail_mdb(cs, "cannot begin a read", mrc);
  }
  *txn = cs->rtxn;
  return 0;
}

static void end_read(tack_candles *cs, MDB_cursor *cur) {
  if (cur)
    mdb_cursor_close(cur);
  mdb_txn_reset(cs->rtxn);
}

/* ------------------------------------------------------------------------ */
/* Checking candles                                                          */
/* ------------------------------------------------------------------------ */

int tack_candle_check(const tack_bar *b, uint32_t tf, char *why, size_t cap) {
  static const char *const names[5] = {"open", "high", "low", "close", "volume"};
  const double v[5] = {b->open, b->high, b->low, b->close, b->volume};
  char ts[32];
  if (cap)
    why[0] = '\0';
  if (tf == 0) {
    snprintf(why, cap, "the timeframe is 0 seconds");
    return TACK_EINVAL;
  }
  for (int i = 0; i < 5; i++) {
    if (!isfinite(v[i])) {
      snprintf(why, cap, "%s is %g, not a finite number", names[i], v[i]);
      return TACK_EINVAL;
    }
  }
  if (b->low > b->open || b->low > b->close) {
    int vs_open = b->low > b->open;
    snprintf(why, cap, "low %.15g is above %s %.15g: a candle needs low <= open, close <= high",
             b->low, vs_open ? "open" : "close", vs_open ? b->open : b->close);
    return TACK_EINVAL;
  }
  if (b->high < b->open || b->high < b->close) {
    int vs_open = b->high < b->open;
    snprintf(why, cap, "high %.15g is below %s %.15g: a candle needs low <= open, close <= high",
             b->high, vs_open ? "open" : "close", vs_open ? b->open : b->close);
    return TACK_EINVAL;
  }
  if (b->volume < 0) {
    snprintf(why, cap, "volume %.15g is negative", b->volume);
    return TACK_EINVAL;
  }
  if (b->ts % ((tack_time)tf * TACK_NS_PER_SEC) != 0) {
    tack_candles_format_seconds(b->ts, ts, sizeof ts);
    snprintf(why, cap,
             "ts %s is not on the timeframe's grid: a candle of %lu s starts at a multiple of "
             "%lu s from the epoch",
             ts, (unsigned long)tf, (unsigned long)tf);
    return TACK_EINVAL;
  }
  return 0;
}

/* ------------------------------------------------------------------------ */
/* Writing                                                                   */
/* ------------------------------------------------------------------------ */

/* Every candle valid and times strictly increasing, before anything is
 * written. */
static int check_batch(const tack_candles *cs, const char *symbol, uint32_t tf,
                       const tack_bar *bars, size_t n) {
  char why[256];
  for (size_t i = 0; i < n; i++) {
    if (tack_candle_check(&bars[i], tf, why, sizeof why) != 0) {
      tack_log(TACK_LOG_ERROR, WHO, "%s: %s: candle %zu of %zu: %s: nothing written",
               tack_store_path(cs->st), symbol, i, n, why);
      return TACK_EINVAL;
    }
    if (i > 0 && bars[i].ts <= bars[i - 1].ts) {
      tack_log(TACK_LOG_ERROR, WHO,
               "%s: %s: candle %zu of %zu is not later than the one before it: candles must be "
               "in strictly increasing time; nothing written",
               tack_store_path(cs->st), symbol, i, n);
      return TACK_EINVAL;
    }
  }
  return 0;
}

int tack_candles_put(tack_candles *cs, const char *symbol, uint32_t tf, const tack_bar *bars,
                     size_t n, uint8_t *status, tack_candles_stats *stats) {
  unsigned char kbuf[KEY_MAX];
  unsigned char *vals = NULL;
  MDB_txn *txn = NULL;
  MDB_cursor *cur = NULL;
  MDB_val key, k, v;
  tack_candles_stats counts = {0, 0, 0};
  uint64_t last = 0;
  int have_last = 0;
  size_t i = 0;
  int mrc, rc;

  if (!cs || (n && !bars) || key_enc(symbol, tf, kbuf, &key) != 0)
    return TACK_EINVAL;
  if (n == 0)
    goto done;
  if ((rc = check_batch(cs, symbol, tf, bars, n)) != 0)
    return rc;
  if (n > SIZE_MAX / VAL)
    return TACK_ENOMEM;
  vals = tack_alloc(NULL, n * VAL);
  if (!vals)
    return TACK_ENOMEM;
  for (size_t j = 0; j < n; j++)
    val_enc(&bars[j], vals + j * VAL);

  mrc = mdb_txn_begin(cs->env, NULL, 0, &txn);
  if (mrc == 0)
    mrc = mdb_cursor_open(txn, cs->dbi, &cur);
  if (mrc != 0)
    goto fail_mdb;

  k = key;
  mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY);
  if (mrc == 0) {
    mrc = mdb_cursor_get(cur, &k, &v, MDB_LAST_DUP);
    if (mrc != 0)
      goto fail_mdb;
    last = get_be64(v.mv_data);
    have_last = 1;
  } else if (mrc != MDB_NOTFOUND) {
    goto fail_mdb;
  }

  /* Candles up to the series' last one may be stored already: look each up.
   * The probe (time, then zero bytes) sorts first among values of its time,
   * so MDB_GET_BOTH_RANGE lands on the stored candle of that time if any. */
  for (; have_last && i < n && get_be64(vals + i * VAL) <= last; i++) {
    unsigned char *val = vals + i * VAL;
    unsigned char probe[VAL] = {0};
    uint8_t outcome;
    memcpy(probe, val, 8);
    k = key;
    v.mv_size = VAL;
    v.mv_data = probe;
    mrc = mdb_cursor_get(cur, &k, &v, MDB_GET_BOTH_RANGE);
    if (mrc != 0 && mrc != MDB_NOTFOUND)
      goto fail_mdb;
    if (mrc == 0 && memcmp(v.mv_data, val, 8) == 0) {
      if (memcmp(v.mv_data, val, VAL) == 0) {
        outcome = TACK_CANDLE_UNCHANGED;
        counts.unchanged++;
      } else {
        /* Same time, so the new value sorts into the same place: LMDB
         * overwrites it where it is. */
        MDB_val nv = {VAL, val};
        k = key;
        if ((mrc = mdb_cursor_put(cur, &k, &nv, MDB_CURRENT)) != 0)
          goto fail_mdb;
        outcome = TACK_CANDLE_REPLACED;
        counts.replaced++;
      }
    } else {
      MDB_val nv = {VAL, val};
      k = key;
      if ((mrc = mdb_cursor_put(cur, &k, &nv, 0)) != 0)
        goto fail_mdb;
      outcome = TACK_CANDLE_ADDED;
      counts.added++;
    }
    if (status)
      status[i] = outcome;
  }

  /* The rest is later than anything stored: append it in one call, which
   * finds the key once and appends each value to the end of its pages. */
  if (i < n) {
    MDB_val many[2] = {{VAL, vals + i * VAL}, {n - i, NULL}};
    k = key;
    if ((mrc = mdb_cursor_put(cur, &k, many, MDB_MULTIPLE | MDB_APPENDDUP)) != 0)
      goto fail_mdb;
    counts.added += n - i;
    if (status)
      memset(status + i, TACK_CANDLE_ADDED, n - i);
  }

  mdb_cursor_close(cur);
  cur = NULL;
  if (counts.added + counts.replaced == 0) {
    mdb_txn_abort(txn); /* nothing changed: nothing to make durable */
  } else if ((mrc = mdb_txn_commit(txn)) != 0) {
    txn = NULL;
    goto fail_mdb;
  }
  txn = NULL;
  tack_free(NULL, vals);

done:
  if (stats)
    *stats = counts;
  return 0;

fail_mdb:
  rc = fail_mdb(cs, "cannot store candles (nothing written)", mrc);
  if (cur)
    mdb_cursor_close(cur);
  if (txn)
    mdb_txn_abort(txn);
  tack_free(NULL, vals);
  return rc;
}

int tack_candles_delete(tack_candles *cs, const char *symbol, uint32_t tf, uint64_t *deleted) {
  unsigned char kbuf[KEY_MAX];
  MDB_txn *txn = NULL;
  MDB_cursor *cur = NULL;
  MDB_val key, v;
  size_t count = 0;
  int mrc, rc;

  if (!cs || key_enc(symbol, tf, kbuf, &key) != 0)
    return TACK_EINVAL;
  mrc = mdb_txn_begin(cs->env, NULL, 0, &txn);
  if (mrc == 0)
    mrc = mdb_cursor_open(txn, cs->dbi, &cur);
  if (mrc == 0)
    mrc = mdb_cursor_get(cur, &key, &v, MDB_SET_KEY);
  if (mrc == MDB_NOTFOUND) {
    rc = TACK_ENOENT;
    goto fail;
  }
  if (mrc == 0)
    mrc = mdb_cursor_count(cur, &count);
  if (mrc == 0)
    mrc = mdb_cursor_del(cur, MDB_NODUPDATA); /* the key and all its values */
  if (mrc != 0) {
    rc = fail_mdb(cs, "cannot delete a series", mrc);
    goto fail;
  }
  mdb_cursor_close(cur);
  cur = NULL;
  mrc = mdb_txn_commit(txn);
  txn = NULL;
  if (mrc != 0) {
    rc = fail_mdb(cs, "cannot delete a series", mrc);
    goto fail;
  }
  if (deleted)
    *deleted = count;
  return 0;

fail:
  if (cur)
    mdb_cursor_close(cur);
  if (txn)
    mdb_txn_abort(txn);
  return rc;
}

/* ------------------------------------------------------------------------ */
/* Reading                                                                   */
/* ------------------------------------------------------------------------ */

typedef struct read_state {
  uint64_t from, to; /* encoded times */
  uint32_t tf;
  tack_candles_fn fn; /* NULL: fill batch once, up to cap, then stop */
  void *data;
  tack_bar *batch;
  size_t cap, n;
  int done; /* a candle at or after `to` was seen, or batch is full (fn NULL) */
} read_state;

static int flush(read_state *rs) {
  int rc = rs->fn && rs->n ? rs->fn(rs->data, rs->batch, rs->n) : 0;
  if (rs->fn)
    rs->n = 0;
  return rc;
}

/* Decodes the values of one page (count of them, packed) that fall in the
 * range; only the first page of a scan holds values before `from`. */
static int take(read_state *rs, const unsigned char *p, size_t count) {
  size_t n = rs->n;
  int rc = 0;
  for (size_t j = 0; j < count; j++, p += VAL) {
    uint64_t t = get_be64(p);
    if (t < rs->from)
      continue;
    if (t >= rs->to) {
      rs->done = 1;
      break;
    }
    val_dec(p, t, rs->tf, &rs->batch[n]);
    if (++n == rs->cap) {
      if (!rs->fn) {
        rs->done = 1;
        break;
      }
      rs->n = n;
      rc = flush(rs);
      n = 0;
      if (rc)
        break;
    }
  }
  rs->n = n;
  return rc;
}

/* The scan both reads share: the values of the series in [rs->from, rs->to)
 * handed to take(), page by page, from one read transaction. */
static int scan(tack_candles *cs, const MDB_val *key, read_state *rs) {
  unsigned char probe[VAL] = {0};
  MDB_txn *txn = NULL;
  MDB_cursor *cur = NULL;
  MDB_val k, v;
  size_t count = 0;
  int mrc = 0, rc;

  if ((rc = begin_read(cs, &txn)) != 0)
    return rc;
  mrc = mdb_cursor_open(txn, cs->dbi, &cur);
  if (mrc == 0) {
    k = *key;
    mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY);
  }
  if (mrc == MDB_NOTFOUND) {
    rc = TACK_ENOENT;
    goto out;
  }
  if (mrc != 0 || rs->from >= rs->to || rs->cap == 0)
    goto mdb_out;

  /* The probe (time, then zero bytes) sorts first among values of its
   * time, so MDB_GET_BOTH_RANGE lands on the first value at or after
   * `from`. */
  put_be64(probe, rs->from);
  k = *key;
  v.mv_size = VAL;
  v.mv_data = probe;
  mrc = mdb_cursor_get(cur, &k, &v, MDB_GET_BOTH_RANGE);
  if (mrc == MDB_NOTFOUND) { /* nothing at or after `from` */
    mrc = 0;
    goto mdb_out;
  }
  if (mrc == 0)
    mrc = mdb_cursor_count(cur, &count);
  if (mrc != 0)
    goto mdb_out;
  if (count == 1) {
    /* A lone value is kept in the key's node, not in a page of duplicates
     * that MDB_GET_MULTIPLE could return. */
    rc = take(rs, v.mv_data, 1);
  } else {
    /* MDB_GET_MULTIPLE returns the whole page holding the cursor, from its
     * start; take() skips what lies before `from`. */
    mrc = mdb_cursor_get(cur, &k, &v, MDB_GET_MULTIPLE);
    while (mrc == 0 && rc == 0 && !rs->done) {
      rc = take(rs, v.mv_data, v.mv_size / VAL);
      if (rc == 0 && !rs->done)
        mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT_MULTIPLE);
    }
    if (mrc == MDB_NOTFOUND)
      mrc = 0;
  }

mdb_out:
  if (mrc != 0)
    rc = fail_mdb(cs, "cannot read candles", mrc);
  else if (rc == 0)
    rc = flush(rs);
out:
  end_read(cs, cur);
  return rc;
}

int tack_candles_read(tack_candles *cs, const char *symbol, uint32_t tf, tack_time from,
                      tack_time to, tack_candles_fn fn, void *data) {
  unsigned char kbuf[KEY_MAX];
  MDB_val key;
  if (!cs || !fn || key_enc(symbol, tf, kbuf, &key) != 0)
    return TACK_EINVAL;
  read_state rs = {time_enc(from), time_enc(to), tf, fn, data, cs->batch, READ_BATCH, 0, 0};
  return scan(cs, &key, &rs);
}

int tack_candles_read_page(tack_candles *cs, const char *symbol, uint32_t tf, tack_time from,
                           tack_time to, tack_bar *bars, size_t cap, size_t *n) {
  unsigned char kbuf[KEY_MAX];
  MDB_val key;
  if (n)
    *n = 0;
  if (!cs || !n || (cap && !bars) || key_enc(symbol, tf, kbuf, &key) != 0)
    return TACK_EINVAL;
  read_state rs = {time_enc(from), time_enc(to), tf, NULL, NULL, bars, cap, 0, 0};
  int rc = scan(cs, &key, &rs);
  if (rc == 0)
    *n = rs.n;
  return rc;
}

int tack_candles_info(tack_candles *cs, const char *symbol, uint32_t tf, uint64_t *count,
                      tack_time *first, tack_time *last) {
  unsigned char kbuf[KEY_MAX];
  MDB_txn *txn = NULL;
  MDB_cursor *cur = NULL;
  MDB_val key, v;
  size_t n = 0;
  tack_time t0 = 0;
  int mrc, rc;

  if (!cs || key_enc(symbol, tf, kbuf, &key) != 0)
    return TACK_EINVAL;
  if ((rc = begin_read(cs, &txn)) != 0)
    return rc;
  mrc = mdb_cursor_open(txn, cs->dbi, &cur);
  if (mrc == 0)
    mrc = mdb_cursor_get(cur, &key, &v, MDB_SET_KEY);
  if (mrc == MDB_NOTFOUND) {
    rc = TACK_ENOENT;
    goto out;
  }
  if (mrc == 0 && v.mv_size == VAL) {
    t0 = time_dec(get_be64(v.mv_data));
    mrc = mdb_cursor_count(cur, &n);
  }
  if (mrc == 0)
    mrc = mdb_cursor_get(cur, &key, &v, MDB_LAST_DUP);
  if (mrc != 0) {
    rc = fail_mdb(cs, "cannot read a series", mrc);
    goto out;
  }
  if (v.mv_size != VAL) {
    tack_log(TACK_LOG_ERROR, WHO,
             "%s: the series %s of %lu s holds a value of %zu bytes, not a candle: the store is "
             "damaged",
             tack_store_path(cs->st), symbol, (unsigned long)tf, v.mv_size);
    rc = TACK_EPARSE;
    goto out;
  }
  if (count)
    *count = n;
  if (first)
    *first = t0;
  if (last)
    *last = time_dec(get_be64(v.mv_data));
  rc = 0;
out:
  end_read(cs, cur);
  return rc;
}

int tack_candles_list(tack_candles *cs, tack_candles_series **out, size_t *n) {
  MDB_txn *txn = NULL;
  MDB_cursor *cur = NULL;
  MDB_val k, v;
  tack_candles_series *list = NULL;
  size_t len = 0, cap = 0;
  int mrc, rc;

  if (!cs || !out || !n)
    return TACK_EINVAL;
  *out = NULL;
  *n = 0;
  if ((rc = begin_read(cs, &txn)) != 0)
    return rc;
  mrc = mdb_cursor_open(txn, cs->dbi, &cur);
  if (mrc == 0)
    mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
  while (mrc == 0) {
    if (len == cap) {
      size_t ncap = cap ? cap * 2 : 16;
      tack_candles_series *grown = tack_realloc(NULL, list, ncap * sizeof *grown);
      if (!grown) {
        rc = TACK_ENOMEM;
        goto fail;
      }
      list = grown;
      cap = ncap;
    }
    tack_candles_series *s = &list[len];
    if (key_dec(&k, s) != 0 || v.mv_size != VAL) {
      tack_log(TACK_LOG_ERROR, WHO,
               "%s: the candles database holds a record that is not a candle (key of %zu bytes, "
               "value of %zu): the store is damaged",
               tack_store_path(cs->st), k.mv_size, v.mv_size);
      rc = TACK_EPARSE;
      goto fail;
    }
    size_t count = 0;
    s->first = time_dec(get_be64(v.mv_data));
    mrc = mdb_cursor_count(cur, &count);
    if (mrc == 0)
      mrc = mdb_cursor_get(cur, &k, &v, MDB_LAST_DUP);
    if (mrc != 0)
      break;
    s->count = count;
    s->last = time_dec(get_be64(v.mv_data));
    len++;
    mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT_NODUP);
  }
  if (mrc != MDB_NOTFOUND) {
    rc = fail_mdb(cs, "cannot list the series", mrc);
    goto fail;
  }
  end_read(cs, cur);
  if (len == 0) {
    tack_free(NULL, list);
    list = NULL;
  }
  *out = list;
  *n = len;
  return 0;

fail:
  end_read(cs, cur);
  tack_free(NULL, list);
  return rc;
}

/* ------------------------------------------------------------------------ */
/* CSV                                                                       */
/* ------------------------------------------------------------------------ */

static int is_digit(char c) { return c >= '0' && c <= '9'; }

int tack_candles_parse_seconds(const char *text, size_t len, tack_time *out) {
  const char *p = text, *end = text + len;
  uint64_t secs = 0, frac = 0;
  int neg = 0, digits = 0;
  if (p < end && *p == '-') {
    neg = 1;
    p++;
  }
  /* 9223372036 s is the most int64 nanoseconds hold; a few more digits are
   * read so that "09223372037" is out of range rather than malformed. */
  for (; p < end && is_digit(*p); p++, digits++) {
    if (secs > UINT64_C(100000000000))
      return TACK_ERANGE;
    secs = secs * 10 + (uint64_t)(*p - '0');
  }
  if (digits == 0)
    return TACK_EPARSE;
  if (p < end && *p == '.') {
    int fd = 0;
    for (p++; p < end && is_digit(*p); p++, fd++) {
      if (fd == 9)
        return TACK_EPARSE;
      frac = frac * 10 + (uint64_t)(*p - '0');
    }
    if (fd == 0)
      return TACK_EPARSE;
    for (; fd < 9; fd++)
      frac *= 10;
  }
  if (p != end)
    return TACK_EPARSE;
  const uint64_t limit = neg ? SIGN_BIT : SIGN_BIT - 1; /* |INT64_MIN|, INT64_MAX */
  const uint64_t ns_per_s = (uint64_t)TACK_NS_PER_SEC;
  if (secs > limit / ns_per_s || secs * ns_per_s > limit - frac)
    return TACK_ERANGE;
  uint64_t mag = secs * ns_per_s + frac;
  *out = neg ? (mag == SIGN_BIT ? INT64_MIN : -(tack_time)mag) : (tack_time)mag;
  return 0;
}

int tack_candles_format_seconds(tack_time t, char *buf, size_t cap) {
  uint64_t mag = t < 0 ? (uint64_t)0 - (uint64_t)t : (uint64_t)t;
  uint64_t secs = mag / (uint64_t)TACK_NS_PER_SEC;
  uint64_t frac = mag % (uint64_t)TACK_NS_PER_SEC;
  const char *sign = t < 0 ? "-" : "";
  if (frac == 0)
    return snprintf(buf, cap, "%s%llu", sign, (unsigned long long)secs);
  int width = 9;
  for (; frac % 10 == 0; frac /= 10)
    width--;
  return snprintf(buf, cap, "%s%llu.%0*llu", sign, (unsigned long long)secs, width,
                  (unsigned long long)frac);
}

size_t tack_candles_csv_row(const tack_bar *b, char *buf) {
  char ts[32];
  tack_candles_format_seconds(b->ts, ts, sizeof ts);
  int n = snprintf(buf, TACK_CANDLES_CSV_ROW_MAX, "%s,%.17g,%.17g,%.17g,%.17g,%.17g\n", ts, b->open,
                   b->high, b->low, b->close, b->volume);
  return n < 0 ? 0 : (size_t)n;
}

/* A decimal number: [+-] digits [. digits] [(e|E) [+-] digits], with at
 * least one digit before the exponent. Checked before strtod, which would
 * also take spaces, "inf", "nan" and hex. */
static int parse_double(const char *s, size_t len, double *out) {
  char buf[64];
  size_t i = 0, digits = 0;
  if (len == 0 || len >= sizeof buf)
    return TACK_EPARSE;
  if (s[i] == '+' || s[i] == '-')
    i++;
  for (; i < len && is_digit(s[i]); i++)
    digits++;
  if (i < len && s[i] == '.')
    for (i++; i < len && is_digit(s[i]); i++)
      digits++;
  if (digits == 0)
    return TACK_EPARSE;
  if (i < len && (s[i] == 'e' || s[i] == 'E')) {
    size_t exp_digits = 0;
    i++;
    if (i < len && (s[i] == '+' || s[i] == '-'))
      i++;
    for (; i < len && is_digit(s[i]); i++)
      exp_digits++;
    if (exp_digits == 0)
      return TACK_EPARSE;
  }
  if (i != len)
    return TACK_EPARSE;
  memcpy(buf, s, len);
  buf[len] = '\0';
  char *end;
  errno = 0;
  double v = strtod(buf, &end);
  if (end != buf + len)
    return TACK_EPARSE;
  if (errno == ERANGE && isinf(v))
    return TACK_ERANGE; /* underflow to a subnormal or zero is a value */
  *out = v;
  return 0;
}

/* What csv_parse keeps while it walks the lines. */
typedef struct csv_reader {
  const char *name;
  uint32_t tf;
  size_t bad;
  size_t max_msgs;
  tack_diag *d;
} csv_reader;

static void bad_line(csv_reader *r, size_t line, const char *fmt, ...) TACK_PRINTF(3, 4);

static void bad_line(csv_reader *r, size_t line, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  if (r->bad++ >= r->max_msgs || !r->d)
    return;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  tack_diag_add(r->d, r->name, line > (size_t)INT32_MAX ? INT32_MAX : (int)line, NULL, "%s", msg);
}

/* Shown in messages: at most 40 bytes of a field. */
#define FIELD_SHOWN(len) ((int)((len) > 40 ? 40 : (len)))

/* parse_row()'s outcomes. */
#define ROW_OK 0
#define ROW_BAD 1     /* reported; b->ts holds the row's time */
#define ROW_NO_TIME 2 /* reported; the row has no usable time */

/* Parses one row (without its line end) into *b. */
static int parse_row(csv_reader *r, size_t line, const char *s, size_t len, tack_bar *b) {
  static const char *const names[6] = {"ts", "open", "high", "low", "close", "volume"};
  const char *field[6];
  size_t flen[6];
  size_t nf = 0;
  const char *p = s, *end = s + len;
  char why[256];

  if (len == 0) {
    bad_line(r, line, "empty line: every line after the header is a candle");
    return ROW_NO_TIME;
  }
  if (memchr(s, '\0', len)) {
    bad_line(r, line, "NUL byte in the line: not a text file?");
    return ROW_NO_TIME;
  }
  for (;;) {
    const char *comma = memchr(p, ',', (size_t)(end - p));
    const char *stop = comma ? comma : end;
    if (nf < 6) {
      field[nf] = p;
      flen[nf] = (size_t)(stop - p);
    }
    nf++;
    if (!comma)
      break;
    p = comma + 1;
  }
  if (nf != 6) {
    bad_line(r, line, "%zu field%s, expected 6 (%s)", nf, nf == 1 ? "" : "s",
             TACK_CANDLES_CSV_HEADER);
    return ROW_NO_TIME;
  }
  int rc = tack_candles_parse_seconds(field[0], flen[0], &b->ts);
  if (rc != 0) {
    bad_line(r, line,
             rc == TACK_ERANGE ? "ts \"%.*s\" is out of range (years 1677 to 2262)"
                               : "ts \"%.*s\" is not UNIX seconds (digits, optionally a '.' and "
                                 "1 to 9 decimals)",
             FIELD_SHOWN(flen[0]), field[0]);
    return ROW_NO_TIME;
  }
  double v[5];
  for (int i = 0; i < 5; i++) {
    rc = parse_double(field[i + 1], flen[i + 1], &v[i]);
    if (rc != 0) {
      bad_line(r, line,
               rc == TACK_ERANGE ? "%s \"%.*s\" is out of range for a double"
                                 : "%s \"%.*s\" is not a decimal number",
               names[i + 1], FIELD_SHOWN(flen[i + 1]), field[i + 1]);
      return ROW_BAD;
    }
  }
  b->open = v[0];
  b->high = v[1];
  b->low = v[2];
  b->close = v[3];
  b->volume = v[4];
  b->timeframe_s = r->tf;
  b->flags = TACK_BAR_CLOSED;
  if (tack_candle_check(b, r->tf, why, sizeof why) != 0) {
    bad_line(r, line, "%s", why);
    return ROW_BAD;
  }
  return ROW_OK;
}

static int only_line_ends(const char *p, const char *end) {
  for (; p < end; p++)
    if (*p != '\n' && *p != '\r')
      return 0;
  return 1;
}

int tack_candles_csv_parse(const char *name, const char *text, size_t len, uint32_t tf,
                           tack_bar **out, size_t *n, size_t *n_bad, size_t max_msgs,
                           tack_diag *d) {
  csv_reader r = {name ? name : "-", tf, 0, max_msgs, d};
  tack_bar *rows = NULL;
  size_t nrows = 0, cap = 1, line = 0, prev_line = 0;
  tack_time prev = 0;
  int have_prev = 0;
  const char *p = text, *end = text + len;
  int rc = 0;

  if (!out || !n || (len && !text) || tf == 0)
    return TACK_EINVAL;
  *out = NULL;
  *n = 0;
  if (n_bad)
    *n_bad = 0;
  /* Every row but the header is a candle, so the lines bound the rows. */
  for (const char *q = p; (q = memchr(q, '\n', (size_t)(end - q))) != NULL; q++)
    cap++;
  rows = tack_alloc(NULL, cap * sizeof *rows);
  if (!rows)
    return TACK_ENOMEM;

  /* A UTF-8 byte order mark, as some spreadsheets write, is not text. */
  if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
    p += 3;
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *stop = nl ? nl : end;
    size_t llen = (size_t)(stop - p);
    if (llen && p[llen - 1] == '\r')
      llen--;
    line++;
    /* Blank lines may end the file (and only end it): row i stays on line
     * i + 2, which `tack data import` relies on to name replaced rows. */
    if (llen == 0 && line > 1 && only_line_ends(p, end))
      break;
    if (line == 1) {
      if (llen != sizeof TACK_CANDLES_CSV_HEADER - 1 ||
          memcmp(p, TACK_CANDLES_CSV_HEADER, llen) != 0)
        bad_line(&r, line, "the header is \"%.*s\", expected \"%s\"", FIELD_SHOWN(llen), p,
                 TACK_CANDLES_CSV_HEADER);
    } else {
      tack_bar *b = &rows[nrows];
      int got = parse_row(&r, line, p, llen, b);
      /* A row that is bad for another reason still has its time, and the
       * next row is checked against it: one row out of place is one error. */
      if (got == ROW_OK && have_prev && b->ts <= prev) {
        char a[32], c[32];
        tack_candles_format_seconds(b->ts, a, sizeof a);
        tack_candles_format_seconds(prev, c, sizeof c);
        bad_line(&r, line,
                 "ts %s is not after %s (line %zu): rows must be in strictly increasing time", a, c,
                 prev_line);
        got = ROW_BAD;
      }
      if (got != ROW_NO_TIME) {
        prev = b->ts;
        prev_line = line;
        have_prev = 1;
      }
      if (got == ROW_OK)
        nrows++;
    }
    p = nl ? nl + 1 : end;
  }
  if (line == 0)
    bad_line(&r, 0, "the file is empty: expected the header \"%s\"", TACK_CANDLES_CSV_HEADER);
  else if (r.bad == 0 && nrows == 0)
    bad_line(&r, 0, "no candles after the header");

  if (r.bad) {
    rc = TACK_EPARSE;
    goto fail;
  }
  *out = rows;
  *n = nrows;
  return 0;

fail:
  if (n_bad)
    *n_bad = r.bad;
  tack_free(NULL, rows);
  return rc;
}

int tack_candles_csv_load(const char *path, uint32_t tf, tack_bar **out, size_t *n, size_t *n_bad,
                          size_t max_msgs, tack_diag *d) {
  FILE *f = NULL;
  char *buf = NULL;
  size_t len = 0, cap = 0;
  int rc;

  if (!path || !out || !n)
    return TACK_EINVAL;
  *out = NULL;
  *n = 0;
  if (n_bad)
    *n_bad = 0;
  int is_stdin = strcmp(path, "-") == 0;
  const char *name = is_stdin ? "<stdin>" : path;
  f = is_stdin ? stdin : fopen(path, "rb");
  if (!f) {
    tack_diag_add(d, path, 0, NULL, "cannot open: %s", strerror(errno));
    return TACK_EIO;
  }
  for (;;) {
    if (len == cap) {
      size_t ncap = cap ? cap * 2 : 1 << 16;
      char *grown = tack_realloc(NULL, buf, ncap);
      if (!grown) {
        rc = TACK_ENOMEM;
        goto fail;
      }
      buf = grown;
      cap = ncap;
    }
    size_t got = fread(buf + len, 1, cap - len, f);
    len += got;
    if (got == 0)
      break;
  }
  if (ferror(f)) {
    tack_diag_add(d, name, 0, NULL, "cannot read: %s", strerror(errno));
    rc = TACK_EIO;
    goto fail;
  }
  rc = tack_candles_csv_parse(name, buf, len, tf, out, n, n_bad, max_msgs, d);

fail:
  if (!is_stdin)
    fclose(f);
  tack_free(NULL, buf);
  return rc;
}
