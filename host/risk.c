/*
 * risk.c: the risk gate, position protection (take profit, stop loss,
 * trailing stop) and the trading day with its loss limit and profit
 * target; see risk.h. Every function checks its inputs before it writes
 * anything, so a refused call leaves the caller's structs as they were.
 */
#include "risk.h"

#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "utc.h"

#define RATE_WINDOW (60 * TACK_NS_PER_SEC)
#define DAY_S INT64_C(86400)
#define MAX_OFFSET_MINUTES (14 * 60)
#define ZONEINFO_DIR "/usr/share/zoneinfo/"

/* ------------------------------------------------------------------------ */
/* Checks                                                                    */
/* ------------------------------------------------------------------------ */

static int amount_ok(double x) { return isfinite(x) && x >= 0; }

int tack_risk_limits_check(const tack_risk_limits *l, const char **field) {
  const char *bad = NULL;
  if (!amount_ok(l->max_order_notional))
    bad = "max_order_notional";
  else if (!amount_ok(l->max_position_notional))
    bad = "max_position_notional";
  else if (l->max_orders_per_minute > TACK_RISK_RATE_SLOTS)
    bad = "max_orders_per_minute";
  if (field)
    *field = bad;
  return bad ? TACK_EINVAL : 0;
}

int tack_risk_exits_check(const tack_risk_exits *e, const char **field) {
  const char *bad = NULL;
  if (!amount_ok(e->take_profit))
    bad = "take_profit";
  else if (!amount_ok(e->stop_loss) || e->stop_loss >= 1)
    bad = "stop_loss";
  else if (!amount_ok(e->trailing_stop) || e->trailing_stop >= 1)
    bad = "trailing_stop";
  else if (!amount_ok(e->trailing_activation))
    bad = "trailing_activation";
  if (field)
    *field = bad;
  return bad ? TACK_EINVAL : 0;
}

/* ------------------------------------------------------------------------ */
/* Gate                                                                      */
/* ------------------------------------------------------------------------ */

int tack_risk_is_reducing(double position, double quantity) {
  if (!isfinite(position) || !isfinite(quantity) || position == 0 || quantity == 0)
    return 0;
  return (position > 0) != (quantity > 0) && fabs(quantity) <= fabs(position);
}

/* Orders of the ring sent within the window before now, once the oldest
 * ones that left it are dropped. Entries from a later time (a clock that
 * went back) count: they are recent. The count walks the whole ring, so it
 * is made only when a rate limit needs it (counted). */
static uint32_t rate_recent(tack_risk_rate *r, tack_time now, int counted) {
  tack_time horizon = now < INT64_MIN + RATE_WINDOW ? INT64_MIN : now - RATE_WINDOW;
  while (r->count > 0 && r->sent[r->head] <= horizon) {
    r->head = (r->head + 1) % TACK_RISK_RATE_SLOTS;
    r->count--;
  }
  if (!counted)
    return 0;
  uint32_t n = 0;
  for (uint32_t i = 0; i < r->count; i++) {
    if (r->sent[(r->head + i) % TACK_RISK_RATE_SLOTS] > horizon)
      n++;
  }
  return n;
}

/* A full ring forgets its oldest entry: with max_orders_per_minute at most
 * TACK_RISK_RATE_SLOTS the newest slots alone decide the rule. */
static void rate_add(tack_risk_rate *r, tack_time now) {
  if (r->count == TACK_RISK_RATE_SLOTS) {
    r->sent[r->head] = now;
    r->head = (r->head + 1) % TACK_RISK_RATE_SLOTS;
  } else {
    r->sent[(r->head + r->count) % TACK_RISK_RATE_SLOTS] = now;
    r->count++;
  }
}

static int refuse(tack_risk_refusal *out, const char *rule, const char *fmt, ...) TACK_PRINTF(3, 4);

