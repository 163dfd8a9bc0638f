#!/bin/bash
# Runs `slate exec` over every scripted lifecycle in examples/domain/ and
# checks the results and the states `slate show` reports afterwards.
# Usage (from Bazel): exec_examples_test.sh SLATE_BINARY EXAMPLES_DIR
set -u
SLATE="$1"
EXAMPLES="$2"
NOW=2026-11-27T16:00:00Z
TMP="${TEST_TMPDIR:-/tmp}/exec-examples.$$"
mkdir -p "$TMP"
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

expect_contains() {  # what haystack needle
  case "$2" in *"$3"*) ;; *) fail "$1: expected to contain [$3], got: $2" ;; esac
}

for name in incident problem change change_review service sla satisfaction requests tenants; do
  file="$EXAMPLES/$name.jsonl"
  db="$TMP/$name"
  # A NAME.policy.json beside the script is its change policy.
  policy=()
  [ -f "$EXAMPLES/$name.policy.json" ] && policy=(--change-policy "$EXAMPLES/$name.policy.json")
  commands=$(grep -cvE '^\s*(#|$)' "$file")
  out=$("$SLATE" exec --db "$db" --now "$NOW" "${policy[@]}" "$file")
  rc=$?
  [ "$rc" = 0 ] || fail "$name: exit code $rc"
  lines=$(printf '%s\n' "$out" | grep -c .)
  oks=$(printf '%s\n' "$out" | grep -c '^{"ok":true')
  [ "$lines" = "$commands" ] || fail "$name: $lines result lines for $commands commands"
  [ "$oks" = "$commands" ] || fail "$name: $oks of $commands ok: $(printf '%s\n' "$out" | grep -v '"ok":true')"
  # Executing the same file again appends nothing: every line is a replay.
  again=$("$SLATE" exec --db "$db" --now "$NOW" "${policy[@]}" "$file")
  replays=$(printf '%s\n' "$again" | grep -c '"idempotentReplay":true')
  [ "$replays" = "$commands" ] || fail "$name: $replays of $commands replayed on re-run"
  echo "ok: $name ($commands commands)"
done

show() { "$SLATE" show "$@" 2>&1; }

# Tenants: one INC1 per tenant, the shared service unless overridden.
s=$(show incident INC1 --db "$TMP/tenants" --tenant acme)
expect_contains "acme INC1" "$s" "incident INC1 (tenant acme)"
expect_contains "acme INC1" "$s" "state: Resolved"
expect_contains "acme INC1" "$s" "priority: 2 (High)"
s=$(show incident INC1 --db "$TMP/tenants" --tenant beta)
expect_contains "beta INC1" "$s" "beta-mail"
expect_contains "beta INC1" "$s" "priority: 5"
s=$(show incident INC1 --db "$TMP/tenants")
expect_contains "default INC1" "$s" "NOT_FOUND"
expect_contains "acme email" "$(show service email --db "$TMP/tenants" --tenant acme)" "name: Acme mail"
expect_contains "beta email" "$(show service email --db "$TMP/tenants" --tenant beta)" "name: E-mail"
s=$(show incident INC1 --db "$TMP/tenants" --tenant Bad)
expect_contains "bad tenant" "$s" "may hold only"
s=$(echo '{"tenantId":"acme","closeIncident":{"incidentId":"INC1","at":"2026-11-23T13:00:00Z"}}' | "$SLATE" exec --db "$TMP/tenants" --now "$NOW" --tenant beta)
expect_contains "exec --tenant mismatch" "$s" "but --tenant beta"

s=$(show incident INC1 --db "$TMP/incident")
expect_contains "INC1" "$s" "state: Closed"
expect_contains "INC1" "$s" "reopen_count: 1"
expect_contains "INC1" "$s" "reassignment_count: 1"
expect_contains "INC1" "$s" "assignment_count: 2"
expect_contains "INC1" "$s" "priority: 1 (Critical)"
expect_contains "INC1" "$s" "priority_overridden: true"
expect_contains "INC1" "$s" "acknowledged_by: service-desk"
j=$(show incident INC1 --db "$TMP/incident" --format json)
expect_contains "INC1 json" "$j" '"status":"INCIDENT_CLOSED"'
expect_contains "INC1 json" "$j" '"priorityName":"Critical"'

