// The coffer CLI against an in-process server: every subcommand, bad input,
// and a server that is down.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "net/query_service.h"
#include "tests/net/cofferd_harness.h"

namespace coffer::testing {
namespace {

struct CliRun {
  int status = -1;
  std::string output;  // stdout and stderr
};

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    node_.fs = &fs_;
    ASSERT_TRUE(node_.start());
    token_file_ =
        std::filesystem::temp_directory_path() / ("coffer-cli-token-" + std::to_string(::getpid()));
    std::ofstream(token_file_) << test_token << "\n";
  }
  void TearDown() override { std::filesystem::remove(token_file_); }

  CliRun cli(const std::string& args, uint16_t port = 0) {
    const std::string command = std::string(COFFER_CLI_PATH) +
                                " --server 127.0.0.1:" + std::to_string(port ? port : node_.port) +
                                " --token-file " + token_file_.string() + " " + args + " 2>&1";
    CliRun run;
    FILE* f = ::popen(command.c_str(), "r");
    if (f == nullptr) return run;
    std::array<char, 512> buf;
    size_t n;
    while ((n = std::fread(buf.data(), 1, buf.size(), f)) > 0)
      run.output.append(buf.data(), n);
    const int status = ::pclose(f);
    run.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return run;
  }

  storage::MemoryFileSystem fs_;
  Node node_;
  std::filesystem::path token_file_;
};

#define EXPECT_RUN(args, status_, text)                                              \
  do {                                                                               \
    CliRun r_ = cli(args);                                                           \
    EXPECT_EQ(r_.status, status_) << args << "\n" << r_.output;                      \
    EXPECT_NE(r_.output.find(text), std::string::npos) << args << "\n" << r_.output; \
  } while (0)

TEST_F(CliTest, EverySubcommand) {
  EXPECT_RUN("--help", 0, "create-account");
  EXPECT_RUN("create-account alice --asset wallet --kind member_wallet --no-negative", 0,
             "ok account");
  EXPECT_RUN("create-account 77 --asset wallet --kind channel_clearing", 0, "ok account 77");
  EXPECT_RUN("create-account 77 --asset wallet --kind channel_clearing", 0, "[replayed]");
  EXPECT_RUN("transfer --id t1 --from 77 --to alice --amount 500", 0, "ok");
  EXPECT_RUN("balance alice", 0, "balance 500\navailable 500\n");
  EXPECT_RUN("transfer --id t2 --from alice --to 77 --amount 200 --hold 60", 0, "ok");
  EXPECT_RUN("balance alice", 0, "balance 500\navailable 300\nheld 200\n");
  EXPECT_RUN("post t2 --amount 50", 0, "ok posted 50");
  EXPECT_RUN("balance alice", 0, "balance 450\navailable 450\nheld 0\n");
  EXPECT_RUN("transfer --id t3 --from alice --to 77 --amount 100 --hold 60", 0, "ok");
  EXPECT_RUN("void t3", 0, "ok");
  EXPECT_RUN("transfer --id t4 --from alice --to 77 --amount 99999", 1, "INSUFFICIENT_FUNDS");
  EXPECT_RUN("transfer --id g1 --from 77 --to alice --amount 30 --grant-at 2030-01-01T00:00:00Z", 0,
             "ok");
  EXPECT_RUN("balance alice", 0, "maturing 30\n");
  // Times are read strictly (clients/rfc3339.h): no 30 February, no hour 24.
  EXPECT_RUN("transfer --id g2 --from 77 --to alice --amount 1 --grant-at 2030-02-30T00:00:00Z", 2,
             "RFC 3339");
  EXPECT_RUN("transfer --id g2 --from 77 --to alice --amount 1 --grant-at 2030-01-01T24:00:00Z", 2,
             "RFC 3339");
  // A number that is no member falls back to the engine account of that number.
  EXPECT_RUN("balance 77", 0, "account_id 77\n");
  EXPECT_RUN("balance alice --json", 0, "\"available\":450");
  EXPECT_RUN("tick", 0, "ok");
  EXPECT_RUN("balance nobody", 1, "NOT_FOUND");
}

