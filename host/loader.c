/*
 * loader.c: finds plugin shared objects, checks everything they declare
 * before any of their code is called, keeps the good ones loaded and records
 * why the others were refused; see loader.h for the order of the checks.
 *
 * The checks only read the entry symbol and the static data it points to.
 * They read a size-prefixed struct only after its size says the field is
 * there, and copy whatever a message needs out of the shared object before it
 * is unloaded.
 */
/* glibc declares dladdr1(), which tells the entry symbol's type and size,
 * only for GNU builds (realpath() too needs more than plain POSIX). */
#define _GNU_SOURCE

#include "loader.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <link.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "log.h"

#ifndef TACK_PLUGIN_INSTALL_DIR
#error "TACK_PLUGIN_INSTALL_DIR must be defined by the build (host/CMakeLists.txt)"
#endif

/* Bounds that keep a damaged list from sending the checks through memory. */
#define MAX_PLUGINS_PER_FILE 1024u
#define MAX_PARAMS 256u
#define MAX_OUTPUTS 64u
#define MAX_ID_LEN 63u /* ids and parameter / output names */

/* Plugin text quoted in a message: at most MAX_QUOTED bytes of it, each
 * possibly escaped to four characters, then "..." and a NUL. */
#define MAX_QUOTED 128u
#define QUOTE_CAP (4 * MAX_QUOTED + 4)

/* A refusal message names up to two paths plus an explanation. */
#define MSG_CAP (2 * PATH_MAX + 1024)

/* Bytes of a struct up to and including field: what a reader needs before it
 * may read field. */
#define SIZE_THROUGH(type, field) (offsetof(type, field) + sizeof(((type *)0)->field))

/* The 1.0 sizes. They stay fixed when fields are appended in later minors:
 * an old plugin declares less, and the host reads the new fields only when a
 * plugin's size says they are there. */
#define LIST_MIN_SIZE SIZE_THROUGH(tack_plugin_list, plugins)
#define DESC_MIN_SIZE SIZE_THROUGH(tack_plugin_desc, vtable)

static const size_t vtable_min_size[TACK_KIND_COUNT_] = {
    [TACK_KIND_EXCHANGE] = SIZE_THROUGH(tack_exchange_vtable, reconcile),
    [TACK_KIND_FILTER] = SIZE_THROUGH(tack_filter_vtable, reset),
    [TACK_KIND_INDICATOR] = SIZE_THROUGH(tack_indicator_vtable, reset),
    [TACK_KIND_SCORER] = SIZE_THROUGH(tack_scorer_vtable, train),
    [TACK_KIND_STRATEGY] = SIZE_THROUGH(tack_strategy_vtable, on_fill),
};

static const char *const vtable_type_name[TACK_KIND_COUNT_] = {
    [TACK_KIND_EXCHANGE] = "tack_exchange_vtable",   [TACK_KIND_FILTER] = "tack_filter_vtable",
    [TACK_KIND_INDICATOR] = "tack_indicator_vtable", [TACK_KIND_SCORER] = "tack_scorer_vtable",
    [TACK_KIND_STRATEGY] = "tack_strategy_vtable",
};

static const char *const kind_names[TACK_KIND_COUNT_] = {
    [TACK_KIND_EXCHANGE] = "exchange",   [TACK_KIND_FILTER] = "filter",
    [TACK_KIND_INDICATOR] = "indicator", [TACK_KIND_SCORER] = "scorer",
    [TACK_KIND_STRATEGY] = "strategy",
};

/* One loaded shared object and the plugins it carries. */
typedef struct loaded_file {
  void *handle;
  char *path;           /* real path */
  tack_plugin *plugins; /* one block, so tack_plugin pointers stay put */
  uint32_t count;
} loaded_file;

/* A refusal with the strings it owns. */
typedef struct refusal_rec {
  tack_refusal pub;
  char *path;
  char *message;
} refusal_rec;

struct tack_loader {
  loaded_file *files;
  size_t n_files, cap_files;
  tack_plugin **plugins; /* point into files[].plugins, in load order */
  size_t n_plugins, cap_plugins;
  refusal_rec **refusals;
  size_t n_refusals, cap_refusals;
};

/* One file being checked. Big buffers, so it lives on the heap. */
typedef struct candidate {
  char real[PATH_MAX]; /* real path, or the path as given when it has none */
  void *handle;
  const tack_plugin_list *list;
  char msg[MSG_CAP];
} candidate;

const char *tack_kind_name(uint32_t kind) {
  if (kind == 0 || kind >= TACK_KIND_COUNT_)
    return "unknown";
  return kind_names[kind];
}

uint32_t tack_kind_parse(const char *name) {
  if (!name)
    return 0;
  for (uint32_t k = 1; k < TACK_KIND_COUNT_; k++)
    if (strcmp(name, kind_names[k]) == 0)
      return k;
  return 0;
}

/* Room for need elements; *cap and the array change only on success. */
static void *grow(void *array, size_t *cap, size_t need, size_t elem) {
  if (need <= *cap)
    return array;
  size_t n = *cap ? *cap : 8;
  while (n < need)
    n *= 2;
  if (n > SIZE_MAX / elem)
    return NULL;
  void *p = tack_realloc(NULL, array, n * elem);
  if (p)
    *cap = n;
  return p;
}

/* Set the candidate's message, prefixed with its path; returns code. */
static int refuse(candidate *c, int code, const char *fmt, ...) TACK_PRINTF(3, 4);
static int refuse(candidate *c, int code, const char *fmt, ...) {
  va_list ap;
  int n = snprintf(c->msg, sizeof c->msg, "%s: ", c->real);
  if (n < 0 || (size_t)n >= sizeof c->msg)
    n = 0;
  va_start(ap, fmt);
  vsnprintf(c->msg + n, sizeof c->msg - (size_t)n, fmt, ap);
  va_end(ap);
  return code;
}

