#!/usr/bin/env bash
# c-sources.sh: prints the project's own C and C++ source files, one per
# line, relative to the project root: every tracked or new file that git
# does not ignore (so never a build folder), or, outside a git checkout,
# every such file below the root except build*/ folders. tests/golden/ is
# left out: it holds a frozen copy of the ABI 1.0 header that must stay
# byte for byte as released, so neither the style check nor `make format`
# may touch it.
set -euo pipefail
cd "$(dirname "$0")/.."

if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  git ls-files --cached --others --exclude-standard -- '*.c' '*.h' '*.cpp' ':!tests/golden/*' |
    while read -r f; do [[ -f $f ]] && echo "$f"; done | sort -u
else
  find . -path './build*' -prune -o -path './.git' -prune -o -path './tests/golden' -prune -o \
    -type f \( -name '*.c' -o -name '*.h' -o -name '*.cpp' \) -print | sed 's|^\./||' | sort
fi
