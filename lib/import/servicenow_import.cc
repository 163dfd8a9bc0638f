#include "lib/import/servicenow_import.h"

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <tuple>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/util/message_differencer.h"
#include "lib/api/tenant.h"
#include "lib/api/types.h"
#include "lib/base/crash_point.h"
#include "lib/base/status_macros.h"
#include "lib/domain/common.h"
#include "lib/domain/incident.h"
#include "lib/domain/priority_matrix.h"
#include "lib/import/servicenow_format.h"

namespace slate {
namespace {

ContactType ContactTypeOf(const std::string& raw) {
  const std::string v = absl::AsciiStrToLower(raw);
  if (v == "phone" || v == "ivr") return PHONE;
  if (v == "email") return EMAIL;
  if (v == "self service" || v == "self-service" || v == "direct opening") {
    return SELF_SERVICE;
  }
  if (v == "walk in" || v == "walk-in") return WALK_IN;
  if (v == "chat") return CHAT;
  if (v == "monitoring" || v == "event") return MONITORING;
  return CONTACT_TYPE_UNSPECIFIED;
}

// The domain status and hold reason a row's state asks for.
struct Target {
  IncidentStatus status;
  HoldReason reason = HOLD_REASON_UNSPECIFIED;
};

Target TargetOf(ServiceNowState s) {
  switch (s) {
    case ServiceNowState::kNew:
      return {INCIDENT_NEW};
    case ServiceNowState::kActive:
      return {INCIDENT_IN_PROGRESS};
    case ServiceNowState::kAwaitingUserInfo:
      return {INCIDENT_ON_HOLD, AWAITING_CALLER};
    case ServiceNowState::kAwaitingVendor:
      return {INCIDENT_ON_HOLD, AWAITING_VENDOR};
    case ServiceNowState::kAwaitingProblem:
      return {INCIDENT_ON_HOLD, AWAITING_PROBLEM};
    case ServiceNowState::kAwaitingEvidence:
      return {INCIDENT_ON_HOLD, AWAITING_EVIDENCE};
    case ServiceNowState::kResolved:
      return {INCIDENT_RESOLVED};
    case ServiceNowState::kClosed:
      return {INCIDENT_CLOSED};
  }
  return {INCIDENT_NEW};
}

bool IsOpen(IncidentStatus s) {
  return s == INCIDENT_NEW || s == INCIDENT_IN_PROGRESS ||
         s == INCIDENT_ON_HOLD;
}

ServiceNowRowMeta MetaOf(const ServiceNowRow& r) {
  ServiceNowRowMeta m;
  m.set_number(r.number);
  m.set_incident_state(r.state_text);
  m.set_sys_mod_count(r.sys_mod_count);
  m.set_made_sla(r.made_sla);
  m.set_knowledge(r.knowledge);
  m.set_priority_confirmation(r.priority_confirmation);
  m.set_location(r.location);
  m.set_contact_type(r.contact_type);
  m.set_priority(r.priority_text);
  m.set_reassignment_count(r.reassignment_count);
  m.set_reopen_count(r.reopen_count);
  m.set_active(r.active);
  m.set_updated_by(r.updated_by);
  m.set_symptom(r.symptom);
  m.set_vendor(r.vendor);
  m.set_notify(r.notify);
  m.set_closed_code(r.closed_code);
  m.set_resolved_by(r.resolved_by);
  m.set_problem_id(r.problem_id);
  m.set_rfc(r.rfc);
  m.set_caused_by(r.caused_by);
  return m;
}

// A problem or change a row refers to (an external reference), counted only
// if the row is imported.
struct ExternalRef {
  bool is_problem = true;
  std::string id;
};

// One record of the export as the reading thread leaves it: a parsed row,
// or a record that cannot be one (with the rejection it gets), or the end
// of the input (with the read error, if any).
struct ReadRecord {
  enum Kind { kRow, kReject, kEnd } kind = kRow;
  int64_t bytes_read = 0;  // Of the input, after this record.
  ServiceNowRow row;       // kRow.
  int64_t line = 0;        // kReject: the record's line, number and why.
  std::string number;
  std::string reason;
  std::string detail;
  absl::Status status;  // kEnd: OK at the end of the input.
};

// Reads and parses the records on a thread of its own while the importer
// decides and appends, handing them over in order in chunks (a bounded
// queue: at most kMaxChunks chunks wait). Reading and parsing were a fifth
// of the importing thread's time (bench/RESULTS.md).
class RecordReader {
 public:
  static constexpr size_t kChunkRecords = 512;
  static constexpr size_t kMaxChunks = 4;

  RecordReader(CsvReader* csv, const ServiceNowColumns* columns,
               absl::TimeZone tz)
      : csv_(csv), columns_(columns), tz_(tz), thread_([this] { Run(); }) {}