static int refuse(tack_risk_refusal *out, const char *rule, const char *fmt, ...) {
  va_list ap;
  snprintf(out->rule, sizeof out->rule, "%s", rule);
  va_start(ap, fmt);
  vsnprintf(out->why, sizeof out->why, fmt, ap);
  va_end(ap);
  return TACK_EPERM;
}

int tack_risk_check_order(const tack_risk_limits *lim, const tack_risk_switches *sw,
                          tack_risk_rate *rate, const tack_risk_order *ord,
                          tack_risk_refusal *out) {
  if (lim == NULL || sw == NULL || rate == NULL || ord == NULL || out == NULL ||
      ord->symbol == NULL || tack_risk_limits_check(lim, NULL) < 0 ||
      rate->head >= TACK_RISK_RATE_SLOTS || rate->count > TACK_RISK_RATE_SLOTS)
    return TACK_EINVAL;
  double q = ord->quantity, price = ord->price, pos = ord->position;
  if (!isfinite(q) || q == 0 || !isfinite(price) || price <= 0 || !isfinite(pos))
    return TACK_EINVAL;
  memset(out, 0, sizeof *out);

  uint32_t recent = rate_recent(rate, ord->now, lim->max_orders_per_minute > 0);
  if (!tack_risk_is_reducing(pos, q)) {
    const char *sym = ord->symbol;
    double order_notional = fabs(q) * price;
    double after = pos + q;
    double position_notional = fabs(after) * price;
    if (sw->kill)
      return refuse(out, "kill_switch",
                    "kill switch is on: order %.10g %s on position %.10g adds exposure; only "
                    "reducing orders pass",
                    q, sym, pos);
    if (sw->locked)
      return refuse(out, "daily_lock",
                    "the day is locked: order %.10g %s on position %.10g adds exposure; only "
                    "reducing orders pass",
                    q, sym, pos);
    if (lim->max_orders_per_minute > 0 && recent >= lim->max_orders_per_minute)
      return refuse(out, "orders_per_minute",
                    "order %.10g %s would be order %u in the last 60 s > %u per minute", q, sym,
                    recent + 1, lim->max_orders_per_minute);
    if (lim->max_order_notional > 0 && order_notional > lim->max_order_notional)
      return refuse(out, "max_order_notional", "order %.10g %s x %.10g = %.10g > %.10g", q, sym,
                    price, order_notional, lim->max_order_notional);
    if (lim->max_position_notional > 0 && position_notional > lim->max_position_notional)
      return refuse(out, "max_position_notional",
                    "position %.10g %s after order %.10g x %.10g = %.10g > %.10g", after, sym, q,
                    price, position_notional, lim->max_position_notional);
  }
  rate_add(rate, ord->now);
  return 0;
}

/* ------------------------------------------------------------------------ */
/* Protection                                                                */
/* ------------------------------------------------------------------------ */

void tack_risk_protect_set(tack_risk_protect *p, double quantity, double avg_price) {
  if (!isfinite(quantity) || quantity == 0 || !isfinite(avg_price) || avg_price <= 0) {
    memset(p, 0, sizeof *p);
    return;
  }
  int restart = p->quantity == 0 || (p->quantity > 0) != (quantity > 0);
  p->quantity = quantity;
  p->avg_price = avg_price;
  if (restart) {
    p->peak = avg_price;
    p->armed = 0;
  }
}

/* The levels in force for a position, given whether the trail is armed. */
typedef struct levels {
  int has_tp, has_stop;
  double tp;
  double stop;        /* the nearer of stop loss and armed trailing stop */
  uint32_t stop_kind; /* TACK_RISK_EXIT_STOP_LOSS or _TRAILING */
} levels;

static int is_long(const tack_risk_protect *p) { return p->quantity > 0; }

/* The trail arms once the peak is trailing_activation in profit. */
static int activation_reached(const tack_risk_protect *p, const tack_risk_exits *e) {
  double act = e->trailing_activation;
  return is_long(p) ? p->peak >= p->avg_price * (1 + act) : p->peak <= p->avg_price * (1 - act);
}

