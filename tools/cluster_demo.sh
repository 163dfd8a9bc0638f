#!/usr/bin/env bash
# A Slate cluster on this machine, end to end (`./dev.sh cluster`; issue 19):
#
#   1. three nats-server processes as one JetStream cluster on free loopback
#      ports, in a temporary directory;
#   2. `slate cluster init` (6 partitions, 3 replicas, 2 s leases) and three
#      `slate node`s, a, b and c, which share the partitions out (2 each);
#   3. a scripted day of load through `slate exec --nats`: the default
#      tenant's services and SLA policy, then incidents opened, acknowledged,
#      assigned and resolved for four tenants, in three parts:
#        morning    all servers up
#        midday     after a kill -9 of the nats-server leading most partitions
#        afternoon  right after a kill -9 of the node owning most tenants'
#                   partitions: the other two take them once their leases
#                   lapse; the time from the kill to each takeover and to
#                   the first command served for a tenant that moved is
#                   printed;
#   4. the cluster's KPIs merged across partitions (`slate kpi --nats`) next
#      to those of an embedded engine that executed the same commands
#      (`slate exec --db`, `slate kpi --db`), and whether they are equal;
#   5. a clean stop: SIGTERM to the nodes (they release their leases), then
#      to the servers.
#
# Everything it starts is stopped by pid, whatever happens (a trap on EXIT,
# INT and TERM), and the temporary directory is removed; after a failure
# the logs are kept and their path printed. Exit 0 only if every step
# worked and the KPIs are equal.
#
# Usage: tools/cluster_demo.sh SLATE_BINARY
# Environment: CLUSTER_DEMO_DAY=YYYY-MM-DD the simulated day (default:
# yesterday, UTC; the nodes run on the wall clock, so the day must be past);
# CLUSTER_DEMO_LEASE_TTL=D the nodes' lease TTL (default 2s).
set -uo pipefail

SLATE=${1:?usage: cluster_demo.sh SLATE_BINARY}
PARTITIONS=6
LEASE_TTL=${CLUSTER_DEMO_LEASE_TTL:-2s}
TENANTS=(acme delta globex initech)
T0=$(date +%s%N)
TMP=$(mktemp -d "${TEST_TMPDIR:-${TMPDIR:-/tmp}}/slate-cluster.XXXXXX") || exit 1
PIDS=()          # every process started, in order
OK=0             # set to 1 at the very end

elapsed() { printf '%d.%01d s' $(( ($(date +%s%N) - $1) / 1000000000 )) \
                                 $(( ($(date +%s%N) - $1) / 100000000 % 10 )); }
phase() { printf '\n== %s\n' "$*"; }
say() { printf '   %s\n' "$*"; }
indent() { sed 's/^/   /'; }
die() {
  printf '\nFAILED: %s\n' "$*" >&2
  if [ -n "${URLS:-}" ]; then
    echo "slate cluster status at the failure:" >&2
    timeout 10 "$SLATE" cluster status --nats "$URLS" 2>&1 | indent >&2
  fi
  exit 1
}
alive() { kill -0 "$1" 2>/dev/null; }

