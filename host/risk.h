/*
 * risk.h: the risk gate every order passes, the exits that protect an open
 * position, and the daily loss limit. Pure bookkeeping on caller-owned
 * structs: the trader feeds it prices, positions, equity and the clock,
 * and acts on its answers (refuse an order, close a position, flatten all).
 *
 * Gate (tack_risk_check_order): in this order, the first rule that fails
 * refuses the order, naming the rule and its numbers in the refusal text:
 *   kill        the operator kill switch is on            (rule "kill_switch")
 *   locked      the day is locked by the loss limit or the
 *               profit target                             ("daily_lock")
 *   rate        more than max_orders_per_minute orders in
 *               the last 60 s (of the clock given)        ("orders_per_minute")
 *   order       |quantity| x price > max_order_notional   ("max_order_notional")
 *   position    |position after the order| x price >
 *               max_position_notional                     ("max_position_notional")
 * An order that only reduces the position (|after| <= |before| and the
 * same sign or zero) passes every rule: flattening must always be possible,
 * also when the position has grown (by several orders, or by the price)
 * past max_order_notional. It still counts toward the rate. 0 disables a
 * limit.
 *
 * Protection (tack_risk_protect_*): take profit, stop loss and a trailing
 * stop, each a fraction of the average entry price (0 disables):
 *   long:  TP at avg x (1 + take_profit), SL at avg x (1 - stop_loss),
 *          trailing stop at peak x (1 - trailing_stop), where peak is the
 *          highest price seen since entry (only once the position is in
 *          profit by trailing_activation, 0 = at once)
 *   short: mirrored.
 * The trail arms when the peak reaches avg x (1 + trailing_activation)
 * (short: avg x (1 - trailing_activation)) and stays armed until the
 * position is set anew from flat or reversed. When the stop loss and an
 * armed trailing stop are both set, the one nearer the price is the stop
 * (the higher for a long); a tie is reported as the stop loss.
 * On a price (a trade tick, live): the first level crossed fires, at the
 * traded price (which may lie past the level: that is what was reachable).
 * On a bar (simulation, or a venue that gives only bars): the bar's range is
 * checked against the levels as they stood before the bar (the peak is moved
 * by the bar's extreme only after the check). When a bar touches both a
 * stop (stop loss or trailing) and the take profit, the stop is taken to
 * have come first: the conservative rule, which never flatters a backtest.
 * The one exception is a bar that opens past a level: its open was the
 * bar's first price, so that level came first, at the open. The exit price
 * reported is the level, or the bar's open when the bar opened beyond it
 * (a gap): the price actually reachable.
 *
 * Daily limit (tack_risk_day_*): the trading day starts at day_start in the
 * configured time zone. Day P&L = equity now - equity at the day's start
 * (realized + unrealized - fees, the ledger's equity). When it falls to
 * -daily_loss_limit (quote; or -daily_loss_fraction x day-start equity) the
 * day locks: the trader flattens everything and refuses new exposure until
 * the next day starts or the operator unlocks. daily_profit_target does the
 * same on the way up (0 disables each). With both loss limits set, the one
 * reached first (the smaller loss) locks. A day that starts with equity
 * <= 0 has nothing left to lose: the fraction limit locks it at once.
 *
 * Time zones: a fixed offset ("UTC", "+05:30") is pure arithmetic. An IANA
 * zone ("Europe/Berlin") is evaluated by the C library: the process-global
 * TZ variable is set to the zone's file, tzset() and localtime_r() read it,
 * and TZ is then restored as it was (a TZ over 4 KiB, which no C library
 * can use, is unset instead; should the C library fail, the fixed offset
 * is used). That happens only when a day boundary is computed
 * (tack_risk_day_start, and tack_risk_day_update once per day), never per
 * order or price. Days start at the first instant the local
 * clock shows day_start on each date: when a DST change skips that time
 * the day starts at the change, when it repeats it, at the first showing;
 * so a day is 23, 24 or 25 hours long.
 *
 * Threads: the gate, protection and checks: any; each struct belongs to one
 * caller. No allocation (but the C library's own in setenv() and tzset()
 * when an IANA zone is evaluated). The day functions with an IANA zone
 * touch the process environment: call them from one thread (the host's
 * loop) while no other thread reads TZ or converts local times.
 */
#ifndef TACK_RISK_H
#define TACK_RISK_H

#include <stddef.h>
#include <stdint.h>

#include "tack.h"

#define TACK_RISK_RULE_MAX 32
#define TACK_RISK_WHY_MAX 192
#define TACK_RISK_ZONE_MAX 64

