// The state store's texts and query indexes (STATE_STORE.md, "Texts" and
// "Indexes"): texts kept, replaced, grouped and paged; member history; gifts
// both ways; withdrawals moving between states; all of it across close/reopen,
// all-or-nothing across a crash before the commit, and rebuilt exactly by
// recovery from journal records that carry texts.
//
// The domain cases run real core commands (members, gifts, withdrawals) through
// a Ledger, so the indexes are checked against the effects core really emits.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "core/command_text.h"
#include "core/ledger.h"
#include "storage/batch_payload.h"
#include "storage/journal.h"
#include "storage/memory_file_system.h"
#include "storage/recovery.h"
#include "tests/core/domain_util.h"
#include "tests/storage/state_store_test_util.h"

namespace coffer::storage {
namespace {

using test::make_gift;
using test::make_money;
using test::make_register;
using test::make_withdrawal;
using test::make_withdrawal_op;
using testing::TempDir;

constexpr uint64_t kAlice = 1001, kBob = 1002, kCarol = 1003;

Id128 key(uint64_t lo, uint64_t hi = 0x7e47) {
  return Id128{lo, hi};
}

StoredText stored(uint64_t seq, Id128 k, uint64_t group, std::string text) {
  return StoredText{seq, k, group, std::move(text)};
}

// A batch of commands seq..seq with no effects, carrying `texts`.
EffectBatch text_batch(uint64_t seq, std::vector<StoredText> texts) {
  EffectBatch b;
  b.first_seq = seq;
  b.last_seq = seq;
  b.texts = std::move(texts);
  return b;
}

std::optional<std::string> text_of(const StateStore& store, Id128 k) {
  std::vector<std::optional<std::string>> out;
  const Id128 keys[] = {k};
  Status s = store.texts(keys, &out);
  EXPECT_TRUE(s.ok()) << s.to_string();
  return out.empty() ? std::nullopt : out[0];
}

std::vector<std::pair<Id128, std::string>> whole_group(const StateStore& store, uint64_t group,
                                                       uint32_t limit = 3) {
  std::vector<std::pair<Id128, std::string>> all;
  Id128 after{};
  for (int guard = 0; guard < 10'000; ++guard) {
    TextGroupPage page;
    Status s = store.texts_in_group(group, after, limit, &page);
    EXPECT_TRUE(s.ok()) << s.to_string();
    EXPECT_LE(page.texts.size(), limit);
    all.insert(all.end(), page.texts.begin(), page.texts.end());
    if (page.next.is_zero()) break;
    EXPECT_EQ(page.next, page.texts.back().first);
    after = page.next;
  }
  return all;
}

// ---- Texts (no core needed) ---------------------------------------------------

class TextStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { store = testing::open_store(tmp.path(), /*thread=*/false); }
  void submit(EffectBatch b) {
    Status s = store->submit(std::move(b));
    ASSERT_TRUE(s.ok()) << s.to_string();
    s = store->flush();
    ASSERT_TRUE(s.ok()) << s.to_string();
  }
  void reopen() {
    store.reset();
    store = testing::open_store(tmp.path(), /*thread=*/false);
  }

  TempDir tmp;
  std::unique_ptr<StateStore> store;
};

TEST_F(TextStoreTest, KeptReplacedAndRegrouped) {
  const uint64_t g1 = 11, g2 = 22;
  submit(text_batch(1, {stored(1, key(1), g1, "a1")}));
  submit(text_batch(2, {stored(2, key(2), g1, "b1")}));
  submit(text_batch(3, {stored(3, key(3), g2, "c1")}));
  submit(text_batch(4, {stored(4, key(4), 0, std::string("no\0group", 8))}));

  std::vector<std::optional<std::string>> out;
  const Id128 keys[] = {key(3), key(9), key(1), key(4)};
  ASSERT_TRUE(store->texts(keys, &out).ok());
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0], "c1");
  EXPECT_EQ(out[1], std::nullopt);
  EXPECT_EQ(out[2], "a1");
  EXPECT_EQ(out[3], std::string("no\0group", 8));
  using Row = std::pair<Id128, std::string>;
  EXPECT_EQ(whole_group(*store, g1), (std::vector<Row>{{key(1), "a1"}, {key(2), "b1"}}));
  EXPECT_EQ(whole_group(*store, g2), (std::vector<Row>{{key(3), "c1"}}));

  // A later text under the same key replaces the text and moves its group entry.
  submit(text_batch(5, {stored(5, key(1), g2, "a2")}));
  EXPECT_EQ(text_of(*store, key(1)), "a2");
  EXPECT_EQ(whole_group(*store, g1), (std::vector<Row>{{key(2), "b1"}}));
  EXPECT_EQ(whole_group(*store, g2), (std::vector<Row>{{key(1), "a2"}, {key(3), "c1"}}));
  // Same group: replaced in place, listed once.
  submit(text_batch(6, {stored(6, key(3), g2, "c2")}));
  EXPECT_EQ(whole_group(*store, g2), (std::vector<Row>{{key(1), "a2"}, {key(3), "c2"}}));
  // Group 0: no longer listed anywhere, still readable by key.
  submit(text_batch(7, {stored(7, key(2), 0, "b2")}));
  EXPECT_TRUE(whole_group(*store, g1).empty());
  EXPECT_EQ(text_of(*store, key(2)), "b2");
  // Into a group from none.
  submit(text_batch(8, {stored(8, key(4), g1, "d")}));
  EXPECT_EQ(whole_group(*store, g1), (std::vector<Row>{{key(4), "d"}}));
  EXPECT_EQ(store->stats().texts_written, 8u);

  reopen();
  EXPECT_EQ(text_of(*store, key(1)), "a2");
  EXPECT_EQ(text_of(*store, key(2)), "b2");
  EXPECT_EQ(whole_group(*store, g1), (std::vector<Row>{{key(4), "d"}}));
  EXPECT_EQ(whole_group(*store, g2), (std::vector<Row>{{key(1), "a2"}, {key(3), "c2"}}));
}

