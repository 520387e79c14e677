/*
 * journal.c: a bot's orders, fills and state blobs in the store's "trading"
 * database; see journal.h for the layout and the contract.
 *
 * Every write is one write transaction, committed before returning or
 * aborted, so a crash leaves each call's records all there or all absent.
 * Reads use a read transaction of their own, so a walk's callback may call
 * back into the journal (also to write: the store is opened MDB_NOTLS).
 */
#include "journal.h"

#include <lmdb.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "log.h"

#define WHO "journal"
#define DB_NAME "trading"
#define KEY_MAX 511 /* LMDB's default; the environment's own limit is checked too */

#define KIND_ORDER 'o'
#define KIND_FILL 'f'
#define KIND_TRADE 't'
#define KIND_NEXT_ORDER 'n'
#define KIND_NEXT_FILL 'F'
#define KIND_STATE 's'

struct tack_journal {
  tack_store *st;
  MDB_env *env;
  MDB_dbi dbi;
  char *bot;
  size_t max_key;
};

/* ------------------------------------------------------------------------ */
/* Encoding                                                                  */
/* ------------------------------------------------------------------------ */

typedef struct writer {
  unsigned char *p;
  size_t cap, len;
  int err; /* TACK_ENOSPC or TACK_EINVAL once something did not fit or was bad */
} writer;

static void put_bytes(writer *w, const void *src, size_t n) {
  if (w->err)
    return;
  if (n > w->cap - w->len) {
    w->err = TACK_ENOSPC;
    return;
  }
  memcpy(w->p + w->len, src, n);
  w->len += n;
}

static void put_u64(writer *w, uint64_t v) {
  unsigned char b[8];
  for (int i = 0; i < 8; i++)
    b[i] = (unsigned char)(v >> (8 * i));
  put_bytes(w, b, 8);
}

static void put_u32(writer *w, uint32_t v) {
  unsigned char b[4];
  for (int i = 0; i < 4; i++)
    b[i] = (unsigned char)(v >> (8 * i));
  put_bytes(w, b, 4);
}

static void put_i32(writer *w, int32_t v) {
  uint32_t u;
  memcpy(&u, &v, sizeof u);
  put_u32(w, u);
}

static void put_i64(writer *w, int64_t v) {
  uint64_t u;
  memcpy(&u, &v, sizeof u);
  put_u64(w, u);
}

static void put_f64(writer *w, double v) {
  uint64_t u;
  if (!isfinite(v) && !w->err)
    w->err = TACK_EINVAL;
  memcpy(&u, &v, sizeof u);
  put_u64(w, u);
}

/* A fixed text field of cap bytes: its bytes and the NUL. */
static void put_text(writer *w, const char *s, size_t cap) {
  const char *end = memchr(s, '\0', cap);
  if (!end) {
    if (!w->err)
      w->err = TACK_EINVAL;
    return;
  }
  put_bytes(w, s, (size_t)(end - s) + 1);
}

typedef struct reader {
  const unsigned char *p;
  size_t len, at;
  int bad;
} reader;

static const unsigned char *take(reader *r, size_t n) {
  if (r->bad || n > r->len - r->at) {
    r->bad = 1;
    return NULL;
  }
  const unsigned char *p = r->p + r->at;
  r->at += n;
  return p;
}

static uint64_t get_u64(reader *r) {
  const unsigned char *p = take(r, 8);
  uint64_t v = 0;
  if (p)
    for (int i = 7; i >= 0; i--)
      v = v << 8 | p[i];
  return v;
}

