/*
 * test_sizing.c: the sizing policy (host/sizing.c). A table of (policy,
 * state, strength, position, price) -> (target, action, fraction, state)
 * covering entries, continuation up to the cap, weaker signals, reverse and
 * flat on an opposite signal, neutral hold and flat, the tolerance (which
 * never suppresses a close), the short clamp told once, unscaled sizing and
 * adopted positions; then invalid inputs, the policy check and sync.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sizing.h"
#include "tack.h"

/* Policies of the table: the defaults (allocation 1000, initial 0.5,
 * continuation 0.25, max 1, min strength 0.05, tolerance 0.02 = 20 quote,
 * opposite FLAT, neutral FLAT, scaled) and variations of them. */
enum {
  P_DEFAULT,
  P_REVERSE,
  P_HOLD,
  P_HOLD_MIN0,
  P_UNSCALED,
  P_MIN0,
  P_TOL10,
  P_REV_TOL10,
  P_CONT0
};

static tack_sizing_policy policy(int which) {
  tack_sizing_policy p;
  tack_sizing_policy_default(&p);
  switch (which) {
  case P_REVERSE:
    p.opposite = TACK_SIZING_OPPOSITE_REVERSE;
    break;
  case P_HOLD:
    p.neutral = TACK_SIZING_NEUTRAL_HOLD;
    break;
  case P_HOLD_MIN0:
    p.neutral = TACK_SIZING_NEUTRAL_HOLD;
    p.min_strength = 0;
    break;
  case P_UNSCALED:
    p.scale_by_strength = 0;
    break;
  case P_MIN0:
    p.min_strength = 0;
    break;
  case P_TOL10:
    p.tolerance = 0.1;
    break;
  case P_REV_TOL10:
    p.opposite = TACK_SIZING_OPPOSITE_REVERSE;
    p.tolerance = 0.1;
    break;
  case P_CONT0:
    p.continuation_fraction = 0;
    break;
  default:
    break;
  }
  assert_int_equal(tack_sizing_policy_check(&p, NULL), 0);
  return p;
}

#define HOLD TACK_SIZING_HOLD
#define ENTER TACK_SIZING_ENTER
#define ADD TACK_SIZING_ADD
#define REDUCE TACK_SIZING_REDUCE
#define CLOSE TACK_SIZING_CLOSE
#define REVERSE TACK_SIZING_REVERSE

typedef struct row {
  const char *what;
  int policy;
  int32_t dir;
  uint32_t n;
  int told;
  double s, current, price;
  int can_short;
  /* expected */
  double target;
  uint32_t action;
  double fraction;
  int clamped, tell, within;
  int32_t out_dir;
  uint32_t out_n;
} row;

