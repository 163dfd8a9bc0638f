#!/usr/bin/env bash
# Slate's single entry point. A fresh Debian bookworm machine needs nothing else:
#
#   ./dev.sh demo [--db DIR]       set up, build and run the quickstart example
#   ./dev.sh test [BAZEL_ARGS...]  set up, build and run every test; the last line
#                                  is "N passed, N failed" (GoogleTest cases).
#                                  Without arguments also the CMake build: the
#                                  source-list drift check, CTest, and consumer
#                                  projects (Bazel, CMake, pkg-config)
#   ./dev.sh install PREFIX        CMake release build of the library, the
#                                  slate tool and the examples; installs headers,
#                                  libslate.{a,so}, SlateConfig.cmake, slate.pc
#   ./dev.sh bench [TARGET]        run a benchmark (default //bench:log_bench) -c opt
#   ./dev.sh sanitize [ARGS...]    the whole test suite under ASan + UBSan, in
#                                  an output base of its own (CI runs it too)
#   ./dev.sh fuzz [SECONDS]        run every libFuzzer target for SECONDS each
#                                  (default 60; clang-14, see tests/fuzz)
#   ./dev.sh cluster               set up, build the slate tool, and run a Slate
#                                  cluster on loopback: 3 nats-servers, 3 nodes,
#                                  a day of load, a server and a node killed,
#                                  KPIs against an embedded engine's
#                                  (tools/cluster_demo.sh; README "Running a
#                                  cluster")
#   ./dev.sh setup                 only install missing Debian packages
#
# Examples: ./dev.sh test --config=asan     ./dev.sh test //tests/log/...
set -euo pipefail
cd "$(dirname "$0")"

# Debian packages the build needs. Installed only when missing (quick when all
# are present); as root directly, otherwise through sudo.
PACKAGES=(
  g++ libc6-dev bazel-bootstrap
  librocksdb-dev libabsl-dev libprotobuf-dev protobuf-compiler
  libgtest-dev libgmock-dev libbenchmark-dev tzdata
  libzip-dev libcli11-dev libnats-dev
)
# Only the tests need a browser (the HTML report renders in headless Chromium)
# and nats-server (tests/cluster start their own servers).
TEST_PACKAGES=(chromium nats-server)
# The CMake build (`./dev.sh install`, and `./dev.sh test` builds it too);
# python3 runs cmake/gen_sources.py.
CMAKE_PACKAGES=(cmake pkg-config make python3)

log() { printf 'dev.sh: %s\n' "$*" >&2; }

# setup [EXTRA_PACKAGES...]: installs PACKAGES plus the extras, if missing.
setup() {
  local missing=() p
  for p in "${PACKAGES[@]}" "$@"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
      missing+=("$p")
    fi
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { log "need root or sudo to install: ${missing[*]}"; exit 1; }
    sudo=(sudo)
  fi
  log "installing missing Debian packages: ${missing[*]}"
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq \
    --no-install-recommends "${missing[@]}" >/dev/null
}

BAZEL_QUIET=(--noshow_progress --ui_event_filters=-info,-debug)
# The Bazel command; `sanitize` points it at an output base of its own.
BAZEL=(bazel)

demo() {
  setup
  bazel build "${BAZEL_QUIET[@]}" //examples:quickstart
  "$(bazel info bazel-bin 2>/dev/null)/examples/quickstart" "$@"
}

