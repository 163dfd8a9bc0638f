#include "lib/projection/runner.h"

#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "rocksdb/metadata.h"
#include "lib/log/event_log.h"
#include "lib/log/log_format.h"
#include "lib/projection/memory_state.h"
#include "tests/projection/test_projections.h"
#include "tests/testing/temp_dir.h"

namespace slate {
namespace {

using testing::StreamStats;

Envelope Event(const std::string& id) {
  Envelope e;
  e.set_event_id(id);
  e.set_occurred_at_us(1700000000000000);
  e.mutable_incident_commented()->set_text(id);
  return e;
}

class RunnerTest : public ::testing::Test {
 protected:
  void OpenLog() {
    Options options;
    options.durability = Durability::kProcessCrash;
    auto log = EventLog::Open(options, dir_.path());
    ASSERT_TRUE(log.ok()) << log.status();
    log_ = std::move(*log);
  }
  std::unique_ptr<ProjectionRunner> OpenRunner(std::unique_ptr<Projection> p,
                                               RunnerOptions options = {}) {
    std::vector<std::unique_ptr<Projection>> ps;
    ps.push_back(std::move(p));
    auto r = ProjectionRunner::Open(log_.get(), std::move(ps), options);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? std::move(*r) : nullptr;
  }
  void AppendN(int n, const std::string& prefix) {
    for (int i = 0; i < n; ++i) {
      ASSERT_TRUE(log_->Append(absl::StrCat("s/", i % 7),
                               ExpectedVersion::Any(),
                               {Event(absl::StrCat(prefix, i))})
                      .ok());
    }
  }
  std::string Value(ProjectionRunner& r, const std::string& key) {
    auto v = r.Get("stream-stats", key);
    EXPECT_TRUE(v.ok()) << v.status();
    return v.ok() && v->has_value() ? **v : "<none>";
  }

