// Roles and tenants end to end, over EVERY route of gateway/routes.h: cofferd
// and coffer-gateway run as programs (one pair for the whole table), keys of
// each role are made through POST /v1/api-keys (merchant and store keys of
// merchant "7" / store "s1"), and each route is called with no key and with
// each role's key:
//   no key                      -> 401 UNAUTHENTICATED
//   a role outside API.md's column -> 403 FORBIDDEN
//   an allowed role             -> neither 401 nor 403 (400/404/409/422 are fine:
//                                  the bodies are minimal)
// The roles of each row are API.md's column written out here, not read from
// the route table, so a wrong table fails. Then a merchant (and a store) key
// on another tenant's data -> 403 for every tenant-scoped route.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <ctime>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "gateway/routes.h"
#include "tests/gateway/e2e_util.h"

namespace {

namespace json = boost::json;
using coffer::gateway::AuthKind;
using coffer::gateway::kM;
using coffer::gateway::kT;
using coffer::gateway::Method;
using coffer::gateway::method_name;
using coffer::gateway::route_label;
using coffer::gateway::route_table;
using coffer::gateway::RouteId;
using coffer::gateway::RouteSpec;
using coffer::testing::error_code;
using coffer::testing::http_call;
using coffer::testing::HttpReply;
using coffer::testing::Servers;
using coffer::testing::str;

// One call of a route: API.md's roles for it ("PSMT" letters; "" for routes
// without keys) and a target and body that reach its handler.
struct Row {
  RouteId id;
  const char* roles;
  std::string target;
  std::string body;
};

constexpr const char* kRoleLetters = "PSMT";
constexpr const char* kRoleNames[] = {"platform", "service", "merchant", "store"};

std::string today() {
  char buf[16];
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

class RolesE2E : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    servers_ = new Servers("roles");
    if (!servers_->ready()) return;
    const std::string& admin = servers_->admin_key();
    auto must = [&](HttpReply r, unsigned status) {
      EXPECT_EQ(r.status, status) << r.raw;
      return r;
    };
    // Two merchants with a store each, a member with money, a payment and a
    // voucher batch of each merchant: the data the tenant checks look at.
    must(servers_->put("/v1/merchants/7", R"({"name":"Tea"})", admin), 200);
    must(servers_->put("/v1/merchants/8", R"({"name":"Noodles"})", admin), 200);
    must(
        servers_->put("/v1/merchants/7/stores/s1", R"({"name":"A","lat":31.1,"lon":121.4})", admin),
        200);
    must(
        servers_->put("/v1/merchants/7/stores/s9", R"({"name":"C","lat":31.3,"lon":121.4})", admin),
        200);
    must(
        servers_->put("/v1/merchants/8/stores/s2", R"({"name":"B","lat":31.2,"lon":121.4})", admin),
        200);
    must(servers_->put("/v1/recharge/methods/1",
                       R"({"name":"Cash","channel":"cash","enabled":true,"payee_accounts":["x"]})",
                       admin),
         200);
    must(servers_->post("/v1/members", R"({"member_id":42,"phone":"13800000042"})", admin), 201);
    must(servers_->post("/v1/members", R"({"member_id":43})", admin), 201);
    must(servers_->post("/v1/members/42/credit",
                        R"({"credit_id":"c-1","amount":1000000,"reason":"seed"})", admin),
         201);
    for (const char* m : {"7", "8"}) {
      std::string id = std::string("pay-") + m;
      must(servers_->post("/v1/payments",
                          R"({"payment_id":")" + id + R"(","member_id":42,"merchant_id":")" + m +
                              R"(","amount":1000})",
                          admin),
           201);
      must(servers_->post("/v1/voucher-batches",
                          R"({"batch_id":"vb-)" + std::string(m) + R"(","merchant_id":")" + m +
                              R"(","kind":"paper","face_value":100,"quantity":1,)"
                              R"("valid_from":"2020-01-01T00:00:00Z",)"
                              R"("valid_until":"2099-01-01T00:00:00Z"})",
                          admin),
           201);
    }
    must(
        servers_->post("/v1/recharges",
                       R"({"recharge_id":"r-1","member_id":42,"amount":100,"method_id":1})", admin),
        201);
    must(servers_->post("/v1/withdrawals",
                        R"({"withdrawal_id":"w-1","member_id":42,"amount":1,)"
                        R"("payout":{"method":"bank","account":"1"}})",
                        admin),
         422);  // withdrawals are off (D1): the id stays unknown, which is fine

    // Keys of each role, made through the API as a console would.
    const char* bodies[] = {R"({"role":"platform","name":"ops"})", R"({"role":"service"})",
                            R"({"role":"merchant","merchant_id":"7"})",
                            R"({"role":"store","merchant_id":"7","store_id":"s1"})"};
    for (int i = 0; i < 4; i++) {
      HttpReply r = must(servers_->post("/v1/api-keys", bodies[i], admin), 201);
      keys_[i] = str(r.body, {"key"});
    }
  }
  static void TearDownTestSuite() {
    delete servers_;
    servers_ = nullptr;
  }
  void SetUp() override { ASSERT_TRUE(servers_ != nullptr && servers_->ready()); }

  static HttpReply call(const RouteSpec& spec, const std::string& target, const std::string& body,
                        const std::string& key) {
    std::string m(method_name(spec.method));
    std::string b = body.empty() && spec.method != Method::get ? "{}" : body;
    return http_call(servers_->port(), m, target, b, key);
  }

  static Servers* servers_;
  static std::string keys_[4];
  static int unique_;
  static std::string unique(const std::string& prefix) {
    return prefix + std::to_string(++unique_);
  }
};

