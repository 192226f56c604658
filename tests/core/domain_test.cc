// Domain commands, one test (or more) per rule and per error code of families
// a (config, groups, members, credit/debit, rebates, gifts) and b (payments,
// points, refunds, automatic void), with the seed examples of SPEC.md.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "core/ledger.h"
#include "tests/core/domain_util.h"

namespace coffer::test {
namespace {

constexpr uint64_t kAlice = 1001, kBob = 1002, kShop = 7;

class DomainTest : public ::testing::Test {
 protected:
  Driver d;

  // Alice and Bob registered, the shop exists, Alice has `wallet` and `points`.
  void setup(int64_t wallet = 10000, int64_t points = 0, bool split = false) {
    d.ok(make_register(d.id(), kAlice, 555));
    d.ok(make_register(d.id(), kBob));
    d.ok(make_merchant(d.id(), kShop, split));
    if (wallet > 0) d.ok(make_money(CommandKind::member_credit, d.id(), kAlice, wallet));
    if (points > 0) {
      d.ok(make_money(CommandKind::member_credit, d.id(), kAlice, points, asset_points));
    }
  }
  Result result(const Command& c) { return d.run(c).result; }
};

// ---- members (M1-M5) ----

TEST_F(DomainTest, RegisterAutoOpensWalletInDefaultGroup) {
  const Reply r = d.ok(make_register(d.id(), kAlice, 555));
  const ReplyData m = reply_data(r);
  EXPECT_EQ(m.state, 1);   // wallet_enabled (M2 default true)
  EXPECT_EQ(m.aux32, 1u);  // M5 default group
  EXPECT_EQ(m.v[0], static_cast<int64_t>(kAlice));
  EXPECT_EQ(m.v[3], static_cast<int64_t>(d.time_us));
  EXPECT_EQ(d.wallet(kAlice), 0);
  // M4: by phone.
  const Reply p = d.run(make_read(CommandKind::member_by_phone, 555));
  ASSERT_EQ(p.result, Result::ok);
  EXPECT_EQ(reply_data(p).v[0], static_cast<int64_t>(kAlice));
  EXPECT_EQ(d.run(make_read(CommandKind::member_by_phone, 556)).result, Result::not_found);
  EXPECT_EQ(d.run(make_read(CommandKind::member_get, 9)).result, Result::not_found);
}

TEST_F(DomainTest, RegisterReplaysAndConflicts) {
  const Id128 id = d.id();
  d.ok(make_register(id, kAlice, 555));
  const Reply again = d.run(make_register(id, kAlice, 555));
  EXPECT_EQ(again.result, Result::ok);
  EXPECT_TRUE(again.flags & reply_flag_replayed);
  EXPECT_EQ(reply_data(again).v[0], static_cast<int64_t>(kAlice));
  EXPECT_EQ(result(make_register(id, kAlice, 556)), Result::id_reused);
  // Same member under a new id: same content is a replay, other content is not.
  EXPECT_EQ(d.run(make_register(d.id(), kAlice, 555)).flags & reply_flag_replayed,
            reply_flag_replayed);
  EXPECT_EQ(result(make_register(d.id(), kAlice, 1)), Result::id_reused);
  // Phone already taken by another member; unknown group; zero id.
  EXPECT_EQ(result(make_register(d.id(), kBob, 555)), Result::invalid_state);
  EXPECT_EQ(result(make_register(d.id(), kBob, 0, 9)), Result::not_found);
  EXPECT_EQ(result(make_register(d.id(), 0)), Result::invalid_request);
}

TEST_F(DomainTest, RegisterCapacityExhausted) {
  LedgerConfig config = Driver::small_config();
  config.members_capacity = 2;
  Driver small(config);
  small.ok(make_register(small.id(), 1));
  small.ok(make_register(small.id(), 2));
  EXPECT_EQ(small.run(make_register(small.id(), 3)).result, Result::capacity_exhausted);
  // Accounts run out before members do.
  config.members_capacity = 64;
  config.accounts_capacity = system_accounts_count + 3;
  Driver tight(config);
  tight.ok(make_register(tight.id(), 1));
  EXPECT_EQ(tight.run(make_register(tight.id(), 2)).result, Result::capacity_exhausted);
}

TEST_F(DomainTest, WalletDisabledUntilEnabledAndBalancesKept) {
  d.ok(make_config(d.id(), 1u << 13, [](DomainConfig& v) { v.wallet_auto_open = 0; }));
  d.ok(make_register(d.id(), kAlice));
  d.ok(make_merchant(d.id(), kShop));
  EXPECT_EQ(d.balance(kAlice).state, 0);
  EXPECT_EQ(result(make_money(CommandKind::member_credit, d.id(), kAlice, 100)),
            Result::wallet_disabled);
  d.ok(make_set_wallet(d.id(), kAlice, true));
  d.ok(make_money(CommandKind::member_credit, d.id(), kAlice, 100));
  d.ok(make_set_wallet(d.id(), kAlice, false));
  EXPECT_EQ(d.wallet(kAlice), 100);  // kept
  EXPECT_EQ(result(make_payment(d.id(), kAlice, kShop, 10)), Result::wallet_disabled);
  EXPECT_EQ(result(make_money(CommandKind::member_debit, d.id(), kAlice, 10)),
            Result::wallet_disabled);
  // Points are not the wallet.
  d.ok(make_money(CommandKind::member_credit, d.id(), kAlice, 50, asset_points));
  EXPECT_EQ(result(make_set_wallet(d.id(), 99, true)), Result::not_found);
}

// ---- config and groups (O3) ----

TEST_F(DomainTest, ConfigDefaultsAndValidation) {
  DomainConfig cfg;
  unsigned char bytes[2 * sizeof(ReplyData)];
  for (uint32_t part = 0; part < 2; part++) {
    const Reply r = d.run(make_read(CommandKind::config_get, 0, Id128{}, part));
    ASSERT_EQ(r.result, Result::ok);
    const ReplyData data = reply_data(r);
    std::memcpy(bytes + part * sizeof data, &data, sizeof data);
  }
  std::memcpy(&cfg, bytes, sizeof cfg);
  EXPECT_EQ(cfg.wallet_auto_open, 1);
  EXPECT_EQ(cfg.default_group_id, 1u);
  EXPECT_EQ(cfg.wallet_gift_days, 15);
  EXPECT_EQ(cfg.points_gift_days, 15);
  EXPECT_EQ(cfg.withdraw_enabled, 0);
  EXPECT_EQ(cfg.withdraw_max_rate_bp, 6000);
  EXPECT_EQ(cfg.withdraw_reserve_min, 5000);
  EXPECT_EQ(cfg.points_offset_rate, 10u);
  EXPECT_EQ(cfg.points_use_min, 10u);
  EXPECT_EQ(cfg.payment_hold_timeout_s, 1800u);
  EXPECT_EQ(cfg.recharge_timeout_s, 1800u);
  EXPECT_EQ(cfg.recharge_min, 1);
  EXPECT_EQ(cfg.recharge_max, 5'000'000);
  EXPECT_EQ(cfg.wallet_max_balance, 0);
  EXPECT_EQ(cfg.voucher_fail_limit, 10u);

  EXPECT_EQ(result(make_config(d.id(), 1u << 15, [](DomainConfig&) {})), Result::invalid_request);
  EXPECT_EQ(result(make_config(d.id(), 1u << 12,
                               [](DomainConfig& v) { v.withdraw_max_rate_bp = 10001; })),
            Result::invalid_request);
  EXPECT_EQ(result(make_config(d.id(), 1u << 5, [](DomainConfig& v) { v.points_offset_rate = 0; })),
            Result::invalid_request);
  EXPECT_EQ(result(make_config(d.id(), 1u << 4, [](DomainConfig& v) { v.default_group_id = 3; })),
            Result::not_found);
  d.ok(make_group(d.id(), 3, 100, 10000, 5000, 0));
  d.ok(make_config(d.id(), 1u << 4, [](DomainConfig& v) { v.default_group_id = 3; }));
  d.ok(make_register(d.id(), kAlice));
  EXPECT_EQ(reply_data(d.run(make_read(CommandKind::member_get, kAlice))).aux32, 3u);
}

TEST_F(DomainTest, GroupsSetReadAndLimits) {
  const Reply g1 = d.run(make_read(CommandKind::group_get, 1));
  ASSERT_EQ(g1.result, Result::ok);
  EXPECT_EQ(reply_data(g1).v[0], 0);      // cashback_bp
  EXPECT_EQ(reply_data(g1).v[1], 10000);  // earn_points_bp
  EXPECT_EQ(reply_data(g1).v[2], 5000);   // use_points_bp
  d.ok(make_group(d.id(), 2, 200, 15000 > 10000 ? 10000 : 0, 8000, 100000));
  EXPECT_EQ(reply_data(d.run(make_read(CommandKind::group_get, 2))).v[3], 100000);
  // By index, for listing.
  Command by_index = make_read(CommandKind::group_get, 0);
  by_index.body.read.index = 1;
  EXPECT_EQ(reply_data(d.run(by_index)).aux32, 2u);
  by_index.body.read.index = 2;
  EXPECT_EQ(d.run(by_index).result, Result::not_found);
  EXPECT_EQ(result(make_group(d.id(), 0, 0, 0, 0, 0)), Result::invalid_request);
  EXPECT_EQ(result(make_group(d.id(), 4, 10001, 0, 0, 0)), Result::invalid_request);
  for (uint32_t g = 3; g <= groups_max; g++)
    d.ok(make_group(d.id(), g, 0, 0, 0, 0));
  EXPECT_EQ(result(make_group(d.id(), groups_max + 1, 0, 0, 0, 0)), Result::capacity_exhausted);
  d.ok(make_group(d.id(), 5, 1, 1, 1, 1));  // an existing one can still change
}

// ---- admin credit and debit (R4, P3), rebates (O4), gifts (V6) ----

TEST_F(DomainTest, AdminCreditAndDebit) {
  setup(0);
  const Reply credit = d.ok(make_money(CommandKind::member_credit, d.id(), kAlice, 10000));
  EXPECT_EQ(reply_data(credit).v[1], 10000);  // balance after
  d.ok(make_money(CommandKind::member_debit, d.id(), kAlice, 2500));
  EXPECT_EQ(d.wallet(kAlice), 7500);
  // Never below zero available: fails whole, nothing changes.
  EXPECT_EQ(result(make_money(CommandKind::member_debit, d.id(), kAlice, 7501)),
            Result::insufficient_funds);
  EXPECT_EQ(d.wallet(kAlice), 7500);
  // Points adjustments (P3).
  d.ok(make_money(CommandKind::member_credit, d.id(), kAlice, 40, asset_points));
  d.ok(make_money(CommandKind::member_debit, d.id(), kAlice, 15, asset_points));
  EXPECT_EQ(d.points(kAlice), 25);
  EXPECT_EQ(result(make_money(CommandKind::member_debit, d.id(), kAlice, 26, asset_points)),
            Result::insufficient_funds);
  // Cash recharge goes through the cash channel.
  d.ok(
      make_money(CommandKind::member_credit, d.id(), kAlice, 500, asset_wallet, money_source_cash));
  EXPECT_EQ(d.wallet(kAlice), 8000);
  EXPECT_EQ(result(make_money(CommandKind::member_credit, d.id(), 9, 1)), Result::not_found);
  EXPECT_EQ(result(make_money(CommandKind::member_credit, d.id(), kAlice, 0)),
            Result::invalid_request);
  EXPECT_EQ(result(make_money(CommandKind::member_credit, d.id(), kAlice, 1, 7)),
            Result::invalid_request);
  EXPECT_EQ(result(make_money(CommandKind::member_debit, d.id(), kAlice, 1, asset_wallet,
                              money_source_cash)),
            Result::invalid_request);
}

TEST_F(DomainTest, AMemberFoundForOneCommandIsNotTakenForAnother) {
  // The batch path hands each command the member its prefetch found; that
  // hint outlives the batch, so a later command naming someone else must not
  // land on it.
  setup(0);
  // Three commands: the prefetch finds a member two commands ahead.
  std::vector<Command> batch = {make_money(CommandKind::member_credit, d.id(), kAlice, 30),
                                make_money(CommandKind::member_credit, d.id(), kAlice, 30),
                                make_money(CommandKind::member_credit, d.id(), kAlice, 40)};
  for (Command& c : batch) {
    c.seq = ++d.seq;
    c.time_us = d.time_us;
  }
  std::vector<Reply> replies(batch.size());
  EffectSink sink(d.effects);
  ASSERT_EQ(d.ledger.apply(batch, replies, sink), batch.size());
  for (const Reply& r : replies)
    ASSERT_EQ(r.result, Result::ok);
  d.ok(make_money(CommandKind::member_credit, d.id(), kBob, 50));  // one command, no batch
  d.ok(make_gift(d.id(), kBob, kAlice, 20));
  EXPECT_EQ(d.wallet(kAlice), 120);
  EXPECT_EQ(d.wallet(kBob), 30);
}

TEST_F(DomainTest, CreditReplaysWithTheSameReply) {
  setup(0);
  const Id128 id = d.id();
  const Reply first = d.ok(make_money(CommandKind::member_credit, id, kAlice, 300));
  d.ok(make_money(CommandKind::member_credit, d.id(), kAlice, 200));
  const Reply again = d.run(make_money(CommandKind::member_credit, id, kAlice, 300));
  EXPECT_EQ(again.result, Result::ok);
  EXPECT_TRUE(again.flags & reply_flag_replayed);
  EXPECT_EQ(reply_data(again).v[1], reply_data(first).v[1]);
  EXPECT_EQ(d.wallet(kAlice), 500);
  EXPECT_EQ(result(make_money(CommandKind::member_credit, id, kAlice, 301)), Result::id_reused);
}

TEST_F(DomainTest, CreditReplayBeyondTheIdRingUsesTheRecord) {
  LedgerConfig config = Driver::small_config();
  config.idempotency_capacity = 2;
  Driver small(config);
  small.ok(make_register(small.id(), kAlice));
  const Id128 id = small.id();
  small.ok(make_money(CommandKind::member_credit, id, kAlice, 300));
  small.ok(make_money(CommandKind::member_credit, small.id(), kAlice, 1));
  small.ok(make_money(CommandKind::member_credit, small.id(), kAlice, 1));
  const Reply again = small.run(make_money(CommandKind::member_credit, id, kAlice, 300));
  EXPECT_EQ(again.result, Result::ok);
  EXPECT_TRUE(again.flags & reply_flag_replayed);
  EXPECT_EQ(small.wallet(kAlice), 302);
  EXPECT_EQ(small.run(make_money(CommandKind::member_credit, id, kAlice, 5)).result,
            Result::id_reused);
}

TEST_F(DomainTest, WalletMaxBalance) {
  setup(0);
  d.ok(make_config(d.id(), 1u << 3, [](DomainConfig& v) { v.wallet_max_balance = 1000; }));
  d.ok(make_money(CommandKind::member_credit, d.id(), kAlice, 1000));
  EXPECT_EQ(result(make_money(CommandKind::member_credit, d.id(), kAlice, 1)),
            Result::limit_exceeded);
  EXPECT_EQ(result(make_money(CommandKind::rebate, d.id(), kAlice, 1)), Result::limit_exceeded);
  d.ok(make_money(CommandKind::member_credit, d.id(), kBob, 600));
  EXPECT_EQ(result(make_gift(d.id(), kAlice, kBob, 401)), Result::limit_exceeded);
  d.ok(make_gift(d.id(), kAlice, kBob, 400));
}

TEST_F(DomainTest, Rebate) {
  setup(0);
  d.ok(make_money(CommandKind::rebate, d.id(), kAlice, 123));
  EXPECT_EQ(d.wallet(kAlice), 123);
  EXPECT_EQ(result(make_money(CommandKind::rebate, d.id(), kAlice, 5, asset_points)),
            Result::invalid_request);
  EXPECT_EQ(result(make_money(CommandKind::rebate, d.id(), 9, 5)), Result::not_found);
}

TEST_F(DomainTest, Gifts) {
  setup(1000);
  const Reply g = d.ok(make_gift(d.id(), kAlice, kBob, 300, 200));
  EXPECT_EQ(reply_data(g).v[1], 700);
  EXPECT_EQ(d.wallet(kAlice), 700);
  EXPECT_EQ(d.wallet(kBob), 300);
  EXPECT_EQ(result(make_gift(d.id(), kAlice, kBob, 701)), Result::insufficient_funds);
  EXPECT_EQ(result(make_gift(d.id(), kAlice, kAlice, 1)), Result::invalid_request);
  EXPECT_EQ(result(make_gift(d.id(), kAlice, kBob, 1, 201)), Result::invalid_request);
  EXPECT_EQ(result(make_gift(d.id(), kAlice, 9, 1)), Result::not_found);
  d.ok(make_set_wallet(d.id(), kBob, false));
  EXPECT_EQ(result(make_gift(d.id(), kAlice, kBob, 1)), Result::wallet_disabled);
  EXPECT_EQ(d.wallet(kAlice), 700);
}

// ---- payments (W1-W5, P2) ----

TEST_F(DomainTest, PaymentCapturedAtOnce) {
  setup(10000);
  const Id128 pay = d.id();
  const Reply r = d.ok(make_payment(pay, kAlice, kShop, 2500, 0, 0, true, 3));
  EXPECT_EQ(reply_data(r).state, payment_captured);
  EXPECT_EQ(reply_data(r).v[1], 2500);  // wallet part
  EXPECT_EQ(d.wallet(kAlice), 7500);
  const Reply m = d.run(make_read(CommandKind::merchant_get, kShop));
  EXPECT_EQ(reply_data(m).v[1], 2500);  // merchant settlement
  // Replay: same reply body; other content: ID_REUSED.
  const Reply again = d.run(make_payment(pay, kAlice, kShop, 2500, 0, 0, true, 3));
  EXPECT_TRUE(again.flags & reply_flag_replayed);
  EXPECT_EQ(reply_data(again).state, payment_captured);
  EXPECT_EQ(reply_data(again).v[1], 2500);
  EXPECT_EQ(result(make_payment(pay, kAlice, kShop, 2501)), Result::id_reused);
  EXPECT_EQ(d.wallet(kAlice), 7500);
}

TEST_F(DomainTest, NotEnoughBalanceChangesNothing) {
  // Seed example: not enough balance -> INSUFFICIENT_FUNDS, no partial debit.
  setup(1000);
  const uint64_t before_hash_accounts = d.wallet(kAlice);
  const Id128 pay = d.id();
  EXPECT_EQ(result(make_payment(pay, kAlice, kShop, 1001)), Result::insufficient_funds);
  EXPECT_EQ(d.wallet(kAlice), static_cast<int64_t>(before_hash_accounts));
  EXPECT_EQ(d.wallet_held(kAlice), 0);
  EXPECT_EQ(d.run(make_read(CommandKind::payment_get, 0, pay)).result, Result::not_found);
  EXPECT_EQ(d.last_effects, 0u);
}

TEST_F(DomainTest, PaymentErrors) {
  setup(1000);
  EXPECT_EQ(result(make_payment(d.id(), 9, kShop, 10)), Result::not_found);
  EXPECT_EQ(result(make_payment(d.id(), kAlice, 9, 10)), Result::not_found);
  EXPECT_EQ(result(make_payment(d.id(), kAlice, kShop, 0)), Result::invalid_request);
  EXPECT_EQ(result(make_payment(d.id(), kAlice, kShop, 10, -1)), Result::invalid_request);
  EXPECT_EQ(result(make_payment(d.id(), kAlice, kShop, 10, 0, 10)), Result::invalid_request);
  // W2: split payment off by default.
  EXPECT_EQ(result(make_payment(d.id(), kAlice, kShop, 100, 0, 50)), Result::split_not_allowed);
}

TEST_F(DomainTest, PointsOffsetSeedExamples) {
  // 10 points = 1.00; minimum 10 points; at most use_points_bp (50 %) of the amount.
  setup(10000, 1000);
  const Reply r = d.ok(make_payment(d.id(), kAlice, kShop, 1000, 10));
  EXPECT_EQ(reply_data(r).v[3], 100);  // points value: 1.00
  EXPECT_EQ(reply_data(r).v[1], 900);  // wallet part
  EXPECT_EQ(d.points(kAlice), 990);
  EXPECT_EQ(d.wallet(kAlice), 9100);
  EXPECT_EQ(reply_data(d.run(make_read(CommandKind::merchant_get, kShop))).v[1], 1000);

  Reply bad = d.run(make_payment(d.id(), kAlice, kShop, 1000, 9));
  EXPECT_EQ(bad.result, Result::points_rule);
  EXPECT_EQ(reply_data(bad).detail, points_rule_min);
  bad = d.run(make_payment(d.id(), kAlice, kShop, 100000, 991));
  EXPECT_EQ(bad.result, Result::points_rule);
  EXPECT_EQ(reply_data(bad).detail, points_rule_balance);
  bad = d.run(make_payment(d.id(), kAlice, kShop, 1000, 60));  // 6.00 > 50 % of 10.00
  EXPECT_EQ(bad.result, Result::points_rule);
  EXPECT_EQ(reply_data(bad).detail, points_rule_max_share);
  d.ok(make_payment(d.id(), kAlice, kShop, 1000, 50));  // exactly 50 %
  EXPECT_EQ(d.points(kAlice), 940);
}

// A failed command replayed answers its code and its rule, as the first time
// (a client retrying after a lost reply learns why).
TEST_F(DomainTest, ReplayedFailureKeepsItsRule) {
  setup(10000, 1000);
  const Command c = make_payment(d.id(), kAlice, kShop, 100000, 1001);  // 1 000 points held
  const Reply first = d.run(c);
  ASSERT_EQ(first.result, Result::points_rule);
  ASSERT_EQ(reply_data(first).detail, points_rule_balance);
  const Reply again = d.run(c);
  EXPECT_EQ(again.result, Result::points_rule);
  EXPECT_TRUE(again.flags & reply_flag_replayed);
  EXPECT_EQ(reply_data(again).detail, points_rule_balance);
  // Even once the balance would allow it: the id's result stays.
  d.ok(make_money(CommandKind::member_credit, d.id(), kAlice, 100000, asset_points));
  EXPECT_EQ(reply_data(d.run(c)).detail, points_rule_balance);
  EXPECT_EQ(d.run(c).result, Result::points_rule);
}

TEST_F(DomainTest, PointsRuleFailureWithWalletChangesNothing) {
  setup(10000, 100);
  const int64_t wallet = d.wallet(kAlice), points = d.points(kAlice);
  EXPECT_EQ(result(make_payment(d.id(), kAlice, kShop, 1000, 200)), Result::points_rule);
  EXPECT_EQ(d.wallet(kAlice), wallet);
  EXPECT_EQ(d.points(kAlice), points);
  EXPECT_EQ(d.last_effects, 0u);
}

TEST_F(DomainTest, LegFailureAfterAnotherLegUndoesEverything) {
  // Freeze points issuance: the wallet leg succeeds first, the points leg fails;
  // the whole payment must be undone.
  setup(10000, 100);
  const uint64_t issuance = domain_account_id_min | (4 + 1);
  d.ok(make_set_frozen(d.id(), issuance, true));
  const uint64_t hash = d.ledger.state_hash();
  const Command pay = make_payment(d.id(), kAlice, kShop, 1000, 20);
  Command stamped = pay;
  EXPECT_EQ(result(pay), Result::account_frozen);
  EXPECT_EQ(d.wallet(kAlice), 10000);
  EXPECT_EQ(d.points(kAlice), 100);
  EXPECT_EQ(d.last_effects, 0u);
  EXPECT_NE(hash, d.ledger.state_hash());  // only the remembered id differs
  (void)stamped;
}

TEST_F(DomainTest, TwoPhaseCaptureInPartReleasesTheRest) {
  setup(10000, 1000);
  const Id128 pay = d.id();
  // 10.00 with 20 points (2.00): wallet 8.00, points 20, value 2.00.
  const Reply r = d.ok(make_payment(pay, kAlice, kShop, 1000, 20, 0, false));
  EXPECT_EQ(reply_data(r).state, payment_held);
  EXPECT_EQ(d.wallet_held(kAlice), 800);
  EXPECT_EQ(d.balance(kAlice).v[4], 20);  // points held
  EXPECT_EQ(result(make_payment_op(CommandKind::payment_capture, d.id(), pay, 1001)),
            Result::limit_exceeded);
  const Id128 cap = d.id();
  const Reply c = d.ok(make_payment_op(CommandKind::payment_capture, cap, pay, 500));
  EXPECT_EQ(reply_data(c).state, payment_captured);
  EXPECT_EQ(reply_data(c).v[4], 500);
  // points floor(20 x 500/1000) = 10, value 100, wallet 400.
  EXPECT_EQ(d.wallet(kAlice), 9600);
  EXPECT_EQ(d.points(kAlice), 990);
  EXPECT_EQ(d.wallet_held(kAlice), 0);
  EXPECT_EQ(d.balance(kAlice).v[4], 0);
  EXPECT_EQ(reply_data(d.run(make_read(CommandKind::merchant_get, kShop))).v[1], 500);
  // The capture replays; a second capture or a void is INVALID_STATE.
  EXPECT_TRUE(d.run(make_payment_op(CommandKind::payment_capture, cap, pay, 500)).flags &
              reply_flag_replayed);
  EXPECT_EQ(result(make_payment_op(CommandKind::payment_capture, d.id(), pay)),
            Result::invalid_state);
  EXPECT_EQ(result(make_payment_op(CommandKind::payment_void, d.id(), pay)), Result::invalid_state);
  EXPECT_EQ(result(make_payment_op(CommandKind::payment_capture, d.id(), d.id())),
            Result::not_found);
}

TEST_F(DomainTest, VoidReturnsEverything) {
  setup(10000, 1000);
  const Id128 pay = d.id();
  d.ok(make_payment(pay, kAlice, kShop, 1000, 20, 0, false));
  const Reply v = d.ok(make_payment_op(CommandKind::payment_void, d.id(), pay));
  EXPECT_EQ(reply_data(v).state, payment_voided);
  EXPECT_EQ(d.wallet(kAlice), 10000);
  EXPECT_EQ(d.wallet_held(kAlice), 0);
  EXPECT_EQ(d.points(kAlice), 1000);
  EXPECT_EQ(result(make_payment_op(CommandKind::payment_capture, d.id(), pay)),
            Result::invalid_state);
}

TEST_F(DomainTest, UnpaidOrderExpiresAndReturnsBalanceAndPoints) {
  // Seed example: cancelling an unpaid order returns balance and points (W3).
  setup(10000, 1000);
  const Id128 pay = d.id();
  d.ok(make_payment(pay, kAlice, kShop, 1000, 20, 0, false));
  EXPECT_EQ(d.balance(kAlice).v[4], 20);
  d.time_us += 1799ull * 1000000;
  EXPECT_EQ(d.run(make_tick()).amount, 0);
  EXPECT_EQ(d.payment(pay).state, payment_held);
  d.time_us += 1000000;
  // Expired by time already, before the tick runs.
  EXPECT_EQ(d.payment(pay).state, payment_expired);
  EXPECT_EQ(result(make_payment_op(CommandKind::payment_capture, d.id(), pay)),
            Result::invalid_state);
  EXPECT_EQ(d.run(make_tick()).amount, 3);  // three legs
  EXPECT_EQ(d.payment(pay).state, payment_expired);
  EXPECT_EQ(d.wallet(kAlice), 10000);
  EXPECT_EQ(d.wallet_held(kAlice), 0);
  EXPECT_EQ(d.points(kAlice), 1000);
  EXPECT_EQ(d.balance(kAlice).v[4], 0);
}

TEST_F(DomainTest, SplitPaymentAwaitsExternalThenCaptures) {
  setup(10000, 0, /*split=*/true);
  const Id128 pay = d.id();
  const Reply r = d.ok(make_payment(pay, kAlice, kShop, 1000, 0, 600));
  EXPECT_EQ(reply_data(r).state, payment_awaiting_external);
  EXPECT_EQ(d.wallet_held(kAlice), 400);
  EXPECT_EQ(result(make_payment_op(CommandKind::payment_capture, d.id(), pay)),
            Result::invalid_state);
  EXPECT_EQ(
      result(make_payment_op(CommandKind::payment_confirm_external, d.id(), pay, 599, Id128{9, 9})),
      Result::invalid_request);
  const Reply c =
      d.ok(make_payment_op(CommandKind::payment_confirm_external, d.id(), pay, 600, Id128{9, 9}));
  EXPECT_EQ(reply_data(c).state, payment_captured);
  EXPECT_EQ(d.wallet(kAlice), 9600);
  // Merchant got only the wallet part in core; the external part was paid outside.
  EXPECT_EQ(reply_data(d.run(make_read(CommandKind::merchant_get, kShop))).v[1], 400);
}

TEST_F(DomainTest, SplitPaymentTimesOut) {
  setup(10000, 0, true);
  const Id128 pay = d.id();
  d.ok(make_payment(pay, kAlice, kShop, 1000, 0, 600));
  d.time_us += 1800ull * 1000000;
  d.run(make_tick());
  EXPECT_EQ(d.payment(pay).state, payment_expired);
  EXPECT_EQ(d.wallet_held(kAlice), 0);
  EXPECT_EQ(
      result(make_payment_op(CommandKind::payment_confirm_external, d.id(), pay, 600, Id128{1, 1})),
      Result::invalid_state);
}

TEST_F(DomainTest, RefundsInPartsReturnProportionsAndFinalRemainder) {
  setup(10000, 1000, true);
  // A = 1000: P = 30 points (V = 300), E = 100, W = 600.
  const Id128 pay = d.id();
  d.ok(make_payment(pay, kAlice, kShop, 1000, 30, 100));
  d.ok(make_payment_op(CommandKind::payment_confirm_external, d.id(), pay, 100, Id128{3, 3}));
  EXPECT_EQ(d.wallet(kAlice), 9400);
  EXPECT_EQ(d.points(kAlice), 970);
  // R = 333: points floor(30 x 333/1000) = 9, wallet floor(600 x 333/1000) = 199,
  // external floor(100 x 333/1000) = 33.
  const Id128 r1 = d.id();
  const Reply a = d.ok(make_payment_op(CommandKind::payment_refund, r1, pay, 333));
  EXPECT_EQ(reply_data(a).v[1], 199);
  EXPECT_EQ(reply_data(a).v[2], 9);
  EXPECT_EQ(reply_data(a).v[3], 33);
  EXPECT_EQ(d.wallet(kAlice), 9599);
  EXPECT_EQ(d.points(kAlice), 979);
  EXPECT_EQ(result(make_payment_op(CommandKind::payment_refund, d.id(), pay, 668)),
            Result::limit_exceeded);
  // Replay of a refund: same body, nothing more returned.
  const Reply again = d.run(make_payment_op(CommandKind::payment_refund, r1, pay, 333));
  EXPECT_TRUE(again.flags & reply_flag_replayed);
  EXPECT_EQ(reply_data(again).v[1], 199);
  EXPECT_EQ(d.wallet(kAlice), 9599);
  // The final refund returns exactly what remains.
  const Reply b = d.ok(make_payment_op(CommandKind::payment_refund, d.id(), pay, 667));
  EXPECT_EQ(reply_data(b).v[1], 401);
  EXPECT_EQ(reply_data(b).v[2], 21);
  EXPECT_EQ(reply_data(b).v[3], 67);
  EXPECT_EQ(d.wallet(kAlice), 10000);
  EXPECT_EQ(d.points(kAlice), 1000);
  EXPECT_EQ(reply_data(d.run(make_read(CommandKind::merchant_get, kShop))).v[1], 0);
  EXPECT_EQ(d.payment(pay).v[5], 1000);  // refunded
  EXPECT_EQ(result(make_payment_op(CommandKind::payment_refund, d.id(), pay, 1)),
            Result::limit_exceeded);
}

TEST_F(DomainTest, RefundOfUncapturedPaymentIsInvalidState) {
  setup(10000);
  const Id128 pay = d.id();
  d.ok(make_payment(pay, kAlice, kShop, 1000, 0, 0, false));
  EXPECT_EQ(result(make_payment_op(CommandKind::payment_refund, d.id(), pay, 10)),
            Result::invalid_state);
  EXPECT_EQ(result(make_payment_op(CommandKind::payment_refund, d.id(), d.id(), 10)),
            Result::not_found);
}

TEST_F(DomainTest, DomainCommandsMayNotBeLinked) {
  setup(10000);
  Command a = make_money(CommandKind::member_credit, d.id(), kAlice, 5);
  a.flags = command_flag_linked;
  Command b = make_money(CommandKind::member_credit, d.id(), kAlice, 5);
  a.seq = ++d.seq;
  b.seq = ++d.seq;
  a.time_us = b.time_us = d.time_us;
  const Command batch[2] = {a, b};
  Reply replies[2];
  EffectSink sink(d.effects);
  ASSERT_EQ(d.ledger.apply(batch, replies, sink), 2u);
  EXPECT_EQ(replies[0].result, Result::invalid_request);
  EXPECT_EQ(replies[1].result, Result::linked_event_failed);
  EXPECT_EQ(d.wallet(kAlice), 10000);
}

TEST_F(DomainTest, EngineCannotMoveDomainHolds) {
  setup(10000);
  const Id128 pay = d.id();
  d.ok(make_payment(pay, kAlice, kShop, 1000, 0, 0, false));
  // The wallet leg's pending id is derived from the payment id; even knowing
  // it, an engine post/void cannot reach it.
  for (uint32_t i = 0; i < d.ledger.pending_pool_size(); i++) {
    const PendingTransfer* p = d.ledger.pending_at(i);
    if (!p) continue;
    EXPECT_EQ(p->owner, pending_owner_domain);
    EXPECT_EQ(result(make_pending_op(CommandKind::void_pending, d.id(), p->id)),
              Result::pending_not_found);
  }
  EXPECT_EQ(d.wallet_held(kAlice), 1000);
}

TEST_F(DomainTest, EngineCannotCreateDomainAccountIds) {
  EXPECT_EQ(result(make_create_account(d.id(), domain_account_id_min | 5, asset_wallet,
                                       AccountKind::adjustment)),
            Result::invalid_request);
}

// ---- recharges (R1-R3, R6) ----

TEST_F(DomainTest, RechargeRotatesPayeesAndConfirms) {
  setup(0);
  d.ok(make_method(d.id(), 1, channel_wechat, true, 3));
  uint16_t payees[4];
  Id128 ids[4];
  for (int k = 0; k < 4; k++) {
    ids[k] = d.id();
    const Reply r = d.ok(make_recharge(ids[k], kAlice, 1000, 1));
    payees[k] = reply_data(r).aux16;
    EXPECT_EQ(reply_data(r).state, recharge_pending);
    EXPECT_EQ(reply_data(r).v[1], static_cast<int64_t>(d.time_us + 1800ull * 1000000));
  }
  EXPECT_EQ(payees[0], 0);
  EXPECT_EQ(payees[1], 1);
  EXPECT_EQ(payees[2], 2);
  EXPECT_EQ(payees[3], 0);
  // Confirmation credits once; the same channel transaction again is answered
  // the same; another transaction is INVALID_STATE.
  const Reply c = d.ok(make_confirm(d.id(), ids[0], Id128{77, 1}, 1000));
  EXPECT_EQ(reply_data(c).state, recharge_paid);
  EXPECT_EQ(d.wallet(kAlice), 1000);
  const Reply dup = d.run(make_confirm(d.id(), ids[0], Id128{77, 1}, 1000));
  EXPECT_EQ(dup.result, Result::ok);
  EXPECT_TRUE(dup.flags & reply_flag_replayed);
  EXPECT_EQ(d.wallet(kAlice), 1000);
  EXPECT_EQ(result(make_confirm(d.id(), ids[0], Id128{78, 1}, 1000)), Result::invalid_state);
  EXPECT_EQ(result(make_confirm(d.id(), d.id(), Id128{78, 1}, 1000)), Result::not_found);
}

TEST_F(DomainTest, RechargeAmountMismatchCreditsNothing) {
  setup(0);
  d.ok(make_method(d.id(), 1, channel_bank, true, 0));
  const Id128 r = d.id();
  d.ok(make_recharge(r, kAlice, 1000, 1));
  const Reply c = d.ok(make_confirm(d.id(), r, Id128{5, 5}, 999));
  EXPECT_EQ(reply_data(c).state, recharge_amount_mismatch);
  EXPECT_EQ(d.wallet(kAlice), 0);
  EXPECT_EQ(result(make_confirm(d.id(), r, Id128{6, 6}, 1000)), Result::invalid_state);
}

TEST_F(DomainTest, RechargeExpiresButLatePaymentStillCredits) {
  setup(0);
  d.ok(make_method(d.id(), 1, channel_wechat, true, 1));
  const Id128 r = d.id();
  d.ok(make_recharge(r, kAlice, 1000, 1));
  d.time_us += 1800ull * 1000000;
  EXPECT_EQ(reply_data(d.run(make_read(CommandKind::recharge_get, 0, r))).state, recharge_expired);
  const Reply c = d.ok(make_confirm(d.id(), r, Id128{5, 5}, 1000));
  EXPECT_EQ(reply_data(c).state, recharge_paid_late);
  EXPECT_EQ(d.wallet(kAlice), 1000);
}

TEST_F(DomainTest, RechargeLimitsAndErrors) {
  setup(0);
  d.ok(make_method(d.id(), 1, channel_wechat, true, 1));
  d.ok(make_method(d.id(), 2, channel_cash, false, 1));
  EXPECT_EQ(result(make_recharge(d.id(), kAlice, 5'000'001, 1)), Result::limit_exceeded);
  d.ok(make_config(d.id(), 1u << 1, [](DomainConfig& v) { v.recharge_min = 100; }));
  EXPECT_EQ(result(make_recharge(d.id(), kAlice, 99, 1)), Result::limit_exceeded);
  d.ok(make_config(d.id(), 1u << 3, [](DomainConfig& v) { v.wallet_max_balance = 500; }));
  EXPECT_EQ(result(make_recharge(d.id(), kAlice, 501, 1)), Result::limit_exceeded);
  EXPECT_EQ(result(make_recharge(d.id(), kAlice, 100, 2)), Result::invalid_state);  // disabled
  EXPECT_EQ(result(make_recharge(d.id(), kAlice, 100, 3)), Result::not_found);
  EXPECT_EQ(result(make_recharge(d.id(), 9, 100, 1)), Result::not_found);
  EXPECT_EQ(result(make_recharge(d.id(), kAlice, 0, 1)), Result::invalid_request);
  d.ok(make_set_wallet(d.id(), kAlice, false));
  EXPECT_EQ(result(make_recharge(d.id(), kAlice, 100, 1)), Result::wallet_disabled);
  EXPECT_EQ(result(make_method(d.id(), 4, 9, true, 1)), Result::invalid_request);
  EXPECT_EQ(result(make_method(d.id(), 4, 0, true, payees_per_method_max + 1)),
            Result::invalid_request);
  // The rotation counter survives an edit of the method.
  const Reply m = d.run(make_read(CommandKind::method_get, 1));
  EXPECT_EQ(reply_data(m).aux16, 1);
}

TEST_F(DomainTest, RechargeReplayAnswersTheSame) {
  setup(0);
  d.ok(make_method(d.id(), 1, channel_wechat, true, 2));
  const Id128 r = d.id();
  const Reply first = d.ok(make_recharge(r, kAlice, 1000, 1));
  const Reply again = d.run(make_recharge(r, kAlice, 1000, 1));
  EXPECT_TRUE(again.flags & reply_flag_replayed);
  EXPECT_EQ(reply_data(again).aux16, reply_data(first).aux16);
  EXPECT_EQ(reply_data(d.ok(make_recharge(d.id(), kAlice, 1000, 1))).aux16, 1);  // not advanced
  EXPECT_EQ(result(make_recharge(r, kAlice, 1001, 1)), Result::id_reused);
}

// ---- vouchers (V1-V5) ----

class VoucherTest : public DomainTest {
 protected:
  Id128 batch{};
  uint64_t from = 0, until = 0;
  static Id128 code(uint64_t k) { return Id128{0xc0de0000 + k, 0xabc}; }

