// coffer: the command-line client. One row of `commands` per subcommand; a row
// names its flags, positionals and a function that builds the command(s) and
// prints the reply. Exit status: 0 ok, 1 the ledger refused the command,
// 2 bad input, 3 the server is unreachable.
#include <time.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "clients/client.h"
#include "net/ids.h"

using namespace coffer;

namespace {

constexpr int exit_ok = 0;
constexpr int exit_refused = 1;
constexpr int exit_usage = 2;
constexpr int exit_unavailable = 3;

struct Args {
  std::vector<std::string> positionals;
  std::map<std::string, std::string> flags;  // "--amount" -> "100"; booleans -> ""
  bool has(const std::string& f) const { return flags.count(f) != 0; }
  std::string get(const std::string& f) const {
    auto it = flags.find(f);
    return it == flags.end() ? std::string() : it->second;
  }
};

struct Context {
  client::ClientOptions options;
  std::unique_ptr<client::Client> client;
  // Connects on first use so that input errors are reported without a server.
  int connect() {
    if (client) return exit_ok;
    client::ConnectStatus st = client::Client::connect(options, &client);
    if (!st.ok()) {
      std::fprintf(stderr, "coffer: %s:%u: %s\n", options.host.c_str(), unsigned(options.port),
                   st.message.c_str());
      return st.result == Result::unauthenticated ? exit_refused : exit_unavailable;
    }
    return exit_ok;
  }
};

int usage_error(const std::string& message) {
  std::fprintf(stderr, "coffer: %s (see coffer --help)\n", message.c_str());
  return exit_usage;
}

bool parse_i64(const std::string& text, int64_t* out) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, *out);
  return !text.empty() && ec == std::errc() && ptr == end;
}

bool parse_u32(const std::string& text, uint32_t* out) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, *out);
  return !text.empty() && ec == std::errc() && ptr == end;
}

// RFC 3339: 2026-01-02T03:04:05[.ffffff](Z|+hh:mm|-hh:mm) -> microseconds since the epoch.
bool parse_rfc3339_us(const std::string& text, uint64_t* out_us) {
  int year, mon, day, hour, min, sec, consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2d%*1[Tt ]%2d:%2d:%2d%n", &year, &mon, &day, &hour, &min,
                  &sec, &consumed) != 6) {
    return false;
  }
  std::string_view rest(text.c_str() + consumed);
  uint64_t frac_us = 0;
  if (!rest.empty() && rest[0] == '.') {
    size_t i = 1;
    uint64_t scale = 100000;
    while (i < rest.size() && rest[i] >= '0' && rest[i] <= '9') {
      frac_us += uint64_t(rest[i] - '0') * scale;
      scale /= 10;
      i++;
    }
    if (i == 1) return false;
    rest.remove_prefix(i);
  }
  int64_t offset_s = 0;
  if (rest == "Z" || rest == "z") {
  } else if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':') {
    int oh = 0, om = 0;
    if (std::sscanf(std::string(rest.substr(1)).c_str(), "%2d:%2d", &oh, &om) != 2) return false;
    offset_s = (oh * 3600 + om * 60) * (rest[0] == '+' ? 1 : -1);
  } else {
    return false;
  }
  if (mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60) return false;
  tm t{};
  t.tm_year = year - 1900;
  t.tm_mon = mon - 1;
  t.tm_mday = day;
  t.tm_hour = hour;
  t.tm_min = min;
  t.tm_sec = sec;
  const int64_t epoch_s = int64_t(timegm(&t)) - offset_s;
  if (epoch_s < 0) return false;
  *out_us = uint64_t(epoch_s) * 1'000'000 + frac_us;
  return true;
}

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

std::string kind_name(AccountKind kind) {
  for (const auto& [name, k] : account_kinds())
    if (k == kind) return name;
  return std::to_string(unsigned(kind));
}

