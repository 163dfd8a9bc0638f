#include "lib/log/event_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <system_error>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "lib/base/crash_point.h"
#include "lib/base/status_macros.h"
#include "lib/log/event_encoding.h"
#include "lib/log/log_format.h"
#include "lib/log/rocks_access.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/listener.h"
#include "rocksdb/memtablerep.h"
#include "rocksdb/perf_level.h"
#include "rocksdb/slice_transform.h"
#include "rocksdb/sst_file_writer.h"
#include "rocksdb/table.h"
#include "rocksdb/write_batch.h"

namespace slate {

namespace {
// Where IngestDerived builds its files (see EventLog::IngestDerived).
std::string IngestDir(const std::string& db_dir) {
  return db_dir + "/ingest.tmp";
}
}  // namespace

namespace fs = std::filesystem;

absl::Status FromRocks(const rocksdb::Status& s, absl::string_view what) {
  if (s.ok()) return absl::OkStatus();
  std::string msg = absl::StrCat(what, ": ", s.ToString());
  if (s.IsCorruption()) return absl::DataLossError(msg);
  if (s.IsNotFound()) return absl::NotFoundError(msg);
  if (s.IsNoSpace()) return absl::ResourceExhaustedError(msg);
  if (s.IsBusy() || s.IsTryAgain()) return absl::AbortedError(msg);
  if (s.IsIOError()) return absl::UnavailableError(msg);
  if (s.IsInvalidArgument()) return absl::FailedPreconditionError(msg);
  return absl::InternalError(msg);
}

// One stream's events of a pending append.
struct EventLog::Part {
  std::string stream;
  ExpectedVersion expected = ExpectedVersion::Any();
  std::vector<Envelope>* events = nullptr;
  // The events as ValidateEvents encoded them (empty for replicated events,
  // which the leader serializes as they come).
  std::vector<std::string> encoded;
  absl::StatusOr<AppendResult> result = absl::InternalError("not decided");
  // An idempotent replay of events decided earlier in the same group (a
  // retried command queued beside its original): stored only if the group
  // is, so it fails with the group.
  bool replays_group = false;
};

// One pending Append (one part) or AppendAtomically (one part per stream,
// all written or none). Lives on its caller's stack until `done`.
struct EventLog::Writer {
  std::vector<Part> parts;
  bool replicated = false;  // AppendReplicated: checked, not assigned.
  size_t event_count = 0;  // Of all parts.
  bool done = false;       // Guarded by queue_mu_.
  std::condition_variable cv;
};

// What the writers decided so far in the current group (leader only).
struct EventLog::GroupState {
  int64_t next_position = 0;
  int64_t now_us = 0;
  absl::flat_hash_map<std::string, int64_t> heads;
  // Ids appended earlier in this group -> their envelope.
  absl::flat_hash_map<std::string, const Envelope*> ids;
};

namespace {

// True for the files RocksDB creates in a database directory.
bool IsRocksDbFile(const std::string& name) {
  auto starts = [&](absl::string_view p) { return absl::StartsWith(name, p); };
  auto ends = [&](absl::string_view p) { return absl::EndsWith(name, p); };
  return name == "LOCK" || name == "IDENTITY" || name == "CURRENT" ||
         starts("LOG") || starts("MANIFEST-") || starts("OPTIONS-") ||
         ends(".log") || ends(".sst") || ends(".dbtmp");
}

// Makes a directory entry durable (a created or removed file in `dir`).
absl::Status SyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot open ", dir, ": ", std::strerror(errno)));
  }
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot sync ", dir, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

// Inspects `dir` before RocksDB touches it. Sets *create when a new database
// must be created there. A creation interrupted by a crash (its marker file
// is still present) is wiped and redone: nothing in it was acknowledged.
absl::Status PrepareDirectory(const std::string& dir, bool create_if_missing,
                              bool* create) {
  std::error_code ec;
  *create = false;
  const fs::path marker = fs::path(dir) / log_format::kCreatingMarker;
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec)) {
    return absl::FailedPreconditionError(
        absl::StrCat(dir,
                     " is not a directory, so it cannot hold a Slate "
                     "database"));
  }
  if (fs::exists(dir, ec)) {
    const bool interrupted = fs::exists(marker, ec);
    bool empty = true;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      const std::string name = entry.path().filename().string();
      empty = false;
      if (name == log_format::kCreatingMarker) continue;
      if (!interrupted && fs::exists(fs::path(dir) / "CURRENT", ec)) break;
      if (!interrupted || !IsRocksDbFile(name) || entry.is_directory()) {
        return absl::FailedPreconditionError(
            absl::StrCat(dir, " is not a Slate database: it holds \"", name,
                         "\" and no RocksDB CURRENT file"));
      }
    }
    if (ec) {
      return absl::UnavailableError(
          absl::StrCat("cannot list ", dir, ": ", ec.message()));
    }
    if (!interrupted && !empty) return absl::OkStatus();  // Has CURRENT.
    if (interrupted) {
      for (const auto& entry : fs::directory_iterator(dir, ec)) {
        if (entry.path().filename() != log_format::kCreatingMarker) {
          fs::remove(entry.path(), ec);
        }
      }
      if (ec) {
        return absl::UnavailableError(
            absl::StrCat("cannot clear the interrupted creation in ", dir, ": ",
                         ec.message()));
      }
    }
  }
  if (!create_if_missing) {
    return absl::NotFoundError(absl::StrCat(
        "no Slate database in ", dir, " (and create_if_missing is false)"));
  }
  fs::create_directories(dir, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("cannot create ", dir, ": ", ec.message()));
  }
  {
    int fd = ::open(marker.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || ::fsync(fd) != 0) {
      if (fd >= 0) ::close(fd);
      return absl::UnavailableError(absl::StrCat(
          "cannot write ", marker.string(), ": ", std::strerror(errno)));
    }
    ::close(fd);
  }
  SLATE_RETURN_IF_ERROR(SyncDir(dir));
  *create = true;
  return absl::OkStatus();
}

// Content equality for idempotent retries: everything the producer chose,
// not what the log assigned (version, position, recorded_at).
bool SameContent(const Envelope& stored, const Envelope& incoming) {
  Envelope a = stored;
  Envelope b = incoming;
  a.clear_version();
  a.clear_position();
  a.clear_recorded_at_us();
  b.clear_version();
  b.clear_position();
  b.clear_recorded_at_us();
  if (b.occurred_at_us() == 0) b.set_occurred_at_us(a.occurred_at_us());
  return a.SerializeAsString() == b.SerializeAsString();
}

// Keeps a failed write or flush an error until the log is reopened: RocksDB
// 7.8's own recovery from them can abort the process (Debian's librocksdb is
// built with assertions).
// - A failed WAL write: on NoSpace, RocksDB recovers by itself as soon as the
//   disk has room by its own measure, by flushing the memtables. With every
//   memtable empty (say, right after EventLog::Flush), 7.8 flushes nothing,
//   so it keeps the WAL writer that failed, and the next write goes to it:
//   an abort in WritableFileWriter::AssertFalseAndGetStatusForPrevError
//   (facebook/rocksdb issues 11643 and 12998, fixed in 9.x). Upstream has
//   since made WAL write errors fatal, without recovery.
// - A failed flush: the recovery's own flush (of the column families with
//   data, a reason of its own) can race a flush Slate asks for: the abort
//   EventLog::Flush guards against (see event_log.h).
// Compaction errors still recover on their own: theirs are soft errors,
// cleared without a flush.
class NoRecoveryFromWriteErrors : public rocksdb::EventListener {
 public:
  const char* Name() const override { return "SlateNoRecoveryFromWrites"; }
  void OnErrorRecoveryBegin(rocksdb::BackgroundErrorReason reason,
                            rocksdb::Status /*bg_error*/,
                            bool* auto_recovery) override {
    if (reason != rocksdb::BackgroundErrorReason::kCompaction) {
      *auto_recovery = false;
    }
  }
};