static levels levels_of(const tack_risk_protect *p, const tack_risk_exits *e, int armed) {
  levels lv = {0, 0, 0, 0, TACK_RISK_EXIT_STOP_LOSS};
  double dir = is_long(p) ? 1 : -1;
  int has_sl = e->stop_loss > 0, has_tr = e->trailing_stop > 0 && armed;
  double sl = p->avg_price * (1 - dir * e->stop_loss);
  double tr = p->peak * (1 - dir * e->trailing_stop);
  if (e->take_profit > 0) {
    lv.has_tp = 1;
    lv.tp = p->avg_price * (1 + dir * e->take_profit);
  }
  if (has_sl || has_tr) {
    lv.has_stop = 1;
    /* The nearer stop: the higher for a long, the lower for a short. */
    if (has_tr && (!has_sl || dir * tr > dir * sl)) {
      lv.stop = tr;
      lv.stop_kind = TACK_RISK_EXIT_TRAILING;
    } else {
      lv.stop = sl;
    }
  }
  return lv;
}

/* Fills *out for an exit of kind at level, reached at price; seen and
 * seen_what say what crossed it ("price 97", "bar low 96"). */
static void exit_at(const tack_risk_protect *p, const tack_risk_exits *e, uint32_t kind,
                    double level, double price, const char *seen_what, double seen,
                    tack_risk_exit *out) {
  int lng = is_long(p);
  const char *name = "take profit", *base_name = "avg";
  double base = p->avg_price, pct = e->take_profit * 100;
  char sign = lng ? '+' : '-';
  if (kind == TACK_RISK_EXIT_STOP_LOSS) {
    name = "stop loss";
    pct = e->stop_loss * 100;
    sign = lng ? '-' : '+';
  } else if (kind == TACK_RISK_EXIT_TRAILING) {
    name = "trailing stop";
    base_name = lng ? "peak" : "trough";
    base = p->peak;
    pct = e->trailing_stop * 100;
    sign = lng ? '-' : '+';
  }
  memset(out, 0, sizeof *out);
  out->kind = kind;
  out->level = level;
  out->price = price;
  snprintf(out->why, sizeof out->why, "%s at %.10g (%s %.10g %c%.10g%%): %s %.10g, exit at %.10g",
           name, level, base_name, base, sign, pct, seen_what, seen, price);
}

/* After a check without exit: move the peak to best, then arm. */
static void move_peak(tack_risk_protect *p, const tack_risk_exits *e, int armed, double best) {
  if (is_long(p) ? best > p->peak : best < p->peak)
    p->peak = best;
  p->armed = armed || activation_reached(p, e);
}

int tack_risk_protect_price(tack_risk_protect *p, const tack_risk_exits *e, double price,
                            tack_risk_exit *out) {
  if (p == NULL || e == NULL || out == NULL || tack_risk_exits_check(e, NULL) < 0 ||
      !isfinite(price) || price <= 0)
    return TACK_EINVAL;
  if (p->quantity == 0)
    return 0;
  int armed = p->armed || activation_reached(p, e);
  levels lv = levels_of(p, e, armed);
  double dir = is_long(p) ? 1 : -1;
  if (lv.has_stop && dir * price <= dir * lv.stop) {
    exit_at(p, e, lv.stop_kind, lv.stop, price, "price", price, out);
    return 1;
  }
  if (lv.has_tp && dir * price >= dir * lv.tp) {
    exit_at(p, e, TACK_RISK_EXIT_TAKE_PROFIT, lv.tp, price, "price", price, out);
    return 1;
  }
  move_peak(p, e, armed, price);
  return 0;
}