// Sends one command and prints its outcome; returns the exit status.
int run_one(Context& ctx, const Command& command, const std::function<void(const Reply&)>& print) {
  if (int rc = ctx.connect(); rc != exit_ok) return rc;
  client::SubmitResult r = ctx.client->submit_sync(std::span<const Command>(&command, 1));
  if (r.status != Result::ok) {
    std::fprintf(stderr, "coffer: %s (%u)\n", std::string(result_name(r.status)).c_str(),
                 unsigned(r.status));
    return r.status == Result::unavailable ? exit_unavailable : exit_refused;
  }
  const Reply& reply = r.replies.at(0);
  if (reply.result != Result::ok) {
    std::printf("error %s (%u)%s\n", std::string(result_name(reply.result)).c_str(),
                unsigned(reply.result), reply.flags & reply_flag_replayed ? " [replayed]" : "");
    return exit_refused;
  }
  print(reply);
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

int cmd_balance(Context& ctx, const Args& a) {
  Command c = make_lookup(net::account_id_from_string(a.positionals[0]));
  return run_one(ctx, c, [](const Reply& r) {
    const int64_t balance = r.credits_posted - r.debits_posted;
    std::printf("balance %lld available %lld held %lld maturing %lld asset %s kind %s flags %u\n",
                (long long)balance, (long long)(balance - r.debits_pending),
                (long long)r.debits_pending, (long long)r.credits_pending,
                r.asset == asset_wallet ? "wallet" : "points", kind_name(r.kind).c_str(),
                unsigned(r.account_flags));
  });
}

int cmd_tick(Context& ctx, const Args&) {
  return run_one(ctx, make_tick(), print_ok);
}

std::string rfc3339_us(uint64_t time_us) {
  const time_t s = time_t(time_us / 1'000'000);
  tm t{};
  gmtime_r(&s, &t);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06uZ", t.tm_year + 1900,
                t.tm_mon + 1, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec,
                unsigned(time_us % 1'000'000));
  return buf;
}