// Options::memtable_bytes with 0 resolved (see its comment).
size_t MemtableBytes(const Options& options) {
  if (options.memtable_bytes != 0) return options.memtable_bytes;
  return options.durability == Durability::kBulkImport ? size_t{32} << 20
                                                       : size_t{128} << 20;
}

absl::Status ParseEnvelope(int64_t position, absl::string_view bytes,
                           Envelope* e) {
  if (!e->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::DataLossError(absl::StrCat("event at position ", position,
                                            ": undecodable envelope (",
                                            bytes.size(), " bytes)"));
  }
  if (e->position() != position) {
    return absl::DataLossError(absl::StrCat("event at position ", position,
                                            ": envelope says position ",
                                            e->position()));
  }
  return absl::OkStatus();
}

absl::StatusOr<Envelope> DecodeEnvelope(int64_t position,
                                        absl::string_view bytes) {
  Envelope e;
  SLATE_RETURN_IF_ERROR(ParseEnvelope(position, bytes, &e));
  return e;
}

}  // namespace

absl::StatusOr<std::unique_ptr<EventLog>> EventLog::Open(
    const Options& options, const std::string& dir) {
  return OpenForTest(options, dir, EventLogTestHooks());
}

absl::StatusOr<std::unique_ptr<EventLog>> EventLog::OpenForTest(
    const Options& options_in, const std::string& dir,
    const EventLogTestHooks& hooks) {
  Options options = options_in;
  if (options.clock == nullptr) options.clock = SystemClock();
  if (options.max_events_per_append == 0 || options.max_event_bytes == 0 ||
      options.max_group_commit_events == 0) {
    return absl::InvalidArgumentError(
        "options: max_events_per_append, max_event_bytes and "
        "max_group_commit_events must be positive");
  }
  if (options.max_clock_skew < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("options: max_clock_skew is negative");
  }
  bool create = false;
  SLATE_RETURN_IF_ERROR(
      PrepareDirectory(dir, options.create_if_missing, &create));
  const bool existed = !create;

  rocksdb::Options ro;
  if (hooks.env != nullptr) ro.env = hooks.env;
  ro.create_if_missing = true;
  ro.paranoid_checks = true;
  // A corrupt record inside the WAL fails the open (kDataLoss) instead of
  // silently ending recovery there (the default, kPointInTimeRecovery, drops
  // every later acknowledged event: tests/faults/bit_flip_test). Only a torn
  // record at the very end, an append that was never acknowledged, is
  // tolerated.
  ro.wal_recovery_mode =
      rocksdb::WALRecoveryMode::kTolerateCorruptedTailRecords;
  ro.max_background_jobs = 2;
  ro.db_write_buffer_size = MemtableBytes(options);
  ro.memtable_whole_key_filtering = true;
  ro.memtable_prefix_bloom_size_ratio = 0.02;
  rocksdb::BlockBasedTableOptions table;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  table.whole_key_filtering = true;
  table.block_cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  ro.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));

  // The id index lives in a column family of its own with a hash-based
  // memtable: its keys arrive in random order, and a skiplist insert plus
  // lookup per event would cost more than the event itself.
  ro.allow_concurrent_memtable_write = false;  // Required by hash memtables.
  // Event keys arrive in position order between stream keys: a splice kept
  // per first key byte makes each event key's insert start at the end of
  // the memtable's skiplist rather than from the top after a stream key.
  ro.memtable_insert_with_hint_prefix_extractor.reset(
      rocksdb::NewFixedPrefixTransform(1));
  // Derived data (projections) lives in other column families; flushing them
  // all together keeps it from outliving the log events it came from.
  ro.atomic_flush = true;
  ro.listeners.push_back(std::make_shared<NoRecoveryFromWriteErrors>());
  // Nor retries of retryable I/O errors, which recover the same way.
  ro.max_bgerror_resume_count = 0;
  rocksdb::ColumnFamilyOptions ids_options(ro);
  ids_options.prefix_extractor.reset(rocksdb::NewNoopTransform());
  // Except in a bulk import, whose memtables are flushed whole as it goes
  // and at its end: a hash memtable is flushed by sorting every key through
  // a skiplist built for the flush (for the ServiceNow data set's 211,125
  // ids, ~0.6 CPU-s on the flush thread, more than the skiplist memtable's
  // inserts cost the importer: bench/RESULTS.md, ServiceNow import).
  if (options.durability != Durability::kBulkImport) {
    ids_options.memtable_factory.reset(
        rocksdb::NewHashLinkListRepFactory(1 << 18));
  }

  std::vector<std::string> cf_names = {rocksdb::kDefaultColumnFamilyName};
  if (existed) {
    std::vector<std::string> names;
    rocksdb::Status s = rocksdb::DB::ListColumnFamilies(ro, dir, &names);
    if (!s.ok()) return FromRocks(s, absl::StrCat("open ", dir));
    for (const std::string& n : names) {
      if (n != rocksdb::kDefaultColumnFamilyName) cf_names.push_back(n);
    }
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (const std::string& n : cf_names) {
    cfs.emplace_back(n, n == log_format::kIdsColumnFamily
                            ? ids_options
                            : rocksdb::ColumnFamilyOptions(ro));
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(ro, dir, cfs, &handles, &raw);
  if (!s.ok()) return FromRocks(s, absl::StrCat("open ", dir));
  std::unique_ptr<rocksdb::DB> db(raw);
  {
    // What a crash left of an ingestion's file (IngestDerived): this
    // process holds the database's lock, so nothing else writes there.
    std::error_code ec;
    std::filesystem::remove_all(IngestDir(dir), ec);
  }
  auto close_on_error = [&](absl::Status st) {
    for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
    db->Close().PermitUncheckedError();
    return st;
  };

  // Format version.
  std::string version;
  s = db->Get(rocksdb::ReadOptions(),
              log_format::MetaKey(log_format::kFormatVersionName), &version);
  if (s.IsNotFound()) {
    bool has_keys = false;
    rocksdb::Status scan;
    {
      std::unique_ptr<rocksdb::Iterator> it(
          db->NewIterator(rocksdb::ReadOptions()));
      it->SeekToFirst();
      has_keys = it->Valid();
      scan = it->status();
    }
    if (!scan.ok()) return close_on_error(FromRocks(scan, "open: scan"));
    // A creation interrupted after the id index was made has no keys and
    // only Slate's column families; anything else is someone else's data.
    bool foreign_cf = false;
    for (const std::string& n : cf_names) {
      foreign_cf |= n != rocksdb::kDefaultColumnFamilyName &&
                    n != log_format::kIdsColumnFamily;
    }
    if (has_keys || foreign_cf) {
      return close_on_error(absl::FailedPreconditionError(absl::StrCat(
          dir,
          " is a RocksDB database but not a Slate database (no format "
          "version record)")));
    }
    // A new database: create the id index, then record the format.
    if (std::find(cf_names.begin(), cf_names.end(),
                  log_format::kIdsColumnFamily) == cf_names.end()) {
      rocksdb::ColumnFamilyHandle* ids = nullptr;
      s = db->CreateColumnFamily(ids_options, log_format::kIdsColumnFamily,
                                 &ids);
      if (!s.ok()) {
        return close_on_error(FromRocks(s, "open: create id index"));
      }
      handles.push_back(ids);
      cf_names.push_back(log_format::kIdsColumnFamily);
    }
    rocksdb::WriteOptions wo;
    wo.sync = true;
    s = db->Put(wo, log_format::MetaKey(log_format::kFormatVersionName),
                absl::StrCat(log_format::kFormatVersion));
    if (!s.ok()) return close_on_error(FromRocks(s, "open: write format"));
  } else if (create) {
    return close_on_error(absl::InternalError(
        absl::StrCat(dir, ": a database appeared while creating one")));
  } else if (!s.ok()) {
    return close_on_error(FromRocks(s, "open: read format version"));
  } else {
    int v = 0;
    if (!absl::SimpleAtoi(version, &v)) {
      return close_on_error(absl::DataLossError(
          absl::StrCat(dir, ": format version record is unreadable: \"",
                       absl::CEscape(version), "\"")));
    }
    if (v > log_format::kFormatVersion) {
      return close_on_error(absl::FailedPreconditionError(absl::StrCat(
          dir, " was written by a newer Slate (log format ", v,
          "); this build reads formats up to ", log_format::kFormatVersion)));
    }
  }
  if (create) {
    // The database is complete: from now on a crash leaves a database.
    std::error_code ec;
    fs::remove(fs::path(dir) / log_format::kCreatingMarker, ec);
    absl::Status synced = ec ? absl::UnavailableError(absl::StrCat(
                                   "cannot remove the creation marker in ", dir,
                                   ": ", ec.message()))
                             : SyncDir(dir);
    if (!synced.ok()) return close_on_error(synced);
  }
  rocksdb::ColumnFamilyHandle* ids_cf = nullptr;
  for (size_t i = 0; i < cf_names.size(); ++i) {
    if (cf_names[i] == log_format::kIdsColumnFamily) ids_cf = handles[i];
  }
  if (ids_cf == nullptr) {
    return close_on_error(absl::DataLossError(
        absl::StrCat(dir, ": the event id index (column family \"",
                     log_format::kIdsColumnFamily, "\") is missing")));
  }

  // Recover the next position from the last event key.
  int64_t next_position = 0;
  absl::Status recovered;
  {
    std::unique_ptr<rocksdb::Iterator> it(
        db->NewIterator(rocksdb::ReadOptions()));
    it->SeekForPrev(log_format::EventKey(INT64_MAX));
    if (it->Valid() && !it->key().empty() &&
        it->key()[0] == log_format::kEventPrefix) {
      int64_t last = 0;
      if (log_format::DecodeEventKey(RocksView(it->key()), &last)) {
        next_position = last + 1;
      } else {
        recovered = absl::DataLossError(
            absl::StrCat(dir, ": malformed event key \"",
                         absl::CEscape(RocksView(it->key())), "\""));
      }
    }
    if (recovered.ok()) {
      recovered = FromRocks(it->status(), "open: recover position");
    }
  }
  if (!recovered.ok()) return close_on_error(recovered);
  return std::unique_ptr<EventLog>(new EventLog(
      options, std::move(db), std::move(handles), ids_cf, next_position));
}

EventLog::EventLog(const Options& options, std::unique_ptr<rocksdb::DB> db,
                   std::vector<rocksdb::ColumnFamilyHandle*> handles,
                   rocksdb::ColumnFamilyHandle* ids_cf, int64_t next_position)
    : options_(options),
      db_(std::move(db)),
      handles_(std::move(handles)),
      ids_cf_(ids_cf),
      leader_next_position_(next_position),
      committed_next_(next_position) {}

EventLog::~EventLog() {
  {
    std::lock_guard<std::mutex> l(subs_mu_);
    for (LogSubscription* s : subscriptions_) {
      s->StopThread();
      s->log_ = nullptr;
    }
    subscriptions_.clear();
  }
  if (options_.durability == Durability::kBulkImport) {
    Flush().IgnoreError();
  }
  for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
  db_->Close().PermitUncheckedError();
}

absl::Status EventLog::ValidateEvents(absl::string_view stream,
                                      std::vector<Envelope>& events,
                                      absl::Time now,
                                      std::vector<std::string>* encoded) const {
  if (events.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("append to ", stream, ": no events"));
  }
  if (events.size() > options_.max_events_per_append) {
    return absl::InvalidArgumentError(absl::StrCat(
        "append to ", stream, ": ", events.size(),
        " events; the limit per append is ", options_.max_events_per_append));
  }
  const int64_t latest_us = absl::ToUnixMicros(now + options_.max_clock_skew);
  encoded->resize(events.size());
  absl::flat_hash_set<absl::string_view> seen;
  for (size_t i = 0; i < events.size(); ++i) {
    Envelope& e = events[i];
    absl::Status id = log_format::ValidateEventId(e.event_id());
    if (!id.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "append to ", stream, ": event #", i, ": ", id.message()));
    }
    if (!seen.insert(e.event_id()).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("append to ", stream, ": event ", e.event_id(),
                       ": event_id appears twice in one append"));
    }
    if (!e.stream().empty() && e.stream() != stream) {
      return absl::InvalidArgumentError(
          absl::StrCat("append to ", stream, ": event ", e.event_id(),
                       ": field stream is \"", e.stream(),
                       "\", not the stream appended to"));
    }
    if (e.occurred_at_us() < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "append to ", stream, ": event ", e.event_id(),
          ": field occurred_at_us is negative (", e.occurred_at_us(), ")"));
    }
    if (e.occurred_at_us() > latest_us) {
      return absl::InvalidArgumentError(absl::StrCat(
          "append to ", stream, ": event ", e.event_id(),
          ": field occurred_at_us ",
          absl::FormatTime(absl::FromUnixMicros(e.occurred_at_us())),
          " is more than ", absl::FormatDuration(options_.max_clock_skew),
          " ahead of the engine clock (", absl::FormatTime(now),
          "): the future is not a fact"));
    }
    e.set_stream(std::string(stream));
    e.clear_version();
    e.clear_position();
    e.clear_recorded_at_us();
    std::string& bytes = (*encoded)[i];
    e.SerializeToString(&bytes);
    // Protobuf serializes a string that is not UTF-8 (logging an error) but
    // refuses to parse it back, so an event holding one would be stored and
    // never read again (found by the import fuzzer).
    const std::string bad_utf8 =
        event_encoding::FirstInvalidUtf8(Envelope::descriptor(), bytes);
    if (!bad_utf8.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("append to ", stream, ": event ", e.event_id(),
                       ": field ", bad_utf8, " is not valid UTF-8"));
    }
    // Upper bound of the stored size: the assigned fields add at most 33 bytes.
    const size_t size = bytes.size() + 33;
    if (size > options_.max_event_bytes) {
      return absl::InvalidArgumentError(absl::StrCat(
          "append to ", stream, ": event ", e.event_id(), " is about ", size,
          " bytes encoded; the limit is ", options_.max_event_bytes));
    }
  }
  return absl::OkStatus();
}

