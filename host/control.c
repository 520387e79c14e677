/*
 * control.c: the control interface of a running host (control.h): command
 * lines executed against the runtime and its trading engine, served on a
 * Unix domain socket in the store's folder, and the client `tack ctl` uses.
 */
#include "control.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "alloc.h"
#include "log.h"
#include "runtime.h"
#include "trading.h"

/* ------------------------------------------------------------------------ */
/* Commands                                                                  */
/* ------------------------------------------------------------------------ */

static int reply_with(char *reply, size_t cap, int rc, const char *fmt, ...) TACK_PRINTF(4, 5);
static int reply_with(char *reply, size_t cap, int rc, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(reply, cap, fmt, ap);
  va_end(ap);
  return rc;
}

/* The next word of *p (up to a blank), copied into buf; *p moves past it. */
static const char *next_word(const char **p, char *buf, size_t cap) {
  const char *s = *p;
  while (*s == ' ' || *s == '\t')
    s++;
  size_t n = strcspn(s, " \t");
  if (n >= cap)
    n = cap - 1;
  memcpy(buf, s, n);
  buf[n] = '\0';
  s += strcspn(s, " \t");
  *p = s;
  return buf;
}

static const char *rest_of(const char *p) {
  while (*p == ' ' || *p == '\t')
    p++;
  return p;
}

static int status_reply(tack_trading *t, char *reply, size_t cap) {
  size_t at = 0;
  at += (size_t)snprintf(reply, cap, "ok {\"symbols\":[");
  for (size_t i = 0; t && i < tack_trading_symbol_count(t) && at < cap; i++) {
    tack_trading_symbol_stats st;
    if (tack_trading_symbol_stats_at(t, i, &st) != 0)
      continue;
    at += (size_t)snprintf(reply + at, cap - at,
                           "%s{\"symbol\":\"%s\",\"position\":%.17g,\"avg_price\":%.17g,"
                           "\"enabled\":%s,\"orders\":%llu,\"fills\":%llu}",
                           i ? "," : "", st.symbol, st.position, st.avg_price,
                           st.enabled ? "true" : "false", (unsigned long long)st.orders,
                           (unsigned long long)st.fills);
  }
  if (at < cap)
    snprintf(reply + at, cap - at, "],\"trading\":%s}", t ? "true" : "false");
  return 0;
}

int tack_control_exec(struct tack_runtime *rt, const char *line, char *reply, size_t cap) {
  char cmd[32], arg[TACK_SYMBOL_MAX + 1];
  const char *p = line;
  tack_trading *t = tack_runtime_trading(rt);
  next_word(&p, cmd, sizeof cmd);
  int rc;

  if (strcmp(cmd, "status") == 0)
    return status_reply(t, reply, cap);
  if (strcmp(cmd, "stop") == 0) {
    char why[160];
    snprintf(why, sizeof why, "stopped by the operator%s%s", *rest_of(p) ? ": " : "", rest_of(p));
    tack_runtime_request_stop(rt, why, 0);
    return reply_with(reply, cap, 0, "ok stopping");
  }
  if (strcmp(cmd, "kill") == 0 || strcmp(cmd, "unlock") == 0 || strcmp(cmd, "enable") == 0 ||
      strcmp(cmd, "disable") == 0 || strcmp(cmd, "flatten") == 0) {
    if (!t)
      return reply_with(reply, cap, TACK_ENOTSUP,
                        "error %s: this bot does not trade (no trading group in its config)", cmd);
  } else {
    return reply_with(reply, cap, TACK_EINVAL,
                      "error unknown command '%.32s' (status, kill, unlock, enable, disable, "
                      "flatten, stop)",
                      cmd);
  }
  if (strcmp(cmd, "kill") == 0) {
    char why[160];
    snprintf(why, sizeof why, "by the operator%s%s", *rest_of(p) ? ": " : "", rest_of(p));
    tack_trading_set_kill(t, 1, why);
    return reply_with(reply, cap, 0, "ok kill switch on: flattening and stopping");
  }
  if (strcmp(cmd, "unlock") == 0) {
    tack_trading_unlock_day(t);
    return reply_with(reply, cap, 0, "ok the day's lock is lifted");
  }
  next_word(&p, arg, sizeof arg);
  if (!arg[0] || strlen(arg) >= TACK_SYMBOL_MAX)
    return reply_with(reply, cap, TACK_EINVAL, "error %s needs a SYMBOL", cmd);
  if (strcmp(cmd, "flatten") == 0)
    rc = tack_trading_flatten_symbol(t, arg, "operator");
  else
    rc = tack_trading_enable_symbol(t, arg, strcmp(cmd, "enable") == 0);
  if (rc == TACK_ENOENT)
    return reply_with(reply, cap, rc, "error %s: no traded symbol %s", cmd, arg);
  if (rc != 0)
    return reply_with(reply, cap, rc, "error %s %s: %s", cmd, arg, tack_strerror(rc));
  return reply_with(reply, cap, 0, "ok %s %s", cmd, arg);
}