static uint32_t get_u32(reader *r) {
  const unsigned char *p = take(r, 4);
  return p ? (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24 : 0;
}

static int32_t get_i32(reader *r) {
  uint32_t u = get_u32(r);
  int32_t v;
  memcpy(&v, &u, sizeof v);
  return v;
}

static int64_t get_i64(reader *r) {
  uint64_t u = get_u64(r);
  int64_t v;
  memcpy(&v, &u, sizeof v);
  return v;
}

static double get_f64(reader *r) {
  uint64_t u = get_u64(r);
  double v;
  memcpy(&v, &u, sizeof v);
  if (!isfinite(v)) {
    r->bad = 1;
    return 0;
  }
  return v;
}

/* Into a fixed field of cap bytes, NUL-padded: the NUL must come within
 * cap bytes and before the record ends. */
static void get_text(reader *r, char *dst, size_t cap) {
  memset(dst, 0, cap);
  if (r->bad)
    return;
  size_t room = r->len - r->at;
  const unsigned char *p = r->p + r->at;
  const unsigned char *end = memchr(p, '\0', room < cap ? room : cap);
  if (!end) {
    r->bad = 1;
    return;
  }
  size_t n = (size_t)(end - p);
  memcpy(dst, p, n);
  r->at += n + 1;
}

static int finish_read(const reader *r) { return r->bad || r->at != r->len ? TACK_EPARSE : 0; }

int tack_journal_encode_order(const tack_order *o, unsigned char *buf, size_t cap) {
  writer w = {buf, cap, 0, 0};
  if (!o || (!buf && cap))
    return TACK_EINVAL;
  put_u32(&w, TACK_JOURNAL_RECORD_VERSION);
  put_text(&w, o->req.client_id, sizeof o->req.client_id);
  put_text(&w, o->req.symbol, sizeof o->req.symbol);
  put_u32(&w, o->req.side);
  put_u32(&w, o->req.type);
  put_u32(&w, o->req.tif);
  put_u32(&w, o->req.flags);
  put_f64(&w, o->req.quantity);
  put_f64(&w, o->req.limit_price);
  put_f64(&w, o->req.stop_price);
  put_i64(&w, o->req.expire_at);
  put_i64(&w, o->req.ts);
  put_text(&w, o->venue_id, sizeof o->venue_id);
  put_text(&w, o->link, sizeof o->link);
  put_text(&w, o->reason, sizeof o->reason);
  put_u32(&w, o->status);
  put_i32(&w, o->error);
  put_u32(&w, o->origin);
  put_u32(&w, o->link_kind);
  put_u32(&w, o->held);
  put_u32(&w, o->attempts);
  put_u32(&w, o->on_timeout);
  put_u32(&w, o->flags);
  put_f64(&w, o->filled);
  put_f64(&w, o->avg_price);
  put_f64(&w, o->fees);
  put_f64(&w, o->venue_filled);
  put_f64(&w, o->tp_price);
  put_f64(&w, o->sl_price);
  put_i64(&w, o->created);
  put_i64(&w, o->updated);
  put_u64(&w, o->timeout_ns);
  put_u64(&w, o->seq);
  return w.err ? w.err : (int)w.len;
}

int tack_journal_decode_order(const unsigned char *buf, size_t len, tack_order *out) {
  reader r = {buf, len, 0, 0};
  tack_order o;
  if (!out || (!buf && len))
    return TACK_EINVAL;
  memset(&o, 0, sizeof o);
  if (get_u32(&r) != TACK_JOURNAL_RECORD_VERSION)
    return TACK_EPARSE;
  get_text(&r, o.req.client_id, sizeof o.req.client_id);
  get_text(&r, o.req.symbol, sizeof o.req.symbol);
  o.req.side = get_u32(&r);
  o.req.type = get_u32(&r);
  o.req.tif = get_u32(&r);
  o.req.flags = get_u32(&r);
  o.req.quantity = get_f64(&r);
  o.req.limit_price = get_f64(&r);
  o.req.stop_price = get_f64(&r);
  o.req.expire_at = get_i64(&r);
  o.req.ts = get_i64(&r);
  get_text(&r, o.venue_id, sizeof o.venue_id);
  get_text(&r, o.link, sizeof o.link);
  get_text(&r, o.reason, sizeof o.reason);
  o.status = get_u32(&r);
  o.error = get_i32(&r);
  o.origin = get_u32(&r);
  o.link_kind = get_u32(&r);
  o.held = get_u32(&r);
  o.attempts = get_u32(&r);
  o.on_timeout = get_u32(&r);
  o.flags = get_u32(&r);
  o.filled = get_f64(&r);
  o.avg_price = get_f64(&r);
  o.fees = get_f64(&r);
  o.venue_filled = get_f64(&r);
  o.tp_price = get_f64(&r);
  o.sl_price = get_f64(&r);
  o.created = get_i64(&r);
  o.updated = get_i64(&r);
  o.timeout_ns = get_u64(&r);
  o.seq = get_u64(&r);
  if (finish_read(&r) != 0)
    return TACK_EPARSE;
  *out = o;
  return 0;
}

int tack_journal_encode_fill(const tack_fill *f, const char *client_id, unsigned char *buf,
                             size_t cap) {
  writer w = {buf, cap, 0, 0};
  if (!f || (!buf && cap))
    return TACK_EINVAL;
  put_u32(&w, TACK_JOURNAL_RECORD_VERSION);
  if (client_id)
    put_text(&w, client_id, TACK_ORDER_ID_MAX);
  else
    put_text(&w, f->client_id, sizeof f->client_id);
  put_text(&w, f->venue_order_id, sizeof f->venue_order_id);
  put_text(&w, f->trade_id, sizeof f->trade_id);
  put_text(&w, f->symbol, sizeof f->symbol);
  put_i64(&w, f->ts);
  put_u32(&w, f->side);
  put_u32(&w, f->liquidity);
  put_f64(&w, f->price);
  put_f64(&w, f->quantity);
  put_f64(&w, f->fee);
  put_text(&w, f->fee_currency, sizeof f->fee_currency);
  return w.err ? w.err : (int)w.len;
}

int tack_journal_decode_fill(const unsigned char *buf, size_t len, tack_fill *out) {
  reader r = {buf, len, 0, 0};
  tack_fill f;
  if (!out || (!buf && len))
    return TACK_EINVAL;
  memset(&f, 0, sizeof f);
  if (get_u32(&r) != TACK_JOURNAL_RECORD_VERSION)
    return TACK_EPARSE;
  get_text(&r, f.client_id, sizeof f.client_id);
  get_text(&r, f.venue_order_id, sizeof f.venue_order_id);
  get_text(&r, f.trade_id, sizeof f.trade_id);
  get_text(&r, f.symbol, sizeof f.symbol);
  f.ts = get_i64(&r);
  f.side = get_u32(&r);
  f.liquidity = get_u32(&r);
  f.price = get_f64(&r);
  f.quantity = get_f64(&r);
  f.fee = get_f64(&r);
  get_text(&r, f.fee_currency, sizeof f.fee_currency);
  if (finish_read(&r) != 0)
    return TACK_EPARSE;
  *out = f;
  return 0;
}

static void le64(unsigned char *p, uint64_t v) {
  for (int i = 0; i < 8; i++)
    p[i] = (unsigned char)(v >> (8 * i));
}

static void be64(unsigned char *p, uint64_t v) {
  for (int i = 0; i < 8; i++)
    p[i] = (unsigned char)(v >> (56 - 8 * i));
}

static uint64_t from_be64(const unsigned char *p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++)
    v = v << 8 | p[i];
  return v;
}

