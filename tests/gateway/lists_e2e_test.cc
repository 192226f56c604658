// SPEC A5's admin lists end to end (cofferd + coffer-gateway programs):
// GET /v1/members, GET /v1/recharges?state=, GET /v1/voucher-batches?merchant_id=,
// each walked page by page through "next_cursor" with a small ?limit=, and
// compared with what was created: every item exactly once, its state from
// core, its strings from its text.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "tests/gateway/e2e_util.h"

namespace {

namespace json = boost::json;
using coffer::testing::error_code;
using coffer::testing::HttpReply;
using coffer::testing::num;
using coffer::testing::Servers;
using coffer::testing::str;

class ListsE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    servers_ = std::make_unique<Servers>("lists");
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

  // Every item of a list, following next_cursor from `target`. Each page
  // holds at most `limit` items.
  std::vector<json::object> walk(const std::string& target, const std::string& field, int limit) {
    std::vector<json::object> all;
    std::string cursor;
    for (int page = 0; page < 100; page++) {
      std::string t = target + (target.find('?') == std::string::npos ? "?" : "&") +
                      "limit=" + std::to_string(limit);
      if (!cursor.empty()) t += "&cursor=" + cursor;
      HttpReply r = get(t);
      EXPECT_EQ(r.status, 200u) << t << " " << r.raw;
      if (r.status != 200u || !r.body.is_object()) return all;
      const json::value& items = r.body.at(field);
      EXPECT_LE(items.as_array().size(), size_t(limit)) << r.raw;
      for (const json::value& v : items.as_array())
        all.push_back(v.as_object());
      const json::value& next = r.body.at("next_cursor");
      if (next.is_null()) return all;
      cursor = std::string(next.as_string());
    }
    ADD_FAILURE() << "no end after 100 pages of " << target;
    return all;
  }

  std::unique_ptr<Servers> servers_;
  std::string key_;
};

TEST_F(ListsE2E, Members) {
  std::map<uint64_t, std::string> phones = {
      {11, "13800000011"}, {12, ""}, {13, "13800000013"}, {14, ""}, {15, "+86-139"}};
  for (const auto& [id, phone] : phones) {
    std::string body = R"({"member_id":)" + std::to_string(id);
    if (!phone.empty()) body += R"(,"phone":")" + phone + R"(")";
    body += "}";
    HttpReply r = post("/v1/members", body);
    ASSERT_EQ(r.status, 201u) << r.raw;
  }
  // A replay keeps one member; a failed create (bad group) lists nothing.
  ASSERT_EQ(post("/v1/members", R"({"member_id":11,"phone":"13800000011"})").status, 200u);
  EXPECT_NE(post("/v1/members", R"({"member_id":16,"group_id":99})").status, 201u);
  ASSERT_EQ(put("/v1/members/14/wallet", R"({"enabled":false})").status, 200u);

  for (int limit : {1, 2, 50}) {
    SCOPED_TRACE(limit);
    std::vector<json::object> all = walk("/v1/members", "members", limit);
    std::map<uint64_t, json::object> seen;
    for (const json::object& m : all) {
      uint64_t id = m.at("member_id").to_number<uint64_t>();
      EXPECT_TRUE(seen.emplace(id, m).second) << "member " << id << " listed twice";
    }
    ASSERT_EQ(seen.size(), phones.size());
    for (const auto& [id, phone] : phones) {
      ASSERT_EQ(seen.count(id), 1u) << id;
      const json::value& p = seen[id].at("phone");
      if (phone.empty()) {
        EXPECT_TRUE(p.is_null()) << id;
      } else {
        EXPECT_EQ(str(p, {}), phone) << id;
      }
      // State from core: the wallet switch just made.
      EXPECT_EQ(seen[id].at("wallet_enabled").as_bool(), id != 14) << id;
      EXPECT_EQ(num(seen[id], {"group_id"}), 1);
    }
  }
  HttpReply bad = get("/v1/members?cursor=nope!");
  EXPECT_EQ(bad.status, 400u);
  EXPECT_EQ(error_code(bad), "INVALID_REQUEST");
  EXPECT_EQ(get("/v1/members?limit=0").status, 400u);
  EXPECT_EQ(get("/v1/members?limit=1001").status, 400u);
}

