// Strict JSON parsing, the declarative field reader and the error mapping.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "gateway/errors.h"
#include "gateway/json_util.h"

namespace coffer::gateway {
namespace {

boost::json::object obj(std::string_view text) {
  boost::json::object o;
  auto err = parse_json_object(text, &o);
  EXPECT_FALSE(err) << text << ": " << (err ? err->message : "");
  return o;
}

std::string field_of(const std::optional<ApiError>& e) {
  if (!e) return "<no error>";
  auto* f = e->details.if_contains("field");
  return f ? std::string(f->as_string()) : "<no field>";
}

TEST(ParseJsonObject, RejectsWhatIsNotOneObject) {
  for (const char* bad : {"{", "{\"a\":}", "[1,2]", "42", "\"s\"", "null", "{} {}", "{\"a\":1,}",
                          "{/*c*/}", "{\"a\":\"\xff\"}", "{'a':1}", "nul"}) {
    boost::json::object o;
    auto err = parse_json_object(bad, &o);
    ASSERT_TRUE(err) << bad;
    EXPECT_EQ(err->status, 400u);
    EXPECT_EQ(err->code, "INVALID_REQUEST");
  }
  // Nesting beyond json_depth_max.
  std::string deep(json_depth_max + 1, '[');
  deep = "{\"a\":" + deep + std::string(json_depth_max + 1, ']') + "}";
  boost::json::object o;
  EXPECT_TRUE(parse_json_object(deep, &o));
  // Duplicate keys, at any depth, are rejected rather than last-one-wins.
  for (const char* dup :
       {R"({"a":1,"a":-5})", R"({"x":{"b":1,"c":2,"b":3}})", R"({"l":[{"k":1},{"k":2,"k":2}]})"}) {
    auto err = parse_json_object(dup, &o);
    ASSERT_TRUE(err) << dup;
    EXPECT_EQ(err->status, 400u);
    EXPECT_NE(err->message.find("twice"), std::string::npos);
  }
  // The same key in sibling objects is fine.
  EXPECT_FALSE(parse_json_object(R"({"l":[{"k":1},{"k":2}],"k":{"k":{}}})", &o));
  // An empty body reads as {}.
  EXPECT_FALSE(parse_json_object("", &o));
  EXPECT_TRUE(o.empty());
}

struct Payment {
  std::string payment_id;
  uint64_t member_id = 0;
  int64_t amount = 0;
  std::optional<std::string> store_id;
  std::optional<int64_t> points;
  std::optional<bool> capture;
  std::optional<std::string> order_ref;
};

std::optional<ApiError> read_payment(std::string_view text, Payment* p) {
  boost::json::object o;
  if (auto err = parse_json_object(text, &o)) return err;
  ObjectReader r(o);
  r.id("payment_id", &p->payment_id)
      .u64("member_id", &p->member_id)
      .amount("amount", &p->amount)
      .id("store_id", &p->store_id)
      .amount("points", &p->points)
      .boolean("capture", &p->capture)
      .string("order_ref", &p->order_ref, 8);
  return r.finish();
}

TEST(ObjectReader, ReadsRequiredAndOptionalFields) {
  Payment p;
  auto err = read_payment(
      R"({"payment_id":"p-1","member_id":18446744073709551615,"amount":1500,"capture":false,"store_id":null})",
      &p);
  ASSERT_FALSE(err) << err->message;
  EXPECT_EQ(p.payment_id, "p-1");
  EXPECT_EQ(p.member_id, UINT64_MAX);
  EXPECT_EQ(p.amount, 1500);
  EXPECT_EQ(p.capture, false);
  EXPECT_FALSE(p.store_id);
  EXPECT_FALSE(p.points);
  EXPECT_FALSE(p.order_ref);
}

TEST(ObjectReader, RejectionsNameTheField) {
  struct Case {
    const char* body;
    const char* field;
  };
  const Case cases[] = {
      {R"({"member_id":1,"amount":1})", "payment_id"},                          // missing
      {R"({"payment_id":"p","member_id":1,"amount":1,"amonut":2})", "amonut"},  // unknown
      {R"({"payment_id":"p","member_id":1,"amount":"100"})", "amount"},         // string number
      {R"({"payment_id":"p","member_id":1,"amount":1.5})", "amount"},           // float
      {R"({"payment_id":"p","member_id":1,"amount":1e2})", "amount"},           // exponent
      {R"({"payment_id":"p","member_id":1,"amount":-1})", "amount"},            // negative
      {R"({"payment_id":"p","member_id":1,"amount":9223372036854775808})", "amount"},  // > i64
      {R"({"payment_id":"p","member_id":-1,"amount":1})", "member_id"},
      {R"({"payment_id":"p","member_id":"1","amount":1})", "member_id"},
      {R"({"payment_id":"p","member_id":18446744073709551616,"amount":1})", "member_id"},
      {R"({"payment_id":"p q","member_id":1,"amount":1})", "payment_id"},  // id syntax
      {R"({"payment_id":"","member_id":1,"amount":1})", "payment_id"},
      {R"({"payment_id":7,"member_id":1,"amount":1})", "payment_id"},
      {R"({"payment_id":"p","member_id":1,"amount":1,"capture":"true"})", "capture"},
      {R"({"payment_id":"p","member_id":1,"amount":1,"capture":1})", "capture"},
      {R"({"payment_id":"p","member_id":1,"amount":1,"order_ref":"123456789"})", "order_ref"},
      {R"({"payment_id":null,"member_id":1,"amount":1})", "payment_id"},
  };
  for (const Case& c : cases) {
    Payment p;
    auto err = read_payment(c.body, &p);
    ASSERT_TRUE(err) << c.body;
    EXPECT_EQ(err->status, 400u);
    EXPECT_EQ(err->code, "INVALID_REQUEST");
    EXPECT_EQ(field_of(err), c.field) << c.body;
    EXPECT_NE(err->message.find(c.field), std::string::npos) << err->message;
  }
  // 64-char ids pass, 65 do not; lengths count characters, not bytes.
  Payment p;
  std::string ok = R"({"payment_id":")" + std::string(64, 'a') +
                   R"(","member_id":1,"amount":0,"order_ref":"积分积分积分积分"})";
  EXPECT_FALSE(read_payment(ok, &p));
  std::string bad = R"({"payment_id":")" + std::string(65, 'a') + R"(","member_id":1,"amount":0})";
  EXPECT_EQ(field_of(read_payment(bad, &p)), "payment_id");
}

