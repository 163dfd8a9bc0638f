// Behaviour of the event log through the public Engine API (and EventLog for
// its test hooks): expected versions, idempotency, reads, format checks,
// corruption, durability modes.
#include "lib/log/event_log.h"

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "lib/api/engine.h"
#include "lib/log/log_format.h"
#include "rocksdb/db.h"
#include "tests/testing/temp_dir.h"

namespace slate {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1795000000);  // 2026-11-18

Envelope Opened(const std::string& id, const std::string& number) {
  Envelope e;
  e.set_event_id(id);
  e.set_occurred_at_us(absl::ToUnixMicros(kStart - absl::Hours(1)));
  e.mutable_incident_opened()->set_number(number);
  return e;
}

Envelope Comment(const std::string& id, const std::string& text) {
  Envelope e;
  e.set_event_id(id);
  e.set_occurred_at_us(absl::ToUnixMicros(kStart - absl::Minutes(30)));
  e.mutable_incident_commented()->set_text(text);
  return e;
}

// Opens a Slate database with plain RocksDB, as a tool or an attacker would,
// to damage it on purpose.
class RawDb {
 public:
  explicit RawDb(const std::string& path) {
    std::vector<std::string> names;
    rocksdb::Status s = rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(),
                                                        path, &names);
    EXPECT_TRUE(s.ok()) << s.ToString();
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
    for (const std::string& n : names) {
      cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
    }
    s = rocksdb::DB::Open(rocksdb::DBOptions(), path, cfs, &handles_, &db_);
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
  ~RawDb() {
    for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
    delete db_;
  }
  rocksdb::DB* operator->() { return db_; }

 private:
  rocksdb::DB* db_ = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
};

class EventLogTest : public ::testing::Test {
 protected:
  EventLogTest() : clock_(kStart) {
    options_.clock = &clock_;
    options_.durability = Durability::kProcessCrash;
  }
  std::unique_ptr<Engine> OpenEngine() {
    auto e = Engine::Open(options_, dir_.path());
    EXPECT_TRUE(e.ok()) << e.status();
    return e.ok() ? std::move(*e) : nullptr;
  }

  testing::TempDir dir_;
  SimulatedClock clock_;
  Options options_;
};

TEST_F(EventLogTest, AppendAssignsDensePositionsAndVersions) {
  auto engine = OpenEngine();
  auto r1 = engine->Append("incident/1", ExpectedVersion::NoStream(),
                           {Opened("a1", "1"), Comment("a2", "x")});
  ASSERT_TRUE(r1.ok()) << r1.status();
  EXPECT_EQ(r1->first_position, 0);
  EXPECT_EQ(r1->last_position, 1);
  EXPECT_EQ(r1->first_version, 0);
  EXPECT_EQ(r1->last_version, 1);
  EXPECT_FALSE(r1->idempotent_replay);
  auto r2 =
      engine->Append("incident/2", ExpectedVersion::Any(), {Opened("b1", "2")});
  ASSERT_TRUE(r2.ok()) << r2.status();
  EXPECT_EQ(r2->first_position, 2);
  EXPECT_EQ(r2->first_version, 0);
  auto r3 = engine->Append("incident/1", ExpectedVersion::Exact(1),
                           {Comment("a3", "y")});
  ASSERT_TRUE(r3.ok()) << r3.status();
  EXPECT_EQ(r3->first_position, 3);
  EXPECT_EQ(r3->first_version, 2);

  auto all = engine->ReadAll(0, 100);
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->size(), 4u);
  for (int i = 0; i < 4; ++i) EXPECT_EQ((*all)[i].position(), i);
  EXPECT_EQ((*all)[3].stream(), "incident/1");
  EXPECT_EQ((*all)[3].version(), 2);
  EXPECT_EQ((*all)[3].recorded_at_us(), absl::ToUnixMicros(kStart));
  EXPECT_EQ(engine->NextPosition(), 4);
  EXPECT_EQ(*engine->StreamVersion("incident/1"), 2);
  EXPECT_EQ(*engine->StreamVersion("incident/2"), 0);
  EXPECT_EQ(*engine->StreamVersion("incident/3"), -1);
}

