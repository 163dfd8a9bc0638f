#include "tools/commands.h"

#include "tools/registry.inc"

namespace slate::tools {

absl::Span<const CommandSpec> AllCommands() { return kCommands; }

}  // namespace slate::tools
