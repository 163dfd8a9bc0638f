#include "lib/cluster/jetstream.h"

#include <nats/nats.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"

namespace slate {

namespace {

// The libnats status `s` (and the JetStream error code, when the call has
// one) as an absl::Status whose message starts with `what`.
absl::Status FromNats(natsStatus s, int js_code, absl::string_view what) {
  // nats_GetLastError is the calling thread's last failure, which is not
  // this one when its status differs (some calls fail without setting it).
  natsStatus last_status = NATS_OK;
  const char* last = nats_GetLastError(&last_status);
  const bool fresh = last != nullptr && *last != '\0' && last_status == s;
  std::string detail = fresh ? std::string(last) : std::string(natsStatus_GetText(s));
  std::string message = absl::StrCat(what, ": ", detail);
  if (js_code != 0) absl::StrAppend(&message, " (JetStream error ", js_code, ")");
  // KV calls report no code, only the server's text.
  if (js_code == JSStreamWrongLastSequenceErr ||
      (fresh && absl::StrContains(detail, "wrong last sequence"))) {
    return absl::FailedPreconditionError(message);
  }
  if (js_code == JSStreamNotFoundErr || js_code == JSNoMessageFoundErr) {
    return absl::NotFoundError(message);
  }
  // "JetStream system temporarily unavailable": no meta or stream leader
  // (an election); retry. KV gets report it as text only (seen in a node's
  // rounds while another server was frozen).
  if (js_code == JSClusterNotAvailErr ||
      (fresh && absl::StrContains(detail, "temporarily unavailable"))) {
    return absl::UnavailableError(message);
  }
  switch (s) {
    case NATS_TIMEOUT:
      return absl::DeadlineExceededError(message);
    case NATS_NOT_FOUND:
      return absl::NotFoundError(message);
    case NATS_IO_ERROR:
    case NATS_CONNECTION_CLOSED:
    case NATS_NO_SERVER:
    case NATS_STALE_CONNECTION:
    case NATS_CONNECTION_DISCONNECTED:
    case NATS_NOT_YET_CONNECTED:
    case NATS_NO_RESPONDERS:
      return absl::UnavailableError(message);
    case NATS_INVALID_ARG:
    case NATS_INVALID_SUBJECT:
    case NATS_MAX_PAYLOAD:
      return absl::InvalidArgumentError(message);
    default:
      return absl::UnknownError(message);
  }
}

int64_t Millis(absl::Duration d) {
  return std::max<int64_t>(1, absl::ToInt64Milliseconds(d));
}

// Owns one libnats object; `Destroy` is its destroy function.
template <typename T, void (*Destroy)(T*)>
class Owned {
 public:
  Owned() = default;
  ~Owned() {
    if (p_ != nullptr) Destroy(p_);
  }
  Owned(const Owned&) = delete;
  Owned& operator=(const Owned&) = delete;
  T** out() { return &p_; }
  T* get() const { return p_; }
  T* operator->() const { return p_; }

