// Status propagation helpers (Abseil 20220623 ships none).
//
//   absl::StatusOr<int> Parse(absl::string_view s);
//   absl::Status Use(absl::string_view s) {
//     SLATE_ASSIGN_OR_RETURN(int v, Parse(s));
//     SLATE_RETURN_IF_ERROR(Check(v));
//     return absl::OkStatus();
//   }
#ifndef SLATE_LIB_BASE_STATUS_MACROS_H_
#define SLATE_LIB_BASE_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define SLATE_RETURN_IF_ERROR(expr)                \
  do {                                             \
    ::absl::Status slate_status_ = (expr);         \
    if (!slate_status_.ok()) return slate_status_; \
  } while (0)

#define SLATE_STATUS_CONCAT_INNER_(a, b) a##b
#define SLATE_STATUS_CONCAT_(a, b) SLATE_STATUS_CONCAT_INNER_(a, b)

#define SLATE_ASSIGN_OR_RETURN(lhs, expr) \
  SLATE_ASSIGN_OR_RETURN_IMPL_(           \
      SLATE_STATUS_CONCAT_(slate_statusor_, __LINE__), lhs, expr)

#define SLATE_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return tmp.status();                \
  lhs = std::move(tmp).value()

#endif  // SLATE_LIB_BASE_STATUS_MACROS_H_
