// Payments, recharges, recharge methods and order completion (SPEC W1-W5, R1,
// R3, O1; gateway handlers.cc, handlers_admin.cc, handlers_rewards.cc).
#include <boost/json/array.hpp>

#include "clients/cli_domain.h"
#include "clients/domain_ids.h"
#include "clients/domain_names.h"
#include "net/ids.h"

namespace coffer::cli {
namespace {

// --- Payments ----------------------------------------------------------------

json::object payment_json(const std::string& payment_id, const Reply& reply) {
  ReplyData d = reply_data(reply);
  json::object o;
  o["payment_id"] = payment_id;
  o["state"] = client::payment_state_name(d.state);
  o["amount"] = d.v[0];
  o["wallet_amount"] = d.v[1];
  o["points"] = d.v[2];
  o["points_value"] = d.v[3];
  o["external_amount"] = d.v[0] - d.v[1] - d.v[3];  // wallet + points value + external = amount
  o["captured"] = d.v[4];
  o["refunded"] = d.v[5];
  if (d.state == payment_held || d.state == payment_awaiting_external) {
    o["expires_at"] = rfc3339_us(uint64_t(d.aux32) * 1'000'000);
  }
  if (replayed(reply)) o["replayed"] = true;
  return o;
}

int print_payment(Context& ctx, const std::string& payment_id, const Reply& reply) {
  if (reply.result != Result::ok) return refused(ctx, reply);
  print(ctx, payment_json(payment_id, reply));
  return exit_ok;
}

// A non-negative amount flag (0 when absent).
int optional_amount(const Args& a, const std::string& flag, int64_t* out) {
  *out = 0;
  if (!a.has(flag)) return exit_ok;
  if (parse_i64(a.get(flag), out) && *out >= 0) return exit_ok;
  return usage_error(flag + " wants an integer >= 0");
}

int cmd_pay(Context& ctx, const Args& a) {
  int64_t amount = 0, points = 0, external = 0;
  uint64_t member_id = 0;
  CLI_TRY(amount_arg(a.positionals[0], "AMOUNT", &amount));
  const std::string payment_id = a.get("--id");
  CLI_TRY(check_caller_id(payment_id, "--id"));
  CLI_TRY(member_arg(a.get("--member"), "--member", &member_id));
  const std::string merchant_id = a.get("--merchant");
  CLI_TRY(check_caller_id(merchant_id, "--merchant"));
  if (a.has("--store")) CLI_TRY(check_caller_id(a.get("--store"), "--store"));
  CLI_TRY(optional_amount(a, "--points", &points));
  CLI_TRY(optional_amount(a, "--external", &external));
  const std::string order_ref = a.get("--order-ref");
  if (a.has("--order-ref") &&
      (order_ref.empty() || client::utf8_length(order_ref) > client::order_ref_length_max))
    return usage_error("--order-ref wants 1-" + std::to_string(client::order_ref_length_max) +
                       " characters");
  Command c{};
  c.kind = CommandKind::payment_create;
  c.id = client::command_id("payment", payment_id);
  PaymentBody& p = c.body.payment;
  p.member_id = member_id;
  p.merchant_id = net::account_id_from_string(merchant_id);
  p.store_id = a.has("--store") ? net::account_id_from_string(a.get("--store")) : 0;
  p.order_ref = a.has("--order-ref") ? net::id_from_string("order", order_ref) : Id128{};
  p.amount = amount;
  p.points = points;
  p.external_amount = external;
  p.capture = a.has("--hold") ? 0 : 1;
  json::object text;
  text["ref"] = payment_id;
  if (a.has("--order-ref")) text["order_ref"] = order_ref;
  Reply reply{};
  CLI_TRY(call(ctx, c, make_text(c.id, 0, text), &reply));
  return print_payment(ctx, payment_id, reply);
}

int cmd_payment_get(Context& ctx, const Args& a) {
  const std::string& payment_id = a.positionals[0];
  Reply reply{};
  CLI_TRY(read_by_id(ctx, CommandKind::payment_get, "payment", payment_id, "PAYMENT_ID", &reply));
  return print_payment(ctx, payment_id, reply);
}

int payment_op(Context& ctx, const Args& a, CommandKind kind) {
  const std::string& payment_id = a.positionals[0];
  CLI_TRY(check_caller_id(payment_id, "PAYMENT_ID"));
  int64_t amount = 0;
  if (a.has("--amount")) CLI_TRY(amount_arg(a.get("--amount"), "--amount", &amount));
  Command c{};
  c.kind = kind;
  c.id = client::command_id(
      kind == CommandKind::payment_capture ? "payment_capture" : "payment_void", payment_id);
  c.body.payment_op.payment_id = client::command_id("payment", payment_id);
  c.body.payment_op.amount = amount;
  Reply reply{};
  CLI_TRY(call(ctx, c, std::nullopt, &reply));
  return print_payment(ctx, payment_id, reply);
}
int cmd_payment_capture(Context& ctx, const Args& a) {
  return payment_op(ctx, a, CommandKind::payment_capture);
}
int cmd_payment_void(Context& ctx, const Args& a) {
  return payment_op(ctx, a, CommandKind::payment_void);
}

int cmd_payment_refund(Context& ctx, const Args& a) {
  const std::string& payment_id = a.positionals[0];
  CLI_TRY(check_caller_id(payment_id, "PAYMENT_ID"));
  int64_t amount = 0;
  CLI_TRY(amount_arg(a.positionals[1], "AMOUNT", &amount));
  const std::string refund_id = a.get("--id");
  CLI_TRY(check_caller_id(refund_id, "--id"));
  Command c{};
  c.kind = CommandKind::payment_refund;
  c.id = client::command_id("refund", refund_id);
  c.body.payment_op.payment_id = client::command_id("payment", payment_id);
  c.body.payment_op.amount = amount;
  Reply reply{};
  CLI_TRY(call(ctx, c, make_text(c.id, 0, json::object{{"ref", refund_id}}), &reply));
  if (reply.result != Result::ok) return refused(ctx, reply);
  ReplyData d = reply_data(reply);
  json::object o;
  o["refund_id"] = refund_id;
  o["payment_id"] = payment_id;
  o["amount"] = d.v[0];
  o["wallet_amount"] = d.v[1];
  o["points_returned"] = d.v[2];
  o["external_refund_due"] = d.v[3];
  o["points_value"] = d.v[4];
  if (replayed(reply)) o["replayed"] = true;
  print(ctx, o);
  return exit_ok;
}

// --- Recharge methods and recharges ----------------------------------------------

Id128 method_text_key(uint32_t method_id) {
  return client::text_key("method", std::to_string(method_id));
}

int method_arg(const std::string& text, const std::string& what, uint32_t* out) {
  if (parse_u32(text, out) && *out != 0) return exit_ok;
  return usage_error(what + " wants a method id 1..4294967295");
}

int cmd_method_set(Context& ctx, const Args& a) {
  uint32_t method_id = 0;
  CLI_TRY(method_arg(a.positionals[0], "METHOD_ID", &method_id));
  const std::string name = a.get("--name");
  if (name.empty() || client::utf8_length(name) > client::name_length_max)
    return usage_error("--name wants 1-" + std::to_string(client::name_length_max) + " characters");
  auto channel = client::channel_from_name(a.get("--channel"));
  if (!channel) return usage_error("--channel wants wechat, cash, bank or other");
  json::array payees;
  for (const std::string& payee : split_list(a.get("--payees"))) {
    if (payee.empty()) return usage_error("--payees wants ACCOUNT[,ACCOUNT...] without blanks");
    payees.push_back(json::value(payee));
  }
  if (payees.size() > payees_per_method_max)
    return usage_error("--payees takes at most " + std::to_string(payees_per_method_max));
  const bool enabled = !a.has("--disabled");
  Command c{};
  c.kind = CommandKind::recharge_method_set;
  c.id = random_command_id();
  c.body.method.method_id = method_id;
  c.body.method.channel = *channel;
  c.body.method.enabled = enabled ? 1 : 0;
  c.body.method.payee_count = uint16_t(payees.size());
  json::object o;
  o["method_id"] = method_id;
  o["name"] = name;
  o["channel"] = a.get("--channel");
  o["enabled"] = enabled;
  o["payee_accounts"] = std::move(payees);
  Reply reply{};
  CLI_TRY(call(ctx, c,
               make_text(method_text_key(method_id), client::text_group("methods", "all"), o),
               &reply));
  if (reply.result != Result::ok) return refused(ctx, reply);
  print(ctx, o);
  return exit_ok;
}

// A recharge reply with its payee account from the method's text.
int print_recharge(Context& ctx, const std::string& recharge_id, const Reply& reply) {
  if (reply.result != Result::ok) return refused(ctx, reply);
  ReplyData d = reply_data(reply);
  json::object method = parse_text(fetch_texts(ctx, {method_text_key(d.aux32)})[0]);
  json::object o;
  o["recharge_id"] = recharge_id;
  o["member_id"] = uint64_t(d.v[3]);
  o["amount"] = d.v[0];
  o["method_id"] = d.aux32;
  o["channel"] = client::channel_name(d.detail);
  o["state"] = client::recharge_state_name(d.state);
  o["payee_index"] = d.aux16;
  json::value payee = nullptr;
  if (auto it = method.find("payee_accounts");
      it != method.end() && it->value().is_array() && d.aux16 < it->value().as_array().size()) {
    payee = it->value().as_array()[d.aux16];
  }
  o["payee_account"] = payee;
  o["expires_at"] = rfc3339_us(uint64_t(d.v[1]));
  o["created_at"] = rfc3339_us(uint64_t(d.v[4]));
  o["confirmed_amount"] = d.v[2];
  if (replayed(reply)) o["replayed"] = true;
  print(ctx, o);
  return exit_ok;
}

int cmd_recharge_create(Context& ctx, const Args& a) {
  int64_t amount = 0;
  uint64_t member_id = 0;
  uint32_t method_id = 0;
  CLI_TRY(amount_arg(a.positionals[0], "AMOUNT", &amount));
  const std::string recharge_id = a.get("--id");
  CLI_TRY(check_caller_id(recharge_id, "--id"));
  CLI_TRY(member_arg(a.get("--member"), "--member", &member_id));
  CLI_TRY(method_arg(a.get("--method"), "--method", &method_id));
  Command c{};
  c.kind = CommandKind::recharge_create;
  c.id = client::command_id("recharge", recharge_id);
  c.body.recharge.member_id = member_id;
  c.body.recharge.amount = amount;
  c.body.recharge.method_id = method_id;
  Reply reply{};
  CLI_TRY(call(ctx, c, make_text(c.id, 0, json::object{{"ref", recharge_id}}), &reply));
  return print_recharge(ctx, recharge_id, reply);
}

int cmd_recharge_get(Context& ctx, const Args& a) {
  const std::string& recharge_id = a.positionals[0];
  Reply reply{};
  CLI_TRY(
      read_by_id(ctx, CommandKind::recharge_get, "recharge", recharge_id, "RECHARGE_ID", &reply));
  return print_recharge(ctx, recharge_id, reply);
}

int cmd_recharge_confirm(Context& ctx, const Args& a) {
  const std::string& recharge_id = a.positionals[0];
  CLI_TRY(check_caller_id(recharge_id, "RECHARGE_ID"));
  int64_t amount = 0;
  CLI_TRY(amount_arg(a.positionals[1], "AMOUNT", &amount));
  const std::string txn = a.get("--txn");
  CLI_TRY(check_caller_id(txn, "--txn"));
  Command c{};
  c.kind = CommandKind::recharge_confirm;
  c.id = client::recharge_confirm_id(recharge_id, txn);
  c.body.recharge_confirm.recharge_id = client::command_id("recharge", recharge_id);
  c.body.recharge_confirm.channel_txn = net::id_from_string("channel_txn", txn);
  c.body.recharge_confirm.amount = amount;
  Reply reply{};
  CLI_TRY(call(ctx, c,
               make_text(c.id, 0, json::object{{"ref", recharge_id}, {"channel_txn_id", txn}}),
               &reply));
  return print_recharge(ctx, recharge_id, reply);
}

// --- Order completion (O1) ---------------------------------------------------------

int cmd_order_complete(Context& ctx, const Args& a) {
  const std::string& order_ref = a.positionals[0];
  CLI_TRY(check_caller_id(order_ref, "ORDER_REF"));
  int64_t amount = 0;
  uint64_t member_id = 0;
  CLI_TRY(amount_arg(a.positionals[1], "AMOUNT", &amount));
  CLI_TRY(member_arg(a.get("--member"), "--member", &member_id));
  const std::string merchant_id = a.get("--merchant");
  CLI_TRY(check_caller_id(merchant_id, "--merchant"));
  if (a.has("--payment")) CLI_TRY(check_caller_id(a.get("--payment"), "--payment"));
  uint64_t received_at_us = 0;
  if (a.has("--received-at") && !parse_rfc3339_us(a.get("--received-at"), &received_at_us))
    return usage_error("--received-at wants an RFC 3339 time, e.g. 2026-01-02T03:04:05Z");
  Command c{};
  c.kind = CommandKind::order_complete;
  c.id = client::command_id("order", order_ref);
  OrderBody& o = c.body.order;
  o.member_id = member_id;
  o.merchant_id = net::account_id_from_string(merchant_id);
  o.amount = amount;
  o.payment_id = a.has("--payment") ? client::command_id("payment", a.get("--payment")) : Id128{};
  json::object text;
  text["ref"] = order_ref;
  if (a.has("--payment")) text["payment_id"] = a.get("--payment");
  if (a.has("--received-at")) text["received_at"] = rfc3339_us(received_at_us);
  Reply reply{};
  CLI_TRY(call(ctx, c, make_text(c.id, 0, text), &reply));
  if (reply.result != Result::ok) return refused(ctx, reply);
  ReplyData d = reply_data(reply);
  json::array grants;
  const char* assets[2] = {"wallet", "points"};
  for (int k = 0; k < 2; k++) {
    json::object g;
    g["asset"] = assets[k];
    g["amount"] = d.v[2 * k];
    g["matures_at"] = rfc3339_us(uint64_t(d.v[2 * k + 1]));
    grants.push_back(std::move(g));
  }
  json::object out;
  out["order_ref"] = order_ref;
  out["member_id"] = member_id;
  out["merchant_id"] = merchant_id;
  out["group_id"] = d.aux32;
  out["grants"] = std::move(grants);
  if (replayed(reply)) out["replayed"] = true;
  print(ctx, out);
  return exit_ok;
}

}  // namespace

void add_payment_commands(std::vector<Subcommand>* t) {
  t->push_back(
      {"pay",
       "pay AMOUNT --id PAYMENT_ID --member MEMBER_ID --merchant MERCHANT_ID "
       "[--store STORE_ID] [--order-ref REF] [--points N] [--external N] [--hold]",
       1,
       {"--id", "--member", "--merchant", "--store", "--order-ref", "--points", "--external"},
       {"--hold"},
       {"--id", "--member", "--merchant"},
       cmd_pay});
  t->push_back({"payment get", "payment get PAYMENT_ID", 1, {}, {}, {}, cmd_payment_get});
  t->push_back({"payment capture",
                "payment capture PAYMENT_ID [--amount N]   (default: all)",
                1,
                {"--amount"},
                {},
                {},
                cmd_payment_capture});
  t->push_back({"payment void", "payment void PAYMENT_ID", 1, {}, {}, {}, cmd_payment_void});
  t->push_back({"payment refund",
                "payment refund PAYMENT_ID AMOUNT --id REFUND_ID",
                2,
                {"--id"},
                {},
                {"--id"},
                cmd_payment_refund});
  t->push_back({"method set",
                "method set METHOD_ID --name NAME --channel wechat|cash|bank|other "
                "[--payees ACCOUNT,...] [--disabled]",
                1,
                {"--name", "--channel", "--payees"},
                {"--disabled"},
                {"--name", "--channel"},
                cmd_method_set});
  t->push_back({"recharge create",
                "recharge create AMOUNT --id RECHARGE_ID --member MEMBER_ID --method METHOD_ID",
                1,
                {"--id", "--member", "--method"},
                {},
                {"--id", "--member", "--method"},
                cmd_recharge_create});
  t->push_back({"recharge get", "recharge get RECHARGE_ID", 1, {}, {}, {}, cmd_recharge_get});
  t->push_back({"recharge confirm",
                "recharge confirm RECHARGE_ID AMOUNT --txn CHANNEL_TXN_ID",
                2,
                {"--txn"},
                {},
                {"--txn"},
                cmd_recharge_confirm});
  t->push_back({"order complete",
                "order complete ORDER_REF AMOUNT --member MEMBER_ID --merchant MERCHANT_ID "
                "[--payment PAYMENT_ID] [--received-at RFC3339]",
                2,
                {"--member", "--merchant", "--payment", "--received-at"},
                {},
                {"--member", "--merchant"},
                cmd_order_complete});
}

}  // namespace coffer::cli