s=$(show incident INC40 --db "$TMP/satisfaction")
expect_contains "INC40" "$s" "service_id: crm"
expect_contains "INC40" "$s" "configuration_item: crm-db-1"
expect_contains "INC40" "$s" "survey_score: 2"
expect_contains "INC40" "$s" "survey_resolution_cycle: 2"
again=$(echo '{"recordSurveyResponse":{"incidentId":"INC41","score":5}}' | "$SLATE" exec --db "$TMP/satisfaction" --now "$NOW")
expect_contains "second survey" "$again" '"code":"ALREADY_EXISTS"'
k=$("$SLATE" kpi --db "$TMP/satisfaction" --by service --bucket all --now "$NOW" --table services --format csv)
expect_contains "kpi services" "$k" "2026-11-27,2026-11-28,crm,0.8854,,6600.000,2,25500.000,2,2,1.0000,0.5000,3.5000"

s=$(show problem PRB1 --db "$TMP/problem")
expect_contains "PRB1" "$s" "state: Closed"
expect_contains "PRB1" "$s" "known_error: true"
expect_contains "PRB1" "$s" "linked_incidents: INC10, INC11"
for inc in INC10 INC11; do
  s=$(show incident $inc --db "$TMP/problem")
  expect_contains "$inc" "$s" "state: Resolved"
  expect_contains "$inc" "$s" "resolved_by_problem: PRB1"
done

s=$(show change CHG1 --db "$TMP/change")
expect_contains "CHG1" "$s" "state: Closed"
expect_contains "CHG1" "$s" "risk: RISK_HIGH"
expect_contains "CHG1" "$s" "outcome: SUCCESSFUL_WITH_ISSUES"
expect_contains "CHG1" "$s" "caused_incidents: INC20"
s=$(show change CHG2 --db "$TMP/change")
expect_contains "CHG2" "$s" "state: Scheduled"
expect_contains "CHG2" "$s" "overridden_conflicts: change CHG1 on configuration item db1"
s=$(show change CHG3 --db "$TMP/change")
expect_contains "CHG3" "$s" "blackout quarter-end of service crm"

# Post-implementation reviews (change_review.jsonl, under its policy: high
# risk and emergency changes need one before close).
db="$TMP/change_review"
pol=(--change-policy "$EXAMPLES/change_review.policy.json")
s=$(show change CHG50 --db "$db")
expect_contains "CHG50" "$s" "state: Closed"
expect_contains "CHG50" "$s" "caused_incidents: INC50, INC51"
expect_contains "CHG50" "$s" "  review:
    reviewed_at: 2026-11-25T15:00:00Z
    reviewer: cab-chair
    outcome: ROLLED_BACK
    outcome_confirmed: true
    objectives_met: false"
expect_contains "CHG50 review's incidents" "$s" "    caused_incidents: INC50
    reviewed_in: CHANGE_REVIEW"
s=$(show change CHG52 --db "$db")
expect_contains "CHG52" "$s" "outcome: SUCCESSFUL
"
expect_contains "CHG52" "$s" "    outcome: SUCCESSFUL_WITH_ISSUES
    outcome_confirmed: false"