 private:
  T* p_ = nullptr;
};

using OwnedMsg = Owned<natsMsg, natsMsg_Destroy>;
using OwnedStreamInfo = Owned<jsStreamInfo, jsStreamInfo_Destroy>;
using OwnedPubAck = Owned<jsPubAck, jsPubAck_Destroy>;
using OwnedKvEntry = Owned<kvEntry, kvEntry_Destroy>;
using OwnedOptions = Owned<natsOptions, natsOptions_Destroy>;
using OwnedSubscription = Owned<natsSubscription, natsSubscription_Destroy>;
using OwnedMetaData = Owned<jsMsgMetaData, jsMsgMetaData_Destroy>;

StoredMessage ToStored(natsMsg* msg) {
  StoredMessage out;
  out.sequence = natsMsg_GetSequence(msg);
  out.subject = natsMsg_GetSubject(msg);
  const char* data = natsMsg_GetData(msg);
  if (data != nullptr) out.data.assign(data, natsMsg_GetDataLength(msg));
  const char* id = nullptr;
  if (natsMsgHeader_Get(msg, "Nats-Msg-Id", &id) == NATS_OK && id != nullptr) {
    out.msg_id = id;
  }
  return out;
}

// The stream behind KV bucket `name` (libnats' layout).
std::string KvStream(absl::string_view name) { return absl::StrCat("KV_", name); }

std::vector<std::string> Subjects(const jsStreamConfig& config) {
  std::vector<std::string> out;
  for (int i = 0; i < config.SubjectsLen; ++i) out.emplace_back(config.Subjects[i]);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

struct JetStream::Conn {
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
  int64_t wait_ms = 5000;

  ~Conn() {
    if (js != nullptr) jsCtx_Destroy(js);
    if (nc != nullptr) {
      natsConnection_Close(nc);
      natsConnection_Destroy(nc);
    }
  }
};

struct KvBucket::Handle {
  std::shared_ptr<JetStream::Conn> conn;  // keeps the connection open
  kvStore* kv = nullptr;
  std::string name;

  ~Handle() {
    if (kv != nullptr) kvStore_Destroy(kv);
  }
  // Where the bucket keeps `key` (libnats' layout).
  std::string Subject(absl::string_view key) const {
    return absl::StrCat("$KV.", name, ".", key);
  }
  std::string What(absl::string_view op, absl::string_view key) const {
    return absl::StrCat("kv ", name, ": ", op, " ", key);
  }
};

JetStream::JetStream(std::shared_ptr<Conn> conn) : conn_(std::move(conn)) {}
JetStream::~JetStream() = default;

absl::StatusOr<std::unique_ptr<JetStream>> JetStream::Connect(
    const JetStreamOptions& options) {
  if (options.servers.empty()) {
    return absl::InvalidArgumentError("nats: no server URLs given");
  }
  const std::string servers = absl::StrJoin(options.servers, ",");
  std::vector<const char*> urls;
  for (const std::string& url : options.servers) urls.push_back(url.c_str());
  OwnedOptions opts;
  natsStatus s = natsOptions_Create(opts.out());
  if (s == NATS_OK) {
    s = natsOptions_SetServers(opts.get(), urls.data(),
                               static_cast<int>(urls.size()));
  }
  if (s == NATS_OK) s = natsOptions_SetName(opts.get(), options.name.c_str());
  if (s == NATS_OK) {
    s = natsOptions_SetTimeout(opts.get(), Millis(options.connect_timeout));
  }
  if (s == NATS_OK) s = natsOptions_SetAllowReconnect(opts.get(), true);
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(opts.get(), options.max_reconnect);
  if (s == NATS_OK) {
    s = natsOptions_SetReconnectWait(opts.get(), Millis(options.reconnect_wait));
  }
  if (s != NATS_OK) {
    return FromNats(s, 0, absl::StrCat("nats options for ", servers));
  }
  auto conn = std::make_shared<Conn>();
  conn->wait_ms = Millis(options.request_timeout);
  s = natsConnection_Connect(&conn->nc, opts.get());
  if (s != NATS_OK) {
    absl::Status status = FromNats(s, 0, absl::StrCat("nats: connect to ", servers));
    // Whatever the cause, no server could be used.
    return absl::UnavailableError(status.message());
  }
  jsOptions js_opts;
  jsOptions_Init(&js_opts);
  js_opts.Wait = conn->wait_ms;
  s = natsConnection_JetStream(&conn->js, conn->nc, &js_opts);
  if (s != NATS_OK) {
    return FromNats(s, 0, absl::StrCat("nats: JetStream context on ", servers));
  }
  return std::unique_ptr<JetStream>(new JetStream(std::move(conn)));
}

absl::Status JetStream::EnsureStream(const StreamConfig& config) {
  if (config.name.empty() || config.subjects.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("stream '", config.name, "': needs a name and subjects"));
  }
  std::vector<std::string> want = config.subjects;
  std::sort(want.begin(), want.end());
  OwnedStreamInfo info;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_GetStreamInfo(info.out(), conn_->js, config.name.c_str(),
                                  nullptr, &code);
  if (s == NATS_NOT_FOUND) {
    std::vector<const char*> subjects;
    for (const std::string& subject : config.subjects) {
      subjects.push_back(subject.c_str());
    }
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    cfg.Name = config.name.c_str();
    cfg.Subjects = subjects.data();
    cfg.SubjectsLen = static_cast<int>(subjects.size());
    cfg.Storage = js_FileStorage;
    cfg.Replicas = config.replicas;
    cfg.Duplicates = absl::ToInt64Nanoseconds(config.duplicate_window);
    code = static_cast<jsErrCode>(0);
    s = js_AddStream(nullptr, conn_->js, &cfg, nullptr, &code);
    if (s == NATS_OK) return absl::OkStatus();
    if (code != JSStreamNameExistErr) {
      return FromNats(s, code, absl::StrCat("stream ", config.name, ": create"));
    }
    // Created meanwhile by somebody else: compare with theirs.
    code = static_cast<jsErrCode>(0);
    s = js_GetStreamInfo(info.out(), conn_->js, config.name.c_str(), nullptr,
                         &code);
  }
  if (s != NATS_OK) {
    return FromNats(s, code, absl::StrCat("stream ", config.name, ": look up"));
  }
  const jsStreamConfig& have = *info->Config;
  if (Subjects(have) != want || have.Replicas != config.replicas) {
    return absl::FailedPreconditionError(absl::StrCat(
        "stream ", config.name, " exists with subjects [",
        absl::StrJoin(Subjects(have), ","), "] and ", have.Replicas,
        " replicas; wanted [", absl::StrJoin(want, ","), "] and ",
        config.replicas));
  }
  return absl::OkStatus();
}

absl::StatusOr<PublishAck> JetStream::Publish(absl::string_view subject,
                                              absl::string_view data,
                                              const PublishOptions& options) {
  const std::string subj(subject);
  auto what = [&] {
    std::string w = absl::StrCat("publish to ", subj);
    if (!options.msg_id.empty()) absl::StrAppend(&w, " (msg id ", options.msg_id, ")");
    if (options.expected_last_sequence) {
      absl::StrAppend(&w, " expecting last sequence ", *options.expected_last_sequence);
    }
    return w;
  };
  if (options.expected_last_sequence && *options.expected_last_sequence == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        what(), ": libnats cannot expect an empty stream (0 means no "
                "expectation); start the stream with a marker message"));
  }
  OwnedMsg msg;
  natsStatus s = natsMsg_Create(msg.out(), subj.c_str(), nullptr, data.data(),
                                static_cast<int>(data.size()));
  if (s != NATS_OK) return FromNats(s, 0, what());
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MaxWait = conn_->wait_ms;
  if (!options.msg_id.empty()) po.MsgId = options.msg_id.c_str();
  if (options.expected_last_sequence) po.ExpectLastSeq = *options.expected_last_sequence;
  OwnedPubAck ack;
  jsErrCode code = static_cast<jsErrCode>(0);
  s = js_PublishMsg(ack.out(), conn_->js, msg.get(), &po, &code);
  if (s == NATS_TIMEOUT &&
      natsConnection_Status(conn_->nc) != NATS_CONN_STATUS_CONNECTED) {
    // No server to talk to (reconnecting): say so, not just "timeout".
    return absl::UnavailableError(absl::StrCat(
        what(), ": timeout while disconnected from every server (outcome "
                "unknown: retry with the same msg id)"));
  }
  if (s != NATS_OK) return FromNats(s, code, what());
  return PublishAck{.sequence = ack->Sequence, .duplicate = ack->Duplicate};
}

