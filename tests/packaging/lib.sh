# Shared by the tests/packaging scripts. Each check prints one line
# "PASS: name", "FAIL: name: why" or "SKIP: name: why"; ./dev.sh test counts
# them into its last line.
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PKG="$ROOT/tests/packaging"
VERSION=$(sed -n 's/^#define SLATE_VERSION "\(.*\)"$/\1/p' "$ROOT/lib/api/version.h")

pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1: $2"; FAILED=1; }
FAILED=0

# A fresh consumer project: PKG/<kind>/ plus the program, in a temporary
# directory outside the repository.
new_project() {
  local dir
  dir=$(mktemp -d "${TMPDIR:-/tmp}/slate-$1.XXXXXX")
  cp -R "$PKG/$1/." "$dir/"
  cp "$PKG/consumer_main.cc" "$dir/main.cc"
  echo "$dir"
}

# check_run NAME BINARY LOG: runs the consumer on a fresh database directory
# and checks what it prints.
check_run() {
  local name=$1 bin=$2 log=$3 db out
  db=$(mktemp -d "${TMPDIR:-/tmp}/slate-db.XXXXXX")
  if ! out=$("$bin" "$db/db" 2>&1); then
    fail "$name" "the program failed: $out (build log: $log)"
  elif ! printf '%s\n' "$out" |
      grep -qE "^Slate $VERSION: incident INC1 priority [0-9]+, [1-9][0-9]* event\(s\) in incident/INC1$"; then
    fail "$name" "unexpected output: $out"
  else
    pass "$name ($out)"
  fi
  rm -rf "$db"
}
