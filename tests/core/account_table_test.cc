// AccountTable (core/account_table.h): found by id in one probe run, slots
// stable while the table fills, creation order kept beside, and undoing the
// newest creation leaves the table as it was before it.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <map>
#include <vector>

#include "core/account_table.h"

namespace coffer::detail {
namespace {

uint32_t hash_of(uint64_t id) {
  return AccountTable::hash(id);
}

TEST(AccountTable, FullTableFindsEveryAccountAtItsSlotInCreationOrder) {
  AccountTable t;
  t.init(1000);
  std::map<uint64_t, uint32_t> slots;
  for (uint64_t k = 0; k < 1000; k++) {
    const uint64_t id = 7 + k * 13;
    const uint32_t slot = t.insert(id, hash_of(id));
    ASSERT_TRUE(slots.emplace(id, slot).second);
    ASSERT_EQ(t.creation_index(slot), k);
  }
  EXPECT_EQ(t.count(), 1000u);
  for (const auto& [id, slot] : slots) {
    ASSERT_EQ(t.find(id, hash_of(id)), slot);  // stable: later inserts moved nothing
    ASSERT_EQ(t[slot].id, id);
    ASSERT_EQ(t.slot_at(t.creation_index(slot)), slot);
  }
  EXPECT_EQ(t.find(5, hash_of(5)), AccountTable::none);
}

TEST(AccountTable, IdsCreatedInSequenceAllSitAtTheirHomeSlot) {
  // The domain's member accounts (wallet, points, wallet, ...) and a caller's
  // own counter: one line per lookup, none displaced (a randomising hash
  // displaces about a quarter of them at this load).
  for (const uint64_t base : {uint64_t{2}, (uint64_t{0x81} << 56) | (uint64_t{1} << 56)}) {
    AccountTable t;
    t.init(200'000);
    for (uint64_t k = 0; k < 200'000; k++) {
      const uint64_t id = base + k;
      ASSERT_EQ(t.insert(id, hash_of(id)), t.home(hash_of(id))) << std::hex << id;
    }
  }
}

TEST(AccountTable, AStrideThatDefeatsFibonacciHashingIsStillFound) {
  // Ids 102334155 (a Fibonacci number) apart have nearly the same product with
  // 2^64/phi, so they share home slots and form one long probe run: slower,
  // still correct.
  AccountTable t;
  t.init(3000);
  std::vector<uint32_t> slots;
  for (uint64_t k = 1; k <= 3000; k++)
    slots.push_back(t.insert(k * 102334155, hash_of(k * 102334155)));
  for (uint64_t k = 1; k <= 3000; k++)
    ASSERT_EQ(t.find(k * 102334155, hash_of(k * 102334155)), slots[k - 1]);
  EXPECT_EQ(t.find(3001 * uint64_t{102334155}, hash_of(3001 * uint64_t{102334155})),
            AccountTable::none);
}

TEST(AccountTable, IdZeroIsNeverFound) {
  AccountTable t;
  t.init(4);
  EXPECT_EQ(t.find(0, 0), AccountTable::none);
  t.insert(9, 0);
  EXPECT_EQ(t.find(0, 0), AccountTable::none);
  EXPECT_EQ(t.find(0, 1), AccountTable::none);
}

TEST(AccountTable, UndoingTheNewestLeavesTheTableAsBefore) {
  // Every id on one home slot: each insert extends the same probe run.
  AccountTable t;
  t.init(40);
  std::vector<uint32_t> slots;
  for (uint64_t id = 1; id <= 20; id++)
    slots.push_back(t.insert(id, 3));
  // Undo the last five, newest first, then insert others: same slots, and the
  // survivors are still found.
  for (int k = 0; k < 5; k++) {
    t.erase_newest(slots.back());
    slots.pop_back();
  }
  EXPECT_EQ(t.count(), 15u);
  for (uint64_t id = 16; id <= 20; id++)
    EXPECT_EQ(t.find(id, 3), AccountTable::none);
  for (uint64_t id = 1; id <= 15; id++)
    EXPECT_EQ(t.find(id, 3), slots[id - 1]);
  const uint32_t again = t.insert(100, 3);
  EXPECT_EQ(t.creation_index(again), 15u);
  EXPECT_EQ(t.find(100, 3), again);
  EXPECT_TRUE(t.valid(again));
  t.erase_newest(again);
  EXPECT_FALSE(t.valid(again));
}

}  // namespace
}  // namespace coffer::detail