cleanup() {
  local rc=$? pid waited=0
  trap - EXIT INT TERM
  [ "$OK" = 1 ] || [ "$rc" -ne 0 ] || rc=1
  # SIGTERM first (nodes release their leases), SIGKILL after 5 s.
  for pid in "${PIDS[@]}"; do alive "$pid" && kill -TERM "$pid" 2>/dev/null; done
  for pid in "${PIDS[@]}"; do
    while alive "$pid" && [ "$waited" -lt 50 ]; do sleep 0.1; waited=$((waited + 1)); done
    alive "$pid" && kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  if [ "$rc" -eq 0 ]; then
    rm -rf "$TMP"
  else
    # Keep the logs, not the data.
    rm -rf "$TMP"/nats/*/store "$TMP"/node-*/ "$TMP"/embedded
    echo "logs: $TMP (nats/n*/server.log, node-*.log, exec-*.out)" >&2
    if [ -n "${TEST_TMPDIR:-}" ]; then  # Under Bazel: the test log is all CI keeps.
      local f
      for f in "$TMP"/nats/*/server.log "$TMP"/node-*.log; do
        [ -f "$f" ] && { echo "--- tail of $f"; tail -n 15 "$f"; } >&2
      done
    fi
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A process started with $DIE_WITH_ME is killed if this script dies, even
# by SIGKILL, which no trap sees (setpriv, util-linux: PR_SET_PDEATHSIG).
DIE_WITH_ME=()
command -v setpriv >/dev/null && DIE_WITH_ME=(setpriv --pdeathsig KILL)

# Starts "$@" in the background, output to the file $LOG; sets $STARTED.
start() {
  "${DIE_WITH_ME[@]}" "$@" >"$LOG" 2>&1 &
  STARTED=$!
  PIDS+=("$STARTED")
}

# until_true SECONDS COMMAND...: polls every 0.1 s; 1 on timeout.
until_true() {
  local deadline=$(( $(date +%s%N) + $1 * 1000000000 ))
  shift
  until "$@"; do
    [ "$(date +%s%N)" -lt "$deadline" ] || return 1
    sleep 0.1
  done
}

# FNV-1a 64 of a tenant id mod N: the partition lib/cluster/partitioning.h
# gives it (bash arithmetic wraps at 64 bits; the mod is taken unsigned).
partition_of() {
  local s=$1 n=$2 h i c
  h=$(( 0xcbf29ce484222325 ))
  for ((i = 0; i < ${#s}; i++)); do
    printf -v c '%d' "'${s:i:1}"
    h=$(( (h ^ c) * 0x100000001b3 ))
  done
  echo $(( ( ((h >> 1) & 0x7fffffffffffffff) % n * 2 + (h & 1) ) % n ))
}

# ---------------------------------------------------------------------------
# 1. nats-server x 3

NATS_SERVER=$(command -v nats-server || echo /usr/sbin/nats-server)
[ -x "$NATS_SERVER" ] || die "nats-server is not installed (./dev.sh cluster installs it)"
[ -x "$SLATE" ] || die "not an executable: $SLATE"

# A loopback port nobody uses (no socket of any state in /proc/net/tcp*),
# below the kernel's ephemeral range so outgoing connections do not take it
# meanwhile.
port_free() {
  local hex
  printf -v hex '%04X' "$1"
  ! awk -v p=":$hex" 'FNR > 1 && substr($2, length($2) - 4) == p { f = 1 } END { exit !f }' \
      /proc/net/tcp /proc/net/tcp6 2>/dev/null
}
pick_ports() {
  local low span p
  read -r low _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || low=32768
  span=$(( low - 10000 ))
  PORTS=()
  while [ ${#PORTS[@]} -lt 6 ]; do
    p=$(( 10000 + ((RANDOM << 15) | RANDOM) % span ))
    case " ${PORTS[*]} " in *" $p "*) continue ;; esac
    port_free "$p" && PORTS+=("$p")
  done
}

servers_ready() {
  local i
  for i in 0 1 2; do
    grep -q 'Server is ready' "$TMP/nats/n$i/server.log" 2>/dev/null || return 1
  done
  grep -q 'metadata leader' "$TMP"/nats/n*/server.log 2>/dev/null
}
servers_clash() { grep -qi 'address already in use' "$TMP"/nats/n*/server.log 2>/dev/null; }
# Ready, or one failed (a port clash, or it exited).
servers_settled() {
  servers_ready || servers_clash || ! kill -0 "${SERVER_PIDS[@]}" 2>/dev/null
}

