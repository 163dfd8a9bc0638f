#!/usr/bin/env bash
# Runs //examples:servicenow_replay on the 288-row fixture cut from the UCI
# ServiceNow event log (CC BY 4.0, see tests/import/fixtures/README.md), and
# without any data set (it must say so and exit 0).
set -euo pipefail
bin="$TEST_SRCDIR/$TEST_WORKSPACE/examples/servicenow_replay"
fixture="$TEST_SRCDIR/$TEST_WORKSPACE/tests/import/fixtures/servicenow_sample.csv"
out="$TEST_TMPDIR/out.txt"
fail() { echo "FAIL: $*"; cat "$out"; exit 1; }
"$bin" --db "$TEST_TMPDIR/db" "$fixture" > "$out" 2>&1 || fail "exit code $?"
grep -q '^Imported 282 of 288 rows (6 rejected' "$out" || fail "import line"
grep -Eq '^SLA replay to the end of the log fired [1-9][0-9]* warning/breach events' "$out" || fail "replay fired nothing"
grep -q '^2016-03-01  3         servicenow-incident-resolution  resolution  4    10        28.6%' "$out" || fail "SLA KPI row"
grep -q "^At risk within 8h of the log's end (2016-05-19 14:42 UTC)" "$out" || fail "at-risk line"

# --fidelity: made_sla against the engine's verdicts, then the what-if grid.
out="$TEST_TMPDIR/fidelity.txt"
"$bin" --db "$TEST_TMPDIR/db2" --fidelity "$fixture" > "$out" 2>&1 || fail "fidelity exit code $?"
grep -q '^P3            20     17  85.0%$' "$out" || fail "fidelity P3 row"
grep -q '^P3        48h     96h          95.0%      (85.0%)$' "$out" || fail "best target P3 row"
grep -q '^P1        4h      4h           100.0%     (100.0%)$' "$out" || fail "a tie keeps the policy's target"

out="$TEST_TMPDIR/none.txt"
BUILD_WORKSPACE_DIRECTORY="$TEST_TMPDIR/nowhere" "$bin" > "$out" 2>&1 || fail "no data should exit 0"
grep -q 'nothing to replay' "$out" || fail "no-data message"
echo "PASS: servicenow_replay"