TEST_F(EventLogTest, HasStreamWithPrefixSeesOnlyStreamsWithEvents) {
  auto engine = OpenEngine();
  auto create = [&](const std::string& stream, const std::string& id) {
    ASSERT_TRUE(engine
                    ->Append(stream, ExpectedVersion::NoStream(),
                             {Opened(id, stream.substr(stream.find('/') + 1))})
                    .ok());
  };
  EXPECT_FALSE(*engine->HasStreamWithPrefix(""));
  EXPECT_FALSE(*engine->HasStreamWithPrefix("incident/"));
  create("incidentx/9", "x1");
  create("change/4", "c1");
  EXPECT_TRUE(*engine->HasStreamWithPrefix(""));
  EXPECT_TRUE(*engine->HasStreamWithPrefix("change/"));
  // "incidentx/9" and the event keys must not count as "incident/".
  EXPECT_FALSE(*engine->HasStreamWithPrefix("incident/"));
  EXPECT_FALSE(*engine->HasStreamWithPrefix("problem/"));
  create("incident/1", "a1");
  EXPECT_TRUE(*engine->HasStreamWithPrefix("incident/"));
  EXPECT_TRUE(*engine->HasStreamWithPrefix("incident/1"));
  EXPECT_FALSE(*engine->HasStreamWithPrefix("incident/2"));
}

TEST_F(EventLogTest, ListStreamsNamesEachStreamOnceInOrder) {
  testing::TempDir dir;
  auto log = EventLog::Open(Options(), dir.path());
  ASSERT_TRUE(log.ok()) << log.status();
  auto add = [&](const std::string& stream, const std::string& id) {
    ASSERT_TRUE((*log)
                    ->Append(stream, ExpectedVersion::Any(),
                             {Opened(id, stream.substr(stream.rfind('/') + 1))})
                    .ok());
  };
  EXPECT_TRUE((*log)->ListStreams("")->empty());
  add("incident/2", "a");
  add("incident/10", "b");
  add("incident/2", "c");  // A second event: still one name.
  add("incidentx/1", "d");
  add("tenant/acme/incident/2", "e");
  add("change/1", "f");
  EXPECT_EQ(*(*log)->ListStreams("incident/"),
            (std::vector<std::string>{"incident/10", "incident/2"}));
  EXPECT_EQ(*(*log)->ListStreams("tenant/acme/"),
            (std::vector<std::string>{"tenant/acme/incident/2"}));
  EXPECT_EQ((*log)->ListStreams("")->size(), 5u);
  EXPECT_TRUE((*log)->ListStreams("problem/")->empty());
}

TEST_F(EventLogTest, WrongExpectedVersionIsAbortedAndWritesNothing) {
  auto engine = OpenEngine();
  ASSERT_TRUE(engine
                  ->Append("incident/1", ExpectedVersion::NoStream(),
                           {Opened("a1", "1")})
                  .ok());
  struct Case {
    std::string stream;
    ExpectedVersion ev;
  };
  const std::vector<Case> cases = {
      {"incident/1", ExpectedVersion::NoStream()},
      {"incident/1", ExpectedVersion::Exact(1)},
      {"incident/1", ExpectedVersion::Exact(5)},
      {"incident/9", ExpectedVersion::StreamExists()},
      {"incident/9", ExpectedVersion::Exact(0)},
  };
  int n = 0;
  for (const Case& c : cases) {
    auto r = engine->Append(c.stream, c.ev,
                            {Comment(absl::StrCat("c", n++), "never")});
    EXPECT_EQ(r.status().code(), absl::StatusCode::kAborted)
        << c.stream << " " << c.ev.ToString();
    EXPECT_NE(r.status().message().find(c.stream), absl::string_view::npos);
  }
  EXPECT_EQ(engine->NextPosition(), 1);
  EXPECT_EQ(engine->ReadAll(0, 100)->size(), 1u);
  // The ids of refused appends are free: nothing of them was stored.
  auto ok = engine->Append("incident/1", ExpectedVersion::StreamExists(),
                           {Comment("c0", "now")});
  EXPECT_TRUE(ok.ok()) << ok.status();
}

