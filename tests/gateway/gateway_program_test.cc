// The coffer-gateway program as API.md "Running the servers" starts it: flags,
// the one "ready" line, /healthz without a ledger, SIGTERM → exit 0.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include "tests/gateway/process_util.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace {

namespace fs = std::filesystem;
using coffer::testing::Child;
using coffer::testing::free_port;

std::string http(uint16_t port, const std::string& request) {
  return coffer::testing::http_exchange(port, request);
}

class GatewayProgram : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("coffer-gw-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
    std::ofstream(dir_ / "token") << "test-token\n";
    std::ofstream(dir_ / "admin.key") << "ck_live_admin_for_tests\n";
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::vector<std::string> args(uint16_t http_port, uint16_t ledger_port) const {
    return {COFFER_GATEWAY_BIN,
            "--ledger",
            "127.0.0.1:" + std::to_string(ledger_port),
            "--token-file",
            (dir_ / "token").string(),
            "--listen",
            "127.0.0.1:" + std::to_string(http_port),
            "--admin-key-file",
            (dir_ / "admin.key").string()};
  }
  fs::path dir_;
};

TEST_F(GatewayProgram, ServesReportsUnhealthyLedgerAndStopsOnSigterm) {
  uint16_t port = free_port();
  Child gw = Child::start(args(port, free_port()), dir_ / "gw.log");
  ASSERT_TRUE(gw.wait_for_output("ready", std::chrono::seconds(10))) << gw.output();

  std::string health = http(port, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_NE(health.find("HTTP/1.1 503"), std::string::npos) << health;

  std::string no_key =
      http(port, "GET /v1/members/1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_NE(no_key.find("401"), std::string::npos) << no_key;
  EXPECT_NE(no_key.find("UNAUTHENTICATED"), std::string::npos) << no_key;

  std::string notify = http(port,
                            "POST /v1/wechatpay/notify HTTP/1.1\r\nHost: x\r\nConnection: "
                            "close\r\nContent-Length: 2\r\n\r\n{}");
  EXPECT_NE(notify.find("HTTP/1.1 503"), std::string::npos) << notify;
  EXPECT_NE(notify.find("\"FAIL\""), std::string::npos) << notify;

  kill(gw.pid, SIGTERM);
  EXPECT_EQ(gw.wait_exit(), 0) << gw.output();
}

TEST_F(GatewayProgram, BadFlagsExitNonZeroWithAMessage) {
  struct Case {
    std::vector<std::string> extra;
    std::string message;
  };
  std::vector<Case> cases = {
      {{"--listen", "nonsense"}, "--listen"},
      {{"--ledger", "127.0.0.1:0"}, "--ledger"},
      {{"--admin-key-file", "/nonexistent/admin.key"}, "admin key"},
      {{"--token-file", "/nonexistent/token"}, "token"},
      {{"--wechatpay-public-key", "/nonexistent.pem"}, "go together"},
      {{"--no-such-flag"}, "no-such-flag"},
  };
  for (const auto& c : cases) {
    // A flag given in `extra` replaces the good one (flags may not repeat).
    auto a = args(free_port(), free_port());
    for (size_t i = 1; i + 1 < a.size(); i += 2) {
      if (c.extra.size() == 2 && a[i] == c.extra[0]) a[i + 1] = c.extra[1];
    }
    if (std::find(a.begin(), a.end(), c.extra[0]) == a.end()) {
      a.insert(a.end(), c.extra.begin(), c.extra.end());
    }
    Child gw = Child::start(a, dir_ / "bad.log");
    EXPECT_NE(gw.wait_exit(), 0) << c.message;
    EXPECT_NE(gw.output().find(c.message), std::string::npos) << gw.output();
  }
}

TEST_F(GatewayProgram, HelpListsEveryFlagOfApiMd) {
  Child gw = Child::start({COFFER_GATEWAY_BIN, "--help"}, dir_ / "help.log");
  EXPECT_EQ(gw.wait_exit(), 0);
  std::string help = gw.output();
  for (const char* flag : {"--ledger", "--token-file", "--listen", "--admin-key-file",
                           "--wechatpay-public-key", "--wechatpay-apiv3-key-file"}) {
    EXPECT_NE(help.find(flag), std::string::npos) << flag;
  }
}

}  // namespace

#ifdef COFFER_COFFERD_BIN
namespace {

// With a live cofferd: /healthz answers 200 through a real ledger round trip,
// 503 once the ledger is gone, and 200 again after it restarts.
TEST_F(GatewayProgram, HealthFollowsTheLedger) {
  uint16_t ledger_port = free_port();
  fs::path data = dir_ / "data";
  std::vector<std::string> cofferd = {COFFER_COFFERD_BIN, "--data", data.string(), "--listen",
                                      "127.0.0.1:" + std::to_string(ledger_port)};
  auto ledger = std::make_unique<Child>(Child::start(cofferd, dir_ / "cofferd.log"));
  ASSERT_TRUE(ledger->wait_for_output("ready", std::chrono::seconds(10))) << ledger->output();

  uint16_t port = free_port();
  Child gw =
      Child::start({COFFER_GATEWAY_BIN, "--ledger", "127.0.0.1:" + std::to_string(ledger_port),
                    "--token-file", (data / "token").string(), "--admin-key-file",
                    (data / "admin.key").string(), "--listen", "127.0.0.1:" + std::to_string(port)},
                   dir_ / "gw.log");
  ASSERT_TRUE(gw.wait_for_output("ready", std::chrono::seconds(10))) << gw.output();
  const std::string healthz = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  EXPECT_NE(http(port, healthz).find("HTTP/1.1 200"), std::string::npos);

  kill(ledger->pid, SIGTERM);
  EXPECT_EQ(ledger->wait_exit(), 0) << ledger->output();
  EXPECT_NE(http(port, healthz).find("HTTP/1.1 503"), std::string::npos);

  ledger = std::make_unique<Child>(Child::start(cofferd, dir_ / "cofferd2.log"));
  ASSERT_TRUE(ledger->wait_for_output("ready", std::chrono::seconds(10))) << ledger->output();
  bool healthy = false;
  for (int i = 0; i < 50 && !healthy; ++i) {
    healthy = http(port, healthz).find("HTTP/1.1 200") != std::string::npos;
    if (!healthy) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(healthy);
  kill(gw.pid, SIGTERM);
  EXPECT_EQ(gw.wait_exit(), 0) << gw.output();
}

}  // namespace
#endif