absl::Status EventLog::ValidatePart(absl::string_view stream,
                                    ExpectedVersion expected,
                                    std::vector<Envelope>& events,
                                    std::vector<std::string>* encoded) const {
  SLATE_RETURN_IF_ERROR(log_format::ValidateStreamId(stream));
  if (expected.kind() == ExpectedVersion::Kind::kExact &&
      expected.version() < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "append to ", stream, ": expected version must be >= 0, got ",
        expected.version()));
  }
  return ValidateEvents(stream, events, options_.clock->Now(), encoded);
}

absl::StatusOr<AppendResult> EventLog::Append(absl::string_view stream,
                                              ExpectedVersion expected,
                                              std::vector<Envelope> events) {
  Writer w;
  w.parts.resize(1);
  SLATE_RETURN_IF_ERROR(
      ValidatePart(stream, expected, events, &w.parts[0].encoded));
  w.parts[0].stream = std::string(stream);
  w.parts[0].expected = expected;
  w.parts[0].events = &events;
  w.event_count = events.size();
  Commit(&w);
  return std::move(w.parts[0].result);
}

absl::StatusOr<std::vector<AppendResult>> EventLog::AppendAtomically(
    std::vector<StreamWrite> writes) {
  if (writes.empty()) {
    return absl::InvalidArgumentError("atomic append: no streams");
  }
  Writer w;
  w.parts.resize(writes.size());
  for (size_t i = 0; i < writes.size(); ++i) {
    StreamWrite& sw = writes[i];
    for (size_t j = 0; j < i; ++j) {
      if (writes[j].stream == sw.stream) {
        return absl::InvalidArgumentError(absl::StrCat(
            "atomic append: stream ", sw.stream, " is named twice"));
      }
    }
    SLATE_RETURN_IF_ERROR(
        ValidatePart(sw.stream, sw.expected, sw.events, &w.parts[i].encoded));
    w.parts[i].stream = sw.stream;
    w.parts[i].expected = sw.expected;
    w.parts[i].events = &sw.events;
    w.event_count += sw.events.size();
  }
  Commit(&w);
  std::vector<AppendResult> out;
  out.reserve(w.parts.size());
  for (Part& part : w.parts) {
    if (!part.result.ok()) return part.result.status();
    out.push_back(*part.result);
  }
  return out;
}