absl::StatusOr<StoredMessage> JetStream::Get(absl::string_view stream,
                                             uint64_t sequence) {
  const std::string name(stream);
  OwnedMsg msg;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_GetMsg(msg.out(), conn_->js, name.c_str(), sequence,
                           nullptr, &code);
  if (s != NATS_OK) {
    return FromNats(s, code,
                    absl::StrCat("stream ", name, ": get sequence ", sequence));
  }
  return ToStored(msg.get());
}

absl::StatusOr<std::vector<StoredMessage>> JetStream::Read(
    absl::string_view stream, uint64_t from_sequence, size_t max_messages) {
  if (from_sequence == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("stream ", stream, ": sequences start at 1"));
  }
  absl::StatusOr<uint64_t> last = LastSequence(stream);
  if (!last.ok()) return last.status();
  std::vector<StoredMessage> out;
  for (uint64_t seq = from_sequence; seq <= *last && out.size() < max_messages;
       ++seq) {
    absl::StatusOr<StoredMessage> msg = Get(stream, seq);
    if (absl::IsNotFound(msg.status())) {
      return absl::DataLossError(absl::StrCat("stream ", stream, ": sequence ",
                                              seq, " of 1..", *last,
                                              " has no message"));
    }
    if (!msg.ok()) return msg.status();
    out.push_back(*std::move(msg));
  }
  return out;
}

