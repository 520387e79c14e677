#!/usr/bin/env bash
# check-exports.sh: every plugin file given exports exactly one dynamic
# symbol, tack_plugin_entry, as data (the loader reads it before running any
# plugin code), and imports no tack_* symbol: plugins never link against the
# host. NM names the nm to use.
#   usage: check-exports.sh PLUGIN.so...
set -euo pipefail

nm=${NM:-nm}
# Symbols the toolchain adds: some linkers export these from every shared
# object, and AddressSanitizer adds an __odr_asan indicator per global.
toolchain='^(_init|_fini|_edata|_end|__bss_start|__odr_asan[._].*|__asan_.*)$'
status=0
for so in "$@"; do
  bad=0
  defined=$("$nm" -D --defined-only "$so" | awk 'NF == 3 {print $2, $3}')
  exported=$(awk '{print $2}' <<<"$defined" | grep -Ev "$toolchain" || true)
  if [[ $exported != tack_plugin_entry ]]; then
    echo "FAIL $so: exports [$(tr '\n' ' ' <<<"$exported")], expected only tack_plugin_entry"
    status=1
    continue
  fi
  type=$(awk '$2 == "tack_plugin_entry" {print $1}' <<<"$defined")
  if [[ $type != [DRB] ]]; then
    echo "FAIL $so: tack_plugin_entry has symbol type $type; it must be data, not code"
    bad=1
  fi
  imported=$("$nm" -D --undefined-only "$so" | awk '{print $NF}' | grep -E '^tack' || true)
  if [[ -n $imported ]]; then
    echo "FAIL $so: needs symbols from the host: $(tr '\n' ' ' <<<"$imported")"
    bad=1
  fi
  if ((bad)); then
    status=1
  else
    echo "ok   $so: exports tack_plugin_entry only"
  fi
done
exit $status
