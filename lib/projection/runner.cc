#include "lib/projection/runner.h"

#include <algorithm>
#include <limits>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "lib/base/status_macros.h"
#include "lib/log/log_format.h"
#include "lib/log/rocks_access.h"
#include "rocksdb/comparator.h"
#include "rocksdb/utilities/write_batch_with_index.h"

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

rocksdb::Slice Rocks(absl::string_view s) {
  return rocksdb::Slice(s.data(), s.size());
}

// ProjectionState over a WriteBatchWithIndex and the committed DB.
class BatchState final : public ProjectionState {
 public:
  BatchState(rocksdb::DB* db, rocksdb::WriteBatchWithIndex* wb,
             rocksdb::ColumnFamilyHandle* cf)
      : db_(db), wb_(wb), cf_(cf) {}

  absl::StatusOr<std::optional<std::string>> Get(
      absl::string_view key) override {
    rocksdb::PinnableSlice value;
    rocksdb::Status s = wb_->GetFromBatchAndDB(db_, rocksdb::ReadOptions(), cf_,
                                               Rocks(key), &value);
    if (s.IsNotFound()) return std::nullopt;
    SLATE_RETURN_IF_ERROR(FromRocks(s, "projection read"));
    return std::string(RocksView(value));
  }
  void Put(absl::string_view key, absl::string_view value) override {
    if (!CheckKey(key)) return;
    wb_->Put(cf_, Rocks(key), Rocks(value)).PermitUncheckedError();
  }
  void Delete(absl::string_view key) override {
    if (!CheckKey(key)) return;
    wb_->Delete(cf_, Rocks(key)).PermitUncheckedError();
  }
  absl::Status Scan(absl::string_view prefix,
                    const std::function<bool(absl::string_view,
                                             absl::string_view)>& fn) override {
    std::unique_ptr<rocksdb::Iterator> it(wb_->NewIteratorWithBase(
        cf_, db_->NewIterator(rocksdb::ReadOptions(), cf_)));
    for (it->Seek(Rocks(prefix)); it->Valid(); it->Next()) {
      absl::string_view k = RocksView(it->key());
      if (!absl::StartsWith(k, prefix)) break;
      if (!k.empty() && k[0] == '\0') continue;
      if (!fn(k, RocksView(it->value()))) break;
    }
    return FromRocks(it->status(), "projection scan");
  }
  const absl::Status& error() const { return error_; }

 private:
  bool CheckKey(absl::string_view key) {
    if (key.empty() || key[0] == '\0') {
      if (error_.ok()) {
        error_ = absl::InternalError(
            "projection wrote an empty key or one starting with 0x00 "
            "(reserved for the runner)");
      }
      return false;
    }
    return true;
  }
  rocksdb::DB* db_;
  rocksdb::WriteBatchWithIndex* wb_;
  rocksdb::ColumnFamilyHandle* cf_;
  absl::Status error_;
};

}  // namespace

std::string ProjectionColumnFamily(absl::string_view name) {
  return absl::StrCat("p.", name);
}

ProjectionRunner::ProjectionRunner(EventLog* log, RunnerOptions options)
    : log_(log), options_(std::move(options)) {}

absl::StatusOr<std::unique_ptr<ProjectionRunner>> ProjectionRunner::Open(
    EventLog* log, std::vector<std::unique_ptr<Projection>> projections,
    RunnerOptions options) {
  if (options.batch_events == 0) options.batch_events = 1;
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
  std::lock_guard<std::mutex> l(r->fold_mu_);
  int64_t min_cp = std::numeric_limits<int64_t>::max();
  for (Slot& slot : r->slots_) {
    SLATE_RETURN_IF_ERROR(r->Load(slot));
    min_cp = std::min(min_cp, slot.checkpoint);
  }
  r->min_checkpoint_ = r->slots_.empty() ? log->NextPosition() : min_cp;
  return r;
}

ProjectionRunner::~ProjectionRunner() { StopFollowing(); }

