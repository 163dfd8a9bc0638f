#!/bin/bash
# The slate tool against a real cluster: `slate cluster init`, two
# `slate node` processes, `slate exec --nats` of examples/domain/tenants.jsonl,
# kill -9 of one node, the other owning every partition within the lease
# TTL, the same commands sent again all replayed (applied once), and a clean
# stop on SIGTERM. Starts its own nats-server on a free loopback port and
# stops everything it started (by pid) whatever happens.
# Usage (from Bazel): slate_node_test.sh SLATE_BINARY TENANTS_JSONL
set -u
SLATE="$1"
SCRIPT="$2"
TMP=$(mktemp -d "${TEST_TMPDIR:-/tmp}/slate-node.XXXXXX")
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT
failures=0
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

out=$("$SLATE" cluster init --nats "$URL" --partitions 4 --replicas 1 --lease-ttl 2s 2>&1) || fail "init: $out"
case "$out" in *"4 partitions"*) ;; *) fail "init said: $out" ;; esac

"$SLATE" node --nats "$URL" --db "$TMP/a" --name a --max-partitions 2 > "$TMP/a.out" 2>&1 &
A=$!; PIDS+=($A)
for _ in $(seq 100); do grep -q "owns partitions 0 1" "$TMP/a.out" && break; sleep 0.1; done
"$SLATE" node --nats "$URL" --db "$TMP/b" --name b > "$TMP/b.out" 2>&1 &
B=$!; PIDS+=($B)
for _ in $(seq 100); do grep -q "owns partitions 2 3" "$TMP/b.out" && break; sleep 0.1; done
grep -q "owns partitions 0 1" "$TMP/a.out" || fail "node a: $(cat "$TMP/a.out")"
grep -q "owns partitions 2 3" "$TMP/b.out" || fail "node b: $(cat "$TMP/b.out")"

commands=$(grep -cvE '^\s*(#|$)' "$SCRIPT")
out=$("$SLATE" exec --nats "$URL" "$SCRIPT")
rc=$?
[ "$rc" = 0 ] || fail "exec: exit $rc: $out"
oks=$(printf '%s\n' "$out" | grep -c '^{"ok":true')
[ "$oks" = "$commands" ] || fail "exec: $oks of $commands ok: $out"

status=$("$SLATE" cluster status --nats "$URL")
case "$status" in *" a "*) ;; *) fail "status names no node a: $status" ;; esac
case "$status" in *"live nodes: a b"*) ;; *) fail "status: live nodes: $status" ;; esac

# kill -9 node a: b takes its partitions once the 2 s leases lapse.
kill -9 "$A"
start=$(date +%s%N)
for _ in $(seq 200); do grep -q "owns partitions 0 1 2 3" "$TMP/b.out" && break; sleep 0.1; done
grep -q "owns partitions 0 1 2 3" "$TMP/b.out" || fail "b did not take over: $(cat "$TMP/b.out")"
echo "takeover after kill -9: $(( ($(date +%s%N) - start) / 1000000 )) ms"

again=$("$SLATE" exec --nats "$URL" "$SCRIPT")
replays=$(printf '%s\n' "$again" | grep -c '"idempotentReplay":true')
[ "$replays" = "$commands" ] || fail "after failover: $replays of $commands replayed: $again"

kill -TERM "$B"
wait "$B"; rc=$?
[ "$rc" = 0 ] || fail "node b exit code $rc on SIGTERM"
grep -q "stopping, releasing partitions 0 1 2 3" "$TMP/b.out" || fail "b: $(cat "$TMP/b.out")"
status=$("$SLATE" cluster status --nats "$URL")
case "$status" in *" b "*) fail "b still holds a lease after stopping: $status" ;; esac

if [ "$failures" -eq 0 ]; then echo "PASS"; exit 0; fi
exit 1
