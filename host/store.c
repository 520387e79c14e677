/*
 * store.c: the LMDB environment behind tack_store; see store.h.
 *
 * One read transaction is kept and reset/renewed between reads (MDB_NOTLS),
 * so that a kv_get costs no allocation; writes use LMDB's preallocated
 * top-level write transaction, committed before returning.
 */
#include "store.h"

#include <errno.h>
#include <stdio.h>
#include <lmdb.h>
#include <string.h>
#include <sys/stat.h>

#include "alloc.h"
#include "log.h"

#define STORE_MAX_DBS 16
#define STORE_KEY_MAX 511 /* LMDB's compile-time default; checked at open */

struct tack_store {
  MDB_env *env;
  MDB_dbi meta;
  MDB_dbi kv;
  MDB_txn *rtxn; /* reset between reads; NULL until the first read */
  size_t max_key;
  size_t map_size;
  char *path;
};

static const char schema_key[] = "schema_version";

/* LMDB's codes (and the errno values it passes through) as TACK_E* codes. */
static int map_mdb_error(int rc) {
  switch (rc) {
  case 0:
    return 0;
  case MDB_NOTFOUND:
    return TACK_ENOENT;
  case MDB_MAP_FULL:
  case MDB_TXN_FULL:
  case MDB_PAGE_FULL:
    return TACK_ENOSPC;
  case MDB_BAD_VALSIZE:
    return TACK_ERANGE;
  case MDB_DBS_FULL:
  case MDB_READERS_FULL:
    return TACK_EBUSY;
  case MDB_VERSION_MISMATCH:
    return TACK_ENOTSUP;
  case ENOMEM:
    return TACK_ENOMEM;
  case EACCES:
  case EPERM:
    return TACK_EPERM;
  case ENOSPC:
    return TACK_ENOSPC;
  default:
    return TACK_EIO;
  }
}

int tack_make_dirs(const char *path) {
  char buf[4096];
  size_t n = strlen(path);
  if (n == 0 || n >= sizeof buf)
    return TACK_EINVAL;
  memcpy(buf, path, n + 1);
  for (size_t i = 1; i <= n; i++) {
    if (buf[i] != '/' && buf[i] != '\0')
      continue;
    char saved = buf[i];
    buf[i] = '\0';
    if (mkdir(buf, 0700) != 0 && errno != EEXIST) {
      int err = errno;
      tack_log(TACK_LOG_ERROR, NULL, "cannot create folder %s: %s", buf, strerror(err));
      return err == EACCES || err == EPERM ? TACK_EPERM : TACK_EIO;
    }
    buf[i] = saved;
  }
  struct stat st;
  if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
    tack_log(TACK_LOG_ERROR, NULL, "%s is not a folder", path);
    return TACK_EIO;
  }
  return 0;
}

/* Read, create or check the schema version inside the write transaction
 * that opens the databases, so that a refused store is left untouched. */
static int open_dbs(tack_store *st, MDB_txn *txn) {
  int rc = mdb_dbi_open(txn, "meta", 0, &st->meta);
  int fresh = rc == MDB_NOTFOUND;
  if (fresh)
    rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &st->meta);
  if (rc != 0) {
    tack_log(TACK_LOG_ERROR, "store", "%s: cannot open the meta database: %s", st->path,
             mdb_strerror(rc));
    return map_mdb_error(rc);
  }

  MDB_val k = {sizeof schema_key - 1, (void *)schema_key};
  MDB_val v;
  rc = fresh ? MDB_NOTFOUND : mdb_get(txn, st->meta, &k, &v);
  if (rc == MDB_NOTFOUND) {
    unsigned char le[4];
    uint32_t ver = TACK_STORE_SCHEMA_VERSION;
    for (int i = 0; i < 4; i++)
      le[i] = (unsigned char)(ver >> (8 * i));
    v.mv_size = sizeof le;
    v.mv_data = le;
    rc = mdb_put(txn, st->meta, &k, &v, 0);
  } else if (rc == 0) {
    if (v.mv_size != 4) {
      tack_log(TACK_LOG_ERROR, "store",
               "%s: schema_version record is %zu bytes, not 4: the store is damaged or not a "
               "tack store",
               st->path, v.mv_size);
      return TACK_EPARSE;
    }
    const unsigned char *p = v.mv_data;
    uint32_t ver =
        (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    if (ver > TACK_STORE_SCHEMA_VERSION) {
      tack_log(TACK_LOG_ERROR, "store",
               "%s: store schema version %u is newer than this tack understands (%u): run a "
               "newer tack, or point the config at another store path",
               st->path, (unsigned)ver, TACK_STORE_SCHEMA_VERSION);
      return TACK_ENOTSUP;
    }
    if (ver == 0) {
      tack_log(TACK_LOG_ERROR, "store", "%s: store schema version 0 is not valid", st->path);
      return TACK_EPARSE;
    }
  }
  if (rc != 0) {
    tack_log(TACK_LOG_ERROR, "store", "%s: cannot read or write the schema version: %s", st->path,
             mdb_strerror(rc));
    return map_mdb_error(rc);
  }

  rc = mdb_dbi_open(txn, "kv", MDB_CREATE, &st->kv);
  if (rc != 0) {
    tack_log(TACK_LOG_ERROR, "store", "%s: cannot open the kv database: %s", st->path,
             mdb_strerror(rc));
    return map_mdb_error(rc);
  }
  return 0;
}

