// COFFER_ASSERT: checks an invariant in every build, release included
// (TigerBeetle, Redpanda's vassert). A broken invariant means the process can
// no longer be trusted, so it prints where and aborts. core/assert.h is the
// project's; the fallback keeps net building on its own.
#pragma once

#if __has_include("core/assert.h")
#include "core/assert.h"
#else
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
