#!/usr/bin/env bash
# Builds the consumer projects in tests/packaging against a Slate installed
# under PREFIX (`./dev.sh install PREFIX` or `cmake --install`), each in a
# temporary directory outside the repository, and runs them:
#   cmake_consumer       find_package(Slate), target slate::slate
#   pkgconfig_consumer   pkg-config slate (a Makefile)
# and checks PREFIX/bin/slate version. Usage: installed_consumers_test.sh PREFIX
set -uo pipefail
. "$(dirname "$0")/lib.sh"
prefix=$(cd "$1" && pwd)

dir=$(new_project cmake_consumer)
if cmake -S "$dir" -B "$dir/build" -DCMAKE_PREFIX_PATH="$prefix" >"$dir/build.log" 2>&1 &&
   cmake --build "$dir/build" >>"$dir/build.log" 2>&1; then
  check_run "CMake consumer (find_package(Slate), slate::slate)" "$dir/build/consumer" "$dir/build.log"
else
  fail "CMake consumer (find_package(Slate))" "build failed: $(tail -20 "$dir/build.log")"
fi
[ "$FAILED" -eq 0 ] && rm -rf "$dir"

dir=$(new_project pkgconfig_consumer)
pcdir=$(dirname "$(find "$prefix" -name slate.pc | head -1)")
if PKG_CONFIG_PATH="$pcdir" make -C "$dir" >"$dir/build.log" 2>&1; then
  check_run "pkg-config consumer (pkg-config slate)" "$dir/consumer" "$dir/build.log"
else
  fail "pkg-config consumer (pkg-config slate)" "build failed: $(tail -20 "$dir/build.log")"
fi
[ "$FAILED" -eq 0 ] && rm -rf "$dir"

expected="slate $VERSION (log format $(sed -n 's/^inline constexpr int kFormatVersion = \([0-9]*\);$/\1/p' "$ROOT/lib/log/log_format.h"))"
got=$("$prefix/bin/slate" version 2>&1)
if [ "$got" = "$expected" ]; then
  pass "installed slate version ($got)"
else
  fail "installed slate version" "printed '$got', expected '$expected'"
fi
exit "$FAILED"
