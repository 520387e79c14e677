/*
 * bars.c: the bar builder (trades -> time bars) and the bar resampler
 * (bars -> bars of a multiple timeframe). The rules are in bars.h and
 * docs/bars.md; this file owns their implementation and the bounded set of
 * recent trade ids used to drop duplicates.
 */
#include "bars.h"

#include <math.h>
#include <string.h>

#include "alloc.h"

/* ------------------------------------------------------------------------ */
/* Recent trade ids                                                          */
/* ------------------------------------------------------------------------ */

/*
 * A ring of the last `window` ids (oldest overwritten first) indexed by an
 * open-addressing hash table with linear probing. Ids are kept whole, not
 * only hashed, so that a hash collision can never drop a genuine trade.
 */
typedef struct id_set {
  uint32_t window; /* ring slots; 0: deduplication off */
  uint32_t mask;   /* table slots - 1 (a power of two >= 4 * window) */
  uint32_t next;   /* ring slot written next */
  uint32_t count;  /* ring slots in use */
  char (*ids)[TACK_ORDER_ID_MAX];
  uint64_t *hashes; /* per ring slot */
  uint32_t *table;  /* ring slot + 1; 0 is empty */
} id_set;

_Static_assert(TACK_ORDER_ID_MAX % 8 == 0, "id_hash reads whole words of the id buffer");

/* Hash of a normalized id of len bytes: whole 8-byte words (the padding is
 * zeros, so equal ids hash equal), then the splitmix64 finalizer, since the
 * table indexes by the low bits. */
static uint64_t id_hash(const char *id, size_t len) {
  uint64_t h = len;
  for (size_t i = 0; i < len; i += 8) {
    uint64_t w;
    memcpy(&w, id + i, sizeof w);
    h = (h ^ w) * UINT64_C(0x9e3779b97f4a7c15);
    h ^= h >> 29;
  }
  h ^= h >> 30;
  h *= UINT64_C(0xbf58476d1ce4e5b9);
  h ^= h >> 27;
  h *= UINT64_C(0x94d049bb133111eb);
  h ^= h >> 31;
  return h;
}

static int id_set_init(id_set *s, uint32_t window) {
  memset(s, 0, sizeof *s);
  if (window == 0)
    return 0;
  if (window > (UINT32_C(1) << 24))
    return TACK_EINVAL;
  /* Load factor at most 1/4: probe runs stay short, which halved the cost
   * per trade against 1/2 (bench_bars), for 4 bytes a slot. */
  uint32_t slots = 1;
  while (slots < 4 * window)
    slots <<= 1;
  s->window = window;
  s->mask = slots - 1;
  s->ids = tack_alloc(NULL, (size_t)window * sizeof *s->ids);
  s->hashes = tack_alloc(NULL, (size_t)window * sizeof *s->hashes);
  s->table = tack_calloc(NULL, slots, sizeof *s->table);
  if (!s->ids || !s->hashes || !s->table)
    return TACK_ENOMEM;
  return 0;
}

static void id_set_free(id_set *s) {
  tack_free(NULL, s->ids);
  tack_free(NULL, s->hashes);
  tack_free(NULL, s->table);
  memset(s, 0, sizeof *s);
}

static void id_set_clear(id_set *s) {
  if (s->window == 0)
    return;
  memset(s->table, 0, ((size_t)s->mask + 1) * sizeof *s->table);
  s->next = 0;
  s->count = 0;
}

/* Table index holding ring slot `slot`, whose hash is h. */
static uint32_t id_set_find_slot(const id_set *s, uint32_t slot, uint64_t h) {
  uint32_t i = (uint32_t)h & s->mask;
  while (s->table[i] != slot + 1)
    i = (i + 1) & s->mask;
  return i;
}

/* Remove table entry i, shifting later entries of the probe run back so
 * that lookups never stop early at the hole (Knuth's algorithm R). */
static void id_set_delete_at(id_set *s, uint32_t i) {
  for (;;) {
    s->table[i] = 0;
    uint32_t j = i;
    for (;;) {
      j = (j + 1) & s->mask;
      if (s->table[j] == 0)
        return;
      uint32_t home = (uint32_t)s->hashes[s->table[j] - 1] & s->mask;
      int stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
      if (!stays)
        break;
    }
    s->table[i] = s->table[j];
    i = j;
  }
}