TEST_F(TextStoreTest, LaterTextInOneBatchWins) {
  EffectBatch b;
  b.first_seq = 1;
  b.last_seq = 3;
  b.texts = {stored(1, key(1), 5, "first"), stored(3, key(1), 6, "last")};
  submit(std::move(b));
  EXPECT_EQ(text_of(*store, key(1)), "last");
  EXPECT_TRUE(whole_group(*store, 5).empty());
  EXPECT_EQ(whole_group(*store, 6).size(), 1u);

  // Many texts over a few keys in one transaction: the store sorts a
  // transaction's texts by key, and must keep seq order within a key.
  EffectBatch many;
  many.first_seq = 4;
  many.last_seq = 403;
  std::map<uint64_t, std::string> last;
  std::mt19937_64 rng(3);
  for (uint64_t seq = 4; seq <= 403; ++seq) {
    const uint64_t k = 10 + rng() % 5;
    last[k] = "v" + std::to_string(seq);
    many.texts.push_back(stored(seq, key(k), 100 + rng() % 3, last[k]));
  }
  submit(std::move(many));
  for (const auto& [k, text] : last)
    EXPECT_EQ(text_of(*store, key(k)), text);
  size_t listed = 0;
  for (uint64_t g = 100; g < 103; ++g)
    listed += whole_group(*store, g).size();
  EXPECT_EQ(listed, last.size());  // each key in exactly one group: its latest
}

TEST_F(TextStoreTest, GroupPagesInKeyOrder) {
  const uint64_t group = 77;
  std::vector<Id128> keys;
  std::mt19937_64 rng(5);
  for (uint64_t i = 0; i < 25; ++i) {
    const Id128 k{rng() % 4, rng()};  // equal lo values: order falls to hi
    if (k.is_zero() || std::find(keys.begin(), keys.end(), k) != keys.end()) continue;
    keys.push_back(k);
    submit(text_batch(i + 1, {stored(i + 1, k, group, "t" + std::to_string(i))}));
  }
  // Another group's entries on both sides must not leak in.
  submit(text_batch(26, {stored(26, key(1), group - 1, "x")}));
  submit(text_batch(27, {stored(27, key(2), group + 1, "y")}));
  std::sort(keys.begin(), keys.end());
  for (uint32_t limit : {1u, 4u, 10u, 1000u}) {
    auto rows = whole_group(*store, group, limit);
    ASSERT_EQ(rows.size(), keys.size()) << "limit " << limit;
    for (size_t i = 0; i < keys.size(); ++i)
      EXPECT_EQ(rows[i].first, keys[i]);
  }
  // A page that ends exactly at the last key says "no more".
  TextGroupPage page;
  ASSERT_TRUE(store->texts_in_group(group, Id128{}, uint32_t(keys.size()), &page).ok());
  EXPECT_EQ(page.texts.size(), keys.size());
  EXPECT_TRUE(page.next.is_zero());
  // Starting after the last key: empty.
  ASSERT_TRUE(store->texts_in_group(group, keys.back(), 5, &page).ok());
  EXPECT_TRUE(page.texts.empty());
  EXPECT_TRUE(page.next.is_zero());
}

TEST_F(TextStoreTest, BadArgumentsAreRefused) {
  TextGroupPage page;
  EXPECT_EQ(store->texts_in_group(0, Id128{}, 10, &page).code(), StatusCode::invalid_argument);
  EXPECT_EQ(store->texts_in_group(1, Id128{}, 0, &page).code(), StatusCode::invalid_argument);
  EXPECT_EQ(store->texts_in_group(1, Id128{}, kTextsPageLimitMax + 1, &page).code(),
            StatusCode::invalid_argument);
  std::vector<Id128> many(kTextsKeysMax + 1, key(1));
  std::vector<std::optional<std::string>> out;
  EXPECT_EQ(store->texts(many, &out).code(), StatusCode::invalid_argument);
  // Texts outside the batch's range, out of order, with a zero key or too long.
  EffectBatch b = text_batch(1, {stored(2, key(1), 0, "x")});
  EXPECT_EQ(store->submit(b).code(), StatusCode::invalid_argument);
  b = text_batch(1, {stored(1, Id128{}, 0, "x")});
  EXPECT_EQ(store->submit(b).code(), StatusCode::invalid_argument);
  b = text_batch(1, {stored(1, key(1), 0, std::string(command_text_size_max + 1, 'x'))});
  EXPECT_EQ(store->submit(b).code(), StatusCode::invalid_argument);
  b.first_seq = 1;
  b.last_seq = 2;
  b.texts = {stored(2, key(1), 0, "x"), stored(1, key(2), 0, "y")};
  EXPECT_EQ(store->submit(b).code(), StatusCode::invalid_argument);
  // Nothing of them went in.
  ASSERT_TRUE(store->flush().ok());
  EXPECT_EQ(store->last_applied_seq(), 0u);
}

TEST_F(TextStoreTest, ReFedTextsAreSkipped) {
  submit(text_batch(1, {stored(1, key(1), 3, "live")}));
  reopen();
  // Recovery re-feeds batches the store already has: their texts must not
  // overwrite (a different text here would be a bug upstream; it shows the skip).
  EffectBatch again = text_batch(1, {stored(1, key(1), 4, "re-fed")});
  ASSERT_TRUE(store->submit(std::move(again)).ok());
  ASSERT_TRUE(store->flush().ok());
  EXPECT_EQ(text_of(*store, key(1)), "live");
  EXPECT_EQ(whole_group(*store, 3).size(), 1u);
  EXPECT_TRUE(whole_group(*store, 4).empty());
  // A batch straddling the applied seq keeps only the texts above it.
  EffectBatch straddle;
  straddle.first_seq = 1;
  straddle.last_seq = 2;
  straddle.texts = {stored(1, key(1), 0, "old"), stored(2, key(2), 0, "new")};
  ASSERT_TRUE(store->submit(std::move(straddle)).ok());
  ASSERT_TRUE(store->flush().ok());
  EXPECT_EQ(text_of(*store, key(1)), "live");
  EXPECT_EQ(text_of(*store, key(2)), "new");
}