# Runs bazel test and prints one line "N passed, N failed" counting GoogleTest
# cases from each target's test.xml. A target that failed without a readable
# result (crash, timeout, build failure) counts as one failed case.
run_tests() {
  setup "${TEST_PACKAGES[@]}" "${CMAKE_PACKAGES[@]}"
  local all=$#
  local flags=() targets=() a
  for a in "$@"; do
    case "$a" in
      -*) flags+=("$a") ;;
      *) targets+=("$a") ;;
    esac
  done
  if [ ${#targets[@]} -eq 0 ]; then
    # Every top-level package tree rather than //...: the convenience symlink
    # bazel-<checkout directory> of another output base (`sanitize`'s, or the
    # normal one seen from `sanitize`) is a foreign tree Bazel would walk
    # into, and .bazelignore cannot name it for every checkout directory.
    local d
    for d in */; do
      d=${d%/}
      # build-cmake*: the CMake build's runfiles tree links to the sources.
      case "$d" in bazel-*|build-cmake*) continue ;; esac
      [ -n "$(find "$d" \( -name BUILD -o -name BUILD.bazel \) -print -quit)" ] &&
        targets+=("//$d/...")
    done
  fi
  local out rc=0
  out=$(mktemp)
  "${BAZEL[@]}" test "${BAZEL_QUIET[@]}" --keep_going --test_summary=short "${flags[@]}" \
    "${targets[@]}" 2>&1 | tee "$out" || rc=$?
  local passed=0 failed=0 skipped=0 label status dir counts testlogs xmls
  testlogs=$("${BAZEL[@]}" info "${flags[@]}" bazel-testlogs 2>/dev/null)
  # Summary lines look like "//tests/log:foo   (cached) PASSED in 0.4s".
  while read -r label status; do
    dir="$testlogs/$(printf '%s' "${label#//}" | tr ':' '/')"
    case "$status" in
      PASSED|FAILED)
        # One test.xml per target, or one per shard; never stale copies left
        # in run_*/attempt directories by --runs_per_test or retries.
        # Only shard_K_of_N: shard_K_of_N_run_R_of_M directories are left by
        # an earlier --runs_per_test run and must not count.
        if [ -f "$dir/test.xml" ]; then xmls="$dir/test.xml"
        else xmls=$(find "$dir" -mindepth 2 -maxdepth 2 -regextype egrep \
                      -regex '.*/shard_[0-9]+_of_[0-9]+/test\.xml' 2>/dev/null); fi
        if [ -z "$xmls" ]; then
          echo "$label: $status without a test.xml to count (left by a" \
               "--runs_per_test run?); rerun with --nocache_test_results" >&2
        fi
        counts=$(printf '%s\n' $xmls |
          xargs -r awk '
            /<testcase / { n++; open=1; if ($0 ~ /\/>[[:space:]]*$/) open=0 }
            open && /<(failure|error)[ >]/ { f++; open=0 }
            open && /<skipped/ { s++; open=0 }
            /<\/testcase>/ { open=0 }
            END { printf "%d %d %d\n", n, f, s }')
        read -r n f s <<<"${counts:-0 0 0}"
        if [ "$status" = FAILED ] && [ "$f" -eq 0 ]; then f=1; n=$((n + 1)); fi
        passed=$((passed + n - f - s)); failed=$((failed + f)); skipped=$((skipped + s)) ;;
      *) failed=$((failed + 1)) ;;
    esac
  done < <(sed -n -E 's#^(//[^ ]+)[[:space:]]+(\(cached\) )?(PASSED|FAILED|NO STATUS|FAILED TO BUILD|TIMEOUT|FLAKY|INCOMPLETE|REMOTE FAILURE)( in .*)?$#\1 \3#p' "$out" |
    sed -E 's/ (NO STATUS|FAILED TO BUILD|REMOTE FAILURE)$/ BROKEN/')
  rm -f "$out"
  if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
  # Bare `./dev.sh test`: the CMake build and the packaging checks as well
  # (arguments are Bazel's; `sanitize` passes some).
  if [ "$all" -eq 0 ] && [ -z "${SLATE_SKIP_CMAKE:-}" ]; then
    log "bazel: $passed passed, $failed failed, $skipped skipped"
    cmake_tests || rc=1
  fi
  [ "$skipped" -gt 0 ] && echo "$skipped skipped (each test printed why)"
  echo "$passed passed, $failed failed"
  [ "$rc" -eq 0 ] && [ "$failed" -eq 0 ]
}

