// The server end to end in one process: client → server → sequencer → ledger
// → journal (in memory) → replies; durability before replies; journal
// failure; restart recovery.
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <random>
#include <thread>

#include "net/command_codec.h"
#include "tests/net/cofferd_harness.h"
#include "tests/net/test_client.h"

namespace coffer::testing {
namespace {

constexpr uint64_t t0_us = 1'700'000'000'000'000ull;
constexpr uint64_t member = 1;
constexpr uint64_t clearing = 2;

Id128 id(uint64_t n) {
  return Id128{n, 0xC0FFEE};
}

Reply lookup(client::Client& c, uint64_t account) {
  return c.call(make_lookup(account));
}

int64_t balance(client::Client& c, uint64_t account) {
  Reply r = lookup(c, account);
  EXPECT_EQ(r.result, Result::ok);
  return r.credits_posted - r.debits_posted;
}

void create_two_accounts(client::Client& c) {
  ASSERT_EQ(c.call(make_create_account(id(1), member, asset_wallet, AccountKind::member_wallet,
                                       account_flag_no_negative))
                .result,
            Result::ok);
  ASSERT_EQ(
      c.call(make_create_account(id(2), clearing, asset_wallet, AccountKind::channel_clearing))
          .result,
      Result::ok);
}

TEST(CofferdPipeline, EveryEngineCommandRoundTrips) {
  storage::MemoryFileSystem fs;
  net::ManualClock clock(t0_us);
  Node node;
  node.fs = &fs;
  node.clock = &clock;
  ASSERT_TRUE(node.start());
  auto c = node.connect();
  ASSERT_TRUE(c);

  create_two_accounts(*c);
  EXPECT_EQ(
      c->call(make_create_account(id(3), member, asset_wallet, AccountKind::member_wallet)).result,
      Result::account_exists);
  Reply r = c->call(make_transfer(id(4), clearing, member, 1000, asset_wallet));
  EXPECT_EQ(r.result, Result::ok);
  EXPECT_EQ(c->call(make_transfer(id(5), member, clearing, 5000, asset_wallet)).result,
            Result::insufficient_funds);

  // Hold, post part of it; hold, void it.
  EXPECT_EQ(c->call(make_hold(id(6), member, clearing, 300, asset_wallet, 60)).result, Result::ok);
  r = lookup(*c, member);
  EXPECT_EQ(r.debits_pending, 300);
  r = c->call(make_pending_op(CommandKind::post_pending, id(7), id(6), 100));
  EXPECT_EQ(r.result, Result::ok);
  EXPECT_EQ(r.amount, 100);
  EXPECT_EQ(c->call(make_hold(id(8), member, clearing, 200, asset_wallet, 60)).result, Result::ok);
  EXPECT_EQ(c->call(make_pending_op(CommandKind::void_pending, id(9), id(8))).result, Result::ok);
  EXPECT_EQ(lookup(*c, member).debits_pending, 0);

  // Grants: shrink one, cancel another, let the first mature on a tick.
  EXPECT_EQ(
      c->call(make_grant(id(10), clearing, member, 50, asset_wallet, t0_us + 1'000'000)).result,
      Result::ok);
  r = c->call(make_pending_op(CommandKind::shrink_grant, id(11), id(10), 10));
  EXPECT_EQ(r.result, Result::ok);
  EXPECT_EQ(r.amount, 40);
  EXPECT_EQ(
      c->call(make_grant(id(12), clearing, member, 70, asset_wallet, t0_us + 1'000'000)).result,
      Result::ok);
  EXPECT_EQ(c->call(make_pending_op(CommandKind::cancel_grant, id(13), id(12))).result, Result::ok);
  EXPECT_EQ(lookup(*c, member).credits_pending, 40);

  // Frozen accounts refuse transfers.
  EXPECT_EQ(c->call(make_set_frozen(id(14), member, true)).result, Result::ok);
  EXPECT_EQ(c->call(make_transfer(id(15), clearing, member, 1, asset_wallet)).result,
            Result::account_frozen);
  EXPECT_EQ(c->call(make_set_frozen(id(16), member, false)).result, Result::ok);

  clock.advance_us(2'000'000);
  EXPECT_EQ(c->call(make_tick()).result, Result::ok);
  r = lookup(*c, member);
  EXPECT_EQ(r.credits_pending, 0);
  EXPECT_EQ(r.credits_posted - r.debits_posted, 1000 - 100 + 40);
  EXPECT_EQ(r.kind, AccountKind::member_wallet);
  EXPECT_EQ(r.account_flags, account_flag_no_negative);
  EXPECT_EQ(lookup(*c, 99).result, Result::not_found);

  // A replay returns the first answer, flagged.
  r = c->call(make_transfer(id(4), clearing, member, 1000, asset_wallet));
  EXPECT_EQ(r.result, Result::ok);
  EXPECT_EQ(r.flags & reply_flag_replayed, reply_flag_replayed);
  EXPECT_EQ(balance(*c, member), 940);

  // Unknown kinds fail per command; the rest of the batch is served.
  Command unknown = make_transfer(id(17), clearing, member, 1, asset_wallet);
  unknown.kind = CommandKind(200);
  std::vector<Command> batch = {unknown, make_lookup(member)};
  client::SubmitResult sr = c->submit_sync(batch);
  ASSERT_EQ(sr.status, Result::ok);
  ASSERT_EQ(sr.replies.size(), 2u);
  EXPECT_EQ(sr.replies[0].result, Result::invalid_request);
  EXPECT_EQ(sr.replies[1].result, Result::ok);

  // Every command was stamped: seq strictly increasing, time from the clock.
  EXPECT_EQ(node.ledger->last_time_us(), t0_us + 2'000'000);
  EXPECT_GT(node.sequencer->stats().next_seq, 20u);
}

TEST(CofferdPipeline, MalformedBatchIsAnsweredNotFatal) {
  storage::MemoryFileSystem fs;
  Node node;
  node.fs = &fs;
  ASSERT_TRUE(node.start());
  net::testing::TestClient raw;
  ASSERT_TRUE(raw.connect(node.port));
  ASSERT_TRUE(raw.hello(test_token));
  ASSERT_TRUE(raw.send(net::encode_request_frame(1, net::testing::bytes_of("not a batch"))));
  net::Frame frame;
  ASSERT_EQ(raw.read_frame(frame), net::testing::ReadStatus::frame);
  ASSERT_EQ(frame.header.type, net::FrameType::reply);
  Result error = Result::ok;
  std::vector<Reply> replies;
  ASSERT_TRUE(net::decode_reply_batch(frame.body, &error, replies));
  EXPECT_EQ(error, Result::invalid_request);
  // The same connection still works.
  std::vector<Command> one = {make_lookup(5)};
  ASSERT_TRUE(raw.send(net::encode_request_frame(2, net::encode_command_batch(one))));
  ASSERT_EQ(raw.read_frame(frame), net::testing::ReadStatus::frame);
  ASSERT_TRUE(net::decode_reply_batch(frame.body, &error, replies));
  EXPECT_EQ(error, Result::ok);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].result, Result::not_found);
}

