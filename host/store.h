/*
 * store.h: the host's persistent storage, one LMDB environment per store path.
 *
 * The store path is a folder (created with mode 0700 when missing) holding
 * LMDB's data.mdb and lock.mdb. It has named databases:
 *   meta  host facts; "schema_version" is a u32, little-endian, written when
 *         the store is created and checked on every open
 *   kv    plugin key-value storage; key = bot '\0' section '\0' instance
 *         '\0' userkey, so that two bots or two instances never share a key
 * Host modules add databases of their own, each with a layout version record
 * in meta that the module checks (candles.h: "candles", "candles_layout").
 * A new database does not change the schema version: an older tack ignores
 * databases it does not know. Changing the format of an existing database
 * does; a store written by a newer tack is refused rather than misread.
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

/* mkdir -p: each folder of path created when missing, with mode 0700 (a
 * store, a model: state that is nobody else's business). Returns 0,
 * TACK_EPERM, TACK_EIO (logged, naming the folder) or TACK_EINVAL. */
int tack_make_dirs(const char *path);

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

/*
 * For host modules that keep their own databases in the store (candles.c).
 * These hand LMDB to the host's own code only; plugins reach the store
 * through tack_host and never see LMDB.
 */
struct MDB_env;

/* The LMDB environment, valid until tack_store_close(). It is opened with
 * MDB_NOTLS (a read transaction is not tied to a thread, and one thread may
 * hold several) and commits are durable (fsync'd). A module opens its named
 * databases itself; the environment allows 16 in all. */
struct MDB_env *tack_store_env(tack_store *st);

/* The meta database's handle (an MDB_dbi), where a module keeps the layout
 * version record of its databases. */
unsigned int tack_store_meta_dbi(const tack_store *st);

/* A host module's own database and the layout version of its records. The
 * version lives in meta under "<name>_layout" (a u32, little-endian). */
typedef struct tack_store_db {
  const char *name;   /* the named database: "candles", "trading" */
  unsigned flags;     /* LMDB flags it is opened with (MDB_DUPSORT, ...), not MDB_CREATE */
  uint32_t layout;    /* the one layout this tack writes and reads, >= 1 */
  const char *who;    /* the log tag of the module */
  const char *advice; /* what to do when the store holds another layout */
} tack_store_db;

/*
 * Open db: read-only first (a store that has it needs no write lock, so a
 * reader never waits behind a writer in another process), else create the
 * database and its layout record in one transaction. *dbi stays valid for
 * the store's life. Returns 0, TACK_ENOTSUP for another layout, TACK_EPARSE
 * for a damaged record (or a database without one), or the store's code;
 * each is logged with the store path.
 */
int tack_store_open_db(tack_store *st, const tack_store_db *db, unsigned int *dbi);

/* An LMDB return code (or an errno value LMDB passed through) as a TACK_E*
 * code: MDB_NOTFOUND is TACK_ENOENT, a full map TACK_ENOSPC, and so on. */
int tack_store_error(int mdb_rc);

#endif
