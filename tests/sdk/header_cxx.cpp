/*
 * header_cxx.cpp: tack.h in a C++ plugin. The sdk_header_cxx11 and
 * sdk_header_cxx17 tests compile this file alone with -Wall -Wextra
 * -Wpedantic -Werror; the build also makes it a plugin (test_cxx_plugin.so)
 * that test_template loads, so TACK_PLUGINS() in C++ is shown to export a
 * C symbol the loader finds. C++ before C++20 has no designated
 * initializers, so every struct is initialized in full, in field order.
 */
#include "tack.h"

#include <type_traits>

static_assert(sizeof(tack_bar) == 56, "tack_bar");
static_assert(sizeof(tack_trade) == 96, "tack_trade");
static_assert(sizeof(tack_quote) == 48, "tack_quote");
static_assert(sizeof(tack_book_level) == 24, "tack_book_level");
static_assert(sizeof(tack_order_request) == 200, "tack_order_request");
static_assert(sizeof(tack_order_update) == 328, "tack_order_update");
static_assert(sizeof(tack_fill) == 312, "tack_fill");
static_assert(sizeof(tack_balance) == 48, "tack_balance");
static_assert(sizeof(tack_position) == 112, "tack_position");
static_assert(sizeof(tack_signal) == 88, "tack_signal");
static_assert(sizeof(tack_instrument) == 176, "tack_instrument");
static_assert(sizeof(tack_subscription) == 80, "tack_subscription");
static_assert(offsetof(tack_plugin_list, magic) == 0, "magic");
static_assert(offsetof(tack_plugin_list, size) == 4, "size");
static_assert(offsetof(tack_plugin_list, abi_major) == 8, "abi_major");
static_assert(offsetof(tack_plugin_list, abi_minor) == 10, "abi_minor");

/* What C++ code may do with the value types: copy them as bytes. */
static_assert(std::is_standard_layout<tack_bar>::value, "tack_bar is standard layout");
static_assert(std::is_trivially_copyable<tack_order_update>::value, "memcpy-able");
static_assert(std::is_standard_layout<tack_plugin_list>::value, "tack_plugin_list");

namespace {

struct direction {
  tack_ctx *ctx;
  const tack_host *host;
};

int dir_create(tack_ctx *ctx, const tack_host *host, void **self) {
  void *mem = host->alloc(ctx, sizeof(direction));
  if (mem == nullptr)
    return TACK_ENOMEM;
  direction *d = static_cast<direction *>(mem);
  d->ctx = ctx;
  d->host = host;
  *self = d;
  return 0;
}

void dir_destroy(void *self) {
  direction *d = static_cast<direction *>(self);
  d->host->free(d->ctx, d);
}

/* +1 on an up bar, -1 on a down bar, 0 on a flat one. */
int dir_on_bar(void *self, const tack_bar *bar, tack_signal *out) {
  direction *d = static_cast<direction *>(self);
  out->ts = d->host->now(d->ctx);
  out->strength = bar->close > bar->open ? 1.0 : bar->close < bar->open ? -1.0 : 0.0;
  out->confidence = 1.0;
  tack_copy_text(out->reason, sizeof out->reason, "bar direction");
  return 1;
}

int close_update(void *self, const tack_bar *bar, double *out) {
  (void)self;
  out[0] = bar->close;
  return 1;
}

const tack_param_spec no_params[] = {
    {nullptr, 0, 0, 0.0, 0.0, 0.0, nullptr, nullptr, nullptr},
};

const tack_output_spec close_outputs[] = {
    {"close", "the close"},
    {nullptr, nullptr},
};

const tack_strategy_vtable strategy_vtable = {
    sizeof(tack_strategy_vtable),
    0,
    {dir_create, nullptr, nullptr, nullptr, dir_destroy},
    dir_on_bar,
    nullptr,
    nullptr,
};

const tack_indicator_vtable indicator_vtable = {
    sizeof(tack_indicator_vtable),
    0,
    {dir_create, nullptr, nullptr, nullptr, dir_destroy},
    close_outputs,
    nullptr,
    close_update,
    nullptr,
};

const tack_plugin_desc strategy_desc = {
    sizeof(tack_plugin_desc),
    TACK_KIND_STRATEGY,
    "test.cxx_strategy",
    "C++ strategy (test)",
    "1.0.0",
    "The direction of each bar.",
    no_params,
    &strategy_vtable,
};

const tack_plugin_desc indicator_desc = {
    sizeof(tack_plugin_desc),
    TACK_KIND_INDICATOR,
    "test.cxx_indicator",
    "C++ indicator (test)",
    "1.0.0",
    "The close.",
    nullptr,
    &indicator_vtable,
};

} // namespace

TACK_PLUGINS(&strategy_desc, &indicator_desc);

/* The helpers of the header work in C++ too. */
static_assert(TACK_LAYOUT_FINGERPRINT != 0, "fingerprint is a constant expression");
