// Members, balances, credits/debits, merchants, stores, groups, config, history
// (SPEC M1-M5, R4, P3, A1, A4, O3; gateway handlers.cc and handlers_admin.cc).
#include <boost/json/array.hpp>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "clients/cli_domain.h"
#include "clients/domain_ids.h"
#include "clients/domain_json.h"
#include "net/ids.h"

namespace coffer::cli {

int check_caller_id(const std::string& text, const std::string& what) {
  if (client::is_valid_caller_id(text)) return exit_ok;
  return usage_error(what + " wants 1-64 characters of [A-Za-z0-9_.:-], got '" + text + "'");
}

int member_arg(const std::string& text, const std::string& what, uint64_t* out) {
  if (parse_member_id(text, out)) return exit_ok;
  return usage_error(what + " wants a member id (a positive decimal number), got '" + text + "'");
}

int amount_arg(const std::string& text, const std::string& what, int64_t* out) {
  if (parse_amount(text, out)) return exit_ok;
  return usage_error(what + " wants a positive integer (minor units or points), got '" + text +
                     "'");
}

int limit_arg(const Args& a, uint32_t* out) {
  *out = list_limit_default;
  if (!a.has("--limit")) return exit_ok;
  if (parse_u32(a.get("--limit"), out) && *out >= 1 && *out <= list_limit_max) return exit_ok;
  return usage_error("--limit wants 1.." + std::to_string(list_limit_max));
}

int read_by_id(Context& ctx, CommandKind kind, const char* ns, const std::string& id,
               const std::string& what, Reply* reply) {
  CLI_TRY(check_caller_id(id, what));
  Command c{};
  c.kind = kind;
  c.body.read.id = client::command_id(ns, id);
  return call(ctx, c, std::nullopt, reply);
}

int call(Context& ctx, DomainCommand command, Reply* reply) {
  return call(ctx, command.command, std::move(command.text), reply);
}

json::object with_replayed(json::object answer, const Reply& reply) {
  if (replayed(reply)) answer["replayed"] = true;
  return answer;
}

int print_list(Context& ctx, client::Query q, uint32_t limit, const char* name,
               json::object (*row_json)(const client::QueryRow&)) {
  json::array rows;
  while (rows.size() < limit) {
    q.limit = std::min<uint32_t>(limit - uint32_t(rows.size()), client::query_limit_max);
    client::QueryResult r;
    if (int rc = query(ctx, q, &r); rc != exit_ok) return rc;
    for (const client::QueryRow& row : r.rows)
      rows.push_back(row_json(row));
    if (r.next.at_start() || r.rows.empty()) break;
    q.cursor = r.next;
  }
  json::object o;
  o[name] = std::move(rows);
  print(ctx, o);
  return exit_ok;
}

namespace {

// --- Members -----------------------------------------------------------------

// Prints a member reply with its phone from the member's text.
int print_member(Context& ctx, const Reply& reply, std::optional<std::string> phone) {
  if (!phone) {
    auto texts = fetch_texts(ctx, {client::member_text_key(uint64_t(reply_data(reply).v[0]))});
    json::value p = string_or_null(parse_text(texts[0]), "phone");
    if (p.is_string()) phone = std::string(p.as_string());
  }
  print(ctx, with_replayed(client::member_json(reply, phone), reply));
  return exit_ok;
}

int cmd_member_register(Context& ctx, const Args& a) {
  uint64_t member_id = 0;
  CLI_TRY(member_arg(a.positionals[0], "MEMBER_ID", &member_id));
  uint32_t group_id = 0;
  if (a.has("--group") && (!parse_u32(a.get("--group"), &group_id) || group_id == 0))
    return usage_error("--group wants 1..4294967295");
  std::optional<std::string> phone;
  if (a.has("--phone")) {
    phone = a.get("--phone");
    if (!client::is_valid_phone(*phone))
      return usage_error("--phone wants 1-32 characters of 0-9, '+' and '-'");
  }
  Reply reply{};
  CLI_TRY(call(ctx, client::member_register_command(member_id, group_id, phone), &reply));
  if (reply.result != Result::ok) return refused(ctx, reply);
  return print_member(ctx, reply, phone);
}

int cmd_member_get(Context& ctx, const Args& a) {
  uint64_t member_id = 0;
  CLI_TRY(member_arg(a.positionals[0], "MEMBER_ID", &member_id));
  Command c = read_command(CommandKind::member_get);
  c.body.read.key = member_id;
  Reply reply{};
  CLI_TRY(call(ctx, c, std::nullopt, &reply));
  if (reply.result != Result::ok) return refused(ctx, reply);
  return print_member(ctx, reply, std::nullopt);
}

int cmd_member_by_phone(Context& ctx, const Args& a) {
  const std::string& phone = a.positionals[0];
  if (!client::is_valid_phone(phone))
    return usage_error("PHONE wants 1-32 characters of 0-9, '+' and '-'");
  Command c = read_command(CommandKind::member_by_phone);
  c.body.read.key = client::phone_hash(phone);
  Reply reply{};
  CLI_TRY(call(ctx, c, std::nullopt, &reply));
  if (reply.result != Result::ok) return refused(ctx, reply);
  return print_member(ctx, reply, phone);
}

int cmd_member_wallet(Context& ctx, const Args& a) {
  uint64_t member_id = 0;
  CLI_TRY(member_arg(a.positionals[0], "MEMBER_ID", &member_id));
  if (a.has("--enable") == a.has("--disable")) return usage_error("give --enable or --disable");
  Command c{};
  c.kind = CommandKind::member_set_wallet;
  c.id = random_command_id();  // enable -> disable -> enable must not be a replay
  c.body.member.member_id = member_id;
  c.body.member.enabled = a.has("--enable") ? 1 : 0;
  Reply reply{};
  CLI_TRY(call(ctx, c, std::nullopt, &reply));
  if (reply.result != Result::ok) return refused(ctx, reply);
  return print_member(ctx, reply, std::nullopt);
}

// --- Balances ----------------------------------------------------------------

// An engine account (binary-protocol clients' own accounts; ids as net/ids.h).
int print_account(Context& ctx, const std::string& id) {
  Reply r{};
  CLI_TRY(call(ctx, make_lookup(net::account_id_from_string(id)), std::nullopt, &r));
  if (r.result != Result::ok) return refused(ctx, r);
  const int64_t balance = r.credits_posted - r.debits_posted;
  json::object o;
  o["account_id"] = net::account_id_from_string(id);
  o["asset"] = r.asset == asset_wallet ? "wallet" : "points";
  o["kind"] = unsigned(r.kind);
  o["flags"] = unsigned(r.account_flags);
  o["balance"] = balance;
  o["available"] = balance - r.debits_pending;
  o["held"] = r.debits_pending;
  o["maturing"] = r.credits_pending;
  print(ctx, o);
  return exit_ok;
}

int cmd_balance(Context& ctx, const Args& a) {
  const std::string& id = a.positionals[0];
  uint64_t member_id = 0;
  if (a.has("--account") || !parse_member_id(id, &member_id)) return print_account(ctx, id);
  Command c = read_command(CommandKind::balance_get);
  c.body.read.key = member_id;
  Reply reply{};
  CLI_TRY(call(ctx, c, std::nullopt, &reply));
  if (reply.result == Result::not_found) {
    // Not a member: an engine account with this number, if there is one.
    Reply account{};
    CLI_TRY(call(ctx, make_lookup(member_id), std::nullopt, &account));
    if (account.result == Result::ok) return print_account(ctx, id);
  }
  if (reply.result != Result::ok) return refused(ctx, reply);
  print(ctx, client::balance_json(reply));
  return exit_ok;
}

// credit / debit MEMBER_ID AMOUNT --id X [--asset wallet|points] --reason R (R4, P3).
int member_money(Context& ctx, const Args& a, bool credit) {
  uint64_t member_id = 0;
  int64_t amount = 0;
  CLI_TRY(member_arg(a.positionals[0], "MEMBER_ID", &member_id));
  CLI_TRY(amount_arg(a.positionals[1], "AMOUNT", &amount));
  const std::string op_id = a.get("--id");
  CLI_TRY(check_caller_id(op_id, "--id"));
  const std::string asset = a.has("--asset") ? a.get("--asset") : "wallet";
  if (asset != "wallet" && asset != "points") return usage_error("--asset wants wallet or points");
  const std::string reason = a.get("--reason");
  if (reason.empty() || client::utf8_length(reason) > client::reason_length_max)
    return usage_error("--reason wants 1-" + std::to_string(client::reason_length_max) +
                       " characters");
  const bool points = asset == "points";
  Reply reply{};
  CLI_TRY(call(ctx, client::member_money_command(credit, op_id, member_id, amount, points, reason),
               &reply));
  if (reply.result != Result::ok) return refused(ctx, reply);
  print(ctx, with_replayed(client::money_json(credit, op_id, member_id, points, reply), reply));
  return exit_ok;
}
int cmd_credit(Context& ctx, const Args& a) {
  return member_money(ctx, a, true);
}
int cmd_debit(Context& ctx, const Args& a) {
  return member_money(ctx, a, false);
}

// --- Merchants, stores, groups -------------------------------------------------

int cmd_merchant_set(Context& ctx, const Args& a) {
  const std::string& merchant_id = a.positionals[0];
  CLI_TRY(check_caller_id(merchant_id, "MERCHANT_ID"));
  const std::string name = a.get("--name");
  if (name.empty() || client::utf8_length(name) > client::name_length_max)
    return usage_error("--name wants 1-" + std::to_string(client::name_length_max) + " characters");
  const bool split = a.has("--split-payment");
  Reply reply{};
  CLI_TRY(call(ctx, client::merchant_set_command(merchant_id, name, split), &reply));
  if (reply.result != Result::ok) return refused(ctx, reply);
  print(ctx, client::merchant_json(merchant_id, name, split));
  return exit_ok;
}

bool parse_degrees(const std::string& text, double min, double max, double* out) {
  char* end = nullptr;
  *out = std::strtod(text.c_str(), &end);
  return !text.empty() && end == text.c_str() + text.size() && std::isfinite(*out) && *out >= min &&
         *out <= max;
}

int cmd_store_set(Context& ctx, const Args& a) {
  const std::string& merchant_id = a.positionals[0];
  const std::string& store_id = a.positionals[1];
  CLI_TRY(check_caller_id(merchant_id, "MERCHANT_ID"));
  CLI_TRY(check_caller_id(store_id, "STORE_ID"));
  const std::string name = a.get("--name");
  if (name.empty() || client::utf8_length(name) > client::name_length_max)
    return usage_error("--name wants 1-" + std::to_string(client::name_length_max) + " characters");
  double lat = 0, lon = 0;
  if (!parse_degrees(a.get("--lat"), -90, 90, &lat))
    return usage_error("--lat wants decimal degrees -90..90");
  if (!parse_degrees(a.get("--lon"), -180, 180, &lon))
    return usage_error("--lon wants decimal degrees -180..180");
  std::optional<std::string> address;
  if (a.has("--address")) address = a.get("--address");
  Reply reply{};
  CLI_TRY(
      call(ctx, client::store_set_command(merchant_id, store_id, name, address, lat, lon), &reply));
  if (reply.result != Result::ok) return refused(ctx, reply);
  print(ctx, client::store_json(merchant_id, store_id, name, address, lat, lon));
  return exit_ok;
}

int cmd_group_set(Context& ctx, const Args& a) {
  uint32_t group_id = 0;
  if (!parse_u32(a.positionals[0], &group_id) || group_id == 0)
    return usage_error("GROUP_ID wants 1..4294967295");
  const std::string name = a.get("--name");
  if (name.empty() || client::utf8_length(name) > client::name_length_max)
    return usage_error("--name wants 1-" + std::to_string(client::name_length_max) + " characters");
  uint32_t bp[3] = {0, 0, 0};
  const char* bp_flags[3] = {"--cashback-bp", "--earn-points-bp", "--use-points-bp"};
  for (int i = 0; i < 3; i++) {
    if (a.has(bp_flags[i]) && (!parse_u32(a.get(bp_flags[i]), &bp[i]) || bp[i] > 10'000))
      return usage_error(std::string(bp_flags[i]) + " wants 0..10000 (basis points)");
  }
  int64_t threshold = 0;
  if (a.has("--upgrade-threshold") &&
      (!parse_i64(a.get("--upgrade-threshold"), &threshold) || threshold < 0))
    return usage_error("--upgrade-threshold wants an amount >= 0");
  DomainCommand set = client::group_set_command(group_id, name, bp[0], bp[1], bp[2], threshold);
  const GroupBody g = set.command.body.group;
  Reply reply{};
  CLI_TRY(call(ctx, std::move(set), &reply));
  if (reply.result != Result::ok) return refused(ctx, reply);
  print(ctx, client::group_set_json(g, name));
  return exit_ok;
}

// --- Config ------------------------------------------------------------------

// The JSON names of DomainConfig's fields in ConfigBody mask bit order
// (gateway handlers_admin.cc config_put).
struct ConfigField {
  const char* name;
  size_t offset;
  size_t size;
  bool flag;  // true/false rather than a number
};
#define COFFER_CONFIG_FIELD(f, flag)                             \
  ConfigField {                                                  \
#f, offsetof(DomainConfig, f), sizeof(DomainConfig::f), flag \
  }
const ConfigField config_fields[] = {
    COFFER_CONFIG_FIELD(withdraw_reserve_min, false),
    COFFER_CONFIG_FIELD(recharge_min, false),
    COFFER_CONFIG_FIELD(recharge_max, false),
    COFFER_CONFIG_FIELD(wallet_max_balance, false),
    COFFER_CONFIG_FIELD(default_group_id, false),
    COFFER_CONFIG_FIELD(points_offset_rate, false),
    COFFER_CONFIG_FIELD(points_use_min, false),
    COFFER_CONFIG_FIELD(payment_hold_timeout_s, false),
    COFFER_CONFIG_FIELD(recharge_timeout_s, false),
    COFFER_CONFIG_FIELD(voucher_fail_limit, false),
    COFFER_CONFIG_FIELD(wallet_gift_days, false),
    COFFER_CONFIG_FIELD(points_gift_days, false),
    COFFER_CONFIG_FIELD(withdraw_max_rate_bp, false),
    COFFER_CONFIG_FIELD(wallet_auto_open, true),
    COFFER_CONFIG_FIELD(withdraw_enabled, true),
};
#undef COFFER_CONFIG_FIELD
static_assert(std::size(config_fields) == config_field_count, "one row per config field");

void set_config_value(DomainConfig* c, const ConfigField& f, int64_t value) {
  auto* p = reinterpret_cast<unsigned char*>(c) + f.offset;
  switch (f.size) {
    case 1: {
      uint8_t v = uint8_t(value);
      std::memcpy(p, &v, 1);
      break;
    }
    case 2: {
      uint16_t v = uint16_t(value);
      std::memcpy(p, &v, 2);
      break;
    }
    case 4: {
      uint32_t v = uint32_t(value);
      std::memcpy(p, &v, 4);
      break;
    }
    default:
      std::memcpy(p, &value, 8);
  }
}

int print_config(Context& ctx) {
  Command parts[2] = {read_command(CommandKind::config_get), read_command(CommandKind::config_get)};
  parts[1].body.read.part = 1;
  std::vector<Reply> replies;
  CLI_TRY(submit(ctx, {parts[0], parts[1]}, {}, &replies));
  for (const Reply& r : replies)
    if (r.result != Result::ok) return refused(ctx, r);
  const DomainConfig config = client::config_from_replies(replies[0], replies[1]);
  json::object guide = parse_text(fetch_texts(ctx, {client::guide_text_key()})[0]);
  print(ctx, client::config_json(config, guide));
  return exit_ok;
}

int cmd_config_get(Context& ctx, const Args&) {
  return print_config(ctx);
}

// config set NAME=VALUE ...: any subset of the fields; booleans true/false.
int cmd_config_set(Context& ctx, const Args& a) {
  Command c{};
  c.kind = CommandKind::config_set;
  c.id = random_command_id();
  for (const std::string& pair : a.positionals) {
    const size_t eq = pair.find('=');
    const std::string name = pair.substr(0, eq);
    const ConfigField* field = nullptr;
    for (size_t i = 0; i < std::size(config_fields); i++) {
      if (name == config_fields[i].name) {
        field = &config_fields[i];
        c.body.config.mask |= 1u << i;
      }
    }
    if (eq == std::string::npos || field == nullptr)
      return usage_error("'" + pair + "' is not NAME=VALUE with a config field NAME");
    const std::string text = pair.substr(eq + 1);
    int64_t value = 0;
    if (field->flag) {
      if (text != "true" && text != "false") return usage_error(name + " wants true or false");
      value = text == "true" ? 1 : 0;
    } else {
      const int64_t max = field->size == 8   ? INT64_MAX
                          : field->size == 4 ? int64_t(UINT32_MAX)
                                             : int64_t(UINT16_MAX);
      if (!parse_i64(text, &value) || value < 0 || value > max)
        return usage_error(name + " wants an integer 0.." + std::to_string(max));
    }
    set_config_value(&c.body.config.values, *field, value);
  }
  // R2: the recharge guide travels beside the command (handlers_admin.cc config_put).
  std::optional<CommandText> guide;
  if (a.has("--guide-text") || a.has("--guide-path") || a.has("--guide-amounts")) {
    const std::string guide_text = a.get("--guide-text");
    const std::string guide_path = a.get("--guide-path");
    if (client::utf8_length(guide_text) > client::guide_text_length_max ||
        client::utf8_length(guide_path) > client::guide_path_length_max)
      return usage_error(
          "--guide-text takes at most " + std::to_string(client::guide_text_length_max) +
          " characters, --guide-path " + std::to_string(client::guide_path_length_max));
    json::array amounts;
    for (const std::string& item : split_list(a.get("--guide-amounts"))) {
      int64_t amount = 0;
      CLI_TRY(amount_arg(item, "--guide-amounts", &amount));
      amounts.push_back(amount);
    }
    if (amounts.size() > client::guide_amounts_max)
      return usage_error("--guide-amounts takes at most " +
                         std::to_string(client::guide_amounts_max));
    json::object g;
    g["text"] = guide_text;
    g["path"] = guide_path;
    g["amounts"] = std::move(amounts);
    guide = make_text(client::guide_text_key(), 0, g);
  }
  if (c.body.config.mask == 0 && !guide)
    return usage_error("config set wants NAME=VALUE pairs or --guide-* flags");
  Reply reply{};
  CLI_TRY(call(ctx, c, std::move(guide), &reply));
  if (reply.result != Result::ok) return refused(ctx, reply);
  return print_config(ctx);
}

// --- History (SPEC M3, P3) -------------------------------------------------------

int cmd_history(Context& ctx, const Args& a) {
  uint64_t member_id = 0;
  CLI_TRY(member_arg(a.positionals[0], "MEMBER_ID", &member_id));
  const std::string asset = a.has("--asset") ? a.get("--asset") : "wallet";
  if (asset != "wallet" && asset != "points") return usage_error("--asset wants wallet or points");
  uint32_t limit = 0;
  CLI_TRY(limit_arg(a, &limit));
  client::Query q;
  q.kind = client::QueryKind::history;
  q.key = member_id;
  q.asset = asset == "wallet" ? asset_wallet : asset_points;
  return print_list(ctx, q, limit, "entries", client::history_entry_json);
}

}  // namespace

void add_member_commands(std::vector<Subcommand>* t) {
  t->push_back({"member register",
                "member register MEMBER_ID [--phone PHONE] [--group GROUP_ID]",
                1,
                {"--phone", "--group"},
                {},
                {},
                cmd_member_register});
  t->push_back({"member get", "member get MEMBER_ID", 1, {}, {}, {}, cmd_member_get});
  t->push_back({"member by-phone", "member by-phone PHONE", 1, {}, {}, {}, cmd_member_by_phone});
  t->push_back({"member wallet",
                "member wallet MEMBER_ID --enable|--disable",
                1,
                {},
                {"--enable", "--disable"},
                {},
                cmd_member_wallet});
  t->push_back({"balance",
                "balance MEMBER_ID | balance ACCOUNT_ID --account   (wallet and points; an "
                "engine account)",
                1,
                {},
                {"--account"},
                {},
                cmd_balance});
  t->push_back({"credit",
                "credit MEMBER_ID AMOUNT --id CREDIT_ID --reason TEXT [--asset wallet|points]",
                2,
                {"--id", "--reason", "--asset"},
                {},
                {"--id", "--reason"},
                cmd_credit});
  t->push_back({"debit",
                "debit MEMBER_ID AMOUNT --id DEBIT_ID --reason TEXT [--asset wallet|points]",
                2,
                {"--id", "--reason", "--asset"},
                {},
                {"--id", "--reason"},
                cmd_debit});
  t->push_back({"merchant set",
                "merchant set MERCHANT_ID --name NAME [--split-payment]",
                1,
                {"--name"},
                {"--split-payment"},
                {"--name"},
                cmd_merchant_set});
  t->push_back({"store set",
                "store set MERCHANT_ID STORE_ID --name NAME --lat DEG --lon DEG [--address TEXT]",
                2,
                {"--name", "--lat", "--lon", "--address"},
                {},
                {"--name", "--lat", "--lon"},
                cmd_store_set});
  t->push_back(
      {"group set",
       "group set GROUP_ID --name NAME [--cashback-bp BP] [--earn-points-bp BP] "
       "[--use-points-bp BP] [--upgrade-threshold AMOUNT]",
       1,
       {"--name", "--cashback-bp", "--earn-points-bp", "--use-points-bp", "--upgrade-threshold"},
       {},
       {"--name"},
       cmd_group_set});
  t->push_back({"config get", "config get", 0, {}, {}, {}, cmd_config_get});
  t->push_back({"config set",
                "config set [NAME=VALUE...] [--guide-text T] [--guide-path P] [--guide-amounts "
                "A,B,...]   (e.g. withdraw_enabled=true)",
                0,
                {"--guide-text", "--guide-path", "--guide-amounts"},
                {},
                {},
                cmd_config_set,
                true});
  t->push_back({"history",
                "history MEMBER_ID [--asset wallet|points] [--limit N]   (newest first, default "
                "20)",
                1,
                {"--asset", "--limit"},
                {},
                {},
                cmd_history});
}

}  // namespace coffer::cli