/* ------------------------------------------------------------------------ */
/* The socket                                                                */
/* ------------------------------------------------------------------------ */

typedef struct control_conn {
  uv_pipe_t pipe;
  tack_control *owner;
  struct control_conn *next;
  char line[TACK_CONTROL_LINE_MAX + 1];
  size_t len;
  int closing;
} control_conn;

struct tack_control {
  uv_pipe_t server;
  struct tack_runtime *rt;
  char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
  control_conn *conns;
};

static int socket_path(const char *folder, char *buf, size_t cap) {
  int n = snprintf(buf, cap, "%s/%s", folder, TACK_CONTROL_SOCKET);
  return n > 0 && (size_t)n < cap ? 0 : TACK_ERANGE;
}

static void on_conn_closed(uv_handle_t *h) {
  control_conn *c = h->data;
  tack_control *owner = c->owner;
  for (control_conn **pp = owner ? &owner->conns : NULL; pp && *pp; pp = &(*pp)->next) {
    if (*pp == c) {
      *pp = c->next;
      break;
    }
  }
  tack_free(NULL, c);
}

static void conn_close(control_conn *c) {
  if (c->closing)
    return;
  c->closing = 1;
  uv_close((uv_handle_t *)&c->pipe, on_conn_closed);
}

typedef struct write_req {
  uv_write_t req;
  char buf[1024];
} write_req;

static void on_written(uv_write_t *w, int status) {
  (void)status;
  tack_free(NULL, w->data);
}

static void send_line(control_conn *c, const char *text) {
  write_req *w = tack_calloc(NULL, 1, sizeof *w);
  if (!w)
    return;
  int n = snprintf(w->buf, sizeof w->buf, "%s\n", text);
  if (n < 0 || (size_t)n >= sizeof w->buf)
    n = (int)sizeof w->buf - 1, w->buf[n - 1] = '\n';
  w->req.data = w;
  uv_buf_t b = uv_buf_init(w->buf, (unsigned)n);
  if (uv_write(&w->req, (uv_stream_t *)&c->pipe, &b, 1, on_written) != 0)
    tack_free(NULL, w);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  control_conn *c = h->data;
  (void)suggested;
  size_t room = sizeof c->line - 1 - c->len;
  buf->base = c->line + c->len;
  buf->len = room ? room : 1;
}

static void run_line(control_conn *c, const char *line) {
  char reply[1000];
  tack_control_exec(c->owner->rt, line, reply, sizeof reply);
  tack_log(reply[0] == 'o' ? TACK_LOG_INFO : TACK_LOG_WARN, "control", "'%.80s': %s", line, reply);
  send_line(c, reply);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  control_conn *c = s->data;
  (void)buf;
  if (nread < 0) {
    conn_close(c);
    return;
  }
  c->len += (size_t)nread;
  c->line[c->len] = '\0';
  char *nl;
  while ((nl = memchr(c->line, '\n', c->len)) != NULL) {
    *nl = '\0';
    if (nl > c->line && nl[-1] == '\r')
      nl[-1] = '\0';
    run_line(c, c->line);
    size_t used = (size_t)(nl - c->line) + 1;
    memmove(c->line, nl + 1, c->len - used);
    c->len -= used;
    c->line[c->len] = '\0';
  }
  if (c->len >= TACK_CONTROL_LINE_MAX) {
    send_line(c, "error the line is longer than 512 bytes: connection closed");
    conn_close(c);
  }
}

