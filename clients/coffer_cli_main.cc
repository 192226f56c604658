// coffer: the command-line client. One row per subcommand (engine commands
// here; the domain's in cli_members.cc, cli_payments.cc, cli_rewards.cc); a row
// names its flags, positionals and a function that builds the command(s) and
// prints the reply. Exit status: 0 ok, 1 the ledger refused the command,
// 2 bad input, 3 the server is unreachable.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "clients/cli_common.h"
#include "clients/cli_domain.h"
#include "clients/client.h"
#include "net/ids.h"

using namespace coffer;
using namespace coffer::cli;

namespace {

const std::map<std::string, AccountKind>& account_kinds() {
  static const std::map<std::string, AccountKind> kinds = {
      {"member_wallet", AccountKind::member_wallet},
      {"member_points", AccountKind::member_points},
      {"channel_clearing", AccountKind::channel_clearing},
      {"merchant_settlement", AccountKind::merchant_settlement},
      {"points_issuance", AccountKind::points_issuance},
      {"voucher_liability", AccountKind::voucher_liability},
      {"payout_clearing", AccountKind::payout_clearing},
      {"cashback_expense", AccountKind::cashback_expense},
      {"rebate_expense", AccountKind::rebate_expense},
      {"adjustment", AccountKind::adjustment},
  };
  return kinds;
}

// Sends one engine command and prints its outcome (`human` for people; --json:
// {"ok":true,"replayed":..,"amount":..}); returns the exit status.
int run_one(Context& ctx, const Command& command, const std::function<void(const Reply&)>& human) {
  Reply reply{};
  if (int rc = call(ctx, command, std::nullopt, &reply); rc != exit_ok) return rc;
  if (reply.result != Result::ok) return refused(ctx, reply);
  if (ctx.json) {
    print(ctx, json::object{{"ok", true}, {"replayed", replayed(reply)}, {"amount", reply.amount}});
  } else {
    human(reply);
  }
  return exit_ok;
}

void print_ok(const Reply& reply) {
  std::printf("ok%s\n", reply.flags & reply_flag_replayed ? " [replayed]" : "");
}

int cmd_create_account(Context& ctx, const Args& a) {
  const std::string asset = a.get("--asset");
  if (asset != "wallet" && asset != "points") return usage_error("--asset wants wallet or points");
  auto kind = account_kinds().find(a.get("--kind"));
  if (kind == account_kinds().end()) return usage_error("unknown --kind '" + a.get("--kind") + "'");
  const std::string& id = a.positionals[0];
  Command c = make_create_account(net::id_from_string("create_account", id),
                                  net::account_id_from_string(id),
                                  asset == "wallet" ? asset_wallet : asset_points, kind->second,
                                  a.has("--no-negative") ? account_flag_no_negative : 0);
  return run_one(ctx, c, [&](const Reply& r) {
    std::printf("ok account %llu%s\n", (unsigned long long)net::account_id_from_string(id),
                r.flags & reply_flag_replayed ? " [replayed]" : "");
  });
}

int cmd_transfer(Context& ctx, const Args& a) {
  int64_t amount = 0;
  if (!parse_i64(a.get("--amount"), &amount) || amount <= 0)
    return usage_error("--amount wants a positive integer (minor units)");
  if (a.has("--hold") && a.has("--grant-at"))
    return usage_error("--hold and --grant-at exclude each other");
  const std::string asset = a.has("--asset") ? a.get("--asset") : "wallet";
  if (asset != "wallet" && asset != "points") return usage_error("--asset wants wallet or points");
  const Id128 id = net::id_from_string("transfer", a.get("--id"));
  const uint64_t from = net::account_id_from_string(a.get("--from"));
  const uint64_t to = net::account_id_from_string(a.get("--to"));
  const Asset asset_id = asset == "wallet" ? asset_wallet : asset_points;
  Command c = make_transfer(id, from, to, amount, asset_id);
  if (a.has("--hold")) {
    uint32_t timeout_s = 0;
    if (!parse_u32(a.get("--hold"), &timeout_s)) return usage_error("--hold wants SECONDS");
    c = make_hold(id, from, to, amount, asset_id, timeout_s);
  } else if (a.has("--grant-at")) {
    uint64_t at_us = 0;
    if (!parse_rfc3339_us(a.get("--grant-at"), &at_us))
      return usage_error("--grant-at wants an RFC 3339 time, e.g. 2026-01-02T03:04:05Z");
    c = make_grant(id, from, to, amount, asset_id, at_us);
  }
  return run_one(ctx, c, print_ok);
}

int cmd_post(Context& ctx, const Args& a) {
  int64_t amount = 0;
  if (a.has("--amount") && (!parse_i64(a.get("--amount"), &amount) || amount <= 0))
    return usage_error("--amount wants a positive integer");
  const std::string& id = a.positionals[0];
  Command c = make_pending_op(CommandKind::post_pending,
                              net::id_from_string("post", id + ":" + std::to_string(amount)),
                              net::id_from_string("transfer", id), amount);
  return run_one(ctx, c, [](const Reply& r) {
    std::printf("ok posted %lld%s\n", (long long)r.amount,
                r.flags & reply_flag_replayed ? " [replayed]" : "");
  });
}

int cmd_void(Context& ctx, const Args& a) {
  const std::string& id = a.positionals[0];
  Command c = make_pending_op(CommandKind::void_pending, net::id_from_string("void", id),
                              net::id_from_string("transfer", id));
  return run_one(ctx, c, print_ok);
}

int cmd_tick(Context& ctx, const Args&) {
  return run_one(ctx, make_tick(), print_ok);
}

// Adding a subcommand is one row here (or in a domain file's add_*_commands).
const std::vector<Subcommand>& subcommands() {
  static const std::vector<Subcommand> table = [] {
    std::vector<Subcommand> t;
    add_member_commands(&t);
    add_payment_commands(&t);
    add_reward_commands(&t);
    t.push_back({"create-account",
                 "create-account ID --asset wallet|points --kind KIND [--no-negative]",
                 1,
                 {"--asset", "--kind"},
                 {"--no-negative"},
                 {"--asset", "--kind"},
                 cmd_create_account});
    t.push_back({"transfer",
                 "transfer --id X --from A --to B --amount N [--asset wallet|points] "
                 "[--hold SECONDS | --grant-at RFC3339]",
                 0,
                 {"--id", "--from", "--to", "--amount", "--asset", "--hold", "--grant-at"},
                 {},
                 {"--id", "--from", "--to", "--amount"},
                 cmd_transfer});
    t.push_back({"post",
                 "post ID [--amount N]   (post an engine hold, fully or N of it)",
                 1,
                 {"--amount"},
                 {},
                 {},
                 cmd_post});
    t.push_back(
        {"void", "void ID                (release an engine hold)", 1, {}, {}, {}, cmd_void});
    t.push_back({"tick",
                 "tick                   (settle due holds and grants now)",
                 0,
                 {},
                 {},
                 {},
                 cmd_tick});
    return t;
  }();
  return table;
}

void print_help() {
  std::printf(
      "coffer — command-line client of the Coffer ledger server\n\n"
      "usage: coffer [GLOBAL FLAGS] COMMAND ... [--json]\n"
      "       coffer COMMAND --help\n\n"
      "global flags:\n"
      "  --server HOST:PORT          default 127.0.0.1:7700\n"
      "  --token-file FILE           default ./data/token (first line = access token)\n"
      "  --voucher-secret-file FILE  the gateway's voucher secret (default: derived from the\n"
      "                              token, as coffer-gateway does without one)\n"
      "  --json                      one JSON document on stdout instead of lines\n\n"
      "commands:\n");
  for (const Subcommand& s : subcommands())
    std::printf("  coffer %s\n", s.usage);
  std::printf(
      "\nAmounts are integers in minor units (fen) or points. Ids (--id, merchant and store\n"
      "ids, ...) are the caller's own, 1-64 characters of [A-Za-z0-9_.:-]: the same id through\n"
      "the HTTP gateway is the same operation (a replay answers the first result).\n"
      "Engine account ids are decimal numbers or any string (hashed, net/ids.h). KINDs:");
  for (const auto& [name, kind] : account_kinds())
    std::printf(" %s", name.c_str());
  std::printf(
      "\n\nexit status: 0 ok, 1 refused by the ledger (its result is printed, e.g.\n"
      "INSUFFICIENT_FUNDS), 2 bad input, 3 server unreachable\n");
}

void print_sub_help(const Subcommand& s) {
  std::printf("usage: coffer %s\n", s.usage);
  if (!s.value_flags.empty() || !s.bool_flags.empty()) {
    std::printf("flags:");
    for (const std::string& f : s.value_flags) {
      const bool required =
          std::find(s.required_flags.begin(), s.required_flags.end(), f) != s.required_flags.end();
      std::printf(" %s VALUE%s", f.c_str(), required ? " (required)" : "");
    }
    for (const std::string& f : s.bool_flags)
      std::printf(" %s", f.c_str());
    std::printf("\n");
  }
  std::printf("and the global flags (coffer --help), e.g. --json\n");
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  Context ctx;
  std::string server = "127.0.0.1:7700";
  std::string token_file = "./data/token";
  size_t i = 0;
  for (; i < args.size() && args[i].rfind("--", 0) == 0; i++) {
    if (args[i] == "--help" || args[i] == "-h") {
      print_help();
      return exit_ok;
    }
    if (args[i] == "--json") {
      ctx.json = true;
      continue;
    }
    if ((args[i] == "--server" || args[i] == "--token-file" ||
         args[i] == "--voucher-secret-file") &&
        i + 1 < args.size()) {
      (args[i] == "--server"       ? server
       : args[i] == "--token-file" ? token_file
                                   : ctx.voucher_secret_file) = args[i + 1];
      i++;
      continue;
    }
    return usage_error("unknown or incomplete option '" + args[i] + "'");
  }
  if (i == args.size()) return usage_error("no command given");
  // A command is one word ("balance") or two ("member register").
  const Subcommand* sub = nullptr;
  std::string name = args[i];
  bool group = false;
  for (const Subcommand& s : subcommands()) {
    const std::string_view full = s.name;
    if (full == name) sub = &s;
    if (full.rfind(name + " ", 0) == 0) group = true;
  }
  if (sub == nullptr && group) {
    if (i + 1 == args.size() || args[i + 1] == "--help") {
      // Without a second word this is a usage error (stderr); with --help, help.
      FILE* out = i + 1 == args.size() ? stderr : stdout;
      std::fprintf(out, "coffer %s commands:\n", name.c_str());
      for (const Subcommand& s : subcommands())
        if (std::string_view(s.name).rfind(name + " ", 0) == 0)
          std::fprintf(out, "  coffer %s\n", s.usage);
      return i + 1 == args.size() ? exit_usage : exit_ok;
    }
    name += " " + args[i + 1];
    for (const Subcommand& s : subcommands())
      if (name == s.name) sub = &s;
    i++;
  }
  i++;
  if (sub == nullptr) return usage_error("unknown command '" + name + "'");

  Args parsed;
  for (; i < args.size(); i++) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") {
      print_sub_help(*sub);
      return exit_ok;
    }
    if (a == "--json") {
      ctx.json = true;
    } else if (a.rfind("--", 0) == 0) {
      if (contains(sub->bool_flags, a)) {
        parsed.flags[a] = "";
      } else if (contains(sub->value_flags, a)) {
        if (i + 1 >= args.size()) return usage_error(a + " wants a value");
        if (parsed.has(a)) return usage_error(a + " given twice");
        parsed.flags[a] = args[++i];
      } else {
        return usage_error("unknown option '" + a + "' for " + name);
      }
    } else {
      parsed.positionals.push_back(a);
    }
  }
  if (sub->positionals_more ? parsed.positionals.size() < sub->positionals
                            : parsed.positionals.size() != sub->positionals)
    return usage_error("usage: coffer " + std::string(sub->usage));
  for (const std::string& f : sub->required_flags)
    if (!parsed.has(f)) return usage_error(f + " is required; usage: coffer " + sub->usage);

  const size_t colon = server.rfind(':');
  uint32_t port = 0;
  if (colon == std::string::npos || colon == 0 || !parse_u32(server.substr(colon + 1), &port) ||
      port == 0 || port > 65535) {
    return usage_error("--server wants HOST:PORT, got '" + server + "'");
  }
  ctx.options.host = server.substr(0, colon);
  ctx.options.port = uint16_t(port);
  ctx.options.client_name = "coffer-cli";
  ctx.options.reconnect_attempts_max = 2;
  std::ifstream token_in(token_file);
  if (!token_in || !std::getline(token_in, ctx.options.token) || ctx.options.token.empty()) {
    std::fprintf(stderr, "coffer: cannot read the access token from %s\n", token_file.c_str());
    return exit_usage;
  }
  while (!ctx.options.token.empty() &&
         (ctx.options.token.back() == '\r' || ctx.options.token.back() == ' '))
    ctx.options.token.pop_back();
  return sub->run(ctx, parsed);
}
