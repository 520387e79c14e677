/*
 * ledger.h: the host's exact account of what was traded. Per symbol it keeps
 * the position, the cost of the open position (from which the average entry
 * price follows exactly), realized P&L, fees and the latest mark; for the
 * whole account it keeps cash. It reconciles exactly, in integers:
 *
 *   starting equity + realized + unrealized - fees == cash + sum(position x mark)
 *
 * Numbers
 * -------
 * A position is a signed count of lots and a price a count of ticks (both read
 * by rounding.h). Money is a tack_money: a 128-bit count of 10^-18 of the
 * quote currency. A fill of n lots at p ticks moves n x p x unit of money,
 * where unit = lot x tick x contract_size expressed in 10^-18 quote; an
 * instrument whose unit needs more than 18 decimals is refused. Every sum and
 * product is checked for overflow (TACK_ERANGE, ledger unchanged).
 *
 * Average entry price: the ledger keeps cost, the signed money paid for the
 * open lots (negative for a short: money received). The average entry price
 * is the exact rational cost / (lots x lot x contract_size). Closing k of n
 * lots moves round(cost x k / n) (nearest, ties away from zero) out of cost
 * and into realized; the rounding remainder, under 10^-18 quote, stays with
 * the lots still open, so no money is created or lost and the identity holds
 * exactly whatever the rounding.
 *
 * Scope for now: one quote currency per ledger (the one given at creation);
 * a fill on an instrument quoted in another currency is refused (TACK_EINVAL),
 * a fee in a currency other than the quote is refused (TACK_ENOTSUP; an empty
 * fee_currency means the quote), and inverse instruments, whose P&L is not
 * linear in price, are refused (TACK_ENOTSUP). A refused call changes nothing
 * and tack_ledger_error() says why.
 *
 * Threads: a ledger belongs to one thread (the event loop); it has no locks.
 */
#ifndef TACK_LEDGER_H
#define TACK_LEDGER_H

#include <stddef.h>
#include <stdint.h>

#include "rounding.h"
#include "tack.h"

/* Money: a count of 10^-TACK_LEDGER_SCALE of the quote currency. */
#define TACK_LEDGER_SCALE 18
typedef tack_wide tack_money;

typedef struct tack_ledger tack_ledger;

/* A snapshot of one symbol. unrealized = lots x mark x unit - cost. */
typedef struct tack_ledger_symbol {
  int64_t lots;       /* signed: negative is short */
  int64_t mark_ticks; /* the latest of tack_ledger_mark() and fill prices */
  tack_money unit;    /* money of one lot moving by one tick */
  tack_money cost;    /* signed cost of the open lots; 0 when flat */
  tack_money realized;
  tack_money unrealized;
  tack_money fees;
  uint64_t fills;
  tack_rounding grid;
} tack_ledger_symbol;

/* The whole account. equity = cash + positions. */
typedef struct tack_ledger_totals {
  tack_money starting;
  tack_money cash;
  tack_money positions; /* sum of lots x mark x unit */
  tack_money equity;
  tack_money realized;
  tack_money unrealized;
  tack_money fees;
} tack_ledger_totals;

/* A new ledger in quote currency quote (copied) holding starting_equity in
 * cash (read as its shortest decimal). TACK_EINVAL for an empty or too long
 * quote, TACK_ERANGE for an amount with more than 18 decimals or too large,
 * TACK_ENOMEM. Free with tack_ledger_free(). */
int tack_ledger_new(const char *quote, double starting_equity, tack_ledger **out);
void tack_ledger_free(tack_ledger *l);

/* Books one execution. instr describes fill->symbol; a symbol's increments
 * may not change between fills (TACK_EINVAL). The fill's price and quantity
 * must lie on the instrument's grid (within rounding.h's snap): a venue
 * reports what it executed, and the ledger does not guess (TACK_EINVAL). A
 * fill that crosses zero (long 2, sell 5) is booked as a close of 2 and an
 * open of 3 short. TACK_EPERM when the fill would leave a short position on
 * an instrument without TACK_INSTR_CAN_SHORT. Other refusals are listed at
 * the top of this file. The fill's price becomes the symbol's mark: it is
 * the latest price known to have traded. */
int tack_ledger_apply_fill(tack_ledger *l, const tack_instrument *instr, const tack_fill *fill);

/* Money in (amount > 0) or out (< 0) of the account from outside trading:
 * the starting equity and cash both move by it, so the identity still
 * holds. TACK_ERANGE for more than 18 decimals or an overflow. */
int tack_ledger_deposit(tack_ledger *l, double amount);

/* A position that arrived from outside (found at the venue on restart and
 * adopted): booked like a fill without fee, except that cash does not pay
 * for it; its value at the fill price is added to the starting equity
 * instead. TACK_EINVAL for a fee other than 0; otherwise as
 * tack_ledger_apply_fill(). */
int tack_ledger_adopt(tack_ledger *l, const tack_instrument *instr, const tack_fill *fill);

/* Sets the mark of a symbol already filled (TACK_ENOENT otherwise), rounded
 * to the nearest tick. */
int tack_ledger_mark(tack_ledger *l, const char *symbol, double price);

/* Why the last refused call was refused; "" after a successful one. Valid
 * until the next call on l. */
const char *tack_ledger_error(const tack_ledger *l);

/* Snapshot of symbol; TACK_ENOENT when it has never been filled. */
int tack_ledger_get_symbol(const tack_ledger *l, const char *symbol, tack_ledger_symbol *out);

/* The SDK's view of symbol, in doubles (nearest to the exact values);
 * realized_pnl is before fees. TACK_ENOENT when never filled. */
int tack_ledger_position(const tack_ledger *l, const char *symbol, tack_position *out);

/* The position of symbol in size units and its average entry price (0 when
 * flat), exactly as tack_ledger_position() gives them, but from doubles kept
 * with every fill: cheap enough for every bar. avg_price may be NULL.
 * TACK_ENOENT (and 0) when symbol was never filled. */
int tack_ledger_quantity(const tack_ledger *l, const char *symbol, double *quantity,
                         double *avg_price);

/* The equity of tack_ledger_get_totals() alone: cash + sum of lots x mark x
 * unit. The sum is kept up to date by every fill and mark, so this costs
 * the same however many symbols there are. TACK_ERANGE if it overflows. */
int tack_ledger_equity(const tack_ledger *l, tack_money *out);

/* Totals over every symbol. TACK_ERANGE if a sum overflows. */
int tack_ledger_get_totals(const tack_ledger *l, tack_ledger_totals *out);

/* Recomputes both sides of the identity from the per-symbol records and
 * cash. 0 when they are equal; otherwise TACK_ERANGE, with why (cap bytes,
 * may be NULL when cap is 0) naming both sides and their difference. */
int tack_ledger_check(const tack_ledger *l, char *why, size_t cap);

/* Money as exact decimal text without trailing zeros ("-12.5", "0"); returns
 * as tack_decimal_format(). */
int tack_money_format(tack_money m, char *buf, size_t cap);

/* The double nearest to m (ties to even, as strtod of its exact text),
 * computed without text. */
double tack_money_double(tack_money m);

#endif
