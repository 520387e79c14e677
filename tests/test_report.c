/*
 * test_report.c: the backtest HTML report (host/report.c). The unit tests
 * render a realistic result built here (two symbols, a year of equity,
 * trades, fills, attribution, regimes, Monte Carlo) and the edge cases
 * (nothing at all, NAN everywhere, one point, a flat curve, hostile
 * strings, a failing stream) and check the page's structure: balanced
 * elements, the sections, nothing non-finite in the SVG, every string
 * escaped, no network reference.
 *
 *   test_report             the unit tests (cmocka)
 *   test_report --browser   renders the realistic report in headless
 *                           Chromium: a screenshot, the DOM after the
 *                           scripts ran, and no console message from the
 *                           page; exits 77 (skipped) without Chromium
 *   test_report --sample F  writes the realistic report to F
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "report.h"
#include "utc.h"

#define NS TACK_NS_PER_SEC
#define DAY (INT64_C(86400) * NS)

/* ---- fixtures ---- */

static uint64_t rng = 0x9e3779b97f4a7c15u;

static double urand(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (double)(rng >> 11) / 9007199254740992.0;
}

static double nrand(void) {
  double u = urand(), v = urand();
  if (u < 1e-12)
    u = 1e-12;
  return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

static void copy(char *dst, size_t cap, const char *src) { snprintf(dst, cap, "%s", src); }

static void add_marker(tack_bt_symbol *s, tack_time ts, double price, double qty, int side,
                       int opens) {
  if (s->n_markers == s->cap_markers) {
    s->cap_markers = s->cap_markers ? s->cap_markers * 2 : 64;
    s->markers = realloc(s->markers, s->cap_markers * sizeof *s->markers);
    assert_non_null(s->markers);
  }
  tack_bt_marker m = {ts, price, qty, side, opens};
  s->markers[s->n_markers++] = m;
}

static tack_bt_trade *add_trade(tack_bt_result *r) {
  if (r->n_trades == r->cap_trades) {
    r->cap_trades = r->cap_trades ? r->cap_trades * 2 : 64;
    r->trades = realloc(r->trades, r->cap_trades * sizeof *r->trades);
    assert_non_null(r->trades);
  }
  tack_bt_trade *t = &r->trades[r->n_trades++];
  memset(t, 0, sizeof *t);
  return t;
}

/* A random-walk price series of n candles of per bars of tf seconds. */
static void make_prices(tack_bt_symbol *s, tack_time start, size_t n, uint64_t per, double p0,
                        double vol) {
  s->prices.items = calloc(TACK_BT_MAX_CANDLES, sizeof *s->prices.items);
  assert_non_null(s->prices.items);
  s->prices.per = per;
  double p = p0;
  for (size_t i = 0; i < n; i++) {
    tack_bt_candle *c = &s->prices.items[i];
    c->ts = start + (tack_time)i * (tack_time)(per * s->timeframe_s) * NS;
    c->open = p;
    double drift = 0.0015 * sin((double)i / 40.0);
    p *= exp(drift + vol * nrand());
    c->close = p;
    c->high = fmax(c->open, c->close) * (1 + fabs(nrand()) * vol * 0.5);
    c->low = fmin(c->open, c->close) * (1 - fabs(nrand()) * vol * 0.5);
  }
  s->prices.n = n;
  s->bars = n * per;
  s->last_close = p;
}

/* Trades on s: alternating long and short spells, some scaled into, some
 * partly reduced; the last one still open. */
static void make_trades(tack_bt_result *r, tack_bt_symbol *s, const char *const *members,
                        size_t n_members) {
  const tack_bt_candles *c = &s->prices;
  size_t i = 3, k = 0;
  int side;
  while (i + 4 < c->n) {
    size_t len = 4 + (size_t)(urand() * 12), end = i + len;
    int open = 0;
    if (end + 6 >= c->n) { /* the last one stays open */
      end = c->n - 1;
      open = 1;
    }
    /* A strategy that is right a little more often than not. */
    int right = c->items[end].close > c->items[i].close ? 1 : -1;
    side = urand() < 0.6 ? right : -right;
    tack_bt_trade *t = add_trade(r);
    copy(t->symbol, sizeof t->symbol, s->symbol);
    t->side = side;
    t->open = open;
    t->entry_ts = c->items[i].ts;
    t->exit_ts = c->items[end].ts;
    double q = 4000.0 / c->items[i].close, entry = c->items[i].close;
    add_marker(s, t->entry_ts, entry, q, side, 1);
    double qty = q;
    if (len > 9) { /* scale in */
      double p2 = c->items[i + 3].close, q2 = q * 0.5;
      add_marker(s, c->items[i + 3].ts, p2, q2, side, 1);
      entry = (entry * q + p2 * q2) / (q + q2);
      qty += q2;
    }
    double exit = c->items[end].close;
    if (len > 6 && !open) { /* partial reduce, then the rest */
      double p3 = c->items[end - 2].close;
      add_marker(s, c->items[end - 2].ts, p3, qty * 0.4, -side, 0);
      exit = p3 * 0.4 + exit * 0.6;
    }
    if (!open)
      add_marker(s, t->exit_ts, c->items[end].close, qty * (len > 6 ? 0.6 : 1.0), -side, 0);
    t->entry_price = entry;
    t->exit_price = exit;
    t->quantity = qty;
    t->fees = qty * (entry + exit) * 0.001;
    t->pnl = side * (exit - entry) * qty - t->fees;
    t->ret = t->pnl / (entry * qty);
    t->bars = (uint64_t)(end - i) * c->per;
    if (n_members) {
      copy(t->member, sizeof t->member, members[k % n_members]);
      s->members[k % n_members].trades++;
      s->members[k % n_members].pnl += t->pnl;
    }
    s->pnl += t->pnl;
    s->fees += t->fees;
    k++;
    i = end + 1 + (size_t)(urand() * 4);
  }
  s->fills = s->n_markers;
  s->orders = s->n_markers + 3;
  s->signals = s->bars / 3;
}

static double price_at(const tack_bt_symbol *s, tack_time t) {
  double p = s->prices.items[0].close;
  for (size_t i = 0; i < s->prices.n && s->prices.items[i].ts <= t; i++)
    p = s->prices.items[i].close;
  return p;
}

static int by_exit(const void *a, const void *b) {
  const tack_bt_trade *x = a, *y = b;
  if (x->open != y->open)
    return x->open - y->open;
  return (x->exit_ts > y->exit_ts) - (x->exit_ts < y->exit_ts);
}

static int by_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* The curve (marked to market daily), then the metrics from it. */
static void make_curve_and_metrics(tack_bt_result *r, tack_time start, size_t days) {
  tack_bt_metrics *m = &r->metrics;
  r->curve = calloc(days, sizeof *r->curve);
  assert_non_null(r->curve);
  double peak = 0, start_eq = 10000.0;
  double *rets = calloc(days, sizeof *rets);
  assert_non_null(rets);
  size_t exposed = 0, dd_start = 0, dd_trough = 0, peak_i = 0;
  int64_t longest = 0;
  m->max_drawdown = 0;
  for (size_t d = 0; d < days; d++) {
    tack_time ts = start + (tack_time)d * DAY;
    double eq = start_eq;
    int any = 0;
    for (size_t i = 0; i < r->n_trades; i++) {
      const tack_bt_trade *t = &r->trades[i];
      const tack_bt_symbol *s =
          strcmp(t->symbol, r->symbols[0].symbol) == 0 ? &r->symbols[0] : &r->symbols[1];
      if (t->exit_ts <= ts && !t->open)
        eq += t->pnl;
      else if (t->entry_ts <= ts) {
        eq += t->side * (price_at(s, ts) - t->entry_price) * t->quantity - t->fees / 2;
        any = 1;
      }
    }
    exposed += any;
    if (eq > peak) {
      peak = eq;
      peak_i = d;
    }
    tack_bt_point *p = &r->curve[d];
    p->ts = ts;
    p->equity = eq;
    p->drawdown = eq / peak - 1;
    if (-p->drawdown > m->max_drawdown) {
      m->max_drawdown = -p->drawdown;
      dd_start = peak_i;
      dd_trough = d;
    }
    int64_t under = (int64_t)(d - peak_i) * 86400;
    if (under > longest)
      longest = under;
    if (d > 0)
      rets[d - 1] = eq / r->curve[d - 1].equity - 1;
  }
  r->n_curve = days;
  size_t n_ret = days - 1;
  m->start = start;
  m->end = start + (tack_time)days * DAY;
  m->years = (double)days / 365.0;
  m->start_equity = start_eq;
  m->end_equity = r->curve[days - 1].equity;
  m->total_return = m->end_equity / start_eq - 1;
  m->cagr = pow(m->end_equity / start_eq, 1 / m->years) - 1;
  m->max_drawdown_start = r->curve[dd_start].ts;
  m->max_drawdown_trough = r->curve[dd_trough].ts;
  m->max_drawdown_end = 0;
  for (size_t d = dd_trough; d < days; d++)
    if (r->curve[d].equity >= r->curve[dd_start].equity) {
      m->max_drawdown_end = r->curve[d].ts;
      break;
    }
  m->max_drawdown_duration_s = longest;
  double mean = 0, var = 0, down = 0;
  for (size_t i = 0; i < n_ret; i++)
    mean += rets[i] / (double)n_ret;
  for (size_t i = 0; i < n_ret; i++) {
    var += (rets[i] - mean) * (rets[i] - mean) / (double)(n_ret - 1);
    down += rets[i] < 0 ? rets[i] * rets[i] / (double)n_ret : 0;
  }
  m->intervals = n_ret;
  m->return_interval_s = 86400;
  m->intervals_per_year = 365;
  m->volatility = sqrt(var * 365);
  m->sharpe = mean / sqrt(var) * sqrt(365);
  m->sortino = mean / sqrt(down) * sqrt(365);
  m->calmar = m->cagr / m->max_drawdown;
  qsort(rets, n_ret, sizeof *rets, by_double);
  size_t tail = n_ret / 20;
  m->var95 = -rets[tail];
  double sum = 0;
  for (size_t i = 0; i < tail; i++)
    sum += rets[i];
  m->cvar95 = tail ? -sum / (double)tail : m->var95;
  free(rets);
  m->exposure = (double)exposed / (double)days;
  double won = 0, lost = 0;
  for (size_t i = 0; i < r->n_trades; i++) {
    const tack_bt_trade *t = &r->trades[i];
    m->fees += t->fees;
    if (t->pnl > 0) {
      m->wins++;
      won += t->pnl;
    } else {
      m->losses++;
      lost += t->pnl;
    }
  }
  m->trades = r->n_trades;
  m->win_rate = (double)m->wins / (double)m->trades;
  m->profit_factor = won / -lost;
  m->expectancy = (won + lost) / (double)m->trades;
  m->avg_win = won / (double)m->wins;
  m->avg_loss = lost / (double)m->losses;
}

/* Resample the trades' returns, as metrics.c does. */
static void make_mc(tack_bt_result *r) {
  tack_bt_mc *mc = &r->mc;
  enum { RUNS = 1000 };
  static double tr[RUNS], dd[RUNS];
  mc->runs = RUNS;
  mc->seed = 42;
  for (int k = 0; k < RUNS; k++) {
    double eq = 1, peak = 1, worst = 0;
    for (size_t i = 0; i < r->n_trades; i++) {
      const tack_bt_trade *t = &r->trades[(size_t)(urand() * (double)r->n_trades)];
      eq *= 1 + t->pnl / 10000.0;
      peak = fmax(peak, eq);
      worst = fmax(worst, 1 - eq / peak);
    }
    tr[k] = eq - 1;
    dd[k] = worst;
    mc->prob_loss += eq < 1 ? 1.0 / RUNS : 0;
  }
  qsort(tr, RUNS, sizeof tr[0], by_double);
  qsort(dd, RUNS, sizeof dd[0], by_double);
  static const double pcts[TACK_BT_PCTS] = {5, 25, 50, 75, 95};
  for (unsigned i = 0; i < TACK_BT_PCTS; i++) {
    mc->pct[i] = pcts[i];
    size_t at = (size_t)(pcts[i] / 100.0 * (RUNS - 1));
    mc->total_return[i] = tr[at];
    mc->max_drawdown[i] = dd[at];
  }
  mc->return_lo = tr[0];
  mc->return_hi = tr[RUNS - 1];
  mc->dd_lo = dd[0];
  mc->dd_hi = dd[RUNS - 1];
  for (int k = 0; k < RUNS; k++) {
    int a = (int)((tr[k] - mc->return_lo) / (mc->return_hi - mc->return_lo) * 20);
    int b = (int)((dd[k] - mc->dd_lo) / (mc->dd_hi - mc->dd_lo) * 20);
    mc->return_hist[a > 19 ? 19 : a]++;
    mc->dd_hist[b > 19 ? 19 : b]++;
  }
  r->has_mc = 1;
}

static void make_realistic(tack_bt_result *r) {
  memset(r, 0, sizeof *r);
  rng = 0x9e3779b97f4a7c15u;
  copy(r->bot, sizeof r->bot, "trend-follow");
  copy(r->config, sizeof r->config, "configs/trend-follow.cfg");
  copy(r->mode, sizeof r->mode, "backtest");
  copy(r->currency, sizeof r->currency, "USD");
  tack_bt_settings st = TACK_BT_SETTINGS_DEFAULT;
  r->settings = st;
  r->settings.risk_free = 0.02;
  tack_time start = tack_days_from_civil(2023, 1, 2) * DAY;
  size_t days = 364;

  r->symbols = calloc(2, sizeof *r->symbols);
  assert_non_null(r->symbols);
  r->n_symbols = 2;
  tack_bt_symbol *btc = &r->symbols[0], *eth = &r->symbols[1];
  copy(btc->symbol, sizeof btc->symbol, "BTC-USD");
  copy(btc->exchange, sizeof btc->exchange, "coinbase");
  copy(btc->strategy, sizeof btc->strategy, "trend_blend");
  btc->timeframe_s = 86400;
  make_prices(btc, start, days, 1, 16600, 0.028);
  copy(eth->symbol, sizeof eth->symbol, "ETH-USD");
  copy(eth->exchange, sizeof eth->exchange, "coinbase");
  copy(eth->strategy, sizeof eth->strategy, "rsi_revert");
  eth->timeframe_s = 14400;
  make_prices(eth, start, days * 3 / 2, 4, 1200, 0.026);

  static const char *const members[3] = {"sma_cross", "donchian_breakout", "macd_momentum"};
  for (size_t i = 0; i < 3; i++) {
    copy(btc->members[i].name, sizeof btc->members[i].name, members[i]);
    btc->members[i].signals = 100 + 37 * i;
    btc->members[i].contribution = 0.5 - 0.15 * (double)i;
  }
  btc->n_members = 3;
  static const char *const regimes[3] = {"calm", "trending", "volatile"};
  for (size_t i = 0; i < 3; i++) {
    tack_bt_regime *g = &btc->regimes[i];
    copy(g->entry, sizeof g->entry, "vol_switch");
    copy(g->name, sizeof g->name, regimes[i]);
    g->bars = 180 - 60 * i;
    g->share = (double)g->bars / 360.0;
    g->switches_into = 9 - 2 * i;
  }
  btc->n_regimes = 3;

  make_trades(r, btc, members, 3);
  make_trades(r, eth, NULL, 0);
  qsort(r->trades, r->n_trades, sizeof *r->trades, by_exit);
  make_curve_and_metrics(r, start, days);
  make_mc(r);
  r->ledger_exact = 1;
  copy(r->ledger_note, sizeof r->ledger_note,
       "cash + positions at the last close = start + realized + unrealized - fees, to the cent");
}

static void fixture_free(tack_bt_result *r) {
  for (size_t i = 0; i < r->n_symbols; i++) {
    free(r->symbols[i].prices.items);
    free(r->symbols[i].markers);
  }
  free(r->symbols);
  free(r->trades);
  free(r->curve);
  memset(r, 0, sizeof *r);
}

/* ---- checking the page ---- */

static char *render(const tack_bt_result *r, const char *title) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  assert_non_null(f);
  assert_int_equal(tack_report_write(f, r, title), 0);
  assert_int_equal(fclose(f), 0);
  assert_non_null(buf);
  assert_int_equal(strlen(buf), len);
  return buf;
}

