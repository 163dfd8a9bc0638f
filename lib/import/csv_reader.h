// Streaming input for imports: byte sources (a file, a .zip entry, a string)
// and an RFC 4180 CSV reader over them that never holds more than one record
// and one read buffer in memory.
//
//   absl::StatusOr<std::unique_ptr<slate::ByteSource>> in =
//       slate::OpenImportSource("incident_event_log.zip");  // or a .csv
//   slate::CsvReader csv(in->get());
//   slate::CsvRecord r;
//   while (true) {
//     absl::StatusOr<bool> more = csv.Next(&r);
//     if (!more.ok()) return more.status();  // I/O error
//     if (!*more) break;                     // end of input
//     if (!r.error.empty()) { /* malformed record at r.line */ continue; }
//     use(r.fields);
//   }
//
// The CSV dialect (RFC 4180, read leniently where the RFC allows):
//  - fields are separated by ',' and records end at LF or CRLF (a CR not
//    followed by LF is data); a final record need not end with a newline;
//  - a field that starts with '"' is quoted: it may hold ',', CR and LF, and
//    '""' stands for one '"'; after its closing quote comes ',', the end of
//    the record or the end of the input;
//  - a '"' inside an unquoted field, text after a closing quote, and a
//    quoted field still open at the end of input make the record malformed:
//    Next returns it with `error` set (fields as far as read) and the reader
//    continues at the next line (for an unterminated quote: at the end).
#ifndef SLATE_LIB_IMPORT_CSV_READER_H_
#define SLATE_LIB_IMPORT_CSV_READER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace slate {

// A sequential stream of bytes.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Reads up to `n` bytes into `buf`; 0 means end of input. kDataLoss or
  // kInternal on a read error, naming the source.
  virtual absl::StatusOr<size_t> Read(char* buf, size_t n) = 0;
  // Total bytes the source will deliver, or -1 when unknown.
  virtual int64_t TotalBytes() const = 0;
  // What the source is, for messages ("incident_event_log.zip:x.csv").
  virtual std::string Name() const = 0;
};

// The bytes of `text` (copied).
std::unique_ptr<ByteSource> StringSource(std::string text);

// A plain file. kNotFound if it does not exist; kInvalidArgument otherwise
// unreadable.
absl::StatusOr<std::unique_ptr<ByteSource>> OpenFileSource(
    const std::string& path);

// The one entry ending in ".csv" (case-insensitive) of a .zip archive,
// decompressed while it is read. kInvalidArgument when the archive is not a
// zip or holds no such entry, or several.
absl::StatusOr<std::unique_ptr<ByteSource>> OpenZipCsvSource(
    const std::string& path);

// A ".zip" path (case-insensitive) through OpenZipCsvSource, anything else
// through OpenFileSource.
absl::StatusOr<std::unique_ptr<ByteSource>> OpenImportSource(
    const std::string& path);

struct CsvRecord {
  std::vector<std::string> fields;
  // 1-based line of the input where the record starts.
  int64_t line = 0;
  // Empty for a well-formed record; otherwise what is wrong with it.
  std::string error;
};

class CsvReader {
 public:
  // `source` is not owned and must outlive the reader.
  explicit CsvReader(ByteSource* source, size_t buffer_bytes = 1 << 20);

  // The next record into *record (its vectors are reused). false at the end
  // of input. A non-OK status is a read error of the source; malformed
  // records are not errors (see the dialect above).
  absl::StatusOr<bool> Next(CsvRecord* record);

  // Bytes consumed from the source so far.
  int64_t BytesRead() const { return bytes_read_; }

 private:
  // Makes at least one byte available at pos_; false at end of input.
  absl::StatusOr<bool> Fill();
  // Skips to just after the next LF (or to the end).
  absl::Status SkipLine();

  ByteSource* source_;
  std::vector<char> buf_;
  size_t pos_ = 0;
  size_t end_ = 0;
  bool eof_ = false;
  int64_t bytes_read_ = 0;
  int64_t line_ = 1;  // Line of the byte at pos_.
};

}  // namespace slate

#endif  // SLATE_LIB_IMPORT_CSV_READER_H_
