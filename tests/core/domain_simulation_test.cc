// Domain simulation: a seeded random stream of domain commands (valid and
// invalid, replays, id reuse, time jumps that expire holds, ticks, reads)
// applied to the core and to DomainModel. Every reply (result, flags and the
// reply body) and every member's and merchant's balances are compared after
// each command, and the invariants are checked: every asset sums to zero, no
// no-negative account is negative, payment states agree with the holds behind
// them, refunds never exceed what was captured and add up to the payment's
// refunded total. A failure prints the seed: COFFER_SEED=<seed>.
// Length: 1M commands by default, 10M with COFFER_SOAK=1, or COFFER_SIM_COMMANDS.
#include <gtest/gtest.h>

#include <cstring>

#include <algorithm>
#include <map>
#include <sstream>
#include <vector>

#include "core/domain.h"
#include "core/ledger.h"
#include "tests/core/domain_generator.h"
#include "tests/core/domain_model.h"
#include "tests/core/domain_util.h"
#include "tests/core/sim_util.h"

namespace coffer::test {
namespace {

// Pools sized from the run length so that only the member pool (12, fewer than
// the generator's ids) ever fills: the model does not model the others' limits.
// The id ring never wraps either: the model remembers every id.
LedgerConfig sim_config(uint64_t commands) {
  auto at_least = [&](uint64_t divisor, uint32_t floor) {
    return static_cast<uint32_t>(std::max<uint64_t>(floor, commands / divisor + 1));
  };
  LedgerConfig c;
  c.accounts_capacity = 64;
  c.pending_capacity = at_least(8, 4096);
  c.idempotency_capacity = at_least(1, 1u << 16);
  c.members_capacity = 12;
  c.merchants_capacity = 8;
  c.payments_capacity = at_least(4, 1u << 14);
  c.records_capacity = at_least(4, 1u << 14);
  c.batches_capacity = at_least(16, 1u << 12);
  c.vouchers_capacity = at_least(4, 1u << 14);
  c.settlement_capacity = at_least(16, 1u << 14);
  return c;
}

class DomainSimulation {
 public:
  DomainSimulation(uint64_t seed, uint64_t commands)
      : seed_(seed),
        ledger_(sim_config(commands)),
        generator_(seed),
        effects_(effects_per_command_max) {
    model_.vouchers_capacity = sim_config(commands).vouchers_capacity;
    // Group 2 lets points pay the whole order; the model knows both groups.
    Command g = make_group(Id128{1, 0xfeed}, 2, 500, 10000, 10000, 20000);
    g.seq = 1;
    g.time_us = 1;
    EffectSink sink(effects_);
    COFFER_ASSERT(ledger_.apply(g, sink).result == Result::ok);
  }

