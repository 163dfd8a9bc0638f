// ThreadSanitizer suppressions for binaries that use RocksDB, compiled in so
// that `--config=tsan` needs no extra flags. Link this (alwayslink) into
// every test or test helper binary that opens a database, and into the
// `slate` tool, which tests run as a child process (outside TSan builds the
// function is never called).
//
// Debian's librocksdb is not built with TSan: its lock-free memtable
// publishes entries with atomics TSan cannot see, so a read of a freshly
// inserted entry (by RocksDB, or by our code reading a value slice) looks
// like a race with RocksDB's write. Race reports with a RocksDB frame in
// either access stack are suppressed; races where both accesses are in
// Slate's own code have no such frame and stay fully checked.
// (`called_from_lib` was tried and rejected: it also hides RocksDB's mutex
// operations, which breaks happens-before and invents new races.)
// A library must not define this hook for its users, hence it lives with the
// executables (tools/), never in lib/.
extern "C" const char* __tsan_default_suppressions() {
  return "race:*rocksdb*\n";
}
