// A small C++ wrapper over libnats (nats.c 3.4) for the clustered log
// (issue 19): a connection to a NATS JetStream cluster, streams with fenced
// and de-duplicated publishes, ordered reads by sequence, and KV buckets with
// revision-checked updates (leases). Every call returns absl::Status or
// absl::StatusOr; nothing throws. libnats types stay out of this header.
//
//   slate::JetStreamOptions options;
//   options.servers = {"nats://127.0.0.1:4222", "nats://127.0.0.1:4223"};
//   SLATE_ASSIGN_OR_RETURN(std::unique_ptr<slate::JetStream> js,
//                          slate::JetStream::Connect(options));
//   slate::StreamConfig stream;
//   stream.name = "P0";
//   stream.subjects = {"p0.>"};
//   stream.replicas = 3;
//   SLATE_RETURN_IF_ERROR(js->EnsureStream(stream));
//   slate::PublishOptions fence;
//   fence.msg_id = "cmd-42";               // a retry is acknowledged once
//   fence.expected_last_sequence = last;   // what this writer last saw
//   absl::StatusOr<slate::PublishAck> ack = js->Publish("p0.events", bytes,
//                                                       fence);
//   // kFailedPrecondition: somebody else appended since `last` (fenced).
//
//   slate::KvConfig bucket;
//   bucket.name = "leases";
//   bucket.ttl = absl::Seconds(10);
//   SLATE_ASSIGN_OR_RETURN(std::unique_ptr<slate::KvBucket> leases,
//                          js->EnsureKvBucket(bucket));
//   absl::StatusOr<uint64_t> rev = leases->Create("p0", "node-a");  // acquire
//   rev = leases->Update("p0", "node-a", *rev);                     // renew
//
// Error codes: kFailedPrecondition for a failed expectation (JetStream error
// 10071 "wrong last sequence", a stale KV revision), kAlreadyExists for a KV
// create of a live key, kNotFound for a missing stream, message or key,
// kDeadlineExceeded for a timeout, kUnavailable when no server can be
// reached or the connection is lost, kInvalidArgument for bad input.
//
// Thread safety: a JetStream and its KvBuckets may be used from several
// threads (libnats connections are thread-safe). A KvBucket keeps the
// connection alive; the connection is closed when the JetStream and every
// KvBucket made from it are gone.
#ifndef SLATE_LIB_CLUSTER_JETSTREAM_H_
#define SLATE_LIB_CLUSTER_JETSTREAM_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace slate {

struct JetStreamOptions {
  // Server URLs ("nats://127.0.0.1:4222"), one per element; the client fails
  // over between them. Required. Default: none.
  std::vector<std::string> servers;
  // The connection's name, shown by the servers. Default: "slate".
  std::string name = "slate";
  // How long one connection attempt to a server may take. Default: 2 s.
  absl::Duration connect_timeout = absl::Seconds(2);
  // How long a JetStream request (publish acknowledgement, stream info,
  // message get, KV operation) may take. Default: 5 s.
  absl::Duration request_timeout = absl::Seconds(5);
  // Reconnect attempts per server after a connection is lost; -1 forever.
  // Default: 60.
  int max_reconnect = 60;
  // Pause between reconnect attempts to the same server. Default: 250 ms.
  absl::Duration reconnect_wait = absl::Milliseconds(250);
};

struct StreamConfig {
  // Stream name (no '.', '*', '>' or spaces). Required.
  std::string name;
  // Subjects the stream captures, e.g. {"p0.>"}. Required.
  std::vector<std::string> subjects;
  // Copies kept by the cluster (1, 3 or 5). Default: 1.
  int replicas = 1;
  // How long a Nats-Msg-Id is remembered for de-duplication. Default: 2 min.
  absl::Duration duplicate_window = absl::Minutes(2);
};

struct PublishOptions {
  // Nats-Msg-Id: a publish repeating an id seen inside the stream's
  // duplicate window is acknowledged with the original sequence and not
  // stored again. Default: empty (no de-duplication).
  std::string msg_id;
  // Fence: store only if the stream's last sequence is exactly this value,
  // else kFailedPrecondition and nothing is stored. Must be >= 1: libnats
  // cannot express "the stream is empty", so a stream to be fenced starts
  // with a marker message. Default: none (no expectation).
  std::optional<uint64_t> expected_last_sequence;
};

struct PublishAck {
  uint64_t sequence = 0;   // where the message is (or already was) stored
  bool duplicate = false;  // true: msg_id seen before, nothing stored now
};