void EventLog::Commit(Writer* me) {
  Writer& w = *me;
  std::unique_lock<std::mutex> lock(queue_mu_);
  writers_.push_back(&w);
  while (!w.done && &w != writers_.front()) w.cv.wait(lock);
  if (w.done) return;

  // This writer leads a group: everyone queued now, up to the event bound.
  std::vector<Writer*> group;
  size_t group_events = 0;
  for (Writer* x : writers_) {
    if (!group.empty() &&
        group_events + x->event_count > options_.max_group_commit_events) {
      break;
    }
    group.push_back(x);
    group_events += x->event_count;
  }
  lock.unlock();

  GroupState gs;
  gs.next_position = leader_next_position_;
  gs.now_us =
      std::max(absl::ToUnixMicros(options_.clock->Now()), last_recorded_us_);
  rocksdb::WriteBatch batch;
  for (Writer* x : group) DecideWriter(x, &gs, &batch);

  if (before_group_write_) before_group_write_();
  absl::Status write_status = replication_status_;
  if (write_status.ok() && replicator_ != nullptr &&
      gs.next_position > leader_next_position_) {
    write_status = Replicate(group, leader_next_position_);
    if (!write_status.ok()) {
      replication_status_ = absl::Status(
          write_status.code(),
          absl::StrCat("replication failed, the log takes no more writes "
                       "until it is reopened: ",
                       write_status.message()));
      write_status = replication_status_;
    }
  }
  if (write_status.ok() && batch.Count() > 0) {
    rocksdb::WriteOptions wo;
    wo.sync = options_.durability == Durability::kPowerLoss;
    wo.disableWAL = options_.durability == Durability::kBulkImport;
    {
      std::shared_lock<std::shared_mutex> gate(flush_gate_);  // See Flush.
      write_status = FromRocks(RocksWrite(db_.get(), wo, &batch), "append");
    }
    stat_batches_.fetch_add(1, std::memory_order_relaxed);
    if (wo.sync) stat_syncs_.fetch_add(1, std::memory_order_relaxed);
    if (write_status.ok()) SLATE_CRASH_POINT("log.after_wal_write");
  }
  if (write_status.ok()) {
    const int64_t written = gs.next_position - leader_next_position_;
    if (written > 0) {
      leader_next_position_ = gs.next_position;
      last_recorded_us_ = gs.now_us;
      if (head_cache_.size() > kMaxCachedHeads) head_cache_.clear();
      for (auto& [s, v] : gs.heads) head_cache_[s] = v;
      stat_events_.fetch_add(written, std::memory_order_relaxed);
      if (commit_listener_) {
        for (const Writer* x : group) {
          for (const Part& part : x->parts) {
            if (part.result.ok() && !part.result->idempotent_replay) {
              commit_listener_(part.stream, *part.events);
            }
          }
        }
      }
      {
        std::lock_guard<std::mutex> l(notify_mu_);
        committed_next_.store(gs.next_position, std::memory_order_release);
      }
      notify_cv_.notify_all();
    }
  } else {
    // Nothing of the group is in the log; every writer that would have
    // written learns why, and so does every replay of one of them (a
    // retried command beside its original: acknowledging it would
    // acknowledge events that are stored nowhere). The head cache was not
    // touched.
    for (Writer* x : group) {
      for (Part& part : x->parts) {
        if (part.result.ok() &&
            (!part.result->idempotent_replay || part.replays_group)) {
          part.result = write_status;
        }
      }
    }
  }
  for (Writer* x : group) {
    for (const Part& part : x->parts) {
      if (part.result.ok() && !part.result->idempotent_replay) {
        stat_appends_.fetch_add(1, std::memory_order_relaxed);
      }
    }
  }

  lock.lock();
  for (Writer* x : group) {
    writers_.pop_front();
    x->done = true;
    if (x != &w) x->cv.notify_one();
  }
  if (!writers_.empty()) writers_.front()->cv.notify_one();
}

absl::Status EventLog::Replicate(const std::vector<Writer*>& group,
                                 int64_t first_position) {
  std::vector<const Envelope*> events;
  for (const Writer* x : group) {
    for (const Part& part : x->parts) {
      if (!part.result.ok() || part.result->idempotent_replay) continue;
      for (const Envelope& e : *part.events) events.push_back(&e);
    }
  }
  return replicator_->Replicate(first_position, events);
}