  void run(uint64_t commands) {
    for (uint64_t i = 0; i < commands && !failed_; i++) {
      const Command c = generator_.next();
      // Reads served outside apply (the sequencer's unjournaled path) must
      // answer exactly what apply answers at the same time.
      Reply read_outside{};
      if (Ledger::is_read(c.kind)) read_outside = ledger_.read(c, c.time_us);
      EffectSink sink(effects_);
      const Reply got = ledger_.apply(c, sink);
      if (Ledger::is_read(c.kind) && std::memcmp(&read_outside, &got, sizeof got) != 0) {
        fail("Ledger::read differs from apply for a read", c);
        return;
      }
      if (c.kind == CommandKind::tick && model_.tick_pending(c.time_us) > tick_items_max) {
        fail("test stream made a tick too large for the model", c);
        return;
      }
      const Reply want = model_.apply(c);
      counts_[got.result]++;
      if (!same_reply(c, got, want)) return;
      if (!check_balances(c) || !check_invariants(c, index_ % 512 == 0 || i + 1 == commands)) {
        return;
      }
      index_++;
    }
  }
  // A3: every settlement row equals the sum of the records it counts, in the
  // model and, row by row, in the core.
  void check_settlement() {
    std::map<std::tuple<uint64_t, uint64_t, uint64_t>, DomainModel::SettleRow> sums;
    int64_t captured = 0, refunded = 0, vouchers = 0;
    for (const auto& [id, p] : model_.payments) {
      captured += p.captured;
      refunded += p.refunded;
    }
    for (const auto& [code, x] : model_.codes) {
      const auto& b = model_.batches.at(x.batch);
      if (x.redeemed && b.kind == voucher_paper) vouchers += b.face;
    }
    int64_t rows[3] = {};
    for (const auto& [key, row] : model_.settlement) {
      for (int k = 0; k < 3; k++)
        rows[k] += row.amount[k];
      Command read = make_settlement_read(std::get<1>(key), std::get<2>(key), std::get<0>(key));
      generator_.stamp(read);
      EffectSink sink(effects_);
      const Reply got = ledger_.apply(read, sink);
      const ReplyData d = reply_data(got);
      if (got.result != Result::ok || d.v[0] != row.count[0] || d.v[1] != row.amount[0] ||
          d.v[2] != row.amount[1] || d.v[3] != row.count[2] || d.v[4] != row.amount[2]) {
        fail("settlement row differs", read);
        return;
      }
    }
    if (rows[0] != captured || rows[1] != refunded || rows[2] != vouchers) {
      fail("settlement rows do not add up to the records they count", Command{});
    }
  }

  bool failed() const { return failed_; }
  const std::map<Result, uint64_t>& counts() const { return counts_; }
  const DomainModel& model() const { return model_; }

 private:
  uint64_t seed_;
  Ledger ledger_;
  DomainModel model_;
  DomainGenerator generator_;
  std::vector<Effect> effects_;
  uint64_t index_ = 0;
  bool failed_ = false;
  std::map<Result, uint64_t> counts_;

  void fail(const std::string& what, const Command& c) {
    failed_ = true;
    ADD_FAILURE() << what << "\n  seed " << seed_ << ", command " << index_ << " kind "
                  << static_cast<int>(c.kind) << " id " << c.id.lo << " seq " << c.seq
                  << "\n  replay with COFFER_SEED=" << seed_;
  }

  bool same_reply(const Command& c, const Reply& got, const Reply& want) {
    const ReplyData g = reply_data(got), w = reply_data(want);
    bool same = got.result == want.result && got.flags == want.flags;
    if (same && c.kind == CommandKind::tick) same = got.amount == want.amount;
    if (same && (got.result == Result::ok || got.result == Result::points_rule) &&
        c.kind != CommandKind::tick) {
      same = g.state == w.state && g.detail == w.detail;
      const bool member_reply =
          c.kind == CommandKind::member_register || c.kind == CommandKind::member_set_wallet;
      const int values = member_reply ? 1 : c.kind == CommandKind::balance_get ? 6 : 6;
      for (int k = 0; k < values && same; k++) {
        if (c.kind == CommandKind::balance_get && (k == 2 || k == 5)) continue;  // maturing
        same = g.v[k] == w.v[k];
      }
      if (member_reply) same = same && g.aux32 == w.aux32;
    }
    if (!same) {
      std::ostringstream out;
      out << "reply differs: core " << result_name(got.result) << " flags " << got.flags
          << " state " << int(g.state) << " detail " << int(g.detail) << " v " << g.v[0] << ","
          << g.v[1] << "," << g.v[2] << "," << g.v[3] << "," << g.v[4] << "," << g.v[5]
          << " amount " << got.amount << "; model " << result_name(want.result) << " flags "
          << want.flags << " state " << int(w.state) << " detail " << int(w.detail) << " v "
          << w.v[0] << "," << w.v[1] << "," << w.v[2] << "," << w.v[3] << "," << w.v[4] << ","
          << w.v[5] << " amount " << want.amount;
      fail(out.str(), c);
    }
    return same;
  }

  const Account& account(uint64_t id) const {
    const uint32_t slot = ledger_.find_account(id);
    COFFER_ASSERT(slot != Ledger::slot_none);
    return ledger_.account(slot);
  }

