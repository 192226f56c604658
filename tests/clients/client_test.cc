// The client library against a real in-process server: coalescing of
// concurrent calls, call limits, reconnect and retry, a server that is down.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <future>
#include <mutex>
#include <thread>

#include "tests/net/cofferd_harness.h"

namespace coffer::testing {
namespace {

Id128 id(uint64_t n) {
  return Id128{n, 0xC11E};
}

void create_accounts(client::Client& c) {
  ASSERT_EQ(
      c.call(make_create_account(id(1), 1, asset_wallet, AccountKind::channel_clearing)).result,
      Result::ok);
  ASSERT_EQ(c.call(make_create_account(id(2), 2, asset_wallet, AccountKind::member_wallet)).result,
            Result::ok);
}

TEST(Client, CallsMadeWhileAFrameIsInFlightLeaveTogether) {
  storage::MemoryFileSystem fs;
  SyncGate gate(fs);
  Node node;
  node.fs = &fs;
  ASSERT_TRUE(node.start());
  auto c = node.connect(/*in_flight_frames_max=*/1);
  ASSERT_EQ(c->in_flight_frames_max(), 1u);
  create_accounts(*c);
  const uint64_t frames_before = c->metrics().frames_sent;

  gate.close();
  Command first = make_transfer(id(100), 1, 2, 1, asset_wallet);
  auto f0 = c->submit(std::span<const Command>(&first, 1));
  ASSERT_TRUE(gate.wait_blocked());
  // 4 threads x 50 calls while the first frame waits for its sync.
  std::vector<std::future<client::SubmitResult>> futures[4];
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; t++) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; i++) {
        Command cmd =
            make_transfer(id(1000 + uint64_t(t) * 100 + uint64_t(i)), 1, 2, 1, asset_wallet);
        futures[t].push_back(c->submit(std::span<const Command>(&cmd, 1)));
      }
    });
  }
  for (auto& t : threads)
    t.join();
  gate.open();
  ASSERT_EQ(f0.get().replies.at(0).result, Result::ok);
  for (auto& v : futures)
    for (auto& f : v) {
      client::SubmitResult r = f.get();
      ASSERT_EQ(r.status, Result::ok);
      ASSERT_EQ(r.replies.size(), 1u);
      EXPECT_EQ(r.replies[0].result, Result::ok);
    }
  // The first frame, then all 200 calls in one.
  EXPECT_EQ(c->metrics().frames_sent - frames_before, 2u);
  Reply b = c->call(make_lookup(2));
  EXPECT_EQ(b.credits_posted, 201);
}

TEST(Client, ManyThreadsSyncCallsAllAnsweredInOrderPerCall) {
  storage::MemoryFileSystem fs;
  Node node;
  node.fs = &fs;
  ASSERT_TRUE(node.start());
  auto c = node.connect();
  create_accounts(*c);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; t++) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 100; i++) {
        // Each call: a transfer then a lookup of the same account, so the
        // reply pairs must line up with their own call.
        const uint64_t n = 5000 + uint64_t(t) * 1000 + uint64_t(i);
        std::vector<Command> call = {make_transfer(id(n), 1, 2, int64_t(t + 1), asset_wallet),
                                     make_lookup(2)};
        client::SubmitResult r = c->submit_sync(call);
        if (r.status != Result::ok || r.replies.size() != 2 || r.replies[0].result != Result::ok ||
            r.replies[0].amount != int64_t(t + 1) || r.replies[1].result != Result::ok)
          failures++;
      }
    });
  }
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(c->call(make_lookup(2)).credits_posted, 100 * (1 + 2 + 3 + 4 + 5 + 6 + 7 + 8));
  EXPECT_LE(c->metrics().frames_sent, c->metrics().calls);
}

TEST(Client, BadCallsFailAtOnce) {
  storage::MemoryFileSystem fs;
  Node node;
  node.fs = &fs;
  ASSERT_TRUE(node.start());
  auto c = node.connect();
  EXPECT_EQ(c->submit_sync(std::vector<Command>{}).status, Result::invalid_request);
  std::vector<Command> too_many(c->batch_size_max() + 1, make_tick());
  EXPECT_EQ(c->submit_sync(too_many).status, Result::invalid_request);
}