  ~RecordReader() {
    {
      std::lock_guard<std::mutex> l(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

  // The next chunk (in input order; the last one ends with kEnd). Blocks
  // until the reader has one.
  std::vector<ReadRecord> NextChunk() {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return !chunks_.empty(); });
    std::vector<ReadRecord> chunk = std::move(chunks_.front());
    chunks_.pop_front();
    l.unlock();
    cv_.notify_all();
    return chunk;
  }

 private:
  // False once the importer stopped (it will take no more chunks).
  bool Hand(std::vector<ReadRecord>* chunk) {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return stop_ || chunks_.size() < kMaxChunks; });
    if (stop_) return false;
    chunks_.push_back(std::move(*chunk));
    chunk->clear();
    l.unlock();
    cv_.notify_all();
    return true;
  }

  void Run() {
    std::vector<ReadRecord> chunk;
    CsvRecord rec;
    RowError error;
    while (true) {
      if (chunk.empty()) chunk.reserve(kChunkRecords);
      chunk.emplace_back();
      ReadRecord& r = chunk.back();
      absl::StatusOr<bool> more = csv_->Next(&rec);
      r.bytes_read = csv_->BytesRead();
      if (!more.ok() || !*more) {
        r.kind = ReadRecord::kEnd;
        r.status = more.status();
        Hand(&chunk);
        return;
      }
      r.line = rec.line;
      if (!rec.error.empty()) {
        r.kind = ReadRecord::kReject;
        r.reason = "malformed CSV record";
        r.detail = rec.error;
      } else if (!columns_->Parse(rec.fields, tz_, &r.row, &error)) {
        r.kind = ReadRecord::kReject;
        r.number = r.row.number;
        r.reason = error.reason;
        r.detail = error.detail;
      } else if (absl::Status id =
                     ValidateAggregateId("incident", r.row.number);
                 !id.ok()) {
        r.kind = ReadRecord::kReject;
        r.number = r.row.number;
        r.reason = "bad incident number";
        r.detail = std::string(id.message());
      } else {
        r.row.line = rec.line;
      }
      if (chunk.size() == kChunkRecords && !Hand(&chunk)) return;
    }
  }

  CsvReader* const csv_;
  const ServiceNowColumns* const columns_;
  const absl::TimeZone tz_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::vector<ReadRecord>> chunks_;  // Guarded by mu_.
  bool stop_ = false;                           // Guarded by mu_.
  std::thread thread_;  // Last: starts once the members above exist.
};

class Importer {
 public:
  Importer(Engine* engine, const ServiceNowImportOptions& options)
      : engine_(engine), options_(options) {}

  absl::StatusOr<ServiceNowImportSummary> Run(ByteSource* source);

 private:
  struct Reject {
    std::string reason;
    std::string detail;
  };

  absl::Status Setup();
  absl::Status ProcessIncident(std::vector<ServiceNowRow>& rows);
  // Decides one row against *state; fills *events (ids not yet assigned)
  // and *staged. False with *reject set when the row cannot be applied.
  bool ApplyRow(const ServiceNowRow& row, const ServiceNowRow* prev,
                IncidentState* state, std::vector<Envelope>* events,
                std::vector<ExternalRef>* refs,
                std::vector<std::string>* not_mapped, Reject* reject);
  void CheckPriority(const ServiceNowRow& row);
  void RejectRow(int64_t line, const std::string& number,
                 const std::string& reason, const std::string& detail);
  // Appends `events` to `stream` unless the stream already holds them;
  // *appended / *present count what happened. kFailedPrecondition when the
  // stream holds other events.
  absl::Status AppendMissing(const std::string& stream,
                             std::vector<Envelope> events, int64_t* appended,
                             int64_t* present);
  void Progress(int64_t bytes_read, int64_t total_bytes);