  // A batch of `n` codes code(0..n-1), valid from now for an hour.
  void make(uint8_t kind, uint32_t n = 6, int64_t face = 500) {
    from = d.time_us;
    until = d.time_us + 3600ull * 1000000;
    batch = d.id();
    d.ok(make_batch(batch, kShop, kind, face, n, from, until));
    for (uint32_t k = 0; k < n; k += batch_codes_per_command) {
      Command c = make_add_codes(d.id(), batch, k, {});
      const uint32_t count = std::min(batch_codes_per_command, n - k);
      c.body.batch_codes.count = static_cast<uint8_t>(count);
      for (uint32_t j = 0; j < count; j++)
        c.body.batch_codes.codes[j] = code(k + j);
      d.ok(c);
    }
  }
  ReplyData status() { return reply_data(d.run(make_read(CommandKind::batch_get, 0, batch))); }
};

TEST_F(VoucherTest, BatchIsRedeemableOnlyWhenComplete) {
  setup(0);
  batch = d.id();
  d.ok(make_batch(batch, kShop, voucher_paper, 500, 5, d.time_us, d.time_us + 1000000000));
  d.ok(make_add_codes(d.id(), batch, 0, {code(0), code(1), code(2), code(3)}));
  EXPECT_EQ(status().state, batch_building);
  EXPECT_EQ(result(make_redeem(d.id(), code(0), kShop, 1)), Result::not_found);
  // Out of order, beyond the quantity, duplicates.
  EXPECT_EQ(result(make_add_codes(d.id(), batch, 0, {code(4)})), Result::invalid_state);
  EXPECT_EQ(result(make_add_codes(d.id(), batch, 4, {code(4), code(5)})), Result::limit_exceeded);
  EXPECT_EQ(result(make_add_codes(d.id(), batch, 4, {code(1)})), Result::invalid_request);
  d.ok(make_add_codes(d.id(), batch, 4, {code(4)}));
  EXPECT_EQ(status().state, batch_active);
  EXPECT_EQ(result(make_add_codes(d.id(), batch, 5, {code(9)})), Result::invalid_state);
  d.ok(make_redeem(d.id(), code(0), kShop, 1));
}

TEST_F(VoucherTest, BatchLimits) {
  setup(0);
  EXPECT_EQ(
      result(make_batch(d.id(), kShop, voucher_paper, 500, voucher_batch_quantity_max + 1, 1, 2)),
      Result::invalid_request);
  EXPECT_EQ(result(make_batch(d.id(), kShop, 3, 500, 1, 1, 2)), Result::invalid_request);
  EXPECT_EQ(result(make_batch(d.id(), 99, voucher_paper, 500, 1, 1, 2)), Result::not_found);
  // Codes are reserved at creation: the pool (256) cannot be overcommitted.
  d.ok(make_batch(d.id(), kShop, voucher_paper, 500, 200, 1, 2));
  EXPECT_EQ(result(make_batch(d.id(), kShop, voucher_paper, 500, 57, 1, 2)),
            Result::capacity_exhausted);
  d.ok(make_batch(d.id(), kShop, voucher_paper, 500, 56, 1, 2));
}

TEST_F(VoucherTest, PaperRedemptionRules) {
  setup(0);
  make(voucher_paper);
  const Reply r = d.ok(make_redeem(d.id(), code(0), kShop, 31));
  EXPECT_EQ(reply_data(r).v[0], 500);
  EXPECT_EQ(reply_data(d.run(make_read(CommandKind::merchant_get, kShop))).v[1], 500);
  // Second redemption: VOUCHER_REDEEMED with when and where.
  const uint64_t at = d.time_us;
  d.time_us += 5;
  const Command second = make_redeem(d.id(), code(0), kShop, 32);
  const Reply again = d.run(second);
  EXPECT_EQ(again.result, Result::voucher_redeemed);
  EXPECT_EQ(reply_data(again).v[1], static_cast<int64_t>(at));
  EXPECT_EQ(reply_data(again).v[2], 31);
  // A client retrying that refused request gets the same when and where.
  const Reply retried = d.run(second);
  EXPECT_EQ(retried.result, Result::voucher_redeemed);
  EXPECT_TRUE(retried.flags & reply_flag_replayed);
  EXPECT_EQ(reply_data(retried).v[1], static_cast<int64_t>(at));
  EXPECT_EQ(reply_data(retried).v[2], 31);
  EXPECT_EQ(result(make_redeem(d.id(), code(1), kShop + 1, 31)), Result::voucher_wrong_merchant);
  EXPECT_EQ(result(make_redeem(d.id(), code(99), kShop, 31)), Result::not_found);
  EXPECT_EQ(result(make_redeem_to_wallet(d.id(), code(1), kAlice)), Result::voucher_wrong_kind);
  d.time_us = until;
  EXPECT_EQ(result(make_redeem(d.id(), code(1), kShop, 31)), Result::voucher_expired);
  const ReplyData s = status();
  EXPECT_EQ(s.v[0], 6);    // issued
  EXPECT_EQ(s.v[1], 1);    // redeemed
  EXPECT_EQ(s.v[2], 500);  // redeemed amount
  EXPECT_EQ(s.v[3], 5);    // expired
  EXPECT_EQ(reply_data(d.run(make_read(CommandKind::voucher_get, 0, code(1)))).state,
            voucher_state_expired);
}

TEST_F(VoucherTest, NotYetValid) {
  setup(0);
  batch = d.id();
  d.ok(make_batch(batch, kShop, voucher_paper, 500, 1, d.time_us + 10, d.time_us + 20));
  d.ok(make_add_codes(d.id(), batch, 0, {code(0)}));
  EXPECT_EQ(result(make_redeem(d.id(), code(0), kShop, 1)), Result::voucher_not_yet_valid);
  d.time_us += 10;
  d.ok(make_redeem(d.id(), code(0), kShop, 1));
}

TEST_F(VoucherTest, VoidingVoidsUnredeemed) {
  setup(0);
  make(voucher_paper);
  d.ok(make_redeem(d.id(), code(0), kShop, 1));
  const Id128 v = d.id();
  d.ok(make_batch_void(v, batch));
  EXPECT_EQ(status().state, batch_voided);
  EXPECT_EQ(status().v[4], 5);  // voided
  EXPECT_EQ(result(make_redeem(d.id(), code(1), kShop, 1)), Result::voucher_void);
  EXPECT_EQ(result(make_redeem(d.id(), code(0), kShop, 1)), Result::voucher_redeemed);
  EXPECT_EQ(result(make_batch_void(d.id(), batch)), Result::invalid_state);
  EXPECT_TRUE(d.run(make_batch_void(v, batch)).flags & reply_flag_replayed);
}

TEST_F(VoucherTest, CardIntoWallet) {
  setup(0);
  make(voucher_card, 3, 800);
  d.ok(make_redeem_to_wallet(d.id(), code(0), kAlice));
  EXPECT_EQ(d.wallet(kAlice), 800);
  EXPECT_EQ(result(make_redeem(d.id(), code(1), kShop, 1)), Result::voucher_wrong_kind);
  d.ok(make_config(d.id(), 1u << 3, [](DomainConfig& c) { c.wallet_max_balance = 1000; }));
  EXPECT_EQ(result(make_redeem_to_wallet(d.id(), code(1), kAlice)), Result::limit_exceeded);
  d.ok(make_set_wallet(d.id(), kBob, false));
  EXPECT_EQ(result(make_redeem_to_wallet(d.id(), code(1), kBob)), Result::wallet_disabled);
  EXPECT_EQ(result(make_redeem_to_wallet(d.id(), code(1), 99)), Result::not_found);
}

TEST_F(VoucherTest, BruteForceGuard) {
  setup(0);
  make(voucher_paper);
  d.time_us = (d.time_us / voucher_guard_window_us + 1) * voucher_guard_window_us;  // new minute
  for (int k = 0; k < 10; k++)
    EXPECT_EQ(result(make_redeem(d.id(), code(100 + k), kShop, 5)), Result::not_found);
  // Refused for the rest of the minute, even with a valid code; other stores are not.
  EXPECT_EQ(result(make_redeem(d.id(), code(0), kShop, 5)), Result::rate_limited);
  d.ok(make_redeem(d.id(), code(1), kShop, 6));
  d.time_us += voucher_guard_window_us - 1;
  EXPECT_EQ(result(make_redeem(d.id(), code(0), kShop, 5)), Result::rate_limited);
  d.time_us += 1;
  d.ok(make_redeem(d.id(), code(0), kShop, 5));
  // Members too (card redemption), keyed apart from stores.
  for (int k = 0; k < 10; k++)
    EXPECT_EQ(result(make_redeem_to_wallet(d.id(), code(200 + k), kAlice)), Result::not_found);
  EXPECT_EQ(result(make_redeem_to_wallet(d.id(), code(2), kAlice)), Result::rate_limited);
}

TEST_F(VoucherTest, GuardKeysCannotBeSharedOrMadeUp) {
  setup(0);
  make(voucher_paper);
  d.time_us = (d.time_us / voucher_guard_window_us + 1) * voucher_guard_window_us;
  EXPECT_EQ(result(make_redeem(d.id(), code(0), kShop, 0)), Result::invalid_request);
  // Another merchant's store with the same id does not lock this merchant's store 5.
  for (int k = 0; k < 10; k++)
    EXPECT_EQ(result(make_redeem(d.id(), code(100 + k), kShop + 1, 5)), Result::not_found);
  EXPECT_EQ(result(make_redeem(d.id(), code(0), kShop + 1, 5)), Result::rate_limited);
  d.ok(make_redeem(d.id(), code(0), kShop, 5));
  // Made-up store ids: all stores of a merchant together fail at most 10x the limit.
  for (uint64_t s = 0; s < 10 * 10; s++)
    EXPECT_EQ(result(make_redeem(d.id(), code(200), kShop, 1000 + s)), Result::not_found);
  EXPECT_EQ(result(make_redeem(d.id(), code(1), kShop, 7)), Result::rate_limited);
  // Made-up member ids share one counter; a real member keeps its own.
  for (uint64_t m = 0; m < 10; m++)
    EXPECT_EQ(result(make_redeem_to_wallet(d.id(), code(300), 900 + m)), Result::not_found);
  EXPECT_EQ(result(make_redeem_to_wallet(d.id(), code(300), 999)), Result::rate_limited);
  EXPECT_EQ(result(make_redeem_to_wallet(d.id(), code(300), kAlice)), Result::not_found);
}

TEST_F(VoucherTest, GuardFloodDoesNotForgetARefusedStore) {
  setup(0);
  make(voucher_paper);
  d.time_us = (d.time_us / voucher_guard_window_us + 1) * voucher_guard_window_us;
  for (int k = 0; k < 10; k++)
    EXPECT_EQ(result(make_redeem(d.id(), code(100), kShop, 5)), Result::not_found);
  // Many more keys than the table has slots, one failure each.
  for (uint64_t k = 0; k < 4 * voucher_guard_slots; k++)
    EXPECT_EQ(result(make_redeem(d.id(), code(100), 1'000'000 + k, 1)), Result::not_found);
  EXPECT_EQ(result(make_redeem(d.id(), code(0), kShop, 5)), Result::rate_limited);
  d.time_us += voucher_guard_window_us;
  d.ok(make_redeem(d.id(), code(0), kShop, 5));
}

TEST_F(VoucherTest, RedeemedAtMostOnceUnderReplays) {
  setup(0);
  make(voucher_card, 2, 300);
  const Id128 id = d.id();
  d.ok(make_redeem_to_wallet(id, code(0), kAlice));
  const Reply again = d.run(make_redeem_to_wallet(id, code(0), kAlice));
  EXPECT_EQ(again.result, Result::ok);
  EXPECT_TRUE(again.flags & reply_flag_replayed);
  EXPECT_EQ(result(make_redeem_to_wallet(d.id(), code(0), kBob)), Result::voucher_redeemed);
  EXPECT_EQ(d.wallet(kAlice), 300);
  EXPECT_EQ(d.wallet(kBob), 0);
}

// ---- withdrawals (D1-D3) ----

class WithdrawalTest : public DomainTest {
 protected:
  void enable() {
    d.ok(make_config(d.id(), 1u << 14, [](DomainConfig& v) { v.withdraw_enabled = 1; }));
  }
  int64_t limit(uint64_t member) {
    const Reply r = d.run(make_read(CommandKind::withdrawal_limit_get, member));
    EXPECT_EQ(r.result, Result::ok);
    return reply_data(r).v[0];
  }
  void rate_reserve(uint16_t rate_bp, int64_t reserve) {
    d.ok(make_config(d.id(), (1u << 12) | 1u, [&](DomainConfig& v) {
      v.withdraw_max_rate_bp = rate_bp;
      v.withdraw_reserve_min = reserve;
    }));
  }
};

TEST_F(WithdrawalTest, LimitSeedExamples) {
  setup(10000);                    // balance 100.00
  EXPECT_EQ(limit(kAlice), 5000);  // defaults: 60 %, reserve 50.00 -> 50.00
  rate_reserve(6000, 0);
  EXPECT_EQ(limit(kAlice), 6000);  // rate 60 % -> 60.00
  rate_reserve(6000, 6000);
  EXPECT_EQ(limit(kAlice), 4000);  // reserve 60.00 -> 40.00
  rate_reserve(6000, 20000);
  EXPECT_EQ(limit(kAlice), 0);  // never below zero
  rate_reserve(3333, 0);
  d.ok(make_money(CommandKind::member_credit, d.id(), kAlice, 1));  // 100.01
  EXPECT_EQ(limit(kAlice), 3333);                                   // floor(10001 x 0.3333)
}

TEST_F(WithdrawalTest, DisabledByDefault) {
  setup(10000);
  EXPECT_EQ(result(make_withdrawal(d.id(), kAlice, 100)), Result::withdrawals_disabled);
}

TEST_F(WithdrawalTest, HoldApproveReject) {
  setup(10000);
  enable();
  const Reply over = d.run(make_withdrawal(d.id(), kAlice, 5001));
  EXPECT_EQ(over.result, Result::limit_exceeded);
  EXPECT_EQ(reply_data(over).v[0], 5000);  // max_withdrawable in the details
  const Id128 w1 = d.id();
  const Reply r = d.ok(make_withdrawal(w1, kAlice, 3000));
  EXPECT_EQ(reply_data(r).state, withdrawal_pending);
  EXPECT_EQ(d.wallet_held(kAlice), 3000);
  EXPECT_EQ(limit(kAlice), 2000);  // available 70.00: min(42.00, 20.00)
  const Id128 approve = d.id();
  const Reply a = d.ok(make_withdrawal_op(CommandKind::withdrawal_approve, approve, w1));
  EXPECT_EQ(reply_data(a).state, withdrawal_approved);
  EXPECT_EQ(d.wallet(kAlice), 7000);
  EXPECT_EQ(d.wallet_held(kAlice), 0);
  EXPECT_TRUE(d.run(make_withdrawal_op(CommandKind::withdrawal_approve, approve, w1)).flags &
              reply_flag_replayed);
  EXPECT_EQ(result(make_withdrawal_op(CommandKind::withdrawal_reject, d.id(), w1, 5)),
            Result::invalid_state);

  const Id128 w2 = d.id();
  d.ok(make_withdrawal(w2, kAlice, 1000));
  EXPECT_EQ(result(make_withdrawal_op(CommandKind::withdrawal_reject, d.id(), w2, 0)),
            Result::invalid_request);  // feedback required
  const Reply j = d.ok(make_withdrawal_op(CommandKind::withdrawal_reject, d.id(), w2, 12));
  EXPECT_EQ(reply_data(j).state, withdrawal_rejected);
  EXPECT_EQ(reply_data(j).aux32, 12u);
  EXPECT_EQ(d.wallet(kAlice), 7000);
  EXPECT_EQ(d.wallet_held(kAlice), 0);
  EXPECT_EQ(result(make_withdrawal_op(CommandKind::withdrawal_approve, d.id(), w2)),
            Result::invalid_state);
  EXPECT_EQ(result(make_withdrawal_op(CommandKind::withdrawal_approve, d.id(), d.id())),
            Result::not_found);
  const Reply read = d.run(make_read(CommandKind::withdrawal_get, 0, w2));
  EXPECT_EQ(reply_data(read).state, withdrawal_rejected);
  EXPECT_EQ(result(make_withdrawal(d.id(), 99, 1)), Result::not_found);
  d.ok(make_set_wallet(d.id(), kAlice, false));
  EXPECT_EQ(result(make_withdrawal(d.id(), kAlice, 1)), Result::wallet_disabled);
}

// ---- order completion (O1-O3) ----

class OrderTest : public DomainTest {
 protected:
  static constexpr uint64_t day_us = 86'400'000'000ull;
  void group1(uint32_t cashback_bp, uint32_t earn_bp) {
    d.ok(make_group(d.id(), 1, cashback_bp, earn_bp, 5000, 0));
  }
};

TEST_F(OrderTest, GrantsMatureAfterTheirDays) {
  setup(100000);
  group1(500, 10000);  // 5 % cash-back, 1 point per 1.00
  const Id128 order = d.id();
  const Reply r = d.ok(make_order(order, kAlice, kShop, 12345));
  EXPECT_EQ(reply_data(r).v[0], 617);  // floor(12345 x 5 %)
  EXPECT_EQ(reply_data(r).v[2], 123);  // floor(123.45 x 1)
  EXPECT_EQ(reply_data(r).v[1], static_cast<int64_t>(d.time_us + 15 * day_us));
  ReplyData b = d.balance(kAlice);
  EXPECT_EQ(b.v[2], 617);  // wallet maturing: visible, not spendable
  EXPECT_EQ(b.v[5], 123);  // points maturing
  EXPECT_EQ(result(make_money(CommandKind::member_debit, d.id(), kAlice, 100001)),
            Result::insufficient_funds);
  d.time_us += 15 * day_us - 1;
  d.run(make_tick());
  EXPECT_EQ(d.balance(kAlice).v[2], 617);
  d.time_us += 1;
  EXPECT_EQ(d.run(make_tick()).amount, 2);
  b = d.balance(kAlice);
  EXPECT_EQ(b.v[0], 100617);
  EXPECT_EQ(b.v[2], 0);
  EXPECT_EQ(b.v[3], 123);
  const ReplyData o = reply_data(d.run(make_read(CommandKind::order_get, 0, order)));
  EXPECT_EQ(o.state, grant_state_matured);
  EXPECT_EQ(o.detail, grant_state_matured);
  // Replay answers the same; other content is ID_REUSED.
  EXPECT_TRUE(d.run(make_order(order, kAlice, kShop, 12345)).flags & reply_flag_replayed);
  EXPECT_EQ(result(make_order(order, kAlice, kShop, 12346)), Result::id_reused);
}

TEST_F(OrderTest, LineRatesReplaceTheGroups) {
  setup(0);
  group1(100, 10000);
  Command c = make_order(d.id(), kAlice, kShop, 10000);
  c.body.order.lines[0] = OrderLine{4000, 1000, rate_of_group};  // 10 % cash-back on 40.00
  c.body.order.lines[1] = OrderLine{1000, rate_of_group, 0};     // no points on 10.00
  const ReplyData r = reply_data(d.ok(c));
  EXPECT_EQ(r.v[0], 400 + 10 + 50);  // 4000x10% + 1000x1% + 5000x1%
  EXPECT_EQ(r.v[2], 40 + 0 + 50);
  c = make_order(d.id(), kAlice, kShop, 100);
  c.body.order.lines[0] = OrderLine{101, 0, 0};
  EXPECT_EQ(result(c), Result::invalid_request);  // lines beyond the amount
  c.body.order.lines[0] = OrderLine{10, 10001, 0};
  c.id = d.id();
  EXPECT_EQ(result(c), Result::invalid_request);
}

TEST_F(OrderTest, RefundsShrinkUnmaturedGrants) {
  setup(100000);
  group1(1000, 10000);
  const Id128 pay = d.id();
  d.ok(make_payment(pay, kAlice, kShop, 10000));
  const Id128 order = d.id();
  d.ok(make_order(order, kAlice, kShop, 10000, pay));  // 10.00 cash-back, 100 points
  EXPECT_EQ(result(make_order(d.id(), kAlice, kShop, 10000, pay)), Result::invalid_state);
  d.ok(make_payment_op(CommandKind::payment_refund, d.id(), pay, 2500));
  ReplyData o = reply_data(d.run(make_read(CommandKind::order_get, 0, order)));
  EXPECT_EQ(o.v[4], 750);  // 1000 - floor(1000 x 25 %)
  EXPECT_EQ(o.v[5], 75);
  EXPECT_EQ(d.balance(kAlice).v[2], 750);
  d.ok(make_payment_op(CommandKind::payment_refund, d.id(), pay, 7500));  // full: cancelled
  o = reply_data(d.run(make_read(CommandKind::order_get, 0, order)));
  EXPECT_EQ(o.state, grant_state_cancelled);
  EXPECT_EQ(o.v[4], 0);
  EXPECT_EQ(d.balance(kAlice).v[2], 0);
  EXPECT_EQ(d.balance(kAlice).v[5], 0);
}

TEST_F(OrderTest, NothingClawedBackAfterMaturity) {
  setup(100000);
  group1(1000, 0);
  const Id128 pay = d.id();
  d.ok(make_payment(pay, kAlice, kShop, 10000));
  d.ok(make_order(d.id(), kAlice, kShop, 10000, pay));
  d.time_us += 15 * day_us;
  d.run(make_tick());
  const int64_t wallet = d.wallet(kAlice);
  d.ok(make_payment_op(CommandKind::payment_refund, d.id(), pay, 10000));
  EXPECT_EQ(d.wallet(kAlice), wallet + 10000);  // the refund only; the cash-back stays
}

TEST_F(OrderTest, TierUpgradesNeverDown) {
  setup(0);
  d.ok(make_group(d.id(), 2, 200, 10000, 5000, 10000));
  d.ok(make_group(d.id(), 3, 300, 10000, 5000, 50000));
  const Id128 o1 = d.id();
  EXPECT_EQ(reply_data(d.ok(make_order(o1, kAlice, kShop, 9999))).aux32, 1u);
  EXPECT_EQ(reply_data(d.ok(make_order(d.id(), kAlice, kShop, 1))).aux32, 2u);
  const Reply m = d.run(make_read(CommandKind::member_get, kAlice));
  EXPECT_EQ(reply_data(m).v[2], 10000);  // cumulative spend
  // Now at group 2's rate (2 %).
  EXPECT_EQ(reply_data(d.ok(make_order(d.id(), kAlice, kShop, 10000))).v[0], 200);
  EXPECT_EQ(reply_data(d.ok(make_order(d.id(), kAlice, kShop, 40000))).aux32, 3u);
  // Raising group 3's threshold later does not move the member down.
  d.ok(make_group(d.id(), 3, 300, 10000, 5000, 900000));
  EXPECT_EQ(reply_data(d.ok(make_order(d.id(), kAlice, kShop, 1))).aux32, 3u);
  EXPECT_EQ(result(make_order(d.id(), 99, kShop, 1)), Result::not_found);
  EXPECT_EQ(result(make_order(d.id(), kAlice, 99, 1)), Result::not_found);
  EXPECT_EQ(result(make_order(d.id(), kAlice, kShop, 0)), Result::invalid_request);
}

// ---- merchants, stores, API keys, settlement (A1-A5) ----

TEST_F(DomainTest, StoresNearbyInDistanceOrder) {
  setup(0);
  // Shanghai area (micro-degrees): the People's Square, ~1.1 km north, ~9 km east.
  d.ok(make_store(d.id(), kShop, 1, 31'230'000, 121'470'000));
  d.ok(make_store(d.id(), kShop, 2, 31'240'000, 121'470'000));
  d.ok(make_store(d.id(), kShop, 3, 31'230'000, 121'565'000));
  EXPECT_EQ(result(make_store(d.id(), 99, 4, 0, 0)), Result::not_found);
  EXPECT_EQ(result(make_store(d.id(), kShop, 4, 91'000'000, 0)), Result::invalid_request);
  Command q{};
  q.kind = CommandKind::stores_nearby;
  q.body.nearby = NearbyBody{31'231'000, 121'470'000, 0, 0, 0, 1};
  std::vector<int64_t> order, distance;
  for (;;) {
    const Reply r = d.run(q);
    if (r.result == Result::not_found) break;
    ASSERT_EQ(r.result, Result::ok);
    const ReplyData x = reply_data(r);
    order.push_back(x.v[1]);
    distance.push_back(x.v[2]);
    q.body.nearby = NearbyBody{31'231'000,
                               121'470'000,
                               static_cast<uint64_t>(x.v[2]),
                               static_cast<uint64_t>(x.v[0]),
                               static_cast<uint64_t>(x.v[1]),
                               0};
  }
  ASSERT_EQ(order, (std::vector<int64_t>{1, 2, 3}));
  EXPECT_NEAR(distance[0], 111, 2);    // 0.001 degree of latitude
  EXPECT_NEAR(distance[1], 1000, 10);  // 0.009 degree
  EXPECT_NEAR(distance[2], 9043, 60);  // 0.095 degree of longitude at 31.23 N
}

TEST_F(DomainTest, ApiKeysKeepRoleAndTenant) {
  setup(0);
  d.ok(make_store(d.id(), kShop, 5, 0, 0));
  const Id128 platform{1, 9}, merchant{2, 9}, store{3, 9};
  d.ok(make_api_key(d.id(), platform, role_platform));
  d.ok(make_api_key(d.id(), merchant, role_merchant, kShop));
  d.ok(make_api_key(d.id(), store, role_store, kShop, 5));
  Reply r = d.run(make_read(CommandKind::api_key_get, 0, store));
  ASSERT_EQ(r.result, Result::ok);
  EXPECT_EQ(reply_data(r).detail, role_store);
  EXPECT_EQ(reply_data(r).v[0], static_cast<int64_t>(kShop));
  EXPECT_EQ(reply_data(r).v[1], 5);
  EXPECT_EQ(reply_data(r).state, 1);
  // Revoke; a role change is refused.
  d.ok(make_api_key(d.id(), store, role_store, kShop, 5, false));
  EXPECT_EQ(reply_data(d.run(make_read(CommandKind::api_key_get, 0, store))).state, 0);
  EXPECT_EQ(result(make_api_key(d.id(), store, role_merchant, kShop)), Result::invalid_state);
  EXPECT_EQ(result(make_api_key(d.id(), Id128{4, 9}, role_store, kShop, 6)), Result::not_found);
  EXPECT_EQ(result(make_api_key(d.id(), Id128{4, 9}, role_merchant, 99)), Result::not_found);
  EXPECT_EQ(result(make_api_key(d.id(), Id128{4, 9}, role_platform, kShop)),
            Result::invalid_request);
  EXPECT_EQ(result(make_api_key(d.id(), Id128{4, 9}, 9)), Result::invalid_request);
  EXPECT_EQ(d.run(make_read(CommandKind::api_key_get, 0, Id128{4, 9})).result, Result::not_found);
}

TEST_F(VoucherTest, SettlementCountersPerDayAndStore) {
  setup(100000, 0, true);
  make(voucher_paper, 2, 500);
  const uint64_t day = d.time_us / us_per_day;
  const Id128 p1 = d.id();
  d.ok(make_payment(p1, kAlice, kShop, 1000, 0, 0, true, 7));
  d.ok(make_payment(d.id(), kAlice, kShop, 2000, 0, 0, true, 8));
  const Id128 held = d.id();
  d.ok(make_payment(held, kAlice, kShop, 3000, 0, 0, false, 7));  // not settled yet
  d.ok(make_payment_op(CommandKind::payment_refund, d.id(), p1, 400));
  d.ok(make_redeem(d.id(), code(0), kShop, 7));
  ReplyData r = reply_data(d.run(make_settlement_read(kShop, 7, day)));
  EXPECT_EQ(r.v[0], 1);     // payments count
  EXPECT_EQ(r.v[1], 1000);  // payments amount
  EXPECT_EQ(r.v[2], 400);   // refunds
  EXPECT_EQ(r.v[3], 1);     // vouchers
  EXPECT_EQ(r.v[4], 500);
  EXPECT_EQ(r.v[5], 1000 - 400 + 500);  // net
  EXPECT_EQ(reply_data(d.run(make_settlement_read(kShop, 8, day))).v[1], 2000);
  // The held payment settles on the day it is captured.
  d.time_us += us_per_day;
  EXPECT_EQ(d.run(make_settlement_read(kShop, 7, day + 1)).result, Result::not_found);
  // The first hold expired after 30 minutes: nothing to capture, nothing settled.
  EXPECT_EQ(result(make_payment_op(CommandKind::payment_capture, d.id(), held, 0)),
            Result::invalid_state);
  EXPECT_EQ(d.run(make_settlement_read(kShop, 7, day + 1)).result, Result::not_found);
  const Id128 held2 = d.id();
  d.ok(make_payment(held2, kAlice, kShop, 3000, 0, 0, false, 7));
  d.ok(make_payment_op(CommandKind::payment_capture, d.id(), held2, 2500));
  EXPECT_EQ(reply_data(d.run(make_settlement_read(kShop, 7, day + 1))).v[1], 2500);
  EXPECT_EQ(reply_data(d.run(make_settlement_read(kShop, 7, day))).v[1], 1000);  // unchanged
}

TEST_F(DomainTest, SettlementTableFullRefusesNewRowsOnly) {
  LedgerConfig config = Driver::small_config();
  config.settlement_capacity = 1;
  Driver small(config);
  small.ok(make_register(small.id(), kAlice));
  small.ok(make_merchant(small.id(), kShop));
  small.ok(make_money(CommandKind::member_credit, small.id(), kAlice, 10000));
  small.ok(make_payment(small.id(), kAlice, kShop, 10, 0, 0, true, 1));
  small.ok(make_payment(small.id(), kAlice, kShop, 10, 0, 0, true, 1));  // same row
  EXPECT_EQ(small.run(make_payment(small.id(), kAlice, kShop, 10, 0, 0, true, 2)).result,
            Result::capacity_exhausted);
  EXPECT_EQ(small.wallet(kAlice), 9980);
}

}  // namespace
}  // namespace coffer::test
