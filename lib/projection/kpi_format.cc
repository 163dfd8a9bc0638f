#include "lib/projection/kpi_format.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "lib/api/tenant.h"

namespace slate::kpi {

void PutVarint(std::string* out, uint64_t v) {
  char buf[10];
  size_t n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  out->append(buf, n);
}

void PutTag(std::string* out, int field, int wire_type) {
  PutVarint(out, (static_cast<uint64_t>(field) << 3) |
                     static_cast<uint64_t>(wire_type));
}

void PutVarintField(std::string* out, int field, uint64_t v) {
  PutTag(out, field, 0);
  PutVarint(out, v);
}

void PutBytesField(std::string* out, int field, absl::string_view bytes) {
  PutTag(out, field, 2);
  PutVarint(out, bytes.size());
  out->append(bytes.data(), bytes.size());
}

namespace {

bool GetVarint(absl::string_view* in, uint64_t* v) {
  uint64_t result = 0;
  for (int shift = 0; shift <= 63 && !in->empty(); shift += 7) {
    const auto byte = static_cast<unsigned char>((*in)[0]);
    in->remove_prefix(1);
    result |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      *v = result;
      return true;
    }
  }
  return false;
}

void PutText(std::string* out, absl::string_view s) {
  PutVarint(out, s.size());
  out->append(s.data(), s.size());
}

bool GetText(absl::string_view* in, std::string* s) {
  uint64_t n = 0;
  if (!GetVarint(in, &n) || n > in->size()) return false;
  s->assign(in->data(), n);
  in->remove_prefix(n);
  return true;
}

}  // namespace

namespace {

// Appends "YYYY-MM-DD" (what "%04d-%02d-%02d" prints) for years 0..9999
// without a format parser (a cell key is built for every cell a flush
// writes); other years through StrFormat.
void AppendDayText(std::string* out, absl::CivilDay day) {
  const int64_t y = day.year();
  if (y < 0 || y > 9999) {
    absl::StrAppendFormat(out, "%04d-%02d-%02d", y, day.month(), day.day());
    return;
  }
  const int m = day.month();
  const int d = day.day();
  const char text[10] = {static_cast<char>('0' + y / 1000),
                         static_cast<char>('0' + y / 100 % 10),
                         static_cast<char>('0' + y / 10 % 10),
                         static_cast<char>('0' + y % 10),
                         '-',
                         static_cast<char>('0' + m / 10),
                         static_cast<char>('0' + m % 10),
                         '-',
                         static_cast<char>('0' + d / 10),
                         static_cast<char>('0' + d % 10)};
  out->append(text, sizeof(text));
}

}  // namespace

std::string DayText(absl::CivilDay day) {
  std::string out;
  AppendDayText(&out, day);
  return out;
}

std::string RecordKey(absl::string_view stream) {
  return absl::StrCat(kRecordPrefix, stream);
}

std::string CellDayPrefix(absl::CivilDay day) {
  std::string key(kCellPrefix);
  AppendDayText(&key, day);
  key.push_back('/');
  return key;
}

std::string CellKey(absl::CivilDay day, const KpiDims& dims) {
  return CellKey(day, KpiDimsView{dims.tenant, dims.service, dims.priority,
                                  dims.group, dims.category,
                                  dims.contact_type});
}

std::string CellKey(absl::CivilDay day, const KpiDimsView& dims) {
  std::string key;
  key.reserve(kCellPrefix.size() + 11 + 10 + dims.service.size() +
              dims.group.size() + dims.category.size() +
              dims.contact_type.size() + dims.tenant.size());
  key.append(kCellPrefix.data(), kCellPrefix.size());
  AppendDayText(&key, day);
  key.push_back('/');
  PutText(&key, dims.service);
  PutVarint(&key, static_cast<uint32_t>(dims.priority));
  PutText(&key, dims.group);
  PutText(&key, dims.category);
  PutText(&key, dims.contact_type);
  if (!dims.tenant.empty()) PutText(&key, dims.tenant);
  return key;
}

bool ParseCellKey(absl::string_view key, absl::CivilDay* day, KpiDims* dims) {
  if (key.size() < kCellPrefix.size() + 11 ||
      key.substr(0, kCellPrefix.size()) != kCellPrefix) {
    return false;
  }
  key.remove_prefix(kCellPrefix.size());
  int y = 0;
  int m = 0;
  int d = 0;
  if (key[4] != '-' || key[7] != '-' || key[10] != '/' ||
      !absl::SimpleAtoi(key.substr(0, 4), &y) ||
      !absl::SimpleAtoi(key.substr(5, 2), &m) ||
      !absl::SimpleAtoi(key.substr(8, 2), &d)) {
    return false;
  }
  *day = absl::CivilDay(y, m, d);
  key.remove_prefix(11);
  uint64_t priority = 0;
  if (!GetText(&key, &dims->service) || !GetVarint(&key, &priority) ||
      !GetText(&key, &dims->group) || !GetText(&key, &dims->category) ||
      !GetText(&key, &dims->contact_type)) {
    return false;
  }
  dims->tenant.clear();
  if (!key.empty() &&
      (!GetText(&key, &dims->tenant) || dims->tenant.empty() ||
       !key.empty())) {
    return false;
  }
  dims->priority = static_cast<int32_t>(static_cast<uint32_t>(priority));
  return true;
}

std::string OutageKey(absl::string_view service, absl::string_view stream) {
  std::string key(kOutagePrefix);
  PutText(&key, service);
  key.append(stream.data(), stream.size());
  return key;
}

bool ParseOutageKey(absl::string_view key, std::string* service,
                    std::string* stream) {
  if (key.substr(0, kOutagePrefix.size()) != kOutagePrefix) return false;
  key.remove_prefix(kOutagePrefix.size());
  if (!GetText(&key, service)) return false;
  stream->assign(key.data(), key.size());
  return true;
}

namespace {

bool IsDefaultTenant(absl::string_view tenant) {
  return tenant.empty() || tenant == kDefaultTenant;
}

std::string TenantConfigKey(absl::string_view prefix, absl::string_view tenant,
                            absl::string_view id) {
  std::string key(prefix);
  PutText(&key, tenant);
  key.append(id.data(), id.size());
  return key;
}

}  // namespace

std::string ServiceKey(absl::string_view service, absl::string_view tenant) {
  if (IsDefaultTenant(tenant)) return absl::StrCat(kServicePrefix, service);
  return TenantConfigKey(kTenantServicePrefix, tenant, service);
}

std::string CalendarKey(absl::string_view calendar_id,
                        absl::string_view tenant) {
  if (IsDefaultTenant(tenant)) return absl::StrCat(kCalendarPrefix, calendar_id);
  return TenantConfigKey(kTenantCalendarPrefix, tenant, calendar_id);
}

bool ParseTenantConfigKey(absl::string_view key, std::string* tenant,
                          std::string* id) {
  if (!GetText(&key, tenant) || tenant->empty()) return false;
  id->assign(key.data(), key.size());
  return true;
}

}  // namespace slate::kpi
