// Key grammar of the KPI projection's column family ("p.kpi").
//
//   std::string k = slate::kpi::CellKey(absl::CivilDay(2026, 11, 27), dims);
//   absl::CivilDay day; slate::KpiDims d;
//   bool ok = slate::kpi::ParseCellKey(k, &day, &d);
//
// Keys (values are lib/projection/kpi.proto messages, deterministically
// serialized):
//   "r/" stream                         -> KpiRecord  (one per incident/change)
//   "c/" day "/" dims                   -> KpiCell    (one per local day and
//                                                      dimension tuple)
//   "o/" lp(service) stream             -> KpiOutage  (priority-1 intervals)
//   "s/" service                        -> KpiService (availability target,
//                                                      support calendar id)
//   "k/" calendar id                    -> CalendarSpec (proto/calendar.proto,
//                                                      as CalendarDefined
//                                                      gave it)
//   "ts/" lp(tenant) service            -> KpiService of a tenant other than
//                                          the default one
//   "tk/" lp(tenant) calendar id        -> CalendarSpec of such a tenant
// where day = "YYYY-MM-DD" (the civil day in the projection's zone; sorts
// by time for years 0000..9999), dims = lp(service) varint(priority)
// lp(group) lp(category) lp(contact_type) [lp(tenant)], lp(s) = varint(size)
// s. The tenant is present only for a tenant other than the default one
// (lib/api/tenant.h), so a single-tenant log keeps the keys it always had;
// a stream (records, outages) names its tenant itself. Cells sort by day
// first: a scan of "c/" up to a day reads everything a backlog at that day
// needs.
#ifndef SLATE_LIB_PROJECTION_KPI_FORMAT_H_
#define SLATE_LIB_PROJECTION_KPI_FORMAT_H_

#include <cstdint>
#include <string>
#include <tuple>

#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"

namespace slate {

// The dimensions a KPI is sliced by. Changes carry only `service` (their
// first listed service); unset text is "" and unset priority 0. `tenant`:
// in stored cells the record's tenant, "" for the default tenant; in a
// query's rows (kpi_query.h) the tenant's id ("default" included) when the
// query groups by tenant, else "".
struct KpiDims {
  std::string tenant;
  std::string service;
  int32_t priority = 0;
  std::string group;
  std::string category;
  std::string contact_type;

  auto Tie() const {
    return std::tie(tenant, service, priority, group, category,
                    contact_type);
  }
  friend bool operator<(const KpiDims& a, const KpiDims& b) {
    return a.Tie() < b.Tie();
  }
  friend bool operator==(const KpiDims& a, const KpiDims& b) {
    return a.Tie() == b.Tie();
  }
  friend bool operator!=(const KpiDims& a, const KpiDims& b) {
    return !(a == b);
  }
};

// KpiDims as views (the projection's interned texts), for building keys
// without copying them.
struct KpiDimsView {
  absl::string_view tenant;
  absl::string_view service;
  int32_t priority = 0;
  absl::string_view group;
  absl::string_view category;
  absl::string_view contact_type;
};

namespace kpi {

inline constexpr absl::string_view kRecordPrefix = "r/";
inline constexpr absl::string_view kCellPrefix = "c/";
inline constexpr absl::string_view kOutagePrefix = "o/";
inline constexpr absl::string_view kServicePrefix = "s/";
inline constexpr absl::string_view kCalendarPrefix = "k/";
inline constexpr absl::string_view kTenantServicePrefix = "ts/";
inline constexpr absl::string_view kTenantCalendarPrefix = "tk/";

std::string DayText(absl::CivilDay day);
std::string RecordKey(absl::string_view stream);
std::string CellKey(absl::CivilDay day, const KpiDims& dims);
std::string CellKey(absl::CivilDay day, const KpiDimsView& dims);
// "c/" day "/": the prefix of one day's cells.
std::string CellDayPrefix(absl::CivilDay day);
// False when `key` is not a well-formed cell key.
bool ParseCellKey(absl::string_view key, absl::CivilDay* day, KpiDims* dims);
std::string OutageKey(absl::string_view service, absl::string_view stream);
bool ParseOutageKey(absl::string_view key, std::string* service,
                    std::string* stream);
// The keys of a service and a calendar of `tenant` ("" or "default": the
// default tenant's "s/" and "k/" keys, else "ts/" and "tk/").
std::string ServiceKey(absl::string_view service,
                       absl::string_view tenant = "");
std::string CalendarKey(absl::string_view calendar_id,
                        absl::string_view tenant = "");
// Splits a "ts/" or "tk/" key after its prefix into tenant and id; false
// when malformed.
bool ParseTenantConfigKey(absl::string_view key_after_prefix,
                          std::string* tenant, std::string* id);

// Protobuf wire encoding by hand, for the values the projection writes on
// every flush (KpiMeasures::EncodeTo, the records): a varint; a field's
// tag; a varint field; a length-delimited field (bytes or an embedded
// message's bytes).
void PutVarint(std::string* out, uint64_t v);
void PutTag(std::string* out, int field, int wire_type);
void PutVarintField(std::string* out, int field, uint64_t v);
void PutBytesField(std::string* out, int field, absl::string_view bytes);

}  // namespace kpi
}  // namespace slate

#endif  // SLATE_LIB_PROJECTION_KPI_FORMAT_H_