TEST_F(EventLogTest, ExpectedVersionAnyAndStreamExistsSucceed) {
  auto engine = OpenEngine();
  EXPECT_TRUE(
      engine->Append("s/1", ExpectedVersion::Any(), {Opened("1", "1")}).ok());
  EXPECT_TRUE(
      engine
          ->Append("s/1", ExpectedVersion::StreamExists(), {Comment("2", "x")})
          .ok());
  EXPECT_TRUE(
      engine->Append("s/1", ExpectedVersion::Any(), {Comment("3", "y")}).ok());
  EXPECT_EQ(*engine->StreamVersion("s/1"), 2);
  EXPECT_EQ(
      engine->Append("s/1", ExpectedVersion::Exact(-1), {Comment("4", "")})
          .status()
          .code(),
      absl::StatusCode::kInvalidArgument);
}

TEST_F(EventLogTest, IdenticalRetryReturnsOriginalPositions) {
  auto engine = OpenEngine();
  ASSERT_TRUE(
      engine->Append("s/0", ExpectedVersion::Any(), {Opened("z", "0")}).ok());
  std::vector<Envelope> batch = {Opened("o1", "1"), Comment("o2", "x")};
  auto first = engine->Append("incident/1", ExpectedVersion::NoStream(), batch);
  ASSERT_TRUE(first.ok());
  clock_.Advance(absl::Minutes(3));
  // Same events, even with an expected version that would now fail.
  auto again = engine->Append("incident/1", ExpectedVersion::NoStream(), batch);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->idempotent_replay);
  EXPECT_EQ(again->first_position, first->first_position);
  EXPECT_EQ(again->last_position, first->last_position);
  EXPECT_EQ(again->first_version, 0);
  EXPECT_EQ(again->last_version, 1);
  EXPECT_EQ(engine->NextPosition(), 3);
  EXPECT_EQ(engine->Stats().appends, 2);
}

TEST_F(EventLogTest, RetryWithDefaultedOccurredAtIsStillIdentical) {
  auto engine = OpenEngine();
  Envelope e = Comment("c1", "hello");
  e.clear_occurred_at_us();  // The log fills in recorded_at.
  ASSERT_TRUE(engine->Append("s/1", ExpectedVersion::Any(), {e}).ok());
  clock_.Advance(absl::Seconds(10));
  auto again = engine->Append("s/1", ExpectedVersion::Any(), {e});
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->idempotent_replay);
  auto stored = engine->ReadStream("s/1", 0, 10);
  ASSERT_EQ(stored->size(), 1u);
  EXPECT_EQ((*stored)[0].occurred_at_us(), absl::ToUnixMicros(kStart));
}

