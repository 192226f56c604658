// coffer-bench's transport-free pieces: the mix, member choice, the refund
// pool, the reference tally and the money check that ends every run.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

#include "bench/load.h"

namespace coffer::bench {
namespace {

TEST(BenchMix, ParsesNamesInAnyOrderAndLeftOutNamesAreZero) {
  Mix m{};
  ASSERT_TRUE(parse_mix("reads=15,payments=70,recharges=10,refunds=5", &m));
  EXPECT_EQ(m, (Mix{70, 10, 5, 15, 0}));
  ASSERT_TRUE(parse_mix("payments=100", &m));
  EXPECT_EQ(m, (Mix{100, 0, 0, 0, 0}));
  ASSERT_TRUE(parse_mix("vouchers=40,payments=60", &m));
  EXPECT_EQ(m, (Mix{60, 0, 0, 0, 40}));
  EXPECT_EQ(mix_text(m), "payments=60,recharges=0,refunds=0,reads=0,vouchers=40");
}

TEST(BenchMix, RefusesBadTextAndLeavesTheMixAlone) {
  Mix m{1, 2, 3, 4, 90};
  for (const char* bad : {"payments=99", "payments=101", "pay=100", "payments=50,reads=x",
                          "payments=100,", "payments", "payments=60abc,reads=40", ""}) {
    EXPECT_FALSE(parse_mix(bad, &m)) << bad;
  }
  EXPECT_EQ(m, (Mix{1, 2, 3, 4, 90}));
}

TEST(BenchMix, PicksOnlyKindsWithAShareAndRoughlyInProportion) {
  std::mt19937_64 rng(7);
  std::array<uint32_t, op_kind_count> seen{};
  for (int i = 0; i < 100'000; ++i)
    seen[static_cast<size_t>(pick_op(Mix{70, 0, 10, 20, 0}, rng))]++;
  EXPECT_EQ(seen[static_cast<size_t>(OpKind::recharge)], 0u);
  EXPECT_EQ(seen[static_cast<size_t>(OpKind::voucher)], 0u);
  EXPECT_NEAR(seen[static_cast<size_t>(OpKind::payment)], 70'000, 1'500);
  EXPECT_NEAR(seen[static_cast<size_t>(OpKind::refund)], 10'000, 1'000);
  EXPECT_NEAR(seen[static_cast<size_t>(OpKind::read)], 20'000, 1'000);
}

TEST(BenchChooser, StaysInRangeAndZipfConcentratesOnFewMembers) {
  const uint64_t n = 1000;
  auto top_share = [&](double s) {
    AccountChooser chooser(n, s);
    std::mt19937_64 rng(3);
    std::vector<uint64_t> hits(n + 1, 0);
    for (int i = 0; i < 100'000; ++i) {
      uint64_t m = chooser.pick(rng);
      EXPECT_GE(m, 1u);
      EXPECT_LE(m, n);
      hits[m]++;
    }
    std::sort(hits.begin(), hits.end(), std::greater<>());
    return static_cast<double>(hits[0] + hits[1] + hits[2] + hits[3] + hits[4]) / 100'000;
  };
  EXPECT_LT(top_share(0), 0.02);  // uniform: 5 of 1000 members get about 0.5 %
  EXPECT_GT(top_share(1), 0.2);   // Zipf 1: the 5 hottest get about 30 %
}

TEST(BenchRefundPool, GivesEachPaymentBackOnceAndStaysBounded) {
  std::mt19937_64 rng(1);
  RefundPool pool;
  Captured c{};
  EXPECT_FALSE(pool.take(rng, &c));
  for (uint64_t k = 1; k <= 10; ++k)
    pool.add({k, k * 10, 100}, rng);
  std::set<uint64_t> taken;
  while (pool.take(rng, &c)) {
    EXPECT_EQ(c.member, c.counter * 10);
    EXPECT_TRUE(taken.insert(c.counter).second) << "payment " << c.counter << " taken twice";
  }
  EXPECT_EQ(taken.size(), 10u);
  for (uint64_t k = 1; k <= refund_pool_size_max * 2; ++k)
    pool.add({k, 1, 100}, rng);
  size_t left = 0;
  while (pool.take(rng, &c))
    left++;
  EXPECT_EQ(left, refund_pool_size_max);
}

TEST(BenchIds, StringIdsAreDistinctPerWorkerTagAndCounter) {
  EXPECT_EQ(op_id("cbx", 3, 'p', 42), "cbx-3-p42");
  std::set<std::string> ids;
  for (uint32_t w = 0; w < 3; ++w)
    for (char tag : {'p', 'r', 'c'})
      for (uint64_t k = 1; k <= 12; ++k)
        EXPECT_TRUE(ids.insert(op_id("cbx", w, tag, k)).second);
}

WorkerStats stats_for(uint64_t members) {
  WorkerStats s;
  s.member_delta.assign(members + 1, 0);
  return s;
}

TEST(BenchTally, BooksEachKindOnTheRightSides) {
  WorkerStats a = stats_for(3), b = stats_for(3);
  a.book(OpKind::payment, 1, 500);   // member 1 pays the merchant
  a.book(OpKind::refund, 1, 20);     // and gets 20 back
  b.book(OpKind::recharge, 2, 300);  // member 2 tops up
  b.book(OpKind::voucher, 0, 50);    // a paper voucher pays the merchant
  b.book(OpKind::read, 3, 0);
  a.merge(b);
  EXPECT_EQ(a.member_delta[1], -480);
  EXPECT_EQ(a.member_delta[2], 300);
  EXPECT_EQ(a.member_delta[3], 0);
  EXPECT_EQ(a.merchant_delta, 500 - 20 + 50);
  EXPECT_EQ(a.ok, (std::array<uint64_t, op_kind_count>{1, 1, 1, 1, 1}));
}

// Snapshots as a ledger would show them after the tally's operations: the
// system accounts paid for the recharge and the voucher.
struct World {
  Snapshot before, after;
  RunResult result;
  World() {
    result.total = stats_for(3);
    result.total.book(OpKind::payment, 1, 500);
    result.total.book(OpKind::recharge, 2, 300);
    result.total.book(OpKind::voucher, 0, 50);
    before.member_balance = {0, 1000, 1000, 1000};
    before.merchant_known = before.system_known = true;
    before.merchant_balance = 0;
    before.system_sum = -3000;
    after = before;
    after.member_balance = {0, 500, 1300, 1000};
    after.merchant_balance = 550;
    after.system_sum = -3000 - 300 - 50;
  }
};

TEST(BenchMoneyCheck, PassesWhenTheLedgerMatchesTheTally) {
  World w;
  check_money(w.before, w.after, &w.result);
  EXPECT_TRUE(w.result.verified);
  EXPECT_EQ(w.result.members_mismatched, 0u);
  EXPECT_TRUE(w.result.merchant_checked);
  EXPECT_TRUE(w.result.merchant_ok);
  EXPECT_TRUE(w.result.zero_sum_checked);
  EXPECT_EQ(w.result.zero_sum_delta, 0);
}

TEST(BenchMoneyCheck, CatchesALostOrDuplicatedAmount) {
  World lost;
  lost.after.member_balance[1] += 500;  // the payment's debit went missing
  check_money(lost.before, lost.after, &lost.result);
  EXPECT_EQ(lost.result.members_mismatched, 1u);

  World twice;
  twice.after.merchant_balance += 500;  // the payment credited twice
  twice.after.system_sum -= 500;        // ... still balanced in double entry
  check_money(twice.before, twice.after, &twice.result);
  EXPECT_EQ(twice.result.members_mismatched, 0u);
  EXPECT_FALSE(twice.result.merchant_ok);
  EXPECT_EQ(twice.result.zero_sum_delta, 0);

  World created;
  created.after.system_sum += 7;  // money out of nowhere
  check_money(created.before, created.after, &created.result);
  EXPECT_TRUE(created.result.merchant_ok);
  EXPECT_EQ(created.result.zero_sum_delta, 7);
}

TEST(BenchMoneyCheck, OverHttpOnlyMembersAreChecked) {
  World w;
  w.before.merchant_known = w.after.merchant_known = false;
  w.before.system_known = w.after.system_known = false;
  w.after.system_sum += 1'000;  // invisible without the binary reads
  check_money(w.before, w.after, &w.result);
  EXPECT_FALSE(w.result.merchant_checked);
  EXPECT_FALSE(w.result.zero_sum_checked);
  EXPECT_EQ(w.result.members_mismatched, 0u);
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(BenchReport, ExitCodeAndJsonFollowTheMoneyCheck) {
  Options o;
  o.json_path = ::testing::TempDir() + "coffer_bench_report_test.json";
  World good;
  good.result.transport = "binary";
  good.result.elapsed_s = 2;
  good.result.total.operations = 3;
  good.result.total.errors["INSUFFICIENT_FUNDS"] = 2;
  check_money(good.before, good.after, &good.result);
  EXPECT_EQ(report(o, good.result), 0);
  std::string json = slurp(o.json_path);
  EXPECT_NE(json.find("\"money_check\":true"), std::string::npos) << json;
  EXPECT_NE(json.find("\"errors\":{\"INSUFFICIENT_FUNDS\":2}"), std::string::npos) << json;
  EXPECT_NE(json.find("\"operations_per_s\":1.5"), std::string::npos) << json;

  World bad;
  bad.result.transport = "binary";
  bad.result.elapsed_s = 1;
  bad.after.member_balance[3] -= 1;
  check_money(bad.before, bad.after, &bad.result);
  EXPECT_EQ(report(o, bad.result), 1);
  EXPECT_NE(slurp(o.json_path).find("\"money_check\":false"), std::string::npos);
  std::remove(o.json_path.c_str());
}

}  // namespace
}  // namespace coffer::bench
