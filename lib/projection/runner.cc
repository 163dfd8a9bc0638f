#include "lib/projection/runner.h"

#include <algorithm>
#include <atomic>
#include <future>
#include <limits>
#include <mutex>
#include <optional>
#include <thread>

#include "absl/container/btree_map.h"
#include "absl/container/node_hash_map.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/arena.h"
#include "lib/base/crash_point.h"
#include "lib/base/status_macros.h"
#include "lib/log/log_format.h"
#include "lib/log/rocks_access.h"
#include "lib/projection/key_sort.h"
#include "rocksdb/comparator.h"

namespace slate {
namespace {

// Runner metadata inside each projection's column family. User keys never
// start with 0x00.
const std::string& VersionKey() {
  static const std::string* k = new std::string("\0version", 8);
  return *k;
}
const std::string& CheckpointKey() {
  static const std::string* k = new std::string("\0checkpoint", 11);
  return *k;
}
// The layout of the runner's own state: "2" since projections fold in
// memory with snapshot checkpoints (issue 18). A column family without it
// was written by the per-batch design before; it is dropped and rebuilt.
const std::string& FormatKey() {
  static const std::string* k = new std::string("\0format", 7);
  return *k;
}
constexpr absl::string_view kStateFormat = "2";

rocksdb::Slice Rocks(absl::string_view s) {
  return rocksdb::Slice(s.data(), s.size());
}

// Entry of a StateCache: the value of one key as the fold sees it.
struct CacheEntry {
  std::string value;
  bool present = false;  // false: the key has no value (deleted / absent).
  bool dirty = false;    // Written in the current batch, not yet committed.
  bool indexed = false;  // In the cache's `order` (else in `unindexed`).
  bool doomed = false;   // To be erased by EraseDoomed.
  const std::string* key = nullptr;  // The map's key of this entry.
};

// Heap bytes of a string's own buffer (none while it fits inline): what
// malloc hands out for capacity + 1, with its 8-byte header, in 16-byte
// chunks.
size_t StringHeap(const std::string& s) {
  constexpr size_t kInline = 15;  // libstdc++'s short-string capacity.
  return s.capacity() <= kInline ? 0
                                  : (s.capacity() + 1 + 8 + 15) & ~size_t{15};
}

// Heap bytes of an entry beyond its key's and value's buffers: the map's
// node (its pair, with malloc's header, in 16-byte chunks), its slot in the
// table (8 bytes and a control byte, at a load of about 2/3), the pointers
// to it in `unindexed` and `dirty` (vectors grown by doubling), and its
// place in `order` (a btree node entry of 24 bytes, nodes about 2/3 full).
// 64, the figure counted before, held 2.5x the bound at the peak of 2 M
// finished + 100 k open incidents (bench/RESULTS.md).
constexpr size_t kEntryOverhead =
    ((sizeof(std::pair<const std::string, CacheEntry>) + 8 + 15) &
     ~size_t{15}) +
    14 + 2 * 12 + 36;

}  // namespace

// Write-behind cache of one projection's state (see RunnerOptions::
// cache_bytes): committed values read so far plus the current batch's
// writes. `complete` means every key the column family holds is in `map`,
// so a miss is known absent without asking RocksDB (true after a reset
// until the first eviction).
struct ProjectionRunner::StateCache {
  // Entries by key (hashed: point reads never compare key bytes). Node-based,
  // so pointers to entries and views of keys stay valid until erased.
  absl::node_hash_map<std::string, CacheEntry> map;
  // The same keys in order, for Scan. Kept lazily: an insert only appends
  // to `unindexed`, and the first Scan after it sorts those in. Most folds
  // never scan, and an ordered insert per key cost as much as the hashing.
  absl::btree_map<absl::string_view, CacheEntry*> order;
  std::vector<CacheEntry*> unindexed;

  CacheEntry* Find(absl::string_view key) {
    auto it = map.find(key);
    return it == map.end() ? nullptr : &it->second;
  }
  // The entry of `key`, inserted empty if new (second = inserted).
  std::pair<CacheEntry*, bool> Insert(absl::string_view key) {
    auto [it, inserted] = map.try_emplace(key);
    if (inserted) {
      it->second.key = &it->first;
      unindexed.push_back(&it->second);
      bytes += StringHeap(it->first) + kEntryOverhead;
    }
    return {&it->second, inserted};
  }
  // Brings `order` up to date with every entry (before a Scan).
  void Index() {
    if (unindexed.empty()) return;
    SortByKeyBytes(unindexed, [](const CacheEntry* e) {
      return absl::string_view(*e->key);
    });
    auto hint = order.end();  // Sorted: each key goes after the last one.
    for (CacheEntry* e : unindexed) {
      hint = std::next(order.emplace_hint(hint, absl::string_view(*e->key), e));
      e->indexed = true;
    }
    unindexed.clear();
  }
  // Erases every entry marked doomed (one pass over `unindexed`).
  void EraseDoomed(const std::vector<CacheEntry*>& doomed) {
    if (doomed.empty()) return;
    unindexed.erase(std::remove_if(unindexed.begin(), unindexed.end(),
                                   [](const CacheEntry* e) { return e->doomed; }),
                    unindexed.end());
    for (CacheEntry* e : doomed) {
      if (e->indexed) order.erase(absl::string_view(*e->key));
      bytes -= StringHeap(*e->key) + StringHeap(e->value) + kEntryOverhead;
      map.erase(map.find(absl::string_view(*e->key)));
    }
  }
  // Drops entries not written since the last commit (values read back,
  // keys known absent): RocksDB answers for them. A complete cache (after a
  // reset) drops only its absent keys, so that a miss still means absent.
  void DropClean() {
    std::vector<CacheEntry*> doomed;
    for (auto& [key, e] : map) {
      if (e.dirty || (complete && e.present)) continue;
      e.doomed = true;
      doomed.push_back(&e);
    }
    EraseDoomed(doomed);
  }
  // Entries written since the last commit (node-based map: the pointers
  // stay valid until the entry is erased).
  std::vector<CacheEntry*> dirty;
  size_t dirty_bytes = 0;  // Keys and values of the dirty entries.
  bool complete = false;
  size_t bytes = 0;