/* strstr, but linear under ASan too (its strstr measures the whole
 * haystack on every call, which makes scanning loops quadratic). */
static const char *find(const char *s, const char *what) {
  size_t k = strlen(what);
  for (const char *p = s; (p = strchr(p, what[0])) != NULL; p++)
    if (strncmp(p, what, k) == 0)
      return p;
  return NULL;
}

static size_t count_of(const char *s, const char *what) {
  size_t n = 0, k = strlen(what);
  for (const char *p = find(s, what); p; p = find(p + k, what))
    n++;
  return n;
}

static const char *find_ci(const char *s, const char *end, const char *what) {
  size_t k = strlen(what);
  for (const char *p = s; p + k <= end; p++)
    if (strncasecmp(p, what, k) == 0)
      return p;
  return NULL;
}

/* Every <tag ...> has its </tag>, and they never cross the page's end. */
static void assert_balanced(const char *html, const char *tag) {
  char open[32], close[32];
  snprintf(open, sizeof open, "<%s", tag);
  snprintf(close, sizeof close, "</%s>", tag);
  size_t n_open = 0;
  size_t k = strlen(open);
  for (const char *p = find(html, open); p; p = find(p + k, open))
    if (p[k] == ' ' || p[k] == '>')
      n_open++;
  if (n_open != count_of(html, close))
    fail_msg("<%s>: %zu opened, %zu closed", tag, n_open, count_of(html, close));
}

