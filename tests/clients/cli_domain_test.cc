// The coffer CLI's domain subcommands against a real cofferd and
// coffer-gateway (subprocesses): each subcommand's success and a refusal,
// usage errors and exit statuses, --json output, and the promise that an
// operation started with the CLI and retried through HTTP (or the other way
// round) is the same operation with the same texts.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "tests/gateway/e2e_util.h"

namespace coffer::testing {
namespace {

namespace json = boost::json;

struct CliRun {
  int status = -1;
  std::string out;  // stdout
  std::string err;  // stderr
  json::value doc;  // stdout parsed as JSON (null if it is not)
  std::string all() const { return out + err; }
};

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p);
  return {std::istreambuf_iterator<char>(in), {}};
}

// cofferd + coffer-gateway for the whole suite: one start, ids differ per test.
class CliDomainTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::filesystem::temp_directory_path() /
           ("coffer-cli-domain-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_ / "data");
    ledger_port_ = free_port();
    ledger_ = std::make_unique<Child>(
        Child::start({COFFER_COFFERD_BIN, "--data", (dir_ / "data").string(), "--listen",
                      "127.0.0.1:" + std::to_string(ledger_port_)},
                     dir_ / "cofferd.log"));
    ready_ = ledger_->wait_for_output("ready", std::chrono::seconds(20));
    std::ifstream(dir_ / "data" / "admin.key") >> admin_key_;
    http_port_ = free_port();
    gateway_ = std::make_unique<Child>(
        Child::start({COFFER_GATEWAY_BIN, "--ledger", "127.0.0.1:" + std::to_string(ledger_port_),
                      "--token-file", (dir_ / "data" / "token").string(), "--admin-key-file",
                      (dir_ / "data" / "admin.key").string(), "--listen",
                      "127.0.0.1:" + std::to_string(http_port_)},
                     dir_ / "gateway.log"));
    ready_ = ready_ && gateway_->wait_for_output("ready", std::chrono::seconds(20));
  }
  static void TearDownTestSuite() {
    gateway_.reset();
    ledger_.reset();
    std::filesystem::remove_all(dir_);
  }
  void SetUp() override {
    ASSERT_TRUE(ready_) << (ledger_ ? ledger_->output() : "")
                        << (gateway_ ? gateway_->output() : "");
  }

  // Runs `coffer --server ... --token-file ... ARGS`.
  static CliRun cli(const std::vector<std::string>& args, uint16_t port = 0) {
    std::vector<std::string> argv = {COFFER_CLI_PATH, "--server",
                                     "127.0.0.1:" + std::to_string(port ? port : ledger_port_),
                                     "--token-file", (dir_ / "data" / "token").string()};
    argv.insert(argv.end(), args.begin(), args.end());
    const std::filesystem::path out = dir_ / "cli.out";
    const std::filesystem::path err = dir_ / "cli.err";
    CliRun run;
    const pid_t pid = ::fork();
    if (pid == 0) {
      int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      ::dup2(o, 1);
      ::dup2(e, 2);
      std::vector<char*> v;
      for (auto& a : argv)
        v.push_back(const_cast<char*>(a.c_str()));
      v.push_back(nullptr);
      ::execv(v[0], v.data());
      ::_exit(127);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    run.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    run.out = read_file(out);
    run.err = read_file(err);
    json::error_code ec;
    json::value v = json::parse(run.out, ec);
    if (!ec) run.doc = std::move(v);
    return run;
  }
  // With --json; expects `status`.
  static json::value cli_json(std::vector<std::string> args, int status = 0) {
    args.push_back("--json");
    CliRun r = cli(args);
    EXPECT_EQ(r.status, status) << args[0] << "\n" << r.all();
    EXPECT_FALSE(r.doc.is_null()) << "not JSON: " << r.out;
    return r.doc;
  }
  // A refusal: exit 1 and the result's name, in both output modes.
  static void expect_refused(std::vector<std::string> args, const std::string& code) {
    CliRun r = cli(args);
    EXPECT_EQ(r.status, 1) << args[0] << "\n" << r.all();
    EXPECT_NE(r.out.find("error " + code), std::string::npos) << r.all();
    args.push_back("--json");
    r = cli(args);
    EXPECT_EQ(r.status, 1) << r.all();
    EXPECT_EQ(str(r.doc, {"error", "code"}), code) << r.all();
  }
  static HttpReply http(const std::string& method, const std::string& target,
                        const std::string& body = "") {
    return http_call(http_port_, method, target, body, admin_key_);
  }
  // A member with `amount` in its wallet.
  static void funded_member(uint64_t member_id, int64_t amount) {
    EXPECT_EQ(cli({"member", "register", std::to_string(member_id)}).status, 0);
    if (amount > 0) {
      EXPECT_EQ(cli({"credit", std::to_string(member_id), std::to_string(amount), "--id",
                     "fund-" + std::to_string(member_id), "--reason", "funding"})
                    .status,
                0);
    }
  }

  static inline std::filesystem::path dir_;
  static inline uint16_t ledger_port_ = 0;
  static inline uint16_t http_port_ = 0;
  static inline std::string admin_key_;
  static inline bool ready_ = false;
  static inline std::unique_ptr<Child> ledger_;
  static inline std::unique_ptr<Child> gateway_;
};