  void Clear() {
    order.clear();
    unindexed.clear();
    map.clear();
    dirty.clear();
    dirty_bytes = 0;
    complete = false;
    bytes = 0;
  }
};

namespace {

// ProjectionState over a StateCache and the committed DB.
class CachedState final : public ProjectionState {
 public:
  using StateCache = ProjectionRunner::StateCache;
  // `fill`: keys read from RocksDB stay in the cache (a fold, which is
  // about to write them); a query's reads leave it as it is, so reading
  // every clock does not pull the whole state into memory.
  CachedState(const EventLog* log, rocksdb::ColumnFamilyHandle* cf,
              StateCache* cache, bool fill = true)
      : log_(log), db_(log->db()), cf_(cf), cache_(cache), fill_(fill) {}

  absl::StatusOr<std::optional<std::string>> Get(
      absl::string_view key) override {
    if (const CacheEntry* hit = cache_->Find(key)) {
      if (!hit->present) return std::nullopt;
      return hit->value;
    }
    if (cache_->complete) return std::nullopt;
    rocksdb::PinnableSlice value;
    rocksdb::Status s =
        db_->Get(rocksdb::ReadOptions(), cf_, Rocks(key), &value);
    if (s.IsNotFound()) {
      if (fill_) cache_->Insert(key);  // Known absent from now on.
      return std::nullopt;
    }
    SLATE_RETURN_IF_ERROR(FromRocks(s, "projection read"));
    if (!fill_) return std::string(RocksView(value));
    CacheEntry* entry = cache_->Insert(key).first;
    entry->value = std::string(RocksView(value));
    entry->present = true;
    cache_->bytes += StringHeap(entry->value);
    return entry->value;
  }
  void Put(absl::string_view key, absl::string_view value) override {
    if (!CheckKey(key)) return;
    Write(key, value, true);
  }
  void Delete(absl::string_view key) override {
    if (!CheckKey(key)) return;
    if (cache_->complete && cache_->Find(key) == nullptr) {
      return;  // Known absent: nothing to delete.
    }
    Write(key, "", false);
  }
  absl::Status Scan(absl::string_view prefix,
                    const std::function<bool(absl::string_view,
                                             absl::string_view)>& fn) override {
    in_scan_ = true;
    absl::Status st = ScanImpl(prefix, fn);
    in_scan_ = false;
    return st;
  }
  absl::Status ReadStream(
      absl::string_view stream, int64_t through_position,
      const std::function<bool(const Envelope&)>& fn) override {
    return ReadStreamThrough(*log_, stream, through_position, fn);
  }
  const absl::Status& error() const { return error_; }