/* A printable copy of text from a plugin, at most max bytes of it, for a
 * message about that very text (which may be anything). */
static void quote(char *buf, size_t cap, const char *s, size_t max) {
  size_t o = 0;
  size_t i = 0;
  for (; s[i] && i < max && o + 5 < cap; i++) {
    unsigned char ch = (unsigned char)s[i];
    if (ch >= 0x20 && ch < 0x7f && ch != '\'' && ch != '\\') {
      buf[o++] = (char)ch;
    } else {
      snprintf(buf + o, cap - o, "\\x%02x", ch);
      o += 4;
    }
  }
  if (s[i] && o + 4 <= cap) {
    memcpy(buf + o, "...", 3);
    o += 3;
  }
  buf[o] = '\0';
}

/* 0 when s is 1 to MAX_ID_LEN characters of [a-z0-9_] and extra; else 1,
 * with what is wrong in why ("is empty", "has 'B' at position 0"). */
static int name_problem(const char *s, const char *extra, char *why, size_t cap) {
  size_t len = strnlen(s, MAX_ID_LEN + 1);
  if (len == 0) {
    snprintf(why, cap, "is empty");
    return 1;
  }
  if (len > MAX_ID_LEN) {
    snprintf(why, cap, "is longer than %u characters", MAX_ID_LEN);
    return 1;
  }
  for (size_t i = 0; i < len; i++) {
    unsigned char ch = (unsigned char)s[i];
    if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || strchr(extra, ch))
      continue;
    if (ch >= 0x20 && ch < 0x7f)
      snprintf(why, cap, "has '%c' at position %zu", ch, i);
    else
      snprintf(why, cap, "has byte 0x%02x at position %zu", ch, i);
    return 1;
  }
  return 0;
}

/* ---------------------------------------------------------------------- */
/* File checks                                                             */
/* ---------------------------------------------------------------------- */

/* The folder part of an absolute or relative path, "." when it has none. */
static void folder_of(const char *path, char *buf, size_t cap) {
  const char *slash = strrchr(path, '/');
  if (!slash) {
    snprintf(buf, cap, ".");
  } else if (slash == path) {
    snprintf(buf, cap, "/");
  } else {
    snprintf(buf, cap, "%.*s", (int)(slash - path), path);
  }
}

static int check_folder_mode(candidate *c, const char *folder) {
  struct stat st;
  if (stat(folder, &st) != 0)
    return refuse(c, TACK_ELOAD_OPEN, "cannot inspect its folder %s: %s. Check the path.", folder,
                  strerror(errno));
  if (st.st_mode & S_IWOTH)
    return refuse(c, TACK_ELOAD_PERM,
                  "its folder %s is writable by every user (mode %04o), so anyone could drop or "
                  "swap plugins in it. Remove that permission (chmod o-w '%s') or move the plugin "
                  "to a folder only its owner can write.",
                  folder, (unsigned)(st.st_mode & 07777), folder);
  return 0;
}

/* Everything stat can tell before dlopen runs any constructor of the file. */
static int check_file_mode(candidate *c, const char *given) {
  struct stat st;
  char folder[PATH_MAX];
  char given_folder[PATH_MAX];
  char given_real[PATH_MAX];
  int err;

  if (stat(c->real, &st) != 0)
    return refuse(c, TACK_ELOAD_OPEN, "cannot inspect it: %s. Check the path.", strerror(errno));
  if (!S_ISREG(st.st_mode))
    return refuse(c, TACK_ELOAD_OPEN,
                  "not a regular file. Plugins are shared objects; remove or rename it.");
  if (st.st_mode & S_IWOTH)
    return refuse(c, TACK_ELOAD_PERM,
                  "the file is writable by every user (mode %04o), so anyone could replace the "
                  "code tack runs. Remove that permission (chmod o-w '%s') and check that the "
                  "file was not tampered with.",
                  (unsigned)(st.st_mode & 07777), c->real);
  folder_of(c->real, folder, sizeof folder);
  err = check_folder_mode(c, folder);
  if (err)
    return err;
  /* A symbolic link in a folder others can write can be swapped as well. */
  folder_of(given, given_folder, sizeof given_folder);
  if (realpath(given_folder, given_real) && strcmp(given_real, folder) != 0)
    return check_folder_mode(c, given_real);
  return 0;
}

/* The entry's frozen head, copied out byte by byte: the symbol may be
 * anything (a function, a misaligned variable) until its magic is checked. */
typedef struct entry_head {
  uint32_t magic;
  uint32_t size;
  uint16_t abi_major;
  uint16_t abi_minor;
} entry_head;