  Engine* engine_;
  const ServiceNowImportOptions& options_;
  PriorityMatrix matrix_;
  ServiceNowImportSummary summary_;
  absl::Time start_;
  // No incident stream existed when the import began: each incident is
  // processed once (seen_numbers_), so its stream is new and AppendMissing
  // skips the stream lookup. A stream created meanwhile by another writer
  // fails the append (kAborted, nothing written).
  bool no_incidents_before_ = false;
  std::FILE* rejects_ = nullptr;
  absl::flat_hash_set<std::string> seen_numbers_;
  // Distinct external problem and change ids the imported rows refer to.
  absl::flat_hash_set<std::string> problems_;
  absl::flat_hash_set<std::string> changes_;
  std::map<std::tuple<int, int, int, int>, PriorityDisagreement> disagree_;
};

absl::Status Importer::Setup() {
  if (!options_.tenant.empty()) {
    SLATE_RETURN_IF_ERROR(ValidateTenantId(options_.tenant, "import: tenant"));
  }
  SLATE_ASSIGN_OR_RETURN(
      ExecuteResult in_force,
      engine_->LoadAggregate("priority-matrix", "", options_.tenant));
  matrix_ = in_force.priority_matrix();
  if (options_.matrix.has_value()) {
    SLATE_RETURN_IF_ERROR(ValidatePriorityMatrix(*options_.matrix));
    if (!google::protobuf::util::MessageDifferencer::Equals(matrix_,
                                                            *options_.matrix)) {
      Command c;
      *c.mutable_set_priority_matrix()->mutable_matrix() = *options_.matrix;
      c.set_actor("slate import servicenow");
      c.set_tenant_id(options_.tenant);
      SLATE_ASSIGN_OR_RETURN(ExecuteResult r, engine_->Execute(c));
      summary_.matrix_recorded = !r.idempotent_replay();
    }
    matrix_ = *options_.matrix;
  }
  if (!options_.rejects_path.empty()) {
    rejects_ = std::fopen(options_.rejects_path.c_str(), "w");
    if (rejects_ == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          "rejects file ", options_.rejects_path, ": cannot be written"));
    }
    std::fputs("line,number,reason,detail\n", rejects_);
  }
  SLATE_ASSIGN_OR_RETURN(
      bool any_incident,
      engine_->HasStreamWithPrefix(TenantStream(options_.tenant, "incident/")));
  no_incidents_before_ = !any_incident;
  return absl::OkStatus();
}

void Importer::RejectRow(int64_t line, const std::string& number,
                         const std::string& reason, const std::string& detail) {
  ++summary_.rows_rejected;
  ++summary_.rejected_by_reason[reason];
  if (rejects_ != nullptr) {
    std::string out =
        absl::StrCat(line, ",", CsvQuote(number), ",", CsvQuote(reason), ",",
                     CsvQuote(detail), "\n");
    std::fwrite(out.data(), 1, out.size(), rejects_);
  }
}

void Importer::CheckPriority(const ServiceNowRow& row) {
  ++summary_.priority_rows_checked;
  absl::StatusOr<int> computed =
      ComputePriority(matrix_, row.impact, row.urgency);
  const int c = computed.ok() ? *computed : 0;
  if (c == row.priority) {
    ++summary_.priority_rows_agreeing;
    return;
  }
  PriorityDisagreement& d =
      disagree_[std::make_tuple(row.impact, row.urgency, row.priority, c)];
  d.impact = row.impact;
  d.urgency = row.urgency;
  d.recorded = row.priority;
  d.computed = c;
  ++d.rows;
  if (d.examples.size() < 5) {
    d.examples.push_back(absl::StrCat(row.number, " (line ", row.line, ")"));
  }
}

