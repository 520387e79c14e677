/*
 * loader.h: finds plugin shared objects, checks them and keeps them loaded.
 *
 * A file is checked in this order, most fundamental first, and refused at the
 * first failed check with a distinct TACK_ELOAD_* code:
 *   ELOAD_PERM       the file or its folder is writable by others
 *   ELOAD_OPEN       unreadable, or not a shared object dlopen accepts
 *   ELOAD_NOENTRY    no tack_plugin_entry symbol
 *   ELOAD_MAGIC      the symbol does not start with TACK_MAGIC
 *   ELOAD_ABI_MAJOR  built for another major
 *   ELOAD_ABI_MINOR  needs a newer minor than this host
 *   ELOAD_LAYOUT     value type layout fingerprint differs
 *   ELOAD_DESCRIPTOR a descriptor is malformed (size, id, strings, params)
 *   ELOAD_KIND       a descriptor has an unknown kind
 *   ELOAD_VTABLE     a vtable is smaller than its kind needs, or a required
 *                    callback is NULL (the message names it)
 *   ELOAD_DUPLICATE  a plugin id is already loaded (names both paths)
 * The entry is data, so none of these checks runs plugin code. A refused file
 * is unloaded before it is reported, and its refusal is kept for
 * `tack plugins`; it never stops the host.
 */
#ifndef TACK_LOADER_H
#define TACK_LOADER_H

#include <stddef.h>

#include "tack.h"

/* One plugin of a loaded shared object. Valid until tack_loader_free(). */
typedef struct tack_plugin {
  const tack_plugin_desc *desc; /* points into the shared object */
  const char *path;             /* real path of the shared object */
  uint16_t abi_major;           /* what the shared object was built for */
  uint16_t abi_minor;
  uint32_t index; /* position within its shared object's list */
} tack_plugin;

/* A file that was not loaded, and why. */
typedef struct tack_refusal {
  const char *path;
  int code;            /* TACK_ELOAD_* */
  const char *message; /* one or more sentences a person can act on */
} tack_refusal;

typedef struct tack_loader tack_loader;

int tack_loader_new(tack_loader **out);
/* Unloads every shared object; every tack_plugin pointer becomes invalid. */
void tack_loader_free(tack_loader *ld);

/*
 * Load one file. On refusal returns its TACK_ELOAD_* code and records a
 * refusal (also when the file was given explicitly). Loading a file already
 * loaded (same real path) is a no-op returning 0.
 */
int tack_loader_load_file(tack_loader *ld, const char *path);

/*
 * Load every "*.so" directly inside dir, in name order. Refusals are recorded,
 * not returned. Returns 0, or TACK_ENOENT/TACK_EIO when dir cannot be read
 * (also recorded as a refusal of the folder).
 */
int tack_loader_scan_dir(tack_loader *ld, const char *dir);

/*
 * Scan the folders of the TACK_PLUGIN_PATH environment variable
 * (colon-separated), if set.
 */
int tack_loader_scan_env(tack_loader *ld);

size_t tack_loader_count(const tack_loader *ld);
const tack_plugin *tack_loader_at(const tack_loader *ld, size_t i);
/* NULL when no plugin has that id. */
const tack_plugin *tack_loader_find(const tack_loader *ld, const char *id);

size_t tack_loader_refusal_count(const tack_loader *ld);
const tack_refusal *tack_loader_refusal_at(const tack_loader *ld, size_t i);

/* "exchange", "filter", "indicator", "scorer", "strategy" or "unknown". */
const char *tack_kind_name(uint32_t kind);
/* The kind for a name, 0 when none. */
uint32_t tack_kind_parse(const char *name);

#endif