/* 1 when id was among the recent ones; otherwise remembers it and returns 0.
 * id is a normalized (NUL-padded) TACK_ORDER_ID_MAX buffer, len its length. */
static int id_set_check_insert(id_set *s, const char *id, size_t len) {
  uint64_t h = id_hash(id, len);
  uint32_t i = (uint32_t)h & s->mask;
  while (s->table[i] != 0) {
    uint32_t slot = s->table[i] - 1;
    if (s->hashes[slot] == h && memcmp(s->ids[slot], id, TACK_ORDER_ID_MAX) == 0)
      return 1;
    i = (i + 1) & s->mask;
  }
  uint32_t slot = s->next;
  if (s->count == s->window) {
    id_set_delete_at(s, id_set_find_slot(s, slot, s->hashes[slot]));
    /* The deletion may have moved entries into the free place found above. */
    i = (uint32_t)h & s->mask;
    while (s->table[i] != 0)
      i = (i + 1) & s->mask;
  } else {
    s->count++;
  }
  memcpy(s->ids[slot], id, TACK_ORDER_ID_MAX);
  s->hashes[slot] = h;
  s->table[i] = slot + 1;
  s->next = (slot + 1 == s->window) ? 0 : slot + 1;
  return 0;
}

/* ------------------------------------------------------------------------ */
/* Shared helpers                                                            */
/* ------------------------------------------------------------------------ */

/* Bucket start; ts >= 0 (checked by callers), so truncation is floor. */
static tack_time bucket_of(tack_time ts, int64_t tf_ns) { return ts - ts % tf_ns; }

static int valid_policy(uint32_t gap) {
  return gap == TACK_BARS_GAP_SKIP || gap == TACK_BARS_GAP_FILL;
}

/* Fold a closed piece of data at time t into an accumulating bar whose data
 * spans [*first, *last]: open follows the earliest, close the latest. n is
 * how many pieces acc holds. Returns 1 when t is older than *last. */
static int fold(tack_bar *acc, tack_time *first, tack_time *last, uint64_t n, tack_time t,
                double open, double high, double low, double close, double volume) {
  if (n == 0) {
    acc->open = open;
    acc->high = high;
    acc->low = low;
    acc->close = close;
    acc->volume = volume;
    *first = t;
    *last = t;
    return 0;
  }
  int older = t < *last;
  if (t < *first) {
    acc->open = open;
    *first = t;
  }
  /* Equal times keep arrival order: the later arrival is the later trade. */
  if (t >= *last) {
    acc->close = close;
    *last = t;
  }
  if (high > acc->high)
    acc->high = high;
  if (low < acc->low)
    acc->low = low;
  acc->volume += volume;
  return older;
}

/* ------------------------------------------------------------------------ */
/* Builder                                                                   */
/* ------------------------------------------------------------------------ */

struct tack_bar_builder {
  tack_bar_builder_config cfg;
  int64_t tf_ns;
  tack_time watermark; /* a trade whose bucket starts before this is late */
  int forming;
  tack_bar bar; /* the forming bar when forming */
  uint64_t bar_trades;
  tack_time first_ts; /* earliest and latest trade folded into bar */
  tack_time last_ts;
  tack_time last_prov_ts; /* trade time of the last throttled provisional */
  int have_close;         /* a bar has closed: last_close and next_fill are set */
  double last_close;
  tack_time next_fill; /* start of the bucket after the last closed bar */
  id_set ids;
  tack_bar_builder_stats stats;
};

void tack_bar_builder_config_init(tack_bar_builder_config *cfg, uint32_t timeframe_s) {
  memset(cfg, 0, sizeof *cfg);
  cfg->timeframe_s = timeframe_s;
  cfg->gap_policy = TACK_BARS_GAP_SKIP;
  cfg->provisional = TACK_BARS_PROV_NONE;
  cfg->dedup_window = TACK_BARS_DEDUP_DEFAULT;
}