bool Importer::ApplyRow(const ServiceNowRow& row, const ServiceNowRow* prev,
                        IncidentState* state, std::vector<Envelope>* events,
                        std::vector<ExternalRef>* refs,
                        std::vector<std::string>* not_mapped, Reject* reject) {
  const int64_t at_us = absl::ToUnixMicros(row.updated_at);
  IncidentContext ctx;
  ctx.matrix = &matrix_;
  ctx.policy = &options_.policy;
  ctx.at = row.updated_at;
  const char* actor_override = nullptr;

  auto decide = [&](const Command& c, const char* what, int64_t when_us) {
    ctx.at = absl::FromUnixMicros(when_us);
    absl::StatusOr<std::vector<Envelope>> r = DecideIncident(*state, c, ctx);
    if (!r.ok()) {
      reject->reason = absl::StrCat("domain refused ", what, " in ",
                                    IncidentStatusName(state->status()));
      reject->detail = std::string(r.status().message());
      return false;
    }
    for (Envelope& e : *r) {
      e.set_occurred_at_us(when_us);
      e.set_actor(actor_override != nullptr ? actor_override : row.updated_by);
      e.set_version(state->version() + 1);
      EvolveIncident(e, state);
      events->push_back(std::move(e));
    }
    return true;
  };
  auto add_direct = [&](Envelope e) {
    e.set_occurred_at_us(at_us);
    e.set_actor(row.updated_by);
    e.set_version(state->version() + 1);
    EvolveIncident(e, state);
    events->push_back(std::move(e));
  };

  // Open.
  if (state->status() == INCIDENT_STATUS_UNSPECIFIED) {
    Command c;
    OpenIncident* o = c.mutable_open_incident();
    o->set_incident_id(row.number);
    o->set_caller(row.caller);
    o->set_contact_type(ContactTypeOf(row.contact_type));
    o->set_configuration_item(row.configuration_item);
    o->set_category(row.category);
    o->set_subcategory(row.subcategory);
    o->set_impact(row.impact);
    o->set_urgency(row.urgency);
    int64_t open_us = at_us;
    if (row.opened_at != absl::InfinitePast()) {
      if (row.opened_at <= row.updated_at) {
        open_us = absl::ToUnixMicros(row.opened_at);
      } else {
        not_mapped->push_back("opened_at later than the first update");
      }
    }
    std::string opener = row.opened_by;
    actor_override = opener.c_str();
    const bool ok = decide(c, "open", open_us);
    actor_override = nullptr;
    if (!ok) return false;
  }

  const Target target = TargetOf(row.state);
  bool reopened = false;
  if ((state->status() == INCIDENT_RESOLVED ||
       state->status() == INCIDENT_CLOSED) &&
      IsOpen(target.status)) {
    Command c;
    c.mutable_reopen_incident()->set_incident_id(row.number);
    c.mutable_reopen_incident()->set_reason(
        absl::StrCat("ServiceNow: ", IncidentStatusName(state->status()),
                     " -> ", row.state_text));
    if (!decide(c, "reopen", at_us)) return false;
    reopened = true;
  }

  // Assignment.
  if (prev == nullptr || prev->assignment_group != row.assignment_group ||
      prev->assigned_to != row.assigned_to) {
    if (row.assignment_group.empty()) {
      if (prev != nullptr && !prev->assignment_group.empty()) {
        not_mapped->push_back("assignment group cleared");
      } else if (!row.assigned_to.empty()) {
        not_mapped->push_back("assignee without a group");
      }
    } else if (row.assignment_group != state->assignment_group() ||
               row.assigned_to != state->assignee()) {
      Command c;
      AssignIncident* a = c.mutable_assign_incident();
      a->set_incident_id(row.number);
      a->set_group(row.assignment_group);
      a->set_person(row.assigned_to);
      if (!decide(c, "assign", at_us)) return false;
    }
  }

  // Impact and urgency.
  if (prev != nullptr &&
      (prev->impact != row.impact || prev->urgency != row.urgency) &&
      (row.impact != state->impact() || row.urgency != state->urgency())) {
    Command c;
    SetIncidentImpactUrgency* s = c.mutable_set_incident_impact_urgency();
    s->set_incident_id(row.number);
    s->set_impact(row.impact);
    s->set_urgency(row.urgency);
    if (!decide(c, "set impact/urgency", at_us)) return false;
  }

  // Problem link.
  if (prev == nullptr || prev->problem_id != row.problem_id) {
    if (row.problem_id.empty()) {
      if (prev != nullptr) not_mapped->push_back("problem link removed");
    } else {
      const std::string pid = SanitizeServiceNowId(row.problem_id);
      if (pid != state->problem_id()) {
        // The export holds no problem records: an external reference.
        Command c;
        c.mutable_link_incident_to_problem()->set_incident_id(row.number);
        c.mutable_link_incident_to_problem()->set_problem_id(pid);
        c.mutable_link_incident_to_problem()->set_external(true);
        if (!decide(c, "link problem", at_us)) return false;
        refs->push_back({true, pid});
      }
    }
  }

  // Change links: rfc (the change that fixes it), caused_by.
  struct ChangeRef {
    const std::string* now;
    const std::string* before;
    ChangeLinkRelation relation;
    const char* what;
  };
  const ChangeRef change_refs[] = {
      {&row.rfc, prev == nullptr ? nullptr : &prev->rfc, FIXED_BY,
       "link change (rfc)"},
      {&row.caused_by, prev == nullptr ? nullptr : &prev->caused_by, CAUSED_BY,
       "link change (caused_by)"},
  };
  for (const ChangeRef& ref : change_refs) {
    if (ref.before != nullptr && *ref.before == *ref.now) continue;
    if (ref.now->empty()) {
      if (ref.before != nullptr) {
        not_mapped->push_back(ref.relation == FIXED_BY ? "rfc link removed"
                                                       : "caused_by removed");
      }
      continue;
    }
    const std::string cid = SanitizeServiceNowId(*ref.now);
    if (cid == (ref.relation == FIXED_BY ? state->fixed_by_change_id()
                                         : state->caused_by_change_id())) {
      continue;
    }
    // The export holds no change records: an external reference.
    Command c;
    LinkIncidentToChange* l = c.mutable_link_incident_to_change();
    l->set_incident_id(row.number);
    l->set_change_id(cid);
    l->set_relation(ref.relation);
    l->set_external(true);
    if (!decide(c, ref.what, at_us)) return false;
    refs->push_back({false, cid});
  }

  // Status.
  auto hold = [&](HoldReason reason) {
    Command c;
    c.mutable_hold_incident()->set_incident_id(row.number);
    c.mutable_hold_incident()->set_reason(reason);
    c.mutable_hold_incident()->set_note(row.state_text);
    return decide(c, "hold", at_us);
  };
  auto simple = [&](Command c, const char* what) {
    return decide(c, what, at_us);
  };
  Command resume;
  resume.mutable_resume_incident()->set_incident_id(row.number);
  Command resolve;
  resolve.mutable_resolve_incident()->set_incident_id(row.number);
  resolve.mutable_resolve_incident()->set_resolution_code(
      row.closed_code.empty() ? "unknown" : row.closed_code);
  Command close;
  close.mutable_close_incident()->set_incident_id(row.number);
  const IncidentStatus cur = state->status();
  switch (target.status) {
    case INCIDENT_NEW:
      if (cur != INCIDENT_NEW && !reopened) {
        reject->reason =
            absl::StrCat("no transition ", IncidentStatusName(cur), " -> New");
        reject->detail = absl::StrCat("incident ", row.number,
                                      ": the domain has no way back to New "
                                      "from ",
                                      IncidentStatusName(cur));
        return false;
      }
      if (reopened) not_mapped->push_back("reopened to New (In Progress)");
      break;
    case INCIDENT_IN_PROGRESS:
      if (cur == INCIDENT_NEW) {
        Command c;
        c.mutable_start_incident()->set_incident_id(row.number);
        if (!simple(c, "start")) return false;
      } else if (cur == INCIDENT_ON_HOLD) {
        if (!simple(resume, "resume")) return false;
      }
      break;
    case INCIDENT_ON_HOLD:
      if (cur == INCIDENT_ON_HOLD) {
        if (state->hold_reason() == target.reason) break;
        if (!simple(resume, "resume")) return false;
      }
      if (!hold(target.reason)) return false;
      break;
    case INCIDENT_RESOLVED:
      if (cur == INCIDENT_RESOLVED) break;
      if (cur == INCIDENT_CLOSED) {
        Command c;
        c.mutable_reopen_incident()->set_incident_id(row.number);
        c.mutable_reopen_incident()->set_reason(
            absl::StrCat("ServiceNow: Closed -> ", row.state_text));
        if (!simple(c, "reopen")) return false;
      }
      if (!simple(resolve, "resolve")) return false;
      break;
    case INCIDENT_CLOSED:
      if (cur == INCIDENT_CLOSED) break;
      if (!simple(close, "close")) return false;
      break;
    default:
      break;
  }

  // Details: changed descriptive fields, or a row with nothing else to say.
  const bool details_changed =
      prev != nullptr &&
      (prev->category != row.category || prev->subcategory != row.subcategory ||
       prev->configuration_item != row.configuration_item ||
       prev->contact_type != row.contact_type || prev->caller != row.caller ||
       prev->location != row.location);
  if (details_changed || events->empty()) {
    Envelope e;
    IncidentDetailsUpdated* d = e.mutable_incident_details_updated();
    d->set_category(row.category);
    d->set_subcategory(row.subcategory);
    d->set_configuration_item(row.configuration_item);
    d->set_contact_type(row.contact_type);
    d->set_caller(row.caller);
    d->set_location(row.location);
    add_direct(std::move(e));
  }
  return true;
}

