// RocksView: a view of bytes RocksDB owns (iterator keys and values, pinned
// slices), for decoding them at once; RocksWrite: DB::Write. Both exist for
// ThreadSanitizer builds against Debian's uninstrumented RocksDB (below).
//
//   for (it->Seek(k); it->Valid(); it->Next()) {
//     absl::string_view value = RocksView(it->value());  // decode it now
//   }
//
// In normal builds this is a zero-copy view, valid as long as the slice is.
// Under ThreadSanitizer it is a copy made with TSan's checks off: Debian's
// RocksDB is not instrumented, so its lock-free memtable publishes entries
// with atomics TSan cannot see, and every read of a fresh entry would look
// like a race. The copy lives in one of kTsanViews per-thread buffers, so a
// view stays valid until the thread makes kTsanViews more RocksViews: use it
// right away, as every caller here does. (`--config=tsan` defines
// SLATE_TSAN: see .bazelrc.)
#ifndef SLATE_LIB_LOG_ROCKS_ACCESS_H_
#define SLATE_LIB_LOG_ROCKS_ACCESS_H_

#include <string>

#include "absl/strings/string_view.h"
#include "rocksdb/db.h"
#include "rocksdb/slice.h"
#include "rocksdb/write_batch.h"

#if defined(SLATE_TSAN)
extern "C" void __tsan_ignore_thread_begin();
extern "C" void __tsan_ignore_thread_end();
#endif

namespace slate {

inline absl::string_view RocksView(const rocksdb::Slice& s) {
#if defined(SLATE_TSAN)
  constexpr int kTsanViews = 16;
  thread_local std::string buffers[kTsanViews];
  thread_local int next = 0;
  std::string& b = buffers[next];
  next = (next + 1) % kTsanViews;
  __tsan_ignore_thread_begin();
  b.assign(s.data(), s.size());
  __tsan_ignore_thread_end();
  return absl::string_view(b.data(), b.size());
#else
  return absl::string_view(s.data(), s.size());
#endif
}

// db->Write(options, batch), with TSan's memory checks off for the call.
// RocksDB merges concurrent writers' batches on whichever thread leads its
// write group, copying them with std::string code that TSan instruments
// (it is instantiated in our binaries) while the handoff itself uses
// RocksDB's uninstrumented atomics: without this, TSan reports RocksDB's
// own handoff as a race. Synchronisation events are still tracked.
inline rocksdb::Status RocksWrite(rocksdb::DB* db,
                                  const rocksdb::WriteOptions& options,
                                  rocksdb::WriteBatch* batch) {
#if defined(SLATE_TSAN)
  __tsan_ignore_thread_begin();
  rocksdb::Status s = db->Write(options, batch);
  __tsan_ignore_thread_end();
  return s;
#else
  return db->Write(options, batch);
#endif
}

}  // namespace slate

#endif  // SLATE_LIB_LOG_ROCKS_ACCESS_H_