int tack_risk_protect_bar(tack_risk_protect *p, const tack_risk_exits *e, const tack_bar *bar,
                          tack_risk_exit *out) {
  if (p == NULL || e == NULL || bar == NULL || out == NULL || tack_risk_exits_check(e, NULL) < 0)
    return TACK_EINVAL;
  double o = bar->open, h = bar->high, l = bar->low, c = bar->close;
  if (!isfinite(o) || !isfinite(h) || !isfinite(l) || !isfinite(c) || l <= 0 || l > h || o < l ||
      o > h || c < l || c > h)
    return TACK_EINVAL;
  if (p->quantity == 0)
    return 0;
  int lng = is_long(p);
  int armed = p->armed || activation_reached(p, e);
  levels lv = levels_of(p, e, armed);
  double dir = lng ? 1 : -1;
  /* For a long the stop is hit by the low, the take profit by the high. */
  double adverse = lng ? l : h, favourable = lng ? h : l;
  const char *adverse_what = lng ? "bar low" : "bar high";
  const char *favourable_what = lng ? "bar high" : "bar low";
  int stop_hit = lv.has_stop && dir * adverse <= dir * lv.stop;
  int tp_hit = lv.has_tp && dir * favourable >= dir * lv.tp;
  if (stop_hit && dir * o <= dir * lv.stop) {
    exit_at(p, e, lv.stop_kind, lv.stop, o, "bar opened at", o, out);
    return 1;
  }
  if (tp_hit && dir * o >= dir * lv.tp) {
    exit_at(p, e, TACK_RISK_EXIT_TAKE_PROFIT, lv.tp, o, "bar opened at", o, out);
    return 1;
  }
  if (stop_hit) {
    exit_at(p, e, lv.stop_kind, lv.stop, lv.stop, adverse_what, adverse, out);
    return 1;
  }
  if (tp_hit) {
    exit_at(p, e, TACK_RISK_EXIT_TAKE_PROFIT, lv.tp, lv.tp, favourable_what, favourable, out);
    return 1;
  }
  move_peak(p, e, armed, favourable);
  return 0;
}

/* ------------------------------------------------------------------------ */
/* Time zones                                                                */
/* ------------------------------------------------------------------------ */

static void say(char *why, size_t cap, const char *fmt, ...) TACK_PRINTF(3, 4);

static void say(char *why, size_t cap, const char *fmt, ...) {
  va_list ap;
  if (why == NULL || cap == 0)
    return;
  va_start(ap, fmt);
  vsnprintf(why, cap, fmt, ap);
  va_end(ap);
}

/* An IANA name as a safe relative path: no leading '/', no '.', so no "..". */
static int zone_name_ok(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n >= TACK_RISK_ZONE_MAX || s[0] == '/')
    return 0;
  for (size_t i = 0; i < n; i++) {
    char ch = s[i];
    int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
             ch == '/' || ch == '_' || ch == '+' || ch == '-';
    if (!ok)
      return 0;
  }
  return 1;
}

/* A compiled zone file of the system's database (it starts with "TZif"). */
static int zone_file_ok(const char *name) {
  char path[sizeof ZONEINFO_DIR + TACK_RISK_ZONE_MAX];
  char magic[4];
  snprintf(path, sizeof path, "%s%s", ZONEINFO_DIR, name);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return 0;
  ssize_t n = read(fd, magic, sizeof magic);
  close(fd);
  return n == (ssize_t)sizeof magic && memcmp(magic, "TZif", sizeof magic) == 0;
}

/* Exactly two digits at s. */
static int two_digits(const char *s, int *v) {
  if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
    return -1;
  *v = (s[0] - '0') * 10 + (s[1] - '0');
  return 0;
}

/* "HH:MM" with HH <= max_h and MM <= 59, as minutes. */
static int hhmm(const char *s, int max_h, int *minutes) {
  int h, m;
  if (strlen(s) != 5 || two_digits(s, &h) || s[2] != ':' || two_digits(s + 3, &m) || h > max_h ||
      m > 59)
    return -1;
  *minutes = h * 60 + m;
  return 0;
}

