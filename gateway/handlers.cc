#include "gateway/handlers.h"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <limits>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "clients/domain_commands.h"
#include "clients/domain_json.h"
#include "core/types.h"
#include "gateway/handler_util.h"
#include "gateway/handlers_admin.h"
#include "gateway/handlers_rewards.h"
#include "gateway/json_util.h"
#include "net/ids.h"

namespace coffer::gateway {

namespace json = boost::json;

namespace {

using client::member_json;
using client::payment_json;

// --- Members -------------------------------------------------------------------

using client::member_text_key;
using client::members_text_group;

std::optional<std::string> text_phone(const json::object& text) {
  if (auto it = text.find("phone"); it != text.end() && it->value().is_string()) {
    return std::string(it->value().as_string());
  }
  return std::nullopt;
}

// Answers a member reply with its phone from the member's text ("phone":
// null when none was kept; `fallback` when given and nothing was kept).
void answer_member(LedgerLink* link, const Reply& reply, unsigned status,
                   std::optional<std::string> fallback, const Responder& answer) {
  uint64_t member_id = static_cast<uint64_t>(reply_data(reply).v[0]);
  client::Query q;
  q.kind = client::QueryKind::texts;
  q.ids = {member_text_key(member_id)};
  link->query(std::move(q),
              [reply, status, fallback = std::move(fallback), answer](client::QueryResult r) {
                std::optional<std::string> phone = fallback;
                if (r.status == Result::ok && !r.rows.empty()) {
                  if (auto kept = text_phone(parse_text(r.rows[0].text))) phone = std::move(kept);
                }
                answer(json_response(status, member_json(reply, phone)));
              });
}

void member_create(LedgerLink* link, const Request& req, Responder respond) {
  json::object body;
  if (!read_body(req, respond, &body)) return;
  uint64_t member_id = 0;
  std::optional<uint64_t> group_id;
  std::optional<std::string> phone;
  ObjectReader r(body);
  r.u64("member_id", &member_id)
      .u64("group_id", &group_id)
      .string("phone", &phone, phone_length_max);
  if (!finish(r, respond)) return;
  if (member_id == 0) return respond(invalid_field("member_id", "member_id must be non-zero"));
  if (group_id && (*group_id == 0 || *group_id > std::numeric_limits<uint32_t>::max())) {
    return respond(invalid_field("group_id", "group_id must be 1..4294967295"));
  }
  if (phone && !is_valid_phone(*phone)) {
    return respond(invalid_field("phone", "phone must be 1-32 characters of 0-9, '+' and '-'"));
  }
  client::DomainCommand reg = client::member_register_command(
      member_id, group_id ? static_cast<uint32_t>(*group_id) : 0, phone);
  call(link, reg.command, std::move(reg.text), std::move(respond),
       [phone](const Reply& reply, const Responder& answer) {
         if (reply.result != Result::ok) return answer(reply_error(reply, "member not registered"));
         bool replayed = (reply.flags & reply_flag_replayed) != 0;
         answer(json_response(replayed ? 200 : 201, member_json(reply, phone)));
       });
}

void member_get(LedgerLink* link, const Request& req, Responder respond) {
  Command c = read_command(CommandKind::member_get);
  c.body.read.key = req.param("member_id").u64;
  call(link, c, std::move(respond), [link](const Reply& reply, const Responder& answer) {
    if (reply.result != Result::ok) return answer(reply_error(reply, "member not found"));
    answer_member(link, reply, 200, std::nullopt, answer);
  });
}

// M4: the member registered with this phone (any spelling with the same digits).
void member_by_phone(LedgerLink* link, const Request& req, Responder respond) {
  std::string phone = req.param("phone").value;
  Command c = read_command(CommandKind::member_by_phone);
  c.body.read.key = phone_hash(phone);
  call(link, c, std::move(respond), [link, phone](const Reply& reply, const Responder& answer) {
    if (reply.result != Result::ok) return answer(reply_error(reply, "no member with this phone"));
    answer_member(link, reply, 200, phone, answer);
  });
}

// GET /v1/members (SPEC A5): the member texts of the members group, one page,
// then each member's state from core in one call. Ordered by text key (stable,
// not by time); members registered before their texts carried the group are
// not listed.
void members_list(LedgerLink* link, const Request& req, Responder respond) {
  client::Query q;
  if (!read_group_list(req, respond, members_text_group(), &q)) return;
  list_group_items(
      link, std::move(q),
      [](const client::QueryRow& row) -> std::optional<Command> {
        json::object text = parse_text(row.text);
        auto it = text.find("member_id");
        if (it == text.end()) return std::nullopt;
        boost::system::error_code ec;
        const uint64_t member_id = it->value().to_number<uint64_t>(ec);
        if (ec || member_id == 0) return std::nullopt;
        Command c = read_command(CommandKind::member_get);
        c.body.read.key = member_id;
        return c;
      },
      item_found, std::move(respond),
      [](std::vector<ListedItem> items, json::value next, const Responder& answer) {
        json::array members;
        for (const ListedItem& item : items) {
          members.push_back(member_json(item.reply, text_phone(parse_text(item.row.text))));
        }
        answer(list_response("members", std::move(members), std::move(next)));
      });
}

void member_balance(LedgerLink* link, const Request& req, Responder respond) {
  Command c = read_command(CommandKind::balance_get);
  c.body.read.key = req.param("member_id").u64;
  call(link, c, std::move(respond), [](const Reply& reply, const Responder& answer) {
    if (reply.result != Result::ok) return answer(reply_error(reply, "member not found"));
    answer(json_response(200, client::balance_json(reply)));
  });
}

void member_wallet_put(LedgerLink* link, const Request& req, Responder respond) {
  json::object body;
  if (!read_body(req, respond, &body)) return;
  bool enabled = false;
  ObjectReader r(body);
  r.boolean("enabled", &enabled);
  if (!finish(r, respond)) return;
  Command c{};
  c.kind = CommandKind::member_set_wallet;
  c.id = random_id();
  c.body.member.member_id = req.param("member_id").u64;
  c.body.member.enabled = enabled ? 1 : 0;
  call(link, c, std::move(respond), [link](const Reply& reply, const Responder& answer) {
    if (reply.result != Result::ok) return answer(reply_error(reply, "wallet not changed"));
    answer_member(link, reply, 200, std::nullopt, answer);
  });
}

// POST /v1/members/{member_id}/credit and /debit.
void member_money(LedgerLink* link, bool credit, const Request& req, Responder respond) {
  json::object body;
  if (!read_body(req, respond, &body)) return;
  std::string op_id;
  int64_t amount = 0;
  std::optional<std::string> asset;
  std::string reason;
  ObjectReader r(body);
  r.id(credit ? "credit_id" : "debit_id", &op_id)
      .amount("amount", &amount)
      .one_of("asset", &asset, {"wallet", "points"})
      .string("reason", &reason, reason_length_max);
  if (!finish(r, respond)) return;
  if (amount == 0) return respond(invalid_field("amount", "amount must be positive"));
  if (reason.empty()) return respond(invalid_field("reason", "reason must not be empty"));
  bool points = asset && *asset == "points";
  uint64_t member_id = req.param("member_id").u64;
  client::DomainCommand money =
      client::member_money_command(credit, op_id, member_id, amount, points, reason);
  call(link, money.command, std::move(money.text), std::move(respond),
       [credit, op_id, member_id, points](const Reply& reply, const Responder& answer) {
         if (reply.result != Result::ok) return answer(reply_error(reply, "not applied"));
         answer(json_response(201, client::money_json(credit, op_id, member_id, points, reply)));
       });
}

// --- Merchants -----------------------------------------------------------------

void merchant_put(LedgerLink* link, const Request& req, Responder respond) {
  json::object body;
  if (!read_body(req, respond, &body)) return;
  std::string name;
  std::optional<bool> split;
  ObjectReader r(body);
  r.string("name", &name, name_length_max).boolean("split_payment_allowed", &split);
  if (!finish(r, respond)) return;
  if (name.empty()) return respond(invalid_field("name", "name must not be empty"));
  std::string merchant_id = req.param("merchant_id").value;
  client::DomainCommand set =
      client::merchant_set_command(merchant_id, name, split.value_or(false));
  call(
      link, set.command, std::move(set.text), std::move(respond),
      [merchant_id, name, split](const Reply& reply, const Responder& answer) {
        if (reply.result != Result::ok) return answer(reply_error(reply, "merchant not set"));
        answer(json_response(200, client::merchant_json(merchant_id, name, split.value_or(false))));
      });
}

// --- Payments ------------------------------------------------------------------

Id128 payment_command_id(std::string_view payment_id) {
  return net::id_from_string("payment", payment_id);
}

void payment_create(LedgerLink* link, const Request& req, Responder respond) {
  json::object body;
  if (!read_body(req, respond, &body)) return;
  std::string payment_id;
  uint64_t member_id = 0;
  std::string merchant_id;
  std::optional<std::string> store_id;
  std::optional<std::string> order_ref;
  int64_t amount = 0;
  std::optional<int64_t> points;
  std::optional<int64_t> external_amount;
  std::optional<bool> capture;
  ObjectReader r(body);
  r.id("payment_id", &payment_id)
      .u64("member_id", &member_id)
      .tenant_id("merchant_id", &merchant_id)
      .tenant_id("store_id", &store_id)
      .string("order_ref", &order_ref, order_ref_length_max)
      .amount("amount", &amount)
      .amount("points", &points)
      .amount("external_amount", &external_amount)
      .boolean("capture", &capture);
  if (!finish(r, respond)) return;
  if (amount == 0) return respond(invalid_field("amount", "amount must be positive"));
  if (order_ref && order_ref->empty()) {
    return respond(invalid_field("order_ref", "order_ref must not be empty"));
  }
  client::DomainCommand pay = client::payment_create_command(
      payment_id, member_id, merchant_id, store_id, order_ref, amount, points.value_or(0),
      external_amount.value_or(0), capture.value_or(true));
  call(link, pay.command, std::move(pay.text), std::move(respond),
       [payment_id](const Reply& reply, const Responder& answer) {
         if (reply.result != Result::ok) return answer(reply_error(reply, "payment refused"));
         answer(json_response(201, payment_json(payment_id, reply)));
       });
}

// SPEC A2 for payments: core's payment replies do not carry the merchant, the
// payment's text does. Platform and service keys see every tenant; a merchant
// key only payments whose text names its merchant. Without a text: 404 if
// core does not know the payment either, else 403 (the tenant cannot be
// checked, so the payment is not shown).
void with_payment_tenant(LedgerLink* link, const Request& req, std::string payment_id,
                         Responder respond, std::function<void(const Responder&)> then) {
  if (!req.principal || req.principal->role == Role::platform ||
      req.principal->role == Role::service) {
    return then(respond);
  }
  const Principal who = *req.principal;
  fetch_texts(link, {payment_command_id(payment_id)},
              [link, who, payment_id, respond, then = std::move(then)](const Texts& texts) {
                json::value merchant = string_or_null(
                    parse_text(texts.empty() ? std::nullopt : texts[0]), "merchant_id");
                if (merchant.is_string()) {
                  if (may_access_merchant(who, std::string(merchant.as_string())))
                    return then(respond);
                  return respond(forbidden("the payment belongs to another merchant"));
                }
                Command c = read_command(CommandKind::payment_get);
                c.body.read.id = payment_command_id(payment_id);
                call(link, c, respond, [](const Reply& reply, const Responder& answer) {
                  if (reply.result != Result::ok) {
                    return answer(reply_error(reply, "payment not found"));
                  }
                  answer(forbidden("the payment's merchant is not known to this gateway"));
                });
              });
}

void payment_get(LedgerLink* link, const Request& req, Responder respond) {
  std::string payment_id = req.param("payment_id").value;
  with_payment_tenant(
      link, req, payment_id, std::move(respond), [link, payment_id](const Responder& allowed) {
        Command c = read_command(CommandKind::payment_get);
        c.body.read.id = payment_command_id(payment_id);
        call(link, c, allowed, [payment_id](const Reply& reply, const Responder& answer) {
          if (reply.result != Result::ok) return answer(reply_error(reply, "payment not found"));
          answer(json_response(200, payment_json(payment_id, reply)));
        });
      });
}

// capture ({"amount"?}) and void ({}).
void payment_op(LedgerLink* link, CommandKind kind, const Request& req, Responder respond) {
  json::object body;
  if (!read_body(req, respond, &body)) return;
  std::optional<int64_t> amount;
  ObjectReader r(body);
  if (kind == CommandKind::payment_capture) r.amount("amount", &amount);
  if (!finish(r, respond)) return;
  if (amount && *amount == 0) {
    return respond(
        invalid_field("amount", "amount must be positive (omit it for the full amount)"));
  }
  std::string payment_id = req.param("payment_id").value;
  Command c = client::payment_op_command(kind, payment_id, amount.value_or(0));
  call(link, c, std::move(respond), [payment_id](const Reply& reply, const Responder& answer) {
    if (reply.result != Result::ok) return answer(reply_error(reply, "payment not changed"));
    answer(json_response(200, payment_json(payment_id, reply)));
  });
}

void payment_refund(LedgerLink* link, const Request& req, Responder respond) {
  json::object body;
  if (!read_body(req, respond, &body)) return;
  std::string refund_id;
  int64_t amount = 0;
  ObjectReader r(body);
  r.id("refund_id", &refund_id).amount("amount", &amount);
  if (!finish(r, respond)) return;
  if (amount == 0) return respond(invalid_field("amount", "amount must be positive"));
  std::string payment_id = req.param("payment_id").value;
  client::DomainCommand refund = client::refund_command(refund_id, payment_id, amount);
  with_payment_tenant(
      link, req, payment_id, std::move(respond),
      [link, refund, payment_id, refund_id](const Responder& allowed) {
        call(link, refund.command, refund.text, allowed,
             [payment_id, refund_id](const Reply& reply, const Responder& answer) {
               if (reply.result != Result::ok) return answer(reply_error(reply, "refund refused"));
               answer(json_response(201, client::refund_json(refund_id, payment_id, reply)));
             });
      });
}

}  // namespace

void bind_ledger_handlers(Router* router, LedgerLink* link, const HandlerOptions& options) {
  COFFER_ASSERT(router != nullptr && link != nullptr);
  auto bind = [&](RouteId id, LinkHandler fn) { bind_link_handler(router, link, id, fn); };
  bind(RouteId::member_create, member_create);
  bind(RouteId::members_list, members_list);
  bind(RouteId::member_get, member_get);
  bind(RouteId::member_by_phone, member_by_phone);
  bind(RouteId::member_balance, member_balance);
  bind(RouteId::member_wallet_put, member_wallet_put);
  router->bind(RouteId::member_credit, [link](const Request& req, Responder respond) {
    member_money(link, true, req, std::move(respond));
  });
  router->bind(RouteId::member_debit, [link](const Request& req, Responder respond) {
    member_money(link, false, req, std::move(respond));
  });
  bind(RouteId::merchant_put, merchant_put);
  bind(RouteId::payment_create, payment_create);
  bind(RouteId::payment_get, payment_get);
  router->bind(RouteId::payment_capture, [link](const Request& req, Responder respond) {
    payment_op(link, CommandKind::payment_capture, req, std::move(respond));
  });
  router->bind(RouteId::payment_void, [link](const Request& req, Responder respond) {
    payment_op(link, CommandKind::payment_void, req, std::move(respond));
  });
  bind(RouteId::payment_refund, payment_refund);
  bind_admin_handlers(router, link);
  bind_reward_handlers(router, link, options.voucher_code_secret);
}

}  // namespace coffer::gateway
