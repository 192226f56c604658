// Rebates, gifts, withdrawals and vouchers (SPEC O4, V3-V6, D1-D3; gateway
// handlers_rewards.cc).
#include <boost/json/array.hpp>

#include "clients/cli_domain.h"
#include "clients/domain_ids.h"
#include "clients/domain_json.h"
#include "clients/domain_names.h"
#include "clients/voucher_code.h"

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
  Reply reply{};
  CLI_TRY(call(ctx, client::rebate_command(rebate_id, member_id, amount, source), &reply));
  if (reply.result != Result::ok) return refused(ctx, reply);
  print(ctx, with_replayed(client::rebate_json(rebate_id, member_id, source, reply), reply));
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
  Reply reply{};
  CLI_TRY(call(ctx, client::gift_command(gift_id, from, to, amount, message), &reply));
  if (reply.result != Result::ok) return refused(ctx, reply);
  print(ctx, with_replayed(client::gift_json(gift_id, from, to, message, reply), reply));
  return exit_ok;
}

int cmd_gifts(Context& ctx, const Args& a) {
  uint64_t member_id = 0;
  CLI_TRY(member_arg(a.positionals[0], "MEMBER_ID", &member_id));
  uint32_t limit = 0;
  CLI_TRY(limit_arg(a, &limit));
  client::Query q;
  q.kind = a.has("--received") ? client::QueryKind::gifts_received : client::QueryKind::gifts_sent;
  q.key = member_id;
  return print_list(ctx, q, limit, "gifts", client::gift_row_json);
}

// --- Withdrawals -------------------------------------------------------------------

// One withdrawal with its texts (payout, feedback, note).
int print_withdrawal(Context& ctx, const std::string& withdrawal_id, const Reply& reply) {
  if (reply.result != Result::ok) return refused(ctx, reply);
  auto texts =
      fetch_texts(ctx, client::withdrawal_text_keys(withdrawal_id, reply_data(reply).state));
  json::object create = parse_text(texts[0]);
  json::object decision = parse_text(texts.size() > 1 ? texts[1] : std::nullopt);
  print(ctx,
        with_replayed(client::withdrawal_json(json::value(withdrawal_id), reply, create, decision),
                      reply));
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
  Reply reply{};
  CLI_TRY(call(ctx,
               client::withdrawal_create_command(withdrawal_id, member_id, amount, method, account),
               &reply));
  if (reply.result != Result::ok) {
    json::object details;
    if (reply.result == Result::limit_exceeded && !replayed(reply))
      details["max_withdrawable"] = reply_data(reply).v[0];
    return refused(ctx, reply, std::move(details));
  }
  json::object create{{"payout", client::payout_json(method, account)}};
  print(ctx, with_replayed(
                 client::withdrawal_json(json::value(withdrawal_id), reply, create, json::object{}),
                 reply));
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
  // approve: the optional --note; reject: the --feedback it requires.
  const char* flag = approve ? "--note" : "--feedback";
  std::optional<std::string> words;
  if (!approve || a.has(flag)) {
    words.emplace();
    CLI_TRY(text_arg(a, flag, client::reward_text_length_max, &*words));
  }
  Reply reply{};
  CLI_TRY(call(ctx, client::withdrawal_decide_command(approve, withdrawal_id, words), &reply));
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

// One page of the withdrawals list as GET /v1/withdrawals answers it: each
// row's withdrawal read from core in one call, then its decision texts.
int withdrawals_page(Context& ctx, const std::vector<client::QueryRow>& rows, json::array* out) {
  if (rows.empty()) return exit_ok;
  std::vector<Command> reads;
  for (const client::QueryRow& row : rows) {
    Command c = read_command(CommandKind::withdrawal_get);
    c.body.read.id = row.id;
    reads.push_back(c);
  }
  std::vector<Reply> replies;
  CLI_TRY(submit(ctx, reads, {}, &replies));
  std::vector<Id128> keys;  // one per row, zero where there is no decision text
  std::vector<Id128> asked;
  for (size_t i = 0; i < rows.size(); i++) {
    json::value ref = string_or_null(parse_text(rows[i].text), "ref");
    keys.push_back(ref.is_string() ? client::withdrawal_decision_text_key(
                                         ref.as_string(), reply_data(replies[i]).state)
                                   : Id128{});
    if (!keys.back().is_zero()) asked.push_back(keys.back());
  }
  auto texts = fetch_texts(ctx, asked);
  for (size_t i = 0, t = 0; i < rows.size(); i++) {
    json::object decision = keys[i].is_zero() ? json::object{} : parse_text(texts[t++]);
    if (replies[i].result != Result::ok) continue;  // gone since the list was read
    json::object create = parse_text(rows[i].text);
    out->push_back(
        client::withdrawal_json(string_or_null(create, "ref"), replies[i], create, decision));
  }
  return exit_ok;
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
  json::array withdrawals;
  while (withdrawals.size() < limit) {
    q.limit = std::min<uint32_t>(limit - uint32_t(withdrawals.size()), client::query_limit_max);
    client::QueryResult r;
    CLI_TRY(query(ctx, q, &r));
    CLI_TRY(withdrawals_page(ctx, r.rows, &withdrawals));
    if (r.next.at_start() || r.rows.empty()) break;
    q.cursor = r.next;
  }
  print(ctx, json::object{{"withdrawals", std::move(withdrawals)}});
  return exit_ok;
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
  const Id128 code_id = client::typed_voucher_code_id(secret, code);
  const Id128 redeemed_key = client::voucher_redeemed_text_key(code_id);
  Reply reply{};
  CLI_TRY(call(ctx,
               client::voucher_redeem_command(paper, code_id, merchant_id, store_id, member_id),
               &reply));
  if (reply.result == Result::voucher_redeemed) {
    json::object where = parse_text(fetch_texts(ctx, {redeemed_key})[0]);
    return refused(ctx, reply, client::voucher_redeemed_details(reply, where));
  }
  if (reply.result != Result::ok) return refused(ctx, reply);
  ReplyData d = reply_data(reply);
  const Id128 batch{uint64_t(d.v[3]), uint64_t(d.v[4])};
  json::object batch_text = parse_text(fetch_texts(ctx, {batch})[0]);
  print(ctx, client::voucher_redeem_json(paper, reply, batch_text));
  return exit_ok;
}
int cmd_voucher_redeem(Context& ctx, const Args& a) {
  return voucher_redeem(ctx, a, true);
}
int cmd_voucher_redeem_to_wallet(Context& ctx, const Args& a) {
  return voucher_redeem(ctx, a, false);
}

int print_batch(Context& ctx, const std::string& batch_id, const Reply& reply) {
  if (reply.result != Result::ok) return refused(ctx, reply);
  json::object text =
      parse_text(fetch_texts(ctx, {client::command_id("voucher_batch", batch_id)})[0]);
  print(ctx, client::batch_json(batch_id, reply, text));
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
  Reply reply{};
  CLI_TRY(call(ctx, client::voucher_batch_void_command(batch_id), std::nullopt, &reply));
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