 private:
  absl::Status ScanImpl(
      absl::string_view prefix,
      const std::function<bool(absl::string_view, absl::string_view)>& fn) {
    cache_->Index();
    auto c = cache_->order.lower_bound(prefix);
    auto cache_done = [&] {
      return c == cache_->order.end() || !absl::StartsWith(c->first, prefix);
    };
    if (cache_->complete) {
      for (; !cache_done(); ++c) {
        if (c->second->present && !fn(c->first, c->second->value)) break;
      }
      return absl::OkStatus();
    }
    // Merge the committed keys with the cache; the cache wins on equal keys.
    std::unique_ptr<rocksdb::Iterator> it(
        db_->NewIterator(rocksdb::ReadOptions(), cf_));
    it->Seek(Rocks(prefix));
    auto db_done = [&] {
      return !it->Valid() || !absl::StartsWith(RocksView(it->key()), prefix);
    };
    while (true) {
      const bool dd = db_done(), cd = cache_done();
      if (dd && cd) break;
      absl::string_view dk = dd ? absl::string_view() : RocksView(it->key());
      if (!dd && (cd || dk < c->first)) {
        if (!(!dk.empty() && dk[0] == '\0') &&
            !fn(dk, RocksView(it->value()))) {
          break;
        }
        it->Next();
        continue;
      }
      if (!dd && dk == c->first) it->Next();
      if (c->second->present && !fn(c->first, c->second->value)) break;
      ++c;
    }
    return FromRocks(it->status(), "projection scan");
  }
  void Write(absl::string_view key, absl::string_view value, bool present) {
    CacheEntry& e = *cache_->Insert(key).first;
    // Of the dirty entries as they stand (a key written twice counts once:
    // it sizes the snapshot's WriteBatch).
    if (e.dirty) cache_->dirty_bytes -= key.size() + e.value.size();
    cache_->bytes -= StringHeap(e.value);
    e.value.assign(value.data(), value.size());
    cache_->bytes += StringHeap(e.value);
    e.present = present;
    cache_->dirty_bytes += key.size() + value.size();
    if (!e.dirty) {
      e.dirty = true;
      cache_->dirty.push_back(&e);
    }
  }
  bool CheckKey(absl::string_view key) {
    if (in_scan_) {
      SetError("projection wrote its state inside a Scan callback");
      return false;
    }
    if (key.empty() || key[0] == '\0') {
      SetError(
          "projection wrote an empty key or one starting with 0x00 "
          "(reserved for the runner)");
      return false;
    }
    return true;
  }
  void SetError(absl::string_view message) {
    if (error_.ok()) error_ = absl::InternalError(message);
  }
  const EventLog* log_;
  rocksdb::DB* db_;
  rocksdb::ColumnFamilyHandle* cf_;
  StateCache* cache_;
  const bool fill_;
  bool in_scan_ = false;
  absl::Status error_;
};

// A batch of the log's events, decoded on an arena of its own: freeing a
// batch frees a few blocks instead of every string of every event.
struct Batch {
  std::unique_ptr<google::protobuf::Arena> arena;
  std::vector<Envelope> owned;  // Offered events (the arena is then null).
  std::vector<const Envelope*> events;
};

absl::StatusOr<Batch> ReadBatch(const EventLog& log, int64_t from,
                                size_t want) {
  google::protobuf::ArenaOptions options;
  options.start_block_size = 64 << 10;
  options.max_block_size = 1 << 20;
  Batch b;
  b.arena = std::make_unique<google::protobuf::Arena>(options);
  b.events.reserve(want);
  SLATE_RETURN_IF_ERROR(log.ReadAll(from, want, b.arena.get(), &b.events));
  return b;
}

// A batch of events offered by the log's committer (ProjectionRunner::
// Offer): already decoded, nothing to read.
Batch OfferedBatch(std::vector<Envelope> events) {
  Batch b;
  b.owned = std::move(events);
  b.events.reserve(b.owned.size());
  for (const Envelope& e : b.owned) b.events.push_back(&e);
  return b;
}

// Moves the cache's dirty entries into `batch` (marking them committed
// once the batch is written; see CommitCache).
// Puts the cache's dirty entries in key order.
void SortDirty(ProjectionRunner::StateCache& cache) {
  SortByKeyBytes(cache.dirty, [](const CacheEntry* e) {
    return absl::string_view(*e->key);
  });
}

void FlushCache(ProjectionRunner::StateCache& cache,
                rocksdb::ColumnFamilyHandle* cf, rocksdb::WriteBatch* batch) {
  // In key order: the memtable's skiplist inserts a sorted run through its
  // sequential-insert hint instead of a full search per key (measured: the
  // commit of a rebuild costs about half as much).
  SortDirty(cache);
  for (const CacheEntry* e : cache.dirty) {
    if (e->present) {
      batch->Put(cf, *e->key, e->value).PermitUncheckedError();
    } else {
      batch->Delete(cf, *e->key).PermitUncheckedError();
    }
  }
}

// After a successful write: the batch's entries are committed values.
// Drops every entry when the cache is over its budget.
void CommitCache(ProjectionRunner::StateCache& cache, size_t budget) {
  std::vector<CacheEntry*> doomed;
  for (CacheEntry* e : cache.dirty) {
    e->dirty = false;
    if (!e->present && cache.complete) {
      e->doomed = true;  // Known absent anyway: drop it.
      doomed.push_back(e);
    }
  }
  cache.dirty.clear();
  cache.EraseDoomed(doomed);
  cache.dirty_bytes = 0;
  if (cache.bytes > budget) cache.Clear();
}

}  // namespace

std::string ProjectionColumnFamily(absl::string_view name) {
  return absl::StrCat("p.", name);
}

ProjectionRunner::Slot::Slot() : cache(std::make_unique<StateCache>()) {}
ProjectionRunner::Slot::Slot(Slot&&) noexcept = default;
ProjectionRunner::Slot::~Slot() = default;

namespace {
size_t ResolveFoldThreads(size_t requested) {
  if (requested != 0) return requested;
  return std::max<size_t>(1, std::thread::hardware_concurrency());
}
// A batch of fewer events folds on the calling thread, and is not read
// ahead: starting threads would cost more than it saves (the one-append
// batches of ProjectionMode::kSync).
constexpr size_t kParallelMinEvents = 256;
// A snapshot of fewer changed keys (all projections together) writes its
// batches one after another on the calling thread: a live snapshot's
// concurrent writes would contend with the host's appends.
constexpr size_t kParallelSnapshotMinKeys = 65536;
// A snapshot with at least this many changed keys, while nothing went
// through the family's memtable since a reset (a rebuild's snapshots), is
// ingested as an SST file; a smaller one goes through a WriteBatch, which
// costs less than a file's fsyncs. Per key the file costs
// about half what the memtable does (its WriteBatch, WAL and skiplist
// inserts: ~4,700 instructions per key of the views projection's rebuild,
// bench/RESULTS.md), so from a few thousand keys on the file wins; 65,536
// sent a rebuild of 20,000 incidents' views through the memtable.
constexpr size_t kIngestMinKeys = 4096;
}  // namespace

ProjectionRunner::ProjectionRunner(EventLog* log, RunnerOptions options)
    : log_(log),
      options_(std::move(options)),
      fold_threads_(ResolveFoldThreads(options_.fold_threads)),
      last_snapshot_(absl::Now()) {}

absl::StatusOr<std::unique_ptr<ProjectionRunner>> ProjectionRunner::Open(
    EventLog* log, std::vector<std::unique_ptr<Projection>> projections,
    RunnerOptions options) {
  if (options.batch_events == 0) options.batch_events = 1;
  if (options.snapshot_events <= 0) options.snapshot_events = 1;
  std::unique_ptr<ProjectionRunner> r(
      new ProjectionRunner(log, std::move(options)));
  for (auto& p : projections) {
    if (p->name().empty() || r->Find(p->name()) != nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          "projection name \"", p->name(), "\" is empty or used twice"));
    }
    Slot slot;
    slot.projection = std::move(p);
    r->slots_.push_back(std::move(slot));
  }
  std::lock_guard<std::recursive_mutex> l(r->fold_mu_);
  for (Slot& slot : r->slots_) SLATE_RETURN_IF_ERROR(r->Load(slot));
  r->PublishFolded();
  return r;
}