static int open_and_check_entry(candidate *c) {
  const void *sym;
  const char *err;
  entry_head head;
  size_t real_len = strlen(c->real);
  size_t sym_size = SIZE_MAX; /* unknown until the dynamic linker says */
  Dl_info info;
  const ElfW(Sym) *elf_sym = NULL;

  dlerror();
  c->handle = dlopen(c->real, RTLD_NOW | RTLD_LOCAL);
  if (!c->handle) {
    err = dlerror();
    if (!err)
      err = "unknown dlopen error";
    /* dlerror() usually repeats the path the message already starts with. */
    if (strncmp(err, c->real, real_len) == 0 && err[real_len] == ':' && err[real_len + 1] == ' ')
      err += real_len + 2;
    return refuse(c, TACK_ELOAD_OPEN,
                  "cannot load it: %s. Check that it is a shared object built for this machine "
                  "and readable by this user (file, ls -l), and that the libraries it needs are "
                  "installed (ldd).",
                  err);
  }

  dlerror();
  sym = dlsym(c->handle, TACK_ENTRY_SYMBOL);
  if (!sym)
    return refuse(c, TACK_ELOAD_NOENTRY,
                  "no %s symbol, so it is not a tack plugin. A plugin declares its descriptors "
                  "once with TACK_PLUGINS(&desc, ...) from tack.h (which exports that symbol); "
                  "remove the file from the plugin folder if it is not a plugin.",
                  TACK_ENTRY_SYMBOL);

  /* Read nothing of the entry beyond what the file defines for it. */
  if (dladdr1(sym, &info, (void **)&elf_sym, RTLD_DL_SYMENT) && elf_sym) {
    /* ELF32_ST_TYPE is the type field of both ELF classes. */
    if (ELF32_ST_TYPE(elf_sym->st_info) == STT_FUNC)
      return refuse(c, TACK_ELOAD_MAGIC,
                    "its %s symbol is a function, but a tack plugin entry is data that the host "
                    "checks before running any plugin code. Declare the plugins with "
                    "TACK_PLUGINS(...) from tack.h and rebuild.",
                    TACK_ENTRY_SYMBOL);
    sym_size = elf_sym->st_size;
  }
  if (sym_size < sizeof head)
    return refuse(c, TACK_ELOAD_MAGIC,
                  "its %s symbol is only %zu bytes, too small for a tack plugin list. Declare "
                  "the plugins with TACK_PLUGINS(...) from tack.h and rebuild.",
                  TACK_ENTRY_SYMBOL, sym_size);

  memcpy(&head, sym, sizeof head);
  if (head.magic != TACK_MAGIC)
    return refuse(c, TACK_ELOAD_MAGIC,
                  "its %s symbol starts with 0x%08x, not TACK_MAGIC (0x%08x, \"TACK\"), so it is "
                  "not a tack plugin list. Declare the plugins with TACK_PLUGINS(...) from tack.h "
                  "and rebuild; a symbol of that name from another program cannot be loaded.",
                  TACK_ENTRY_SYMBOL, (unsigned)head.magic, (unsigned)TACK_MAGIC);

  if (head.abi_major != TACK_ABI_MAJOR)
    return refuse(c, TACK_ELOAD_ABI_MAJOR,
                  "built for tack ABI %u.%u; this host provides %d.%d. Rebuild the plugin "
                  "against a tack %d.x SDK (pkg-config --cflags tack-sdk) or use a tack %u.x host.",
                  (unsigned)head.abi_major, (unsigned)head.abi_minor, TACK_ABI_MAJOR,
                  TACK_ABI_MINOR, TACK_ABI_MAJOR, (unsigned)head.abi_major);

  if (head.abi_minor > TACK_ABI_MINOR)
    return refuse(c, TACK_ELOAD_ABI_MINOR,
                  "needs tack ABI %u.%u; this host provides %d.%d. Upgrade tack to a version "
                  "that provides ABI %u.%u or newer, or rebuild the plugin against this host's "
                  "SDK (tack ABI %d.%d, pkg-config --cflags tack-sdk).",
                  (unsigned)head.abi_major, (unsigned)head.abi_minor, TACK_ABI_MAJOR,
                  TACK_ABI_MINOR, (unsigned)head.abi_major, (unsigned)head.abi_minor,
                  TACK_ABI_MAJOR, TACK_ABI_MINOR);

  if (head.size < LIST_MIN_SIZE)
    return refuse(c, TACK_ELOAD_MAGIC,
                  "its plugin list declares %u bytes, less than a tack %d.0 plugin list (%zu "
                  "bytes), so it is damaged or hand-made. Declare the plugins with "
                  "TACK_PLUGINS(...) from tack.h and rebuild.",
                  (unsigned)head.size, TACK_ABI_MAJOR, (size_t)LIST_MIN_SIZE);
  if (head.size > sym_size)
    return refuse(c, TACK_ELOAD_MAGIC,
                  "its plugin list declares %u bytes, but its %s symbol holds only %zu, so it "
                  "is damaged or hand-made. Declare the plugins with TACK_PLUGINS(...) from "
                  "tack.h and rebuild.",
                  (unsigned)head.size, TACK_ENTRY_SYMBOL, sym_size);
  if ((uintptr_t)sym % _Alignof(tack_plugin_list) != 0)
    return refuse(c, TACK_ELOAD_MAGIC,
                  "its %s symbol is not aligned like a tack_plugin_list, so it is damaged or "
                  "hand-made. Declare the plugins with TACK_PLUGINS(...) from tack.h and rebuild.",
                  TACK_ENTRY_SYMBOL);
  c->list = sym;

  if (c->list->layout != TACK_LAYOUT_FINGERPRINT)
    return refuse(c, TACK_ELOAD_LAYOUT,
                  "its value types have another layout (fingerprint 0x%016llx; this host's is "
                  "0x%016llx for tack ABI %d.%d on this machine): the compiler that built it saw "
                  "other struct sizes, from another architecture or pointer size, a packing "
                  "option or pragma (-fpack-struct, #pragma pack) around tack.h, or an edited "
                  "tack.h. Rebuild it for this machine with the SDK's unmodified tack.h and "
                  "default packing.",
                  (unsigned long long)c->list->layout, (unsigned long long)TACK_LAYOUT_FINGERPRINT,
                  TACK_ABI_MAJOR, TACK_ABI_MINOR);

  if (c->list->count == 0 || !c->list->plugins)
    return refuse(c, TACK_ELOAD_DESCRIPTOR,
                  "its plugin list is empty (count %u, plugins %s). List at least one "
                  "descriptor in TACK_PLUGINS(&desc, ...).",
                  (unsigned)c->list->count, c->list->plugins ? "set" : "NULL");
  if (c->list->count > MAX_PLUGINS_PER_FILE)
    return refuse(c, TACK_ELOAD_DESCRIPTOR,
                  "its plugin list claims %u plugins, more than the %u one file may carry, so it "
                  "is damaged. Declare the plugins with TACK_PLUGINS(...) and rebuild.",
                  (unsigned)c->list->count, MAX_PLUGINS_PER_FILE);
  /* The array's size is not visible from here: walk it to its NULL
   * terminator, never further, before believing count. */
  uint32_t n = 0;
  while (n <= c->list->count && c->list->plugins[n])
    n++;
  if (n != c->list->count)
    return refuse(c, TACK_ELOAD_DESCRIPTOR,
                  "its plugin list says %u plugins but %s after %u entries, so it is damaged or "
                  "hand-made. Declare the plugins with TACK_PLUGINS(...) from tack.h (which ends "
                  "the list with NULL) and rebuild.",
                  (unsigned)c->list->count, n < c->list->count ? "ends" : "does not end", n);
  return 0;
}

