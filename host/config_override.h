/*
 * config_override.h: settings changed on top of a config file, before it is
 * checked: `--set PATH=VALUE` on the command line, the backtest's venue
 * substitution, the optimizer's parameter sets. An override goes into the
 * parsed libconfig tree, so the result is checked exactly like a file that
 * said so (every error still names the file and line of the setting's
 * group; an added setting is reported as "(override PATH=VALUE)").
 *
 * PATH is a dotted path of group names from the root:
 *   strategies.cross.params.fast=12
 *   exchanges.sim.params.slippage="fixed"
 *   trading.sizing.allocation=2500.5
 *   exchanges.live.params=          (empty: remove the setting)
 * VALUE is a libconfig scalar: an integer (64-bit; "12", "-3", "0x1f"), a
 * float ("2.5", "1e-3"; a number with '.' or an exponent), a boolean (true,
 * false), or a string, "quoted" or bare (a bare word that is none of the
 * others is a string). Missing groups on the way are created. A setting
 * that exists with another scalar type is replaced when the new value is of
 * a type the schema may accept there (an int where a float was is written as
 * a float: libconfig keeps 2 and 2.0 apart, the schema does not).
 */
#ifndef TACK_CONFIG_OVERRIDE_H
#define TACK_CONFIG_OVERRIDE_H

#include <libconfig.h>
#include <stddef.h>

#include "config.h"
#include "diag.h"

/* Apply one "PATH=VALUE" to the tree. Returns 0, or TACK_EINVAL with the
 * problem in d (a malformed override, a path through a non-group, a list
 * index), or TACK_ENOMEM. */
int tack_config_override(config_t *lc, const char *override, tack_diag *d);

/* tack_config_load() with overrides applied, in order, after parsing and
 * before any check. n may be 0. */
int tack_config_load_with(const char *path, const char *const *overrides, size_t n,
                          tack_config **out, tack_diag *d);

#endif
