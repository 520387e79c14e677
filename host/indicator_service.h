/*
 * indicator_service.h: the host side of tack_host.ind_open, ind_reset and
 * ind_close: indicator plugins that a plugin instance opens for its own use
 * from a spec "ID[:PARAMS]" (parsed and checked by plugin_spec.h, exactly as
 * `tack calc` reads one).
 *
 * Each indicator opened is a child instance of the indicator plugin, found
 * by id in the process's plugin registry (tack_instance_set_registry()),
 * created, configured and started at once with no runtime (an indicator
 * needs none: it computes from the bars it is fed). The opener gets a
 * tack_ind that points at the child's own update and instance, so a bar
 * reaches the indicator with one indirect call and no host code between.
 *
 * The children are owned by the opening instance: ind_close destroys one
 * early, and the rest are destroyed right after the opener's own destroy
 * (tack_indicator_service_close_all, called by instance.c). A tack_ind is
 * valid until then.
 *
 * Problems are reported through tack_instance_problem(): naming the opener's
 * plugin, the spec and what is wrong, at the opener's config file and line
 * while it is created or configured (the instance then fails with
 * TACK_ECONFIG, as for a param_error), logged otherwise.
 *
 * Everything here runs on the loop thread.
 */
#ifndef TACK_INDICATOR_SERVICE_H
#define TACK_INDICATOR_SERVICE_H

#include "tack.h"

/*
 * tack_host.ind_open. Allowed while the instance is in create, configure or
 * start (TACK_ESTATE otherwise). Returns 0 with *out set, or with *out NULL:
 *   TACK_ENOENT   no indicator plugin has that id (or no registry is set)
 *   TACK_ETYPE    the id names a plugin of another kind
 *   TACK_ECONFIG  a malformed spec, or parameters the indicator's spec or
 *                 its own configure refuses (too many values, a bad value)
 *   TACK_EINVAL   no spec or no out
 *   TACK_ENOMEM, or the indicator's own create or start error
 */
int tack_indicator_service_open(tack_ctx *ctx, const char *spec, const tack_ind **out);

/* tack_host.ind_reset: the indicator's reset(), or, for an indicator that
 * has none, a fresh child made from the same spec (the tack_ind keeps its
 * address). Any state. An ind this instance did not open (or has closed) is
 * logged and ignored. */
void tack_indicator_service_reset(tack_ctx *ctx, const tack_ind *ind);

/* tack_host.ind_close: destroy the child now. Any state; NULL is a no-op;
 * an ind this instance did not open is logged and ignored. */
void tack_indicator_service_close(tack_ctx *ctx, const tack_ind *ind);

/* Destroy every child ctx still has. For instance.c, once the plugin's
 * destroy has run (or create failed). */
void tack_indicator_service_close_all(tack_ctx *ctx);

#endif