j=$(show change CHG52 --db "$db" --format json)
expect_contains "CHG52 json" "$j" '"review":{"reviewedAtUs":'
k=$("$SLATE" kpi --db "$db" --bucket all --table changes --format csv)
expect_contains "kpi changes" "$k" "2026-11-23,2026-11-28,4,3,0.7500,0.5000,1,0.3333,1,1,1.0000"
k=$("$SLATE" kpi --db "$db" --bucket all)
expect_contains "kpi default shows the review" "$k" "Changes: post-implementation review"
k=$("$SLATE" kpi --db "$TMP/change" --bucket all)
case "$k" in *post-implementation*) fail "kpi: review table without reviews: $k" ;; esac
again=$(echo '{"reviewChange":{"changeId":"CHG50","reviewer":"x","outcome":"SUCCESSFUL","objectivesMet":true}}' | "$SLATE" exec --db "$db" --now "$NOW" "${pol[@]}")
expect_contains "second review" "$again" '{"ok":false,"code":"FAILED_PRECONDITION","message":"change CHG50: already reviewed by cab-chair at 2026-11-25T15:00:00Z'
r=$(echo '{"reviewChange":{"changeId":"CHG55","reviewer":"x","outcome":"SUCCESSFUL","objectivesMet":true}}' | "$SLATE" exec --db "$db" --now "$NOW" "${pol[@]}")
expect_contains "cancelled review" "$r" '"code":"FAILED_PRECONDITION","message":"change CHG55: cannot review (normal change): Cancelled -> Cancelled is not allowed"'
close54='{"closeChange":{"changeId":"CHG54","at":"2026-11-27T15:00:00Z","outcome":"SUCCESSFUL"}}'
r=$(echo "$close54" | "$SLATE" exec --db "$db" --now "$NOW" "${pol[@]}")
[ $? = 1 ] || fail "close without review: exit code not 1"
expect_contains "close without review" "$r" '"code":"FAILED_PRECONDITION","message":"change CHG54: cannot close before its post-implementation review: the change policy requires one for emergency changes (review_required.types) (reviewChange first)"'
expect_contains "CHG54 still in Review" "$(show change CHG54 --db "$db")" "state: Review"
bad=$(echo "$close54" | "$SLATE" exec --db "$db" --now "$NOW" --change-policy "$EXAMPLES/change.jsonl" 2>&1)
[ $? = 2 ] || fail "bad --change-policy: exit code not 2"
expect_contains "bad --change-policy" "$bad" "--change-policy"
# Without the policy (the default): no review needed.
r=$(echo "$close54" | "$SLATE" exec --db "$db" --now "$NOW")
expect_contains "close under the default policy" "$r" '"ok":true'

# Service requests and the catalog (requests.jsonl).
db="$TMP/requests"
s=$(show request REQ1 --db "$db" --clocks)
expect_contains "REQ1" "$s" "state: Closed"
expect_contains "REQ1" "$s" "total_cents: 170000"
expect_contains "REQ1" "$s" "approved_at: 2026-11-23T11:00:00Z"
expect_contains "REQ1" "$s" "fulfilled_at: 2026-11-24T13:00:00Z"
expect_contains "REQ1" "$s" "request-fulfilment resolution cycle 1: BREACHED (STOPPED), target 24h, used 28h"
s=$(show request REQ2 --db "$db" --clocks)
expect_contains "REQ2" "$s" "state: Fulfilled"
expect_contains "REQ2" "$s" "request-fulfilment resolution cycle 1: MET (STOPPED), target 8h, used 4h"
expect_contains "REQ3" "$(show request REQ3 --db "$db")" "state: Rejected"
expect_contains "REQ5" "$(show request REQ5 --db "$db")" "state: In Fulfilment"
expect_contains "laptop" "$(show catalog laptop --db "$db")" "fulfilment_target: 72h"
# Hand-computed: 5 opened; REQ1 approved after 2h; REQ3 rejected, REQ4
# cancelled; REQ1 (28h) and REQ2 (4h) fulfilled: mean 16h = 57600 s (24x7,
# so business = wall); cost 1200.00 + 2 x 250.00 (REQ2 is free) = 170000
# cents; surveys 5 and 3: CSAT 1/2, mean 4.
k=$("$SLATE" kpi --db "$db" --by service --bucket all --table requests --format csv)
expect_contains "kpi requests" "$k" "2026-11-23,2026-11-28,workplace,5,1,7200.000,7200.000,1,1,2,57600.000,57600.000,170000,2,0.5000,4.0000"
k=$("$SLATE" kpi --db "$db" --by service --bucket all --table sla --format csv)
expect_contains "kpi request sla" "$k" "workplace,request-fulfilment,resolution,1,1,0.5000"
expect_contains "kpi default shows requests" "$("$SLATE" kpi --db "$db" --bucket all)" "Service requests"
k=$("$SLATE" kpi --db "$TMP/change" --bucket all)
case "$k" in *"Service requests"*) fail "kpi: requests table without requests: $k" ;; esac
r=$(echo '{"recordRequestSurveyResponse":{"requestId":"REQ1","score":1}}' | "$SLATE" exec --db "$db" --now "$NOW")
expect_contains "second request survey" "$r" '"code":"ALREADY_EXISTS","message":"request REQ1: already has a survey response (score 5'
r=$(echo '{"recordRequestSurveyResponse":{"requestId":"REQ5","score":4}}' | "$SLATE" exec --db "$db" --now "$NOW")
expect_contains "survey before fulfilment" "$r" '"code":"FAILED_PRECONDITION","message":"request REQ5: cannot record a survey response: In Fulfilment -> In Fulfilment is not allowed"'
r=$(echo '{"approveRequest":{"requestId":"REQ5","approver":"boss","role":"manager"}}' | "$SLATE" exec --db "$db" --now "$NOW")
expect_contains "approve without approval" "$r" '"code":"FAILED_PRECONDITION","message":"request REQ5: cannot approve: In Fulfilment -> In Fulfilment is not allowed"'
r=$(echo '{"submitRequest":{"requestId":"REQ6","requester":"fay","impact":3,"urgency":3,"items":[{"itemId":"desk"}]}}' | "$SLATE" exec --db "$db" --now "$NOW")
expect_contains "unknown item" "$r" '"code":"NOT_FOUND","message":"request REQ6: field items[0]: catalog item desk not found"'
case "$(show request REQ6 --db "$db")" in *"not found"*) ;; *) fail "REQ6 was written" ;; esac