int tack_store_open(const char *path, size_t map_size, tack_store **out) {
  int rc;
  MDB_txn *txn = NULL;
  tack_store *st = NULL;
  *out = NULL;

  if (!path || !*path)
    return TACK_EINVAL;
  if ((rc = tack_make_dirs(path)) != 0)
    return rc;

  st = tack_calloc(NULL, 1, sizeof *st);
  if (!st)
    return TACK_ENOMEM;
  st->path = tack_strdup(NULL, path);
  if (!st->path) {
    rc = TACK_ENOMEM;
    goto fail;
  }
  st->map_size = map_size ? map_size : TACK_STORE_MAP_SIZE_DEFAULT;

  int mrc = mdb_env_create(&st->env);
  if (mrc == 0)
    mrc = mdb_env_set_maxdbs(st->env, STORE_MAX_DBS);
  if (mrc == 0)
    mrc = mdb_env_set_mapsize(st->env, st->map_size);
  if (mrc == 0)
    mrc = mdb_env_open(st->env, path, MDB_NOTLS, 0600);
  if (mrc == 0)
    mrc = mdb_txn_begin(st->env, NULL, 0, &txn);
  if (mrc != 0) {
    tack_log(TACK_LOG_ERROR, "store", "%s: cannot open the LMDB environment: %s", path,
             mdb_strerror(mrc));
    rc = map_mdb_error(mrc);
    goto fail;
  }
  if ((rc = open_dbs(st, txn)) != 0)
    goto fail;
  mrc = mdb_txn_commit(txn);
  txn = NULL;
  if (mrc != 0) {
    tack_log(TACK_LOG_ERROR, "store", "%s: cannot commit the schema: %s", path, mdb_strerror(mrc));
    rc = map_mdb_error(mrc);
    goto fail;
  }
  st->max_key = (size_t)mdb_env_get_maxkeysize(st->env);
  if (st->max_key > STORE_KEY_MAX)
    st->max_key = STORE_KEY_MAX;
  *out = st;
  return 0;

fail:
  if (txn)
    mdb_txn_abort(txn);
  if (st->env)
    mdb_env_close(st->env);
  tack_free(NULL, st->path);
  tack_free(NULL, st);
  return rc;
}

void tack_store_close(tack_store *st) {
  if (!st)
    return;
  if (st->rtxn)
    mdb_txn_abort(st->rtxn);
  mdb_env_close(st->env);
  tack_free(NULL, st->path);
  tack_free(NULL, st);
}

const char *tack_store_path(const tack_store *st) { return st->path; }

size_t tack_store_max_key(const tack_store *st) { return st->max_key; }

MDB_env *tack_store_env(tack_store *st) { return st->env; }

unsigned int tack_store_meta_dbi(const tack_store *st) { return st->meta; }

int tack_store_error(int mdb_rc) { return map_mdb_error(mdb_rc); }

/* Appends one part and its separator; returns the new length or 0 when the
 * key no longer fits. */
static size_t key_append(char *buf, size_t at, size_t max, const void *part, size_t n,
                         int separator) {
  if (n > max || at > max - n || (separator && at + n == max))
    return 0;
  memcpy(buf + at, part, n);
  at += n;
  if (separator)
    buf[at++] = '\0';
  return at;
}

