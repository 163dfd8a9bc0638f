#include "tools/nats_flags.h"

#include <utility>

#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace slate::tools {

CLI::Option* AddNatsFlags(CLI::App* app, NatsFlags* f, bool required) {
  CLI::Option* nats =
      app->add_option("--nats", f->nats,
                      "NATS server URLs of the cluster, comma-separated")
          ->type_name("URLS");
  if (required) nats->required();
  app->add_option("--prefix", f->prefix,
                  "prefix of the cluster's stream and bucket names")
      ->type_name("NAME")
      ->capture_default_str();
  return nats;
}

absl::StatusOr<NatsConnection> ConnectNats(const NatsFlags& f,
                                           absl::string_view name,
                                           bool reconnect_forever) {
  JetStreamOptions options;
  options.servers = absl::StrSplit(f.nats, ',', absl::SkipWhitespace());
  if (options.servers.empty()) {
    return absl::InvalidArgumentError("--nats: no server URL given");
  }
  options.name = std::string(name);
  options.max_reconnect = reconnect_forever ? -1 : 3;
  NatsConnection c;
  absl::StatusOr<std::unique_ptr<JetStream>> js = JetStream::Connect(options);
  if (!js.ok()) return js.status();
  c.js = *std::move(js);
  return c;
}

absl::StatusOr<NatsConnection> ConnectCluster(const NatsFlags& f,
                                              absl::string_view name,
                                              bool reconnect_forever) {
  absl::StatusOr<NatsConnection> c = ConnectNats(f, name, reconnect_forever);
  if (!c.ok()) return c.status();
  // Right after a server died the buckets elect new leaders and opening
  // them times out for a few seconds: retried, up to 30 s.
  const absl::Time give_up = absl::Now() + absl::Seconds(30);
  absl::StatusOr<std::unique_ptr<cluster::Cluster>> opened =
      cluster::Cluster::Open(*c->js, f.prefix);
  while (!opened.ok() &&
         (absl::IsDeadlineExceeded(opened.status()) ||
          absl::IsUnavailable(opened.status())) &&
         absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(250));
    opened = cluster::Cluster::Open(*c->js, f.prefix);
  }
  if (!opened.ok()) return opened.status();
  c->cluster = *std::move(opened);
  return c;
}

}  // namespace slate::tools
