// The cofferd binary as an operator runs it: a subprocess with a temp --data
// dir and a free port. Ready line, kill -9 and restart (every acknowledged
// command survives), bad flags, a second server on the same data dir, SIGTERM.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "clients/client.h"

namespace coffer::testing {
namespace {

namespace fs = std::filesystem;

uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

struct TempDir {
  fs::path path;
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "cofferd-test-XXXXXX").string();
    path = ::mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

// One cofferd subprocess; stderr collected through a pipe.
struct Process {
  pid_t pid = -1;
  int err_fd = -1;
  std::string err;

  bool spawn(const std::vector<std::string>& args) {
    int fds[2];
    if (::pipe(fds) != 0) return false;
    pid = ::fork();
    if (pid == 0) {
      ::dup2(fds[1], 2);
      ::close(fds[0]);
      ::close(fds[1]);
      std::vector<char*> argv;
      std::string path = COFFERD_PATH;
      argv.push_back(path.data());
      std::vector<std::string> copy = args;
      for (auto& a : copy)
        argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(path.c_str(), argv.data());
      ::_exit(127);
    }
    ::close(fds[1]);
    err_fd = fds[0];
    return pid > 0;
  }

  // Reads stderr until `needle` appears, the process closes it, or timeout.
  bool wait_for(const std::string& needle, int timeout_ms = 20'000) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (err.find(needle) == std::string::npos) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                      deadline - std::chrono::steady_clock::now())
                      .count();
      if (left <= 0) return false;
      pollfd p{err_fd, POLLIN, 0};
      if (::poll(&p, 1, int(left)) != 1) return false;
      char buf[4096];
      ssize_t n = ::read(err_fd, buf, sizeof buf);
      if (n <= 0) return err.find(needle) != std::string::npos;
      err.append(buf, size_t(n));
    }
    return true;
  }

  // After exit: the rest of stderr, up to EOF.
  void drain() {
    char buf[4096];
    ssize_t n;
    while ((n = ::read(err_fd, buf, sizeof buf)) > 0)
      err.append(buf, size_t(n));
  }

  // Exit status (or 128 + signal); -1 on timeout.
  int wait_exit(int timeout_ms = 20'000) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      pid_t r = ::waitpid(pid, &status, WNOHANG);
      if (r == pid) {
        drain();
        pid = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return -1;
  }

  void kill9() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      wait_exit();
    }
  }

  ~Process() {
    kill9();
    if (err_fd >= 0) ::close(err_fd);
  }
};

std::string first_line(const fs::path& p) {
  std::ifstream in(p);
  std::string line;
  std::getline(in, line);
  return line;
}

std::unique_ptr<client::Client> connect(uint16_t port, const std::string& token) {
  client::ClientOptions o;
  o.port = port;
  o.token = token;
  o.reconnect_attempts_max = 1;
  std::unique_ptr<client::Client> c;
  client::ConnectStatus st = client::Client::connect(o, &c);
  EXPECT_TRUE(st.ok()) << st.message;
  return c;
}

Id128 tid(uint64_t n) {
  return Id128{n, 0x7E57};
}