/* ---------------------------------------------------------------------- */
/* Descriptor checks                                                       */
/* ---------------------------------------------------------------------- */

static const char *param_type_name(uint32_t type) {
  switch (type) {
  case TACK_PARAM_INT:
    return "int";
  case TACK_PARAM_DOUBLE:
    return "double";
  case TACK_PARAM_BOOL:
    return "bool";
  case TACK_PARAM_STRING:
    return "string";
  default:
    return NULL;
  }
}

/* Whether word is one of the '|'-separated choices. */
static int among_choices(const char *choices, const char *word) {
  size_t len = strlen(word);
  const char *p = choices;
  for (;;) {
    const char *bar = strchr(p, '|');
    size_t n = bar ? (size_t)(bar - p) : strlen(p);
    if (n == len && memcmp(p, word, len) == 0)
      return 1;
    if (!bar)
      return 0;
    p = bar + 1;
  }
}

/* Check one parameter spec; who names the plugin ("plugin 'ema'"). */
static int check_param(candidate *c, const char *who, const tack_param_spec *p) {
  char shown[QUOTE_CAP];
  char choices[QUOTE_CAP];
  char why[64];
  int has_default = !(p->flags & TACK_PARAM_REQUIRED);

  if (name_problem(p->name, "", why, sizeof why)) {
    quote(shown, sizeof shown, p->name, MAX_ID_LEN + 1);
    return refuse(c, TACK_ELOAD_DESCRIPTOR,
                  "%s: parameter name '%s' %s; a parameter name is 1 to %u characters of "
                  "[a-z0-9_]. Rename it in its tack_param_spec and rebuild.",
                  who, shown, why, MAX_ID_LEN);
  }
  if (!param_type_name(p->type))
    return refuse(c, TACK_ELOAD_DESCRIPTOR,
                  "%s: parameter '%s' has type %u; this host knows TACK_PARAM_INT (1), "
                  "TACK_PARAM_DOUBLE (2), TACK_PARAM_BOOL (3) and TACK_PARAM_STRING (4). Fix its "
                  "type and rebuild.",
                  who, p->name, (unsigned)p->type);
  if ((p->flags & TACK_PARAM_PATH) && p->type != TACK_PARAM_STRING)
    return refuse(c, TACK_ELOAD_DESCRIPTOR,
                  "%s: parameter '%s' is flagged TACK_PARAM_PATH but is not a string. Drop the "
                  "flag or make it TACK_PARAM_STRING and rebuild.",
                  who, p->name);

  switch (p->type) {
  case TACK_PARAM_INT:
  case TACK_PARAM_DOUBLE:
    if (p->min != p->min || p->max != p->max || (has_default && p->def != p->def))
      return refuse(c, TACK_ELOAD_DESCRIPTOR,
                    "%s: parameter '%s' has a NaN bound or default. Give it numbers and rebuild.",
                    who, p->name);
    if (has_default && tack_param_bounded(p) && (p->def < p->min || p->def > p->max))
      return refuse(c, TACK_ELOAD_DESCRIPTOR,
                    "%s: parameter '%s' has default %g outside its own range [%g, %g]. Fix the "
                    "default or the range and rebuild.",
                    who, p->name, p->def, p->min, p->max);
    if (has_default && p->type == TACK_PARAM_INT &&
        (p->def < -9.0e18 || p->def > 9.0e18 || (double)(long long)p->def != p->def))
      return refuse(c, TACK_ELOAD_DESCRIPTOR,
                    "%s: int parameter '%s' has default %g, which is not a whole number. Fix the "
                    "default and rebuild.",
                    who, p->name, p->def);
    break;
  case TACK_PARAM_BOOL:
    if (has_default && p->def != 0.0 && p->def != 1.0)
      return refuse(c, TACK_ELOAD_DESCRIPTOR,
                    "%s: bool parameter '%s' has default %g; a bool default is 0 or 1. Fix the "
                    "default and rebuild.",
                    who, p->name, p->def);
    break;
  case TACK_PARAM_STRING:
    if (p->choices) {
      size_t len = strlen(p->choices);
      quote(choices, sizeof choices, p->choices, MAX_QUOTED);
      if (len == 0 || p->choices[0] == '|' || p->choices[len - 1] == '|' ||
          strstr(p->choices, "||"))
        return refuse(c, TACK_ELOAD_DESCRIPTOR,
                      "%s: parameter '%s' has an empty choice in choices '%s'. Write the "
                      "allowed values separated by single '|' and rebuild.",
                      who, p->name, choices);
      if (has_default && p->def_str && !among_choices(p->choices, p->def_str)) {
        quote(shown, sizeof shown, p->def_str, MAX_QUOTED);
        return refuse(c, TACK_ELOAD_DESCRIPTOR,
                      "%s: parameter '%s' has default '%s', which is not among its choices "
                      "'%s'. Fix the default or the choices and rebuild.",
                      who, p->name, shown, choices);
      }
    }
    break;
  }
  return 0;
}

