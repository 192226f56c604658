// COFFER_ASSERT: checks an invariant that must never break, in every build type.
// A broken invariant in a ledger means the state can no longer be trusted, so we
// stop (TigerBeetle style) rather than continue and journal garbage.
#pragma once

#include <cstdio>
#include <cstdlib>

namespace coffer::detail {
[[noreturn]] inline void assert_fail(const char* expr, const char* file, int line) {
  std::fprintf(stderr, "%s:%d: assertion failed: %s\n", file, line, expr);
  std::fflush(stderr);
  std::abort();
}
}  // namespace coffer::detail

#define COFFER_ASSERT(expr)                                     \
  do {                                                          \
    if (__builtin_expect(!(expr), 0)) {                         \
      ::coffer::detail::assert_fail(#expr, __FILE__, __LINE__); \
    }                                                           \
  } while (0)
