// Runs the batch payload fuzz target over deterministic inputs: random bytes,
// valid payloads, and valid payloads with mutations (bit flips, truncation,
// insertion, overwritten length/count fields), so every CI run exercises the
// decoder's error paths.
#include <gtest/gtest.h>

#include <cstdlib>
#include <random>
#include <vector>

#include "storage/batch_payload.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace coffer::storage {
namespace {

using Bytes = std::vector<std::byte>;

int run(const Bytes& input) {
  return LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
}

// Byte 0: command count; then a valid payload of that many commands.
Bytes valid_input(std::mt19937_64& rng) {
  uint32_t count = uint32_t(rng() % 8);
  std::vector<Command> commands(count);
  for (auto& c : commands) {
    c = make_transfer(Id128{rng(), rng()}, rng(), rng(), int64_t(rng() >> 2), asset_wallet);
  }
  std::vector<CommandText> texts;
  for (uint32_t i = 0; i < count; ++i) {
    if (rng() % 2 != 0) continue;
    CommandText t;
    t.index = i;
    t.key = Id128{rng() | 1, rng()};
    t.group = rng() % 3 == 0 ? 0 : rng();
    t.text.resize(rng() % 3 == 0 ? 0 : rng() % 40);
    for (char& ch : t.text)
      ch = char(rng());
    texts.push_back(std::move(t));
  }
  Bytes input = {std::byte(count)};
  encode_batch_payload(commands, texts, &input);
  return input;
}

void mutate(Bytes& s, std::mt19937_64& rng) {
  if (s.size() <= 1) return;
  int edits = 1 + int(rng() % 3);
  for (int e = 0; e < edits && s.size() > 1; ++e) {
    size_t at = 1 + rng() % (s.size() - 1);
    switch (rng() % 5) {
      case 0:
        s[at] ^= std::byte(1u << (rng() % 8));
        break;
      case 1:
        s.resize(at);
        break;
      case 2:
        s.insert(s.begin() + ptrdiff_t(at), std::byte(rng()));
        break;
      case 3:  // a small u32 somewhere: hits counts, indexes and lengths
        if (at + 4 <= s.size()) {
          uint32_t v = uint32_t(rng() % 48);
          for (int i = 0; i < 4; ++i)
            s[at + i] = std::byte(v >> (8 * i));
        }
        break;
      default:
        s[0] = std::byte(rng());  // another command count
        break;
    }
  }
}

size_t iterations() {
  return std::getenv("COFFER_SOAK") != nullptr ? 1'000'000 : 20'000;
}

TEST(BatchPayloadFuzz, RandomBytes) {
  std::mt19937_64 rng(0xBA7C4);
  for (size_t i = 0; i < iterations(); ++i) {
    Bytes input(rng() % 200);
    for (auto& b : input)
      b = std::byte(rng());
    if (!input.empty()) input[0] = std::byte(rng() % 2);  // small counts reach the texts
    ASSERT_EQ(run(input), 0);
  }
}

TEST(BatchPayloadFuzz, ValidPayloadsDecode) {
  std::mt19937_64 rng(17);
  for (size_t i = 0; i < iterations() / 4; ++i) {
    Bytes input = valid_input(rng);
    uint32_t count = uint32_t(input[0]);
    std::span<const std::byte> commands;
    std::vector<CommandText> texts;
    std::string error;
    ASSERT_TRUE(decode_batch_payload(std::span(input).subspan(1), count, &commands, &texts, &error))
        << error;
    ASSERT_EQ(run(input), 0);
  }
}

TEST(BatchPayloadFuzz, MutatedValidPayloads) {
  std::mt19937_64 rng(19);
  for (size_t i = 0; i < iterations(); ++i) {
    Bytes s = valid_input(rng);
    mutate(s, rng);
    ASSERT_EQ(run(s), 0);
  }
}

}  // namespace
}  // namespace coffer::storage