absl::StatusOr<std::vector<StoredMessage>> JetStream::ReadOrdered(
    absl::string_view stream, absl::string_view subject, uint64_t from_sequence,
    size_t max_messages) {
  const std::string name(stream);
  const std::string subj(subject);
  if (from_sequence == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("stream ", name, ": sequences start at 1"));
  }
  absl::StatusOr<uint64_t> last = LastSequence(name);
  if (!last.ok()) return last.status();
  std::vector<StoredMessage> out;
  if (from_sequence > *last || max_messages == 0) return out;
  const uint64_t to =
      std::min<uint64_t>(*last, from_sequence + (max_messages - 1));
  out.reserve(static_cast<size_t>(to - from_sequence + 1));
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = name.c_str();
  so.Ordered = true;
  so.Config.DeliverPolicy = js_DeliverByStartSequence;
  so.Config.OptStartSeq = from_sequence;
  OwnedSubscription sub;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_SubscribeSync(sub.out(), conn_->js, subj.c_str(), nullptr,
                                  &so, &code);
  const std::string what = absl::StrCat("stream ", name, ": ordered read of ",
                                        from_sequence, "..", to);
  if (s != NATS_OK) return FromNats(s, code, what);
  absl::Status status;
  for (uint64_t want = from_sequence; want <= to && status.ok();) {
    OwnedMsg msg;
    s = natsSubscription_NextMsg(msg.out(), sub.get(), conn_->wait_ms);
    if (s != NATS_OK) {
      status = FromNats(s, 0, absl::StrCat(what, " at ", want));
      break;
    }
    OwnedMetaData meta;
    if (natsMsg_GetMetaData(meta.out(), msg.get()) != NATS_OK) continue;  // control
    const uint64_t seq = meta->Sequence.Stream;
    if (seq != want) {
      status = absl::DataLossError(absl::StrCat(
          what, ": got sequence ", seq, " where ", want, " was due (a gap)"));
      break;
    }
    StoredMessage m = ToStored(msg.get());
    m.sequence = seq;
    out.push_back(std::move(m));
    ++want;
  }
  natsSubscription_Unsubscribe(sub.get());  // deletes the ephemeral consumer
  if (!status.ok()) return status;
  return out;
}

absl::StatusOr<uint64_t> JetStream::LastSequence(absl::string_view stream) {
  absl::StatusOr<StreamState> state = GetStreamState(stream);
  if (!state.ok()) return state.status();
  return state->last_sequence;
}

absl::StatusOr<StreamState> JetStream::GetStreamState(absl::string_view stream) {
  const std::string name(stream);
  OwnedStreamInfo info;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s =
      js_GetStreamInfo(info.out(), conn_->js, name.c_str(), nullptr, &code);
  if (s != NATS_OK) {
    return FromNats(s, code, absl::StrCat("stream ", name, ": info"));
  }
  StreamState out;
  out.messages = info->State.Msgs;
  out.first_sequence = info->State.FirstSeq;
  out.last_sequence = info->State.LastSeq;
  if (const jsClusterInfo* cluster = info->Cluster; cluster != nullptr) {
    if (cluster->Leader != nullptr) out.leader = cluster->Leader;
    for (int i = 0; i < cluster->ReplicasLen; ++i) {
      const jsPeerInfo* peer = cluster->Replicas[i];
      out.replicas.push_back({.name = peer->Name != nullptr ? peer->Name : "",
                              .current = peer->Current,
                              .offline = peer->Offline,
                              .lag = peer->Lag});
    }
  }
  return out;
}