s=$(show service hr-portal --db "$TMP/service")
expect_contains "hr-portal" "$s" "owner: people-tech"
expect_contains "hr-portal" "$s" '"windowId":"payroll"'
case "$s" in *xmas*) fail "hr-portal: removed blackout still shown" ;; esac
expect_contains "INC30" "$(show incident INC30 --db "$TMP/service")" "priority: 3 (Low)"
expect_contains "fax" "$(show service fax --db "$TMP/service")" "state: Retired"
expect_contains "matrix" "$(show priority-matrix --db "$TMP/service")" "level_names: Critical, High, Low"

# SLA agreements: INC40 left the low-priority policy when raised to P1;
# the 2026 contract retired on 2026-11-25 (INC41's clock ends then, INC42
# opened after it gets none).
x=$("$SLATE" explain --db "$TMP/sla" incident INC40 --policy low-priority 2>&1)
expect_contains "INC40 explain" "$x" "cancelled"
expect_contains "INC40 explain" "$x" "no longer matches the policy"
x=$("$SLATE" explain --db "$TMP/sla" incident INC40 --policy high-priority 2>&1)
expect_contains "INC40 high" "$x" "met"
x=$("$SLATE" explain --db "$TMP/sla" incident INC41 --policy contract-2026 2>&1)
expect_contains "INC41 explain" "$x" "policy retired"
s=$(show incident INC42 --db "$TMP/sla" --clocks)
case "$s" in *contract-2026*) fail "INC42: a retired policy attached: $s" ;; esac
expect_contains "INC42" "$s" "high-priority"
s=$(show incident INC43 --db "$TMP/sla" --clocks)
expect_contains "INC43 OLA network" "$s" "ola-infra resolution cycle 1 (group network): MET (STOPPED), target 2h, used 1h30m"
expect_contains "INC43 OLA database" "$s" "ola-infra resolution cycle 2 (group database): MET (STOPPED), target 2h, used 1h25m (70.8%), paused 3h"
expect_contains "INC43 UC" "$s" "uc-dbvendor resolution cycle 1: MET (STOPPED), target 4h, used 3h"
# Escalations before the deadline on office-berlin (Friday lunch 13-14).
t=$("$SLATE" tick --db "$TMP/sla" --now "$NOW" 2>&1)
expect_contains "INC44 tick" "$t" "2026-11-27T12:00:00Z  resolution warning 2h before the deadline on incident/INC44 (policy billing-office, cycle 1), due Fri 2026-11-27 13:00 CET: 2h of 4h business time"
expect_contains "INC44 tick" "$t" "2026-11-27T14:00:00Z  resolution warning 1h before the deadline on incident/INC44 (policy billing-office, cycle 1), due Fri 2026-11-27 15:00 CET: 3h of 4h business time"
expect_contains "INC44 tick" "$t" "2026-11-27T14:30:00Z  resolution warning 30m before the deadline on incident/INC44"
x=$("$SLATE" explain --db "$TMP/sla" incident INC44 --policy billing-office 2>&1)
expect_contains "INC44 explain" "$x" "1h before the deadline of 4h reached (3h of business time) at Fri 2026-11-27 15:00 CET"
expect_contains "INC44 explain" "$x" "warning 30m before the deadline at 3h30m of business time: fired, due Fri 2026-11-27 15:30 CET"
expect_contains "INC44 explain" "$x" "breach at 4h of business time: fired, due Fri 2026-11-27 16:00 CET"
# Relative targets: P5 "12:00 on business day 2" from Thu 16:00 Berlin is
# Mon 12:00 (11h), raised to P4 "end of next business day": Fri 17:00 (8h).
x=$("$SLATE" explain --db "$TMP/sla" incident INC45 --policy billing-next-day 2>&1)
expect_contains "INC45 explain" "$x" "target 11h (12:00 on business day 2 from Thu 2026-11-26 16:00 CET, priority 5)"
expect_contains "INC45 explain" "$x" "target 11h -> 8h (priority 5 -> 4)"
expect_contains "INC45 explain" "$x" "target 8h (end of next business day from the start)"
expect_contains "INC45 explain" "$x" "deadline Fri 2026-11-27 17:00 CET"

