// LedgerLink's defaults coalesce concurrent calls into few frames: while the
// journal holds the first frames (a blocked sync), the gateway's next calls
// wait in the client and leave together, so cofferd reads a handful of frames
// for hundreds of HTTP requests instead of one frame each.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <thread>
#include <vector>

#include "gateway/ledger_link.h"
#include "tests/net/cofferd_harness.h"

namespace coffer::testing {
namespace {

Id128 id(uint64_t n) {
  return Id128{n, 0x11CC};
}

std::future<client::SubmitResult> submit(gateway::LedgerLink& link, const Command& c) {
  auto p = std::make_shared<std::promise<client::SubmitResult>>();
  auto f = p->get_future();
  link.submit({c}, [p](client::SubmitResult r) { p->set_value(std::move(r)); });
  return f;
}

// Accounts 1 (clearing) and 2 (a member wallet).
void create_accounts(gateway::LedgerLink& link) {
  ASSERT_EQ(submit(link, make_create_account(id(1), 1, asset_wallet, AccountKind::channel_clearing))
                .get()
                .status,
            Result::ok);
  ASSERT_EQ(submit(link, make_create_account(id(2), 2, asset_wallet, AccountKind::member_wallet))
                .get()
                .status,
            Result::ok);
}

TEST(LedgerLink, ConcurrentCallsShareFrames) {
  storage::MemoryFileSystem fs;
  SyncGate gate(fs);
  Node node;
  node.fs = &fs;
  ASSERT_TRUE(node.start());
  gateway::LedgerLinkOptions o;  // the defaults under test
  o.port = node.port;
  o.token = test_token;
  gateway::Metrics metrics;
  gateway::LedgerLink link(o, &metrics);

  auto call = [&](Command c) { return submit(link, c); };
  create_accounts(link);
  const uint64_t frames_before = node.server->metrics().frames_in;

  gate.close();
  std::vector<std::future<client::SubmitResult>> futures;
  futures.push_back(call(make_transfer(id(100), 1, 2, 1, asset_wallet)));
  ASSERT_TRUE(gate.wait_blocked());
  constexpr int calls = 400;  // as many HTTP requests waiting at once
  for (int i = 0; i < calls; i++)
    futures.push_back(call(make_transfer(id(1000 + uint64_t(i)), 1, 2, 1, asset_wallet)));
  gate.open();
  int ok = 0;
  for (auto& f : futures) {
    ASSERT_EQ(f.wait_for(std::chrono::seconds(20)), std::future_status::ready);
    auto r = f.get();
    if (r.status == Result::ok && r.replies.size() == 1 && r.replies[0].result == Result::ok) ok++;
  }
  EXPECT_EQ(ok, calls + 1);
  // The first frame, the few more the in-flight limit lets out meanwhile,
  // then the rest together. One frame per call (the server's limit of 64 in
  // flight on each of two connections) would be over a hundred.
  const uint64_t frames = node.server->metrics().frames_in - frames_before;
  EXPECT_LE(frames, 2u * o.connections * o.in_flight_frames_max + 2) << frames << " frames";
  EXPECT_GE(frames, 2u);

  auto looked = call(make_lookup(2)).get();
  ASSERT_EQ(looked.status, Result::ok);
  ASSERT_EQ(looked.replies.size(), 1u);
  EXPECT_EQ(looked.replies[0].credits_posted - looked.replies[0].debits_posted, calls + 1);
}

// A call made while a connection's reconnect cycle is failing waits for the
// next cycle, even when another call fails with the first: the link keeps the
// connection (and the call waiting in it) instead of dropping it.
TEST(LedgerLink, ACallWaitingDuringAnOutageIsAnsweredOnceTheLedgerIsBack) {
  storage::MemoryFileSystem fs;
  auto node = std::make_unique<Node>();
  node->fs = &fs;
  ASSERT_TRUE(node->start());
  const uint16_t port = node->port;
  gateway::LedgerLinkOptions o;
  o.port = port;
  o.token = test_token;
  o.connections = 1;  // both calls in the one connection
  // A cycle: dials at 0, 0.1, 0.3, 0.7, 1.5, 3.1, 5.1, 7.1 s, gives up at ~9.1 s: the
  // second cycle leaves the server 7 s to start (ASan, a busy machine).
  o.reconnect_attempts_max = 8;
  gateway::LedgerLink link(o, nullptr);
  auto call = [&](Command c) { return submit(link, c); };
  create_accounts(link);
  node->stop();
  node = std::make_unique<Node>();
  node->fs = &fs;
  node->port = port;

  // A's cycle fails (nothing listens: the server starts only after A failed);
  // B comes during that cycle.
  auto a = call(make_transfer(id(10), 1, 2, 3, asset_wallet));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto b = call(make_transfer(id(11), 1, 2, 4, asset_wallet));
  EXPECT_EQ(a.get().status, Result::unavailable);
  ASSERT_TRUE(node->start());
  ASSERT_EQ(b.wait_for(std::chrono::seconds(20)), std::future_status::ready);
  const client::SubmitResult rb = b.get();
  ASSERT_EQ(rb.status, Result::ok);
  EXPECT_EQ(rb.replies.at(0).result, Result::ok);
  // And the link goes on serving through the same connection.
  const client::SubmitResult rc = call(make_lookup(2)).get();
  ASSERT_EQ(rc.status, Result::ok);
  EXPECT_EQ(rc.replies.at(0).credits_posted, 4);
}

}  // namespace
}  // namespace coffer::testing