phase "1. three nats-server processes, one JetStream cluster (127.0.0.1)"
CLUSTER_NAME="slate-demo-$$"
SERVER_PIDS=()
for attempt in 1 2 3 4 5; do
  pick_ports
  routes=""
  for i in 0 1 2; do routes+="${routes:+,}nats-route://127.0.0.1:${PORTS[i + 3]}"; done
  SERVER_PIDS=()
  for i in 0 1 2; do
    rm -rf "$TMP/nats/n$i"
    mkdir -p "$TMP/nats/n$i"
    LOG="$TMP/nats/n$i/stdout.log"
    start "$NATS_SERVER" -a 127.0.0.1 -p "${PORTS[i]}" -js \
      -sd "$TMP/nats/n$i/store" -n "n$i" --cluster_name "$CLUSTER_NAME" \
      --cluster "nats://127.0.0.1:${PORTS[i + 3]}" --routes "$routes" \
      -l "$TMP/nats/n$i/server.log"
    SERVER_PIDS+=("$STARTED")
  done
  until_true 20 servers_settled
  if servers_ready; then break; fi
  for pid in "${SERVER_PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
  servers_clash || die "the nats-servers did not become ready in 20 s (see $TMP/nats/n*/server.log)"
  say "port clash, new ports (attempt $attempt)"
  [ "$attempt" = 5 ] && die "5 port clashes in a row"
done
URLS="nats://127.0.0.1:${PORTS[0]},nats://127.0.0.1:${PORTS[1]},nats://127.0.0.1:${PORTS[2]}"
meta=$(grep -l 'Self is new JetStream cluster metadata leader' "$TMP"/nats/n*/server.log |
       sed -E 's#.*/(n[0-9])/server.log#\1#' | head -1)
for i in 0 1 2; do
  say "n$i  pid ${SERVER_PIDS[i]}  client nats://127.0.0.1:${PORTS[i]}  route ${PORTS[i + 3]}"
done
say "JetStream meta leader: ${meta:-elected} ($(elapsed "$T0"))"

# ---------------------------------------------------------------------------
# 2. cluster init and three nodes

phase "2. slate cluster init, three slate nodes"
init_ok() { "$SLATE" cluster init --nats "$URLS" --partitions "$PARTITIONS" \
              --replicas 3 --lease-ttl "$LEASE_TTL" >"$TMP/init.out" 2>&1; }
# Retried: a server may not know the meta leader yet (init finishes an
# interrupted init).
until_true 20 init_ok || die "slate cluster init: $(cat "$TMP/init.out")"
say "$(cat "$TMP/init.out")"

# slate cluster status, retried for up to 15 s (see run_part).
status() {
  local out i
  for i in $(seq 15); do
    out=$(timeout 20 "$SLATE" cluster status --nats "$URLS" 2>&1) &&
      { printf '%s\n' "$out"; return 0; }
    sleep 1
  done
  printf '%s\n' "$out"
  return 1
}
# The status table's rows: "PARTITION OWNER" per line ("-": none).
owners() { printf '%s\n' "$1" | awk '$1 ~ /^[0-9]+$/ { print $1, $2 }'; }
# all_owned [NODE...]: every partition owned (by one of NODEs if given);
# sets STATUS.
all_owned() {
  STATUS=$(status) || return 1
  local rows n
  rows=$(owners "$STATUS")
  [ "$(printf '%s\n' "$rows" | grep -c .)" -eq "$PARTITIONS" ] || return 1
  printf '%s\n' "$rows" | awk '$2 == "-"' | grep -q . && return 1
  [ $# -eq 0 ] && return 0
  for n in $(printf '%s\n' "$rows" | cut -d' ' -f2 | sort -u); do
    case " $* " in *" $n "*) ;; *) return 1 ;; esac
  done
}
# partitions_of NODE: the partitions NODE owns in $STATUS, e.g. "2 3".
partitions_of() { owners "$STATUS" | awk -v n="$1" '$2 == n { printf "%s%s", s, $1; s = " " }'; }