static const row rows[] = {
    /* Entries and continuation: 1000 x fraction(n) x |s| / 100. */
    {"enter long", P_DEFAULT, 0, 0, 0, 1, 0, 100, 1, 5, ENTER, 0.5, 0, 0, 0, 1, 1},
    {"enter short", P_DEFAULT, 0, 0, 0, -1, 0, 100, 1, -5, ENTER, 0.5, 0, 0, 0, -1, 1},
    {"enter scaled", P_DEFAULT, 0, 0, 0, 0.4, 0, 100, 1, 2, ENTER, 0.5, 0, 0, 0, 1, 1},
    {"continue n=2", P_DEFAULT, 1, 1, 0, 1, 5, 100, 1, 7.5, ADD, 0.75, 0, 0, 0, 1, 2},
    {"continue n=3", P_DEFAULT, 1, 2, 0, 1, 7.5, 100, 1, 10, ADD, 1, 0, 0, 0, 1, 3},
    {"capped n=4", P_DEFAULT, 1, 3, 0, 1, 10, 100, 1, 10, HOLD, 1, 0, 0, 0, 1, 4},
    {"short continue", P_DEFAULT, -1, 1, 0, -1, -5, 100, 1, -7.5, ADD, 0.75, 0, 0, 0, -1, 2},
    {"no continuation", P_CONT0, 1, 1, 0, 1, 5, 100, 1, 5, HOLD, 0.5, 0, 0, 0, 1, 2},
    /* A weaker signal in the position's direction still counts: REDUCE. */
    {"weaker: reduce", P_DEFAULT, 1, 3, 0, 0.5, 10, 100, 1, 5, REDUCE, 1, 0, 0, 0, 1, 4},
    /* Same notional at a higher price: fewer units, REDUCE. */
    {"price up: reduce", P_DEFAULT, 1, 3, 0, 1, 10, 125, 1, 8, REDUCE, 1, 0, 0, 0, 1, 4},
    /* Opposite: close 100%, then flat or the other way at initial. */
    {"opposite flat", P_DEFAULT, 1, 2, 0, -1, 7.5, 100, 1, 0, CLOSE, 0, 0, 0, 0, 0, 0},
    {"opposite flat short", P_DEFAULT, -1, 3, 0, 0.9, -10, 100, 1, 0, CLOSE, 0, 0, 0, 0, 0, 0},
    {"reverse", P_REVERSE, 1, 2, 0, -0.8, 7.5, 100, 1, -4, REVERSE, 0.5, 0, 0, 0, -1, 1},
    {"reverse to long", P_REVERSE, -1, 3, 0, 1, -10, 100, 1, 5, REVERSE, 0.5, 0, 0, 0, 1, 1},
    /* Reverse on an instrument that cannot be shorted: close only. */
    {"reverse spot", P_REVERSE, 1, 2, 0, -1, 7.5, 100, 0, 0, CLOSE, 0, 1, 1, 0, 0, 0},
    {"reverse spot told", P_REVERSE, 1, 2, 1, -1, 7.5, 100, 0, 0, CLOSE, 0, 1, 0, 0, 0, 0},
    {"short from flat spot", P_DEFAULT, 0, 0, 0, -1, 0, 100, 0, 0, HOLD, 0, 1, 1, 0, 0, 0},
    {"short spot told", P_DEFAULT, 0, 0, 1, -1, 0, 100, 0, 0, HOLD, 0, 1, 0, 0, 0, 0},
    {"adopted short on spot", P_DEFAULT, 0, 0, 0, -1, -2, 100, 0, 0, CLOSE, 0, 1, 1, 0, 0, 0},
    {"long on spot", P_DEFAULT, 0, 0, 0, 1, 0, 100, 0, 5, ENTER, 0.5, 0, 0, 0, 1, 1},
    /* Neutral: below min_strength, and exactly 0 even with min_strength 0. */
    {"neutral flat", P_DEFAULT, 1, 2, 0, 0.04, 7.5, 100, 1, 0, CLOSE, 0, 0, 0, 0, 0, 0},
    {"neutral flat short", P_DEFAULT, -1, 1, 0, -0.01, -5, 100, 1, 0, CLOSE, 0, 0, 0, 0, 0, 0},
    {"neutral flat, flat", P_DEFAULT, 0, 0, 0, 0, 0, 100, 1, 0, HOLD, 0, 0, 0, 0, 0, 0},
    {"zero is neutral", P_MIN0, 1, 1, 0, 0, 5, 100, 1, 0, CLOSE, 0, 0, 0, 0, 0, 0},
    {"zero from flat", P_MIN0, 0, 0, 0, 0, 0, 100, 1, 0, HOLD, 0, 0, 0, 0, 0, 0},
    {"zero holds", P_HOLD_MIN0, 1, 2, 0, 0, 7.5, 100, 1, 7.5, HOLD, 0.75, 0, 0, 0, 1, 2},
    {"tiny is not", P_MIN0, 0, 0, 0, 0.5, 0, 100, 1, 2.5, ENTER, 0.5, 0, 0, 0, 1, 1},
    {"neutral hold", P_HOLD, 1, 2, 0, 0.01, 7.5, 100, 1, 7.5, HOLD, 0.75, 0, 0, 0, 1, 2},
    {"neutral hold zero", P_HOLD, -1, 1, 0, 0, -5, 100, 1, -5, HOLD, 0.5, 0, 0, 0, -1, 1},
    {"neutral hold, flat", P_HOLD, 0, 0, 0, 0, 0, 100, 1, 0, HOLD, 0, 0, 0, 0, 0, 0},
    /* Tolerance: 1000 / 101 = 9.90 vs 10 is 10 quote < 20: no order. */
    {"tolerance add", P_DEFAULT, 1, 3, 0, 1, 10, 101, 1, 10, HOLD, 1, 0, 0, 1, 1, 4},
    {"tolerance enter", P_TOL10, 0, 0, 0, 0.1, 0, 100, 1, 0, HOLD, 0, 0, 0, 1, 0, 0},
    {"over tolerance", P_TOL10, 0, 0, 0, 0.4, 0, 100, 1, 2, ENTER, 0.5, 0, 0, 0, 1, 1},
    /* A close to flat is never suppressed, however small. */
    {"dust close", P_TOL10, 1, 1, 0, 0, 0.05, 100, 1, 0, CLOSE, 0, 0, 0, 0, 0, 0},
    {"dust opposite", P_TOL10, 1, 1, 0, -1, 0.05, 100, 1, 0, CLOSE, 0, 0, 0, 0, 0, 0},
    /* A reverse whose new leg is within tolerance only closes. */
    {"tiny reverse", P_REV_TOL10, 1, 1, 0, -0.1, 5, 100, 1, 0, CLOSE, 0, 0, 0, 1, 0, 0},
    /* Unscaled: the full fraction whatever the strength. */
    {"unscaled", P_UNSCALED, 0, 0, 0, 0.3, 0, 100, 1, 5, ENTER, 0.5, 0, 0, 0, 1, 1},
    {"unscaled add", P_UNSCALED, 1, 1, 0, 0.1, 5, 100, 1, 7.5, ADD, 0.75, 0, 0, 0, 1, 2},
    {"unscaled neutral", P_UNSCALED, 1, 1, 0, 0.01, 5, 100, 1, 0, CLOSE, 0, 0, 0, 0, 0, 0},
    /* The state is aligned with current first, as sync would. */
    {"adopted long", P_DEFAULT, 0, 0, 0, 1, 3, 100, 1, 7.5, ADD, 0.75, 0, 0, 0, 1, 2},
    {"adopted short", P_DEFAULT, 0, 0, 0, -1, -2, 100, 1, -7.5, ADD, 0.75, 0, 0, 0, -1, 2},
    {"adopted, opposite", P_DEFAULT, 0, 0, 0, -1, 3, 100, 1, 0, CLOSE, 0, 0, 0, 0, 0, 0},
    {"closed outside", P_DEFAULT, 1, 3, 0, 1, 0, 100, 1, 5, ENTER, 0.5, 0, 0, 0, 1, 1},
    {"flipped outside", P_DEFAULT, 1, 3, 0, -1, -5, 100, 1, -7.5, ADD, 0.75, 0, 0, 0, -1, 2},
};