# The CMake build, its tests and the packaging checks; adds to run_tests'
# passed/failed/skipped. Each step below counts as described.
CMAKE_BUILD_DIR="${SLATE_CMAKE_BUILD_DIR:-build-cmake}"
cmake_tests() {
  local rc=0 out counts n f s line
  # 1. cmake/sources.cmake equals what the BUILD files say (one case).
  log "cmake: drift check (cmake/gen_sources.py --check)"
  if python3 cmake/gen_sources.py --check --bazel="${BAZEL[*]}"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1)); rc=1
  fi
  # The README quotes the consumer projects unchanged (one case per file).
  count_checks bash tests/packaging/readme_snippets_test.sh || rc=1
  # 2. Build and CTest: the same GoogleTest binaries, counted per case from
  #    their XML reports (cmake/ctest_counts.py). A failed build is one case.
  log "cmake: configure and build in $CMAKE_BUILD_DIR (log: $CMAKE_BUILD_DIR/build.log)"
  mkdir -p "$CMAKE_BUILD_DIR"
  if ! { cmake -S . -B "$CMAKE_BUILD_DIR" -DSLATE_BUILD_TESTS=ON &&
         cmake --build "$CMAKE_BUILD_DIR" -j"${SLATE_JOBS:-2}"; } \
       >"$CMAKE_BUILD_DIR/build.log" 2>&1; then
    tail -n 40 "$CMAKE_BUILD_DIR/build.log"
    echo "cmake: the build FAILED (log: $CMAKE_BUILD_DIR/build.log)"
    failed=$((failed + 1))
    return 1
  fi
  log "cmake: ctest"
  rm -rf "$CMAKE_BUILD_DIR/test-xml" "$CMAKE_BUILD_DIR/ctest-junit.xml"
  # Without the "Start" lines, one line per test as bazel prints.
  ctest --test-dir "$CMAKE_BUILD_DIR" -j"${SLATE_JOBS:-2}" --output-on-failure \
    --output-junit ctest-junit.xml 2>&1 | grep -v '^ *Start  *[0-9]' || rc=1
  counts=$(python3 cmake/ctest_counts.py "$CMAKE_BUILD_DIR" \
             "$CMAKE_BUILD_DIR/ctest-junit.xml") || counts="0 1 0"
  read -r n f s <<<"$counts"
  log "cmake: ctest: $n passed, $f failed, $s skipped"
  passed=$((passed + n)); failed=$((failed + f)); skipped=$((skipped + s))
  # 3. Install into a temporary prefix; build and run the consumer projects
  #    (find_package, pkg-config, Bazel): one case per PASS/FAIL line.
  local prefix
  prefix=$(mktemp -d "${TMPDIR:-/tmp}/slate-prefix.XXXXXX")
  if cmake --install "$CMAKE_BUILD_DIR" --prefix "$prefix" >/dev/null; then
    count_checks bash tests/packaging/installed_consumers_test.sh "$prefix" || rc=1
  else
    echo "FAIL: cmake --install"; failed=$((failed + 1)); rc=1
  fi
  rm -rf "$prefix"
  count_checks bash tests/packaging/bazel_consumer_test.sh || rc=1
  return "$rc"
}

# Runs a tests/packaging script, counting its PASS/FAIL/SKIP lines.
count_checks() {
  local line status=missing rc=0 seen=0
  while IFS= read -r line; do
    case "$line" in
      PASS:*) passed=$((passed + 1)); seen=1 ;;
      FAIL:*) failed=$((failed + 1)); seen=1 ;;
      SKIP:*) skipped=$((skipped + 1)); seen=1 ;;
      exit:*) status=${line#exit:}; continue ;;  # the script's exit status
    esac
    echo "$line"
  done < <("$@" 2>&1; echo "exit:$?")
  [ "$status" = 0 ] || rc=1
  if [ "$rc" -ne 0 ] && [ "$seen" -eq 0 ]; then failed=$((failed + 1)); fi
  return "$rc"
}