  bool check_balances(const Command& c) {
    for (const auto& [id, m] : model_.members) {
      const Account& w = account(detail::member_account_id(m.index, false));
      const Account& p = account(detail::member_account_id(m.index, true));
      if (w.balance() != m.wallet || w.held() != m.wallet_held || p.balance() != m.points ||
          p.held() != m.points_held || w.user_data != id) {
        std::ostringstream out;
        out << "member " << id << " differs: core wallet " << w.balance() << "/" << w.held()
            << " points " << p.balance() << "/" << p.held() << "; model " << m.wallet << "/"
            << m.wallet_held << " points " << m.points << "/" << m.points_held;
        fail(out.str(), c);
        return false;
      }
    }
    uint32_t merchant_index = 0;
    for (uint32_t i = 0; i < 8; i++) {  // merchants_capacity
      const uint32_t slot = ledger_.find_account(detail::merchant_account_id(i));
      if (slot == Ledger::slot_none) break;
      const Account& a = ledger_.account(slot);
      auto it = model_.merchants.find(a.user_data);
      if (it == model_.merchants.end() || it->second.second != a.balance()) {
        fail("merchant " + std::to_string(a.user_data) + " settlement differs", c);
        return false;
      }
      merchant_index++;
    }
    if (merchant_index != model_.merchants.size()) {
      fail("merchant count differs", c);
      return false;
    }
    return true;
  }