TEST(ObjectReader, TenantIdsAcceptStringsAndNonNegativeIntegers) {
  auto o = obj(R"({"merchant_id":7,"store_id":"s-1"})");
  ObjectReader r(o);
  std::string merchant;
  std::optional<std::string> store;
  r.tenant_id("merchant_id", &merchant).tenant_id("store_id", &store);
  EXPECT_FALSE(r.finish().has_value());
  EXPECT_EQ(merchant, "7");
  EXPECT_EQ(store, "s-1");
  for (const char* bad : {R"({"merchant_id":-7})", R"({"merchant_id":7.5})",
                          R"({"merchant_id":"a b"})", R"({"merchant_id":true})"}) {
    auto b = obj(bad);
    ObjectReader rb(b);
    std::string m;
    rb.tenant_id("merchant_id", &m);
    EXPECT_EQ(field_of(rb.finish()), "merchant_id") << bad;
  }
}

TEST(ObjectReader, NestedObjectsAndArrays) {
  auto o = obj(R"({"payout":{"method":"bank","account":"6222"},
                   "lines":[{"amount":100},{"amount":50,"cashback_bp":300}],
                   "payee_accounts":["a","b"],"amounts":[1000,5000]})");
  std::string method, account;
  std::vector<std::pair<int64_t, std::optional<int64_t>>> lines;
  std::vector<std::string> payees;
  std::vector<int64_t> amounts;
  ObjectReader r(o);
  r.object("payout", Presence::required,
           [&](ObjectReader& p) { p.string("method", &method).string("account", &account); })
      .objects("lines", Presence::optional, 10,
               [&](ObjectReader& l, size_t i) {
                 EXPECT_EQ(i, lines.size());
                 int64_t amount = 0;
                 std::optional<int64_t> bp;
                 l.amount("amount", &amount).i64("cashback_bp", &bp, 0, 10000);
                 lines.emplace_back(amount, bp);
               })
      .strings("payee_accounts", Presence::required, &payees, 4, 32)
      .amounts("amounts", Presence::optional, &amounts, 8);
  ASSERT_FALSE(r.finish());
  EXPECT_EQ(method, "bank");
  EXPECT_EQ(account, "6222");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[1].first, 50);
  EXPECT_EQ(lines[1].second, 300);
  EXPECT_EQ(payees, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(amounts, (std::vector<int64_t>{1000, 5000}));

  auto nested_unknown = obj(R"({"payout":{"method":"bank","acount":"x"}})");
  ObjectReader r2(nested_unknown);
  r2.object("payout", Presence::required,
            [&](ObjectReader& p) { p.string("method", &method).string("account", &account); });
  EXPECT_EQ(field_of(r2.finish()), "payout.account");  // missing comes first

  auto nested_extra = obj(R"({"payout":{"method":"bank","account":"x","extra":1}})");
  ObjectReader r3(nested_extra);
  r3.object("payout", Presence::required,
            [&](ObjectReader& p) { p.string("method", &method).string("account", &account); });
  EXPECT_EQ(field_of(r3.finish()), "payout.extra");

  auto bad_line = obj(R"({"lines":[{"amount":1},{"amount":1,"cashback_bp":10001}]})");
  ObjectReader r4(bad_line);
  r4.objects("lines", Presence::required, 10, [&](ObjectReader& l, size_t) {
    int64_t amount;
    std::optional<int64_t> bp;
    l.amount("amount", &amount).i64("cashback_bp", &bp, 0, 10000);
  });
  EXPECT_EQ(field_of(r4.finish()), "lines[1].cashback_bp");

  auto too_many = obj(R"({"amounts":[1,2,3]})");
  ObjectReader r5(too_many);
  r5.amounts("amounts", Presence::required, &amounts, 2);
  EXPECT_EQ(field_of(r5.finish()), "amounts");

  auto not_array = obj(R"({"lines":{"amount":1}})");
  ObjectReader r6(not_array);
  r6.objects("lines", Presence::required, 10, [](ObjectReader&, size_t) {});
  EXPECT_EQ(field_of(r6.finish()), "lines");
}