int tack_risk_day_parse_zone(tack_risk_day_policy *p, const char *zone, char *why, size_t cap) {
  say(why, cap, "%s", "");
  if (zone == NULL) {
    say(why, cap,
        "no time zone given: write \"UTC\", an offset such as \"+05:30\" or an IANA "
        "name such as \"Europe/Berlin\"");
    return TACK_EINVAL;
  }
  if (strcmp(zone, "UTC") == 0) {
    p->zone[0] = '\0';
    p->utc_offset_minutes = 0;
    return 0;
  }
  if (zone[0] == '+' || zone[0] == '-') {
    int minutes;
    if (hhmm(zone + 1, 99, &minutes) < 0 || minutes > MAX_OFFSET_MINUTES) {
      say(why, cap,
          "time zone offset \"%s\" is not +HH:MM or -HH:MM from -14:00 to +14:00 (write e.g. "
          "\"+05:30\" or \"-04:00\")",
          zone);
      return TACK_EINVAL;
    }
    p->zone[0] = '\0';
    p->utc_offset_minutes = zone[0] == '-' ? -minutes : minutes;
    return 0;
  }
  if (!zone_name_ok(zone) || !zone_file_ok(zone)) {
    say(why, cap,
        "time zone \"%s\" is not in the zone database (%s): write an IANA name such as "
        "\"Europe/Berlin\", \"UTC\" or an offset such as \"+05:30\"",
        zone, ZONEINFO_DIR);
    return TACK_EINVAL;
  }
  snprintf(p->zone, sizeof p->zone, "%s", zone);
  p->utc_offset_minutes = 0;
  return 0;
}

int tack_risk_day_parse_start(tack_risk_day_policy *p, const char *hhmm_text, char *why,
                              size_t cap) {
  int minutes;
  say(why, cap, "%s", "");
  if (hhmm_text == NULL || hhmm(hhmm_text, 23, &minutes) < 0) {
    say(why, cap, "day start \"%s\" is not HH:MM from 00:00 to 23:59 (write e.g. \"17:00\")",
        hhmm_text ? hhmm_text : "");
    return TACK_EINVAL;
  }
  p->day_start_minutes = minutes;
  return 0;
}

int tack_risk_day_check(const tack_risk_day_policy *p, const char **field) {
  const char *bad = NULL;
  if (!amount_ok(p->daily_loss_limit))
    bad = "daily_loss_limit";
  else if (!amount_ok(p->daily_loss_fraction) || p->daily_loss_fraction > 1)
    bad = "daily_loss_fraction";
  else if (!amount_ok(p->daily_profit_target))
    bad = "daily_profit_target";
  else if (p->utc_offset_minutes < -MAX_OFFSET_MINUTES ||
           p->utc_offset_minutes > MAX_OFFSET_MINUTES)
    bad = "utc_offset_minutes";
  else if (p->day_start_minutes < 0 || p->day_start_minutes >= 1440)
    bad = "day_start_minutes";
  else if (memchr(p->zone, '\0', sizeof p->zone) == NULL || (p->zone[0] && !zone_name_ok(p->zone)))
    bad = "zone";
  if (field)
    *field = bad;
  return bad ? TACK_EINVAL : 0;
}

/* The process's TZ while an IANA zone is evaluated, to be put back. */
typedef struct zone_env {
  char saved[4096];
  int had;
} zone_env;

static int zone_enter(zone_env *z, const char *zone) {
  char tz[1 + sizeof ZONEINFO_DIR + TACK_RISK_ZONE_MAX];
  const char *old = getenv("TZ");
  z->had = old != NULL && strlen(old) < sizeof z->saved;
  if (z->had)
    snprintf(z->saved, sizeof z->saved, "%s", old);
  snprintf(tz, sizeof tz, ":%s%s", ZONEINFO_DIR, zone);
  if (setenv("TZ", tz, 1) != 0)
    return -1;
  tzset();
  return 0;
}

static void zone_leave(zone_env *z) {
  if (z->had)
    setenv("TZ", z->saved, 1);
  else
    unsetenv("TZ");
  tzset();
}

/* The local wall clock at instant s (seconds), as seconds since 1970-01-01
 * 00:00 of that clock. */
