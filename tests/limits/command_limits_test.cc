// Command size limit (kMaxCommandBytes): at, just under and just over, with
// nothing appended past it.
#include <string>

#include "gtest/gtest.h"
#include "lib/domain/event_store.h"
#include "lib/domain/executor.h"

namespace slate {
namespace {

// A comment command whose encoded size is exactly `bytes` (or the closest
// reachable size above it); returns the command.
Command CommentOfSize(size_t bytes, const std::string& id) {
  Command c;
  c.set_command_id(id);
  auto* m = c.mutable_comment_incident();
  m->set_incident_id("INC1");
  m->set_at("2026-11-20T10:00:00Z");
  // Grow the text until the encoding reaches `bytes` (varint lengths make
  // the size step by one byte at a time except at length boundaries).
  std::string text;
  m->set_text(text);
  while (c.ByteSizeLong() < bytes) {
    text.append(std::max<size_t>(1, (bytes - c.ByteSizeLong()) / 2), 'x');
    m->set_text(text);
  }
  while (c.ByteSizeLong() > bytes && !text.empty()) {
    text.pop_back();
    m->set_text(text);
  }
  return c;
}

TEST(CommandLimits, EncodedSizeAtUnderAndOver) {
  InMemoryEventStore store;
  SimulatedClock clock(absl::FromUnixSeconds(1795000000));
  CommandExecutor exec(&store, &clock);
  Command open;
  open.set_command_id("open");
  open.mutable_open_incident()->set_incident_id("INC1");
  open.mutable_open_incident()->set_at("2026-11-20T09:00:00Z");
  open.mutable_open_incident()->set_impact(2);
  open.mutable_open_incident()->set_urgency(2);
  auto opened = exec.Execute(open);
  ASSERT_TRUE(opened.ok()) << opened.status();

  Command under = CommentOfSize(kMaxCommandBytes - 1, "under");
  ASSERT_EQ(under.ByteSizeLong(), kMaxCommandBytes - 1);
  EXPECT_TRUE(exec.Execute(under).ok());
  Command at = CommentOfSize(kMaxCommandBytes, "at");
  ASSERT_EQ(at.ByteSizeLong(), kMaxCommandBytes);
  EXPECT_TRUE(exec.Execute(at).ok());

  auto before = store.ReadStream("incident/INC1", 0, 1000);
  ASSERT_TRUE(before.ok());
  Command over = CommentOfSize(kMaxCommandBytes + 1, "over");
  ASSERT_EQ(over.ByteSizeLong(), kMaxCommandBytes + 1);
  absl::StatusOr<ExecuteResult> r = exec.Execute(over);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("the limit is"), absl::string_view::npos)
      << r.status();
  auto after = store.ReadStream("incident/INC1", 0, 1000);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->size(), before->size());  // Nothing appended.
}

}  // namespace
}  // namespace slate