/* Limits on orders and positions; per symbol (a global value applies where
 * a symbol sets none). 0 disables each. */
typedef struct tack_risk_limits {
  double max_order_notional;    /* quote */
  double max_position_notional; /* quote */
  uint32_t max_orders_per_minute;
} tack_risk_limits;

/* Exits, as fractions of the average entry price. 0 disables each. */
typedef struct tack_risk_exits {
  double take_profit;         /* 0.05 = +5% */
  double stop_loss;           /* 0.02 = -2% */
  double trailing_stop;       /* 0.03 = 3% from the peak */
  double trailing_activation; /* profit (fraction) before the trail arms */
} tack_risk_exits;

/* Checks ranges: every field finite and >= 0, stop_loss < 1 and
 * trailing_stop < 1 (a long's stop must stay above 0), and
 * max_orders_per_minute <= TACK_RISK_RATE_SLOTS (what the rate ring can
 * hold). TACK_EINVAL with the field name in *field. */
int tack_risk_limits_check(const tack_risk_limits *l, const char **field);
int tack_risk_exits_check(const tack_risk_exits *e, const char **field);

/* The answer of a check. */
typedef struct tack_risk_refusal {
  char rule[TACK_RISK_RULE_MAX]; /* "max_order_notional", ... */
  char why[TACK_RISK_WHY_MAX];   /* "order 0.5 BTC-USD x 64000 = 32000 > 25000" */
} tack_risk_refusal;

/* Orders sent in the last minute, for the rate rule: a ring of times,
 * oldest at head. Zero it to start. */
#define TACK_RISK_RATE_SLOTS 256
typedef struct tack_risk_rate {
  tack_time sent[TACK_RISK_RATE_SLOTS];
  uint32_t head;
  uint32_t count;
} tack_risk_rate;

/* Account-wide switches the gate reads. */
typedef struct tack_risk_switches {
  int kill;   /* operator kill switch */
  int locked; /* the day is locked (tack_risk_day) */
} tack_risk_switches;

/* One order as the gate sees it. */
typedef struct tack_risk_order {
  const char *symbol;
  double quantity; /* signed: + buy, - sell; size units */
  double price;    /* the price to value it at (limit, or last) */
  double position; /* the symbol's position before the order, signed */
  tack_time now;
} tack_risk_order;

/* 0 when the order may go (and it is counted in rate), TACK_EPERM with *out
 * filled when a rule refuses it (not counted). TACK_EINVAL for non-finite
 * numbers, a quantity of 0, a price <= 0, a NULL symbol or limits that fail
 * tack_risk_limits_check (nothing counted). An order is counted once at
 * now: the rule counts orders sent at times t with now - 60 s < t, so an
 * order sent 60 s ago no longer counts. */
int tack_risk_check_order(const tack_risk_limits *lim, const tack_risk_switches *sw,
                          tack_risk_rate *rate, const tack_risk_order *ord, tack_risk_refusal *out);

/* True when the order only reduces |position| (see the gate above): a
 * non-zero quantity against a non-zero position, at most as large. */
int tack_risk_is_reducing(double position, double quantity);

/* Protection state of one position. */
typedef struct tack_risk_protect {
  double quantity;  /* signed; 0 when flat (nothing to protect) */
  double avg_price; /* average entry */
  double peak;      /* best price since entry: high for a long, low for a short */
  int armed;        /* trailing stop active */
} tack_risk_protect;

#define TACK_RISK_EXIT_NONE 0u
#define TACK_RISK_EXIT_TAKE_PROFIT 1u
#define TACK_RISK_EXIT_STOP_LOSS 2u
#define TACK_RISK_EXIT_TRAILING 3u

typedef struct tack_risk_exit {
  uint32_t kind; /* TACK_RISK_EXIT_* */
  double level;  /* the level that was crossed */
  double price;  /* reachable exit price (level, or the open past a gap) */
  char why[TACK_RISK_WHY_MAX];
} tack_risk_exit;

/* (Re)start protecting a position: when quantity changes sign or from flat
 * the peak restarts at avg_price and the trail disarms; when it only grows
 * or shrinks in the same direction the peak is kept. A quantity of 0, or
 * numbers that are not finite (avg_price > 0), leave it flat. */
void tack_risk_protect_set(tack_risk_protect *p, double quantity, double avg_price);

/* A traded price. Returns 1 and *out when an exit fires, else 0 (and moves
 * the peak). TACK_EINVAL for a price that is not finite and > 0 or exits
 * that fail tack_risk_exits_check (nothing changed). A flat p returns 0. */