// The helper threads of a runner's parallel folds, kept between batches.
// Run(n, fn) calls fn(0) on the calling thread and fn(t) for t in [1, n) on
// helper t, and returns when all have returned. A caller gives thread t the
// same share of the work each time, so a projection folds on the same
// thread batch after batch: its memory stays in that thread's malloc arena
// and caches. (A thread per batch, and a projection moving between
// threads, cost more: freeing memory another thread allocated contends for
// that thread's arena.)
class ProjectionRunner::FoldPool {
 public:
  explicit FoldPool(size_t helpers) {
    for (size_t t = 1; t <= helpers; ++t) {
      threads_.emplace_back([this, t] { Loop(t); });
    }
  }
  ~FoldPool() {
    {
      std::lock_guard<std::mutex> l(mu_);
      stop_ = true;
    }
    start_cv_.notify_all();
    for (std::thread& t : threads_) t.join();
  }
  // REQUIRES: 1 <= n <= helpers + 1; one Run at a time.
  void Run(size_t n, const std::function<void(size_t)>& fn) {
    {
      std::lock_guard<std::mutex> l(mu_);
      fn_ = &fn;
      active_ = n;
      pending_ = n - 1;
      ++generation_;
    }
    start_cv_.notify_all();
    fn(0);
    std::unique_lock<std::mutex> l(mu_);
    done_cv_.wait(l, [&] { return pending_ == 0; });
    fn_ = nullptr;
  }

 private:
  void Loop(size_t t) {
    uint64_t seen = 0;
    while (true) {
      const std::function<void(size_t)>* fn = nullptr;
      {
        std::unique_lock<std::mutex> l(mu_);
        start_cv_.wait(l, [&] { return stop_ || generation_ != seen; });
        if (stop_) return;
        seen = generation_;
        if (t >= active_) continue;  // Not needed this time.
        fn = fn_;
      }
      (*fn)(t);
      std::lock_guard<std::mutex> l(mu_);
      if (--pending_ == 0) done_cv_.notify_one();
    }
  }

  std::vector<std::thread> threads_;
  std::mutex mu_;
  std::condition_variable start_cv_;
  std::condition_variable done_cv_;
  bool stop_ = false;                                  // Guarded by mu_.
  uint64_t generation_ = 0;                            // Guarded by mu_.
  size_t active_ = 0;                                  // Guarded by mu_.
  size_t pending_ = 0;                                 // Guarded by mu_.
  const std::function<void(size_t)>* fn_ = nullptr;   // Guarded by mu_.
};

ProjectionRunner::~ProjectionRunner() {
  StopFollowing();
  {
    std::lock_guard<std::recursive_mutex> l(fold_mu_);
    SnapshotLocked().IgnoreError();  // The log holds it all anyway.
  }
  pool_.reset();
}

// Runs share(t) for t in [0, threads): on the calling thread alone for one
// thread, else with the pool's helpers (started here the first time).
void ProjectionRunner::RunShares(size_t threads,
                                 const std::function<void(size_t)>& share) {
  if (threads <= 1) {
    share(0);
    return;
  }
  if (pool_ == nullptr) pool_ = std::make_unique<FoldPool>(fold_threads_ - 1);
  pool_->Run(threads, share);
}

absl::Status ProjectionRunner::Load(Slot& slot) {
  const std::string name(slot.projection->name());
  SLATE_ASSIGN_OR_RETURN(
      slot.cf, log_->GetOrCreateColumnFamily(ProjectionColumnFamily(name)));
  rocksdb::DB* db = log_->db();
  auto drop = [&](absl::string_view why) {
    if (options_.notice) options_.notice(name, why);
    return Reset(slot);
  };
  std::string version, format, checkpoint;
  rocksdb::Status s =
      db->Get(rocksdb::ReadOptions(), slot.cf, VersionKey(), &version);
  if (s.IsNotFound()) return Reset(slot);  // New: nothing to say.
  SLATE_RETURN_IF_ERROR(FromRocks(s, absl::StrCat("projection ", name)));
  int64_t stored_version = 0;
  if (!absl::SimpleAtoi(version, &stored_version) ||
      stored_version != slot.projection->version()) {
    return drop(absl::StrCat("stored state is of version ",
                             absl::CHexEscape(version), ", this code folds v",
                             slot.projection->version()));
  }
  s = db->Get(rocksdb::ReadOptions(), slot.cf, FormatKey(), &format);
  if (s.IsNotFound() || (s.ok() && format != kStateFormat)) {
    return drop(s.ok() ? absl::StrCat("stored state has format ",
                                      absl::CHexEscape(format), ", not ",
                                      kStateFormat)
                       : std::string("stored state was written by a Slate "
                                     "that committed per batch (no snapshot "
                                     "format)"));
  }
  SLATE_RETURN_IF_ERROR(FromRocks(s, absl::StrCat("projection ", name)));
  s = db->Get(rocksdb::ReadOptions(), slot.cf, CheckpointKey(), &checkpoint);
  int64_t cp = 0;
  if (!s.ok() || !log_format::DecodePositionValue(checkpoint, &cp)) {
    return drop("its snapshot's position is missing or malformed");
  }
  if (cp > log_->NextPosition()) {
    // Derived data ahead of the log can only come from a lost log suffix;
    // it cannot be trusted.
    return drop(absl::StrCat("its snapshot stands at position ", cp,
                             ", past the log's end ", log_->NextPosition()));
  }
  slot.checkpoint = cp;
  slot.checkpoint_at = absl::Now();
  Forget(slot);
  return absl::OkStatus();
}

