// Domain commands on one thread: the mixed workload of the domain issue over
// 1 M members — 70 % payments (wallet, a fifth with points), 10 % recharges
// (half recharge orders, half their confirmations), 10 % balance reads, 5 %
// partial refunds of earlier payments, 5 % paper voucher redemptions. Applied in
// batches of batch_size_max through Ledger::apply as the sequencer would; the
// batch is built with timing paused. Items = commands.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "core/ledger.h"

namespace coffer {
namespace {

constexpr uint32_t kBatch = batch_size_max;
constexpr uint32_t kMembers = 1'000'000;
constexpr uint64_t kMerchant = 1;
constexpr int64_t kIterations = 240;  // batches per run: sizes the record pools below
constexpr uint32_t kCodes = 100'000;

uint64_t splitmix(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

struct DomainWorld {
  std::unique_ptr<Ledger> ledger;
  uint64_t seq = 0;
  uint64_t time_us = 1'700'000'000'000'000;
  uint64_t next_id = 1;
  std::vector<Effect> effects;
  std::vector<Reply> replies;
  std::vector<Id128> payments;   // captured, for refunds
  std::vector<Id128> recharges;  // pending, for confirmations
  uint32_t next_code = 0;
  Id128 batch_id{};

  // Command ids in sequence, or with COFFER_BENCH_RANDOM_IDS=1 drawn at random
  // as the gateway's are (SHA-256 of the caller's ids: no locality in the
  // indexes by id).
  bool random_ids = std::getenv("COFFER_BENCH_RANDOM_IDS") != nullptr &&
                    std::string(std::getenv("COFFER_BENCH_RANDOM_IDS")) == "1";
  Id128 id() {
    if (!random_ids) return Id128{next_id++, 0xbe};
    uint64_t state = next_id++;  // one splitmix step per id: distinct ids
    return Id128{splitmix(state), 0xbe};
  }

  void run(std::vector<Command>& batch) {
    for (Command& c : batch) {
      c.seq = ++seq;
      c.time_us = time_us;
    }
    replies.resize(batch.size());
    size_t done = 0;
    while (done < batch.size()) {
      EffectSink sink(effects);
      done += ledger->apply(std::span<const Command>(batch).subspan(done),
                            std::span(replies).subspan(done), sink);
    }
    batch.clear();
  }
};

Id128 code(uint32_t k) {
  return Id128{0x5eed0000ull + k, 0xc0de};
}

DomainWorld& world() {
  static std::unique_ptr<DomainWorld> w;
  if (w) return *w;
  w = std::make_unique<DomainWorld>();
  LedgerConfig config;
  config.accounts_capacity = 2 * kMembers + 64;
  config.pending_capacity = 1u << 16;
  config.idempotency_capacity = 1u << 22;
  config.members_capacity = kMembers;
  config.merchants_capacity = 16;
  config.payments_capacity = 1u << 21;  // 0.7 x kIterations x kBatch, with room
  config.records_capacity = 1u << 21;   // setup credits + recharges + refunds
  config.batches_capacity = 16;
  config.vouchers_capacity = kCodes;
  w->ledger = std::make_unique<Ledger>(config);
  w->effects.resize(kBatch * 16 + effects_per_command_max);
  std::vector<Command> batch;
  auto push = [&](const Command& c) {
    batch.push_back(c);
    if (batch.size() == kBatch) w->run(batch);
  };
  {
    Command c{};
    c.kind = CommandKind::merchant_set;
    c.id = w->id();
    c.body.merchant.merchant_id = kMerchant;
    push(c);
    c = Command{};
    c.kind = CommandKind::recharge_method_set;
    c.id = w->id();
    c.body.method = MethodBody{1, channel_wechat, 1, 3};
    push(c);
  }
  for (uint32_t m = 1; m <= kMembers; m++) {
    Command c{};
    c.kind = CommandKind::member_register;
    c.id = w->id();
    c.body.member.member_id = m;
    push(c);
  }
  for (uint32_t m = 1; m <= kMembers; m++) {
    for (Asset asset : {asset_wallet, asset_points}) {
      Command c{};
      c.kind = CommandKind::member_credit;
      c.id = w->id();
      c.body.money.member_id = m;
      c.body.money.amount = asset == asset_wallet ? 1'000'000'000 : 1'000'000;
      c.body.money.asset = asset;
      push(c);
    }
  }
  // One paper batch of kCodes codes.
  Command b{};
  b.kind = CommandKind::voucher_batch_create;
  b.id = w->batch_id = w->id();
  b.body.batch = BatchBody{kMerchant, 500, 0, UINT64_MAX / 2, kCodes, voucher_paper};
  push(b);
  for (uint32_t k = 0; k < kCodes; k += batch_codes_per_command) {
    Command c{};
    c.kind = CommandKind::voucher_batch_add_codes;
    c.id = w->id();
    c.body.batch_codes.batch_id = w->batch_id;
    c.body.batch_codes.first_index = k;
    c.body.batch_codes.count = batch_codes_per_command;
    for (uint32_t j = 0; j < batch_codes_per_command; j++)
      c.body.batch_codes.codes[j] = code(k + j);
    push(c);
  }
  w->run(batch);
  return *w;
}

void BM_DomainMixed(benchmark::State& state) {
  DomainWorld& w = world();
  uint64_t rng = 42;
  std::vector<Command> batch;
  batch.reserve(kBatch);
  uint64_t failed = 0, commands = 0;
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<Id128> new_payments, new_recharges;
    for (uint32_t i = 0; i < kBatch; i++) {
      const uint64_t r = splitmix(rng);
      const uint64_t pick = r % 100;
      const uint64_t member = 1 + (r >> 8) % kMembers;
      Command c{};
      if (pick < 70) {
        c.kind = CommandKind::payment_create;
        c.id = w.id();
        PaymentBody& p = c.body.payment;
        p.member_id = member;
        p.merchant_id = kMerchant;
        p.store_id = 1 + (r >> 40) % 8;
        p.amount = 1000 + static_cast<int64_t>((r >> 48) % 9000);
        p.points = pick < 14 ? 20 : 0;  // a fifth use points (2.00)
        p.capture = 1;
        new_payments.push_back(c.id);
      } else if (pick < 75) {
        c.kind = CommandKind::recharge_create;
        c.id = w.id();
        c.body.recharge = RechargeBody{member, 10000, 1};
        new_recharges.push_back(c.id);
      } else if (pick < 80) {
        if (w.recharges.empty()) continue;
        c.kind = CommandKind::recharge_confirm;
        c.id = w.id();
        c.body.recharge_confirm.recharge_id = w.recharges.back();
        c.body.recharge_confirm.channel_txn = c.id;
        c.body.recharge_confirm.amount = 10000;
        w.recharges.pop_back();
      } else if (pick < 90) {
        c.kind = CommandKind::balance_get;
        c.body.read.key = member;
      } else if (pick < 95) {
        if (w.payments.empty()) continue;
        c.kind = CommandKind::payment_refund;
        c.id = w.id();
        c.body.payment_op.payment_id = w.payments[(r >> 20) % w.payments.size()];
        c.body.payment_op.amount = 1;
      } else {
        c.kind = CommandKind::voucher_redeem;
        c.id = w.id();
        c.body.redeem.code = code(w.next_code++ % kCodes);
        c.body.redeem.merchant_id = kMerchant;
        c.body.redeem.store_id = 1 + (r >> 40) % 8;
      }
      batch.push_back(c);
    }
    commands += batch.size();
    w.time_us += 1000;
    state.ResumeTiming();
    w.run(batch);
    state.PauseTiming();
    for (const Reply& reply : w.replies)
      failed += reply.result != Result::ok;
    w.payments.insert(w.payments.end(), new_payments.begin(), new_payments.end());
    w.recharges.insert(w.recharges.end(), new_recharges.begin(), new_recharges.end());
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<int64_t>(commands));
  state.counters["failed_share"] = static_cast<double>(failed) / static_cast<double>(commands);
}

BENCHMARK(BM_DomainMixed)->Iterations(kIterations)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace coffer
