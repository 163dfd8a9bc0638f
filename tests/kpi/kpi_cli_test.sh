#!/bin/bash
# Runs `slate kpi` on the scripted dataset (scenario.jsonl + sla_policy.jsonl,
# executed with `slate exec --now`) and compares its exact output with the
# golden files in tests/kpi/golden/. The figures are hand-checked in
# kpi_projection_test.cc (same scenario).
# Usage (from Bazel): kpi_cli_test.sh SLATE_BINARY TESTS_KPI_DIR
# To refresh the goldens after a deliberate change: UPDATE_GOLDEN=DIR.
set -u
SLATE="$1"
DIR="$2"
NOW=2026-12-31T00:00:00Z
TMP="${TEST_TMPDIR:-/tmp}/kpi-cli.$$"
mkdir -p "$TMP"
db="$TMP/db"
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

for f in scenario.jsonl sla_policy.jsonl; do
  out=$("$SLATE" exec --db "$db" --now "$NOW" "$DIR/$f")
  [ $? = 0 ] || fail "exec $f: $(printf '%s\n' "$out" | grep -v '"ok":true')"
done

check() {  # golden-name args...
  local name="$1"
  shift
  "$SLATE" kpi --db "$db" --now "$NOW" "$@" >"$TMP/$name" 2>"$TMP/$name.err"
  local rc=$?
  [ "$rc" = 0 ] || fail "$name: exit $rc: $(cat "$TMP/$name.err")"
  if [ -n "${UPDATE_GOLDEN:-}" ]; then
    cp "$TMP/$name" "$UPDATE_GOLDEN/$name"
  elif ! diff -u "$DIR/golden/$name" "$TMP/$name"; then
    fail "$name differs from golden (diff above)"
  else
    echo "ok: $name"
  fi
}

check week_priority.txt --by priority --bucket week --from 2026-11-01 --to 2026-11-09
check day_service.csv --by service --from 2026-11-02 --to 2026-11-04 --format csv
check month_total.json --bucket month --from 2026-11-01 --to 2026-12-01 --format json
check group_category.txt --by group,category --from 2026-11-03 --to 2026-11-04 --table incidents
# Another zone folds the log again: New York's 11-02 is 05:00Z..05:00Z next
# day, so INC4 (11-01 08:00Z = 03:00 local) is not in it.
check new_york.csv --tz America/New_York --from 2026-11-02 --to 2026-11-03 --table incidents --format csv

# Without --now the period ends at the last record event (INC5 opened
# 2026-11-03 20:00; sla_policy.jsonl's definition on 12-01 is no record
# event), not at the wall clock: days 11-01 .. 11-03.
days=$("$SLATE" kpi --db "$db" --table incidents --format csv | sed -n '/^bucket,bucket_end,opened/,/^$/p' | cut -d, -f1 | grep '^20' | tr '\n' ' ')
[ "$days" = "2026-11-01 2026-11-02 2026-11-03 " ] || fail "default end: day buckets are '$days'"
# --bucket all: one row for the whole period, by hand: opened INC1-INC5 = 5,
# resolved INC1, INC2 twice = 3, backlog at the end INC4, INC5 = 2.
all=$("$SLATE" kpi --db "$db" --bucket all --table incidents --format csv | sed -n '/^bucket,bucket_end,opened/,/^$/p')
[ "$(printf '%s\n' "$all" | grep -c '^20')" = 1 ] || fail "--bucket all: not one row: $all"
row=$(printf '%s\n' "$all" | grep '^20')
hdr=$(printf '%s\n' "$all" | head -1)
col() { printf '%s\n' "$hdr" | tr ',' '\n' | grep -nx "$1" | cut -d: -f1; }
[ "$(printf '%s' "$row" | cut -d, -f1)" = 2026-11-01 ] || fail "--bucket all: starts $(printf '%s' "$row" | cut -d, -f1)"
for want in opened=5 resolved=3 backlog=2; do
  name=${want%=*}
  got=$(printf '%s' "$row" | cut -d, -f"$(col "$name")")
  [ "$got" = "${want#*=}" ] || fail "--bucket all: $name is $got, want ${want#*=}"
done
echo "ok: default end and --bucket all"

