// Core engine throughput on one thread: single-phase transfers and hold+post
// pairs, with 10k / 1M / 10M accounts, uniform or Zipf-skewed account choice.
// Commands are applied in batches of batch_size_max as the sequencer would; each
// batch gets fresh ids (else they would be replays) and its effects are kept in
// a pre-reserved buffer. Items = commands (transfers) or hold+post pairs.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/ledger.h"

namespace coffer {
namespace {

constexpr uint32_t kBatch = batch_size_max;
// 10M accounts x 2^32 stays below account_total_max on the funding account.
constexpr uint64_t kFunding = uint64_t{1} << 32;

struct World {
  std::unique_ptr<Ledger> ledger;
  uint32_t accounts = 0;
  uint64_t seq = 0;
  uint64_t time_us = 1'700'000'000'000'000;
  uint64_t next_id = 1;
  std::vector<Effect> effects;

  void stamp(Command& c) {
    c.seq = ++seq;
    c.time_us = time_us;
  }
};

// One ledger per account count, built once (10M accounts take a few seconds).
World& world(uint32_t accounts) {
  static std::map<uint32_t, std::unique_ptr<World>> worlds;
  auto& w = worlds[accounts];
  if (w) return *w;
  w = std::make_unique<World>();
  LedgerConfig config;
  config.accounts_capacity = accounts + 1;
  config.pending_capacity = 1u << 20;
  config.idempotency_capacity = 1u << 22;  // the production size suggested in ledger.h
  w->ledger = std::make_unique<Ledger>(config);
  w->accounts = accounts;
  w->effects.resize(kBatch * effects_per_transfer_max + effects_per_command_max);
  std::vector<Command> batch;
  std::vector<Reply> replies(kBatch);
  auto flush = [&] {
    EffectSink sink(w->effects);
    size_t done = 0;
    while (done < batch.size()) {
      sink.clear();
      done += w->ledger->apply(std::span<const Command>(batch).subspan(done),
                               std::span(replies).subspan(done), sink);
    }
    batch.clear();
  };
  // Account 1 is the funding (clearing) account; members are 2..accounts+1.
  batch.push_back(
      make_create_account(Id128{w->next_id++, 1}, 1, asset_wallet, AccountKind::channel_clearing));
  for (uint32_t i = 0; i < accounts; i++) {
    batch.push_back(make_create_account(Id128{w->next_id++, 1}, 2 + i, asset_wallet,
                                        AccountKind::member_wallet, account_flag_no_negative));
    if (batch.size() == kBatch) {
      for (Command& c : batch)
        w->stamp(c);
      flush();
    }
  }
  for (uint32_t i = 0; i < accounts; i++) {
    batch.push_back(make_transfer(Id128{w->next_id++, 1}, 1, 2 + i, kFunding, asset_wallet));
    if (batch.size() == kBatch) {
      for (Command& c : batch)
        w->stamp(c);
      flush();
    }
  }
  for (Command& c : batch)
    w->stamp(c);
  flush();
  return *w;
}

// A bijection of 64-bit values (splitmix64's finaliser): distinct random-looking
// ids, and the account picks' generator.
uint64_t mix_id(uint64_t x) {
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// Account picks: uniform, or Zipf with s = 1 (density ~ 1/rank) by inversion of
// the continuous law; ranks are scattered over the id space by a multiplication.
std::vector<uint64_t> picks(uint32_t accounts, bool zipf, size_t count, uint64_t seed) {
  std::vector<uint64_t> out(count);
  uint64_t state = seed;
  auto next = [&] { return mix_id(state += 0x9e3779b97f4a7c15ull); };  // splitmix64
  const double log_n = std::log(static_cast<double>(accounts) + 1.0);
  for (uint64_t& id : out) {
    uint64_t rank;
    if (zipf) {
      const double u = static_cast<double>(next() >> 11) * 0x1.0p-53;
      rank = static_cast<uint64_t>(std::exp(u * log_n) - 1.0);
      if (rank >= accounts) rank = accounts - 1;
      rank = (rank * 2654435761ull) % accounts;
    } else {
      rank = next() % accounts;
    }
    id = 2 + rank;
  }
  return out;
}

// Command ids: in sequence (how clients usually number them), or random (a
// client that draws them at random: no locality in the index of remembered ids).
enum class Ids { in_sequence, random };

void transfers(benchmark::State& state, Ids ids_kind) {
  const uint32_t accounts = static_cast<uint32_t>(state.range(0));
  const bool zipf = state.range(1) != 0;
  World& w = world(accounts);
  const std::vector<uint64_t> ids = picks(accounts, zipf, 1u << 22, 7);
  std::vector<Command> batch(kBatch, make_transfer(Id128{}, 2, 3, 1, asset_wallet));
  std::vector<Reply> replies(kBatch);
  size_t cursor = 0;
  for (auto _ : state) {
    // Fresh accounts every batch too: a batch that repeated the same 16 K
    // accounts would keep them in cache and measure much less than 1M or 10M.
    for (Command& c : batch) {
      uint64_t d = ids[cursor++ % ids.size()], cr = ids[cursor++ % ids.size()];
      if (d == cr) cr = d == 2 ? 3 : d - 1;
      c.body.transfer.debit_account_id = d;
      c.body.transfer.credit_account_id = cr;
      c.id = ids_kind == Ids::in_sequence ? Id128{w.next_id++, 2} : Id128{mix_id(w.next_id++), 4};
      w.stamp(c);
    }
    EffectSink sink(w.effects);
    const size_t n = w.ledger->apply(batch, replies, sink);
    benchmark::DoNotOptimize(n);
    if (replies[0].result != Result::ok) {
      state.SkipWithError(std::string(result_name(replies[0].result)).c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}

void BM_Transfer(benchmark::State& state) {
  transfers(state, Ids::in_sequence);
}
void BM_TransferRandomIds(benchmark::State& state) {
  transfers(state, Ids::random);
}

void BM_HoldPost(benchmark::State& state) {
  const uint32_t accounts = static_cast<uint32_t>(state.range(0));
  const bool zipf = state.range(1) != 0;
  World& w = world(accounts);
  const std::vector<uint64_t> ids = picks(accounts, zipf, 1u << 22, 11);
  constexpr uint32_t pairs = kBatch / 2;
  std::vector<Command> batch(kBatch);
  std::vector<Reply> replies(kBatch);
  size_t cursor = 0;
  for (uint32_t i = 0; i < pairs; i++) {
    batch[i] = make_hold(Id128{}, 2, 1, 3, asset_wallet, 60);
    // Partial capture: 2 of 3 posted, 1 released.
    batch[pairs + i] = make_pending_op(CommandKind::post_pending, Id128{}, Id128{}, 2);
  }
  for (auto _ : state) {
    for (uint32_t i = 0; i < pairs; i++) {
      batch[i].body.transfer.debit_account_id = ids[cursor++ % ids.size()];  // fresh accounts
      batch[i].id = Id128{w.next_id++, 3};
      batch[pairs + i].id = Id128{w.next_id++, 3};
      batch[pairs + i].body.pending.pending_id = batch[i].id;
    }
    for (Command& c : batch)
      w.stamp(c);
    EffectSink sink(w.effects);
    const size_t n = w.ledger->apply(batch, replies, sink);
    benchmark::DoNotOptimize(n);
    if (replies[kBatch - 1].result != Result::ok) {
      state.SkipWithError(std::string(result_name(replies[kBatch - 1].result)).c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * pairs);
}

void Args(benchmark::internal::Benchmark* b) {
  for (int64_t accounts : {10'000, 1'000'000, 10'000'000}) {
    for (int64_t zipf : {0, 1})
      b->Args({accounts, zipf});
  }
  b->ArgNames({"accounts", "zipf"});
}

BENCHMARK(BM_Transfer)->Apply(Args)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_TransferRandomIds)
    ->Args({10'000, 0})
    ->Args({1'000'000, 0})
    ->ArgNames({"accounts", "zipf"})
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_HoldPost)->Apply(Args)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace coffer
