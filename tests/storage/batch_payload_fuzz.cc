// libFuzzer target: decode_batch_payload (storage/batch_payload.h). Built as a
// fuzzer with -DCOFFER_FUZZ=ON (clang) and, in every build, into
// storage_batch_payload_fuzz_test, which runs it over deterministic inputs.
//
// Input: byte 0 is the command count (0..7; the payload is small enough that a
// larger count only tests "shorter than its commands"); the rest is the
// payload. Besides "no crash, no over-read" it checks, for every input:
// - a decoded payload satisfies command_texts_valid and re-encodes to exactly
//   the bytes it was decoded from (so the grammar has one encoding);
// - a rejected payload leaves no texts and says why.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "storage/batch_payload.h"
#include "tests/fuzz_check.h"

namespace {}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint32_t command_count = data[0] % 8;
  // An exactly sized copy, so that any over-read is outside the allocation.
  std::vector<std::byte> payload(size - 1);
  if (!payload.empty()) std::memcpy(payload.data(), data + 1, payload.size());

  std::span<const std::byte> commands;
  std::vector<coffer::CommandText> texts;
  std::string error;
  bool ok =
      coffer::storage::decode_batch_payload(payload, command_count, &commands, &texts, &error);
  if (!ok) {
    FUZZ_CHECK(texts.empty());
    FUZZ_CHECK(!error.empty());
    return 0;
  }
  FUZZ_CHECK(commands.size() == command_count * sizeof(coffer::Command));
  FUZZ_CHECK(commands.data() == payload.data() || commands.empty());
  FUZZ_CHECK(coffer::command_texts_valid(texts, command_count));
  std::vector<coffer::Command> copied(command_count);
  if (command_count > 0) std::memcpy(copied.data(), commands.data(), commands.size());
  std::vector<std::byte> again;
  coffer::storage::encode_batch_payload(copied, texts, &again);
  FUZZ_CHECK(again == payload);
  return 0;
}
