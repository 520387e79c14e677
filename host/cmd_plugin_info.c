/*
 * cmd_plugin_info.c: `tack plugin-info FILE.so`: loads one plugin file, with
 * the same checks as every other load, and describes each plugin it carries:
 * descriptor, parameters and, for indicators, output columns.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "loader.h"

static const char *const cmd = "plugin-info";

static void print_help(void) {
  printf("usage: tack plugin-info FILE.so\n"
         "\n"
         "Load one plugin file with the checks `tack plugins` applies and describe every\n"
         "plugin it carries: id, kind, name, version, description, the tack ABI it was\n"
         "built for, its path, its parameters (name, type, default, range or choices,\n"
         "whether required, help; a secret parameter's default is never shown) and, for\n"
         "an indicator, its output columns. The file is not searched for in the plugin\n"
         "folders: give its path. No plugin code runs.\n"
         "\n"
         "options:\n"
         "  -h, --help   show this help\n"
         "\n"
         "exit status: 0 described, 1 the file was refused (the reason and its error\n"
         "name, e.g. TACK_ELOAD_ABI_MAJOR, are printed), 2 bad usage.\n");
}

/* Plugin text on one line: control characters become '?'. */
static void put_clean(const char *s) {
  for (; *s; s++)
    putchar(((unsigned char)*s < 0x20 || *s == 0x7f) ? '?' : *s);
}

static void print_field(const char *label, const char *value) {
  printf("%-13s", label);
  if (value && *value)
    put_clean(value);
  else
    putchar('-');
  putchar('\n');
}

static const char *type_name(uint32_t type) {
  switch (type) {
  case TACK_PARAM_INT:
    return "int";
  case TACK_PARAM_DOUBLE:
    return "double";
  case TACK_PARAM_BOOL:
    return "bool";
  default:
    return "string";
  }
}

/* A number of a spec: whole numbers for int parameters. */
static void format_number(char *buf, size_t cap, uint32_t type, double v) {
  if (type == TACK_PARAM_INT)
    snprintf(buf, cap, "%.0f", v);
  else
    snprintf(buf, cap, "%g", v);
}

static void format_default(char *buf, size_t cap, const tack_param_spec *p) {
  if (p->flags & TACK_PARAM_SECRET)
    snprintf(buf, cap, "secret");
  else if (p->flags & TACK_PARAM_REQUIRED)
    snprintf(buf, cap, "-");
  else if (p->type == TACK_PARAM_BOOL)
    snprintf(buf, cap, "%s", p->def != 0.0 ? "true" : "false");
  else if (p->type == TACK_PARAM_STRING && p->def_str)
    snprintf(buf, cap, "\"%s\"", p->def_str);
  else if (p->type == TACK_PARAM_STRING)
    snprintf(buf, cap, "-");
  else
    format_number(buf, cap, p->type, p->def);
}

static void format_range(char *buf, size_t cap, const tack_param_spec *p) {
  char lo[32], hi[32];
  if (p->type == TACK_PARAM_STRING) {
    snprintf(buf, cap, "%s", p->choices ? p->choices : "any");
  } else if (p->type == TACK_PARAM_BOOL) {
    snprintf(buf, cap, "true|false");
  } else if (!tack_param_bounded(p)) {
    snprintf(buf, cap, "any");
  } else {
    format_number(lo, sizeof lo, p->type, p->min);
    format_number(hi, sizeof hi, p->type, p->max);
    snprintf(buf, cap, "[%s, %s]", lo, hi);
  }
}

static int max_int(int a, size_t b) { return (size_t)a > b ? a : (int)b; }

/* Text cells of one parameter row; the help column is printed as is. */
typedef struct param_row {
  char def[128];
  char range[256];
} param_row;

