#include "lib/log/log_verify.h"

#include <memory>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "lib/log/log_format.h"
#include "lib/log/rocks_access.h"

namespace slate {
namespace {

struct StreamFacts {
  int64_t next_version = 0;  // From the events, in position order.
  int64_t indexed = 0;       // Versions covered by index runs so far.
};

}  // namespace

absl::Status VerifyLog(const EventLog& log, VerifyReport* report) {
  rocksdb::DB* db = log.db();
  absl::flat_hash_map<std::string, StreamFacts> streams;
  absl::flat_hash_map<std::string, int64_t> ids;  // id -> position

  // 1. Events: dense positions, decodable, per-stream versions dense.
  int64_t expect = 0;
  {
    const std::string end(1, log_format::kEventPrefix + 1);
    rocksdb::Slice upper(end);
    rocksdb::ReadOptions ro;
    ro.iterate_upper_bound = &upper;
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro));
    for (it->Seek(log_format::EventKey(0)); it->Valid(); it->Next()) {
      int64_t p = 0;
      if (!log_format::DecodeEventKey(RocksView(it->key()), &p)) {
        report->Problem(absl::StrCat("malformed event key \"",
                                     absl::CEscape(RocksView(it->key())),
                                     "\" after position ", expect - 1));
        continue;
      }
      if (p != expect) {
        report->Problem(
            absl::StrCat("positions ", expect, "..", p - 1, " are missing"));
      }
      expect = p + 1;
      Envelope e;
      absl::string_view bytes = RocksView(it->value());
      if (!e.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())) ||
          e.position() != p) {
        report->Problem(absl::StrCat("event at position ", p,
                                     " is undecodable or names another "
                                     "position"));
        continue;
      }
      StreamFacts& s = streams[e.stream()];
      if (e.version() != s.next_version) {
        report->Problem(absl::StrCat("stream ", e.stream(), ": position ", p,
                                     " has version ", e.version(),
                                     ", expected ", s.next_version));
      }
      s.next_version = e.version() + 1;
      auto [id_it, inserted] = ids.emplace(e.event_id(), p);
      if (!inserted) {
        report->Problem(absl::StrCat("event id ", e.event_id(),
                                     " appears at positions ", id_it->second,
                                     " and ", p));
      }
    }
    if (!it->status().ok()) return FromRocks(it->status(), "verify events");
  }
  if (expect != log.NextPosition()) {
    report->Problem(absl::StrCat("the log holds positions up to ", expect - 1,
                                 " but the engine expects ",
                                 log.NextPosition() - 1));
  }
  report->checked.push_back(
      absl::StrCat("log: ", expect, " events at positions 0..", expect - 1,
                   ", dense, each decodes with its own position; ",
                   streams.size(), " streams with dense versions"));

  // 2. Stream index: runs tile each stream and point at the right events.
  int64_t runs = 0;
  {
    const std::string start(1, log_format::kStreamPrefix);
    const std::string end(1, log_format::kStreamPrefix + 1);
    rocksdb::Slice upper(end);
    rocksdb::ReadOptions ro;
    ro.iterate_upper_bound = &upper;
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro));
    for (it->Seek(start); it->Valid(); it->Next()) {
      ++runs;
      absl::string_view stream;
      int64_t first_version = 0, first_position = 0, count = 0;
      if (!log_format::DecodeStreamKey(RocksView(it->key()), &stream,
                                       &first_version) ||
          !log_format::DecodeStreamRunValue(RocksView(it->value()),
                                            &first_position, &count)) {
        report->Problem(absl::StrCat("malformed stream index entry \"",
                                     absl::CEscape(RocksView(it->key())),
                                     "\""));
        continue;
      }
      const std::string name(stream);
      auto s = streams.find(name);
      if (s == streams.end()) {
        report->Problem(
            absl::StrCat("stream index names ", name, ", which has no events"));
        continue;
      }
      if (first_version != s->second.indexed) {
        report->Problem(absl::StrCat("stream ", name, ": index run starts at ",
                                     "version ", first_version, ", expected ",
                                     s->second.indexed));
      }
      s->second.indexed = first_version + count;
      for (int64_t i = 0; i < count; ++i) {
        std::string bytes;
        rocksdb::Status st =
            db->Get(rocksdb::ReadOptions(),
                    log_format::EventKey(first_position + i), &bytes);
        Envelope e;
        if (!st.ok() || !e.ParseFromString(bytes) || e.stream() != name ||
            e.version() != first_version + i) {
          report->Problem(
              absl::StrCat("stream ", name, " version ", first_version + i,
                           ": index points at position ", first_position + i,
                           ", which does not hold it"));
          break;
        }
      }
    }
    if (!it->status().ok()) return FromRocks(it->status(), "verify streams");
  }
  for (const auto& [name, s] : streams) {
    if (s.indexed != s.next_version) {
      report->Problem(absl::StrCat("stream ", name, ": index covers ",
                                   s.indexed, " versions, the log holds ",
                                   s.next_version));
    }
  }
  report->checked.push_back(
      absl::StrCat("stream index: ", runs,
                   " runs tile every stream's versions and point "
                   "at the right events"));

  // 3. Id index: exactly the stored ids, each at its event.
  int64_t indexed_ids = 0;
  {
    // The id index's hash memtable only iterates in total order when asked.
    rocksdb::ReadOptions ro;
    ro.total_order_seek = true;
    std::unique_ptr<rocksdb::Iterator> it(
        db->NewIterator(ro, log.ids_column_family()));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      ++indexed_ids;
      absl::string_view key = RocksView(it->key());
      int64_t p = 0;
      if (key.empty() || key[0] != log_format::kIdPrefix ||
          !log_format::DecodePositionValue(RocksView(it->value()), &p)) {
        report->Problem(absl::StrCat("malformed id index entry \"",
                                     absl::CEscape(key), "\""));
        continue;
      }
      const std::string id(key.substr(1));
      auto found = ids.find(id);
      if (found == ids.end()) {
        report->Problem(
            absl::StrCat("id index names ", id, ", which no event carries"));
      } else if (found->second != p) {
        report->Problem(absl::StrCat("id index maps ", id, " to position ", p,
                                     "; the event is at ", found->second));
      }
    }
    if (!it->status().ok()) return FromRocks(it->status(), "verify ids");
  }
  if (indexed_ids != static_cast<int64_t>(ids.size())) {
    report->Problem(absl::StrCat("id index holds ", indexed_ids,
                                 " ids; the log holds ", ids.size()));
  }
  report->checked.push_back(absl::StrCat(
      "id index: ", indexed_ids, " event ids, unique, each maps to its event"));
  return absl::OkStatus();
}

}  // namespace slate
