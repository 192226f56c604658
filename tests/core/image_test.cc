// State images: a random simulated state written as an image and loaded into a
// fresh ledger gives the same state hash, and the two ledgers stay identical
// under the same further commands. Truncated, bit-flipped, inconsistent or
// misplaced images are refused and leave the reader fresh.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "core/crc32c.h"
#include "core/image.h"
#include "core/ledger.h"
#include "tests/core/domain_generator.h"
#include "tests/core/sim_util.h"

namespace coffer::test {
namespace {

LedgerConfig config() {
  LedgerConfig c;
  c.accounts_capacity = 36;
  c.pending_capacity = 64;
  c.idempotency_capacity = 1024;
  c.members_capacity = 8;
  c.merchants_capacity = 4;
  c.payments_capacity = 64;
  c.records_capacity = 64;
  c.batches_capacity = 4;
  c.vouchers_capacity = 16;
  c.stores_capacity = 4;
  c.api_keys_capacity = 4;
  c.settlement_capacity = 16;
  return c;
}

LedgerConfig domain_config() {
  LedgerConfig c;
  c.accounts_capacity = 64;
  c.pending_capacity = 1024;
  c.idempotency_capacity = 1u << 14;
  c.members_capacity = 12;
  c.merchants_capacity = 8;
  c.payments_capacity = 1u << 14;
  c.records_capacity = 1u << 14;
  c.batches_capacity = 1u << 12;
  c.vouchers_capacity = 1u << 14;
  c.settlement_capacity = 1u << 12;
  return c;
}

// Applies one group; returns its replies.
std::vector<Reply> apply_group(Ledger& ledger, const std::vector<Command>& group) {
  static std::vector<Effect> effects(effects_per_command_max + 64);  // reused: tests are serial
  std::vector<Reply> replies(group.size());
  EffectSink sink(effects);
  const size_t n = ledger.apply(group, replies, sink);
  EXPECT_EQ(n, group.size());
  return replies;
}

std::vector<unsigned char> image_of(const Ledger& ledger) {
  VectorImageWriter w;
  ledger.write_image(w);
  return w.bytes;
}

Result load(Ledger& ledger, const std::vector<unsigned char>& bytes) {
  SpanImageReader r(bytes.data(), bytes.size());
  return ledger.read_image(r);
}

// Recomputes the trailer CRC after a deliberate edit, so that only the
// consistency and state-hash checks can catch it.
void reseal(std::vector<unsigned char>& bytes) {
  const size_t body = bytes.size() - 8;
  const uint32_t masked = crc32c_mask(crc32c(bytes.data(), body));
  std::memcpy(bytes.data() + body, &masked, 4);
}

constexpr size_t header_size = 56;

// Bytes of the engine's open-transfer and remembered-id sections.
size_t pending_section_size(const Ledger& l) {
  return l.pending_count() * (4 + sizeof(PendingTransfer));
}
size_t ids_section_size(const Ledger& l) {
  return l.idempotency_count() * 32;
}

// One command, its effects into a buffer of the worst-case size.
Reply step(Ledger& ledger, const Command& c) {
  static std::vector<Effect> effects(effects_per_command_max);
  EffectSink sink(effects);
  return ledger.apply(c, sink);
}

TEST(CoreImage, EmptyLedgerRoundTrips) {
  Ledger a(config()), b(config());
  ASSERT_EQ(load(b, image_of(a)), Result::ok);
  EXPECT_EQ(a.state_hash(), b.state_hash());
  EXPECT_EQ(b.last_seq(), 0u);
}

TEST(CoreImage, RandomStateRoundTripsAndStaysIdentical) {
  for (uint64_t seed : std::vector<uint64_t>{1, 2, 3, env_u64("COFFER_SEED", 99)}) {
    CommandGenerator generator(seed);
    Ledger a(config());
    for (int g = 0; g < 20'000; g++) {
      auto group = generator.next_group();
      group.back().flags &= ~command_flag_linked;
      apply_group(a, group);
    }
    ASSERT_GT(a.account_count(), 0u);
    ASSERT_GT(a.pending_count(), 0u) << "seed " << seed;
    const auto bytes = image_of(a);
    Ledger b(config());
    ASSERT_EQ(load(b, bytes), Result::ok) << "seed " << seed;
    EXPECT_EQ(a.state_hash(), b.state_hash());
    EXPECT_EQ(a.last_seq(), b.last_seq());
    EXPECT_EQ(a.last_time_us(), b.last_time_us());
    EXPECT_EQ(a.pending_count(), b.pending_count());
    EXPECT_EQ(a.idempotency_count(), b.idempotency_count());
    // The loaded ledger writes the same image back.
    EXPECT_EQ(image_of(b), bytes);
    // Same further commands: same replies and hashes at every step.
    for (int g = 0; g < 20'000; g++) {
      auto group = generator.next_group();
      group.back().flags &= ~command_flag_linked;
      const auto ra = apply_group(a, group);
      const auto rb = apply_group(b, group);
      for (size_t k = 0; k < group.size(); k++) {
        ASSERT_EQ(ra[k].result, rb[k].result) << "seed " << seed << " group " << g;
        ASSERT_EQ(ra[k].amount, rb[k].amount);
        ASSERT_EQ(ra[k].flags, rb[k].flags);
      }
      if (g % 500 == 0) {
        ASSERT_EQ(a.state_hash(), b.state_hash()) << "group " << g;
      }
    }
    EXPECT_EQ(a.state_hash(), b.state_hash());
  }
}

TEST(CoreImage, DomainStateRoundTripsAndStaysIdentical) {
  for (uint64_t seed : std::vector<uint64_t>{1, 2, env_u64("COFFER_SEED", 77)}) {
    DomainGenerator generator(seed);
    Ledger a(domain_config());
    for (int k = 0; k < 6'000; k++)
      step(a, generator.next());
    const auto bytes = image_of(a);
    Ledger b(domain_config());
    ASSERT_EQ(load(b, bytes), Result::ok) << "seed " << seed;
    ASSERT_EQ(a.state_hash(), b.state_hash());
    EXPECT_EQ(image_of(b), bytes);
    for (int k = 0; k < 6'000; k++) {
      const Command c = generator.next();
      const Reply ra = step(a, c);
      const Reply rb = step(b, c);
      ASSERT_EQ(std::memcmp(&ra, &rb, sizeof ra), 0) << "seed " << seed << " command " << k;
    }
    EXPECT_EQ(a.state_hash(), b.state_hash());
    // Bit flips anywhere in a domain image are refused.
    Rng rng(seed);
    for (int k = 0; k < 50; k++) {
      auto flipped = bytes;
      const size_t bit = rng.below(bytes.size() * 8);
      flipped[bit / 8] ^= static_cast<unsigned char>(1u << (bit % 8));
      Ledger c(domain_config());
      EXPECT_EQ(load(c, flipped), Result::invalid_request) << "bit " << bit;
    }
  }
}

// A state image of a ledger with some history, for the corruption tests.
std::vector<unsigned char> sample_image() {
  CommandGenerator generator(5);
  Ledger a(config());
  for (int g = 0; g < 3'000; g++) {
    auto group = generator.next_group();
    group.back().flags &= ~command_flag_linked;
    apply_group(a, group);
  }
  return image_of(a);
}

TEST(CoreImage, TruncatedImagesAreRefused) {
  const auto bytes = sample_image();
  Rng rng(11);
  std::vector<size_t> lengths = {0,
                                 1,
                                 7,
                                 header_size - 1,
                                 header_size,
                                 bytes.size() - 1,
                                 bytes.size() - 4,
                                 bytes.size() - 8,
                                 bytes.size() - 9};
  for (int k = 0; k < 200; k++)
    lengths.push_back(rng.below(bytes.size()));
  for (size_t length : lengths) {
    const std::vector<unsigned char> cut(bytes.begin(), bytes.begin() + length);
    Ledger b(config());
    EXPECT_EQ(load(b, cut), Result::invalid_request) << "length " << length;
    // Refused loads leave the ledger fresh: the whole image still loads.
    EXPECT_EQ(b.account_count(), 0u);
    ASSERT_EQ(load(b, bytes), Result::ok);
  }
  // Trailing bytes are refused too.
  auto longer = bytes;
  longer.push_back(0);
  Ledger b(config());
  EXPECT_EQ(load(b, longer), Result::invalid_request);
}

TEST(CoreImage, BitFlipsAreRefused) {
  const auto bytes = sample_image();
  Rng rng(12);
  for (int k = 0; k < 400; k++) {
    auto flipped = bytes;
    const size_t bit = k < 64 * 8 ? k * 7 % (bytes.size() * 8) : rng.below(bytes.size() * 8);
    flipped[bit / 8] ^= static_cast<unsigned char>(1u << (bit % 8));
    Ledger b(config());
    EXPECT_EQ(load(b, flipped), Result::invalid_request) << "bit " << bit;
    EXPECT_EQ(b.account_count(), 0u);
    EXPECT_EQ(b.pending_count(), 0u);
    EXPECT_EQ(b.idempotency_count(), 0u);
  }
}

TEST(CoreImage, InconsistentImagesWithValidCrcAreRefused) {
  const auto bytes = sample_image();
  uint32_t account_count;
  std::memcpy(&account_count, bytes.data() + 28, 4);
  ASSERT_GT(account_count, 1u);
  {
    // An account's pending total no longer matches its open transfers.
    auto bad = bytes;
    int64_t debits_pending;
    std::memcpy(&debits_pending, bad.data() + header_size + 24, 8);
    debits_pending += 1;
    std::memcpy(bad.data() + header_size + 24, &debits_pending, 8);
    reseal(bad);
    Ledger b(config());
    EXPECT_EQ(load(b, bad), Result::invalid_request);
  }
  {
    // Two accounts with the same id.
    auto bad = bytes;
    std::memcpy(bad.data() + header_size + 64, bad.data() + header_size, 8);
    reseal(bad);
    Ledger b(config());
    EXPECT_EQ(load(b, bad), Result::invalid_request);
  }
  {
    // A remembered result changed: only the state hash notices.
    auto bad = bytes;
    uint32_t counts[3];  // accounts, pending, ids
    std::memcpy(counts, bytes.data() + 28, sizeof counts);
    ASSERT_GT(counts[2], 0u);
    const size_t last_id = header_size + counts[0] * 64 + counts[1] * 68 + (counts[2] - 1) * 32;
    bad[last_id + 24] ^= 1;
    reseal(bad);
    Ledger b(config());
    EXPECT_EQ(load(b, bad), Result::invalid_request);
  }
  {
    // Pending records out of slot order, and a stored timer-heap position: one
    // image per state, derived fields written as 0.
    uint32_t counts[3];  // accounts, pending, ids
    std::memcpy(counts, bytes.data() + 28, sizeof counts);
    ASSERT_GT(counts[1], 1u);
    const size_t first = header_size + counts[0] * 64;
    auto swapped = bytes;
    std::swap_ranges(swapped.begin() + first, swapped.begin() + first + 68,
                     swapped.begin() + first + 68);
    reseal(swapped);
    Ledger b(config());
    EXPECT_EQ(load(b, swapped), Result::invalid_request);
    auto heap = bytes;
    heap[first + 4 + 60] = 1;
    reseal(heap);
    Ledger c(config());
    EXPECT_EQ(load(c, heap), Result::invalid_request);
  }
  {
    // A remembered success with a failure's detail, and a result no code has.
    uint32_t counts[3];
    std::memcpy(counts, bytes.data() + 28, sizeof counts);
    const size_t ids = header_size + counts[0] * 64 + counts[1] * 68;
    bool tried_ok = false;
    for (uint32_t k = 0; k < counts[2] && !tried_ok; k++) {
      uint16_t result;
      std::memcpy(&result, bytes.data() + ids + k * 32 + 24, 2);
      if (result != 0) continue;
      auto bad = bytes;
      bad[ids + k * 32 + 26] = 1;
      reseal(bad);
      Ledger b(config());
      EXPECT_EQ(load(b, bad), Result::invalid_request);
      tried_ok = true;
    }
    EXPECT_TRUE(tried_ok);
    auto bad = bytes;
    const uint16_t unknown = 999;
    std::memcpy(bad.data() + ids + 24, &unknown, 2);
    reseal(bad);
    Ledger b(config());
    EXPECT_EQ(load(b, bad), Result::invalid_request);
  }
  {
    // Wrong magic and version.
    for (size_t offset : {size_t{0}, size_t{8}}) {
      auto bad = bytes;
      bad[offset] ^= 0x10;
      reseal(bad);
      Ledger b(config());
      EXPECT_EQ(load(b, bad), Result::invalid_request);
    }
  }
}

TEST(CoreImage, RefusedIntoUsedOrSmallerLedger) {
  const auto bytes = sample_image();
  Ledger used(config());
  std::vector<Effect> effects(8);
  EffectSink sink(effects);
  Command c = make_create_account(Id128{1, 1}, 5, asset_wallet, AccountKind::adjustment);
  c.seq = 1;
  ASSERT_EQ(used.apply(c, sink).result, Result::ok);
  EXPECT_EQ(load(used, bytes), Result::invalid_request);
  EXPECT_EQ(used.account_count(), 1u);  // untouched

  LedgerConfig small = config();
  small.idempotency_capacity = 4;
  Ledger b(small);
  EXPECT_EQ(load(b, bytes), Result::invalid_request);
  // A larger reader is fine.
  LedgerConfig large = config();
  large.accounts_capacity = 100;
  large.pending_capacity = 1000;
  large.idempotency_capacity = 5000;
  Ledger d(large);
  EXPECT_EQ(load(d, bytes), Result::ok);
}

// Account slots are positions in a table sized by the capacity, so a reader
// with another capacity puts the accounts elsewhere; the image names them by
// creation index, and the two ledgers stay the same ledger.
TEST(CoreImage, ALedgerWithAnotherAccountCapacityLoadsTheSameState) {
  DomainGenerator generator(3);
  Ledger a(domain_config());
  for (int k = 0; k < 4'000; k++)
    step(a, generator.next());
  ASSERT_GT(a.pending_count(), 0u);
  const auto bytes = image_of(a);
  LedgerConfig wider = domain_config();
  wider.accounts_capacity = 1000;
  Ledger b(wider);
  ASSERT_EQ(load(b, bytes), Result::ok);
  EXPECT_EQ(a.state_hash(), b.state_hash());
  uint32_t moved = 0;
  for (uint32_t k = 0; k < a.account_count(); k++) {
    const Account& x = a.account(a.account_slot_at(k));
    const Account& y = b.account(b.account_slot_at(k));
    EXPECT_EQ(std::memcmp(&x, &y, sizeof x), 0) << "account " << k;
    moved += a.account_slot_at(k) != b.account_slot_at(k);
  }
  EXPECT_GT(moved, 0u) << "the test needs accounts at other slots";
  // Same image back, but for the capacity in the header.
  auto back = image_of(b);
  ASSERT_EQ(back.size(), bytes.size());
  std::memcpy(back.data() + 16, bytes.data() + 16, 4);  // accounts_capacity
  reseal(back);
  EXPECT_EQ(back, bytes);
  for (int k = 0; k < 4'000; k++) {
    const Command c = generator.next();
    const Reply ra = step(a, c);
    const Reply rb = step(b, c);
    ASSERT_EQ(std::memcmp(&ra, &rb, sizeof ra), 0) << "command " << k;
  }
  EXPECT_EQ(a.state_hash(), b.state_hash());
}

// The domain section's system account slots: creation indices once the system
// accounts exist; before that, whatever was read comes back unchanged (a
// loaded image writes the same bytes).
TEST(CoreImage, SystemAccountSlotsAreCreationIndicesAndRoundTripBeforeTheyExist) {
  constexpr size_t system_slots_at = header_size + sizeof(DomainConfig) + groups_max * 24 + 56;
  Ledger fresh(domain_config());
  auto bytes = image_of(fresh);
  uint32_t word;
  std::memcpy(&word, bytes.data() + system_slots_at, 4);
  ASSERT_EQ(word, 0u);
  word = 5;
  std::memcpy(bytes.data() + system_slots_at, &word, 4);
  reseal(bytes);
  Ledger b(domain_config());
  if (load(b, bytes) == Result::ok) {
    EXPECT_EQ(image_of(b), bytes);
  }

  DomainGenerator generator(1);
  Ledger a(domain_config());
  for (int k = 0; k < 50; k++)
    step(a, generator.next());
  const auto ready = image_of(a);
  for (uint32_t k = 0; k < system_accounts_count; k++) {
    std::memcpy(&word,
                ready.data() + header_size + a.account_count() * sizeof(Account) +
                    pending_section_size(a) + ids_section_size(a) + sizeof(DomainConfig) +
                    groups_max * 24 + 56 + 4 * k,
                4);
    EXPECT_EQ(word, k);  // the system accounts are the first ones created
  }
}

// The image format of earlier builds, where slots were creation indices:
// accounts in creation order (creation_index stored as 0), then each open
// transfer with its accounts as creation indices.
TEST(CoreImage, AccountsAreWrittenInCreationOrderAndNamedByCreationIndex) {
  Ledger a(config());
  std::vector<Effect> effects(64);
  uint64_t seq = 0;
  auto run = [&](Command c) {
    c.seq = ++seq;
    c.time_us = 1000;
    EffectSink sink(effects);
    return a.apply(c, sink).result;
  };
  const uint64_t ids[5] = {900, 17, 4242, 3, 77};
  for (uint64_t k = 0; k < 5; k++) {
    ASSERT_EQ(
        run(make_create_account(Id128{k + 1, 1}, ids[k], asset_wallet, AccountKind::adjustment)),
        Result::ok);
  }
  ASSERT_EQ(run(make_hold(Id128{50, 1}, ids[3], ids[1], 5, asset_wallet, 60)), Result::ok);
  const auto bytes = image_of(a);
  for (uint32_t k = 0; k < 5; k++) {
    Account stored;
    std::memcpy(&stored, bytes.data() + header_size + k * sizeof(Account), sizeof stored);
    EXPECT_EQ(stored.id, ids[k]);
    EXPECT_EQ(stored.creation_index, 0u);
  }
  PendingTransfer p;
  std::memcpy(&p, bytes.data() + header_size + 5 * sizeof(Account) + 4, sizeof p);
  EXPECT_EQ(p.id, (Id128{50, 1}));
  EXPECT_EQ(p.debit_slot, 3u);
  EXPECT_EQ(p.credit_slot, 1u);
}

}  // namespace
}  // namespace coffer::test
