// The client wakes its sender only when the sender can act (clients/client.cc,
// enqueue and the reader). A lost wake-up would leave calls queued forever:
// here many threads call while few frames may be in flight, and every call
// must complete, in frames that carry many calls each.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>
#include <vector>

#include "tests/net/cofferd_harness.h"

namespace coffer::testing {
namespace {

Id128 id(uint64_t n) {
  return Id128{n, 0x3A4E};
}

class ClientWakeup : public ::testing::TestWithParam<uint32_t> {};

TEST_P(ClientWakeup, EveryCallCompletesUnderConcurrentLoad) {
  const uint32_t in_flight = GetParam();
  storage::MemoryFileSystem fs;
  Node node;
  node.fs = &fs;
  ASSERT_TRUE(node.start());
  auto c = node.connect(in_flight);
  ASSERT_EQ(c->in_flight_frames_max(), in_flight);
  ASSERT_EQ(
      c->call(make_create_account(id(1), 1, asset_wallet, AccountKind::channel_clearing)).result,
      Result::ok);
  ASSERT_EQ(c->call(make_create_account(id(2), 2, asset_wallet, AccountKind::member_wallet)).result,
            Result::ok);
  const uint64_t frames_before = c->metrics().frames_sent;

  constexpr int threads_count = 4;
  constexpr int calls_per_thread = 2'000;
  // Each thread keeps a window of calls open (like HTTP connections waiting
  // for their answers) and refills it as answers arrive, so that calls are
  // made while frames are in flight and while replies are being read.
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < threads_count; t++) {
    threads.emplace_back([&, t] {
      std::vector<std::future<client::SubmitResult>> window;
      for (int i = 0; i < calls_per_thread; i++) {
        Command cmd = make_transfer(id(1'000'000 + uint64_t(t) * calls_per_thread + uint64_t(i)), 1,
                                    2, 1, asset_wallet);
        window.push_back(c->submit(std::span<const Command>(&cmd, 1)));
        if (window.size() == 32 || i + 1 == calls_per_thread) {
          for (auto& f : window) {
            // A lost wake-up shows as a call that never completes.
            ASSERT_EQ(f.wait_for(std::chrono::seconds(20)), std::future_status::ready);
            auto r = f.get();
            if (r.status == Result::ok && r.replies.size() == 1 &&
                r.replies[0].result == Result::ok)
              ok++;
          }
          window.clear();
        }
      }
    });
  }
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(ok.load(), threads_count * calls_per_thread);
  const uint64_t frames = c->metrics().frames_sent - frames_before;
  EXPECT_GE(frames, 1u);
  EXPECT_LE(frames, uint64_t(threads_count) * calls_per_thread);
  // The balance proves every transfer applied once.
  Reply r = c->call(make_lookup(2));
  ASSERT_EQ(r.result, Result::ok);
  EXPECT_EQ(r.credits_posted - r.debits_posted, int64_t(threads_count) * calls_per_thread);
}

INSTANTIATE_TEST_SUITE_P(InFlight, ClientWakeup, ::testing::Values(1u, 2u, 4u, 64u));

}  // namespace
}  // namespace coffer::testing
