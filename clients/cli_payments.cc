// Payments, recharges, recharge methods and order completion (SPEC W1-W5, R1,
// R3, O1; gateway handlers.cc, handlers_admin.cc, handlers_rewards.cc).
#include <boost/json/array.hpp>

#include "clients/cli_domain.h"
#include "clients/domain_ids.h"
#include "clients/domain_json.h"
#include "clients/domain_names.h"

namespace coffer::cli {
namespace {

// --- Payments ----------------------------------------------------------------

int print_payment(Context& ctx, const std::string& payment_id, const Reply& reply) {
  if (reply.result != Result::ok) return refused(ctx, reply);
  print(ctx, with_replayed(client::payment_json(payment_id, reply), reply));
  return exit_ok;
}

// The value of an optional flag; nullopt when absent.
std::optional<std::string> flag_value(const Args& a, const std::string& flag) {
  if (!a.has(flag)) return std::nullopt;
  return a.get(flag);
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
  Reply reply{};
  CLI_TRY(call(ctx,
               client::payment_create_command(
                   payment_id, member_id, merchant_id, flag_value(a, "--store"),
                   flag_value(a, "--order-ref"), amount, points, external, !a.has("--hold")),
               &reply));
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
  Reply reply{};
  CLI_TRY(call(ctx, client::payment_op_command(kind, payment_id, amount), std::nullopt, &reply));
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
  Reply reply{};
  CLI_TRY(call(ctx, client::refund_command(refund_id, payment_id, amount), &reply));
  if (reply.result != Result::ok) return refused(ctx, reply);
  print(ctx, with_replayed(client::refund_json(refund_id, payment_id, reply), reply));
  return exit_ok;
}

// --- Recharge methods and recharges ----------------------------------------------

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
  const std::string channel = a.get("--channel");
  if (!client::channel_from_name(channel))
    return usage_error("--channel wants wechat, cash, bank or other");
  const std::vector<std::string> payees = split_list(a.get("--payees"));
  for (const std::string& payee : payees) {
    if (payee.empty()) return usage_error("--payees wants ACCOUNT[,ACCOUNT...] without blanks");
  }
  if (payees.size() > payees_per_method_max)
    return usage_error("--payees takes at most " + std::to_string(payees_per_method_max));
  const bool enabled = !a.has("--disabled");
  Reply reply{};
  CLI_TRY(call(ctx, client::method_set_command(method_id, name, channel, enabled, payees), &reply));
  if (reply.result != Result::ok) return refused(ctx, reply);
  print(ctx, client::method_json(method_id, name, channel, enabled, payees));
  return exit_ok;
}

// A recharge reply with its payee account from the method's text.
int print_recharge(Context& ctx, const std::string& recharge_id, const Reply& reply) {
  if (reply.result != Result::ok) return refused(ctx, reply);
  const uint32_t method_id = reply_data(reply).aux32;
  json::object method = parse_text(fetch_texts(ctx, {client::method_text_key(method_id)})[0]);
  print(ctx, with_replayed(client::recharge_json(json::value(recharge_id), reply, method), reply));
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
  Reply reply{};
  CLI_TRY(call(ctx, client::recharge_create_command(recharge_id, member_id, amount, method_id),
               &reply));
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
  Command c = client::recharge_confirm_command(recharge_id, txn, amount);
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
  std::optional<int64_t> received_at;
  if (a.has("--received-at")) received_at = int64_t(received_at_us);
  Reply reply{};
  CLI_TRY(call(ctx,
               client::order_complete_command(order_ref, member_id, merchant_id, amount,
                                              flag_value(a, "--payment"), received_at, {}),
               &reply));
  if (reply.result != Result::ok) return refused(ctx, reply);
  print(ctx, with_replayed(client::order_json(order_ref, member_id, merchant_id, reply), reply));
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