static int check_params(candidate *c, const char *who, const tack_param_spec *params) {
  int err;
  if (!params)
    return 0;
  for (uint32_t j = 0;; j++) {
    if (j > MAX_PARAMS)
      return refuse(c, TACK_ELOAD_DESCRIPTOR,
                    "%s: more than %u parameters, or the parameter list lacks its terminating "
                    "entry with a NULL name. End the tack_param_spec array with {NULL} and "
                    "rebuild.",
                    who, MAX_PARAMS);
    if (!params[j].name)
      return 0;
    err = check_param(c, who, &params[j]);
    if (err)
      return err;
    for (uint32_t k = 0; k < j; k++)
      if (strcmp(params[k].name, params[j].name) == 0)
        return refuse(c, TACK_ELOAD_DESCRIPTOR,
                      "%s: parameter '%s' is declared twice (entries %u and %u of its "
                      "tack_param_spec array). Give each parameter its own name and rebuild.",
                      who, params[j].name, (unsigned)k, (unsigned)j);
  }
}

/* Size, id, strings and parameter specs of descriptor i. */
static int check_descriptor(candidate *c, uint32_t i, const tack_plugin_desc *d) {
  char shown[QUOTE_CAP];
  char who[MAX_ID_LEN + 16];
  char why[64];

  if (!d)
    return refuse(c, TACK_ELOAD_DESCRIPTOR,
                  "entry #%u of its plugin list is NULL. Pass the address of a static "
                  "tack_plugin_desc for every entry of TACK_PLUGINS(...) and rebuild.",
                  (unsigned)i);
  if (d->size < DESC_MIN_SIZE)
    return refuse(c, TACK_ELOAD_DESCRIPTOR,
                  "plugin #%u: descriptor size %u, a tack %d.0 descriptor has at least %zu "
                  "bytes. Set .size = sizeof(tack_plugin_desc) and rebuild.",
                  (unsigned)i, (unsigned)d->size, TACK_ABI_MAJOR, (size_t)DESC_MIN_SIZE);
  if (!d->id)
    return refuse(c, TACK_ELOAD_DESCRIPTOR,
                  "plugin #%u: id is NULL. Give it a unique id of [a-z0-9_.-] and rebuild.",
                  (unsigned)i);
  if (name_problem(d->id, ".-", why, sizeof why)) {
    quote(shown, sizeof shown, d->id, MAX_ID_LEN + 1);
    return refuse(c, TACK_ELOAD_DESCRIPTOR,
                  "plugin #%u: id '%s' %s; an id is 1 to %u characters of [a-z0-9_.-]. Use "
                  "lower-case letters, digits, '_', '.' and '-' only, and rebuild.",
                  (unsigned)i, shown, why, MAX_ID_LEN);
  }
  snprintf(who, sizeof who, "plugin '%s'", d->id);
  if (!d->name)
    return refuse(c, TACK_ELOAD_DESCRIPTOR,
                  "%s: name is NULL. Give it a name for people and rebuild.", who);
  if (!d->version)
    return refuse(c, TACK_ELOAD_DESCRIPTOR,
                  "%s: version is NULL. Give it a version string (\"1.0.0\") and rebuild.", who);
  return check_params(c, who, d->params);
}

static int check_kind(candidate *c, const tack_plugin_desc *d) {
  if (d->kind == 0 || d->kind >= TACK_KIND_COUNT_)
    return refuse(c, TACK_ELOAD_KIND,
                  "plugin '%s' has kind %u; this host (tack ABI %d.%d) knows kinds 1 to %u "
                  "(exchange, filter, indicator, scorer, strategy). Set a TACK_KIND_* constant, "
                  "or use a newer tack if the plugin needs a kind this host lacks.",
                  d->id, (unsigned)d->kind, TACK_ABI_MAJOR, TACK_ABI_MINOR,
                  (unsigned)(TACK_KIND_COUNT_ - 1));
  return 0;
}

/* The name of the first required callback that is NULL, or NULL. Reads only
 * fields within the 1.0 size, which the caller checked. */
static const char *missing_callback(uint32_t kind, const void *vt) {
  const tack_lifecycle *life = NULL;
  switch (kind) {
  case TACK_KIND_EXCHANGE: {
    const tack_exchange_vtable *v = vt;
    life = &v->life;
    if (!v->caps)
      return "caps";
    if (!v->connect)
      return "connect";
    if (!v->instruments)
      return "instruments";
    if (!v->subscribe)
      return "subscribe";
    if (!v->submit)
      return "submit";
    if (!v->cancel)
      return "cancel";
    if (!v->reconcile)
      return "reconcile";
    break;
  }
  case TACK_KIND_FILTER: {
    const tack_filter_vtable *v = vt;
    life = &v->life;
    if (!v->update)
      return "update";
    break;
  }
  case TACK_KIND_INDICATOR: {
    const tack_indicator_vtable *v = vt;
    life = &v->life;
    if (!v->update)
      return "update";
    break;
  }
  case TACK_KIND_SCORER: {
    const tack_scorer_vtable *v = vt;
    life = &v->life;
    if (!v->score)
      return "score";
    break;
  }
  case TACK_KIND_STRATEGY: {
    const tack_strategy_vtable *v = vt;
    life = &v->life;
    if (!v->on_bar)
      return "on_bar";
    break;
  }
  }
  if (life && !life->create)
    return "life.create";
  if (life && !life->destroy)
    return "life.destroy";
  return NULL;
}