absl::Status ProjectionRunner::Load(Slot& slot) {
  const std::string name(slot.projection->name());
  SLATE_ASSIGN_OR_RETURN(
      slot.cf, log_->GetOrCreateColumnFamily(ProjectionColumnFamily(name)));
  rocksdb::DB* db = log_->db();
  std::string version, checkpoint;
  rocksdb::Status s =
      db->Get(rocksdb::ReadOptions(), slot.cf, VersionKey(), &version);
  if (s.IsNotFound()) return Reset(slot);
  SLATE_RETURN_IF_ERROR(FromRocks(s, absl::StrCat("projection ", name)));
  int64_t stored_version = 0;
  if (!absl::SimpleAtoi(version, &stored_version) ||
      stored_version != slot.projection->version()) {
    return Reset(slot);  // Another version's state: rebuild from 0.
  }
  s = db->Get(rocksdb::ReadOptions(), slot.cf, CheckpointKey(), &checkpoint);
  int64_t cp = 0;
  if (!s.ok() || !log_format::DecodePositionValue(checkpoint, &cp)) {
    return absl::DataLossError(absl::StrCat(
        "projection ", name, ": checkpoint is missing or malformed"));
  }
  if (cp > log_->NextPosition()) {
    // Derived data ahead of the log can only come from a lost log suffix;
    // it cannot be trusted.
    return Reset(slot);
  }
  slot.checkpoint = cp;
  return absl::OkStatus();
}

absl::Status ProjectionRunner::Reset(Slot& slot) {
  rocksdb::DB* db = log_->db();
  rocksdb::WriteBatch batch;
  {
    std::unique_ptr<rocksdb::Iterator> it(
        db->NewIterator(rocksdb::ReadOptions(), slot.cf));
    it->SeekToLast();
    if (it->Valid()) {
      std::string end(it->key().data(), it->key().size());
      end.push_back('\0');
      batch.DeleteRange(slot.cf, "", end).PermitUncheckedError();
    }
    SLATE_RETURN_IF_ERROR(FromRocks(it->status(), "projection reset"));
  }
  batch.Put(slot.cf, VersionKey(), absl::StrCat(slot.projection->version()))
      .PermitUncheckedError();
  batch.Put(slot.cf, CheckpointKey(), log_format::PositionValue(0))
      .PermitUncheckedError();
  SLATE_RETURN_IF_ERROR(log_->WriteDerived(&batch));
  slot.checkpoint = 0;
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
    absl::string_view name) {
  for (Slot& s : slots_) {
    if (s.projection->name() == name) return &s;
  }
  return absl::NotFoundError(absl::StrCat("no projection named ", name));
}

absl::StatusOr<const ProjectionRunner::Slot*> ProjectionRunner::SlotNamed(
    absl::string_view name) const {
  const Slot* slot = Find(name);
  if (slot == nullptr) {
    return absl::NotFoundError(absl::StrCat("no projection named ", name));
  }
  return slot;
}

std::vector<std::string> ProjectionRunner::Names() const {
  std::vector<std::string> names;
  for (const Slot& s : slots_) names.emplace_back(s.projection->name());
  return names;
}

absl::Status ProjectionRunner::CatchUp() {
  return FoldTo(log_->NextPosition());
}

absl::Status ProjectionRunner::FoldTo(int64_t position) {
  if (min_checkpoint_.load(std::memory_order_acquire) >= position) {
    return absl::OkStatus();
  }
  std::lock_guard<std::mutex> l(fold_mu_);
  return FoldLocked(position);
}

