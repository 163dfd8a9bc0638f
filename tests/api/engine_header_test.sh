#!/bin/bash
# An embedder includes lib/api/engine.h with nothing of RocksDB or of the
# engine's internals on its include path. Compiles tests/api/engine_consumer.cc
# with only the public headers (//lib/api:public_headers) and the generated
# proto headers (tests/api/gen/proto, made by protoc) in reach, then checks that the headers it read include no
# rocksdb/, lib/log/, lib/projection/, lib/domain/, lib/timer/, lib/sla/,
# lib/calendar/ or lib/base/ header (RocksDB's headers are in /usr/include,
# so they would be found: the list of headers read is what catches them).
# Runs in the runfiles tree; CXX overrides the compiler (default g++).
set -euo pipefail

consumer=tests/api/engine_consumer.cc
cxx="${CXX:-g++}"
flags=(-std=c++20 -Wall -Wextra -Werror -iquote . -iquote tests/api/gen)

if ! "$cxx" "${flags[@]}" -fsyntax-only "$consumer"; then
  echo "FAIL: $consumer does not compile against the public headers alone"
  exit 1
fi

deps="$("$cxx" "${flags[@]}" -MM "$consumer")"
forbidden="$(tr ' \\' '\n\n' <<<"$deps" |
  grep -E '(^|/)(rocksdb|lib/(log|projection|domain|timer|sla|calendar|base))/' |
  sort -u || true)"
if [[ -n "$forbidden" ]]; then
  echo "FAIL: the public headers reach internal or RocksDB headers:"
  echo "$forbidden"
  exit 1
fi
# -MM lists no system headers; check RocksDB's system headers with -H.
if "$cxx" "${flags[@]}" -fsyntax-only -H "$consumer" 2>&1 |
  grep -E '^\.+ .*/rocksdb/'; then
  echo "FAIL: the public headers include RocksDB headers (above)"
  exit 1
fi
echo "OK: $consumer compiles with lib/api and proto/ headers only"
