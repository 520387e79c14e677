/*
 * loader.h: finds plugin shared objects, checks them and keeps them loaded.
 *
 * A file is checked in this order, most fundamental first, and refused at the
 * first failed check with a distinct TACK_ELOAD_* code:
 *   ELOAD_OPEN       the file does not exist or is not a regular file
 *   ELOAD_PERM       the file or its folder is writable by others (checked
 *                    with stat before dlopen, which runs constructors)
 *   ELOAD_OPEN       unreadable, or not a shared object dlopen accepts
 *   ELOAD_NOENTRY    no tack_plugin_entry symbol
 *   ELOAD_MAGIC      the symbol is a function, is smaller than the fields
 *                    frozen across majors, or does not start with TACK_MAGIC
 *   ELOAD_ABI_MAJOR  built for another major
 *   ELOAD_ABI_MINOR  needs a newer minor than this host
 *   ELOAD_MAGIC      the list is smaller than a plugin list of this major,
 *                    claims more bytes than its symbol has, or is misaligned
 *                    (checked once the major is known, because only magic,
 *                    size and the ABI fields are frozen across majors)
 *   ELOAD_LAYOUT     value type layout fingerprint differs
 *   ELOAD_DESCRIPTOR the list is empty, or a descriptor is malformed (size,
 *                    id, name, version, parameter specs)
 *   ELOAD_KIND       a descriptor has an unknown kind
 *   ELOAD_VTABLE     a vtable is smaller than its kind needs, a required
 *                    callback is NULL (the message names it), or an
 *                    indicator's output columns are missing or malformed
 *   ELOAD_DUPLICATE  a plugin id is listed twice in the file or already
 *                    loaded from another file (names both paths)
 * Each descriptor check runs over every descriptor of the file before the
 * next one starts, so the message reports the most fundamental problem of the
 * whole file. A file with any bad descriptor is refused whole.
 *
 * Every message starts with the file's path and says what was found, what
 * this host provides and what to do. The entry is data, so none of these
 * checks runs plugin code. A refused file is unloaded before it is reported,
 * and its refusal is kept (tack_loader_refusal_at) for the caller to report:
 * the loader itself logs refusals at debug level only. A refusal never stops
 * the host.
 *
 * Not thread-safe: one loader is used from one thread (the loop thread).
 */
#ifndef TACK_LOADER_H
#define TACK_LOADER_H

#include <stddef.h>
#include <stdio.h>

#include "tack.h"

/* One plugin of a loaded shared object. Valid until tack_loader_free(). */
typedef struct tack_plugin {
  const tack_plugin_desc *desc; /* points into the shared object */
  const char *path;             /* real path of the shared object */
  uint16_t abi_major;           /* what the shared object was built for */
  uint16_t abi_minor;
  uint32_t index; /* position within its shared object's list */
} tack_plugin;

/* A file (or folder) that was not loaded, and why. Valid until
 * tack_loader_free(). */
typedef struct tack_refusal {
  const char *path;    /* real path of the file; as given when it has none */
  int code;            /* TACK_ELOAD_*; TACK_ENOENT or TACK_EIO for a folder */
  const char *message; /* starts with the path; sentences a person can act on */
} tack_refusal;

typedef struct tack_loader tack_loader;

int tack_loader_new(tack_loader **out);
/* Unloads every shared object; every tack_plugin pointer becomes invalid. */
void tack_loader_free(tack_loader *ld);

/*
 * Load one file. On refusal returns its TACK_ELOAD_* code and records a
 * refusal (also when the file was given explicitly). Loading a file already
 * loaded (same real path) is a no-op returning 0; a file already refused
 * returns its code again without a second record. TACK_ENOMEM when memory ran
 * out (nothing is recorded then, and the file is not kept loaded).
 */
int tack_loader_load_file(tack_loader *ld, const char *path);

/*
 * Load every "*.so" directly inside dir, in name order (byte order, as
 * strcmp; names starting with '.' are skipped, as a shell glob would).
 * Refusals are recorded, not returned. Returns 0, TACK_ENOMEM, or
 * TACK_ENOENT/TACK_EIO when dir cannot be read (also recorded as a refusal of
 * the folder, with that code).
 */
int tack_loader_scan_dir(tack_loader *ld, const char *dir);

/* The environment variable that lists extra plugin folders. */
#define TACK_PLUGIN_PATH_ENV "TACK_PLUGIN_PATH"

/*
 * Scan the folders of the TACK_PLUGIN_PATH environment variable
 * (colon-separated, empty entries ignored), in order, if set. Returns 0 when
 * every folder could be read, else the first folder's error (each one is
 * recorded as a refusal); TACK_ENOMEM stops at once.
 */
int tack_loader_scan_env(tack_loader *ld);

/*
 * The default plugin folder: <folder of the tack executable>/../plugins when
 * that folder exists (a build tree: build/host/tack finds build/plugins),
 * else <that folder>/../lib/tack/plugins (an install, even one moved after
 * it was made), else TACK_PLUGIN_INSTALL_DIR (fixed when the host is built). The executable
 * is found through /proc/self/exe, or through argv0 when that fails and argv0
 * holds a '/'; argv0 may be NULL. Writes the NUL-terminated folder into buf.
 * Returns 0, or TACK_ENOSPC when cap is too small.
 */
int tack_loader_default_dir(const char *argv0, char *buf, size_t cap);

/*
 * Scan what `tack` scans when no folder is named: the folders of
 * TACK_PLUGIN_PATH first, then the default folder (tack_loader_default_dir).
 * Because a later file with an id already loaded is refused as a duplicate,
 * TACK_PLUGIN_PATH overrides plugins of the default folder. Returns 0 when
 * every folder could be read, else the first folder's error (each one is
 * recorded as a refusal); TACK_ENOMEM stops at once.
 */
int tack_loader_scan_defaults(tack_loader *ld, const char *argv0);

size_t tack_loader_count(const tack_loader *ld);
const tack_plugin *tack_loader_at(const tack_loader *ld, size_t i);
/* NULL when no plugin has that id. */
const tack_plugin *tack_loader_find(const tack_loader *ld, const char *id);

size_t tack_loader_refusal_count(const tack_loader *ld);
/* Print every refusal as "warning: <message>", one per line. */
void tack_loader_print_refusals(const tack_loader *ld, FILE *out);
const tack_refusal *tack_loader_refusal_at(const tack_loader *ld, size_t i);

/* "exchange", "filter", "indicator", "scorer", "strategy" or "unknown". */
const char *tack_kind_name(uint32_t kind);
/* The kind for a name, 0 when none. */
uint32_t tack_kind_parse(const char *name);

#endif
