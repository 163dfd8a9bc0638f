#!/usr/bin/env bash
# Runs //examples:change_calendar: CAB quorum refusal, blackout refusal with
# the conflict listed, override, rolled-back change that caused an incident,
# and the month's change KPIs.
set -euo pipefail
bin="$TEST_SRCDIR/$TEST_WORKSPACE/examples/change_calendar"
out="$TEST_TMPDIR/out.txt"
fail() { echo "FAIL: $*"; cat "$out"; exit 1; }
"$bin" > "$out" 2>&1 || fail "exit code $? (an unexpected result?)"
grep -q 'refused as expected: FAILED_PRECONDITION: .*needs 2 more approval(s) from cab' "$out" || fail "CAB quorum"
grep -q 'refused as expected: FAILED_PRECONDITION: .*1 conflict(s): blackout quarter-end of service crm' "$out" || fail "blackout conflict"
grep -Eq '^2026-11-01 +3 +1 +33.3% +2 +1 +0 +0 +1 +50.0% +50.0% +1 +50.0%$' "$out" || fail "change KPI row"
echo "PASS: change_calendar"
