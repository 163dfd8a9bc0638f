#include "lib/import/csv_reader.h"

#include <zip.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace slate {
namespace {

class StringByteSource : public ByteSource {
 public:
  explicit StringByteSource(std::string text) : text_(std::move(text)) {}
  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    const size_t k = std::min(n, text_.size() - pos_);
    std::memcpy(buf, text_.data() + pos_, k);
    pos_ += k;
    return k;
  }
  int64_t TotalBytes() const override {
    return static_cast<int64_t>(text_.size());
  }
  std::string Name() const override { return "(string)"; }

 private:
  std::string text_;
  size_t pos_ = 0;
};

class FileByteSource : public ByteSource {
 public:
  FileByteSource(std::string path, FILE* f, int64_t size)
      : path_(std::move(path)), f_(f), size_(size) {}
  ~FileByteSource() override { std::fclose(f_); }
  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    const size_t k = std::fread(buf, 1, n, f_);
    if (k == 0 && std::ferror(f_)) {
      return absl::DataLossError(
          absl::StrCat(path_, ": read failed: ", std::strerror(errno)));
    }
    return k;
  }
  int64_t TotalBytes() const override { return size_; }
  std::string Name() const override { return path_; }

 private:
  std::string path_;
  FILE* f_;
  int64_t size_;
};

class ZipByteSource : public ByteSource {
 public:
  ZipByteSource(std::string name, zip_t* archive, zip_file_t* file,
                int64_t size)
      : name_(std::move(name)), archive_(archive), file_(file), size_(size) {}
  ~ZipByteSource() override {
    zip_fclose(file_);
    zip_discard(archive_);
  }
  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    zip_int64_t k = zip_fread(file_, buf, n);
    if (k < 0) {
      return absl::DataLossError(absl::StrCat(
          name_, ": decompression failed: ", zip_file_strerror(file_)));
    }
    return static_cast<size_t>(k);
  }
  int64_t TotalBytes() const override { return size_; }
  std::string Name() const override { return name_; }

 private:
  std::string name_;
  zip_t* archive_;
  zip_file_t* file_;
  int64_t size_;
};

}  // namespace

std::unique_ptr<ByteSource> StringSource(std::string text) {
  return std::make_unique<StringByteSource>(std::move(text));
}

absl::StatusOr<std::unique_ptr<ByteSource>> OpenFileSource(
    const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    const int err = errno;
    std::string msg = absl::StrCat(path, ": ", std::strerror(err));
    if (err == ENOENT) return absl::NotFoundError(msg);
    return absl::InvalidArgumentError(msg);
  }
  int64_t size = -1;
  if (std::fseek(f, 0, SEEK_END) == 0) {
    size = std::ftell(f);
    std::fseek(f, 0, SEEK_SET);
  }
  return std::make_unique<FileByteSource>(path, f, size);
}

absl::StatusOr<std::unique_ptr<ByteSource>> OpenZipCsvSource(
    const std::string& path) {
  int err = 0;
  zip_t* archive = zip_open(path.c_str(), ZIP_RDONLY, &err);
  if (archive == nullptr) {
    zip_error_t e;
    zip_error_init_with_code(&e, err);
    std::string msg = absl::StrCat(path, ": ", zip_error_strerror(&e));
    zip_error_fini(&e);
    if (err == ZIP_ER_NOENT) return absl::NotFoundError(msg);
    return absl::InvalidArgumentError(msg);
  }
  zip_int64_t found = -1;
  const zip_int64_t n = zip_get_num_entries(archive, 0);
  for (zip_int64_t i = 0; i < n; ++i) {
    const char* name = zip_get_name(archive, i, 0);
    if (name == nullptr) continue;
    std::string lower = absl::AsciiStrToLower(name);
    if (!absl::EndsWith(lower, ".csv")) continue;
    if (found >= 0) {
      zip_discard(archive);
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": holds several .csv entries; expected one"));
    }
    found = i;
  }
  if (found < 0) {
    zip_discard(archive);
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": holds no .csv entry"));
  }
  zip_stat_t st;
  zip_stat_init(&st);
  int64_t size = -1;
  if (zip_stat_index(archive, found, 0, &st) == 0 &&
      (st.valid & ZIP_STAT_SIZE)) {
    size = static_cast<int64_t>(st.size);
  }
  std::string entry = zip_get_name(archive, found, 0);
  zip_file_t* file = zip_fopen_index(archive, found, 0);
  if (file == nullptr) {
    std::string msg =
        absl::StrCat(path, ":", entry, ": ", zip_strerror(archive));
    zip_discard(archive);
    return absl::InvalidArgumentError(msg);
  }
  return std::make_unique<ZipByteSource>(absl::StrCat(path, ":", entry),
                                         archive, file, size);
}