absl::Status ProjectionRunner::FoldLocked(int64_t position) {
  rocksdb::DB* db = log_->db();
  const int64_t target = std::min(position, log_->NextPosition());
  while (true) {
    int64_t from = std::numeric_limits<int64_t>::max();
    for (const Slot& s : slots_) from = std::min(from, s.checkpoint);
    if (slots_.empty() || from >= target) break;
    const size_t want = std::min<size_t>(options_.batch_events,
                                         static_cast<size_t>(target - from));
    SLATE_ASSIGN_OR_RETURN(std::vector<Envelope> events,
                           log_->ReadAll(from, want));
    if (events.empty()) {
      return absl::DataLossError(absl::StrCat(
          "projections: position ", from, " is below the log's end (",
          log_->NextPosition(), ") but unreadable"));
    }
    const int64_t next = events.back().position() + 1;
    rocksdb::WriteBatchWithIndex wb(rocksdb::BytewiseComparator(), 0,
                                    /*overwrite_key=*/true);
    std::vector<int64_t> new_cp(slots_.size());
    for (size_t i = 0; i < slots_.size(); ++i) {
      Slot& slot = slots_[i];
      new_cp[i] = slot.checkpoint;
      if (slot.checkpoint >= next) continue;
      BatchState state(db, &wb, slot.cf);
      for (const Envelope& e : events) {
        if (e.position() < slot.checkpoint) continue;
        absl::Status st = slot.projection->Apply(e, state);
        if (st.ok()) st = state.error();
        if (!st.ok()) {
          return absl::Status(
              st.code(),
              absl::StrCat("projection ", slot.projection->name(),
                           " at position ", e.position(), ": ", st.message()));
        }
      }
      new_cp[i] = next;
      wb.Put(slot.cf, CheckpointKey(), log_format::PositionValue(next))
          .PermitUncheckedError();
    }
    if (options_.before_commit_for_test) options_.before_commit_for_test();
    SLATE_RETURN_IF_ERROR(log_->WriteDerived(wb.GetWriteBatch()));
    int64_t min_cp = std::numeric_limits<int64_t>::max();
    for (size_t i = 0; i < slots_.size(); ++i) {
      slots_[i].checkpoint = new_cp[i];
      min_cp = std::min(min_cp, new_cp[i]);
    }
    {
      std::lock_guard<std::mutex> wl(wait_mu_);
      min_checkpoint_.store(min_cp, std::memory_order_release);
    }
    wait_cv_.notify_all();
  }
  return absl::OkStatus();
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
    const int64_t cp = min_checkpoint_.load(std::memory_order_acquire);
    if (log_->NextPosition() <= cp) {
      if (!log_->WaitForPosition(cp, stop_)) break;
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
           min_checkpoint_.load(std::memory_order_acquire) >= position;
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
        "projections reached position ", min_checkpoint_.load(), ", not ",
        position, ", within ", absl::FormatDuration(timeout)));
  }
  return absl::OkStatus();
}

absl::Status ProjectionRunner::Rebuild(absl::string_view name) {
  std::lock_guard<std::mutex> l(fold_mu_);
  SLATE_ASSIGN_OR_RETURN(Slot * slot, SlotNamed(name));
  SLATE_RETURN_IF_ERROR(Reset(*slot));
  {
    std::lock_guard<std::mutex> wl(wait_mu_);
    min_checkpoint_.store(0, std::memory_order_release);
  }
  return FoldLocked(log_->NextPosition());
}

absl::StatusOr<int64_t> ProjectionRunner::Checkpoint(
    absl::string_view name) const {
  SLATE_ASSIGN_OR_RETURN(const Slot* slot, SlotNamed(name));
  std::string v;
  rocksdb::Status s =
      log_->db()->Get(rocksdb::ReadOptions(), slot->cf, CheckpointKey(), &v);
  SLATE_RETURN_IF_ERROR(FromRocks(s, absl::StrCat("projection ", name)));
  int64_t cp = 0;
  if (!log_format::DecodePositionValue(v, &cp)) {
    return absl::DataLossError(
        absl::StrCat("projection ", name, ": malformed checkpoint"));
  }
  return cp;
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>>
ProjectionRunner::Dump(absl::string_view name) const {
  SLATE_ASSIGN_OR_RETURN(const Slot* slot, SlotNamed(name));
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
  SLATE_ASSIGN_OR_RETURN(const Slot* slot, SlotNamed(name));
  std::string v;
  rocksdb::Status s =
      log_->db()->Get(rocksdb::ReadOptions(), slot->cf, Rocks(key), &v);
  if (s.IsNotFound()) return std::nullopt;
  SLATE_RETURN_IF_ERROR(FromRocks(s, absl::StrCat("projection ", name)));
  return v;
}

absl::Status ProjectionRunner::Scan(
    absl::string_view name, absl::string_view prefix,
    const std::function<bool(absl::string_view, absl::string_view)>& fn) const {
  SLATE_ASSIGN_OR_RETURN(const Slot* slot, SlotNamed(name));
  std::unique_ptr<rocksdb::Iterator> it(
      log_->db()->NewIterator(rocksdb::ReadOptions(), slot->cf));
  for (it->Seek(Rocks(prefix)); it->Valid(); it->Next()) {
    absl::string_view k = RocksView(it->key());
    if (!absl::StartsWith(k, prefix)) break;
    if (!k.empty() && k[0] == '\0') continue;
    if (!fn(k, RocksView(it->value()))) break;
  }
  return FromRocks(it->status(), absl::StrCat("scan ", name));
}

}  // namespace slate
