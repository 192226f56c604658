// apply() must not allocate: this binary replaces the global operator new and
// counts calls while a varied stream (transfers, holds, grants, chains, replays,
// ticks) is applied.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <vector>

#include "core/ledger.h"
#include "tests/core/domain_generator.h"
#include "tests/core/sim_util.h"

// Our operator new is malloc and our operator delete is free, which match; GCC
// cannot see that through the replacement and warns.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace {
std::atomic<uint64_t> g_allocations{0};
}  // namespace

void* operator new(std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size ? size : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) {
  return operator new(size);
}
void* operator new(std::size_t size, std::align_val_t align) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  const std::size_t a = static_cast<std::size_t>(align);
  if (void* p = std::aligned_alloc(a, (size + a - 1) / a * a)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size, std::align_val_t align) {
  return operator new(size, align);
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete(void* p, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
  std::free(p);
}

namespace coffer::test {
namespace {

TEST(CoreAllocation, ApplyDoesNotAllocate) {
  LedgerConfig config;
  config.accounts_capacity = 36;
  config.pending_capacity = 64;
  config.idempotency_capacity = 512;  // small, so evictions happen
  Ledger ledger(config);

  // Generate everything up front: only apply() runs while counting.
  CommandGenerator generator(99);
  std::vector<Command> batch;
  for (int i = 0; i < 50'000; i++) {
    const std::vector<Command> group = generator.next_group();
    batch.insert(batch.end(), group.begin(), group.end());
  }
  std::vector<Reply> replies(batch.size());
  std::vector<Effect> effects(effects_per_command_max * 4);

  const uint64_t before = g_allocations.load();
  size_t done = 0;
  uint64_t ok = 0;
  while (done < batch.size()) {
    EffectSink sink(effects);
    done += ledger.apply(std::span<const Command>(batch).subspan(done),
                         std::span(replies).subspan(done), sink);
  }
  const uint64_t during = g_allocations.load() - before;
  for (const Reply& r : replies)
    ok += r.result == Result::ok;
  EXPECT_EQ(during, 0u);
  EXPECT_GT(ok, 1000u);  // the stream did real work

  // The counter works: an allocation here is seen.
  auto* probe = new std::vector<int>(10);
  EXPECT_GT(g_allocations.load() - before, during);
  delete probe;
}

TEST(CoreAllocation, DomainCommandsDoNotAllocate) {
  LedgerConfig config;
  config.accounts_capacity = 64;
  config.pending_capacity = 4096;
  config.idempotency_capacity = 1u << 16;
  config.members_capacity = 12;
  config.payments_capacity = 1u << 16;
  config.records_capacity = 1u << 16;
  config.vouchers_capacity = 1u << 14;
  Ledger ledger(config);
  DomainGenerator generator(7);
  std::vector<Command> batch;
  for (int i = 0; i < 50'000; i++)
    batch.push_back(generator.next());
  std::vector<Reply> replies(batch.size());
  std::vector<Effect> effects(effects_per_command_max * 4);
  const uint64_t before = g_allocations.load();
  size_t done = 0;
  while (done < batch.size()) {
    EffectSink sink(effects);
    done += ledger.apply(std::span<const Command>(batch).subspan(done),
                         std::span(replies).subspan(done), sink);
  }
  EXPECT_EQ(g_allocations.load() - before, 0u);
  uint64_t ok = 0;
  for (const Reply& r : replies)
    ok += r.result == Result::ok;
  EXPECT_GT(ok, 5000u);
}

}  // namespace
}  // namespace coffer::test