/* Inside every <svg>...</svg>: no nesting, path data made of path
 * commands and numbers, no attribute or text saying nan, inf or n/a. */
static void assert_svgs_clean(const char *html) {
  size_t n = 0;
  for (const char *p = find(html, "<svg"); p; p = find(p, "<svg")) {
    const char *end = find(p, "</svg>");
    assert_non_null(end);
    const char *next = find(p + 4, "<svg");
    if (next && next < end)
      fail_msg("nested <svg> at offset %td", p - html);
    /* aria-label carries the symbol's name, escaped; skip it */
    const char *body = strchr(p, '>');
    const char *al = find(p, "aria-label=\"");
    if (al && al < body) {
      const char *q = strchr(al + 12, '"');
      if (find_ci(p, al, "nan") || find_ci(p, al, "inf"))
        fail_msg("non-finite value in <svg> attributes at offset %td", p - html);
      p = q;
    }
    for (const char *bad[] = {"nan", "inf", "n/a", NULL}, **b = bad; *b; b++) {
      const char *hit = find_ci(p, end, *b);
      if (hit)
        fail_msg("'%s' inside an <svg> at offset %td: %.60s", *b, hit - html, hit - 20);
    }
    for (const char *d = find(p, " d=\""); d && d < end; d = find(d + 4, " d=\"")) {
      const char *q = strchr(d + 4, '"');
      size_t ok = strspn(d + 4, "MLHVZmlhvz0123456789.- ");
      if (d + 4 + ok != q)
        fail_msg("path data with '%c' at offset %td", d[4 + ok], d + 4 + ok - html);
    }
    p = end;
    n++;
  }
  assert_int_equal(n, count_of(html, "</svg>"));
}

