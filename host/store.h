/*
 * store.h: the host's persistent storage, one LMDB environment per store path.
 *
 * The store path is a folder (created with mode 0700 when missing) holding
 * LMDB's data.mdb and lock.mdb. It has named databases:
 *   meta  host facts; "schema_version" is a u32, little-endian, written when
 *         the store is created and checked on every open
 *   kv    plugin key-value storage; key = bot '\0' section '\0' instance
 *         '\0' userkey, so that two bots or two instances never share a key
 * Later schema versions add databases (candles, journal, orders); a store
 * written by a newer tack is refused rather than misread.
 *
 * One loop thread uses a store; no function here is thread-safe. Every write
 * is its own committed transaction: durable when the call returns. Errors are
 * TACK_E* codes; LMDB's own text goes to the log, naming the store path.
 */
#ifndef TACK_STORE_H
#define TACK_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "tack.h"

/* The schema this host writes and reads. */
#define TACK_STORE_SCHEMA_VERSION 1u

/* Map size when the caller passes 0: the most the store can grow to. LMDB
 * reserves address space, not disk, so a generous bound costs nothing. */
#define TACK_STORE_MAP_SIZE_DEFAULT ((size_t)1 << 30)

typedef struct tack_store tack_store;

/* Who owns a key: the kv database is namespaced by these three. */
typedef struct tack_store_ns {
  const char *bot;      /* the config's bot name */
  const char *section;  /* the instance's config section, "strategies" */
  const char *instance; /* the instance name */
} tack_store_ns;

/*
 * Open (creating when missing) the store in folder path. map_size 0 means
 * TACK_STORE_MAP_SIZE_DEFAULT. Returns 0 and *out, or:
 *   TACK_EIO      the folder or environment cannot be created or opened
 *   TACK_EPERM    no permission on the folder
 *   TACK_ENOTSUP  the store was written by a newer schema version
 *   TACK_EPARSE   the schema version record is malformed
 * Each failure is logged with the path and the reason.
 */
int tack_store_open(const char *path, size_t map_size, tack_store **out);

/* Close the environment; st may be NULL. Every write has already been
 * committed, so nothing is lost. */
void tack_store_close(tack_store *st);

/* The folder the store lives in, as given to tack_store_open(). */
const char *tack_store_path(const tack_store *st);

/*
 * Read the value of key (klen bytes, at least 1) in ns. Copies at most cap
 * bytes into buf (buf may be NULL when cap is 0) and sets *len to the full
 * length. Returns 0, TACK_ENOENT when absent, TACK_ENOSPC when cap was too
 * small (buf then holds the first cap bytes), TACK_ERANGE when the
 * namespaced key is longer than LMDB allows (511 bytes in all).
 */
int tack_store_kv_get(tack_store *st, const tack_store_ns *ns, const void *key, size_t klen,
                      void *buf, size_t cap, size_t *len);

/* Write key = val (vlen may be 0), replacing any old value. TACK_ENOSPC when
 * the map is full (the message says how to grow it), TACK_ERANGE for a key
 * that is too long. */
int tack_store_kv_put(tack_store *st, const tack_store_ns *ns, const void *key, size_t klen,
                      const void *val, size_t vlen);

/* Delete key. TACK_ENOENT when it was absent. */
int tack_store_kv_del(tack_store *st, const tack_store_ns *ns, const void *key, size_t klen);

/* The longest namespaced key LMDB accepts (bot, section, instance, three
 * separators and the user key together). */
size_t tack_store_max_key(const tack_store *st);

#endif