static void test_table(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    const row *r = &rows[i];
    tack_sizing_policy p = policy(r->policy);
    tack_sizing_state st = {r->dir, r->n, r->told};
    tack_sizing_decision d;
    memset(&d, 0xab, sizeof d);
    int rc = tack_sizing_decide(&p, &st, r->s, r->current, r->price, r->can_short, &d);
    if (rc != 0)
      fail_msg("%s: rc %d", r->what, rc);
    if (fabs(d.target - r->target) > 1e-9)
      fail_msg("%s: target %.12g, want %.12g", r->what, d.target, r->target);
    double want_delta = r->action == HOLD ? 0 : r->target - r->current;
    if (fabs(d.delta - want_delta) > 1e-9)
      fail_msg("%s: delta %.12g, want %.12g", r->what, d.delta, want_delta);
    if (d.action != r->action)
      fail_msg("%s: action %u, want %u", r->what, d.action, r->action);
    if (fabs(d.fraction - r->fraction) > 1e-12)
      fail_msg("%s: fraction %.12g, want %.12g", r->what, d.fraction, r->fraction);
    if (d.clamped_short != r->clamped || d.tell_clamp != r->tell || d.within_tolerance != r->within)
      fail_msg("%s: clamped %d tell %d within %d, want %d %d %d", r->what, d.clamped_short,
               d.tell_clamp, d.within_tolerance, r->clamped, r->tell, r->within);
    if (st.direction != r->out_dir || st.entries != r->out_n)
      fail_msg("%s: state %d/%u, want %d/%u", r->what, st.direction, st.entries, r->out_dir,
               r->out_n);
    if (st.short_clamp_told != (r->told || r->clamped))
      fail_msg("%s: short_clamp_told %d", r->what, st.short_clamp_told);
  }
}

/* Signals acted on in sequence, the position following each target:
 * fraction 0.5, 0.75, 1, then the cap; an opposite signal closes. */
