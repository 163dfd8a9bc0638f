// Limits of the event log (lib/api/options.h, lib/log/log_format.h), each
// tested at, just under and just over: the encoded size of one event, the
// length and characters of stream ids and event ids, the events of one
// append. Past a limit Append is kInvalidArgument naming the limit, and
// nothing is written (checked after every rejection and after a reopen).
// Every test prints how many bad inputs it tried (tests/RELIABILITY.md).
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/api/clock.h"
#include "lib/log/event_log.h"
#include "lib/log/log_format.h"
#include "tests/testing/temp_dir.h"

namespace slate {
namespace {

using ::testing::HasSubstr;

constexpr char kStream[] = "incident/INC1";

class LogLimitsTest : public ::testing::Test {
 protected:
  void Open(Options options = Options()) {
    options.clock = &clock_;
    options.durability = Durability::kProcessCrash;  // No fsync: fast.
    log_.reset();
    auto log = EventLog::Open(options, dir_.path());
    ASSERT_TRUE(log.ok()) << log.status();
    log_ = *std::move(log);
  }

  // An event whose stored size estimate (what ValidateEvents compares with
  // max_event_bytes: encoded size with the stream set, plus 33) is `bytes`.
  Envelope EventOfSize(const std::string& id, size_t bytes) {
    Envelope e;
    e.set_event_id(id);
    e.set_stream(kStream);
    e.set_occurred_at_us(absl::ToUnixMicros(clock_.Now()));
    auto* c = e.mutable_incident_commented();
    c->set_text("");
    size_t base = e.ByteSizeLong() + 33;
    // The length prefix grows with the text; settle by iterating.
    size_t text = bytes > base ? bytes - base : 0;
    for (int i = 0; i < 8; ++i) {
      c->set_text(std::string(text, 'x'));
      const size_t now = e.ByteSizeLong() + 33;
      if (now == bytes) break;
      text = now > bytes ? text - (now - bytes) : text + (bytes - now);
    }
    EXPECT_EQ(e.ByteSizeLong() + 33, bytes)
        << "cannot build an event of " << bytes << " bytes";
    return e;
  }

  // Expects a rejection with kInvalidArgument mentioning `needle`, and that
  // nothing was written.
  void ExpectRejected(const absl::StatusOr<AppendResult>& r,
                      const std::string& needle) {
    const int64_t before = log_->NextPosition();
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument)
        << r.status();
    EXPECT_THAT(std::string(r.status().message()), HasSubstr(needle));
    EXPECT_EQ(log_->NextPosition(), before);
    ++bad_inputs_;
  }

  void ExpectStoredAfterReopen(int64_t events) {
    Options options;
    Open(options);
    EXPECT_EQ(log_->NextPosition(), events);
    auto all = log_->ReadAll(0, 1 << 20);
    ASSERT_TRUE(all.ok()) << all.status();
    EXPECT_EQ(static_cast<int64_t>(all->size()), events);
  }