absl::Status Importer::AppendMissing(const std::string& stream,
                                     std::vector<Envelope> events,
                                     int64_t* appended, int64_t* present) {
  *appended = 0;
  *present = 0;
  int64_t version = -1;
  if (!no_incidents_before_) {
    SLATE_ASSIGN_OR_RETURN(version, engine_->StreamVersion(stream));
  }
  size_t from = 0;
  if (version >= 0) {
    SLATE_ASSIGN_OR_RETURN(
        std::vector<Envelope> existing,
        engine_->ReadStream(stream, 0, static_cast<size_t>(version) + 1));
    if (existing.size() > events.size()) {
      return absl::FailedPreconditionError(
          absl::StrCat(stream, " holds ", existing.size(),
                       " events; this import produces ", events.size()));
    }
    for (size_t i = 0; i < existing.size(); ++i) {
      if (existing[i].event_id() != events[i].event_id()) {
        return absl::FailedPreconditionError(absl::StrCat(
            stream, " event ", i, " is \"", existing[i].event_id(),
            "\"; this import produces \"", events[i].event_id(), "\""));
      }
    }
    from = existing.size();
    *present = static_cast<int64_t>(from);
  }
  const size_t limit =
      std::max<size_t>(1, engine_->options().max_events_per_append);
  while (from < events.size()) {
    const size_t n = std::min(limit, events.size() - from);
    std::vector<Envelope> batch;
    batch.reserve(n);
    for (size_t i = from; i < from + n; ++i) {
      events[i].clear_version();
      batch.push_back(std::move(events[i]));
    }
    const ExpectedVersion expected = version < 0
                                         ? ExpectedVersion::NoStream()
                                         : ExpectedVersion::Exact(version);
    SLATE_ASSIGN_OR_RETURN(AppendResult r,
                           engine_->Append(stream, expected, std::move(batch)));
    version = r.last_version;
    *appended += static_cast<int64_t>(n);
    from += n;
    if (from < events.size()) SLATE_CRASH_POINT("import.mid_batch");
  }
  if (*appended > 0) SLATE_CRASH_POINT("import.after_batch");
  return absl::OkStatus();
}