  // Every payment's holds when `full` (periodically: the check is linear in the
  // number of payments), else those of the payment the command touched.
  bool check_invariants(const Command& c, bool full) {
    std::map<Asset, std::pair<int64_t, int64_t>> sums;
    for (uint32_t k = 0; k < ledger_.account_count(); k++) {
      const Account& a = ledger_.account(ledger_.account_slot_at(k));
      sums[a.asset].first += a.balance();
      sums[a.asset].second += a.credits_pending - a.debits_pending;
      if ((a.flags & account_flag_no_negative) && a.available() < 0) {
        fail("a no-negative account is negative", c);
        return false;
      }
    }
    for (const auto& [asset, s] : sums) {
      if (s.first != 0 || s.second != 0) {
        fail("asset " + std::to_string(asset) + " does not sum to zero", c);
        return false;
      }
    }
    // Payment states against the holds behind them, refunds against captures.
    uint32_t open_legs = 0;
    const Id128 touched =
        c.kind == CommandKind::payment_create ? c.id : c.body.payment_op.payment_id;
    // Closed payments have no legs open: the open ones' legs account for every
    // open hold (pending_count check below).
    std::vector<Id128> check(1, touched);
    if (full) check.assign(model_.open_payments.begin(), model_.open_payments.end());
    for (const Id128& id : check) {
      auto found = model_.payments.find(id);
      if (found == model_.payments.end()) continue;
      const ModelPayment& p = found->second;
      const bool open = p.state == payment_held || p.state == payment_awaiting_external;
      for (uint32_t k = 0; k < 3; k++) {
        const PendingTransfer* t = ledger_.find_pending(detail::Domain::leg_id(id, k));
        const bool want = open && p.parts[k] > 0;
        if ((t != nullptr) != want ||
            (t && (t->amount != p.parts[k] || t->owner != pending_owner_domain ||
                   t->kind != PendingKind::hold))) {
          fail("payment " + std::to_string(id.lo) + " state disagrees with its holds", c);
          return false;
        }
        open_legs += want;
      }
      int64_t parts_refunded = 0;
      for (int k = 0; k < 4; k++) {
        if (p.refunded_parts[k] > p.captured_parts[k]) {
          fail("a refund part exceeds its captured part", c);
          return false;
        }
        parts_refunded += p.refunded_parts[k];
      }
      if (p.refunded > p.captured || (p.refunded == p.captured && p.captured > 0 &&
                                      p.refunded_parts[0] != p.captured_parts[0])) {
        fail("refunded total inconsistent", c);
        return false;
      }
      (void)parts_refunded;
    }
    // Vouchers redeemed at most once: the liability paid out equals the face
    // values of the model's redeemed codes; clearing accounts equal the paid
    // recharges (and cash credits) behind them.
    if (model_.system_ready) {
      if (account(detail::system_account_id(detail::sys_voucher_liability)).balance() !=
          model_.liability) {
        fail("voucher liability differs from the redeemed vouchers", c);
        return false;
      }
      if (account(detail::system_account_id(detail::sys_payout_clearing)).balance() !=
          model_.payout) {
        fail("payout clearing differs from the approved withdrawals", c);
        return false;
      }
      for (uint32_t k = 0; k < 4; k++) {
        if (account(detail::system_account_id(k)).balance() != model_.clearing[k]) {
          fail("clearing account " + std::to_string(k) + " differs from paid recharges", c);
          return false;
        }
      }
    }
    if (full) {
      for (const Id128& id : model_.open_orders) {
        const auto& o = model_.orders.at(id);
        for (uint32_t k = 0; k < 2; k++) {
          const PendingTransfer* t = ledger_.find_pending(detail::Domain::leg_id(id, k));
          const bool want = o.state[k] == grant_maturing;
          if ((t != nullptr) != want ||
              (t && (t->amount != o.open[k] || t->kind != PendingKind::grant))) {
            fail("order " + std::to_string(id.lo) + " grants disagree with the engine", c);
            return false;
          }
          open_legs += want;
        }
      }
      for (const auto& [id, w] : model_.withdrawals) {
        const PendingTransfer* t = ledger_.find_pending(detail::Domain::leg_id(id, 3));
        const bool want = w.state == withdrawal_pending;
        if ((t != nullptr) != want || (t && t->amount != w.amount)) {
          fail("withdrawal " + std::to_string(id.lo) + " state disagrees with its hold", c);
          return false;
        }
        open_legs += want;
      }
    }
    if (full && open_legs != ledger_.pending_count()) {
      fail("open holds that no payment explains", c);
      return false;
    }
    return true;
  }
};

TEST(DomainSimulation, MatchesModel) {
  const uint64_t seed = env_u64("COFFER_SEED", 20261124);
  const uint64_t commands = env_u64("COFFER_SIM_COMMANDS", soak() ? 10'000'000 : 1'000'000);
  DomainSimulation sim(seed, commands);
  sim.run(commands);
  ASSERT_FALSE(sim.failed());
  sim.check_settlement();
  ASSERT_FALSE(sim.failed());
  ASSERT_GT(sim.model().settlement.size(), 10u);
  std::ostringstream seen;
  for (const auto& [result, count] : sim.counts())
    seen << result_name(result) << "=" << count << " ";
  std::printf("seed %llu: %s\n", static_cast<unsigned long long>(seed), seen.str().c_str());
  for (Result r :
       {Result::ok, Result::invalid_request, Result::not_found, Result::id_reused,
        Result::invalid_state, Result::wallet_disabled, Result::insufficient_funds,
        Result::points_rule, Result::split_not_allowed, Result::limit_exceeded,
        Result::capacity_exhausted, Result::voucher_redeemed, Result::voucher_expired,
        Result::voucher_not_yet_valid, Result::voucher_void, Result::voucher_wrong_merchant,
        Result::voucher_wrong_kind, Result::rate_limited}) {
    EXPECT_GT(sim.counts().count(r), 0u) << "never produced " << result_name(r);
  }
}

TEST(DomainSimulation, OtherSeeds) {
  const uint64_t runs = soak() ? 100 : 6;
  for (uint64_t seed = 1; seed <= runs; seed++) {
    DomainSimulation sim(seed, 20'000);
    sim.run(20'000);
    ASSERT_FALSE(sim.failed()) << "seed " << seed;
    sim.check_settlement();
    ASSERT_FALSE(sim.failed()) << "seed " << seed;
  }
}

}  // namespace
}  // namespace coffer::test