static void builder_clear(tack_bar_builder *b) {
  b->watermark = INT64_MIN;
  b->forming = 0;
  memset(&b->bar, 0, sizeof b->bar);
  b->bar_trades = 0;
  b->first_ts = 0;
  b->last_ts = 0;
  b->last_prov_ts = 0;
  b->have_close = 0;
  b->last_close = 0;
  b->next_fill = 0;
  id_set_clear(&b->ids);
  memset(&b->stats, 0, sizeof b->stats);
}

int tack_bar_builder_init(tack_bar_builder **out, const tack_bar_builder_config *cfg) {
  int rc = TACK_EINVAL;
  tack_bar_builder *b = NULL;
  if (!out || !cfg)
    return TACK_EINVAL;
  *out = NULL;
  if (cfg->timeframe_s == 0 || !cfg->on_bar || !valid_policy(cfg->gap_policy))
    return TACK_EINVAL;
  if (cfg->provisional > TACK_BARS_PROV_THROTTLE ||
      (cfg->provisional == TACK_BARS_PROV_THROTTLE && cfg->provisional_ns <= 0))
    return TACK_EINVAL;
  b = tack_calloc(NULL, 1, sizeof *b);
  if (!b)
    return TACK_ENOMEM;
  b->cfg = *cfg;
  b->tf_ns = (int64_t)cfg->timeframe_s * TACK_NS_PER_SEC;
  rc = id_set_init(&b->ids, cfg->dedup_window);
  if (rc != 0)
    goto fail;
  builder_clear(b);
  *out = b;
  return 0;
fail:
  id_set_free(&b->ids);
  tack_free(NULL, b);
  return rc;
}

void tack_bar_builder_free(tack_bar_builder *b) {
  if (!b)
    return;
  id_set_free(&b->ids);
  tack_free(NULL, b);
}

void tack_bar_builder_reset(tack_bar_builder *b) { builder_clear(b); }

static void builder_close_forming(tack_bar_builder *b) {
  b->bar.flags = TACK_BAR_CLOSED;
  b->forming = 0;
  b->have_close = 1;
  b->last_close = b->bar.close;
  b->next_fill = b->bar.ts + b->tf_ns;
  b->stats.closed++;
  b->cfg.on_bar(b->cfg.data, &b->bar);
}

/* Fillers for the empty buckets from the one after the last closed bar up
 * to (not including) the bucket starting at end. */
static void builder_fill_until(tack_bar_builder *b, tack_time end) {
  if (b->cfg.gap_policy != TACK_BARS_GAP_FILL || !b->have_close)
    return;
  tack_bar f = {0};
  f.open = f.high = f.low = f.close = b->last_close;
  f.timeframe_s = b->cfg.timeframe_s;
  f.flags = TACK_BAR_CLOSED | TACK_BAR_FILLER;
  for (; b->next_fill < end; b->next_fill += b->tf_ns) {
    f.ts = b->next_fill;
    b->stats.closed++;
    b->stats.fillers++;
    b->cfg.on_bar(b->cfg.data, &f);
  }
}

static void builder_provisional(tack_bar_builder *b, tack_time ts, int opened) {
  if (b->cfg.provisional == TACK_BARS_PROV_NONE)
    return;
  if (b->cfg.provisional == TACK_BARS_PROV_THROTTLE) {
    /* Both times are >= 0, so the difference cannot overflow. */
    if (!opened && ts - b->last_prov_ts < b->cfg.provisional_ns)
      return;
    b->last_prov_ts = ts;
  }
  b->bar.flags = 0;
  b->stats.provisional++;
  b->cfg.on_bar(b->cfg.data, &b->bar);
}

static int builder_drop(tack_bar_builder *b, const tack_trade *t, int reason) {
  if (reason == TACK_BARS_LATE)
    b->stats.late++;
  else
    b->stats.duplicates++;
  if (b->cfg.on_drop)
    b->cfg.on_drop(b->cfg.data, t, reason);
  return reason;
}