static uint64_t from_le64(const unsigned char *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--)
    v = v << 8 | p[i];
  return v;
}

/* ------------------------------------------------------------------------ */
/* Keys                                                                      */
/* ------------------------------------------------------------------------ */

typedef struct key {
  unsigned char b[KEY_MAX];
  size_t len;
} key;

/* bot \0 kind \0 name, then (with tail) \0 and tail_len bytes of tail.
 * TACK_EINVAL for an empty name, TACK_ERANGE when the key is too long. */
static int make_key(const tack_journal *j, char kind, const char *name, const void *tail,
                    size_t tail_len, key *k) {
  if (!name || !name[0])
    return TACK_EINVAL;
  size_t nb = strlen(j->bot), nn = strlen(name);
  size_t need = nb + 3 + nn + (tail ? 1 + tail_len : 0);
  if (need > j->max_key)
    return TACK_ERANGE;
  unsigned char *p = k->b;
  memcpy(p, j->bot, nb + 1);
  p += nb + 1;
  *p++ = (unsigned char)kind;
  *p++ = 0;
  memcpy(p, name, nn);
  p += nn;
  if (tail) {
    *p++ = 0;
    memcpy(p, tail, tail_len);
    p += tail_len;
  }
  k->len = (size_t)(p - k->b);
  return 0;
}