TEST_F(EventLogTest, SameIdOtherContentIsAlreadyExists) {
  auto engine = OpenEngine();
  ASSERT_TRUE(engine
                  ->Append("incident/1", ExpectedVersion::Any(),
                           {Comment("dup", "first")})
                  .ok());
  auto r = engine->Append("incident/1", ExpectedVersion::Any(),
                          {Comment("dup", "second")});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_NE(r.status().message().find("dup"), absl::string_view::npos);
  // Same content on another stream is other content too.
  auto other = engine->Append("incident/2", ExpectedVersion::Any(),
                              {Comment("dup", "first")});
  EXPECT_EQ(other.status().code(), absl::StatusCode::kAlreadyExists);
  // A batch mixing a stored id with new ones is refused whole.
  auto mixed = engine->Append("incident/1", ExpectedVersion::Any(),
                              {Comment("dup", "first"), Comment("new", "n")});
  EXPECT_EQ(mixed.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(engine->NextPosition(), 1);
}

TEST_F(EventLogTest, BadInputIsInvalidArgumentNamingTheField) {
  auto engine = OpenEngine();
  auto expect_invalid = [&](absl::string_view stream,
                            std::vector<Envelope> events,
                            absl::string_view needle) {
    auto r = engine->Append(stream, ExpectedVersion::Any(), std::move(events));
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument)
        << r.status();
    EXPECT_NE(r.status().message().find(needle), absl::string_view::npos)
        << r.status() << " should mention " << needle;
  };
  expect_invalid("s/1", {}, "no events");
  expect_invalid("bad stream", {Comment("a", "")}, "stream id");
  expect_invalid("s/1", {Comment("", "")}, "event_id");
  expect_invalid("s/1", {Comment("x", ""), Comment("x", "")}, "twice");
  Envelope wrong_stream = Comment("w", "");
  wrong_stream.set_stream("s/2");
  expect_invalid("s/1", {wrong_stream}, "field stream");
  Envelope future = Comment("f", "");
  future.set_occurred_at_us(
      absl::ToUnixMicros(kStart + absl::Minutes(5) + absl::Microseconds(1)));
  expect_invalid("s/1", {future}, "occurred_at_us");
  Envelope negative = Comment("n", "");
  negative.set_occurred_at_us(-5);
  expect_invalid("s/1", {negative}, "negative");
  Envelope big = Comment("big", std::string(options_.max_event_bytes, 'x'));
  expect_invalid("s/1", {big}, "limit");
  EXPECT_EQ(engine->NextPosition(), 0);

  // Exactly at the skew limit is still accepted.
  Envelope edge = Comment("edge", "");
  edge.set_occurred_at_us(absl::ToUnixMicros(kStart + absl::Minutes(5)));
  EXPECT_TRUE(engine->Append("s/1", ExpectedVersion::Any(), {edge}).ok());
}

TEST_F(EventLogTest, EventsPerAppendLimitAtUnderAndOver) {
  options_.max_events_per_append = 5;
  auto engine = OpenEngine();
  auto batch = [](int n, const std::string& prefix) {
    std::vector<Envelope> v;
    for (int i = 0; i < n; ++i)
      v.push_back(Comment(absl::StrCat(prefix, i), ""));
    return v;
  };
  EXPECT_TRUE(
      engine->Append("s/1", ExpectedVersion::Any(), batch(4, "a")).ok());
  EXPECT_TRUE(
      engine->Append("s/1", ExpectedVersion::Any(), batch(5, "b")).ok());
  EXPECT_EQ(engine->Append("s/1", ExpectedVersion::Any(), batch(6, "c"))
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(EventLogTest, ReadsAreBoundedAndStartWhereAsked) {
  auto engine = OpenEngine();
  for (int i = 0; i < 30; ++i) {
    std::string stream = i % 3 == 0 ? "incident/a" : "incident/b";
    ASSERT_TRUE(engine
                    ->Append(stream, ExpectedVersion::Any(),
                             {Comment(absl::StrCat("e", i), "")})
                    .ok());
  }
  auto a = engine->ReadStream("incident/a", 3, 4);
  ASSERT_TRUE(a.ok());
  ASSERT_EQ(a->size(), 4u);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ((*a)[i].version(), 3 + i);
    EXPECT_EQ((*a)[i].stream(), "incident/a");
    EXPECT_EQ((*a)[i].position(), 3 * (3 + i));
  }
  EXPECT_EQ(engine->ReadStream("incident/a", 8, 100)->size(), 2u);
  EXPECT_TRUE(engine->ReadStream("incident/a", 10, 100)->empty());
  EXPECT_TRUE(engine->ReadStream("incident/none", 0, 100)->empty());
  auto all = engine->ReadAll(25, 3);
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].position(), 25);
  EXPECT_EQ(engine->ReadAll(28, 100)->size(), 2u);
  EXPECT_TRUE(engine->ReadAll(30, 100)->empty());
  EXPECT_EQ(engine->ReadAll(-1, 1).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(EventLogTest, ReopenKeepsEventsAndContinuesPositions) {
  {
    auto engine = OpenEngine();
    ASSERT_TRUE(engine
                    ->Append("s/1", ExpectedVersion::NoStream(),
                             {Opened("a", "1"), Comment("b", "")})
                    .ok());
  }
  auto engine = OpenEngine();
  EXPECT_EQ(engine->NextPosition(), 2);
  EXPECT_EQ(*engine->StreamVersion("s/1"), 1);
  auto r = engine->Append("s/1", ExpectedVersion::Exact(1), {Comment("c", "")});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->first_position, 2);
  // Idempotency survives the restart too.
  auto again = engine->Append("s/1", ExpectedVersion::NoStream(),
                              {Opened("a", "1"), Comment("b", "")});
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->idempotent_replay);
}