int tack_bar_builder_push(tack_bar_builder *b, const tack_trade *t) {
  if (t->ts < 0 || t->ts > INT64_MAX - b->tf_ns || !isfinite(t->price) || !isfinite(t->size) ||
      t->size < 0) {
    b->stats.invalid++;
    return TACK_EINVAL;
  }
  if (b->ids.window != 0 && t->id[0] != '\0') {
    char id[TACK_ORDER_ID_MAX];
    /* Normalize: the bytes after the NUL are not part of the id. */
    size_t n = strnlen(t->id, sizeof id);
    memcpy(id, t->id, n);
    memset(id + n, 0, sizeof id - n);
    if (id_set_check_insert(&b->ids, id, n))
      return builder_drop(b, t, TACK_BARS_DUPLICATE);
  }
  tack_time bucket = bucket_of(t->ts, b->tf_ns);
  if (bucket < b->watermark)
    return builder_drop(b, t, TACK_BARS_LATE);

  int opened = 0;
  if (b->forming && bucket > b->bar.ts)
    builder_close_forming(b);
  if (!b->forming) {
    builder_fill_until(b, bucket);
    b->watermark = bucket;
    b->forming = 1;
    b->bar_trades = 0;
    b->bar.ts = bucket;
    b->bar.timeframe_s = b->cfg.timeframe_s;
    opened = 1;
  }
  if (fold(&b->bar, &b->first_ts, &b->last_ts, b->bar_trades, t->ts, t->price, t->price, t->price,
           t->price, t->size))
    b->stats.out_of_order++;
  b->bar_trades++;
  b->stats.applied++;
  builder_provisional(b, t->ts, opened);
  return TACK_BARS_APPLIED;
}

int tack_bar_builder_close_until(tack_bar_builder *b, tack_time now) {
  if (now < 0)
    return TACK_EINVAL;
  tack_time w = bucket_of(now, b->tf_ns);
  if (b->forming && b->bar.ts < w)
    builder_close_forming(b);
  if (w > b->watermark) {
    builder_fill_until(b, w);
    b->watermark = w;
  }
  return 0;
}

int tack_bar_builder_forming(const tack_bar_builder *b, tack_bar *out) {
  if (!b->forming)
    return 0;
  *out = b->bar;
  out->flags = 0;
  return 1;
}

const tack_bar_builder_stats *tack_bar_builder_stats_get(const tack_bar_builder *b) {
  return &b->stats;
}

/* ------------------------------------------------------------------------ */
/* Resampler                                                                 */
/* ------------------------------------------------------------------------ */

struct tack_bar_resampler {
  tack_bar_resampler_config cfg;
  int64_t in_ns;
  int64_t out_ns;
  uint32_t ratio;      /* out / in: input slots per output bar */
  tack_time watermark; /* an input whose output bucket starts before this is late */
  int forming;         /* a bucket is open: closed inputs or a provisional one */
  tack_time bucket;    /* its start */
  /* Closed inputs of the bucket, real ones and fillers apart: fillers carry
   * no trade, so they shape the output only when nothing else does. */
  tack_bar real;
  uint64_t n_real;
  tack_time real_first, real_last;
  tack_bar fill;
  uint64_t n_fill;
  tack_time fill_first, fill_last;
  int have_prov;
  tack_bar prov;          /* the most recent provisional input of the bucket */
  uint64_t *closed_slots; /* one bit per input slot of the bucket */
  size_t slot_words;
  int have_close;
  double last_close;
  tack_time next_fill;
  tack_bar_resampler_stats stats;
};

/* Start bucket `bucket` with nothing in it. */
static void resampler_open(tack_bar_resampler *r, tack_time bucket) {
  r->bucket = bucket;
  r->n_real = 0;
  r->n_fill = 0;
  r->have_prov = 0;
  memset(r->closed_slots, 0, r->slot_words * sizeof *r->closed_slots);
}

static void resampler_clear(tack_bar_resampler *r) {
  r->watermark = INT64_MIN;
  r->forming = 0;
  resampler_open(r, 0);
  r->have_close = 0;
  r->last_close = 0;
  r->next_fill = 0;
  memset(&r->stats, 0, sizeof r->stats);
}