TEST(CofferdPipeline, NoReplyBeforeTheJournalSyncCompletes) {
  storage::MemoryFileSystem fs;
  SyncGate gate(fs);
  Node node;
  node.fs = &fs;
  ASSERT_TRUE(node.start());
  auto c = node.connect();
  create_two_accounts(*c);

  gate.close();
  Command t1 = make_transfer(id(20), clearing, member, 10, asset_wallet);
  auto first = c->submit(std::span<const Command>(&t1, 1));
  ASSERT_TRUE(gate.wait_blocked());
  // Pipelining: while the first record syncs, the core thread applies the next.
  const uint64_t applied_before = node.sequencer->stats().commands;
  Command t2 = make_transfer(id(21), clearing, member, 5, asset_wallet);
  auto second = c->submit(std::span<const Command>(&t2, 1));
  for (int i = 0; i < 500 && node.sequencer->stats().commands == applied_before; i++)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(node.sequencer->stats().commands, applied_before + 1);
  EXPECT_EQ(node.sequencer->stats().records_durable + 2, node.sequencer->stats().records_submitted);

  EXPECT_EQ(first.wait_for(std::chrono::milliseconds(200)), std::future_status::timeout);
  EXPECT_EQ(second.wait_for(std::chrono::milliseconds(0)), std::future_status::timeout);
  gate.open();
  client::SubmitResult r1 = first.get();
  client::SubmitResult r2 = second.get();
  ASSERT_EQ(r1.status, Result::ok);
  ASSERT_EQ(r2.status, Result::ok);
  EXPECT_EQ(r1.replies.at(0).result, Result::ok);
  EXPECT_EQ(r2.replies.at(0).result, Result::ok);
  EXPECT_EQ(balance(*c, member), 15);
}