static void print_params(const tack_param_spec *params) {
  int w_name = 4, w_type = 4, w_def = 7, w_range = 13;
  param_row row;
  size_t n = 0;

  printf("parameters:");
  if (!params || !params[0].name) {
    printf("   none\n");
    return;
  }
  putchar('\n');
  for (; params[n].name; n++) {
    format_default(row.def, sizeof row.def, &params[n]);
    format_range(row.range, sizeof row.range, &params[n]);
    w_name = max_int(w_name, strlen(params[n].name));
    w_type = max_int(w_type, strlen(type_name(params[n].type)));
    w_def = max_int(w_def, strlen(row.def));
    w_range = max_int(w_range, strlen(row.range));
  }
  printf("  %-*s  %-*s  %-*s  %-*s  %-8s  %s\n", w_name, "NAME", w_type, "TYPE", w_def, "DEFAULT",
         w_range, "RANGE/CHOICES", "REQUIRED", "HELP");
  for (size_t i = 0; i < n; i++) {
    const tack_param_spec *p = &params[i];
    format_default(row.def, sizeof row.def, p);
    format_range(row.range, sizeof row.range, p);
    printf("  %-*s  %-*s  ", w_name, p->name, w_type, type_name(p->type));
    /* Defaults and choices are plugin text: keep them on the row. */
    put_clean(row.def);
    printf("%*s  ", w_def - (int)strlen(row.def), "");
    put_clean(row.range);
    printf("%*s  %-8s  ", w_range - (int)strlen(row.range), "",
           (p->flags & TACK_PARAM_REQUIRED) ? "yes" : "no");
    if (p->help)
      put_clean(p->help);
    putchar('\n');
  }
}

static void print_outputs(const tack_output_spec *outputs) {
  int w_name = 4;
  printf("outputs:\n");
  for (size_t i = 0; outputs[i].name; i++)
    w_name = max_int(w_name, strlen(outputs[i].name));
  printf("  %-*s  %s\n", w_name, "NAME", "HELP");
  for (size_t i = 0; outputs[i].name; i++) {
    printf("  %-*s  ", w_name, outputs[i].name);
    if (outputs[i].help)
      put_clean(outputs[i].help);
    putchar('\n');
  }
}

static void print_plugin(const tack_plugin *p) {
  const tack_plugin_desc *d = p->desc;
  char abi[16];

  snprintf(abi, sizeof abi, "%u.%u", (unsigned)p->abi_major, (unsigned)p->abi_minor);
  print_field("id:", d->id);
  print_field("kind:", tack_kind_name(d->kind));
  print_field("name:", d->name);
  print_field("version:", d->version);
  print_field("description:", d->description);
  print_field("abi:", abi);
  print_field("path:", p->path);
  print_params(d->params);
  if (d->kind == TACK_KIND_INDICATOR) {
    const tack_indicator_vtable *v = d->vtable;
    print_outputs(v->outputs);
  }
}

int tack_cmd_plugin_info(int argc, char **argv) {
  tack_loader *ld = NULL;
  const char *file = NULL;
  int options_done = 0;
  int status;
  int rc;

  if (tack_cli_wants_help(argc, argv)) {
    print_help();
    return TACK_EXIT_OK;
  }
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!options_done && strcmp(a, "--") == 0) {
      options_done = 1;
    } else if (!options_done && a[0] == '-' && a[1] != '\0') {
      return tack_cli_usage_error(cmd, "unknown option '%s'", a);
    } else if (file) {
      return tack_cli_usage_error(cmd, "one file at a time: got '%s' and '%s'", file, a);
    } else {
      file = a;
    }
  }
  if (!file)
    return tack_cli_usage_error(cmd, "name the plugin file (tack plugin-info FILE.so)");

  rc = tack_loader_new(&ld);
  if (rc != 0) {
    fprintf(stderr, "tack: %s: %s\n", cmd, tack_strerror(rc));
    status = TACK_EXIT_FAIL;
    goto done;
  }
  rc = tack_loader_load_file(ld, file);
  if (rc != 0) {
    const tack_refusal *r = tack_loader_refusal_count(ld) ? tack_loader_refusal_at(ld, 0) : NULL;
    if (r)
      fprintf(stderr, "tack: %s: refused: %s: %s\n", cmd, tack_err_name(r->code), r->message);
    else
      fprintf(stderr, "tack: %s: %s: %s\n", cmd, file, tack_strerror(rc));
    status = TACK_EXIT_FAIL;
    goto done;
  }

  for (size_t i = 0; i < tack_loader_count(ld); i++) {
    if (i > 0)
      putchar('\n');
    print_plugin(tack_loader_at(ld, i));
  }
  status = TACK_EXIT_OK;

done:
  tack_loader_free(ld);
  return status;
}
