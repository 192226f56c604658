// What every ledger-backed handler shares: strict body reading, one call to the
// ledger (with an optional text beside the command), queries of the state
// store, and the mapping of failed replies to API errors. One place for each,
// so that every endpoint answers a missing ledger, a bad body or a failed
// command the same way.
//
// Texts (core/command_text.h): strings core does not keep (names, phones,
// reasons, messages, payout details, the caller's own ids) travel beside their
// command as a JSON object and are kept by the state store under a key, when
// the command succeeds. Keys and groups are derived here and nowhere else:
//   text_key(ns, id)    = net::id_from_string("text:" + ns, id)
//   text_group(ns, id)  = net::id_from_string("group:" + ns, id).lo (never 0)
// Stable forever: changing them hides every text already stored.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/command_text.h"
#include "core/types.h"
#include "gateway/errors.h"
#include "gateway/json_util.h"
#include "gateway/ledger_link.h"
#include "gateway/router.h"

namespace coffer::gateway {

using ReplyHandler = std::function<void(const Reply&, const Responder&)>;
using RepliesHandler = std::function<void(std::span<const Reply>, const Responder&)>;
using QueryHandler = std::function<void(const client::QueryResult&, const Responder&)>;

// A fresh random command id, for PUTs that set state (a content-derived id
// would make enable -> disable -> enable a replay).
Id128 random_id();

Id128 text_key(std::string_view ns, std::string_view id);
uint64_t text_group(std::string_view ns, std::string_view id);

// A command of `kind` with everything else zero.
Command read_command(CommandKind kind);

// Parses the body as a JSON object; on failure answers 400 and returns false.
bool read_body(const Request& req, const Responder& respond, boost::json::object* out);
// ObjectReader::finish(); on failure answers 400 and returns false.
bool finish(ObjectReader& r, const Responder& respond);

// The API error of a failed reply, with POINTS_RULE's "rule"; handlers add the
// details only they can name (max_withdrawable, redeemed_at, ...).
ApiError reply_error(const Reply& reply, std::string message);

// Sends one command (and its text, if any: index is set here); the reply goes
// to `on_reply` on a client thread. An unreachable ledger answers 503.
void call(LedgerLink* link, const Command& command, Responder respond, ReplyHandler on_reply);
void call(LedgerLink* link, const Command& command, std::optional<CommandText> text,
          Responder respond, ReplyHandler on_reply);
// Several commands in one call (at most the batch limit): one reply each.
void call_many(LedgerLink* link, std::vector<Command> commands, std::vector<CommandText> texts,
               Responder respond, RepliesHandler on_replies);

// A text beside a command: `object` serialised as JSON.
CommandText make_text(Id128 key, uint64_t group, const boost::json::object& object);
// The JSON object of a stored text; empty if absent or not an object.
boost::json::object parse_text(const std::optional<std::string>& text);

// A state-store query; failures answer 503 (unavailable) or 500.
void query(LedgerLink* link, client::Query q, Responder respond, QueryHandler on_result);

// A query cursor as a list position (router.h ListParams::cursor, encode_cursor):
// 28 bytes; "" = the first page. nullopt: not a position this made.
std::string cursor_position(const client::QueryCursor& cursor);
std::optional<client::QueryCursor> cursor_from_position(std::string_view position);
// "next_cursor" of a list response: null at the end.
boost::json::value next_cursor_json(const client::QueryCursor& next);

}  // namespace coffer::gateway