TEST_F(EventLogTest, UnknownFieldsSurviveTheRoundTrip) {
  auto engine = OpenEngine();
  Envelope e = Comment("u", "text");
  // Field 9999 of the envelope, varint 7: what a newer Slate might write.
  e.GetReflection()->MutableUnknownFields(&e)->AddVarint(9999, 7);
  ASSERT_TRUE(engine->Append("s/1", ExpectedVersion::Any(), {e}).ok());
  auto back = engine->ReadAll(0, 1);
  ASSERT_EQ(back->size(), 1u);
  const auto& unknown =
      (*back)[0].GetReflection()->GetUnknownFields((*back)[0]);
  ASSERT_EQ(unknown.field_count(), 1);
  EXPECT_EQ(unknown.field(0).number(), 9999);
  EXPECT_EQ(unknown.field(0).varint(), 7u);
}

TEST_F(EventLogTest, RecordedAtNeverGoesBackwards) {
  auto engine = OpenEngine();
  ASSERT_TRUE(
      engine->Append("s/1", ExpectedVersion::Any(), {Comment("1", "")}).ok());
  clock_.Set(kStart - absl::Hours(2));  // Someone set the clock back.
  Envelope e = Comment("2", "");
  e.set_occurred_at_us(absl::ToUnixMicros(kStart - absl::Hours(3)));
  ASSERT_TRUE(engine->Append("s/1", ExpectedVersion::Any(), {e}).ok());
  auto all = engine->ReadAll(0, 10);
  ASSERT_EQ(all->size(), 2u);
  EXPECT_GE((*all)[1].recorded_at_us(), (*all)[0].recorded_at_us());
}

TEST_F(EventLogTest, DirectoryThatIsNotSlateIsFailedPrecondition) {
  {
    std::ofstream(dir_.Sub("notes.txt")) << "hello";
    auto e = Engine::Open(options_, dir_.path());
    EXPECT_EQ(e.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_NE(e.status().message().find("not a Slate database"),
              absl::string_view::npos)
        << e.status();
  }
  {
    // A plain RocksDB database with someone else's keys.
    std::string other = dir_.Sub("rocks");
    rocksdb::Options ro;
    ro.create_if_missing = true;
    rocksdb::DB* db = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(ro, other, &db).ok());
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), "user:1", "x").ok());
    delete db;
    auto e = Engine::Open(options_, other);
    EXPECT_EQ(e.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_NE(e.status().message().find("not a Slate database"),
              absl::string_view::npos)
        << e.status();
  }
  {
    auto e = Engine::Open(options_, dir_.Sub("notes.txt"));
    EXPECT_EQ(e.status().code(), absl::StatusCode::kFailedPrecondition);
  }
  {
    Options no_create = options_;
    no_create.create_if_missing = false;
    auto e = Engine::Open(no_create, dir_.Sub("absent"));
    EXPECT_EQ(e.status().code(), absl::StatusCode::kNotFound);
  }
}

