// The projections every Engine keeps current. Add a built-in projection by
// adding one line to BuiltinProjections() in builtins.cc.
//
//   auto runner = slate::ProjectionRunner::Open(
//       log, slate::BuiltinProjections(options), {});
#ifndef SLATE_LIB_PROJECTION_BUILTINS_H_
#define SLATE_LIB_PROJECTION_BUILTINS_H_

#include <memory>
#include <vector>

#include "lib/api/options.h"
#include "lib/projection/projection.h"

namespace slate {

// Fresh instances of every built-in projection (also used by verification,
// which folds a fresh instance from scratch and compares).
std::vector<std::unique_ptr<Projection>> BuiltinProjections(
    const Options& options);

}  // namespace slate

#endif  // SLATE_LIB_PROJECTION_BUILTINS_H_