# The issue's lines, exactly as written, then a bad command.
db="$TMP/issue"
out=$(printf '%s\n' \
  '{"defineService":{"serviceId":"email","name":"E-mail"}}' \
  '{"openIncident":{"incidentId":"INC1","at":"2026-11-27T15:00:00Z","serviceId":"email","impact":1,"urgency":2,"category":"network","contactType":"PHONE"}}' |
  "$SLATE" exec --db "$db" --now "$NOW" -)
[ "$(printf '%s\n' "$out" | grep -c '^{"ok":true')" = 2 ] || fail "issue lines: $out"
expect_contains "issue lines" "$out" '"priority":2'
before=$(show incident INC1 --db "$db" --format json)
bad=$(echo '{"closeIncident":{"incidentId":"INC1"}}' | "$SLATE" exec --db "$db" --now "$NOW")
[ $? = 1 ] || fail "bad command: exit code not 1"
expect_contains "bad command" "$bad" '{"ok":false,"code":"FAILED_PRECONDITION","message":"incident INC1: cannot close: New -> Closed is not allowed"}'
[ "$(show incident INC1 --db "$db" --format json)" = "$before" ] || fail "bad command changed INC1"
future=$(echo '{"startIncident":{"incidentId":"INC1","at":"2999-01-01T00:00:00Z"}}' | "$SLATE" exec --db "$db")
expect_contains "future" "$future" '"code":"INVALID_ARGUMENT"'
expect_contains "future" "$future" "--now"
# --domain-rules servicenow links a Closed incident to a problem; the
# default rules refuse it; an unknown value is bad usage.
printf '%s\n' \
  '{"openIncident":{"incidentId":"INC2","at":"2026-11-27T15:00:00Z","serviceId":"email","impact":3,"urgency":3}}' \
  '{"resolveIncident":{"incidentId":"INC2","at":"2026-11-27T15:10:00Z","resolutionCode":"fixed"}}' \
  '{"closeIncident":{"incidentId":"INC2","at":"2026-11-27T15:20:00Z"}}' \
  '{"logProblem":{"problemId":"PRB9","at":"2026-11-27T15:30:00Z","title":"recurs","serviceId":"email"}}' |
  "$SLATE" exec --db "$db" --now "$NOW" - >/dev/null
link='{"linkIncidentToProblem":{"incidentId":"INC2","at":"2026-11-27T15:40:00Z","problemId":"PRB9"}}'
refused=$(echo "$link" | "$SLATE" exec --db "$db" --now "$NOW")
expect_contains "link closed, default rules" "$refused" '"code":"FAILED_PRECONDITION","message":"incident INC2: cannot link to a problem: Closed -> Closed is not allowed"'
linked=$(echo "$link" | "$SLATE" exec --db "$db" --now "$NOW" --domain-rules servicenow)
expect_contains "link closed, servicenow rules" "$linked" '{"ok":true'
expect_contains "link closed, servicenow rules" "$(show incident INC2 --db "$db")" "problem_id: PRB9"
expect_contains "link closed, servicenow rules" "$(show incident INC2 --db "$db")" "state: Closed"
echo "$link" | "$SLATE" exec --db "$db" --now "$NOW" --domain-rules lenient >/dev/null 2>&1
[ $? = 2 ] || fail "--domain-rules lenient: exit code not 2"
garbage=$(echo 'not json' | "$SLATE" exec --db "$db" --now "$NOW")
expect_contains "garbage" "$garbage" '"code":"INVALID_ARGUMENT","message":"line 1: not a Command'

rm -rf "$TMP"
if [ "$failures" != 0 ]; then
  echo "$failures failure(s)"
  exit 1
fi
echo "all passed"