TEST_F(CliDomainTest, HelpListsEverySubcommandAndEachHasItsOwn) {
  CliRun r = cli({"--help"});
  EXPECT_EQ(r.status, 0);
  for (const char* sub : {"member register",
                          "member get",
                          "member by-phone",
                          "member wallet",
                          "balance",
                          "credit",
                          "debit",
                          "merchant set",
                          "store set",
                          "group set",
                          "config get",
                          "config set",
                          "history",
                          "pay ",
                          "payment get",
                          "payment capture",
                          "payment void",
                          "payment refund",
                          "method set",
                          "recharge create",
                          "recharge get",
                          "recharge confirm",
                          "order complete",
                          "rebate",
                          "gift ",
                          "gifts",
                          "withdraw create",
                          "withdraw get",
                          "withdraw approve",
                          "withdraw reject",
                          "withdraw limit",
                          "withdrawals",
                          "voucher redeem ",
                          "voucher redeem-to-wallet",
                          "voucher batch-get",
                          "voucher batch-void",
                          "create-account",
                          "transfer",
                          "tick"}) {
    EXPECT_NE(r.out.find("coffer " + std::string(sub)), std::string::npos) << sub;
  }
  r = cli({"pay", "--help"});
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("--merchant VALUE (required)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--hold"), std::string::npos) << r.out;
  r = cli({"withdraw", "--help"});
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("withdraw reject WITHDRAWAL_ID --feedback"), std::string::npos) << r.out;
}

TEST_F(CliDomainTest, UsageErrorsExitTwoWithoutAServer) {
  struct Case {
    std::vector<std::string> args;
    std::string says;
  };
  const Case cases[] = {
      {{"frobnicate"}, "unknown command"},
      {{"member", "frob", "1"}, "unknown command 'member frob'"},
      {{"member"}, "member register"},
      {{"balance"}, "usage"},
      {{"balance", "1", "2"}, "usage"},
      {{"member", "get", "0"}, "MEMBER_ID"},
      {{"member", "get", "abc"}, "MEMBER_ID"},
      {{"member", "register", "1", "--phone", "call-me"}, "--phone"},
      {{"credit", "1", "100", "--reason", "r"}, "--id is required"},
      {{"credit", "1", "-5", "--id", "c", "--reason", "r"}, "AMOUNT"},
      {{"credit", "1", "12.50", "--id", "c", "--reason", "r"}, "AMOUNT"},
      {{"credit", "1", "100", "--id", "bad id!", "--reason", "r"}, "--id wants"},
      {{"credit", "1", "100", "--id", "c", "--reason", "r", "--asset", "gold"}, "--asset"},
      {{"credit", "1", "100", "--id", "c", "--reason", "r", "--colour", "red"},
       "unknown option '--colour'"},
      {{"credit", "1", "100", "--id", "c", "--reason"}, "--reason wants a value"},
      {{"credit", "1", "100", "--id", "c", "--id", "d", "--reason", "r"}, "given twice"},
      {{"pay", "100", "--id", "p", "--member", "1"}, "--merchant is required"},
      {{"pay", "100", "--id", "p", "--member", "1", "--merchant", "m", "--points", "x"},
       "--points"},
      {{"pay", "0", "--id", "p", "--member", "1", "--merchant", "m"}, "AMOUNT"},
      {{"payment", "capture", "p", "--amount", "0"}, "--amount"},
      {{"recharge", "create", "100", "--id", "r", "--member", "1", "--method", "0"}, "--method"},
      {{"gift", "5", "--id", "g", "--from", "1", "--to", "1"}, "different"},
      {{"gift", "5", "--id", "g", "--from", "1", "--to", "2", "--message", std::string(201, 'x')},
       "--message"},
      {{"withdrawals", "--state", "lost"}, "--state"},
      {{"history", "1", "--limit", "0"}, "--limit"},
      {{"config", "set", "colour=red"}, "config field"},
      {{"config", "set", "withdraw_enabled=maybe"}, "true or false"},
      {{"config", "set"}, "NAME=VALUE"},
      {{"config", "set", "--guide-amounts", "100,x"}, "--guide-amounts"},
      {{"config", "set", "recharge_min=-1"}, "recharge_min"},
      {{"member", "wallet", "1"}, "--enable or --disable"},
      {{"store", "set", "m", "s", "--name", "n", "--lat", "91", "--lon", "0"}, "--lat"},
      {{"order", "complete", "o1", "100", "--member", "1", "--merchant", "m", "--received-at",
        "yesterday"},
       "RFC 3339"},
  };
  for (const Case& c : cases) {
    // Port 1: nothing listens there, so a usage error must come before any connection.
    CliRun r = cli(c.args, 1);
    EXPECT_EQ(r.status, 2) << c.args[0] << " " << c.says << "\n" << r.all();
    EXPECT_NE(r.err.find(c.says), std::string::npos) << c.says << "\n" << r.all();
  }
  CliRun r = cli({"--server", "nonsense", "tick"});
  EXPECT_EQ(r.status, 2) << r.all();
}

