#!/usr/bin/env bash
# report-shot.sh: a PNG screenshot of an HTML report (tack backtest, tack run
# --report) taken with headless Chromium, for the README and the docs. The
# page is rendered offline (it fetches nothing) in a throw-away profile;
# Chromium's console messages from the page, if any, are shown, and make the
# script fail, since the report must render without them.
#   usage: scripts/report-shot.sh REPORT.html OUT.png [WIDTHxHEIGHT]
#          (default 1280x2400: the header, the summary, the equity and
#          drawdown charts and the first symbol)
# CHROMIUM names the browser (default: chromium on PATH).
set -euo pipefail

if (($# < 2 || $# > 3)); then
  echo "usage: $0 REPORT.html OUT.png [WIDTHxHEIGHT]" >&2
  exit 2
fi
report=$1
png=$2
size=${3:-1280x2400}
[[ $size =~ ^([0-9]+)x([0-9]+)$ ]] || {
  echo "report-shot: size '$size' is not WIDTHxHEIGHT, e.g. 1280x2400" >&2
  exit 2
}
[[ -f $report ]] || {
  echo "report-shot: $report: no such file" >&2
  exit 1
}
chromium=${CHROMIUM:-$(command -v chromium || true)}
[[ -n $chromium && -x $chromium ]] || {
  echo "report-shot: chromium not found: install the Debian package chromium (make deps)," \
    "or set CHROMIUM" >&2
  exit 1
}

profile=$(mktemp -d "${TMPDIR:-/tmp}/report-shot.XXXXXX")
trap 'rm -rf -- "$profile"' EXIT
mkdir -p -- "$(dirname -- "$png")"
out=$(realpath -m -- "$png")
url="file://$(realpath -- "$report")"

if ! "$chromium" --headless=new --no-sandbox --disable-gpu --hide-scrollbars --no-first-run \
  --enable-logging=stderr --v=0 --user-data-dir="$profile" \
  --window-size="${BASH_REMATCH[1]},${BASH_REMATCH[2]}" --screenshot="$out" "$url" \
  >"$profile/stdout" 2>"$profile/stderr"; then
  echo "report-shot: chromium failed; its log:" >&2
  cat "$profile/stderr" >&2
  exit 1
fi
[[ -s $out ]] || {
  echo "report-shot: chromium wrote no $out" >&2
  exit 1
}
# Page console messages reach the log as ...:CONSOLE:LINE] "message", source: URL (LINE)
if grep -E ':CONSOLE|Uncaught' "$profile/stderr" >&2; then
  echo "report-shot: the page wrote to the console (above); $out was still written" >&2
  exit 1
fi
echo "report-shot: $out ($(stat -c %s -- "$out") bytes)"