Servers* RolesE2E::servers_ = nullptr;
std::string RolesE2E::keys_[4];
int RolesE2E::unique_ = 0;

// API.md's endpoint table, a row per route; ids are fresh per call where a
// repeat would be a replay.
std::vector<Row> api_rows(const std::function<std::string(const std::string&)>& unique) {
  const std::string day = today();
  return {
      {RouteId::healthz, "", "/healthz", ""},
      {RouteId::metrics, "", "/metrics", ""},
      {RouteId::openapi, "PSMT", "/v1/openapi.json", ""},
      {RouteId::api_keys_create, "PM", "/v1/api-keys",
       R"({"role":"store","merchant_id":"7","store_id":"s1"})"},
      {RouteId::config_get, "P", "/v1/config", ""},
      {RouteId::config_put, "P", "/v1/config", R"({"points_use_min":10})"},
      {RouteId::group_put, "P", "/v1/groups/2",
       R"({"name":"g","cashback_bp":0,"earn_points_bp":0,"use_points_bp":0,"upgrade_threshold":0})"},
      {RouteId::groups_list, "PS", "/v1/groups", ""},
      {RouteId::merchant_put, "P", "/v1/merchants/9", R"({"name":"N"})"},
      {RouteId::store_put, "PM", "/v1/merchants/7/stores/s1",
       R"({"name":"A","lat":31.1,"lon":121.4})"},
      {RouteId::stores_nearby, "PSMT", "/v1/stores/nearby?lat=31.1&lon=121.4", ""},
      {RouteId::member_create, "PS", "/v1/members", R"({"member_id":)" + unique("") + "000}"},
      {RouteId::members_list, "P", "/v1/members?limit=2", ""},
      {RouteId::member_get, "PS", "/v1/members/42", ""},
      {RouteId::member_by_phone, "PS", "/v1/members/by-phone/13800000042", ""},
      {RouteId::member_wallet_put, "P", "/v1/members/43/wallet", R"({"enabled":true})"},
      {RouteId::member_balance, "PS", "/v1/members/42/balance", ""},
      {RouteId::member_history, "PS", "/v1/members/42/history?asset=wallet", ""},
      {RouteId::member_credit, "P", "/v1/members/43/credit",
       R"({"credit_id":")" + unique("cr-") + R"(","amount":1,"reason":"r"})"},
      {RouteId::member_debit, "P", "/v1/members/43/debit",
       R"({"debit_id":")" + unique("db-") + R"(","amount":1,"reason":"r"})"},
      {RouteId::recharge_methods_list, "PS", "/v1/recharge/methods", ""},
      {RouteId::recharge_method_put, "P", "/v1/recharge/methods/2",
       R"({"name":"Bank","channel":"bank","enabled":true,"payee_accounts":["b"]})"},
      {RouteId::recharge_create, "PS", "/v1/recharges",
       R"({"recharge_id":")" + unique("r-") + R"(","member_id":42,"amount":100,"method_id":1})"},
      {RouteId::recharges_list, "P", "/v1/recharges?state=pending", ""},
      {RouteId::recharge_get, "PS", "/v1/recharges/r-1", ""},
      {RouteId::recharge_confirm, "P", "/v1/recharges/r-1/confirm",
       R"({"channel_txn_id":"t-1","amount":100})"},
      {RouteId::payment_create, "PS", "/v1/payments",
       R"({"payment_id":")" + unique("p-") + R"(","member_id":42,"merchant_id":"7","amount":1})"},
      {RouteId::payment_get, "PSM", "/v1/payments/pay-7", ""},
      {RouteId::payment_capture, "PS", "/v1/payments/pay-7/capture", "{}"},
      {RouteId::payment_void, "PS", "/v1/payments/pay-7/void", "{}"},
      {RouteId::payment_refund, "PSM", "/v1/payments/pay-7/refunds",
       R"({"refund_id":")" + unique("rf-") + R"(","amount":1})"},
      {RouteId::order_complete, "PS", "/v1/orders/" + unique("o-") + "/complete",
       R"({"member_id":42,"merchant_id":"7","amount":100})"},
      {RouteId::rebate_create, "PS", "/v1/rebates",
       R"({"rebate_id":")" + unique("rb-") + R"(","member_id":42,"amount":1,"source":"s"})"},
      {RouteId::gift_create, "PS", "/v1/gifts",
       R"({"gift_id":")" + unique("g-") + R"(","from_member":42,"to_member":43,"amount":1})"},
      {RouteId::member_gifts, "PS", "/v1/members/42/gifts?direction=sent", ""},
      {RouteId::member_withdrawal_limit, "PS", "/v1/members/42/withdrawal-limit", ""},
      {RouteId::withdrawal_create, "PS", "/v1/withdrawals",
       R"({"withdrawal_id":")" + unique("w-") +
           R"(","member_id":42,"amount":1,"payout":{"method":"bank","account":"1"}})"},
      {RouteId::withdrawals_list, "P", "/v1/withdrawals?state=pending", ""},
      {RouteId::withdrawal_get, "PS", "/v1/withdrawals/w-1", ""},
      {RouteId::withdrawal_approve, "P", "/v1/withdrawals/w-1/approve", "{}"},
      {RouteId::withdrawal_reject, "P", "/v1/withdrawals/w-1/reject", R"({"feedback":"no"})"},
      {RouteId::voucher_batch_create, "P", "/v1/voucher-batches",
       R"({"batch_id":")" + unique("vb-") +
           R"(","merchant_id":"7","kind":"card","face_value":100,"quantity":1,)"
           R"("valid_from":"2020-01-01T00:00:00Z","valid_until":"2099-01-01T00:00:00Z"})"},
      {RouteId::voucher_batches_list, "PM", "/v1/voucher-batches?merchant_id=7", ""},
      {RouteId::voucher_batch_get, "PM", "/v1/voucher-batches/vb-7", ""},
      {RouteId::voucher_batch_void, "P", "/v1/voucher-batches/" + unique("none-") + "/void", "{}"},
      {RouteId::voucher_redeem, "PMT", "/v1/vouchers/redeem",
       R"({"code":"2222-2222-2222","merchant_id":"7","store_id":"s1"})"},
      {RouteId::voucher_redeem_to_wallet, "PS", "/v1/vouchers/redeem-to-wallet",
       R"({"code":"2222-2222-2222","member_id":42})"},
      {RouteId::settlement_report, "PMT", "/v1/reports/settlement?merchant_id=7&from=" + day, ""},
      {RouteId::wechatpay_notify, "", "/v1/wechatpay/notify", "{}"},
  };
}

