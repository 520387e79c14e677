/*
 * test_fuzz.c: a deterministic mutation fuzzer for every parser of the host,
 * run as ordinary cmocka tests so that `make test` runs it plain and under
 * ASan/UBSan. No fuzzing engine: a seeded xorshift PRNG mutates the seed
 * corpora of tests/fixtures/fuzz (small valid inputs) by flipping bits,
 * inserting, deleting and duplicating bytes, splicing two seeds and
 * inserting tokens parsers trip on (huge numbers, nan, inf, -0, 1e400, NUL,
 * CR/LF mixes, UTF-8 and invalid bytes, unbalanced quotes and brackets,
 * separators). Each parser must then return 0 or a TACK_E* code it
 * documents, keep its own invariants when it accepts (finite, consistent
 * bars; canonical forms that read back to themselves; round trips) and
 * name the input and the place in its message when it refuses.
 *
 * Covered: the CSV reader (bars, trades) and its number parser, candle CSV
 * import and UNIX seconds, timeframes, UTC times, plugin specs and feature
 * specs against the real plugins of the build, config files (load, load
 * for `tack check`, resolve against the real plugins) and the loader on a
 * real plugin whose entry symbol, descriptors and parameter specs are
 * mutated (only data the loader reads: mutating code or ELF headers could
 * crash inside ld.so, which no host check can prevent).
 *
 * Environment:
 *   TACK_FUZZ_ITERATIONS  inputs per parser (default 20000); configs get
 *                         1/2 of it, the loader 1/10 (each is a file
 *                         written and read). Raise it for a longer run.
 *   TACK_FUZZ_SEED        the PRNG seed (default 1), to explore further.
 *   TACK_FUZZ_TRACE       set: print every input (hex) before it is parsed,
 *                         to find the one that crashed a run. Loader
 *                         inputs print as "offset:byte" changes.
 *   TACK_BUILD_DIR        the build tree (set by ctest): its plugins.
 * A failing input is printed in hex before the assertion fails.
 */
#include <elf.h>
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "alloc.h"
#include "candles.h"
#include "config.h"
#include "csv.h"
#include "diag.h"
#include "loader.h"
#include "log.h"
#include "ml_features.h"
#include "plugin_spec.h"
#include "utc.h"

/* Largest mutated input; configs are the longest seeds. */
#define FUZZ_MAX 8192

/* ------------------------------------------------------------------------ */
/* PRNG, corpora and the mutator                                             */
/* ------------------------------------------------------------------------ */

static uint64_t rng_state;

/* xorshift64*: fast, and the same sequence on every platform. */
static uint64_t rnd(void) {
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 0x2545F4914F6CDD1DULL;
}

static size_t rnd_below(size_t n) { return n ? (size_t)(rnd() % n) : 0; }

typedef struct seed {
  unsigned char *data;
  size_t len;
} seed;

typedef struct corpus {
  seed *items;
  size_t n;
} corpus;

typedef struct input {
  unsigned char buf[FUZZ_MAX + 1]; /* + 1: always NUL-terminated */
  size_t len;
} input;

static void trace_input(const input *in);

static int corpus_add(corpus *c, const void *data, size_t len) {
  seed *grown = realloc(c->items, (c->n + 1) * sizeof *grown);
  if (!grown)
    return -1;
  c->items = grown;
  c->items[c->n].data = malloc(len ? len : 1);
  if (!c->items[c->n].data)
    return -1;
  memcpy(c->items[c->n].data, data, len);
  c->items[c->n].len = len;
  c->n++;
  return 0;
}

static void corpus_free(corpus *c) {
  for (size_t i = 0; i < c->n; i++)
    free(c->items[i].data);
  free(c->items);
  c->items = NULL;
  c->n = 0;
}

/* The whole file at path into a malloc'd buffer. */
static unsigned char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  unsigned char *buf = malloc(FUZZ_MAX + 1);
  size_t n = buf ? fread(buf, 1, FUZZ_MAX, f) : 0;
  fclose(f);
  if (buf)
    buf[n] = 0;
  *len = n;
  return buf;
}

/* One seed per line of a text file; '#' lines are comments. */
static int corpus_read_lines(corpus *c, const char *path) {
  size_t len;
  unsigned char *text = slurp(path, &len);
  if (!text)
    return -1;
  size_t start = 0;
  for (size_t i = 0; i <= len; i++) {
    if (i < len && text[i] != '\n')
      continue;
    if (i > start && text[start] != '#' && corpus_add(c, text + start, i - start) != 0) {
      free(text);
      return -1;
    }
    start = i + 1;
  }
  free(text);
  return c->n ? 0 : -1;
}

/* The named files of a folder, one seed each. */
static int corpus_read_files(corpus *c, const char *dir, const char *const *names, size_t n) {
  for (size_t i = 0; i < n; i++) {
    char path[4096];
    size_t len;
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    unsigned char *data = slurp(path, &len);
    if (!data)
      return -1;
    int rc = corpus_add(c, data, len);
    free(data);
    if (rc != 0)
      return -1;
  }
  return 0;
}

typedef struct token {
  const char *s;
  size_t n;
} token;

#define TOK(lit)                                                                                   \
  { lit, sizeof(lit) - 1 }

/* What parsers get wrong: numbers at and past every limit, spellings of
 * non-finite values, NUL and line ends, bytes that are not ASCII or not
 * UTF-8, unbalanced delimiters and every separator of the grammars. */
static const token tokens[] = {
    TOK("nan"),
    TOK("NaN"),
    TOK("inf"),
    TOK("-inf"),
    TOK("Infinity"),
    TOK("-0"),
    TOK("0"),
    TOK("-"),
    TOK("+"),
    TOK("1e400"),
    TOK("-1e400"),
    TOK("1e-400"),
    TOK("4.9e-324"),
    TOK("1.7976931348623157e308"),
    TOK("9223372036854775807"),
    TOK("-9223372036854775808"),
    TOK("9223372036.854775808"),
    TOK("18446744073709551616"),
    TOK("4294967296"),
    TOK("2147483648"),
    TOK("604801"),
    TOK("99999999999999999999999999999"),
    TOK("0.0000000001"),
    TOK("0x1p3"),
    TOK("1e"),
    TOK("."),
    TOK(".."),
    TOK(""),
    TOK(" "),
    TOK("\t"),
    TOK("\0"),
    TOK("\r"),
    TOK("\n"),
    TOK("\r\n"),
    TOK("\n\r"),
    TOK("\"\""),
    TOK("\""),
    TOK("'"),
    TOK("("),
    TOK(")"),
    TOK("["),
    TOK("]"),
    TOK("{"),
    TOK("}"),
    TOK(":"),
    TOK("::"),
    TOK(","),
    TOK(",,"),
    TOK(";"),
    TOK(";;"),
    TOK("="),
    TOK("@"),
    TOK("@1h"),
    TOK("@0s"),
    TOK("~"),
    TOK("~1001"),
    TOK("~-1"),
    TOK(".value"),
    TOK("L"),
    TOK("e"),
    TOK("T"),
    TOK("Z"),
    TOK("24:00"),
    TOK("02-30"),
    TOK("true"),
    TOK("false"),
    TOK("#"),
    TOK("/*"),
    TOK("//"),
    TOK("\\"),
    TOK("%s%n"),
    TOK("\xc3\xa9"),
    TOK("\xe2\x82\xac"),
    TOK("\xf0\x9f\x92\xb0"),
    TOK("\xef\xbb\xbf"),
    TOK("\x80"),
    TOK("\xc3"),
    TOK("\xff\xfe"),
    TOK("@include \"nope.cfg\"\n"),
    TOK("buy"),
    TOK("sell"),
    TOK("rsi:"),
    TOK("macd:12,26,9"),
    TOK("example.sma"),
    TOK("ret:"),
    TOK("close"),
};
#define N_TOKENS (sizeof tokens / sizeof tokens[0])

