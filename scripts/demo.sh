#!/usr/bin/env bash
# demo.sh: what `make run` shows, from a built tree: every plugin the build
# made; 40 days of synthetic 5-minute candles for two symbols made into the
# demo's store (tack data synth, the same every time); the XGBoost scorer
# trained on the first 25 days when it has no model yet (tack train); the
# demo config checked; then 15 days paper-traded at an accelerated rate with
# a live status, a summary and an HTML report (tack run). Ctrl-C stops it
# early: positions are closed and the report is still written.
#   usage: scripts/demo.sh [BUILD_DIR]   (default: build)
set -euo pipefail
cd "$(dirname "$0")/.."

build=${1:-build}
tack=$build/host/tack
config=configs/demo.cfg
store=var/demo
model=var/models/demo-ml.json
report=var/demo-report.html

[[ -x $tack ]] || {
  echo "demo: $tack is not built: run 'make build'" >&2
  exit 1
}
[[ -f $config ]] || {
  echo "demo: $config is missing" >&2
  exit 1
}

# Each demo starts from a fresh store: its candles, its venue and its journal
# live there, and the demo replays the same data every time.
rm -rf "$store"
mkdir -p var/models

echo "== tack plugins"
"$tack" plugins
echo
echo "== tack data synth: 40 days of 5m candles, BTC-USD and ETH-USD, seed 7"
"$tack" data synth --store "$store" --symbol BTC-USD --symbol ETH-USD --timeframe 5m \
  --start 2024-01-01 --bars 11520 --seed 7 --tick 0.01
echo
if [[ -f $model ]]; then
  echo "== the scorer's model is there: $model (delete it to train again)"
else
  echo "== tack train $config: the XGBoost scorer on the first 25 days"
  "$tack" train "$config"
fi
echo
echo "== tack check $config"
"$tack" check "$config"
echo
echo "== tack run $config --status --report $report"
exec "$tack" run "$config" --status --report "$report"