int tack_risk_protect_price(tack_risk_protect *p, const tack_risk_exits *e, double price,
                            tack_risk_exit *out);

/* A closed bar (open, high, low, close), by the conservative rule above.
 * Returns like tack_risk_protect_price; TACK_EINVAL also for a bar whose
 * prices are not finite and > 0 or whose low and high do not enclose open
 * and close. */
int tack_risk_protect_bar(tack_risk_protect *p, const tack_risk_exits *e, const tack_bar *bar,
                          tack_risk_exit *out);

/* The trading day. */
typedef struct tack_risk_day_policy {
  double daily_loss_limit;       /* quote, > 0 enables */
  double daily_loss_fraction;    /* of day-start equity, > 0 enables */
  double daily_profit_target;    /* quote, > 0 enables */
  int32_t utc_offset_minutes;    /* fixed offset of the zone, when zone is "" */
  int32_t day_start_minutes;     /* minutes after local midnight, [0, 1440) */
  char zone[TACK_RISK_ZONE_MAX]; /* IANA zone ("Europe/Berlin"); "" = fixed offset */
} tack_risk_day_policy;

/* Parses "UTC", "+05:30", "-04:00" (offsets from -14:00 to +14:00) or an
 * IANA name (letters, digits, '/', '_', '+', '-'; a TZif file below
 * /usr/share/zoneinfo) into p->zone / p->utc_offset_minutes, and "HH:MM"
 * (00:00 to 23:59) into day_start_minutes. TACK_EINVAL with a reason in
 * why (naming the text and what to write instead); p is then unchanged.
 * Neither touches TZ. */
int tack_risk_day_parse_zone(tack_risk_day_policy *p, const char *zone, char *why, size_t cap);
int tack_risk_day_parse_start(tack_risk_day_policy *p, const char *hhmm, char *why, size_t cap);

/* Checks a policy built by hand: the three amounts finite and >= 0,
 * daily_loss_fraction <= 1, the offset within +-14:00, day_start_minutes
 * in [0, 1440), zone NUL-terminated. TACK_EINVAL with the field name in
 * *field. */
int tack_risk_day_check(const tack_risk_day_policy *p, const char **field);

/* Start (ns since the epoch, UTC) of the trading day containing t; t
 * itself for a policy that fails tack_risk_day_check. */
tack_time tack_risk_day_start(const tack_risk_day_policy *p, tack_time t);

#define TACK_RISK_DAY_OPEN 0u
#define TACK_RISK_DAY_LOSS 1u     /* locked by the loss limit */
#define TACK_RISK_DAY_PROFIT 2u   /* locked by the profit target */
#define TACK_RISK_DAY_OPERATOR 3u /* locked by hand */

/* Zero it to start. */
typedef struct tack_risk_day {
  tack_time day_start;      /* of the current day, 0 before the first update */
  double start_equity;      /* equity when the day started (or was unlocked) */
  double pnl;               /* equity - start_equity, at the last update */
  uint32_t lock;            /* TACK_RISK_DAY_* */
  tack_time locked_at;      /* when lock was set; 0 when open */
  int unlocked_by_operator; /* the operator lifted a lock today; the limits
                               then measure from the unlock point */
  tack_time next_start;     /* start of the next day: updates before it need
                               no zone work */
} tack_risk_day;

/* Feed the equity at time now. Starts a new day when now reaches
 * next_start (unlocking a LOSS, PROFIT or OPERATOR lock, resetting
 * start_equity to equity); the first update starts the first day and keeps
 * a lock set before it (an operator lock at start-up holds). A clock that
 * goes back stays in the current day. Then, when the day is open, checks
 * the limits. Returns 1 when this update locks the day (the caller
 * flattens everything), else 0; *why says what was reached ("" for 0).
 * TACK_EINVAL for a non-finite equity or a policy that fails
 * tack_risk_day_check (d unchanged). */
int tack_risk_day_update(tack_risk_day *d, const tack_risk_day_policy *p, tack_time now,
                         double equity, char *why, size_t cap);

/* Operator: lock now (TACK_RISK_DAY_OPERATOR; a day already locked keeps
 * its kind and time), or lift today's lock: the rest of the day is then
 * measured from equity, so the limit applies afresh from the unlock point
 * (unlocking an open day changes nothing; a non-finite equity keeps the
 * old measure). */
void tack_risk_day_lock(tack_risk_day *d, tack_time now);
void tack_risk_day_unlock(tack_risk_day *d, double equity);

#endif