# balanced [N]: every partition owned and each node owning N (counting the
# nodes a b c; default: 2, the fair share of 6 over 3).
balanced() {
  all_owned || return 1
  local n
  for n in a b c; do
    [ "$(partitions_of "$n" | wc -w)" -eq "${1:-2}" ] || return 1
  done
}
declare -A NODE_PID
for n in a b c; do
  # Each line of the node's output stamped with the time (ms since the
  # epoch) it came; the stamper ends with the node's output.
  "${DIE_WITH_ME[@]}" "$SLATE" node --nats "$URLS" --db "$TMP/node-$n" --name "$n" \
    > >(while IFS= read -r l; do printf '%s %s\n' "$(date +%s%3N)" "$l"; done \
          >"$TMP/node-$n.log") 2>&1 &
  PIDS+=("$!")
  NODE_PID[$n]=$!
done
# The nodes share the partitions out: each keeps its fair share
# (partitions / live nodes) and hands the rest over.
until_true 30 balanced || die "the nodes do not share every partition out after 30 s: $STATUS"
for n in a b c; do
  say "node $n  pid ${NODE_PID[$n]}  owns partitions $(partitions_of "$n")"
done
declare -A PART
line="tenants by partition:"
for t in "${TENANTS[@]}"; do
  PART[$t]=$(partition_of "$t" "$PARTITIONS")
  line+=" $t->${PART[$t]}"
done
say "$line (FNV-1a of the id mod $PARTITIONS; the default tenant's configuration goes to every partition)"
printf '%s\n' "$STATUS" | tail -n +2 | indent

# ---------------------------------------------------------------------------
# 3. the day

DAY=${CLUSTER_DEMO_DAY:-$(date -u -d yesterday +%F)}
DAY0=$(date -u -d "$DAY 00:00:00Z" +%s) || die "CLUSTER_DEMO_DAY: not a date: $DAY"
END=$(date -u -d "@$((DAY0 + 86400))" +%FT%TZ)
[ "$((DAY0 + 86400))" -le "$(date +%s)" ] || die "the day $DAY is not over yet (the nodes run on the wall clock)"

iso() { TZ=UTC printf '%(%Y-%m-%dT%H:%M:%SZ)T' "$1"; }

# Writes the day's commands to stdout, in time order: the default tenant's
# configuration at 00:00, then 12 incidents per tenant between 05:00 and
# 19:30, each acknowledged after 2-41 minutes (a P1's response target is
# 15m), assigned, and resolved after 20 minutes to 5 hours (P1 4h, P2 8h),
# all within the day. Deterministic for a given day.
generate_day() {
  local at=$(iso "$DAY0")
  cat <<EOF
{"commandId":"svc-email","defineService":{"serviceId":"email","at":"$at","name":"E-mail","owner":"provider-ops"}}
{"commandId":"svc-crm","defineService":{"serviceId":"crm","at":"$at","name":"CRM","owner":"provider-apps"}}
{"commandId":"svc-vpn","defineService":{"serviceId":"vpn","at":"$at","name":"Remote access","owner":"provider-net"}}
{"commandId":"pol-std","defineSlaPolicy":{"at":"$at","policy":{"id":"std","name":"Standard incidents","appliesTo":{"recordTypes":["incident"]},"targets":[{"priority":1,"response":"15m","resolution":"4h"},{"priority":2,"response":"30m","resolution":"8h"},{"priority":3,"response":"1h","resolution":"24h"},{"priority":4,"response":"4h","resolution":"72h"},{"priority":5,"response":"8h","resolution":"120h"}],"calendarId":"24x7","response":{"start":{"events":["incident_opened"]},"stop":{"events":["incident_acknowledged","incident_assigned"]},"cancel":{"states":["cancelled"]}},"resolution":{"start":{"events":["incident_opened"]},"stop":{"states":["resolved","closed"]},"cancel":{"states":["cancelled"]}}}}}
EOF
  local services=(email crm vpn) x=$(( DAY0 % 65521 + 7 )) ti j t open ack assign resolve svc id
  rnd() { x=$(( (x * 1103515245 + 12345) % 2147483648 )); R=$(( x / 65536 % $1 )); }
  for ti in "${!TENANTS[@]}"; do
    t=${TENANTS[ti]}
    for j in $(seq 1 12); do
      id="INC$j"
      rnd 50; open=$(( DAY0 + 5 * 3600 + (j - 1) * 4200 + ti * 600 + R * 60 ))
      rnd 40; ack=$(( open + (2 + R) * 60 ))
      rnd 5; assign=$(( ack + (1 + R) * 60 ))
      rnd 280; resolve=$(( assign + (20 + R) * 60 ))
      svc=${services[(j + ti) % 3]}
      rnd 3; local impact=$((1 + R))
      rnd 3; local urgency=$((1 + R))
      printf '%d {"commandId":"%s-%s-open","tenantId":"%s","openIncident":{"incidentId":"%s","at":"%s","serviceId":"%s","impact":%d,"urgency":%d,"shortDescription":"%s trouble"}}\n' \
        "$open" "$t" "$id" "$t" "$id" "$(iso "$open")" "$svc" "$impact" "$urgency" "$svc"
      printf '%d {"commandId":"%s-%s-ack","tenantId":"%s","acknowledgeIncident":{"incidentId":"%s","at":"%s","by":"%s-desk"}}\n' \
        "$ack" "$t" "$id" "$t" "$id" "$(iso "$ack")" "$t"
      printf '%d {"commandId":"%s-%s-assign","tenantId":"%s","assignIncident":{"incidentId":"%s","at":"%s","group":"%s-%s"}}\n' \
        "$assign" "$t" "$id" "$t" "$id" "$(iso "$assign")" "$t" "$svc"
      printf '%d {"commandId":"%s-%s-resolve","tenantId":"%s","resolveIncident":{"incidentId":"%s","at":"%s","resolutionCode":"fixed"}}\n' \
        "$resolve" "$t" "$id" "$t" "$id" "$(iso "$resolve")"
    done
  done | sort -n -s -k1,1 | cut -d' ' -f2-
}