/* The JSON behind the hover read-outs holds numbers and nulls only. */
static void assert_data_clean(const char *html) {
  for (const char *p = find(html, "type=\"application/json\""); p;
       p = find(p + 1, "type=\"application/json\"")) {
    const char *start = strchr(p, '>') + 1, *end = find(start, "</script>");
    assert_non_null(end);
    size_t k = 0;
    for (const char *q = start; q < end; q += k ? k : 1) {
      k = strspn(q, "{}[],:\"tohlcde0123456789.-+eE");
      if (k == 0 && strncmp(q, "null", 4) == 0)
        k = 4;
      if (k == 0)
        fail_msg("unexpected '%c' in chart data at offset %td", *q, q - html);
    }
  }
}

static void assert_no_network(const char *html) {
  static const char *const schemes[] = {"http://", "https://", "//cdn",
                                        "url(",    "@import",  "src=\""};
  for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++)
    for (const char *p = find(html, schemes[i]); p; p = find(p + 1, schemes[i]))
      if (strncmp(p, "http://www.w3.org/2000/svg", 26) != 0 && !(p > html && p[-1] == '-'))
        fail_msg("a network reference at offset %td: %.60s", p - html, p);
}

static void assert_well_formed(const char *html) {
  assert_true(strncmp(html, "<!DOCTYPE html>\n<html lang=\"en\">", 32) == 0);
  size_t n = strlen(html);
  assert_true(n > 7 && strcmp(html + n - 8, "</html>\n") == 0);
  assert_non_null(find(html, "<meta charset=\"utf-8\">"));
  static const char *const tags[] = {
      "html", "head", "body",   "section", "div",  "table", "thead", "tbody", "tr", "th",
      "td",   "svg",  "script", "style",   "h1",   "h2",    "h3",    "p",     "ul", "li",
      "span", "nav",  "header", "footer",  "text", "g",     "title", "b"};
  for (size_t i = 0; i < sizeof tags / sizeof tags[0]; i++)
    assert_balanced(html, tags[i]);
  assert_svgs_clean(html);
  assert_data_clean(html);
  assert_no_network(html);
  assert_int_equal(count_of(html, "<body>"), 1);
}

static void assert_has(const char *html, const char *what) {
  if (!strstr(html, what))
    fail_msg("the page lacks %s", what);
}

static void assert_lacks(const char *html, const char *what) {
  const char *p = strstr(html, what);
  if (p)
    fail_msg("the page has %s at offset %td", what, p - html);
}

/* ---- tests ---- */

static void test_realistic(void **state) {
  (void)state;
  tack_bt_result r;
  make_realistic(&r);
  char *html = render(&r, "Trend follow, 2023");
  assert_well_formed(html);
  static const char *const sections[] = {"id=\"summary\"", "id=\"equity\"",     "id=\"sym0\"",
                                         "id=\"sym1\"",    "id=\"montecarlo\"", "id=\"trades\""};
  for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++)
    assert_has(html, sections[i]);
  assert_has(html, "<h1>Trend follow, 2023</h1>");
  assert_has(html, "configs/trend-follow.cfg");
  assert_has(html, "2023-01-02 00:00 → 2024-01-01 00:00 UTC");
  assert_has(html, "10,000.00 → ");
  assert_has(html, "aria-label=\"Equity curve\"");
  assert_has(html, "aria-label=\"Drawdown\"");
  assert_has(html, "aria-label=\"BTC-USD\"");
  assert_has(html, "aria-label=\"ETH-USD\"");
  /* every metric tile */
  static const char *const tiles[] = {
      "Total return", "CAGR",     "Sharpe",        "Sortino",    "Calmar",   "Max drawdown",
      "Volatility",   "Win rate", "Profit factor", "Expectancy", "Avg win",  "Avg loss",
      "Exposure",     "Trades",   "Fees",          "VaR 95%",    "CVaR 95%", "Longest drawdown"};
  for (size_t i = 0; i < sizeof tiles / sizeof tiles[0]; i++) {
    char k[64];
    snprintf(k, sizeof k, "<div class=\"k\">%s", tiles[i]);
    assert_has(html, k);
  }
  /* the four kinds of fill marker, the candles, the attribution, regimes */
  assert_has(html, "<path class=\"mb\" d=\"M");
  assert_has(html, "<path class=\"mbr\" d=\"M");
  assert_has(html, "<path class=\"ms\" d=\"M");
  assert_has(html, "<path class=\"msr\" d=\"M");
  assert_has(html, "<path class=\"cu\" d=\"M");
  assert_has(html, "<path class=\"cd\" d=\"M");
  assert_has(html, "<td>donchian_breakout</td>");
  assert_has(html, "<td>vol_switch</td><td>volatile</td>");
  assert_has(html, "<h3>Attribution</h3>");
  assert_has(html, "<h3>Regimes</h3>");
  assert_has(html, "aria-label=\"Total return\"");
  assert_has(html, "aria-label=\"Max drawdown\"");
  assert_has(html, "<td>P50</td>");
  assert_has(html, "✓ Ledger check");
  /* one row per trade, the open one marked */
  assert_int_equal(count_of(html, "<tr><td>") - 3 - 3 - 5, r.n_trades);
  size_t open = 0;
  for (size_t i = 0; i < r.n_trades; i++)
    open += r.trades[i].open != 0;
  assert_true(open > 0);
  assert_int_equal(count_of(html, "<span class=\"b o\">open</span>"), open);
  assert_has(html, "<table class=\"sort trades\">");
  /* three hover data blocks: the curve and each symbol's candles */
  assert_int_equal(count_of(html, "type=\"application/json\""), 3);
  assert_int_equal(count_of(html, "data-src=\"d"), 4);
  char *script = strstr(html, "<script>\n");
  assert_non_null(script);
  *script = '\0'; /* the page before its script (which knows "n/a" too) */
  assert_lacks(html, "n/a");
  *script = '<';
  /* reasonable size: well under a megabyte for a year of daily data */
  assert_true(strlen(html) < 400 * 1024);
  free(html);
  fixture_free(&r);
}

