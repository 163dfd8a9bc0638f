#!/bin/bash
# `slate at-risk --format table|csv|json` on tests/tools/at_risk.jsonl.
# Hand-computed (24x7, policy p12: P1 4h, P2 8h, from the open, paused
# while on hold). "used" is the share of the target used as of the clock's
# latest input (what `slate at-risk` has always shown), not as of --now:
#   INC1 P1 opened 09:00, group `net, "east"`, on hold 10:00-10:30: the
#     deadline moves to 13:30; at the resume it had used 1h of 4h = 25 %.
#   INC2 P2 opened 10:00, no group: deadline 18:00; its only input is the
#     start, so 0 %.
# Usage (from Bazel or CTest): slate_at_risk_test.sh SLATE_BINARY TESTS_TOOLS_DIR
set -u
SLATE="$1"
DATA="$2/at_risk.jsonl"
NOW=2026-11-02T11:00:00Z
TMP="${TEST_TMPDIR:-/tmp}/at-risk.$$"
mkdir -p "$TMP"
db="$TMP/db"
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

"$SLATE" exec --db "$db" --now "$NOW" "$DATA" >"$TMP/exec.out" ||
  fail "exec: $(grep -v '"ok":true' "$TMP/exec.out")"

expect() {  # name expected-text args...
  local name="$1" want="$2"
  shift 2
  local got
  got=$("$SLATE" at-risk --db "$db" --now "$NOW" --within 8h "$@" 2>&1)
  local rc=$?
  [ "$rc" = 0 ] || fail "$name: exit $rc: $got"
  if [ "$got" != "$want" ]; then
    fail "$name: got"$'\n'"$got"$'\n'"want"$'\n'"$want"
  else
    echo "ok: $name"
  fi
}

TAB=$'\t'
expect table "deadline${TAB}record${TAB}policy${TAB}target${TAB}cycle${TAB}priority${TAB}group${TAB}service${TAB}used
2026-11-02T13:30:00Z${TAB}incident/INC1${TAB}p12${TAB}resolution${TAB}1${TAB}1${TAB}net, \"east\"${TAB}-${TAB}25.0%
2026-11-02T18:00:00Z${TAB}incident/INC2${TAB}p12${TAB}resolution${TAB}1${TAB}2${TAB}-${TAB}-${TAB}0.0%"

expect csv 'deadline,record,policy,target,cycle,priority,group,service,used
2026-11-02T13:30:00Z,incident/INC1,p12,resolution,1,1,"net, ""east""",,0.2500
2026-11-02T18:00:00Z,incident/INC2,p12,resolution,1,2,,,0.0000' --format csv

want_json='{"now":"2026-11-02T11:00:00Z","within":"8h","rows":[{"deadline":"2026-11-02T13:30:00Z","record":"incident/INC1","policy":"p12","target":"resolution","cycle":1,"priority":1,"group":"net, \"east\"","used":0.2500},{"deadline":"2026-11-02T18:00:00Z","record":"incident/INC2","policy":"p12","target":"resolution","cycle":1,"priority":2,"used":0.0000}]}'
expect json "$want_json" --format json
# The JSON parses, and says what the table says.
"$SLATE" at-risk --db "$db" --now "$NOW" --within 8h --format json |
  python3 -c '
import json, sys
d = json.load(sys.stdin)
rows = d["rows"]
assert [r["record"] for r in rows] == ["incident/INC1", "incident/INC2"], rows
assert rows[0]["group"] == "net, \"east\"" and "group" not in rows[1], rows
assert abs(rows[0]["used"] - 0.25) < 1e-9 and rows[1]["used"] == 0, rows
' || fail "json does not parse or says something else"

# Filters and --top apply to every format; no rows still prints the header.
expect csv_top1 'deadline,record,policy,target,cycle,priority,group,service,used
2026-11-02T13:30:00Z,incident/INC1,p12,resolution,1,1,"net, ""east""",,0.2500' --format csv --top 1
expect csv_none 'deadline,record,policy,target,cycle,priority,group,service,used' --format csv --priority 3
expect json_none '{"now":"2026-11-02T11:00:00Z","within":"8h","rows":[]}' --format json --priority 3

"$SLATE" at-risk --db "$db" --now "$NOW" --within 8h --format xml >/dev/null 2>&1
[ $? = 2 ] || fail "--format xml: exit code not 2"

rm -rf "$TMP"
if [ "$failures" != 0 ]; then
  echo "$failures failure(s)"
  exit 1
fi
echo "all passed"