struct StoredMessage {
  uint64_t sequence = 0;
  std::string subject;
  std::string data;
  std::string msg_id;  // the Nats-Msg-Id header, empty when none
};

struct ReplicaState {
  std::string name;  // the server's name
  bool current = false;
  bool offline = false;
  uint64_t lag = 0;  // operations behind the leader
};

struct StreamState {
  uint64_t messages = 0;
  uint64_t first_sequence = 0;
  uint64_t last_sequence = 0;  // 0 for a stream that never stored anything
  std::string leader;          // empty without a cluster
  // The leader's view of the other copies (empty without a cluster).
  std::vector<ReplicaState> replicas;
};

struct KvConfig {
  // Bucket name. Required.
  std::string name;
  // Copies kept by the cluster. Default: 1.
  int replicas = 1;
  // An entry expires this long after its last write; zero never. JetStream
  // needs at least 100 ms. Default: zero.
  absl::Duration ttl = absl::ZeroDuration();
};

struct KvEntry {
  std::string value;
  uint64_t revision = 0;
};

// One change of a watched bucket (KvBucket::WatchAll).
struct KvChange {
  std::string key;
  std::string value;  // empty for a delete
  uint64_t revision = 0;
  bool deleted = false;  // deleted or purged
};

class KvBucket;
class KvWatcher;
class Responder;

// Answers one request: its payload in, the reply's payload out.
using RequestHandler = std::function<std::string(absl::string_view request)>;

class JetStream {
 public:
  // Connects to options.servers. kUnavailable if no server answers.
  static absl::StatusOr<std::unique_ptr<JetStream>> Connect(
      const JetStreamOptions& options);

  ~JetStream();
  JetStream(const JetStream&) = delete;
  JetStream& operator=(const JetStream&) = delete;

  // Creates the stream, or checks that the existing one has the same
  // subjects and replicas (kFailedPrecondition if not).
  absl::Status EnsureStream(const StreamConfig& config);

  // Publishes `data` to `subject` and waits for the stream's acknowledgement.
  absl::StatusOr<PublishAck> Publish(absl::string_view subject,
                                     absl::string_view data,
                                     const PublishOptions& options = {});

  // The message stored at `sequence`; kNotFound if there is none.
  absl::StatusOr<StoredMessage> Get(absl::string_view stream,
                                    uint64_t sequence);

  // Messages from `from_sequence` (>= 1) up to the stream's last sequence,
  // at most `max_messages`, in order. One request per message to the
  // stream's leader (the STREAM.MSG.GET API): exact and simple, and a read
  // never races a consumer's state; bulk catch-up will want an ordered
  // consumer. kDataLoss if a sequence inside the range has no message
  // (Slate's streams never delete).
  absl::StatusOr<std::vector<StoredMessage>> Read(absl::string_view stream,
                                                  uint64_t from_sequence,
                                                  size_t max_messages);

  // The same messages as Read, through an ordered consumer (an ephemeral
  // push consumer the library keeps in order, with flow control): one
  // request to set it up, then the messages stream in, instead of one
  // request per message. `subject` is a filter inside the stream's
  // subjects (e.g. "p0.>"); the messages must be every sequence of
  // from_sequence..end (kDataLoss for a gap). Worth it from a few dozen
  // messages on.
  absl::StatusOr<std::vector<StoredMessage>> ReadOrdered(
      absl::string_view stream, absl::string_view subject,
      uint64_t from_sequence, size_t max_messages);

  // The stream's last sequence (0 if it never stored anything).
  absl::StatusOr<uint64_t> LastSequence(absl::string_view stream);
  absl::StatusOr<StreamState> GetStreamState(absl::string_view stream);

  // Creates the bucket, or opens the existing one (its settings unchanged,
  // but see OpenKvBucket).
  absl::StatusOr<std::unique_ptr<KvBucket>> EnsureKvBucket(
      const KvConfig& config);
  // Opens an existing bucket; kNotFound if there is none. Turns off direct
  // gets on its stream if they are on (libnats creates buckets with them):
  // a direct get may be answered by any replica, and one sent to a frozen
  // server's waits out the request timeout. Reads go to the bucket's
  // leader instead, as writes do.
  absl::StatusOr<std::unique_ptr<KvBucket>> OpenKvBucket(absl::string_view name);

