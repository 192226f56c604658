// LineIndex (core/line_index.h) against a plain model: after random inserts and
// erases, every entry present is found with its value and no erased one is,
// whatever the crowding, the overflow steps (also beyond the 14 whose passes are
// taken back) and the removals; the passes left behind are exactly those of the
// entries still placed away from home.
#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <random>
#include <utility>
#include <vector>

#include "core/line_index.h"

namespace coffer::detail {
namespace {

struct Entry {
  uint64_t key;
  uint32_t value;
};

class Model {
 public:
  explicit Model(uint32_t capacity) { index_.init(capacity); }

  void insert(uint64_t key, uint32_t value) {
    index_.insert(key, value);
    present_.push_back({key, value});
  }
  // Erases the k-th present entry.
  void erase(size_t k) {
    index_.erase(present_[k].key, present_[k].value);
    erased_.push_back(present_[k]);
    if (erased_.size() > 64) erased_.erase(erased_.begin());
    present_[k] = present_.back();
    present_.pop_back();
  }

  void check() const {
    for (const Entry& e : present_) {
      const uint32_t found = index_.find_value(e.key, [&](uint32_t v) { return v == e.value; });
      ASSERT_EQ(found, e.value) << "present key " << e.key;
    }
    for (const Entry& e : erased_) {
      const bool found = index_.find(e.key, [&](uint32_t v) { return v == e.value; });
      ASSERT_FALSE(found) << "erased value " << e.value << " still found";
    }
  }

  size_t size() const { return present_.size(); }
  const LineIndex& index() const { return index_; }