static void put_bytes(input *in, size_t at, const void *p, size_t n, size_t max) {
  if (at > in->len)
    at = in->len;
  if (in->len + n > max)
    n = max - in->len;
  memmove(in->buf + at + n, in->buf + at, in->len - at);
  memcpy(in->buf + at, p, n);
  in->len += n;
}

static void drop_bytes(input *in, size_t at, size_t n) {
  if (at >= in->len)
    return;
  if (n > in->len - at)
    n = in->len - at;
  memmove(in->buf + at, in->buf + at + n, in->len - at - n);
  in->len -= n;
}

/* A seed of c with one to four mutations, at most max bytes. */
static void mutate(input *in, const corpus *c, size_t max) {
  const seed *s = &c->items[rnd_below(c->n)];
  in->len = s->len < max ? s->len : max;
  memcpy(in->buf, s->data, in->len);
  /* Half the inputs get one mutation: they get past the first check more
   * often and reach the deeper ones. */
  size_t ops = rnd_below(2) ? 1 : 1 + rnd_below(4);
  for (size_t k = 0; k < ops; k++) {
    size_t at = rnd_below(in->len + 1);
    switch (rnd_below(11)) {
    case 0: /* flip a bit */
      if (in->len)
        in->buf[at % in->len] ^= (unsigned char)(1u << rnd_below(8));
      break;
    case 1: /* replace a byte */
      if (in->len)
        in->buf[at % in->len] = (unsigned char)rnd();
      break;
    case 2: { /* insert a byte */
      unsigned char b = (unsigned char)rnd();
      put_bytes(in, at, &b, 1, max);
      break;
    }
    case 3: /* delete a run */
      drop_bytes(in, at, 1 + rnd_below(8));
      break;
    case 4: { /* duplicate a run */
      unsigned char run[64];
      size_t n = rnd_below(sizeof run) + 1;
      if (at + n > in->len)
        n = in->len - at;
      memcpy(run, in->buf + at, n);
      put_bytes(in, rnd_below(in->len + 1), run, n, max);
      break;
    }
    case 5:
    case 6: { /* insert a token */
      const token *t = &tokens[rnd_below(N_TOKENS)];
      put_bytes(in, at, t->s, t->n, max);
      break;
    }
    case 7: { /* replace a run with a token */
      const token *t = &tokens[rnd_below(N_TOKENS)];
      drop_bytes(in, at, 1 + rnd_below(6));
      put_bytes(in, at, t->s, t->n, max);
      break;
    }
    case 8: { /* splice: this one's head, another's tail */
      const seed *o = &c->items[rnd_below(c->n)];
      size_t from = rnd_below(o->len + 1);
      in->len = at;
      put_bytes(in, at, o->data + from, o->len - from, max);
      break;
    }
    case 9: { /* a very long field */
      unsigned char run[600];
      size_t n = 100 + rnd_below(sizeof run - 100);
      memset(run, "9a.,"[rnd_below(4)], n);
      put_bytes(in, at, run, n, max);
      break;
    }
    default: /* an empty field: drop up to the next separator */
      while (at < in->len && !strchr(",;:=\n", in->buf[at]))
        drop_bytes(in, at, 1);
      break;
    }
  }
  in->buf[in->len] = 0;
  trace_input(in);
}

/* ------------------------------------------------------------------------ */
/* Checks                                                                    */
/* ------------------------------------------------------------------------ */

static const char *fuzz_name; /* the parser of the running test */
static int tracing;           /* TACK_FUZZ_TRACE: print every input first */

/* Under TACK_FUZZ_TRACE, print the input before the parser sees it, so
 * that a crash (which skips fail_input) still shows what caused it. */
static void trace_input(const input *in) {
  if (!tracing)
    return;
  fprintf(stderr, "fuzz %s input: ", fuzz_name);
  for (size_t i = 0; i < in->len; i++)
    fprintf(stderr, "%02x", in->buf[i]);
  fputc('\n', stderr);
}

/* Print the input that broke an invariant, as hex and as text, then fail. */
static void fail_input(const input *in, const char *fmt, ...) TACK_PRINTF(2, 3);
static void fail_input(const input *in, const char *fmt, ...) {
  char why[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, sizeof why, fmt, ap);
  va_end(ap);
  fprintf(stderr, "fuzz %s: %s\ninput (%zu bytes, hex): ", fuzz_name, why, in->len);
  for (size_t i = 0; i < in->len; i++)
    fprintf(stderr, "%02x", in->buf[i]);
  fprintf(stderr, "\ninput (text): %s\n", (const char *)in->buf);
  fail_msg("fuzz %s: %s", fuzz_name, why);
}

#define CHECK(in, cond, ...)                                                                       \
  do {                                                                                             \
    if (!(cond))                                                                                   \
      fail_input(in, __VA_ARGS__);                                                                 \
  } while (0)

/* A return code is 0, or a negative code the error table names. */
static void check_code(const input *in, int rc) {
  CHECK(in, rc == 0 || (rc < 0 && strcmp(tack_err_name(rc), "TACK_E?") != 0),
        "return code %d is not a TACK_E* code", rc);
}

/* Every message of d starts with prefix. */
static void check_messages(const input *in, const tack_diag *d, const char *prefix) {
  CHECK(in, d->n > 0, "refused without a message");
  for (size_t i = 0; i < d->n; i++)
    CHECK(in, d->msgs[i] && strncmp(d->msgs[i], prefix, strlen(prefix)) == 0,
          "message %zu does not start with \"%s\": %s", i, prefix, d->msgs[i] ? d->msgs[i] : "");
}