TEST_F(RolesE2E, EveryRouteByEveryRole) {
  std::vector<Row> rows = api_rows([](const std::string& p) { return unique(p); });
  std::map<RouteId, const Row*> by_id;
  for (const Row& row : rows) {
    EXPECT_TRUE(by_id.emplace(row.id, &row).second) << "two rows for one route";
  }
  for (const RouteSpec& spec : route_table()) {
    SCOPED_TRACE(route_label(spec));
    auto it = by_id.find(spec.id);
    ASSERT_NE(it, by_id.end()) << "a route without a row in this table: add it";
    const Row& row = *it->second;

    HttpReply none = call(spec, row.target, row.body, "");
    if (spec.auth != AuthKind::key) {
      // /healthz, /metrics and the notify URL (signature, not key).
      EXPECT_EQ(std::string(row.roles), "");
      EXPECT_NE(none.status, 401u) << none.raw;
      EXPECT_NE(none.status, 403u) << none.raw;
      continue;
    }
    EXPECT_EQ(none.status, 401u) << none.raw;
    EXPECT_EQ(error_code(none), "UNAUTHENTICATED");

    for (int role = 0; role < 4; role++) {
      SCOPED_TRACE(kRoleNames[role]);
      const bool allowed = std::string(row.roles).find(kRoleLetters[role]) != std::string::npos;
      // Fresh ids for each call: a replay of another role's call would not
      // reach the same checks.
      std::vector<Row> fresh = api_rows([](const std::string& p) { return unique(p); });
      auto same =
          std::find_if(fresh.begin(), fresh.end(), [&](const Row& r) { return r.id == spec.id; });
      ASSERT_NE(same, fresh.end());
      HttpReply r = call(spec, same->target, same->body, keys_[role]);
      if (allowed) {
        EXPECT_NE(r.status, 401u) << r.raw;
        EXPECT_NE(r.status, 403u) << r.raw;
        EXPECT_LT(r.status, 500u) << r.raw;
      } else {
        EXPECT_EQ(r.status, 403u) << r.raw;
        EXPECT_EQ(error_code(r), "FORBIDDEN");
      }
    }
  }
}