static int text_key(const tack_journal *j, char kind, const char *account, const char *text,
                    key *k) {
  if (!text || !text[0])
    return TACK_EINVAL;
  return make_key(j, kind, account, text, strlen(text), k);
}

/* ------------------------------------------------------------------------ */
/* Errors                                                                    */
/* ------------------------------------------------------------------------ */

static int fail_mdb(const tack_journal *j, const char *what, const char *name, int mrc) {
  const char *path = tack_store_path(j->st);
  if (mrc == MDB_MAP_FULL) {
    MDB_envinfo info;
    mdb_env_info(j->env, &info);
    tack_log(TACK_LOG_ERROR, WHO,
             "%s: bot %s: %s %s: the store is full (map size %zu MiB): prune old orders, or "
             "use a store with a larger map size",
             path, j->bot, what, name, info.me_mapsize >> 20);
  } else {
    tack_log(TACK_LOG_ERROR, WHO, "%s: bot %s: %s %s: %s", path, j->bot, what, name,
             mdb_strerror(mrc));
  }
  return tack_store_error(mrc);
}

static int damaged(const tack_journal *j, const char *what, const char *account, const char *name) {
  tack_log(TACK_LOG_ERROR, WHO,
           "%s: bot %s: %s%s%s of account %s does not decode: the store is damaged or was "
           "written by another program",
           tack_store_path(j->st), j->bot, what, name[0] ? " " : "", name, account);
  return TACK_EPARSE;
}

/* ------------------------------------------------------------------------ */
/* Opening                                                                   */
/* ------------------------------------------------------------------------ */

static const tack_store_db journal_db = {
    DB_NAME, 0, TACK_JOURNAL_LAYOUT, WHO,
    "run the tack that wrote it, or point the config at another store"};

int tack_journal_open(tack_store *st, const char *bot, tack_journal **out) {
  tack_journal *j = NULL;
  int rc;
  if (!out)
    return TACK_EINVAL;
  *out = NULL;
  if (!st || !bot || !bot[0])
    return TACK_EINVAL;
  j = tack_calloc(NULL, 1, sizeof *j);
  if (!j)
    return TACK_ENOMEM;
  j->st = st;
  j->env = tack_store_env(st);
  j->bot = tack_strdup(NULL, bot);
  if (!j->bot) {
    rc = TACK_ENOMEM;
    goto fail;
  }
  j->max_key = (size_t)mdb_env_get_maxkeysize(j->env);
  if (j->max_key > KEY_MAX)
    j->max_key = KEY_MAX;
  rc = tack_store_open_db(st, &journal_db, &j->dbi);
  if (rc != 0)
    goto fail;
  *out = j;
  return 0;

fail:
  if (j)
    tack_free(NULL, j->bot);
  tack_free(NULL, j);
  return rc;
}

void tack_journal_close(tack_journal *j) {
  if (!j)
    return;
  tack_free(NULL, j->bot);
  tack_free(NULL, j);
}

/* ------------------------------------------------------------------------ */
/* Writing                                                                   */
/* ------------------------------------------------------------------------ */

static int begin(const tack_journal *j, unsigned flags, MDB_txn **txn, const char *what,
                 const char *name) {
  int mrc = mdb_txn_begin(j->env, NULL, flags, txn);
  if (mrc != 0) {
    *txn = NULL;
    return fail_mdb(j, what, name, mrc);
  }
  return 0;
}

static int commit(const tack_journal *j, MDB_txn *txn, const char *what, const char *name) {
  int mrc = mdb_txn_commit(txn);
  return mrc ? fail_mdb(j, what, name, mrc) : 0;
}

/* Puts the order record (and raises the next order sequence to next_seq
 * when seq_key is given) inside txn. */