static int check_outputs(candidate *c, const char *who, const tack_output_spec *outputs) {
  char shown[QUOTE_CAP];
  char why[64];

  if (!outputs || !outputs[0].name)
    return refuse(c, TACK_ELOAD_VTABLE,
                  "%s: no output columns (outputs is %s). An indicator declares at least one "
                  "column in a tack_output_spec array ending with a NULL name; set .outputs and "
                  "rebuild.",
                  who, outputs ? "empty" : "NULL");
  for (uint32_t j = 0;; j++) {
    if (j > MAX_OUTPUTS)
      return refuse(c, TACK_ELOAD_VTABLE,
                    "%s: more than %u output columns, or the outputs array lacks its terminating "
                    "entry with a NULL name. End it with {NULL} and rebuild.",
                    who, MAX_OUTPUTS);
    if (!outputs[j].name)
      return 0;
    if (name_problem(outputs[j].name, "", why, sizeof why)) {
      quote(shown, sizeof shown, outputs[j].name, MAX_ID_LEN + 1);
      return refuse(c, TACK_ELOAD_VTABLE,
                    "%s: output column '%s' %s; a column name is 1 to %u characters of "
                    "[a-z0-9_]. Rename it and rebuild.",
                    who, shown, why, MAX_ID_LEN);
    }
    for (uint32_t k = 0; k < j; k++)
      if (strcmp(outputs[k].name, outputs[j].name) == 0)
        return refuse(c, TACK_ELOAD_VTABLE,
                      "%s: output column '%s' is declared twice. Give each column its own name "
                      "and rebuild.",
                      who, outputs[j].name);
  }
}

static int check_vtable(candidate *c, const tack_plugin_desc *d) {
  char who[MAX_ID_LEN + 32];
  const char *kind = tack_kind_name(d->kind);
  const char *missing;
  uint32_t size;

  snprintf(who, sizeof who, "%s '%s'", kind, d->id);
  if (!d->vtable)
    return refuse(c, TACK_ELOAD_VTABLE,
                  "%s: vtable is NULL. Point .vtable at a static %s and rebuild.", who,
                  vtable_type_name[d->kind]);
  memcpy(&size, d->vtable, sizeof size);
  if (size < vtable_min_size[d->kind])
    return refuse(c, TACK_ELOAD_VTABLE,
                  "%s: vtable size %u, %s %s vtable needs at least %zu bytes (tack ABI %d.0). "
                  "Set .size = sizeof(%s) and rebuild.",
                  who, (unsigned)size, d->kind == TACK_KIND_INDICATOR ? "an" : "a", kind,
                  vtable_min_size[d->kind], TACK_ABI_MAJOR, vtable_type_name[d->kind]);
  missing = missing_callback(d->kind, d->vtable);
  if (missing)
    return refuse(c, TACK_ELOAD_VTABLE,
                  "%s: required callback %s is NULL. Implement it, set .%s in its %s and "
                  "rebuild.",
                  who, missing, missing, vtable_type_name[d->kind]);
  if (d->kind == TACK_KIND_INDICATOR) {
    const tack_indicator_vtable *v = d->vtable;
    return check_outputs(c, who, v->outputs);
  }
  return 0;
}

static const tack_plugin *find_plugin(const tack_loader *ld, const char *id) {
  for (size_t i = 0; i < ld->n_plugins; i++)
    if (strcmp(ld->plugins[i]->desc->id, id) == 0)
      return ld->plugins[i];
  return NULL;
}

static int check_duplicates(const tack_loader *ld, candidate *c) {
  const tack_plugin_desc *const *list = c->list->plugins;
  for (uint32_t i = 0; i < c->list->count; i++) {
    const tack_plugin *other;
    for (uint32_t k = 0; k < i; k++)
      if (strcmp(list[k]->id, list[i]->id) == 0)
        return refuse(c, TACK_ELOAD_DUPLICATE,
                      "plugin id '%s' is listed twice in this file (entries #%u and #%u). Give "
                      "each descriptor its own id and rebuild.",
                      list[i]->id, (unsigned)k, (unsigned)i);
    other = find_plugin(ld, list[i]->id);
    if (other)
      return refuse(c, TACK_ELOAD_DUPLICATE,
                    "plugin id '%s' is already provided by %s, which was loaded first. Remove "
                    "one of the two files from the plugin folders, or change the id of one of "
                    "the plugins.",
                    list[i]->id, other->path);
  }
  return 0;
}

/* Every descriptor check, each over the whole list before the next. */
static int check_descriptors(const tack_loader *ld, candidate *c) {
  const tack_plugin_list *l = c->list;
  int err;
  for (uint32_t i = 0; i < l->count; i++) {
    err = check_descriptor(c, i, l->plugins[i]);
    if (err)
      return err;
  }
  for (uint32_t i = 0; i < l->count; i++) {
    err = check_kind(c, l->plugins[i]);
    if (err)
      return err;
  }
  for (uint32_t i = 0; i < l->count; i++) {
    err = check_vtable(c, l->plugins[i]);
    if (err)
      return err;
  }
  return check_duplicates(ld, c);
}

/* ---------------------------------------------------------------------- */
/* Bookkeeping                                                             */
/* ---------------------------------------------------------------------- */

static const loaded_file *find_file(const tack_loader *ld, const char *real) {
  for (size_t i = 0; i < ld->n_files; i++)
    if (strcmp(ld->files[i].path, real) == 0)
      return &ld->files[i];
  return NULL;
}

static const refusal_rec *find_refusal(const tack_loader *ld, const char *path) {
  for (size_t i = 0; i < ld->n_refusals; i++)
    if (strcmp(ld->refusals[i]->path, path) == 0)
      return ld->refusals[i];
  return NULL;
}

static int record_refusal(tack_loader *ld, const char *path, int code, const char *message) {
  refusal_rec *r = NULL;
  void *grown;

  grown = grow(ld->refusals, &ld->cap_refusals, ld->n_refusals + 1, sizeof *ld->refusals);
  if (!grown)
    goto fail;
  ld->refusals = grown;
  r = tack_calloc(NULL, 1, sizeof *r);
  if (!r)
    goto fail;
  r->path = tack_strdup(NULL, path);
  r->message = tack_strdup(NULL, message);
  if (!r->path || !r->message)
    goto fail;
  r->pub.path = r->path;
  r->pub.code = code;
  r->pub.message = r->message;
  ld->refusals[ld->n_refusals++] = r;
  /* Debug only: every caller reports refusals in its own terms (a table, a
   * config error), and a warning here would say everything twice. */
  tack_log(TACK_LOG_DEBUG, "loader", "refused: %s: %s", tack_err_name(code), message);
  return 0;

fail:
  if (r) {
    tack_free(NULL, r->path);
    tack_free(NULL, r->message);
    tack_free(NULL, r);
  }
  return TACK_ENOMEM;
}