absl::Status EventLog::AppendReplicated(std::vector<Envelope> events) {
  if (events.empty()) return absl::OkStatus();
  if (replicator_ != nullptr) {
    return absl::FailedPreconditionError(
        "append replicated events: this log has a replicator (it writes, it "
        "does not follow)");
  }
  // One part per run of events on one stream.
  std::vector<std::vector<Envelope>> runs;
  for (Envelope& e : events) {
    if (e.stream().empty()) {
      return absl::DataLossError(absl::StrCat(
          "replicated event at position ", e.position(), ": field stream: "
          "empty"));
    }
    if (runs.empty() || runs.back().front().stream() != e.stream()) {
      runs.emplace_back();
    }
    runs.back().push_back(std::move(e));
  }
  Writer w;
  w.replicated = true;
  w.parts.resize(runs.size());
  for (size_t i = 0; i < runs.size(); ++i) {
    const Envelope& first = runs[i].front();
    SLATE_RETURN_IF_ERROR(log_format::ValidateStreamId(first.stream()));
    w.parts[i].stream = first.stream();
    w.parts[i].expected = first.version() == 0
                              ? ExpectedVersion::NoStream()
                              : ExpectedVersion::Exact(first.version() - 1);
    w.parts[i].events = &runs[i];
    w.event_count += runs[i].size();
  }
  Commit(&w);
  for (Part& part : w.parts) {
    if (!part.result.ok()) return part.result.status();
  }
  return absl::OkStatus();
}

void EventLog::DecideWriter(Writer* w, GroupState* group,
                            rocksdb::WriteBatch* batch) {
  if (w->replicated && !replication_status_.ok()) {
    for (Part& part : w->parts) part.result = replication_status_;
    return;
  }
  if (w->parts.size() == 1) {
    Decide(&w->parts[0], group, batch, w->replicated);
    return;
  }
  // All parts or none: decide each on top of the others, and undo them
  // all (batch and group state) if one fails or only some are replays.
  const GroupState before = *group;
  batch->SetSavePoint();
  absl::Status failed;
  size_t replays = 0;
  for (Part& part : w->parts) {
    Decide(&part, group, batch, w->replicated);
    if (!part.result.ok()) {
      failed = part.result.status();
      break;
    }
    if (part.result->idempotent_replay) ++replays;
  }
  if (failed.ok() && replays != 0 && replays != w->parts.size()) {
    failed = absl::AlreadyExistsError(absl::StrCat(
        "atomic append: the events of ", replays, " of its ", w->parts.size(),
        " streams are already stored but not the others; an atomic append is "
        "all or nothing, so retry it exactly or use new ids"));
  }
  if (failed.ok()) {
    batch->PopSavePoint().PermitUncheckedError();
    return;
  }
  batch->RollbackToSavePoint().PermitUncheckedError();
  *group = before;
  for (Part& part : w->parts) part.result = failed;
}

absl::Status EventLog::CheckIds(Part* w, const GroupState& group,
                                bool* all_stored, AppendResult* original) {
  const std::vector<Envelope>& events = *w->events;
  const size_t n = events.size();
  std::vector<std::string> keys(n);
  std::vector<rocksdb::Slice> slices(n);
  for (size_t i = 0; i < n; ++i) {
    keys[i] = log_format::IdKey(events[i].event_id());
    slices[i] = keys[i];
  }
  std::vector<rocksdb::PinnableSlice> values(n);
  std::vector<rocksdb::Status> statuses(n);
  db_->MultiGet(rocksdb::ReadOptions(), ids_cf_, n, slices.data(),
                values.data(), statuses.data());

  std::vector<Envelope> stored(n);
  std::vector<bool> found(n, false);
  size_t found_count = 0;
  w->replays_group = false;
  for (size_t i = 0; i < n; ++i) {
    auto in_group = group.ids.find(events[i].event_id());
    if (in_group != group.ids.end()) {
      stored[i] = *in_group->second;
      w->replays_group = true;
    } else if (statuses[i].IsNotFound()) {
      continue;
    } else if (!statuses[i].ok()) {
      return FromRocks(statuses[i], absl::StrCat("append: look up event id ",
                                                 events[i].event_id()));
    } else {
      int64_t p = 0;
      if (!log_format::DecodePositionValue(RocksView(values[i]), &p)) {
        return absl::DataLossError(absl::StrCat("event id index for ",
                                                events[i].event_id(),
                                                ": malformed position value"));
      }
      std::string bytes;
      rocksdb::Status s =
          db_->Get(rocksdb::ReadOptions(), log_format::EventKey(p), &bytes);
      if (s.IsNotFound()) {
        return absl::DataLossError(
            absl::StrCat("event id ", events[i].event_id(),
                         " points at position ", p, " which holds no event"));
      }
      SLATE_RETURN_IF_ERROR(FromRocks(s, "append: read stored event"));
      SLATE_ASSIGN_OR_RETURN(stored[i], DecodeEnvelope(p, bytes));
    }
    found[i] = true;
    ++found_count;
  }
  *all_stored = false;
  if (found_count == 0) return absl::OkStatus();
  for (size_t i = 0; i < n; ++i) {
    if (found[i] && !SameContent(stored[i], events[i])) {
      return absl::AlreadyExistsError(absl::StrCat(
          "append to ", w->stream, ": event ", events[i].event_id(),
          " is already stored (stream ", stored[i].stream(), ", position ",
          stored[i].position(), ") with different content"));
    }
  }
  if (found_count != n) {
    std::vector<std::string> ids;
    for (size_t i = 0; i < n; ++i) {
      if (found[i]) ids.push_back(events[i].event_id());
    }
    return absl::AlreadyExistsError(absl::StrCat(
        "append to ", w->stream, ": events ", absl::StrJoin(ids, ", "),
        " are already stored but ", n - found_count,
        " others of this append are not; an append is all or nothing, so "
        "retry it exactly or use new ids"));
  }
  *all_stored = true;
  original->first_position = stored.front().position();
  original->last_position = stored.back().position();
  original->first_version = stored.front().version();
  original->last_version = stored.back().version();
  original->idempotent_replay = true;
  return absl::OkStatus();
}

absl::StatusOr<int64_t> EventLog::HeadForLeader(const std::string& stream,
                                                const GroupState& group) {
  if (auto it = group.heads.find(stream); it != group.heads.end()) {
    return it->second;
  }
  if (auto it = head_cache_.find(stream); it != head_cache_.end()) {
    return it->second;
  }
  SLATE_ASSIGN_OR_RETURN(int64_t head, StreamVersion(stream));
  head_cache_[stream] = head;
  return head;
}

