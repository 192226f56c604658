// CommandIdIndex (core/command_id_index.h) against a plain model of the ring it
// indexes: after every insert, each live id is found with its own serial and
// no forgotten one is, whatever the collisions, overflow into later lines, slot
// reuse and serial wrap-around.
#include <gtest/gtest.h>

#include <cstdint>
#include <deque>
#include <random>
#include <set>
#include <vector>

#include "core/command_id_index.h"
#include "core/hash.h"

namespace coffer::detail {
namespace {

struct Remembered {
  uint64_t hash;
  uint32_t serial;
};

// A ring of `capacity` ids over an index; hashes are drawn from few lines so
// that lines overflow.
class Ring {
 public:
  Ring(uint32_t capacity, uint32_t first_serial) : capacity_(capacity) {
    index_.init(capacity, first_serial);
  }

  void record(uint64_t hash) {
    if (live_.size() == capacity_) {
      dead_.push_back(live_.front());
      if (dead_.size() > 64) dead_.pop_front();
      live_.pop_front();
    }
    const uint32_t serial = index_.insert(hash, static_cast<uint32_t>(live_.size()));
    live_.push_back({hash, serial});
  }

  // Every live entry is found with exactly its serial among the live
  // candidates offered; match is never offered a dead serial.
  void check() const {
    const uint32_t live = static_cast<uint32_t>(live_.size());
    const uint32_t first = index_.next_serial() - live;
    for (const Remembered& r : live_) {
      bool offered_dead = false;
      const bool found = index_.find(r.hash, live, [&](uint32_t serial) {
        if (serial - first >= live) offered_dead = true;
        return serial == r.serial;
      });
      ASSERT_TRUE(found) << "live serial " << r.serial;
      ASSERT_FALSE(offered_dead);
    }
    for (const Remembered& r : dead_) {
      const bool found =
          index_.find(r.hash, live, [&](uint32_t serial) { return serial == r.serial; });
      ASSERT_FALSE(found) << "forgotten serial " << r.serial << " still found";
    }
  }

  uint32_t next_serial() const { return index_.next_serial(); }
  const CommandIdIndex& index() const { return index_; }

