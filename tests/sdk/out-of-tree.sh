#!/usr/bin/env bash
# out-of-tree.sh: the strategy author's path, end to end. Installs tack from
# BUILD into a fresh prefix, builds sdk/template out of tree twice (its
# Makefile through pkg-config, its CMakeLists.txt through
# find_package(TackSDK)), and checks that the installed tack loads every
# plugin built, and lists them when they are dropped into a plugins folder.
#   usage: out-of-tree.sh BUILD_DIR SOURCE_DIR WORK_DIR
# CMAKE and CC name the cmake and C compiler to use.
set -euo pipefail

build=$1
source=$2
work=$3
cmake=${CMAKE:-cmake}
export CC=${CC:-cc}
ids=(example.sma example.median example.momentum example.linear example.replay)

fail() {
  echo "FAIL: $*" >&2
  exit 1
}
step() { echo "--- $*"; }

# Nothing from the caller's environment may decide where things are found.
unset TACK_PLUGIN_PATH PKG_CONFIG_PATH CMAKE_PREFIX_PATH
rm -rf "$work"
mkdir -p "$work"
chmod 0755 "$work"
prefix=$work/prefix

step "install into $prefix"
"$cmake" --install "$build" --prefix "$prefix" >"$work/install.log" ||
  fail "cmake --install failed; see $work/install.log"
for f in bin/tack include/tack.h lib/pkgconfig/tack-sdk.pc \
  lib/cmake/TackSDK/TackSDKConfig.cmake lib/cmake/TackSDK/TackSDKConfigVersion.cmake; do
  [[ -e $prefix/$f ]] || fail "the install has no $f"
done
for id in "${ids[@]}"; do
  so=$prefix/lib/tack/plugins/${id/./_}.so
  [[ -e $so ]] || fail "the install has no $so"
done

step "the installed tack finds its own plugins (an install made with --prefix alone)"
out=$("$prefix/bin/tack" plugins 2>&1) || fail "tack plugins exited $?:"$'\n'"$out"
for id in "${ids[@]}"; do
  [[ $out == *"$prefix/lib/tack/plugins"* && $out == *"$id"* ]] ||
    fail "the installed tack plugins does not list $id from $prefix/lib/tack/plugins:"$'\n'"$out"
done

step "pkg-config"
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
cflags=$(pkg-config --cflags tack-sdk | xargs) # xargs: trims the trailing space
libs=$(pkg-config --libs tack-sdk | xargs)
plugindir=$(pkg-config --variable=plugindir tack-sdk)
abi=$(pkg-config --variable=abi tack-sdk)
[[ $cflags == "-I$prefix/include" ]] || fail "--cflags gave '$cflags', expected -I$prefix/include"
[[ -z $libs ]] || fail "--libs gave '$libs': a plugin must link nothing of tack's"
[[ $plugindir == "$prefix/lib/tack/plugins" ]] || fail "plugindir is '$plugindir'"
version=$("$prefix/bin/tack" --version)
[[ $version == *"SDK ABI $abi)"* ]] || fail "pkg-config says ABI $abi, tack --version says '$version'"
echo "cflags=$cflags libs='$libs' plugindir=$plugindir abi=$abi"