void EventLog::Decide(Part* w, GroupState* group, rocksdb::WriteBatch* batch,
                      bool replicated) {
  bool all_stored = false;
  AppendResult original;
  absl::Status ids = CheckIds(w, *group, &all_stored, &original);
  if (replicated && (!ids.ok() || all_stored)) {
    const Envelope& first = w->events->front();
    w->result = absl::DataLossError(absl::StrCat(
        "replicated events at position ", first.position(), " (stream ",
        w->stream, "): field event_id: ",
        ids.ok() ? "already stored here" : ids.message()));
    return;
  }
  if (replicated && w->events->front().position() > group->next_position) {
    w->result = absl::FailedPreconditionError(absl::StrCat(
        "replicated events start at position ", w->events->front().position(),
        " but this log ends at ", group->next_position,
        "; append the events in between first"));
    return;
  }
  if (!ids.ok()) {
    w->result = ids;
    return;
  }
  if (all_stored) {
    w->result = original;
    return;
  }
  absl::StatusOr<int64_t> head = HeadForLeader(w->stream, *group);
  if (!head.ok()) {
    w->result = head.status();
    return;
  }
  const ExpectedVersion& ev = w->expected;
  bool ok = true;
  switch (ev.kind()) {
    case ExpectedVersion::Kind::kAny:
      break;
    case ExpectedVersion::Kind::kNoStream:
      ok = *head == -1;
      break;
    case ExpectedVersion::Kind::kStreamExists:
      ok = *head >= 0;
      break;
    case ExpectedVersion::Kind::kExact:
      ok = *head == ev.version();
      break;
  }
  if (!ok && replicated) {
    w->result = absl::DataLossError(absl::StrCat(
        "replicated events at position ", w->events->front().position(),
        " (stream ", w->stream, "): field version: ",
        w->events->front().version(), " but the stream here is at version ",
        *head));
    return;
  }
  if (!ok) {
    w->result = absl::AbortedError(absl::StrCat(
        "append to ", w->stream, ": expected ", ev.ToString(), ", but ",
        *head < 0 ? std::string("the stream does not exist")
                  : absl::StrCat("the stream is at version ", *head),
        "; nothing was written"));
    return;
  }
  std::vector<Envelope>& events = *w->events;
  if (replicated) {
    // Checked before anything goes into the batch.
    for (size_t i = 0; i < events.size(); ++i) {
      const Envelope& e = events[i];
      const int64_t position = group->next_position + static_cast<int64_t>(i);
      const int64_t version = *head + 1 + static_cast<int64_t>(i);
      if (e.position() != position || e.version() != version) {
        const bool pos = e.position() != position;
        w->result = absl::DataLossError(absl::StrCat(
            "replicated event ", e.event_id(), " (stream ", w->stream,
            "): field ", pos ? "position" : "version", ": ",
            pos ? e.position() : e.version(), ", expected ",
            pos ? position : version));
        return;
      }
      group->now_us = std::max(group->now_us, e.recorded_at_us());
    }
  }
  AppendResult r;
  r.first_position = group->next_position;
  r.first_version = *head + 1;
  std::string bytes;
  for (size_t i = 0; i < events.size(); ++i) {
    Envelope& e = events[i];
    const int64_t position = group->next_position + static_cast<int64_t>(i);
    if (!replicated) {
      e.set_version(*head + 1 + static_cast<int64_t>(i));
      e.set_position(position);
      e.set_recorded_at_us(group->now_us);
      if (e.occurred_at_us() == 0) e.set_occurred_at_us(group->now_us);
    }
    if (w->encoded.size() == events.size()) {
      event_encoding::WithAssignedFields(w->encoded[i], e.version(),
                                         e.position(), e.occurred_at_us(),
                                         e.recorded_at_us(), &bytes);
    } else {
      bytes.clear();
      e.SerializeToString(&bytes);
    }
    batch->Put(log_format::EventKey(position), bytes);
    batch->Put(ids_cf_, log_format::IdKey(e.event_id()),
               log_format::PositionValue(position));
    group->ids[e.event_id()] = &e;
  }
  const int64_t n = static_cast<int64_t>(events.size());
  batch->Put(log_format::StreamKey(w->stream, r.first_version),
             log_format::StreamRunValue(r.first_position, n));
  r.last_position = r.first_position + n - 1;
  r.last_version = r.first_version + n - 1;
  group->next_position += n;
  group->heads[w->stream] = r.last_version;
  w->result = r;
}

absl::StatusOr<int64_t> EventLog::StreamVersion(
    absl::string_view stream) const {
  SLATE_RETURN_IF_ERROR(log_format::ValidateStreamId(stream));
  // Every stream's first append writes its index entry at version 0, so a
  // point read of that key (answered by bloom filters when absent) tells a
  // new stream apart without building an iterator.
  {
    rocksdb::PinnableSlice first;
    rocksdb::Status s =
        db_->Get(rocksdb::ReadOptions(), db_->DefaultColumnFamily(),
                 log_format::StreamKey(stream, 0), &first);
    if (s.IsNotFound()) return -1;
    SLATE_RETURN_IF_ERROR(FromRocks(s, "read stream version"));
  }
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions()));
  it->SeekForPrev(log_format::StreamKey(stream, INT64_MAX));
  if (!it->Valid()) {
    SLATE_RETURN_IF_ERROR(FromRocks(it->status(), "read stream version"));
    return -1;
  }
  absl::string_view s;
  int64_t first_version = 0, first_position = 0, count = 0;
  if (!log_format::DecodeStreamKey(RocksView(it->key()), &s, &first_version) ||
      s != stream) {
    return -1;
  }
  if (!log_format::DecodeStreamRunValue(RocksView(it->value()), &first_position,
                                        &count)) {
    return absl::DataLossError(
        absl::StrCat("stream ", stream, ": malformed index entry at version ",
                     first_version));
  }
  return first_version + count - 1;
}

absl::StatusOr<bool> EventLog::HasStreamWithPrefix(
    absl::string_view prefix) const {
  std::string start(1, log_format::kStreamPrefix);
  start.append(prefix.data(), prefix.size());
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions()));
  it->Seek(start);
  if (!it->Valid()) {
    SLATE_RETURN_IF_ERROR(FromRocks(it->status(), "find streams"));
    return false;
  }
  return absl::StartsWith(RocksView(it->key()), start);
}

absl::StatusOr<std::vector<std::string>> EventLog::ListStreams(
    absl::string_view prefix) const {
  std::string start(1, log_format::kStreamPrefix);
  start.append(prefix.data(), prefix.size());
  std::vector<std::string> out;
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(start); it->Valid(); ) {
    const absl::string_view key = RocksView(it->key());
    if (!absl::StartsWith(key, start)) break;
    absl::string_view stream;
    int64_t version = 0;
    if (!log_format::DecodeStreamKey(key, &stream, &version)) {
      return absl::DataLossError(absl::StrCat(
          "stream index: a key under \"", prefix, "\" does not decode"));
    }
    out.emplace_back(stream);
    it->Seek(log_format::StreamKeyEnd(stream));  // The next stream.
  }
  SLATE_RETURN_IF_ERROR(FromRocks(it->status(), "list streams"));
  return out;
}

