// Slate's release version, for programs that embed the library:
//
//   #include "lib/api/version.h"
//   std::printf("built with Slate %s\n", SLATE_VERSION);
//   #if SLATE_VERSION_MAJOR == 0 && SLATE_VERSION_MINOR < 2 ...
//
// The on-disk log has a version of its own (log_format::kFormatVersion in
// lib/log/log_format.h); `slate version` prints both. The CMake build reads
// the version of the package (SlateConfigVersion.cmake, slate.pc) from here;
// CHANGELOG.md says what each version changed.
#ifndef SLATE_LIB_API_VERSION_H_
#define SLATE_LIB_API_VERSION_H_

#define SLATE_VERSION_MAJOR 0
#define SLATE_VERSION_MINOR 1
#define SLATE_VERSION_PATCH 0
#define SLATE_VERSION "0.1.0"

#endif  // SLATE_LIB_API_VERSION_H_