void ProjectionRunner::Forget(Slot& slot) {
  slot.cache->Clear();
  // A snapshot at 0 holds no keys (Reset wrote none): misses are absent.
  slot.cache->complete = slot.checkpoint == 0;
  slot.projection->Discard();
  slot.unflushed = false;
  slot.folded = slot.checkpoint;
}

absl::Status ProjectionRunner::Reset(Slot& slot) {
  // A new, empty family rather than a range deletion: the rebuild's keys
  // then never land on old versions of themselves, and its snapshot can be
  // ingested as a file instead of going through the memtable (the
  // snapshot's memtable inserts and their flush were about half of a
  // rebuild's time: bench/RESULTS.md). The runner's metadata keys come
  // with the first snapshot; a crash before it leaves the family empty,
  // which Load takes for a projection never folded.
  SLATE_ASSIGN_OR_RETURN(slot.cf,
                         log_->RecreateColumnFamily(
                             ProjectionColumnFamily(slot.projection->name())));
  slot.fresh = true;
  slot.memtable_empty = true;
  slot.checkpoint = 0;
  slot.checkpoint_at = absl::Now();
  Forget(slot);
  return absl::OkStatus();
}

const ProjectionRunner::Slot* ProjectionRunner::Find(
    absl::string_view name) const {
  for (const Slot& s : slots_) {
    if (s.projection->name() == name) return &s;
  }
  return nullptr;
}

absl::StatusOr<ProjectionRunner::Slot*> ProjectionRunner::SlotNamed(
    absl::string_view name) const {
  for (Slot& s : slots_) {
    if (s.projection->name() == name) return &s;
  }
  return absl::NotFoundError(absl::StrCat("no projection named ", name));
}

std::vector<std::string> ProjectionRunner::Names() const {
  std::vector<std::string> names;
  for (const Slot& s : slots_) names.emplace_back(s.projection->name());
  return names;
}

absl::Status ProjectionRunner::FlushProjection(Slot& slot) const {
  if (!slot.unflushed) return absl::OkStatus();
  CachedState state(log_, slot.cf, slot.cache.get());
  absl::Status st = slot.projection->Flush(state);
  if (st.ok()) st = state.error();
  if (!st.ok()) {
    return absl::Status(st.code(),
                        absl::StrCat("projection ", slot.projection->name(),
                                     " writing its state folded up to "
                                     "position ",
                                     slot.folded, ": ", st.message()));
  }
  slot.unflushed = false;
  return absl::OkStatus();
}

void ProjectionRunner::PublishFolded() {
  int64_t min_folded = log_->NextPosition();
  if (!slots_.empty()) min_folded = std::numeric_limits<int64_t>::max();
  for (const Slot& slot : slots_) min_folded = std::min(min_folded, slot.folded);
  {
    std::lock_guard<std::mutex> wl(wait_mu_);
    min_folded_.store(min_folded, std::memory_order_release);
  }
  wait_cv_.notify_all();
}

absl::Status ProjectionRunner::Snapshot() {
  std::lock_guard<std::recursive_mutex> l(fold_mu_);
  return SnapshotLocked();
}