static void test_sequence(void **state) {
  (void)state;
  tack_sizing_policy p = policy(P_DEFAULT);
  tack_sizing_state st = {0, 0, 0};
  tack_sizing_decision d;
  static const double fractions[] = {0.5, 0.75, 1, 1, 1};
  double pos = 0;
  for (size_t i = 0; i < sizeof fractions / sizeof fractions[0]; i++) {
    assert_int_equal(tack_sizing_decide(&p, &st, 1, pos, 200, 1, &d), 0);
    assert_true(fabs(d.fraction - fractions[i]) < 1e-12);
    assert_true(fabs(d.target - 1000 * fractions[i] / 200) < 1e-12);
    assert_int_equal(d.action, i == 0 ? ENTER : i < 3 ? ADD : HOLD);
    assert_int_equal(st.entries, i + 1);
    pos = d.target;
  }
  assert_int_equal(tack_sizing_decide(&p, &st, -0.5, pos, 200, 1, &d), 0);
  assert_int_equal(d.action, CLOSE);
  assert_true(d.delta == -pos);
  assert_int_equal(st.entries, 0);
  /* The next short signal, from flat, enters at initial_fraction. */
  assert_int_equal(tack_sizing_decide(&p, &st, -0.5, 0, 200, 1, &d), 0);
  assert_int_equal(d.action, ENTER);
  assert_true(fabs(d.target + 1000 * 0.5 * 0.5 / 200) < 1e-12);
}

/* The clamp is told once per state, across further signals and syncs. */
static void test_clamp_told_once(void **state) {
  (void)state;
  tack_sizing_policy p = policy(P_DEFAULT);
  tack_sizing_state st = {0, 0, 0};
  tack_sizing_decision d;
  int told = 0;
  for (int i = 0; i < 5; i++) {
    assert_int_equal(tack_sizing_decide(&p, &st, -1, 0, 100, 0, &d), 0);
    assert_int_equal(d.clamped_short, 1);
    told += d.tell_clamp;
    tack_sizing_sync(&st, 0);
  }
  assert_int_equal(told, 1);
}

static void test_invalid(void **state) {
  (void)state;
  static const struct {
    double s, current, price;
  } bad[] = {
      {NAN, 0, 100},       {INFINITY, 0, 100}, {1.5, 0, 100}, {-1.0001, 0, 100}, {1, NAN, 100},
      {1, -INFINITY, 100}, {1, 0, 0},          {1, 0, -5},    {1, 0, NAN},       {1, 0, INFINITY},
  };
  tack_sizing_policy p = policy(P_DEFAULT);
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    tack_sizing_state st = {1, 2, 0};
    tack_sizing_decision d;
    memset(&d, 0x5a, sizeof d);
    unsigned char before[sizeof d];
    memcpy(before, &d, sizeof d);
    assert_int_equal(tack_sizing_decide(&p, &st, bad[i].s, bad[i].current, bad[i].price, 1, &d),
                     TACK_EINVAL);
    assert_int_equal(st.direction, 1);
    assert_int_equal(st.entries, 2);
    assert_memory_equal(&d, before, sizeof d);
  }
  /* An invalid policy is refused too. */
  tack_sizing_state st = {0, 0, 0};
  tack_sizing_decision d;
  p.allocation = 0;
  assert_int_equal(tack_sizing_decide(&p, &st, 1, 0, 100, 1, &d), TACK_EINVAL);
  /* The ends of the strength range are valid. */
  p = policy(P_DEFAULT);
  assert_int_equal(tack_sizing_decide(&p, &st, -1, 0, 100, 1, &d), 0);
  assert_int_equal(tack_sizing_decide(&p, &st, 1, d.target, 100, 1, &d), 0);
}

