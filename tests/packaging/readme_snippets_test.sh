#!/usr/bin/env bash
# README.md's "Embedding it" quotes the consumer projects' files: checks that
# every one appears there unchanged (the WORKSPACE without its first line).
set -uo pipefail
. "$(dirname "$0")/lib.sh"
for f in bazel_consumer/WORKSPACE bazel_consumer/BUILD.bazel \
         bazel_consumer/.bazelrc cmake_consumer/CMakeLists.txt \
         pkgconfig_consumer/Makefile; do
  want=$(cat "$PKG/$f")
  [ "$f" = bazel_consumer/WORKSPACE ] && want=$(sed '1,2d' "$PKG/$f")
  [ "$f" = bazel_consumer/.bazelrc ] && want=${want#build }
  if python3 -c 'import sys; sys.exit(0 if sys.argv[1] in open(sys.argv[2]).read() else 1)' \
       "$want" "$ROOT/README.md"; then
    pass "README quotes tests/packaging/$f"
  else
    fail "README quotes tests/packaging/$f" "README.md's snippet differs from the tested file"
  fi
done
exit "$FAILED"
