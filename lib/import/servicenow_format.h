// The ServiceNow incident export format (the columns of the UCI "incident
// management process enriched event log"): header lookup, one row as typed
// values, and the parsers for its timestamps and "2 - Medium" levels.
//
//   auto columns = slate::ServiceNowColumns::FromHeader(header_fields);
//   slate::ServiceNowRow row;
//   absl::Status s = columns->Parse(fields, tz, &row);  // kInvalidArgument
//   absl::StatusOr<absl::Time> t =
//       slate::ParseServiceNowTime("29/2/2016 01:16", absl::UTCTimeZone());
//
// Missing values are written "?" in the export; here they are empty strings
// (and 0 for levels, absl::InfinitePast() for times).
#ifndef SLATE_LIB_IMPORT_SERVICENOW_FORMAT_H_
#define SLATE_LIB_IMPORT_SERVICENOW_FORMAT_H_

#include <array>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace slate {

// "D/M/YYYY HH:MM" (day and month with or without a leading zero, 24-hour
// clock, no seconds) as a civil time in `tz`. A local time that a DST change
// skips or repeats resolves as absl::FromCivil does (a repeated time: its
// first occurrence). kInvalidArgument for anything else, e.g.
// "31/2/2016 10:00".
absl::StatusOr<absl::Time> ParseServiceNowTime(absl::string_view text,
                                               absl::TimeZone tz);

// "2 - Medium" -> 2. kInvalidArgument unless the text is a number 1..99,
// optionally followed by " - " and a name.
absl::StatusOr<int> ParseServiceNowLevel(absl::string_view text);

// incident_state values and what they mean to the domain.
enum class ServiceNowState {
  kNew,
  kActive,
  kAwaitingUserInfo,
  kAwaitingVendor,
  kAwaitingProblem,
  kAwaitingEvidence,
  kResolved,
  kClosed,
};
// kInvalidArgument for an unknown state such as "-100".
absl::StatusOr<ServiceNowState> ParseServiceNowState(absl::string_view text);

// One export row, typed. Strings are as written, "?" turned into "".
struct ServiceNowRow {
  int64_t line = 0;  // 1-based line of the input where the row starts.
  std::string number;
  std::string state_text;
  ServiceNowState state = ServiceNowState::kNew;
  bool active = false;
  int reassignment_count = 0;
  int reopen_count = 0;
  int sys_mod_count = 0;
  bool made_sla = false;
  std::string caller;
  std::string opened_by;
  absl::Time opened_at = absl::InfinitePast();  // InfinitePast: missing.
  std::string updated_by;
  absl::Time updated_at;  // sys_updated_at: the event time.
  std::string contact_type;
  std::string location;
  std::string category;
  std::string subcategory;
  std::string symptom;
  std::string configuration_item;
  int impact = 0;
  int urgency = 0;
  std::string priority_text;
  int priority = 0;
  std::string assignment_group;
  std::string assigned_to;
  bool knowledge = false;
  bool priority_confirmation = false;
  std::string notify;
  std::string problem_id;
  std::string rfc;
  std::string vendor;
  std::string caused_by;
  std::string closed_code;
  std::string resolved_by;
  // A hash of every field as written (the row's content); event ids derive
  // from it.
  uint64_t content_hash = 0;
};

// Why a row could not be parsed: a short category for the summary
// ("unknown state", "bad timestamp", ...) and the full message.
struct RowError {
  std::string reason;
  std::string detail;
};

// Where each column the importer reads sits in a row.
class ServiceNowColumns {
 public:
  // Finds the columns by name in the header. kInvalidArgument naming the
  // missing columns if any is absent.
  static absl::StatusOr<ServiceNowColumns> FromHeader(
      const std::vector<std::string>& header);

  // Parses `fields` into *row (line excluded). On failure returns false and
  // fills *error; *row is then partly filled (number is set when present).
  bool Parse(const std::vector<std::string>& fields, absl::TimeZone tz,
             ServiceNowRow* row, RowError* error) const;

  size_t header_size() const { return header_size_; }

 private:
  enum Col {
    kNumber,
    kIncidentState,
    kActive,
    kReassignmentCount,
    kReopenCount,
    kSysModCount,
    kMadeSla,
    kCallerId,
    kOpenedBy,
    kOpenedAt,
    kSysUpdatedBy,
    kSysUpdatedAt,
    kContactType,
    kLocation,
    kCategory,
    kSubcategory,
    kSymptom,
    kCmdbCi,
    kImpact,
    kUrgency,
    kPriority,
    kAssignmentGroup,
    kAssignedTo,
    kKnowledge,
    kPriorityConfirmation,
    kNotify,
    kProblemId,
    kRfc,
    kVendor,
    kCausedBy,
    kClosedCode,
    kResolvedBy,
    kNumCols,
  };
  static const char* const kNames[kNumCols];
  std::array<size_t, kNumCols> index_{};
  size_t header_size_ = 0;
};

}  // namespace slate

#endif  // SLATE_LIB_IMPORT_SERVICENOW_FORMAT_H_
