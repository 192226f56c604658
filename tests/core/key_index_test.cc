// KeyIndex (core/key_index.h) against a plain model: after random inserts and
// erases (backward-shift deletion), every entry present is found and no erased
// one is, whatever the crowding; guess() names the record of a key within its
// first guess_probe_max buckets and nothing for an absent one.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

#include "core/key_index.h"

namespace coffer::detail {
namespace {

struct Entry {
  uint32_t hash;
  uint32_t value;
};

// Crowded hashes share one home bucket (a long probe run); the others spread.
uint32_t draw_hash(std::mt19937_64& rng, bool crowded) {
  const uint32_t h = static_cast<uint32_t>(rng());
  return crowded ? (h & 0xffff0000u) | 0x40u : h;  // low bits fixed: one home bucket
}

TEST(KeyIndex, FindsPresentEntriesAndNotErasedOnes) {
  for (const bool crowded : {false, true}) {
    std::mt19937_64 rng(crowded ? 7 : 11);
    KeyIndex index;
    constexpr uint32_t capacity = 256;
    index.init(capacity);
    std::vector<Entry> present, erased;
    uint32_t next_value = 0;
    for (int step = 0; step < 20000; step++) {
      if (present.size() < capacity && (present.empty() || rng() % 3 != 0)) {
        const Entry e{draw_hash(rng, crowded && rng() % 2 == 0), next_value++};
        index.insert(e.hash, e.value);
        present.push_back(e);
      } else {
        const size_t k = rng() % present.size();
        index.erase(present[k].hash, present[k].value);
        erased.push_back(present[k]);
        present[k] = present.back();
        present.pop_back();
      }
      if (step % 97 != 0) continue;
      ASSERT_EQ(index.count(), present.size());
      for (const Entry& e : present) {
        ASSERT_EQ(index.find(e.hash, [&](uint32_t v) { return v == e.value; }), e.value);
      }
      for (const Entry& e : erased) {
        ASSERT_EQ(index.find(e.hash, [&](uint32_t v) { return v == e.value; }), KeyIndex::none);
      }
      if (erased.size() > 64) erased.erase(erased.begin(), erased.begin() + 32);
    }
  }
}

// The batch path prefetches the record that guess() names. A key displaced
// from its home bucket by up to guess_probe_max - 1 others is still guessed
// (the record a lookup will compare first); a key further on, or absent, is not.
TEST(KeyIndex, GuessLooksPastTheHomeBucket) {
  KeyIndex index;
  index.init(64);  // 128 buckets
  const uint32_t home = 5;
  // Six keys homed on one bucket, with distinct hashes (bits above the mask).
  for (uint32_t k = 0; k < 6; k++)
    index.insert(home | (k + 1) << 16, 100 + k);
  for (uint32_t k = 0; k < KeyIndex::guess_probe_max; k++) {
    EXPECT_EQ(index.guess(home | (k + 1) << 16), 100 + k) << "displaced by " << k;
  }
  for (uint32_t k = KeyIndex::guess_probe_max; k < 6; k++) {
    EXPECT_EQ(index.guess(home | (k + 1) << 16), KeyIndex::none) << "displaced by " << k;
  }
  EXPECT_EQ(index.guess(home | 99u << 16), KeyIndex::none);  // absent, run of 6
  EXPECT_EQ(index.guess(40), KeyIndex::none);                // absent, empty bucket
  // An erased key leaves no guess behind, and the one shifted back is still guessed.
  index.erase(home | 1u << 16, 100);
  EXPECT_EQ(index.guess(home | 1u << 16), KeyIndex::none);
  EXPECT_EQ(index.guess(home | 5u << 16), 104u);
}

}  // namespace
}  // namespace coffer::detail
