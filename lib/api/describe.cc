#include "lib/api/describe.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"

namespace slate {
namespace {

// Appends `key=value` when value is non-empty; quotes values with spaces.
void Field(std::vector<std::string>* out, const char* key,
           const std::string& value) {
  if (value.empty()) return;
  if (value.find(' ') != std::string::npos) {
    out->push_back(absl::StrCat(key, "=\"", value, "\""));
  } else {
    out->push_back(absl::StrCat(key, "=", value));
  }
}

void Field(std::vector<std::string>* out, const char* key, int64_t value) {
  if (value != 0) out->push_back(absl::StrCat(key, "=", value));
}

}  // namespace

std::string DescribePayload(const Envelope& e) {
  std::vector<std::string> f;
  std::string what;
  switch (e.payload_case()) {
    case Envelope::kIncidentOpened: {
      const auto& p = e.incident_opened();
      what = "opened";
      Field(&f, "number", p.number());
      Field(&f, "title", p.short_description());
      Field(&f, "caller", p.caller());
      Field(&f, "contact", p.contact_type());
      Field(&f, "service", p.service());
      Field(&f, "ci", p.configuration_item());
      Field(&f, "category", p.category());
      Field(&f, "subcategory", p.subcategory());
      Field(&f, "impact", p.impact());
      Field(&f, "urgency", p.urgency());
      break;
    }
    case Envelope::kIncidentAcknowledged:
      what = "acknowledged";
      Field(&f, "by", e.incident_acknowledged().by());
      break;
    case Envelope::kIncidentAssigned:
      what = "assigned";
      Field(&f, "group", e.incident_assigned().group());
      Field(&f, "person", e.incident_assigned().person());
      break;
    case Envelope::kIncidentPrioritySet: {
      const auto& p = e.incident_priority_set();
      what = p.manual_override() ? "priority overridden" : "priority set";
      Field(&f, "impact", p.impact());
      Field(&f, "urgency", p.urgency());
      Field(&f, "priority", p.priority());
      Field(&f, "reason", p.reason());
      break;
    }
    case Envelope::kIncidentStarted:
      what = "work started";
      break;
    case Envelope::kIncidentPutOnHold:
      what = "on hold";
      Field(&f, "reason", HoldReason_Name(e.incident_put_on_hold().reason()));
      Field(&f, "note", e.incident_put_on_hold().note());
      break;
    case Envelope::kIncidentResumed:
      what = "resumed";
      break;
    case Envelope::kIncidentResolved:
      what = "resolved";
      Field(&f, "code", e.incident_resolved().resolution_code());
      Field(&f, "notes", e.incident_resolved().notes());
      break;
    case Envelope::kIncidentClosed:
      what = "closed";
      break;
    case Envelope::kIncidentReopened:
      what = "reopened";
      Field(&f, "reason", e.incident_reopened().reason());
      break;
    case Envelope::kIncidentCancelled:
      what = "cancelled";
      Field(&f, "reason", e.incident_cancelled().reason());
      break;
    case Envelope::kIncidentCommented:
      what = "comment";
      Field(&f, "text", e.incident_commented().text());
      break;
    case Envelope::PAYLOAD_NOT_SET:
      what = "(no payload or a payload type this build does not know)";
      break;
  }
  if (f.empty()) return what;
  return absl::StrCat(what, " ", absl::StrJoin(f, " "));
}

std::string DescribeEvent(const Envelope& e) {
  return absl::StrCat(
      "#", e.position(), " ", e.stream(), " v", e.version(), " ",
      absl::FormatTime("%Y-%m-%d %H:%M:%S UTC",
                       absl::FromUnixMicros(e.occurred_at_us()),
                       absl::UTCTimeZone()),
      " ", DescribePayload(e));
}

}  // namespace slate