absl::Status ProjectionRunner::SnapshotLocked() {
  std::vector<Slot*> todo;
  for (Slot& slot : slots_) {
    if (slot.folded == slot.checkpoint && !slot.unflushed &&
        slot.cache->dirty.empty() && !slot.fresh) {
      continue;
    }
    todo.push_back(&slot);
  }
  if (options_.before_commit_for_test) options_.before_commit_for_test();
  SLATE_CRASH_POINT("runner.before_batch_commit");
  // One batch per projection: its keys with the position they stand at, so
  // a projection's data and position never disagree, and a crash between
  // two batches leaves each projection at a snapshot of its own. A big
  // snapshot of fresh projections (a rebuild's, ingested as SST files)
  // builds each projection's file on a thread of its own. Other snapshots
  // go through the memtables on one thread: RocksDB inserts one writer at
  // a time here (allow_concurrent_memtable_write is off), and memtable
  // blocks allocated by several threads sit in several malloc arenas
  // (bench/RESULTS.md, memory of 2 M finished + 100 k open). Thread t
  // writes items t, t + threads, ... as the fold does, so a projection's
  // file is built on the thread that folded it, and its decoded records
  // are written out there too. (Counted before they are written out: they
  // are most of what a rebuild holds.)
  size_t entries = 0;
  for (const Slot* slot : todo) {
    entries += slot->cache->dirty.size() +
               (slot->unflushed ? static_cast<size_t>(slot->folded -
                                                      slot->checkpoint)
                                : 0);
  }
  bool all_fresh = true;
  for (const Slot* slot : todo) all_fresh = all_fresh && slot->fresh;
  const size_t threads =
      entries < kParallelSnapshotMinKeys || !all_fresh
          ? 1
          : std::min(todo.size(), fold_threads_);
  std::vector<absl::Status> written(todo.size());
  std::vector<char> flush_failed(todo.size(), false);
  RunShares(threads, [&](size_t t) {
    for (size_t k = t; k < todo.size(); k += threads) {
      Slot& slot = *todo[k];
      StateCache& c = *slot.cache;
      if (absl::Status st = FlushProjection(slot); !st.ok()) {
        flush_failed[k] = true;
        written[k] = std::move(st);
        continue;
      }
      absl::Status st = options_.write_fault_for_test
                            ? options_.write_fault_for_test(
                                  slot.projection->name())
                            : absl::OkStatus();
      if (st.ok()) st = WriteSnapshot(slot);
      written[k] = st;
      if (st.ok()) {
        CommitCache(c, options_.snapshot_bytes);
        slot.checkpoint = slot.folded;
        slot.fresh = false;
        slot.checkpoint_at = absl::Now();
      }
      if (k + threads < todo.size()) {
        SLATE_CRASH_POINT("runner.between_projection_commits");
      }
    }
  });
  absl::Status failed;
  for (size_t k = 0; k < todo.size(); ++k) {
    if (!flush_failed[k]) continue;
    // Its decoded state cannot be written: it folds again from its last
    // snapshot.
    Forget(*todo[k]);
    if (failed.ok()) failed = written[k];
  }
  if (!failed.ok()) {
    PublishFolded();
    return failed;
  }
  for (size_t k = 0; k < todo.size(); ++k) {
    if (written[k].ok() || !failed.ok()) continue;
    // The state in memory is still right; its changes stay pending and the
    // next snapshot writes them.
    failed = absl::Status(
        written[k].code(),
        absl::StrCat("projection ", todo[k]->projection->name(),
                     ": writing its snapshot at position ", todo[k]->folded,
                     ": ", written[k].message()));
  }
  if (!failed.ok()) return failed;
  SLATE_CRASH_POINT("runner.after_batch_commit");
  events_since_snapshot_ = 0;
  last_snapshot_ = absl::Now();
  return absl::OkStatus();
}

absl::Status ProjectionRunner::WriteSnapshot(Slot& slot) const {
  StateCache& c = *slot.cache;
  const std::string checkpoint = log_format::PositionValue(slot.folded);
  const std::string version = absl::StrCat(slot.projection->version());
  const size_t ingest_min = options_.ingest_min_keys_for_test != 0
                                ? options_.ingest_min_keys_for_test
                                : kIngestMinKeys;
  if (slot.memtable_empty && c.dirty.size() >= ingest_min) {
    // The metadata keys ("\0...") sort before every user key. A fresh
    // family holds nothing below these keys: no deletions to write.
    SortDirty(c);
    return log_->IngestDerived(
        slot.cf, [&](rocksdb::SstFileWriter& w) -> rocksdb::Status {
          rocksdb::Status s = w.Put(CheckpointKey(), checkpoint);
          if (s.ok() && slot.fresh) s = w.Put(FormatKey(), Rocks(kStateFormat));
          if (s.ok() && slot.fresh) s = w.Put(VersionKey(), version);
          for (const CacheEntry* e : c.dirty) {
            if (!s.ok()) break;
            if (e->present) {
              s = w.Put(*e->key, e->value);
            } else if (!slot.fresh) {
              s = w.Delete(*e->key);
            }
          }
          return s;
        });
  }
  slot.memtable_empty = false;
  rocksdb::WriteBatch wb(c.dirty_bytes + 16 * (c.dirty.size() + 4) + 64);
  FlushCache(c, slot.cf, &wb);
  if (slot.fresh) {
    wb.Put(slot.cf, VersionKey(), version).PermitUncheckedError();
    wb.Put(slot.cf, FormatKey(), Rocks(kStateFormat)).PermitUncheckedError();
  }
  wb.Put(slot.cf, CheckpointKey(), checkpoint).PermitUncheckedError();
  return log_->WriteDerived(&wb);
}

absl::Status ProjectionRunner::CatchUp() {
  return FoldTo(log_->NextPosition());
}

absl::Status ProjectionRunner::FoldTo(int64_t position) {
  if (min_folded_.load(std::memory_order_acquire) >= position) {
    return absl::OkStatus();
  }
  std::lock_guard<std::recursive_mutex> l(fold_mu_);
  return FoldLocked(position);
}

