// The ledger-backed handlers end to end: cofferd and coffer-gateway run as
// subprocesses (temp data dir, free ports) and the test speaks HTTP to the
// gateway as a storefront would.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include "tests/gateway/process_util.h"

#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

using coffer::testing::Child;
using coffer::testing::free_port;

struct HttpReply {
  unsigned status = 0;
  json::value body;  // null when the body is not JSON
  std::string raw;
};

// One request with Connection: close.
HttpReply http(uint16_t port, const std::string& method, const std::string& target,
               const std::string& body, const std::string& key) {
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n";
  if (!key.empty()) req += "Authorization: Bearer " + key + "\r\n";
  if (!body.empty() || method != "GET") {
    req +=
        "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  }
  req += "\r\n" + body;
  HttpReply out;
  out.raw = coffer::testing::http_exchange(port, req);
  if (out.raw.rfind("HTTP/1.1 ", 0) == 0) out.status = std::stoi(out.raw.substr(9, 3));
  auto sep = out.raw.find("\r\n\r\n");
  if (sep != std::string::npos) {
    boost::system::error_code ec;
    json::value v = json::parse(out.raw.substr(sep + 4), ec);
    if (!ec) out.body = std::move(v);
  }
  return out;
}

int64_t num(const json::value& v, std::initializer_list<const char*> path) {
  const json::value* cur = &v;
  for (const char* key : path) {
    if (!cur->is_object() || !cur->as_object().contains(key)) {
      ADD_FAILURE() << "missing " << key << " in " << json::serialize(v);
      return -1;
    }
    cur = &cur->as_object().at(key);
  }
  if (!cur->is_int64()) {
    ADD_FAILURE() << "not an integer in " << json::serialize(v);
    return -1;
  }
  return cur->as_int64();
}

std::string str(const json::value& v, std::initializer_list<const char*> path) {
  const json::value* cur = &v;
  for (const char* key : path) {
    if (!cur->is_object() || !cur->as_object().contains(key))
      return "<missing " + std::string(key) + ">";
    cur = &cur->as_object().at(key);
  }
  return cur->is_string() ? std::string(cur->as_string()) : json::serialize(*cur);
}

std::string error_code(const HttpReply& r) {
  return str(r.body, {"error", "code"});
}

class HandlersE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("coffer-handlers-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    fs::path data = dir_ / "data";
    ledger_port_ = free_port();
    ledger_ = std::make_unique<Child>(
        Child::start({COFFER_COFFERD_BIN, "--data", data.string(), "--listen",
                      "127.0.0.1:" + std::to_string(ledger_port_)},
                     dir_ / "cofferd.log"));
    ASSERT_TRUE(ledger_->wait_for_output("ready", std::chrono::seconds(10))) << ledger_->output();
    std::ifstream(data / "admin.key") >> key_;
    ASSERT_FALSE(key_.empty());
    port_ = free_port();
    gateway_ = std::make_unique<Child>(Child::start(
        {COFFER_GATEWAY_BIN, "--ledger", "127.0.0.1:" + std::to_string(ledger_port_),
         "--token-file", (data / "token").string(), "--admin-key-file",
         (data / "admin.key").string(), "--listen", "127.0.0.1:" + std::to_string(port_)},
        dir_ / "gw.log"));
    ASSERT_TRUE(gateway_->wait_for_output("ready", std::chrono::seconds(10))) << gateway_->output();
  }
  void TearDown() override {
    gateway_.reset();
    ledger_.reset();
    fs::remove_all(dir_);
  }

  HttpReply get(const std::string& target) { return http(port_, "GET", target, "", key_); }
  HttpReply post(const std::string& target, const std::string& body) {
    return http(port_, "POST", target, body, key_);
  }
  HttpReply put(const std::string& target, const std::string& body) {
    return http(port_, "PUT", target, body, key_);
  }

  fs::path dir_;
  uint16_t ledger_port_ = 0;
  uint16_t port_ = 0;
  std::string key_;
  std::unique_ptr<Child> ledger_;
  std::unique_ptr<Child> gateway_;
};