step "make, with pkg-config"
cp -R "$source/sdk/template" "$work/make-src"
rm -f "$work/make-src"/*.so
make -C "$work/make-src" >"$work/make.log" 2>&1 || {
  cat "$work/make.log"
  fail "make failed"
}
make -C "$work/make-src" install PLUGINDIR="$work/dropin" >>"$work/make.log" 2>&1 ||
  fail "make install failed; see $work/make.log"

step "cmake, with find_package(TackSDK)"
"$cmake" -S "$source/sdk/template" -B "$work/cmake-build" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$work/cmake.log" 2>&1 || {
  cat "$work/cmake.log"
  fail "configuring sdk/template with CMake failed"
}
found=$(sed -n 's/^TackSDK_DIR:PATH=//p' "$work/cmake-build/CMakeCache.txt")
[[ $found == "$prefix/lib/cmake/TackSDK" ]] || fail "CMake found TackSDK in '$found'"
"$cmake" --build "$work/cmake-build" -j 2 >>"$work/cmake.log" 2>&1 || {
  cat "$work/cmake.log"
  fail "building sdk/template with CMake failed"
}

step "an SDK of another ABI major is refused by find_package"
mkdir -p "$work/abi2"
cat >"$work/abi2/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.16)
project(abi2 C)
find_package(TackSDK 2.0 REQUIRED)
CMAKE
if "$cmake" -S "$work/abi2" -B "$work/abi2/build" -DCMAKE_PREFIX_PATH="$prefix" \
  >"$work/abi2.log" 2>&1; then
  fail "find_package(TackSDK 2.0) accepted ABI $abi"
fi
grep -q 'compatible with requested version' "$work/abi2.log" ||
  fail "find_package(TackSDK 2.0) failed for another reason than the version; see $work/abi2.log"

step "the installed tack loads every plugin built"
for dir in "$work/make-src" "$work/cmake-build/plugins"; do
  for id in "${ids[@]}"; do
    so=$dir/${id/./_}.so
    [[ -e $so ]] || fail "$so was not built"
    set +e
    out=$("$prefix/bin/tack" plugin-info "$so" 2>&1)
    rc=$?
    set -e
    ((rc == 0)) || fail "tack plugin-info $so exited $rc:"$'\n'"$out"
    [[ $out == *"$id"* ]] || fail "tack plugin-info $so does not name $id:"$'\n'"$out"
    echo "ok   $so: $id"
  done
done

step "dropped into a plugins folder, tack plugins lists them"
set +e
out=$("$prefix/bin/tack" plugins --dir "$work/dropin" 2>&1)
rc=$?
set -e
((rc == 0)) || fail "tack plugins --dir $work/dropin exited $rc:"$'\n'"$out"
for id in "${ids[@]}"; do
  [[ $out == *"$id"* ]] || fail "tack plugins --dir $work/dropin does not list $id:"$'\n'"$out"
done
echo "$out"

step "the tutorial's files (docs/plugin-tutorial.md) build, load, check and run"
# Each file follows a "<!-- file: NAME -->" line, in the next fenced block.
extract() {
  awk -v name="$1" '
    $0 == "<!-- file: " name " -->" { want = 1; next }
    want && /^```/ { if (inside) exit; inside = 1; next }
    inside { print }' "$source/docs/plugin-tutorial.md"
}
tutorial=$work/tutorial
mkdir -p "$tutorial"
for f in acme_breakout.c Makefile breakout.cfg; do
  extract "$f" >"$tutorial/$f"
  [[ -s $tutorial/$f ]] || fail "docs/plugin-tutorial.md has no block for $f"
done
make -C "$tutorial" >"$work/tutorial.log" 2>&1 &&
  make -C "$tutorial" install PLUGINDIR="$tutorial/plugins" >>"$work/tutorial.log" 2>&1 || {
  cat "$work/tutorial.log"
  fail "the tutorial's Makefile failed"
}
"$prefix/bin/tack" plugin-info "$tutorial/acme_breakout.so" >>"$work/tutorial.log" 2>&1 ||
  fail "tack plugin-info refused the tutorial's plugin; see $work/tutorial.log"
# tack was configured for another prefix than this one, so its default
# folder is not $prefix/lib/tack/plugins: name it, as an install made with
# `make install PREFIX=...` needs not.
export TACK_PLUGIN_PATH=$prefix/lib/tack/plugins
for cmd in check run; do
  set +e
  out=$(cd "$tutorial" && timeout 120 "$prefix/bin/tack" "$cmd" breakout.cfg 2>&1)
  rc=$?
  set -e
  ((rc == 0)) || fail "tack $cmd breakout.cfg (the tutorial's) exited $rc:"$'\n'"$out"
  [[ $out == *BTC-USD* ]] || fail "tack $cmd breakout.cfg does not mention BTC-USD:"$'\n'"$out"
  echo "ok   tack $cmd breakout.cfg"
done
echo "$out" | tail -8
echo "out-of-tree: all checks passed"
