// TableArray (core/table_memory.h): the big tables start zeroed (the records'
// value-initialised state), lines do not straddle records, and large arrays
// start on a huge-page boundary so that the kernel can back them with huge pages.
#include <gtest/gtest.h>

#include <cstdint>

#include "core/table_memory.h"
#include "core/types.h"

namespace coffer::detail {
namespace {

bool all_zero(const void* p, size_t bytes) {
  const unsigned char* b = static_cast<const unsigned char*>(p);
  for (size_t i = 0; i < bytes; i++) {
    if (b[i] != 0) return false;
  }
  return true;
}

TEST(TableArray, SmallArrayIsZeroedAndLineAligned) {
  TableArray<uint32_t> a;
  a.reset(100);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a.get()) % cache_line_size, 0u);
  EXPECT_TRUE(all_zero(a.get(), 100 * sizeof(uint32_t)));
  for (uint32_t i = 0; i < 100; i++)
    a[i] = i + 1;
  EXPECT_EQ(a[99], 100u);
}

TEST(TableArray, LargeArrayIsZeroedAndHugePageAligned) {
  TableArray<Account> a;
  const size_t n = (huge_page_size / sizeof(Account)) * 3 + 7;  // not a whole number of pages
  a.reset(n);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a.get()) % huge_page_size, 0u);
  EXPECT_TRUE(all_zero(a.get(), n * sizeof(Account)));
  a[n - 1].id = 42;  // the last element is inside the allocation (ASan checks)
  EXPECT_EQ(a[n - 1].id, 42u);
}

TEST(TableArray, ResetStartsOverZeroed) {
  TableArray<uint64_t> a;
  a.reset(1000);
  for (size_t i = 0; i < 1000; i++)
    a[i] = ~uint64_t{0};
  a.reset(1000);
  EXPECT_TRUE(all_zero(a.get(), 1000 * sizeof(uint64_t)));
  a.reset(0);
  EXPECT_EQ(a.get(), nullptr);
}

}  // namespace
}  // namespace coffer::detail
