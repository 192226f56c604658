// Rebates, gifts, withdrawals and vouchers (SPEC O4, V3-V6, D1-D3; gateway
// handlers_rewards.cc).
#include <boost/json/array.hpp>

#include "clients/cli_domain.h"
#include "clients/domain_ids.h"
#include "clients/domain_names.h"
#include "clients/voucher_code.h"
#include "net/ids.h"

namespace coffer::cli {
namespace {

int text_arg(const Args& a, const std::string& flag, size_t length_max, std::string* out) {
  *out = a.get(flag);
  if (!out->empty() && client::utf8_length(*out) <= length_max) return exit_ok;
  return usage_error(flag + " wants 1-" + std::to_string(length_max) + " characters");
}

// --- Rebates and gifts ---------------------------------------------------------

int cmd_rebate(Context& ctx, const Args& a) {
  uint64_t member_id = 0;
  int64_t amount = 0;
  CLI_TRY(member_arg(a.positionals[0], "MEMBER_ID", &member_id));
  CLI_TRY(amount_arg(a.positionals[1], "AMOUNT", &amount));
  const std::string rebate_id = a.get("--id");
  CLI_TRY(check_caller_id(rebate_id, "--id"));
  std::string source;
  CLI_TRY(text_arg(a, "--source", client::reward_text_length_max, &source));
  Command c{};
  c.kind = CommandKind::rebate;
  c.id = client::command_id("rebate", rebate_id);
  c.body.money.member_id = member_id;
  c.body.money.amount = amount;
  c.body.money.asset = asset_wallet;
  Reply reply{};
  CLI_TRY(call(ctx, c, make_text(c.id, 0, json::object{{"ref", rebate_id}, {"source", source}}),
               &reply));
  if (reply.result != Result::ok) return refused(ctx, reply);
  ReplyData d = reply_data(reply);
  json::object o;
  o["rebate_id"] = rebate_id;
  o["member_id"] = member_id;
  o["amount"] = d.v[0];
  o["balance_after"] = d.v[1];
  o["source"] = source;
  if (replayed(reply)) o["replayed"] = true;
  print(ctx, o);
  return exit_ok;
}

int cmd_gift(Context& ctx, const Args& a) {
  int64_t amount = 0;
  uint64_t from = 0, to = 0;
  CLI_TRY(amount_arg(a.positionals[0], "AMOUNT", &amount));
  const std::string gift_id = a.get("--id");
  CLI_TRY(check_caller_id(gift_id, "--id"));
  CLI_TRY(member_arg(a.get("--from"), "--from", &from));
  CLI_TRY(member_arg(a.get("--to"), "--to", &to));
  if (from == to) return usage_error("--from and --to must be different members");
  std::optional<std::string> message;
  if (a.has("--message")) {
    message = a.get("--message");
    if (client::utf8_length(*message) > client::gift_message_length_max)
      return usage_error("--message takes at most " +
                         std::to_string(client::gift_message_length_max) + " characters");
  }
  Command c{};
  c.kind = CommandKind::gift;
  c.id = client::command_id("gift", gift_id);
  c.body.gift.from_member_id = from;
  c.body.gift.to_member_id = to;
  c.body.gift.amount = amount;
  c.body.gift.message_length = message ? uint32_t(client::utf8_length(*message)) : 0;
  json::object text;
  text["ref"] = gift_id;
  if (message) text["message"] = *message;
  Reply reply{};
  CLI_TRY(call(ctx, c, make_text(c.id, 0, text), &reply));
  if (reply.result != Result::ok) return refused(ctx, reply);
  ReplyData d = reply_data(reply);
  json::object o;
  o["gift_id"] = gift_id;
  o["from_member"] = from;
  o["to_member"] = to;
  o["amount"] = d.v[0];
  o["balance_after"] = d.v[1];
  o["message"] = message ? json::value(*message) : json::value(nullptr);
  if (replayed(reply)) o["replayed"] = true;
  print(ctx, o);
  return exit_ok;
}

json::object gift_row(const client::QueryRow& row) {
  json::object text = parse_text(row.text);
  json::object g;
  g["gift_id"] = string_or_null(text, "ref");
  g["from_member"] = row.from_member_id;
  g["to_member"] = row.to_member_id;
  g["amount"] = row.amount;
  g["message"] = string_or_null(text, "message");
  g["created_at"] = rfc3339_us(row.time_us);
  g["seq"] = row.seq;
  return g;
}

int cmd_gifts(Context& ctx, const Args& a) {
  uint64_t member_id = 0;
  CLI_TRY(member_arg(a.positionals[0], "MEMBER_ID", &member_id));
  uint32_t limit = 0;
  CLI_TRY(limit_arg(a, &limit));
  client::Query q;
  q.kind = a.has("--received") ? client::QueryKind::gifts_received : client::QueryKind::gifts_sent;
  q.key = member_id;
  return print_list(ctx, q, limit, "gifts", gift_row);
}

// --- Withdrawals -------------------------------------------------------------------

Id128 withdrawal_id_of(const std::string& id) {
  return client::command_id("withdrawal", id);
}

json::object withdrawal_json(json::value withdrawal_id, const Reply& reply,
                             const json::object& create_text, const json::object& decision_text) {
  ReplyData d = reply_data(reply);
  json::object o;
  o["withdrawal_id"] = std::move(withdrawal_id);
  o["member_id"] = uint64_t(d.v[1]);
  o["amount"] = d.v[0];
  o["state"] = client::withdrawal_state_name(d.state);
  o["created_at"] = d.v[2] > 0 ? json::value(rfc3339_us(uint64_t(d.v[2]))) : json::value(nullptr);
  o["decided_at"] = d.v[3] > 0 ? json::value(rfc3339_us(uint64_t(d.v[3]))) : json::value(nullptr);
  auto payout = create_text.find("payout");
  o["payout"] = payout != create_text.end() && payout->value().is_object() ? payout->value()
                                                                           : json::value(nullptr);
  o["feedback"] = string_or_null(decision_text, "feedback");
  o["note"] = string_or_null(decision_text, "note");
  if (replayed(reply)) o["replayed"] = true;
  return o;
}

// One withdrawal with its texts (payout, feedback, note).
int print_withdrawal(Context& ctx, const std::string& withdrawal_id, const Reply& reply) {
  if (reply.result != Result::ok) return refused(ctx, reply);
  const uint8_t state = reply_data(reply).state;
  std::vector<Id128> keys{withdrawal_id_of(withdrawal_id)};
  if (state == withdrawal_approved) {
    keys.push_back(client::command_id("withdrawal_approve", withdrawal_id));
  } else if (state == withdrawal_rejected) {
    keys.push_back(client::command_id("withdrawal_reject", withdrawal_id));
  }
  auto texts = fetch_texts(ctx, keys);
  json::object create = parse_text(texts[0]);
  json::object decision = parse_text(texts.size() > 1 ? texts[1] : std::nullopt);
  print(ctx, withdrawal_json(json::value(withdrawal_id), reply, create, decision));
  return exit_ok;
}

int cmd_withdraw_create(Context& ctx, const Args& a) {
  int64_t amount = 0;
  uint64_t member_id = 0;
  CLI_TRY(amount_arg(a.positionals[0], "AMOUNT", &amount));
  const std::string withdrawal_id = a.get("--id");
  CLI_TRY(check_caller_id(withdrawal_id, "--id"));
  CLI_TRY(member_arg(a.get("--member"), "--member", &member_id));
  std::string method, account;
  CLI_TRY(text_arg(a, "--payout-method", client::reward_text_length_max, &method));
  CLI_TRY(text_arg(a, "--payout-account", client::reward_text_length_max, &account));
  Command c{};
  c.kind = CommandKind::withdrawal_create;
  c.id = withdrawal_id_of(withdrawal_id);
  c.body.withdrawal.member_id = member_id;
  c.body.withdrawal.amount = amount;
  c.body.withdrawal.payout_hash = client::payout_hash(method, account);
  json::object payout{{"method", method}, {"account", account}};
  Reply reply{};
  CLI_TRY(call(ctx, c, make_text(c.id, 0, json::object{{"ref", withdrawal_id}, {"payout", payout}}),
               &reply));
  if (reply.result != Result::ok) {
    json::object details;
    if (reply.result == Result::limit_exceeded && !replayed(reply))
      details["max_withdrawable"] = reply_data(reply).v[0];
    return refused(ctx, reply, std::move(details));
  }
  print(ctx, withdrawal_json(json::value(withdrawal_id), reply, json::object{{"payout", payout}},
                             json::object{}));
  return exit_ok;
}

int cmd_withdraw_get(Context& ctx, const Args& a) {
  const std::string& withdrawal_id = a.positionals[0];
  Reply reply{};
  CLI_TRY(read_by_id(ctx, CommandKind::withdrawal_get, "withdrawal", withdrawal_id, "WITHDRAWAL_ID",
                     &reply));
  return print_withdrawal(ctx, withdrawal_id, reply);
}

int withdraw_decide(Context& ctx, const Args& a, bool approve) {
  const std::string& withdrawal_id = a.positionals[0];
  CLI_TRY(check_caller_id(withdrawal_id, "WITHDRAWAL_ID"));
  std::string feedback;
  if (!approve) CLI_TRY(text_arg(a, "--feedback", client::reward_text_length_max, &feedback));
  std::string note;
  if (approve && a.has("--note"))
    CLI_TRY(text_arg(a, "--note", client::reward_text_length_max, &note));
  Command c{};
  c.kind = approve ? CommandKind::withdrawal_approve : CommandKind::withdrawal_reject;
  c.id = client::command_id(approve ? "withdrawal_approve" : "withdrawal_reject", withdrawal_id);
  c.body.withdrawal_op.withdrawal_id = withdrawal_id_of(withdrawal_id);
  c.body.withdrawal_op.feedback_length = approve ? 0 : uint32_t(client::utf8_length(feedback));
  std::optional<CommandText> text;
  if (approve && a.has("--note")) {
    text = make_text(c.id, 0, json::object{{"ref", withdrawal_id}, {"note", note}});
  } else if (!approve) {
    text = make_text(c.id, 0, json::object{{"ref", withdrawal_id}, {"feedback", feedback}});
  }
  Reply reply{};
  CLI_TRY(call(ctx, c, std::move(text), &reply));
  return print_withdrawal(ctx, withdrawal_id, reply);
}
int cmd_withdraw_approve(Context& ctx, const Args& a) {
  return withdraw_decide(ctx, a, true);
}
int cmd_withdraw_reject(Context& ctx, const Args& a) {
  return withdraw_decide(ctx, a, false);
}

int cmd_withdraw_limit(Context& ctx, const Args& a) {
  uint64_t member_id = 0;
  CLI_TRY(member_arg(a.positionals[0], "MEMBER_ID", &member_id));
  Command c{};
  c.kind = CommandKind::withdrawal_limit_get;
  c.body.read.key = member_id;
  Reply reply{};
  CLI_TRY(call(ctx, c, std::nullopt, &reply));
  if (reply.result != Result::ok) return refused(ctx, reply);
  print(ctx, json::object{{"member_id", member_id}, {"max_withdrawable", reply_data(reply).v[0]}});
  return exit_ok;
}

json::object withdrawal_row(const client::QueryRow& row) {
  json::object text = parse_text(row.text);
  json::object o;
  o["withdrawal_id"] = string_or_null(text, "ref");
  o["member_id"] = row.from_member_id;
  o["amount"] = row.amount;
  o["state"] = client::withdrawal_state_name(row.state);
  o["created_at"] = rfc3339_us(row.time_us);
  auto payout = text.find("payout");
  o["payout"] =
      payout != text.end() && payout->value().is_object() ? payout->value() : json::value(nullptr);
  return o;
}

int cmd_withdrawals(Context& ctx, const Args& a) {
  const std::string state = a.has("--state") ? a.get("--state") : "pending";
  client::Query q;
  q.kind = client::QueryKind::withdrawals;
  if (state == "pending") {
    q.key = withdrawal_pending;
  } else if (state == "approved") {
    q.key = withdrawal_approved;
  } else if (state == "rejected") {
    q.key = withdrawal_rejected;
  } else {
    return usage_error("--state wants pending, approved or rejected");
  }
  uint32_t limit = 0;
  CLI_TRY(limit_arg(a, &limit));
  return print_list(ctx, q, limit, "withdrawals", withdrawal_row);
}

// --- Vouchers ------------------------------------------------------------------------

int voucher_secret(Context& ctx, client::VoucherSecret* out) {
  if (ctx.voucher_secret_file.empty()) {
    *out = client::voucher_secret_from_token(ctx.options.token);
    return exit_ok;
  }
  if (client::load_voucher_secret_file(ctx.voucher_secret_file, out) !=
      client::SecretFileStatus::ok) {
    std::fprintf(stderr, "coffer: %s does not hold a voucher secret (64 hex digits)\n",
                 ctx.voucher_secret_file.c_str());
    return exit_usage;
  }
  return exit_ok;
}

int voucher_redeem(Context& ctx, const Args& a, bool paper) {
  const std::string& code = a.positionals[0];
  if (code.empty() || code.size() > client::voucher_input_size_max)
    return usage_error("CODE wants 1-" + std::to_string(client::voucher_input_size_max) +
                       " characters");
  uint64_t member_id = 0;
  std::string merchant_id, store_id;
  if (paper) {
    merchant_id = a.get("--merchant");
    store_id = a.get("--store");
    CLI_TRY(check_caller_id(merchant_id, "--merchant"));
    CLI_TRY(check_caller_id(store_id, "--store"));
  } else {
    CLI_TRY(member_arg(a.get("--member"), "--member", &member_id));
  }
  client::VoucherSecret secret{};
  CLI_TRY(voucher_secret(ctx, &secret));
  Command c{};
  c.kind = paper ? CommandKind::voucher_redeem : CommandKind::voucher_redeem_to_wallet;
  c.id = random_command_id();
  RedeemBody& rb = c.body.redeem;
  rb.code = client::typed_voucher_code_id(secret, code);
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
  // handlers_rewards.cc redeemed_text_key: text_key("voucher_redeemed", hex of the code hash).
  char hex[33];
  std::snprintf(hex, sizeof hex, "%016llx%016llx", (unsigned long long)rb.code.hi,
                (unsigned long long)rb.code.lo);
  const Id128 redeemed_key = client::text_key("voucher_redeemed", hex);
  Reply reply{};
  CLI_TRY(call(ctx, c, make_text(redeemed_key, 0, text), &reply));
  ReplyData d = reply_data(reply);
  if (reply.result == Result::voucher_redeemed) {
    json::object where = parse_text(fetch_texts(ctx, {redeemed_key})[0]);
    json::object details;
    details["redeemed_at"] = rfc3339_us(uint64_t(d.v[1]));
    json::value store = string_or_null(where, "store_id");
    if (d.detail == voucher_paper) {
      details["store_id"] =
          store.is_string() ? store : json::value(std::to_string(uint64_t(d.v[2])));
    } else {
      details["member_id"] = uint64_t(d.v[2]);
    }
    return refused(ctx, reply, std::move(details));
  }
  if (reply.result != Result::ok) return refused(ctx, reply);
  const Id128 batch{uint64_t(d.v[3]), uint64_t(d.v[4])};
  json::object batch_text = parse_text(fetch_texts(ctx, {batch})[0]);
  json::object o;
  o["batch_id"] = string_or_null(batch_text, "ref");
  o["face_value"] = d.v[0];
  o["redeemed_at"] = rfc3339_us(uint64_t(d.v[1]));
  if (!paper) o["member_id"] = uint64_t(d.v[2]);
  print(ctx, o);
  return exit_ok;
}
int cmd_voucher_redeem(Context& ctx, const Args& a) {
  return voucher_redeem(ctx, a, true);
}
int cmd_voucher_redeem_to_wallet(Context& ctx, const Args& a) {
  return voucher_redeem(ctx, a, false);
}

json::object count_amount(int64_t count, int64_t face_value) {
  return json::object{{"count", count}, {"amount", count * face_value}};
}

int print_batch(Context& ctx, const std::string& batch_id, const Reply& reply) {
  if (reply.result != Result::ok) return refused(ctx, reply);
  json::object text =
      parse_text(fetch_texts(ctx, {client::command_id("voucher_batch", batch_id)})[0]);
  ReplyData d = reply_data(reply);
  const int64_t face = d.v[5];
  json::object o;
  o["batch_id"] = batch_id;
  o["merchant_id"] = string_or_null(text, "merchant_id");
  o["kind"] = d.detail == voucher_paper ? "paper" : "card";
  o["face_value"] = face;
  o["quantity"] = d.v[0];
  o["state"] = client::batch_state_name(d.state);
  o["valid_from"] = string_or_null(text, "valid_from");
  o["valid_until"] = string_or_null(text, "valid_until");
  o["issued"] = count_amount(d.v[0], face);
  o["redeemed"] = json::object{{"count", d.v[1]}, {"amount", d.v[2]}};
  o["expired"] = count_amount(d.v[3], face);
  o["voided"] = count_amount(d.v[4], face);
  o["unredeemed"] = count_amount(d.v[0] - d.v[1] - d.v[3] - d.v[4], face);
  print(ctx, o);
  return exit_ok;
}

int cmd_voucher_batch_get(Context& ctx, const Args& a) {
  const std::string& batch_id = a.positionals[0];
  Reply reply{};
  CLI_TRY(read_by_id(ctx, CommandKind::batch_get, "voucher_batch", batch_id, "BATCH_ID", &reply));
  return print_batch(ctx, batch_id, reply);
}

int cmd_voucher_batch_void(Context& ctx, const Args& a) {
  const std::string& batch_id = a.positionals[0];
  CLI_TRY(check_caller_id(batch_id, "BATCH_ID"));
  Command c{};
  c.kind = CommandKind::voucher_batch_void;
  c.id = client::command_id("voucher_batch_void", batch_id);
  c.body.batch_codes.batch_id = client::command_id("voucher_batch", batch_id);
  Reply reply{};
  CLI_TRY(call(ctx, c, std::nullopt, &reply));
  return print_batch(ctx, batch_id, reply);
}

}  // namespace

void add_reward_commands(std::vector<Subcommand>* t) {
  t->push_back({"rebate",
                "rebate MEMBER_ID AMOUNT --id REBATE_ID --source TEXT",
                2,
                {"--id", "--source"},
                {},
                {"--id", "--source"},
                cmd_rebate});
  t->push_back({"gift",
                "gift AMOUNT --id GIFT_ID --from MEMBER_ID --to MEMBER_ID [--message TEXT]",
                1,
                {"--id", "--from", "--to", "--message"},
                {},
                {"--id", "--from", "--to"},
                cmd_gift});
  t->push_back({"gifts",
                "gifts MEMBER_ID [--received] [--limit N]   (sent by default)",
                1,
                {"--limit"},
                {"--received"},
                {},
                cmd_gifts});
  t->push_back({"withdraw create",
                "withdraw create AMOUNT --id WITHDRAWAL_ID --member MEMBER_ID --payout-method M "
                "--payout-account A",
                1,
                {"--id", "--member", "--payout-method", "--payout-account"},
                {},
                {"--id", "--member", "--payout-method", "--payout-account"},
                cmd_withdraw_create});
  t->push_back({"withdraw get", "withdraw get WITHDRAWAL_ID", 1, {}, {}, {}, cmd_withdraw_get});
  t->push_back({"withdraw approve",
                "withdraw approve WITHDRAWAL_ID [--note TEXT]",
                1,
                {"--note"},
                {},
                {},
                cmd_withdraw_approve});
  t->push_back({"withdraw reject",
                "withdraw reject WITHDRAWAL_ID --feedback TEXT",
                1,
                {"--feedback"},
                {},
                {"--feedback"},
                cmd_withdraw_reject});
  t->push_back({"withdraw limit", "withdraw limit MEMBER_ID", 1, {}, {}, {}, cmd_withdraw_limit});
  t->push_back({"withdrawals",
                "withdrawals [--state pending|approved|rejected] [--limit N]   (oldest first)",
                0,
                {"--state", "--limit"},
                {},
                {},
                cmd_withdrawals});
  t->push_back({"voucher redeem",
                "voucher redeem CODE --merchant MERCHANT_ID --store STORE_ID",
                1,
                {"--merchant", "--store"},
                {},
                {"--merchant", "--store"},
                cmd_voucher_redeem});
  t->push_back({"voucher redeem-to-wallet",
                "voucher redeem-to-wallet CODE --member MEMBER_ID",
                1,
                {"--member"},
                {},
                {"--member"},
                cmd_voucher_redeem_to_wallet});
  t->push_back(
      {"voucher batch-get", "voucher batch-get BATCH_ID", 1, {}, {}, {}, cmd_voucher_batch_get});
  t->push_back(
      {"voucher batch-void", "voucher batch-void BATCH_ID", 1, {}, {}, {}, cmd_voucher_batch_void});
}

}  // namespace coffer::cli
