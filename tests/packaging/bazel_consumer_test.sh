#!/usr/bin/env bash
# The README's "Embedding it" with Bazel, as a new user does it offline: a
# workspace in a temporary directory with a local_repository named slate
# pointing at this checkout and slate_dependencies() from @slate//:deps.bzl,
# builds tests/packaging/consumer_main.cc against @slate//lib/api:engine and
# runs it. Its own output base (temporary, --batch: no server is left
# behind); the disk cache of ~/.bazelrc, if any, is shared.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
name="Bazel consumer (local_repository + slate_dependencies())"
dir=$(new_project bazel_consumer)
sed -i "s|/path/to/slate|$ROOT|" "$dir/WORKSPACE"
base=$(mktemp -d "${TMPDIR:-/tmp}/slate-consumer-base.XXXXXX")
if (cd "$dir" && bazel --batch --output_base="$base" build --noshow_progress \
      --ui_event_filters=-info,-debug //:consumer) >"$dir/build.log" 2>&1; then
  check_run "$name" "$base/execroot/consumer/bazel-out/k8-fastbuild/bin/consumer" "$dir/build.log"
else
  fail "$name" "build failed: $(tail -20 "$dir/build.log")"
fi
chmod -R u+w "$base" 2>/dev/null
rm -rf "$base"
[ "$FAILED" -eq 0 ] && rm -rf "$dir"
exit "$FAILED"
