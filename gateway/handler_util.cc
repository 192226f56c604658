#include "gateway/handler_util.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <mutex>
#include <random>
#include <utility>

#include "core/assert.h"
#include "net/ids.h"

namespace coffer::gateway {

namespace json = boost::json;

Id128 random_id() {
  static std::mutex mu;
  static std::mt19937_64 gen{std::random_device{}()};
  std::lock_guard<std::mutex> lock(mu);
  Id128 id{gen(), gen()};
  if (id.is_zero()) id.lo = 1;
  return id;
}

Id128 text_key(std::string_view ns, std::string_view id) {
  std::string full = "text:";
  full += ns;
  return net::id_from_string(full, id);
}

uint64_t text_group(std::string_view ns, std::string_view id) {
  std::string full = "group:";
  full += ns;
  uint64_t g = net::id_from_string(full, id).lo;
  return g == 0 ? 1 : g;
}

Command read_command(CommandKind kind) {
  Command c{};
  c.kind = kind;
  return c;
}

bool read_body(const Request& req, const Responder& respond, json::object* out) {
  if (auto err = parse_json_object(req.body(), out)) {
    respond(*err);
    return false;
  }
  return true;
}

bool finish(ObjectReader& r, const Responder& respond) {
  if (auto err = r.finish()) {
    respond(*err);
    return false;
  }
  return true;
}

ApiError reply_error(const Reply& reply, std::string message) {
  ApiError e = api_error_from_result(static_cast<uint32_t>(reply.result), std::move(message));
  if (reply.result == Result::points_rule) {
    switch (reply_data(reply).detail) {
      case points_rule_min:
        e.details["rule"] = "min";
        break;
      case points_rule_balance:
        e.details["rule"] = "balance";
        break;
      case points_rule_max_share:
        e.details["rule"] = "max_share";
        break;
      default:
        break;
    }
  }
  return e;
}

namespace {

// The failure of a whole call, or nullopt when it has one reply per command.
std::optional<ApiError> call_failure(const client::SubmitResult& r, size_t expected) {
  if (r.status == Result::unavailable) {
    return unavailable("ledger server unreachable; retry with the same id");
  }
  if (r.status != Result::ok) {
    return api_error_from_result(static_cast<uint32_t>(r.status), "ledger call failed");
  }
  if (r.replies.size() != expected) {
    return internal_error("ledger answered " + std::to_string(r.replies.size()) + " replies to " +
                          std::to_string(expected) + " commands");
  }
  return std::nullopt;
}

}  // namespace

void call_many(LedgerLink* link, std::vector<Command> commands, std::vector<CommandText> texts,
               Responder respond, RepliesHandler on_replies) {
  size_t expected = commands.size();
  link->submit(std::move(commands), std::move(texts),
               [expected, respond = std::move(respond),
                on_replies = std::move(on_replies)](client::SubmitResult r) {
                 if (auto err = call_failure(r, expected)) return respond(*err);
                 on_replies(r.replies, respond);
               });
}

void call(LedgerLink* link, const Command& command, std::optional<CommandText> text,
          Responder respond, ReplyHandler on_reply) {
  std::vector<CommandText> texts;
  if (text) {
    text->index = 0;
    texts.push_back(std::move(*text));
  }
  call_many(
      link, {command}, std::move(texts), std::move(respond),
      [on_reply = std::move(on_reply)](std::span<const Reply> replies, const Responder& answer) {
        on_reply(replies[0], answer);
      });
}

void call(LedgerLink* link, const Command& command, Responder respond, ReplyHandler on_reply) {
  call(link, command, std::nullopt, std::move(respond), std::move(on_reply));
}

CommandText make_text(Id128 key, uint64_t group, const json::object& object) {
  CommandText t;
  t.key = key;
  t.group = group;
  t.text = json::serialize(object);
  return t;
}

json::object parse_text(const std::optional<std::string>& text) {
  if (!text) return {};
  json::error_code ec;
  json::value v = json::parse(*text, ec);
  if (ec || !v.is_object()) return {};
  return std::move(v.as_object());
}

void query(LedgerLink* link, client::Query q, Responder respond, QueryHandler on_result) {
  link->query(std::move(q), [respond = std::move(respond),
                             on_result = std::move(on_result)](client::QueryResult r) {
    if (r.status == Result::unavailable) {
      return respond(unavailable("ledger server unreachable; retry"));
    }
    if (r.status != Result::ok) {
      return respond(api_error_from_result(static_cast<uint32_t>(r.status), "query failed"));
    }
    on_result(r, respond);
  });
}

namespace {
void put_u64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; i++)
    out->push_back(static_cast<char>(v >> (8 * i)));
}
uint64_t get_u64(std::string_view in, size_t at) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--)
    v = (v << 8) | uint8_t(in[at + size_t(i)]);
  return v;
}
constexpr size_t cursor_position_size = 8 + 4 + 16;
}  // namespace

std::string cursor_position(const client::QueryCursor& c) {
  if (c.at_start()) return "";
  std::string out;
  put_u64(&out, c.seq);
  for (int i = 0; i < 4; i++)
    out.push_back(static_cast<char>(c.ordinal >> (8 * i)));
  put_u64(&out, c.key.lo);
  put_u64(&out, c.key.hi);
  return out;
}

std::optional<client::QueryCursor> cursor_from_position(std::string_view position) {
  client::QueryCursor c;
  if (position.empty()) return c;
  if (position.size() != cursor_position_size) return std::nullopt;
  c.seq = get_u64(position, 0);
  uint32_t ordinal = 0;
  for (int i = 3; i >= 0; i--)
    ordinal = (ordinal << 8) | uint8_t(position[8 + size_t(i)]);
  c.ordinal = ordinal;
  c.key = Id128{get_u64(position, 12), get_u64(position, 20)};
  if (c.at_start()) return std::nullopt;  // "" is the only spelling of the start
  return c;
}

json::value next_cursor_json(const client::QueryCursor& next) {
  if (next.at_start()) return nullptr;
  return json::value(encode_cursor(cursor_position(next)));
}

}  // namespace coffer::gateway