TEST_F(CliDomainTest, CannotConnectExitsThree) {
  CliRun r = cli({"balance", "1"}, free_port());
  EXPECT_EQ(r.status, 3) << r.all();
  EXPECT_NE(r.err.find("cannot connect"), std::string::npos) << r.all();
  r = cli({"history", "1", "--json"}, free_port());
  EXPECT_EQ(r.status, 3) << r.all();
}

TEST_F(CliDomainTest, MembersBalancesCreditsAndDebits) {
  json::value m = cli_json({"member", "register", "101", "--phone", "138-0000-0101"});
  EXPECT_EQ(num(m, {"member_id"}), 101);
  EXPECT_EQ(num(m, {"group_id"}), 1);
  EXPECT_EQ(str(m, {"phone"}), "138-0000-0101");
  EXPECT_EQ(str(m, {"wallet_enabled"}), "true");
  // Replayed with the same content; refused with a different phone.
  m = cli_json({"member", "register", "101", "--phone", "138-0000-0101"});
  EXPECT_EQ(str(m, {"replayed"}), "true");
  expect_refused({"member", "register", "101", "--phone", "139"}, "ID_REUSED");

  CliRun r = cli({"member", "get", "101"});
  EXPECT_EQ(r.status, 0) << r.all();
  EXPECT_NE(r.out.find("phone 138-0000-0101\n"), std::string::npos) << r.out;
  expect_refused({"member", "get", "99101"}, "NOT_FOUND");
  EXPECT_EQ(num(cli_json({"member", "by-phone", "13800000101"}), {"member_id"}), 101);
  expect_refused({"member", "by-phone", "999"}, "NOT_FOUND");

  json::value c = cli_json({"credit", "101", "5000", "--id", "c-101", "--reason", "top up"});
  EXPECT_EQ(num(c, {"balance_after"}), 5000);
  c = cli_json(
      {"credit", "101", "70", "--id", "c-101-pts", "--reason", "bonus", "--asset", "points"});
  EXPECT_EQ(num(c, {"balance_after"}), 70);
  c = cli_json({"debit", "101", "1200", "--id", "d-101", "--reason", "correction"});
  EXPECT_EQ(num(c, {"balance_after"}), 3800);
  expect_refused({"debit", "101", "99999", "--id", "d-101-big", "--reason", "too much"},
                 "INSUFFICIENT_FUNDS");
  expect_refused({"credit", "101", "1", "--id", "c-101", "--reason", "top up"}, "ID_REUSED");

  json::value b = cli_json({"balance", "101"});
  EXPECT_EQ(num(b, {"wallet", "balance"}), 3800);
  EXPECT_EQ(num(b, {"wallet", "available"}), 3800);
  EXPECT_EQ(num(b, {"points", "balance"}), 70);
  r = cli({"balance", "101"});
  EXPECT_NE(r.out.find("wallet balance 3800 available 3800 held 0 maturing 0"), std::string::npos)
      << r.out;
  expect_refused({"balance", "99101"}, "NOT_FOUND");

  // M2: a disabled wallet refuses; enabled again it works.
  EXPECT_EQ(str(cli_json({"member", "wallet", "101", "--disable"}), {"wallet_enabled"}), "false");
  expect_refused({"credit", "101", "1", "--id", "c-101-off", "--reason", "x"}, "WALLET_DISABLED");
  EXPECT_EQ(str(cli_json({"member", "wallet", "101", "--enable"}), {"wallet_enabled"}), "true");
  expect_refused({"member", "wallet", "99101", "--enable"}, "NOT_FOUND");
}

