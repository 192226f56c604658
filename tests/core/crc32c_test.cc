#include "core/crc32c.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace coffer {
namespace {

// Test vectors from RFC 3720 (iSCSI), appendix B.4.
TEST(Crc32c, StandardVectors) {
  EXPECT_EQ(crc32c("123456789", 9), 0xe3069283u);
  std::vector<unsigned char> zeros(32, 0x00);
  EXPECT_EQ(crc32c(zeros.data(), zeros.size()), 0x8a9136aau);
  std::vector<unsigned char> ones(32, 0xff);
  EXPECT_EQ(crc32c(ones.data(), ones.size()), 0x62a8ab43u);
  std::vector<unsigned char> ascending(32);
  for (int i = 0; i < 32; ++i)
    ascending[i] = static_cast<unsigned char>(i);
  EXPECT_EQ(crc32c(ascending.data(), ascending.size()), 0x46dd794eu);
  std::vector<unsigned char> descending(32);
  for (int i = 0; i < 32; ++i)
    descending[i] = static_cast<unsigned char>(31 - i);
  EXPECT_EQ(crc32c(descending.data(), descending.size()), 0x113fdb5cu);
}

TEST(Crc32c, EmptyIsZero) {
  EXPECT_EQ(crc32c("", 0), 0u);
}

// The slice-by-8 path and the byte-at-a-time tail must agree for every split.
TEST(Crc32c, ExtendEqualsWholeForEverySplit) {
  std::mt19937 rng(7);
  std::vector<unsigned char> data(257);
  for (auto& b : data)
    b = static_cast<unsigned char>(rng());
  uint32_t whole = crc32c(data.data(), data.size());
  for (size_t split = 0; split <= data.size(); ++split) {
    uint32_t part =
        crc32c_extend(crc32c(data.data(), split), data.data() + split, data.size() - split);
    ASSERT_EQ(part, whole) << "split at " << split;
  }
}

TEST(Crc32c, DetectsSingleBitFlips) {
  std::string s = "coffer journal record payload";
  uint32_t good = crc32c(s.data(), s.size());
  for (size_t i = 0; i < s.size() * 8; ++i) {
    std::string t = s;
    t[i / 8] = static_cast<char>(t[i / 8] ^ (1 << (i % 8)));
    ASSERT_NE(crc32c(t.data(), t.size()), good) << "bit " << i;
  }
}

TEST(Crc32c, MaskRoundTripsAndChangesValue) {
  for (uint32_t v : {0u, 1u, 0xe3069283u, 0xffffffffu}) {
    EXPECT_EQ(crc32c_unmask(crc32c_mask(v)), v);
    EXPECT_NE(crc32c_mask(v), v);
  }
}

// The instruction path (where the CPU has it) and the tables agree on every
// length, starting alignment and running value.
TEST(Crc32c, HardwareAndTablesAgree) {
  std::mt19937_64 rng(11);
  std::vector<unsigned char> data(4096 + 16);
  for (auto& b : data)
    b = static_cast<unsigned char>(rng());
  for (size_t offset = 0; offset < 16; ++offset) {
    for (size_t size : {0u, 1u, 7u, 8u, 9u, 63u, 64u, 65u, 1000u, 4096u}) {
      const uint32_t seed = static_cast<uint32_t>(rng());
      ASSERT_EQ(crc32c_extend(seed, data.data() + offset, size),
                detail::crc32c_extend_tables(seed, data.data() + offset, size))
          << "offset " << offset << " size " << size;
    }
  }
#if defined(__x86_64__)
  EXPECT_TRUE(detail::crc32c_hardware()) << "every x86-64 CPU this runs on has SSE 4.2";
#endif
}

}  // namespace
}  // namespace coffer