static void test_empty(void **state) {
  (void)state;
  tack_bt_result r;
  memset(&r, 0, sizeof r);
  char *html = render(&r, NULL);
  assert_well_formed(html);
  assert_has(html, "<h1>Backtest</h1>");
  assert_has(html, "No equity points were recorded.");
  assert_has(html, "No trades.");
  assert_lacks(html, "id=\"montecarlo\"");
  assert_lacks(html, "<svg viewBox=\"0 0 1160");
  assert_has(html, "✗ Ledger check");
  free(html);

  /* counts without arrays, a symbol without prices */
  r.n_curve = 5;
  r.n_trades = 3;
  tack_bt_symbol s;
  memset(&s, 0, sizeof s);
  copy(s.symbol, sizeof s.symbol, "X");
  r.symbols = &s;
  r.n_symbols = 1;
  html = render(&r, "");
  assert_well_formed(html);
  assert_has(html, "No prices were recorded for this symbol.");
  assert_has(html, "No trades.");
  free(html);
}

static void set_all_nan(tack_bt_metrics *m) {
  double *f[] = {&m->years,         &m->start_equity, &m->end_equity, &m->total_return,
                 &m->cagr,          &m->volatility,   &m->sharpe,     &m->sortino,
                 &m->calmar,        &m->max_drawdown, &m->exposure,   &m->win_rate,
                 &m->profit_factor, &m->expectancy,   &m->avg_win,    &m->avg_loss,
                 &m->fees,          &m->var95,        &m->cvar95,     &m->intervals_per_year};
  for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
    *f[i] = NAN;
}

static void test_nan_and_infinity(void **state) {
  (void)state;
  tack_bt_result r;
  make_realistic(&r);
  set_all_nan(&r.metrics);
  r.metrics.profit_factor = INFINITY;
  r.metrics.calmar = -INFINITY;
  /* holes in every series, and a Monte Carlo with nothing in it */
  for (size_t i = 10; i < 40; i += 3) {
    r.curve[i].equity = NAN;
    r.curve[i + 1].drawdown = INFINITY;
  }
  r.symbols[0].prices.items[5].high = NAN;
  r.symbols[0].prices.items[6].close = -INFINITY;
  r.symbols[0].markers[0].price = NAN;
  r.trades[0].pnl = NAN;
  r.trades[1].ret = INFINITY;
  r.trades[2].entry_price = NAN;
  r.symbols[1].members[0].pnl = NAN;
  r.symbols[1].n_members = 1;
  for (unsigned i = 0; i < TACK_BT_PCTS; i++) {
    r.mc.total_return[i] = NAN;
    r.mc.max_drawdown[i] = INFINITY;
  }
  r.mc.return_lo = NAN;
  r.mc.return_hi = NAN;
  r.mc.dd_lo = INFINITY;
  r.mc.dd_hi = -INFINITY;
  r.mc.prob_loss = NAN;
  char *html = render(&r, "all undefined");
  assert_well_formed(html);
  assert_has(html, "<div class=\"k\">Sharpe</div><div class=\"v \">n/a</div>");
  assert_has(html, "<div class=\"k\">Profit factor</div><div class=\"v \">∞</div>");
  assert_has(html, "<div class=\"k\">Calmar</div><div class=\"v neg\">-∞</div>");
  assert_has(html, ">∞</td>");
  assert_lacks(html, "nan<");
  assert_lacks(html, ">inf");
  assert_lacks(html, "-inf");
  free(html);

  /* the whole curve NAN: no line, no crash */
  for (size_t i = 0; i < r.n_curve; i++)
    r.curve[i].equity = r.curve[i].drawdown = NAN;
  for (size_t i = 0; i < r.symbols[1].prices.n; i++)
    r.symbols[1].prices.items[i].open = NAN;
  html = render(&r, "all nan");
  assert_well_formed(html);
  free(html);
  fixture_free(&r);
}