/* Builds the namespaced key in buf (STORE_KEY_MAX bytes). */
static int make_key(const tack_store *st, const tack_store_ns *ns, const void *key, size_t klen,
                    char *buf, MDB_val *out) {
  if (!ns || !ns->bot || !ns->section || !ns->instance || !key || klen == 0)
    return TACK_EINVAL;
  size_t n = key_append(buf, 0, st->max_key, ns->bot, strlen(ns->bot), 1);
  if (n)
    n = key_append(buf, n, st->max_key, ns->section, strlen(ns->section), 1);
  if (n)
    n = key_append(buf, n, st->max_key, ns->instance, strlen(ns->instance), 1);
  if (n)
    n = key_append(buf, n, st->max_key, key, klen, 0);
  if (!n)
    return TACK_ERANGE;
  out->mv_size = n;
  out->mv_data = buf;
  return 0;
}

int tack_store_kv_get(tack_store *st, const tack_store_ns *ns, const void *key, size_t klen,
                      void *buf, size_t cap, size_t *len) {
  char kbuf[STORE_KEY_MAX];
  MDB_val k, v;
  int rc = make_key(st, ns, key, klen, kbuf, &k);
  if (rc != 0 || !len || (cap && !buf))
    return rc ? rc : TACK_EINVAL;

  int mrc =
      st->rtxn ? mdb_txn_renew(st->rtxn) : mdb_txn_begin(st->env, NULL, MDB_RDONLY, &st->rtxn);
  if (mrc != 0) {
    tack_log(TACK_LOG_ERROR, "store", "%s: cannot begin a read: %s", st->path, mdb_strerror(mrc));
    if (st->rtxn) {
      mdb_txn_abort(st->rtxn);
      st->rtxn = NULL;
    }
    return map_mdb_error(mrc);
  }
  mrc = mdb_get(st->rtxn, st->kv, &k, &v);
  if (mrc == 0) {
    *len = v.mv_size;
    if (cap)
      memcpy(buf, v.mv_data, v.mv_size < cap ? v.mv_size : cap);
    rc = v.mv_size > cap ? TACK_ENOSPC : 0;
  } else {
    if (mrc != MDB_NOTFOUND)
      tack_log(TACK_LOG_ERROR, "store", "%s: read failed: %s", st->path, mdb_strerror(mrc));
    rc = map_mdb_error(mrc);
  }
  mdb_txn_reset(st->rtxn);
  return rc;
}

/* Runs one put or delete in its own committed transaction. */
static int write_one(tack_store *st, MDB_val *k, MDB_val *v) {
  MDB_txn *txn;
  int mrc = mdb_txn_begin(st->env, NULL, 0, &txn);
  if (mrc == 0) {
    mrc = v ? mdb_put(txn, st->kv, k, v, 0) : mdb_del(txn, st->kv, k, NULL);
    if (mrc == 0)
      mrc = mdb_txn_commit(txn);
    else
      mdb_txn_abort(txn);
  }
  if (mrc == MDB_MAP_FULL)
    tack_log(TACK_LOG_ERROR, "store",
             "%s is full (map size %zu MiB): delete what is no longer needed, or use a store "
             "with a larger map size (%s)",
             st->path, st->map_size >> 20, mdb_strerror(mrc));
  else if (mrc != 0 && mrc != MDB_NOTFOUND)
    tack_log(TACK_LOG_ERROR, "store", "%s: write failed: %s", st->path, mdb_strerror(mrc));
  return map_mdb_error(mrc);
}

int tack_store_kv_put(tack_store *st, const tack_store_ns *ns, const void *key, size_t klen,
                      const void *val, size_t vlen) {
  char kbuf[STORE_KEY_MAX];
  MDB_val k;
  int rc = make_key(st, ns, key, klen, kbuf, &k);
  if (rc != 0)
    return rc;
  if (!val && vlen)
    return TACK_EINVAL;
  MDB_val v = {vlen, (void *)val};
  return write_one(st, &k, &v);
}

int tack_store_kv_del(tack_store *st, const tack_store_ns *ns, const void *key, size_t klen) {
  char kbuf[STORE_KEY_MAX];
  MDB_val k;
  int rc = make_key(st, ns, key, klen, kbuf, &k);
  if (rc != 0)
    return rc;
  return write_one(st, &k, NULL);
}