# Tenants: the same commands again for tenant acme (its own services, the
# same records' ids). The default tenant's answers above do not change, acme
# answers the same figures, and all tenants count both.
out=$("$SLATE" exec --db "$db" --now "$NOW" --tenant acme "$DIR/scenario.jsonl")
[ $? = 0 ] || fail "exec --tenant acme: $(printf '%s\n' "$out" | grep -v '"ok":true')"
check week_priority.txt --by priority --bucket week --from 2026-11-01 --to 2026-11-09
tenant_check() {  # what args...
  local what="$1"
  shift
  local default acme
  default=$("$SLATE" kpi --db "$db" --now "$NOW" "$@" 2>&1)
  acme=$("$SLATE" kpi --db "$db" --now "$NOW" --tenant acme "$@" 2>&1)
  if [ "$default" != "$acme" ]; then
    fail "$what: --tenant acme differs from the default tenant"
    diff <(printf '%s\n' "$default") <(printf '%s\n' "$acme") | head -20
  else
    echo "ok: $what"
  fi
}
tenant_check "acme by service, day" --by service,priority --from 2026-11-01 --to 2026-11-09 --table incidents --format csv
tenant_check "acme availability" --by service --bucket week --from 2026-11-01 --to 2026-11-09 --table availability --format csv
opened() {  # the opened column of a one-row incidents CSV
  local csv
  csv=$("$SLATE" kpi --db "$db" --now "$NOW" --bucket all --from 2026-11-01 --to 2026-12-01 --table incidents --format csv "$@" | sed -n '/^bucket,bucket_end/,/^$/p')
  printf '%s\n' "$csv" | awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "opened") c = i; next } $0 != "" { print $c }'
}
[ "$(opened --tenant acme)" = 5 ] || fail "acme opened: $(opened --tenant acme)"
[ "$(opened --all-tenants)" = 10 ] || fail "all tenants opened: $(opened --all-tenants)"
by_tenant=$("$SLATE" kpi --db "$db" --now "$NOW" --all-tenants --by tenant --bucket all --from 2026-11-01 --to 2026-12-01 --table incidents --format csv | sed -n '/^bucket,bucket_end/,/^$/p' | cut -d, -f3,4)
[ "$by_tenant" = "$(printf 'tenant,opened\nacme,5\ndefault,5')" ] || fail "--all-tenants --by tenant: $by_tenant"
echo "ok: all tenants"
# slate report of one tenant: its records only (a tenant with none: none).
for t in acme:5 nobody:0; do
  line=$("$SLATE" report --db "$db" --now "$NOW" --from 2026-11-01 --to 2026-12-01 --tenant "${t%:*}" --out "$TMP/r.html" 2>&1)
  case "$line" in
    *", ${t#*:} incidents opened)") echo "ok: report --tenant ${t%:*}" ;;
    *) fail "report --tenant ${t%:*}: $line" ;;
  esac
done
"$SLATE" report --db "$db" --now "$NOW" --tenant acme --out "$TMP/r.html" >/dev/null
grep -q "Tenant: acme" "$TMP/r.html" || fail "report --tenant acme: no tenant line"
line=$("$SLATE" report --db "$db" --now "$NOW" --tenant acme --service email --month 2026-11 --out "$TMP/s.html" 2>&1)
case "$line" in
  *"service email, 2026-11: 3 incidents opened"*) echo "ok: service review --tenant acme" ;;
  *) fail "service review --tenant acme: $line" ;;
esac
"$SLATE" kpi --db "$db" --tenant acme --all-tenants >/dev/null 2>&1
[ $? = 2 ] || fail "--tenant with --all-tenants: exit code not 2"

"$SLATE" kpi --db "$db" --by nonsense >/dev/null 2>&1
[ $? = 2 ] || fail "--by nonsense: exit code not 2"
"$SLATE" kpi --db "$db" --from 2026-11-05 --to 2026-11-01 >/dev/null 2>&1
[ $? = 2 ] || fail "--from after --to: exit code not 2"
"$SLATE" kpi --db "$TMP/none" >/dev/null 2>&1
[ $? = 2 ] || fail "missing database: exit code not 2"

rm -rf "$TMP"
if [ "$failures" != 0 ]; then
  echo "$failures failure(s)"
  exit 1
fi
echo "all passed"