TEST(Client, WrongTokenAndNoServer) {
  storage::MemoryFileSystem fs;
  Node node;
  node.fs = &fs;
  ASSERT_TRUE(node.start());
  client::ClientOptions o;
  o.port = node.port;
  o.token = "wrong";
  std::unique_ptr<client::Client> c;
  client::ConnectStatus st = client::Client::connect(o, &c);
  EXPECT_EQ(st.result, Result::unauthenticated) << st.message;
  const uint16_t port = node.port;
  node.stop();
  o.token = test_token;
  st = client::Client::connect(o, &c);
  EXPECT_EQ(st.result, Result::unavailable);
  EXPECT_FALSE(st.message.empty());
  (void)port;
}

// A TCP proxy the test can cut: every connection it carries is closed at
// once, as when a network path fails, while the server stays up.
class CuttableProxy {
 public:
  explicit CuttableProxy(uint16_t target_port) : target_port_(target_port) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(listen_fd_, 16);
    socklen_t len = sizeof addr;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  ~CuttableProxy() {
    stopping_ = true;
    ::shutdown(listen_fd_, SHUT_RDWR);
    acceptor_.join();
    cut();
    for (auto& t : pumps_)
      t.join();
    for (int fd : fds_)
      ::close(fd);
    ::close(listen_fd_);
  }
  uint16_t port() const { return port_; }
  int connections() const { return connections_.load(); }
  void cut() {
    std::lock_guard lock(mu_);
    for (int fd : fds_)
      ::shutdown(fd, SHUT_RDWR);
  }

 private:
  void accept_loop() {
    while (!stopping_) {
      int client = ::accept(listen_fd_, nullptr, nullptr);
      if (client < 0) return;
      int server = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_port = htons(target_port_);
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      if (::connect(server, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(client);
        ::close(server);
        continue;
      }
      connections_++;
      std::lock_guard lock(mu_);
      fds_.push_back(client);
      fds_.push_back(server);
      pumps_.emplace_back([client, server] { pump(client, server); });
      pumps_.emplace_back([client, server] { pump(server, client); });
    }
  }
  static void pump(int from, int to) {
    char buf[65536];
    while (true) {
      ssize_t n = ::recv(from, buf, sizeof buf, 0);
      if (n <= 0) break;
      if (::send(to, buf, size_t(n), MSG_NOSIGNAL) != n) break;
    }
    ::shutdown(from, SHUT_RDWR);
    ::shutdown(to, SHUT_RDWR);
  }

  uint16_t target_port_;
  uint16_t port_ = 0;
  int listen_fd_ = -1;
  std::atomic<bool> stopping_{false};
  std::atomic<int> connections_{0};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<int> fds_;  // closed by the destructor, after the pumps stop
  std::vector<std::thread> pumps_;
};

TEST(Client, CallsInFlightWhenTheConnectionDropsAreRetriedOnce) {
  storage::MemoryFileSystem fs;
  SyncGate gate(fs);
  Node node;
  node.fs = &fs;
  ASSERT_TRUE(node.start());
  CuttableProxy proxy(node.port);
  client::ClientOptions o;
  o.port = proxy.port();
  o.token = test_token;
  o.reconnect_backoff_ms = 10;
  std::unique_ptr<client::Client> c;
  ASSERT_TRUE(client::Client::connect(o, &c).ok());
  create_accounts(*c);

  gate.close();
  Command t = make_transfer(id(70), 1, 2, 9, asset_wallet);
  auto in_flight = c->submit(std::span<const Command>(&t, 1));
  ASSERT_TRUE(gate.wait_blocked());  // applied, its record syncing, no reply yet
  proxy.cut();                       // the reply will have nowhere to go
  // The client reconnects and sends the call again; it waits behind the sync.
  for (int i = 0; i < 500 && c->metrics().calls_retried == 0; i++)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(c->metrics().calls_retried, 1u);
  gate.open();
  client::SubmitResult r = in_flight.get();
  ASSERT_EQ(r.status, Result::ok);
  EXPECT_EQ(r.replies.at(0).result, Result::ok);
  // Applied once: the retry was recognised as a replay of the same id.
  EXPECT_EQ(r.replies.at(0).flags & reply_flag_replayed, reply_flag_replayed);
  EXPECT_EQ(c->call(make_lookup(2)).credits_posted, 9);
  EXPECT_GE(proxy.connections(), 2);
}

// A node the test stops and starts again on the same port and files, and a
// client of it with accounts 1 and 2.
struct RestartedNode {
  storage::MemoryFileSystem fs;
  std::unique_ptr<Node> node;
  std::unique_ptr<client::Client> client;
  client::ClientOptions options;