/* ------------------------------------------------------------------------ */
/* Host modules' databases                                                   */
/* ------------------------------------------------------------------------ */

static int db_fail(tack_store *st, const tack_store_db *db, const char *what, int mrc) {
  tack_log(TACK_LOG_ERROR, db->who, "%s: %s the %s database: %s", st->path, what, db->name,
           mdb_strerror(mrc));
  return tack_store_error(mrc);
}

/* One attempt; TACK_ENOENT without create when neither record nor database
 * exists yet. */
static int open_db_once(tack_store *st, const tack_store_db *db, int create, unsigned int *dbi) {
  char key[64];
  MDB_txn *txn = NULL;
  MDB_dbi handle;
  MDB_val v, k = {(size_t)snprintf(key, sizeof key, "%s_layout", db->name), key};
  int rc;

  int mrc = mdb_txn_begin(st->env, NULL, create ? 0 : MDB_RDONLY, &txn);
  if (mrc != 0)
    return db_fail(st, db, "cannot begin a transaction to open", mrc);
  mrc = mdb_get(txn, st->meta, &k, &v);
  if (mrc == 0) {
    if (v.mv_size != 4) {
      tack_log(TACK_LOG_ERROR, db->who,
               "%s: the %s record is %zu bytes, not 4: the store is damaged", st->path, key,
               v.mv_size);
      rc = TACK_EPARSE;
      goto fail;
    }
    const unsigned char *p = v.mv_data;
    uint32_t ver =
        (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    if (ver != db->layout) {
      tack_log(TACK_LOG_ERROR, db->who,
               "%s: the %s database is in layout %u, this tack reads layout %u only: %s", st->path,
               db->name, (unsigned)ver, (unsigned)db->layout, db->advice);
      rc = ver == 0 ? TACK_EPARSE : TACK_ENOTSUP;
      goto fail;
    }
    mrc = mdb_dbi_open(txn, db->name, db->flags, &handle);
    if (mrc != 0) {
      tack_log(TACK_LOG_ERROR, db->who,
               "%s: the %s record is there but the %s database cannot be opened (%s): the "
               "store is damaged",
               st->path, key, db->name, mdb_strerror(mrc));
      rc = mrc == MDB_NOTFOUND || mrc == MDB_INCOMPATIBLE ? TACK_EPARSE : tack_store_error(mrc);
      goto fail;
    }
  } else if (mrc == MDB_NOTFOUND) {
    mrc = mdb_dbi_open(txn, db->name, db->flags, &handle);
    if (mrc != MDB_NOTFOUND) {
      tack_log(TACK_LOG_ERROR, db->who,
               "%s: a %s database without a %s record: the store is damaged, or was written by "
               "something other than tack",
               st->path, db->name, key);
      rc = mrc == 0 || mrc == MDB_INCOMPATIBLE ? TACK_EPARSE : tack_store_error(mrc);
      goto fail;
    }
    if (!create) {
      rc = TACK_ENOENT;
      goto fail;
    }
    unsigned char le[4];
    for (int i = 0; i < 4; i++)
      le[i] = (unsigned char)(db->layout >> (8 * i));
    v.mv_size = sizeof le;
    v.mv_data = le;
    mrc = mdb_dbi_open(txn, db->name, db->flags | MDB_CREATE, &handle);
    if (mrc == 0)
      mrc = mdb_put(txn, st->meta, &k, &v, 0);
    if (mrc != 0) {
      rc = db_fail(st, db, "cannot create", mrc);
      goto fail;
    }
  } else {
    rc = db_fail(st, db, "cannot read the layout record of", mrc);
    goto fail;
  }
  /* Committing (even a read) keeps the database handle for the env's life. */
  mrc = mdb_txn_commit(txn);
  if (mrc != 0)
    return db_fail(st, db, "cannot commit", mrc);
  *dbi = handle;
  return 0;

fail:
  mdb_txn_abort(txn);
  return rc;
}

int tack_store_open_db(tack_store *st, const tack_store_db *db, unsigned int *dbi) {
  int rc = open_db_once(st, db, 0, dbi);
  return rc == TACK_ENOENT ? open_db_once(st, db, 1, dbi) : rc;
}