static size_t iterations;

/*
 * libconfig 1.5's parser leaks the text of a string token it meets where
 * the grammar wants none (`x "y"` leaks 64 bytes: no %destructor frees the
 * token on a syntax error). That is libconfig's, not the host's, and would
 * fail every ASan run of the config fuzzer, so LeakSanitizer is told to
 * ignore allocations made by libconfig's scanner only: the settings the
 * host keeps are allocated elsewhere and a host leak still shows.
 */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) {
  return "leak:libconfig_yylex\nleak:strbuf_append\n";
}
static char seed_dir[4096];
static char tmp_dir[4096];
static char plugin_dir[4096];
static tack_loader *ld;
static tack_plugin_set set;

typedef struct tally {
  size_t inputs, accepted;
  struct timespec t0;
} tally;

static void tally_start(tally *t, const char *name) {
  fuzz_name = name;
  t->inputs = t->accepted = 0;
  clock_gettime(CLOCK_MONOTONIC, &t->t0);
}

static void tally_print(const tally *t) {
  struct timespec t1;
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double s = (double)(t1.tv_sec - t->t0.tv_sec) + (double)(t1.tv_nsec - t->t0.tv_nsec) / 1e9;
  printf("fuzz %-13s %7zu inputs, %7zu accepted, %6.2f s\n", fuzz_name, t->inputs, t->accepted, s);
}

static size_t share(size_t divisor) {
  size_t n = iterations / divisor;
  return n ? n : 1;
}

/* ------------------------------------------------------------------------ */
/* CSV reader (csv.h)                                                        */
/* ------------------------------------------------------------------------ */

#define CSV_NAME "fuzz.csv"

static corpus bars_seeds, trades_seeds;

/* A stream over the input's bytes (a temporary file when fmemopen refuses
 * an empty buffer). */
static FILE *stream_of(const input *in) {
  FILE *f = in->len ? fmemopen((void *)in->buf, in->len, "r") : NULL;
  if (!f && (f = tmpfile()) != NULL) {
    if (fwrite(in->buf, 1, in->len, f) != in->len) {
      fclose(f);
      return NULL;
    }
    rewind(f);
  }
  return f;
}

static void csv_check_bar(const input *in, const tack_bar *b, tack_time prev, int first) {
  CHECK(in,
        isfinite(b->open) && isfinite(b->high) && isfinite(b->low) && isfinite(b->close) &&
            isfinite(b->volume),
        "a bar with a value that is not finite");
  CHECK(in, b->low <= b->open && b->low <= b->close && b->open <= b->high && b->close <= b->high,
        "a bar with low %.17g high %.17g open %.17g close %.17g", b->low, b->high, b->open,
        b->close);
  CHECK(in, b->volume >= 0, "a bar with volume %.17g", b->volume);
  CHECK(in, first || b->ts > prev, "bars out of time order");
  CHECK(in, b->timeframe_s == 0 && b->flags == TACK_BAR_CLOSED, "a bar with timeframe or flags");
}

static void csv_check_trade(const input *in, const tack_trade *t) {
  CHECK(in, isfinite(t->price) && isfinite(t->size) && t->size >= 0,
        "a trade with price %.17g size %.17g", t->price, t->size);
  CHECK(in, t->side == 0 || t->side == TACK_SIDE_BUY || t->side == TACK_SIDE_SELL,
        "a trade with side %u", (unsigned)t->side);
}

static void csv_run(const input *in, uint32_t format, tally *t) {
  FILE *f = stream_of(in);
  assert_non_null(f);
  tack_csv *r = NULL;
  assert_int_equal(tack_csv_open_stream(f, CSV_NAME, format, &r), 0);
  tack_diag d = TACK_DIAG_INIT;
  tack_time prev = 0;
  for (long row = 0;; row++) {
    tack_bar bar;
    tack_trade trade;
    int rc = format == TACK_CSV_BARS ? tack_csv_next_bar(r, &bar, &d)
                                     : tack_csv_next_trade(r, &trade, &d);
    if (rc == 1) {
      CHECK(in, d.n == 0, "a row returned with a message");
      CHECK(in, tack_csv_line(r) >= 2, "a row on line %ld", tack_csv_line(r));
      CHECK(in, tack_csv_ts_text(r)[0] != 0, "a row without ts text");
      if (format == TACK_CSV_BARS) {
        csv_check_bar(in, &bar, prev, row == 0);
        prev = bar.ts;
      } else {
        csv_check_trade(in, &trade);
      }
      continue;
    }
    if (rc == 0) {
      CHECK(in, d.n == 0, "the end of the data with a message");
      t->accepted++;
      break;
    }
    check_code(in, rc);
    CHECK(in, rc == TACK_EPARSE || rc == TACK_EIO, "next returned %s", tack_err_name(rc));
    CHECK(in, d.n == 1, "%zu messages for one error", d.n);
    check_messages(in, &d, CSV_NAME ":");
    /* The line, unless there is none: an empty file or one without a line end. */
    char after = d.msgs[0][strlen(CSV_NAME ":")];
    CHECK(in, (after >= '1' && after <= '9') || !memchr(in->buf, '\n', in->len),
          "the message names no line: %s", d.msgs[0]);
    int again = format == TACK_CSV_BARS ? tack_csv_next_bar(r, &bar, &d)
                                        : tack_csv_next_trade(r, &trade, &d);
    CHECK(in, again == rc && d.n == 1, "a second call after an error returned %s",
          tack_err_name(again));
    break;
  }
  tack_diag_free(&d);
  tack_csv_close(r);
  fclose(f);
}

static void test_fuzz_csv_bars(void **state) {
  (void)state;
  static input in;
  tally t;
  tally_start(&t, "csv_bars");
  for (size_t i = 0; i < iterations; i++, t.inputs++) {
    mutate(&in, i % 8 ? &bars_seeds : &trades_seeds, FUZZ_MAX);
    csv_run(&in, TACK_CSV_BARS, &t);
  }
  tally_print(&t);
}

static void test_fuzz_csv_trades(void **state) {
  (void)state;
  static input in;
  tally t;
  tally_start(&t, "csv_trades");
  for (size_t i = 0; i < iterations; i++, t.inputs++) {
    mutate(&in, i % 8 ? &trades_seeds : &bars_seeds, FUZZ_MAX);
    csv_run(&in, TACK_CSV_TRADES, &t);
  }
  tally_print(&t);
}

