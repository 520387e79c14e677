/*
 * control.h: the running host's control interface. Commands are lines of
 * text; each gets one reply line starting with "ok" or "error". The same
 * entry point (tack_control_exec) serves the local control socket that
 * `tack ctl` talks to, and will serve the dashboard.
 *
 *   status                 one line per account and symbol (JSON object)
 *   kill [REASON]          the kill switch: flatten everything, then stop
 *   unlock                 lift the day's lock (daily loss limit / profit)
 *   disable SYMBOL         stop trading SYMBOL and close its position
 *   enable SYMBOL          trade SYMBOL again
 *   flatten SYMBOL         close SYMBOL's position, keep trading it
 *   stop [REASON]          an orderly stop, as SIGTERM
 *
 * The socket is a Unix domain stream socket named control.sock in the
 * store's folder (mode 0600, in a folder of mode 0700): only the bot's own
 * user can reach it. One command per line, up to 512 bytes; a longer line
 * is refused and the connection closed. Every command is logged with its
 * outcome.
 *
 * Everything runs on the loop thread.
 */
#ifndef TACK_CONTROL_H
#define TACK_CONTROL_H

#include <stddef.h>
#include <uv.h>

struct tack_runtime;

#define TACK_CONTROL_LINE_MAX 512
#define TACK_CONTROL_SOCKET "control.sock"

/* Run one command line (without its newline) against rt. Writes the reply
 * (one line, no newline, NUL-terminated, cut to cap) and returns 0 when it
 * starts with "ok", TACK_EINVAL for an unknown command or bad arguments,
 * TACK_ENOENT for an unknown symbol, TACK_ENOTSUP when the bot does not
 * trade. */
int tack_control_exec(struct tack_runtime *rt, const char *line, char *reply, size_t cap);

typedef struct tack_control tack_control;

/* Listen on folder/control.sock on loop. A stale socket file left by a
 * crash is replaced; a live one (another tack serving it) is refused with
 * TACK_EBUSY. Errors are logged naming the path. */
int tack_control_open(uv_loop_t *loop, const char *folder, struct tack_runtime *rt,
                      tack_control **out);
/* Stop listening, close every connection and remove the socket file. The
 * handles finish closing on the loop's next iteration; c may be NULL. */
void tack_control_close(tack_control *c);

/* Client side, for `tack ctl`: send one command to the socket in folder and
 * copy the reply line into reply. TACK_ENOENT when nothing listens there. */
int tack_control_send(const char *folder, const char *line, char *reply, size_t cap);

#endif