TEST_F(HandlersE2E, MemberPaymentWalk) {
  // Register, replay.
  HttpReply r = post("/v1/members", R"({"member_id":42,"phone":"+86-138-0000-0042"})");
  ASSERT_EQ(r.status, 201u) << r.raw;
  EXPECT_EQ(num(r.body, {"member_id"}), 42);
  EXPECT_EQ(str(r.body, {"phone"}), "+86-138-0000-0042");
  EXPECT_EQ(str(r.body, {"wallet_enabled"}), "true");
  std::string created_at = str(r.body, {"created_at"});
  EXPECT_EQ(created_at.size(), 20u + (created_at.find('.') != std::string::npos ? 7u : 0u))
      << created_at;
  r = post("/v1/members", R"({"member_id":42,"phone":"+86-138-0000-0042"})");
  EXPECT_EQ(r.status, 200u) << r.raw;
  EXPECT_EQ(str(r.body, {"created_at"}), created_at);
  // Same member id, other phone: a different member.
  r = post("/v1/members", R"({"member_id":42,"phone":"+1-555"})");
  EXPECT_EQ(r.status, 409u) << r.raw;

  r = get("/v1/members/42");
  ASSERT_EQ(r.status, 200u) << r.raw;
  EXPECT_EQ(num(r.body, {"member_id"}), 42);
  EXPECT_EQ(str(r.body, {"phone"}), "+86-138-0000-0042");  // a text beside the member
  EXPECT_EQ(get("/v1/members/43").status, 404u);

  // Credit 10000, replay of the same credit id changes nothing.
  const std::string credit = R"({"credit_id":"c-1","amount":10000,"reason":"opening"})";
  r = post("/v1/members/42/credit", credit);
  ASSERT_EQ(r.status, 201u) << r.raw;
  EXPECT_EQ(num(r.body, {"balance_after"}), 10000);
  r = post("/v1/members/42/credit", credit);
  EXPECT_EQ(r.status, 201u) << r.raw;
  r = post("/v1/members/42/credit", R"({"credit_id":"c-1","amount":5,"reason":"other"})");
  EXPECT_EQ(r.status, 409u) << r.raw;
  EXPECT_EQ(error_code(r), "ID_REUSED");

  r = put("/v1/merchants/7", R"({"name":"Tea House","split_payment_allowed":false})");
  ASSERT_EQ(r.status, 200u) << r.raw;

  // Pay 2500, captured at once.
  r = post("/v1/payments",
           R"({"payment_id":"p-1","member_id":42,"merchant_id":"7","amount":2500})");
  ASSERT_EQ(r.status, 201u) << r.raw;
  EXPECT_EQ(str(r.body, {"state"}), "captured");
  EXPECT_EQ(num(r.body, {"wallet_amount"}), 2500);

  // Too much: 422 and nothing moves.
  r = post("/v1/payments",
           R"({"payment_id":"p-2","member_id":42,"merchant_id":"7","amount":99999})");
  EXPECT_EQ(r.status, 422u) << r.raw;
  EXPECT_EQ(error_code(r), "INSUFFICIENT_FUNDS");
  r = get("/v1/members/42/balance");
  ASSERT_EQ(r.status, 200u) << r.raw;
  EXPECT_EQ(num(r.body, {"wallet", "balance"}), 7500);
  EXPECT_EQ(num(r.body, {"wallet", "available"}), 7500);
  EXPECT_EQ(num(r.body, {"wallet", "held"}), 0);

  // Two-phase: hold 3000, capture 2000 of it; the rest is released.
  r = post(
      "/v1/payments",
      R"({"payment_id":"p-3","member_id":42,"merchant_id":"7","amount":3000,"capture":false})");
  ASSERT_EQ(r.status, 201u) << r.raw;
  EXPECT_EQ(str(r.body, {"state"}), "held");
  EXPECT_NE(str(r.body, {"expires_at"}).find('Z'), std::string::npos) << r.raw;
  r = get("/v1/members/42/balance");
  EXPECT_EQ(num(r.body, {"wallet", "held"}), 3000);
  EXPECT_EQ(num(r.body, {"wallet", "available"}), 4500);
  r = post("/v1/payments/p-3/capture", R"({"amount":2000})");
  ASSERT_EQ(r.status, 200u) << r.raw;
  EXPECT_EQ(str(r.body, {"state"}), "captured");
  EXPECT_EQ(num(r.body, {"captured"}), 2000);
  r = post("/v1/payments/p-3/void", "{}");
  EXPECT_EQ(r.status, 409u) << r.raw;
  EXPECT_EQ(error_code(r), "INVALID_STATE");
  r = get("/v1/members/42/balance");
  EXPECT_EQ(num(r.body, {"wallet", "balance"}), 5500);
  EXPECT_EQ(num(r.body, {"wallet", "held"}), 0);

  // Refund 500 of p-3; more than remains is refused.
  r = post("/v1/payments/p-3/refunds", R"({"refund_id":"r-1","amount":500})");
  ASSERT_EQ(r.status, 201u) << r.raw;
  EXPECT_EQ(num(r.body, {"wallet_amount"}), 500);
  r = post("/v1/payments/p-3/refunds", R"({"refund_id":"r-2","amount":1501})");
  EXPECT_EQ(r.status, 422u) << r.raw;
  EXPECT_EQ(error_code(r), "LIMIT_EXCEEDED");
  r = get("/v1/payments/p-3");
  ASSERT_EQ(r.status, 200u) << r.raw;
  EXPECT_EQ(num(r.body, {"refunded"}), 500);
  EXPECT_EQ(get("/v1/payments/nope").status, 404u);
  r = get("/v1/members/42/balance");
  EXPECT_EQ(num(r.body, {"wallet", "balance"}), 6000);

  // Hold then void: everything comes back.
  r = post(
      "/v1/payments",
      R"({"payment_id":"p-4","member_id":42,"merchant_id":"7","amount":1000,"capture":false})");
  ASSERT_EQ(r.status, 201u) << r.raw;
  r = post("/v1/payments/p-4/void", "{}");
  ASSERT_EQ(r.status, 200u) << r.raw;
  EXPECT_EQ(str(r.body, {"state"}), "voided");

  // Debit, then a disabled wallet refuses payments.
  r = post("/v1/members/42/debit", R"({"debit_id":"d-1","amount":1000,"reason":"fix"})");
  ASSERT_EQ(r.status, 201u) << r.raw;
  EXPECT_EQ(num(r.body, {"balance_after"}), 5000);
  r = put("/v1/members/42/wallet", R"({"enabled":false})");
  ASSERT_EQ(r.status, 200u) << r.raw;
  EXPECT_EQ(str(r.body, {"wallet_enabled"}), "false");
  r = post("/v1/payments", R"({"payment_id":"p-5","member_id":42,"merchant_id":"7","amount":10})");
  EXPECT_EQ(r.status, 422u) << r.raw;
  EXPECT_EQ(error_code(r), "WALLET_DISABLED");
  r = put("/v1/members/42/wallet", R"({"enabled":true})");
  EXPECT_EQ(str(r.body, {"wallet_enabled"}), "true");

  // Points (P2): below the minimum, then beyond the balance; "rule" says which.
  r = post("/v1/members/42/credit",
           R"({"credit_id":"c-pts","amount":50,"asset":"points","reason":"welcome"})");
  ASSERT_EQ(r.status, 201u) << r.raw;
  EXPECT_EQ(str(r.body, {"asset"}), "points");
  r = post("/v1/payments",
           R"({"payment_id":"p-7","member_id":42,"merchant_id":"7","amount":1000,"points":5})");
  EXPECT_EQ(r.status, 422u) << r.raw;
  EXPECT_EQ(error_code(r), "POINTS_RULE");
  EXPECT_EQ(str(r.body, {"error", "rule"}), "min");
  r = post("/v1/payments",
           R"({"payment_id":"p-8","member_id":42,"merchant_id":"7","amount":1000,"points":60})");
  EXPECT_EQ(r.status, 422u) << r.raw;
  EXPECT_EQ(str(r.body, {"error", "rule"}), "balance");
  r = get("/v1/members/42/balance");
  EXPECT_EQ(num(r.body, {"points", "balance"}), 50);
  EXPECT_EQ(num(r.body, {"wallet", "balance"}), 5000);

  // Strict bodies and auth.
  r = post("/v1/members", R"({"member_id":43,"nickname":"x"})");
  EXPECT_EQ(r.status, 400u) << r.raw;
  EXPECT_EQ(error_code(r), "INVALID_REQUEST");
  EXPECT_EQ(get("/v1/members/43").status, 404u);
  r = post("/v1/payments", R"({"payment_id":"p-6","member_id":42,"merchant_id":"7","amount":"5"})");
  EXPECT_EQ(r.status, 400u) << r.raw;
  r = http(port_, "GET", "/v1/members/42", "", "");
  EXPECT_EQ(r.status, 401u) << r.raw;
  EXPECT_EQ(error_code(r), "UNAUTHENTICATED");
}

TEST_F(HandlersE2E, LedgerDownIsUnavailable) {
  ASSERT_EQ(post("/v1/members", R"({"member_id":1})").status, 201u);
  ledger_.reset();  // SIGKILL
  HttpReply r = get("/v1/members/1");
  EXPECT_EQ(r.status, 503u) << r.raw;
  EXPECT_EQ(error_code(r), "UNAVAILABLE");
}

}  // namespace
