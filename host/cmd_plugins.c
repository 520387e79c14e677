/*
 * cmd_plugins.c: `tack plugins`: every plugin the loader finds in the plugin
 * folders, and every file it refuses with the reason and what to do.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "cli.h"
#include "loader.h"

static const char *const cmd = "plugins";

/* The help names no folder of this machine (the output's "searched:" line
 * does), so that docs/cli.md, generated from it, is the same everywhere. */
static void print_help(void) {
  printf("usage: tack plugins [--dir DIR]... [--strict]\n"
         "\n"
         "List every tack plugin found and every file refused, with the reason.\n"
         "\n"
         "Without --dir, tack searches the folders listed in %s\n"
         "(colon-separated, in order), then the default folder, which is the first\n"
         "that exists of:\n"
         "  <folder of the tack executable>/../plugins          (a build tree)\n"
         "  <folder of the tack executable>/../lib/tack/plugins (an install)\n"
         "  the folder tack was built to install plugins into\n"
         "The output's \"searched:\" line names the folders actually searched.\n"
         "Every \"*.so\" directly inside a folder is checked, in name order. When two\n"
         "files provide the same plugin id, the first one found is loaded and the other\n"
         "refused, so %s overrides the default folder.\n"
         "\n"
         "options:\n"
         "  --dir DIR    search DIR instead of the default folders; repeat for more\n"
         "  --strict     exit with status 1 when any file or folder was refused\n"
         "  -h, --help   show this help\n"
         "\n"
         "Output: a table of the plugins loaded, with KIND, ID, VERSION, ABI (the tack\n"
         "ABI major.minor the file was built for) and PATH; then every file refused,\n"
         "with its error name (e.g. TACK_ELOAD_ABI_MAJOR) and a message saying what was\n"
         "found and what to do. This host provides tack ABI %d.%d: it loads plugins\n"
         "built for ABI %d.0 to %d.%d.\n"
         "\n"
         "exit status: 0 done (also when files were refused, unless --strict),\n"
         "1 something was refused and --strict was given, 2 bad usage.\n",
         TACK_PLUGIN_PATH_ENV, TACK_PLUGIN_PATH_ENV, TACK_ABI_MAJOR, TACK_ABI_MINOR, TACK_ABI_MAJOR,
         TACK_ABI_MAJOR, TACK_ABI_MINOR);
}

/* Plugin text is printed on one line each: control characters become '?'. */
static void print_clean(const char *s, int width) {
  int n = 0;
  for (; *s; s++, n++)
    putchar(((unsigned char)*s < 0x20 || *s == 0x7f) ? '?' : *s);
  for (; n < width; n++)
    putchar(' ');
}

static int max_int(int a, size_t b) { return (size_t)a > b ? a : (int)b; }

static void print_plugins(const tack_loader *ld) {
  size_t n = tack_loader_count(ld);
  int w_kind = 4, w_id = 2, w_version = 7;
  char abi[16];

  if (n == 0) {
    printf("no plugins found\n");
    return;
  }
  for (size_t i = 0; i < n; i++) {
    const tack_plugin *p = tack_loader_at(ld, i);
    w_kind = max_int(w_kind, strlen(tack_kind_name(p->desc->kind)));
    w_id = max_int(w_id, strlen(p->desc->id));
    w_version = max_int(w_version, strlen(p->desc->version));
  }
  printf("%-*s  %-*s  %-*s  %-5s  %s\n", w_kind, "KIND", w_id, "ID", w_version, "VERSION", "ABI",
         "PATH");
  for (size_t i = 0; i < n; i++) {
    const tack_plugin *p = tack_loader_at(ld, i);
    snprintf(abi, sizeof abi, "%u.%u", (unsigned)p->abi_major, (unsigned)p->abi_minor);
    printf("%-*s  %-*s  ", w_kind, tack_kind_name(p->desc->kind), w_id, p->desc->id);
    print_clean(p->desc->version, w_version);
    printf("  %-5s  %s\n", abi, p->path);
  }
}