phase "3. a day of load ($DAY, UTC) through slate exec --nats"
generate_day >"$TMP/day.jsonl" || die "generating the day"
# Three parts by time of day.
noon=$(iso $((DAY0 + 11 * 3600))); eve=$(iso $((DAY0 + 15 * 3600)))
at_of() { sed -E 's/.*"at":"([^"]*)".*/\1/'; }
: >"$TMP/morning.jsonl"; : >"$TMP/midday.jsonl"; : >"$TMP/afternoon.jsonl"
while IFS= read -r cmd; do
  at=$(printf '%s' "$cmd" | at_of)
  if [[ "$at" < "$noon" ]]; then echo "$cmd" >>"$TMP/morning.jsonl"
  elif [[ "$at" < "$eve" ]]; then echo "$cmd" >>"$TMP/midday.jsonl"
  else echo "$cmd" >>"$TMP/afternoon.jsonl"; fi
done <"$TMP/day.jsonl"
say "$(wc -l <"$TMP/day.jsonl") commands ($TMP/day.jsonl): 4 configuration, then 48 incidents of ${TENANTS[*]}"

# run_part NAME: slate exec --nats of $TMP/NAME.jsonl; every result line
# stamped with the time it came (ns) in $TMP/exec-NAME.out. slate exec
# retries each command while its partition has no owner, but not opening
# the cluster (right after a server dies the KV buckets can be without a
# leader for a few seconds): an attempt that failed is run again, whole
# (the commands keep their ids: those already applied are replayed, not
# applied twice), for up to 30 s.
run_part() {
  local name=$1 start n ok rc attempts=0 replays first_error=""
  n=$(wc -l <"$TMP/$name.jsonl")
  start=$(date +%s%N)
  while true; do
    attempts=$((attempts + 1))
    timeout 60 "$SLATE" exec --nats "$URLS" "$TMP/$name.jsonl" 2>"$TMP/exec-$name.err" |
      while IFS= read -r l; do printf '%s %s\n' "$(date +%s%N)" "$l"; done >"$TMP/exec-$name.out"
    rc=${PIPESTATUS[0]}
    ok=$(grep -c ' {"ok":true' "$TMP/exec-$name.out")
    [ "$rc" -eq 0 ] && [ "$ok" -eq "$n" ] && break
    [ -n "$first_error" ] || first_error=$( (grep -v ' {"ok":true' "$TMP/exec-$name.out" |
      cut -d' ' -f2-; cat "$TMP/exec-$name.err") | head -n 1)
    [ $(( ($(date +%s%N) - start) / 1000000000 )) -lt 30 ] || break
    sleep 1
  done
  replays=$(grep -c '"idempotentReplay":true' "$TMP/exec-$name.out")
  local ms=$(( ($(date +%s%N) - start) / 1000000 ))
  say "$(printf '%-9s %3d commands, %3d ok, %5d ms' "$name" "$n" "$ok" "$ms")"
  if [ "$attempts" -gt 1 ]; then
    say "          $attempts attempts ($replays commands of the last one replayed); the first failed: $first_error"
  fi
  if [ "$rc" -ne 0 ] || [ "$ok" -ne "$n" ]; then
    grep -v ' {"ok":true' "$TMP/exec-$name.out" | head -n 3 | cut -d' ' -f2- | indent >&2
    head -n 3 "$TMP/exec-$name.err" | indent >&2
    die "slate exec --nats ($name): exit $rc, $ok of $n ok"
  fi
}
run_part morning