 private:
  uint32_t capacity_;
  CommandIdIndex index_;
  std::deque<Remembered> live_;
  std::deque<Remembered> dead_;
};

void run(uint32_t capacity, uint32_t home_lines, uint32_t first_serial, uint64_t seed,
         uint32_t inserts) {
  Ring ring(capacity, first_serial);
  std::mt19937_64 rng(seed);
  for (uint32_t k = 0; k < inserts; k++) {
    // Low half picks the line (few of them: long overflow chains), high half the tag
    // (few of them too: equal tags in one line, told apart by the match).
    const uint64_t line = rng() % home_lines;
    const uint64_t tag = rng() % 8;
    ring.record(tag << 32 | line);
    if (k % 7 == 0 || k + 1 == inserts) {
      ring.check();
      if (testing::Test::HasFatalFailure()) {
        ADD_FAILURE() << "seed " << seed << " insert " << k;
        return;
      }
    }
  }
}

TEST(CommandIdIndex, SpreadIdsAreFoundWhileLiveAndForgottenAfter) {
  for (uint64_t seed = 1; seed <= 4; seed++)
    run(256, 1u << 16, 0, seed, 3000);
}

TEST(CommandIdIndex, IdsCrowdedIntoOneLineOverflowIntoTheNextAndStayFound) {
  // 64 lines, every id homed on one of two: chains of ~18 lines, some beyond
  // the 14 lines whose passes are taken back.
  for (uint64_t seed = 1; seed <= 4; seed++)
    run(256, 2, 0, seed, 4000);
}

TEST(CommandIdIndex, SomeCrowdedLines) {
  for (uint64_t seed = 1; seed <= 4; seed++)
    run(1000, 40, 0, seed, 6000);
}

TEST(CommandIdIndex, SerialsWrapAround) {
  Ring ring(100, UINT32_MAX - 150);
  std::mt19937_64 rng(9);
  for (uint32_t k = 0; k < 400; k++) {
    ring.record(rng());
    ring.check();
    ASSERT_FALSE(testing::Test::HasFatalFailure()) << "insert " << k;
  }
  EXPECT_LT(ring.next_serial(), 300u);  // it did wrap
}

TEST(CommandIdIndex, ACapacityOfOneKeepsOnlyTheLatest) {
  Ring ring(1, 0);
  for (uint64_t h = 1; h <= 50; h++) {
    ring.record(h * 0x9e3779b97f4a7c15ull);
    ring.check();
    ASSERT_FALSE(testing::Test::HasFatalFailure());
  }
}

// key(): ids in sequence take consecutive lines, 64 of them from a start hashed
// from the rest of the id; the starts of successive runs are spread.
TEST(CommandIdIndex, IdsInSequenceTakeConsecutiveLines) {
  CommandIdIndex index;
  index.init(1u << 16);  // 16 384 lines
  const uint32_t mask = (1u << 14) - 1;
  std::mt19937_64 rng(5);
  std::set<uint32_t> starts;
  for (int r = 0; r < 1000; r++) {
    const Id128 first{rng() & ~uint64_t{63}, rng() % 4};
    const uint32_t start = index.line_of(LineIndex::key(first));
    starts.insert(start);
    for (uint64_t k = 1; k < 64; k++) {
      const Id128 id{first.lo + k, first.hi};
      ASSERT_EQ(index.line_of(LineIndex::key(id)), (start + k) & mask) << r << " " << k;
    }
  }
  EXPECT_GT(starts.size(), 950u);  // 1000 runs over 16 384 lines: ~30 collide
  // The tag is the hash's, whatever the line.
  const Id128 id{12345, 6};
  EXPECT_EQ(LineIndex::key(id) >> 32, hash_id(id) >> 32);
}

// Ids in sequence fill the ring's index about as well as hashed ones: about as
// many entries pass a full line (within half as many again: neighbouring lines
// hold ids of the same runs, so full lines come more often), and every live id
// is found. `clients` interleave their own sequences (0: every id random).
// (Overflowing into the next line instead of by the tag's step gave 30 to 150
// times the hashed ids' passes with 50 or 500 clients.)
uint64_t passes_after(uint32_t clients, uint64_t seed) {
  const uint32_t capacity = 1u << 14;
  Ring ring(capacity, 0);
  std::mt19937_64 rng(seed);
  std::vector<uint64_t> next(clients);
  for (uint64_t& n : next)
    n = rng();
  for (uint32_t k = 0; k < 3 * capacity; k++) {
    const uint64_t client = clients == 0 ? 0 : rng() % clients;
    const Id128 id{clients == 0 ? rng() : next[client]++, client};
    ring.record(LineIndex::key(id));
    if (k % 4099 == 0) {
      ring.check();
      if (testing::Test::HasFatalFailure()) return UINT64_MAX;
    }
  }
  ring.check();
  return testing::Test::HasFatalFailure() ? UINT64_MAX : ring.index().passes();
}

TEST(CommandIdIndex, IdsInSequenceOverflowLinesNoMoreThanHashedOnes) {
  for (uint64_t seed = 1; seed <= 3; seed++) {
    const uint64_t hashed = passes_after(0, seed);
    ASSERT_NE(hashed, UINT64_MAX);
    for (uint32_t clients : {1u, 5u, 50u, 500u}) {
      const uint64_t in_sequence = passes_after(clients, seed);
      ASSERT_NE(in_sequence, UINT64_MAX);
      EXPECT_LE(in_sequence, hashed + hashed / 2)
          << "seed " << seed << ", " << clients << " clients; hashed ids: " << hashed;
    }
  }
}

}  // namespace
}  // namespace coffer::detail
