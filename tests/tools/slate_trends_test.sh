#!/bin/bash
# `slate trends` (recurring incidents) on tests/tools/trends.jsonl, and
# raising a problem from a candidate with `slate exec`. Hand-computed:
#   email/network/mx1: INC1 11-01 09:00, INC2 11-02 09:00, INC3 11-03 09:00,
#     INC7 11-10 09:00 (exactly 7d after INC3: outside a 7d window, inside
#     7d1s, where the window [INC3, INC7] joins INC1..3's);
#   email/network/(no CI): INC4 11-02 10:00, INC5 11-03 10:00, INC6 11-04;
#   (no service)/`storage, "san"`: INC8 11-02 09:30, INC9 11-02 11:30.
#   Equal sizes rank by first opened: mx1 (11-01) before no CI (11-02).
# Usage (from Bazel or CTest): slate_trends_test.sh SLATE_BINARY TESTS_TOOLS_DIR
set -u
SLATE="$1"
DATA="$2/trends.jsonl"
NOW=2026-11-27T16:00:00Z
TMP="${TEST_TMPDIR:-/tmp}/trends.$$"
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
  got=$("$SLATE" trends --db "$db" "$@" 2>&1)
  local rc=$?
  [ "$rc" = 0 ] || fail "$name: exit $rc: $got"
  if [ "$got" != "$want" ]; then
    fail "$name: got"$'\n'"$got"$'\n'"want"$'\n'"$want"
  else
    echo "ok: $name"
  fi
}

TAB=$'\t'
HEAD="rank${TAB}incidents${TAB}first_opened${TAB}last_opened${TAB}service${TAB}category${TAB}ci${TAB}ids"
expect table_min3 "$HEAD
1${TAB}3${TAB}2026-11-01T09:00:00Z${TAB}2026-11-03T09:00:00Z${TAB}email${TAB}network${TAB}mx1${TAB}INC1 INC2 INC3
2${TAB}3${TAB}2026-11-02T10:00:00Z${TAB}2026-11-04T10:00:00Z${TAB}email${TAB}network${TAB}-${TAB}INC4 INC5 INC6
2 candidate(s), 6 incident(s); window 7d, at least 3" --min 3

# The default minimum is 5: nothing here.
expect table_default "$HEAD
0 candidate(s), 0 incident(s); window 7d, at least 5"

# --top cuts the list, not the summary's counts.
expect table_top1 "$HEAD
1${TAB}3${TAB}2026-11-01T09:00:00Z${TAB}2026-11-03T09:00:00Z${TAB}email${TAB}network${TAB}mx1${TAB}INC1 INC2 INC3
2 candidate(s), 6 incident(s); window 7d, at least 3; the first 1 shown" --min 3 --top 1

expect csv_min2 'rank,service,category,configuration_item,incident,opened_at,status,problem
1,email,network,mx1,INC1,2026-11-01T09:00:00Z,New,
1,email,network,mx1,INC2,2026-11-02T09:00:00Z,New,
1,email,network,mx1,INC3,2026-11-03T09:00:00Z,New,
2,email,network,,INC4,2026-11-02T10:00:00Z,New,
2,email,network,,INC5,2026-11-03T10:00:00Z,New,
2,email,network,,INC6,2026-11-04T10:00:00Z,New,
3,,"storage, ""san""",,INC8,2026-11-02T09:30:00Z,New,
3,,"storage, ""san""",,INC9,2026-11-02T11:30:00Z,New,' --min 2 --format csv

# One second more than 7 days: INC7 joins the mx1 candidate.
"$SLATE" trends --db "$db" --min 2 --window 7d1s --format json |
  python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["window"] == "7d1s" and d["min"] == 2, d
c = d["candidates"]
assert [x["rank"] for x in c] == [1, 2, 3], c
assert [i["id"] for i in c[0]["incidents"]] == ["INC1", "INC2", "INC3", "INC7"], c[0]
assert c[0]["configuration_item"] == "mx1" and c[0]["last_opened"] == "2026-11-10T09:00:00Z", c[0]
assert "configuration_item" not in c[1] and "service" not in c[2], c
assert c[2]["category"] == "storage, \"san\"", c[2]
' || fail "json: does not parse or says something else"

# Raise a problem from candidate 2 in one step; its incidents leave the list.
echo '{"commandId":"raise","logProblem":{"problemId":"PRB1","title":"network without CI recurs","serviceId":"email","incidentIds":["INC4","INC5","INC6"]}}' |
  "$SLATE" exec --db "$db" --now "$NOW" - >"$TMP/raise.out" ||
  fail "raise: $(cat "$TMP/raise.out")"
grep -q '"linkedIncidents":\["INC4","INC5","INC6"\]' "$TMP/raise.out" ||
  fail "raise: no linked incidents in $(cat "$TMP/raise.out")"
expect table_after_raise "$HEAD
1${TAB}3${TAB}2026-11-01T09:00:00Z${TAB}2026-11-03T09:00:00Z${TAB}email${TAB}network${TAB}mx1${TAB}INC1 INC2 INC3
1 candidate(s), 3 incident(s); window 7d, at least 3" --min 3

# A bad list fails as a whole, naming the field and the incident.
echo '{"logProblem":{"problemId":"PRB2","title":"t","incidentIds":["INC1","INC4"]}}' |
  "$SLATE" exec --db "$db" --now "$NOW" - >"$TMP/bad.out"
grep -q 'problem PRB2: field incident_ids\[1\]: incident INC4: already linked to problem PRB1' "$TMP/bad.out" ||
  fail "bad raise: $(cat "$TMP/bad.out")"
"$SLATE" show problem PRB2 --db "$db" >/dev/null 2>&1 && fail "PRB2 was written"

# Tenant acme: the same incidents again, and a problem raised in acme from
# its mx1 incidents. Each tenant sees only its own incidents and problems:
# acme's INC4..6 are a candidate (PRB1 is the default tenant's), the default
# tenant's list does not change, and no candidate mixes the two.
"$SLATE" exec --db "$db" --now "$NOW" --tenant acme "$DATA" >"$TMP/acme.out" ||
  fail "exec --tenant acme: $(grep -v '"ok":true' "$TMP/acme.out")"
echo '{"commandId":"raise","logProblem":{"problemId":"PRB1","title":"mx1 recurs","serviceId":"email","incidentIds":["INC1","INC2","INC3"]}}' |
  "$SLATE" exec --db "$db" --now "$NOW" --tenant acme - >"$TMP/raise-acme.out" ||
  fail "raise in acme: $(cat "$TMP/raise-acme.out")"
expect table_acme "$HEAD
1${TAB}3${TAB}2026-11-02T10:00:00Z${TAB}2026-11-04T10:00:00Z${TAB}email${TAB}network${TAB}-${TAB}INC4 INC5 INC6
1 candidate(s), 3 incident(s); window 7d, at least 3" --min 3 --tenant acme
expect table_default_after_acme "$HEAD
1${TAB}3${TAB}2026-11-01T09:00:00Z${TAB}2026-11-03T09:00:00Z${TAB}email${TAB}network${TAB}mx1${TAB}INC1 INC2 INC3
1 candidate(s), 3 incident(s); window 7d, at least 3" --min 3

for bad in "--min 1" "--window 0s" "--format xml" "--tenant Acme"; do
  # shellcheck disable=SC2086
  "$SLATE" trends --db "$db" $bad >/dev/null 2>&1
  [ $? = 2 ] || fail "$bad: exit code not 2"
done

rm -rf "$TMP"
if [ "$failures" != 0 ]; then
  echo "$failures failure(s)"
  exit 1
fi
echo "all passed"
