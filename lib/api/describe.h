// Human-readable one-line descriptions of logged events, for examples, the
// `slate` tool and debugging.
//
//   for (const slate::Envelope& e : *events) {
//     std::cout << slate::DescribeEvent(e) << "\n";
//   }
//   // "#3 incident/INC1 v3 2026-11-20 09:42:00 UTC incident assigned
//   group=network"
#ifndef SLATE_LIB_API_DESCRIBE_H_
#define SLATE_LIB_API_DESCRIBE_H_

#include <string>

#include "proto/events.pb.h"

namespace slate {

// The payload alone, e.g. `incident assigned group=network person=bob`:
// the payload field name, then every field that is set.
std::string DescribePayload(const Envelope& e);

// Position, stream, version, event time (UTC) and the payload.
std::string DescribeEvent(const Envelope& e);

}  // namespace slate

#endif  // SLATE_LIB_API_DESCRIBE_H_
