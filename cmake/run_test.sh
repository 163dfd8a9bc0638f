#!/bin/sh
# CTest's launcher (cmake/slate_rules.cmake): runs one test the way `bazel
# test` runs it. Usage: run_test.sh BUILD_DIR TEST_NAME COMMAND [ARGS...]
#   - working directory: the runfiles tree BUILD_DIR/runfiles/slate
#   - TEST_SRCDIR, TEST_WORKSPACE, and a fresh TEST_TMPDIR and
#     TEST_UNDECLARED_OUTPUTS_DIR under BUILD_DIR/testtmp/
#   - GoogleTest's XML report in BUILD_DIR/test-xml/ (./dev.sh counts it)
set -eu
build=$1 name=$2
shift 2
safe=$(printf '%s' "$name" | tr '/:' '__')
export TEST_SRCDIR="$build/runfiles" TEST_WORKSPACE=slate
export TEST_TMPDIR="$build/testtmp/$safe"
export TEST_UNDECLARED_OUTPUTS_DIR="$TEST_TMPDIR/outputs"
export GTEST_OUTPUT="xml:$build/test-xml/$safe.xml"
rm -rf "$TEST_TMPDIR" "$build/test-xml/$safe.xml"
mkdir -p "$TEST_UNDECLARED_OUTPUTS_DIR" "$build/test-xml"
cd "$TEST_SRCDIR/$TEST_WORKSPACE"
exec "$@"