/* Keep a checked file loaded; takes its handle on success. */
static int keep_file(tack_loader *ld, candidate *c) {
  const tack_plugin_list *l = c->list;
  loaded_file f = {NULL, NULL, NULL, 0};
  void *grown;

  grown = grow(ld->files, &ld->cap_files, ld->n_files + 1, sizeof *ld->files);
  if (!grown)
    goto fail;
  ld->files = grown;
  grown = grow(ld->plugins, &ld->cap_plugins, ld->n_plugins + l->count, sizeof *ld->plugins);
  if (!grown)
    goto fail;
  ld->plugins = grown;
  f.path = tack_strdup(NULL, c->real);
  f.plugins = tack_calloc(NULL, l->count, sizeof *f.plugins);
  if (!f.path || !f.plugins)
    goto fail;

  f.handle = c->handle;
  f.count = l->count;
  for (uint32_t i = 0; i < l->count; i++) {
    f.plugins[i].desc = l->plugins[i];
    f.plugins[i].path = f.path;
    f.plugins[i].abi_major = l->abi_major;
    f.plugins[i].abi_minor = l->abi_minor;
    f.plugins[i].index = i;
    ld->plugins[ld->n_plugins++] = &f.plugins[i];
  }
  ld->files[ld->n_files++] = f;
  c->handle = NULL;
  tack_log(TACK_LOG_DEBUG, "loader", "loaded %s: %u plugin(s), tack ABI %u.%u", f.path,
           (unsigned)f.count, (unsigned)l->abi_major, (unsigned)l->abi_minor);
  return 0;

fail:
  tack_free(NULL, f.path);
  tack_free(NULL, f.plugins);
  return TACK_ENOMEM;
}

/* ---------------------------------------------------------------------- */
/* Public functions                                                        */
/* ---------------------------------------------------------------------- */

int tack_loader_new(tack_loader **out) {
  tack_loader *ld;
  if (!out)
    return TACK_EINVAL;
  *out = NULL;
  ld = tack_calloc(NULL, 1, sizeof *ld);
  if (!ld)
    return TACK_ENOMEM;
  *out = ld;
  return 0;
}

void tack_loader_free(tack_loader *ld) {
  if (!ld)
    return;
  /* Newest first, the reverse of loading. */
  for (size_t i = ld->n_files; i-- > 0;) {
    dlclose(ld->files[i].handle);
    tack_free(NULL, ld->files[i].plugins);
    tack_free(NULL, ld->files[i].path);
  }
  for (size_t i = 0; i < ld->n_refusals; i++) {
    tack_free(NULL, ld->refusals[i]->path);
    tack_free(NULL, ld->refusals[i]->message);
    tack_free(NULL, ld->refusals[i]);
  }
  tack_free(NULL, ld->files);
  tack_free(NULL, ld->plugins);
  tack_free(NULL, ld->refusals);
  tack_free(NULL, ld);
}

int tack_loader_load_file(tack_loader *ld, const char *path) {
  candidate *c = NULL;
  const refusal_rec *prev;
  int err;

  if (!ld || !path)
    return TACK_EINVAL;
  c = tack_calloc(NULL, 1, sizeof *c);
  if (!c) {
    err = TACK_ENOMEM;
    goto done;
  }

  err = 0;
  if (!realpath(path, c->real)) {
    int e = errno;
    snprintf(c->real, sizeof c->real, "%s", path);
    err = refuse(c, TACK_ELOAD_OPEN, "cannot open it: %s. Check the path.", strerror(e));
  } else if (find_file(ld, c->real)) {
    goto done;
  }
  prev = find_refusal(ld, c->real);
  if (prev) {
    err = prev->pub.code;
    goto done;
  }

  if (!err)
    err = check_file_mode(c, path);
  if (!err)
    err = open_and_check_entry(c);
  if (!err)
    err = check_descriptors(ld, c);
  if (!err) {
    err = keep_file(ld, c);
    goto done;
  }

  /* Unload before reporting: the message was built from copies, and
   * nothing of a refused file may stay mapped. */
  if (c->handle) {
    dlclose(c->handle);
    c->handle = NULL;
  }
  if (record_refusal(ld, c->real, err, c->msg) != 0)
    err = TACK_ENOMEM;

done:
  if (c && c->handle)
    dlclose(c->handle);
  tack_free(NULL, c);
  return err;
}