TEST(ObjectReader, OneOfAndTimes) {
  auto o = obj(R"({"asset":"points","valid_from":"2026-01-01T08:00:00+08:00"})");
  std::optional<std::string> asset;
  int64_t from_us = 0;
  ObjectReader r(o);
  r.one_of("asset", &asset, {"wallet", "points"}).time_us("valid_from", &from_us);
  ASSERT_FALSE(r.finish());
  EXPECT_EQ(asset, "points");
  EXPECT_EQ(from_us, 1767225600LL * 1'000'000);

  auto bad = obj(R"({"asset":"cash"})");
  ObjectReader r2(bad);
  r2.one_of("asset", &asset, {"wallet", "points"});
  EXPECT_EQ(field_of(r2.finish()), "asset");

  auto bad_time = obj(R"({"valid_from":"2026-01-01 08:00"})");
  ObjectReader r3(bad_time);
  r3.time_us("valid_from", &from_us);
  EXPECT_EQ(field_of(r3.finish()), "valid_from");
}

TEST(Errors, ResultCodesMapToApiMd) {
  struct Row {
    ResultCode code;
    unsigned status;
    const char* text;
  };
  const Row rows[] = {
      {ResultCode::invalid_request, 400, "INVALID_REQUEST"},
      {ResultCode::not_found, 404, "NOT_FOUND"},
      {ResultCode::id_reused, 409, "ID_REUSED"},
      {ResultCode::invalid_state, 409, "INVALID_STATE"},
      {ResultCode::wallet_disabled, 422, "WALLET_DISABLED"},
      {ResultCode::insufficient_funds, 422, "INSUFFICIENT_FUNDS"},
      {ResultCode::points_rule, 422, "POINTS_RULE"},
      {ResultCode::split_not_allowed, 422, "SPLIT_NOT_ALLOWED"},
      {ResultCode::limit_exceeded, 422, "LIMIT_EXCEEDED"},
      {ResultCode::withdrawals_disabled, 422, "WITHDRAWALS_DISABLED"},
      {ResultCode::voucher_redeemed, 422, "VOUCHER_REDEEMED"},
      {ResultCode::voucher_expired, 422, "VOUCHER_EXPIRED"},
      {ResultCode::voucher_not_yet_valid, 422, "VOUCHER_NOT_YET_VALID"},
      {ResultCode::voucher_void, 422, "VOUCHER_VOID"},
      {ResultCode::voucher_wrong_merchant, 422, "VOUCHER_WRONG_MERCHANT"},
      {ResultCode::voucher_wrong_kind, 422, "VOUCHER_WRONG_KIND"},
      {ResultCode::rate_limited, 429, "RATE_LIMITED"},
      {ResultCode::unavailable, 503, "UNAVAILABLE"},
      {ResultCode::unauthenticated, 401, "UNAUTHENTICATED"},
      {ResultCode::forbidden, 403, "FORBIDDEN"},
      {ResultCode::storage_error, 503, "UNAVAILABLE"},
  };
  EXPECT_EQ(std::size(rows) + 1, result_code_count);  // + ok
  for (const Row& row : rows) {
    HttpErrorCode c = http_error_code(row.code);
    EXPECT_EQ(c.status, row.status) << row.text;
    EXPECT_EQ(c.code, row.text);
  }
  EXPECT_EQ(http_error_code(uint32_t(9999)).status, 500u);
  EXPECT_EQ(static_cast<uint32_t>(ResultCode::storage_error), 21u);
}