static int put_order_in(const tack_journal *j, MDB_txn *txn, const char *account,
                        const tack_order *o, const key *seq_key, uint64_t next_seq) {
  unsigned char rec[TACK_JOURNAL_ORDER_MAX];
  key k;
  int len = tack_journal_encode_order(o, rec, sizeof rec);
  if (len < 0)
    return len;
  int rc = text_key(j, KIND_ORDER, account, o->req.client_id, &k);
  if (rc != 0)
    return rc;
  MDB_val mk = {k.len, k.b}, mv = {(size_t)len, rec};
  int mrc = mdb_put(txn, j->dbi, &mk, &mv, 0);
  if (mrc != 0)
    return fail_mdb(j, "cannot write order", o->req.client_id, mrc);
  if (!seq_key)
    return 0;
  MDB_val sk = {seq_key->len, (void *)seq_key->b}, sv;
  uint64_t stored = 0;
  mrc = mdb_get(txn, j->dbi, &sk, &sv);
  if (mrc == 0 && sv.mv_size == 8)
    stored = from_le64(sv.mv_data);
  else if (mrc == 0)
    return damaged(j, "the next order sequence", account, "");
  else if (mrc != MDB_NOTFOUND)
    return fail_mdb(j, "cannot read the next order sequence of", account, mrc);
  if (stored >= next_seq)
    return 0;
  unsigned char b[8];
  le64(b, next_seq);
  sv.mv_size = sizeof b;
  sv.mv_data = b;
  mrc = mdb_put(txn, j->dbi, &sk, &sv, 0);
  return mrc ? fail_mdb(j, "cannot write the next order sequence of", account, mrc) : 0;
}

int tack_journal_put_order(tack_journal *j, const char *account, const tack_order *o,
                           uint64_t next_seq) {
  MDB_txn *txn = NULL;
  key sk;
  if (!j || !o)
    return TACK_EINVAL;
  int rc = make_key(j, KIND_NEXT_ORDER, account, NULL, 0, &sk);
  if (rc == 0)
    rc = begin(j, 0, &txn, "cannot begin writing order", o->req.client_id);
  if (rc == 0)
    rc = put_order_in(j, txn, account, o, &sk, next_seq);
  if (rc != 0)
    goto fail;
  return commit(j, txn, "cannot commit order", o->req.client_id);

fail:
  if (txn)
    mdb_txn_abort(txn);
  return rc;
}

int tack_journal_put_fill(tack_journal *j, const char *account, const tack_fill *f,
                          const tack_order *order, uint64_t *seq) {
  unsigned char rec[TACK_JOURNAL_FILL_MAX], sb[8], nb[8];
  MDB_txn *txn = NULL;
  key tk, nk, fk;
  MDB_val k, v;
  uint64_t s = 1;
  int rc, mrc, len;
  if (!j || !f)
    return TACK_EINVAL;
  len = tack_journal_encode_fill(f, order ? order->req.client_id : NULL, rec, sizeof rec);
  if (len < 0)
    return len;
  if ((rc = text_key(j, KIND_TRADE, account, f->trade_id, &tk)) != 0 ||
      (rc = make_key(j, KIND_NEXT_FILL, account, NULL, 0, &nk)) != 0)
    return rc;
  if ((rc = begin(j, 0, &txn, "cannot begin writing fill", f->trade_id)) != 0)
    return rc;

  k.mv_size = tk.len;
  k.mv_data = tk.b;
  mrc = mdb_get(txn, j->dbi, &k, &v);
  if (mrc == 0) {
    rc = TACK_EEXIST;
    goto fail;
  }
  if (mrc != MDB_NOTFOUND) {
    rc = fail_mdb(j, "cannot look up fill", f->trade_id, mrc);
    goto fail;
  }
  k.mv_size = nk.len;
  k.mv_data = nk.b;
  mrc = mdb_get(txn, j->dbi, &k, &v);
  if (mrc == 0 && v.mv_size == 8) {
    s = from_le64(v.mv_data);
  } else if (mrc == 0) {
    rc = damaged(j, "the next fill sequence", account, "");
    goto fail;
  } else if (mrc != MDB_NOTFOUND) {
    rc = fail_mdb(j, "cannot read the next fill sequence of", account, mrc);
    goto fail;
  }
  be64(sb, s);
  le64(nb, s + 1);
  if ((rc = make_key(j, KIND_FILL, account, sb, sizeof sb, &fk)) != 0)
    goto fail;

  MDB_val rk = {fk.len, fk.b}, rv = {(size_t)len, rec};
  mrc = mdb_put(txn, j->dbi, &rk, &rv, MDB_NOOVERWRITE);
  if (mrc == MDB_KEYEXIST) {
    tack_log(TACK_LOG_ERROR, WHO,
             "%s: bot %s: fill sequence %llu of account %s is taken although the next fill "
             "sequence says it is free: the store is damaged",
             tack_store_path(j->st), j->bot, (unsigned long long)s, account);
    rc = TACK_EIO;
    goto fail;
  }
  MDB_val ik = {tk.len, tk.b}, iv = {sizeof sb, sb};
  if (mrc == 0)
    mrc = mdb_put(txn, j->dbi, &ik, &iv, 0);
  MDB_val nv = {sizeof nb, nb};
  if (mrc == 0)
    mrc = mdb_put(txn, j->dbi, &k, &nv, 0);
  if (mrc != 0) {
    rc = fail_mdb(j, "cannot write fill", f->trade_id, mrc);
    goto fail;
  }
  if (order && (rc = put_order_in(j, txn, account, order, NULL, 0)) != 0)
    goto fail;
  if ((rc = commit(j, txn, "cannot commit fill", f->trade_id)) != 0)
    return rc;
  if (seq)
    *seq = s;
  return 0;

fail:
  mdb_txn_abort(txn);
  return rc;
}