absl::StatusOr<std::unique_ptr<ByteSource>> OpenImportSource(
    const std::string& path) {
  if (absl::EndsWith(absl::AsciiStrToLower(path), ".zip")) {
    return OpenZipCsvSource(path);
  }
  return OpenFileSource(path);
}

CsvReader::CsvReader(ByteSource* source, size_t buffer_bytes)
    : source_(source), buf_(buffer_bytes < 16 ? 16 : buffer_bytes) {}

absl::StatusOr<bool> CsvReader::Fill() {
  if (pos_ < end_) return true;
  if (eof_) return false;
  absl::StatusOr<size_t> n = source_->Read(buf_.data(), buf_.size());
  if (!n.ok()) return n.status();
  pos_ = 0;
  end_ = *n;
  bytes_read_ += static_cast<int64_t>(*n);
  if (*n == 0) {
    eof_ = true;
    return false;
  }
  return true;
}

absl::Status CsvReader::SkipLine() {
  while (true) {
    absl::StatusOr<bool> more = Fill();
    if (!more.ok()) return more.status();
    if (!*more) return absl::OkStatus();
    const char* start = buf_.data() + pos_;
    const void* nl = std::memchr(start, '\n', end_ - pos_);
    if (nl != nullptr) {
      pos_ += static_cast<const char*>(nl) - start + 1;
      ++line_;
      return absl::OkStatus();
    }
    pos_ = end_;
  }
}

absl::StatusOr<bool> CsvReader::Next(CsvRecord* record) {
  absl::StatusOr<bool> more = Fill();
  if (!more.ok()) return more.status();
  if (!*more) return false;
  record->line = line_;
  record->error.clear();
  size_t nfields = 0;
  auto new_field = [&]() -> std::string& {
    if (record->fields.size() <= nfields) record->fields.emplace_back();
    std::string& f = record->fields[nfields++];
    f.clear();
    return f;
  };
  auto finish = [&]() {
    record->fields.resize(nfields);
    return true;
  };
  auto malformed = [&](std::string what) -> absl::StatusOr<bool> {
    record->error = std::move(what);
    absl::Status s = SkipLine();
    if (!s.ok()) return s;
    return finish();
  };

  while (true) {
    std::string& field = new_field();
    more = Fill();
    if (!more.ok()) return more.status();
    if (!*more) return finish();  // Empty last field after a ','.
    if (buf_[pos_] == '"') {
      // Quoted field.
      const int64_t opened_at = line_;
      ++pos_;
      while (true) {
        more = Fill();
        if (!more.ok()) return more.status();
        if (!*more) {
          record->error = absl::StrCat("quoted field opened at line ",
                                       opened_at, " is not closed");
          return finish();
        }
        const char* start = buf_.data() + pos_;
        const size_t avail = end_ - pos_;
        const void* q = std::memchr(start, '"', avail);
        const size_t take =
            q == nullptr ? avail : static_cast<const char*>(q) - start;
        for (size_t i = 0; i < take; ++i) {
          if (start[i] == '\n') ++line_;
        }
        field.append(start, take);
        pos_ += take;
        if (q == nullptr) continue;
        ++pos_;  // The quote.
        more = Fill();
        if (!more.ok()) return more.status();
        if (!*more) return finish();
        const char c = buf_[pos_];
        if (c == '"') {
          field.push_back('"');
          ++pos_;
          continue;
        }
        if (c == ',') {
          ++pos_;
          break;  // Next field.
        }
        if (c == '\n') {
          ++pos_;
          ++line_;
          return finish();
        }
        if (c == '\r') {
          ++pos_;
          more = Fill();
          if (!more.ok()) return more.status();
          if (!*more) return finish();
          if (buf_[pos_] == '\n') {
            ++pos_;
            ++line_;
            return finish();
          }
        }
        return malformed(
            absl::StrCat("line ", line_, ": text after the closing quote"));
      }
      continue;
    }
    // Unquoted field: up to ',', LF, CRLF or the end.
    while (true) {
      more = Fill();
      if (!more.ok()) return more.status();
      if (!*more) return finish();
      const char* p = buf_.data() + pos_;
      const char* e = buf_.data() + end_;
      const char* s = p;
      while (p < e && *p != ',' && *p != '\n' && *p != '"' && *p != '\r') ++p;
      field.append(s, p - s);
      pos_ += p - s;
      if (p == e) continue;
      const char c = *p;
      ++pos_;
      if (c == ',') break;
      if (c == '\n') {
        ++line_;
        return finish();
      }
      if (c == '"') {
        return malformed(
            absl::StrCat("line ", line_, ": '\"' inside an unquoted field"));
      }
      // '\r': end of record if LF follows, else data.
      more = Fill();
      if (!more.ok()) return more.status();
      if (!*more) {
        field.push_back('\r');
        return finish();
      }
      if (buf_[pos_] == '\n') {
        ++pos_;
        ++line_;
        return finish();
      }
      field.push_back('\r');
    }
  }
}

}  // namespace slate