static void on_connection(uv_stream_t *server, int status) {
  tack_control *ctl = server->data;
  if (status < 0)
    return;
  control_conn *c = tack_calloc(NULL, 1, sizeof *c);
  if (!c)
    return;
  c->owner = ctl;
  if (uv_pipe_init(server->loop, &c->pipe, 0) != 0) {
    tack_free(NULL, c);
    return;
  }
  c->pipe.data = c;
  c->next = ctl->conns;
  ctl->conns = c;
  if (uv_accept(server, (uv_stream_t *)&c->pipe) != 0 ||
      uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read) != 0)
    conn_close(c);
}

/* A socket file nobody accepts on is left over from a crash. */
static int socket_live(const char *path) {
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  if (fd < 0)
    return 0;
  struct sockaddr_un sa;
  memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
  int live = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
  close(fd);
  return live;
}

static void on_server_closed(uv_handle_t *h) { tack_free(NULL, h->data); }

int tack_control_open(uv_loop_t *loop, const char *folder, struct tack_runtime *rt,
                      tack_control **out) {
  *out = NULL;
  tack_control *ctl = tack_calloc(NULL, 1, sizeof *ctl);
  if (!ctl)
    return TACK_ENOMEM;
  ctl->rt = rt;
  if (socket_path(folder, ctl->path, sizeof ctl->path) != 0) {
    tack_log_warn("control: the socket path %s/%s is too long for a Unix socket; no control "
                  "interface",
                  folder, TACK_CONTROL_SOCKET);
    tack_free(NULL, ctl);
    return TACK_ERANGE;
  }
  if (access(ctl->path, F_OK) == 0) {
    if (socket_live(ctl->path)) {
      tack_log_error("control: %s is served by another running tack; no control interface",
                     ctl->path);
      tack_free(NULL, ctl);
      return TACK_EBUSY;
    }
    unlink(ctl->path);
  }
  int rc = uv_pipe_init(loop, &ctl->server, 0);
  if (rc != 0) {
    tack_free(NULL, ctl);
    return TACK_EIO;
  }
  ctl->server.data = ctl;
  mode_t old = umask(0177); /* the socket file is created 0600 */
  rc = uv_pipe_bind(&ctl->server, ctl->path);
  umask(old);
  if (rc == 0)
    rc = uv_listen((uv_stream_t *)&ctl->server, 8, on_connection);
  if (rc != 0) {
    tack_log_error("control: cannot listen on %s: %s", ctl->path, uv_strerror(rc));
    uv_close((uv_handle_t *)&ctl->server, on_server_closed);
    return TACK_EIO;
  }
  tack_log_info("control: listening on %s ('tack ctl' talks to it)", ctl->path);
  *out = ctl;
  return 0;
}

void tack_control_close(tack_control *c) {
  if (!c)
    return;
  for (control_conn *k = c->conns; k; k = k->next) {
    k->owner = NULL;
    conn_close(k);
  }
  c->conns = NULL;
  unlink(c->path);
  uv_close((uv_handle_t *)&c->server, on_server_closed);
}

int tack_control_send(const char *folder, const char *line, char *reply, size_t cap) {
  char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
  if (socket_path(folder, path, sizeof path) != 0)
    return TACK_ERANGE;
  if (strlen(line) >= TACK_CONTROL_LINE_MAX || strchr(line, '\n'))
    return TACK_EINVAL;
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  if (fd < 0)
    return TACK_EIO;
  struct sockaddr_un sa;
  memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
    close(fd);
    return TACK_ENOENT;
  }
  char msg[TACK_CONTROL_LINE_MAX + 2];
  int n = snprintf(msg, sizeof msg, "%s\n", line);
  size_t got = 0;
  int rc = write(fd, msg, (size_t)n) == n ? 0 : TACK_EIO;
  while (rc == 0 && got + 1 < cap) {
    ssize_t r = read(fd, reply + got, cap - 1 - got);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      break;
    got += (size_t)r;
    if (memchr(reply, '\n', got))
      break;
  }
  close(fd);
  if (cap)
    reply[got < cap ? got : cap - 1] = '\0';
  char *nl = strchr(reply, '\n');
  if (nl)
    *nl = '\0';
  if (rc == 0 && got == 0)
    rc = TACK_EIO;
  return rc;
}