/* ------------------------------------------------------------------------ */
/* Reading                                                                   */
/* ------------------------------------------------------------------------ */

/* Reads the value of k into what get() makes of it, in a read transaction
 * of its own. */
static int read_value(const tack_journal *j, const key *k, const char *what, const char *name,
                      int (*get)(const MDB_val *v, void *user), void *user) {
  MDB_txn *txn;
  MDB_val mk = {k->len, (void *)k->b}, v;
  int rc = begin(j, MDB_RDONLY, &txn, "cannot begin reading", what);
  if (rc != 0)
    return rc;
  int mrc = mdb_get(txn, j->dbi, &mk, &v);
  if (mrc == 0)
    rc = get(&v, user);
  else if (mrc == MDB_NOTFOUND)
    rc = TACK_ENOENT;
  else
    rc = fail_mdb(j, "cannot read", name, mrc);
  mdb_txn_abort(txn);
  return rc;
}

static int get_nothing(const MDB_val *v, void *user) {
  (void)v;
  (void)user;
  return 0;
}

static int get_u64_le(const MDB_val *v, void *user) {
  if (v->mv_size != 8)
    return TACK_EPARSE;
  *(uint64_t *)user = from_le64(v->mv_data);
  return 0;
}

int tack_journal_has_fill(tack_journal *j, const char *account, const char *trade_id) {
  key k;
  if (!j)
    return TACK_EINVAL;
  int rc = text_key(j, KIND_TRADE, account, trade_id, &k);
  if (rc == 0)
    rc = read_value(j, &k, "fill", trade_id, get_nothing, NULL);
  return rc == 0 ? 1 : rc == TACK_ENOENT ? 0 : rc;
}

int tack_journal_next_seq(tack_journal *j, const char *account, uint64_t *out) {
  key k;
  uint64_t v = 1;
  if (!j || !out)
    return TACK_EINVAL;
  int rc = make_key(j, KIND_NEXT_ORDER, account, NULL, 0, &k);
  if (rc == 0)
    rc = read_value(j, &k, "the next order sequence", account, get_u64_le, &v);
  if (rc == TACK_EPARSE)
    return damaged(j, "the next order sequence", account, "");
  if (rc != 0 && rc != TACK_ENOENT)
    return rc;
  *out = rc == 0 ? v : 1;
  return 0;
}

/* Walks the records whose keys start with prefix k, calling visit for each
 * until it returns non-zero. */
static int walk(const tack_journal *j, const key *prefix, const char *what,
                int (*visit)(const tack_journal *j, const MDB_val *k, const MDB_val *v, size_t plen,
                             void *user),
                void *user) {
  MDB_txn *txn;
  MDB_cursor *cur = NULL;
  MDB_val k = {prefix->len, (void *)prefix->b}, v;
  int rc = begin(j, MDB_RDONLY, &txn, "cannot begin reading", what);
  if (rc != 0)
    return rc;
  int mrc = mdb_cursor_open(txn, j->dbi, &cur);
  if (mrc == 0)
    mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
  while (mrc == 0 && rc == 0) {
    if (k.mv_size < prefix->len || memcmp(k.mv_data, prefix->b, prefix->len) != 0)
      break;
    rc = visit(j, &k, &v, prefix->len, user);
    if (rc == 0)
      mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
  }
  if (rc == 0 && mrc != 0 && mrc != MDB_NOTFOUND)
    rc = fail_mdb(j, "cannot read", what, mrc);
  if (cur)
    mdb_cursor_close(cur);
  mdb_txn_abort(txn);
  return rc;
}

