// The program every consumer project in tests/packaging builds against an
// installed or referenced Slate (Bazel, CMake find_package, pkg-config): it
// opens an engine on the directory given, opens an incident and reads it
// back. Uses only Engine::Open, Execute, LoadAggregate and ReadStream.
#include <iostream>
#include <string>

#include "google/protobuf/util/json_util.h"
#include "lib/api/engine.h"
#include "lib/api/version.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: consumer DB_DIR\n";
    return 2;
  }
  slate::Options options;  // every field documents its default
  auto engine = slate::Engine::Open(options, argv[1]);
  if (!engine.ok()) {
    std::cerr << engine.status() << "\n";
    return 1;
  }
  for (const char* json : {
           R"({"defineService":{"serviceId":"email","name":"E-mail"}})",
           R"({"openIncident":{"incidentId":"INC1","serviceId":"email",)"
           R"("impact":1,"urgency":2,"shortDescription":"mail down"}})",
       }) {
    slate::Command command;  // proto/commands.proto; JSON: protobuf mapping
    if (!google::protobuf::util::JsonStringToMessage(json, &command).ok()) {
      std::cerr << "bad command: " << json << "\n";
      return 1;
    }
    auto result = (*engine)->Execute(command);  // decided, appended, folded
    if (!result.ok()) {
      std::cerr << result.status() << "\n";
      return 1;
    }
  }
  auto incident = (*engine)->LoadAggregate("incident", "INC1");
  auto events = (*engine)->ReadStream("incident/INC1", 0, 100);
  if (!incident.ok() || !events.ok()) {
    std::cerr << "read failed\n";
    return 1;
  }
  std::cout << "Slate " << SLATE_VERSION << ": incident "
            << incident->incident().incident_id() << " priority "
            << incident->incident().priority() << ", " << events->size()
            << " event(s) in incident/INC1\n";
  return 0;
}