absl::Status ProjectionRunner::FoldLocked(int64_t position) {
  const int64_t target = std::min(position, log_->NextPosition());
  // On a failure every projection drops what it folded since its snapshot
  // and folds again up to the batch that failed.
  auto drop_unsaved = [&] {
    for (Slot& slot : slots_) Forget(slot);
  };
  // The next batch, read and decoded on another thread while this one
  // folds (only behind big batches: a live fold of a few events reads on
  // its own).
  struct Prefetch {
    int64_t from = 0;
    size_t want = 0;
    std::future<absl::StatusOr<Batch>> events;
  };
  std::optional<Prefetch> prefetch;  // Its future waits for the read.
  while (true) {
    int64_t from = std::numeric_limits<int64_t>::max();
    for (const Slot& slot : slots_) from = std::min(from, slot.folded);
    if (slots_.empty() || from >= target) break;
    size_t want = std::min<size_t>(options_.batch_events,
                                   static_cast<size_t>(target - from));
    std::vector<Envelope> offered = TakeOffered(from, &want);
    absl::StatusOr<Batch> batch =
        !offered.empty() ? OfferedBatch(std::move(offered))
        : prefetch.has_value() && prefetch->from == from &&
                prefetch->want == want
            ? prefetch->events.get()
            : ReadBatch(*log_, from, want);
    prefetch.reset();
    if (batch.ok() && batch->events.empty()) {
      batch = absl::DataLossError(absl::StrCat(
          "projections: position ", from, " is below the log's end (",
          log_->NextPosition(), ") but unreadable"));
    }
    if (!batch.ok()) {
      drop_unsaved();
      PublishFolded();
      return batch.status();
    }
    const std::vector<const Envelope*>* events = &batch->events;
    const int64_t next = events->back()->position() + 1;
    if (next < target && events->size() >= kParallelMinEvents) {
      const size_t after = std::min<size_t>(
          options_.batch_events, static_cast<size_t>(target - next));
      prefetch = Prefetch{next, after, std::async(std::launch::async, [=, this] {
                            return ReadBatch(*log_, next, after);
                          })};
    }
    // Each projection behind `next` folds the batch into its own state, on
    // up to fold_threads threads (projections share nothing but the events
    // and the DB, which is thread-safe for reads).
    std::vector<size_t> work;
    for (size_t i = 0; i < slots_.size(); ++i) {
      if (slots_[i].folded < next) work.push_back(i);
    }
    struct Failure {
      absl::Status status;
      int64_t position = 0;
    };
    std::vector<Failure> failures(slots_.size());
    auto fold_slot = [&](size_t i) {
      Slot& slot = slots_[i];
      CachedState state(log_, slot.cf, slot.cache.get());
      slot.unflushed = true;
      for (const Envelope* ep : *events) {
        const Envelope& e = *ep;
        if (e.position() < slot.folded) continue;
        absl::Status st = slot.projection->Apply(e, state);
        if (st.ok()) st = state.error();
        if (!st.ok()) {
          failures[i] = {std::move(st), e.position()};
          return;
        }
      }
      // Past its bound of decoded records, the projection writes them into
      // the cache (serialized) and keeps fewer.
      if (slot.projection->WantsFlush()) {
        absl::Status st = slot.projection->Flush(state);
        if (st.ok()) st = state.error();
        if (!st.ok()) {
          failures[i] = {std::move(st), next - 1};
          return;
        }
        slot.unflushed = false;
      }
    };
    const size_t threads = events->size() < kParallelMinEvents
                               ? 1
                               : std::min(work.size(), fold_threads_);
    // Thread t folds work items t, t + threads, ...: the same projections
    // each batch while the same projections need folding.
    RunShares(threads, [&](size_t t) {
      for (size_t k = t; k < work.size(); k += threads) fold_slot(work[k]);
    });
    for (size_t i : work) {
      const Failure& f = failures[i];
      if (f.status.ok()) continue;
      prefetch.reset();
      drop_unsaved();
      // Keep the work before this read: fold again from the snapshots up to
      // its start (those events folded fine, and folds are deterministic),
      // so the state stops just before the batch that failed.
      FoldLocked(from).IgnoreError();
      PublishFolded();
      return absl::Status(
          f.status.code(),
          absl::StrCat("projection ", slots_[i].projection->name(),
                       " at position ", f.position, ": ", f.status.message()));
    }
    bool over_bytes = false;
    for (size_t i : work) {
      slots_[i].folded = next;
      // Past its bound, the map first lets go of what RocksDB holds anyway;
      // only the changes since the snapshot make a new one.
      StateCache& cache = *slots_[i].cache;
      if (cache.bytes > options_.snapshot_bytes) cache.DropClean();
      over_bytes = over_bytes || cache.bytes > options_.snapshot_bytes;
    }
    events_since_snapshot_ += next - from;
    PublishFolded();
    if (over_bytes || events_since_snapshot_ >= options_.snapshot_events) {
      SLATE_RETURN_IF_ERROR(SnapshotLocked());
    }
  }
  if (absl::Now() - last_snapshot_ >= options_.snapshot_interval) {
    SLATE_RETURN_IF_ERROR(SnapshotLocked());
  }
  return absl::OkStatus();
}

void ProjectionRunner::Offer(const std::vector<Envelope>& events) {
  if (events.empty()) return;
  std::lock_guard<std::mutex> l(offer_mu_);
  if (!offered_.empty() &&
      events.front().position() != offered_.back().position() + 1) {
    offered_.clear();
  }
  offered_.insert(offered_.end(), events.begin(), events.end());
  while (offered_.size() > options_.batch_events) offered_.pop_front();
}

std::vector<Envelope> ProjectionRunner::TakeOffered(int64_t from,
                                                    size_t* want) {
  std::vector<Envelope> out;
  std::lock_guard<std::mutex> l(offer_mu_);
  while (!offered_.empty() && offered_.front().position() < from) {
    offered_.pop_front();  // Folded already (read from the log).
  }
  if (offered_.empty()) return out;
  if (offered_.front().position() != from) {
    // Read up to the offered events only.
    *want = std::min(*want,
                     static_cast<size_t>(offered_.front().position() - from));
    return out;
  }
  const size_t n = std::min(*want, offered_.size());
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    out.push_back(std::move(offered_.front()));
    offered_.pop_front();
  }
  return out;
}

void ProjectionRunner::StartFollowing() {
  if (follower_.joinable()) return;
  stop_.store(false);
  follower_ = std::thread([this] { FollowLoop(); });
}

