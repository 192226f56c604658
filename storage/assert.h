// COFFER_ASSERT: stays on in release builds, prints file:line and aborts. For
// invariants whose violation means the journal can no longer be trusted;
// expected failures are Status values. core/assert.h is the project's (storage
// may depend on core); the fallback keeps storage building on its own.
#pragma once

#if __has_include("core/assert.h")
#include "core/assert.h"
#endif

#ifndef COFFER_ASSERT
#include <cstdio>
#include <cstdlib>

#define COFFER_ASSERT(cond)                                                             \
  do {                                                                                  \
    if (!(cond)) [[unlikely]] {                                                         \
      std::fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                     \
    }                                                                                   \
  } while (0)
#endif