  // Core NATS request/reply (no JetStream): answers every request sent to
  // `subject` with `handler` (called on a libnats thread, one request at a
  // time) until the Responder is destroyed. A request with no responder
  // fails at once with kUnavailable ("no responders").
  absl::StatusOr<std::unique_ptr<Responder>> Respond(absl::string_view subject,
                                                     RequestHandler handler);
  // Sends `data` to `subject` and waits up to `timeout` for the reply.
  // kUnavailable when nobody answers the subject, kDeadlineExceeded on a
  // timeout (the request may have been handled).
  absl::StatusOr<std::string> Request(absl::string_view subject,
                                      absl::string_view data,
                                      absl::Duration timeout);

  // JetStreamOptions::request_timeout.
  absl::Duration request_timeout() const;

  struct Conn;  // libnats handles; defined in jetstream.cc

 private:
  explicit JetStream(std::shared_ptr<Conn> conn);
  std::shared_ptr<Conn> conn_;
};

// A subscription answering requests (JetStream::Respond). Unsubscribes when
// destroyed; a handler running then finishes first.
class Responder {
 public:
  ~Responder();
  Responder(const Responder&) = delete;
  Responder& operator=(const Responder&) = delete;

  struct Handle;  // defined in jetstream.cc

 private:
  friend class JetStream;
  explicit Responder(std::unique_ptr<Handle> handle);
  std::unique_ptr<Handle> handle_;
};

// A JetStream key-value bucket: revision-checked writes for leases.
class KvBucket {
 public:
  ~KvBucket();
  KvBucket(const KvBucket&) = delete;
  KvBucket& operator=(const KvBucket&) = delete;

  // Writes `key` only if it has no live value (acquire); returns the new
  // revision. kAlreadyExists if it has one.
  absl::StatusOr<uint64_t> Create(absl::string_view key,
                                  absl::string_view value);
  // Writes `key` only if its current revision is `expected_revision`
  // (renew, fence); returns the new revision. kFailedPrecondition if not.
  absl::StatusOr<uint64_t> Update(absl::string_view key,
                                  absl::string_view value,
                                  uint64_t expected_revision);
  // kNotFound if the key has no live value (never written, deleted, expired).
  absl::StatusOr<KvEntry> Get(absl::string_view key);
  // Deletes the key's value (release). Deleting a missing key is not an error.
  absl::Status Delete(absl::string_view key);
  // Deletes the key's value only if its current revision is
  // `expected_revision` (release a lease without deleting a successor's);
  // kFailedPrecondition if not.
  absl::Status Delete(absl::string_view key, uint64_t expected_revision);
  // The keys starting with `prefix` that have a live value (not deleted,
  // not expired), in no particular order; none for an empty bucket. Asks the
  // bucket's leader: one request for the list of keys, then a Get per key
  // starting with `prefix` (a deleted key's marker is listed too). Needs no
  // consumer, so neither the cluster's meta leader nor a server a consumer
  // could be placed on.
  absl::StatusOr<std::vector<std::string>> Keys(absl::string_view prefix = "");

  // Follows every key of the bucket: first each key's current value, then
  // every later change, in revision order (an ordered consumer: one
  // request to the meta leader to set it up, which may not answer during
  // an election or from a frozen server; libnats recreates it past a gap).
  absl::StatusOr<std::unique_ptr<KvWatcher>> WatchAll();

  struct Handle;  // defined in jetstream.cc

 private:
  friend class JetStream;
  explicit KvBucket(std::unique_ptr<Handle> handle);
  std::unique_ptr<Handle> handle_;
};

// A bucket's changes (KvBucket::WatchAll). Next is called by one thread at
// a time; Stop from any thread.
class KvWatcher {
 public:
  ~KvWatcher();
  KvWatcher(const KvWatcher&) = delete;
  KvWatcher& operator=(const KvWatcher&) = delete;

  // The next change; nullopt once, after the values present when the watch
  // began (the initial state is complete). kDeadlineExceeded when nothing
  // came within `timeout`, kCancelled after Stop, kUnavailable when the
  // connection is lost.
  absl::StatusOr<std::optional<KvChange>> Next(absl::Duration timeout);
  // Ends a waiting and every later Next with kCancelled.
  void Stop();

  struct Handle;  // defined in jetstream.cc

 private:
  friend class KvBucket;
  explicit KvWatcher(std::unique_ptr<Handle> handle);
  std::unique_ptr<Handle> handle_;
};

}  // namespace slate

#endif  // SLATE_LIB_CLUSTER_JETSTREAM_H_
