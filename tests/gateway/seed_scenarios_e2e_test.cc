// The seed scenarios of SPEC.md walked through HTTP exactly as API.md says,
// with cofferd and coffer-gateway running as programs: registration, recharge
// by WeChat Pay notification, payment with points, insufficient balance,
// refunds, withdrawal limit and review, voucher batch and redemption, gifts,
// history and the settlement report. Every step checks the balances it moved.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <ctime>
#include <string>

#include "tests/gateway/e2e_util.h"
#include "tests/gateway/fake_wechatpay.h"

namespace {

namespace json = boost::json;
namespace wx = coffer::gateway::wechatpay;
using coffer::testing::error_code;
using coffer::testing::HttpReply;
using coffer::testing::num;
using coffer::testing::Servers;
using coffer::testing::ServersOptions;
using coffer::testing::str;

std::string utc_day(std::time_t t) {
  char buf[32];
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::strftime(buf, sizeof buf, "%Y-%m-%dT00:00:00Z", &tm);
  return buf;
}

class SeedScenarios : public ::testing::Test {
 protected:
  void SetUp() override {
    signer_ = wx::generate_rsa(2048);
    apiv3_key_ = wx::random_alnum(32);
    ServersOptions o;
    o.wechatpay_public_pem = wx::public_pem(signer_.get());
    o.wechatpay_apiv3_key = apiv3_key_;
    servers_ = std::make_unique<Servers>("seed", o);
    ASSERT_TRUE(servers_->ready());
    key_ = servers_->admin_key();
  }

  HttpReply get(const std::string& target) { return servers_->get(target, key_); }
  HttpReply post(const std::string& target, const std::string& body) {
    return servers_->post(target, body, key_);
  }
  HttpReply put(const std::string& target, const std::string& body) {
    return servers_->put(target, body, key_);
  }

  // A WeChat Pay notification that `out_trade_no` was paid `total` fen.
  HttpReply notify(const std::string& out_trade_no, const std::string& transaction_id,
                   int64_t total) {
    json::object txn = wx::sample_transaction();
    txn["out_trade_no"] = out_trade_no;
    txn["transaction_id"] = transaction_id;
    txn["amount"].as_object()["total"] = total;
    txn["amount"].as_object()["payer_total"] = total;
    wx::BuildOptions b;
    b.signer = signer_.get();
    b.apiv3_key = apiv3_key_;
    b.timestamp_s = std::time(nullptr);
    wx::Built n = wx::build_notification(b, txn);
    std::string headers = "Wechatpay-Timestamp: " + n.timestamp +
                          "\r\nWechatpay-Nonce: " + n.nonce +
                          "\r\nWechatpay-Signature: " + n.signature +
                          "\r\nWechatpay-Serial: 5157F09EFDC096DE15EBE81A47057A72\r\n";
    return coffer::testing::http_call(servers_->port(), "POST", "/v1/wechatpay/notify", n.body, "",
                                      headers);
  }

  int64_t wallet(int member, const char* field = "balance") {
    HttpReply r = get("/v1/members/" + std::to_string(member) + "/balance");
    EXPECT_EQ(r.status, 200u) << r.raw;
    return num(r.body, {"wallet", field});
  }
  int64_t points(int member, const char* field = "balance") {
    HttpReply r = get("/v1/members/" + std::to_string(member) + "/balance");
    EXPECT_EQ(r.status, 200u) << r.raw;
    return num(r.body, {"points", field});
  }