int tack_bar_resampler_init(tack_bar_resampler **out, const tack_bar_resampler_config *cfg) {
  int rc = TACK_ENOMEM;
  tack_bar_resampler *r = NULL;
  if (!out || !cfg)
    return TACK_EINVAL;
  *out = NULL;
  if (cfg->in_timeframe_s == 0 || cfg->out_timeframe_s == 0 ||
      cfg->out_timeframe_s % cfg->in_timeframe_s != 0 ||
      cfg->out_timeframe_s / cfg->in_timeframe_s > TACK_BARS_MAX_RATIO || !cfg->on_bar ||
      !valid_policy(cfg->gap_policy))
    return TACK_EINVAL;
  r = tack_calloc(NULL, 1, sizeof *r);
  if (!r)
    return TACK_ENOMEM;
  r->cfg = *cfg;
  r->in_ns = (int64_t)cfg->in_timeframe_s * TACK_NS_PER_SEC;
  r->out_ns = (int64_t)cfg->out_timeframe_s * TACK_NS_PER_SEC;
  r->ratio = cfg->out_timeframe_s / cfg->in_timeframe_s;
  r->slot_words = ((size_t)r->ratio + 63) / 64;
  r->closed_slots = tack_calloc(NULL, r->slot_words, sizeof *r->closed_slots);
  if (!r->closed_slots)
    goto fail;
  resampler_clear(r);
  *out = r;
  return 0;
fail:
  tack_free(NULL, r);
  return rc;
}

void tack_bar_resampler_free(tack_bar_resampler *r) {
  if (!r)
    return;
  tack_free(NULL, r->closed_slots);
  tack_free(NULL, r);
}

void tack_bar_resampler_reset(tack_bar_resampler *r) { resampler_clear(r); }

/* The output bar from the closed inputs: the real ones, else the fillers. */
static void resampler_closed_part(const tack_bar_resampler *r, tack_bar *out, tack_time *first,
                                  tack_time *last, uint64_t *n) {
  int real = r->n_real > 0;
  *out = real ? r->real : r->fill;
  *first = real ? r->real_first : r->fill_first;
  *last = real ? r->real_last : r->fill_last;
  *n = real ? r->n_real : r->n_fill;
  out->ts = r->bucket;
  out->timeframe_s = r->cfg.out_timeframe_s;
  out->flags = 0;
}

/* The forming output bar: closed inputs, with the provisional one on top.
 * A provisional input is real data, so it replaces fillers. */
static void resampler_view(const tack_bar_resampler *r, tack_bar *out) {
  tack_time first, last;
  uint64_t n;
  resampler_closed_part(r, out, &first, &last, &n);
  if (r->have_prov) {
    const tack_bar *p = &r->prov;
    if (r->n_real == 0)
      n = 0;
    fold(out, &first, &last, n, p->ts, p->open, p->high, p->low, p->close, p->volume);
  }
}

static void resampler_provisional(tack_bar_resampler *r) {
  if (!r->cfg.provisional)
    return;
  tack_bar view;
  resampler_view(r, &view);
  r->stats.provisional++;
  r->cfg.on_bar(r->cfg.data, &view);
}

/* Close the forming bucket: a bar when a closed input reached it (the
 * provisional one never does), nothing otherwise. */
static void resampler_close_forming(tack_bar_resampler *r) {
  r->forming = 0;
  if (r->have_prov)
    r->stats.unconfirmed++;
  r->have_prov = 0;
  if (r->n_real == 0 && r->n_fill == 0)
    return;
  tack_bar out;
  tack_time first, last;
  uint64_t n;
  resampler_closed_part(r, &out, &first, &last, &n);
  out.flags = TACK_BAR_CLOSED | (r->n_real == 0 ? TACK_BAR_FILLER : 0);
  r->have_close = 1;
  r->last_close = out.close;
  r->next_fill = r->bucket + r->out_ns;
  r->stats.closed++;
  if (r->n_real == 0)
    r->stats.fillers++;
  r->cfg.on_bar(r->cfg.data, &out);
}

