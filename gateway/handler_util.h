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

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "clients/command_text_json.h"
#include "clients/domain_commands.h"
#include "clients/domain_ids.h"
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

// A fresh random command id, for PUTs that set state (the CLI's too:
// clients/domain_commands.h).
inline Id128 random_id() {
  return client::random_command_id();
}

// One derivation for the gateway and the CLI (clients/domain_ids.h).
using client::text_group;
using client::text_key;

// A command of `kind` with everything else zero (clients/domain_commands.h).
using client::read_command;

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

using client::make_text;  // texts beside commands (clients/command_text_json.h)
using client::parse_text;
using client::string_or_null;

// A state-store query; failures answer 503 (unavailable) or 500.
void query(LedgerLink* link, client::Query q, Responder respond, QueryHandler on_result);

// The texts under `keys` (one per key, nullopt where none), in one query; a
// failed query reads as "no texts": texts only decorate answers whose
// substance came from core.
using Texts = std::vector<std::optional<std::string>>;
void fetch_texts(LedgerLink* link, std::vector<Id128> keys, std::function<void(const Texts&)> done);

// ?limit= and ?cursor= of a list into q->limit and q->cursor; false after
// answering 400.
bool read_list(const Request& req, const Responder& respond, client::Query* q);
// The same for a list of the texts of `group` (QueryKind::texts_in_group).
bool read_group_list(const Request& req, const Responder& respond, uint64_t group,
                     client::Query* q);

// A list kept as the texts of one group (QueryKind::texts_in_group; SPEC A5
// lists), each item's state read from core. One page: the texts from
// q.cursor, `read_of` the read command of each row (nullopt: not an item),
// all reads in one call_many, `keep` whether an item belongs in the page (a
// filter such as ?state=). While fewer than q.limit items are kept the next
// texts are read, up to list_scan_rows_max rows per request; then `done` gets
// the kept items and the "next_cursor" (null at the end).
struct ListedItem {
  client::QueryRow row;
  Reply reply;
};
using ReadOfRow = std::function<std::optional<Command>(const client::QueryRow&)>;
using KeepItem = std::function<bool(const client::QueryRow&, const Reply&)>;
using ListedHandler = std::function<void(std::vector<ListedItem> items,
                                         boost::json::value next_cursor, const Responder&)>;
void list_group_items(LedgerLink* link, client::Query q, ReadOfRow read_of, KeepItem keep,
                      Responder respond, ListedHandler done);
// The KeepItem of unfiltered lists: items core still knows.
bool item_found(const client::QueryRow& row, const Reply& reply);
// 200 {"<field>": items, "next_cursor": next}: the body of every list.
Response list_response(std::string_view field, boost::json::array items,
                       boost::json::value next_cursor);

// Binds `fn(link, req, respond)` to route `id`: the shape of most handlers.
using LinkHandler = void (*)(LedgerLink*, const Request&, Responder);
void bind_link_handler(Router* router, LedgerLink* link, RouteId id, LinkHandler fn);

// A query cursor as a list position (router.h ListParams::cursor, encode_cursor):
// 28 bytes; "" = the first page. nullopt: not a position this made.
std::string cursor_position(const client::QueryCursor& cursor);
std::optional<client::QueryCursor> cursor_from_position(std::string_view position);
// "next_cursor" of a list response: null at the end.
boost::json::value next_cursor_json(const client::QueryCursor& next);

}  // namespace coffer::gateway
