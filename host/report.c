/*
 * report.c: the HTML report of a backtest or a paper run (report.h). One
 * self-contained HTML5 file: inline CSS, inline SVG charts drawn here, a
 * little inline script for hover read-outs and table sorting, and a content
 * security policy that forbids fetching anything. Every string from the
 * result goes through esc(); every number through a formatter that prints
 * NAN as "n/a" and infinities as "∞"; every SVG coordinate through coord(),
 * so nothing non-finite reaches an attribute.
 */
#include "report.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "log.h"
#include "utc.h"
#include "version.h"

/* The trade table lists at most this many rows: past it the page would
 * weigh megabytes; the result's JSON lists every trade. */
#define TRADE_ROWS_MAX 5000u

/* Chart geometry, in SVG user units (the SVG scales to the page width). */
#define CHART_W 1160.0
#define PAD_L 72.0
#define PAD_R 18.0
#define PAD_T 14.0
#define PAD_B 30.0
#define TICKS_MAX 24

/* The writer: the first failed write sticks, and everything after it is
 * skipped, so the caller checks once at the end. */
typedef struct rep {
  FILE *out;
  int failed;
  int next_id; /* for element ids: charts and their data */
} rep;

/* Formatted text, returned by value so that several fit in one printf. */
typedef struct txt {
  char s[48];
} txt;

/* A plot area and the domains it shows: t (x) from t0 to t1, v (y) from
 * v0 at the bottom to v1 at the top. t1 > t0 and v1 > v0 always. */
typedef struct frame {
  double x0, y0, w, h;
  double t0, t1;
  double v0, v1;
} frame;

typedef struct tick {
  double at;
  struct {
    char s[64];
  } label;
} tick;

static void out(rep *w, const char *fmt, ...) TACK_PRINTF(2, 3);

static void out(rep *w, const char *fmt, ...) {
  if (w->failed)
    return;
  va_list ap;
  va_start(ap, fmt);
  if (vfprintf(w->out, fmt, ap) < 0)
    w->failed = 1;
  va_end(ap);
}

static void put(rep *w, const char *s) {
  if (!w->failed && fputs(s, w->out) == EOF)
    w->failed = 1;
}

static void put_n(rep *w, const char *s, size_t n) {
  if (!w->failed && n > 0 && fwrite(s, 1, n, w->out) != n)
    w->failed = 1;
}

/* s as HTML text or attribute value: markup characters and quotes become
 * entities, control characters a replacement character. */
static void esc(rep *w, const char *s) {
  if (!s)
    return;
  const char *run = s;
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    const char *ent = NULL;
    switch (c) {
    case '&':
      ent = "&amp;";
      break;
    case '<':
      ent = "&lt;";
      break;
    case '>':
      ent = "&gt;";
      break;
    case '"':
      ent = "&quot;";
      break;
    case '\'':
      ent = "&#39;";
      break;
    default:
      if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f)
        ent = "&#xFFFD;";
    }
    if (ent) {
      put_n(w, run, (size_t)(s - run));
      put(w, ent);
      run = s + 1;
    }
  }
  put_n(w, run, (size_t)(s - run));
}

/* ---- numbers and times as text ---- */

static txt txt_of(const char *s) {
  txt t;
  snprintf(t.s, sizeof t.s, "%s", s);
  return t;
}

/* raw ("-1234567.89") with thousands separators ("-1,234,567.89"). */
static txt grouped(const char *raw, int plus) {
  txt t;
  size_t o = 0, i = 0;
  if (raw[0] == '-')
    t.s[o++] = raw[i++];
  else if (plus)
    t.s[o++] = '+';
  size_t digits = strspn(raw + i, "0123456789");
  for (size_t k = 0; k < digits && o + 2 < sizeof t.s; k++) {
    t.s[o++] = raw[i + k];
    size_t left = digits - k - 1;
    if (left > 0 && left % 3 == 0)
      t.s[o++] = ',';
  }
  i += digits;
  size_t rest = strlen(raw + i);
  if (o + rest >= sizeof t.s)
    rest = sizeof t.s - o - 1;
  memcpy(t.s + o, raw + i, rest);
  t.s[o + rest] = '\0';
  return t;
}

/* v with dec decimals; sep: thousands separators; plus: "+" before
 * positive values. */
static txt num(double v, int dec, int sep, int plus) {
  if (isnan(v))
    return txt_of("n/a");
  if (isinf(v))
    return txt_of(v > 0 ? "∞" : "-∞");
  char raw[40]; /* below 1e15 with at most 10 decimals: 28 characters */
  if (dec < 0)
    dec = 0;
  if (dec > 10)
    dec = 10;
  if (fabs(v) >= 1e15) {
    snprintf(raw, sizeof raw, plus && v > 0 ? "%+.3e" : "%.3e", v);
    return txt_of(raw);
  }
  snprintf(raw, sizeof raw, "%.*f", dec, v);
  int zero = raw[strspn(raw, "-0.")] == '\0';
  const char *r = raw;
  if (zero && r[0] == '-')
    r++; /* no "-0.00" */
  if (!sep) {
    txt t;
    snprintf(t.s, sizeof t.s, "%s%s", plus && !zero && v > 0 ? "+" : "", r);
    return t;
  }
  return grouped(r, plus && !zero && v > 0);
}

static txt money(double v) { return num(v, 2, 1, 0); }
static txt ratio(double v) { return num(v, 2, 0, 0); }

/* A fraction as a percentage: 0.1234 -> "12.34%". */
static txt pct(double v, int plus) {
  txt t = num(v * 100.0, 2, 1, plus);
  if (isfinite(v)) {
    size_t n = strlen(t.s);
    if (n + 1 < sizeof t.s) {
      t.s[n] = '%';
      t.s[n + 1] = '\0';
    }
  }
  return t;
}

static txt count(uint64_t n) {
  char raw[32];
  snprintf(raw, sizeof raw, "%" PRIu64, n);
  return grouped(raw, 0);
}

/* A price or a quantity: about sig significant digits, at least min_dec
 * decimals, trailing zeros past them dropped. */
static txt sig(double v, int sig_digits, int min_dec) {
  if (!isfinite(v) || v == 0.0)
    return num(v, min_dec, 1, 0);
  int mag = (int)floor(log10(fabs(v)));
  int dec = sig_digits - 1 - mag;
  if (dec < min_dec)
    dec = min_dec;
  if (dec > 10)
    dec = 10;
  txt t = num(v, dec, 1, 0);
  char *dot = strchr(t.s, '.');
  if (dot) {
    char *end = t.s + strlen(t.s);
    while (end > dot + 1 + min_dec && end[-1] == '0')
      *--end = '\0';
    if (end == dot + 1)
      *dot = '\0';
  }
  return t;
}

static int64_t secs_of(tack_time t) { return tack_floor_div(t, TACK_NS_PER_SEC); }

typedef struct civil_time {
  int64_t y;
  unsigned mo, d, h, mi;
} civil_time;

static civil_time split_secs(int64_t s) {
  civil_time c;
  int64_t days = tack_floor_div(s, 86400);
  int64_t in_day = s - days * 86400;
  tack_civil_from_days(days, &c.y, &c.mo, &c.d);
  c.h = (unsigned)(in_day / 3600);
  c.mi = (unsigned)(in_day % 3600 / 60);
  return c;
}

/* "YYYY-MM-DD HH:MM" (UTC). */
static txt when(tack_time t) {
  civil_time c = split_secs(secs_of(t));
  txt o;
  snprintf(o.s, sizeof o.s, "%04" PRId64 "-%02u-%02u %02u:%02u", c.y, c.mo, c.d, c.h, c.mi);
  return o;
}

/* "YYYY-MM-DD" (UTC). */
static txt day(tack_time t) {
  civil_time c = split_secs(secs_of(t));
  txt o;
  snprintf(o.s, sizeof o.s, "%04" PRId64 "-%02u-%02u", c.y, c.mo, c.d);
  return o;
}

/* "12d 4h", "5h 30m", "45m". */
static txt duration(int64_t s) {
  txt o;
  if (s < 0)
    return txt_of("n/a");
  int64_t d = s / 86400, h = s % 86400 / 3600, m = s % 3600 / 60;
  if (d > 0)
    snprintf(o.s, sizeof o.s, "%" PRId64 "d %" PRId64 "h", d, h);
  else if (h > 0)
    snprintf(o.s, sizeof o.s, "%" PRId64 "h %" PRId64 "m", h, m);
  else
    snprintf(o.s, sizeof o.s, "%" PRId64 "m", m);
  return o;
}

/* A bar timeframe: "1m", "4h", "1d", "1w", or seconds. */
static txt timeframe(uint32_t s) {
  txt o;
  if (s == 0)
    return txt_of("n/a");
  if (s % 604800 == 0)
    snprintf(o.s, sizeof o.s, "%" PRIu32 "w", s / 604800);
  else if (s % 86400 == 0)
    snprintf(o.s, sizeof o.s, "%" PRIu32 "d", s / 86400);
  else if (s % 3600 == 0)
    snprintf(o.s, sizeof o.s, "%" PRIu32 "h", s / 3600);
  else if (s % 60 == 0)
    snprintf(o.s, sizeof o.s, "%" PRIu32 "m", s / 60);
  else
    snprintf(o.s, sizeof o.s, "%" PRIu32 "s", s);
  return o;
}

