// Route table, router (typed parameters, query strings, 404/405), auth over
// every route x every role, tenant scoping and the OpenAPI document.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <set>
#include <string>

#include "gateway/openapi.h"
#include "gateway/router.h"
#include "gateway/routes.h"

namespace coffer::gateway {
namespace {

namespace http = boost::beast::http;

// A concrete path for a pattern, with valid parameter values.
std::string concrete(std::string_view pattern) {
  std::string out;
  size_t i = 0;
  while (i < pattern.size()) {
    if (pattern[i] == '{') {
      size_t close = pattern.find('}', i);
      std::string_view name = pattern.substr(i + 1, close - i - 1);
      switch (param_kind(name)) {
        case ParamKind::u64:
          out += "42";
          break;
        case ParamKind::id:
          out += "id-1";
          break;
        case ParamKind::phone:
          out += "13800138000";
          break;
      }
      i = close + 1;
    } else {
      out += pattern[i++];
    }
  }
  return out;
}

http::verb verb(Method m) {
  switch (m) {
    case Method::get:
      return http::verb::get;
    case Method::put:
      return http::verb::put;
    case Method::post:
      return http::verb::post;
    case Method::del:
      return http::verb::delete_;
  }
  return http::verb::unknown;
}

struct Answer {
  const RouteSpec* route = nullptr;
  Response response;
  bool called = false;
};

Answer run(const Router& router, http::verb method, std::string target, std::string key = {},
           std::string body = {}) {
  BeastRequest req{method, target, 11};
  if (!key.empty()) req.set(http::field::authorization, "Bearer " + key);
  req.body() = std::move(body);
  req.prepare_payload();
  Answer a;
  router.handle(std::move(req), [&a](const RouteSpec* route, Response r) {
    EXPECT_FALSE(a.called) << "answered twice";
    a.called = true;
    a.route = route;
    a.response = std::move(r);
  });
  EXPECT_TRUE(a.called) << "synchronous handlers must have answered";
  return a;
}

std::string error_code_of(const Response& r) {
  auto v = boost::json::parse(r.body);
  return std::string(v.at("error").at("code").as_string());
}

TEST(RouteTable, IdsInOrderAndPatternsUnique) {
  std::set<std::string> seen;
  size_t i = 0;
  for (const RouteSpec& r : route_table()) {
    EXPECT_EQ(static_cast<size_t>(r.id), i++);
    EXPECT_TRUE(seen.insert(route_label(r)).second) << "duplicate route " << route_label(r);
    EXPECT_EQ(r.pattern.front(), '/');
    if (r.auth == AuthKind::key) {
      EXPECT_NE(r.roles, 0) << route_label(r);
    } else {
      EXPECT_EQ(r.roles, 0) << route_label(r);
    }
  }
  EXPECT_EQ(route_table().size(), route_count);
}

TEST(RouteTable, RolesOfApiMd) {
  // Spot checks against API.md's Role column.
  EXPECT_EQ(route_spec(RouteId::config_put).roles, kP);
  EXPECT_EQ(route_spec(RouteId::payment_get).roles, kP | kS | kM);
  EXPECT_EQ(route_spec(RouteId::voucher_redeem).roles, kP | kM | kT);
  EXPECT_EQ(route_spec(RouteId::stores_nearby).roles, kAnyRole);
  EXPECT_EQ(route_spec(RouteId::withdrawals_list).roles, kP);
  EXPECT_EQ(route_spec(RouteId::withdrawal_get).roles, kP | kS);
  EXPECT_EQ(route_spec(RouteId::healthz).auth, AuthKind::none);
  EXPECT_EQ(route_spec(RouteId::metrics).auth, AuthKind::none);
  EXPECT_EQ(route_spec(RouteId::wechatpay_notify).auth, AuthKind::signature);
}

class RouterTest : public ::testing::Test {
 protected:
  RouterTest() : router_(&keys_) {
    keys_.add("kp", Principal{Role::platform, "", "", "p"});
    keys_.add("ks", Principal{Role::service, "", "", "s"});
    keys_.add("km", Principal{Role::merchant, "m1", "", "m"});
    keys_.add("kt", Principal{Role::store, "m1", "s1", "t"});
    for (const RouteSpec& r : route_table()) {
      router_.bind(r.id, [](const Request& req, Responder respond) {
        boost::json::object o;
        o["route"] = route_label(*req.route);
        o["role"] = req.principal ? role_name(req.principal->role) : "none";
        respond(json_response(299, o));
      });
    }
  }
  MemoryKeyResolver keys_;
  Router router_;
};

// Every route x every role: allowed roles reach the handler, others get 403,
// no key or an unknown key 401; routes without keys reach it without one.
TEST_F(RouterTest, EveryRouteEveryRole) {
  const std::pair<Role, const char*> roles[] = {
      {Role::platform, "kp"}, {Role::service, "ks"}, {Role::merchant, "km"}, {Role::store, "kt"}};
  for (const RouteSpec& r : route_table()) {
    std::string target = concrete(r.pattern);
    SCOPED_TRACE(route_label(r) + " as " + target);
    if (r.auth != AuthKind::key) {
      Answer a = run(router_, verb(r.method), target);
      EXPECT_EQ(a.response.status, 299u);
      EXPECT_EQ(a.route, &r);
      continue;
    }
    for (auto [role, key] : roles) {
      SCOPED_TRACE(role_name(role));
      Answer a = run(router_, verb(r.method), target, key);
      EXPECT_EQ(a.route, &r);
      if (r.roles & role_bit(role)) {
        ASSERT_EQ(a.response.status, 299u) << a.response.body;
        auto v = boost::json::parse(a.response.body);
        EXPECT_EQ(v.at("route").as_string(), route_label(r));
        EXPECT_EQ(v.at("role").as_string(), role_name(role));
      } else {
        EXPECT_EQ(a.response.status, 403u);
        EXPECT_EQ(error_code_of(a.response), "FORBIDDEN");
      }
    }
    Answer none = run(router_, verb(r.method), target);
    EXPECT_EQ(none.response.status, 401u);
    EXPECT_EQ(error_code_of(none.response), "UNAUTHENTICATED");
    Answer unknown = run(router_, verb(r.method), target, "no-such-key");
    EXPECT_EQ(unknown.response.status, 401u);
    EXPECT_EQ(error_code_of(unknown.response), "UNAUTHENTICATED");
  }
}

// Keys that cannot be read (the ledger is down) answer 503 UNAVAILABLE, not
// 401: the key may be good, and the caller should retry.
class UnavailableKeys final : public KeyResolver {
 public:
  void resolve(std::string_view key, Done done) const override {
    if (key == "boot") return done(KeyResolution::found(Principal{Role::platform, "", "", "b"}));
    done(KeyResolution::unavailable());
  }
};

TEST(RouterKeys, UnreadableKeysAnswer503) {
  UnavailableKeys keys;
  Router router(&keys);
  router.bind(RouteId::groups_list, [](const Request&, Responder respond) {
    respond(json_response(200, boost::json::object{}));
  });
  Answer a = run(router, http::verb::get, "/v1/groups", "ck_live_whatever");
  EXPECT_EQ(a.response.status, 503u);
  EXPECT_EQ(error_code_of(a.response), "UNAVAILABLE");
  EXPECT_EQ(run(router, http::verb::get, "/v1/groups", "boot").response.status, 200u);
  // No key at all is still 401: nothing to look up.
  EXPECT_EQ(run(router, http::verb::get, "/v1/groups").response.status, 401u);
}

TEST_F(RouterTest, MalformedAuthorizationHeaders) {
  for (std::string header : {"kp", "Basic kp", "Bearer", "Bearer ", "Bearer k p", "Bearerkp"}) {
    BeastRequest req{http::verb::get, "/v1/groups", 11};
    req.set(http::field::authorization, header);
    Answer a;
    router_.handle(std::move(req), [&a](const RouteSpec* route, Response r) {
      a.called = true;
      a.response = std::move(r);
    });
    EXPECT_EQ(a.response.status, 401u) << header;
  }
  // The scheme is case-insensitive.
  BeastRequest req{http::verb::get, "/v1/groups", 11};
  req.set(http::field::authorization, "bearer kp");
  Answer a;
  router_.handle(std::move(req), [&a](const RouteSpec*, Response r) { a.response = std::move(r); });
  EXPECT_EQ(a.response.status, 299u);
}

TEST_F(RouterTest, TypedPathParameters) {
  Router::Match m = router_.match(Method::get, "/v1/members/18446744073709551615/balance");
  ASSERT_FALSE(m.error);
  EXPECT_EQ(m.route->id, RouteId::member_balance);
  ASSERT_EQ(m.params.size(), 1u);
  EXPECT_EQ(m.params[0].name, "member_id");
  EXPECT_EQ(m.params[0].u64, UINT64_MAX);

  for (const char* bad : {"/v1/members/abc/balance", "/v1/members/-1/balance",
                          "/v1/members/18446744073709551616/balance", "/v1/members/01/balance",
                          "/v1/members/%31x/balance", "/v1/members/+1/balance"}) {
    Router::Match b = router_.match(Method::get, bad);
    ASSERT_TRUE(b.error) << bad;
    EXPECT_EQ(b.error->status, 400u) << bad;
    EXPECT_EQ(b.error->code, "INVALID_REQUEST");
    EXPECT_EQ(b.error->details.at("field").as_string(), "member_id");
  }

  Router::Match id = router_.match(Method::get, "/v1/payments/Order_1.2:3-x");
  ASSERT_FALSE(id.error);
  EXPECT_EQ(id.params[0].value, "Order_1.2:3-x");
  // Percent-encoded ids decode before validation.
  Router::Match enc = router_.match(Method::get, "/v1/payments/a%3Ab");
  ASSERT_FALSE(enc.error);
  EXPECT_EQ(enc.params[0].value, "a:b");
  std::string long_id(65, 'a');
  for (std::string bad : std::vector<std::string>{"/v1/payments/a%20b", "/v1/payments/a%2Fb",
                                                  "/v1/payments/" + long_id, "/v1/payments/%zz",
                                                  "/v1/payments/a%00"}) {
    Router::Match b = router_.match(Method::get, bad);
    ASSERT_TRUE(b.error) << bad;
    EXPECT_EQ(b.error->status, 400u) << bad;
  }
  EXPECT_FALSE(router_.match(Method::get, "/v1/payments/" + std::string(64, 'a')).error);
}

TEST_F(RouterTest, LiteralSegmentsWinOverParameters) {
  Router::Match m = router_.match(Method::get, "/v1/members/by-phone/+8613800138000");
  ASSERT_FALSE(m.error);
  EXPECT_EQ(m.route->id, RouteId::member_by_phone);
  EXPECT_EQ(m.params[0].value, "+8613800138000");
  EXPECT_EQ(router_.match(Method::post, "/v1/vouchers/redeem").route->id, RouteId::voucher_redeem);
  EXPECT_EQ(router_.match(Method::post, "/v1/vouchers/redeem-to-wallet").route->id,
            RouteId::voucher_redeem_to_wallet);
  EXPECT_EQ(router_.match(Method::get, "/v1/stores/nearby").route->id, RouteId::stores_nearby);
}

TEST_F(RouterTest, UnknownPathsAndMethods) {
  for (const char* path : {"/", "/v1", "/v1/", "/v1/nothing", "/v1/members/42/nothing",
                           "/v1/members//balance", "/v1/members/42/balance/", "relative"}) {
    Router::Match m = router_.match(Method::get, path);
    ASSERT_TRUE(m.error) << path;
    EXPECT_EQ(m.error->status, 404u) << path;
    EXPECT_EQ(m.error->code, "NOT_FOUND");
  }
  Router::Match m = router_.match(Method::del, "/v1/config");
  ASSERT_TRUE(m.error);
  EXPECT_EQ(m.error->status, 405u);
  EXPECT_EQ(m.error->code, "INVALID_REQUEST");
  EXPECT_EQ(m.error->details.at("allowed").as_string(), "GET, PUT");

  Answer a = run(router_, http::verb::patch, "/v1/payments", "kp");
  EXPECT_EQ(a.response.status, 405u);
  bool allow_header = false;
  for (auto& [k, v] : a.response.headers)
    allow_header |= k == "Allow" && v == "POST";
  EXPECT_TRUE(allow_header);
}

TEST_F(RouterTest, QueryStrings) {
  Router::Match m =
      router_.match(Method::get, "/v1/members/7/history?asset=points&limit=10&cursor=AAAAAAAAAAE");
  ASSERT_FALSE(m.error) << m.error->message;
  EXPECT_EQ(*m.query.get("asset"), "points");
  ListParams lp;
  ASSERT_FALSE(parse_list_params(m.query, &lp));
  EXPECT_EQ(lp.limit, 10u);
  EXPECT_EQ(cursor_u64(lp.cursor), 1u);

  Router::Match dec = router_.match(
      Method::get,
      "/v1/reports/settlement?merchant_id=m%201&from=2026-01-01T00%3A00%3A00%2B08%3A00");
  ASSERT_FALSE(dec.error);
  EXPECT_EQ(*dec.query.get("merchant_id"), "m 1");
  EXPECT_EQ(*dec.query.get("from"), "2026-01-01T00:00:00+08:00");

  for (const char* bad : {"/v1/members/7/history?nope=1", "/v1/members/7/history?limit=1&limit=2",
                          "/v1/members/7/history?asset=%zz", "/v1/members/7/balance?asset=wallet",
                          "/v1/members/7/history?=x"}) {
    Router::Match b = router_.match(Method::get, bad);
    ASSERT_TRUE(b.error) << bad;
    EXPECT_EQ(b.error->status, 400u) << bad;
  }
  Router::Match unknown = router_.match(Method::get, "/v1/members/7/history?asst=wallet");
  ASSERT_TRUE(unknown.error);
  EXPECT_EQ(unknown.error->details.at("field").as_string(), "asst");
}

TEST(Tenancy, MerchantAndStoreKeysSeeOnlyTheirOwn) {
  Principal p{Role::platform, "", "", ""};
  Principal s{Role::service, "", "", ""};
  Principal m{Role::merchant, "m1", "", ""};
  Principal t{Role::store, "m1", "s1", ""};
  EXPECT_TRUE(may_access_merchant(p, "m2"));
  EXPECT_TRUE(may_access_merchant(s, "m2"));
  EXPECT_TRUE(may_access_merchant(m, "m1"));
  EXPECT_FALSE(may_access_merchant(m, "m2"));
  EXPECT_FALSE(may_access_merchant(t, "m1"));  // a store sees its store only
  EXPECT_TRUE(may_access_store(m, "m1", "s9"));
  EXPECT_FALSE(may_access_store(m, "m2", "s1"));
  EXPECT_TRUE(may_access_store(t, "m1", "s1"));
  EXPECT_FALSE(may_access_store(t, "m1", "s2"));
  EXPECT_FALSE(may_access_store(t, "m2", "s1"));
  Principal broken{Role::merchant, "", "", ""};
  EXPECT_FALSE(may_access_merchant(broken, ""));
}

TEST(Responder, AnswersOnceAndDefaultsTo500) {
  int calls = 0;
  Response last;
  {
    Responder r(nullptr, [&](Response resp) {
      ++calls;
      last = std::move(resp);
    });
    Responder copy = r;
  }
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(last.status, 500u);
  calls = 0;
  {
    Responder r(nullptr, [&](Response resp) {
      ++calls;
      last = std::move(resp);
    });
    r(json_response(200, boost::json::object{}));
  }
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(last.status, 200u);
}

TEST_F(RouterTest, MetricsKeyIsConfigurable) {
  Answer open = run(router_, http::verb::get, "/metrics");
  EXPECT_EQ(open.response.status, 299u);
  Router strict(&keys_, RouterOptions{.metrics_require_key = true});
  strict.bind(RouteId::metrics, [](const Request&, Responder respond) {
    respond(text_response(299, "text/plain", ""));
  });
  EXPECT_EQ(run(strict, http::verb::get, "/metrics").response.status, 401u);
  for (const char* key : {"kp", "ks", "km", "kt"}) {
    EXPECT_EQ(run(strict, http::verb::get, "/metrics", key).response.status, 299u) << key;
  }
}

TEST_F(RouterTest, UnboundRouteIs501AndThrowingHandlerIs500) {
  Router bare(&keys_);
  Answer a = run(bare, http::verb::get, "/v1/groups", "kp");
  EXPECT_EQ(a.response.status, 501u);
  bare.bind(RouteId::groups_list, [](const Request&, Responder) { throw std::runtime_error("x"); });
  Answer b = run(bare, http::verb::get, "/v1/groups", "kp");
  EXPECT_EQ(b.response.status, 500u);
}

TEST(OpenApi, EveryRouteIsDocumentedAndNothingElse) {
  boost::json::object doc = openapi_document();
  EXPECT_EQ(doc.at("openapi").as_string().subview(0, 2), "3.");
  const auto& paths = doc.at("paths").as_object();
  std::set<std::string> documented;
  for (const auto& [path, item] : paths) {
    for (const auto& [method, op] : item.as_object()) {
      documented.insert(std::string(method) + " " + std::string(path));
      // Every path parameter of the pattern is declared.
      size_t declared = 0;
      if (auto* params = op.as_object().if_contains("parameters")) {
        for (const auto& p : params->as_array())
          declared += p.at("in").as_string() == "path";
      }
      size_t braces = 0;
      for (char c : std::string_view(path))
        braces += c == '{';
      EXPECT_EQ(declared, braces) << path;
    }
  }
  std::set<std::string> served;
  Router router(nullptr);
  for (const RouteSpec& r : route_table()) {
    std::string m(method_name(r.method));
    for (char& c : m)
      c = static_cast<char>(std::tolower(c));
    served.insert(m + " " + std::string(r.pattern));
    // The route is really served at that pattern.
    Router::Match match = router.match(r.method, concrete(r.pattern));
    ASSERT_FALSE(match.error) << route_label(r);
    EXPECT_EQ(match.route, &r);
  }
  EXPECT_EQ(documented, served);
  EXPECT_TRUE(doc.at("components").at("securitySchemes").at("bearer").at("scheme") == "bearer");
  EXPECT_TRUE(doc.at("components").at("schemas").as_object().contains("Error"));
  // The served text parses back to the same document.
  EXPECT_EQ(boost::json::parse(openapi_json()), boost::json::value(doc));
}

}  // namespace
}  // namespace coffer::gateway
