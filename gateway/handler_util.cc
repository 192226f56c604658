#include "gateway/handler_util.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <memory>
#include <utility>

#include "clients/domain_names.h"
#include "core/assert.h"
#include "net/ids.h"

namespace coffer::gateway {

namespace json = boost::json;

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
    if (auto rule = client::points_rule_name(reply_data(reply).detail)) e.details["rule"] = *rule;
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

void fetch_texts(LedgerLink* link, std::vector<Id128> keys,
                 std::function<void(const Texts&)> done) {
  size_t n = keys.size();
  if (n == 0) return done(Texts{});
  COFFER_ASSERT(n <= client::query_ids_max);
  client::Query q;
  q.kind = client::QueryKind::texts;
  q.ids = std::move(keys);
  link->query(std::move(q), [n, done = std::move(done)](client::QueryResult r) {
    Texts out(n);
    if (r.status == Result::ok) {
      for (size_t i = 0; i < n && i < r.rows.size(); i++)
        out[i] = r.rows[i].text;
    }
    done(out);
  });
}

bool read_list(const Request& req, const Responder& respond, client::Query* q) {
  ListParams list;
  if (auto err = parse_list_params(req.query, &list)) {
    respond(*err);
    return false;
  }
  auto c = cursor_from_position(list.cursor);
  if (!c) {
    respond(invalid_field("cursor", "'cursor' is not valid"));
    return false;
  }
  q->cursor = *c;
  q->limit = list.limit;
  return true;
}

bool read_group_list(const Request& req, const Responder& respond, uint64_t group,
                     client::Query* q) {
  if (!read_list(req, respond, q)) return false;
  q->kind = client::QueryKind::texts_in_group;
  q->key = group;
  return true;
}

namespace {

// One list_group_items request: the pages read so far and what they kept.
struct GroupListing {
  LedgerLink* link = nullptr;
  client::Query query;
  uint32_t limit = 0;
  uint32_t scanned = 0;
  ReadOfRow read_of;
  KeepItem keep;
  ListedHandler done;
  std::vector<ListedItem> items;
};

void list_next_page(const std::shared_ptr<GroupListing>& l, const Responder& respond) {
  COFFER_ASSERT(l->items.size() < l->limit);
  // Never more rows than items still wanted: the page then ends exactly where
  // the store's own cursor points, whatever the filter keeps.
  l->query.limit = l->limit - uint32_t(l->items.size());
  query(l->link, l->query, respond, [l](const client::QueryResult& r, const Responder& answer) {
    auto rows = std::make_shared<std::vector<client::QueryRow>>(r.rows);
    std::vector<Command> reads;
    std::vector<size_t> read_row;  // reads[i] is of (*rows)[read_row[i]]
    for (size_t i = 0; i < rows->size(); i++) {
      if (auto c = l->read_of((*rows)[i])) {
        reads.push_back(*c);
        read_row.push_back(i);
      }
    }
    l->scanned += uint32_t(rows->size());
    const client::QueryCursor next = r.next;
    auto after_reads = [l, rows, read_row, next](std::span<const Reply> replies,
                                                 const Responder& done) {
      for (size_t i = 0; i < replies.size(); i++) {
        const client::QueryRow& row = (*rows)[read_row[i]];
        if (l->keep(row, replies[i])) l->items.push_back(ListedItem{row, replies[i]});
      }
      COFFER_ASSERT(l->items.size() <= l->limit);
      bool more = !next.at_start();
      if (more && l->items.size() < l->limit && l->scanned < list_scan_rows_max) {
        l->query.cursor = next;
        return list_next_page(l, done);
      }
      l->done(std::move(l->items), next_cursor_json(next), done);
    };
    if (reads.empty()) return after_reads({}, answer);
    call_many(l->link, std::move(reads), {}, answer, std::move(after_reads));
  });
}

}  // namespace

void list_group_items(LedgerLink* link, client::Query q, ReadOfRow read_of, KeepItem keep,
                      Responder respond, ListedHandler done) {
  COFFER_ASSERT(q.kind == client::QueryKind::texts_in_group && q.key != 0);
  COFFER_ASSERT(q.limit >= 1 && q.limit <= list_limit_max);
  auto l = std::make_shared<GroupListing>();
  l->link = link;
  l->limit = q.limit;
  l->query = std::move(q);
  l->read_of = std::move(read_of);
  l->keep = std::move(keep);
  l->done = std::move(done);
  list_next_page(l, respond);
}

bool item_found(const client::QueryRow&, const Reply& reply) {
  return reply.result == Result::ok;
}

Response list_response(std::string_view field, json::array items, json::value next_cursor) {
  json::object o;
  o[field] = std::move(items);
  o["next_cursor"] = std::move(next_cursor);
  return json_response(200, o);
}

void bind_link_handler(Router* router, LedgerLink* link, RouteId id, LinkHandler fn) {
  router->bind(
      id, [link, fn](const Request& req, Responder respond) { fn(link, req, std::move(respond)); });
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