/* tack_csv_parse_number on the fields of mutated rows. */
static void test_fuzz_csv_number(void **state) {
  (void)state;
  static input in;
  static corpus fields;
  static const char *const numbers[] = {"1", "-2.5", "1e10", "0.000001", "3.5e2", "-0", "100.25"};
  for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++)
    assert_int_equal(corpus_add(&fields, numbers[i], strlen(numbers[i])), 0);
  tally t;
  tally_start(&t, "csv_number");
  for (size_t i = 0; i < iterations; i++, t.inputs++) {
    mutate(&in, &fields, 700);
    double v = 0;
    int rc = tack_csv_parse_number((const char *)in.buf, &v);
    check_code(&in, rc);
    CHECK(&in, rc == 0 || rc == TACK_EPARSE || rc == TACK_ERANGE, "returned %s", tack_err_name(rc));
    if (rc == 0) {
      CHECK(&in, isfinite(v), "accepted a number that is not finite: %g", v);
      t.accepted++;
    }
  }
  corpus_free(&fields);
  tally_print(&t);
}

/* ------------------------------------------------------------------------ */
/* Candle CSV import and UNIX seconds (candles.h)                            */
/* ------------------------------------------------------------------------ */

static corpus seconds_seeds;

static void test_fuzz_candles_csv(void **state) {
  (void)state;
  static input in;
  static const uint32_t tfs[] = {1, 60, 300};
  tally t;
  tally_start(&t, "candles_csv");
  for (size_t i = 0; i < iterations; i++, t.inputs++) {
    mutate(&in, &bars_seeds, FUZZ_MAX);
    uint32_t tf = tfs[rnd_below(3)];
    tack_diag d = TACK_DIAG_INIT;
    tack_bar *bars = NULL;
    size_t n = 0, n_bad = 0;
    int rc = tack_candles_csv_parse(CSV_NAME, (const char *)in.buf, in.len, tf, &bars, &n, &n_bad,
                                    3, &d);
    check_code(&in, rc);
    if (rc == 0) {
      CHECK(&in, bars && n > 0 && d.n == 0, "accepted %zu candles, %zu messages", n, d.n);
      for (size_t k = 0; k < n; k++) {
        char why[128];
        CHECK(&in, tack_candle_check(&bars[k], tf, why, sizeof why) == 0,
              "accepted candle %zu that the store refuses: %s", k, why);
        CHECK(&in, bars[k].timeframe_s == tf && bars[k].flags == TACK_BAR_CLOSED,
              "candle %zu without its timeframe or flags", k);
        CHECK(&in, k == 0 || bars[k].ts > bars[k - 1].ts, "candle %zu out of time order", k);
      }
      t.accepted++;
    } else {
      CHECK(&in, rc == TACK_EPARSE, "returned %s", tack_err_name(rc));
      CHECK(&in, bars == NULL, "refused with candles");
      CHECK(&in, d.n <= 3, "%zu messages, max_msgs 3", d.n);
      check_messages(&in, &d, CSV_NAME ":");
    }
    tack_free(NULL, bars);
    tack_diag_free(&d);
  }
  tally_print(&t);
}

static void test_fuzz_seconds(void **state) {
  (void)state;
  static input in;
  tally t;
  tally_start(&t, "seconds");
  for (size_t i = 0; i < iterations; i++, t.inputs++) {
    mutate(&in, &seconds_seeds, 700);
    tack_time ts = 0;
    int rc = tack_candles_parse_seconds((const char *)in.buf, in.len, &ts);
    check_code(&in, rc);
    CHECK(&in, rc == 0 || rc == TACK_EPARSE || rc == TACK_ERANGE, "returned %s", tack_err_name(rc));
    if (rc != 0)
      continue;
    char buf[32];
    int n = tack_candles_format_seconds(ts, buf, sizeof buf);
    tack_time back = 0;
    CHECK(&in, n > 0 && (size_t)n < sizeof buf, "formatted to %d bytes", n);
    CHECK(&in, tack_candles_parse_seconds(buf, (size_t)n, &back) == 0 && back == ts,
          "%lld formats as \"%s\", which does not read back", (long long)ts, buf);
    tack_csv_format_ts(ts, buf, sizeof buf);
    CHECK(&in, tack_candles_parse_seconds(buf, strlen(buf), &back) == 0 && back == ts,
          "%lld: the CSV writer's \"%s\" does not read back", (long long)ts, buf);
    t.accepted++;
  }
  tally_print(&t);
}

/* ------------------------------------------------------------------------ */
/* Timeframes and UTC times                                                  */
/* ------------------------------------------------------------------------ */

static corpus timeframe_seeds, utc_seeds;

static void test_fuzz_timeframe(void **state) {
  (void)state;
  static input in;
  tally t;
  tally_start(&t, "timeframe");
  for (size_t i = 0; i < iterations; i++, t.inputs++) {
    mutate(&in, &timeframe_seeds, 700);
    uint32_t s = 0;
    int rc = tack_timeframe_parse((const char *)in.buf, &s);
    check_code(&in, rc);
    if (rc != 0) {
      CHECK(&in, rc == TACK_EINVAL, "returned %s", tack_err_name(rc));
      continue;
    }
    CHECK(&in, s >= 1 && s <= 7u * 86400u, "accepted %u seconds", s);
    char buf[32];
    uint32_t back = 0;
    tack_timeframe_format(s, buf, sizeof buf);
    CHECK(&in, tack_timeframe_parse(buf, &back) == 0 && back == s,
          "%u seconds format as \"%s\", which does not read back", s, buf);
    t.accepted++;
  }
  tally_print(&t);
}

static void test_fuzz_utc(void **state) {
  (void)state;
  static input in;
  tally t;
  tally_start(&t, "utc");
  for (size_t i = 0; i < iterations; i++, t.inputs++) {
    mutate(&in, &utc_seeds, 700);
    tack_time ts = 0;
    int rc = tack_utc_parse((const char *)in.buf, &ts);
    check_code(&in, rc);
    if (rc != 0) {
      CHECK(&in, rc == TACK_EPARSE || rc == TACK_ERANGE, "returned %s", tack_err_name(rc));
      continue;
    }
    char buf[64];
    tack_time back = 0;
    tack_utc_format(ts, buf, sizeof buf);
    CHECK(&in, tack_utc_parse(buf, &back) == 0 && back == ts,
          "%lld formats as \"%s\", which does not read back", (long long)ts, buf);
    t.accepted++;
  }
  tally_print(&t);
}

/* ------------------------------------------------------------------------ */
/* Plugin specs and feature specs, against the plugins of the build          */
/* ------------------------------------------------------------------------ */

static corpus spec_seeds, feature_seeds;