/* The CSS class that colors a signed figure. */
static const char *tone(double v) {
  if (isnan(v) || v == 0.0)
    return "";
  return v > 0 ? "pos" : "neg";
}

/* ---- chart geometry ---- */

/* A coordinate fit for an attribute: finite, within a sane band. */
static double coord(double c) {
  if (!isfinite(c))
    return 0.0;
  if (c < -1e5)
    return -1e5;
  if (c > 1e5)
    return 1e5;
  return c;
}

static double fx(const frame *f, double t) {
  return coord(f->x0 + (t - f->t0) / (f->t1 - f->t0) * f->w);
}

static double fy(const frame *f, double v) {
  return coord(f->y0 + f->h - (v - f->v0) / (f->v1 - f->v0) * f->h);
}

/* Make [*lo, *hi] a usable domain: finite, and wide even when the data is
 * flat or a single value. */
static void widen(double *lo, double *hi) {
  if (!isfinite(*lo) || !isfinite(*hi) || *lo > *hi) {
    *lo = 0.0;
    *hi = 1.0;
    return;
  }
  double span = *hi - *lo, mag = fmax(fabs(*lo), fabs(*hi));
  if (span <= mag * 1e-9 || span <= 1e-12) {
    double pad = mag > 0 ? mag * 0.01 : 1.0;
    *lo -= pad;
    *hi += pad;
  }
}

/* 1, 2, 2.5 or 5 times a power of ten, at least raw. */
static double nice_step(double raw) {
  if (!(raw > 0) || !isfinite(raw))
    return 1.0;
  double p = pow(10.0, floor(log10(raw)));
  double m = raw / p;
  double s = m <= 1.0 ? 1.0 : m <= 2.0 ? 2.0 : m <= 2.5 ? 2.5 : m <= 5.0 ? 5.0 : 10.0;
  return s * p;
}

/* Pad [*lo, *hi] by pad of its span and pick a step for about n ticks;
 * snap: round the domain out to whole steps (gridlines at both edges).
 * Returns the step. */
static double nice_domain(double *lo, double *hi, double pad, int n, int snap) {
  widen(lo, hi);
  double span = *hi - *lo;
  *lo -= span * pad;
  *hi += span * pad;
  double step = nice_step((*hi - *lo) / n);
  double a = floor(*lo / step) * step, b = ceil(*hi / step) * step;
  if (snap && isfinite(a) && isfinite(b) && b > a) {
    *lo = a;
    *hi = b;
  }
  return step;
}

/* Decimals that print every multiple of step exactly. */
static int step_decimals(double step) {
  int dec = 0;
  double s = step;
  while (dec < 8 && fabs(s - round(s)) > 1e-6 * fmax(1.0, fabs(s))) {
    s *= 10.0;
    dec++;
  }
  return dec;
}

enum { AXIS_MONEY, AXIS_PCT, AXIS_COUNT };

/* Value ticks from lo to hi every step, labelled as kind. */
static int value_ticks(double lo, double hi, double step, int kind, tick *t, int max) {
  int n = 0;
  if (!(step > 0) || !isfinite(lo) || !isfinite(hi))
    return 0;
  double top = 0.0;
  for (double k = ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9 && n < max; k++) {
    t[n++].at = k * step;
    top = fmax(top, fabs(k * step));
  }
  double scale = 1.0;
  const char *suffix = "";
  if (kind == AXIS_PCT) {
    scale = 100.0;
    suffix = "%";
  } else if (kind == AXIS_MONEY && top >= 1e9) {
    scale = 1e-9;
    suffix = "B";
  } else if (kind == AXIS_MONEY && top >= 1e6) {
    scale = 1e-6;
    suffix = "M";
  }
  int dec = step_decimals(step * scale);
  for (int i = 0; i < n; i++) {
    txt v = num(t[i].at * scale, dec, 1, 0);
    snprintf(t[i].label.s, sizeof t[i].label.s, "%s%s", v.s, suffix);
  }
  return n;
}

