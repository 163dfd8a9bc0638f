#!/bin/bash
# The slate tool's read commands on a cluster answer as on a database:
# examples/domain/tenants.jsonl goes once through `slate exec --nats` to two
# `slate node` processes (4 partitions between them) and once through
# `slate exec --db` into an embedded database; then `show`, `explain`,
# `at-risk`, `tick`, `kpi` (per tenant and --all-tenants) print the same
# with --nats as with --db, and `verify --nats` checks every partition.
# Starts its own nats-server on a free loopback port and stops everything it
# started (by pid) whatever happens.
# Usage (from Bazel): slate_query_test.sh SLATE_BINARY TENANTS_JSONL
set -u
SLATE="$1"
SCRIPT="$2"
TMP=$(mktemp -d "${TEST_TMPDIR:-/tmp}/slate-query.XXXXXX")
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT
failures=0
checks=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

NATS_SERVER=$(command -v nats-server || echo /usr/sbin/nats-server)
if [ ! -x "$NATS_SERVER" ]; then
  echo "FAIL: nats-server is not installed (./dev.sh installs it)"; exit 1
fi
"$NATS_SERVER" -a 127.0.0.1 -p -1 -js -sd "$TMP/js" -l "$TMP/nats.log" &
PIDS+=($!)
URL=""
for _ in $(seq 100); do
  URL=$(grep -o 'Listening for client connections on 127.0.0.1:[0-9]*' "$TMP/nats.log" 2>/dev/null | head -1 | sed 's/.* on /nats:\/\//')
  [ -n "$URL" ] && grep -q 'Server is ready' "$TMP/nats.log" && break
  sleep 0.1
done
[ -n "$URL" ] || { fail "nats-server did not start: $(cat "$TMP/nats.log")"; exit 1; }

"$SLATE" cluster init --nats "$URL" --partitions 4 --replicas 1 > /dev/null || fail "init"
# No SLA timers of their own: `slate tick --nats` drives time, as `slate
# tick --db` does for the embedded database.
"$SLATE" node --nats "$URL" --db "$TMP/a" --name a --max-partitions 2 --timer-interval 0s > "$TMP/a.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do grep -q "owns partitions 0 1" "$TMP/a.out" && break; sleep 0.1; done
"$SLATE" node --nats "$URL" --db "$TMP/b" --name b --timer-interval 0s > "$TMP/b.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do grep -q "owns partitions 2 3" "$TMP/b.out" && break; sleep 0.1; done
grep -q "owns partitions 2 3" "$TMP/b.out" || fail "node b: $(cat "$TMP/b.out")"

"$SLATE" exec --nats "$URL" "$SCRIPT" > "$TMP/exec.out" || fail "exec --nats: $(cat "$TMP/exec.out")"
"$SLATE" exec --db "$TMP/local" "$SCRIPT" > "$TMP/local.out" || fail "exec --db: $(cat "$TMP/local.out")"

# same ARGS...: `slate ARGS --db local` and `slate ARGS --nats URL` print
# the same on stdout and stderr and exit alike.
same() {
  checks=$((checks + 1))
  local want got
  want=$("$SLATE" "$@" --db "$TMP/local" 2>&1; echo "exit $?")
  got=$("$SLATE" "$@" --nats "$URL" 2>&1; echo "exit $?")
  LAST="$got"
  if [ "$want" != "$got" ]; then
    fail "slate $*: --db and --nats differ:"
    diff <(printf '%s\n' "$want") <(printf '%s\n' "$got")
  fi
}

# Before time moves: beta's INC1 runs (resolution due in 5 days).
same at-risk --now 2026-11-23T10:30:00Z --within 7d --tenant beta
case "$LAST" in *"tenant/beta/incident/INC1"*) ;; *) fail "at-risk --nats: $LAST" ;; esac
same at-risk --now 2026-11-23T09:05:00Z --within 8h --tenant acme --format json
# The warnings and breaches of every partition, in time order.
same tick --now 2026-11-30T00:00:00Z
printf 'tick --nats printed:\n%s\n' "$LAST"
case "$LAST" in *"breached on tenant/beta/incident/INC1"*) ;;
  *) fail "tick --nats: no breach of beta's INC1" ;; esac
same tick --now 2026-11-30T00:00:00Z  # Nothing left to fire: empty both.
[ "$LAST" = "exit 0" ] || fail "a second tick fired again: $LAST"
same show incident INC1 --tenant acme --clocks
same show incident INC1 --tenant beta --clocks --format json
same show service email --tenant acme
same show service email --tenant beta
same show incident NOPE --tenant beta  # Not found: the same error.
same explain incident INC1 --tenant acme
same kpi --all-tenants --by tenant --bucket all
same kpi --all-tenants --by service,priority --bucket day --format csv
same kpi --tenant acme --bucket week --format json
same kpi --tenant beta --bucket all --tz Europe/Berlin
same kpi --bucket all

# The comparisons saw data (not two empty answers).
out=$("$SLATE" show incident INC1 --tenant beta --nats "$URL")
case "$out" in *"state:"*) ;; *) fail "show --nats: $out" ;; esac
out=$("$SLATE" kpi --all-tenants --by tenant --bucket all --format csv --nats "$URL")
for t in acme beta; do
  case "$out" in *"$t"*) ;; *) fail "kpi --nats names no $t: $out" ;; esac
done

out=$("$SLATE" verify --nats "$URL"); rc=$?
[ "$rc" = 0 ] || fail "verify --nats: exit $rc: $out"
[ "$(printf '%s\n' "$out" | grep -c '^partition [0-3]:$')" = 4 ] || fail "verify: $out"
[ "$(printf '%s\n' "$out" | grep -c '^stream: .* dense, each decodes')" = 4 ] || fail "verify: $out"
[ "$(printf '%s\n' "$out" | grep -c '^OK: ')" = 4 ] || fail "verify: $out"

"$SLATE" show incident INC1 --db "$TMP/local" --nats "$URL" > /dev/null 2>&1
[ $? = 2 ] || fail "--db with --nats is not a usage error"
"$SLATE" kpi --bucket all > /dev/null 2>&1
[ $? = 2 ] || fail "kpi without --db or --nats is not a usage error"

echo "$checks comparisons"
if [ "$failures" -eq 0 ]; then echo "PASS"; exit 0; fi
exit 1