static int wall_of(int64_t s, int64_t *out) {
  time_t tt = (time_t)s;
  struct tm tm;
  if (localtime_r(&tt, &tm) == NULL)
    return -1;
  *out = tack_days_from_civil((int64_t)tm.tm_year + 1900, (unsigned)tm.tm_mon + 1,
                              (unsigned)tm.tm_mday) *
             DAY_S +
         tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
  return 0;
}

/* The first instant at which the local clock shows wall time w. The
 * instants that show w are w - offset for the offsets in force a day
 * before and a day after; when both show it (a repeated hour) the earlier
 * wins, when neither does (a skipped hour) the day starts at the change,
 * found by bisection between the two. */
static int first_instant(int64_t w, int64_t *out) {
  int64_t wb, wa, v1, v2;
  if (wall_of(w - DAY_S, &wb) || wall_of(w + DAY_S, &wa))
    return -1;
  int64_t c1 = w - (wb - (w - DAY_S)), c2 = w - (wa - (w + DAY_S));
  if (wall_of(c1, &v1) || wall_of(c2, &v2))
    return -1;
  int ok1 = v1 == w, ok2 = v2 == w;
  if (ok1 || ok2) {
    *out = ok1 && ok2 ? (c1 < c2 ? c1 : c2) : ok1 ? c1 : c2;
    return 0;
  }
  int64_t lo = c1 < c2 ? c1 : c2, hi = c1 < c2 ? c2 : c1, v;
  if (wall_of(lo, &v))
    return -1;
  if (v >= w) {
    *out = lo;
    return 0;
  }
  while (hi - lo > 1) {
    int64_t mid = lo + (hi - lo) / 2;
    if (wall_of(mid, &v))
      return -1;
    if (v >= w)
      hi = mid;
    else
      lo = mid;
  }
  *out = hi;
  return 0;
}

/* Start and end (seconds) of the day holding ts in an IANA zone: of the
 * day starts of the local dates around ts, the last at or before ts and
 * the first after it. */
static int zone_day_bounds(const tack_risk_day_policy *p, int64_t ts, int64_t *start,
                           int64_t *next) {
  int64_t wall, found_start = INT64_MIN, found_next = INT64_MAX;
  if (wall_of(ts, &wall))
    return -1;
  int64_t date = tack_floor_div(wall, DAY_S);
  for (int64_t d = date - 2; d <= date + 2; d++) {
    int64_t s;
    if (first_instant(d * DAY_S + p->day_start_minutes * 60, &s))
      return -1;
    if (s <= ts && s > found_start)
      found_start = s;
    if (s > ts && s < found_next)
      found_next = s;
  }
  if (found_start == INT64_MIN || found_next == INT64_MAX)
    return -1;
  *start = found_start;
  *next = found_next;
  return 0;
}

/* The same for a fixed offset: arithmetic. */
static void fixed_day_bounds(int32_t offset_minutes, int32_t start_minutes, int64_t ts,
                             int64_t *start, int64_t *next) {
  int64_t shift = (int64_t)offset_minutes * 60 - (int64_t)start_minutes * 60;
  *start = tack_floor_div(ts + shift, DAY_S) * DAY_S - shift;
  *next = *start + DAY_S;
}

static tack_time ns_of(int64_t s) {
  if (s > INT64_MAX / TACK_NS_PER_SEC)
    return INT64_MAX;
  if (s < INT64_MIN / TACK_NS_PER_SEC)
    return INT64_MIN;
  return s * TACK_NS_PER_SEC;
}

/* Day bounds in ns for a checked policy. An IANA zone the C library cannot
 * evaluate falls back to its fixed offset. */