# kill -9 the server leading most partition streams: those elect new
# leaders, and the load goes on through the other two.
victim=$(printf '%s\n' "$STATUS" | awk '$1 ~ /^[0-9]+$/ { n[$6]++ }
  END { for (s in n) if (n[s] > best) { best = n[s]; v = s } print v }')
case "$victim" in n[012]) ;; *) victim=${meta:-n0} ;; esac
vi=${victim#n}
say "kill -9 nats-server $victim (pid ${SERVER_PIDS[vi]}; it leads $(printf '%s\n' "$STATUS" |
  awk -v v="$victim" '$1 ~ /^[0-9]+$/ && $6 == v' | wc -l) of $PARTITIONS partition streams)"
kill -KILL "${SERVER_PIDS[vi]}"
wait "${SERVER_PIDS[vi]}" 2>/dev/null
run_part midday
# Every partition owned again (a server's death can make leases lapse while
# the leases bucket elects a new leader; the nodes then take them anew).
until_true 30 all_owned || die "not every partition has an owner 30 s after the server's kill: $STATUS"
say "status with $victim down (the streams it led have new leaders; its copies fall behind):"
printf '%s\n' "$STATUS" | tail -n +2 | indent

# kill -9 the node owning most tenants' partitions: its leases lapse after
# the TTL and the other two take its partitions.
best=-1
for n in a b c; do
  k=0
  for t in "${TENANTS[@]}"; do
    case " $(partitions_of "$n") " in *" ${PART[$t]} "*) k=$((k + 1)) ;; esac
  done
  [ "$k" -gt "$best" ] && best=$k && dead=$n
done
[ "$best" -gt 0 ] || die "no node owns a tenant's partition: $STATUS"
lost=$(partitions_of "$dead")
moved=()
for t in "${TENANTS[@]}"; do
  case " $lost " in *" ${PART[$t]} "*) moved+=("$t") ;; esac
done
survivors=$(printf '%s\n' a b c | grep -vx "$dead" | tr '\n' ' ')
say "kill -9 node $dead (pid ${NODE_PID[$dead]}; partitions $lost: tenants ${moved[*]}); the afternoon's load goes on at once"
kill -KILL "${NODE_PID[$dead]}"
KILLED=$(date +%s%N)
wait "${NODE_PID[$dead]}" 2>/dev/null
run_part afternoon
first=""
for t in "${moved[@]}"; do
  s=$(grep -m1 " {\"ok\":true.*\"tenantId\":\"$t\"" "$TMP/exec-afternoon.out" | cut -d' ' -f1)
  [ -n "$s" ] && { [ -z "$first" ] || [ "$s" -lt "$first" ]; } && first=$s && first_t=$t