static int compare_names(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_plugin_name(const char *name) {
  size_t len = strlen(name);
  return name[0] != '.' && len > 3 && strcmp(name + len - 3, ".so") == 0;
}

static int refuse_folder(tack_loader *ld, const char *dir, int e) {
  char msg[PATH_MAX + 512];
  int code = (e == ENOENT || e == ENOTDIR) ? TACK_ENOENT : TACK_EIO;
  const refusal_rec *prev = find_refusal(ld, dir);
  if (prev)
    return prev->pub.code;
  snprintf(msg, sizeof msg,
           "%s: cannot read this plugin folder: %s. Create it or fix the path where it is named "
           "(--dir, plugin_dirs in the config, or %s), or make it readable.",
           dir, strerror(e), TACK_PLUGIN_PATH_ENV);
  if (record_refusal(ld, dir, code, msg) != 0)
    return TACK_ENOMEM;
  return code;
}

int tack_loader_scan_dir(tack_loader *ld, const char *dir) {
  DIR *d = NULL;
  char **names = NULL;
  size_t n = 0, cap = 0;
  char path[PATH_MAX];
  int err = 0;

  if (!ld || !dir)
    return TACK_EINVAL;
  d = opendir(dir);
  if (!d) {
    err = refuse_folder(ld, dir, errno);
    goto done;
  }
  for (;;) {
    struct dirent *ent;
    void *grown;
    errno = 0;
    ent = readdir(d);
    if (!ent) {
      if (errno) {
        err = refuse_folder(ld, dir, errno);
        goto done;
      }
      break;
    }
    if (!is_plugin_name(ent->d_name))
      continue;
    grown = grow(names, &cap, n + 1, sizeof *names);
    if (!grown) {
      err = TACK_ENOMEM;
      goto done;
    }
    names = grown;
    names[n] = tack_strdup(NULL, ent->d_name);
    if (!names[n]) {
      err = TACK_ENOMEM;
      goto done;
    }
    n++;
  }
  if (n > 1)
    qsort(names, n, sizeof *names, compare_names);

  for (size_t i = 0; i < n; i++) {
    int rc;
    int len = snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    if (len < 0 || (size_t)len >= sizeof path) {
      /* Too long to name; dlopen could not open it either. */
      char msg[PATH_MAX + 256];
      snprintf(msg, sizeof msg,
               "%s/%s: the path is longer than %d bytes. Move the plugin to a "
               "folder with a shorter path.",
               dir, names[i], PATH_MAX);
      if (record_refusal(ld, path, TACK_ELOAD_OPEN, msg) != 0) {
        err = TACK_ENOMEM;
        goto done;
      }
      continue;
    }
    rc = tack_loader_load_file(ld, path);
    if (rc == TACK_ENOMEM) {
      err = rc;
      goto done;
    }
  }

done:
  if (d)
    closedir(d);
  for (size_t i = 0; i < n; i++)
    tack_free(NULL, names[i]);
  tack_free(NULL, names);
  return err;
}

int tack_loader_scan_env(tack_loader *ld) {
  const char *env;
  char *copy = NULL;
  char *p;
  int first = 0;

  if (!ld)
    return TACK_EINVAL;
  env = getenv(TACK_PLUGIN_PATH_ENV);
  if (!env || !*env)
    return 0;
  copy = tack_strdup(NULL, env);
  if (!copy)
    return TACK_ENOMEM;
  p = copy;
  for (;;) {
    char *colon = strchr(p, ':');
    if (colon)
      *colon = '\0';
    if (*p) {
      int rc = tack_loader_scan_dir(ld, p);
      if (rc == TACK_ENOMEM) {
        first = rc;
        goto done;
      }
      if (rc && !first)
        first = rc;
    }
    if (!colon)
      break;
    p = colon + 1;
  }

done:
  tack_free(NULL, copy);
  return first;
}

int tack_loader_default_dir(const char *argv0, char *buf, size_t cap) {
  char exe[PATH_MAX];
  char candidate_dir[PATH_MAX + 64];
  char real[PATH_MAX];
  const char *chosen = TACK_PLUGIN_INSTALL_DIR;
  int have_exe = 0;
  struct stat st;
  size_t len;

  if (!buf || cap == 0)
    return TACK_EINVAL;
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n > 0) {
    exe[n] = '\0';
    have_exe = 1;
  } else if (argv0 && strchr(argv0, '/') && realpath(argv0, exe)) {
    have_exe = 1;
  }
  if (have_exe) {
    char *slash = strrchr(exe, '/');
    if (slash)
      *slash = '\0';
    /* A build tree (build/host/tack -> build/plugins), then an install
     * moved after it was made (P/bin/tack -> P/lib/tack/plugins). */
    static const char *const relative[] = {"../plugins", "../" TACK_PLUGIN_RELATIVE_DIR};
    for (size_t i = 0; i < sizeof relative / sizeof relative[0]; i++) {
      snprintf(candidate_dir, sizeof candidate_dir, "%s/%s", exe, relative[i]);
      if (realpath(candidate_dir, real) && stat(real, &st) == 0 && S_ISDIR(st.st_mode)) {
        chosen = real;
        break;
      }
    }
  }
  len = strlen(chosen);
  if (len >= cap)
    return TACK_ENOSPC;
  memcpy(buf, chosen, len + 1);
  return 0;
}

int tack_loader_scan_defaults(tack_loader *ld, const char *argv0) {
  char dir[PATH_MAX];
  int first, rc;

  if (!ld)
    return TACK_EINVAL;
  first = tack_loader_scan_env(ld);
  if (first == TACK_ENOMEM)
    return first;
  rc = tack_loader_default_dir(argv0, dir, sizeof dir);
  if (rc == 0)
    rc = tack_loader_scan_dir(ld, dir);
  if (rc == TACK_ENOMEM)
    return rc;
  return first ? first : rc;
}

size_t tack_loader_count(const tack_loader *ld) { return ld ? ld->n_plugins : 0; }

const tack_plugin *tack_loader_at(const tack_loader *ld, size_t i) {
  if (!ld || i >= ld->n_plugins)
    return NULL;
  return ld->plugins[i];
}

const tack_plugin *tack_loader_find(const tack_loader *ld, const char *id) {
  if (!ld || !id)
    return NULL;
  return find_plugin(ld, id);
}

size_t tack_loader_refusal_count(const tack_loader *ld) { return ld ? ld->n_refusals : 0; }

void tack_loader_print_refusals(const tack_loader *ld, FILE *out) {
  for (size_t i = 0; i < tack_loader_refusal_count(ld); i++) {
    const tack_refusal *r = tack_loader_refusal_at(ld, i);
    fprintf(out, "warning: %s\n", r->message ? r->message : r->path);
  }
}

const tack_refusal *tack_loader_refusal_at(const tack_loader *ld, size_t i) {
  if (!ld || i >= ld->n_refusals)
    return NULL;
  return &ld->refusals[i]->pub;
}