  testing::TempDir dir_;
  std::unique_ptr<EventLog> log_;
};

TEST_F(RunnerTest, CatchUpFoldsEverythingAndWritesTheCheckpoint) {
  OpenLog();
  AppendN(50, "e");
  RunnerOptions options;
  options.batch_events = 8;  // Several batches.
  auto runner = OpenRunner(std::make_unique<StreamStats>(), options);
  EXPECT_EQ(*runner->Checkpoint("stream-stats"), 0);
  ASSERT_TRUE(runner->CatchUp().ok());
  EXPECT_EQ(*runner->Checkpoint("stream-stats"), 50);
  EXPECT_EQ(Value(*runner, "total"), "50");
  EXPECT_EQ(Value(*runner, "streams"), "7");
  EXPECT_EQ(Value(*runner, "c/s/0"), "8");  // 0,7,...,49
  EXPECT_EQ(Value(*runner, "last/s/0"), "e49");
  EXPECT_EQ(runner->Checkpoint("nope").status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(RunnerTest, RebuildIsByteIdenticalToTheIncrementalFold) {
  OpenLog();
  RunnerOptions options;
  options.batch_events = 3;
  auto runner = OpenRunner(std::make_unique<StreamStats>(), options);
  // Fold in many uneven steps, as live appends would.
  for (int round = 0; round < 20; ++round) {
    AppendN(round % 5 + 1, absl::StrCat("r", round, "-"));
    ASSERT_TRUE(runner->CatchUp().ok());
  }
  auto incremental = runner->Dump("stream-stats");
  ASSERT_TRUE(incremental.ok());
  ASSERT_TRUE(runner->Rebuild("stream-stats").ok());
  auto rebuilt = runner->Dump("stream-stats");
  ASSERT_TRUE(rebuilt.ok());
  EXPECT_EQ(*incremental, *rebuilt);
  EXPECT_GT(incremental->size(), 10u);
}

// A rebuild's snapshot ingested as an SST file (any size here): the same
// bytes as the incremental fold, nothing through the memtable, and the
// state a reopen loads and folds on from.
TEST_F(RunnerTest, ARebuildIngestedAsAFileIsByteIdenticalAndReopens) {
  OpenLog();
  RunnerOptions options;
  options.batch_events = 4;
  options.ingest_min_keys_for_test = 1;
  std::vector<std::pair<std::string, std::string>> incremental;
  {
    auto runner = OpenRunner(std::make_unique<StreamStats>(), options);
    for (int round = 0; round < 10; ++round) {
      AppendN(round % 4 + 1, absl::StrCat("r", round, "-"));
      ASSERT_TRUE(runner->CatchUp().ok());
    }
    auto dumped = runner->Dump("stream-stats");
    ASSERT_TRUE(dumped.ok());
    incremental = *dumped;
    ASSERT_TRUE(runner->Rebuild("stream-stats").ok());
    auto cf = log_->GetOrCreateColumnFamily(
        ProjectionColumnFamily("stream-stats"));
    ASSERT_TRUE(cf.ok()) << cf.status();
    uint64_t in_memtable = 1;
    ASSERT_TRUE(log_->db()->GetIntProperty(
        *cf, "rocksdb.num-entries-active-mem-table", &in_memtable));
    rocksdb::ColumnFamilyMetaData meta;
    log_->db()->GetColumnFamilyMetaData(*cf, &meta);
    const size_t files = meta.file_count;
    EXPECT_EQ(in_memtable, 0u) << "the rebuild's snapshot is a file";
    EXPECT_EQ(files, 1u);
    auto rebuilt = runner->Dump("stream-stats");
    ASSERT_TRUE(rebuilt.ok());
    EXPECT_EQ(incremental, *rebuilt);
  }
  AppendN(3, "after-");
  auto runner = OpenRunner(std::make_unique<StreamStats>(), options);
  EXPECT_EQ(*runner->Checkpoint("stream-stats"), 23);
  ASSERT_TRUE(runner->CatchUp().ok());
  EXPECT_EQ(Value(*runner, "total"), "26");
  auto on_top = runner->Dump("stream-stats");
  ASSERT_TRUE(on_top.ok());
  ASSERT_TRUE(runner->Rebuild("stream-stats").ok());
  auto again = runner->Dump("stream-stats");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*on_top, *again);
}

// Per stream, a key that exists while the stream's count of events is odd:
// every other event deletes what the one before wrote.
class OddStreams final : public Projection {
 public:
  absl::string_view name() const override { return "odd"; }
  int64_t version() const override { return 1; }
  absl::Status Apply(const Envelope& e, ProjectionState& state) override {
    const std::string key = absl::StrCat("odd/", e.stream());
    auto v = state.Get(key);
    if (!v.ok()) return v.status();
    if (v->has_value()) {
      state.Delete(key);
    } else {
      state.Put(key, e.event_id());
    }
    return absl::OkStatus();
  }
};

// Every big snapshot after a reset is a file until one goes through the
// memtable, not only the first: the later ones carry the deletions of keys
// the earlier files hold.
TEST_F(RunnerTest, EverySnapshotAfterAResetIsAFileWithItsDeletions) {
  OpenLog();
  AppendN(41, "a");  // s/0..s/5: 6 events each; s/6: 5 (a6 ... a34).
  RunnerOptions options;
  options.batch_events = 4;
  options.snapshot_events = 4;  // A snapshot per batch.
  options.ingest_min_keys_for_test = 1;
  std::vector<std::unique_ptr<Projection>> ps;
  ps.push_back(std::make_unique<OddStreams>());
  auto runner = ProjectionRunner::Open(log_.get(), std::move(ps), options);
  ASSERT_TRUE(runner.ok()) << runner.status();
  ASSERT_TRUE((*runner)->CatchUp().ok());
  auto cf = log_->GetOrCreateColumnFamily(ProjectionColumnFamily("odd"));
  ASSERT_TRUE(cf.ok()) << cf.status();
  uint64_t in_memtable = 1;
  ASSERT_TRUE(log_->db()->GetIntProperty(
      *cf, "rocksdb.num-entries-active-mem-table", &in_memtable));
  EXPECT_EQ(in_memtable, 0u);
  rocksdb::ColumnFamilyMetaData meta;
  log_->db()->GetColumnFamilyMetaData(*cf, &meta);
  EXPECT_GT(meta.file_count, 1u);
  auto dumped = (*runner)->Dump("odd");
  ASSERT_TRUE(dumped.ok()) << dumped.status();
  std::vector<std::pair<std::string, std::string>> user;
  for (const auto& kv : *dumped) {
    if (!kv.first.empty() && kv.first[0] != '\0') user.push_back(kv);
  }
  const std::vector<std::pair<std::string, std::string>> want = {
      {"odd/s/6", "a34"}};
  EXPECT_EQ(user, want);
}

// A rebuild's snapshot that fails to be written stays pending: the next
// snapshot writes it (as a file still: nothing went into the family).
TEST_F(RunnerTest, AFailedIngestionIsWrittenByTheNextSnapshot) {
  OpenLog();
  AppendN(20, "a");
  RunnerOptions options;
  options.ingest_min_keys_for_test = 1;
  int faults = 1;
  options.write_fault_for_test = [&](absl::string_view) {
    return faults-- > 0 ? absl::UnavailableError("disk on fire")
                        : absl::OkStatus();
  };
  auto runner = OpenRunner(std::make_unique<StreamStats>(), options);
  ASSERT_TRUE(runner->CatchUp().ok());
  faults = 1;
  absl::Status s = runner->Rebuild("stream-stats");
  EXPECT_TRUE(absl::StrContains(s.message(), "disk on fire")) << s;
  EXPECT_EQ(*runner->SnapshotPosition("stream-stats"), 0);
  EXPECT_EQ(Value(*runner, "total"), "20");
  ASSERT_TRUE(runner->Snapshot().ok());
  EXPECT_EQ(*runner->SnapshotPosition("stream-stats"), 20);
  runner.reset();
  runner = OpenRunner(std::make_unique<StreamStats>(), options);
  EXPECT_EQ(*runner->Checkpoint("stream-stats"), 20);
  EXPECT_EQ(Value(*runner, "total"), "20");
}

// A rebuild over a memtable that holds many versions of the old state
// writes the same bytes (the reset drops the family with all of them).
TEST_F(RunnerTest, RebuildOverAFullMemtableKeepsTheBytes) {
  OpenLog();
  RunnerOptions o;
  o.snapshot_events = 1;
  auto runner = OpenRunner(std::make_unique<StreamStats>(), o);
  // One snapshot per append: five entries each (total, streams, two keys of
  // the stream, the checkpoint), far over the flush threshold.
  for (int i = 0; i < 1200; ++i) {
    AppendN(1, absl::StrCat("m", i, "-"));
    ASSERT_TRUE(runner->CatchUp().ok());
  }
  auto cf = log_->GetOrCreateColumnFamily(
      ProjectionColumnFamily("stream-stats"));
  ASSERT_TRUE(cf.ok()) << cf.status();
  auto memtable_entries = [&] {
    uint64_t n = 0;
    EXPECT_TRUE(log_->db()->GetIntProperty(
        *cf, "rocksdb.num-entries-active-mem-table", &n));
    return n;
  };
  ASSERT_GE(memtable_entries(), 4096u);
  auto incremental = runner->Dump("stream-stats");
  ASSERT_TRUE(incremental.ok());
  ASSERT_TRUE(runner->Rebuild("stream-stats").ok());
  auto rebuilt = runner->Dump("stream-stats");
  ASSERT_TRUE(rebuilt.ok());
  EXPECT_EQ(*incremental, *rebuilt);
  EXPECT_EQ(Value(*runner, "total"), "1200");
}

TEST_F(RunnerTest, ReopenResumesFromTheCheckpoint) {
  OpenLog();
  AppendN(10, "a");
  {
    auto runner = OpenRunner(std::make_unique<StreamStats>());
    ASSERT_TRUE(runner->CatchUp().ok());
  }
  AppendN(5, "b");
  auto runner = OpenRunner(std::make_unique<StreamStats>());
  EXPECT_EQ(*runner->Checkpoint("stream-stats"), 10);
  ASSERT_TRUE(runner->CatchUp().ok());
  EXPECT_EQ(Value(*runner, "total"), "15");  // Nothing folded twice.
}

TEST_F(RunnerTest, NewVersionRebuildsFromPositionZero) {
  OpenLog();
  AppendN(12, "a");
  {
    auto runner = OpenRunner(std::make_unique<StreamStats>(1, "c/"));
    ASSERT_TRUE(runner->CatchUp().ok());
    EXPECT_EQ(Value(*runner, "c/s/1"), "2");
  }
  auto runner = OpenRunner(std::make_unique<StreamStats>(2, "count/"));
  EXPECT_EQ(*runner->Checkpoint("stream-stats"), 0);
  ASSERT_TRUE(runner->CatchUp().ok());
  EXPECT_EQ(Value(*runner, "count/s/1"), "2");
  EXPECT_EQ(Value(*runner, "c/s/1"), "<none>");  // Old layout is gone.
  EXPECT_EQ(Value(*runner, "total"), "12");
}

TEST_F(RunnerTest, ApplyErrorWritesNothingOfTheBatch) {
  OpenLog();
  AppendN(10, "a");
  auto p = std::make_unique<StreamStats>();
  StreamStats* raw = p.get();
  RunnerOptions options;
  options.batch_events = 4;
  auto runner = OpenRunner(std::move(p), options);
  raw->fail_at_ = 6;
  absl::Status st = runner->CatchUp();
  EXPECT_EQ(st.code(), absl::StatusCode::kInternal);
  EXPECT_NE(st.message().find("position 6"), absl::string_view::npos) << st;
  EXPECT_NE(st.message().find("stream-stats"), absl::string_view::npos) << st;
  EXPECT_EQ(*runner->Checkpoint("stream-stats"), 4);  // First batch only.
  EXPECT_EQ(Value(*runner, "total"), "4");
  raw->fail_at_ = -1;
  ASSERT_TRUE(runner->CatchUp().ok());
  EXPECT_EQ(Value(*runner, "total"), "10");
}

TEST_F(RunnerTest, WritingAReservedKeyIsAnInternalError) {
  OpenLog();
  AppendN(2, "a");
  auto p = std::make_unique<StreamStats>();
  p->write_reserved_ = true;
  auto runner = OpenRunner(std::move(p));
  EXPECT_EQ(runner->CatchUp().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(*runner->Checkpoint("stream-stats"), 0);
}

TEST_F(RunnerTest, CheckpointAheadOfTheLogIsRebuilt) {
  OpenLog();
  AppendN(5, "a");
  {
    auto runner = OpenRunner(std::make_unique<StreamStats>());
    ASSERT_TRUE(runner->CatchUp().ok());
  }
  // Pretend the derived data outlived a lost log suffix.
  auto cf =
      log_->GetOrCreateColumnFamily(ProjectionColumnFamily("stream-stats"));
  ASSERT_TRUE(cf.ok());
  ASSERT_TRUE(log_->db()
                  ->Put(rocksdb::WriteOptions(), *cf,
                        std::string("\0checkpoint", 11),
                        log_format::PositionValue(99))
                  .ok());
  auto runner = OpenRunner(std::make_unique<StreamStats>());
  EXPECT_EQ(*runner->Checkpoint("stream-stats"), 0);
  ASSERT_TRUE(runner->CatchUp().ok());
  EXPECT_EQ(Value(*runner, "total"), "5");
}

TEST_F(RunnerTest, FollowingFoldsLiveAppendsAndWaitForSeesThem) {
  OpenLog();
  auto runner = OpenRunner(std::make_unique<StreamStats>());
  runner->StartFollowing();
  std::vector<std::thread> writers;
  for (int w = 0; w < 3; ++w) {
    writers.emplace_back([&, w] { AppendN(200, absl::StrCat("w", w, "-")); });
  }
  for (auto& t : writers) t.join();
  ASSERT_TRUE(runner->WaitFor(600, absl::Seconds(60)).ok());
  EXPECT_EQ(Value(*runner, "total"), "600");
  EXPECT_EQ(runner->WaitFor(601, absl::Milliseconds(20)).code(),
            absl::StatusCode::kDeadlineExceeded);
  // An infinite timeout waits (it once overflowed into an instant timeout).
  std::thread late([&] { AppendN(1, "late"); });
  EXPECT_TRUE(runner->WaitFor(601, absl::InfiniteDuration()).ok());
  late.join();
  runner->StopFollowing();
  auto incremental = runner->Dump("stream-stats");
  ASSERT_TRUE(runner->Rebuild("stream-stats").ok());
  EXPECT_EQ(*incremental, *runner->Dump("stream-stats"));
}


TEST_F(RunnerTest, FollowerErrorIsReportedToWaiters) {
  OpenLog();
  auto p = std::make_unique<StreamStats>();
  p->fail_at_ = 3;
  auto runner = OpenRunner(std::move(p));
  runner->StartFollowing();
  AppendN(5, "a");
  absl::Status st = runner->WaitFor(5, absl::Seconds(60));
  EXPECT_EQ(st.code(), absl::StatusCode::kInternal) << st;
}

TEST_F(RunnerTest, DuplicateProjectionNamesAreRefused) {
  OpenLog();
  std::vector<std::unique_ptr<Projection>> ps;
  ps.push_back(std::make_unique<StreamStats>());
  ps.push_back(std::make_unique<StreamStats>());
  auto r = ProjectionRunner::Open(log_.get(), std::move(ps), {});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
}

// Reads the event's stream back through ProjectionState::ReadStream and
// stores what it saw: "<stream>" -> "<count> <ids of the last 2>". Fails if
// the read does not end at the event being folded.
class StreamReader final : public Projection {
 public:
  absl::string_view name() const override { return "stream-reader"; }
  int64_t version() const override { return 1; }
  absl::Status Apply(const Envelope& e, ProjectionState& state) override {
    int64_t n = 0;
    std::vector<std::string> ids;
    int64_t last_position = -1;
    absl::Status read = state.ReadStream(
        e.stream(), e.position(), [&](const Envelope& got) {
          if (got.position() <= last_position || got.stream() != e.stream()) {
            ids.push_back("OUT-OF-ORDER");
          }
          last_position = got.position();
          ++n;
          ids.push_back(got.event_id());
          return true;
        });
    if (!read.ok()) return read;
    if (ids.empty() || ids.back() != e.event_id() || n != e.version() + 1) {
      return absl::InternalError(absl::StrCat(
          "read of ", e.stream(), " through ", e.position(), " saw ", n,
          " events ending at ", ids.empty() ? "none" : ids.back()));
    }
    const size_t k = ids.size() >= 2 ? ids.size() - 2 : 0;
    state.Put(e.stream(), absl::StrCat(n, " ", ids[k], " ", ids.back()));
    // Stopping early stops the read.
    int64_t seen = 0;
    absl::Status first = state.ReadStream(e.stream(), e.position(),
                                          [&](const Envelope&) {
                                            ++seen;
                                            return false;
                                          });
    if (!first.ok()) return first;
    if (seen != 1) return absl::InternalError("ReadStream did not stop");
    return absl::OkStatus();
  }
};

TEST_F(RunnerTest, ReadStreamSeesTheStreamUpToTheEventBeingFolded) {
  OpenLog();
  // 7 streams of ~90 events, and one of 600 (more than a read page), all
  // appended before the fold, so the log holds events past every position.
  AppendN(630, "a");
  for (int i = 0; i < 600; ++i) {
    ASSERT_TRUE(log_->Append("long/1", ExpectedVersion::Any(),
                             {Event(absl::StrCat("l", i))})
                    .ok());
  }
  AppendN(70, "b");
  auto runner = OpenRunner(std::make_unique<StreamReader>());
  ASSERT_NE(runner, nullptr);
  ASSERT_TRUE(runner->CatchUp().ok());
  for (const auto& [key, want] :
       {std::pair<std::string, std::string>{"long/1", "600 l598 l599"},
        {"s/0", "100 b56 b63"}}) {
    auto got = runner->Get("stream-reader", key);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(got->value_or("<none>"), want);
  }

  // A MemoryState reads the same log to the same bytes.
  std::vector<Envelope> events;
  auto all = log_->ReadAll(0, 10000);
  ASSERT_TRUE(all.ok()) << all.status();
  StreamReader fresh;
  MemoryState memory(log_.get());
  ASSERT_TRUE(FoldInto(fresh, *all, memory).ok());
  auto stored = runner->Dump("stream-reader");
  ASSERT_TRUE(stored.ok()) << stored.status();
  std::map<std::string, std::string> user;
  for (const auto& [k, v] : *stored) {
    if (!k.empty() && k[0] != '\0') user[k] = v;
  }
  EXPECT_EQ(user, memory.data());

  // Without a log behind it, the read is refused with a reason.
  MemoryState no_log;
  absl::Status st = FoldInto(fresh, *all, no_log);
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition) << st;
  EXPECT_NE(st.message().find("s/0"), absl::string_view::npos) << st;
}

}  // namespace
}  // namespace slate

namespace slate {
namespace {

// Offered events (the log's committer hands them over) are folded from
// memory; what was not offered (a gap before them, or events offered out
// of order, which replace the earlier ones) is read from the log. Offered
// copies carry a marked event id here, so the state tells which was used.
TEST_F(RunnerTest, AFoldTakesOfferedEventsAndReadsTheRest) {
  OpenLog();
  AppendN(14, "e");  // s/0 .. s/6, twice.
  auto runner = OpenRunner(std::make_unique<StreamStats>());
  auto stored = log_->ReadAll(0, 100);
  ASSERT_TRUE(stored.ok());
  ASSERT_EQ(stored->size(), 14u);
  auto offer = [&](int from, int to) {
    std::vector<Envelope> events;
    for (int p = from; p < to; ++p) {
      Envelope e = (*stored)[static_cast<size_t>(p)];
      e.set_event_id(absl::StrCat("offered", p));
      events.push_back(std::move(e));
    }
    runner->Offer(events);
  };
  offer(2, 4);    // Replaced by the next offer (a gap between them).
  offer(9, 12);   // Position 7 and 8 and 12, 13 come from the log.
  ASSERT_TRUE(runner->CatchUp().ok());
  EXPECT_EQ(Value(*runner, "total"), "14");
  EXPECT_EQ(Value(*runner, "last/s/2"), "offered9");
  EXPECT_EQ(Value(*runner, "last/s/3"), "offered10");
  EXPECT_EQ(Value(*runner, "last/s/4"), "offered11");
  EXPECT_EQ(Value(*runner, "last/s/5"), "e12");
  EXPECT_EQ(Value(*runner, "last/s/1"), "e8");
  // Offered again after the fold: behind it, dropped.
  offer(0, 14);
  AppendN(1, "late");
  ASSERT_TRUE(runner->CatchUp().ok());
  EXPECT_EQ(Value(*runner, "total"), "15");
  EXPECT_EQ(Value(*runner, "last/s/0"), "late0");
}

}  // namespace
}  // namespace slate
