/* log.c: timestamped lines on stderr; see log.h. */
#include "log.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static int max_level = TACK_LOG_INFO;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void tack_log_set_level(int level) { max_level = level; }

int tack_log_level(void) { return max_level; }

int tack_log_parse_level(const char *name, int *level) {
  for (int i = 0; i < (int)(sizeof level_names / sizeof level_names[0]); i++) {
    if (strcmp(name, level_names[i]) == 0) {
      *level = i;
      return 0;
    }
  }
  return TACK_EINVAL;
}

void tack_log_v(int level, const char *who, const char *fmt, va_list ap) {
  if (level > max_level)
    return;
  if (level < TACK_LOG_ERROR)
    level = TACK_LOG_ERROR;
  if (level > TACK_LOG_DEBUG)
    level = TACK_LOG_DEBUG;

  struct timespec ts;
  struct tm tm;
  char when[32];
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);

  char body[2048];
  vsnprintf(body, sizeof body, fmt, ap);
  /* One write per line so that lines from a plugin and the host never mix. */
  if (who)
    fprintf(stderr, "%s.%03ldZ %-5s [%s] %s\n", when, ts.tv_nsec / 1000000, level_names[level], who,
            body);
  else
    fprintf(stderr, "%s.%03ldZ %-5s %s\n", when, ts.tv_nsec / 1000000, level_names[level], body);
}

void tack_log(int level, const char *who, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  tack_log_v(level, who, fmt, ap);
  va_end(ap);
}