TEST_F(CliTest, BadInputAndServerDown) {
  EXPECT_RUN("frobnicate", 2, "unknown command");
  EXPECT_RUN("transfer --id x --from 1 --to 2 --amount abc", 2, "--amount");
  EXPECT_RUN("transfer --id x --from 1 --to 2", 2, "--amount is required");
  EXPECT_RUN("create-account a --asset gold --kind member_wallet", 2, "--asset");
  EXPECT_RUN("create-account a --asset wallet --kind nope", 2, "--kind");
  EXPECT_RUN("transfer --id x --from 1 --to 2 --amount 5 --grant-at yesterday", 2, "RFC 3339");
  EXPECT_RUN("balance", 2, "usage");
  const uint16_t port = node_.port;
  node_.stop();
  CliRun r = cli("balance 1", port);
  EXPECT_EQ(r.status, 3) << r.output;
  EXPECT_NE(r.output.find("cannot connect"), std::string::npos) << r.output;
}

// Five wallet entries of member 9, seq 5 down to 1; the cursor's seq is an
// exclusive upper bound. Entry 4 has a text.
class FakeHistory final : public net::QueryService {
 public:
  uint64_t acknowledged_seq() const override { return 0; }
  uint64_t applied_seq() const override { return 0; }
  void answer(const net::QueryRequest& q, size_t, net::QueryAnswer* out) override {
    *out = net::QueryAnswer{};
    if (q.kind != net::QueryKind::history || q.key != 9 || q.asset != asset_wallet) return;
    uint64_t seq = q.cursor.seq == 0 ? 5 : q.cursor.seq - 1;
    for (; seq >= 1 && out->rows.size() < q.limit; seq--) {
      net::QueryRowData& row = out->rows.emplace_back();
      row.seq = seq;
      row.time_us = 1'767'225'600'000'000ull + seq;  // 2026-01-01T00:00:00.00000Nz
      row.amount = int64_t(seq) * 10;
      row.balance_after = int64_t(seq) * 100;
      if (seq == 4) row.text = R"({"ref":"r4"})";
    }
    if (seq >= 1 && !out->rows.empty()) out->next.seq = out->rows.back().seq;
    pages++;
  }
  std::atomic<int> pages{0};
};

TEST_F(CliTest, HistoryPagesThroughTheQueryApi) {
  node_.stop();
  FakeHistory history;
  node_.queries = &history;
  node_.port = 0;
  ASSERT_TRUE(node_.start());
  CliRun r = cli("history 9 --limit 3");
  EXPECT_EQ(r.status, 0) << r.output;
  // The fields in the order GET /v1/members/{id}/history answers them.
  EXPECT_NE(r.output.find("seq 5 time 2026-01-01T00:00:00.000005Z type other effect other amount "
                          "50 balance_after 500"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("seq 4 time 2026-01-01T00:00:00.000004Z type other effect other amount "
                          "40 balance_after 400 held_after 0 maturing_after 0 ref r4 message -"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("seq 3 "), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("seq 2 "), std::string::npos) << r.output;
  // All of it, in pages of at most what is left.
  r = cli("history 9 --limit 100");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("seq 1 "), std::string::npos) << r.output;
  EXPECT_EQ(history.pages.load(), 2);  // one page per run: each asks for all that is left
  EXPECT_RUN("history 8", 0, "entries none");
  EXPECT_RUN("history 9 --asset gold", 2, "--asset");
  EXPECT_RUN("history 0", 2, "MEMBER_ID");
  EXPECT_RUN("history 9 --limit 0", 2, "--limit");
}

TEST_F(CliTest, HistoryWithoutAStateStoreIsUnavailable) {
  EXPECT_RUN("history 9", 3, "UNAVAILABLE");
}

}  // namespace
}  // namespace coffer::testing