  SimulatedClock clock_{absl::FromUnixSeconds(1795000000)};
  testing::TempDir dir_;
  std::unique_ptr<EventLog> log_;
  int bad_inputs_ = 0;
};

TEST_F(LogLimitsTest, EventSizeAtUnderAndOverTheDefaultLimit) {
  Open();
  const size_t limit = Options().max_event_bytes;
  ASSERT_EQ(limit, size_t{1} << 20);  // The documented default: 1 MiB.
  ASSERT_TRUE(log_->Append(kStream, ExpectedVersion::Any(),
                           {EventOfSize("under", limit - 1)})
                  .ok());
  ASSERT_TRUE(
      log_->Append(kStream, ExpectedVersion::Any(), {EventOfSize("at", limit)})
          .ok());
  ExpectRejected(log_->Append(kStream, ExpectedVersion::Any(),
                              {EventOfSize("over", limit + 1)}),
                 absl::StrCat("the limit is ", limit));
  // A batch with one oversized event writes none of its events.
  ExpectRejected(log_->Append(kStream, ExpectedVersion::Any(),
                              {EventOfSize("ok-1", 100),
                               EventOfSize("over-2", limit + 1)}),
                 "event over-2");
  // Far over: 16 MiB.
  ExpectRejected(log_->Append(kStream, ExpectedVersion::Any(),
                              {EventOfSize("huge", 16 << 20)}),
                 "event huge");
  std::printf("bad inputs tried: event size: %d\n", bad_inputs_);
  ExpectStoredAfterReopen(2);
  auto read = log_->ReadStream(kStream, 0, 10);
  ASSERT_TRUE(read.ok());
  ASSERT_EQ(read->size(), 2u);
  EXPECT_EQ((*read)[1].incident_commented().text().size(),
            EventOfSize("at", limit).incident_commented().text().size());
}

TEST_F(LogLimitsTest, EventSizeConfiguredLimit) {
  Options options;
  options.max_event_bytes = 300;
  Open(options);
  EXPECT_TRUE(
      log_->Append(kStream, ExpectedVersion::Any(), {EventOfSize("a", 299)})
          .ok());
  EXPECT_TRUE(
      log_->Append(kStream, ExpectedVersion::Any(), {EventOfSize("b", 300)})
          .ok());
  ExpectRejected(
      log_->Append(kStream, ExpectedVersion::Any(), {EventOfSize("c", 301)}),
      "the limit is 300");
  std::printf("bad inputs tried: event size (configured): %d\n", bad_inputs_);
  ExpectStoredAfterReopen(2);
}

// Protobuf refuses to parse a string field that is not UTF-8, so such an
// event must be refused at Append (before: stored, then kDataLoss on every
// read past it). Nested and repeated fields too; valid multibyte text is
// stored and reads back.
TEST_F(LogLimitsTest, StringFieldsMustBeUtf8) {
  Open();
  Envelope good = EventOfSize("good", 100);
  good.mutable_incident_commented()->set_text("Caf\xc3\xa9 \xf0\x9f\x93\x9e");
  ASSERT_TRUE(log_->Append(kStream, ExpectedVersion::Any(), {good}).ok());
  for (const char* bad :
       {"\xff", "a\xc3", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80"}) {
    Envelope e = EventOfSize(absl::StrCat("bad", std::string(bad).size()), 100);
    e.mutable_incident_commented()->set_text(bad);
    ExpectRejected(log_->Append(kStream, ExpectedVersion::Any(), {e}),
                   "field incident_commented.text is not valid UTF-8");
  }
  Envelope nested = EventOfSize("nested", 100);
  nested.mutable_servicenow()->set_priority("3 - \xffModerate");
  ExpectRejected(log_->Append(kStream, ExpectedVersion::Any(), {nested}),
                 "field servicenow.priority is not valid UTF-8");
  Envelope repeated;
  repeated.set_event_id("repeated");
  repeated.set_occurred_at_us(absl::ToUnixMicros(clock_.Now()));
  repeated.mutable_change_requested()->set_change_id("CHG1");
  repeated.mutable_change_requested()->add_services("ok");
  repeated.mutable_change_requested()->add_services("\xfe");
  ExpectRejected(
      log_->Append("change/CHG1", ExpectedVersion::Any(), {repeated}),
      "field change_requested.services[1] is not valid UTF-8");
  // A batch with one bad event writes none of it.
  Envelope first = EventOfSize("first", 100);
  Envelope second = EventOfSize("second", 100);
  second.mutable_incident_commented()->set_text("\x80");
  ExpectRejected(log_->Append(kStream, ExpectedVersion::Any(), {first, second}),
                 "event second: field incident_commented.text");
  ExpectStoredAfterReopen(1);
  auto all = log_->ReadAll(0, 10);
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ((*all)[0].incident_commented().text(),
            "Caf\xc3\xa9 \xf0\x9f\x93\x9e");
}

TEST_F(LogLimitsTest, StreamIdLength) {
  Open();
  const size_t limit = log_format::kMaxStreamIdBytes;
  ASSERT_EQ(limit, 256u);
  auto event = [](const std::string& id) {
    Envelope e;
    e.set_event_id(id);
    e.mutable_incident_started();
    return e;
  };
  EXPECT_TRUE(log_->Append(std::string(limit - 1, 's'),
                           ExpectedVersion::NoStream(), {event("e1")})
                  .ok());
  EXPECT_TRUE(log_->Append(std::string(limit, 's'), ExpectedVersion::NoStream(),
                           {event("e2")})
                  .ok());
  ExpectRejected(log_->Append(std::string(limit + 1, 's'),
                              ExpectedVersion::NoStream(), {event("e3")}),
                 "the limit is 256");
  ExpectRejected(log_->Append("", ExpectedVersion::NoStream(), {event("e4")}),
                 "stream id is empty");
  // Reads validate the id the same way.
  EXPECT_EQ(log_->ReadStream(std::string(limit + 1, 's'), 0, 1).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(log_->StreamVersion(std::string(limit + 1, 's')).status().code(),
            absl::StatusCode::kInvalidArgument);
  auto v = log_->StreamVersion(std::string(limit, 's'));
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, 0);
  std::printf("bad inputs tried: stream id length: %d\n", bad_inputs_);
  ExpectStoredAfterReopen(2);
}

// Every byte value in every position class: the allowed set is exactly
// A-Z a-z 0-9 and -_.:/@+= (0x00 would break the key grammar).
TEST_F(LogLimitsTest, StreamIdCharacters) {
  Open();
  const std::string allowed =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
      "-_.:/@+=";
  int accepted = 0;
  int rejected = 0;
  for (int b = 0; b < 256; ++b) {
    const char c = static_cast<char>(b);
    const bool ok = allowed.find(c) != std::string::npos;
    for (const std::string& id :
         {std::string(1, c), absl::StrCat("incident/", std::string(1, c)),
          absl::StrCat(std::string(1, c), "/x")}) {
      const absl::Status s = log_format::ValidateStreamId(id);
      EXPECT_EQ(s.ok(), ok) << "byte " << b << ": " << s;
      if (!ok) {
        EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
        EXPECT_THAT(std::string(s.message()), HasSubstr("not allowed"));
      }
      (ok ? accepted : rejected)++;
    }
  }
  EXPECT_EQ(accepted, 3 * static_cast<int>(allowed.size()));
  // Through Append too, for the bytes that could confuse the key grammar.
  const std::string bad_ids[] = {std::string("a\0b", 3), "a b", "a\xff", "a\n",
                                 "\x7f"};
  for (const std::string& id : bad_ids) {
    Envelope e;
    e.set_event_id(absl::StrCat("bad-", bad_inputs_));
    e.mutable_incident_started();
    ExpectRejected(log_->Append(id, ExpectedVersion::Any(), {e}), "stream id");
  }
  std::printf("bad inputs tried: stream id characters: %d\n",
              rejected + bad_inputs_);
  ExpectStoredAfterReopen(0);
}

TEST_F(LogLimitsTest, EventIdLengthAndCharacters) {
  Open();
  const size_t limit = log_format::kMaxEventIdBytes;
  auto event = [](const std::string& id) {
    Envelope e;
    e.set_event_id(id);
    e.mutable_incident_started();
    return e;
  };
  EXPECT_TRUE(log_->Append("s/1", ExpectedVersion::Any(),
                           {event(std::string(limit - 1, 'a'))})
                  .ok());
  EXPECT_TRUE(log_->Append("s/1", ExpectedVersion::Any(),
                           {event(std::string(limit, 'b'))})
                  .ok());
  ExpectRejected(log_->Append("s/1", ExpectedVersion::Any(),
                              {event(std::string(limit + 1, 'c'))}),
                 "the limit is 256");
  ExpectRejected(log_->Append("s/1", ExpectedVersion::Any(), {event("")}),
                 "event_id is empty");
  int rejected = 0;
  for (int b = 0; b < 256; ++b) {
    const bool ok = b >= 0x21 && b <= 0x7e;
    const absl::Status s =
        log_format::ValidateEventId(absl::StrCat("id", std::string(1, b)));
    EXPECT_EQ(s.ok(), ok) << "byte " << b;
    rejected += !ok;
  }
  EXPECT_EQ(rejected, 256 - 94);
  std::printf("bad inputs tried: event id: %d\n", rejected + bad_inputs_);
  ExpectStoredAfterReopen(2);
}

TEST_F(LogLimitsTest, EventsPerAppendDefaultLimit) {
  Open();
  const size_t limit = Options().max_events_per_append;
  ASSERT_EQ(limit, 10000u);
  auto batch = [](const std::string& prefix, size_t n) {
    std::vector<Envelope> events(n);
    for (size_t i = 0; i < n; ++i) {
      events[i].set_event_id(absl::StrCat(prefix, i));
      events[i].mutable_incident_started();
    }
    return events;
  };
  auto under = log_->Append("s/under", ExpectedVersion::NoStream(),
                            batch("u", limit - 1));
  ASSERT_TRUE(under.ok()) << under.status();
  auto at =
      log_->Append("s/at", ExpectedVersion::NoStream(), batch("a", limit));
  ASSERT_TRUE(at.ok()) << at.status();
  EXPECT_EQ(at->last_version, static_cast<int64_t>(limit) - 1);
  ExpectRejected(log_->Append("s/over", ExpectedVersion::NoStream(),
                              batch("o", limit + 1)),
                 "the limit per append is 10000");
  ExpectRejected(log_->Append("s/none", ExpectedVersion::NoStream(), {}),
                 "no events");
  EXPECT_EQ(log_->StreamVersion("s/over").value_or(-2), -1);
  std::printf("bad inputs tried: events per append: %d\n", bad_inputs_);
  ExpectStoredAfterReopen(2 * static_cast<int64_t>(limit) - 1);
}

TEST_F(LogLimitsTest, ZeroLimitsAreRejectedAtOpen) {
  for (int which = 0; which < 3; ++which) {
    Options options;
    options.clock = &clock_;
    if (which == 0) options.max_events_per_append = 0;
    if (which == 1) options.max_event_bytes = 0;
    if (which == 2) options.max_group_commit_events = 0;
    auto log = EventLog::Open(options, dir_.Sub(absl::StrCat("z", which)));
    ASSERT_FALSE(log.ok());
    EXPECT_EQ(log.status().code(), absl::StatusCode::kInvalidArgument);
  }
  Options options;
  options.clock = &clock_;
  options.max_clock_skew = -absl::Seconds(1);
  EXPECT_EQ(EventLog::Open(options, dir_.Sub("skew")).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// Event times: negative, far past, far future, the skew bound exactly.
TEST_F(LogLimitsTest, OccurredAtFarPastAndFuture) {
  Open();
  const int64_t now_us = absl::ToUnixMicros(clock_.Now());
  const int64_t skew_us = absl::ToInt64Microseconds(Options().max_clock_skew);
  auto event = [](const std::string& id, int64_t at) {
    Envelope e;
    e.set_event_id(id);
    e.set_occurred_at_us(at);
    e.mutable_incident_started();
    return e;
  };
  EXPECT_TRUE(
      log_->Append("s/t", ExpectedVersion::Any(), {event("epoch+1", 1)}).ok());
  EXPECT_TRUE(log_->Append("s/t", ExpectedVersion::Any(),
                           {event("skew", now_us + skew_us)})
                  .ok());
  ExpectRejected(log_->Append("s/t", ExpectedVersion::Any(),
                              {event("skew+1", now_us + skew_us + 1)}),
                 "ahead of the engine clock");
  ExpectRejected(
      log_->Append("s/t", ExpectedVersion::Any(), {event("neg", -1)}),
      "negative");
  ExpectRejected(
      log_->Append("s/t", ExpectedVersion::Any(), {event("min", INT64_MIN)}),
      "negative");
  ExpectRejected(
      log_->Append("s/t", ExpectedVersion::Any(), {event("max", INT64_MAX)}),
      "ahead of the engine clock");
  std::printf("bad inputs tried: event times: %d\n", bad_inputs_);
  ExpectStoredAfterReopen(2);
}

}  // namespace
}  // namespace slate
