#include "clients/domain_json.h"

#include <boost/json/array.hpp>
#include <cstring>
#include <string>

#include "clients/command_text_json.h"
#include "clients/domain_names.h"
#include "clients/rfc3339.h"

namespace coffer::client {

namespace json = boost::json;

namespace {

json::object asset_balance(int64_t balance, int64_t held, int64_t maturing) {
  json::object o;
  o["balance"] = balance;
  o["available"] = balance - held;
  o["held"] = held;
  o["maturing"] = maturing;
  return o;
}

json::object count_amount(int64_t count, int64_t amount) {
  json::object o;
  o["count"] = count;
  o["amount"] = amount;
  return o;
}

// object[name] when it is an object, else null (a payout kept beside its command).
json::value object_or_null(const json::object& object, std::string_view name) {
  auto it = object.find(name);
  if (it != object.end() && it->value().is_object()) return it->value();
  return nullptr;
}

}  // namespace

json::value time_or_null(int64_t time_us) {
  if (time_us <= 0) return nullptr;
  return json::value(format_rfc3339(time_us));
}

json::object member_json(const Reply& reply, const std::optional<std::string>& phone) {
  ReplyData d = reply_data(reply);
  json::object o;
  o["member_id"] = static_cast<uint64_t>(d.v[0]);
  o["group_id"] = d.aux32;
  o["phone"] = phone ? json::value(*phone) : json::value(nullptr);
  o["wallet_enabled"] = d.state != 0;
  o["cumulative_spend"] = d.v[2];
  o["created_at"] = format_rfc3339(d.v[3]);
  return o;
}

json::object balance_json(const Reply& reply) {
  ReplyData d = reply_data(reply);
  json::object o;
  o["wallet"] = asset_balance(d.v[0], d.v[1], d.v[2]);
  o["points"] = asset_balance(d.v[3], d.v[4], d.v[5]);
  o["wallet_enabled"] = d.state != 0;
  return o;
}

json::object money_json(bool credit, std::string_view op_id, uint64_t member_id, bool points,
                        const Reply& reply) {
  ReplyData d = reply_data(reply);
  json::object o;
  o[credit ? "credit_id" : "debit_id"] = op_id;
  o["member_id"] = member_id;
  o["asset"] = points ? "points" : "wallet";
  o["amount"] = d.v[0];
  o["balance_after"] = d.v[1];
  return o;
}

json::object merchant_json(std::string_view merchant_id, std::string_view name,
                           bool split_payment_allowed) {
  json::object o;
  o["merchant_id"] = merchant_id;
  o["name"] = name;
  o["split_payment_allowed"] = split_payment_allowed;
  return o;
}

json::object store_json(std::string_view merchant_id, std::string_view store_id,
                        std::string_view name, const std::optional<std::string>& address,
                        double lat, double lon) {
  json::object o;
  o["merchant_id"] = merchant_id;
  o["store_id"] = store_id;
  o["name"] = name;
  o["address"] = address ? json::value(*address) : json::value(nullptr);
  o["lat"] = lat;
  o["lon"] = lon;
  return o;
}

json::object group_set_json(const GroupBody& group, std::string_view name) {
  json::object o;
  o["group_id"] = group.group_id;
  o["name"] = name;
  o["cashback_bp"] = group.cashback_bp;
  o["earn_points_bp"] = group.earn_points_bp;
  o["use_points_bp"] = group.use_points_bp;
  o["upgrade_threshold"] = group.upgrade_threshold;
  return o;
}

json::object method_json(uint32_t method_id, std::string_view name, std::string_view channel,
                         bool enabled, std::span<const std::string> payee_accounts) {
  json::object o;
  o["method_id"] = method_id;
  o["name"] = name;
  o["channel"] = channel;
  o["enabled"] = enabled;
  json::array accounts;
  for (const std::string& p : payee_accounts)
    accounts.push_back(json::value(p));
  o["payee_accounts"] = std::move(accounts);
  return o;
}

json::object payment_json(std::string_view payment_id, const Reply& reply) {
  ReplyData d = reply_data(reply);
  json::object o;
  o["payment_id"] = payment_id;
  o["state"] = payment_state_name(d.state);
  o["amount"] = d.v[0];
  o["wallet_amount"] = d.v[1];
  o["points"] = d.v[2];
  o["points_value"] = d.v[3];
  // wallet + points value + external = amount (W2).
  o["external_amount"] = d.v[0] - d.v[1] - d.v[3];
  o["captured"] = d.v[4];
  o["refunded"] = d.v[5];
  if (d.state == payment_held || d.state == payment_awaiting_external) {
    o["expires_at"] = format_rfc3339(static_cast<int64_t>(d.aux32) * 1'000'000);
  }
  return o;
}

json::object refund_json(std::string_view refund_id, std::string_view payment_id,
                         const Reply& reply) {
  ReplyData d = reply_data(reply);
  json::object o;
  o["refund_id"] = refund_id;
  o["payment_id"] = payment_id;
  o["amount"] = d.v[0];
  o["wallet_amount"] = d.v[1];
  o["points_returned"] = d.v[2];
  o["external_refund_due"] = d.v[3];
  o["points_value"] = d.v[4];
  return o;
}

json::object recharge_json(json::value recharge_id, const Reply& reply,
                           const json::object& method_text) {
  ReplyData d = reply_data(reply);
  json::object o;
  o["recharge_id"] = std::move(recharge_id);
  o["member_id"] = static_cast<uint64_t>(d.v[3]);
  o["amount"] = d.v[0];
  o["method_id"] = d.aux32;
  o["channel"] = channel_name(d.detail);
  o["state"] = recharge_state_name(d.state);
  o["payee_index"] = d.aux16;
  json::value payee = nullptr;
  if (auto it = method_text.find("payee_accounts"); it != method_text.end() &&
                                                    it->value().is_array() &&
                                                    d.aux16 < it->value().as_array().size()) {
    payee = it->value().as_array()[d.aux16];
  }
  o["payee_account"] = payee;
  o["expires_at"] = format_rfc3339(d.v[1]);
  o["created_at"] = format_rfc3339(d.v[4]);
  o["confirmed_amount"] = d.v[2];
  return o;
}

json::object order_json(std::string_view order_ref, uint64_t member_id,
                        std::string_view merchant_id, const Reply& reply) {
  ReplyData d = reply_data(reply);
  json::array grants;
  const char* assets[2] = {"wallet", "points"};
  for (int k = 0; k < 2; k++) {
    json::object g;
    g["asset"] = assets[k];
    g["amount"] = d.v[2 * k];
    g["matures_at"] = format_rfc3339(d.v[2 * k + 1]);
    grants.push_back(std::move(g));
  }
  json::object o;
  o["order_ref"] = order_ref;
  o["member_id"] = member_id;
  o["merchant_id"] = merchant_id;
  o["group_id"] = d.aux32;
  o["grants"] = std::move(grants);
  return o;
}

json::object rebate_json(std::string_view rebate_id, uint64_t member_id, std::string_view source,
                         const Reply& reply) {
  ReplyData d = reply_data(reply);
  json::object o;
  o["rebate_id"] = rebate_id;
  o["member_id"] = member_id;
  o["amount"] = d.v[0];
  o["balance_after"] = d.v[1];
  o["source"] = source;
  return o;
}

json::object gift_json(std::string_view gift_id, uint64_t from_member, uint64_t to_member,
                       const std::optional<std::string>& message, const Reply& reply) {
  ReplyData d = reply_data(reply);
  json::object o;
  o["gift_id"] = gift_id;
  o["from_member"] = from_member;
  o["to_member"] = to_member;
  o["amount"] = d.v[0];
  o["balance_after"] = d.v[1];
  o["message"] = message ? json::value(*message) : json::value(nullptr);
  return o;
}

json::object gift_row_json(const QueryRow& row) {
  json::object text = parse_text(row.text);
  json::object g;
  g["gift_id"] = string_or_null(text, "ref");
  g["from_member"] = row.from_member_id;
  g["to_member"] = row.to_member_id;
  g["amount"] = row.amount;
  g["message"] = string_or_null(text, "message");
  g["created_at"] = format_rfc3339(static_cast<int64_t>(row.time_us));
  g["seq"] = row.seq;
  return g;
}

json::object withdrawal_json(json::value withdrawal_id, const Reply& reply,
                             const json::object& create_text, const json::object& decision_text) {
  ReplyData d = reply_data(reply);
  json::object o;
  o["withdrawal_id"] = std::move(withdrawal_id);
  o["member_id"] = static_cast<uint64_t>(d.v[1]);
  o["amount"] = d.v[0];
  o["state"] = withdrawal_state_name(d.state);
  o["created_at"] = time_or_null(d.v[2]);
  o["decided_at"] = time_or_null(d.v[3]);
  o["payout"] = object_or_null(create_text, "payout");
  o["feedback"] = string_or_null(decision_text, "feedback");
  o["note"] = string_or_null(decision_text, "note");
  return o;
}

json::object batch_json(std::string_view batch_id, const Reply& reply, const json::object& text) {
  ReplyData d = reply_data(reply);
  const int64_t face = d.v[5];
  json::object o;
  o["batch_id"] = batch_id;
  o["merchant_id"] = string_or_null(text, "merchant_id");
  o["kind"] = d.detail == voucher_paper ? "paper" : "card";
  o["face_value"] = face;
  o["quantity"] = d.v[0];
  o["state"] = batch_state_name(d.state);
  o["valid_from"] = string_or_null(text, "valid_from");
  o["valid_until"] = string_or_null(text, "valid_until");
  o["issued"] = count_amount(d.v[0], d.v[0] * face);
  o["redeemed"] = count_amount(d.v[1], d.v[2]);  // core sums what was redeemed
  o["expired"] = count_amount(d.v[3], d.v[3] * face);
  o["voided"] = count_amount(d.v[4], d.v[4] * face);
  const int64_t unredeemed = d.v[0] - d.v[1] - d.v[3] - d.v[4];
  o["unredeemed"] = count_amount(unredeemed, unredeemed * face);
  return o;
}

json::object voucher_redeem_json(bool paper, const Reply& reply, const json::object& batch_text) {
  ReplyData d = reply_data(reply);
  json::object o;
  o["batch_id"] = string_or_null(batch_text, "ref");
  o["face_value"] = d.v[0];
  o["redeemed_at"] = format_rfc3339(d.v[1]);
  if (!paper) o["member_id"] = static_cast<uint64_t>(d.v[2]);
  return o;
}

json::object voucher_redeemed_details(const Reply& reply, const json::object& where_text) {
  ReplyData d = reply_data(reply);
  json::object details;
  details["redeemed_at"] = format_rfc3339(d.v[1]);
  if (d.detail == voucher_paper) {
    json::value store = string_or_null(where_text, "store_id");
    details["store_id"] =
        store.is_string() ? store : json::value(std::to_string(static_cast<uint64_t>(d.v[2])));
  } else {
    details["store_id"] = nullptr;
    details["member_id"] = static_cast<uint64_t>(d.v[2]);
  }
  return details;
}

DomainConfig config_from_replies(const Reply& part0, const Reply& part1) {
  unsigned char bytes[2 * sizeof(ReplyData)];
  ReplyData d0 = reply_data(part0);
  ReplyData d1 = reply_data(part1);
  std::memcpy(bytes, &d0, sizeof d0);
  std::memcpy(bytes + sizeof d0, &d1, sizeof d1);
  static_assert(sizeof(DomainConfig) <= sizeof bytes);
  DomainConfig config;
  std::memcpy(&config, bytes, sizeof config);
  return config;
}

json::object guide_json(const json::object& text) {
  json::object g;
  json::value t = string_or_null(text, "text");
  json::value p = string_or_null(text, "path");
  g["text"] = t.is_null() ? json::value("") : t;
  g["path"] = p.is_null() ? json::value("") : p;
  auto amounts = text.find("amounts");
  g["amounts"] =
      amounts != text.end() && amounts->value().is_array() ? amounts->value() : json::array();
  return g;
}

json::object config_json(const DomainConfig& c, const json::object& guide_text) {
  json::object o;
  o["wallet_auto_open"] = c.wallet_auto_open != 0;
  o["default_group_id"] = c.default_group_id;
  o["wallet_gift_days"] = c.wallet_gift_days;
  o["points_gift_days"] = c.points_gift_days;
  o["withdraw_enabled"] = c.withdraw_enabled != 0;
  o["withdraw_max_rate_bp"] = c.withdraw_max_rate_bp;
  o["withdraw_reserve_min"] = c.withdraw_reserve_min;
  o["points_offset_rate"] = c.points_offset_rate;
  o["points_use_min"] = c.points_use_min;
  o["payment_hold_timeout_s"] = c.payment_hold_timeout_s;
  o["recharge_timeout_s"] = c.recharge_timeout_s;
  o["recharge_min"] = c.recharge_min;
  o["recharge_max"] = c.recharge_max;
  o["wallet_max_balance"] = c.wallet_max_balance;
  o["voucher_fail_limit"] = c.voucher_fail_limit;
  o["recharge_guide"] = guide_json(guide_text);
  return o;
}

json::value history_message(const json::object& text) {
  for (const char* key : {"message", "reason", "source", "feedback", "note"}) {
    json::value v = string_or_null(text, key);
    if (v.is_string()) return v;
  }
  return nullptr;
}

json::object history_entry_json(const QueryRow& row) {
  json::object text = parse_text(row.text);
  json::object e;
  e["seq"] = row.seq;
  e["time"] = format_rfc3339(static_cast<int64_t>(row.time_us));
  e["type"] = history_type(row.effect_kind, row.code, row.amount);
  e["effect"] = history_effect(row.effect_kind);
  e["amount"] = row.amount;
  e["balance_after"] = row.balance_after;
  e["held_after"] = row.held_after;
  e["maturing_after"] = row.maturing_after;
  e["ref"] = string_or_null(text, "ref");
  e["message"] = history_message(text);
  return e;
}

}  // namespace coffer::client