static const char *const month_names[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

static int64_t month_start(int64_t mi) {
  int64_t y = tack_floor_div(mi, 12);
  return tack_days_from_civil(y, (unsigned)(mi - y * 12) + 1, 1) * 86400;
}

/* Date ticks between t0 and t1 (seconds): a round step (minutes to decades)
 * giving at most 8 of them, labelled as precisely as the step needs. */
static int time_ticks(double t0, double t1, tick *t, int max) {
  static const int64_t secs[] = {60,    300,   900,   1800,   3600,   7200,   10800,
                                 21600, 43200, 86400, 172800, 604800, 1209600};
  static const int months[] = {1, 2, 3, 6, 12, 24, 60, 120, 240, 600, 1200};
  double span = t1 - t0;
  int n = 0;
  if (!(span > 0) || !isfinite(span) || fabs(t0) > 1e12 || fabs(t1) > 1e12)
    return 0;
  int64_t a = (int64_t)floor(t0), b = (int64_t)ceil(t1);
  int64_t step = 0;
  for (size_t i = 0; i < sizeof secs / sizeof secs[0] && !step; i++)
    if (span / (double)secs[i] <= 8.0)
      step = secs[i];
  if (step) {
    /* Weeks start on Mondays (the epoch was a Thursday). */
    int64_t phase = step >= 604800 ? 4 * 86400 : 0;
    int64_t first = (tack_floor_div(a - phase - 1, step) + 1) * step + phase;
    for (int64_t s = first; s <= b && n < max; s += step) {
      civil_time c = split_secs(s);
      tick *k = &t[n++];
      k->at = (double)s;
      if (step < 86400 && span <= 86400)
        snprintf(k->label.s, sizeof k->label.s, "%02u:%02u", c.h, c.mi);
      else if (step < 86400)
        snprintf(k->label.s, sizeof k->label.s, "%02u-%02u %02u:%02u", c.mo, c.d, c.h, c.mi);
      else
        snprintf(k->label.s, sizeof k->label.s, "%04" PRId64 "-%02u-%02u", c.y, c.mo, c.d);
    }
    return n;
  }
  int k = months[sizeof months / sizeof months[0] - 1];
  for (size_t i = 0; i < sizeof months / sizeof months[0]; i++)
    if (span / (months[i] * 30.44 * 86400.0) <= 8.0) {
      k = months[i];
      break;
    }
  civil_time c0 = split_secs(a);
  int64_t mi = c0.y * 12 + (c0.mo - 1);
  if (month_start(mi) < a)
    mi++;
  mi = (tack_floor_div(mi - 1, k) + 1) * k;
  for (; month_start(mi) <= b && n < max; mi += k) {
    int64_t y = tack_floor_div(mi, 12);
    tick *tk = &t[n++];
    tk->at = (double)month_start(mi);
    if (k < 12)
      snprintf(tk->label.s, sizeof tk->label.s, "%s %04" PRId64, month_names[mi - y * 12], y);
    else
      snprintf(tk->label.s, sizeof tk->label.s, "%04" PRId64, y);
  }
  return n;
}

static int next_id(rep *w) { return ++w->next_id; }

static void svg_open(rep *w, double height, const char *label) {
  out(w, "<svg viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"", CHART_W, height);
  esc(w, label);
  put(w, "\"");
}

/* Gridlines and labels: value ticks on the left, time ticks below. */
static void axes(rep *w, const frame *f, const tick *vt, int nv, const tick *tt, int nt) {
  out(w, "<path class=\"gl\" d=\"M%.1f %.1fh%.1fv%.1fh%.1fz", f->x0, f->y0, f->w, f->h, -f->w);
  for (int i = 0; i < nv; i++)
    out(w, "M%.1f %.1fh%.1f", f->x0, fy(f, vt[i].at), f->w);
  for (int i = 0; i < nt; i++)
    out(w, "M%.1f %.1fv%.1f", fx(f, tt[i].at), f->y0, f->h);
  put(w, "\"/>");
  out(w, "<path class=\"ax\" d=\"M%.1f %.1fh%.1f\"/>", f->x0, f->y0 + f->h, f->w);
  put(w, "<g class=\"yl\">");
  for (int i = 0; i < nv; i++)
    out(w, "<text x=\"%.1f\" y=\"%.1f\">%s</text>", f->x0 - 8, fy(f, vt[i].at) + 4, vt[i].label.s);
  put(w, "</g><g class=\"xl\">");
  for (int i = 0; i < nt; i++) {
    double x = fx(f, tt[i].at);
    const char *anchor = x - f->x0 < 34 ? "start" : f->x0 + f->w - x < 34 ? "end" : "middle";
    out(w, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">%s</text>", x, f->y0 + f->h + 18, anchor,
        tt[i].label.s);
  }
  put(w, "</g>");
}

/* The hover hooks: the domain mapping for the script, and the hidden
 * crosshair it moves. */
static void hover_attrs(rep *w, const frame *f, int data_id, const char *key, const char *fmt) {
  out(w,
      " data-src=\"d%d\" data-key=\"%s\" data-fmt=\"%s\" data-x0=\"%.1f\" data-x1=\"%.1f\""
      " data-t0=\"%.0f\" data-t1=\"%.0f\" data-y0=\"%.1f\" data-y1=\"%.1f\" data-v0=\"%.10g\""
      " data-v1=\"%.10g\">",
      data_id, key, fmt, f->x0, f->x0 + f->w, f->t0, f->t1, f->y0 + f->h, f->y0, f->v0, f->v1);
}

static void crosshair(rep *w, const frame *f) {
  out(w,
      "<g class=\"cross\" visibility=\"hidden\"><line x1=\"0\" x2=\"0\" y1=\"%.1f\" y2=\"%.1f\"/>"
      "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"0\" y2=\"0\"/><circle r=\"3.5\" cx=\"0\" cy=\"0\"/></g>",
      f->y0, f->y0 + f->h, f->x0, f->x0 + f->w);
}

static void json_num(rep *w, double v) {
  if (isfinite(v))
    out(w, "%.10g", v);
  else
    put(w, "null");
}

/* A polyline through points, pen lifted over non-finite values; a point
 * that lands on the previous one (to the tenth of a unit) is skipped. */
typedef struct pen {
  rep *w;
  int down;
  long lx, ly;
} pen;

static void pen_to(pen *p, double x, double y) {
  long rx = lround(x * 10), ry = lround(y * 10);
  if (p->down && rx == p->lx && ry == p->ly)
    return;
  out(p->w, "%c%.1f %.1f", p->down ? 'L' : 'M', x, y);
  p->down = 1;
  p->lx = rx;
  p->ly = ry;
}

static double point_value(const tack_bt_point *p, int dd) { return dd ? p->drawdown : p->equity; }

static void curve_path(rep *w, const frame *f, const tack_bt_point *pts, size_t n, int dd, int area,
                       double base) {
  pen p = {w, 0, 0, 0};
  size_t first = n, last = n;
  for (size_t i = 0; i < n; i++) {
    double v = point_value(&pts[i], dd);
    if (!isfinite(v)) {
      if (!area)
        p.down = 0;
      continue;
    }
    double x = fx(f, (double)secs_of(pts[i].ts));
    if (area && first == n) {
      pen_to(&p, x, fy(f, base));
      first = i;
    }
    pen_to(&p, x, fy(f, v));
    last = i;
  }
  if (area && last < n)
    out(w, "L%.1f %.1fZ", fx(f, (double)secs_of(pts[last].ts)), fy(f, base));
}

static void empty(rep *w, const char *what) {
  put(w, "<div class=\"empty\">");
  esc(w, what);
  put(w, "</div>\n");
}

/* ---- sections ---- */

static const char css[] =
    ":root{--bg:#f3f4f7;--card:#fff;--ink:#18202e;--mut:#687083;--line:#e2e5ea;"
    "--pos:#0f8a4f;--neg:#cc2f2a;--acc:#2b5fd9}"
    "*{box-sizing:border-box}"
    "html{-webkit-text-size-adjust:100%}"
    "body{margin:0;background:var(--bg);color:var(--ink);font:14px/1.45 system-ui,-apple-system,"
    "'Segoe UI',Roboto,'Helvetica Neue',Arial,'Noto Sans','Liberation Sans',sans-serif}"
    ".wrap{max-width:1200px;margin:0 auto;padding:28px 20px 48px}"
    "header{margin-bottom:8px}"
    ".eyebrow{font-size:12px;letter-spacing:.08em;text-transform:uppercase;color:var(--acc);"
    "font-weight:600}"
    "h1{font-size:26px;line-height:1.2;margin:4px 0 10px;font-weight:650;word-break:break-word}"
    "h2{font-size:16px;margin:0 0 14px;font-weight:650}"
    "h3{font-size:13px;margin:18px 0 8px;font-weight:600;color:var(--mut);text-transform:uppercase;"
    "letter-spacing:.05em}"
    ".meta{display:flex;flex-wrap:wrap;gap:6px 22px;color:var(--mut);font-size:13px;margin:0;"
    "padding:0;list-style:none}"
    ".meta b{color:var(--ink);font-weight:500;word-break:break-all}"
    "nav{display:flex;flex-wrap:wrap;gap:4px 6px;margin:16px 0 4px}"
    "nav a{font-size:12.5px;color:var(--ink);text-decoration:none;padding:4px 10px;"
    "border:1px solid var(--line);border-radius:999px;background:var(--card)}"
    "nav a:hover{border-color:var(--acc);color:var(--acc)}"
    "section{background:var(--card);border:1px solid var(--line);border-radius:10px;"
    "padding:18px 20px 20px;margin:16px 0;box-shadow:0 1px 2px rgba(16,24,40,.05)}"
    ".tiles{display:grid;grid-template-columns:repeat(auto-fill,minmax(180px,1fr));gap:1px;"
    "border:1px solid var(--line);border-radius:8px;overflow:hidden}"
    ".tile{padding:11px 14px 12px;min-width:0;box-shadow:1px 0 0 var(--line),0 1px 0 "
    "var(--line),1px 1px 0 var(--line)}"
    ".tile .k{font-size:11px;text-transform:uppercase;letter-spacing:.05em;color:var(--mut)}"
    ".tile .v{font-size:20px;font-weight:600;margin-top:2px;white-space:nowrap;overflow:hidden;"
    "text-overflow:ellipsis}"
    ".tile .s{font-size:12px;color:var(--mut);margin-top:1px;white-space:nowrap;overflow:hidden;"
    "text-overflow:ellipsis}"
    ".tiles.small .tile .v{font-size:16px}"
    ".v,td,.tip,.meta{font-variant-numeric:tabular-nums}"
    ".pos{color:var(--pos)}.neg{color:var(--neg)}"
    ".ledger{margin:14px 0 0;padding:9px 12px;border-radius:8px;font-size:13px}"
    ".ledger.ok{background:#ecf8f1;color:#0b6b3d}.ledger.bad{background:#fdeeee;color:#a4221e}"
    ".chart{position:relative;margin-top:4px}"
    ".chart svg{display:block;width:100%;height:auto}"
    "svg text{font-size:11px;fill:#6b7385}"
    ".yl text{text-anchor:end}"
    ".gl{stroke:#e9ecf0;fill:none}.ax{stroke:#c5cad3;fill:none}"
    ".eq{fill:none;stroke:#2b5fd9;stroke-width:1.6;stroke-linejoin:round}"
    ".eqa{fill:#2b5fd9;fill-opacity:.08}"
    ".base{stroke:#98a0ae;stroke-dasharray:4 4;fill:none}"
    ".band{fill:#cc2f2a;fill-opacity:.07}.legend .band{fill-opacity:.22}"
    ".dd{fill:none;stroke:#cc2f2a;stroke-width:1.3;stroke-linejoin:round}"
    ".dda{fill:#cc2f2a;fill-opacity:.16}"
    ".wu{stroke:#5fae86;fill:none}.wd{stroke:#e07d79;fill:none}"
    ".cu{fill:#7fc9a3;stroke:#3f9468;stroke-width:.6}"
    ".cd{fill:#ef9994;stroke:#c9544f;stroke-width:.6}"
    ".mb{fill:#0b8a4c;stroke:#fff;stroke-width:.8}.mbr{fill:#fff;stroke:#0b8a4c;stroke-width:1.4}"
    ".ms{fill:#d3261f;stroke:#fff;stroke-width:.8}.msr{fill:#fff;stroke:#d3261f;stroke-width:1.4}"
    ".hp{fill:#3f9b6e}.hn{fill:#d9534f}.hd{fill:#e0873a}"
    ".pl{stroke:#18202e;stroke-width:1;stroke-dasharray:3 3}.pm{stroke:#18202e;stroke-width:1.4}"
    ".pt{font-size:10px;fill:#18202e;text-anchor:middle}"
    ".cross line{stroke:#5b6578;stroke-width:.8;stroke-dasharray:3 3}"
    ".cross circle{fill:#fff;stroke:#18202e;stroke-width:1.5}"
    ".tip{position:absolute;z-index:2;pointer-events:none;background:rgba(24,32,46,.94);"
    "color:#fff;font-size:12px;line-height:1.5;padding:6px 9px;border-radius:6px;"
    "white-space:pre;box-shadow:0 4px 14px rgba(0,0,0,.18)}"
    ".legend{display:flex;flex-wrap:wrap;gap:4px 18px;font-size:12px;color:var(--mut);"
    "margin:-4px 0 6px}"
    ".legend span{display:inline-flex;align-items:center;gap:6px}"
    ".legend svg{width:14px;height:12px}"
    ".head{display:flex;justify-content:space-between;align-items:baseline;gap:12px;"
    "flex-wrap:wrap}"
    ".head .note{font-size:12.5px;color:var(--mut)}"
    ".sub{font-size:13px;color:var(--mut);margin:-8px 0 14px}"
    ".two{display:grid;grid-template-columns:repeat(auto-fit,minmax(340px,1fr));gap:8px 28px}"
    ".three{display:grid;grid-template-columns:repeat(auto-fit,minmax(300px,1fr));gap:8px 28px}"
    "table{border-collapse:collapse;width:100%;font-size:13px}"
    "th,td{padding:6px 10px;border-bottom:1px solid var(--line);text-align:left;"
    "white-space:nowrap}"
    ".trades{font-size:12.5px}.trades th,.trades td{padding:6px 8px}"
    "th{font-weight:600;color:var(--mut);font-size:12px;background:#f8f9fb;position:sticky;"
    "top:0;z-index:1}"
    ".n{text-align:right}"
    "tbody tr:hover{background:#f5f8fe}"
    ".trades td:first-child,.trades td:nth-child(n+7),.trades th:first-child,"
    ".trades th:nth-child(n+7){text-align:right}"
    ".scroll{max-height:620px;overflow:auto;border:1px solid var(--line);border-radius:8px}"
    ".scroll table{border:0}"
    ".scroll tr:last-child td{border-bottom:0}"
    ".b{display:inline-block;font-size:11px;font-weight:600;padding:1px 7px;border-radius:999px}"
    ".b.l{background:#e6f5ec;color:#0b6b3d}.b.s{background:#fdeceb;color:#a4221e}"
    ".b.o{background:#eef2fd;color:#2b4fb0;margin-left:6px}"
    "th.sortable{cursor:pointer;user-select:none}"
    "th.sortable:hover{color:var(--ink)}"
    "th[aria-sort=ascending]::after{content:' \\25B2';font-size:9px}"
    "th[aria-sort=descending]::after{content:' \\25BC';font-size:9px}"
    ".empty{color:var(--mut);padding:22px;text-align:center;border:1px dashed var(--line);"
    "border-radius:8px;font-size:13px}"
    ".muted{color:var(--mut);font-size:12.5px}"
    "footer{color:var(--mut);font-size:12px;text-align:center;margin-top:24px}"
    "@media print{body{background:#fff}section{box-shadow:none;break-inside:avoid}"
    "nav{display:none}.scroll{max-height:none;overflow:visible}}";

/* Hover read-outs on the charts (the nearest point's date and value) and
 * sortable tables; the last thing it does is mark the body ready. */
static const char script[] =
    "(function () {\n"
    "  \"use strict\";\n"
    "  var d = document, A = Array.prototype;\n"
    "  function fmt(v, f) {\n"
    "    if (v === null || v === undefined) return \"n/a\";\n"
    "    if (f === \"pct\") return (v * 100).toFixed(2) + \"%\";\n"
    "    var a = Math.abs(v), dec = a >= 1000 ? 2 : a >= 1 ? 4 : 8;\n"
    "    return v.toLocaleString(\"en-US\", { minimumFractionDigits: 2, maximumFractionDigits: "
    "dec });\n"
    "  }\n"
    "  function when(t) { return new Date(t * 1000).toISOString().slice(0, 16).replace(\"T\", "
    "\" \"); }\n"
    "  A.forEach.call(d.querySelectorAll(\"svg[data-src]\"), function (s) {\n"
    "    var g = s.dataset, D = JSON.parse(d.getElementById(g.src).textContent), n = {};\n"
    "    [\"x0\", \"x1\", \"t0\", \"t1\", \"y0\", \"y1\", \"v0\", \"v1\"].forEach(function (k) { "
    "n[k] = parseFloat(g[k]); });\n"
    "    var c = s.querySelector(\".cross\"), L = c.querySelectorAll(\"line\"), o = "
    "c.querySelector(\"circle\");\n"
    "    var tip = s.parentNode.querySelector(\".tip\"), T = D.t;\n"
    "    function X(t) { return n.x0 + (t - n.t0) * (n.x1 - n.x0) / (n.t1 - n.t0); }\n"
    "    function Y(v) { return n.y0 + (v - n.v0) * (n.y1 - n.y0) / (n.v1 - n.v0); }\n"
    "    function hide() { c.setAttribute(\"visibility\", \"hidden\"); tip.hidden = true; }\n"
    "    s.addEventListener(\"mousemove\", function (e) {\n"
    "      var m = s.getScreenCTM();\n"
    "      if (!m || !T.length) return;\n"
    "      var p = new DOMPoint(e.clientX, e.clientY).matrixTransform(m.inverse());\n"
    "      if (p.x < n.x0 - 8 || p.x > n.x1 + 8) { hide(); return; }\n"
    "      var t = n.t0 + (p.x - n.x0) * (n.t1 - n.t0) / (n.x1 - n.x0), lo = 0, hi = T.length - "
    "1;\n"
    "      while (lo < hi) { var mid = (lo + hi) >> 1; if (T[mid] < t) lo = mid + 1; else hi = "
    "mid; }\n"
    "      if (lo > 0 && t - T[lo - 1] < T[lo] - t) lo--;\n"
    "      var x = X(T[lo]), v = D[g.key][lo], y = v === null ? n.y0 : Y(v), text = "
    "when(T[lo]);\n"
    "      L[0].setAttribute(\"x1\", x); L[0].setAttribute(\"x2\", x);\n"
    "      L[1].setAttribute(\"y1\", y); L[1].setAttribute(\"y2\", y);\n"
    "      o.setAttribute(\"cx\", x); o.setAttribute(\"cy\", y);\n"
    "      o.setAttribute(\"visibility\", v === null ? \"hidden\" : \"visible\");\n"
    "      if (g.fmt === \"ohlc\")\n"
    "        text += \"\\nO \" + fmt(D.o[lo]) + \"   H \" + fmt(D.h[lo]) + \"\\nL \" + "
    "fmt(D.l[lo]) + \"   C \" + fmt(D.c[lo]);\n"
    "      else text += \"\\n\" + fmt(v, g.fmt);\n"
    "      c.setAttribute(\"visibility\", \"visible\");\n"
    "      tip.textContent = text; tip.hidden = false;\n"
    "      var b = s.getBoundingClientRect(), lx = e.clientX - b.left, ly = e.clientY - b.top;\n"
    "      tip.style.left = (lx + 16 + tip.offsetWidth > b.width ? lx - 16 - tip.offsetWidth : "
    "lx + 16) + \"px\";\n"
    "      tip.style.top = Math.max(0, ly - tip.offsetHeight - 12) + \"px\";\n"
    "    });\n"
    "    s.addEventListener(\"mouseleave\", hide);\n"
    "  });\n"
    "  function key(td) {\n"
    "    var s = td ? td.textContent.trim() : \"\", u = s.replace(/[,%+\\s]/g, \"\");\n"
    "    if (s === \"\\u221e\") return Infinity;\n"
    "    if (s === \"\" || s === \"n/a\") return null;\n"
    "    return /^-?\\d*\\.?\\d+(e-?\\d+)?$/i.test(u) ? parseFloat(u) : s.toLowerCase();\n"
    "  }\n"
    "  A.forEach.call(d.querySelectorAll(\"table.sort\"), function (tb) {\n"
    "    var hs = tb.tHead.rows[0].cells, body = tb.tBodies[0];\n"
    "    A.forEach.call(hs, function (th, col) {\n"
    "      th.classList.add(\"sortable\"); th.tabIndex = 0;\n"
    "      function go() {\n"
    "        var up = th.getAttribute(\"aria-sort\") !== \"ascending\";\n"
    "        A.forEach.call(hs, function (h) { h.removeAttribute(\"aria-sort\"); });\n"
    "        th.setAttribute(\"aria-sort\", up ? \"ascending\" : \"descending\");\n"
    "        A.map.call(body.rows, function (r, i) { return [key(r.cells[col]), i, r]; })\n"
    "          .sort(function (a, b) {\n"
    "            var x = a[0], y = b[0], c;\n"
    "            if (x === null || y === null) return (x === null) - (y === null) || a[1] - "
    "b[1];\n"
    "            if (typeof x !== typeof y) c = typeof x === \"number\" ? -1 : 1;\n"
    "            else c = typeof x === \"number\" ? (x < y ? -1 : x > y ? 1 : 0) : "
    "x.localeCompare(y);\n"
    "            return (up ? c : -c) || a[1] - b[1];\n"
    "          })\n"
    "          .forEach(function (e) { body.appendChild(e[2]); });\n"
    "      }\n"
    "      th.addEventListener(\"click\", go);\n"
    "      th.addEventListener(\"keydown\", function (e) {\n"
    "        if (e.key === \"Enter\" || e.key === \" \") { e.preventDefault(); go(); }\n"
    "      });\n"
    "    });\n"
    "  });\n"
    "  d.body.setAttribute(\"data-ready\", \"1\");\n"
    "})();\n";

static const char *title_of(const tack_bt_result *r, const char *title) {
  if (title && title[0])
    return title;
  if (r->bot[0])
    return r->bot;
  return "Backtest";
}

static int is_paper(const tack_bt_result *r) { return strcmp(r->mode, "paper") == 0; }

static void page_head(rep *w, const tack_bt_result *r, const char *title) {
  put(w, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
         "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
         "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n"
         "<meta name=\"generator\" content=\"tack " TACK_VERSION "\">\n<title>");
  esc(w, title_of(r, title));
  put(w, is_paper(r) ? " · paper run report" : " · backtest report");
  put(w, "</title>\n<style>");
  put(w, css);
  put(w, "</style>\n</head>\n<body>\n<div class=\"wrap\">\n");
}

static void meta_item(rep *w, const char *k, const char *v) {
  out(w, "<li>%s <b>", k);
  esc(w, v);
  put(w, "</b></li>");
}

static int has_period(const tack_bt_metrics *m) { return m->start != 0 || m->end != 0; }

static void header(rep *w, const tack_bt_result *r, const char *title) {
  const tack_bt_metrics *m = &r->metrics;
  put(w, "<header>\n<div class=\"eyebrow\">");
  put(w, is_paper(r) ? "Paper run report" : "Backtest report");
  put(w, "</div>\n<h1>");
  esc(w, title_of(r, title));
  put(w, "</h1>\n<ul class=\"meta\">");
  if (r->bot[0] && title && title[0] && strcmp(title, r->bot) != 0)
    meta_item(w, "Bot", r->bot);
  meta_item(w, "Config", r->config[0] ? r->config : "n/a");
  meta_item(w, "Mode", r->mode[0] ? r->mode : "n/a");
  char buf[256];
  if (has_period(m)) {
    txt a = when(m->start), b = when(m->end);
    double days = (double)(m->end - m->start) / (86400.0 * (double)TACK_NS_PER_SEC);
    snprintf(buf, sizeof buf, "%s → %s UTC (%s days)", a.s, b.s, num(days, 1, 1, 0).s);
    meta_item(w, "Period", buf);
  } else {
    meta_item(w, "Period", "n/a");
  }
  meta_item(w, "Currency", r->currency[0] ? r->currency : "n/a");
  const tack_bt_settings *s = &r->settings;
  uint32_t ri = m->return_interval_s ? m->return_interval_s : s->return_interval_s;
  snprintf(buf, sizeof buf, "%s, %s days a year, risk-free %s", ri ? timeframe(ri).s : "every bar",
           num(s->year_days, 0, 0, 0).s, pct(s->risk_free, 0).s);
  meta_item(w, "Returns", buf);
  put(w, "</ul>\n</header>\n");
}

static void nav(rep *w, const tack_bt_result *r) {
  put(w, "<nav><a href=\"#summary\">Summary</a><a href=\"#equity\">Equity</a>");
  for (size_t i = 0; i < r->n_symbols; i++) {
    out(w, "<a href=\"#sym%zu\">", i);
    esc(w, r->symbols[i].symbol[0] ? r->symbols[i].symbol : "symbol");
    put(w, "</a>");
  }
  if (r->has_mc)
    put(w, "<a href=\"#montecarlo\">Monte Carlo</a>");
  put(w, "<a href=\"#trades\">Trades</a></nav>\n");
}

static void tile(rep *w, const char *k, const char *cls, const char *v, const char *sub) {
  out(w, "<div class=\"tile\"><div class=\"k\">%s</div><div class=\"v %s\">", k, cls);
  esc(w, v);
  put(w, "</div>");
  if (sub && sub[0]) {
    put(w, "<div class=\"s\">");
    esc(w, sub);
    put(w, "</div>");
  }
  put(w, "</div>\n");
}

static void summary(rep *w, const tack_bt_result *r) {
  const tack_bt_metrics *m = &r->metrics;
  const char *cur = r->currency;
  char sub[256];
  put(w, "<section id=\"summary\">\n<h2>Summary</h2>\n<div class=\"tiles\">\n");

  snprintf(sub, sizeof sub, "%s → %s", money(m->start_equity).s, money(m->end_equity).s);
  tile(w, "Total return", tone(m->total_return), pct(m->total_return, 1).s, sub);
  snprintf(sub, sizeof sub, "over %s years", num(m->years, 2, 0, 0).s);
  tile(w, "CAGR", tone(m->cagr), pct(m->cagr, 1).s, sub);
  tile(w, "Volatility", "", pct(m->volatility, 0).s, "annualized");
  snprintf(sub, sizeof sub, "%s → %s", day(m->max_drawdown_start).s, day(m->max_drawdown_trough).s);
  tile(w, "Max drawdown", m->max_drawdown > 0 ? "neg" : "", pct(m->max_drawdown, 0).s,
       m->max_drawdown > 0 ? sub : "");
  tile(w, "Longest drawdown", "", duration(m->max_drawdown_duration_s).s, "time below a peak");
  tile(w, "Exposure", "", pct(m->exposure, 0).s, "bars with a position");

  snprintf(sub, sizeof sub, "risk-free %s", pct(r->settings.risk_free, 0).s);
  tile(w, "Sharpe", tone(m->sharpe), ratio(m->sharpe).s, sub);
  tile(w, "Sortino", tone(m->sortino), ratio(m->sortino).s, "downside deviation");
  tile(w, "Calmar", tone(m->calmar), ratio(m->calmar).s, "CAGR / max drawdown");
  uint32_t ri = m->return_interval_s;
  snprintf(sub, sizeof sub, "%s returns, %s measured", ri ? timeframe(ri).s : "bar",
           count(m->intervals).s);
  tile(w, "VaR 95%", m->var95 > 0 ? "neg" : "", pct(m->var95, 0).s, sub);
  tile(w, "CVaR 95%", m->cvar95 > 0 ? "neg" : "", pct(m->cvar95, 0).s, "mean loss beyond VaR");
  tile(w, "Fees", "", money(m->fees).s, cur);

  snprintf(sub, sizeof sub, "%s won, %s lost", count(m->wins).s, count(m->losses).s);
  tile(w, "Trades", "", count(m->trades).s, sub);
  tile(w, "Win rate", "", pct(m->win_rate, 0).s, "of trades");
  tile(w, "Profit factor", "", ratio(m->profit_factor).s, "gross win / gross loss");
  snprintf(sub, sizeof sub, "%s per trade", cur);
  tile(w, "Expectancy", tone(m->expectancy), num(m->expectancy, 2, 1, 1).s, sub);
  snprintf(sub, sizeof sub, "%s per winning trade", cur);
  tile(w, "Avg win", tone(m->avg_win), num(m->avg_win, 2, 1, 1).s, sub);
  snprintf(sub, sizeof sub, "%s per losing trade", cur);
  tile(w, "Avg loss", tone(m->avg_loss), money(m->avg_loss).s, sub);
  put(w, "</div>\n");

  put(w, r->ledger_exact ? "<p class=\"ledger ok\">✓ Ledger check: the books balance"
                         : "<p class=\"ledger bad\">✗ Ledger check: the books do not balance");
  if (r->ledger_note[0]) {
    put(w, " — ");
    esc(w, r->ledger_note);
  }
  put(w, "</p>\n</section>\n");
}

static void legend_line(rep *w, const char *cls, const char *label) {
  out(w,
      "<span><svg viewBox=\"0 0 14 12\" aria-hidden=\"true\"><path class=\"%s\" "
      "d=\"M1 6h12\"/></svg>%s</span>",
      cls, label);
}

static void legend_box(rep *w, const char *cls, const char *label) {
  out(w,
      "<span><svg viewBox=\"0 0 14 12\" aria-hidden=\"true\"><rect class=\"%s\" x=\"1\" y=\"1\" "
      "width=\"12\" height=\"10\" rx=\"2\"/></svg>%s</span>",
      cls, label);
}

static void legend_marker(rep *w, const char *cls, int up, const char *label) {
  out(w,
      "<span><svg viewBox=\"0 0 14 12\" aria-hidden=\"true\"><path class=\"%s\" d=\"%s\"/>"
      "</svg>%s</span>",
      cls, up ? "M7 1L13 11H1Z" : "M7 11L13 1H1Z", label);
}

/* The time domain of the curve: first to last point, widened when there
 * is only one. */
static void curve_domain(const tack_bt_result *r, double *t0, double *t1) {
  *t0 = (double)secs_of(r->curve[0].ts);
  *t1 = (double)secs_of(r->curve[r->n_curve - 1].ts);
  for (size_t i = 0; i < r->n_curve; i++) {
    double t = (double)secs_of(r->curve[i].ts);
    *t0 = fmin(*t0, t);
    *t1 = fmax(*t1, t);
  }
  if (!(*t1 > *t0)) {
    *t0 -= 3600;
    *t1 += 3600;
  }
}

static void curve_data(rep *w, const tack_bt_result *r, int id) {
  out(w, "<script type=\"application/json\" id=\"d%d\">{\"t\":[", id);
  for (size_t i = 0; i < r->n_curve; i++)
    out(w, "%s%" PRId64, i ? "," : "", secs_of(r->curve[i].ts));
  put(w, "],\"e\":[");
  for (size_t i = 0; i < r->n_curve; i++) {
    put(w, i ? "," : "");
    json_num(w, r->curve[i].equity);
  }
  put(w, "],\"d\":[");
  for (size_t i = 0; i < r->n_curve; i++) {
    put(w, i ? "," : "");
    json_num(w, r->curve[i].drawdown);
  }
  put(w, "]}</script>\n");
}

static void equity_chart(rep *w, const tack_bt_result *r, int data_id) {
  const tack_bt_metrics *m = &r->metrics;
  frame f = {PAD_L, PAD_T, CHART_W - PAD_L - PAD_R, 0, 0, 0, 0, 0};
  double height = 330;
  f.h = height - PAD_T - PAD_B;
  curve_domain(r, &f.t0, &f.t1);
  double lo = INFINITY, hi = -INFINITY;
  for (size_t i = 0; i < r->n_curve; i++)
    if (isfinite(r->curve[i].equity)) {
      lo = fmin(lo, r->curve[i].equity);
      hi = fmax(hi, r->curve[i].equity);
    }
  int base = isfinite(m->start_equity) && m->start_equity > 0 && isfinite(lo);
  if (base) {
    lo = fmin(lo, m->start_equity);
    hi = fmax(hi, m->start_equity);
  }
  double step = nice_domain(&lo, &hi, 0.03, 5, 1);
  f.v0 = lo;
  f.v1 = hi;
  tick vt[TICKS_MAX], tt[TICKS_MAX];
  int nv = value_ticks(lo, hi, step, AXIS_MONEY, vt, TICKS_MAX);
  int nt = time_ticks(f.t0, f.t1, tt, TICKS_MAX);

  put(w, "<div class=\"legend\">");
  legend_line(w, "eq", "Equity");
  if (base)
    legend_line(w, "base", "Starting equity");
  int band = m->max_drawdown > 0 && isfinite(m->max_drawdown) && m->max_drawdown_start != 0;
  if (band) {
    char label[200];
    txt a = day(m->max_drawdown_start), b = day(m->max_drawdown_trough);
    if (m->max_drawdown_end)
      snprintf(label, sizeof label, "Max drawdown: peak %s, trough %s, recovered %s", a.s, b.s,
               day(m->max_drawdown_end).s);
    else
      snprintf(label, sizeof label, "Max drawdown: peak %s, trough %s, not recovered", a.s, b.s);
    legend_box(w, "band", label);
  }
  put(w, "</div>\n<div class=\"chart\">");
  svg_open(w, height, "Equity curve");
  hover_attrs(w, &f, data_id, "e", "money");
  axes(w, &f, vt, nv, tt, nt);
  if (band) {
    double a = fx(&f, (double)secs_of(m->max_drawdown_start));
    double b = m->max_drawdown_end ? fx(&f, (double)secs_of(m->max_drawdown_end)) : f.x0 + f.w;
    a = fmax(a, f.x0);
    b = fmin(b, f.x0 + f.w);
    if (b > a)
      out(w, "<rect class=\"band\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>", a, f.y0,
          b - a, f.h);
  }
  put(w, "<path class=\"eqa\" d=\"");
  curve_path(w, &f, r->curve, r->n_curve, 0, 1, lo);
  put(w, "\"/><path class=\"eq\" d=\"");
  curve_path(w, &f, r->curve, r->n_curve, 0, 0, 0);
  put(w, "\"/>");
  if (base)
    out(w, "<path class=\"base\" d=\"M%.1f %.1fh%.1f\"/>", f.x0, fy(&f, m->start_equity), f.w);
  if (r->n_curve == 1 && isfinite(r->curve[0].equity))
    out(w, "<circle class=\"eq\" r=\"3\" cx=\"%.1f\" cy=\"%.1f\"/>",
        fx(&f, (double)secs_of(r->curve[0].ts)), fy(&f, r->curve[0].equity));
  crosshair(w, &f);
  put(w, "</svg><div class=\"tip\" hidden></div></div>\n");
}

static void underwater_chart(rep *w, const tack_bt_result *r, int data_id) {
  frame f = {PAD_L, PAD_T, CHART_W - PAD_L - PAD_R, 0, 0, 0, 0, 0};
  double height = 190;
  f.h = height - PAD_T - PAD_B;
  curve_domain(r, &f.t0, &f.t1);
  double lo = 0.0;
  for (size_t i = 0; i < r->n_curve; i++)
    if (isfinite(r->curve[i].drawdown))
      lo = fmin(lo, r->curve[i].drawdown);
  if (lo > -0.001)
    lo = -0.01; /* a flat curve still gets a readable axis */
  double hi = 0.0;
  double step = nice_step(-lo / 4);
  lo = floor(lo / step) * step;
  f.v0 = lo;
  f.v1 = hi;
  tick vt[TICKS_MAX], tt[TICKS_MAX];
  int nv = value_ticks(lo, hi, step, AXIS_PCT, vt, TICKS_MAX);
  int nt = time_ticks(f.t0, f.t1, tt, TICKS_MAX);
  put(w, "<h3>Underwater (drawdown from the running peak)</h3>\n<div class=\"chart\">");
  svg_open(w, height, "Drawdown");
  hover_attrs(w, &f, data_id, "d", "pct");
  axes(w, &f, vt, nv, tt, nt);
  put(w, "<path class=\"dda\" d=\"");
  curve_path(w, &f, r->curve, r->n_curve, 1, 1, 0.0);
  put(w, "\"/><path class=\"dd\" d=\"");
  curve_path(w, &f, r->curve, r->n_curve, 1, 0, 0);
  put(w, "\"/>");
  out(w, "<path class=\"ax\" d=\"M%.1f %.1fh%.1f\"/>", f.x0, fy(&f, 0.0), f.w);
  crosshair(w, &f);
  put(w, "</svg><div class=\"tip\" hidden></div></div>\n");
}

static void equity_section(rep *w, const tack_bt_result *r) {
  put(w, "<section id=\"equity\">\n<div class=\"head\"><h2>Equity curve</h2>");
  if (r->n_curve > 0) {
    out(w, "<span class=\"note\">%s points", count(r->n_curve).s);
    if (r->currency[0]) {
      put(w, ", ");
      esc(w, r->currency);
    }
    put(w, "</span>");
  }
  put(w, "</div>\n");
  if (r->n_curve == 0 || !r->curve) {
    empty(w, "No equity points were recorded.");
    put(w, "</section>\n");
    return;
  }
  int id = next_id(w);
  curve_data(w, r, id);
  equity_chart(w, r, id);
  underwater_chart(w, r, id);
  put(w, "</section>\n");
}

/* Seconds a candle covers: the bars per candle times the timeframe, or
 * the spacing of the candles when the timeframe is unknown. */
static int64_t candle_secs(const tack_bt_symbol *s) {
  const tack_bt_candles *c = &s->prices;
  if (s->timeframe_s > 0 && c->per > 0 && c->per < (uint64_t)1 << 32)
    return (int64_t)(c->per * s->timeframe_s);
  if (c->n > 1) {
    int64_t span = secs_of(c->items[c->n - 1].ts) - secs_of(c->items[0].ts);
    if (span > 0)
      return span / (int64_t)(c->n - 1) > 0 ? span / (int64_t)(c->n - 1) : 1;
  }
  return 3600;
}

static int finite_candle(const tack_bt_candle *c) {
  return isfinite(c->open) && isfinite(c->high) && isfinite(c->low) && isfinite(c->close);
}

static void candle_data(rep *w, const tack_bt_symbol *s, int id, int64_t half) {
  const tack_bt_candles *c = &s->prices;
  out(w, "<script type=\"application/json\" id=\"d%d\">{\"t\":[", id);
  for (size_t i = 0; i < c->n; i++)
    out(w, "%s%" PRId64, i ? "," : "", secs_of(c->items[i].ts) + half);
  static const char *const keys[4] = {"o", "h", "l", "c"};
  for (int k = 0; k < 4; k++) {
    out(w, "],\"%s\":[", keys[k]);
    for (size_t i = 0; i < c->n; i++) {
      const tack_bt_candle *cd = &c->items[i];
      double v = k == 0 ? cd->open : k == 1 ? cd->high : k == 2 ? cd->low : cd->close;
      put(w, i ? "," : "");
      json_num(w, v);
    }
  }
  put(w, "]}</script>\n");
}

/* Fill markers: buys are up-triangles under the price, sells
 * down-triangles over it; filled when the fill opened or grew a position,
 * hollow when it reduced or closed one. Fills that would land on the same
 * spot as the previous one of their kind are drawn once. */
static void markers(rep *w, const frame *f, const tack_bt_symbol *s) {
  static const char *const cls[4] = {"mb", "mbr", "ms", "msr"};
  for (int kind = 0; kind < 4; kind++) {
    int buy = kind < 2, opens = kind % 2 == 0;
    long lx = LONG_MIN, ly = LONG_MIN;
    int any = 0;
    for (size_t i = 0; i < s->n_markers; i++) {
      const tack_bt_marker *m = &s->markers[i];
      double t = (double)secs_of(m->ts);
      if ((m->side > 0) != buy || (m->opens != 0) != opens || !isfinite(m->price) || t < f->t0 ||
          t > f->t1)
        continue;
      double x = fx(f, t), y = fy(f, m->price);
      if (lround(x) == lx && lround(y) == ly)
        continue;
      lx = lround(x);
      ly = lround(y);
      if (!any)
        out(w, "<path class=\"%s\" d=\"", cls[kind]);
      any = 1;
      if (buy)
        out(w, "M%.1f %.1fl5 9h-10z", x, y + 1);
      else
        out(w, "M%.1f %.1fl5 -9h-10z", x, y - 1);
    }
    if (any)
      put(w, "\"/>");
  }
}

static void price_chart(rep *w, const tack_bt_symbol *s) {
  const tack_bt_candles *c = &s->prices;
  int64_t dur = candle_secs(s), half = dur / 2;
  frame f = {PAD_L, PAD_T, CHART_W - PAD_L - PAD_R, 0, 0, 0, 0, 0};
  double height = 320;
  f.h = height - PAD_T - PAD_B;
  f.t0 = (double)secs_of(c->items[0].ts);
  f.t1 = (double)(secs_of(c->items[c->n - 1].ts) + dur);
  double lo = INFINITY, hi = -INFINITY;
  for (size_t i = 0; i < c->n; i++) {
    const tack_bt_candle *cd = &c->items[i];
    f.t0 = fmin(f.t0, (double)secs_of(cd->ts));
    f.t1 = fmax(f.t1, (double)(secs_of(cd->ts) + dur));
    if (finite_candle(cd)) {
      lo = fmin(lo, fmin(cd->low, fmin(cd->open, cd->close)));
      hi = fmax(hi, fmax(cd->high, fmax(cd->open, cd->close)));
    }
  }
  for (size_t i = 0; i < s->n_markers; i++)
    if (isfinite(s->markers[i].price)) {
      lo = fmin(lo, s->markers[i].price);
      hi = fmax(hi, s->markers[i].price);
    }
  if (!(f.t1 > f.t0))
    f.t1 = f.t0 + 3600;
  double step = nice_domain(&lo, &hi, 0.06, 6, 0);
  f.v0 = lo;
  f.v1 = hi;
  tick vt[TICKS_MAX], tt[TICKS_MAX];
  int nv = value_ticks(lo, hi, step, AXIS_MONEY, vt, TICKS_MAX);
  int nt = time_ticks(f.t0, f.t1, tt, TICKS_MAX);

  put(w, "<div class=\"legend\">");
  legend_box(w, "cu", "Up candle");
  legend_box(w, "cd", "Down candle");
  legend_marker(w, "mb", 1, "Buy, opens");
  legend_marker(w, "mbr", 1, "Buy, reduces");
  legend_marker(w, "ms", 0, "Sell, opens");
  legend_marker(w, "msr", 0, "Sell, reduces");
  put(w, "</div>\n");

  int id = next_id(w);
  candle_data(w, s, id, half);
  put(w, "<div class=\"chart\">");
  svg_open(w, height, s->symbol[0] ? s->symbol : "Price");
  hover_attrs(w, &f, id, "c", "ohlc");
  axes(w, &f, vt, nv, tt, nt);
  double slot = f.w * (double)dur / (f.t1 - f.t0);
  double bw = fmin(14.0, fmax(0.8, slot * 0.7));
  for (int up = 1; up >= 0; up--) {
    out(w, "<path class=\"%s\" d=\"", up ? "wu" : "wd");
    for (size_t i = 0; i < c->n; i++) {
      const tack_bt_candle *cd = &c->items[i];
      if (!finite_candle(cd) || (cd->close >= cd->open) != up)
        continue;
      out(w, "M%.1f %.1fV%.1f", fx(&f, (double)(secs_of(cd->ts) + half)), fy(&f, cd->high),
          fy(&f, cd->low));
    }
    out(w, "\"/><path class=\"%s\" d=\"", up ? "cu" : "cd");
    for (size_t i = 0; i < c->n; i++) {
      const tack_bt_candle *cd = &c->items[i];
      if (!finite_candle(cd) || (cd->close >= cd->open) != up)
        continue;
      double x = fx(&f, (double)(secs_of(cd->ts) + half)) - bw / 2;
      double top = fy(&f, fmax(cd->open, cd->close)), bot = fy(&f, fmin(cd->open, cd->close));
      double bh = fmax(0.8, bot - top);
      out(w, "M%.1f %.1fh%.1fv%.1fh%.1fz", x, top, bw, bh, -bw);
    }
    put(w, "\"/>");
  }
  markers(w, &f, s);
  crosshair(w, &f);
  put(w, "</svg><div class=\"tip\" hidden></div></div>\n");
}

static void members_table(rep *w, const tack_bt_symbol *s) {
  put(w, "<div><h3>Attribution</h3><table class=\"sort\"><thead><tr><th>Member</th>"
         "<th class=\"n\">Trades led</th><th class=\"n\">P&amp;L</th><th class=\"n\">Signals</th>"
         "<th class=\"n\">Contribution</th></tr></thead><tbody>\n");
  for (size_t i = 0; i < s->n_members && i < TACK_BT_MAX_MEMBERS; i++) {
    const tack_bt_member *m = &s->members[i];
    put(w, "<tr><td>");
    esc(w, m->name);
    out(w,
        "</td><td class=\"n\">%s</td><td class=\"n %s\">%s</td><td class=\"n\">%s</td>"
        "<td class=\"n\">%s</td></tr>\n",
        count(m->trades).s, tone(m->pnl), money(m->pnl).s, count(m->signals).s,
        pct(m->contribution, 0).s);
  }
  put(w, "</tbody></table></div>\n");
}

static void regimes_table(rep *w, const tack_bt_symbol *s) {
  put(w, "<div><h3>Regimes</h3><table class=\"sort\"><thead><tr><th>Entry</th><th>Regime</th>"
         "<th class=\"n\">Bars</th><th class=\"n\">Share</th><th class=\"n\">Switches into</th>"
         "</tr></thead><tbody>\n");
  for (size_t i = 0; i < s->n_regimes && i < TACK_BT_MAX_REGIMES; i++) {
    const tack_bt_regime *g = &s->regimes[i];
    put(w, "<tr><td>");
    esc(w, g->entry);
    put(w, "</td><td>");
    esc(w, g->name);
    out(w,
        "</td><td class=\"n\">%s</td><td class=\"n\">%s</td><td class=\"n\">%s</td>"
        "</tr>\n",
        count(g->bars).s, pct(g->share, 0).s, count(g->switches_into).s);
  }
  put(w, "</tbody></table></div>\n");
}

static void symbol_section(rep *w, const tack_bt_symbol *s, size_t idx, const char *cur) {
  out(w, "<section id=\"sym%zu\">\n<div class=\"head\"><h2>", idx);
  esc(w, s->symbol[0] ? s->symbol : "(unnamed symbol)");
  put(w, "</h2><span class=\"note\">");
  if (s->exchange[0]) {
    esc(w, s->exchange);
    put(w, " · ");
  }
  if (s->strategy[0]) {
    put(w, "strategy ");
    esc(w, s->strategy);
    put(w, " · ");
  }
  out(w, "%s bars</span></div>\n", timeframe(s->timeframe_s).s);

  char sub[128];
  put(w, "<div class=\"tiles small\">\n");
  tile(w, "P&amp;L", tone(s->pnl), num(s->pnl, 2, 1, 1).s, cur);
  tile(w, "Fees", "", money(s->fees).s, cur);
  tile(w, "Bars", "", count(s->bars).s, "");
  tile(w, "Signals", "", count(s->signals).s, "");
  snprintf(sub, sizeof sub, "%s fills", count(s->fills).s);
  tile(w, "Orders", "", count(s->orders).s, sub);
  tile(w, "Last close", "", sig(s->last_close, 6, 2).s, "");
  put(w, "</div>\n");

  put(w, "<div class=\"head\" style=\"margin-top:16px\"><h3>Price and fills</h3>");
  int64_t cs = candle_secs(s);
  if (s->prices.n > 0)
    out(w, "<span class=\"note\">%s candles of %s</span>", count(s->prices.n).s,
        timeframe(cs > 0 && cs <= (int64_t)UINT32_MAX ? (uint32_t)cs : 0).s);
  put(w, "</div>\n");
  if (s->prices.n == 0 || !s->prices.items)
    empty(w, "No prices were recorded for this symbol.");
  else
    price_chart(w, s);

  if (s->n_members > 0 || s->n_regimes > 0) {
    put(w, "<div class=\"two\">\n");
    if (s->n_members > 0)
      members_table(w, s);
    if (s->n_regimes > 0)
      regimes_table(w, s);
    put(w, "</div>\n");
  }
  put(w, "</section>\n");
}

/* A histogram of 20 bins from lo to hi, with the 5th, 50th and 95th
 * percentiles marked. */
static void histogram(rep *w, const char *label, const uint32_t *bins, double lo, double hi,
                      const double *pcts, int returns) {
  double height = 230, width = 400;
  frame f = {58, 20, width - 58 - 16, height - 20 - PAD_B, lo, hi, 0, 1};
  widen(&f.t0, &f.t1);
  uint32_t top = 0;
  for (int i = 0; i < 20; i++)
    top = bins[i] > top ? bins[i] : top;
  double vlo = 0, vhi = top > 0 ? (double)top : 1.0;
  double step = nice_step(vhi / 4);
  if (step < 1)
    step = 1;
  vhi = ceil(vhi / step) * step;
  f.v0 = vlo;
  f.v1 = vhi;
  tick vt[TICKS_MAX], xt[TICKS_MAX];
  int nv = value_ticks(vlo, vhi, step, AXIS_COUNT, vt, TICKS_MAX);
  double xs = nice_step((f.t1 - f.t0) / 5);
  int nx = value_ticks(ceil(f.t0 / xs) * xs, f.t1, xs, AXIS_PCT, xt, TICKS_MAX);

  out(w,
      "<div><h3>%s</h3><div class=\"chart\"><svg viewBox=\"0 0 %.0f %.0f\" role=\"img\" "
      "aria-label=\"%s\">",
      label, width, height, label);
  put(w, "<path class=\"gl\" d=\"");
  for (int i = 0; i < nv; i++)
    out(w, "M%.1f %.1fh%.1f", f.x0, fy(&f, vt[i].at), f.w);
  put(w, "\"/>");
  double bw = f.w / 20.0;
  const char *last = NULL;
  for (int i = 0; i < 20; i++) {
    double center = f.t0 + (i + 0.5) * (f.t1 - f.t0) / 20.0;
    const char *cls = !returns ? "hd" : center < 0 ? "hn" : "hp";
    if (cls != last) {
      out(w, "%s<path class=\"%s\" d=\"", last ? "\"/>" : "", cls);
      last = cls;
    }
    if (bins[i] == 0)
      continue;
    double y = fy(&f, (double)bins[i]);
    out(w, "M%.1f %.1fh%.1fV%.1fh%.1fz", f.x0 + i * bw + 1, y, bw - 2, f.y0 + f.h, -(bw - 2));
  }
  put(w, "\"/>");
  out(w, "<path class=\"ax\" d=\"M%.1f %.1fh%.1f\"/>", f.x0, f.y0 + f.h, f.w);
  static const int marked[3] = {0, 2, 4};
  static const char *const names[3] = {"P5", "P50", "P95"};
  double labelled = -1e9; /* a label too close to the previous one is left out */
  for (int k = 0; k < 3; k++) {
    double v = pcts[marked[k]];
    if (!isfinite(v) || v < f.t0 || v > f.t1)
      continue;
    double x = fx(&f, v);
    out(w, "<path class=\"%s\" d=\"M%.1f %.1fV%.1f\"/>", k == 1 ? "pm" : "pl", x, f.y0, f.y0 + f.h);
    if (x - labelled >= 26) {
      out(w, "<text class=\"pt\" x=\"%.1f\" y=\"%.1f\">%s</text>", x, f.y0 - 6, names[k]);
      labelled = x;
    }
  }
  put(w, "<g class=\"yl\">");
  for (int i = 0; i < nv; i++)
    out(w, "<text x=\"%.1f\" y=\"%.1f\">%s</text>", f.x0 - 8, fy(&f, vt[i].at) + 4, vt[i].label.s);
  put(w, "</g><g class=\"xl\">");
  for (int i = 0; i < nx; i++)
    out(w, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>", fx(&f, xt[i].at),
        f.y0 + f.h + 18, xt[i].label.s);
  put(w, "</g></svg></div></div>\n");
}

static void montecarlo_section(rep *w, const tack_bt_result *r) {
  const tack_bt_mc *mc = &r->mc;
  put(w, "<section id=\"montecarlo\">\n<h2>Monte Carlo</h2>\n");
  out(w,
      "<p class=\"sub\">%s resamplings of the %s trades' P&amp;L with replacement, each "
      "compounding from the starting equity (seed %" PRIu64 "). Probability of ending with a "
      "loss: <b class=\"%s\">%s</b>.</p>\n",
      count(mc->runs).s, count(r->metrics.trades).s, mc->seed, mc->prob_loss > 0.5 ? "neg" : "",
      pct(mc->prob_loss, 0).s);
  put(w, "<div class=\"three\">\n<div><h3>Percentiles</h3><table><thead><tr><th>Percentile</th>"
         "<th class=\"n\">Total return</th><th class=\"n\">Max drawdown</th></tr></thead>"
         "<tbody>\n");
  for (unsigned i = 0; i < TACK_BT_PCTS; i++)
    out(w, "<tr><td>P%s</td><td class=\"n %s\">%s</td><td class=\"n\">%s</td></tr>\n",
        num(mc->pct[i], 0, 0, 0).s, tone(mc->total_return[i]), pct(mc->total_return[i], 1).s,
        pct(mc->max_drawdown[i], 0).s);
  put(w, "</tbody></table>\n<p class=\"muted\">Across resamplings: P5 is the worst 5%, P50 "
         "the median. Drawdowns are positive falls from a peak.</p></div>\n");
  histogram(w, "Total return", mc->return_hist, mc->return_lo, mc->return_hi, mc->total_return, 1);
  histogram(w, "Max drawdown", mc->dd_hist, mc->dd_lo, mc->dd_hi, mc->max_drawdown, 0);
  put(w, "</div>\n</section>\n");
}

static void trades_section(rep *w, const tack_bt_result *r) {
  put(w, "<section id=\"trades\">\n<div class=\"head\"><h2>Trades</h2>");
  size_t shown = r->n_trades < TRADE_ROWS_MAX ? r->n_trades : TRADE_ROWS_MAX;
  if (r->n_trades > 0)
    out(w, "<span class=\"note\">%s round trips; click a column to sort</span>",
        count(r->n_trades).s);
  put(w, "</div>\n");
  if (r->n_trades == 0 || !r->trades) {
    empty(w, "No trades.");
    put(w, "</section>\n");
    return;
  }
  if (shown < r->n_trades)
    out(w,
        "<p class=\"sub\">The first %s of %s trades are listed; the result's JSON lists "
        "them all.</p>\n",
        count(shown).s, count(r->n_trades).s);
  put(w, "<div class=\"scroll\"><table class=\"sort trades\"><thead><tr><th>#</th><th>Symbol"
         "</th><th>Side</th><th>Member</th><th>Entry</th><th>Exit</th><th>Bars</th><th>Entry "
         "price</th><th>Exit price</th><th>Quantity</th><th>P&amp;L</th><th>Return</th>"
         "<th>Fees</th></tr></thead><tbody>\n");
  for (size_t i = 0; i < shown; i++) {
    const tack_bt_trade *t = &r->trades[i];
    out(w, "<tr><td>%zu</td><td>", i + 1);
    esc(w, t->symbol);
    out(w, "</td><td><span class=\"b %s\">%s</span></td><td>", t->side < 0 ? "s" : "l",
        t->side < 0 ? "short" : "long");
    esc(w, t->member);
    out(w, "</td><td>%s</td><td>%s%s</td>", when(t->entry_ts).s, when(t->exit_ts).s,
        t->open ? "<span class=\"b o\">open</span>" : "");
    out(w,
        "<td>%s</td><td>%s</td><td>%s</td><td>%s</td><td class=\"%s\">%s</td>"
        "<td class=\"%s\">%s</td><td>%s</td></tr>\n",
        count(t->bars).s, sig(t->entry_price, 6, 2).s, sig(t->exit_price, 6, 2).s,
        sig(t->quantity, 6, 0).s, tone(t->pnl), num(t->pnl, 2, 1, 1).s, tone(t->ret),
        pct(t->ret, 1).s, money(t->fees).s);
  }
  put(w, "</tbody></table></div>\n</section>\n");
}

int tack_report_write(FILE *out_file, const tack_bt_result *r, const char *title) {
  if (!out_file || !r)
    return TACK_EINVAL;
  rep w = {out_file, 0, 0};
  tack_bt_result safe = *r;
  /* A count without its array is taken as empty rather than followed. */
  if (!safe.curve)
    safe.n_curve = 0;
  if (!safe.trades)
    safe.n_trades = 0;
  if (!safe.symbols)
    safe.n_symbols = 0;
  r = &safe;

  page_head(&w, r, title);
  header(&w, r, title);
  nav(&w, r);
  summary(&w, r);
  equity_section(&w, r);
  for (size_t i = 0; i < r->n_symbols; i++)
    symbol_section(&w, &r->symbols[i], i, r->currency);
  if (r->has_mc)
    montecarlo_section(&w, r);
  trades_section(&w, r);
  put(&w, "<footer>Generated by tack " TACK_VERSION ". All times are UTC. This page fetches "
          "nothing: it works offline.</footer>\n</div>\n<script>\n");
  put(&w, script);
  put(&w, "</script>\n</body>\n</html>\n");
  if (w.failed || fflush(out_file) != 0 || ferror(out_file))
    return TACK_EIO;
  return 0;
}

int tack_report_write_file(const char *path, const tack_bt_result *r, const char *title) {
  if (!path || !path[0] || !r)
    return TACK_EINVAL;
  size_t n = strlen(path) + sizeof ".tmp";
  char *tmp = tack_alloc(NULL, n);
  if (!tmp) {
    tack_log_error("report %s: not written: out of memory", path);
    return TACK_EIO;
  }
  snprintf(tmp, n, "%s.tmp", path);
  int rc = 0;
  FILE *f = fopen(tmp, "w");
  if (!f) {
    tack_log_error("report %s: cannot create %s: %s", path, tmp, strerror(errno));
    rc = TACK_EIO;
    goto done;
  }
  rc = tack_report_write(f, r, title);
  int saved = errno;
  if (fclose(f) != 0 && rc == 0) {
    saved = errno;
    rc = TACK_EIO;
  }
  if (rc != 0) {
    tack_log_error("report %s: cannot write %s: %s", path, tmp,
                   rc == TACK_EIO ? strerror(saved) : tack_strerror(rc));
    remove(tmp);
    goto done;
  }
  if (rename(tmp, path) != 0) {
    tack_log_error("report %s: cannot rename %s into place: %s", path, tmp, strerror(errno));
    remove(tmp);
    rc = TACK_EIO;
  }
done:
  tack_free(NULL, tmp);
  return rc;
}
