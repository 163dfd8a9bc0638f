#!/usr/bin/env bash
# Runs //examples:quickstart twice on one database and checks the story's
# facts: the response clock met, the resolution clock breached at 15:30
# after a 2h30m pause, warnings fired once, nothing appended the second time.
set -euo pipefail
bin="$TEST_SRCDIR/$TEST_WORKSPACE/examples/quickstart"
db="$TEST_TMPDIR/qs-db"
fail() { echo "FAIL: $*"; echo "--- output ---"; cat "$out"; exit 1; }

out="$TEST_TMPDIR/run1.txt"
"$bin" --db "$db" > "$out" 2>&1 || fail "first run exited with $?"
grep -q 'p1-office response (cycle 1): MET, target 30m, business time used 12m' "$out" || fail "response clock"
grep -q 'p1-office resolution (cycle 1): BREACHED, target 4h, business time used 4h30m, paused 2h30m, deadline Mon 15:30, breached Mon 15:30' "$out" || fail "resolution clock"
[ "$(grep -c 'resolution [0-9]*% warning on incident/INC1' "$out")" = 3 ] || fail "expected 3 warnings"
grep -q 'resolution 75% warning on incident/INC1 (policy p1-office, cycle 1), due Mon 2026-11-30 14:30 CET: 3h of 4h business time' "$out" || fail "warning in people's units"
[ "$(grep -c 'resolution breached on incident/INC1 (policy p1-office, cycle 1) at Mon 2026-11-30 15:30 CET' "$out")" = 1 ] || fail "expected 1 breach"
grep -q '^2026-11-30  1         p1-office  resolution  0    1         0.0%' "$out" || fail "KPI SLA row"
grep -q 'every projection equals a rebuild' "$out" || fail "verify line"
events=$(sed -n 's/^The log holds \([0-9]*\) events.*/\1/p' "$out")

out="$TEST_TMPDIR/run2.txt"
"$bin" --db "$db" > "$out" 2>&1 || fail "second run exited with $?"
[ "$(grep -c 'fires 0 SLA event' "$out")" = 2 ] || fail "second run fired again"
grep -q "^The log holds $events events" "$out" || fail "second run appended events"

out="$TEST_TMPDIR/usage.txt"
set +e; "$bin" --bogus > "$out" 2>&1; rc=$?; set -e
[ "$rc" = 2 ] || fail "bad argument should exit 2, got $rc"
echo "PASS: quickstart story, idempotent rerun ($events events), usage error"
