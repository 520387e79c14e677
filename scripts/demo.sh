#!/usr/bin/env bash
# demo.sh: what `make run` shows, from a built tree: every plugin the build
# made, the demo config checked and its pipeline printed, then the demo run
# until its data ends (or Ctrl-C): paper trading with the trading engine.
#   usage: scripts/demo.sh [BUILD_DIR]   (default: build)
set -euo pipefail
cd "$(dirname "$0")/.."

build=${1:-build}
tack=$build/host/tack
config=configs/demo.cfg

[[ -x $tack ]] || {
  echo "demo: $tack is not built: run 'make build'" >&2
  exit 1
}
[[ -f $config ]] || {
  echo "demo: $config is missing" >&2
  exit 1
}


# Each demo starts from a fresh store: its venue and its journal both live
# there, and the demo replays the same data every time.
rm -rf var/demo

echo "== tack plugins"
"$tack" plugins
echo
echo "== tack check $config"
"$tack" check "$config"
echo
echo "== tack run $config"
exec "$tack" run "$config"
