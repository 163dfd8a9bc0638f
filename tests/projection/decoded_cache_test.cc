// DecodedCache: entries dropped over the bound are reused, never seen again
// with their old values, and a failed decode leaves nothing behind.
#include "lib/projection/decoded_cache.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "lib/projection/memory_state.h"

namespace slate {
namespace {

// A value with a Clear() member: the cache clears it for reuse.
struct Clearable {
  std::string text;
  std::vector<int> numbers;
  int clears = 0;  // Survives Clear: shows the entry was reused.
  void Clear() {
    text.clear();
    numbers.clear();
    ++clears;
  }
};

// Without Clear(): the cache assigns a fresh value.
struct Plain {
  std::string text;
  int n = 0;
};

template <typename T>
absl::Status DecodeText(absl::string_view bytes, T* v) {
  if (bytes == "bad") return absl::DataLossError("bad bytes");
  v->text = std::string(bytes);
  return absl::OkStatus();
}

template <typename T>
absl::Status FlushInto(DecodedCache<T>& cache, MemoryState& state) {
  return cache.Flush([&](const std::string& key, const T& v, bool present) {
    if (present) {
      state.Put(key, v.text);
    } else {
      state.Delete(key);
    }
    return absl::OkStatus();
  });
}

TEST(DecodedCacheTest, EntriesOverTheBoundAreReusedClearedForNewKeys) {
  MemoryState state;
  DecodedCache<Clearable> cache(/*max_entries=*/4);
  for (int i = 0; i < 6; ++i) {
    auto* e = cache.Insert(absl::StrCat("k", i));
    e->value.text = absl::StrCat("value of k", i);
    e->value.numbers = {i, i, i};
    cache.MarkWritten(e);
  }
  ASSERT_TRUE(FlushInto(cache, state).ok());
  EXPECT_EQ(cache.size(), 2u);           // Over the bound: all but the two
  EXPECT_EQ(cache.spare_entries(), 4u);  // used last dropped, kept for reuse.
  EXPECT_EQ(state.data().size(), 6u);
  EXPECT_EQ(cache.Peek("k1"), nullptr);
  EXPECT_NE(cache.Peek("k5"), nullptr);

  // A key the state does not hold: absent and empty, on a reused entry.
  auto* fresh = cache.Insert("new");
  EXPECT_FALSE(fresh->present);
  EXPECT_FALSE(fresh->dirty);
  EXPECT_EQ(*fresh->key, "new");
  EXPECT_TRUE(fresh->value.text.empty());
  EXPECT_TRUE(fresh->value.numbers.empty());
  EXPECT_EQ(fresh->value.clears, 1);
  EXPECT_EQ(cache.spare_entries(), 3u);

  // An old key loads its stored bytes, not the reused entry's old value.
  auto loaded = cache.Load(state, "k3", DecodeText<Clearable>);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_TRUE((*loaded)->present);
  EXPECT_EQ((*loaded)->value.text, "value of k3");
  EXPECT_TRUE((*loaded)->value.numbers.empty());
  EXPECT_EQ(cache.Peek("k3"), *loaded);
  EXPECT_EQ(cache.Insert("k3"), *loaded);  // Cached: not a second entry.
  EXPECT_EQ(cache.size(), 4u);
  EXPECT_EQ(cache.spare_entries(), 2u);
}

// Over the bound, a Flush keeps the max_entries / 2 entries that Peek, Load
// or Insert returned last and drops the others; at or under the bound it
// drops nothing. Nothing written is lost either way.
TEST(DecodedCacheTest, OverTheBoundTheEntriesUsedLastStay) {
  MemoryState state;
  DecodedCache<Clearable> cache(/*max_entries=*/4);
  auto write = [&](const std::string& key) {
    auto* e = cache.Insert(key);
    e->value.text = absl::StrCat("value of ", key);
    cache.MarkWritten(e);
  };
  for (const char* key : {"a", "b", "c", "d"}) write(key);
  ASSERT_TRUE(FlushInto(cache, state).ok());
  EXPECT_EQ(cache.size(), 4u);  // At the bound: nothing dropped.
  EXPECT_FALSE(cache.over_bound());

  // Next batch: "b" is read back (Peek), "c" loaded, "e" written new.
  ASSERT_NE(cache.Peek("b"), nullptr);
  auto c = cache.Load(state, "c", DecodeText<Clearable>);
  ASSERT_TRUE(c.ok()) << c.status();
  write("e");
  EXPECT_TRUE(cache.over_bound());
  ASSERT_TRUE(FlushInto(cache, state).ok());
  EXPECT_FALSE(cache.over_bound());
  EXPECT_EQ(cache.size(), 2u);  // e and c, used last.
  EXPECT_EQ(cache.spare_entries(), 3u);
  EXPECT_EQ(cache.Peek("a"), nullptr);
  EXPECT_EQ(cache.Peek("b"), nullptr);
  EXPECT_EQ(cache.Peek("d"), nullptr);
  ASSERT_NE(cache.Peek("c"), nullptr);
  EXPECT_EQ(cache.Peek("c")->value.text, "value of c");
  EXPECT_EQ(cache.Peek("c")->value.clears, 0);  // Never dropped.
  ASSERT_NE(cache.Peek("e"), nullptr);
  EXPECT_EQ(cache.Peek("e")->value.text, "value of e");

  for (const char* key : {"f", "g"}) write(key);
  ASSERT_TRUE(FlushInto(cache, state).ok());
  EXPECT_EQ(cache.size(), 4u);

  // Five more keys against a bound of four: the two written last stay.
  for (const char* key : {"h", "i", "j", "k", "l"}) write(key);
  ASSERT_TRUE(FlushInto(cache, state).ok());
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_NE(cache.Peek("k"), nullptr);
  EXPECT_NE(cache.Peek("l"), nullptr);
  EXPECT_EQ(state.data().size(), 12u);  // Nothing lost on the way.
  auto d = cache.Load(state, "d", DecodeText<Clearable>);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ((*d)->value.text, "value of d");
}

TEST(DecodedCacheTest, ValuesWithoutClearStartFromAFreshValue) {
  MemoryState state;
  DecodedCache<Plain> cache(/*max_entries=*/1);
  for (int i = 0; i < 3; ++i) {
    auto* e = cache.Insert(absl::StrCat("k", i));
    e->value = {absl::StrCat("v", i), i + 10};
    cache.MarkWritten(e);
  }
  ASSERT_TRUE(FlushInto(cache, state).ok());
  ASSERT_EQ(cache.spare_entries(), 3u);
  for (int i = 0; i < 3; ++i) {
    auto* e = cache.Insert(absl::StrCat("n", i));
    EXPECT_TRUE(e->value.text.empty());
    EXPECT_EQ(e->value.n, 0);
    EXPECT_FALSE(e->present);
  }
  EXPECT_EQ(cache.spare_entries(), 0u);
}

TEST(DecodedCacheTest, AFailedDecodeLeavesNoEntry) {
  MemoryState state;
  state.Put("broken", "bad");
  state.Put("fine", "ok");
  DecodedCache<Clearable> cache(/*max_entries=*/1);
  // Once on a new entry, once on a reused one.
  for (int round = 0; round < 2; ++round) {
    SCOPED_TRACE(round);
    auto bad = cache.Load(state, "broken", DecodeText<Clearable>);
    EXPECT_EQ(bad.status().code(), absl::StatusCode::kDataLoss);
    EXPECT_EQ(cache.Peek("broken"), nullptr);
    auto ok = cache.Load(state, "fine", DecodeText<Clearable>);
    ASSERT_TRUE(ok.ok()) << ok.status();
    EXPECT_EQ((*ok)->value.text, "ok");
    cache.MarkWritten(*ok);
    auto other = cache.Insert("other");
    cache.MarkWritten(other);
    ASSERT_TRUE(FlushInto(cache, state).ok());  // Over the bound: recycled.
    EXPECT_EQ(cache.size(), 0u);
  }
  // Clear forgets unwritten changes too, and keeps the entries for reuse.
  auto* e = cache.Insert("unwritten");
  cache.MarkWritten(e);
  cache.Clear();
  EXPECT_FALSE(cache.has_dirty());
  EXPECT_EQ(cache.Peek("unwritten"), nullptr);
  EXPECT_GT(cache.spare_entries(), 0u);
  EXPECT_EQ(state.data().count("unwritten"), 0u);
}

}  // namespace
}  // namespace slate
