/*
 * orders.c: the order manager of one account; see orders.h for the
 * contract.
 *
 * Orders live in one growing array and are never removed, so an index
 * names an order for good: links, hash tables and the live list hold
 * indices. Two open-addressing tables find an order by client id and by
 * venue id, a third holds every booked trade id (the strings in one pool),
 * so a fill costs a few lookups however many came before.
 *
 * Callbacks may come back in (an adapter reports a fill from inside send, a
 * strategy submits from inside its on_fill), and creating an order can move
 * the array. So callbacks get copies, and no entry pointer is held across a
 * callback or a creation: code holds indices and looks again.
 */
#include "orders.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "log.h"

#define NONE UINT32_MAX
#define QTY_EPS 1e-9 /* relative tolerance for sums of fills as doubles */
#define MSG_MAX 640
#define PREFIX_MAX 24

/* How apply() treats io.persist. */
#define PERSIST_STRICT 0 /* a failure refuses the change */
#define PERSIST_BEST 1   /* a failure is logged; the change stands (it already happened) */
#define PERSIST_NONE 2

typedef struct entry {
  tack_order o;
  uint32_t parent;      /* a triggered child: its held stop */
  uint32_t child;       /* a triggered held stop (held 2): its child */
  uint32_t tp, sl;      /* a bracket entry: its exits */
  uint32_t replacement; /* a timed-out order: the market order that replaced it */
  uint32_t live_pos;    /* its place in the live list, NONE when final */
  uint64_t seen;        /* the reconciliation in which the venue reported it */
} entry;

/* val 0 is empty; else an order index + 1, or a pool offset + 1. */
typedef struct slot {
  uint64_t hash;
  uint64_t val;
} slot;

typedef struct table {
  slot *s;
  size_t cap; /* a power of two, or 0 */
  size_t n;
} table;

struct tack_orders {
  tack_orders_io io;
  char prefix[PREFIX_MAX + 1];
  size_t prefix_len;
  uint64_t next_seq;
  uint32_t caps;
  uint32_t max_attempts;

  entry *e;
  size_t n, cap;
  table by_id, by_venue, trades;
  char *pool; /* booked trade ids, NUL-terminated, back to back */
  size_t pool_len, pool_cap;
  uint32_t *live;
  size_t n_live, live_cap;

  tack_order_update *kept_u; /* updates of unknown orders */
  size_t n_kept_u, kept_u_cap;
  tack_fill *kept_f; /* fills of unknown orders */
  size_t n_kept_f, kept_f_cap;

  const char *booking; /* the trade id io.fill is booking right now */
  int links_dirty;     /* orders were loaded: rebuild the in-memory links */
  int loaded_check;    /* at the next reconcile_end, give loaded orders their follow-ups */
  int reconciling;     /* between reconcile_begin and reconcile_end */
  int recon_asked;     /* io.reconcile was asked since the last reconcile_end */
  uint64_t epoch;      /* of the current reconciliation */
  size_t n_at_begin;   /* orders that existed at reconcile_begin */
  tack_orders_stats stats;
};

/* ------------------------------------------------------------------------ */
/* States                                                                    */
/* ------------------------------------------------------------------------ */

int tack_order_status_final(uint32_t status) {
  return status == TACK_STATUS_FILLED || status == TACK_STATUS_CANCELLED ||
         status == TACK_STATUS_REJECTED || status == TACK_STATUS_EXPIRED;
}

const char *tack_order_status_name(uint32_t status) {
  switch (status) {
  case TACK_STATUS_PENDING:
    return "pending";
  case TACK_STATUS_OPEN:
    return "open";
  case TACK_STATUS_PARTIAL:
    return "partial";
  case TACK_STATUS_FILLED:
    return "filled";
  case TACK_STATUS_CANCELLED:
    return "cancelled";
  case TACK_STATUS_REJECTED:
    return "rejected";
  case TACK_STATUS_EXPIRED:
    return "expired";
  default:
    return "unknown";
  }
}

/* Progress along the state machine; the final states share the last rank.
 * -1 for a value that is no status. */