static void resampler_fill_until(tack_bar_resampler *r, tack_time end) {
  if (r->cfg.gap_policy != TACK_BARS_GAP_FILL || !r->have_close)
    return;
  tack_bar f = {0};
  f.open = f.high = f.low = f.close = r->last_close;
  f.timeframe_s = r->cfg.out_timeframe_s;
  f.flags = TACK_BAR_CLOSED | TACK_BAR_FILLER;
  for (; r->next_fill < end; r->next_fill += r->out_ns) {
    f.ts = r->next_fill;
    r->stats.closed++;
    r->stats.fillers++;
    r->cfg.on_bar(r->cfg.data, &f);
  }
}

static int resampler_drop(tack_bar_resampler *r, const tack_bar *in, int reason) {
  if (reason == TACK_BARS_LATE)
    r->stats.late++;
  else
    r->stats.duplicates++;
  if (r->cfg.on_drop)
    r->cfg.on_drop(r->cfg.data, in, reason);
  return reason;
}

static int bar_is_valid(const tack_bar *b) {
  return isfinite(b->open) && isfinite(b->high) && isfinite(b->low) && isfinite(b->close) &&
         isfinite(b->volume) && b->volume >= 0;
}

int tack_bar_resampler_push(tack_bar_resampler *r, const tack_bar *in) {
  if (in->timeframe_s != r->cfg.in_timeframe_s || in->ts < 0 || in->ts % r->in_ns != 0 ||
      in->ts > INT64_MAX - r->out_ns || !bar_is_valid(in)) {
    r->stats.invalid++;
    return TACK_EINVAL;
  }
  tack_time bucket = bucket_of(in->ts, r->out_ns);
  if (bucket < r->watermark)
    return resampler_drop(r, in, TACK_BARS_LATE);
  if (r->forming && bucket > r->bucket)
    resampler_close_forming(r);
  if (!r->forming) {
    resampler_fill_until(r, bucket);
    r->watermark = bucket;
    r->forming = 1;
    resampler_open(r, bucket);
  }

  uint64_t slot = (uint64_t)((in->ts - bucket) / r->in_ns);
  uint64_t bit = UINT64_C(1) << (slot % 64);
  if (r->closed_slots[slot / 64] & bit)
    return resampler_drop(r, in, TACK_BARS_DUPLICATE);

  if (!(in->flags & TACK_BAR_CLOSED)) {
    r->prov = *in;
    r->have_prov = 1;
    r->stats.provisional_in++;
    resampler_provisional(r);
    return TACK_BARS_APPLIED;
  }

  r->closed_slots[slot / 64] |= bit;
  int older;
  if (in->flags & TACK_BAR_FILLER) {
    older = fold(&r->fill, &r->fill_first, &r->fill_last, r->n_fill++, in->ts, in->open, in->high,
                 in->low, in->close, in->volume);
  } else {
    older = fold(&r->real, &r->real_first, &r->real_last, r->n_real++, in->ts, in->open, in->high,
                 in->low, in->close, in->volume);
  }
  if (older)
    r->stats.out_of_order++;
  if (r->have_prov && r->prov.ts == in->ts)
    r->have_prov = 0; /* confirmed by its closed version */
  r->stats.applied++;

  if (slot + 1 == r->ratio) {
    /* The input that ends the bucket closed: nothing more can belong to it,
     * so close now rather than wait for the next bucket's first input. */
    resampler_close_forming(r);
    r->watermark = bucket + r->out_ns;
  } else {
    resampler_provisional(r);
  }
  return TACK_BARS_APPLIED;
}

int tack_bar_resampler_close_until(tack_bar_resampler *r, tack_time now) {
  if (now < 0)
    return TACK_EINVAL;
  tack_time w = bucket_of(now, r->out_ns);
  if (r->forming && r->bucket < w)
    resampler_close_forming(r);
  if (w > r->watermark) {
    resampler_fill_until(r, w);
    r->watermark = w;
  }
  return 0;
}

int tack_bar_resampler_forming(const tack_bar_resampler *r, tack_bar *out) {
  if (!r->forming || (r->n_real == 0 && r->n_fill == 0 && !r->have_prov))
    return 0;
  resampler_view(r, out);
  return 1;
}

const tack_bar_resampler_stats *tack_bar_resampler_stats_get(const tack_bar_resampler *r) {
  return &r->stats;
}