/* A few bars through a started filter: its outputs are bars too. */
static void spec_run_filter(const input *in, tack_plugin_spec *s) {
  for (int k = 0; k < 4; k++) {
    tack_bar b;
    memset(&b, 0, sizeof b);
    b.ts = (tack_time)k * 300 * TACK_NS_PER_SEC;
    b.open = 100 + k;
    b.high = 110 + 3 * k;
    b.low = 90 - k;
    b.close = 105 - 2 * k;
    b.volume = 1;
    b.timeframe_s = 300;
    b.flags = TACK_BAR_CLOSED;
    const tack_bar *out = NULL;
    uint32_t n = 0;
    int rc = tack_plugin_spec_filter(s, &b, &out, &n);
    check_code(in, rc);
    if (rc != 0)
      return;
    CHECK(in, n == 0 || out != NULL, "%u bars out of a filter, no buffer", n);
  }
}

static void test_fuzz_plugin_spec(void **state) {
  (void)state;
  static input in;
  static const uint32_t kinds[] = {TACK_KIND_INDICATOR, TACK_KIND_FILTER, TACK_KIND_STRATEGY};
  tally t;
  tally_start(&t, "plugin_spec");
  for (size_t i = 0; i < iterations; i++, t.inputs++) {
    mutate(&in, &spec_seeds, 700);
    const char *text = (const char *)in.buf;
    uint32_t kind = kinds[rnd_below(3)];
    tack_diag d = TACK_DIAG_INIT;
    tack_plugin_spec *s = NULL;
    int rc = tack_plugin_spec_new(text, kind, &set, &d, &s);
    check_code(&in, rc);
    int malformed = rc == TACK_EPARSE || rc == TACK_ENOENT || rc == TACK_ETYPE;
    CHECK(&in, tack_plugin_spec_malformed(rc) == malformed, "malformed() wrong for %s",
          tack_err_name(rc));
    if (rc != 0) {
      CHECK(&in, s == NULL, "refused with a spec");
      CHECK(&in, malformed || rc == TACK_ECONFIG || rc == TACK_ENOMEM, "returned %s",
            tack_err_name(rc));
      check_messages(&in, &d, text);
      tack_diag_free(&d);
      continue;
    }
    CHECK(&in, s && d.n == 0, "accepted with %zu messages", d.n);
    CHECK(&in, strcmp(tack_plugin_spec_text(s), text) == 0, "the text changed");
    CHECK(&in, tack_plugin_spec_desc(s)->kind == kind, "a plugin of another kind");
    /* Starting runs the plugin's create and configure on the values: they
     * must refuse what the spec check let through, not crash on it. */
    rc = tack_plugin_spec_start(s, &d);
    check_code(&in, rc);
    if (rc == 0 && kind == TACK_KIND_FILTER)
      spec_run_filter(&in, s);
    if (rc != 0)
      check_messages(&in, &d, text);
    tack_plugin_spec_free(s);
    tack_diag_free(&d);
    t.accepted++;
  }
  tally_print(&t);
}

#define FEATURES_WHERE "fuzz.cfg:7: strategies.ml.features"

static void features_feed(const input *in, tack_features *f, uint32_t tf) {
  double out[64];
  if (tack_features_count(f) > sizeof out / sizeof out[0])
    return;
  for (int k = 0; k < 6; k++) {
    tack_bar b;
    memset(&b, 0, sizeof b);
    b.ts = (tack_time)k * tf * TACK_NS_PER_SEC;
    b.open = 100 + k;
    b.high = 104 + k;
    b.low = 98 + k;
    b.close = 101 + k;
    b.volume = 1 + k;
    b.timeframe_s = tf;
    b.flags = TACK_BAR_CLOSED;
    int rc = tack_features_update(f, &b, out);
    check_code(in, rc == 1 ? 0 : rc);
    if (rc == 1)
      for (uint32_t v = 0; v < tack_features_count(f); v++)
        CHECK(in, isfinite(out[v]), "value %u is not finite", v);
  }
}

static void test_fuzz_features(void **state) {
  (void)state;
  static input in;
  static const uint32_t tf_sets[][3] = {{300, 0, 0}, {900, 300, 0}, {300, 3600, 900}};
  tally t;
  tally_start(&t, "features");
  size_t n = share(1);
  for (size_t i = 0; i < n; i++, t.inputs++) {
    mutate(&in, &feature_seeds, 1500);
    size_t which = rnd_below(3);
    const uint32_t *tfs = tf_sets[which];
    size_t n_tfs = which + 1;
    tack_diag d = TACK_DIAG_INIT;
    tack_features *f = NULL;
    int rc = tack_features_new((const char *)in.buf, tfs, n_tfs, ld, FEATURES_WHERE, &d, &f);
    check_code(&in, rc);
    if (rc != 0) {
      CHECK(&in, f == NULL, "refused with features");
      CHECK(&in, rc == TACK_ECONFIG || rc == TACK_ENOMEM, "returned %s", tack_err_name(rc));
      check_messages(&in, &d, FEATURES_WHERE ": ");
      tack_diag_free(&d);
      continue;
    }
    CHECK(&in, f && d.n == 0 && tack_features_count(f) > 0, "accepted: %zu messages", d.n);
    const char *canon = tack_features_canonical(f);
    for (uint32_t v = 0; v < tack_features_count(f); v++)
      CHECK(&in, tack_features_name(f, v) != NULL, "value %u has no name", v);
    CHECK(&in, tack_features_name(f, tack_features_count(f)) == NULL, "a name past the end");
    tack_features *again = NULL;
    rc = tack_features_new(canon, tfs, n_tfs, ld, FEATURES_WHERE, &d, &again);
    CHECK(&in, rc == 0 && again, "the canonical form \"%s\" is refused (%s)", canon,
          d.n ? d.msgs[0] : tack_err_name(rc));
    CHECK(&in, strcmp(tack_features_canonical(again), canon) == 0,
          "the canonical form \"%s\" reads back as \"%s\"", canon, tack_features_canonical(again));
    uint32_t smallest = tfs[0];
    for (size_t k = 1; k < n_tfs; k++)
      smallest = tfs[k] < smallest ? tfs[k] : smallest;
    features_feed(&in, f, smallest);
    tack_features_free(again);
    tack_features_free(f);
    tack_diag_free(&d);
    t.accepted++;
  }
  tally_print(&t);
}

/* ------------------------------------------------------------------------ */
/* Config files (config.h)                                                   */
/* ------------------------------------------------------------------------ */

static corpus config_seeds;

static int write_file(const char *path, const void *data, size_t len, mode_t mode) {
  FILE *f = fopen(path, "wb");
  if (!f)
    return -1;
  int ok = fwrite(data, 1, len, f) == len;
  ok = fclose(f) == 0 && ok;
  return ok && chmod(path, mode) == 0 ? 0 : -1;
}