typedef struct order_walk {
  const char *account;
  tack_journal_order_cb cb;
  void *user;
} order_walk;

/* The client id at the end of an order key, into id (TACK_ORDER_ID_MAX). */
static void key_text(const MDB_val *k, size_t plen, char *id) {
  size_t n = k->mv_size - plen;
  if (n >= TACK_ORDER_ID_MAX)
    n = TACK_ORDER_ID_MAX - 1;
  memcpy(id, (const char *)k->mv_data + plen, n);
  id[n] = '\0';
}

static int visit_order(const tack_journal *j, const MDB_val *k, const MDB_val *v, size_t plen,
                       void *user) {
  order_walk *w = user;
  tack_order o;
  char id[TACK_ORDER_ID_MAX];
  key_text(k, plen, id);
  if (tack_journal_decode_order(v->mv_data, v->mv_size, &o) != 0 ||
      strcmp(o.req.client_id, id) != 0 || k->mv_size - plen >= TACK_ORDER_ID_MAX)
    return damaged(j, "order record", w->account, id);
  return w->cb(w->user, &o);
}

int tack_journal_each_order(tack_journal *j, const char *account, tack_journal_order_cb cb,
                            void *user) {
  key prefix;
  order_walk w = {account, cb, user};
  if (!j || !cb)
    return TACK_EINVAL;
  int rc = make_key(j, KIND_ORDER, account, "", 0, &prefix);
  return rc ? rc : walk(j, &prefix, "the orders of", visit_order, &w);
}

typedef struct fill_walk {
  const char *account;
  tack_journal_fill_cb cb;
  void *user;
} fill_walk;

static int visit_fill(const tack_journal *j, const MDB_val *k, const MDB_val *v, size_t plen,
                      void *user) {
  fill_walk *w = user;
  tack_fill f;
  if (k->mv_size != plen + 8)
    return damaged(j, "a fill key", w->account, "");
  uint64_t seq = from_be64((const unsigned char *)k->mv_data + plen);
  if (tack_journal_decode_fill(v->mv_data, v->mv_size, &f) != 0) {
    char name[32];
    snprintf(name, sizeof name, "%llu", (unsigned long long)seq);
    return damaged(j, "fill record", w->account, name);
  }
  return w->cb(w->user, seq, &f);
}

int tack_journal_each_fill(tack_journal *j, const char *account, tack_journal_fill_cb cb,
                           void *user) {
  key prefix;
  fill_walk w = {account, cb, user};
  if (!j || !cb)
    return TACK_EINVAL;
  int rc = make_key(j, KIND_FILL, account, "", 0, &prefix);
  return rc ? rc : walk(j, &prefix, "the fills of", visit_fill, &w);
}

/* ------------------------------------------------------------------------ */
/* Pruning                                                                   */
/* ------------------------------------------------------------------------ */

typedef struct id_set {
  char (*ids)[TACK_ORDER_ID_MAX];
  size_t n, cap;
} id_set;

static int cmp_id(const void *a, const void *b) { return strcmp(a, b); }

static int id_set_add(id_set *s, const char *id) {
  if (s->n == s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 64;
    void *p = tack_realloc(NULL, s->ids, cap * sizeof *s->ids);
    if (!p)
      return TACK_ENOMEM;
    s->ids = p;
    s->cap = cap;
  }
  memcpy(s->ids[s->n++], id, TACK_ORDER_ID_MAX);
  return 0;
}

