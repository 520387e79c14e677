/* rt_test_util.c: helpers for the runtime's tests; see rt_test_util.h. */
#define _GNU_SOURCE /* nftw's FTW_DEPTH and FTW_PHYS */
#include "rt_test_util.h"

#include <dlfcn.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int find_plugin(const tack_plugin_list *list, const char *id, const char *path,
                       tack_plugin *out) {
  for (uint32_t i = 0; i < list->count; i++) {
    if (strcmp(list->plugins[i]->id, id) == 0) {
      out->desc = list->plugins[i];
      out->path = path;
      out->abi_major = list->abi_major;
      out->abi_minor = list->abi_minor;
      out->index = i;
      return 0;
    }
  }
  return -1;
}

int rt_fx_open(rt_fx *fx) {
  const char *dir = getenv("TACK_FIXTURE_DIR");
  memset(fx, 0, sizeof *fx);
  if (!dir) {
    fprintf(stderr, "TACK_FIXTURE_DIR is not set: run the tests through ctest\n");
    return -1;
  }
  snprintf(fx->path, sizeof fx->path, "%s/runtime/rt_fixtures.so", dir);
  fx->so = dlopen(fx->path, RTLD_NOW | RTLD_LOCAL);
  if (!fx->so) {
    fprintf(stderr, "%s\n", dlerror());
    return -1;
  }
  const tack_plugin_list *list = dlsym(fx->so, TACK_ENTRY_SYMBOL);
  fx->rec = dlsym(fx->so, RT_FIXTURE_RECORD_SYMBOL);
  if (!list || !fx->rec || find_plugin(list, "rt.exchange", fx->path, &fx->exchange) != 0 ||
      find_plugin(list, "rt.filter", fx->path, &fx->filter) != 0 ||
      find_plugin(list, "rt.strategy", fx->path, &fx->strategy) != 0) {
    fprintf(stderr, "%s: not the runtime fixture plugins\n", fx->path);
    dlclose(fx->so);
    fx->so = NULL;
    return -1;
  }
  return 0;
}

void rt_fx_close(rt_fx *fx) {
  if (fx->so)
    dlclose(fx->so);
  fx->so = NULL;
}

int rt_ci_make(rt_ci *c, const char *dir, const tack_plugin *p, const char *section,
               const char *name, const char *params_text) {
  static unsigned serial;
  memset(c, 0, sizeof *c);
  snprintf(c->file, sizeof c->file, "%s/%s_%s_%u.cfg", dir, section, name, serial++);
  FILE *f = fopen(c->file, "w");
  if (!f)
    return -1;
  fprintf(f, "# made by rt_ci_make\ninst = {\n");
  if (params_text) {
    fprintf(f, "  params = {\n");
    for (const char *s = params_text; *s;) {
      const char *end = strchr(s, ';');
      size_t n = end ? (size_t)(end - s) + 1 : strlen(s);
      while (n && (*s == ' ')) {
        s++;
        n--;
      }
      fprintf(f, "    %.*s\n", (int)n, s);
      s += n;
    }
    fprintf(f, "  };\n");
  }
  fprintf(f, "};\n");
  fclose(f);

  config_init(&c->cfg);
  c->has_cfg = 1;
  if (config_read_file(&c->cfg, c->file) != CONFIG_TRUE) {
    fprintf(stderr, "%s:%d: %s\n", c->file, config_error_line(&c->cfg), config_error_text(&c->cfg));
    return -1;
  }
  c->ci.name = name;
  c->ci.section = section;
  c->ci.kind = p->desc->kind;
  c->ci.plugin_id = p->desc->id;
  c->ci.plugin = p;
  c->ci.setting = config_lookup(&c->cfg, "inst");
  c->ci.params = config_lookup(&c->cfg, "inst.params");
  c->ci.file = c->file;
  c->ci.line = 2;
  return 0;
}

void rt_ci_free(rt_ci *c) {
  if (c->has_cfg)
    config_destroy(&c->cfg);
  c->has_cfg = 0;
}

int rt_tmpdir(char *buf, size_t cap) {
  const char *base = getenv("TMPDIR");
  snprintf(buf, cap, "%s/tack-rt-XXXXXX", base && *base ? base : "/tmp");
  return mkdtemp(buf) ? 0 : -1;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st;
  (void)ftw;
  if (flag == FTW_DP)
    rmdir(path);
  else
    unlink(path);
  return 0;
}

void rt_rmtree(const char *path) { nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS); }

int rt_file_contains(const char *path, const char *needle) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return 0;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc((size_t)n + 1);
  size_t got = buf ? fread(buf, 1, (size_t)n, f) : 0;
  fclose(f);
  if (!buf)
    return 0;
  buf[got] = '\0';
  int hit = strstr(buf, needle) != NULL;
  free(buf);
  return hit;
}
