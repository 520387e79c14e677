#!/usr/bin/env bash
# check-docs.sh: the error code table of docs/sdk.md is TACK_ERRNO_MAP of
# sdk/tack.h, row for row, so that the guide cannot drift from the header.
#   usage: check-docs.sh SOURCE_DIR
set -euo pipefail
cd "$1"

expected=$(grep -oE 'XX\([A-Z_]+, -[0-9]+, "[^"]*"\)' sdk/tack.h |
  sed -E 's/XX\(([A-Z_]+), (-[0-9]+), "([^"]*)"\)/| `TACK_\1` | \2 | \3 |/')
documented=$(grep -E '^\| `TACK_E[A-Z_]+` \| -[0-9]+ \|' docs/sdk.md)
[[ -n $expected ]] || {
  echo "FAIL: no TACK_ERRNO_MAP entries found in sdk/tack.h"
  exit 1
}
if [[ $expected != "$documented" ]]; then
  echo "FAIL: the error table of docs/sdk.md differs from TACK_ERRNO_MAP in sdk/tack.h:"
  diff <(echo "$expected") <(echo "$documented") || true
  echo "(< tack.h, > docs/sdk.md)"
  exit 1
fi
echo "ok: docs/sdk.md lists all $(wc -l <<<"$expected") error codes of sdk/tack.h"