// A merchant key of "7" on merchant "8"'s data, and the store key of 7/s1 on
// another store: 403 on every route a merchant or store key may call at all,
// except those that show no tenant's data (the OpenAPI document, stores
// nearby: public store locations).
TEST_F(RolesE2E, OtherTenantsDataIsForbidden) {
  const std::string day = today();
  struct Cross {
    RouteId id;
    int role;  // 2 merchant (of 7), 3 store (7/s1)
    std::string target;
    std::string body;
  };
  const std::vector<Cross> rows = {
      {RouteId::api_keys_create, 2, "/v1/api-keys",
       R"({"role":"store","merchant_id":"8","store_id":"s2"})"},
      {RouteId::store_put, 2, "/v1/merchants/8/stores/s2", R"({"name":"X","lat":1,"lon":1})"},
      {RouteId::payment_get, 2, "/v1/payments/pay-8", ""},
      {RouteId::payment_refund, 2, "/v1/payments/pay-8/refunds",
       R"({"refund_id":"x-1","amount":1})"},
      {RouteId::voucher_batches_list, 2, "/v1/voucher-batches?merchant_id=8", ""},
      {RouteId::voucher_batch_get, 2, "/v1/voucher-batches/vb-8", ""},
      {RouteId::voucher_redeem, 2, "/v1/vouchers/redeem",
       R"({"code":"2222-2222-2222","merchant_id":"8","store_id":"s2"})"},
      {RouteId::voucher_redeem, 3, "/v1/vouchers/redeem",
       R"({"code":"2222-2222-2222","merchant_id":"7","store_id":"s9"})"},
      {RouteId::voucher_redeem, 3, "/v1/vouchers/redeem",
       R"({"code":"2222-2222-2222","merchant_id":"8","store_id":"s2"})"},
      {RouteId::settlement_report, 2, "/v1/reports/settlement?merchant_id=8&from=" + day, ""},
      {RouteId::settlement_report, 3,
       "/v1/reports/settlement?merchant_id=7&store_id=s9&from=" + day, ""},
      {RouteId::settlement_report, 3, "/v1/reports/settlement?merchant_id=8&from=" + day, ""},
  };
  const std::set<RouteId> public_data = {RouteId::openapi, RouteId::stores_nearby};
  std::set<RouteId> covered;
  for (const Cross& c : rows) {
    const RouteSpec& spec = coffer::gateway::route_spec(c.id);
    SCOPED_TRACE(route_label(spec) + " as " + kRoleNames[c.role] + " " + c.target);
    HttpReply r = call(spec, c.target, c.body, keys_[c.role]);
    EXPECT_EQ(r.status, 403u) << r.raw;
    EXPECT_EQ(error_code(r), "FORBIDDEN");
    covered.insert(c.id);
  }
  for (const RouteSpec& spec : route_table()) {
    if (spec.auth != AuthKind::key || (spec.roles & (kM | kT)) == 0) continue;
    if (public_data.count(spec.id) != 0) continue;
    EXPECT_EQ(covered.count(spec.id), 1u)
        << route_label(spec) << ": a tenant-scoped route without a cross-tenant row";
  }

  // The same calls on the key's own tenant pass the checks.
  HttpReply own = servers_->get("/v1/payments/pay-7", keys_[2]);
  EXPECT_EQ(own.status, 200u) << own.raw;
  EXPECT_EQ(str(own.body, {"payment_id"}), "pay-7");
  EXPECT_EQ(servers_->get("/v1/payments/no-such", keys_[2]).status, 404u);
  own = servers_->get("/v1/voucher-batches", keys_[2]);  // a merchant key: its own list
  ASSERT_EQ(own.status, 200u) << own.raw;
  ASSERT_TRUE(own.body.at("voucher_batches").is_array());
  for (const json::value& b : own.body.at("voucher_batches").as_array()) {
    EXPECT_EQ(str(b, {"merchant_id"}), "7");
  }
  EXPECT_EQ(own.body.at("voucher_batches").as_array().empty(), false);
}

}  // namespace