TEST_F(EventLogTest, InterruptedCreationOpensAsANewDatabase) {
  // A process killed while creating the database leaves the creation marker
  // and some RocksDB files (here: a WAL but no CURRENT, which RocksDB alone
  // refuses to open); nothing was ever acknowledged from it.
  std::ofstream(dir_.Sub(log_format::kCreatingMarker)) << "";
  std::ofstream(dir_.Sub("LOCK")) << "";
  std::ofstream(dir_.Sub("LOG")) << "partial";
  std::ofstream(dir_.Sub("000003.log")) << "";
  auto engine = OpenEngine();
  ASSERT_NE(engine, nullptr);
  EXPECT_EQ(engine->NextPosition(), 0);
  EXPECT_TRUE(
      engine->Append("s/1", ExpectedVersion::NoStream(), {Comment("a", "")})
          .ok());
  EXPECT_FALSE(std::filesystem::exists(dir_.Sub(log_format::kCreatingMarker)));
}

TEST_F(EventLogTest, RocksDbFilesWithoutCurrentOrMarkerAreNotOurs) {
  std::ofstream(dir_.Sub("LOCK")) << "";
  std::ofstream(dir_.Sub("000003.log")) << "";
  auto e = Engine::Open(options_, dir_.path());
  EXPECT_EQ(e.status().code(), absl::StatusCode::kFailedPrecondition)
      << e.status();
  EXPECT_TRUE(std::filesystem::exists(dir_.Sub("000003.log")));
}

TEST_F(EventLogTest, NewerFormatVersionIsFailedPrecondition) {
  { OpenEngine(); }
  {
    RawDb db(dir_.path());
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(),
                        log_format::MetaKey(log_format::kFormatVersionName),
                        absl::StrCat(log_format::kFormatVersion + 1))
                    .ok());
  }
  auto e = Engine::Open(options_, dir_.path());
  EXPECT_EQ(e.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(e.status().message().find("newer Slate"), absl::string_view::npos)
      << e.status();
}

TEST_F(EventLogTest, UndecodableRecordIsDataLossNamingItsPosition) {
  {
    auto engine = OpenEngine();
    for (int i = 0; i < 5; ++i) {
      ASSERT_TRUE(engine
                      ->Append("s/1", ExpectedVersion::Any(),
                               {Comment(absl::StrCat("e", i), "ok")})
                      .ok());
    }
  }
  {
    RawDb db(dir_.path());
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), log_format::EventKey(3),
                        std::string("\xff\xff\xff\xff garbage", 12))
                    .ok());
  }
  auto engine = OpenEngine();
  auto all = engine->ReadAll(0, 100);
  EXPECT_EQ(all.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(all.status().message().find("position 3"), absl::string_view::npos)
      << all.status();
  auto stream = engine->ReadStream("s/1", 0, 100);
  EXPECT_EQ(stream.status().code(), absl::StatusCode::kDataLoss);
  // Events before the damage are still readable.
  EXPECT_EQ(engine->ReadAll(0, 3)->size(), 3u);
  // A retry of the damaged event cannot be judged: data loss, not a crash.
  auto retry =
      engine->Append("s/1", ExpectedVersion::Any(), {Comment("e3", "ok")});
  EXPECT_EQ(retry.status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(EventLogTest, ReadAllOnAnArenaGivesTheSameEventsAndErrors) {
  {
    auto log = EventLog::Open(options_, dir_.path());
    ASSERT_TRUE(log.ok()) << log.status();
    for (int i = 0; i < 6; ++i) {
      ASSERT_TRUE((*log)
                      ->Append(absl::StrCat("s/", i % 2), ExpectedVersion::Any(),
                               {Comment(absl::StrCat("e", i), "text"),
                                Comment(absl::StrCat("f", i), "more")})
                      .ok());
    }
    auto plain = (*log)->ReadAll(3, 5);
    ASSERT_TRUE(plain.ok()) << plain.status();
    google::protobuf::Arena arena;
    std::vector<const Envelope*> out = {nullptr};  // Cleared first.
    ASSERT_TRUE((*log)->ReadAll(3, 5, &arena, &out).ok());
    ASSERT_EQ(out.size(), plain->size());
    ASSERT_EQ(out.size(), 5u);
    for (size_t i = 0; i < out.size(); ++i) {
      EXPECT_EQ(out[i]->GetArena(), &arena);
      EXPECT_EQ(out[i]->SerializeAsString(), (*plain)[i].SerializeAsString());
    }
    ASSERT_TRUE((*log)->ReadAll(12, 5, &arena, &out).ok());
    EXPECT_TRUE(out.empty());
    EXPECT_EQ((*log)->ReadAll(-1, 5, &arena, &out).code(),
              absl::StatusCode::kInvalidArgument);
  }
  {
    RawDb db(dir_.path());
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), log_format::EventKey(7),
                        std::string("\xff\xff\xff\xff garbage", 12))
                    .ok());
  }
  auto log = EventLog::Open(options_, dir_.path());
  ASSERT_TRUE(log.ok()) << log.status();
  google::protobuf::Arena arena;
  std::vector<const Envelope*> out;
  absl::Status st = (*log)->ReadAll(4, 100, &arena, &out);
  EXPECT_EQ(st.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(st.message().find("position 7"), absl::string_view::npos) << st;
  EXPECT_EQ(out.size(), 3u);  // The events before the damage.
}