absl::Status Importer::ProcessIncident(std::vector<ServiceNowRow>& rows) {
  const std::string number = rows.front().number;
  if (!seen_numbers_.insert(number).second) {
    for (const ServiceNowRow& r : rows) {
      RejectRow(r.line, number, "incident rows not contiguous",
                "rows of this incident appeared earlier in the file, "
                "separated from these");
    }
    return absl::OkStatus();
  }
  // Sorted through pointers: a row holds some thirty strings, and moving
  // rows (with stable_sort's buffer) cost more than the comparisons. Lines
  // are unique, so the order is total and a plain sort is stable.
  std::vector<const ServiceNowRow*> order;
  order.reserve(rows.size());
  for (const ServiceNowRow& r : rows) order.push_back(&r);
  std::sort(order.begin(), order.end(),
            [](const ServiceNowRow* a, const ServiceNowRow* b) {
              if (a->updated_at != b->updated_at) {
                return a->updated_at < b->updated_at;
              }
              if (a->sys_mod_count != b->sys_mod_count) {
                return a->sys_mod_count < b->sys_mod_count;
              }
              return a->line < b->line;
            });
  IncidentState state = NewIncidentState(number);
  std::vector<Envelope> events;
  std::vector<const ServiceNowRow*> accepted;
  absl::flat_hash_map<uint64_t, int> repeats;
  const ServiceNowRow* prev = nullptr;
  std::vector<Envelope> row_events;
  std::vector<ExternalRef> refs;
  std::vector<std::string> not_mapped;
  for (const ServiceNowRow* row_ptr : order) {
    const ServiceNowRow& row = *row_ptr;
    row_events.clear();
    refs.clear();
    not_mapped.clear();
    Reject reject;
    // The row is decided on the incident's state itself (a copy per row
    // cost more than the rare rejected row's undo): a rejected row's
    // partial changes are undone by folding the accepted events again.
    if (!ApplyRow(row, prev, &state, &row_events, &refs, &not_mapped,
                  &reject)) {
      RejectRow(row.line, number, reject.reason, reject.detail);
      state = NewIncidentState(number);
      for (const Envelope& e : events) EvolveIncident(e, &state);
      prev = &row;
      continue;
    }
    prev = &row;
    accepted.push_back(&row);
    for (const std::string& k : not_mapped) ++summary_.not_mapped[k];
    const int repeat = repeats[row.content_hash]++;
    const std::string prefix =
        absl::StrCat(TenantStreamPrefix(options_.tenant), "sn:", number, ":",
                     absl::Hex(row.content_hash, absl::kZeroPad16),
                     repeat == 0 ? "" : absl::StrCat("#", repeat), ":");
    // The row's metadata is built in its last event and copied to the
    // others (most rows have one event).
    *row_events.back().mutable_servicenow() = MetaOf(row);
    for (size_t i = 0; i < row_events.size(); ++i) {
      Envelope& e = row_events[i];
      e.set_event_id(absl::StrCat(prefix, i));
      e.set_correlation_id(number);
      if (i + 1 < row_events.size()) {
        *e.mutable_servicenow() = row_events.back().servicenow();
      }
    }
    for (const ExternalRef& r : refs) {
      (r.is_problem ? problems_ : changes_).insert(r.id);
    }
    for (Envelope& e : row_events) events.push_back(std::move(e));
  }
  summary_.rows_imported += static_cast<int64_t>(accepted.size());
  if (events.empty()) return absl::OkStatus();
  int64_t appended = 0;
  int64_t present = 0;
  absl::Status s = AppendMissing(
      TenantStream(options_.tenant, absl::StrCat("incident/", number)),
      std::move(events), &appended, &present);
  if (s.code() == absl::StatusCode::kFailedPrecondition) {
    summary_.rows_imported -= static_cast<int64_t>(accepted.size());
    for (const ServiceNowRow* r : accepted) {
      RejectRow(r->line, number, "incident stream differs",
                std::string(s.message()));
    }
    return absl::OkStatus();
  }
  SLATE_RETURN_IF_ERROR(s);
  ++summary_.incidents;
  if (appended > 0) ++summary_.incidents_appended;
  summary_.events_appended += appended;
  summary_.events_already_present += present;
  return absl::OkStatus();
}