TEST(CofferdPipeline, ReadOnlyBatchesSkipTheJournalButWaitForEarlierRecords) {
  storage::MemoryFileSystem fs;
  SyncGate gate(fs);
  Node node;
  node.fs = &fs;
  ASSERT_TRUE(node.start());
  auto c = node.connect();
  create_two_accounts(*c);
  const uint64_t records = node.sequencer->stats().records_submitted;
  const uint64_t next_seq = node.sequencer->stats().next_seq;
  EXPECT_EQ(balance(*c, member), 0);
  std::vector<Command> reads = {make_lookup(member), make_lookup(clearing), make_lookup(77)};
  client::SubmitResult r = c->submit_sync(reads);
  ASSERT_EQ(r.status, Result::ok);
  EXPECT_EQ(r.replies.at(2).result, Result::not_found);
  EXPECT_EQ(node.sequencer->stats().records_submitted, records);  // nothing journaled
  EXPECT_EQ(node.sequencer->stats().next_seq, next_seq);          // no seq taken

  // A read behind a record that is not yet durable waits for it, and sees it.
  gate.close();
  Command t = make_transfer(id(50), clearing, member, 25, asset_wallet);
  auto write = c->submit(std::span<const Command>(&t, 1));
  ASSERT_TRUE(gate.wait_blocked());
  // A second connection, so the server's per-connection order is not what holds it.
  auto other = node.connect();
  Command l = make_lookup(member);
  auto read = other->submit(std::span<const Command>(&l, 1));
  EXPECT_EQ(read.wait_for(std::chrono::milliseconds(200)), std::future_status::timeout);
  gate.open();
  EXPECT_EQ(write.get().status, Result::ok);
  r = read.get();
  ASSERT_EQ(r.status, Result::ok);
  EXPECT_EQ(r.replies.at(0).credits_posted, 25);
}

TEST(CofferdPipeline, EffectsReachTheStoreFeedOnlyWhenDurableInOrder) {
  storage::MemoryFileSystem fs;
  SyncGate gate(fs);
  std::mutex mu;
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  std::vector<Effect> effects;
  Node node;
  node.fs = &fs;
  node.on_durable_effects = [&](uint64_t first, uint64_t last, std::vector<Effect> e,
                                std::vector<storage::StoredText>) {
    std::lock_guard lock(mu);
    ranges.emplace_back(first, last);
    effects.insert(effects.end(), e.begin(), e.end());
  };
  ASSERT_TRUE(node.start());
  auto c = node.connect();
  create_two_accounts(*c);
  ASSERT_EQ(c->call(make_transfer(id(60), clearing, member, 8, asset_wallet)).result, Result::ok);
  EXPECT_EQ(balance(*c, member), 8);  // a read: no record, no effects
  {
    std::lock_guard lock(mu);
    ASSERT_EQ(ranges.size(), 3u);
    for (size_t i = 0; i < ranges.size(); i++) {
      EXPECT_EQ(ranges[i].first, i + 1);
      EXPECT_EQ(ranges[i].second, i + 1);
    }
    // 2 x account_created, then transfer_posted + 2 x balance_changed.
    ASSERT_EQ(effects.size(), 5u);
    EXPECT_EQ(effects[0].kind, EffectKind::account_created);
    EXPECT_EQ(effects[2].kind, EffectKind::transfer_posted);
    EXPECT_EQ(effects[2].seq, 3u);
    EXPECT_EQ(effects[4].kind, EffectKind::balance_changed);
  }
  // A record that never becomes durable feeds nothing.
  gate.fail_syncs();
  EXPECT_EQ(
      c->submit_sync(std::vector<Command>{make_transfer(id(61), clearing, member, 1, asset_wallet)})
          .status,
      Result::storage_error);
  std::lock_guard lock(mu);
  EXPECT_EQ(ranges.size(), 3u);
  EXPECT_EQ(effects.size(), 5u);
}

TEST(CofferdPipeline, JournalFailureRefusesEverythingAndStateMatchesDisk) {
  storage::MemoryFileSystem fs;
  SyncGate gate(fs);
  auto node = std::make_unique<Node>();
  node->fs = &fs;
  ASSERT_TRUE(node->start());
  auto c = node->connect();
  create_two_accounts(*c);
  ASSERT_EQ(c->call(make_transfer(id(30), clearing, member, 100, asset_wallet)).result, Result::ok);

  gate.fail_syncs();
  client::SubmitResult failed = c->submit_sync(
      std::vector<Command>{make_transfer(id(31), clearing, member, 7, asset_wallet)});
  EXPECT_EQ(failed.status, Result::storage_error);
  // Every later write and read is refused until restart.
  EXPECT_EQ(c->call(make_transfer(id(32), clearing, member, 9, asset_wallet)).result,
            Result::storage_error);
  EXPECT_EQ(lookup(*c, member).result, Result::storage_error);
  EXPECT_TRUE(node->sequencer->stats().journal_failed);
  const uint64_t applied = node->sequencer->stats().commands;
  EXPECT_EQ(c->call(make_transfer(id(33), clearing, member, 11, asset_wallet)).result,
            Result::storage_error);
  EXPECT_EQ(node->sequencer->stats().commands, applied);  // nothing more applied
  c.reset();
  node->stop();

  // Power loss keeps only what was synced; restart rebuilds exactly that.
  fs.set_fault_hook(nullptr);
  fs.crash();
  node = std::make_unique<Node>();
  node->fs = &fs;
  ASSERT_TRUE(node->start());
  c = node->connect();
  EXPECT_EQ(balance(*c, member), 100);
  // The refused command, retried with its id, now applies once.
  EXPECT_EQ(c->call(make_transfer(id(31), clearing, member, 7, asset_wallet)).result, Result::ok);
  EXPECT_EQ(balance(*c, member), 107);
}