void ProjectionRunner::StopFollowing() {
  if (!follower_.joinable()) return;
  stop_.store(true, std::memory_order_release);
  log_->WakeWaiters();
  follower_.join();
}

void ProjectionRunner::FollowLoop() {
  while (!stop_.load(std::memory_order_acquire)) {
    const int64_t folded = min_folded_.load(std::memory_order_acquire);
    if (log_->NextPosition() <= folded) {
      if (!log_->WaitForPosition(folded, stop_)) break;
      continue;
    }
    absl::Status st = FoldTo(log_->NextPosition());
    if (!st.ok()) {
      {
        std::lock_guard<std::mutex> l(wait_mu_);
        follow_error_ = st;
      }
      wait_cv_.notify_all();
      return;
    }
  }
}

absl::Status ProjectionRunner::WaitFor(int64_t position,
                                       absl::Duration timeout) {
  std::unique_lock<std::mutex> l(wait_mu_);
  auto reached = [&] {
    return !follow_error_.ok() ||
           min_folded_.load(std::memory_order_acquire) >= position;
  };
  bool done = true;
  if (timeout == absl::InfiniteDuration()) {
    // wait_for would overflow converting an infinite timeout: wait plainly.
    wait_cv_.wait(l, reached);
  } else {
    done = wait_cv_.wait_for(
        l, absl::ToChronoNanoseconds(std::max(timeout, absl::ZeroDuration())),
        reached);
  }
  if (!follow_error_.ok()) return follow_error_;
  if (!done) {
    return absl::DeadlineExceededError(absl::StrCat(
        "projections reached position ", min_folded_.load(), ", not ",
        position, ", within ", absl::FormatDuration(timeout)));
  }
  return absl::OkStatus();
}

absl::Status ProjectionRunner::Rebuild(absl::string_view name) {
  std::lock_guard<std::recursive_mutex> l(fold_mu_);
  SLATE_ASSIGN_OR_RETURN(Slot * slot, SlotNamed(name));
  SLATE_RETURN_IF_ERROR(Reset(*slot));
  return FoldAfterResetLocked();
}

absl::Status ProjectionRunner::RebuildAll() {
  std::lock_guard<std::recursive_mutex> l(fold_mu_);
  for (Slot& slot : slots_) SLATE_RETURN_IF_ERROR(Reset(slot));
  return FoldAfterResetLocked();
}

absl::Status ProjectionRunner::FoldAfterResetLocked() {
  SLATE_CRASH_POINT("runner.mid_rebuild");
  PublishFolded();
  SLATE_RETURN_IF_ERROR(FoldLocked(log_->NextPosition()));
  return SnapshotLocked();
}

absl::StatusOr<int64_t> ProjectionRunner::Checkpoint(
    absl::string_view name) const {
  std::lock_guard<std::recursive_mutex> l(fold_mu_);
  SLATE_ASSIGN_OR_RETURN(const Slot* slot, SlotNamed(name));
  return slot->folded;
}

absl::StatusOr<int64_t> ProjectionRunner::SnapshotPosition(
    absl::string_view name) const {
  std::lock_guard<std::recursive_mutex> l(fold_mu_);
  SLATE_ASSIGN_OR_RETURN(const Slot* slot, SlotNamed(name));
  return slot->checkpoint;
}

absl::StatusOr<absl::Time> ProjectionRunner::SnapshotTime(
    absl::string_view name) const {
  std::lock_guard<std::recursive_mutex> l(fold_mu_);
  SLATE_ASSIGN_OR_RETURN(const Slot* slot, SlotNamed(name));
  return slot->checkpoint_at;
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>>
ProjectionRunner::Dump(absl::string_view name) const {
  std::lock_guard<std::recursive_mutex> l(fold_mu_);
  SLATE_ASSIGN_OR_RETURN(const Slot* slot, SlotNamed(name));
  SLATE_RETURN_IF_ERROR(const_cast<ProjectionRunner*>(this)->SnapshotLocked());
  std::vector<std::pair<std::string, std::string>> out;
  std::unique_ptr<rocksdb::Iterator> it(
      log_->db()->NewIterator(rocksdb::ReadOptions(), slot->cf));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    out.emplace_back(std::string(RocksView(it->key())),
                     std::string(RocksView(it->value())));
  }
  SLATE_RETURN_IF_ERROR(FromRocks(it->status(), absl::StrCat("dump ", name)));
  return out;
}

absl::StatusOr<std::optional<std::string>> ProjectionRunner::Get(
    absl::string_view name, absl::string_view key) const {
  std::lock_guard<std::recursive_mutex> l(fold_mu_);
  SLATE_ASSIGN_OR_RETURN(Slot * slot, SlotNamed(name));
  SLATE_RETURN_IF_ERROR(FlushProjection(*slot));
  CachedState state(log_, slot->cf, slot->cache.get(), /*fill=*/false);
  return state.Get(key);
}

absl::Status ProjectionRunner::Scan(
    absl::string_view name, absl::string_view prefix,
    const std::function<bool(absl::string_view, absl::string_view)>& fn) const {
  std::lock_guard<std::recursive_mutex> l(fold_mu_);
  SLATE_ASSIGN_OR_RETURN(Slot * slot, SlotNamed(name));
  SLATE_RETURN_IF_ERROR(FlushProjection(*slot));
  CachedState state(log_, slot->cf, slot->cache.get(), /*fill=*/false);
  return state.Scan(prefix, fn);
}

}  // namespace slate