// The crash test: a random workload of transfers among several accounts, sent
// in batches by a driver thread while the server is killed with SIGKILL at a
// random moment, 20 times (60 with COFFER_SOAK=1). After each restart every
// acknowledged command is there (a replay says so); at the end, resubmitting
// everything applies each transfer exactly once, so every balance equals the
// reference sum over all submitted transfers and the asset sums to zero. The
// seed is printed and can be chosen with COFFER_SEED.
TEST(CofferdProcess, KillNineKeepsEveryAcknowledgedCommand) {
  TempDir dir;
  const int cycles = std::getenv("COFFER_SOAK") != nullptr ? 60 : 20;
  const uint64_t seed = std::getenv("COFFER_SEED") != nullptr
                            ? std::strtoull(std::getenv("COFFER_SEED"), nullptr, 10)
                            : uint64_t(std::random_device{}());
  SCOPED_TRACE("COFFER_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  const uint16_t port = free_port();
  const std::vector<std::string> args = {"--data", dir.path.string(), "--listen",
                                         "127.0.0.1:" + std::to_string(port)};
  // System accounts may go negative, so every transfer succeeds whatever the
  // order: the expected balances are plain sums of what was submitted.
  constexpr uint64_t account_count = 6;
  std::vector<Command> acked;      // every command answered ok
  std::vector<Command> submitted;  // every command sent, answered or not
  uint64_t next = 1;
  uint64_t unacknowledged_calls = 0;  // the kill really cut work in flight
  std::string token;
  for (int cycle = 0; cycle < cycles; cycle++) {
    Process p;
    ASSERT_TRUE(p.spawn(args));
    ASSERT_TRUE(p.wait_for("ready")) << p.err;
    if (cycle == 0) {
      token = first_line(dir.path / "token");
      ASSERT_EQ(token.size(), 64u);
      EXPECT_NE(p.err.find(token), std::string::npos);  // printed once
      EXPECT_EQ(first_line(dir.path / "admin.key").rfind("ck_live_", 0), 0u);
      EXPECT_EQ(fs::status(dir.path / "token").permissions() & fs::perms::group_all,
                fs::perms::none);
    } else {
      EXPECT_EQ(p.err.find(token), std::string::npos);  // not printed again
    }
    auto c = connect(port, token);
    ASSERT_TRUE(c);
    if (cycle == 0) {
      for (uint64_t a = 1; a <= account_count; a++) {
        ASSERT_EQ(c->call(make_create_account(Id128{0xA0 + a, 1}, a, asset_wallet,
                                              AccountKind::channel_clearing))
                      .result,
                  Result::ok);
      }
    }
    // Everything acknowledged before must be there: a replay says so.
    for (size_t at = 0; at < acked.size(); at += 1000) {
      std::vector<Command> batch(acked.begin() + long(at),
                                 acked.begin() + long(std::min(acked.size(), at + 1000)));
      client::SubmitResult r = c->submit_sync(batch);
      ASSERT_EQ(r.status, Result::ok);
      for (size_t i = 0; i < batch.size(); i++) {
        ASSERT_EQ(r.replies[i].result, Result::ok);
        ASSERT_TRUE(r.replies[i].flags & reply_flag_replayed)
            << "cycle " << cycle << ": lost acknowledged command " << batch[i].id.lo;
      }
    }
    // The driver: random batches, in flight while the kill comes at a random moment.
    std::vector<std::pair<std::vector<Command>, std::future<client::SubmitResult>>> calls;
    const auto kill_at = std::chrono::steady_clock::now() + std::chrono::milliseconds(rng() % 150);
    do {
      std::vector<Command> batch;
      const size_t size = 1 + rng() % 64;
      for (size_t i = 0; i < size; i++) {
        uint64_t from = 1 + rng() % account_count;
        uint64_t to = 1 + (from + rng() % (account_count - 1)) % account_count;
        batch.push_back(
            make_transfer(tid(next++), from, to, int64_t(1 + rng() % 1000), asset_wallet));
      }
      submitted.insert(submitted.end(), batch.begin(), batch.end());
      auto f = c->submit(batch);
      calls.emplace_back(std::move(batch), std::move(f));
      if (rng() % 4 == 0) std::this_thread::sleep_for(std::chrono::microseconds(rng() % 2000));
    } while (std::chrono::steady_clock::now() < kill_at);
    ::kill(p.pid, SIGKILL);
    for (auto& [batch, f] : calls) {
      client::SubmitResult r = f.get();
      if (r.status != Result::ok) {  // not acknowledged: may or may not be there
        unacknowledged_calls++;
        continue;
      }
      for (size_t i = 0; i < batch.size(); i++) {
        ASSERT_EQ(r.replies[i].result, Result::ok);
        acked.push_back(batch[i]);
      }
    }
    EXPECT_EQ(p.wait_exit(), 128 + SIGKILL);
  }

  // Last start: every acknowledged command is there; resubmitting everything
  // applies each transfer exactly once.
  Process p;
  ASSERT_TRUE(p.spawn(args));
  ASSERT_TRUE(p.wait_for("ready")) << p.err;
  auto c = connect(port, token);
  for (size_t at = 0; at < acked.size(); at += 1000) {
    std::vector<Command> batch(acked.begin() + long(at),
                               acked.begin() + long(std::min(acked.size(), at + 1000)));
    client::SubmitResult r = c->submit_sync(batch);
    ASSERT_EQ(r.status, Result::ok);
    for (const Reply& reply : r.replies)
      ASSERT_TRUE(reply.result == Result::ok && (reply.flags & reply_flag_replayed));
  }
  for (size_t at = 0; at < submitted.size(); at += 1000) {
    std::vector<Command> batch(submitted.begin() + long(at),
                               submitted.begin() + long(std::min(submitted.size(), at + 1000)));
    client::SubmitResult r = c->submit_sync(batch);
    ASSERT_EQ(r.status, Result::ok);
    for (const Reply& reply : r.replies)
      ASSERT_EQ(reply.result, Result::ok);
  }
  // The reference: the sum of every submitted transfer, per account.
  std::vector<int64_t> expected(account_count + 1, 0);
  for (const Command& cmd : submitted) {
    expected[cmd.body.transfer.debit_account_id] -= cmd.body.transfer.amount;
    expected[cmd.body.transfer.credit_account_id] += cmd.body.transfer.amount;
  }
  int64_t sum = 0;
  for (uint64_t a = 1; a <= account_count; a++) {
    Reply b = c->call(make_lookup(a));
    ASSERT_EQ(b.result, Result::ok);
    EXPECT_EQ(b.credits_posted - b.debits_posted, expected[a]) << "account " << a;
    EXPECT_EQ(b.debits_pending + b.credits_pending, 0);
    sum += b.credits_posted - b.debits_posted;
  }
  EXPECT_EQ(sum, 0);
  EXPECT_GT(acked.size(), 0u);
  EXPECT_GT(unacknowledged_calls, 0u);
  ::kill(p.pid, SIGTERM);
  EXPECT_EQ(p.wait_exit(), 0) << p.err;
}

TEST(CofferdProcess, SigtermExitsZeroAfterDraining) {
  TempDir dir;
  const uint16_t port = free_port();
  Process p;
  ASSERT_TRUE(
      p.spawn({"--data", dir.path.string(), "--listen", "127.0.0.1:" + std::to_string(port)}));
  ASSERT_TRUE(p.wait_for("ready")) << p.err;
  auto c = connect(port, first_line(dir.path / "token"));
  ASSERT_EQ(
      c->call(make_create_account(tid(1), 7, asset_wallet, AccountKind::member_wallet)).result,
      Result::ok);
  ::kill(p.pid, SIGTERM);
  EXPECT_EQ(p.wait_exit(), 0) << p.err;
  EXPECT_NE(p.err.find("stopped"), std::string::npos) << p.err;
  // It is durable: a restart (SIGINT this time) finds it.
  Process q;
  ASSERT_TRUE(
      q.spawn({"--data", dir.path.string(), "--listen", "127.0.0.1:" + std::to_string(port)}));
  ASSERT_TRUE(q.wait_for("ready")) << q.err;
  EXPECT_NE(q.err.find("1 accounts"), std::string::npos) << q.err;
  ::kill(q.pid, SIGINT);
  EXPECT_EQ(q.wait_exit(), 0) << q.err;
}

TEST(CofferdProcess, SecondServerOnTheSameDataDirIsRefused) {
  TempDir dir;
  Process a;
  ASSERT_TRUE(a.spawn({"--data", dir.path.string(), "--listen", "127.0.0.1:0"}));
  ASSERT_TRUE(a.wait_for("ready")) << a.err;
  Process b;
  ASSERT_TRUE(b.spawn({"--data", dir.path.string(), "--listen", "127.0.0.1:0"}));
  EXPECT_NE(b.wait_exit(), 0);
  EXPECT_NE(b.err.find("in use"), std::string::npos) << b.err;
}

TEST(CofferdProcess, BadFlagsAndUnusableDataDirExitNonZeroWithAMessage) {
  TempDir dir;
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const fs::path file = dir.path / "plain-file";
  std::ofstream(file) << "x";
  const std::vector<Case> cases = {
      {{"--bogus"}, "unrecognised option"},
      {{"--listen", "nonsense"}, "HOST:PORT"},
      {{"--data", dir.path.string(), "--accounts-max", "0"}, "out of range"},
      {{"--data", file.string()}, "data directory"},
      {{"--data", dir.path.string(), "--token-file", (dir.path / "missing").string()},
       "token file"},
  };
  for (const Case& k : cases) {
    Process p;
    ASSERT_TRUE(p.spawn(k.args));
    EXPECT_NE(p.wait_exit(), 0) << k.args[0];
    EXPECT_NE(p.err.find(k.message), std::string::npos) << p.err;
  }
  Process help;
  ASSERT_TRUE(help.spawn({"--help"}));
  EXPECT_EQ(help.wait_exit(), 0);
}

TEST(CofferdProcess, CorruptJournalStopsStartUpUnlessRepaired) {
  TempDir dir;
  const uint16_t port = free_port();
  const std::vector<std::string> args = {"--data", dir.path.string(), "--listen",
                                         "127.0.0.1:" + std::to_string(port)};
  {
    Process p;
    ASSERT_TRUE(p.spawn(args));
    ASSERT_TRUE(p.wait_for("ready")) << p.err;
    auto c = connect(port, first_line(dir.path / "token"));
    for (uint64_t a = 1; a <= 3; a++)
      ASSERT_EQ(
          c->call(make_create_account(tid(a), a, asset_wallet, AccountKind::member_wallet)).result,
          Result::ok);
    ::kill(p.pid, SIGTERM);
    ASSERT_EQ(p.wait_exit(), 0);
  }
  // Flip a byte inside the second record's payload (records are 40-byte
  // frames + 128-byte commands after a 32-byte segment header).
  fs::path segment;
  for (auto& e : fs::directory_iterator(dir.path / "journal"))
    if (e.path().extension() == ".wal") segment = e.path();
  ASSERT_FALSE(segment.empty());
  {
    std::fstream f(segment, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(32 + 168 + 40 + 60);
    f.put('\x5a');
  }
  Process bad;
  ASSERT_TRUE(bad.spawn(args));
  EXPECT_NE(bad.wait_exit(), 0);
  EXPECT_NE(bad.err.find(segment.filename().string()), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("--repair-journal"), std::string::npos) << bad.err;

  std::vector<std::string> repair = args;
  repair.push_back("--repair-journal");
  Process fixed;
  ASSERT_TRUE(fixed.spawn(repair));
  ASSERT_TRUE(fixed.wait_for("ready")) << fixed.err;
  EXPECT_NE(fixed.err.find("repaired"), std::string::npos) << fixed.err;
  EXPECT_NE(fixed.err.find("1 accounts"), std::string::npos) << fixed.err;
}

}  // namespace
}  // namespace coffer::testing