TEST(CofferdPipeline, RestartReplaysToTheSameState) {
  storage::MemoryFileSystem fs;
  net::ManualClock clock(t0_us);
  auto node = std::make_unique<Node>();
  node->fs = &fs;
  node->clock = &clock;
  ASSERT_TRUE(node->start());
  auto c = node->connect();
  constexpr uint64_t accounts = 8;
  for (uint64_t a = 1; a <= accounts; a++) {
    ASSERT_EQ(c->call(make_create_account(
                          id(1000 + a), a, asset_wallet,
                          a == 1 ? AccountKind::channel_clearing : AccountKind::member_wallet,
                          a == 1 ? 0 : account_flag_no_negative))
                  .result,
              Result::ok);
  }
  std::mt19937_64 rng(42);
  uint64_t next_id = 2000;
  std::vector<Id128> holds;
  for (int round = 0; round < 50; round++) {
    std::vector<Command> batch;
    for (int i = 0; i < 40; i++) {
      const uint64_t from = 1 + rng() % accounts, to = 1 + rng() % accounts;
      const int64_t amount = 1 + int64_t(rng() % 100);
      switch (rng() % 4) {
        case 0:
          batch.push_back(make_hold(id(next_id), from, to, amount, asset_wallet, 1 + rng() % 3));
          holds.push_back(id(next_id));
          break;
        case 1:
          if (!holds.empty()) {
            batch.push_back(make_pending_op(CommandKind::post_pending, id(next_id),
                                            holds[rng() % holds.size()]));
            break;
          }
          [[fallthrough]];
        default:
          batch.push_back(
              make_transfer(id(next_id), rng() % 2 ? 1 : from, to, amount, asset_wallet));
      }
      next_id++;
    }
    ASSERT_EQ(c->submit_sync(batch).status, Result::ok);
    clock.advance_us(500'000);
    if (round % 5 == 0) {
      ASSERT_EQ(c->call(make_tick()).result, Result::ok);
    }
  }
  const uint64_t hash = node->ledger->state_hash();
  const uint64_t last_seq = node->ledger->last_seq();
  std::vector<Reply> before;
  for (uint64_t a = 1; a <= accounts; a++)
    before.push_back(lookup(*c, a));
  c.reset();
  node->stop();

  node = std::make_unique<Node>();
  node->fs = &fs;
  node->clock = &clock;
  ASSERT_TRUE(node->start());
  // Lookup-only batches take no seq and are not journaled.
  EXPECT_EQ(node->ledger->last_seq(), last_seq);
  EXPECT_EQ(node->ledger->state_hash(), hash);
  c = node->connect();
  for (uint64_t a = 1; a <= accounts; a++) {
    Reply r = lookup(*c, a);
    EXPECT_EQ(r.credits_posted, before[a - 1].credits_posted) << a;
    EXPECT_EQ(r.debits_posted, before[a - 1].debits_posted) << a;
    EXPECT_EQ(r.debits_pending, before[a - 1].debits_pending) << a;
  }
  // Numbering resumes after the journal.
  EXPECT_EQ(node->sequencer->stats().next_seq, last_seq + 1);
  ASSERT_EQ(c->call(make_tick()).result, Result::ok);
  EXPECT_EQ(node->ledger->last_seq(), last_seq + 1);
}

TEST(CofferdPipeline, PeriodicTicksExpireHoldsWhileAnyIsOpen) {
  storage::MemoryFileSystem fs;
  net::ManualClock clock(t0_us);
  Node node;
  node.fs = &fs;
  node.clock = &clock;
  node.tick_interval_ms = 100;
  ASSERT_TRUE(node.start());
  auto c = node.connect();
  create_two_accounts(*c);
  ASSERT_EQ(c->call(make_transfer(id(40), clearing, member, 100, asset_wallet)).result, Result::ok);
  EXPECT_EQ(node.sequencer->stats().ticks, 0u);  // nothing open: no ticks
  ASSERT_EQ(c->call(make_hold(id(41), member, clearing, 60, asset_wallet, 1)).result, Result::ok);
  clock.advance_us(2'000'000);
  // The core thread wakes on its own and ticks; the hold expires.
  for (int i = 0; i < 500 && lookup(*c, member).debits_pending != 0; i++)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(lookup(*c, member).debits_pending, 0);
  EXPECT_GE(node.sequencer->stats().ticks, 1u);
  EXPECT_EQ(balance(*c, member), 100);
}

}  // namespace
}  // namespace coffer::testing