static void day_bounds(const tack_risk_day_policy *p, tack_time t, tack_time *start,
                       tack_time *next) {
  int64_t ts = tack_floor_div(t, TACK_NS_PER_SEC), s = 0, n = 0;
  int done = 0;
  if (p->zone[0] != '\0') {
    zone_env z;
    if (zone_enter(&z, p->zone) == 0) {
      done = zone_day_bounds(p, ts, &s, &n) == 0;
      zone_leave(&z);
    }
  }
  if (!done)
    fixed_day_bounds(p->utc_offset_minutes, p->day_start_minutes, ts, &s, &n);
  *start = ns_of(s);
  *next = ns_of(n);
}

tack_time tack_risk_day_start(const tack_risk_day_policy *p, tack_time t) {
  tack_time start, next;
  if (p == NULL || tack_risk_day_check(p, NULL) < 0)
    return t;
  day_bounds(p, t, &start, &next);
  return start;
}

/* ------------------------------------------------------------------------ */
/* The trading day                                                           */
/* ------------------------------------------------------------------------ */

static int lock_day(tack_risk_day *d, uint32_t kind, tack_time now) {
  d->lock = kind;
  d->locked_at = now;
  return 1;
}

int tack_risk_day_update(tack_risk_day *d, const tack_risk_day_policy *p, tack_time now,
                         double equity, char *why, size_t cap) {
  if (why != NULL && cap > 0)
    why[0] = '\0'; /* on every bar: no formatting */
  if (d == NULL || p == NULL || !isfinite(equity) || tack_risk_day_check(p, NULL) < 0)
    return TACK_EINVAL;

  int first = d->day_start == 0 && d->next_start == 0;
  if (first || now >= d->next_start) {
    day_bounds(p, now, &d->day_start, &d->next_start);
    d->start_equity = equity;
    if (!first) {
      d->lock = TACK_RISK_DAY_OPEN;
      d->locked_at = 0;
      d->unlocked_by_operator = 0;
    }
  }
  d->pnl = equity - d->start_equity;
  if (d->lock != TACK_RISK_DAY_OPEN)
    return 0;

  double base = d->start_equity > 0 ? d->start_equity : 0;
  double frac_limit = p->daily_loss_fraction * base;
  int by_abs = p->daily_loss_limit > 0 && d->pnl <= -p->daily_loss_limit;
  int by_frac = p->daily_loss_fraction > 0 && d->pnl <= -frac_limit;
  if (by_frac && (!by_abs || frac_limit < p->daily_loss_limit)) {
    say(why, cap,
        "day P&L %.10g reached the daily loss limit -%.10g (daily_loss_fraction %.10g of "
        "%.10g; equity %.10g)",
        d->pnl, frac_limit, p->daily_loss_fraction, d->start_equity, equity);
    return lock_day(d, TACK_RISK_DAY_LOSS, now);
  }
  if (by_abs) {
    say(why, cap,
        "day P&L %.10g reached the daily loss limit -%.10g (daily_loss_limit; equity %.10g, "
        "measured from %.10g)",
        d->pnl, p->daily_loss_limit, equity, d->start_equity);
    return lock_day(d, TACK_RISK_DAY_LOSS, now);
  }
  if (p->daily_profit_target > 0 && d->pnl >= p->daily_profit_target) {
    say(why, cap,
        "day P&L %.10g reached the daily profit target %.10g (equity %.10g, measured from "
        "%.10g)",
        d->pnl, p->daily_profit_target, equity, d->start_equity);
    return lock_day(d, TACK_RISK_DAY_PROFIT, now);
  }
  return 0;
}

void tack_risk_day_lock(tack_risk_day *d, tack_time now) {
  if (d->lock == TACK_RISK_DAY_OPEN)
    lock_day(d, TACK_RISK_DAY_OPERATOR, now);
}

void tack_risk_day_unlock(tack_risk_day *d, double equity) {
  if (d->lock == TACK_RISK_DAY_OPEN)
    return;
  d->lock = TACK_RISK_DAY_OPEN;
  d->locked_at = 0;
  d->unlocked_by_operator = 1;
  if (isfinite(equity)) {
    d->start_equity = equity;
    d->pnl = 0;
  }
}