  wx::Pkey signer_;
  std::string apiv3_key_;
  std::unique_ptr<Servers> servers_;
  std::string key_;
};

TEST_F(SeedScenarios, StoredValueLifecycle) {
  HttpReply r;
  // --- Set-up: a merchant with a store, a WeChat recharge method, withdrawals on.
  r = put("/v1/merchants/7", R"({"name":"Tea House"})");
  ASSERT_EQ(r.status, 200u) << r.raw;
  r = put("/v1/merchants/7/stores/s1",
          R"({"name":"Tea House Xuhui","lat":31.1880,"lon":121.4365,"address":"1 Road"})");
  ASSERT_EQ(r.status, 200u) << r.raw;
  r = put("/v1/recharge/methods/1", R"({"name":"WeChat Pay","channel":"wechat","enabled":true,)"
                                    R"("payee_accounts":["acct-A","acct-B"]})");
  ASSERT_EQ(r.status, 200u) << r.raw;
  r = put("/v1/config", R"({"withdraw_enabled":true})");
  ASSERT_EQ(r.status, 200u) << r.raw;
  EXPECT_EQ(str(r.body, {"withdraw_enabled"}), "true");
  EXPECT_EQ(num(r.body, {"withdraw_max_rate_bp"}), 6000);

  // --- Registration (M1, M2, M5): wallet open, default group 1, phone kept.
  r = post("/v1/members", R"({"member_id":1001,"phone":"13800001001"})");
  ASSERT_EQ(r.status, 201u) << r.raw;
  EXPECT_EQ(str(r.body, {"wallet_enabled"}), "true");
  EXPECT_EQ(num(r.body, {"group_id"}), 1);
  r = post("/v1/members", R"({"member_id":1002})");
  ASSERT_EQ(r.status, 201u) << r.raw;
  r = get("/v1/members/by-phone/13800001001");
  ASSERT_EQ(r.status, 200u) << r.raw;
  EXPECT_EQ(num(r.body, {"member_id"}), 1001);
  EXPECT_EQ(str(r.body, {"phone"}), "13800001001");

  // --- Recharge by WeChat notification (R1 rotation, R3, G3).
  r = post("/v1/recharges",
           R"({"recharge_id":"rc-1","member_id":1001,"amount":10000,"method_id":1})");
  ASSERT_EQ(r.status, 201u) << r.raw;
  EXPECT_EQ(str(r.body, {"state"}), "pending");
  std::string first_payee = str(r.body, {"payee_account"});
  r = post("/v1/recharges",
           R"({"recharge_id":"rc-2","member_id":1002,"amount":3000,"method_id":1})");
  ASSERT_EQ(r.status, 201u) << r.raw;
  EXPECT_NE(str(r.body, {"payee_account"}), first_payee) << "payee accounts rotate";
  EXPECT_EQ(wallet(1001), 0) << "nothing credited before the channel confirms";

  r = notify("rc-1", "4200000000000000000000000001", 10000);
  EXPECT_EQ(r.status, 204u) << r.raw;
  r = notify("rc-1", "4200000000000000000000000001", 10000);
  EXPECT_EQ(r.status, 204u) << "a duplicate is acknowledged: " << r.raw;
  EXPECT_EQ(wallet(1001), 10000) << "credited exactly once";
  r = get("/v1/recharges/rc-1");
  ASSERT_EQ(r.status, 200u) << r.raw;
  EXPECT_EQ(str(r.body, {"state"}), "paid");
  r = notify("rc-unknown", "4200000000000000000000000002", 500);
  EXPECT_EQ(r.status, 404u) << r.raw;
  r = notify("rc-2", "4200000000000000000000000003", 2999);  // paid the wrong amount
  EXPECT_EQ(r.status, 204u) << r.raw;
  EXPECT_EQ(wallet(1002), 0) << "an amount mismatch credits nothing";
  r = get("/v1/recharges/rc-2");
  EXPECT_EQ(str(r.body, {"state"}), "amount_mismatch") << r.raw;
  // Cash top-up for the second member (R4).
  r = post("/v1/members/1002/credit", R"({"credit_id":"cash-1","amount":2000,"reason":"cash"})");
  ASSERT_EQ(r.status, 201u) << r.raw;

  // --- Payment with points (P2): 100 points = 10.00 CNY, at most 50 % of 20.00.
  r = post("/v1/members/1001/credit",
           R"({"credit_id":"welcome-pts","amount":500,"asset":"points","reason":"welcome"})");
  ASSERT_EQ(r.status, 201u) << r.raw;
  r = post("/v1/payments", R"({"payment_id":"pay-pts-min","member_id":1001,"merchant_id":"7",)"
                           R"("amount":2000,"points":5})");
  EXPECT_EQ(r.status, 422u) << r.raw;
  EXPECT_EQ(error_code(r), "POINTS_RULE");
  EXPECT_EQ(str(r.body, {"error", "rule"}), "min");
  r = post("/v1/payments", R"({"payment_id":"pay-pts-share","member_id":1001,"merchant_id":"7",)"
                           R"("amount":2000,"points":200})");
  EXPECT_EQ(r.status, 422u) << r.raw;
  EXPECT_EQ(str(r.body, {"error", "rule"}), "max_share");
  r = post("/v1/payments", R"({"payment_id":"pay-1","member_id":1001,"merchant_id":"7",)"
                           R"("store_id":"s1","order_ref":"order-1","amount":2000,"points":100})");
  ASSERT_EQ(r.status, 201u) << r.raw;
  EXPECT_EQ(str(r.body, {"state"}), "captured");
  EXPECT_EQ(num(r.body, {"wallet_amount"}), 1000);
  EXPECT_EQ(num(r.body, {"points"}), 100);
  EXPECT_EQ(num(r.body, {"points_value"}), 1000);
  EXPECT_EQ(wallet(1001), 9000);
  EXPECT_EQ(points(1001), 400);

  // --- Insufficient balance (W2): 422 and nothing moves, not even points.
  r = post("/v1/payments", R"({"payment_id":"pay-big","member_id":1001,"merchant_id":"7",)"
                           R"("amount":999999,"points":100})");
  EXPECT_EQ(r.status, 422u) << r.raw;
  EXPECT_EQ(error_code(r), "INSUFFICIENT_FUNDS");
  EXPECT_EQ(wallet(1001), 9000);
  EXPECT_EQ(points(1001), 400);

  // --- Refunds (W4): half, then the rest exactly, then nothing more.
  r = post("/v1/payments/pay-1/refunds", R"({"refund_id":"rf-1","amount":1000})");
  ASSERT_EQ(r.status, 201u) << r.raw;
  EXPECT_EQ(num(r.body, {"wallet_amount"}), 500);
  EXPECT_EQ(num(r.body, {"points_returned"}), 50);
  EXPECT_EQ(num(r.body, {"external_refund_due"}), 0);
  r = post("/v1/payments/pay-1/refunds", R"({"refund_id":"rf-2","amount":1000})");
  ASSERT_EQ(r.status, 201u) << r.raw;
  EXPECT_EQ(num(r.body, {"wallet_amount"}), 500);
  EXPECT_EQ(num(r.body, {"points_returned"}), 50);
  r = post("/v1/payments/pay-1/refunds", R"({"refund_id":"rf-3","amount":1})");
  EXPECT_EQ(r.status, 422u) << r.raw;
  EXPECT_EQ(error_code(r), "LIMIT_EXCEEDED");
  EXPECT_EQ(wallet(1001), 10000);
  EXPECT_EQ(points(1001), 500);
  r = get("/v1/payments/pay-1");
  ASSERT_EQ(r.status, 200u) << r.raw;
  EXPECT_EQ(num(r.body, {"refunded"}), 2000);
  // A second payment that stays in the settlement report.
  r = post("/v1/payments", R"({"payment_id":"pay-2","member_id":1001,"merchant_id":"7",)"
                           R"("store_id":"s1","amount":1500})");
  ASSERT_EQ(r.status, 201u) << r.raw;
  EXPECT_EQ(wallet(1001), 8500);

  // --- Withdrawal limit and review (D2, D3). Defaults: min(60 %, balance - 50.00).
  r = get("/v1/members/1001/withdrawal-limit");
  ASSERT_EQ(r.status, 200u) << r.raw;
  EXPECT_EQ(num(r.body, {"max_withdrawable"}), 3500);  // min(5100, 8500 - 5000)
  const std::string payout = R"("payout":{"method":"bank","account":"6222 0000 1111"})";
  // A refused request uses up its id (SPEC §0: a retry answers the same refusal).
  r = post("/v1/withdrawals",
           R"({"withdrawal_id":"wd-0","member_id":1001,"amount":3600,)" + payout + "}");
  EXPECT_EQ(r.status, 422u) << r.raw;
  EXPECT_EQ(error_code(r), "LIMIT_EXCEEDED");
  EXPECT_EQ(num(r.body, {"error", "max_withdrawable"}), 3500);
  r = post("/v1/withdrawals",
           R"({"withdrawal_id":"wd-0","member_id":1001,"amount":3600,)" + payout + "}");
  EXPECT_EQ(error_code(r), "LIMIT_EXCEEDED") << "the retry answers the first result: " << r.raw;
  r = post("/v1/withdrawals",
           R"({"withdrawal_id":"wd-1","member_id":1001,"amount":3000,)" + payout + "}");
  ASSERT_EQ(r.status, 201u) << r.raw;
  EXPECT_EQ(str(r.body, {"state"}), "pending");
  EXPECT_EQ(wallet(1001, "held"), 3000);
  EXPECT_EQ(wallet(1001, "available"), 5500);
  r = get("/v1/withdrawals?state=pending");
  ASSERT_EQ(r.status, 200u) << r.raw;
  EXPECT_NE(r.raw.find("wd-1"), std::string::npos) << r.raw;
  r = post("/v1/withdrawals/wd-1/reject", R"({"feedback":"account name does not match"})");
  ASSERT_EQ(r.status, 200u) << r.raw;
  EXPECT_EQ(str(r.body, {"state"}), "rejected");
  r = get("/v1/withdrawals/wd-1");
  ASSERT_EQ(r.status, 200u) << r.raw;
  EXPECT_EQ(str(r.body, {"state"}), "rejected");
  EXPECT_EQ(str(r.body, {"feedback"}), "account name does not match");
  EXPECT_EQ(wallet(1001, "held"), 0);
  EXPECT_EQ(wallet(1001), 8500);
  r = post("/v1/withdrawals/wd-1/approve", "{}");
  EXPECT_EQ(r.status, 409u) << "approve after reject: " << r.raw;
  EXPECT_EQ(error_code(r), "INVALID_STATE");
  r = post("/v1/withdrawals",
           R"({"withdrawal_id":"wd-2","member_id":1001,"amount":2000,)" + payout + "}");
  ASSERT_EQ(r.status, 201u) << r.raw;
  r = post("/v1/withdrawals/wd-2/approve", R"({"note":"paid by bank transfer"})");
  ASSERT_EQ(r.status, 200u) << r.raw;
  EXPECT_EQ(str(r.body, {"state"}), "approved");
  EXPECT_EQ(wallet(1001), 6500);
  EXPECT_EQ(wallet(1001, "held"), 0);

  // --- Voucher batch and redemption (V1-V4).
  r = post(
      "/v1/voucher-batches",
      R"({"batch_id":"vb-paper","merchant_id":"7","kind":"paper","face_value":5000,)"
      R"("quantity":3,"valid_from":"2020-01-01T00:00:00Z","valid_until":"2099-01-01T00:00:00Z"})");
  ASSERT_EQ(r.status, 201u) << r.raw;
  ASSERT_TRUE(r.body.at("codes").is_array()) << r.raw;
  ASSERT_EQ(r.body.at("codes").as_array().size(), 3u) << r.raw;
  std::string code0 = str(r.body.at("codes").as_array()[0], {"code"});
  std::string code1 = str(r.body.at("codes").as_array()[1], {"code"});
  EXPECT_NE(str(r.body.at("codes").as_array()[0], {"qr"}).find(code0), std::string::npos);
  r = post("/v1/vouchers/redeem",
           R"({"code":")" + code0 + R"(","merchant_id":"7","store_id":"s1"})");
  ASSERT_EQ(r.status, 200u) << r.raw;
  EXPECT_EQ(num(r.body, {"face_value"}), 5000);
  r = post("/v1/vouchers/redeem",
           R"({"code":")" + code0 + R"(","merchant_id":"7","store_id":"s1"})");
  EXPECT_EQ(r.status, 422u) << r.raw;
  EXPECT_EQ(error_code(r), "VOUCHER_REDEEMED");
  EXPECT_EQ(str(r.body, {"error", "store_id"}), "s1");
  r = put("/v1/merchants/8", R"({"name":"Noodle Bar"})");
  ASSERT_EQ(r.status, 200u) << r.raw;
  r = post("/v1/vouchers/redeem",
           R"({"code":")" + code1 + R"(","merchant_id":"8","store_id":"n1"})");
  EXPECT_EQ(r.status, 422u) << r.raw;
  EXPECT_EQ(error_code(r), "VOUCHER_WRONG_MERCHANT");
  r = post("/v1/vouchers/redeem", R"({"code":"2222-2222-2222","merchant_id":"7","store_id":"s1"})");
  EXPECT_EQ(r.status, 404u) << r.raw;
  r = get("/v1/voucher-batches/vb-paper");
  ASSERT_EQ(r.status, 200u) << r.raw;
  EXPECT_NE(r.raw.find("redeemed"), std::string::npos) << r.raw;

  r = post(
      "/v1/voucher-batches",
      R"({"batch_id":"vb-card","merchant_id":"7","kind":"card","face_value":2000,)"
      R"("quantity":1,"valid_from":"2020-01-01T00:00:00Z","valid_until":"2099-01-01T00:00:00Z"})");
  ASSERT_EQ(r.status, 201u) << r.raw;
  std::string card = str(r.body.at("codes").as_array()[0], {"code"});
  r = post("/v1/vouchers/redeem-to-wallet", R"({"code":")" + card + R"(","member_id":1002})");
  ASSERT_EQ(r.status, 200u) << r.raw;
  EXPECT_EQ(num(r.body, {"face_value"}), 2000);
  EXPECT_EQ(wallet(1002), 4000);  // 20.00 cash + 20.00 card

  // --- Gift (V6): both sides see it with its message.
  r = post("/v1/gifts", R"({"gift_id":"g-1","from_member":1001,"to_member":1002,)"
                        R"("amount":1000,"message":"生日快乐"})");
  ASSERT_EQ(r.status, 201u) << r.raw;
  EXPECT_EQ(wallet(1001), 5500);
  EXPECT_EQ(wallet(1002), 5000);
  r = get("/v1/members/1001/gifts?direction=sent");
  ASSERT_EQ(r.status, 200u) << r.raw;
  EXPECT_NE(r.raw.find("生日快乐"), std::string::npos) << r.raw;
  r = get("/v1/members/1002/gifts?direction=received");
  ASSERT_EQ(r.status, 200u) << r.raw;
  EXPECT_NE(r.raw.find("g-1"), std::string::npos) << r.raw;

  // --- History (M3): newest first, ending at the current balance.
  r = get("/v1/members/1001/history?asset=wallet&limit=3");
  ASSERT_EQ(r.status, 200u) << r.raw;
  const json::array& entries = r.body.at("entries").as_array();
  ASSERT_EQ(entries.size(), 3u) << r.raw;
  EXPECT_EQ(str(entries[0], {"type"}), "gift_sent");
  EXPECT_EQ(num(entries[0], {"amount"}), -1000);
  EXPECT_EQ(num(entries[0], {"balance_after"}), 5500);
  EXPECT_EQ(str(entries[0], {"ref"}), "g-1");
  EXPECT_GT(num(entries[0], {"seq"}), num(entries[1], {"seq"}));
  ASSERT_TRUE(r.body.at("next_cursor").is_string()) << r.raw;
  r = get("/v1/members/1001/history?asset=wallet&format=csv");
  ASSERT_EQ(r.status, 200u) << r.raw;
  EXPECT_NE(r.text().find("recharge"), std::string::npos) << r.raw;

  // --- Settlement report (A3): today's row for merchant 7, store s1.
  std::time_t now = std::time(nullptr);
  std::string q =
      "/v1/reports/settlement?merchant_id=7&from=" + utc_day(now) + "&to=" + utc_day(now + 86400);
  r = get(q);
  ASSERT_EQ(r.status, 200u) << r.raw;
  std::string body = json::serialize(r.body);
  int64_t payments_count = 0, payments_amount = 0, refunds = 0, vouchers = 0, net = 0;
  ASSERT_TRUE(r.body.is_object()) << r.raw;
  for (const auto& [name, value] : r.body.as_object()) {
    if (!value.is_array()) continue;
    for (const json::value& row : value.as_array()) {
      if (str(row, {"store_id"}) != "s1") continue;
      payments_count += num(row, {"payments_count"});
      payments_amount += num(row, {"payments_amount"});
      refunds += num(row, {"refunds_amount"});
      vouchers += num(row, {"voucher_amount"});
      net += num(row, {"net"});
    }
  }
  EXPECT_EQ(payments_count, 2) << body;
  EXPECT_EQ(payments_amount, 3500) << body;
  EXPECT_EQ(refunds, 2000) << body;
  EXPECT_EQ(vouchers, 5000) << body;
  EXPECT_EQ(net, 3500 - 2000 + 5000) << body;
  r = get(q + "&format=csv");
  ASSERT_EQ(r.status, 200u) << r.raw;
  EXPECT_EQ(r.text().rfind("date,merchant_id,store_id,payments_count,payments_amount,"
                           "refunds_amount,voucher_count,voucher_amount,net",
                           0),
            0u)
      << r.raw;
}

}  // namespace