void Importer::Progress(int64_t bytes_read, int64_t total_bytes) {
  if (!options_.progress) return;
  ImportProgress p;
  p.rows_read = summary_.rows_read;
  p.bytes_read = bytes_read;
  p.total_bytes = total_bytes;
  p.elapsed = absl::Now() - start_;
  options_.progress(p);
}

absl::StatusOr<ServiceNowImportSummary> Importer::Run(ByteSource* source) {
  start_ = absl::Now();
  CsvReader csv(source);
  CsvRecord rec;
  SLATE_ASSIGN_OR_RETURN(bool any, csv.Next(&rec));
  if (!any || !rec.error.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(source->Name(), ": no CSV header",
                     rec.error.empty() ? "" : ": ", rec.error));
  }
  absl::StatusOr<ServiceNowColumns> columns =
      ServiceNowColumns::FromHeader(rec.fields);
  if (!columns.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(source->Name(), ": ", columns.status().message()));
  }
  SLATE_RETURN_IF_ERROR(Setup());

  std::vector<ServiceNowRow> group;  // Rows of one incident.
  auto flush = [&]() -> absl::Status {
    if (group.empty()) return absl::OkStatus();
    absl::Status s = ProcessIncident(group);
    group.clear();
    return s;
  };
  const int64_t total_bytes = source->TotalBytes();
  int64_t bytes_read = csv.BytesRead();
  {
    RecordReader reader(&csv, &*columns, options_.tz);
    bool done = false;
    while (!done) {
      std::vector<ReadRecord> chunk = reader.NextChunk();
      for (ReadRecord& r : chunk) {
        bytes_read = r.bytes_read;
        if (r.kind == ReadRecord::kEnd) {
          SLATE_RETURN_IF_ERROR(r.status);
          done = true;
          break;
        }
        ++summary_.rows_read;
        if (options_.progress_every_rows > 0 &&
            summary_.rows_read % options_.progress_every_rows == 0) {
          Progress(bytes_read, total_bytes);
        }
        if (r.kind == ReadRecord::kReject) {
          RejectRow(r.line, r.number, r.reason, r.detail);
          continue;
        }
        CheckPriority(r.row);
        if (!group.empty() && group[0].number != r.row.number) {
          SLATE_RETURN_IF_ERROR(flush());
          if (options_.stop_after_incidents >= 0 &&
              summary_.incidents_appended >= options_.stop_after_incidents) {
            summary_.interrupted = true;
            done = true;
            break;
          }
        }
        group.push_back(std::move(r.row));
      }
    }
  }  // The reader stops (if the import did) and its thread ends.
  if (!summary_.interrupted) {
    SLATE_RETURN_IF_ERROR(flush());
  }
  summary_.problems = static_cast<int64_t>(problems_.size());
  summary_.changes = static_cast<int64_t>(changes_.size());
  SLATE_RETURN_IF_ERROR(engine_->Flush());
  if (rejects_ != nullptr) {
    if (std::fclose(rejects_) != 0) {
      rejects_ = nullptr;
      return absl::DataLossError(absl::StrCat(
          "rejects file ", options_.rejects_path, ": write failed"));
    }
    rejects_ = nullptr;
  }
  for (auto& [key, d] : disagree_) {
    summary_.priority_disagreements.push_back(std::move(d));
  }
  std::sort(summary_.priority_disagreements.begin(),
            summary_.priority_disagreements.end(),
            [](const PriorityDisagreement& a, const PriorityDisagreement& b) {
              return a.rows > b.rows;
            });
  summary_.elapsed = absl::Now() - start_;
  Progress(bytes_read, total_bytes);
  return summary_;
}

}  // namespace

DomainPolicy ServiceNowDomainPolicy() {
  DomainPolicy p;
  p.allow_assign_when_resolved = true;
  p.allow_close_without_resolve = true;
  p.reopen_closed_window = absl::InfiniteDuration();
  p.allow_link_closed_incidents = true;
  return p;
}

std::string SanitizeServiceNowId(const std::string& raw) {
  std::string out;
  bool in_run = false;
  for (char c : raw) {
    const bool ok = absl::ascii_isalnum(c) || c == '-' || c == '_' ||
                    c == '.' || c == ':' || c == '@' || c == '+' || c == '=';
    if (ok) {
      out.push_back(c);
      in_run = false;
    } else if (!in_run) {
      out.push_back('_');
      in_run = true;
    }
  }
  return out;
}