absl::StatusOr<std::vector<Envelope>> EventLog::ReadStream(
    absl::string_view stream, int64_t from_version, size_t max_count) const {
  SLATE_RETURN_IF_ERROR(log_format::ValidateStreamId(stream));
  if (from_version < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "read ", stream, ": from_version must be >= 0, got ", from_version));
  }
  std::vector<Envelope> out;
  const std::string end = log_format::StreamKeyEnd(stream);
  rocksdb::Slice upper(end);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> runs(db_->NewIterator(ro));
  // The run holding from_version starts at or before it. A stream's first
  // run starts at version 0, so a read from the start seeks forward: a
  // backward seek cost most of a command's read of its aggregate
  // (bench/RESULTS.md, engine_bench Execute).
  if (from_version == 0) {
    runs->Seek(log_format::StreamKey(stream, 0));
  } else {
    runs->SeekForPrev(log_format::StreamKey(stream, from_version));
  }
  absl::string_view s;
  int64_t first_version = 0;
  if (!runs->Valid() ||
      !log_format::DecodeStreamKey(RocksView(runs->key()), &s,
                                   &first_version) ||
      s != stream) {
    SLATE_RETURN_IF_ERROR(
        FromRocks(runs->status(), absl::StrCat("read ", stream)));
    return out;  // The stream has no events (runs start at version 0).
  }
  const std::string events_end(1, log_format::kEventPrefix + 1);
  rocksdb::Slice events_upper(events_end);
  rocksdb::ReadOptions eo;
  eo.iterate_upper_bound = &events_upper;
  std::unique_ptr<rocksdb::Iterator> ev(db_->NewIterator(eo));
  int64_t v = from_version;
  for (; runs->Valid() && out.size() < max_count; runs->Next()) {
    int64_t first_position = 0, count = 0;
    if (!log_format::DecodeStreamKey(RocksView(runs->key()), &s,
                                     &first_version) ||
        !log_format::DecodeStreamRunValue(RocksView(runs->value()),
                                          &first_position, &count)) {
      return absl::DataLossError(absl::StrCat(
          "stream ", stream, ": malformed index entry near version ", v));
    }
    if (first_version > v) {
      return absl::DataLossError(absl::StrCat("stream ", stream, ": version ",
                                              v,
                                              " is missing (next run starts "
                                              "at ",
                                              first_version, ")"));
    }
    if (v >= first_version + count) continue;  // Run ends before from_version.
    int64_t p = first_position + (v - first_version);
    ev->Seek(log_format::EventKey(p));
    for (; v < first_version + count && out.size() < max_count;
         ++v, ++p, ev->Next()) {
      int64_t at = -1;
      if (!ev->Valid() ||
          !log_format::DecodeEventKey(RocksView(ev->key()), &at) || at != p) {
        SLATE_RETURN_IF_ERROR(
            FromRocks(ev->status(), absl::StrCat("read ", stream)));
        return absl::DataLossError(absl::StrCat("stream ", stream, " version ",
                                                v, " points at position ", p,
                                                " which holds no event"));
      }
      SLATE_ASSIGN_OR_RETURN(Envelope e,
                             DecodeEnvelope(p, RocksView(ev->value())));
      if (e.stream() != stream || e.version() != v) {
        return absl::DataLossError(absl::StrCat(
            "stream ", stream, " version ", v, ": event at position ", p,
            " belongs to ", e.stream(), " version ", e.version()));
      }
      out.push_back(std::move(e));
    }
  }
  SLATE_RETURN_IF_ERROR(
      FromRocks(runs->status(), absl::StrCat("read ", stream)));
  return out;
}

absl::Status EventLog::ScanAll(
    int64_t from_position, size_t max_count,
    const std::function<absl::Status(int64_t, absl::string_view)>& fn) const {
  if (from_position < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "read $all: from_position must be >= 0, got ", from_position));
  }
  const std::string end(1, log_format::kEventPrefix + 1);
  rocksdb::Slice upper(end);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper;
  // Without RocksDB's per-thread perf counters while the scan runs: their
  // default level (kEnableCount) reaches a thread_local of the shared
  // library several times per key read, each through __tls_get_addr and
  // its initializer (~10 % of a rebuild's reading). The thread's level is
  // put back after.
  struct PerfOff {
    rocksdb::PerfLevel old = rocksdb::GetPerfLevel();
    PerfOff() { rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable); }
    ~PerfOff() { rocksdb::SetPerfLevel(old); }
  } perf_off;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro));
  int64_t expect = from_position;
  size_t n = 0;
  for (it->Seek(log_format::EventKey(from_position));
       it->Valid() && n < max_count; it->Next(), ++expect, ++n) {
    int64_t p = 0;
    if (!log_format::DecodeEventKey(RocksView(it->key()), &p)) {
      return absl::DataLossError(absl::StrCat(
          "$all: malformed event key after position ", expect - 1));
    }
    if (p != expect) {
      return absl::DataLossError(absl::StrCat(
          "$all: position ", expect, " is missing (next found: ", p, ")"));
    }
    SLATE_RETURN_IF_ERROR(fn(p, RocksView(it->value())));
  }
  return FromRocks(it->status(), "read $all");
}

absl::StatusOr<std::vector<Envelope>> EventLog::ReadAll(
    int64_t from_position, size_t max_count) const {
  std::vector<Envelope> out;
  SLATE_RETURN_IF_ERROR(ScanAll(
      from_position, max_count,
      [&](int64_t p, absl::string_view bytes) -> absl::Status {
        SLATE_ASSIGN_OR_RETURN(Envelope e, DecodeEnvelope(p, bytes));
        out.push_back(std::move(e));
        return absl::OkStatus();
      }));
  return out;
}

absl::Status EventLog::ReadAll(int64_t from_position, size_t max_count,
                               google::protobuf::Arena* arena,
                               std::vector<const Envelope*>* out) const {
  out->clear();
  return ScanAll(from_position, max_count,
                 [&](int64_t p, absl::string_view bytes) -> absl::Status {
                   Envelope* e =
                       google::protobuf::Arena::CreateMessage<Envelope>(arena);
                   SLATE_RETURN_IF_ERROR(ParseEnvelope(p, bytes, e));
                   out->push_back(e);
                   return absl::OkStatus();
                 });
}

absl::Status EventLog::Flush() {
  {
    // No write, so no automatic flush, until this flush is done. It names
    // every family: an automatic flush still pending then carries this
    // flush's reason in all of its families alike.
    std::unique_lock<std::shared_mutex> gate(flush_gate_);
    std::vector<rocksdb::ColumnFamilyHandle*> all;
    {
      std::lock_guard<std::mutex> l(cf_mu_);
      all = handles_;
    }
    rocksdb::FlushOptions fo;
    fo.wait = true;
    fo.allow_write_stall = false;  // Lets earlier flushes finish first.
    SLATE_RETURN_IF_ERROR(FromRocks(db_->Flush(fo, all), "flush"));
  }
  if (options_.durability != Durability::kBulkImport) {
    SLATE_RETURN_IF_ERROR(FromRocks(db_->FlushWAL(true), "sync WAL"));
  }
  return absl::OkStatus();
}

size_t EventLog::QueuedWritersForTest() {
  std::lock_guard<std::mutex> l(queue_mu_);
  return writers_.size();
}

LogStats EventLog::Stats() const {
  LogStats s;
  s.appends = stat_appends_.load(std::memory_order_relaxed);
  s.events_written = stat_events_.load(std::memory_order_relaxed);
  s.write_batches = stat_batches_.load(std::memory_order_relaxed);
  s.syncs = stat_syncs_.load(std::memory_order_relaxed);
  s.next_position = NextPosition();
  return s;
}

// --- Subscriptions -----------------------------------------------------------

std::unique_ptr<Subscription> EventLog::Subscribe(int64_t from_position,
                                                  EventHandler handler,
                                                  size_t batch_size) {
  std::unique_ptr<LogSubscription> s(
      new LogSubscription(this, std::max<int64_t>(from_position, 0),
                          std::move(handler), std::max<size_t>(batch_size, 1)));
  {
    std::lock_guard<std::mutex> l(subs_mu_);
    subscriptions_.push_back(s.get());
  }
  s->thread_ = std::thread([sub = s.get()] { sub->Run(); });
  return s;
}

absl::StatusOr<rocksdb::ColumnFamilyHandle*> EventLog::GetOrCreateColumnFamily(
    const std::string& name) {
  if (name == rocksdb::kDefaultColumnFamilyName ||
      name == log_format::kIdsColumnFamily) {
    return absl::InvalidArgumentError(
        absl::StrCat("column family \"", name, "\" belongs to the log"));
  }
  std::lock_guard<std::mutex> l(cf_mu_);
  for (rocksdb::ColumnFamilyHandle* h : handles_) {
    if (h->GetName() == name) return h;
  }
  return CreateDerivedFamilyLocked(name);
}