// ---- Domain indexes over real core effects ---------------------------------------

// Runs commands through a Ledger one batch each, as the sequencer does: the
// store gets each command's effects and, if text_kept(), its text.
class DomainStoreTest : public ::testing::Test {
 protected:
  DomainStoreTest() : ledger(test::Driver::small_config()), effects(8192) {}
  void SetUp() override {
    store = testing::open_store(tmp.path(), /*thread=*/false);
    ok(make_register(next_id(), kAlice));
    ok(make_register(next_id(), kBob));
    ok(make_register(next_id(), kCarol));
    ok(make_money(CommandKind::member_credit, next_id(), kAlice, 20'000));
    ok(make_money(CommandKind::member_credit, next_id(), kBob, 15'000));
    ok(make_money(CommandKind::member_credit, next_id(), kAlice, 70, asset_points));
  }

  Reply run(Command c, std::optional<std::string> text = std::nullopt) {
    c.seq = ++seq;
    time_us += 1000;
    c.time_us = time_us;
    EffectSink sink(effects);
    const Reply r = ledger.apply(c, sink);
    EffectBatch b;
    b.first_seq = b.last_seq = c.seq;
    b.effects.assign(sink.effects().begin(), sink.effects().end());
    last_effects = b.effects;
    if (text && text_kept(r)) b.texts.push_back(StoredText{c.seq, c.id, 0, *text});
    Status s = store->submit(std::move(b));
    EXPECT_TRUE(s.ok()) << s.to_string();
    return r;
  }
  Reply ok(const Command& c, std::optional<std::string> text = std::nullopt) {
    const Reply r = run(c, std::move(text));
    EXPECT_EQ(result_name(r.result), result_name(Result::ok));
    return r;
  }
  Id128 next_id() { return Id128{++id_counter, 0xd0d0}; }
  void flush() {
    Status s = store->flush();
    ASSERT_TRUE(s.ok()) << s.to_string();
  }
  void reopen() {
    flush();
    store.reset();
    store = testing::open_store(tmp.path(), /*thread=*/false);
  }
  void enable_withdrawals() {
    ok(test::make_config(next_id(), 1u << 14, [](DomainConfig& v) { v.withdraw_enabled = 1; }));
  }

  std::vector<HistoryEntry> member_history_all(uint64_t member, Asset asset, uint32_t limit = 2) {
    std::vector<HistoryEntry> all;
    HistoryCursor cursor;
    for (int guard = 0; guard < 10'000; ++guard) {
      HistoryPage page;
      Status s = store->member_history(member, asset, cursor, limit, &page);
      EXPECT_TRUE(s.ok()) << s.to_string();
      EXPECT_EQ(page.as_of_seq, store->last_applied_seq());
      all.insert(all.end(), page.entries.begin(), page.entries.end());
      if (page.next.at_start()) break;
      cursor = page.next;
    }
    return all;
  }
  std::vector<GiftEntry> gifts_all(uint64_t member, GiftDirection dir, uint32_t limit = 2) {
    std::vector<GiftEntry> all;
    uint64_t before = 0;
    for (int guard = 0; guard < 10'000; ++guard) {
      GiftPage page;
      Status s = store->gifts(member, dir, before, limit, &page);
      EXPECT_TRUE(s.ok()) << s.to_string();
      EXPECT_LE(page.entries.size(), limit);
      all.insert(all.end(), page.entries.begin(), page.entries.end());
      if (page.next_before_seq == 0) break;
      EXPECT_EQ(page.next_before_seq, page.entries.back().seq);
      before = page.next_before_seq;
    }
    return all;
  }
  std::vector<WithdrawalEntry> withdrawals_all(uint8_t state, uint32_t limit = 2) {
    std::vector<WithdrawalEntry> all;
    uint64_t after = 0;
    for (int guard = 0; guard < 10'000; ++guard) {
      WithdrawalPage page;
      Status s = store->withdrawals(state, after, limit, &page);
      EXPECT_TRUE(s.ok()) << s.to_string();
      EXPECT_LE(page.entries.size(), limit);
      all.insert(all.end(), page.entries.begin(), page.entries.end());
      if (page.next_after_seq == 0) break;
      EXPECT_EQ(page.next_after_seq, page.entries.back().seq);
      after = page.next_after_seq;
    }
    return all;
  }

  TempDir tmp;
  std::unique_ptr<StateStore> store;
  Ledger ledger;
  std::vector<Effect> effects;
  std::vector<Effect> last_effects;  // of the last command run
  uint64_t seq = 0;
  uint64_t time_us = 1'700'000'000'000'000;
  uint64_t id_counter = 0;
};

TEST_F(DomainStoreTest, MemberHistoryByMemberAndAsset) {
  ok(make_gift(next_id(), kAlice, kBob, 300));
  ok(make_gift(next_id(), kAlice, kBob, 200));
  ok(make_money(CommandKind::member_debit, next_id(), kAlice, 50, asset_points));
  flush();

  auto wallet = member_history_all(kAlice, asset_wallet);
  ASSERT_EQ(wallet.size(), 3u);  // newest first
  EXPECT_EQ(wallet[0].amount, -200);
  EXPECT_EQ(wallet[1].amount, -300);
  EXPECT_EQ(wallet[2].amount, 20'000);
  EXPECT_EQ(wallet[0].balance_after, 19'500);
  EXPECT_EQ(wallet[0].code, code_gift);
  EXPECT_GT(wallet[0].seq, wallet[1].seq);
  for (const HistoryEntry& e : wallet)
    EXPECT_EQ(e.asset, asset_wallet);
  // The same entries as history() of the account core made for Alice's wallet.
  const auto all = testing::full_history(*store, wallet[0].account_id);
  ASSERT_EQ(all.size(), wallet.size());
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].seq, wallet[i].seq);
    EXPECT_EQ(all[i].amount, wallet[i].amount);
  }

  auto points = member_history_all(kAlice, asset_points);
  ASSERT_EQ(points.size(), 2u);
  EXPECT_EQ(points[0].amount, -50);
  EXPECT_EQ(points[0].balance_after, 20);
  EXPECT_EQ(points[1].amount, 70);
  EXPECT_NE(points[0].account_id, wallet[0].account_id);

  auto bob = member_history_all(kBob, asset_wallet, 10);
  ASSERT_EQ(bob.size(), 3u);
  EXPECT_EQ(bob[0].amount, 200);
  EXPECT_EQ(bob[0].balance_after, 15'500);
  EXPECT_TRUE(member_history_all(kCarol, asset_wallet).empty());
  EXPECT_TRUE(member_history_all(kCarol, asset_points).empty());
  EXPECT_TRUE(member_history_all(4242, asset_wallet).empty());  // unknown member
  EXPECT_TRUE(member_history_all(kAlice, 7).empty());           // unknown asset

  HistoryPage page;
  EXPECT_EQ(store->member_history(kAlice, asset_wallet, {}, 0, &page).code(),
            StatusCode::invalid_argument);

  reopen();
  auto again = member_history_all(kAlice, asset_wallet, 100);
  ASSERT_EQ(again.size(), wallet.size());
  EXPECT_EQ(again[0].amount, -200);
  EXPECT_EQ(member_history_all(kAlice, asset_points).size(), 2u);
}

// History rows only where someone reads them: member wallets/points (and
// engine accounts, StateStoreTest.HistoryHasExactEntriesNewestFirst), not the
// system and merchant settlement accounts every payment touches. The rule
// survives a reopen (the writer rebuilds its account map from `accounts`).
TEST_F(DomainStoreTest, HistoryOnlyForMemberAccounts) {
  ok(test::make_merchant(next_id(), 7));
  flush();
  const uint64_t rows_before = store->stats().history_entries_written;
  // The accounts each command changed, by whether they are Alice's.
  auto changed = [&] {
    std::vector<uint64_t> out;
    for (const Effect& e : last_effects)
      if (e.kind == EffectKind::balance_changed) out.push_back(e.balance.account_id);
    return out;
  };
  const Id128 pay1 = next_id();
  ok(test::make_payment(pay1, kAlice, 7, 1'200));
  const std::vector<uint64_t> pay_accounts = changed();
  ASSERT_EQ(pay_accounts.size(), 2u);  // Alice's wallet and the merchant's settlement
  flush();
  const auto alice = member_history_all(kAlice, asset_wallet, 100);
  ASSERT_FALSE(alice.empty());
  EXPECT_EQ(alice[0].amount, -1'200);
  EXPECT_EQ(alice[0].balance_after, 20'000 - 1'200);
  const uint64_t alice_wallet = alice[0].account_id;
  uint64_t merchant = 0;
  for (uint64_t a : pay_accounts)
    if (a != alice_wallet) merchant = a;
  ASSERT_NE(merchant, 0u);
  ASSERT_GE(merchant, domain_account_id_min);
  EXPECT_TRUE(testing::full_history(*store, merchant).empty());
  EXPECT_EQ(store->stats().history_entries_written, rows_before + 1);  // Alice's row only

  // A credit comes from a system (clearing) account: no rows for it either.
  ok(make_money(CommandKind::member_credit, next_id(), kCarol, 500));
  const std::vector<uint64_t> credit_accounts = changed();
  flush();
  const auto carol = member_history_all(kCarol, asset_wallet);
  ASSERT_EQ(carol.size(), 1u);
  uint64_t clearing = 0;
  for (uint64_t a : credit_accounts)
    if (a != carol[0].account_id) clearing = a;
  ASSERT_NE(clearing, 0u);
  EXPECT_TRUE(testing::full_history(*store, clearing).empty());

  reopen();
  ok(test::make_payment(next_id(), kAlice, 7, 300));
  flush();
  EXPECT_TRUE(testing::full_history(*store, merchant).empty());
  EXPECT_TRUE(testing::full_history(*store, clearing).empty());
  const auto again = member_history_all(kAlice, asset_wallet, 100);
  ASSERT_EQ(again.size(), alice.size() + 1);
  EXPECT_EQ(again[0].amount, -300);
  EXPECT_EQ(again[1].ref, alice[0].ref);
  // The transfers are not kept as raw records: their rows say it all.
  std::vector<Effect> raw;
  ASSERT_TRUE(store->records(EffectKind::transfer_posted, 0, 100, &raw).ok());
  EXPECT_TRUE(raw.empty());
}

TEST_F(DomainStoreTest, GiftsBothDirectionsNewestFirstAndPaged) {
  std::vector<Id128> alice_sent;
  std::vector<uint64_t> alice_sent_seq;
  for (int i = 0; i < 5; ++i) {
    const Id128 id = next_id();
    ok(make_gift(id, kAlice, i % 2 == 0 ? kBob : kCarol, 100 + i), R"({"ref":"g"})");
    alice_sent.push_back(id);
    alice_sent_seq.push_back(seq);
  }
  const Id128 from_bob = next_id();
  ok(make_gift(from_bob, kBob, kAlice, 42));
  // Failed gift (more than Carol has) and a replayed one: no new entries.
  EXPECT_EQ(run(make_gift(next_id(), kCarol, kAlice, 1'000'000)).result,
            Result::insufficient_funds);
  const Reply replay = run(make_gift(from_bob, kBob, kAlice, 42));
  EXPECT_NE(replay.flags & reply_flag_replayed, 0u);
  flush();

  auto sent = gifts_all(kAlice, GiftDirection::sent);
  ASSERT_EQ(sent.size(), 5u);
  for (size_t i = 0; i < sent.size(); ++i) {
    const size_t k = sent.size() - 1 - i;  // newest first
    EXPECT_EQ(sent[i].gift_id, alice_sent[k]);
    EXPECT_EQ(sent[i].seq, alice_sent_seq[k]);
    EXPECT_EQ(sent[i].from_member_id, kAlice);
    EXPECT_EQ(sent[i].to_member_id, k % 2 == 0 ? kBob : kCarol);
    EXPECT_EQ(sent[i].amount, int64_t(100 + k));
    EXPECT_GT(sent[i].time_us, 0u);
  }
  auto received = gifts_all(kAlice, GiftDirection::received);
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].gift_id, from_bob);
  EXPECT_EQ(received[0].from_member_id, kBob);
  EXPECT_EQ(received[0].amount, 42);
  EXPECT_EQ(gifts_all(kBob, GiftDirection::received).size(), 3u);
  EXPECT_EQ(gifts_all(kCarol, GiftDirection::received).size(), 2u);
  EXPECT_EQ(gifts_all(kBob, GiftDirection::sent).size(), 1u);
  EXPECT_TRUE(gifts_all(kCarol, GiftDirection::sent).empty());

  // before_seq: strictly older than it.
  GiftPage page;
  ASSERT_TRUE(store->gifts(kAlice, GiftDirection::sent, alice_sent_seq[2], 10, &page).ok());
  ASSERT_EQ(page.entries.size(), 2u);
  EXPECT_EQ(page.entries[0].seq, alice_sent_seq[1]);
  EXPECT_EQ(page.next_before_seq, 0u);
  ASSERT_TRUE(store->gifts(kAlice, GiftDirection::sent, 1, 10, &page).ok());
  EXPECT_TRUE(page.entries.empty());
  EXPECT_EQ(store->gifts(kAlice, GiftDirection::sent, 0, 0, &page).code(),
            StatusCode::invalid_argument);

  // The gift's text is kept under the gift id (the command id).
  EXPECT_EQ(text_of(*store, alice_sent[0]), R"({"ref":"g"})");

  reopen();
  auto again = gifts_all(kAlice, GiftDirection::sent, 100);
  ASSERT_EQ(again.size(), 5u);
  EXPECT_EQ(again[0].gift_id, alice_sent[4]);
  EXPECT_EQ(gifts_all(kAlice, GiftDirection::received).size(), 1u);
}

TEST_F(DomainStoreTest, WithdrawalsMoveBetweenStates) {
  enable_withdrawals();
  std::vector<Id128> w;
  std::vector<uint64_t> created_seq;
  for (int i = 0; i < 5; ++i) {
    w.push_back(next_id());
    ok(make_withdrawal(w.back(), i == 4 ? kBob : kAlice, 1000 + i), R"({"payout":"x"})");
    created_seq.push_back(seq);
  }
  flush();
  auto pending = withdrawals_all(withdrawal_pending);
  ASSERT_EQ(pending.size(), 5u);
  for (size_t i = 0; i < pending.size(); ++i) {  // oldest first
    EXPECT_EQ(pending[i].withdrawal_id, w[i]);
    EXPECT_EQ(pending[i].seq, created_seq[i]);
    EXPECT_EQ(pending[i].member_id, i == 4 ? kBob : kAlice);
    EXPECT_EQ(pending[i].amount, int64_t(1000 + i));
    EXPECT_EQ(pending[i].state, withdrawal_pending);
  }
  EXPECT_TRUE(withdrawals_all(withdrawal_approved).empty());

  ok(make_withdrawal_op(CommandKind::withdrawal_approve, next_id(), w[1]));
  const uint64_t approved_seq = seq;
  ok(make_withdrawal_op(CommandKind::withdrawal_reject, next_id(), w[3], 12),
     R"({"feedback":"no"})");
  const uint64_t rejected_seq = seq;
  // A failed decision (already approved) moves nothing.
  EXPECT_EQ(run(make_withdrawal_op(CommandKind::withdrawal_reject, next_id(), w[1], 3)).result,
            Result::invalid_state);
  flush();

  pending = withdrawals_all(withdrawal_pending, 1);
  ASSERT_EQ(pending.size(), 3u);
  EXPECT_EQ(pending[0].withdrawal_id, w[0]);
  EXPECT_EQ(pending[1].withdrawal_id, w[2]);
  EXPECT_EQ(pending[2].withdrawal_id, w[4]);
  auto approved = withdrawals_all(withdrawal_approved);
  ASSERT_EQ(approved.size(), 1u);
  EXPECT_EQ(approved[0].withdrawal_id, w[1]);
  EXPECT_EQ(approved[0].seq, approved_seq);
  EXPECT_EQ(approved[0].state, withdrawal_approved);
  EXPECT_EQ(approved[0].member_id, kAlice);
  EXPECT_EQ(approved[0].amount, 1001);
  auto rejected = withdrawals_all(withdrawal_rejected);
  ASSERT_EQ(rejected.size(), 1u);
  EXPECT_EQ(rejected[0].withdrawal_id, w[3]);
  EXPECT_EQ(rejected[0].seq, rejected_seq);
  EXPECT_EQ(rejected[0].amount, 1003);

  // after_seq pages: strictly after it.
  WithdrawalPage page;
  ASSERT_TRUE(store->withdrawals(withdrawal_pending, created_seq[0], 10, &page).ok());
  ASSERT_EQ(page.entries.size(), 2u);
  EXPECT_EQ(page.entries[0].withdrawal_id, w[2]);
  EXPECT_EQ(store->withdrawals(0, 0, 10, &page).code(), StatusCode::invalid_argument);
  EXPECT_EQ(store->withdrawals(4, 0, 10, &page).code(), StatusCode::invalid_argument);

  // Texts: the request's and the rejection's, each under its command id.
  EXPECT_EQ(text_of(*store, w[3]), R"({"payout":"x"})");

  reopen();
  EXPECT_EQ(withdrawals_all(withdrawal_pending).size(), 3u);
  EXPECT_EQ(withdrawals_all(withdrawal_approved).size(), 1u);
  ASSERT_EQ(withdrawals_all(withdrawal_rejected).size(), 1u);
  EXPECT_EQ(withdrawals_all(withdrawal_rejected)[0].withdrawal_id, w[3]);
}

TEST_F(DomainStoreTest, CrashBeforeCommitLosesAllOrNothing) {
  enable_withdrawals();
  const Id128 w1 = next_id();
  ok(make_withdrawal(w1, kAlice, 500), "w1");
  ok(make_gift(next_id(), kAlice, kBob, 10), "g1");
  flush();
  const uint64_t before = store->last_applied_seq();

  // One transaction that would touch every index: dies before its commit.
  store->test_abort_next_commit();
  ok(make_withdrawal_op(CommandKind::withdrawal_approve, next_id(), w1));
  ok(make_gift(next_id(), kAlice, kCarol, 20), "g2");
  const Id128 new_member = next_id();
  ok(make_register(new_member, 2001), "m");
  EXPECT_FALSE(store->flush().ok());
  store.reset();
  store = testing::open_store(tmp.path(), /*thread=*/false);

  EXPECT_EQ(store->last_applied_seq(), before);
  EXPECT_EQ(withdrawals_all(withdrawal_pending).size(), 1u);
  EXPECT_TRUE(withdrawals_all(withdrawal_approved).empty());
  EXPECT_EQ(gifts_all(kAlice, GiftDirection::sent).size(), 1u);
  EXPECT_TRUE(gifts_all(kCarol, GiftDirection::received).empty());
  EXPECT_EQ(text_of(*store, w1), "w1");
  EXPECT_EQ(text_of(*store, new_member), std::nullopt);
  EXPECT_TRUE(member_history_all(2001, asset_wallet).empty());
}

// ---- Recovery rebuilds exactly what live kept ---------------------------------------

TEST(RecoveryTextsTest, ReplayKeepsTextsOfFirstSuccessesOnly) {
  TempDir tmp;
  MemoryFileSystem fs;
  const std::string dir = "/journal";
  std::unique_ptr<Journal> journal;
  {
    JournalOptions o;
    o.dir = dir;
    o.fs = &fs;
    o.writer_thread = false;
    o.segment_size_bytes = 256 * kKiB;
    o.record_payload_size_max = 64 * kKiB;
    o.log = [](const std::string&) {};
    JournalOpenReport report;
    Status js = Journal::open(o, &journal, &report);
    ASSERT_TRUE(js.ok()) << js.to_string();
  }
  Ledger live(test::Driver::small_config());
  std::map<Id128, std::string> kept;  // what the live sequencer kept
  uint64_t seq = 0, time_us = 1'700'000'000'000'000, n = 0;
  auto next = [&] { return Id128{++n, 0xbeef}; };

  // Records of several commands, each command with a text; some fail, some are
  // replays of earlier ids, some replace an entity text (same key, new text).
  auto record = [&](std::vector<Command> commands, std::vector<CommandText> texts) {
    for (Command& c : commands) {
      c.seq = ++seq;
      c.time_us = (time_us += 1000);
    }
    std::vector<Reply> replies(commands.size());
    std::vector<Effect> buffer(8192);
    std::span<const Command> rest(commands);
    size_t at = 0;
    while (!rest.empty()) {
      EffectSink sink(buffer);
      const size_t k = live.apply(rest, std::span(replies).subspan(at), sink);
      ASSERT_GT(k, 0u);
      rest = rest.subspan(k);
      at += k;
    }
    for (const CommandText& t : texts) {
      if (text_kept(replies[t.index])) kept[t.key] = t.text;
    }
    JournalRecord r;
    r.first_seq = commands.front().seq;
    r.command_count = uint32_t(commands.size());
    r.time_first_us = commands.front().time_us;
    r.time_last_us = commands.back().time_us;
    std::vector<std::byte> payload;
    encode_batch_payload(commands, texts, &payload);
    r.payload = std::move(payload);
    Status s = journal->append_and_wait(std::move(r));
    ASSERT_TRUE(s.ok()) << s.to_string();
  };
  const Id128 member_text = key(500);  // an entity text, replaced later
  const Id128 reg = next(), gift1 = next(), bad_gift = next();
  record({make_register(reg, kAlice), make_register(next(), kBob),
          make_money(CommandKind::member_credit, next(), kAlice, 1000)},
         {CommandText{0, member_text, 9, R"({"phone":"1"})"}, CommandText{2, next(), 0, "credit"}});
  record({make_gift(gift1, kAlice, kBob, 100), make_gift(bad_gift, kAlice, kBob, 1'000'000),
          make_register(reg, kAlice)},  // ok, failed, replay
         {CommandText{0, gift1, 0, "gift ok"}, CommandText{1, bad_gift, 0, "gift failed"},
          CommandText{2, member_text, 9, "replayed: not kept"}});
  record({make_gift(gift1, kAlice, kBob, 100)},  // replay of the gift: its text is not kept again
         {CommandText{0, gift1, 0, "gift replayed"}});
  record({make_register(next(), kCarol)}, {CommandText{0, member_text, 9, R"({"phone":"2"})"}});
  record({make_money(CommandKind::member_credit, next(), kCarol, 5)}, {});  // no texts
  ASSERT_EQ(kept.size(), 3u);
  EXPECT_EQ(kept[member_text], R"({"phone":"2"})");
  EXPECT_EQ(kept[gift1], "gift ok");
  journal.reset();

  // A fresh store, rebuilt from the journal alone.
  auto store = testing::open_store(tmp.sub("lmdb"), /*thread=*/true);
  Ledger ledger(test::Driver::small_config());
  RecoveryOptions ro;
  ro.journal_dir = dir;
  ro.fs = &fs;
  ro.log = [](const std::string&) {};
  RecoveryReport report;
  Status s = recover(ro, *store, ledger, &report);
  ASSERT_TRUE(s.ok()) << s.to_string();
  EXPECT_EQ(report.last_seq, seq);
  EXPECT_EQ(ledger.state_hash(), live.state_hash());
  EXPECT_EQ(store->stats().texts_written, 4u);  // credit, gift ok, phone 1, phone 2

  for (const auto& [k, text] : kept)
    EXPECT_EQ(text_of(*store, k), text);
  EXPECT_EQ(text_of(*store, bad_gift), std::nullopt);
  using Row = std::pair<Id128, std::string>;
  EXPECT_EQ(whole_group(*store, 9), (std::vector<Row>{{member_text, R"({"phone":"2"})"}}));
  // The indexes came back too.
  GiftPage gifts;
  ASSERT_TRUE(store->gifts(kBob, GiftDirection::received, 0, 10, &gifts).ok());
  ASSERT_EQ(gifts.entries.size(), 1u);
  EXPECT_EQ(gifts.entries[0].gift_id, gift1);
  HistoryPage page;
  ASSERT_TRUE(store->member_history(kCarol, asset_wallet, {}, 10, &page).ok());
  EXPECT_EQ(page.entries.size(), 1u);
}

// Property: a store fed live (kept texts by the sequencer's rule) and a store
// rebuilt by recovery from the journal alone answer every query the same, over
// random records of gifts, withdrawals, registrations and credits, with texts,
// failures and replays (reused ids). COFFER_SOAK=1 runs more seeds.
TEST(RecoveryTextsTest, RebuiltStoreAnswersLikeTheLiveOne) {
  const int seeds = std::getenv("COFFER_SOAK") != nullptr ? 200 : 6;
  for (int seed = 1; seed <= seeds; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937_64 rng(seed);
    TempDir tmp;
    MemoryFileSystem fs;
    const std::string dir = "/journal";
    std::unique_ptr<Journal> journal;
    {
      JournalOptions o;
      o.dir = dir;
      o.fs = &fs;
      o.writer_thread = false;
      o.segment_size_bytes = 256 * kKiB;
      o.record_payload_size_max = 64 * kKiB;
      o.log = [](const std::string&) {};
      JournalOpenReport report;
      Status js = Journal::open(o, &journal, &report);
      ASSERT_TRUE(js.ok()) << js.to_string();
    }
    auto live_store = testing::open_store(tmp.sub("live"), /*thread=*/false);
    Ledger live(test::Driver::small_config());
    uint64_t seq = 0, time_us = 1'700'000'000'000'000, n = 0;
    std::vector<Id128> ids;  // every id used, for reuse and for the comparison
    std::vector<Id128> withdrawal_ids;
    const uint64_t members[] = {kAlice, kBob, kCarol};
    auto fresh = [&] {
      ids.push_back(Id128{++n, 0xfeed});
      return ids.back();
    };
    auto some_id = [&] {
      return ids.empty() || rng() % 4 != 0 ? fresh() : ids[rng() % ids.size()];
    };

    auto record = [&](std::vector<Command> commands, std::vector<CommandText> texts) {
      for (Command& c : commands) {
        c.seq = ++seq;
        c.time_us = (time_us += 1000);
      }
      std::vector<Reply> replies(commands.size());
      std::vector<Effect> buffer(8192);
      EffectBatch batch;
      batch.first_seq = commands.front().seq;
      batch.last_seq = commands.back().seq;
      std::span<const Command> rest(commands);
      size_t at = 0;
      while (!rest.empty()) {
        EffectSink sink(buffer);
        const size_t k = live.apply(rest, std::span(replies).subspan(at), sink);
        ASSERT_GT(k, 0u);
        batch.effects.insert(batch.effects.end(), sink.effects().begin(), sink.effects().end());
        rest = rest.subspan(k);
        at += k;
      }
      for (const CommandText& t : texts) {
        if (text_kept(replies[t.index])) {
          batch.texts.push_back(StoredText{commands[t.index].seq, t.key, t.group, t.text});
        }
      }
      JournalRecord r;
      r.first_seq = batch.first_seq;
      r.command_count = uint32_t(commands.size());
      r.time_first_us = commands.front().time_us;
      r.time_last_us = commands.back().time_us;
      encode_batch_payload(commands, texts, &r.payload);
      Status js = journal->append_and_wait(std::move(r));
      ASSERT_TRUE(js.ok()) << js.to_string();
      ASSERT_TRUE(live_store->submit(std::move(batch)).ok());
    };

    record({make_register(fresh(), kAlice), make_register(fresh(), kBob),
            make_register(fresh(), kCarol),
            test::make_config(fresh(), 1u << 14, [](DomainConfig& v) { v.withdraw_enabled = 1; })},
           {});
    for (uint64_t m : members)
      record({make_money(CommandKind::member_credit, fresh(), m, 50'000)}, {});
    for (int r = 0; r < 40; ++r) {
      std::vector<Command> commands;
      std::vector<CommandText> texts;
      const int count = 1 + int(rng() % 4);
      for (int i = 0; i < count; ++i) {
        const uint64_t a = members[rng() % 3], b = members[rng() % 3];
        Command c;
        switch (rng() % 5) {
          case 0:
            c = make_gift(some_id(), a, b, 1 + int64_t(rng() % 3000));  // a == b fails
            break;
          case 1:
            c = make_withdrawal(some_id(), a, 1 + int64_t(rng() % 4000));
            withdrawal_ids.push_back(c.id);
            break;
          case 2:
          case 3:
            c = make_withdrawal_op(
                rng() % 2 ? CommandKind::withdrawal_approve : CommandKind::withdrawal_reject,
                some_id(),
                withdrawal_ids.empty() ? Id128{1, 1}
                                       : withdrawal_ids[rng() % withdrawal_ids.size()]);
            if (c.kind == CommandKind::withdrawal_reject) c.body.withdrawal_op.feedback_length = 3;
            break;
          default:
            c = make_money(CommandKind::member_credit, some_id(), a, 1 + int64_t(rng() % 100));
            break;
        }
        commands.push_back(c);
        if (rng() % 3 != 0) {
          // Own-id texts, or an entity text under a shared key and group.
          const bool entity = rng() % 3 == 0;
          texts.push_back(CommandText{uint32_t(i), entity ? key(900 + rng() % 3) : c.id,
                                      entity ? 1 + rng() % 2 : 0,
                                      "t" + std::to_string(seq + 1 + i)});
        }
      }
      record(std::move(commands), std::move(texts));
    }
    ASSERT_TRUE(live_store->flush().ok());
    journal.reset();

    auto rebuilt = testing::open_store(tmp.sub("rebuilt"), /*thread=*/false);
    Ledger ledger(test::Driver::small_config());
    RecoveryOptions ro;
    ro.journal_dir = dir;
    ro.fs = &fs;
    ro.log = [](const std::string&) {};
    RecoveryReport report;
    Status s = recover(ro, *rebuilt, ledger, &report);
    ASSERT_TRUE(s.ok()) << s.to_string();
    ASSERT_EQ(ledger.state_hash(), live.state_hash());

    for (uint64_t k = 900; k < 903; ++k)
      ids.push_back(key(k));
    std::vector<std::optional<std::string>> a, b;
    ASSERT_TRUE(live_store->texts(ids, &a).ok());
    ASSERT_TRUE(rebuilt->texts(ids, &b).ok());
    EXPECT_EQ(a, b);
    EXPECT_GT(std::count_if(a.begin(), a.end(), [](const auto& t) { return t.has_value(); }), 5);
    EXPECT_LT(std::count_if(a.begin(), a.end(), [](const auto& t) { return t.has_value(); }),
              long(ids.size()));  // some commands failed or were replays
    for (uint64_t g = 1; g <= 2; ++g)
      EXPECT_EQ(whole_group(*live_store, g), whole_group(*rebuilt, g));
    auto same_gifts = [](const GiftPage& x, const GiftPage& y) {
      if (x.entries.size() != y.entries.size()) return false;
      for (size_t i = 0; i < x.entries.size(); ++i) {
        const GiftEntry &p = x.entries[i], &q = y.entries[i];
        if (p.seq != q.seq || p.gift_id != q.gift_id || p.from_member_id != q.from_member_id ||
            p.to_member_id != q.to_member_id || p.amount != q.amount || p.time_us != q.time_us) {
          return false;
        }
      }
      return true;
    };
    for (uint64_t m : members) {
      for (GiftDirection d : {GiftDirection::sent, GiftDirection::received}) {
        GiftPage x, y;
        ASSERT_TRUE(live_store->gifts(m, d, 0, 1000, &x).ok());
        ASSERT_TRUE(rebuilt->gifts(m, d, 0, 1000, &y).ok());
        EXPECT_TRUE(same_gifts(x, y));
      }
      HistoryPage x, y;
      ASSERT_TRUE(live_store->member_history(m, asset_wallet, {}, 1000, &x).ok());
      ASSERT_TRUE(rebuilt->member_history(m, asset_wallet, {}, 1000, &y).ok());
      ASSERT_EQ(x.entries.size(), y.entries.size());
      for (size_t i = 0; i < x.entries.size(); ++i) {
        EXPECT_EQ(x.entries[i].seq, y.entries[i].seq);
        EXPECT_EQ(x.entries[i].balance_after, y.entries[i].balance_after);
      }
    }
    // Core's own view of every withdrawal: the store lists each exactly once,
    // under its current state.
    std::map<uint8_t, size_t> core_count;
    std::vector<Id128> distinct;
    for (const Id128& w : withdrawal_ids) {
      if (std::find(distinct.begin(), distinct.end(), w) != distinct.end()) continue;
      distinct.push_back(w);
      Command read = test::make_read(CommandKind::withdrawal_get, 0, w);
      read.seq = ++seq;
      read.time_us = time_us;
      std::vector<Effect> buffer(64);
      EffectSink sink(buffer);
      const Reply rep = ledger.apply(read, sink);
      if (rep.result == Result::ok) core_count[reply_data(rep).state]++;
    }
    EXPECT_GT(core_count[withdrawal_pending] + core_count[withdrawal_approved] +
                  core_count[withdrawal_rejected],
              0u);
    for (uint8_t st : {withdrawal_pending, withdrawal_approved, withdrawal_rejected}) {
      WithdrawalPage x, y;
      ASSERT_TRUE(live_store->withdrawals(st, 0, 1000, &x).ok());
      ASSERT_TRUE(rebuilt->withdrawals(st, 0, 1000, &y).ok());
      EXPECT_EQ(x.entries.size(), core_count[st]) << "state " << int(st);
      ASSERT_EQ(x.entries.size(), y.entries.size());
      for (size_t i = 0; i < x.entries.size(); ++i) {
        EXPECT_EQ(x.entries[i].withdrawal_id, y.entries[i].withdrawal_id);
        EXPECT_EQ(x.entries[i].seq, y.entries[i].seq);
        EXPECT_EQ(x.entries[i].amount, y.entries[i].amount);
        EXPECT_EQ(x.entries[i].member_id, y.entries[i].member_id);
      }
    }
  }
}

TEST(RecoveryTextsTest, MalformedPayloadIsCorruptionWithFileAndOffset) {
  TempDir tmp;
  MemoryFileSystem fs;
  const std::string dir = "/journal";
  {
    std::unique_ptr<Journal> journal;
    JournalOptions o;
    o.dir = dir;
    o.fs = &fs;
    o.writer_thread = false;
    o.log = [](const std::string&) {};
    o.segment_size_bytes = 64 * kKiB;
    o.record_payload_size_max = 16 * kKiB;
    JournalOpenReport report;
    Status js = Journal::open(o, &journal, &report);
    ASSERT_TRUE(js.ok()) << js.to_string();
    Command c = make_register(Id128{1, 1}, kAlice);
    c.seq = 1;
    c.time_us = 10;
    JournalRecord r;
    r.first_seq = 1;
    r.command_count = 1;
    r.time_first_us = r.time_last_us = 10;
    std::vector<CommandText> texts = {CommandText{0, key(1), 0, "abc"}};
    encode_batch_payload(std::span(&c, 1), texts, &r.payload);
    r.payload.push_back(std::byte{0});  // a trailing byte: framed and checksummed fine
    ASSERT_TRUE(journal->append_and_wait(std::move(r)).ok());
  }
  auto store = testing::open_store(tmp.sub("lmdb"), /*thread=*/false);
  Ledger ledger(test::Driver::small_config());
  RecoveryOptions ro;
  ro.journal_dir = dir;
  ro.fs = &fs;
  ro.log = [](const std::string&) {};
  RecoveryReport report;
  Status s = recover(ro, *store, ledger, &report);
  EXPECT_EQ(s.code(), StatusCode::corruption);
  EXPECT_NE(s.message().find("journal-"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("offset"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("trailing"), std::string::npos) << s.message();
  EXPECT_EQ(store->last_applied_seq(), 0u);
}

}  // namespace
}  // namespace coffer::storage
