// Internal access to an open Engine's parts, for tests and benchmarks that
// check the internals (projection state dumps, crash points, folds). Not part
// of the public API: visible to //tests and //bench only.
//
//   #include "lib/api/engine_internal.h"
//   auto dump = slate::RunnerOf(*engine).Dump("kpi");
#ifndef SLATE_LIB_API_ENGINE_INTERNAL_H_
#define SLATE_LIB_API_ENGINE_INTERNAL_H_

#include "lib/api/engine.h"
#include "lib/log/event_log.h"
#include "lib/projection/runner.h"

namespace slate {

// The projection runner and the event log of an engine Engine::Open made.
// Valid while the engine is open.
ProjectionRunner& RunnerOf(Engine& engine);
EventLog& LogOf(Engine& engine);

}  // namespace slate

#endif  // SLATE_LIB_API_ENGINE_INTERNAL_H_