int tack_journal_prune_orders(tack_journal *j, const char *account, tack_time before) {
  MDB_txn *txn = NULL;
  MDB_cursor *cur = NULL;
  id_set keep = {NULL, 0, 0};
  key prefix;
  MDB_val k, v;
  tack_order o;
  int rc, mrc, pruned = 0;
  if (!j)
    return TACK_EINVAL;
  if ((rc = make_key(j, KIND_ORDER, account, "", 0, &prefix)) != 0)
    return rc;
  if ((rc = begin(j, 0, &txn, "cannot begin pruning the orders of", account)) != 0)
    return rc;
  mrc = mdb_cursor_open(txn, j->dbi, &cur);
  if (mrc != 0) {
    rc = fail_mdb(j, "cannot prune the orders of", account, mrc);
    goto fail;
  }

  /* First what live orders link to: those stay. */
  for (int pass = 0; pass < 2; pass++) {
    k.mv_size = prefix.len;
    k.mv_data = prefix.b;
    mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    while (mrc == 0) {
      if (k.mv_size < prefix.len || memcmp(k.mv_data, prefix.b, prefix.len) != 0)
        break;
      if (tack_journal_decode_order(v.mv_data, v.mv_size, &o) != 0) {
        char id[TACK_ORDER_ID_MAX];
        key_text(&k, prefix.len, id);
        rc = damaged(j, "order record", account, id);
        goto fail;
      }
      int final = tack_order_status_final(o.status);
      if (pass == 0 && !final && o.link[0] && (rc = id_set_add(&keep, o.link)) != 0)
        goto fail;
      if (pass == 1 && final && o.updated < before &&
          !(keep.n && bsearch(o.req.client_id, keep.ids, keep.n, sizeof *keep.ids, cmp_id))) {
        /* After a delete, MDB_NEXT yields the record that followed it. */
        mrc = mdb_cursor_del(cur, 0);
        if (mrc != 0)
          break;
        pruned++;
      }
      mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    if (mrc != 0 && mrc != MDB_NOTFOUND) {
      rc = fail_mdb(j, "cannot prune the orders of", account, mrc);
      goto fail;
    }
    if (pass == 0 && keep.n)
      qsort(keep.ids, keep.n, sizeof *keep.ids, cmp_id);
  }
  mdb_cursor_close(cur);
  cur = NULL;
  rc = commit(j, txn, "cannot commit pruning the orders of", account);
  txn = NULL;
  tack_free(NULL, keep.ids);
  return rc ? rc : pruned;

fail:
  if (cur)
    mdb_cursor_close(cur);
  if (txn)
    mdb_txn_abort(txn);
  tack_free(NULL, keep.ids);
  return rc;
}

/* ------------------------------------------------------------------------ */
/* State blobs                                                               */
/* ------------------------------------------------------------------------ */

int tack_journal_put_state(tack_journal *j, const char *name, const void *val, size_t len) {
  MDB_txn *txn;
  key k;
  if (!j || (!val && len))
    return TACK_EINVAL;
  int rc = make_key(j, KIND_STATE, name, NULL, 0, &k);
  if (rc == 0)
    rc = begin(j, 0, &txn, "cannot begin writing state", name);
  if (rc != 0)
    return rc;
  MDB_val mk = {k.len, k.b}, mv = {len, (void *)val};
  int mrc = mdb_put(txn, j->dbi, &mk, &mv, 0);
  if (mrc != 0) {
    mdb_txn_abort(txn);
    return fail_mdb(j, "cannot write state", name, mrc);
  }
  return commit(j, txn, "cannot commit state", name);
}

typedef struct state_read {
  void *buf;
  size_t cap;
  size_t *len;
} state_read;

static int get_state_value(const MDB_val *v, void *user) {
  state_read *s = user;
  *s->len = v->mv_size;
  if (s->cap)
    memcpy(s->buf, v->mv_data, v->mv_size < s->cap ? v->mv_size : s->cap);
  return v->mv_size > s->cap ? TACK_ENOSPC : 0;
}

int tack_journal_get_state(tack_journal *j, const char *name, void *buf, size_t cap, size_t *len) {
  key k;
  state_read s = {buf, cap, len};
  if (!j || !len || (cap && !buf))
    return TACK_EINVAL;
  int rc = make_key(j, KIND_STATE, name, NULL, 0, &k);
  return rc ? rc : read_value(j, &k, "state", name, get_state_value, &s);
}
