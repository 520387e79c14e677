#!/usr/bin/env bash
# check-style.sh: the mechanical part of STYLE.md, over every project C and
# C++ file (scripts/c-sources.sh lists them). Fails, naming file and line,
# when a file
#   - calls a banned function (sprintf, vsprintf, strcpy, strcat, atoi, atol,
#     atof, strtok, gets); calls only: comments and strings are not searched;
#   - does not start with a header comment saying what it owns;
#   - has a TODO or FIXME without an issue number, TODO(#12);
#   - is not formatted as .clang-format says (clang-format --dry-run).
# Usage: scripts/check-style.sh [FILE...]   (default: every project file)
# CLANG_FORMAT names the clang-format to use.
set -euo pipefail

if (($# > 0)); then
  mapfile -t files < <(realpath -e -- "$@")
  cd "$(dirname "$0")/.."
else
  cd "$(dirname "$0")/.."
  mapfile -t files < <(scripts/c-sources.sh)
fi
if ((${#files[@]} == 0)); then
  echo "check-style: no C files found" >&2
  exit 1
fi

problems=0

# Banned calls, header comments and TODOs. Comments, string and character
# literals are blanked (newlines kept, so line numbers hold) before calls are
# searched, so prose that mentions strcpy is not a call to it.
perl_out=$(perl -e '
  use strict;
  use warnings;
  my %instead = (
    sprintf  => "use snprintf",
    vsprintf => "use vsnprintf",
    strcpy   => "use snprintf, memcpy with a known length, or tack_copy_text",
    strcat   => "use snprintf into the remaining space",
    atoi     => "use strtol with an end pointer and errno",
    atol     => "use strtol or strtoll with an end pointer and errno",
    atof     => "use strtod with an end pointer and errno",
    strtok   => "use strtok_r, or strcspn/strspn",
    gets     => "use fgets",
  );
  my $banned = qr/\b(sprintf|vsprintf|strcpy|strcat|atoi|atol|atof|strtok|gets)\s*\(/;
  my $n = 0;
  for my $file (@ARGV) {
    open(my $fh, "<", $file) or die "$file: $!\n";
    my $text = do { local $/; <$fh> };
    close $fh;
    if ($text !~ m{\A\s*(?:/\*|//)}) {
      print "$file:1: no header comment: begin with a comment that says what the file owns\n";
      $n++;
    }
    my $ln = 0;
    for my $line (split /\n/, $text, -1) {
      $ln++;
      if ($line =~ /\b(TODO|FIXME)\b(?!\s*\(?#\d)/) {
        print "$file:$ln: $1 without an issue number: write $1(#N) or do it now\n";
        $n++;
      }
    }
    (my $code = $text) =~ s{(/\*.*?\*/|//[^\n]*|"(?:\\.|[^"\\\n])*"|\x27(?:\\.|[^\x27\\\n])*\x27)}
                           {my $m = $1; $m =~ s/[^\n]/ /g; $m}gse;
    $ln = 0;
    for my $line (split /\n/, $code, -1) {
      $ln++;
      while ($line =~ /$banned/g) {
        print "$file:$ln: $1() is banned: $instead{$1}\n";
        $n++;
      }
    }
  }
  exit($n ? 1 : 0);
' "${files[@]}") || problems=$((problems + $(grep -c . <<<"$perl_out")))
[[ -n $perl_out ]] && echo "$perl_out"

# Formatting.
clang_format=${CLANG_FORMAT:-clang-format}
if ! command -v "$clang_format" >/dev/null; then
  echo "check-style: $clang_format not found: run 'make deps' (Debian package clang-format)" >&2
  exit 1
fi
for f in "${files[@]}"; do
  if ! "$clang_format" --dry-run --Werror "$f" >/dev/null 2>&1; then
    echo "$f: not clang-format clean ('clang-format --dry-run $f' shows where," \
      "'make format' fixes it)"
    problems=$((problems + 1))
  fi
done

if ((problems > 0)); then
  echo "check-style: $problems problem(s) in ${#files[@]} files" >&2
  exit 1
fi
echo "check-style: ${#files[@]} files clean"
