// FaultFileSystem: a RocksDB FileSystem that fails writes on demand, for
// tests of a full disk and a read-only directory without root or a real
// small filesystem. Wrap it in an Env and pass it to EventLog::OpenForTest:
//
//   auto fs = std::make_shared<slate::testing::FaultFileSystem>();
//   std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(fs);
//   slate::EventLogTestHooks hooks;
//   hooks.env = env.get();
//   auto log = slate::EventLog::OpenForTest(options, dir, hooks);
//   fs->SetWriteBudget(4096);  // later writes fail with NoSpace ("disk full")
//   fs->SetReadOnly(true);     // creating, renaming, deleting, writing fail
//
// Thread-safe: RocksDB's background threads write through it too.
#ifndef SLATE_TESTS_FAULTS_FAULT_FS_H_
#define SLATE_TESTS_FAULTS_FAULT_FS_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "rocksdb/file_system.h"
#include "rocksdb/io_status.h"

namespace slate::testing {

class FaultFileSystem : public rocksdb::FileSystemWrapper {
 public:
  FaultFileSystem() : FileSystemWrapper(rocksdb::FileSystem::Default()) {}

  const char* Name() const override { return "SlateFaultFileSystem"; }

  // Bytes that may still be appended to files before appends fail with
  // IOStatus::NoSpace (as ENOSPC would). Negative: unlimited (the default).
  void SetWriteBudget(int64_t bytes) { budget_.store(bytes); }
  // When set, every operation that would change the directory or a file
  // fails with IOError "Read-only file system" (as EROFS would).
  void SetReadOnly(bool read_only) { read_only_.store(read_only); }
  // Appends refused so far.
  int64_t failed_writes() const { return failed_.load(); }

  // Takes `n` bytes from the budget; false (and counts a failure) if they
  // do not fit.
  bool Take(size_t n) {
    if (read_only_.load()) {
      failed_.fetch_add(1);
      return false;
    }
    int64_t left = budget_.load();
    while (left >= 0) {
      if (static_cast<int64_t>(n) > left) {
        budget_.store(0);
        failed_.fetch_add(1);
        return false;
      }
      if (budget_.compare_exchange_weak(left, left - static_cast<int64_t>(n))) {
        return true;
      }
    }
    return true;  // Unlimited.
  }

  rocksdb::IOStatus WriteError() const {
    return read_only_.load()
               ? rocksdb::IOStatus::IOError("Read-only file system (injected)")
               : rocksdb::IOStatus::NoSpace(
                     "No space left on device (injected)");
  }

  rocksdb::IOStatus NewWritableFile(const std::string& f,
                                    const rocksdb::FileOptions& o,
                                    std::unique_ptr<rocksdb::FSWritableFile>* r,
                                    rocksdb::IODebugContext* dbg) override {
    if (read_only_.load()) return WriteError();
    rocksdb::IOStatus s = target()->NewWritableFile(f, o, r, dbg);
    if (s.ok()) r->reset(new File(std::move(*r), this));
    return s;
  }
  rocksdb::IOStatus ReopenWritableFile(
      const std::string& f, const rocksdb::FileOptions& o,
      std::unique_ptr<rocksdb::FSWritableFile>* r,
      rocksdb::IODebugContext* dbg) override {
    if (read_only_.load()) return WriteError();
    rocksdb::IOStatus s = target()->ReopenWritableFile(f, o, r, dbg);
    if (s.ok()) r->reset(new File(std::move(*r), this));
    return s;
  }
  rocksdb::IOStatus ReuseWritableFile(
      const std::string& f, const std::string& old,
      const rocksdb::FileOptions& o,
      std::unique_ptr<rocksdb::FSWritableFile>* r,
      rocksdb::IODebugContext* dbg) override {
    if (read_only_.load()) return WriteError();
    rocksdb::IOStatus s = target()->ReuseWritableFile(f, old, o, r, dbg);
    if (s.ok()) r->reset(new File(std::move(*r), this));
    return s;
  }
  rocksdb::IOStatus NewRandomRWFile(const std::string& f,
                                    const rocksdb::FileOptions& o,
                                    std::unique_ptr<rocksdb::FSRandomRWFile>* r,
                                    rocksdb::IODebugContext* dbg) override {
    if (read_only_.load()) return WriteError();
    return target()->NewRandomRWFile(f, o, r, dbg);
  }
  rocksdb::IOStatus DeleteFile(const std::string& f,
                               const rocksdb::IOOptions& o,
                               rocksdb::IODebugContext* dbg) override {
    if (read_only_.load()) return WriteError();
    return target()->DeleteFile(f, o, dbg);
  }
  rocksdb::IOStatus RenameFile(const std::string& from, const std::string& to,
                               const rocksdb::IOOptions& o,
                               rocksdb::IODebugContext* dbg) override {
    if (read_only_.load()) return WriteError();
    return target()->RenameFile(from, to, o, dbg);
  }
  rocksdb::IOStatus CreateDir(const std::string& d, const rocksdb::IOOptions& o,
                              rocksdb::IODebugContext* dbg) override {
    if (read_only_.load()) return WriteError();
    return target()->CreateDir(d, o, dbg);
  }

 private:
  // Appends go through the budget; everything else is forwarded.
  class File : public rocksdb::FSWritableFileOwnerWrapper {
   public:
    File(std::unique_ptr<rocksdb::FSWritableFile> f, FaultFileSystem* fs)
        : FSWritableFileOwnerWrapper(std::move(f)), fs_(fs) {}
    rocksdb::IOStatus Append(const rocksdb::Slice& data,
                             const rocksdb::IOOptions& o,
                             rocksdb::IODebugContext* dbg) override {
      if (!fs_->Take(data.size())) return fs_->WriteError();
      return target()->Append(data, o, dbg);
    }
    rocksdb::IOStatus Append(const rocksdb::Slice& data,
                             const rocksdb::IOOptions& o,
                             const rocksdb::DataVerificationInfo& info,
                             rocksdb::IODebugContext* dbg) override {
      if (!fs_->Take(data.size())) return fs_->WriteError();
      return target()->Append(data, o, info, dbg);
    }
    rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data,
                                       uint64_t offset,
                                       const rocksdb::IOOptions& o,
                                       rocksdb::IODebugContext* dbg) override {
      if (!fs_->Take(data.size())) return fs_->WriteError();
      return target()->PositionedAppend(data, offset, o, dbg);
    }
    rocksdb::IOStatus Sync(const rocksdb::IOOptions& o,
                           rocksdb::IODebugContext* dbg) override {
      if (fs_->read_only_.load()) return fs_->WriteError();
      return target()->Sync(o, dbg);
    }
    rocksdb::IOStatus Fsync(const rocksdb::IOOptions& o,
                            rocksdb::IODebugContext* dbg) override {
      if (fs_->read_only_.load()) return fs_->WriteError();
      return target()->Fsync(o, dbg);
    }

   private:
    FaultFileSystem* fs_;
  };

  std::atomic<int64_t> budget_{-1};
  std::atomic<bool> read_only_{false};
  std::atomic<int64_t> failed_{0};
};

}  // namespace slate::testing

#endif  // SLATE_TESTS_FAULTS_FAULT_FS_H_