/* Some message names the file: every failure says where it is. */
static void check_names_file(const input *in, const tack_diag *d, const char *path) {
  CHECK(in, d->n > 0, "refused without a message");
  int named = 0;
  for (size_t i = 0; i < d->n; i++) {
    CHECK(in, d->msgs[i] && d->msgs[i][0], "message %zu is empty", i);
    named |= strstr(d->msgs[i], path) != NULL;
  }
  CHECK(in, named, "no message names %s: %s", path, d->msgs[0]);
}

static void test_fuzz_config(void **state) {
  (void)state;
  static input in;
  char path[4200];
  snprintf(path, sizeof path, "%s/fuzz.cfg", tmp_dir);
  tally t;
  tally_start(&t, "config");
  size_t n = share(2);
  for (size_t i = 0; i < n; i++, t.inputs++) {
    mutate(&in, &config_seeds, FUZZ_MAX);
    assert_int_equal(write_file(path, in.buf, in.len, 0644), 0);
    tack_diag d = TACK_DIAG_INIT;
    tack_config *cfg = NULL;
    int partial = i % 4 == 0;
    int rc = partial ? tack_config_load_partial(path, &cfg, &d) : tack_config_load(path, &cfg, &d);
    check_code(&in, rc);
    if (rc != 0) {
      CHECK(&in, rc == TACK_ECONFIG || rc == TACK_ENOENT || rc == TACK_EIO || rc == TACK_ENOMEM,
            "returned %s", tack_err_name(rc));
      check_names_file(&in, &d, path);
      if (cfg) {
        CHECK(&in, partial && rc == TACK_ECONFIG && cfg->invalid, "refused with a config");
        tack_diag d2 = TACK_DIAG_INIT;
        rc = tack_config_resolve(cfg, ld, &d2);
        CHECK(&in, rc == TACK_ECONFIG, "an invalid config resolved: %s", tack_err_name(rc));
        tack_diag_free(&d2);
        tack_config_free(cfg);
      }
      tack_diag_free(&d);
      continue;
    }
    CHECK(&in, cfg && !cfg->invalid && d.n == 0, "loaded with %zu messages", d.n);
    rc = tack_config_resolve(cfg, ld, &d);
    check_code(&in, rc);
    CHECK(&in, rc == 0 || rc == TACK_ECONFIG, "resolve returned %s", tack_err_name(rc));
    if (rc == 0) {
      CHECK(&in, d.n == 0, "resolved with %zu messages", d.n);
      for (size_t k = 0; k < cfg->n_strategies; k++)
        CHECK(&in, cfg->strategies[k].inst.plugin || cfg->strategies[k].type > 1,
              "strategy %s left unbound", cfg->strategies[k].inst.name);
      t.accepted++;
    } else {
      CHECK(&in, d.n > 0, "resolve refused without a message");
      for (size_t k = 0; k < cfg->n_exchanges; k++)
        CHECK(&in, cfg->exchanges[k].plugin == NULL, "a half-resolved config");
    }
    tack_config_free(cfg);
    tack_diag_free(&d);
  }
  unlink(path);
  tally_print(&t);
}

/* ------------------------------------------------------------------------ */
/* The loader on a real plugin with mutated data (loader.h)                  */
/* ------------------------------------------------------------------------ */

typedef struct region {
  size_t off, len;
} region;

static unsigned char *so_image;
static size_t so_len;
static region regions[256];
static size_t n_regions;
/* The entry's count. Only 0 is written there: a larger count than the
 * array holds makes tack_loader_load_file() read past the array (an ASan
 * global-buffer-overflow in check_descriptors), reported, not fixed here. */
static size_t count_off;

typedef struct elf_view {
  const unsigned char *p;
  size_t len;
  const Elf64_Ehdr *eh;
} elf_view;

static const Elf64_Shdr *elf_section(const elf_view *e, size_t i) {
  size_t off = e->eh->e_shoff + i * sizeof(Elf64_Shdr);
  return off + sizeof(Elf64_Shdr) <= e->len ? (const Elf64_Shdr *)(e->p + off) : NULL;
}

/* The file offset of a virtual address, or SIZE_MAX. */
static size_t elf_offset(const elf_view *e, uint64_t vaddr) {
  for (size_t i = 0; i < e->eh->e_phnum; i++) {
    size_t off = e->eh->e_phoff + i * sizeof(Elf64_Phdr);
    if (off + sizeof(Elf64_Phdr) > e->len)
      break;
    const Elf64_Phdr *ph = (const Elf64_Phdr *)(e->p + off);
    if (ph->p_type == PT_LOAD && vaddr >= ph->p_vaddr && vaddr < ph->p_vaddr + ph->p_filesz)
      return (size_t)(vaddr - ph->p_vaddr + ph->p_offset);
  }
  return SIZE_MAX;
}

/* The pointer stored at vaddr: a relative relocation's addend (what ld.so
 * will write there), else the bytes of the file. 0 when unknown. */
static uint64_t elf_pointer(const elf_view *e, uint64_t vaddr) {
  for (size_t i = 0; i < e->eh->e_shnum; i++) {
    const Elf64_Shdr *sh = elf_section(e, i);
    if (!sh || sh->sh_type != SHT_RELA || sh->sh_offset + sh->sh_size > e->len)
      continue;
    const Elf64_Rela *r = (const Elf64_Rela *)(e->p + sh->sh_offset);
    for (size_t k = 0; k < sh->sh_size / sizeof *r; k++) {
      uint32_t type = (uint32_t)ELF64_R_TYPE(r[k].r_info);
      if (r[k].r_offset == vaddr && (type == R_X86_64_RELATIVE || type == R_AARCH64_RELATIVE))
        return (uint64_t)r[k].r_addend;
    }
  }
  size_t off = elf_offset(e, vaddr);
  uint64_t v = 0;
  if (off != SIZE_MAX && off + sizeof v <= e->len)
    memcpy(&v, e->p + off, sizeof v);
  return v;
}

static void add_region(const elf_view *e, uint64_t vaddr, size_t len) {
  size_t off = elf_offset(e, vaddr);
  if (off == SIZE_MAX || off + len > e->len || len == 0 ||
      n_regions == sizeof regions / sizeof regions[0])
    return;
  regions[n_regions].off = off;
  regions[n_regions].len = len;
  n_regions++;
}

static void add_string(const elf_view *e, uint64_t vaddr) {
  size_t off = vaddr ? elf_offset(e, vaddr) : SIZE_MAX;
  if (off == SIZE_MAX)
    return;
  size_t n = 0;
  while (off + n < e->len && e->p[off + n])
    n++;
  /* Not its NUL: a plugin's strings are C strings, and one without its end
   * is read past (an ASan global-buffer-overflow in name_problem), which
   * the loader cannot tell from a longer string. */
  add_region(e, vaddr, n);
}