TEST_F(EventLogTest, MemtableBudgetDefaultsByDurabilityAndHonoursAValue) {
  struct Case {
    Durability durability;
    size_t memtable_bytes;
    size_t want;
  };
  const Case cases[] = {
      {Durability::kProcessCrash, 0, size_t{128} << 20},
      {Durability::kPowerLoss, 0, size_t{128} << 20},
      {Durability::kBulkImport, 0, size_t{32} << 20},
      {Durability::kBulkImport, size_t{200} << 20, size_t{200} << 20},
      {Durability::kProcessCrash, size_t{16} << 20, size_t{16} << 20},
  };
  for (const Case& c : cases) {
    testing::TempDir dir;
    Options o = options_;
    o.durability = c.durability;
    o.memtable_bytes = c.memtable_bytes;
    auto log = EventLog::Open(o, dir.path());
    ASSERT_TRUE(log.ok()) << log.status();
    EXPECT_EQ((*log)->db()->GetDBOptions().db_write_buffer_size, c.want)
        << DurabilityName(c.durability) << " " << c.memtable_bytes;
  }
}

TEST_F(EventLogTest, MissingPositionIsDataLoss) {
  {
    auto engine = OpenEngine();
    for (int i = 0; i < 4; ++i) {
      ASSERT_TRUE(engine
                      ->Append("s/1", ExpectedVersion::Any(),
                               {Comment(absl::StrCat("e", i), "")})
                      .ok());
    }
  }
  {
    RawDb db(dir_.path());
    ASSERT_TRUE(
        db->Delete(rocksdb::WriteOptions(), log_format::EventKey(1)).ok());
  }
  auto engine = OpenEngine();
  auto all = engine->ReadAll(0, 100);
  EXPECT_EQ(all.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(all.status().message().find("position 1"), absl::string_view::npos)
      << all.status();
}

TEST_F(EventLogTest, BulkImportIsDurableAfterFlushAndClose) {
  options_.durability = Durability::kBulkImport;
  {
    auto engine = OpenEngine();
    for (int i = 0; i < 100; ++i) {
      ASSERT_TRUE(engine
                      ->Append(absl::StrCat("incident/", i % 7),
                               ExpectedVersion::Any(),
                               {Comment(absl::StrCat("b", i), "bulk")})
                      .ok());
    }
    EXPECT_EQ(engine->Stats().syncs, 0);
  }
  options_.durability = Durability::kPowerLoss;
  auto engine = OpenEngine();
  EXPECT_EQ(engine->NextPosition(), 100);
  EXPECT_EQ(engine->ReadAll(0, 1000)->size(), 100u);
}

TEST_F(EventLogTest, PowerLossModeSyncsEveryGroup) {
  options_.durability = Durability::kPowerLoss;
  auto engine = OpenEngine();
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(engine
                    ->Append("s/1", ExpectedVersion::Any(),
                             {Comment(absl::StrCat("p", i), "")})
                    .ok());
  }
  EXPECT_EQ(engine->Stats().syncs, 5);
  EXPECT_EQ(engine->Stats().write_batches, 5);
}

}  // namespace
}  // namespace slate
