#include "clients/domain_commands.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <mutex>
#include <random>
#include <string>

#include "clients/command_text_json.h"
#include "clients/domain_ids.h"
#include "clients/domain_json.h"
#include "clients/domain_names.h"
#include "clients/rfc3339.h"
#include "net/ids.h"

namespace coffer::client {

namespace json = boost::json;

Id128 random_command_id() {
  static std::mutex mu;
  static std::mt19937_64 gen{std::random_device{}()};
  std::lock_guard<std::mutex> lock(mu);
  Id128 id{gen(), gen()};
  if (id.is_zero()) id.lo = 1;
  return id;
}

Command read_command(CommandKind kind) {
  Command c{};
  c.kind = kind;
  return c;
}

DomainCommand merchant_set_command(std::string_view merchant_id, std::string_view name,
                                   bool split_payment_allowed) {
  Command c{};
  c.kind = CommandKind::merchant_set;
  c.id = random_command_id();
  c.body.merchant.merchant_id = net::account_id_from_string(merchant_id);
  c.body.merchant.split_payment_allowed = split_payment_allowed ? 1 : 0;
  return {c, make_text(text_key("merchant", merchant_id), 0,
                       merchant_json(merchant_id, name, split_payment_allowed))};
}

DomainCommand store_set_command(std::string_view merchant_id, std::string_view store_id,
                                std::string_view name, const std::optional<std::string>& address,
                                double lat, double lon) {
  Command c{};
  c.kind = CommandKind::store_set;
  c.id = random_command_id();
  StoreBody& s = c.body.store;
  s.merchant_id = net::account_id_from_string(merchant_id);
  s.store_id = net::account_id_from_string(store_id);
  s.lat_udeg = static_cast<int32_t>(std::llround(lat * 1e6));
  s.lon_udeg = static_cast<int32_t>(std::llround(lon * 1e6));
  return {c, make_text(store_text_key(s.merchant_id, s.store_id), store_text_group(s.merchant_id),
                       store_json(merchant_id, store_id, name, address, lat, lon))};
}

DomainCommand group_set_command(uint32_t group_id, std::string_view name, uint32_t cashback_bp,
                                uint32_t earn_points_bp, uint32_t use_points_bp,
                                int64_t upgrade_threshold) {
  Command c{};
  c.kind = CommandKind::group_set;
  c.id = random_command_id();
  GroupBody& g = c.body.group;
  g.group_id = group_id;
  g.cashback_bp = cashback_bp;
  g.earn_points_bp = earn_points_bp;
  g.use_points_bp = use_points_bp;
  g.upgrade_threshold = upgrade_threshold;
  json::object text;
  text["name"] = name;
  return {c, make_text(group_text_key(group_id), 0, text)};
}

DomainCommand method_set_command(uint32_t method_id, std::string_view name,
                                 std::string_view channel, bool enabled,
                                 std::span<const std::string> payee_accounts) {
  Command c{};
  c.kind = CommandKind::recharge_method_set;
  c.id = random_command_id();
  MethodBody& m = c.body.method;
  m.method_id = method_id;
  m.channel = channel_from_name(channel).value_or(0);
  m.enabled = enabled ? 1 : 0;
  m.payee_count = static_cast<uint16_t>(payee_accounts.size());
  return {c, make_text(method_text_key(method_id), methods_text_group(),
                       method_json(method_id, name, channel, enabled, payee_accounts))};
}

DomainCommand member_register_command(uint64_t member_id, uint32_t group_id,
                                      const std::optional<std::string>& phone) {
  Command c{};
  c.kind = CommandKind::member_register;
  c.id = command_id("member", std::to_string(member_id));
  c.body.member.member_id = member_id;
  c.body.member.phone_hash = phone ? phone_hash(*phone) : 0;
  c.body.member.group_id = group_id;
  json::object text;
  text["member_id"] = member_id;
  if (phone) text["phone"] = *phone;
  return {c, make_text(member_text_key(member_id), members_text_group(), text)};
}

DomainCommand member_money_command(bool credit, std::string_view op_id, uint64_t member_id,
                                   int64_t amount, bool points, std::string_view reason) {
  Command c{};
  c.kind = credit ? CommandKind::member_credit : CommandKind::member_debit;
  c.id = command_id(credit ? "credit" : "debit", op_id);
  c.body.money.member_id = member_id;
  c.body.money.amount = amount;
  c.body.money.asset = points ? asset_points : asset_wallet;
  c.body.money.source = money_source_adjustment;
  json::object text;
  text["ref"] = op_id;
  text["reason"] = reason;
  return {c, make_text(c.id, 0, text)};
}

DomainCommand payment_create_command(std::string_view payment_id, uint64_t member_id,
                                     std::string_view merchant_id,
                                     const std::optional<std::string>& store_id,
                                     const std::optional<std::string>& order_ref, int64_t amount,
                                     int64_t points, int64_t external_amount, bool capture) {
  Command c{};
  c.kind = CommandKind::payment_create;
  c.id = command_id("payment", payment_id);
  PaymentBody& p = c.body.payment;
  p.member_id = member_id;
  p.merchant_id = net::account_id_from_string(merchant_id);
  p.store_id = store_id ? net::account_id_from_string(*store_id) : 0;
  p.order_ref = order_ref ? command_id("order", *order_ref) : Id128{};
  p.amount = amount;
  p.points = points;
  p.external_amount = external_amount;
  p.capture = capture ? 1 : 0;
  json::object text;
  text["ref"] = payment_id;
  text["merchant_id"] = merchant_id;
  if (store_id) text["store_id"] = *store_id;
  if (order_ref) text["order_ref"] = *order_ref;
  return {c, make_text(c.id, 0, text)};
}

Command payment_op_command(CommandKind kind, std::string_view payment_id, int64_t amount) {
  Command c{};
  c.kind = kind;
  c.id = command_id(kind == CommandKind::payment_capture ? "payment_capture" : "payment_void",
                    payment_id);
  c.body.payment_op.payment_id = command_id("payment", payment_id);
  c.body.payment_op.amount = amount;
  return c;
}

DomainCommand refund_command(std::string_view refund_id, std::string_view payment_id,
                             int64_t amount) {
  Command c{};
  c.kind = CommandKind::payment_refund;
  c.id = command_id("refund", refund_id);
  c.body.payment_op.payment_id = command_id("payment", payment_id);
  c.body.payment_op.amount = amount;
  json::object text;
  text["ref"] = refund_id;
  return {c, make_text(c.id, 0, text)};
}

DomainCommand recharge_create_command(std::string_view recharge_id, uint64_t member_id,
                                      int64_t amount, uint32_t method_id) {
  Command c{};
  c.kind = CommandKind::recharge_create;
  c.id = command_id("recharge", recharge_id);
  c.body.recharge.member_id = member_id;
  c.body.recharge.amount = amount;
  c.body.recharge.method_id = method_id;
  json::object text;
  text["ref"] = recharge_id;
  return {c, make_text(c.id, recharges_text_group(), text)};
}

Command recharge_confirm_command(std::string_view recharge_id, std::string_view channel_txn_id,
                                 int64_t amount) {
  Command c{};
  c.kind = CommandKind::recharge_confirm;
  c.id = recharge_confirm_id(recharge_id, channel_txn_id);
  c.body.recharge_confirm.recharge_id = command_id("recharge", recharge_id);
  c.body.recharge_confirm.channel_txn = net::id_from_string("channel_txn", channel_txn_id);
  c.body.recharge_confirm.amount = amount;
  return c;
}

DomainCommand order_complete_command(std::string_view order_ref, uint64_t member_id,
                                     std::string_view merchant_id, int64_t amount,
                                     const std::optional<std::string>& payment_id,
                                     std::optional<int64_t> received_at_us,
                                     std::span<const OrderLine> lines) {
  Command c{};
  c.kind = CommandKind::order_complete;
  c.id = command_id("order", order_ref);
  OrderBody& o = c.body.order;
  o.member_id = member_id;
  o.merchant_id = net::account_id_from_string(merchant_id);
  o.amount = amount;
  o.payment_id = payment_id ? command_id("payment", *payment_id) : Id128{};
  std::copy_n(lines.begin(), std::min<size_t>(lines.size(), order_lines_max), o.lines);
  json::object text;
  text["ref"] = order_ref;
  if (payment_id) text["payment_id"] = *payment_id;
  if (received_at_us) text["received_at"] = format_rfc3339(*received_at_us);
  return {c, make_text(c.id, 0, text)};
}

DomainCommand rebate_command(std::string_view rebate_id, uint64_t member_id, int64_t amount,
                             std::string_view source) {
  Command c{};
  c.kind = CommandKind::rebate;
  c.id = command_id("rebate", rebate_id);
  c.body.money.member_id = member_id;
  c.body.money.amount = amount;
  c.body.money.asset = asset_wallet;
  json::object text;
  text["ref"] = rebate_id;
  text["source"] = source;
  return {c, make_text(c.id, 0, text)};
}

DomainCommand gift_command(std::string_view gift_id, uint64_t from_member, uint64_t to_member,
                           int64_t amount, const std::optional<std::string>& message) {
  Command c{};
  c.kind = CommandKind::gift;
  c.id = command_id("gift", gift_id);
  c.body.gift.from_member_id = from_member;
  c.body.gift.to_member_id = to_member;
  c.body.gift.amount = amount;
  c.body.gift.message_length = message ? uint32_t(utf8_length(*message)) : 0;
  json::object text;
  text["ref"] = gift_id;
  if (message) text["message"] = *message;
  return {c, make_text(c.id, 0, text)};
}

json::object payout_json(std::string_view method, std::string_view account) {
  json::object payout;
  payout["method"] = method;
  payout["account"] = account;
  return payout;
}

DomainCommand withdrawal_create_command(std::string_view withdrawal_id, uint64_t member_id,
                                        int64_t amount, std::string_view method,
                                        std::string_view account) {
  Command c{};
  c.kind = CommandKind::withdrawal_create;
  c.id = command_id("withdrawal", withdrawal_id);
  c.body.withdrawal.member_id = member_id;
  c.body.withdrawal.amount = amount;
  c.body.withdrawal.payout_hash = payout_hash(method, account);
  json::object text;
  text["ref"] = withdrawal_id;
  text["payout"] = payout_json(method, account);
  return {c, make_text(c.id, 0, text)};
}

DomainCommand withdrawal_decide_command(bool approve, std::string_view withdrawal_id,
                                        const std::optional<std::string>& words) {
  Command c{};
  c.kind = approve ? CommandKind::withdrawal_approve : CommandKind::withdrawal_reject;
  c.id = command_id(approve ? "withdrawal_approve" : "withdrawal_reject", withdrawal_id);
  c.body.withdrawal_op.withdrawal_id = command_id("withdrawal", withdrawal_id);
  c.body.withdrawal_op.feedback_length = approve || !words ? 0 : uint32_t(utf8_length(*words));
  std::optional<CommandText> text;
  if (words) {
    json::object t;
    t["ref"] = withdrawal_id;
    t[approve ? "note" : "feedback"] = *words;
    text = make_text(c.id, 0, t);
  }
  return {c, std::move(text)};
}

Id128 withdrawal_decision_text_key(std::string_view withdrawal_id, uint8_t state) {
  if (state == withdrawal_approved) return command_id("withdrawal_approve", withdrawal_id);
  if (state == withdrawal_rejected) return command_id("withdrawal_reject", withdrawal_id);
  return Id128{};
}

std::vector<Id128> withdrawal_text_keys(std::string_view withdrawal_id, uint8_t state) {
  std::vector<Id128> keys{command_id("withdrawal", withdrawal_id)};
  const Id128 decision = withdrawal_decision_text_key(withdrawal_id, state);
  if (!decision.is_zero()) keys.push_back(decision);
  return keys;
}

Command voucher_batch_void_command(std::string_view batch_id) {
  Command c{};
  c.kind = CommandKind::voucher_batch_void;
  c.id = command_id("voucher_batch_void", batch_id);
  c.body.batch_codes.batch_id = command_id("voucher_batch", batch_id);
  return c;
}

Id128 voucher_redeemed_text_key(const Id128& code) {
  char hex[33];
  std::snprintf(hex, sizeof hex, "%016llx%016llx", static_cast<unsigned long long>(code.hi),
                static_cast<unsigned long long>(code.lo));
  return text_key("voucher_redeemed", hex);
}

DomainCommand voucher_redeem_command(bool paper, const Id128& code, std::string_view merchant_id,
                                     std::string_view store_id, uint64_t member_id) {
  Command c{};
  c.kind = paper ? CommandKind::voucher_redeem : CommandKind::voucher_redeem_to_wallet;
  c.id = random_command_id();  // a code redeems once: its state, not the id, refuses repeats
  RedeemBody& rb = c.body.redeem;
  rb.code = code;
  json::object text;
  if (paper) {
    rb.merchant_id = net::account_id_from_string(merchant_id);
    rb.store_id = net::account_id_from_string(store_id);
    text["merchant_id"] = merchant_id;
    text["store_id"] = store_id;
  } else {
    rb.member_id = member_id;
    text["member_id"] = member_id;
  }
  return {c, make_text(voucher_redeemed_text_key(code), 0, text)};
}

}  // namespace coffer::client