static void test_one_point_and_flat(void **state) {
  (void)state;
  tack_bt_result r;
  make_realistic(&r);
  r.n_curve = 1;
  r.symbols[0].prices.n = 1;
  r.symbols[1].prices.n = 1;
  r.symbols[1].prices.items[0].open = r.symbols[1].prices.items[0].close =
      r.symbols[1].prices.items[0].high = r.symbols[1].prices.items[0].low = 100;
  r.symbols[1].n_markers = 0;
  r.mc.return_lo = r.mc.return_hi = 0.1;
  memset(r.mc.return_hist, 0, sizeof r.mc.return_hist);
  char *html = render(&r, "one point");
  assert_well_formed(html);
  assert_has(html, "<circle class=\"eq\"");
  free(html);

  /* a flat curve at zero, and a flat one at a price */
  r.n_curve = 300;
  for (size_t i = 0; i < r.n_curve; i++) {
    r.curve[i].equity = 0;
    r.curve[i].drawdown = 0;
  }
  r.metrics.start_equity = 0;
  html = render(&r, "flat at zero");
  assert_well_formed(html);
  free(html);
  for (size_t i = 0; i < r.n_curve; i++)
    r.curve[i].equity = 1e6;
  r.metrics.start_equity = 1e6;
  r.metrics.max_drawdown = 0;
  /* every point at the same time */
  for (size_t i = 0; i < r.n_curve; i++)
    r.curve[i].ts = r.curve[0].ts;
  html = render(&r, "flat");
  assert_well_formed(html);
  assert_has(html, ">1.015M</text>"); /* the axis around 1,000,000 */
  free(html);
  fixture_free(&r);
}

static void test_hostile_strings(void **state) {
  (void)state;
  static const char evil[] = "<script>alert(1)</script>";
  tack_bt_result r;
  make_realistic(&r);
  copy(r.symbols[0].symbol, sizeof r.symbols[0].symbol, evil);
  copy(r.symbols[0].exchange, sizeof r.symbols[0].exchange, "ex\"><img src=x onerror=alert(2)>");
  copy(r.symbols[0].strategy, sizeof r.symbols[0].strategy, "a & b 'quoted'");
  copy(r.symbols[0].members[0].name, sizeof r.symbols[0].members[0].name, "</td></tr><b>m");
  copy(r.symbols[0].regimes[0].name, sizeof r.symbols[0].regimes[0].name, "<style>*{}</style>");
  copy(r.symbols[0].regimes[0].entry, sizeof r.symbols[0].regimes[0].entry, "e\x01\x7f");
  copy(r.trades[0].symbol, sizeof r.trades[0].symbol, evil);
  copy(r.trades[0].member, sizeof r.trades[0].member, "<svg onload=alert(3)>");
  copy(r.bot, sizeof r.bot, "<b>bot</b>");
  copy(r.config, sizeof r.config, "/tmp/<x>&\"y\".cfg");
  copy(r.mode, sizeof r.mode, "<i>m</i>");
  copy(r.currency, sizeof r.currency, "<U&S>");
  copy(r.ledger_note, sizeof r.ledger_note, "off by <1 & more");
  r.ledger_exact = 0;
  char *html = render(&r, "</title><script>alert(4)</script>");
  assert_well_formed(html);
  assert_lacks(html, evil);
  assert_lacks(html, "<img");
  assert_lacks(html, "<svg onload");
  assert_lacks(html, "<b>m");
  assert_lacks(html, "<b>bot");
  assert_lacks(html, "<i>m");
  assert_lacks(html, "<U&S>");
  assert_lacks(html, "<style>*");
  assert_lacks(html, "\x01");
  assert_has(html, "&lt;script&gt;alert(1)&lt;/script&gt;");
  assert_has(html, "aria-label=\"&lt;script&gt;alert(1)&lt;/script&gt;\"");
  assert_has(html, "ex&quot;&gt;&lt;img src=x onerror=alert(2)&gt;");
  assert_has(html, "a &amp; b &#39;quoted&#39;");
  assert_has(html, "/tmp/&lt;x&gt;&amp;&quot;y&quot;.cfg");
  assert_has(html, "&lt;U&amp;S&gt;");
  assert_has(html, "off by &lt;1 &amp; more");
  assert_has(html, "e&#xFFFD;&#xFFFD;");
  assert_has(html, "<title>&lt;/title&gt;&lt;script&gt;alert(4)&lt;/script&gt;");
  assert_has(html, "✗ Ledger check");
  /* the data blocks and the page's own script, nothing else */
  assert_int_equal(count_of(html, "<script"), 4);
  free(html);
  fixture_free(&r);
}

static void test_many_trades(void **state) {
  (void)state;
  tack_bt_result r;
  make_realistic(&r);
  size_t n = 6000;
  tack_bt_trade *t = calloc(n, sizeof *t);
  assert_non_null(t);
  for (size_t i = 0; i < n; i++) {
    t[i] = r.trades[i % r.n_trades];
    t[i].open = 0;
  }
  free(r.trades);
  r.trades = t;
  r.n_trades = r.cap_trades = n;
  char *html = render(&r, "many");
  assert_well_formed(html);
  assert_has(html, "The first 5,000 of 6,000 trades are listed");
  assert_has(html, "<tr><td>5000</td>");
  assert_lacks(html, "<tr><td>5001</td>");
  free(html);
  fixture_free(&r);
}

static void test_write_errors(void **state) {
  (void)state;
  tack_bt_result r;
  make_realistic(&r);
  FILE *full = fopen("/dev/full", "w");
  if (full) {
    assert_int_equal(tack_report_write(full, &r, "x"), TACK_EIO);
    fclose(full);
  }
  char dir[] = "/tmp/tack-report-XXXXXX";
  assert_non_null(mkdtemp(dir));
  char path[128], tmp[160];
  snprintf(path, sizeof path, "%s/report.html", dir);
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  assert_int_equal(tack_report_write_file(path, &r, "x"), 0);
  struct stat st;
  assert_int_equal(stat(path, &st), 0);
  assert_true(st.st_size > 10000);
  assert_int_equal(stat(tmp, &st), -1);
  /* a folder that does not exist: refused, logged, nothing left behind */
  char bad[160];
  snprintf(bad, sizeof bad, "%s/no/such/report.html", dir);
  assert_int_equal(tack_report_write_file(bad, &r, "x"), TACK_EIO);
  /* the path is a folder: the rename fails, the temporary is removed */
  char sub[160], subtmp[170];
  snprintf(sub, sizeof sub, "%s/taken", dir);
  snprintf(subtmp, sizeof subtmp, "%s.tmp", sub);
  assert_int_equal(mkdir(sub, 0700), 0);
  char inner[200];
  snprintf(inner, sizeof inner, "%s/f", sub);
  FILE *f = fopen(inner, "w");
  assert_non_null(f);
  fclose(f);
  assert_int_equal(tack_report_write_file(sub, &r, "x"), TACK_EIO);
  assert_int_equal(stat(subtmp, &st), -1);
  assert_int_equal(unlink(inner), 0);
  assert_int_equal(rmdir(sub), 0);
  assert_int_equal(unlink(path), 0);
  assert_int_equal(rmdir(dir), 0);
  fixture_free(&r);
}