TEST(Errors, BodyShape) {
  ApiError e = api_error(ResultCode::points_rule, "too many points");
  e.details["rule"] = "max_share";
  e.details["code"] = "IGNORED";  // details never replace code or message
  auto v = boost::json::parse(e.body());
  ASSERT_TRUE(v.is_object());
  EXPECT_EQ(v.as_object().size(), 1u);
  const auto& inner = v.at("error").as_object();
  EXPECT_EQ(inner.at("code").as_string(), "POINTS_RULE");
  EXPECT_EQ(inner.at("message").as_string(), "too many points");
  EXPECT_EQ(inner.at("rule").as_string(), "max_share");
  EXPECT_EQ(inner.size(), 3u);
}

TEST(Validation, IdsPhonesAndU64) {
  EXPECT_TRUE(is_valid_id("aZ09_.:-"));
  EXPECT_FALSE(is_valid_id(""));
  EXPECT_FALSE(is_valid_id("a/b"));
  EXPECT_FALSE(is_valid_id("a b"));
  EXPECT_FALSE(is_valid_id("é"));
  EXPECT_TRUE(is_valid_id(std::string(64, 'x')));
  EXPECT_FALSE(is_valid_id(std::string(65, 'x')));
  EXPECT_TRUE(is_valid_phone("+86-138"));
  EXPECT_FALSE(is_valid_phone("138 0013"));
  EXPECT_EQ(parse_u64("0"), 0u);
  EXPECT_EQ(parse_u64("18446744073709551615"), UINT64_MAX);
  EXPECT_FALSE(parse_u64("18446744073709551616"));
  EXPECT_FALSE(parse_u64("99999999999999999999"));
  EXPECT_FALSE(parse_u64("007"));
  EXPECT_FALSE(parse_u64(""));
  EXPECT_FALSE(parse_u64("1a"));
  EXPECT_EQ(utf8_length("积分"), 2u);
}

}  // namespace
}  // namespace coffer::gateway
