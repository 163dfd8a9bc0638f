#!/usr/bin/env bash
# Runs //examples:embedded_service: intake, dashboard and notifier threads on
# one engine; checks no intake errors, queries were served concurrently, the
# notifier saw every resolution live, and the program shut down cleanly.
set -euo pipefail
bin="$TEST_SRCDIR/$TEST_WORKSPACE/examples/embedded_service"
out="$TEST_TMPDIR/out.txt"
fail() { echo "FAIL: $*"; cat "$out"; exit 1; }
"$bin" > "$out" 2>&1 || fail "exit code $?"
grep -q '^Intake: 200 incidents opened, 67 resolved, 0 errors$' "$out" || fail "intake"
grep -Eq '^Dashboard: [1-9][0-9]* at-risk queries served' "$out" || fail "dashboard served no query"
grep -Eq '^Notifier: saw [1-9][0-9]* SLA breaches and 67 resolutions live$' "$out" || fail "notifier"
[ "$(grep -c '^  incident/WEB' "$out")" = 5 ] || fail "top-5 at-risk list"
grep -q 'shutting down cleanly' "$out" || fail "shutdown"
echo "PASS: embedded_service"