/* ---- the browser ---- */

static const char *chromium_path(void) {
  const char *env = getenv("CHROMIUM");
  if (env && env[0])
    return env;
  return "/usr/bin/chromium";
}

/* Run argv with stdout and stderr into files, in its own process group;
 * killed after timeout_s. Returns the exit status, or -1. */
static int run(char *const argv[], const char *out_path, const char *err_path, int timeout_s) {
  fflush(stdout); /* else the child's freopen writes our buffered lines again */
  fflush(stderr);
  pid_t pid = fork();
  if (pid < 0)
    return -1;
  if (pid == 0) {
    setpgid(0, 0);
    FILE *o = freopen(out_path, "w", stdout);
    FILE *e = freopen(err_path, "w", stderr);
    if (!o || !e)
      _exit(126);
    execv(argv[0], argv);
    _exit(127);
  }
  struct timespec nap = {0, 50 * 1000 * 1000};
  for (int waited = 0; waited < timeout_s * 20; waited++) {
    int status;
    pid_t got = waitpid(pid, &status, WNOHANG);
    if (got == pid)
      return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (got < 0)
      return -1;
    nanosleep(&nap, NULL);
  }
  fprintf(stderr, "%s did not finish in %d s; killed\n", argv[0], timeout_s);
  kill(-pid, SIGKILL);
  waitpid(pid, NULL, 0);
  return -1;
}

static char *slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  char *buf = NULL;
  size_t len = 0, cap = 0;
  for (;;) {
    if (len + 4096 + 1 > cap) {
      cap = (cap + 4096) * 2;
      char *nb = realloc(buf, cap);
      if (!nb) {
        free(buf);
        fclose(f);
        return NULL;
      }
      buf = nb;
    }
    size_t n = fread(buf + len, 1, 4096, f);
    len += n;
    if (n < 4096)
      break;
  }
  fclose(f);
  buf[len] = '\0';
  return buf;
}

/* Console messages from a page reach Chromium's log (--enable-logging=stderr)
 * as lines like
 *   [pid:tid:date:INFO:CONSOLE:12] "Uncaught ReferenceError: x is not defined", source:
 *   file:///.../report.html (12)
 * whatever their level (console.log, console.error, exceptions, CSP
 * violations). Returns how many such lines log has, printing them. */
static int console_lines(const char *log, int print) {
  int n = 0;
  for (const char *line = log; line && *line;) {
    const char *nl = strchr(line, '\n');
    size_t len = nl ? (size_t)(nl - line) : strlen(line);
    char buf[1024];
    snprintf(buf, sizeof buf, "%.*s", (int)(len < sizeof buf ? len : sizeof buf - 1), line);
    if (strstr(buf, ":CONSOLE") || strstr(buf, "Uncaught") ||
        strstr(buf, "Content Security Policy")) {
      if (print)
        fprintf(stderr, "  console: %s\n", buf);
      n++;
    }
    line = nl ? nl + 1 : NULL;
  }
  return n;
}

/* Screenshot url; returns the console lines seen, or -1 when Chromium
 * failed or wrote no proper PNG. */
static int shoot(const char *dir, const char *url, const char *png, int print) {
  char profile[600], size_arg[64], shot_arg[700], prof_arg[700], out[600], err[600];
  snprintf(profile, sizeof profile, "%s/profile", dir);
  snprintf(prof_arg, sizeof prof_arg, "--user-data-dir=%s", profile);
  snprintf(shot_arg, sizeof shot_arg, "--screenshot=%s", png);
  snprintf(size_arg, sizeof size_arg, "--window-size=1280,2400");
  snprintf(out, sizeof out, "%s/chromium.out", dir);
  snprintf(err, sizeof err, "%s/chromium.err", dir);
  char *argv[] = {(char *)chromium_path(),
                  "--headless=new",
                  "--no-sandbox",
                  "--disable-gpu",
                  "--hide-scrollbars",
                  "--no-first-run",
                  "--enable-logging=stderr",
                  "--v=0",
                  prof_arg,
                  shot_arg,
                  size_arg,
                  (char *)url,
                  NULL};
  unlink(png);
  int rc = run(argv, out, err, 120);
  char *log = slurp(err);
  if (rc != 0) {
    fprintf(stderr, "chromium exited with %d; its log:\n%s\n", rc, log ? log : "(none)");
    free(log);
    return -1;
  }
  struct stat st;
  char *png_data = slurp(png);
  int ok = stat(png, &st) == 0 && st.st_size > 20000 && png_data &&
           memcmp(png_data, "\x89PNG\r\n\x1a\n", 8) == 0;
  free(png_data);
  if (!ok) {
    fprintf(stderr, "chromium wrote no proper screenshot at %s\n", png);
    free(log);
    return -1;
  }
  int n = console_lines(log, print);
  free(log);
  return n;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st;
  (void)flag;
  (void)ftw;
  return remove(path);
}

/* Copy the page at src to dst with a script added at the end of its body. */
static int with_script(const char *src, const char *dst, const char *js) {
  char *page = slurp(src);
  char *body_end = page ? strstr(page, "</body>") : NULL;
  FILE *f = fopen(dst, "w");
  int ok = body_end && f;
  if (ok)
    ok = fprintf(f, "%.*s<script>\n\"use strict\";\n%s\n</script>\n%s", (int)(body_end - page),
                 page, js, body_end) > 0;
  if (f && fclose(f) != 0)
    ok = 0;
  free(page);
  if (!ok)
    fprintf(stderr, "cannot write the test page %s\n", dst);
  return ok ? 0 : -1;
}

