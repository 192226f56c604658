// What every `coffer` subcommand shares: parsed arguments, the connection
// (opened on first use, so bad input is reported without a server), calls
// and queries with the CLI's exit statuses, and output — human-readable lines
// by default, one JSON document with --json.
//
// Exit statuses: 0 ok, 1 the ledger refused (the result's name is printed, e.g.
// INSUFFICIENT_FUNDS), 2 usage errors, 3 cannot connect / server unavailable.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "clients/client.h"
#include "clients/command_text_json.h"
#include "core/command_text.h"
#include "core/types.h"

namespace coffer::cli {

namespace json = boost::json;

inline constexpr int exit_ok = 0;
inline constexpr int exit_refused = 1;
inline constexpr int exit_usage = 2;
inline constexpr int exit_unavailable = 3;

// Entries `history`, `gifts` and `withdrawals` print when --limit is not given.
inline constexpr uint32_t list_limit_default = 20;
inline constexpr uint32_t list_limit_max = 100'000;

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
  bool json = false;                // --json: machine output
  std::string voucher_secret_file;  // --voucher-secret-file; "" = derive from the token
  // Connects on first use; exit_ok or the failure's status (printed).
  int connect();
};

struct Subcommand {
  const char* name;  // one or two words: "balance", "member register"
  const char* usage;
  // Positionals required; with positionals_more, at least that many.
  size_t positionals;
  std::vector<std::string> value_flags;  // take a value
  std::vector<std::string> bool_flags;   // no value
  std::vector<std::string> required_flags;
  int (*run)(Context&, const Args&);
  bool positionals_more = false;
};

// Returns the exit status of `expr` unless it is exit_ok.
#define CLI_TRY(expr)                       \
  do {                                      \
    if (int rc_ = (expr); rc_ != exit_ok) { \
      return rc_;                           \
    }                                       \
  } while (0)

// "a,b,c" -> {"a","b","c"}; "" -> {}. Empty elements are kept (callers refuse them).
std::vector<std::string> split_list(const std::string& list);

// Prints "coffer: MESSAGE (see coffer --help)" and returns exit_usage.
int usage_error(const std::string& message);

bool parse_i64(const std::string& text, int64_t* out);
bool parse_u32(const std::string& text, uint32_t* out);
bool parse_u64(const std::string& text, uint64_t* out);
// A positive amount in minor units (or points); false otherwise.
bool parse_amount(const std::string& text, int64_t* out);
// A member id: decimal 1..2^64-1.
bool parse_member_id(const std::string& text, uint64_t* out);
// RFC 3339 (clients/rfc3339.h) -> microseconds since the epoch; false before it.
bool parse_rfc3339_us(const std::string& text, uint64_t* out_us);

// Sends the commands (and their texts) as one call. exit_ok with one reply per
// command in `replies`, or the call's failure, printed, as an exit status.
int submit(Context& ctx, const std::vector<Command>& commands,
           const std::vector<CommandText>& texts, std::vector<Reply>* replies);
// One command with an optional text.
int call(Context& ctx, const Command& command, std::optional<CommandText> text, Reply* reply);
// A state-store query; exit_ok or the failure, printed.
int query(Context& ctx, const client::Query& q, client::QueryResult* out);
// The texts under `keys` (nullopt where none); failures read as "no texts".
std::vector<std::optional<std::string>> fetch_texts(Context& ctx, const std::vector<Id128>& keys);

// Prints a refused reply (its result name, POINTS_RULE's rule and `details`)
// and returns exit_refused.
int refused(Context& ctx, const Reply& reply, json::object details = {});

bool replayed(const Reply& reply);

// Output: --json prints `o` as one line; otherwise "key value" lines (a list
// of objects: one line per element).
void print(const Context& ctx, const json::object& o);

using client::make_text;  // texts beside commands (clients/command_text_json.h)
using client::parse_text;
using client::string_or_null;

}  // namespace coffer::cli