 private:
  LineIndex index_;
  std::vector<Entry> present_;
  std::vector<Entry> erased_;  // the latest ones
};

// Keys over `home_lines` lines and `tags` tags (few of either: long chains and
// equal tags in one line, told apart by the value); values are unique.
void run(uint32_t capacity, uint32_t home_lines, uint32_t tags, uint64_t seed, uint32_t steps) {
  Model model(capacity);
  std::mt19937_64 rng(seed);
  uint32_t next_value = 0;
  for (uint32_t s = 0; s < steps; s++) {
    if (model.size() < capacity && (model.size() == 0 || rng() % 3 != 0)) {
      const uint64_t key = (rng() % tags) << 32 | (rng() % home_lines);
      model.insert(key, next_value++);
    } else {
      model.erase(rng() % model.size());
    }
    if (s % 5 == 0 || s + 1 == steps) {
      model.check();
      if (testing::Test::HasFatalFailure()) {
        ADD_FAILURE() << "seed " << seed << " step " << s;
        return;
      }
    }
  }
}

TEST(LineIndex, SpreadKeysAreFoundUntilErased) {
  for (uint64_t seed = 1; seed <= 4; seed++)
    run(256, 1u << 20, 1u << 20, seed, 4000);
}

TEST(LineIndex, KeysCrowdedIntoTwoLinesStepFarAndStayFound) {
  // 64 lines, every key homed on one of two, few tags (steps): chains well
  // beyond the 14 steps whose passes are taken back.
  for (uint64_t seed = 1; seed <= 4; seed++)
    run(256, 2, 6, seed, 4000);
}

TEST(LineIndex, SomeCrowdedLines) {
  for (uint64_t seed = 1; seed <= 4; seed++)
    run(1000, 40, 64, seed, 6000);
}

// Erasing every entry takes every pass back (none of them stepped 15 or more).
TEST(LineIndex, ErasingEverythingLeavesNoPasses) {
  LineIndex index;
  index.init(4096);  // 1 024 lines, filled: some overflow, none by 15 steps
  std::mt19937_64 rng(3);
  std::vector<Entry> entries;
  for (uint32_t v = 0; v < 4096; v++) {
    const uint64_t key = rng();
    index.insert(key, v);
    entries.push_back({key, v});
  }
  EXPECT_GT(index.passes(), 0u);
  for (const Entry& e : entries)
    index.erase(e.key, e.value);
  EXPECT_EQ(index.passes(), 0u);
  for (const Entry& e : entries)
    EXPECT_FALSE(index.find(e.key, [](uint32_t) { return true; }));
}

// guess(): the first slot of the home line with the key's tag, or none; it
// never probes on.
TEST(LineIndex, GuessReadsOnlyTheHomeLine) {
  LineIndex index;
  index.init(64);  // 16 lines
  const uint64_t key = uint64_t{77} << 32 | 5;
  EXPECT_EQ(index.guess(key), LineIndex::none);
  index.insert(key, 9);
  EXPECT_EQ(index.guess(key), 9u);
  // Fill line 5 with other tags: an eighth entry with `key`'s tag steps away
  // and is found, but not guessed.
  LineIndex full;
  full.init(64);
  for (uint32_t k = 0; k < LineIndex::ways; k++)
    full.insert(uint64_t{100 + 2 * k} << 32 | 5, k);
  full.insert(key, 42);
  EXPECT_EQ(full.guess(key), LineIndex::none);
  EXPECT_EQ(full.find_value(key, [](uint32_t v) { return v == 42; }), 42u);
}

// A lookup goes on from a passed line only when its tag is in the line's
// filter of passing tags: a lookup whose tag differs there stops at home and
// never sees an entry with its tag on its step line.
TEST(LineIndex, ALookupGoesOnOnlyWhenItsTagPassed) {
  LineIndex index;
  index.init(64);  // 16 lines; a key (tag << 32 | line) with line < 16 is homed on `line`
  auto key = [](uint64_t tag, uint64_t line) { return tag << 32 | line; };
  // Tag 0x101: filter bit 1, step 1 (mod 16 lines). An entry with that tag homed
  // on line 3, the step line of a lookup homed on 2.
  index.insert(key(0x101, 3), 100);
  // Line 2 full with tags of filter bit 2; an eighth steps on and passes it.
  for (uint32_t k = 0; k < LineIndex::ways; k++)
    index.insert(key(0x203 + 2 * k, 2), k);
  index.insert(key(0x221, 2), 7);
  EXPECT_EQ(index.passes(), 1u);
  EXPECT_EQ(index.find_value(key(0x221, 2), [](uint32_t v) { return v == 7; }), 7u);
  int offered = 0;
  EXPECT_FALSE(index.find(key(0x101, 2), [&](uint32_t) { return ++offered, false; }));
  EXPECT_EQ(offered, 0);  // line 3's entry was not looked at
  // A passing tag with filter bit 1: now the same lookup goes on to line 3.
  index.erase(key(0x221, 2), 7);
  EXPECT_EQ(index.passes(), 0u);
  for (uint32_t k = 0; k < LineIndex::ways; k++) {  // line 2 keeps its seven
    ASSERT_EQ(index.find_value(key(0x203 + 2 * k, 2), [&](uint32_t v) { return v == k; }), k);
  }
  index.insert(key(0x111, 2), 8);  // filter bit 1, step 1: lands on line 3
  EXPECT_FALSE(index.find(key(0x101, 2), [&](uint32_t) { return ++offered, false; }));
  EXPECT_EQ(offered, 1);
}

// Ids as keys: each id's key names the same line in every table of a size, and
// ids in sequence take consecutive lines there.
TEST(LineIndex, IdKeysPlaceRunsOnConsecutiveLinesInEveryTableSize) {
  for (uint32_t capacity : {4u, 4096u, 1u << 20}) {
    LineIndex index;
    index.init(capacity);
    const uint32_t lines = (capacity + 3) / 4;
    const Id128 first{uint64_t{1} << 40, 3};
    const uint32_t start = index.line_of(LineIndex::key(first));
    for (uint64_t k = 1; k < 64; k++) {
      const Id128 id{first.lo + k, first.hi};
      ASSERT_EQ(index.line_of(LineIndex::key(id)), (start + k) % lines) << capacity << " " << k;
    }
  }
}

}  // namespace
}  // namespace coffer::detail