namespace {

// Turns off direct gets on bucket `name`'s stream (KV_<name>), which
// js_CreateKeyValue switches on. A direct get is a queue request that any
// replica may answer: one sent to a replica on a frozen server (alive, its
// routes open, answering nothing) waits out the whole request timeout, and
// with three replicas about one get in two did while one server was
// frozen, also one that led neither the bucket nor the cluster's meta
// data. Without them a get goes to the bucket's leader (STREAM.MSG.GET),
// like every write does. Buckets made before this (or by a create that
// stopped before the update) are updated here, by whoever opens them.
absl::Status TurnOffDirectGets(jsCtx* js, const std::string& name) {
  const std::string stream = KvStream(name);
  OwnedStreamInfo info;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_GetStreamInfo(info.out(), js, stream.c_str(), nullptr, &code);
  if (s != NATS_OK) return FromNats(s, code, absl::StrCat("kv ", name, ": look up"));
  if (!info->Config->AllowDirect) return absl::OkStatus();
  info->Config->AllowDirect = false;
  code = static_cast<jsErrCode>(0);
  s = js_UpdateStream(nullptr, js, info->Config, nullptr, &code);
  if (s != NATS_OK) {
    return FromNats(s, code, absl::StrCat("kv ", name, ": turn off direct gets"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<KvBucket>> JetStream::EnsureKvBucket(
    const KvConfig& config) {
  kvStore* kv = nullptr;
  natsStatus s = js_KeyValue(&kv, conn_->js, config.name.c_str());
  if (s == NATS_NOT_FOUND) {
    if (config.ttl != absl::ZeroDuration() && config.ttl < absl::Milliseconds(100)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "kv ", config.name, ": ttl must be >= 100ms, got ",
          absl::FormatDuration(config.ttl)));
    }
    kvConfig cfg;
    kvConfig_Init(&cfg);
    cfg.Bucket = config.name.c_str();
    cfg.Replicas = config.replicas;
    cfg.StorageType = js_FileStorage;
    cfg.TTL = absl::ToInt64Nanoseconds(config.ttl);  // libnats: nanoseconds
    s = js_CreateKeyValue(&kv, conn_->js, &cfg);
  }
  if (kv != nullptr) kvStore_Destroy(kv);  // opened again without direct gets
  if (s != NATS_OK) {
    return FromNats(s, 0, absl::StrCat("kv ", config.name, ": open or create"));
  }
  return OpenKvBucket(config.name);
}

absl::StatusOr<std::unique_ptr<KvBucket>> JetStream::OpenKvBucket(
    absl::string_view name) {
  auto handle = std::make_unique<KvBucket::Handle>();
  handle->conn = conn_;
  handle->name = std::string(name);
  // The store reads the stream's setting when opened: turn it off first.
  absl::Status direct = TurnOffDirectGets(conn_->js, handle->name);
  if (absl::IsNotFound(direct)) {
    return absl::NotFoundError(absl::StrCat("kv ", handle->name, ": open: no such bucket"));
  }
  if (!direct.ok()) return direct;
  natsStatus s = js_KeyValue(&handle->kv, conn_->js, handle->name.c_str());
  if (s != NATS_OK) {
    return FromNats(s, 0, absl::StrCat("kv ", handle->name, ": open"));
  }
  return std::unique_ptr<KvBucket>(new KvBucket(std::move(handle)));
}

struct Responder::Handle {
  std::shared_ptr<JetStream::Conn> conn;  // keeps the connection open
  RequestHandler handler;
  std::string subject;
  natsSubscription* sub = nullptr;
  ~Handle() {
    if (sub == nullptr) return;
    // Drain: no new requests, and the ones being handled finish before
    // the handler goes.
    if (natsSubscription_Drain(sub) == NATS_OK) {
      natsSubscription_WaitForDrainCompletion(sub, 5000);
    }
    natsSubscription_Destroy(sub);
  }
};

namespace {

void OnRequest(natsConnection* nc, natsSubscription* /*sub*/, natsMsg* msg,
               void* closure) {
  auto* h = static_cast<Responder::Handle*>(closure);
  const char* data = natsMsg_GetData(msg);
  const std::string answer = h->handler(absl::string_view(
      data == nullptr ? "" : data,
      data == nullptr ? 0 : static_cast<size_t>(natsMsg_GetDataLength(msg))));
  const char* reply = natsMsg_GetReply(msg);
  if (reply != nullptr && *reply != '\0') {
    // A reply lost here is the requester's timeout.
    natsConnection_Publish(nc, reply, answer.data(),
                           static_cast<int>(answer.size()));
  }
  natsMsg_Destroy(msg);
}

}  // namespace

absl::StatusOr<std::unique_ptr<Responder>> JetStream::Respond(
    absl::string_view subject, RequestHandler handler) {
  auto handle = std::make_unique<Responder::Handle>();
  handle->conn = conn_;
  handle->handler = std::move(handler);
  handle->subject = std::string(subject);
  natsStatus s = natsConnection_Subscribe(&handle->sub, conn_->nc,
                                          handle->subject.c_str(), OnRequest,
                                          handle.get());
  if (s != NATS_OK) {
    handle->sub = nullptr;
    return FromNats(s, 0, absl::StrCat("respond on ", handle->subject));
  }
  // The subscription is known to the server before anyone is told to
  // send to it.
  s = natsConnection_Flush(conn_->nc);
  if (s != NATS_OK) {
    return FromNats(s, 0, absl::StrCat("respond on ", handle->subject));
  }
  return std::unique_ptr<Responder>(new Responder(std::move(handle)));
}

absl::StatusOr<std::string> JetStream::Request(absl::string_view subject,
                                               absl::string_view data,
                                               absl::Duration timeout) {
  const std::string subj(subject);
  OwnedMsg reply;
  natsStatus s = natsConnection_Request(reply.out(), conn_->nc, subj.c_str(),
                                        data.data(),
                                        static_cast<int>(data.size()),
                                        Millis(timeout));
  if (s != NATS_OK) return FromNats(s, 0, absl::StrCat("request ", subj));
  const char* out = natsMsg_GetData(reply.get());
  return std::string(out == nullptr ? "" : out,
                     out == nullptr
                         ? 0
                         : static_cast<size_t>(natsMsg_GetDataLength(reply.get())));
}

absl::Duration JetStream::request_timeout() const {
  return absl::Milliseconds(conn_->wait_ms);
}

Responder::Responder(std::unique_ptr<Handle> handle)
    : handle_(std::move(handle)) {}
Responder::~Responder() = default;

KvBucket::KvBucket(std::unique_ptr<Handle> handle) : handle_(std::move(handle)) {}
KvBucket::~KvBucket() = default;

absl::StatusOr<uint64_t> KvBucket::Create(absl::string_view key,
                                          absl::string_view value) {
  const std::string k(key);
  uint64_t rev = 0;
  natsStatus s = kvStore_Create(&rev, handle_->kv, k.c_str(), value.data(),
                                static_cast<int>(value.size()));
  if (s != NATS_OK) {
    absl::Status status = FromNats(s, 0, handle_->What("create", k));
    // The create's hidden expectation ("no value yet") failed.
    if (absl::IsFailedPrecondition(status)) {
      return absl::AlreadyExistsError(status.message());
    }
    return status;
  }
  return rev;
}

absl::StatusOr<uint64_t> KvBucket::Update(absl::string_view key,
                                          absl::string_view value,
                                          uint64_t expected_revision) {
  const std::string k(key);
  uint64_t rev = 0;
  natsStatus s = kvStore_Update(&rev, handle_->kv, k.c_str(), value.data(),
                                static_cast<int>(value.size()), expected_revision);
  if (s != NATS_OK) {
    return FromNats(s, 0,
                    handle_->What(absl::StrCat("update (expected revision ",
                                               expected_revision, ")"),
                                  k));
  }
  return rev;
}

absl::StatusOr<KvEntry> KvBucket::Get(absl::string_view key) {
  const std::string k(key);
  OwnedKvEntry entry;
  natsStatus s = kvStore_Get(entry.out(), handle_->kv, k.c_str());
  if (s != NATS_OK) return FromNats(s, 0, handle_->What("get", k));
  KvEntry out;
  const void* data = kvEntry_Value(entry.get());
  if (data != nullptr) {
    out.value.assign(static_cast<const char*>(data), kvEntry_ValueLen(entry.get()));
  }
  out.revision = kvEntry_Revision(entry.get());
  return out;
}

absl::Status KvBucket::Delete(absl::string_view key) {
  const std::string k(key);
  natsStatus s = kvStore_Delete(handle_->kv, k.c_str());
  if (s != NATS_OK) return FromNats(s, 0, handle_->What("delete", k));
  return absl::OkStatus();
}

absl::Status KvBucket::Delete(absl::string_view key, uint64_t expected_revision) {
  // libnats 3.4 has no conditional delete: publish the delete marker that
  // kvStore_Delete would, with the key's expected last subject sequence.
  const std::string what =
      handle_->What(absl::StrCat("delete (expected revision ", expected_revision, ")"),
                    key);
  if (expected_revision == 0) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": revisions start at 1"));
  }
  const std::string subject = handle_->Subject(key);
  OwnedMsg msg;
  natsStatus s = natsMsg_Create(msg.out(), subject.c_str(), nullptr, nullptr, 0);
  if (s == NATS_OK) s = natsMsgHeader_Set(msg.get(), "KV-Operation", "DEL");
  if (s != NATS_OK) return FromNats(s, 0, what);
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MaxWait = handle_->conn->wait_ms;
  po.ExpectLastSubjectSeq = expected_revision;
  OwnedPubAck ack;
  jsErrCode code = static_cast<jsErrCode>(0);
  s = js_PublishMsg(ack.out(), handle_->conn->js, msg.get(), &po, &code);
  if (s != NATS_OK) return FromNats(s, code, what);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> KvBucket::Keys(absl::string_view prefix) {
  // Not kvStore_Keys: it reads through an ephemeral consumer, which the
  // meta leader creates (none during its election) and places on any
  // server, a frozen one too (then it never answers). The stream's leader
  // lists the subjects; a key's last message may be a delete marker, which
  // Get tells.
  const std::string stream = KvStream(handle_->name);
  const std::string subjects = handle_->Subject("");
  const std::string filter = handle_->Subject(">");
  jsOptions o;
  jsOptions_Init(&o);
  o.Wait = handle_->conn->wait_ms;
  o.Stream.Info.SubjectsFilter = filter.c_str();
  OwnedStreamInfo info;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_GetStreamInfo(info.out(), handle_->conn->js, stream.c_str(), &o,
                                  &code);
  if (s != NATS_OK) return FromNats(s, code, handle_->What("keys", prefix));
  std::vector<std::string> out;
  const jsStreamStateSubjects* listed = info->State.Subjects;
  for (int i = 0; listed != nullptr && i < listed->Count; ++i) {
    absl::string_view key(listed->List[i].Subject);
    if (!absl::ConsumePrefix(&key, subjects) || !absl::StartsWith(key, prefix)) continue;
    absl::StatusOr<KvEntry> entry = Get(key);
    if (absl::IsNotFound(entry.status())) continue;  // deleted or expired since
    if (!entry.ok()) return entry.status();
    out.emplace_back(key);
  }
  return out;
}

struct KvWatcher::Handle {
  std::shared_ptr<JetStream::Conn> conn;  // keeps the connection open
  kvWatcher* w = nullptr;
  std::string bucket;
  ~Handle() {
    if (w != nullptr) kvWatcher_Destroy(w);
  }
};

absl::StatusOr<std::unique_ptr<KvWatcher>> KvBucket::WatchAll() {
  auto handle = std::make_unique<KvWatcher::Handle>();
  handle->conn = handle_->conn;
  handle->bucket = handle_->name;
  natsStatus s = kvStore_WatchAll(&handle->w, handle_->kv, nullptr);
  if (s != NATS_OK) {
    handle->w = nullptr;
    return FromNats(s, 0, absl::StrCat("kv ", handle_->name, ": watch"));
  }
  return std::unique_ptr<KvWatcher>(new KvWatcher(std::move(handle)));
}

KvWatcher::KvWatcher(std::unique_ptr<Handle> handle) : handle_(std::move(handle)) {}
KvWatcher::~KvWatcher() = default;

void KvWatcher::Stop() { kvWatcher_Stop(handle_->w); }

absl::StatusOr<std::optional<KvChange>> KvWatcher::Next(absl::Duration timeout) {
  OwnedKvEntry entry;
  natsStatus s = kvWatcher_Next(entry.out(), handle_->w, Millis(timeout));
  if (s == NATS_ILLEGAL_STATE) {
    return absl::CancelledError(
        absl::StrCat("kv ", handle_->bucket, ": watch stopped"));
  }
  if (s != NATS_OK) {
    return FromNats(s, 0, absl::StrCat("kv ", handle_->bucket, ": watch"));
  }
  if (entry.get() == nullptr) return std::optional<KvChange>();  // initial done
  KvChange change;
  change.key = kvEntry_Key(entry.get());
  change.revision = kvEntry_Revision(entry.get());
  const kvOperation op = kvEntry_Operation(entry.get());
  change.deleted = op == kvOp_Delete || op == kvOp_Purge;
  const void* data = kvEntry_Value(entry.get());
  if (data != nullptr && !change.deleted) {
    change.value.assign(static_cast<const char*>(data),
                        kvEntry_ValueLen(entry.get()));
  }
  return std::optional<KvChange>(std::move(change));
}

}  // namespace slate