TEST_F(CliDomainTest, PaymentsCaptureVoidRefund) {
  funded_member(201, 10'000);
  EXPECT_EQ(cli({"merchant", "set", "m201", "--name", "Cafe"}).status, 0);
  json::value p = cli_json({"pay", "2500", "--id", "p201", "--member", "201", "--merchant", "m201",
                            "--order-ref", "o-201"});
  EXPECT_EQ(str(p, {"state"}), "captured");
  EXPECT_EQ(num(p, {"wallet_amount"}), 2500);
  expect_refused({"pay", "99999", "--id", "p201-big", "--member", "201", "--merchant", "m201"},
                 "INSUFFICIENT_FUNDS");
  // POINTS_RULE names its rule.
  CliRun r = cli({"pay", "100", "--id", "p201-pts", "--member", "201", "--merchant", "m201",
                  "--points", "1", "--json"});
  EXPECT_EQ(r.status, 1) << r.all();
  EXPECT_EQ(str(r.doc, {"error", "code"}), "POINTS_RULE");
  EXPECT_EQ(str(r.doc, {"error", "rule"}), "min");

  p = cli_json({"pay", "1000", "--id", "p201-hold", "--member", "201", "--merchant", "m201",
                "--store", "s1", "--hold"});
  EXPECT_EQ(str(p, {"state"}), "held");
  EXPECT_EQ(num(cli_json({"balance", "201"}), {"wallet", "held"}), 1000);
  p = cli_json({"payment", "capture", "p201-hold", "--amount", "400"});
  EXPECT_EQ(str(p, {"state"}), "captured");
  EXPECT_EQ(num(p, {"captured"}), 400);
  EXPECT_EQ(num(cli_json({"balance", "201"}), {"wallet", "balance"}), 10'000 - 2500 - 400);

  p = cli_json(
      {"pay", "300", "--id", "p201-void", "--member", "201", "--merchant", "m201", "--hold"});
  EXPECT_EQ(str(cli_json({"payment", "void", "p201-void"}), {"state"}), "voided");
  expect_refused({"payment", "capture", "p201-void"}, "INVALID_STATE");
  expect_refused({"payment", "void", "p-none"}, "NOT_FOUND");

  json::value f = cli_json({"payment", "refund", "p201", "1000", "--id", "rf201"});
  EXPECT_EQ(num(f, {"wallet_amount"}), 1000);
  expect_refused({"payment", "refund", "p201", "2000", "--id", "rf201-b"}, "LIMIT_EXCEEDED");
  p = cli_json({"payment", "get", "p201"});
  EXPECT_EQ(num(p, {"refunded"}), 1000);
  expect_refused({"payment", "get", "p-none"}, "NOT_FOUND");
}

TEST_F(CliDomainTest, RechargesAndOrders) {
  funded_member(301, 0);
  ASSERT_EQ(cli({"merchant", "set", "m301", "--name", "Shop"}).status, 0);
  json::value m = cli_json({"method", "set", "31", "--name", "WeChat", "--channel", "wechat",
                            "--payees", "acct-a,acct-b"});
  ASSERT_TRUE(m.is_object() && m.as_object().at("payee_accounts").is_array());
  EXPECT_EQ(m.as_object().at("payee_accounts").as_array().size(), 2u);
  json::value rc =
      cli_json({"recharge", "create", "2000", "--id", "r301", "--member", "301", "--method", "31"});
  EXPECT_EQ(str(rc, {"state"}), "pending");
  EXPECT_EQ(str(rc, {"payee_account"}), "acct-a");
  rc = cli_json(
      {"recharge", "create", "2000", "--id", "r301-b", "--member", "301", "--method", "31"});
  EXPECT_EQ(str(rc, {"payee_account"}), "acct-b");  // R1: strict rotation
  expect_refused(
      {"recharge", "create", "999999999", "--id", "r301-big", "--member", "301", "--method", "31"},
      "LIMIT_EXCEEDED");
  rc = cli_json({"recharge", "confirm", "r301", "2000", "--txn", "wx-301"});
  EXPECT_EQ(str(rc, {"state"}), "paid");
  EXPECT_EQ(str(cli_json({"recharge", "get", "r301"}), {"state"}), "paid");
  expect_refused({"recharge", "get", "r-none"}, "NOT_FOUND");
  expect_refused({"recharge", "confirm", "r-none", "5", "--txn", "wx-x"}, "NOT_FOUND");
  EXPECT_EQ(num(cli_json({"balance", "301"}), {"wallet", "balance"}), 2000);

  json::value o =
      cli_json({"order", "complete", "o301", "1000", "--member", "301", "--merchant", "m301"});
  ASSERT_TRUE(o.as_object().at("grants").is_array());
  EXPECT_EQ(o.as_object().at("grants").as_array().size(), 2u);
  EXPECT_EQ(num(o.as_object().at("grants").as_array()[1], {"amount"}), 10);  // 10.00 x 10000 bp
  expect_refused({"order", "complete", "o301-x", "1000", "--member", "99301", "--merchant", "m301"},
                 "NOT_FOUND");
}

TEST_F(CliDomainTest, GiftsRebatesHistory) {
  funded_member(401, 3000);
  funded_member(402, 0);
  json::value g = cli_json({"gift", "500", "--id", "g401", "--from", "401", "--to", "402",
                            "--message", "happy birthday"});
  EXPECT_EQ(num(g, {"balance_after"}), 2500);
  expect_refused({"gift", "99999", "--id", "g401-big", "--from", "401", "--to", "402"},
                 "INSUFFICIENT_FUNDS");
  json::value list = cli_json({"gifts", "402", "--received"});
  ASSERT_EQ(list.as_object().at("gifts").as_array().size(), 1u);
  EXPECT_EQ(str(list.as_object().at("gifts").as_array()[0], {"message"}), "happy birthday");
  EXPECT_EQ(str(list.as_object().at("gifts").as_array()[0], {"gift_id"}), "g401");
  EXPECT_EQ(cli_json({"gifts", "402"}).as_object().at("gifts").as_array().size(), 0u);

  json::value rb = cli_json({"rebate", "402", "120", "--id", "rb402", "--source", "order o-9"});
  EXPECT_EQ(num(rb, {"balance_after"}), 620);
  expect_refused({"rebate", "99402", "120", "--id", "rb402-x", "--source", "s"}, "NOT_FOUND");

  // Newest first, each entry with the caller's ref and message.
  json::value h = cli_json({"history", "402"});
  const json::array& e = h.as_object().at("entries").as_array();
  ASSERT_EQ(e.size(), 2u) << json::serialize(h);
  EXPECT_EQ(str(e[0], {"type"}), "rebate");
  EXPECT_EQ(str(e[0], {"ref"}), "rb402");
  EXPECT_EQ(str(e[0], {"message"}), "order o-9");
  EXPECT_EQ(num(e[0], {"balance_after"}), 620);
  EXPECT_EQ(str(e[1], {"type"}), "gift_received");
  EXPECT_EQ(str(e[1], {"message"}), "happy birthday");
  // Paged: --limit 1 gives the newest only.
  EXPECT_EQ(
      cli_json({"history", "402", "--limit", "1"}).as_object().at("entries").as_array().size(), 1u);
  CliRun r = cli({"history", "401", "--asset", "wallet"});
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("type gift_sent"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("ref fund-401"), std::string::npos) << r.out;
}

TEST_F(CliDomainTest, WithdrawalsAndConfig) {
  funded_member(501, 10'000);
  expect_refused({"withdraw", "create", "100", "--id", "w501-off", "--member", "501",
                  "--payout-method", "bank", "--payout-account", "6222"},
                 "WITHDRAWALS_DISABLED");
  json::value cfg = cli_json({"config", "set", "withdraw_enabled=true", "withdraw_max_rate_bp=6000",
                              "withdraw_reserve_min=5000"});
  EXPECT_EQ(str(cfg, {"withdraw_enabled"}), "true");
  EXPECT_EQ(num(cli_json({"config", "get"}), {"withdraw_reserve_min"}), 5000);
  // D2: min(10000 x 60%, 10000 - 5000) = 5000.
  EXPECT_EQ(num(cli_json({"withdraw", "limit", "501"}), {"max_withdrawable"}), 5000);
  expect_refused({"withdraw", "limit", "99501"}, "NOT_FOUND");
  CliRun r = cli({"withdraw", "create", "6000", "--id", "w501-big", "--member", "501",
                  "--payout-method", "bank", "--payout-account", "6222", "--json"});
  EXPECT_EQ(r.status, 1) << r.all();
  EXPECT_EQ(str(r.doc, {"error", "code"}), "LIMIT_EXCEEDED");
  EXPECT_EQ(num(r.doc, {"error", "max_withdrawable"}), 5000);

  json::value w = cli_json({"withdraw", "create", "1000", "--id", "w501", "--member", "501",
                            "--payout-method", "bank", "--payout-account", "6222"});
  EXPECT_EQ(str(w, {"state"}), "pending");
  EXPECT_EQ(str(w, {"payout", "account"}), "6222");
  w = cli_json({"withdraw", "create", "500", "--id", "w501-b", "--member", "501", "--payout-method",
                "bank", "--payout-account", "6222"});
  json::value pending = cli_json({"withdrawals"});
  bool listed = false;
  for (const json::value& row : pending.as_object().at("withdrawals").as_array())
    listed = listed || str(row, {"withdrawal_id"}) == "w501";
  EXPECT_TRUE(listed) << json::serialize(pending);

  w = cli_json({"withdraw", "reject", "w501", "--feedback", "account closed"});
  EXPECT_EQ(str(w, {"state"}), "rejected");
  EXPECT_EQ(str(w, {"feedback"}), "account closed");
  expect_refused({"withdraw", "approve", "w501"}, "INVALID_STATE");
  w = cli_json({"withdraw", "approve", "w501-b", "--note", "paid"});
  EXPECT_EQ(str(w, {"state"}), "approved");
  EXPECT_EQ(str(cli_json({"withdraw", "get", "w501"}), {"feedback"}), "account closed");
  expect_refused({"withdraw", "get", "w-none"}, "NOT_FOUND");
  EXPECT_EQ(num(cli_json({"balance", "501"}), {"wallet", "balance"}), 9500);
  cli_json({"config", "set", "withdraw_enabled=false"});
  // R2: the guide the CLI sets is the one the gateway serves.
  cfg = cli_json(
      {"config", "set", "--guide-text", "Top up 100, get 10", "--guide-amounts", "10000,50000"});
  EXPECT_EQ(str(cfg, {"recharge_guide", "text"}), "Top up 100, get 10");
  HttpReply r2 = http("GET", "/v1/config");
  ASSERT_EQ(r2.status, 200u) << r2.raw;
  EXPECT_EQ(str(r2.body, {"recharge_guide", "text"}), "Top up 100, get 10");
  EXPECT_NE(r2.raw.find("[10000,50000]"), std::string::npos) << r2.raw;
}

TEST_F(CliDomainTest, VouchersCreatedOverHttpRedeemedWithTheCli) {
  funded_member(601, 0);
  ASSERT_EQ(http("PUT", "/v1/merchants/vm6", R"({"name":"Voucher shop"})").status, 200u);
  auto batch = [](const std::string& id, const std::string& kind) {
    HttpReply r = http(
        "POST", "/v1/voucher-batches",
        R"({"batch_id":")" + id + R"(","merchant_id":"vm6","kind":")" + kind +
            R"(","face_value":1000,"quantity":2,"valid_from":"2020-01-01T00:00:00Z","valid_until":"2099-01-01T00:00:00Z"})");
    EXPECT_EQ(r.status, 201u) << r.raw;
    std::vector<std::string> codes;
    if (r.body.is_object() && r.body.as_object().contains("codes")) {
      for (const json::value& c : r.body.as_object().at("codes").as_array())
        codes.push_back(str(c, {"code"}));
    }
    return codes;
  };
  std::vector<std::string> paper = batch("vb6-paper", "paper");
  std::vector<std::string> card = batch("vb6-card", "card");
  ASSERT_EQ(paper.size(), 2u);
  ASSERT_EQ(card.size(), 2u);
  // The CLI hashes the code with the secret the gateway derived from the token.
  json::value v = cli_json({"voucher", "redeem", paper[0], "--merchant", "vm6", "--store", "s1"});
  EXPECT_EQ(str(v, {"batch_id"}), "vb6-paper");
  EXPECT_EQ(num(v, {"face_value"}), 1000);
  CliRun r = cli({"voucher", "redeem", paper[0], "--merchant", "vm6", "--store", "s2", "--json"});
  EXPECT_EQ(r.status, 1) << r.all();
  EXPECT_EQ(str(r.doc, {"error", "code"}), "VOUCHER_REDEEMED");
  EXPECT_EQ(str(r.doc, {"error", "store_id"}), "s1");
  expect_refused({"voucher", "redeem", paper[1], "--merchant", "other", "--store", "s1"},
                 "VOUCHER_WRONG_MERCHANT");
  expect_refused({"voucher", "redeem", "NOT-A-CODE", "--merchant", "vm6", "--store", "s1"},
                 "NOT_FOUND");
  // Lower case with spaces is the same code.
  std::string typed = card[0];
  for (char& ch : typed)
    ch = ch == '-' ? ' ' : char(std::tolower(ch));
  v = cli_json({"voucher", "redeem-to-wallet", typed, "--member", "601"});
  EXPECT_EQ(str(v, {"batch_id"}), "vb6-card");
  EXPECT_EQ(num(cli_json({"balance", "601"}), {"wallet", "balance"}), 1000);
  expect_refused({"voucher", "redeem-to-wallet", paper[1], "--member", "601"},
                 "VOUCHER_WRONG_KIND");

  json::value b = cli_json({"voucher", "batch-get", "vb6-paper"});
  EXPECT_EQ(num(b, {"redeemed", "count"}), 1);
  EXPECT_EQ(str(b, {"merchant_id"}), "vm6");
  expect_refused({"voucher", "batch-get", "vb-none"}, "NOT_FOUND");
  EXPECT_EQ(str(cli_json({"voucher", "batch-void", "vb6-card"}), {"state"}), "voided");
  expect_refused({"voucher", "redeem-to-wallet", card[1], "--member", "601"}, "VOUCHER_VOID");
  // A secret other than the gateway's finds no code.
  const std::filesystem::path secret = dir_ / "other.secret";
  std::ofstream(secret) << std::string(64, 'a') << "\n";
  r = cli({"--voucher-secret-file", secret.string(), "voucher", "redeem", paper[1], "--merchant",
           "vm6", "--store", "s1"});
  EXPECT_EQ(r.status, 1) << r.all();
  EXPECT_NE(r.out.find("NOT_FOUND"), std::string::npos) << r.all();
  std::ofstream(secret) << "not hex\n";
  r = cli({"--voucher-secret-file", secret.string(), "voucher", "redeem", paper[1], "--merchant",
           "vm6", "--store", "s1"});
  EXPECT_EQ(r.status, 2) << r.all();
}

TEST_F(CliDomainTest, MerchantsStoresGroups) {
  json::value m = cli_json({"merchant", "set", "m701", "--name", "Tea house", "--split-payment"});
  EXPECT_EQ(str(m, {"split_payment_allowed"}), "true");
  json::value s = cli_json({"store", "set", "m701", "s1", "--name", "Main St", "--lat", "31.23",
                            "--lon", "121.47", "--address", "1 Main St"});
  EXPECT_EQ(str(s, {"name"}), "Main St");
  // The gateway finds the store and its name under the same text key.
  HttpReply near = http("GET", "/v1/stores/nearby?lat=31.23&lon=121.47&limit=50");
  ASSERT_EQ(near.status, 200u) << near.raw;
  EXPECT_NE(near.raw.find(R"("name":"Main St")"), std::string::npos) << near.raw;
  json::value g = cli_json({"group", "set", "7", "--name", "Gold", "--cashback-bp", "100"});
  EXPECT_EQ(num(g, {"cashback_bp"}), 100);
  HttpReply groups = http("GET", "/v1/groups");
  EXPECT_NE(groups.raw.find(R"("name":"Gold")"), std::string::npos) << groups.raw;
  expect_refused({"store", "set", "m-none", "s1", "--name", "Nowhere", "--lat", "0", "--lon", "0"},
                 "NOT_FOUND");
  expect_refused(
      {"group", "set", "8", "--name", "Huge", "--upgrade-threshold", "9223372036854775807"},
      "INVALID_REQUEST");
}

// The same caller id through the CLI and through HTTP is one operation: the
// second is a replay (nothing moves twice), different content is ID_REUSED,
// and the texts the CLI wrote are the ones the gateway reads.
TEST_F(CliDomainTest, SameOperationThroughCliAndHttp) {
  funded_member(801, 0);
  ASSERT_EQ(cli({"merchant", "set", "m801", "--name", "Shop"}).status, 0);
  ASSERT_EQ(cli({"member", "register", "802", "--phone", "+86-139-0802"}).status, 0);
  HttpReply r = http("GET", "/v1/members/802");
  ASSERT_EQ(r.status, 200u) << r.raw;
  EXPECT_EQ(str(r.body, {"phone"}), "+86-139-0802");
  EXPECT_EQ(http("GET", "/v1/members/by-phone/+86139-0802").status, 200u);
  // Registered through HTTP, replayed through the CLI.
  ASSERT_EQ(http("POST", "/v1/members", R"({"member_id":803,"phone":"555"})").status, 201u);
  EXPECT_EQ(str(cli_json({"member", "register", "803", "--phone", "555"}), {"replayed"}), "true");

  // Credit: HTTP first, then the CLI.
  r = http("POST", "/v1/members/801/credit",
           R"({"credit_id":"c801","amount":5000,"reason":"opening"})");
  ASSERT_EQ(r.status, 201u) << r.raw;
  EXPECT_EQ(
      str(cli_json({"credit", "801", "5000", "--id", "c801", "--reason", "opening"}), {"replayed"}),
      "true");
  expect_refused({"credit", "801", "5001", "--id", "c801", "--reason", "opening"}, "ID_REUSED");

  // Payment: the CLI first, then HTTP.
  cli_json({"pay", "1200", "--id", "p801", "--member", "801", "--merchant", "m801", "--store", "s9",
            "--order-ref", "ord-801"});
  r = http(
      "POST", "/v1/payments",
      R"({"payment_id":"p801","member_id":801,"merchant_id":"m801","store_id":"s9","order_ref":"ord-801","amount":1200})");
  EXPECT_EQ(r.status, 201u) << r.raw;
  EXPECT_EQ(str(r.body, {"state"}), "captured");
  r = http("POST", "/v1/payments",
           R"({"payment_id":"p801","member_id":801,"merchant_id":"m801","amount":1200})");
  EXPECT_EQ(r.status, 409u) << r.raw;  // no store, no order_ref: different content
  EXPECT_EQ(num(cli_json({"balance", "801"}), {"wallet", "balance"}), 3800);
  cli_json({"payment", "refund", "p801", "200", "--id", "rf801"});
  r = http("POST", "/v1/payments/p801/refunds", R"({"refund_id":"rf801","amount":200})");
  EXPECT_EQ(r.status, 201u) << r.raw;
  EXPECT_EQ(num(cli_json({"balance", "801"}), {"wallet", "balance"}), 4000);
  // The gateway's history shows the CLI's refs.
  r = http("GET", "/v1/members/801/history");
  ASSERT_EQ(r.status, 200u) << r.raw;
  EXPECT_NE(r.raw.find(R"("ref":"p801")"), std::string::npos) << r.raw;
  EXPECT_NE(r.raw.find(R"("ref":"rf801")"), std::string::npos) << r.raw;

  // Gift with a message; the gateway lists it with the message.
  funded_member(804, 0);
  cli_json({"gift", "300", "--id", "g801", "--from", "801", "--to", "804", "--message", "谢谢"});
  r = http("POST", "/v1/gifts",
           R"({"gift_id":"g801","from_member":801,"to_member":804,"amount":300,"message":"谢谢"})");
  EXPECT_EQ(r.status, 201u) << r.raw;
  EXPECT_EQ(num(cli_json({"balance", "804"}), {"wallet", "balance"}), 300);
  r = http("GET", "/v1/members/804/gifts?direction=received");
  ASSERT_EQ(r.status, 200u) << r.raw;
  EXPECT_NE(r.raw.find(R"("gift_id":"g801")"), std::string::npos) << r.raw;
  EXPECT_NE(r.raw.find("谢谢"), std::string::npos) << r.raw;

  // Recharge created over HTTP, confirmed with the CLI, replayed over HTTP.
  ASSERT_EQ(http("PUT", "/v1/recharge/methods/81",
                 R"({"name":"Cash desk","channel":"cash","payee_accounts":["till-1"]})")
                .status,
            200u);
  r = http("POST", "/v1/recharges",
           R"({"recharge_id":"r801","member_id":801,"amount":700,"method_id":81})");
  ASSERT_EQ(r.status, 201u) << r.raw;
  json::value rc = cli_json({"recharge", "confirm", "r801", "700", "--txn", "till-801"});
  EXPECT_EQ(str(rc, {"state"}), "paid");
  EXPECT_EQ(str(rc, {"payee_account"}), "till-1");
  r = http("POST", "/v1/recharges/r801/confirm", R"({"channel_txn_id":"till-801","amount":700})");
  EXPECT_EQ(r.status, 200u) << r.raw;
  EXPECT_EQ(num(cli_json({"balance", "801"}), {"wallet", "balance"}), 4400);

  // Order completion.
  cli_json({"order", "complete", "ord-801", "1200", "--member", "801", "--merchant", "m801",
            "--payment", "p801"});
  r = http("POST", "/v1/orders/ord-801/complete",
           R"({"member_id":801,"merchant_id":"m801","amount":1200,"payment_id":"p801"})");
  EXPECT_EQ(r.status, 201u) << r.raw;
  r = http("POST", "/v1/orders/ord-801/complete",
           R"({"member_id":801,"merchant_id":"m801","amount":1300,"payment_id":"p801"})");
  EXPECT_EQ(r.status, 409u) << r.raw;
}

}  // namespace
}  // namespace coffer::testing