absl::StatusOr<ServiceNowImportSummary> ImportServiceNowFrom(
    Engine* engine, ByteSource* source,
    const ServiceNowImportOptions& options) {
  Importer importer(engine, options);
  return importer.Run(source);
}

absl::StatusOr<ServiceNowImportSummary> ImportServiceNow(
    Engine* engine, const std::string& path,
    const ServiceNowImportOptions& options) {
  SLATE_ASSIGN_OR_RETURN(std::unique_ptr<ByteSource> source,
                         OpenImportSource(path));
  return ImportServiceNowFrom(engine, source.get(), options);
}

std::string FormatImportSummary(const ServiceNowImportSummary& s,
                                const PriorityMatrix* matrix) {
  std::string out;
  const double secs = absl::ToDoubleSeconds(s.elapsed);
  absl::StrAppend(&out, "rows read:        ", s.rows_read, "\n");
  absl::StrAppend(&out, "rows imported:    ", s.rows_imported, "\n");
  absl::StrAppend(&out, "rows rejected:    ", s.rows_rejected, "\n");
  for (const auto& [reason, n] : s.rejected_by_reason) {
    absl::StrAppend(&out, "  ", n, "  ", reason, "\n");
  }
  absl::StrAppend(&out, "incidents:        ", s.incidents, " (",
                  s.incidents_appended, " appended to this run)\n");
  absl::StrAppend(&out, "problems, changes referred to: ", s.problems, ", ",
                  s.changes, " (external references; no records created)\n");
  absl::StrAppend(&out, "events appended:  ", s.events_appended, "\n");
  if (s.events_appended == 0 && s.events_already_present > 0) {
    absl::StrAppend(&out, "nothing new: all ", s.events_already_present,
                    " events of this file were already in the database\n");
  } else if (s.events_already_present > 0) {
    absl::StrAppend(&out, "events already in the database: ",
                    s.events_already_present, "\n");
  }
  if (!s.not_mapped.empty()) {
    absl::StrAppend(&out,
                    "changes with no domain event (kept on the rows' "
                    "metadata):\n");
    for (const auto& [what, n] : s.not_mapped) {
      absl::StrAppend(&out, "  ", n, "  ", what, "\n");
    }
  }
  if (s.matrix_recorded) {
    absl::StrAppend(&out, "priority matrix: recorded as the matrix in force\n");
  }
  const double pct = s.priority_rows_checked == 0
                         ? 100.0
                         : 100.0 *
                               static_cast<double>(s.priority_rows_agreeing) /
                               static_cast<double>(s.priority_rows_checked);
  absl::StrAppend(&out, "priority agreement: ", s.priority_rows_agreeing,
                  " of ", s.priority_rows_checked, " rows (",
                  absl::StrFormat("%.2f", pct), "%)\n");
  for (const PriorityDisagreement& d : s.priority_disagreements) {
    auto name = [&](int level) {
      return matrix == nullptr
                 ? absl::StrCat(level)
                 : absl::StrCat(level, " ", PriorityName(*matrix, level));
    };
    absl::StrAppend(&out, "  impact ", d.impact, " urgency ", d.urgency,
                    ": recorded ", d.recorded, ", matrix ",
                    d.computed == 0 ? std::string("(outside the matrix)")
                                    : name(d.computed),
                    ": ", d.rows, " rows, e.g. ",
                    absl::StrJoin(d.examples, ", "), "\n");
  }
  absl::StrAppend(&out, "elapsed:          ", absl::StrFormat("%.2f s", secs),
                  "\n");
  absl::StrAppend(
      &out, "events/s:         ",
      absl::StrFormat(
          "%.0f",
          secs > 0 ? static_cast<double>(s.events_appended) / secs : 0.0),
      "\n");
  if (s.interrupted) absl::StrAppend(&out, "interrupted (test hook)\n");
  return out;
}

std::string FormatImportTiming(const ServiceNowImportSummary& s,
                               absl::Duration fold_wait) {
  const absl::Duration total = s.elapsed + fold_wait;
  std::string out = absl::StrFormat(
      "projections:      current after %.2f s more; import + fold %.2f s",
      absl::ToDoubleSeconds(fold_wait), absl::ToDoubleSeconds(total));
  if (s.rows_read >= kImportRateMinRows) {
    absl::StrAppend(&out,
                    absl::StrFormat(" = %.2f s per 100,000 rows",
                                    absl::ToDoubleSeconds(total) * 100000.0 /
                                        static_cast<double>(s.rows_read)));
  } else {
    absl::StrAppend(&out, " (", s.rows_read, " rows: too few for a rate)");
  }
  absl::StrAppend(&out, "\n");
  return out;
}

}  // namespace slate