/* What the loader reads of the shared object: the entry's fixed fields,
 * each descriptor's size and kind, its strings, and its parameter specs'
 * names and numbers. Pointers themselves are left alone: a wild pointer
 * makes the loader read unmapped memory, which no check can prevent. */
static int find_regions(void) {
  elf_view e = {so_image, so_len, (const Elf64_Ehdr *)so_image};
  if (so_len < sizeof(Elf64_Ehdr) || memcmp(so_image, ELFMAG, SELFMAG) != 0 ||
      so_image[EI_CLASS] != ELFCLASS64)
    return -1;
  uint64_t entry = 0;
  for (size_t i = 0; i < e.eh->e_shnum && !entry; i++) {
    const Elf64_Shdr *sh = elf_section(&e, i);
    if (!sh || sh->sh_type != SHT_DYNSYM || sh->sh_offset + sh->sh_size > so_len)
      continue;
    const Elf64_Shdr *strs = elf_section(&e, sh->sh_link);
    if (!strs)
      continue;
    const Elf64_Sym *sym = (const Elf64_Sym *)(so_image + sh->sh_offset);
    for (size_t k = 0; k < sh->sh_size / sizeof *sym; k++) {
      size_t name = strs->sh_offset + sym[k].st_name;
      if (name < so_len && strcmp((const char *)so_image + name, "tack_plugin_entry") == 0)
        entry = sym[k].st_value;
    }
  }
  if (!entry)
    return -1;
  /* Not count: the plugins array is a local symbol, so a count larger than
   * it cannot be checked and makes the loader read past it (see
   * count_off). */
  add_region(&e, entry, offsetof(tack_plugin_list, count));
  add_region(&e, entry + offsetof(tack_plugin_list, layout),
             offsetof(tack_plugin_list, plugins) - offsetof(tack_plugin_list, layout));
  size_t entry_off = elf_offset(&e, entry);
  if (entry_off == SIZE_MAX || memcmp(so_image + entry_off, &(uint32_t){TACK_MAGIC}, 4) != 0)
    return -1;
  count_off = entry_off + offsetof(tack_plugin_list, count);
  uint32_t count;
  memcpy(&count, so_image + entry_off + offsetof(tack_plugin_list, count), sizeof count);
  uint64_t list = elf_pointer(&e, entry + offsetof(tack_plugin_list, plugins));
  for (uint32_t i = 0; list && i < count && i < 16; i++) {
    uint64_t desc = elf_pointer(&e, list + i * sizeof(void *));
    if (!desc)
      continue;
    add_region(&e, desc, offsetof(tack_plugin_desc, id));
    add_string(&e, elf_pointer(&e, desc + offsetof(tack_plugin_desc, id)));
    add_string(&e, elf_pointer(&e, desc + offsetof(tack_plugin_desc, name)));
    add_string(&e, elf_pointer(&e, desc + offsetof(tack_plugin_desc, version)));
    add_string(&e, elf_pointer(&e, desc + offsetof(tack_plugin_desc, description)));
    uint64_t params = elf_pointer(&e, desc + offsetof(tack_plugin_desc, params));
    for (size_t k = 0; params && k < 32; k++) {
      uint64_t p = params + k * sizeof(tack_param_spec);
      uint64_t name = elf_pointer(&e, p + offsetof(tack_param_spec, name));
      if (!name)
        break;
      add_string(&e, name);
      add_region(&e, p + offsetof(tack_param_spec, type),
                 offsetof(tack_param_spec, def_str) - offsetof(tack_param_spec, type));
      add_string(&e, elf_pointer(&e, p + offsetof(tack_param_spec, choices)));
    }
  }
  return n_regions > 1 ? 0 : -1;
}

/* Values the loader's checks sit next to, written over a 32-bit field. */
static const uint32_t edge_values[] = {0,  1,  2,  7,  8,  0x7fffffffu, 0x80000000u, 0xffffffffu,
                                       64, 65, 63, 31, 33, TACK_MAGIC,  0xffffu};

static void mutate_so(unsigned char *img) {
  memcpy(img, so_image, so_len);
  size_t ops = 1 + rnd_below(3);
  if (rnd_below(64) == 0)
    memset(img + count_off, 0, sizeof(uint32_t));
  for (size_t k = 0; k < ops; k++) {
    const region *r = &regions[rnd_below(n_regions)];
    size_t at = r->off + rnd_below(r->len);
    switch (rnd_below(5)) {
    case 0:
      img[at] ^= (unsigned char)(1u << rnd_below(8));
      break;
    case 1:
      img[at] = (unsigned char)rnd();
      break;
    case 2:
      img[at] = 0;
      break;
    case 3:
      img[at] = (unsigned char)"\xff\x80 .:A-_"[rnd_below(8)];
      break;
    default: { /* an edge value over an aligned 32-bit field */
      size_t field = r->off + (rnd_below(r->len) & ~(size_t)3);
      if (field + 4 <= r->off + r->len)
        memcpy(img + field, &edge_values[rnd_below(sizeof edge_values / sizeof edge_values[0])], 4);
      break;
    }
    }
  }
}

static void test_fuzz_loader(void **state) {
  (void)state;
  unsigned char *img = malloc(so_len);
  assert_non_null(img);
  static input shown; /* what fail_input prints: the changed bytes, as off:value */
  tally t;
  tally_start(&t, "loader");
  size_t n = share(10);
  for (size_t i = 0; i < n; i++, t.inputs++) {
    mutate_so(img);
    shown.len = 0;
    for (size_t b = 0; b < so_len && shown.len + 16 < FUZZ_MAX; b++)
      if (img[b] != so_image[b])
        shown.len += (size_t)snprintf((char *)shown.buf + shown.len, FUZZ_MAX - shown.len,
                                      "%zx:%02x ", b, img[b]);
    trace_input(&shown);
    char path[4200];
    snprintf(path, sizeof path, "%s/m%zu.so", tmp_dir, i);
    assert_int_equal(write_file(path, img, so_len, 0755), 0);
    tack_loader *l = NULL;
    assert_int_equal(tack_loader_new(&l), 0);
    int rc = tack_loader_load_file(l, path);
    check_code(&shown, rc);
    if (rc == 0) {
      CHECK(&shown, tack_loader_count(l) > 0 && tack_loader_refusal_count(l) == 0,
            "loaded %zu plugins, %zu refusals", tack_loader_count(l), tack_loader_refusal_count(l));
      for (size_t k = 0; k < tack_loader_count(l); k++)
        CHECK(&shown, tack_loader_at(l, k)->desc->id != NULL, "a plugin without an id");
      t.accepted++;
    } else {
      CHECK(&shown, rc == TACK_ENOMEM || (rc <= TACK_ELOAD_OPEN && rc >= TACK_ELOAD_PERM),
            "returned %s", tack_err_name(rc));
      CHECK(&shown, tack_loader_refusal_count(l) == 1 && tack_loader_count(l) == 0,
            "refused with %zu refusals, %zu plugins", tack_loader_refusal_count(l),
            tack_loader_count(l));
      const tack_refusal *ref = tack_loader_refusal_at(l, 0);
      CHECK(&shown, ref->code == rc && strncmp(ref->message, path, strlen(path)) == 0,
            "the refusal does not start with the path: %s", ref->message);
    }
    tack_loader_free(l);
    unlink(path);
  }
  free(img);
  tally_print(&t);
}

