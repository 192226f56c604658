// FUZZ_CHECK(cond): a property every input must keep, in the libFuzzer
// targets (tests/*/..._fuzz.cc). A failure prints the property and aborts, so
// that the fuzzer saves the input and the CI driver test fails.
#pragma once

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(cond)                                                               \
  do {                                                                                 \
    if (!(cond)) {                                                                     \
      std::fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                    \
    }                                                                                  \
  } while (0)