static void test_policy_check(void **state) {
  (void)state;
  static const struct {
    const char *field;
    size_t offset;
    int is_uint;
    double value;
  } bad[] = {
      {"allocation", offsetof(tack_sizing_policy, allocation), 0, 0},
      {"allocation", offsetof(tack_sizing_policy, allocation), 0, INFINITY},
      {"initial_fraction", offsetof(tack_sizing_policy, initial_fraction), 0, 0},
      {"initial_fraction", offsetof(tack_sizing_policy, initial_fraction), 0, 1.01},
      {"continuation_fraction", offsetof(tack_sizing_policy, continuation_fraction), 0, -0.1},
      {"continuation_fraction", offsetof(tack_sizing_policy, continuation_fraction), 0, NAN},
      {"max_fraction", offsetof(tack_sizing_policy, max_fraction), 0, 0.4},
      {"max_fraction", offsetof(tack_sizing_policy, max_fraction), 0, 1.5},
      {"min_strength", offsetof(tack_sizing_policy, min_strength), 0, 1},
      {"min_strength", offsetof(tack_sizing_policy, min_strength), 0, -0.01},
      {"tolerance", offsetof(tack_sizing_policy, tolerance), 0, 1},
      {"tolerance", offsetof(tack_sizing_policy, tolerance), 0, -1},
      {"opposite", offsetof(tack_sizing_policy, opposite), 1, 2},
      {"neutral", offsetof(tack_sizing_policy, neutral), 1, 7},
  };
  tack_sizing_policy p;
  const char *field = "untouched";
  tack_sizing_policy_default(&p);
  assert_int_equal(tack_sizing_policy_check(&p, &field), 0);
  assert_null(field);
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    tack_sizing_policy_default(&p);
    char *at = (char *)&p + bad[i].offset;
    if (bad[i].is_uint) {
      uint32_t v = (uint32_t)bad[i].value;
      memcpy(at, &v, sizeof v);
    } else {
      memcpy(at, &bad[i].value, sizeof bad[i].value);
    }
    field = NULL;
    assert_int_equal(tack_sizing_policy_check(&p, &field), TACK_EINVAL);
    assert_non_null(field);
    assert_string_equal(field, bad[i].field);
  }
  tack_sizing_policy_default(&p);
  p.scale_by_strength = 2;
  assert_int_equal(tack_sizing_policy_check(&p, &field), TACK_EINVAL);
  assert_string_equal(field, "scale_by_strength");
  /* Bounds that are allowed. */
  tack_sizing_policy_default(&p);
  p.initial_fraction = 1;
  p.max_fraction = 1;
  p.continuation_fraction = 0;
  p.min_strength = 0;
  p.tolerance = 0;
  p.scale_by_strength = 0;
  p.opposite = TACK_SIZING_OPPOSITE_REVERSE;
  p.neutral = TACK_SIZING_NEUTRAL_HOLD;
  assert_int_equal(tack_sizing_policy_check(&p, NULL), 0);
}

static void test_sync(void **state) {
  (void)state;
  static const struct {
    int32_t dir;
    uint32_t n;
    double pos;
    int32_t want_dir;
    uint32_t want_n;
  } cases[] = {
      {0, 0, 0, 0, 0},  {1, 3, 0, 0, 0},   {0, 0, 2, 1, 1},   {0, 0, -2, -1, 1},
      {1, 3, 2, 1, 3},  {1, 0, 2, 1, 1},   {1, 3, -2, -1, 1}, {-1, 2, -0.1, -1, 2},
      {-1, 2, 4, 1, 1}, {1, 2, NAN, 0, 0},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    tack_sizing_state st = {cases[i].dir, cases[i].n, 1};
    tack_sizing_sync(&st, cases[i].pos);
    assert_int_equal(st.direction, cases[i].want_dir);
    assert_int_equal(st.entries, cases[i].want_n);
    assert_int_equal(st.short_clamp_told, 1);
  }
}

static void test_defaults(void **state) {
  (void)state;
  tack_sizing_policy p;
  tack_sizing_policy_default(&p);
  assert_true(p.allocation == 1000 && p.initial_fraction == 0.5 &&
              p.continuation_fraction == 0.25 && p.max_fraction == 1 && p.min_strength == 0.05 &&
              p.tolerance == 0.02);
  assert_int_equal(p.opposite, TACK_SIZING_OPPOSITE_FLAT);
  assert_int_equal(p.neutral, TACK_SIZING_NEUTRAL_FLAT);
  assert_int_equal(p.scale_by_strength, 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_table),           cmocka_unit_test(test_sequence),
      cmocka_unit_test(test_clamp_told_once), cmocka_unit_test(test_invalid),
      cmocka_unit_test(test_policy_check),    cmocka_unit_test(test_sync),
      cmocka_unit_test(test_defaults),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