// History of a member's wallet or points (SPEC M3, P3) from the state store,
// newest first, page by page until --limit entries.
int cmd_history(Context& ctx, const Args& a) {
  uint64_t member_id = 0;
  const std::string& member = a.positionals[0];
  auto [ptr, ec] = std::from_chars(member.data(), member.data() + member.size(), member_id);
  if (member.empty() || ec != std::errc() || ptr != member.data() + member.size() || member_id == 0)
    return usage_error("MEMBER_ID wants a positive decimal number");
  const std::string asset = a.has("--asset") ? a.get("--asset") : "wallet";
  if (asset != "wallet" && asset != "points") return usage_error("--asset wants wallet or points");
  uint32_t limit = 20;
  if (a.has("--limit") && (!parse_u32(a.get("--limit"), &limit) || limit == 0 || limit > 100'000))
    return usage_error("--limit wants 1..100000");
  if (int rc = ctx.connect(); rc != exit_ok) return rc;
  client::Query q;
  q.kind = client::QueryKind::history;
  q.key = member_id;
  q.asset = asset == "wallet" ? asset_wallet : asset_points;
  uint32_t printed = 0;
  while (printed < limit) {
    q.limit = std::min(limit - printed, client::query_limit_max);
    client::QueryResult r = ctx.client->query_sync(q);
    if (r.status != Result::ok) {
      std::fprintf(stderr, "coffer: %s (%u)\n", std::string(result_name(r.status)).c_str(),
                   unsigned(r.status));
      return r.status == Result::unavailable ? exit_unavailable : exit_refused;
    }
    for (const client::QueryRow& row : r.rows) {
      std::printf(
          "%s seq %llu amount %lld balance %lld held %lld maturing %lld code %u id %016llx%016llx",
          rfc3339_us(row.time_us).c_str(), (unsigned long long)row.seq, (long long)row.amount,
          (long long)row.balance_after, (long long)row.held_after, (long long)row.maturing_after,
          unsigned(row.code), (unsigned long long)row.id.hi, (unsigned long long)row.id.lo);
      if (row.text) std::printf(" text %s", row.text->c_str());
      std::printf("\n");
      printed++;
    }
    if (r.next.at_start() || r.rows.empty()) break;
    q.cursor = r.next;
  }
  if (printed == 0) std::printf("no entries\n");
  return exit_ok;
}

struct Subcommand {
  const char* name;
  const char* usage;
  size_t positionals;
  std::vector<std::string> value_flags;  // take a value
  std::vector<std::string> bool_flags;   // no value
  std::vector<std::string> required_flags;
  int (*run)(Context&, const Args&);
};

// Adding a subcommand is one row here.
const std::vector<Subcommand>& subcommands() {
  static const std::vector<Subcommand> table = {
      {"create-account",
       "create-account ID --asset wallet|points --kind KIND [--no-negative]",
       1,
       {"--asset", "--kind"},
       {"--no-negative"},
       {"--asset", "--kind"},
       cmd_create_account},
      {"transfer",
       "transfer --id X --from A --to B --amount N [--asset wallet|points] "
       "[--hold SECONDS | --grant-at RFC3339]",
       0,
       {"--id", "--from", "--to", "--amount", "--asset", "--hold", "--grant-at"},
       {},
       {"--id", "--from", "--to", "--amount"},
       cmd_transfer},
      {"post",
       "post ID [--amount N]   (post a hold, fully or N of it)",
       1,
       {"--amount"},
       {},
       {},
       cmd_post},
      {"void", "void ID                (release a hold)", 1, {}, {}, {}, cmd_void},
      {"balance", "balance ACCOUNT_ID", 1, {}, {}, {}, cmd_balance},
      {"tick", "tick                   (settle due holds and grants now)", 0, {}, {}, {}, cmd_tick},
      {"history",
       "history MEMBER_ID [--asset wallet|points] [--limit N]   (newest first, default 20)",
       1,
       {"--asset", "--limit"},
       {},
       {},
       cmd_history},
  };
  return table;
}

void print_help() {
  std::printf(
      "coffer — command-line client of the Coffer ledger server\n\n"
      "usage: coffer [--server HOST:PORT] [--token-file FILE] COMMAND ...\n\n"
      "  --server HOST:PORT   default 127.0.0.1:7700\n"
      "  --token-file FILE    default ./data/token (first line = access token)\n\n"
      "commands:\n");
  for (const Subcommand& s : subcommands())
    std::printf("  coffer %s\n", s.usage);
  std::printf(
      "\nIDs: account ids are decimal numbers or any string (hashed, net/ids.h); "
      "amounts are integers in minor units (or points).\nKINDs:");
  for (const auto& [name, kind] : account_kinds())
    std::printf(" %s", name.c_str());
  std::printf("\nexit status: 0 ok, 1 refused by the ledger, 2 bad input, 3 server unreachable\n");
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
    if ((args[i] == "--server" || args[i] == "--token-file") && i + 1 < args.size()) {
      (args[i] == "--server" ? server : token_file) = args[i + 1];
      i++;
      continue;
    }
    return usage_error("unknown or incomplete option '" + args[i] + "'");
  }
  if (i == args.size()) return usage_error("no command given");
  const std::string name = args[i++];
  const Subcommand* sub = nullptr;
  for (const Subcommand& s : subcommands())
    if (name == s.name) sub = &s;
  if (sub == nullptr) return usage_error("unknown command '" + name + "'");

  Args parsed;
  for (; i < args.size(); i++) {
    const std::string& a = args[i];
    if (a == "--help") {
      std::printf("usage: coffer %s\n", sub->usage);
      return exit_ok;
    }
    if (a.rfind("--", 0) == 0) {
      if (contains(sub->bool_flags, a)) {
        parsed.flags[a] = "";
      } else if (contains(sub->value_flags, a)) {
        if (i + 1 >= args.size()) return usage_error(a + " wants a value");
        parsed.flags[a] = args[++i];
      } else {
        return usage_error("unknown option '" + a + "' for " + name);
      }
    } else {
      parsed.positionals.push_back(a);
    }
  }
  if (parsed.positionals.size() != sub->positionals)
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