/* ------------------------------------------------------------------------ */
/* Setup in main(): cmocka 1.1.5 exits 0 when a group setup fails            */
/* ------------------------------------------------------------------------ */

static int setup(void) {
  const char *env = getenv("TACK_FUZZ_ITERATIONS");
  char *end = NULL;
  iterations = 20000;
  if (env && *env) {
    errno = 0;
    unsigned long long v = strtoull(env, &end, 10);
    if (errno || *end || v == 0) {
      fprintf(stderr, "test_fuzz: TACK_FUZZ_ITERATIONS=%s is not a positive integer\n", env);
      return -1;
    }
    iterations = (size_t)v;
  }
  rng_state = 1;
  env = getenv("TACK_FUZZ_SEED");
  if (env && *env) {
    errno = 0;
    rng_state = strtoull(env, &end, 10);
    if (errno || *end || rng_state == 0) {
      fprintf(stderr, "test_fuzz: TACK_FUZZ_SEED=%s is not a positive integer\n", env);
      return -1;
    }
  }
  tracing = getenv("TACK_FUZZ_TRACE") != NULL;
  const char *build = getenv("TACK_BUILD_DIR");
  if (!build) {
    fprintf(stderr, "test_fuzz: TACK_BUILD_DIR is not set (run it through ctest)\n");
    return -1;
  }
  snprintf(seed_dir, sizeof seed_dir, "%s", TACK_FUZZ_SEED_DIR);
  snprintf(plugin_dir, sizeof plugin_dir, "%s/plugins", build);

  static const char *const bars[] = {"basic.csv", "crlf_bom.csv", "negative.csv"};
  static const char *const trades[] = {"basic.csv", "crlf_bom.csv"};
  static const char *const configs[] = {"demo.cfg", "composite.cfg", "regime.cfg", "mtf.cfg",
                                        "scorer.cfg"};
  char dir[4200];
  snprintf(dir, sizeof dir, "%s/bars", seed_dir);
  int bad = corpus_read_files(&bars_seeds, dir, bars, 3) != 0;
  snprintf(dir, sizeof dir, "%s/trades", seed_dir);
  bad |= corpus_read_files(&trades_seeds, dir, trades, 2) != 0;
  snprintf(dir, sizeof dir, "%s/config", seed_dir);
  bad |= corpus_read_files(&config_seeds, dir, configs, 5) != 0;
  static const struct {
    corpus *c;
    const char *file;
  } lines[] = {{&timeframe_seeds, "timeframes.txt"},
               {&utc_seeds, "utc.txt"},
               {&seconds_seeds, "seconds.txt"},
               {&spec_seeds, "plugin_specs.txt"},
               {&feature_seeds, "features.txt"}};
  for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
    snprintf(dir, sizeof dir, "%s/%s", seed_dir, lines[i].file);
    bad |= corpus_read_lines(lines[i].c, dir) != 0;
  }
  if (bad) {
    fprintf(stderr, "test_fuzz: cannot read the seed corpora in %s\n", seed_dir);
    return -1;
  }

  if (tack_loader_new(&ld) != 0 || tack_loader_scan_dir(ld, plugin_dir) != 0 ||
      !tack_loader_find(ld, "rsi") || !tack_loader_find(ld, "example.sma") ||
      !tack_loader_find(ld, "heikin_ashi") || tack_plugin_spec_set_init(&set, ld) != 0) {
    fprintf(stderr, "test_fuzz: the plugins of %s do not load (build them first)\n", plugin_dir);
    return -1;
  }
  char so[4200];
  snprintf(so, sizeof so, "%s/example_sma.so", plugin_dir);
  FILE *f = fopen(so, "rb");
  struct stat st;
  if (!f || fstat(fileno(f), &st) != 0 || !(so_image = malloc((size_t)st.st_size)) ||
      fread(so_image, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
    fprintf(stderr, "test_fuzz: cannot read %s\n", so);
    if (f)
      fclose(f);
    return -1;
  }
  fclose(f);
  so_len = (size_t)st.st_size;
  if (find_regions() != 0) {
    fprintf(stderr, "test_fuzz: no tack_plugin_entry data found in %s\n", so);
    return -1;
  }

  snprintf(tmp_dir, sizeof tmp_dir, "%s/tack-fuzz-XXXXXX",
           getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
  if (!mkdtemp(tmp_dir) || chmod(tmp_dir, 0755) != 0) {
    fprintf(stderr, "test_fuzz: cannot make a temporary folder: %s\n", strerror(errno));
    return -1;
  }
  char *real = realpath(tmp_dir, NULL);
  if (real) {
    snprintf(tmp_dir, sizeof tmp_dir, "%s", real);
    free(real);
  }
  /* The plugins' and the host's own logging would drown the summary. */
  tack_log_set_level(TACK_LOG_ERROR - 1);
  printf("fuzz: %zu iterations per parser, seed %llu, %zu loader regions\n", iterations,
         (unsigned long long)rng_state, n_regions);
  return 0;
}

static void teardown(void) {
  if (tmp_dir[0])
    rmdir(tmp_dir);
  tack_plugin_spec_set_free(&set);
  tack_loader_free(ld);
  free(so_image);
  corpus *all[] = {&bars_seeds, &trades_seeds,  &config_seeds, &timeframe_seeds,
                   &utc_seeds,  &seconds_seeds, &spec_seeds,   &feature_seeds};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
    corpus_free(all[i]);
}

int main(void) {
  if (setup() != 0) {
    teardown();
    return 1;
  }
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fuzz_csv_bars),   cmocka_unit_test(test_fuzz_csv_trades),
      cmocka_unit_test(test_fuzz_csv_number), cmocka_unit_test(test_fuzz_candles_csv),
      cmocka_unit_test(test_fuzz_seconds),    cmocka_unit_test(test_fuzz_timeframe),
      cmocka_unit_test(test_fuzz_utc),        cmocka_unit_test(test_fuzz_plugin_spec),
      cmocka_unit_test(test_fuzz_features),   cmocka_unit_test(test_fuzz_config),
      cmocka_unit_test(test_fuzz_loader),
  };
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  teardown();
  return rc;
}