static int rank(uint32_t status) {
  switch (status) {
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

int tack_order_transition_ok(uint32_t from, uint32_t to) {
  int rf = rank(from), rt = rank(to);
  if (rf < 0 || rt < 0 || tack_order_status_final(from))
    return 0;
  if (from == to)
    return from == TACK_STATUS_PARTIAL;
  return rt > rf;
}

static const char *side_name(uint32_t side) {
  return side == TACK_SIDE_BUY ? "buy" : side == TACK_SIDE_SELL ? "sell" : "?";
}

static const char *type_name(uint32_t type) {
  switch (type) {
  case TACK_ORDER_MARKET:
    return "market";
  case TACK_ORDER_LIMIT:
    return "limit";
  case TACK_ORDER_STOP:
    return "stop";
  case TACK_ORDER_STOP_LIMIT:
    return "stop-limit";
  default:
    return "?";
  }
}

/* Whether fills of filled cover quantity, up to the noise of summing. */
static int covers(double filled, double quantity) {
  return filled >= quantity - quantity * QTY_EPS;
}

static int is_stop(uint32_t type) {
  return type == TACK_ORDER_STOP || type == TACK_ORDER_STOP_LIMIT;
}

void tack_order_after_fill(const tack_order *before, const tack_fill *f, tack_order *after) {
  double total = before->filled + f->quantity;
  *after = *before;
  after->avg_price =
      total > 0 ? (before->avg_price * before->filled + f->price * f->quantity) / total : 0;
  after->filled = total;
  after->fees = before->fees + f->fee;
  if (!tack_order_status_final(before->status))
    after->status = covers(total, before->req.quantity) ? TACK_STATUS_FILLED : TACK_STATUS_PARTIAL;
}

/* ------------------------------------------------------------------------ */
/* Logging                                                                   */
/* ------------------------------------------------------------------------ */

static void say(tack_orders *m, int level, const char *fmt, ...) TACK_PRINTF(3, 4);

static void say(tack_orders *m, int level, const char *fmt, ...) {
  char msg[MSG_MAX];
  va_list ap;
  if (level > tack_log_level())
    return; /* the log drops it: not worth formatting (most lines of a fill) */
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  m->io.log(m->io.user, level, msg);
}

/* ------------------------------------------------------------------------ */
/* Hash tables                                                               */
/* ------------------------------------------------------------------------ */

static uint64_t hash_str(const char *s) {
  uint64_t h = UINT64_C(14695981039346656037);
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * UINT64_C(1099511628211);
  return h;
}

static const char *slot_key(const tack_orders *m, const table *t, uint64_t val) {
  if (t == &m->trades)
    return m->pool + (val - 1);
  const tack_order *o = &m->e[val - 1].o;
  return t == &m->by_id ? o->req.client_id : o->venue_id;
}

static uint64_t table_find(const tack_orders *m, const table *t, const char *key) {
  if (t->cap == 0 || !key[0])
    return 0;
  uint64_t h = hash_str(key);
  for (size_t j = (size_t)h & (t->cap - 1); t->s[j].val; j = (j + 1) & (t->cap - 1)) {
    if (t->s[j].hash == h && strcmp(slot_key(m, t, t->s[j].val), key) == 0)
      return t->s[j].val;
  }
  return 0;
}

/* Room for want keys at a load of at most one half. */
static int table_reserve(table *t, size_t want) {
  if (want <= t->cap / 2)
    return 0;
  size_t cap = t->cap ? t->cap : 64;
  while (want > cap / 2)
    cap *= 2;
  slot *s = tack_calloc(NULL, cap, sizeof *s);
  if (!s)
    return TACK_ENOMEM;
  for (size_t i = 0; i < t->cap; i++) {
    if (!t->s[i].val)
      continue;
    size_t j = (size_t)t->s[i].hash & (cap - 1);
    while (s[j].val)
      j = (j + 1) & (cap - 1);
    s[j] = t->s[i];
  }
  tack_free(NULL, t->s);
  t->s = s;
  t->cap = cap;
  return 0;
}

/* The caller reserved the room. */
static void table_add(table *t, const char *key, uint64_t val) {
  uint64_t h = hash_str(key);
  size_t j = (size_t)h & (t->cap - 1);
  while (t->s[j].val)
    j = (j + 1) & (t->cap - 1);
  t->s[j].hash = h;
  t->s[j].val = val;
  t->n++;
}

static uint32_t find_id(const tack_orders *m, const char *client_id) {
  uint64_t v = table_find(m, &m->by_id, client_id);
  return v ? (uint32_t)(v - 1) : NONE;
}

static uint32_t find_venue(const tack_orders *m, const char *venue_id) {
  uint64_t v = table_find(m, &m->by_venue, venue_id);
  return v ? (uint32_t)(v - 1) : NONE;
}

/* By client id, else by venue id. */
static uint32_t find_order(const tack_orders *m, const char *client_id, const char *venue_id) {
  uint32_t i = client_id[0] ? find_id(m, client_id) : NONE;
  return i != NONE ? i : find_venue(m, venue_id);
}

static int trade_booked(const tack_orders *m, const char *trade_id) {
  return table_find(m, &m->trades, trade_id) != 0;
}

/* Room for one more trade id of length n, so that booking it cannot fail
 * after io.fill has booked the fill. */
static int trade_reserve(tack_orders *m, size_t n) {
  if (table_reserve(&m->trades, m->trades.n + 1) != 0)
    return TACK_ENOMEM;
  if (m->pool_len + n + 1 <= m->pool_cap)
    return 0;
  size_t cap = m->pool_cap ? m->pool_cap : 4096;
  while (cap < m->pool_len + n + 1)
    cap *= 2;
  char *p = tack_realloc(NULL, m->pool, cap);
  if (!p)
    return TACK_ENOMEM;
  m->pool = p;
  m->pool_cap = cap;
  return 0;
}

static int trade_add(tack_orders *m, const char *trade_id) {
  size_t n = strlen(trade_id);
  int rc = trade_reserve(m, n);
  if (rc != 0)
    return rc;
  memcpy(m->pool + m->pool_len, trade_id, n + 1);
  table_add(&m->trades, trade_id, m->pool_len + 1);
  m->pool_len += n + 1;
  return 0;
}

/* ------------------------------------------------------------------------ */
/* The order array and the live list                                         */
/* ------------------------------------------------------------------------ */

/* Room for one more order everywhere, before anything is persisted, so
 * that registering it cannot fail afterwards. */
static int reserve_order(tack_orders *m) {
  if (m->n >= NONE - 1)
    return TACK_ENOSPC;
  if (m->n == m->cap) {
    size_t cap = m->cap ? m->cap * 2 : 64;
    entry *e = tack_realloc(NULL, m->e, cap * sizeof *e);
    if (!e)
      return TACK_ENOMEM;
    m->e = e;
    m->cap = cap;
  }
  if (m->n_live == m->live_cap) {
    size_t cap = m->live_cap ? m->live_cap * 2 : 64;
    uint32_t *l = tack_realloc(NULL, m->live, cap * sizeof *l);
    if (!l)
      return TACK_ENOMEM;
    m->live = l;
    m->live_cap = cap;
  }
  if (table_reserve(&m->by_id, m->n + 1) != 0 || table_reserve(&m->by_venue, m->n + 1) != 0)
    return TACK_ENOMEM;
  return 0;
}

static void live_add(tack_orders *m, uint32_t i) {
  m->e[i].live_pos = (uint32_t)m->n_live;
  m->live[m->n_live++] = i;
}

static void live_remove(tack_orders *m, uint32_t i) {
  uint32_t pos = m->e[i].live_pos;
  if (pos == NONE)
    return;
  uint32_t last = m->live[--m->n_live];
  m->live[pos] = last;
  m->e[last].live_pos = pos;
  m->e[i].live_pos = NONE;
}

/* Registers o (room reserved) and returns its index. */
static uint32_t register_order(tack_orders *m, const tack_order *o) {
  uint32_t i = (uint32_t)m->n++;
  entry *e = &m->e[i];
  memset(e, 0, sizeof *e);
  e->o = *o;
  e->parent = e->child = e->tp = e->sl = e->replacement = NONE;
  e->live_pos = NONE;
  table_add(&m->by_id, o->req.client_id, (uint64_t)i + 1);
  if (o->venue_id[0] && find_venue(m, o->venue_id) == NONE)
    table_add(&m->by_venue, o->venue_id, (uint64_t)i + 1);
  if (!tack_order_status_final(o->status))
    live_add(m, i);
  return i;
}

/* Learns the venue's id of order i (the first one it reports). */
static int bind_venue(tack_orders *m, uint32_t i, const char *venue_id) {
  tack_order *o = &m->e[i].o;
  if (!venue_id[0] || strcmp(o->venue_id, venue_id) == 0)
    return 0;
  if (o->venue_id[0]) {
    say(m, TACK_LOG_WARN,
        "order %s %s: the venue reports venue id %s, but it was %s before: kept the first",
        o->req.client_id, o->req.symbol, venue_id, o->venue_id);
    return 0;
  }
  uint32_t other = find_venue(m, venue_id);
  if (other != NONE) {
    say(m, TACK_LOG_WARN, "order %s %s: venue id %s already belongs to order %s: not bound",
        o->req.client_id, o->req.symbol, venue_id, m->e[other].o.req.client_id);
    return 0;
  }
  tack_copy_text(o->venue_id, sizeof o->venue_id, venue_id);
  table_add(&m->by_venue, o->venue_id, (uint64_t)i + 1);
  return 1;
}

/* A copy of the live list, for walks that change it. */
static int snapshot_live(tack_orders *m, uint32_t **out, size_t *n) {
  *n = m->n_live;
  *out = NULL;
  if (*n == 0)
    return 0;
  *out = tack_alloc(NULL, *n * sizeof **out);
  if (!*out) {
    say(m, TACK_LOG_ERROR, "out of memory walking %zu live orders: tried again later", *n);
    return TACK_ENOMEM;
  }
  memcpy(*out, m->live, *n * sizeof **out);
  return 0;
}

/* ------------------------------------------------------------------------ */
/* Changing an order                                                         */
/* ------------------------------------------------------------------------ */

static int persist(tack_orders *m, const tack_order *o) {
  int rc = m->io.persist(m->io.user, o, m->next_seq);
  if (rc != 0)
    say(m, TACK_LOG_ERROR, "order %s %s: cannot persist it (status %s, filled %.10g of %.10g): %s",
        o->req.client_id, o->req.symbol, tack_order_status_name(o->status), o->filled,
        o->req.quantity, tack_strerror(rc));
  return rc;
}

/* Makes n the record of order i: persisted first (mode), then the live
 * list, the counts and io.changed. */
static int apply(tack_orders *m, uint32_t i, const tack_order *n, int mode) {
  uint32_t old = m->e[i].o.status;
  if (mode != PERSIST_NONE) {
    int rc = persist(m, n);
    if (rc != 0 && mode == PERSIST_STRICT)
      return rc < 0 ? rc : TACK_EIO;
  }
  m->e[i].o = *n;
  if (!tack_order_status_final(old) && tack_order_status_final(n->status)) {
    live_remove(m, i);
    switch (n->status) {
    case TACK_STATUS_FILLED:
      m->stats.filled++;
      break;
    case TACK_STATUS_CANCELLED:
      m->stats.cancelled++;
      break;
    case TACK_STATUS_REJECTED:
      m->stats.rejected++;
      break;
    default:
      m->stats.expired++;
      break;
    }
  }
  if (m->io.changed) {
    tack_order copy = *n;
    m->io.changed(m->io.user, &copy, old);
  }
  return 0;
}

static void after_change(tack_orders *m, uint32_t i, int filled_more, tack_time now);

/* The order is REJECTED with err and why; the change already happened (a
 * refusal), so a failure to persist is logged and the change stands. */
static void reject(tack_orders *m, uint32_t i, int err, const char *why, tack_time now) {
  tack_order n = m->e[i].o;
  if (tack_order_status_final(n.status))
    return;
  n.status = TACK_STATUS_REJECTED;
  n.error = err;
  n.updated = now;
  tack_copy_text(n.reason, sizeof n.reason, why);
  say(m, TACK_LOG_WARN, "order %s %s %s %.10g %s: rejected: %s: %s (%s)", n.req.client_id,
      side_name(n.req.side), n.req.symbol, n.req.quantity, type_name(n.req.type), why,
      tack_strerror(err), tack_err_name(err));
  apply(m, i, &n, PERSIST_BEST);
  after_change(m, i, 0, now);
}

/* Reads the sequence out of an id of ours ("<prefix><digits>"); 0 when it
 * is not one. */
static uint64_t id_seq(const tack_orders *m, const char *id) {
  if (strncmp(id, m->prefix, m->prefix_len) != 0)
    return 0;
  const char *p = id + m->prefix_len;
  uint64_t seq = 0;
  if (!*p)
    return 0;
  for (; *p; p++) {
    if (*p < '0' || *p > '9' || seq > (UINT64_MAX - 9) / 10)
      return 0;
    seq = seq * 10 + (uint64_t)(*p - '0');
  }
  return seq;
}

_Static_assert(PREFIX_MAX + 20 < TACK_ORDER_ID_MAX, "a client id holds prefix and sequence");

/* Gives o a new client id when it has none: prefix + next_seq, written by
 * hand (snprintf was a tenth of the path from a signal to its order). */
static void assign_id(tack_orders *m, tack_order_request *req) {
  char digits[20];
  int n = 0;
  size_t k = m->prefix_len;
  if (req->client_id[0])
    return;
  for (uint64_t v = m->next_seq; n == 0 || v != 0; v /= 10)
    digits[n++] = (char)('0' + (int)(v % 10));
  memcpy(req->client_id, m->prefix, k);
  while (n > 0)
    req->client_id[k++] = digits[--n];
  req->client_id[k] = '\0';
  m->next_seq++;
}

/*
 * Creates an order from prototype o (request, origin, links, timeout and
 * bracket levels set by the caller): a client id when it has none, the
 * status (held when it is a stop the venue cannot take), persisted, then
 * registered. Nothing is sent. *out receives its index.
 */
static int create(tack_orders *m, tack_order *o, tack_time now, uint32_t *out) {
  int rc = reserve_order(m);
  if (rc != 0) {
    say(m, TACK_LOG_ERROR, "out of room for a new order of %s: %s", o->req.symbol,
        tack_strerror(rc));
    return rc;
  }
  /* An id of ours is new: every id registered with our prefix moved
   * next_seq past its sequence. Only a given id is looked up (the lookup
   * is a cache miss once there are many orders). */
  int given = o->req.client_id[0] != '\0';
  assign_id(m, &o->req);
  if (given && find_id(m, o->req.client_id) != NONE) {
    say(m, TACK_LOG_WARN, "order %s %s: the client id is already used: not sent again",
        o->req.client_id, o->req.symbol);
    return TACK_EEXIST;
  }
  o->seq = id_seq(m, o->req.client_id);
  if (o->seq >= m->next_seq && o->seq < UINT64_MAX)
    m->next_seq = o->seq + 1;
  o->held = is_stop(o->req.type) && !(m->caps & TACK_CAP_STOP_ORDERS) ? 1 : 0;
  o->status = o->held ? TACK_STATUS_OPEN : TACK_STATUS_PENDING;
  o->attempts = o->held ? 0 : 1;
  o->req.ts = now;
  o->created = o->updated = now;
  if ((rc = persist(m, o)) != 0)
    return rc < 0 ? rc : TACK_EIO;
  if ((rc = reserve_order(m)) != 0) /* io.persist may have come back in */
    return rc;
  *out = register_order(m, o);
  m->stats.submitted++;
  say(m, TACK_LOG_INFO, "order %s %s %s %.10g %s limit %.10g stop %.10g: created%s%s%s",
      o->req.client_id, side_name(o->req.side), o->req.symbol, o->req.quantity,
      type_name(o->req.type), o->req.limit_price, o->req.stop_price,
      o->link[0] ? ", linked to " : "", o->link,
      o->held ? ", held in the host until the stop trades" : "");
  if (m->io.changed) {
    tack_order copy = *o;
    m->io.changed(m->io.user, &copy, 0);
  }
  return 0;
}

/* Sends order i, unless it is held. A refusal makes it REJECTED. One
 * created beside it may have filled already (an adapter can report from
 * inside send) and cancelled it as its OCO leg: then it is not sent. */
static void dispatch(tack_orders *m, uint32_t i, tack_time now) {
  const tack_order *o = &m->e[i].o;
  if (o->held || tack_order_status_final(o->status))
    return;
  if (o->flags & TACK_ORDERS_CANCEL_ASKED) {
    tack_order n = *o;
    n.status = TACK_STATUS_CANCELLED;
    n.updated = now;
    tack_copy_text(n.reason, sizeof n.reason, "cancelled before it was sent");
    say(m, TACK_LOG_INFO, "order %s %s %s %.10g: cancelled before it was sent", n.req.client_id,
        side_name(n.req.side), n.req.symbol, n.req.quantity);
    apply(m, i, &n, PERSIST_BEST);
    after_change(m, i, 0, now);
    return;
  }
  tack_order_request req = o->req;
  int rc = m->io.send(m->io.user, &req);
  if (rc < 0)
    reject(m, i, rc, "refused by the adapter", now);
}

/* ------------------------------------------------------------------------ */
/* Links                                                                     */
/* ------------------------------------------------------------------------ */

static void mirror(tack_orders *m, uint32_t p, uint32_t c, tack_time now);

/* Rebuilds what loaded records say about each other. */
static void resolve_links(tack_orders *m) {
  if (!m->links_dirty)
    return;
  m->links_dirty = 0;
  for (uint32_t i = 0; i < m->n; i++) {
    const tack_order *o = &m->e[i].o;
    uint32_t t = o->link[0] ? find_id(m, o->link) : NONE;
    if (t == NONE)
      continue;
    switch (o->link_kind) {
    case TACK_LINK_TRIGGERED:
      m->e[i].parent = t;
      m->e[t].child = i;
      break;
    case TACK_LINK_BRACKET_TP:
      m->e[t].tp = i;
      break;
    case TACK_LINK_BRACKET_SL:
      m->e[t].sl = i;
      break;
    case TACK_LINK_REPLACES:
      m->e[t].replacement = i;
      break;
    default:
      break;
    }
  }
  for (uint32_t i = 0; i < m->n; i++) {
    tack_order *o = &m->e[i].o;
    if (o->held == 2 && m->e[i].child == NONE && !tack_order_status_final(o->status)) {
      /* Its child is written before it is marked, so only a damaged or
       * hand-edited journal gets here: with no child known, it waits again. */
      say(m, TACK_LOG_WARN,
          "order %s %s: marked triggered but no order of it was written: held "
          "again until its stop %.10g trades",
          o->req.client_id, o->req.symbol, o->req.stop_price);
      o->held = 1;
    } else if (o->held == 1 && m->e[i].child != NONE) {
      o->held = 2; /* its child was written just before the crash */
    }
    if (o->held == 2 && m->e[i].child != NONE)
      mirror(m, i, m->e[i].child, o->updated);
  }
}

/* The other leg of an OCO pair (also a bracket's exits), or NONE. */
static uint32_t sibling(const tack_orders *m, uint32_t i) {
  const tack_order *o = &m->e[i].o;
  uint32_t t;
  switch (o->link_kind) {
  case TACK_LINK_OCO:
    return find_id(m, o->link);
  case TACK_LINK_BRACKET_TP:
    t = find_id(m, o->link);
    return t == NONE ? NONE : m->e[t].sl;
  case TACK_LINK_BRACKET_SL:
    t = find_id(m, o->link);
    return t == NONE ? NONE : m->e[t].tp;
  default:
    return NONE;
  }
}

/* A held stop that triggered follows its child: status (never backwards),
 * quantities and, once final, the reason. */
static void mirror(tack_orders *m, uint32_t p, uint32_t c, tack_time now) {
  const tack_order *child = &m->e[c].o;
  tack_order n = m->e[p].o;
  n.filled = child->filled;
  n.avg_price = child->avg_price;
  n.fees = child->fees;
  n.venue_filled = child->venue_filled;
  if (rank(child->status) > rank(n.status)) {
    n.status = child->status;
    n.error = child->error;
    if (child->reason[0])
      memcpy(n.reason, child->reason, sizeof n.reason);
  }
  const tack_order *o = &m->e[p].o;
  if (n.status == o->status && n.filled == o->filled && n.avg_price == o->avg_price &&
      n.fees == o->fees && n.venue_filled == o->venue_filled)
    return;
  n.updated = now;
  apply(m, p, &n, n.status != m->e[p].o.status ? PERSIST_BEST : PERSIST_NONE);
}

/* ------------------------------------------------------------------------ */
/* Cancelling                                                                */
/* ------------------------------------------------------------------------ */

/* Asks for order i to be cancelled, recording flag (TACK_ORDERS_TIMED_OUT
 * or _CANCEL_ASKED) first. A held stop is cancelled at once. */
static int ask_cancel(tack_orders *m, uint32_t i, uint32_t flag, const char *why, tack_time now) {
  tack_order n = m->e[i].o;
  int rc;
  if (tack_order_status_final(n.status))
    return TACK_ESTATE;
  n.flags |= flag;
  n.updated = now;
  if (n.held == 1) {
    n.status = TACK_STATUS_CANCELLED;
    tack_copy_text(n.reason, sizeof n.reason, why);
    if ((rc = apply(m, i, &n, PERSIST_STRICT)) != 0)
      return rc;
    say(m, TACK_LOG_INFO, "order %s %s %s %.10g stop %.10g: cancelled in the host: %s",
        n.req.client_id, side_name(n.req.side), n.req.symbol, n.req.quantity, n.req.stop_price,
        why);
    after_change(m, i, 0, now);
    return 0;
  }
  if (n.held == 2 && m->e[i].child != NONE) {
    if (n.flags != m->e[i].o.flags)
      apply(m, i, &n, PERSIST_BEST);
    return ask_cancel(m, m->e[i].child, flag, why, now);
  }
  if (n.flags != m->e[i].o.flags && (rc = apply(m, i, &n, PERSIST_STRICT)) != 0)
    return rc;
  say(m, TACK_LOG_INFO, "order %s %s %s %.10g (venue id %s), filled %.10g: cancel asked: %s",
      n.req.client_id, side_name(n.req.side), n.req.symbol, n.req.quantity,
      n.venue_id[0] ? n.venue_id : "none yet", n.filled, why);
  rc = m->io.cancel(m->io.user, n.req.client_id, n.venue_id);
  if (rc < 0) {
    say(m, TACK_LOG_ERROR, "order %s %s: the cancel was refused by the adapter: %s",
        n.req.client_id, n.req.symbol, tack_strerror(rc));
    return rc;
  }
  return 0;
}

/* ------------------------------------------------------------------------ */
/* Follow-ups: OCO, bracket exits, replacements                              */
/* ------------------------------------------------------------------------ */

static void oco_cancel(tack_orders *m, uint32_t l, tack_time now) {
  uint32_t s = sibling(m, l);
  if (s == NONE || tack_order_status_final(m->e[s].o.status) ||
      (m->e[s].o.flags & TACK_ORDERS_CANCEL_ASKED))
    return;
  char why[TACK_REASON_MAX];
  snprintf(why, sizeof why, "OCO: %.50s filled", m->e[l].o.req.client_id);
  m->stats.oco_cancels++;
  say(m, TACK_LOG_INFO, "order %s %s filled %.10g: cancelling its OCO leg %s",
      m->e[l].o.req.client_id, m->e[l].o.req.symbol, m->e[l].o.filled, m->e[s].o.req.client_id);
  ask_cancel(m, s, TACK_ORDERS_CANCEL_ASKED, why, now);
}

static int is_exit(const tack_order *o) {
  return o->link_kind == TACK_LINK_BRACKET_TP || o->link_kind == TACK_LINK_BRACKET_SL;
}

static int is_bracket_entry(const tack_order *o) {
  return (o->tp_price > 0 || o->sl_price > 0) && !is_exit(o);
}

/* Marks order i followed (its exits or its replacement exist). */
static void mark_followed(tack_orders *m, uint32_t i, tack_time now) {
  tack_order n = m->e[i].o;
  n.flags |= TACK_ORDERS_FOLLOWED;
  n.updated = now;
  apply(m, i, &n, PERSIST_BEST);
}

/* One exit of bracket entry i. */
static int make_exit(tack_orders *m, uint32_t i, uint32_t kind, tack_time now, uint32_t *out) {
  const tack_order *en = &m->e[i].o;
  tack_order x;
  memset(&x, 0, sizeof x);
  tack_copy_text(x.req.symbol, sizeof x.req.symbol, en->req.symbol);
  x.req.side = en->req.side == TACK_SIDE_BUY ? TACK_SIDE_SELL : TACK_SIDE_BUY;
  x.req.tif = TACK_TIF_GTC;
  x.req.quantity = en->filled;
  if (kind == TACK_LINK_BRACKET_TP) {
    x.req.type = TACK_ORDER_LIMIT;
    x.req.limit_price = en->tp_price;
  } else {
    x.req.type = TACK_ORDER_STOP;
    x.req.stop_price = en->sl_price;
  }
  x.origin = TACK_ORIGIN_PROTECT;
  x.link_kind = kind;
  memcpy(x.link, en->req.client_id, sizeof x.link);
  return create(m, &x, now, out);
}

/* Once a bracket entry is final and its fills have caught up with what the
 * venue says it filled, its exits go out for that quantity. */
static void bracket_check(tack_orders *m, uint32_t i, tack_time now) {
  const entry *e = &m->e[i];
  const tack_order *o = &e->o;
  if (!is_bracket_entry(o) || !tack_order_status_final(o->status) || o->held == 1)
    return;
  if ((o->flags & TACK_ORDERS_FOLLOWED) || e->tp != NONE || e->sl != NONE)
    return;
  double need = o->venue_filled;
  if (o->status == TACK_STATUS_FILLED && o->req.quantity > need)
    need = o->req.quantity;
  if (o->filled <= 0 || !covers(o->filled, need))
    return;
  uint32_t tp = NONE, sl = NONE;
  if (o->tp_price > 0 && make_exit(m, i, TACK_LINK_BRACKET_TP, now, &tp) != 0)
    tp = NONE;
  if (m->e[i].o.sl_price > 0 && make_exit(m, i, TACK_LINK_BRACKET_SL, now, &sl) != 0)
    sl = NONE;
  o = &m->e[i].o;
  if ((o->tp_price > 0 && tp == NONE) || (o->sl_price > 0 && sl == NONE))
    say(m, TACK_LOG_ERROR,
        "bracket entry %s %s filled %.10g: its %s could not be created: the position is not "
        "fully protected",
        o->req.client_id, o->req.symbol, o->filled,
        tp == NONE && sl == NONE ? "exits"
        : tp == NONE             ? "take profit"
                                 : "stop");
  if (tp == NONE && sl == NONE)
    return;
  m->e[i].tp = tp;
  m->e[i].sl = sl;
  mark_followed(m, i, now);
  o = &m->e[i].o;
  say(m, TACK_LOG_INFO,
      "bracket entry %s %s filled %.10g @ %.10g: exits %s (tp %.10g) %s (sl %.10g)",
      o->req.client_id, o->req.symbol, o->filled, o->avg_price,
      tp != NONE ? m->e[tp].o.req.client_id : "-", o->tp_price,
      sl != NONE ? m->e[sl].o.req.client_id : "-", o->sl_price);
  if (tp != NONE)
    dispatch(m, tp, now);
  if (sl != NONE)
    dispatch(m, sl, now);
}

/* A timed-out order whose cancel the venue confirmed: its unfilled rest
 * goes out again at market. */
static void replace_check(tack_orders *m, uint32_t i, tack_time now) {
  const entry *e = &m->e[i];
  const tack_order *o = &e->o;
  if (!(o->flags & TACK_ORDERS_TIMED_OUT) ||
      (o->flags & (TACK_ORDERS_CANCEL_ASKED | TACK_ORDERS_FOLLOWED)) ||
      o->on_timeout != TACK_ORDERS_REPLACE_MARKET || e->replacement != NONE || o->held == 2)
    return;
  if (o->status != TACK_STATUS_CANCELLED && o->status != TACK_STATUS_EXPIRED)
    return;
  double done = o->filled > o->venue_filled ? o->filled : o->venue_filled;
  double rest = o->req.quantity - done;
  if (rest <= o->req.quantity * QTY_EPS)
    return;
  tack_order r;
  memset(&r, 0, sizeof r);
  r.req = o->req;
  memset(r.req.client_id, 0, sizeof r.req.client_id);
  r.req.type = TACK_ORDER_MARKET;
  r.req.tif = TACK_TIF_IOC;
  r.req.limit_price = 0;
  r.req.stop_price = 0;
  r.req.expire_at = 0;
  r.req.quantity = rest;
  r.origin = o->origin;
  r.link_kind = TACK_LINK_REPLACES;
  memcpy(r.link, o->req.client_id, sizeof r.link);
  if (is_bracket_entry(o)) {
    r.tp_price = o->tp_price;
    r.sl_price = o->sl_price;
  }
  uint32_t k;
  if (create(m, &r, now, &k) != 0) {
    say(m, TACK_LOG_ERROR, "order %s %s timed out: its rest %.10g could not be replaced",
        m->e[i].o.req.client_id, m->e[i].o.req.symbol, rest);
    return;
  }
  m->e[i].replacement = k;
  mark_followed(m, i, now);
  say(m, TACK_LOG_INFO,
      "order %s %s timed out with %.10g of %.10g filled: rest %.10g sent at "
      "market as %s",
      m->e[i].o.req.client_id, m->e[i].o.req.symbol, done, m->e[i].o.req.quantity, rest,
      m->e[k].o.req.client_id);
  dispatch(m, k, now);
}

/* Everything that follows a change of order i. filled_more: a fill was
 * counted in it. */
static void after_change(tack_orders *m, uint32_t i, int filled_more, tack_time now) {
  uint32_t l = i;
  if (m->e[i].parent != NONE) {
    l = m->e[i].parent;
    mirror(m, l, i, now);
  }
  if (filled_more) {
    oco_cancel(m, l, now);
    const tack_order *o = &m->e[l].o;
    if (is_bracket_entry(o) && (o->flags & TACK_ORDERS_FOLLOWED))
      say(m, TACK_LOG_WARN,
          "bracket entry %s %s filled more (%.10g) after its exits were sent: the excess is "
          "not protected",
          o->req.client_id, o->req.symbol, o->filled);
  }
  bracket_check(m, l, now);
  replace_check(m, i, now);
}

/* ------------------------------------------------------------------------ */
/* Creating and destroying the manager                                       */
/* ------------------------------------------------------------------------ */

int tack_orders_new(const tack_orders_opts *opts, const tack_orders_io *io, tack_orders **out) {
  if (!out)
    return TACK_EINVAL;
  *out = NULL;
  if (!opts || !io || !io->persist || !io->send || !io->cancel || !io->fill || !io->reconcile ||
      !io->log || !opts->prefix || opts->max_attempts < 1)
    return TACK_EINVAL;
  size_t plen = strlen(opts->prefix);
  if (plen == 0 || plen > PREFIX_MAX)
    return TACK_EINVAL;
  for (size_t i = 0; i < plen; i++) {
    char c = opts->prefix[i];
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
      return TACK_EINVAL;
  }
  tack_orders *m = tack_calloc(NULL, 1, sizeof *m);
  if (!m)
    return TACK_ENOMEM;
  m->io = *io;
  memcpy(m->prefix, opts->prefix, plen + 1);
  m->prefix_len = plen;
  m->next_seq = opts->next_seq ? opts->next_seq : 1;
  m->caps = opts->caps;
  m->max_attempts = opts->max_attempts;
  *out = m;
  return 0;
}

void tack_orders_free(tack_orders *m) {
  if (!m)
    return;
  tack_free(NULL, m->e);
  tack_free(NULL, m->by_id.s);
  tack_free(NULL, m->by_venue.s);
  tack_free(NULL, m->trades.s);
  tack_free(NULL, m->pool);
  tack_free(NULL, m->live);
  tack_free(NULL, m->kept_u);
  tack_free(NULL, m->kept_f);
  tack_free(NULL, m);
}

/* ------------------------------------------------------------------------ */
/* Checking what comes in                                                    */
/* ------------------------------------------------------------------------ */

static int text_ok(const char *s, size_t cap) { return memchr(s, '\0', cap) != NULL; }

static int id_ok(const char *s, size_t cap) {
  if (!text_ok(s, cap))
    return 0;
  for (; *s; s++)
    if ((unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e)
      return 0;
  return 1;
}

static int nonneg(double x) { return isfinite(x) && x >= 0; }

/* Why a request cannot be sent, or NULL. */
static const char *request_problem(const tack_order_request *r) {
  if (!id_ok(r->client_id, sizeof r->client_id))
    return "the client id is not printable text of at most 63 bytes";
  if (!id_ok(r->symbol, sizeof r->symbol) || !r->symbol[0])
    return "the symbol is empty or not printable text of at most 63 bytes";
  if (r->side != TACK_SIDE_BUY && r->side != TACK_SIDE_SELL)
    return "the side is neither buy nor sell";
  if (r->type < TACK_ORDER_MARKET || r->type > TACK_ORDER_STOP_LIMIT)
    return "unknown order type";
  if (r->tif > TACK_TIF_DAY)
    return "unknown time in force";
  if (!isfinite(r->quantity) || r->quantity <= 0)
    return "the quantity is not a positive number";
  if (!nonneg(r->limit_price) || !nonneg(r->stop_price))
    return "a price is negative or not a number";
  if ((r->type == TACK_ORDER_LIMIT || r->type == TACK_ORDER_STOP_LIMIT) && r->limit_price <= 0)
    return "a limit order needs a limit price";
  if (is_stop(r->type) && r->stop_price <= 0)
    return "a stop order needs a stop price";
  if (r->tif == TACK_TIF_GTD && r->expire_at <= 0)
    return "good-until-date needs expire_at";
  return NULL;
}

static int check_request(tack_orders *m, const tack_order_request *r) {
  const char *why = request_problem(r);
  if (!why)
    return 0;
  say(m, TACK_LOG_ERROR, "order %.63s %s %.63s %.10g %s limit %.10g stop %.10g refused: %s",
      r->client_id, side_name(r->side), r->symbol, r->quantity, type_name(r->type), r->limit_price,
      r->stop_price, why);
  return TACK_EINVAL;
}

static int check_opts(tack_orders *m, const tack_order_request *r,
                      const tack_orders_submit_opts *o) {
  const char *why = NULL;
  if (o->origin < TACK_ORIGIN_TRADER || o->origin > TACK_ORIGIN_EMULATED)
    why = "unknown origin";
  else if (o->on_timeout > TACK_ORDERS_REPLACE_MARKET)
    why = "unknown on_timeout";
  else if (!nonneg(o->tp_price) || !nonneg(o->sl_price))
    why = "a bracket level is negative or not a number";
  else if (o->tp_price > 0 && o->sl_price > 0 &&
           (r->side == TACK_SIDE_BUY ? o->tp_price <= o->sl_price : o->tp_price >= o->sl_price))
    why = "the take profit is not beyond the stop in the direction of the trade";
  if (!why)
    return 0;
  say(m, TACK_LOG_ERROR, "order %s %s %.10g: refused: %s (tp %.10g, sl %.10g)", side_name(r->side),
      r->symbol, r->quantity, why, o->tp_price, o->sl_price);
  return TACK_EINVAL;
}

/* Why a venue update is malformed, or NULL. */
static const char *update_problem(const tack_order_update *u) {
  if (!text_ok(u->client_id, sizeof u->client_id) || !text_ok(u->venue_id, sizeof u->venue_id) ||
      !text_ok(u->symbol, sizeof u->symbol) || !text_ok(u->reason, sizeof u->reason))
    return "a text field has no NUL";
  if (!u->client_id[0] && !u->venue_id[0])
    return "neither a client id nor a venue id";
  if (rank(u->status) < 0)
    return "unknown status";
  if (u->side > TACK_SIDE_SELL)
    return "unknown side";
  if (!nonneg(u->quantity) || !nonneg(u->filled) || !nonneg(u->avg_price) ||
      !nonneg(u->limit_price) || !nonneg(u->stop_price) || !isfinite(u->fees))
    return "a quantity or price is negative or not a number";
  if (u->filled > u->quantity + u->quantity * QTY_EPS)
    return "filled is more than the quantity";
  return NULL;
}

static const char *fill_problem(const tack_fill *f) {
  if (!text_ok(f->client_id, sizeof f->client_id) ||
      !text_ok(f->venue_order_id, sizeof f->venue_order_id) ||
      !text_ok(f->trade_id, sizeof f->trade_id) || !text_ok(f->symbol, sizeof f->symbol) ||
      !text_ok(f->fee_currency, sizeof f->fee_currency))
    return "a text field has no NUL";
  if (!f->trade_id[0])
    return "no trade id";
  if (!f->client_id[0] && !f->venue_order_id[0])
    return "neither a client id nor a venue order id";
  if (!isfinite(f->price) || f->price <= 0 || !isfinite(f->quantity) || f->quantity <= 0)
    return "the price or quantity is not a positive number";
  if (!isfinite(f->fee))
    return "the fee is not a number";
  if (f->side > TACK_SIDE_SELL || f->liquidity > TACK_LIQ_TAKER)
    return "unknown side or liquidity";
  return NULL;
}

static int bad_update(tack_orders *m, const tack_order_update *u, const char *why) {
  m->stats.bad_updates++;
  say(m, TACK_LOG_ERROR,
      "malformed order update for %.63s (venue id %.63s) %.63s: %s (status %u, quantity %.10g, "
      "filled %.10g): ignored",
      u->client_id, u->venue_id, u->symbol, why, (unsigned)u->status, u->quantity, u->filled);
  return TACK_EINVAL;
}

static int bad_fill(tack_orders *m, const tack_fill *f, const char *why) {
  m->stats.bad_updates++;
  say(m, TACK_LOG_ERROR,
      "malformed fill %.63s for %.63s (venue id %.63s) %.63s: %s (%s %.10g @ %.10g, fee %.10g): "
      "ignored",
      f->trade_id, f->client_id, f->venue_order_id, f->symbol, why, side_name(f->side), f->quantity,
      f->price, f->fee);
  return TACK_EINVAL;
}

/* ------------------------------------------------------------------------ */
/* Restart                                                                   */
/* ------------------------------------------------------------------------ */

int tack_orders_load(tack_orders *m, const tack_order *o) {
  if (!m || !o)
    return TACK_EINVAL;
  const char *why = request_problem(&o->req);
  if (!why && !o->req.client_id[0])
    why = "no client id";
  if (!why && (!text_ok(o->venue_id, sizeof o->venue_id) || !text_ok(o->link, sizeof o->link) ||
               !text_ok(o->reason, sizeof o->reason)))
    why = "a text field has no NUL";
  if (!why && (rank(o->status) < 0 || o->held > 2 || o->link_kind > TACK_LINK_TRIGGERED))
    why = "unknown status, held or link kind";
  if (!why && (!nonneg(o->filled) || !nonneg(o->avg_price) || !isfinite(o->fees) ||
               !nonneg(o->venue_filled) || !nonneg(o->tp_price) || !nonneg(o->sl_price)))
    why = "a quantity or price is negative or not a number";
  if (why) {
    say(m, TACK_LOG_ERROR, "journal order %.63s %.63s cannot be loaded: %s", o->req.client_id,
        o->req.symbol, why);
    return TACK_EINVAL;
  }
  if (find_id(m, o->req.client_id) != NONE) {
    say(m, TACK_LOG_ERROR, "journal order %s %s is there twice: the second one is ignored",
        o->req.client_id, o->req.symbol);
    return TACK_EEXIST;
  }
  int rc = reserve_order(m);
  if (rc != 0)
    return rc;
  uint64_t seq = id_seq(m, o->req.client_id);
  if (seq >= m->next_seq && seq < UINT64_MAX)
    m->next_seq = seq + 1;
  register_order(m, o);
  m->links_dirty = 1;
  m->loaded_check = 1;
  return 0;
}

int tack_orders_seed_fill(tack_orders *m, const char *trade_id) {
  if (!m || !trade_id || !id_ok(trade_id, TACK_ORDER_ID_MAX) || !trade_id[0])
    return TACK_EINVAL;
  if (trade_booked(m, trade_id))
    return 0;
  return trade_add(m, trade_id);
}

/* ------------------------------------------------------------------------ */
/* Submitting                                                                */
/* ------------------------------------------------------------------------ */

static const tack_orders_submit_opts default_opts = {TACK_ORIGIN_TRADER, 0,
                                                     TACK_ORDERS_TIMEOUT_CANCEL, 0, 0};

/* The record a request starts as. */
static void prototype(const tack_order_request *req, const tack_orders_submit_opts *opts,
                      tack_order *o) {
  memset(o, 0, sizeof *o);
  o->req = *req;
  memset(o->req.reserved, 0, sizeof o->req.reserved);
  o->origin = opts->origin;
  o->timeout_ns = opts->timeout_ns;
  o->on_timeout = opts->on_timeout;
  o->tp_price = opts->tp_price;
  o->sl_price = opts->sl_price;
  if (o->tp_price > 0 || o->sl_price > 0)
    o->link_kind = TACK_LINK_BRACKET_ENTRY;
}

static void copy_id(char *out, const char *id) {
  if (out)
    tack_copy_text(out, TACK_ORDER_ID_MAX, id);
}

int tack_orders_submit(tack_orders *m, const tack_order_request *req,
                       const tack_orders_submit_opts *opts, tack_time now, char *client_id_out) {
  tack_order o;
  uint32_t i;
  int rc;
  if (!m || !req)
    return TACK_EINVAL;
  if (!opts)
    opts = &default_opts;
  if ((rc = check_request(m, req)) != 0 || (rc = check_opts(m, req, opts)) != 0)
    return rc;
  resolve_links(m);
  prototype(req, opts, &o);
  if ((rc = create(m, &o, now, &i)) != 0)
    return rc;
  copy_id(client_id_out, m->e[i].o.req.client_id);
  dispatch(m, i, now);
  return 0;
}

int tack_orders_submit_oco(tack_orders *m, const tack_order_request *a, const tack_order_request *b,
                           const tack_orders_submit_opts *opts, tack_time now, char *id_a,
                           char *id_b) {
  tack_order oa, ob;
  uint32_t ia, ib;
  int rc;
  if (!m || !a || !b)
    return TACK_EINVAL;
  if (!opts)
    opts = &default_opts;
  if ((rc = check_request(m, a)) != 0 || (rc = check_request(m, b)) != 0 ||
      (rc = check_opts(m, a, opts)) != 0)
    return rc;
  if (opts->tp_price > 0 || opts->sl_price > 0) {
    say(m, TACK_LOG_ERROR, "OCO pair of %s refused: a leg cannot also be a bracket entry",
        a->symbol);
    return TACK_EINVAL;
  }
  resolve_links(m);
  prototype(a, opts, &oa);
  prototype(b, opts, &ob);
  assign_id(m, &oa.req);
  assign_id(m, &ob.req);
  if (strcmp(oa.req.client_id, ob.req.client_id) == 0) {
    say(m, TACK_LOG_ERROR, "OCO pair %s refused: both legs have the same client id",
        oa.req.client_id);
    return TACK_EEXIST;
  }
  if (find_id(m, ob.req.client_id) != NONE) {
    say(m, TACK_LOG_WARN, "order %s %s: the client id is already used: not sent again",
        ob.req.client_id, ob.req.symbol);
    return TACK_EEXIST;
  }
  oa.link_kind = ob.link_kind = TACK_LINK_OCO;
  memcpy(oa.link, ob.req.client_id, sizeof oa.link);
  memcpy(ob.link, oa.req.client_id, sizeof ob.link);
  if ((rc = create(m, &oa, now, &ia)) != 0)
    return rc;
  if ((rc = create(m, &ob, now, &ib)) != 0) {
    /* Nothing was sent: the first leg, already written, is withdrawn. */
    reject(m, ia, rc, "its OCO leg could not be written", now);
    return rc;
  }
  copy_id(id_a, m->e[ia].o.req.client_id);
  copy_id(id_b, m->e[ib].o.req.client_id);
  dispatch(m, ia, now);
  dispatch(m, ib, now);
  return 0;
}

int tack_orders_retry(tack_orders *m, const char *client_id, tack_time now) {
  if (!m || !client_id)
    return TACK_EINVAL;
  resolve_links(m);
  uint32_t i = find_id(m, client_id);
  if (i == NONE)
    return TACK_ENOENT;
  tack_order n = m->e[i].o;
  if (n.status != TACK_STATUS_PENDING || n.held)
    return TACK_ESTATE;
  if (n.attempts >= m->max_attempts) {
    char why[TACK_REASON_MAX];
    snprintf(why, sizeof why, "not acknowledged after %u sends", (unsigned)n.attempts);
    reject(m, i, TACK_ETIMEDOUT, why, now);
    return TACK_ERANGE;
  }
  n.attempts++;
  n.updated = now;
  int rc = apply(m, i, &n, PERSIST_STRICT);
  if (rc != 0)
    return rc;
  m->stats.retries++;
  say(m, TACK_LOG_INFO, "order %s %s %s %.10g: sent again with the same id (attempt %u of %u)",
      n.req.client_id, side_name(n.req.side), n.req.symbol, n.req.quantity, (unsigned)n.attempts,
      (unsigned)m->max_attempts);
  dispatch(m, i, now);
  return 0;
}

int tack_orders_cancel(tack_orders *m, const char *client_id, tack_time now) {
  if (!m || !client_id)
    return TACK_EINVAL;
  resolve_links(m);
  uint32_t i = find_id(m, client_id);
  if (i == NONE)
    return TACK_ENOENT;
  if (tack_order_status_final(m->e[i].o.status))
    return TACK_ESTATE;
  return ask_cancel(m, i, TACK_ORDERS_CANCEL_ASKED, "cancelled by the owner", now);
}

size_t tack_orders_cancel_all(tack_orders *m, const char *symbol, tack_time now) {
  uint32_t *ids;
  size_t n, asked = 0;
  if (!m)
    return 0;
  resolve_links(m);
  if (snapshot_live(m, &ids, &n) != 0)
    return 0;
  for (size_t k = 0; k < n; k++) {
    const tack_order *o = &m->e[ids[k]].o;
    if (tack_order_status_final(o->status) || (o->held == 2 && m->e[ids[k]].child != NONE))
      continue; /* a triggered stop goes with its child */
    if (symbol && strcmp(o->req.symbol, symbol) != 0)
      continue;
    if (ask_cancel(m, ids[k], TACK_ORDERS_CANCEL_ASKED, "cancel all", now) == 0)
      asked++;
  }
  tack_free(NULL, ids);
  say(m, TACK_LOG_INFO, "cancel all of %s: %zu cancels asked", symbol ? symbol : "every symbol",
      asked);
  return asked;
}

/* ------------------------------------------------------------------------ */
/* From the venue                                                            */
/* ------------------------------------------------------------------------ */

static void ask_reconcile(tack_orders *m, const char *why) {
  if (m->reconciling || m->recon_asked)
    return;
  m->recon_asked = 1;
  m->io.reconcile(m->io.user, why);
}

static int keep_update(tack_orders *m, const tack_order_update *u) {
  for (size_t k = 0; k < m->n_kept_u; k++) {
    tack_order_update *v = &m->kept_u[k];
    if (strcmp(v->client_id, u->client_id) == 0 && strcmp(v->venue_id, u->venue_id) == 0) {
      if (rank(u->status) >= rank(v->status))
        *v = *u;
      return 0;
    }
  }
  if (m->n_kept_u == m->kept_u_cap) {
    size_t cap = m->kept_u_cap ? m->kept_u_cap * 2 : 8;
    tack_order_update *p = tack_realloc(NULL, m->kept_u, cap * sizeof *p);
    if (!p)
      return TACK_ENOMEM;
    m->kept_u = p;
    m->kept_u_cap = cap;
  }
  m->kept_u[m->n_kept_u++] = *u;
  return 0;
}

static int keep_fill(tack_orders *m, const tack_fill *f) {
  if (m->n_kept_f == m->kept_f_cap) {
    size_t cap = m->kept_f_cap ? m->kept_f_cap * 2 : 8;
    tack_fill *p = tack_realloc(NULL, m->kept_f, cap * sizeof *p);
    if (!p)
      return TACK_ENOMEM;
    m->kept_f = p;
    m->kept_f_cap = cap;
  }
  m->kept_f[m->n_kept_f++] = *f;
  return 0;
}

static int fill_kept(const tack_orders *m, const char *trade_id) {
  for (size_t k = 0; k < m->n_kept_f; k++)
    if (strcmp(m->kept_f[k].trade_id, trade_id) == 0)
      return 1;
  return 0;
}

/* Whether a fill that book_fill() did not book is offered again later: not
 * when it was malformed. */
static int keep_again(int rc) { return rc < 0 && rc != TACK_EINVAL; }

static int apply_update(tack_orders *m, uint32_t i, const tack_order_update *u, tack_time now);
static int book_fill(tack_orders *m, uint32_t i, const tack_fill *f, tack_time now);

/* Kept updates and fills that name venue_id, now that an order has it. */
static void retry_kept(tack_orders *m, const char *venue_id, tack_time now) {
  char vid[TACK_ORDER_ID_MAX];
  tack_copy_text(vid, sizeof vid, venue_id);
  for (size_t k = 0; k < m->n_kept_u;) {
    if (strcmp(m->kept_u[k].venue_id, vid) != 0) {
      k++;
      continue;
    }
    tack_order_update u = m->kept_u[k];
    m->kept_u[k] = m->kept_u[--m->n_kept_u];
    uint32_t i = find_order(m, u.client_id, u.venue_id);
    if (i != NONE)
      apply_update(m, i, &u, now);
    else
      keep_update(m, &u);
    k = 0;
  }
  for (size_t k = 0; k < m->n_kept_f;) {
    if (strcmp(m->kept_f[k].venue_order_id, vid) != 0) {
      k++;
      continue;
    }
    tack_fill f = m->kept_f[k];
    m->kept_f[k] = m->kept_f[--m->n_kept_f];
    uint32_t i = find_order(m, f.client_id, f.venue_order_id);
    if (i == NONE || keep_again(book_fill(m, i, &f, now)))
      keep_fill(m, &f);
    k = 0;
  }
}

/* Whether update u would move order o: 1 yes, 0 stale. */
static int update_moves(const tack_order *o, const tack_order_update *u) {
  if (tack_order_status_final(o->status))
    return 0;
  if (u->filled < o->venue_filled - o->venue_filled * QTY_EPS)
    return 0; /* cumulative quantities never go back */
  if (u->status == o->status)
    return u->status == TACK_STATUS_PARTIAL && u->filled > o->venue_filled;
  return rank(u->status) > rank(o->status);
}

static int apply_update(tack_orders *m, uint32_t i, const tack_order_update *u, tack_time now) {
  const tack_order *o = &m->e[i].o;
  if (u->symbol[0] && strcmp(u->symbol, o->req.symbol) != 0)
    return bad_update(m, u, "the symbol is not the order's");
  if (u->side && u->side != o->req.side)
    return bad_update(m, u, "the side is not the order's");
  int bound = bind_venue(m, i, u->venue_id);
  if (m->reconciling)
    m->e[i].seen = m->epoch;
  o = &m->e[i].o;
  if (!update_moves(o, u)) {
    m->stats.stale_updates++;
    say(m, TACK_LOG_DEBUG,
        "order %s %s: stale update ignored: %s (venue filled %.10g) after %s (venue filled "
        "%.10g, filled %.10g)",
        o->req.client_id, o->req.symbol, tack_order_status_name(u->status), u->filled,
        tack_order_status_name(o->status), o->venue_filled, o->filled);
    if (bound)
      retry_kept(m, u->venue_id, now);
    return 1;
  }
  uint32_t old = o->status;
  tack_order n = *o;
  n.status = u->status;
  if (u->filled > n.venue_filled)
    n.venue_filled = u->filled;
  if (u->status == TACK_STATUS_REJECTED)
    n.error = u->error < 0 ? u->error : TACK_EREJECTED;
  if (u->reason[0])
    memcpy(n.reason, u->reason, sizeof n.reason);
  n.updated = now;
  int rc = apply(m, i, &n, PERSIST_STRICT);
  if (rc != 0)
    return rc;
  say(m,
      tack_order_status_final(n.status) && n.status != TACK_STATUS_FILLED ? TACK_LOG_WARN
                                                                          : TACK_LOG_INFO,
      "order %s %s %s %.10g (venue id %s): %s -> %s, venue filled %.10g, filled %.10g%s%s",
      n.req.client_id, side_name(n.req.side), n.req.symbol, n.req.quantity, n.venue_id,
      tack_order_status_name(old), tack_order_status_name(n.status), n.venue_filled, n.filled,
      n.reason[0] ? ": " : "", n.reason);
  after_change(m, i, 0, now);
  if (bound)
    retry_kept(m, u->venue_id, now);
  return 0;
}

int tack_orders_on_update(tack_orders *m, const tack_order_update *u, tack_time now) {
  if (!m || !u)
    return TACK_EINVAL;
  const char *why = update_problem(u);
  if (why)
    return bad_update(m, u, why);
  m->stats.updates++;
  resolve_links(m);
  uint32_t i = find_order(m, u->client_id, u->venue_id);
  if (i != NONE)
    return apply_update(m, i, u, now);
  m->stats.unknown_updates++;
  char msg[200];
  snprintf(msg, sizeof msg, "update for unknown order %s (venue id %s)", u->client_id, u->venue_id);
  say(m, TACK_LOG_WARN, "%s %s %s %.10g filled %.10g, %s: kept until reconciled", msg,
      side_name(u->side), u->symbol, u->quantity, u->filled, tack_order_status_name(u->status));
  if (keep_update(m, u) != 0)
    say(m, TACK_LOG_ERROR, "%s: out of memory keeping it: dropped", msg);
  ask_reconcile(m, msg);
  return TACK_ENOENT;
}

static int book_fill(tack_orders *m, uint32_t i, const tack_fill *f, tack_time now) {
  const tack_order *o = &m->e[i].o;
  if (f->symbol[0] && strcmp(f->symbol, o->req.symbol) != 0)
    return bad_fill(m, f, "the symbol is not the order's");
  if (f->side && f->side != o->req.side)
    return bad_fill(m, f, "the side is not the order's");
  int rc = trade_reserve(m, strlen(f->trade_id));
  if (rc != 0) {
    say(m, TACK_LOG_ERROR, "fill %s of order %s: out of memory: left for the next reconciliation",
        f->trade_id, o->req.client_id);
    return rc;
  }
  tack_order before = *o;
  const char *outer = m->booking;
  m->booking = f->trade_id;
  rc = m->io.fill(m->io.user, &before, f);
  m->booking = outer;
  if (rc != 0) {
    say(m, TACK_LOG_ERROR,
        "fill %s of order %s %s %.10g @ %.10g could not be booked: %s: left for the next "
        "reconciliation",
        f->trade_id, before.req.client_id, before.req.symbol, f->quantity, f->price,
        rc < 0 ? tack_strerror(rc) : "refused");
    return rc < 0 ? rc : TACK_EIO;
  }
  if (trade_add(m, f->trade_id) != 0)
    say(m, TACK_LOG_ERROR,
        "fill %s of order %s: booked, but out of memory remembering its trade id: a repeat of "
        "it would be booked again",
        f->trade_id, before.req.client_id);
  m->stats.fills++;
  int bound = bind_venue(m, i, f->venue_order_id);
  o = &m->e[i].o;
  tack_order n;
  tack_order_after_fill(o, f, &n);
  n.updated = now;
  apply(m, i, &n, PERSIST_BEST);
  o = &m->e[i].o;
  say(m, TACK_LOG_INFO,
      "fill %s of order %s: %s %.10g %s @ %.10g fee %.10g %s: filled %.10g of %.10g, avg "
      "%.10g, %s",
      f->trade_id, o->req.client_id, side_name(o->req.side), f->quantity, o->req.symbol, f->price,
      f->fee, f->fee_currency, o->filled, o->req.quantity, o->avg_price,
      tack_order_status_name(o->status));
  if (o->filled > o->req.quantity + o->req.quantity * QTY_EPS)
    say(m, TACK_LOG_WARN, "order %s %s is overfilled: %.10g filled of %.10g", o->req.client_id,
        o->req.symbol, o->filled, o->req.quantity);
  after_change(m, i, 1, now);
  if (bound)
    retry_kept(m, f->venue_order_id, now);
  return 0;
}

int tack_orders_on_fill(tack_orders *m, const tack_fill *f, tack_time now) {
  if (!m || !f)
    return TACK_EINVAL;
  const char *why = fill_problem(f);
  if (why)
    return bad_fill(m, f, why);
  resolve_links(m);
  if (trade_booked(m, f->trade_id) || fill_kept(m, f->trade_id) ||
      (m->booking && strcmp(m->booking, f->trade_id) == 0)) {
    m->stats.duplicate_fills++;
    say(m, TACK_LOG_DEBUG,
        "fill %s of order %s (venue id %s) %s %.10g @ %.10g: a duplicate, ignored", f->trade_id,
        f->client_id, f->venue_order_id, f->symbol, f->quantity, f->price);
    return 1;
  }
  uint32_t i = find_order(m, f->client_id, f->venue_order_id);
  if (i != NONE)
    return book_fill(m, i, f, now);
  m->stats.unknown_fills++;
  char msg[240];
  snprintf(msg, sizeof msg, "fill %s for unknown order %s (venue id %s)", f->trade_id, f->client_id,
           f->venue_order_id);
  say(m, TACK_LOG_WARN, "%s: %s %.10g %s @ %.10g: kept until reconciled", msg, side_name(f->side),
      f->quantity, f->symbol, f->price);
  if (keep_fill(m, f) != 0) {
    say(m, TACK_LOG_ERROR, "%s: out of memory keeping it: left for the next reconciliation", msg);
    return TACK_ENOMEM;
  }
  ask_reconcile(m, msg);
  return TACK_ENOENT;
}

/* ------------------------------------------------------------------------ */
/* Held stops and timeouts                                                   */
/* ------------------------------------------------------------------------ */

/* Held stop p traded through at price: its child goes to the venue. */
static void trigger(tack_orders *m, uint32_t p, double price, tack_time now) {
  tack_order c;
  const tack_order *o = &m->e[p].o;
  memset(&c, 0, sizeof c);
  c.req = o->req;
  memset(c.req.client_id, 0, sizeof c.req.client_id);
  c.req.stop_price = 0;
  if (o->req.type == TACK_ORDER_STOP) {
    c.req.type = TACK_ORDER_MARKET;
    c.req.tif = TACK_TIF_IOC;
    c.req.limit_price = 0;
    c.req.expire_at = 0;
  } else {
    c.req.type = TACK_ORDER_LIMIT;
  }
  c.origin = TACK_ORIGIN_EMULATED;
  c.link_kind = TACK_LINK_TRIGGERED;
  memcpy(c.link, o->req.client_id, sizeof c.link);
  c.timeout_ns = o->timeout_ns;
  c.on_timeout = o->on_timeout;
  uint32_t k;
  if (create(m, &c, now, &k) != 0) {
    say(m, TACK_LOG_ERROR,
        "held stop %s %s: triggered at %.10g but its order could not be "
        "created: held until the next price",
        m->e[p].o.req.client_id, m->e[p].o.req.symbol, price);
    return;
  }
  m->e[p].child = k;
  m->e[k].parent = p;
  tack_order n = m->e[p].o;
  n.held = 2;
  n.updated = now;
  snprintf(n.reason, sizeof n.reason, "triggered at %.10g", price);
  apply(m, p, &n, PERSIST_BEST);
  m->stats.emulated_triggers++;
  say(m, TACK_LOG_INFO, "held stop %s %s %s %.10g stop %.10g: triggered at %.10g: sent %s as %s",
      n.req.client_id, side_name(n.req.side), n.req.symbol, n.req.quantity, n.req.stop_price, price,
      m->e[k].o.req.client_id, type_name(m->e[k].o.req.type));
  dispatch(m, k, now);
}

/* A held stop of symbol waiting for its price. */
static int held_of(const tack_order *o, const char *symbol) {
  return o->held == 1 && !tack_order_status_final(o->status) && strcmp(o->req.symbol, symbol) == 0;
}

/* Triggers the held stops of symbol that traded through: a buy stop when
 * high reached it, a sell stop when low did. */
static void trigger_scan(tack_orders *m, const char *symbol, double high, double low,
                         tack_time now) {
  uint32_t *ids;
  size_t n, k;
  if (!symbol || !isfinite(high) || !isfinite(low))
    return;
  resolve_links(m);
  /* Every bar and trade comes here: walk the live orders without a copy
   * until one may trigger. */
  for (k = 0; k < m->n_live && !held_of(&m->e[m->live[k]].o, symbol); k++)
    continue;
  if (k == m->n_live || snapshot_live(m, &ids, &n) != 0)
    return;
  for (k = 0; k < n; k++) {
    const tack_order *o = &m->e[ids[k]].o;
    if (!held_of(o, symbol))
      continue;
    if (o->req.side == TACK_SIDE_BUY && high >= o->req.stop_price)
      trigger(m, ids[k], high, now);
    else if (o->req.side == TACK_SIDE_SELL && low <= o->req.stop_price)
      trigger(m, ids[k], low, now);
  }
  tack_free(NULL, ids);
}

void tack_orders_on_price(tack_orders *m, const char *symbol, double price, tack_time now) {
  if (m)
    trigger_scan(m, symbol, price, price, now);
}

void tack_orders_on_bar(tack_orders *m, const char *symbol, const tack_bar *bar, tack_time now) {
  if (m && bar)
    trigger_scan(m, symbol, bar->high, bar->low, now);
}

int tack_orders_watching(const tack_orders *m) { return m && (m->n_live != 0 || m->links_dirty); }

/* Whether o's timeout is due now and not acted upon yet. */
static int timeout_due(const tack_order *o, tack_time now) {
  if (tack_order_status_final(o->status) || o->held == 2 || o->timeout_ns == 0 ||
      (o->flags & (TACK_ORDERS_TIMED_OUT | TACK_ORDERS_CANCEL_ASKED)))
    return 0;
  return now >= o->created && (uint64_t)(now - o->created) >= o->timeout_ns;
}

void tack_orders_tick(tack_orders *m, tack_time now) {
  uint32_t *ids;
  size_t n, k;
  if (!m)
    return;
  resolve_links(m);
  /* Called on every bar and trade: no copy of the live list unless an
   * order is due. */
  for (k = 0; k < m->n_live && !timeout_due(&m->e[m->live[k]].o, now); k++)
    continue;
  if (k == m->n_live || snapshot_live(m, &ids, &n) != 0)
    return;
  for (k = 0; k < n; k++) {
    const tack_order *o = &m->e[ids[k]].o;
    if (!timeout_due(o, now))
      continue;
    m->stats.timeouts++;
    char why[TACK_REASON_MAX];
    snprintf(why, sizeof why, "timed out after %.3f s", (double)o->timeout_ns / 1e9);
    say(m, TACK_LOG_WARN, "order %s %s %s %.10g: filled %.10g after %.3f s: %s", o->req.client_id,
        side_name(o->req.side), o->req.symbol, o->req.quantity, o->filled,
        (double)o->timeout_ns / 1e9,
        o->on_timeout == TACK_ORDERS_REPLACE_MARKET ? "cancelling, the rest goes at market"
                                                    : "cancelling");
    ask_cancel(m, ids[k], TACK_ORDERS_TIMED_OUT, why, now);
  }
  tack_free(NULL, ids);
}

/* ------------------------------------------------------------------------ */
/* Reconciliation                                                            */
/* ------------------------------------------------------------------------ */

void tack_orders_reconcile_begin(tack_orders *m, tack_time now) {
  if (!m)
    return;
  resolve_links(m);
  m->reconciling = 1;
  m->epoch++;
  m->n_at_begin = m->n;
  (void)now;
  say(m, TACK_LOG_INFO,
      "reconciliation %llu begins: %zu live orders, %zu unknown updates and "
      "%zu unknown fills kept",
      (unsigned long long)m->epoch, m->n_live, m->n_kept_u, m->n_kept_f);
}

/* Order i, live but not reported by the venue, takes the status its fills
 * say. */
static void settle(tack_orders *m, uint32_t i, tack_time now) {
  tack_order n = m->e[i].o;
  if (covers(n.filled, n.req.quantity)) {
    n.status = TACK_STATUS_FILLED;
    tack_copy_text(n.reason, sizeof n.reason, "filled; not open at the venue");
  } else if (n.status == TACK_STATUS_PENDING && n.filled <= 0) {
    n.status = TACK_STATUS_REJECTED;
    n.error = TACK_ENOENT;
    tack_copy_text(n.reason, sizeof n.reason, "never reached the venue");
  } else {
    n.status = TACK_STATUS_CANCELLED;
    tack_copy_text(n.reason, sizeof n.reason, "not open at the venue");
  }
  n.updated = now;
  m->stats.reconciled++;
  say(m, TACK_LOG_WARN,
      "order %s %s %s %.10g: %s with %.10g filled, but the venue does not "
      "report it: %s (%s)",
      n.req.client_id, side_name(n.req.side), n.req.symbol, n.req.quantity,
      tack_order_status_name(m->e[i].o.status), n.filled, tack_order_status_name(n.status),
      n.reason);
  apply(m, i, &n, PERSIST_BEST);
  after_change(m, i, 0, now);
}

size_t tack_orders_reconcile_end(tack_orders *m, tack_time now) {
  size_t settled = 0, n_ids, n_kept;
  uint32_t *ids;
  if (!m || !m->reconciling)
    return 0;
  resolve_links(m);

  /* Updates kept for orders unknown then: some are known by now. */
  tack_order_update *kept_u = m->kept_u;
  n_kept = m->n_kept_u;
  m->kept_u = NULL;
  m->n_kept_u = m->kept_u_cap = 0;
  for (size_t k = 0; k < n_kept; k++) {
    const tack_order_update *u = &kept_u[k];
    uint32_t i = find_order(m, u->client_id, u->venue_id);
    if (i != NONE)
      apply_update(m, i, u, now);
    else
      say(m, TACK_LOG_WARN,
          "the venue reports order %s (venue id %s) %s %s %.10g filled %.10g, %s, that this "
          "account did not send: left alone",
          u->client_id, u->venue_id, side_name(u->side), u->symbol, u->quantity, u->filled,
          tack_order_status_name(u->status));
  }
  tack_free(NULL, kept_u);

  if (snapshot_live(m, &ids, &n_ids) == 0) {
    for (size_t k = 0; k < n_ids; k++) {
      const entry *e = &m->e[ids[k]];
      if (ids[k] >= m->n_at_begin || tack_order_status_final(e->o.status) || e->o.held ||
          e->seen == m->epoch)
        continue;
      settle(m, ids[k], now);
      settled++;
    }
    tack_free(NULL, ids);
  }

  /* Fills still unknown are the account's, not an order's. */
  tack_fill *kept_f = m->kept_f;
  n_kept = m->n_kept_f;
  m->kept_f = NULL;
  m->n_kept_f = m->kept_f_cap = 0;
  for (size_t k = 0; k < n_kept; k++) {
    const tack_fill *f = &kept_f[k];
    if (trade_booked(m, f->trade_id))
      continue;
    uint32_t i = find_order(m, f->client_id, f->venue_order_id);
    if (i != NONE) {
      if (keep_again(book_fill(m, i, f, now)))
        keep_fill(m, f);
      continue;
    }
    int rc = trade_reserve(m, strlen(f->trade_id));
    if (rc == 0) {
      const char *outer = m->booking;
      m->booking = f->trade_id;
      rc = m->io.fill(m->io.user, NULL, f);
      m->booking = outer;
    }
    if (rc != 0) {
      say(m, TACK_LOG_ERROR,
          "external fill %s could not be booked: %s: kept for the next "
          "reconciliation",
          f->trade_id, rc < 0 ? tack_strerror(rc) : "refused");
      keep_fill(m, f);
      continue;
    }
    if (trade_add(m, f->trade_id) != 0)
      say(m, TACK_LOG_ERROR,
          "external fill %s: booked, but out of memory remembering its trade id: a repeat of it "
          "would be booked again",
          f->trade_id);
    m->stats.external_fills++;
    say(m, TACK_LOG_WARN,
        "fill %s (order %s, venue id %s) %s %.10g %s @ %.10g fee %.10g: no order of this "
        "account: booked as an external fill",
        f->trade_id, f->client_id, f->venue_order_id, side_name(f->side), f->quantity, f->symbol,
        f->price, f->fee);
  }
  tack_free(NULL, kept_f);

  if (m->loaded_check) {
    m->loaded_check = 0;
    size_t n = m->n;
    for (uint32_t i = 0; i < n; i++) {
      if (!tack_order_status_final(m->e[i].o.status))
        continue;
      bracket_check(m, i, now);
      replace_check(m, i, now);
    }
  }

  m->reconciling = 0;
  m->recon_asked = 0;
  say(m, TACK_LOG_INFO, "reconciliation %llu done: %zu orders settled, %zu live",
      (unsigned long long)m->epoch, settled, m->n_live);
  return settled;
}

/* ------------------------------------------------------------------------ */
/* Queries                                                                   */
/* ------------------------------------------------------------------------ */

const tack_order *tack_orders_get(const tack_orders *m, const char *client_id) {
  if (!m || !client_id)
    return NULL;
  uint32_t i = find_id(m, client_id);
  return i == NONE ? NULL : &m->e[i].o;
}

size_t tack_orders_count(const tack_orders *m) { return m ? m->n : 0; }

const tack_order *tack_orders_at(const tack_orders *m, size_t i) {
  return m && i < m->n ? &m->e[i].o : NULL;
}

static int triggered(const tack_order *o) { return o->held == 2; }

size_t tack_orders_live(const tack_orders *m, const char *symbol) {
  size_t n = 0;
  if (!m)
    return 0;
  for (size_t k = 0; k < m->n_live; k++) {
    const tack_order *o = &m->e[m->live[k]].o;
    if (!triggered(o) && (!symbol || strcmp(o->req.symbol, symbol) == 0))
      n++;
  }
  return n;
}

/* The signed rest of order i when it counts as pending, else 0 with *counts
 * cleared. */
static double pending_rest(const tack_orders *m, uint32_t i, int *counts) {
  const tack_order *o = &m->e[i].o;
  *counts = 0;
  if (tack_order_status_final(o->status) || o->held || o->origin == TACK_ORIGIN_PROTECT)
    return 0;
  if (is_stop(o->req.type) && (o->status == TACK_STATUS_PENDING || o->status == TACK_STATUS_OPEN))
    return 0;
  double done = o->filled > o->venue_filled ? o->filled : o->venue_filled;
  double rest = o->req.quantity - done;
  *counts = 1;
  if (rest <= 0)
    return 0;
  return o->req.side == TACK_SIDE_BUY ? rest : -rest;
}

double tack_orders_pending_quantity(const tack_orders *m, const char *symbol) {
  double sum = 0;
  if (!m)
    return 0;
  for (size_t k = 0; k < m->n_live; k++) {
    uint32_t i = m->live[k];
    int counts, counts_s;
    if (symbol && strcmp(m->e[i].o.req.symbol, symbol) != 0)
      continue;
    double v = pending_rest(m, i, &counts);
    if (!counts)
      continue;
    uint32_t s = m->e[i].o.link_kind == TACK_LINK_OCO ? sibling(m, i) : NONE;
    if (s != NONE) {
      double w = pending_rest(m, s, &counts_s);
      if (counts_s) {
        if (s < i)
          continue; /* the pair was counted with its first leg */
        if (fabs(w) > fabs(v))
          v = w;
      }
    }
    sum += v;
  }
  return sum;
}

uint64_t tack_orders_next_seq(const tack_orders *m) { return m ? m->next_seq : 0; }

void tack_orders_get_stats(const tack_orders *m, tack_orders_stats *out) {
  if (m && out)
    *out = m->stats;
}
