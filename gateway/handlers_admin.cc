#include "gateway/handlers_admin.h"

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <charconv>
#include <cmath>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "clients/domain_json.h"
#include "clients/domain_names.h"
#include "core/assert.h"
#include "gateway/api_keys.h"
#include "gateway/handler_util.h"
#include "gateway/json_util.h"
#include "gateway/ledger_keys.h"
#include "net/ids.h"

namespace coffer::gateway {

namespace json = boost::json;

namespace {

using client::channel_name;
using client::guide_json;
using client::recharge_json;
using client::recharge_state_name;

constexpr int64_t u32_max = std::numeric_limits<uint32_t>::max();

using client::group_text_key;
using client::guide_text_key;
using client::method_text_key;
using client::methods_text_group;

// A text beside a command, or 400 when its JSON outgrows command_text_size_max
// (only possible with many escaped characters).
bool text_fits(const CommandText& t, const Responder& respond) {
  if (t.text.size() <= command_text_size_max) return true;
  respond(invalid_request("the strings of this request are too long together (" +
                          std::to_string(t.text.size()) + " bytes as JSON, at most " +
                          std::to_string(command_text_size_max) + ")"));
  return false;
}

// Core's tables of groups and methods are fixed (groups_max, methods_max):
// a full table is the caller's limit (422), not a server failure.
ApiError table_error(const Reply& reply, std::string_view what, uint32_t count_max) {
  if (reply.result == Result::capacity_exhausted) {
    ApiError e = api_error(Result::limit_exceeded, "at most " + std::to_string(count_max) + " " +
                                                       std::string(what) + " can exist");
    e.details["count_max"] = count_max;
    return e;
  }
  return reply_error(reply, std::string(what) + " not set");
}

// One texts query for `keys` (at most query_ids_max); rows in key order.
void texts_query(LedgerLink* link, std::vector<Id128> keys, Responder respond,
                 QueryHandler on_result) {
  COFFER_ASSERT(!keys.empty() && keys.size() <= client::query_ids_max);
  client::Query q;
  q.kind = client::QueryKind::texts;
  q.ids = std::move(keys);
  query(link, std::move(q), std::move(respond), std::move(on_result));
}

// The text of row `i` of a texts answer, as an object (empty if none).
json::object row_text(const client::QueryResult& r, size_t i) {
  if (i >= r.rows.size()) return {};
  return parse_text(r.rows[i].text);
}

const json::value* field(const json::object& o, std::string_view name) {
  auto it = o.find(name);
  return it == o.end() ? nullptr : &it->value();
}

// Strict decimal degrees for query strings: [-]digits[.digits].
std::optional<double> parse_degrees(std::string_view s) {
  size_t i = s.size() > 0 && s[0] == '-' ? 1 : 0;
  size_t digits = 0;
  bool dot = false;
  for (size_t k = i; k < s.size(); k++) {
    if (s[k] >= '0' && s[k] <= '9') {
      digits++;
    } else if (s[k] == '.' && !dot && digits > 0) {
      dot = true;
    } else {
      return std::nullopt;
    }
  }
  if (digits == 0 || s.back() == '.' || s.size() > 32) return std::nullopt;
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

int32_t micro_degrees(double degrees) {
  return static_cast<int32_t>(std::llround(degrees * 1e6));
}

// A JSON number (integer or not) of `name` in [min, max], taken out of `body`
// so that ObjectReader does not see it. Required.
std::optional<ApiError> take_degrees(json::object* body, std::string_view name, double min,
                                     double max, double* out) {
  auto it = body->find(name);
  if (it == body->end() || it->value().is_null()) {
    return invalid_field(name, std::string(name) + " is required");
  }
  const json::value& v = it->value();
  double d = 0;
  if (v.is_double()) {
    d = v.get_double();
  } else if (v.is_int64()) {
    d = static_cast<double>(v.get_int64());
  } else if (v.is_uint64()) {
    d = static_cast<double>(v.get_uint64());
  } else {
    return invalid_field(name, std::string(name) + " must be a number of degrees");
  }
  if (!std::isfinite(d) || d < min || d > max) {
    return invalid_field(name, std::string(name) + " must be within " + std::to_string(int(min)) +
                                   ".." + std::to_string(int(max)) + " degrees");
  }
  body->erase(it);
  *out = d;
  return std::nullopt;
}

// --- Config (GET/PUT /v1/config) ---------------------------------------------

Command config_read(uint32_t part) {
  Command c = read_command(CommandKind::config_get);
  c.body.read.part = part;
  return c;
}

// Reads the whole config (two reads) and the guide; answers 200 with it.
void answer_config(LedgerLink* link, Responder respond) {
  call_many(link, {config_read(0), config_read(1)}, {}, std::move(respond),
            [link](std::span<const Reply> replies, const Responder& answer) {
              for (const Reply& r : replies) {
                if (r.result != Result::ok) return answer(reply_error(r, "config not read"));
              }
              DomainConfig config = client::config_from_replies(replies[0], replies[1]);
              texts_query(link, {guide_text_key()}, answer,
                          [config](const client::QueryResult& r, const Responder& done) {
                            done(json_response(200, client::config_json(config, row_text(r, 0))));
                          });
            });
}

void config_get(LedgerLink* link, const Request&, Responder respond) {
  answer_config(link, std::move(respond));
}

void config_put(LedgerLink* link, const Request& req, Responder respond) {
  json::object body;
  if (!read_body(req, respond, &body)) return;
  std::optional<int64_t> withdraw_reserve_min, recharge_min, recharge_max, wallet_max_balance;
  std::optional<int64_t> default_group_id, points_offset_rate, points_use_min,
      payment_hold_timeout_s, recharge_timeout_s, voucher_fail_limit, wallet_gift_days,
      points_gift_days, withdraw_max_rate_bp;
  std::optional<bool> wallet_auto_open, withdraw_enabled;
  bool guide_present = false;
  std::string guide_text, guide_path;
  std::vector<int64_t> guide_amounts;
  ObjectReader r(body);
  r.amount("withdraw_reserve_min", &withdraw_reserve_min)
      .amount("recharge_min", &recharge_min)
      .amount("recharge_max", &recharge_max)
      .amount("wallet_max_balance", &wallet_max_balance)
      .i64("default_group_id", &default_group_id, 1, u32_max)
      .i64("points_offset_rate", &points_offset_rate, 1, points_offset_rate_max)
      .i64("points_use_min", &points_use_min, 0, u32_max)
      .i64("payment_hold_timeout_s", &payment_hold_timeout_s, 1, hold_timeout_s_max)
      .i64("recharge_timeout_s", &recharge_timeout_s, 1, hold_timeout_s_max)
      .i64("voucher_fail_limit", &voucher_fail_limit, 1, u32_max)
      .i64("wallet_gift_days", &wallet_gift_days, 0, gift_days_max)
      .i64("points_gift_days", &points_gift_days, 0, gift_days_max)
      .i64("withdraw_max_rate_bp", &withdraw_max_rate_bp, 0, bp_one)
      .boolean("wallet_auto_open", &wallet_auto_open)
      .boolean("withdraw_enabled", &withdraw_enabled)
      .object(
          "recharge_guide", Presence::optional,
          [&](ObjectReader& g) {
            g.string("text", &guide_text, guide_text_length_max)
                .string("path", &guide_path, guide_path_length_max)
                .amounts("amounts", Presence::required, &guide_amounts, guide_amounts_max);
          },
          &guide_present);
  if (!finish(r, respond)) return;

  Command c{};
  c.kind = CommandKind::config_set;
  c.id = random_id();
  ConfigBody& b = c.body.config;
  auto set = [&b](uint32_t bit, const auto& value, auto* dst) {
    if (!value) return;
    b.mask |= 1u << bit;
    *dst = static_cast<std::remove_pointer_t<decltype(dst)>>(*value);
  };
  set(0, withdraw_reserve_min, &b.values.withdraw_reserve_min);
  set(1, recharge_min, &b.values.recharge_min);
  set(2, recharge_max, &b.values.recharge_max);
  set(3, wallet_max_balance, &b.values.wallet_max_balance);
  set(4, default_group_id, &b.values.default_group_id);
  set(5, points_offset_rate, &b.values.points_offset_rate);
  set(6, points_use_min, &b.values.points_use_min);
  set(7, payment_hold_timeout_s, &b.values.payment_hold_timeout_s);
  set(8, recharge_timeout_s, &b.values.recharge_timeout_s);
  set(9, voucher_fail_limit, &b.values.voucher_fail_limit);
  set(10, wallet_gift_days, &b.values.wallet_gift_days);
  set(11, points_gift_days, &b.values.points_gift_days);
  set(12, withdraw_max_rate_bp, &b.values.withdraw_max_rate_bp);
  set(13, wallet_auto_open, &b.values.wallet_auto_open);
  set(14, withdraw_enabled, &b.values.withdraw_enabled);
  static_assert(config_field_count == 15, "every config field has a JSON name above");

  std::optional<CommandText> text;
  if (guide_present) {
    json::object g;
    g["text"] = guide_text;
    g["path"] = guide_path;
    json::array amounts;
    for (int64_t a : guide_amounts)
      amounts.push_back(a);
    g["amounts"] = std::move(amounts);
    text = make_text(guide_text_key(), 0, g);
    if (!text_fits(*text, respond)) return;
  }
  call(link, c, std::move(text), std::move(respond),
       [link](const Reply& reply, const Responder& answer) {
         if (reply.result != Result::ok) return answer(reply_error(reply, "config not changed"));
         answer_config(link, answer);
       });
}

// --- Groups --------------------------------------------------------------------

json::object group_json(const ReplyData& d, const json::object& text) {
  json::object o;
  o["group_id"] = d.aux32;
  json::value name = string_or_null(text, "name");
  // SPEC M5: group 1 exists from the start, named "default".
  if (name.is_null() && d.aux32 == 1) name = "default";
  o["name"] = name;
  o["cashback_bp"] = d.v[0];
  o["earn_points_bp"] = d.v[1];
  o["use_points_bp"] = d.v[2];
  o["upgrade_threshold"] = d.v[3];
  return o;
}

void group_put(LedgerLink* link, const Request& req, Responder respond) {
  uint64_t group_id = req.param("group_id").u64;
  if (group_id == 0 || group_id > uint64_t(u32_max)) {
    return respond(invalid_field("group_id", "group_id must be 1..4294967295"));
  }
  json::object body;
  if (!read_body(req, respond, &body)) return;
  std::string name;
  int64_t cashback_bp = 0, earn_points_bp = 0, use_points_bp = 0;
  std::optional<int64_t> upgrade_threshold;
  ObjectReader r(body);
  r.string("name", &name, admin_name_length_max)
      .i64("cashback_bp", &cashback_bp, 0, bp_one)
      .i64("earn_points_bp", &earn_points_bp, 0, bp_one)
      .i64("use_points_bp", &use_points_bp, 0, bp_one)
      .amount("upgrade_threshold", &upgrade_threshold);
  if (!finish(r, respond)) return;
  if (name.empty()) return respond(invalid_field("name", "name must not be empty"));
  client::DomainCommand set = client::group_set_command(
      static_cast<uint32_t>(group_id), name, static_cast<uint32_t>(cashback_bp),
      static_cast<uint32_t>(earn_points_bp), static_cast<uint32_t>(use_points_bp),
      upgrade_threshold.value_or(0));
  if (!text_fits(*set.text, respond)) return;
  const GroupBody g = set.command.body.group;
  call(link, set.command, std::move(set.text), std::move(respond),
       [g, name](const Reply& reply, const Responder& answer) {
         if (reply.result != Result::ok) return answer(table_error(reply, "groups", groups_max));
         answer(json_response(200, client::group_set_json(g, name)));
       });
}

void groups_list(LedgerLink* link, const Request&, Responder respond) {
  // Every group by position in one call: there are at most groups_max.
  std::vector<Command> reads;
  for (uint32_t i = 0; i < groups_max; i++) {
    Command c = read_command(CommandKind::group_get);
    c.body.read.index = i;
    reads.push_back(c);
  }
  call_many(link, std::move(reads), {}, std::move(respond),
            [link](std::span<const Reply> replies, const Responder& answer) {
              std::vector<ReplyData> groups;
              for (const Reply& r : replies) {
                if (r.result == Result::not_found) break;
                if (r.result != Result::ok) return answer(reply_error(r, "groups not read"));
                groups.push_back(reply_data(r));
              }
              if (groups.empty()) {
                return answer(json_response(200, json::object{{"groups", json::array()}}));
              }
              std::vector<Id128> keys;
              for (const ReplyData& d : groups)
                keys.push_back(group_text_key(d.aux32));
              texts_query(link, std::move(keys), answer,
                          [groups](const client::QueryResult& r, const Responder& done) {
                            json::array list;
                            for (size_t i = 0; i < groups.size(); i++) {
                              list.push_back(group_json(groups[i], row_text(r, i)));
                            }
                            done(json_response(200, json::object{{"groups", std::move(list)}}));
                          });
            });
}

// --- Stores --------------------------------------------------------------------

void store_put(LedgerLink* link, const Request& req, Responder respond) {
  std::string merchant_id = req.param("merchant_id").value;
  std::string store_id = req.param("store_id").value;
  if (req.principal && !may_access_merchant(*req.principal, merchant_id)) {
    return respond(forbidden("a merchant key may set only its own merchant's stores"));
  }
  json::object body;
  if (!read_body(req, respond, &body)) return;
  double lat = 0, lon = 0;
  if (auto err = take_degrees(&body, "lat", -90, 90, &lat)) return respond(*err);
  if (auto err = take_degrees(&body, "lon", -180, 180, &lon)) return respond(*err);
  std::string name;
  std::optional<std::string> address;
  ObjectReader r(body);
  r.string("name", &name, admin_name_length_max).string("address", &address, address_length_max);
  if (!finish(r, respond)) return;
  if (name.empty()) return respond(invalid_field("name", "name must not be empty"));
  client::DomainCommand set =
      client::store_set_command(merchant_id, store_id, name, address, lat, lon);
  if (!text_fits(*set.text, respond)) return;
  json::object o = client::store_json(merchant_id, store_id, name, address, lat, lon);
  call(link, set.command, std::move(set.text), std::move(respond),
       [o](const Reply& reply, const Responder& answer) {
         if (reply.result != Result::ok) return answer(reply_error(reply, "store not set"));
         answer(json_response(200, o));
       });
}

// GET /v1/stores/nearby: one stores_nearby read per store, each after the
// previous answer, then one texts query for the names.
struct NearbyWalk : std::enable_shared_from_this<NearbyWalk> {
  LedgerLink* link = nullptr;
  int32_t lat_udeg = 0;
  int32_t lon_udeg = 0;
  uint32_t limit = 0;
  std::vector<ReplyData> found;

  void next(Responder respond) {
    Command c = read_command(CommandKind::stores_nearby);
    NearbyBody& b = c.body.nearby;
    b.lat_udeg = lat_udeg;
    b.lon_udeg = lon_udeg;
    if (found.empty()) {
      b.first = 1;
    } else {
      const ReplyData& last = found.back();
      b.after_distance_m = static_cast<uint64_t>(last.v[2]);
      b.after_merchant_id = static_cast<uint64_t>(last.v[0]);
      b.after_store_id = static_cast<uint64_t>(last.v[1]);
    }
    call(link, c, std::move(respond),
         [self = shared_from_this()](const Reply& reply, const Responder& answer) {
           if (reply.result == Result::not_found) return self->finish(answer);
           if (reply.result != Result::ok) return answer(reply_error(reply, "stores not read"));
           self->found.push_back(reply_data(reply));
           if (self->found.size() >= self->limit) return self->finish(answer);
           self->next(answer);
         });
  }

  void finish(const Responder& respond) {
    if (found.empty()) {
      return respond(json_response(200, json::object{{"stores", json::array()}}));
    }
    std::vector<Id128> keys;
    for (const ReplyData& d : found) {
      keys.push_back(store_text_key(static_cast<uint64_t>(d.v[0]), static_cast<uint64_t>(d.v[1])));
    }
    texts_query(link, std::move(keys), respond,
                [self = shared_from_this()](const client::QueryResult& r, const Responder& done) {
                  json::array list;
                  for (size_t i = 0; i < self->found.size(); i++) {
                    const ReplyData& d = self->found[i];
                    json::object t = row_text(r, i);
                    json::object o;
                    json::value m = string_or_null(t, "merchant_id");
                    json::value s = string_or_null(t, "store_id");
                    o["store_id"] = s.is_null() ? json::value(std::to_string(uint64_t(d.v[1]))) : s;
                    o["merchant_id"] =
                        m.is_null() ? json::value(std::to_string(uint64_t(d.v[0]))) : m;
                    o["name"] = string_or_null(t, "name");
                    o["distance_m"] = d.v[2];
                    o["lat"] = static_cast<double>(d.v[3]) / 1e6;
                    o["lon"] = static_cast<double>(d.v[4]) / 1e6;
                    o["address"] = string_or_null(t, "address");
                    list.push_back(std::move(o));
                  }
                  done(json_response(200, json::object{{"stores", std::move(list)}}));
                });
  }
};

void stores_nearby(LedgerLink* link, const Request& req, Responder respond) {
  auto degrees = [&](const char* name, double min, double max) -> std::optional<double> {
    const std::string* text = req.query.get(name);
    if (text == nullptr) {
      respond(invalid_field(name, std::string(name) + " is required"));
      return std::nullopt;
    }
    auto v = parse_degrees(*text);
    if (!v || *v < min || *v > max) {
      respond(invalid_field(name, std::string(name) + " must be decimal degrees within " +
                                      std::to_string(int(min)) + ".." + std::to_string(int(max))));
      return std::nullopt;
    }
    return v;
  };
  auto lat = degrees("lat", -90, 90);
  if (!lat) return;
  auto lon = degrees("lon", -180, 180);
  if (!lon) return;
  uint32_t limit = nearby_limit_default;
  if (const std::string* text = req.query.get("limit")) {
    auto v = parse_u64(*text);
    if (!v || *v == 0 || *v > nearby_limit_max) {
      return respond(
          invalid_field("limit", "limit must be 1.." + std::to_string(nearby_limit_max)));
    }
    limit = static_cast<uint32_t>(*v);
  }
  auto walk = std::make_shared<NearbyWalk>();
  walk->link = link;
  walk->lat_udeg = micro_degrees(*lat);
  walk->lon_udeg = micro_degrees(*lon);
  walk->limit = limit;
  walk->next(std::move(respond));
}

// --- Recharge methods ------------------------------------------------------------

// A method id: decimal 1..2^32-1 (core keeps them as u32).
std::optional<uint32_t> method_id_from(std::string_view text) {
  auto v = parse_u64(text);
  if (!v || *v == 0 || *v > uint64_t(u32_max)) return std::nullopt;
  return static_cast<uint32_t>(*v);
}

void method_put(LedgerLink* link, const Request& req, Responder respond) {
  auto method_id = method_id_from(req.param("method_id").value);
  if (!method_id) return respond(invalid_field("method_id", "method_id must be 1..4294967295"));
  json::object body;
  if (!read_body(req, respond, &body)) return;
  std::string name;
  std::string channel;
  std::optional<bool> enabled;
  std::vector<std::string> payees;
  ObjectReader r(body);
  r.string("name", &name, admin_name_length_max)
      .one_of("channel", &channel, {"wechat", "cash", "bank", "other"})
      .boolean("enabled", &enabled)
      .strings("payee_accounts", Presence::optional, &payees, payee_accounts_max,
               payee_account_length_max);
  if (!finish(r, respond)) return;
  if (name.empty()) return respond(invalid_field("name", "name must not be empty"));
  for (const std::string& p : payees) {
    if (p.empty())
      return respond(invalid_field("payee_accounts", "payee accounts must not be empty"));
  }
  client::DomainCommand set =
      client::method_set_command(*method_id, name, channel, enabled.value_or(true), payees);
  if (!text_fits(*set.text, respond)) return;
  json::object o = client::method_json(*method_id, name, channel, enabled.value_or(true), payees);
  call(link, set.command, std::move(set.text), std::move(respond),
       [o](const Reply& reply, const Responder& answer) {
         if (reply.result != Result::ok) {
           return answer(table_error(reply, "recharge methods", methods_max));
         }
         answer(json_response(200, o));
       });
}

void methods_list(LedgerLink* link, const Request&, Responder respond) {
  client::Query q;
  q.kind = client::QueryKind::texts_in_group;
  q.key = methods_text_group();
  q.limit = methods_max;
  query(link, std::move(q), std::move(respond),
        [link](const client::QueryResult& listed, const Responder& answer) {
          // The texts name the methods; core says what is in force.
          std::vector<json::object> texts;
          std::vector<Command> reads;
          for (const client::QueryRow& row : listed.rows) {
            json::object t = parse_text(row.text);
            const json::value* id = field(t, "method_id");
            if (id == nullptr || !id->is_number()) continue;
            Command c = read_command(CommandKind::method_get);
            c.body.read.key = id->to_number<uint64_t>();
            reads.push_back(c);
            texts.push_back(std::move(t));
          }
          auto with_guide = [link, answer](json::array methods) {
            texts_query(link, {guide_text_key()}, answer,
                        [methods = std::move(methods)](const client::QueryResult& r,
                                                       const Responder& done) {
                          json::object o;
                          o["methods"] = methods;
                          o["guide"] = guide_json(row_text(r, 0));
                          done(json_response(200, o));
                        });
          };
          if (reads.empty()) return with_guide(json::array());
          call_many(link, std::move(reads), {}, answer,
                    [texts = std::move(texts), with_guide](std::span<const Reply> replies,
                                                           const Responder& done) {
                      json::array methods;
                      for (size_t i = 0; i < replies.size(); i++) {
                        if (replies[i].result == Result::not_found) continue;
                        if (replies[i].result != Result::ok) {
                          return done(reply_error(replies[i], "methods not read"));
                        }
                        ReplyData d = reply_data(replies[i]);
                        json::object m;
                        m["method_id"] = d.aux32;
                        m["name"] = string_or_null(texts[i], "name");
                        m["channel"] = channel_name(d.detail);
                        m["enabled"] = d.state != 0;
                        const json::value* a = field(texts[i], "payee_accounts");
                        m["payee_accounts"] = a != nullptr && a->is_array() ? *a : json::array();
                        methods.push_back(std::move(m));
                      }
                      with_guide(std::move(methods));
                    });
        });
}

// --- Recharges -----------------------------------------------------------------

Id128 recharge_command_id(std::string_view recharge_id) {
  return net::id_from_string("recharge", recharge_id);
}

using client::recharges_text_group;

// The recharge of `reply` with its payee account, read from the method's text.
void answer_recharge(LedgerLink* link, unsigned status, std::string recharge_id, const Reply& reply,
                     const Responder& respond) {
  texts_query(
      link, {method_text_key(reply_data(reply).aux32)}, respond,
      [status, recharge_id = std::move(recharge_id), reply](const client::QueryResult& r,
                                                            const Responder& done) {
        done(json_response(status, recharge_json(json::value(recharge_id), reply, row_text(r, 0))));
      });
}

std::optional<uint8_t> parse_recharge_state(std::string_view name) {
  for (uint8_t st : {recharge_pending, recharge_paid, recharge_paid_late, recharge_amount_mismatch,
                     recharge_expired}) {
    if (recharge_state_name(st) == name) return st;
  }
  return std::nullopt;
}

// GET /v1/recharges?state= (SPEC A5): the recharge texts of the recharges
// group, each order's state from core, filtered by ?state= when given; then
// the methods' texts (payee accounts) in one query.
void recharges_list(LedgerLink* link, const Request& req, Responder respond) {
  std::optional<uint8_t> state;
  if (const std::string* s = req.query.get("state")) {
    state = parse_recharge_state(*s);
    if (!state) {
      return respond(invalid_field(
          "state", "'state' must be pending, paid, paid_late, amount_mismatch or expired"));
    }
  }
  client::Query q;
  if (!read_group_list(req, respond, recharges_text_group(), &q)) return;
  list_group_items(
      link, std::move(q),
      [](const client::QueryRow& row) -> std::optional<Command> {
        Command c = read_command(CommandKind::recharge_get);
        c.body.read.id = row.id;  // the text's key is the recharge's command id
        return c;
      },
      [state](const client::QueryRow&, const Reply& reply) {
        return reply.result == Result::ok && (!state || reply_data(reply).state == *state);
      },
      std::move(respond),
      [link](std::vector<ListedItem> items, json::value next, const Responder& answer) {
        std::vector<uint32_t> methods;
        for (const ListedItem& item : items) {
          uint32_t m = reply_data(item.reply).aux32;
          if (std::find(methods.begin(), methods.end(), m) == methods.end()) methods.push_back(m);
        }
        std::vector<Id128> keys;
        for (uint32_t m : methods)
          keys.push_back(method_text_key(m));
        auto shared = std::make_shared<std::vector<ListedItem>>(std::move(items));
        fetch_texts(link, std::move(keys), [shared, methods, next, answer](const Texts& texts) {
          json::array out;
          for (const ListedItem& item : *shared) {
            size_t at =
                size_t(std::find(methods.begin(), methods.end(), reply_data(item.reply).aux32) -
                       methods.begin());
            json::object method = parse_text(at < texts.size() ? texts[at] : std::nullopt);
            out.push_back(recharge_json(string_or_null(parse_text(item.row.text), "ref"),
                                        item.reply, method));
          }
          answer(list_response("recharges", std::move(out), next));
        });
      });
}

void recharge_create(LedgerLink* link, const Request& req, Responder respond) {
  json::object body;
  if (!read_body(req, respond, &body)) return;
  std::string recharge_id;
  uint64_t member_id = 0;
  int64_t amount = 0;
  std::string method_text;
  ObjectReader r(body);
  r.id("recharge_id", &recharge_id)
      .u64("member_id", &member_id)
      .amount("amount", &amount)
      .tenant_id("method_id", &method_text);
  if (!finish(r, respond)) return;
  auto method_id = method_id_from(method_text);
  if (!method_id) return respond(invalid_field("method_id", "method_id must be 1..4294967295"));
  if (member_id == 0) return respond(invalid_field("member_id", "member_id must be non-zero"));
  if (amount == 0) return respond(invalid_field("amount", "amount must be positive"));
  client::DomainCommand create =
      client::recharge_create_command(recharge_id, member_id, amount, *method_id);
  call(link, create.command, std::move(create.text), std::move(respond),
       [link, recharge_id](const Reply& reply, const Responder& answer) {
         if (reply.result != Result::ok) return answer(reply_error(reply, "recharge refused"));
         // A replay answers what the first call answered (API.md).
         answer_recharge(link, 201, recharge_id, reply, answer);
       });
}

void recharge_get(LedgerLink* link, const Request& req, Responder respond) {
  std::string recharge_id = req.param("recharge_id").value;
  Command c = read_command(CommandKind::recharge_get);
  c.body.read.id = recharge_command_id(recharge_id);
  call(link, c, std::move(respond),
       [link, recharge_id](const Reply& reply, const Responder& answer) {
         if (reply.result != Result::ok) return answer(reply_error(reply, "recharge not found"));
         answer_recharge(link, 200, recharge_id, reply, answer);
       });
}

void recharge_confirm(LedgerLink* link, const Request& req, Responder respond) {
  json::object body;
  if (!read_body(req, respond, &body)) return;
  std::string channel_txn_id;
  int64_t amount = 0;
  ObjectReader r(body);
  r.id("channel_txn_id", &channel_txn_id).amount("amount", &amount);
  if (!finish(r, respond)) return;
  if (amount == 0) return respond(invalid_field("amount", "amount must be positive"));
  std::string recharge_id = req.param("recharge_id").value;
  Command c = recharge_confirm_command(recharge_id, channel_txn_id, amount);
  CommandText text =
      make_text(c.id, 0, json::object{{"ref", recharge_id}, {"channel_txn_id", channel_txn_id}});
  call(link, c, std::move(text), std::move(respond),
       [link, recharge_id](const Reply& reply, const Responder& answer) {
         if (reply.result != Result::ok)
           return answer(reply_error(reply, "recharge not confirmed"));
         answer_recharge(link, 200, recharge_id, reply, answer);
       });
}

// --- API keys ------------------------------------------------------------------

uint8_t api_role(Role role) {
  switch (role) {
    case Role::platform:
      return role_platform;
    case Role::service:
      return role_service;
    case Role::merchant:
      return role_merchant;
    case Role::store:
      return role_store;
  }
  return 0;
}

void api_key_create(LedgerLink* link, const Request& req, Responder respond) {
  json::object body;
  if (!read_body(req, respond, &body)) return;
  std::string role_text;
  std::optional<std::string> merchant_id, store_id, name;
  ObjectReader r(body);
  r.one_of("role", &role_text, {"platform", "service", "merchant", "store"})
      .tenant_id("merchant_id", &merchant_id)
      .tenant_id("store_id", &store_id)
      .string("name", &name, admin_name_length_max);
  if (!finish(r, respond)) return;
  Role role = *parse_role(role_text);
  const Principal* caller = req.principal ? &*req.principal : nullptr;
  if (caller != nullptr && caller->role == Role::merchant) {
    // SPEC A2: a merchant makes keys for its own stores, nothing else.
    if (role != Role::store) return respond(forbidden("a merchant key may create store keys only"));
    if (!merchant_id) merchant_id = caller->merchant_id;
    if (!may_access_merchant(*caller, *merchant_id)) {
      return respond(forbidden("a merchant key may create keys for its own stores only"));
    }
  }
  bool tenant = role == Role::merchant || role == Role::store;
  if (tenant && !merchant_id) {
    return respond(invalid_field("merchant_id", "merchant and store keys need a merchant_id"));
  }
  if (!tenant && merchant_id) {
    return respond(invalid_field("merchant_id", "platform and service keys have no merchant_id"));
  }
  if (role == Role::store && !store_id) {
    return respond(invalid_field("store_id", "store keys need a store_id"));
  }
  if (role != Role::store && store_id) {
    return respond(invalid_field("store_id", "only store keys have a store_id"));
  }
  std::string key;
  if (!generate_api_key(&key)) return respond(internal_error("no randomness for a new key"));
  ApiKeyHash hash = key_hash(key);
  std::string id = key_id(hash);
  Command c{};
  c.kind = CommandKind::api_key_set;
  c.id = net::id_from_string("api_key", id);
  ApiKeyBody& k = c.body.api_key;
  k.key_hash = api_key_ledger_id(hash);
  k.merchant_id = merchant_id ? net::account_id_from_string(*merchant_id) : 0;
  k.store_id = store_id ? net::account_id_from_string(*store_id) : 0;
  k.role = api_role(role);
  k.enabled = 1;
  json::object o;
  o["key_id"] = id;
  o["role"] = role_text;
  o["merchant_id"] = merchant_id ? json::value(*merchant_id) : json::value(nullptr);
  o["store_id"] = store_id ? json::value(*store_id) : json::value(nullptr);
  o["name"] = name ? json::value(*name) : json::value(nullptr);
  CommandText text = make_text(text_key("api_key", id), 0, o);
  if (!text_fits(text, respond)) return;
  call(link, c, std::move(text), std::move(respond),
       [o, key](const Reply& reply, const Responder& answer) {
         if (reply.result != Result::ok) return answer(reply_error(reply, "key not created"));
         json::object out = o;
         out["key"] = key;  // shown once: the ledger keeps only its hash
         answer(json_response(201, out));
       });
}

}  // namespace

void bind_admin_handlers(Router* router, LedgerLink* link) {
  COFFER_ASSERT(router != nullptr && link != nullptr);
  auto bind = [&](RouteId id, LinkHandler fn) { bind_link_handler(router, link, id, fn); };
  bind(RouteId::config_get, config_get);
  bind(RouteId::config_put, config_put);
  bind(RouteId::group_put, group_put);
  bind(RouteId::groups_list, groups_list);
  bind(RouteId::store_put, store_put);
  bind(RouteId::stores_nearby, stores_nearby);
  bind(RouteId::recharge_methods_list, methods_list);
  bind(RouteId::recharge_method_put, method_put);
  bind(RouteId::recharge_create, recharge_create);
  bind(RouteId::recharges_list, recharges_list);
  bind(RouteId::recharge_get, recharge_get);
  bind(RouteId::recharge_confirm, recharge_confirm);
  bind(RouteId::api_keys_create, api_key_create);
}

}  // namespace coffer::gateway