done
[ -n "$first" ] || die "no command of ${moved[*]} served after the kill"
# shellcheck disable=SC2086
until_true 20 all_owned $survivors || die "$survivors do not own every partition: $STATUS"
took=""
for p in $lost; do
  # The first line of a survivor's log after the kill that shows +p.
  by=$(for n in $survivors; do
         awk -v p="+$p" -v k="$((KILLED / 1000000))" -v n="$n" '$1 >= k {
           for (i = 2; i <= NF; i++) { f = $i; gsub(/[()]/, "", f); if (f == p) { print $1, n; exit } } }' \
           "$TMP/node-$n.log"
       done | sort -n | head -n 1)
  [ -n "$by" ] && took+=" $p by ${by#* } after $(( ${by% *} - KILLED / 1000000 )) ms,"
done
FAILOVER_MS=$(( (first - KILLED) / 1000000 ))
say "failover:${took%,}"
say "first command of $first_t served by its new owner $FAILOVER_MS ms after the kill (lease ttl $LEASE_TTL)"
printf '%s\n' "$STATUS" | tail -n +2 | indent

# ---------------------------------------------------------------------------
# 4. KPIs: the cluster's, merged, and an embedded engine's on the same commands

phase "4. KPIs: the cluster (merged over partitions) and an embedded engine"
"$SLATE" exec --db "$TMP/embedded" --now "$END" "$TMP/day.jsonl" >"$TMP/exec-embedded.out" 2>&1 ||
  die "slate exec --db (embedded): $(grep -v '"ok":true' "$TMP/exec-embedded.out" | head -n 3)"
# show_kpis FILE: the title line and three tables of slate kpi's output
# (paragraphs: the title, then one per table).
show_kpis() {
  awk 'BEGIN { RS = ""; ORS = "\n\n" } NR == 1 || /^(Incidents \(|Response and resolution, wall time\n|SLA\n)/' \
    "$1" | sed '$d' | indent
}
KPI_ARGS=(--all-tenants --by tenant --bucket all --now "$END")
"$SLATE" kpi --db "$TMP/embedded" "${KPI_ARGS[@]}" >"$TMP/kpi-embedded.txt" 2>&1 ||
  die "slate kpi --db: $(cat "$TMP/kpi-embedded.txt")"
say "slate kpi ${KPI_ARGS[*]}"
if ! "$SLATE" kpi --help 2>&1 | grep -q -- '--nats'; then
  say "the embedded engine's (three of its tables):"
  show_kpis "$TMP/kpi-embedded.txt"
  die "slate kpi --nats not available in this build: the cluster's KPIs cannot be compared (above: the embedded engine's)"
fi
"$SLATE" kpi --nats "$URLS" "${KPI_ARGS[@]}" >"$TMP/kpi-cluster.txt" 2>&1 ||
  die "slate kpi --nats: $(cat "$TMP/kpi-cluster.txt")"
say "the cluster's (--nats; three of its tables):"
show_kpis "$TMP/kpi-cluster.txt"
if diff -u "$TMP/kpi-embedded.txt" "$TMP/kpi-cluster.txt" >"$TMP/kpi.diff"; then
  say "embedded engine (--db, the same $(wc -l <"$TMP/day.jsonl") commands): identical"
else
  say "embedded engine (--db, the same commands): DIFFERENT:"
  indent <"$TMP/kpi.diff"
  die "the cluster's KPIs differ from the embedded engine's"
fi

# ---------------------------------------------------------------------------
# 5. stop

phase "5. stop"
for n in $survivors; do kill -TERM "${NODE_PID[$n]}"; done
for n in $survivors; do
  wait "${NODE_PID[$n]}"; rc=$?
  [ "$rc" = 0 ] || die "node $n exited with $rc on SIGTERM"
  say "$(grep 'stopping' "$TMP/node-$n.log" | cut -d' ' -f2-)"
done
for pid in "${SERVER_PIDS[@]}"; do alive "$pid" && kill -TERM "$pid"; done
for pid in "${SERVER_PIDS[@]}"; do wait "$pid" 2>/dev/null; done
say "nats-servers stopped; total $(elapsed "$T0")"
OK=1