static void print_refusals(const tack_loader *ld) {
  size_t n = tack_loader_refusal_count(ld);
  if (n == 0)
    return;
  printf("\nrefused:\n");
  for (size_t i = 0; i < n; i++) {
    const tack_refusal *r = tack_loader_refusal_at(ld, i);
    printf("%s: %s\n", tack_err_name(r->code), r->message);
  }
}

/* Where the plugins were looked for: what a user needs when one is missing. */
static void print_searched(const char *const *dirs, size_t n_dirs) {
  char dir[PATH_MAX];
  const char *env = getenv(TACK_PLUGIN_PATH_ENV);

  printf("searched: ");
  if (n_dirs > 0) {
    for (size_t i = 0; i < n_dirs; i++)
      printf("%s%s", i ? ", " : "", dirs[i]);
  } else {
    if (tack_loader_default_dir(NULL, dir, sizeof dir) != 0)
      snprintf(dir, sizeof dir, "%s", TACK_PLUGIN_INSTALL_DIR);
    if (env && *env)
      printf("%s (%s), then %s", TACK_PLUGIN_PATH_ENV, env, dir);
    else
      printf("%s (%s is not set)", dir, TACK_PLUGIN_PATH_ENV);
  }
  putchar('\n');
}

int tack_cmd_plugins(int argc, char **argv) {
  tack_loader *ld = NULL;
  const char **dirs = NULL;
  size_t n_dirs = 0;
  int strict = 0;
  int status;
  int rc;

  if (tack_cli_wants_help(argc, argv)) {
    print_help();
    return TACK_EXIT_OK;
  }
  dirs = tack_calloc(NULL, (size_t)argc, sizeof *dirs);
  if (!dirs) {
    fprintf(stderr, "tack: %s: out of memory\n", cmd);
    status = TACK_EXIT_FAIL;
    goto done;
  }
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--strict") == 0) {
      strict = 1;
    } else if (strcmp(a, "--dir") == 0) {
      if (i + 1 >= argc) {
        status = tack_cli_usage_error(cmd, "--dir needs a folder");
        goto done;
      }
      dirs[n_dirs++] = argv[++i];
    } else if (strncmp(a, "--dir=", 6) == 0) {
      if (a[6] == '\0') {
        status = tack_cli_usage_error(cmd, "--dir needs a folder");
        goto done;
      }
      dirs[n_dirs++] = a + 6;
    } else if (a[0] == '-') {
      status = tack_cli_usage_error(cmd, "unknown option '%s'", a);
      goto done;
    } else {
      status = tack_cli_usage_error(cmd, "unexpected argument '%s' (folders go after --dir)", a);
      goto done;
    }
  }

  rc = tack_loader_new(&ld);
  if (rc != 0) {
    fprintf(stderr, "tack: %s: %s\n", cmd, tack_strerror(rc));
    status = TACK_EXIT_FAIL;
    goto done;
  }
  if (n_dirs == 0) {
    rc = tack_loader_scan_defaults(ld, NULL);
  } else {
    rc = 0;
    for (size_t i = 0; i < n_dirs && rc != TACK_ENOMEM; i++)
      rc = tack_loader_scan_dir(ld, dirs[i]);
  }
  if (rc == TACK_ENOMEM) {
    fprintf(stderr, "tack: %s: %s\n", cmd, tack_strerror(rc));
    status = TACK_EXIT_FAIL;
    goto done;
  }

  print_plugins(ld);
  print_refusals(ld);
  printf("\n%zu plugin(s) loaded, %zu refused\n", tack_loader_count(ld),
         tack_loader_refusal_count(ld));
  print_searched(dirs, n_dirs);
  status = (strict && tack_loader_refusal_count(ld) > 0) ? TACK_EXIT_FAIL : TACK_EXIT_OK;

done:
  tack_loader_free(ld);
  tack_free(NULL, dirs);
  return status;
}