TEST_F(ListsE2E, RechargesByState) {
  ASSERT_EQ(put("/v1/recharge/methods/1",
                R"({"name":"Cash","channel":"cash","enabled":true,"payee_accounts":["a","b"]})")
                .status,
            200u);
  ASSERT_EQ(post("/v1/members", R"({"member_id":7})").status, 201u);
  std::set<std::string> pending, paid;
  for (int i = 0; i < 7; i++) {
    std::string id = "rc-" + std::to_string(i);
    HttpReply r = post("/v1/recharges", R"({"recharge_id":")" + id +
                                            R"(","member_id":7,"amount":100,"method_id":1})");
    ASSERT_EQ(r.status, 201u) << r.raw;
    if (i % 3 == 1) {
      r = post("/v1/recharges/" + id + "/confirm",
               R"({"channel_txn_id":"t-)" + std::to_string(i) + R"(","amount":100})");
      ASSERT_EQ(r.status, 200u) << r.raw;
      ASSERT_EQ(str(r.body, {"state"}), "paid");
      paid.insert(id);
    } else {
      pending.insert(id);
    }
  }
  // Refused creates keep no text: not listed.
  EXPECT_NE(post("/v1/recharges",
                 R"({"recharge_id":"rc-bad","member_id":999,"amount":100,"method_id":1})")
                .status,
            201u);

  auto ids = [](const std::vector<json::object>& items) {
    std::multiset<std::string> out;
    for (const json::object& o : items)
      out.insert(std::string(o.at("recharge_id").as_string()));
    return out;
  };
  for (int limit : {1, 2, 3, 50}) {
    SCOPED_TRACE(limit);
    std::vector<json::object> p = walk("/v1/recharges?state=pending", "recharges", limit);
    EXPECT_EQ(ids(p), std::multiset<std::string>(pending.begin(), pending.end()));
    for (const json::object& o : p) {
      EXPECT_EQ(o.at("state").as_string(), "pending");
      EXPECT_EQ(o.at("amount").to_number<int64_t>(), 100);
      EXPECT_TRUE(o.at("payee_account").is_string());  // from the method's text
    }
    std::vector<json::object> q = walk("/v1/recharges?state=paid", "recharges", limit);
    EXPECT_EQ(ids(q), std::multiset<std::string>(paid.begin(), paid.end()));
    std::vector<json::object> all = walk("/v1/recharges", "recharges", limit);
    EXPECT_EQ(all.size(), pending.size() + paid.size());
  }
  EXPECT_TRUE(walk("/v1/recharges?state=expired", "recharges", 2).empty());
  HttpReply bad = get("/v1/recharges?state=done");
  EXPECT_EQ(bad.status, 400u);
  EXPECT_EQ(error_code(bad), "INVALID_REQUEST");
}

TEST_F(ListsE2E, VoucherBatchesAllAndByMerchant) {
  ASSERT_EQ(put("/v1/merchants/7", R"({"name":"Tea"})").status, 200u);
  ASSERT_EQ(put("/v1/merchants/tea-8", R"({"name":"Noodles"})").status, 200u);
  const std::vector<std::pair<std::string, std::string>> batches = {
      {"vb-1", "7"}, {"vb-2", "7"}, {"vb-3", "tea-8"}, {"vb-4", "7"}};
  for (const auto& [id, merchant] : batches) {
    HttpReply r =
        post("/v1/voucher-batches",
             R"({"batch_id":")" + id + R"(","merchant_id":")" + merchant +
                 R"(","kind":"paper","face_value":500,"quantity":3,)"
                 R"("valid_from":"2020-01-01T00:00:00Z","valid_until":"2099-01-01T00:00:00Z"})");
    ASSERT_EQ(r.status, 201u) << r.raw;
  }
  ASSERT_EQ(post("/v1/voucher-batches/vb-2/void", "{}").status, 200u);

  auto by_id = [](const std::vector<json::object>& items) {
    std::map<std::string, json::object> out;
    for (const json::object& o : items) {
      EXPECT_TRUE(out.emplace(std::string(o.at("batch_id").as_string()), o).second);
    }
    return out;
  };
  for (int limit : {1, 3, 50}) {
    SCOPED_TRACE(limit);
    auto all = by_id(walk("/v1/voucher-batches", "voucher_batches", limit));
    ASSERT_EQ(all.size(), batches.size());
    for (const auto& [id, merchant] : batches) {
      ASSERT_EQ(all.count(id), 1u) << id;
      EXPECT_EQ(str(all[id], {"merchant_id"}), merchant);
      EXPECT_EQ(num(all[id], {"issued", "count"}), 3);
      EXPECT_EQ(str(all[id], {"state"}), id == "vb-2" ? "voided" : "active");
    }
    auto seven = by_id(walk("/v1/voucher-batches?merchant_id=7", "voucher_batches", limit));
    EXPECT_EQ(seven.size(), 3u);
    EXPECT_EQ(seven.count("vb-3"), 0u);
    auto eight = by_id(walk("/v1/voucher-batches?merchant_id=tea-8", "voucher_batches", limit));
    ASSERT_EQ(eight.size(), 1u);
    EXPECT_EQ(eight.count("vb-3"), 1u);
  }
  EXPECT_TRUE(walk("/v1/voucher-batches?merchant_id=none", "voucher_batches", 5).empty());
}

}  // namespace
