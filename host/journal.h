/*
 * journal.h: the trading state of a bot in the store (LMDB), written ahead of
 * every action it records, so that a restart after a crash (kill -9 at any
 * moment) finds every order and every fill.
 *
 * One named database "trading" in the store's environment, its layout
 * version in meta ("trading_layout" = 1; a newer one is refused). Keys start
 * with the bot name and a NUL, so several bots (configs) share a store
 * without seeing each other's records:
 *
 *   bot \0 'o' \0 account \0 client_id  -> order record (tack_order)
 *   bot \0 'f' \0 account \0 seq (u64 BE) -> fill record (tack_fill + order id)
 *   bot \0 't' \0 account \0 trade_id   -> seq (u64 BE): the dedup index
 *   bot \0 'n' \0 account               -> next order sequence (u64)
 *   bot \0 'F' \0 account               -> next fill sequence (u64)
 *   bot \0 's' \0 name                  -> a state blob (bot-wide)
 *
 * account names the exchange instance (its config name). Records are
 * encoded field by field, little-endian, with a record version first, never
 * as raw structs. A record that does not decode is reported (TACK_EPARSE,
 * naming the key) rather than skipped.
 *
 * Values: the sequences are u64 little-endian; order and fill records are
 * a u32 record version (TACK_JOURNAL_RECORD_VERSION) and then the fields
 * in the order of their struct, integers little-endian, doubles as their
 * IEEE-754 bits little-endian, text as its bytes and a NUL.
 *
 * Atomicity: each call is one committed (fsync'd) transaction. A fill is
 * written together with its order record, the dedup index and the next
 * fill sequence, so after a crash either all of it is there or none. Fill
 * sequences start at 1 and have no gaps.
 *
 * Threads: the loop thread, like the store.
 */
#ifndef TACK_JOURNAL_H
#define TACK_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "orders.h"
#include "store.h"
#include "tack.h"

#define TACK_JOURNAL_LAYOUT 1u
#define TACK_JOURNAL_RECORD_VERSION 1u

/* The largest encoded records. */
#define TACK_JOURNAL_ORDER_MAX 512
#define TACK_JOURNAL_FILL_MAX 320

typedef struct tack_journal tack_journal;

/* Open (creating the database when missing) for bot. TACK_ENOTSUP for a
 * newer layout, the store's codes otherwise; logged with the store path. */
int tack_journal_open(tack_store *st, const char *bot, tack_journal **out);
void tack_journal_close(tack_journal *j);

/* Write (insert or replace) an order record and the account's next order
 * sequence, together. */
int tack_journal_put_order(tack_journal *j, const char *account, const tack_order *o,
                           uint64_t next_seq);

/* Append a fill: stored under the next fill sequence (returned in *seq),
 * indexed by trade id, together with order (may be NULL for an external
 * fill) in the same transaction. TACK_EEXIST (nothing written) when the
 * trade id is already there. */
int tack_journal_put_fill(tack_journal *j, const char *account, const tack_fill *f,
                          const tack_order *order, uint64_t *seq);

/* 1 when the trade id is booked, 0 when not, or a TACK_E* code. */
int tack_journal_has_fill(tack_journal *j, const char *account, const char *trade_id);

/* Next order sequence of account (1 when none was written). */
int tack_journal_next_seq(tack_journal *j, const char *account, uint64_t *out);

/* Visit every order of account (client id order), every fill in sequence
 * order. A non-zero return from cb stops the walk and is returned. */
typedef int (*tack_journal_order_cb)(void *user, const tack_order *o);
typedef int (*tack_journal_fill_cb)(void *user, uint64_t seq, const tack_fill *f);
int tack_journal_each_order(tack_journal *j, const char *account, tack_journal_order_cb cb,
                            void *user);
int tack_journal_each_fill(tack_journal *j, const char *account, tack_journal_fill_cb cb,
                           void *user);

/* Remove final orders updated before `before` (they stay summarized by
 * their fills). An order that a live order links to stays (an exit's entry,
 * the stop a live order was triggered by). Returns how many went, or a
 * TACK_E* code. */
int tack_journal_prune_orders(tack_journal *j, const char *account, tack_time before);

/* Bot-wide state blobs (the trader's own records: starting equity, day
 * lock, kill switch, per-symbol sizing state, ...). get copies at most cap
 * bytes and sets *len (TACK_ENOSPC when cap was too small, TACK_ENOENT when
 * absent). */
int tack_journal_put_state(tack_journal *j, const char *name, const void *val, size_t len);
int tack_journal_get_state(tack_journal *j, const char *name, void *buf, size_t cap, size_t *len);

/* Encoding, exposed for the tests and the fuzzer: encode into buf (cap
 * bytes), returning the length or TACK_ENOSPC, or TACK_EINVAL for a record
 * that would not decode (a text field without its NUL, a non-finite
 * number); decode returns 0 or TACK_EPARSE for anything malformed (wrong
 * version, short, long, a text field without its NUL, a non-finite
 * number). encode_fill stores client_id (the order the fill was booked to;
 * NULL: f->client_id) as the fill's client id. */
int tack_journal_encode_order(const tack_order *o, unsigned char *buf, size_t cap);
int tack_journal_decode_order(const unsigned char *buf, size_t len, tack_order *out);
int tack_journal_encode_fill(const tack_fill *f, const char *client_id, unsigned char *buf,
                             size_t cap);
int tack_journal_decode_fill(const unsigned char *buf, size_t len, tack_fill *out);

#endif