# ./dev.sh install PREFIX: a release build (no tests) of its own.
install_prefix() {
  [ $# -eq 1 ] || { log "usage: ./dev.sh install PREFIX"; exit 2; }
  setup "${CMAKE_PACKAGES[@]}"
  local dir="${SLATE_CMAKE_RELEASE_DIR:-build-cmake-release}"
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release -DSLATE_BUILD_TESTS=OFF >/dev/null
  cmake --build "$dir" -j"${SLATE_JOBS:-2}" -- --no-print-directory -s
  cmake --install "$dir" --prefix "$1"
}

bench() {
  setup
  local target="${1:-//bench:log_bench}"
  shift || true
  bazel run "${BAZEL_QUIET[@]}" --config=bench "$target" -- "$@"
}

# Fuzzing (tests/fuzz): clang-14 with libFuzzer and ASan. Not needed by
# `./dev.sh test` (it replays the corpora with gcc), so installed only here.
FUZZ_PACKAGES=(clang-14 lld-14 libfuzzer-14-dev libclang-rt-14-dev)
FUZZ_TARGETS=(${FUZZ_ONLY:-envelope calendar_json sla_policy_json command_exec business_time servicenow_csv servicenow_import})

# Runs each target for SECONDS on a working copy of its corpus (new inputs go
# to ${FUZZ_WORK:-/tmp/slate-fuzz}/<target>/corpus, the committed seeds are
# only read) and prints executions and coverage per target. A crash leaves
# its input in .../<target>/crash-*: add it to tests/fuzz/corpus/<target>/
# regressions/ so the replay test keeps it. FUZZ_ONLY="a b" limits the
# targets; FUZZ_OUTPUT_BASE overrides the Bazel output base.
fuzz() {
  local seconds="${1:-60}"
  setup
  local p missing=()
  for p in "${FUZZ_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
      missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    local sudo=()
    [ "$(id -u)" -ne 0 ] && sudo=(sudo)
    log "installing fuzzing packages: ${missing[*]}"
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq \
      --no-install-recommends "${missing[@]}" >/dev/null
  fi
  # A separate output base: switching compilers would rebuild the gcc tree.
  local base labels=() t
  base="${FUZZ_OUTPUT_BASE:-$(bazel info output_base 2>/dev/null)-fuzz}"
  for t in "${FUZZ_TARGETS[@]}"; do labels+=("//tests/fuzz:${t}_fuzzer"); done
  bazel --output_base="$base" build "${BAZEL_QUIET[@]}" --config=fuzz "${labels[@]}"
  local bin work="${FUZZ_WORK:-/tmp/slate-fuzz}" failed=0 log max_len
  bin="$(bazel --output_base="$base" info --config=fuzz bazel-bin 2>/dev/null)/tests/fuzz"
  printf '%-16s %12s %8s %8s %8s  %s\n' target executions exec/s cov ft result
  for t in "${FUZZ_TARGETS[@]}"; do
    mkdir -p "$work/$t/corpus"
    log="$work/$t/fuzz.log"
    max_len=4096
    [ "$t" = command_exec ] && max_len=16384
    local rc=0
    "$bin/${t}_fuzzer" -max_total_time="$seconds" -timeout=10 \
      -max_len="$max_len" -print_final_stats=1 \
      -artifact_prefix="$work/$t/" \
      "$work/$t/corpus" "tests/fuzz/corpus/$t" >"$log" 2>&1 || rc=$?
    local execs rate cov ft
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
    ft=$(grep -oE 'ft: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
    local result=ok
    if [ "$rc" -ne 0 ]; then
      result="CRASH (rc $rc): see $log and $work/$t/crash-*"
      failed=1
    fi
    printf '%-16s %12s %8s %8s %8s  %s\n' "$t" "${execs:-?}" "${rate:-?}" \
      "${cov:-?}" "${ft:-?}" "$result"
  done
  return "$failed"
}

# ./dev.sh cluster: tools/cluster_demo.sh on a fresh build of the tool; it
# starts and stops everything itself.
cluster() {
  setup nats-server
  bazel build "${BAZEL_QUIET[@]}" //tools:slate
  tools/cluster_demo.sh "$(bazel info bazel-bin 2>/dev/null)/tools/slate"
}

cmd="${1:-}"
shift || true
case "$cmd" in
  demo) demo "$@" ;;
  test) run_tests "$@" ;;
  # ASan and UBSan in one build (.bazelrc config "sanitize"). Its own output
  # base: switching configs in one base would rebuild the normal tree.
  sanitize)
    BAZEL=(bazel --output_base="${SANITIZE_OUTPUT_BASE:-$(bazel info output_base 2>/dev/null)-sanitize}")
    # No convenience symlinks: bazel-bin etc. keep pointing at the normal
    # build's outputs.
    run_tests --config=sanitize --symlink_prefix=/ "$@" ;;
  bench) bench "$@" ;;
  fuzz) fuzz "$@" ;;
  cluster) cluster ;;
  install) install_prefix "$@" ;;
  setup) setup "${TEST_PACKAGES[@]}" "${CMAKE_PACKAGES[@]}" ;;
  *) sed -n '2,/^# Examples:/p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