/* Moves the mouse over the equity chart, sorts the trades by P&L, and
 * leaves what it saw in the body's data-test attribute. */
static const char driver[] =
    "(function () {\n"
    "  var s = document.querySelector(\"svg[data-src]\"), b = s.getBoundingClientRect();\n"
    "  s.dispatchEvent(new MouseEvent(\"mousemove\", { clientX: b.left + b.width / 2,\n"
    "    clientY: b.top + b.height / 2, bubbles: true }));\n"
    "  var tip = s.parentNode.querySelector(\".tip\");\n"
    "  document.querySelectorAll(\"table.trades th\")[10].click();\n"
    "  var prev = -Infinity, sorted = true;\n"
    "  document.querySelectorAll(\"table.trades tbody tr\").forEach(function (r) {\n"
    "    var v = parseFloat(r.cells[10].textContent.replace(/[,+]/g, \"\"));\n"
    "    if (v < prev) sorted = false;\n"
    "    prev = v;\n"
    "  });\n"
    "  document.body.setAttribute(\"data-test\", (tip.hidden ? \"no tip\" : \"tip:\" +\n"
    "    tip.textContent.replace(/\\n/g, \"|\")) + \";sorted:\" + sorted);\n"
    "})();";

static int browser_test(void) {
  if (access(chromium_path(), X_OK) != 0) {
    printf("SKIP: %s not found: the report is not rendered in a browser (install the Debian "
           "package chromium, or set CHROMIUM)\n",
           chromium_path());
    return 77;
  }
  char dir[] = "/tmp/tack-report-browser-XXXXXX";
  if (!mkdtemp(dir)) {
    perror("mkdtemp");
    return 1;
  }
  int failed = 0;
  char html[600], canary[600], driven[600], png[600], url[700], err[600], out[600];
  snprintf(html, sizeof html, "%s/report.html", dir);
  snprintf(canary, sizeof canary, "%s/canary.html", dir);
  snprintf(driven, sizeof driven, "%s/driven.html", dir);
  snprintf(png, sizeof png, "%s/report.png", dir);
  snprintf(err, sizeof err, "%s/chromium.err", dir);
  snprintf(out, sizeof out, "%s/chromium.out", dir);

  tack_bt_result r;
  make_realistic(&r);
  if (tack_report_write_file(html, &r, "Trend follow, 2023") != 0) {
    fprintf(stderr, "cannot write %s\n", html);
    fixture_free(&r);
    return 1;
  }
  fixture_free(&r);

  /* The canary: the same page with a script that throws. If Chromium's log
   * format changed and the check below saw nothing, this says so. */
  if (with_script(html, canary, "noSuchFunction();") != 0)
    return 1;
  snprintf(url, sizeof url, "file://%s", canary);
  int n = shoot(dir, url, png, 0);
  if (n < 1) {
    fprintf(stderr, "FAIL: the canary page's uncaught error was not seen in Chromium's log "
                    "(the console check would miss errors)\n");
    failed = 1;
  } else {
    printf("ok: the canary's uncaught error was caught in Chromium's log\n");
  }

  snprintf(url, sizeof url, "file://%s", html);
  n = shoot(dir, url, png, 1);
  if (n != 0) {
    fprintf(stderr, "FAIL: the report %s: %s\n", html,
            n < 0 ? "Chromium could not render it" : "the page wrote to the console");
    failed = 1;
  } else {
    struct stat st;
    if (stat(png, &st) == 0)
      printf("ok: rendered without console messages, screenshot %lld bytes\n",
             (long long)st.st_size);
  }

  /* The DOM after the scripts ran, driven: a mouse move over the equity
   * chart shows the read-out, a click on the P&L header sorts the trades. */
  if (with_script(html, driven, driver) != 0)
    return 1;
  snprintf(url, sizeof url, "file://%s", driven);
  char prof_arg[700];
  snprintf(prof_arg, sizeof prof_arg, "--user-data-dir=%s/profile", dir);
  char *argv[] = {(char *)chromium_path(),
                  "--headless=new",
                  "--no-sandbox",
                  "--disable-gpu",
                  "--no-first-run",
                  "--enable-logging=stderr",
                  "--v=0",
                  prof_arg,
                  "--dump-dom",
                  url,
                  NULL};
  int rc = run(argv, out, err, 120);
  char *dom = slurp(out), *log = slurp(err);
  const char *probe = dom ? strstr(dom, "data-test=\"") : NULL;
  if (rc != 0 || !dom || !strstr(dom, "data-ready=\"1\"") ||
      !strstr(dom, "<th class=\"sortable\" tabindex=\"0\">Symbol</th>") || !probe ||
      strncmp(probe, "data-test=\"tip:2023-", 20) != 0 || !strstr(probe, "|") ||
      !strstr(probe, ";sorted:true\"") || !log || console_lines(log, 1) != 0) {
    fprintf(stderr, "FAIL: --dump-dom (exit %d): the scripts did not work: %.*s\n", rc,
            probe ? (int)strcspn(probe + 11, "\"") + 12 : 24,
            probe ? probe : "(no data-test attribute)");
    failed = 1;
  } else {
    printf("ok: the scripts ran: %.*s\n", (int)strcspn(probe + 11, "\"") + 12, probe);
  }
  free(dom);
  free(log);

  if (failed) {
    fprintf(stderr, "the files are left in %s\n", dir);
    return 1;
  }
  nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
  return 0;
}

static int write_sample(const char *path) {
  tack_bt_result r;
  make_realistic(&r);
  int rc = tack_report_write_file(path, &r, "Trend follow, 2023");
  fixture_free(&r);
  return rc == 0 ? 0 : 1;
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "--browser") == 0)
    return browser_test();
  if (argc == 3 && strcmp(argv[1], "--sample") == 0)
    return write_sample(argv[2]);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_realistic),        cmocka_unit_test(test_empty),
      cmocka_unit_test(test_nan_and_infinity), cmocka_unit_test(test_one_point_and_flat),
      cmocka_unit_test(test_hostile_strings),  cmocka_unit_test(test_many_trades),
      cmocka_unit_test(test_write_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