absl::StatusOr<rocksdb::ColumnFamilyHandle*>
EventLog::CreateDerivedFamilyLocked(const std::string& name) {
  rocksdb::ColumnFamilyOptions cf_options(db_->GetOptions());
  cf_options.prefix_extractor.reset();
  cf_options.memtable_factory.reset(new rocksdb::SkipListFactory());
  rocksdb::ColumnFamilyHandle* h = nullptr;
  SLATE_RETURN_IF_ERROR(FromRocks(db_->CreateColumnFamily(cf_options, name, &h),
                                  absl::StrCat("create column family ", name)));
  handles_.push_back(h);
  return h;
}

absl::StatusOr<rocksdb::ColumnFamilyHandle*> EventLog::RecreateColumnFamily(
    const std::string& name) {
  if (name == rocksdb::kDefaultColumnFamilyName ||
      name == log_format::kIdsColumnFamily) {
    return absl::InvalidArgumentError(
        absl::StrCat("column family \"", name, "\" belongs to the log"));
  }
  // Exclusive: no Flush names the handle while it goes away.
  std::unique_lock<std::shared_mutex> gate(flush_gate_);
  std::lock_guard<std::mutex> l(cf_mu_);
  auto it = std::find_if(
      handles_.begin(), handles_.end(),
      [&](rocksdb::ColumnFamilyHandle* h) { return h->GetName() == name; });
  if (it != handles_.end()) {
    rocksdb::ColumnFamilyHandle* old = *it;
    SLATE_RETURN_IF_ERROR(FromRocks(db_->DropColumnFamily(old),
                                    absl::StrCat("drop column family ", name)));
    handles_.erase(it);
    db_->DestroyColumnFamilyHandle(old).PermitUncheckedError();
  }
  return CreateDerivedFamilyLocked(name);
}

absl::Status EventLog::IngestDerived(
    rocksdb::ColumnFamilyHandle* cf,
    const std::function<rocksdb::Status(rocksdb::SstFileWriter&)>& fill) {
  const std::string dir = IngestDir(db_->GetName());
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("ingest derived data: create ", dir, ": ", ec.message()));
  }
  const std::string file = absl::StrCat(
      dir, "/", cf->GetName(), ".",
      ingest_seq_.fetch_add(1, std::memory_order_relaxed), ".sst");
  rocksdb::Status s;
  {
    // Uncompressed: the file is written once per rebuild on the fold's
    // critical path, and Snappy over every block was about a third of its
    // cost per key; RocksDB's block cache holds blocks uncompressed either
    // way, and compactions compress what they rewrite of it.
    rocksdb::Options file_options = db_->GetOptions(cf);
    file_options.compression = rocksdb::kNoCompression;
    file_options.bottommost_compression = rocksdb::kDisableCompressionOption;
    file_options.compression_per_level.clear();
    rocksdb::SstFileWriter writer(rocksdb::EnvOptions(), file_options, cf);
    s = writer.Open(file);
    if (s.ok()) s = fill(writer);
    if (s.ok()) s = writer.Finish();
  }
  if (s.ok()) SLATE_CRASH_POINT("log.mid_ingest");
  if (s.ok()) {
    rocksdb::IngestExternalFileOptions io;
    io.move_files = true;
    io.allow_blocking_flush = false;
    std::shared_lock<std::shared_mutex> gate(flush_gate_);  // See Flush.
    s = db_->IngestExternalFile(cf, {file}, io);
  }
  std::filesystem::remove(file, ec);  // Moved in, or not wanted.
  if (s.IsInvalidArgument() &&
      absl::StrContains(s.ToString(), "flush")) {
    return absl::FailedPreconditionError(absl::StrCat(
        "ingest derived data into ", cf->GetName(),
        ": its memtable holds data (", s.ToString(), ")"));
  }
  return FromRocks(s, absl::StrCat("ingest derived data into ",
                                   cf->GetName()));
}

absl::Status EventLog::WriteDerived(rocksdb::WriteBatch* batch) {
  rocksdb::WriteOptions wo;
  wo.disableWAL = options_.durability == Durability::kBulkImport;
  std::shared_lock<std::shared_mutex> gate(flush_gate_);  // See Flush.
  return FromRocks(RocksWrite(db_.get(), wo, batch), "write derived data");
}

void EventLog::WakeWaiters() {
  { std::lock_guard<std::mutex> l(notify_mu_); }
  notify_cv_.notify_all();
}

bool EventLog::WaitForPosition(int64_t position,
                               const std::atomic<bool>& stop) {
  std::unique_lock<std::mutex> l(notify_mu_);
  notify_cv_.wait(l, [&] {
    return stop.load(std::memory_order_acquire) ||
           committed_next_.load(std::memory_order_acquire) > position;
  });
  return !stop.load(std::memory_order_acquire);
}

void EventLog::Unregister(LogSubscription* s) {
  std::lock_guard<std::mutex> l(subs_mu_);
  subscriptions_.erase(
      std::remove(subscriptions_.begin(), subscriptions_.end(), s),
      subscriptions_.end());
}

LogSubscription::LogSubscription(EventLog* log, int64_t from,
                                 EventHandler handler, size_t batch_size)
    : log_(log),
      handler_(std::move(handler)),
      batch_size_(batch_size),
      next_(from) {}

LogSubscription::~LogSubscription() { Stop(); }

void LogSubscription::StopThread() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> l(log_->notify_mu_);
    stop_.store(true, std::memory_order_release);
  }
  log_->notify_cv_.notify_all();
  thread_.join();
}

void LogSubscription::Stop() {
  EventLog* log = log_;
  if (log == nullptr) return;
  StopThread();
  log->Unregister(this);
  log_ = nullptr;
}

absl::Status LogSubscription::status() const {
  std::lock_guard<std::mutex> l(status_mu_);
  return status_;
}

void LogSubscription::Run() {
  absl::Status failure;
  while (!stop_.load(std::memory_order_acquire)) {
    const int64_t next = next_.load(std::memory_order_relaxed);
    const int64_t committed = log_->NextPosition();
    if (committed <= next) {
      if (!log_->WaitForPosition(next, stop_)) break;
      continue;
    }
    const size_t want =
        std::min<size_t>(batch_size_, static_cast<size_t>(committed - next));
    absl::StatusOr<std::vector<Envelope>> batch = log_->ReadAll(next, want);
    if (!batch.ok()) {
      failure = batch.status();
      break;
    }
    if (batch->empty()) {
      failure = absl::DataLossError(absl::StrCat(
          "subscription: position ", next, " is committed but unreadable"));
      break;
    }
    for (const Envelope& e : *batch) {
      if (stop_.load(std::memory_order_acquire)) break;
      absl::Status st = handler_(e);
      if (!st.ok()) {
        failure = st;
        break;
      }
      next_.store(e.position() + 1, std::memory_order_release);
    }
    if (!failure.ok()) break;
  }
  {
    std::lock_guard<std::mutex> l(status_mu_);
    status_ = failure;
  }
  done_.store(true, std::memory_order_release);
}

}  // namespace slate