  // false (with a gtest failure) when the first start or connect fails.
  bool start(uint32_t attempts_max, uint32_t backoff_ms) {
    node = std::make_unique<Node>();
    node->fs = &fs;
    if (!node->start()) return false;
    options.port = node->port;
    options.token = test_token;
    options.reconnect_attempts_max = attempts_max;
    options.reconnect_backoff_ms = backoff_ms;
    if (!client::Client::connect(options, &client).ok()) return false;
    create_accounts(*client);
    return true;
  }
  // Stops the server; the next start_again() serves the same port and files.
  void stop() {
    const uint16_t port = node->port;
    node->stop();
    node = std::make_unique<Node>();
    node->fs = &fs;
    node->port = port;
  }
  bool start_again() { return node->start(); }
};

TEST(Client, ReconnectsAfterServerRestartAndRetriesIdempotentCalls) {
  RestartedNode n;
  ASSERT_TRUE(n.start(50, 20));
  client::Client* c = n.client.get();
  const client::ClientOptions o = n.options;
  ASSERT_EQ(c->call(make_transfer(id(10), 1, 2, 5, asset_wallet)).result, Result::ok);

  n.stop();  // the client's connection gets UNAVAILABLE and closes
  // Submitted while the server is down: retried until it is back.
  Command t = make_transfer(id(11), 1, 2, 7, asset_wallet);
  auto pending = c->submit(std::span<const Command>(&t, 1));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_TRUE(n.start_again());
  client::SubmitResult r = pending.get();
  ASSERT_EQ(r.status, Result::ok);
  EXPECT_EQ(r.replies.at(0).result, Result::ok);
  EXPECT_EQ(c->call(make_lookup(2)).credits_posted, 12);
  EXPECT_GE(c->metrics().reconnects, 1u);

  // Down for good: bounded attempts, then UNAVAILABLE.
  client::ClientOptions quick = o;
  quick.reconnect_attempts_max = 2;
  std::unique_ptr<client::Client> c2;
  ASSERT_TRUE(client::Client::connect(quick, &c2).ok());
  n.node->stop();
  EXPECT_EQ(c2->call(make_lookup(2)).result, Result::unavailable);
  std::unique_ptr<client::Client> c3;
  EXPECT_EQ(client::Client::connect(quick, &c3).result, Result::unavailable);
}

// A call queued while a reconnect cycle is failing is not failed with that cycle:
// it gets a cycle of its own, and succeeds when the ledger is back by then.
TEST(Client, ACallQueuedDuringAFailingCycleWaitsForTheNextCycle) {
  // A cycle: dials at 0, 0.1, 0.3, 0.7, 1.5, 3.1, 5.1, 7.1 s, gives up at ~9.1 s: the
  // second cycle leaves the server 7 s to start (ASan, a busy machine).
  RestartedNode n;
  ASSERT_TRUE(n.start(8, 100));
  client::Client* c = n.client.get();
  n.stop();

  // A starts a cycle that fails (nothing listens); B comes during it. The
  // server starts only once A has failed, i.e. after the first cycle ended.
  std::promise<void> a_failed;
  std::atomic<int> a_status{-1};
  Command a = make_transfer(id(20), 1, 2, 3, asset_wallet);
  c->submit(std::span<const Command>(&a, 1), [&](client::SubmitResult r) {
    a_status = static_cast<int>(r.status);
    a_failed.set_value();
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  Command b = make_transfer(id(21), 1, 2, 4, asset_wallet);
  auto pending_b = c->submit(std::span<const Command>(&b, 1));
  a_failed.get_future().wait();
  EXPECT_EQ(a_status.load(), static_cast<int>(Result::unavailable));
  ASSERT_TRUE(n.start_again());
  client::SubmitResult rb = pending_b.get();
  ASSERT_EQ(rb.status, Result::ok);
  EXPECT_EQ(rb.replies.at(0).result, Result::ok);
  EXPECT_EQ(c->call(make_lookup(2)).credits_posted, 4);
}

}  // namespace
}  // namespace coffer::testing
