/*
 * log.h: the host's log. One line per event on stderr:
 *   2026-11-21T07:25:14.123Z info  [who] message
 * Plugins reach it through tack_host.log, tagged with their instance name.
 * Nothing that a parameter spec marks TACK_PARAM_SECRET is ever passed here.
 */
#ifndef TACK_LOG_H
#define TACK_LOG_H

#include "tack.h"

/* Lines above this level are dropped. Default TACK_LOG_INFO. */
void tack_log_set_level(int level);
int tack_log_level(void);

/* Parse "error", "warn", "info" or "debug"; TACK_EINVAL otherwise. */
int tack_log_parse_level(const char *name, int *level);

/* who may be NULL (the host itself). */
void tack_log(int level, const char *who, const char *fmt, ...) TACK_PRINTF(3, 4);
void tack_log_v(int level, const char *who, const char *fmt, va_list ap);

#define tack_log_error(...) tack_log(TACK_LOG_ERROR, NULL, __VA_ARGS__)
#define tack_log_warn(...) tack_log(TACK_LOG_WARN, NULL, __VA_ARGS__)
#define tack_log_info(...) tack_log(TACK_LOG_INFO, NULL, __VA_ARGS__)
#define tack_log_debug(...) tack_log(TACK_LOG_DEBUG, NULL, __VA_ARGS__)

#endif
