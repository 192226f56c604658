#include "gateway/handlers_rewards.h"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "clients/domain_commands.h"
#include "clients/domain_ids.h"
#include "clients/domain_json.h"
#include "clients/domain_names.h"
#include "clients/rfc3339.h"
#include "clients/voucher_code.h"
#include "core/assert.h"
#include "core/types.h"
#include "gateway/csv.h"
#include "gateway/handler_util.h"
#include "gateway/handlers_admin.h"
#include "gateway/json_util.h"
#include "net/ids.h"

namespace coffer::gateway {

namespace json = boost::json;

namespace {

using client::batch_json;
using client::history_type;
using client::withdrawal_json;

// --- Shared pieces ---------------------------------------------------------------

bool replayed(const Reply& reply) {
  return (reply.flags & reply_flag_replayed) != 0;
}

const Principal& principal_of(const Request& req) {
  static const Principal platform{};
  return req.principal ? *req.principal : platform;
}

// --- Orders, rebates, gifts ------------------------------------------------------

// The most lines one order request may carry (a cart), before merging.
constexpr size_t order_lines_request_max = 200;

// SPEC O1: core takes order_lines_max lines with their own rates. A request may
// carry more: lines with equal rates are merged (each rate applies to the sum of
// its lines, rounded once), and lines with neither rate of their own are left
// out, since the rest of the amount earns at the group's rates anyway. False
// when more than order_lines_max distinct pairs of rates remain.
bool merge_order_lines(std::span<const OrderLine> parsed, std::span<OrderLine> merged) {
  size_t used = 0;
  for (const OrderLine& l : parsed) {
    if (l.amount == 0) break;
    if (l.cashback_bp == rate_of_group && l.earn_points_bp == rate_of_group) continue;
    size_t k = 0;
    while (k < used && (merged[k].cashback_bp != l.cashback_bp ||
                        merged[k].earn_points_bp != l.earn_points_bp)) {
      k++;
    }
    if (k == merged.size()) return false;
    if (k == used) merged[used++] = OrderLine{0, l.cashback_bp, l.earn_points_bp};
    merged[k].amount += l.amount;
  }
  return true;
}

void order_complete(LedgerLink* link, const Request& req, Responder respond) {
  json::object body;
  if (!read_body(req, respond, &body)) return;
  uint64_t member_id = 0;
  std::string merchant_id;
  int64_t amount = 0;
  std::optional<std::string> payment_id;
  std::optional<int64_t> received_at_us;
  OrderLine parsed[order_lines_request_max]{};
  bool line_ok = true;
  ObjectReader r(body);
  r.u64("member_id", &member_id)
      .tenant_id("merchant_id", &merchant_id)
      .amount("amount", &amount)
      .id("payment_id", &payment_id)
      .time_us("received_at", &received_at_us)
      .objects("lines", Presence::optional, order_lines_request_max,
               [&](ObjectReader& lr, size_t i) {
                 std::optional<int64_t> cashback_bp;
                 std::optional<int64_t> earn_bp;
                 lr.amount("amount", &parsed[i].amount)
                     .i64("cashback_bp", &cashback_bp, 0, 10'000)
                     .i64("earn_points_bp", &earn_bp, 0, 10'000);
                 if (lr.ok() && parsed[i].amount == 0) line_ok = false;
                 parsed[i].cashback_bp = cashback_bp ? uint32_t(*cashback_bp) : rate_of_group;
                 parsed[i].earn_points_bp = earn_bp ? uint32_t(*earn_bp) : rate_of_group;
               });
  if (!finish(r, respond)) return;
  if (amount == 0) return respond(invalid_field("amount", "amount must be positive"));
  if (!line_ok) return respond(invalid_field("lines", "every line amount must be positive"));
  int64_t lines_total = 0;
  for (const OrderLine& l : parsed)
    lines_total += l.amount;
  if (lines_total > amount) {
    return respond(invalid_field("lines", "the lines add up to more than the order amount"));
  }
  OrderLine lines[order_lines_max]{};
  if (!merge_order_lines(parsed, lines)) {
    return respond(invalid_field("lines", "the lines carry more than " +
                                              std::to_string(order_lines_max) +
                                              " distinct pairs of their own rates; at most " +
                                              std::to_string(order_lines_max) + " are allowed"));
  }
  std::string order_ref = req.param("order_ref").value;
  client::DomainCommand order = client::order_complete_command(
      order_ref, member_id, merchant_id, amount, payment_id, received_at_us, lines);
  call(link, order.command, std::move(order.text), std::move(respond),
       [order_ref, member_id, merchant_id](const Reply& reply, const Responder& answer) {
         if (reply.result != Result::ok) return answer(reply_error(reply, "order not completed"));
         answer(json_response(201, client::order_json(order_ref, member_id, merchant_id, reply)));
       });
}

void rebate_create(LedgerLink* link, const Request& req, Responder respond) {
  json::object body;
  if (!read_body(req, respond, &body)) return;
  std::string rebate_id;
  uint64_t member_id = 0;
  int64_t amount = 0;
  std::string source;
  ObjectReader r(body);
  r.id("rebate_id", &rebate_id)
      .u64("member_id", &member_id)
      .amount("amount", &amount)
      .string("source", &source, reward_text_length_max);
  if (!finish(r, respond)) return;
  if (amount == 0) return respond(invalid_field("amount", "amount must be positive"));
  if (source.empty()) return respond(invalid_field("source", "source must not be empty"));
  client::DomainCommand rebate = client::rebate_command(rebate_id, member_id, amount, source);
  call(link, rebate.command, std::move(rebate.text), std::move(respond),
       [rebate_id, member_id, source](const Reply& reply, const Responder& answer) {
         if (reply.result != Result::ok) return answer(reply_error(reply, "rebate refused"));
         answer(json_response(201, client::rebate_json(rebate_id, member_id, source, reply)));
       });
}

void gift_create(LedgerLink* link, const Request& req, Responder respond) {
  json::object body;
  if (!read_body(req, respond, &body)) return;
  std::string gift_id;
  uint64_t from = 0;
  uint64_t to = 0;
  int64_t amount = 0;
  std::optional<std::string> message;
  ObjectReader r(body);
  r.id("gift_id", &gift_id)
      .u64("from_member", &from)
      .u64("to_member", &to)
      .amount("amount", &amount)
      .string("message", &message, gift_message_length_max);
  if (!finish(r, respond)) return;
  if (amount == 0) return respond(invalid_field("amount", "amount must be positive"));
  if (from == to) {
    return respond(invalid_field("to_member", "a member cannot send a gift to itself"));
  }
  client::DomainCommand gift = client::gift_command(gift_id, from, to, amount, message);
  call(link, gift.command, std::move(gift.text), std::move(respond),
       [gift_id, from, to, message](const Reply& reply, const Responder& answer) {
         if (reply.result != Result::ok) return answer(reply_error(reply, "gift refused"));
         answer(json_response(201, client::gift_json(gift_id, from, to, message, reply)));
       });
}

// Runs `then` if the member exists, else answers 404.
void with_member(LedgerLink* link, uint64_t member_id, Responder respond,
                 std::function<void(const Responder&)> then) {
  Command c = read_command(CommandKind::member_get);
  c.body.read.key = member_id;
  call(link, c, std::move(respond),
       [then = std::move(then)](const Reply& reply, const Responder& answer) {
         if (reply.result != Result::ok) return answer(reply_error(reply, "member not found"));
         then(answer);
       });
}

void member_gifts(LedgerLink* link, const Request& req, Responder respond) {
  const std::string* direction = req.query.get("direction");
  if (!direction || (*direction != "sent" && *direction != "received")) {
    return respond(invalid_field("direction", "'direction' must be 'sent' or 'received'"));
  }
  client::Query q;
  if (!read_list(req, respond, &q)) return;
  bool sent = *direction == "sent";
  q.kind = sent ? client::QueryKind::gifts_sent : client::QueryKind::gifts_received;
  q.key = req.param("member_id").u64;
  with_member(
      link, q.key, std::move(respond), [link, q = std::move(q)](const Responder& answer) mutable {
        query(link, std::move(q), answer, [](const client::QueryResult& r, const Responder& done) {
          json::array gifts;
          for (const client::QueryRow& row : r.rows)
            gifts.push_back(client::gift_row_json(row));
          done(list_response("gifts", std::move(gifts), next_cursor_json(r.next)));
        });
      });
}

// --- Withdrawals ---------------------------------------------------------------------

Id128 withdrawal_command_id(std::string_view withdrawal_id) {
  return net::id_from_string("withdrawal", withdrawal_id);
}

// Answers one withdrawal with its texts (payout, feedback, note).
void answer_withdrawal(LedgerLink* link, std::string withdrawal_id, const Reply& reply,
                       unsigned status, const Responder& answer) {
  std::vector<Id128> keys = client::withdrawal_text_keys(withdrawal_id, reply_data(reply).state);
  fetch_texts(link, std::move(keys), [withdrawal_id, reply, status, answer](const Texts& texts) {
    json::object create = parse_text(texts.size() > 0 ? texts[0] : std::nullopt);
    json::object decision = parse_text(texts.size() > 1 ? texts[1] : std::nullopt);
    answer(json_response(status,
                         withdrawal_json(json::value(withdrawal_id), reply, create, decision)));
  });
}

void withdrawal_limit(LedgerLink* link, const Request& req, Responder respond) {
  uint64_t member_id = req.param("member_id").u64;
  Command c = read_command(CommandKind::withdrawal_limit_get);
  c.body.read.key = member_id;
  call(link, c, std::move(respond), [member_id](const Reply& reply, const Responder& answer) {
    if (reply.result != Result::ok) return answer(reply_error(reply, "member not found"));
    json::object o;
    o["member_id"] = member_id;
    o["max_withdrawable"] = reply_data(reply).v[0];
    answer(json_response(200, o));
  });
}

void withdrawal_create(LedgerLink* link, const Request& req, Responder respond) {
  json::object body;
  if (!read_body(req, respond, &body)) return;
  std::string withdrawal_id;
  uint64_t member_id = 0;
  int64_t amount = 0;
  std::string method;
  std::string account;
  ObjectReader r(body);
  r.id("withdrawal_id", &withdrawal_id)
      .u64("member_id", &member_id)
      .amount("amount", &amount)
      .object("payout", Presence::required, [&](ObjectReader& p) {
        p.string("method", &method, reward_text_length_max)
            .string("account", &account, reward_text_length_max);
      });
  if (!finish(r, respond)) return;
  if (amount == 0) return respond(invalid_field("amount", "amount must be positive"));
  if (method.empty() || account.empty()) {
    return respond(invalid_field("payout", "payout needs a method and an account"));
  }
  json::object payout = client::payout_json(method, account);
  client::DomainCommand withdraw =
      client::withdrawal_create_command(withdrawal_id, member_id, amount, method, account);
  call(link, withdraw.command, std::move(withdraw.text), std::move(respond),
       [withdrawal_id, payout](const Reply& reply, const Responder& answer) {
         if (reply.result != Result::ok) {
           ApiError e = reply_error(reply, "withdrawal refused");
           if (reply.result == Result::limit_exceeded && !replayed(reply)) {
             e.details["max_withdrawable"] = reply_data(reply).v[0];
           }
           return answer(e);
         }
         json::object create;
         create["payout"] = payout;
         answer(json_response(
             201, withdrawal_json(json::value(withdrawal_id), reply, create, json::object{})));
       });
}

void withdrawal_get(LedgerLink* link, const Request& req, Responder respond) {
  std::string withdrawal_id = req.param("withdrawal_id").value;
  Command c = read_command(CommandKind::withdrawal_get);
  c.body.read.id = withdrawal_command_id(withdrawal_id);
  call(link, c, std::move(respond),
       [link, withdrawal_id](const Reply& reply, const Responder& answer) {
         if (reply.result != Result::ok) return answer(reply_error(reply, "withdrawal not found"));
         answer_withdrawal(link, withdrawal_id, reply, 200, answer);
       });
}

// approve {"note"?} and reject {"feedback"}.
void withdrawal_decide(LedgerLink* link, bool approve, const Request& req, Responder respond) {
  json::object body;
  if (!read_body(req, respond, &body)) return;
  std::optional<std::string> note;
  std::string feedback;
  ObjectReader r(body);
  if (approve) {
    r.string("note", &note, reward_text_length_max);
  } else {
    r.string("feedback", &feedback, reward_text_length_max);
  }
  if (!finish(r, respond)) return;
  if (!approve && feedback.empty()) {
    return respond(invalid_field("feedback", "feedback must not be empty"));
  }
  std::string withdrawal_id = req.param("withdrawal_id").value;
  client::DomainCommand decide = client::withdrawal_decide_command(
      approve, withdrawal_id, approve ? note : std::optional<std::string>(feedback));
  call(link, decide.command, std::move(decide.text), std::move(respond),
       [link, withdrawal_id](const Reply& reply, const Responder& answer) {
         if (reply.result != Result::ok) return answer(reply_error(reply, "withdrawal unchanged"));
         answer_withdrawal(link, withdrawal_id, reply, 200, answer);
       });
}

// GET /v1/withdrawals?state=: the store's list (oldest first), then one
// withdrawal_get per row in one call, then the decision texts in one query.
void withdrawals_list(LedgerLink* link, const Request& req, Responder respond) {
  uint8_t state = withdrawal_pending;
  if (const std::string* s = req.query.get("state")) {
    if (*s == "pending") {
      state = withdrawal_pending;
    } else if (*s == "approved") {
      state = withdrawal_approved;
    } else if (*s == "rejected") {
      state = withdrawal_rejected;
    } else {
      return respond(invalid_field("state", "'state' must be 'pending', 'approved' or 'rejected'"));
    }
  }
  client::Query q;
  if (!read_list(req, respond, &q)) return;
  q.kind = client::QueryKind::withdrawals;
  q.key = state;
  query(link, std::move(q), std::move(respond),
        [link](const client::QueryResult& r, const Responder& answer) {
          auto rows = std::make_shared<std::vector<client::QueryRow>>(r.rows);
          client::QueryCursor next = r.next;
          if (rows->empty()) {
            return answer(list_response("withdrawals", json::array{}, next_cursor_json(next)));
          }
          std::vector<Command> reads;
          for (const client::QueryRow& row : *rows) {
            Command c = read_command(CommandKind::withdrawal_get);
            c.body.read.id = row.id;
            reads.push_back(c);
          }
          call_many(link, std::move(reads), {}, answer,
                    [link, rows, next](std::span<const Reply> replies, const Responder& done) {
                      auto got =
                          std::make_shared<std::vector<Reply>>(replies.begin(), replies.end());
                      std::vector<Id128> keys;
                      for (size_t i = 0; i < rows->size(); i++) {
                        json::value ref_value = string_or_null(parse_text((*rows)[i].text), "ref");
                        std::string ref = ref_value.is_string() ? std::string(ref_value.as_string())
                                                                : std::string();
                        uint8_t st = reply_data((*got)[i]).state;
                        keys.push_back(ref.empty() ? Id128{}
                                                   : client::withdrawal_decision_text_key(ref, st));
                      }
                      // Zero keys are not valid in a texts query: ask only for the real ones.
                      std::vector<Id128> asked;
                      for (const Id128& k : keys)
                        if (!k.is_zero()) asked.push_back(k);
                      fetch_texts(link, asked, [rows, got, keys, next, done](const Texts& texts) {
                        json::array out;
                        size_t t = 0;
                        for (size_t i = 0; i < rows->size(); i++) {
                          const Reply& reply = (*got)[i];
                          if (reply.result != Result::ok) continue;  // gone since the list was read
                          json::object create = parse_text((*rows)[i].text);
                          json::object decision;
                          if (!keys[i].is_zero()) {
                            decision = parse_text(t < texts.size() ? texts[t] : std::nullopt);
                            t++;
                          }
                          out.push_back(withdrawal_json(string_or_null(create, "ref"), reply,
                                                        create, decision));
                        }
                        done(list_response("withdrawals", std::move(out), next_cursor_json(next)));
                      });
                    });
        });
}

// --- Voucher batches and redemption ----------------------------------------------------

Id128 batch_command_id(std::string_view batch_id) {
  return net::id_from_string("voucher_batch", batch_id);
}

// Voucher batch lists (SPEC A5): the create text is in its merchant's group,
// a copy beside the first add_codes command in the group of all batches.
uint64_t merchant_batches_group(std::string_view merchant_id) {
  return text_group("voucher_batches", merchant_id);
}
uint64_t all_batches_group() {
  return text_group("voucher_batches_all", "all");
}
Id128 all_batches_text_key(std::string_view batch_id) {
  return text_key("voucher_batch_all", batch_id);
}

// Building a batch: the header, then the codes in order, chunk after chunk.
struct BatchBuild {
  LedgerLink* link = nullptr;
  std::string batch_id;
  Id128 batch{};
  std::vector<std::string> codes;
  std::vector<Id128> hashes;
  size_t next = 0;  // codes sent so far
  json::object text;
};

// A half-built batch is never redeemable (core: building); void it so that it
// does not hold code capacity, then answer the failure.
void abandon_batch(const std::shared_ptr<BatchBuild>& b, ApiError error, const Responder& answer) {
  Command v = client::voucher_batch_void_command(b->batch_id);
  b->link->submit({v}, [error = std::move(error), answer](client::SubmitResult) { answer(error); });
}

void send_codes(const std::shared_ptr<BatchBuild>& b, const Responder& answer) {
  if (b->next >= b->hashes.size()) {
    json::array codes;
    for (const std::string& code : b->codes) {
      json::object c;
      c["code"] = code;
      c["qr"] = voucher_qr_payload(code);
      codes.push_back(std::move(c));
    }
    Command get = read_command(CommandKind::batch_get);
    get.body.read.id = b->batch;
    return call(b->link, get, answer,
                [b, codes = std::move(codes)](const Reply& reply, const Responder& done) mutable {
                  if (reply.result != Result::ok) return done(reply_error(reply, "batch lost"));
                  json::object o = batch_json(b->batch_id, reply, b->text);
                  o["codes"] = std::move(codes);
                  done(json_response(201, o));
                });
  }
  std::vector<Command> commands;
  std::vector<CommandText> texts;
  if (b->next == 0) {
    // The batch's second text, in the list of all batches (its create text is
    // in its merchant's list): one text per command, so it rides here.
    texts.push_back(make_text(all_batches_text_key(b->batch_id), all_batches_group(), b->text));
  }
  while (b->next < b->hashes.size() && commands.size() < voucher_codes_commands_per_call) {
    Command c{};
    c.kind = CommandKind::voucher_batch_add_codes;
    c.id = net::id_from_string("voucher_codes", b->batch_id + "/" + std::to_string(b->next));
    BatchCodesBody& body = c.body.batch_codes;
    body.batch_id = b->batch;
    body.first_index = uint32_t(b->next);
    while (body.count < batch_codes_per_command && b->next < b->hashes.size()) {
      body.codes[body.count++] = b->hashes[b->next++];
    }
    commands.push_back(c);
  }
  b->link->submit(std::move(commands), std::move(texts), [b, answer](client::SubmitResult r) {
    if (r.status != Result::ok) {
      return abandon_batch(b, unavailable("voucher batch not completed; create it again"), answer);
    }
    for (const Reply& reply : r.replies) {
      if (reply.result != Result::ok) {
        return abandon_batch(b, reply_error(reply, "voucher codes refused"), answer);
      }
    }
    send_codes(b, answer);
  });
}

void voucher_batch_create(LedgerLink* link, const CodeSecret& secret, const Request& req,
                          Responder respond) {
  json::object body;
  if (!read_body(req, respond, &body)) return;
  std::string batch_id;
  std::string merchant_id;
  std::string kind;
  int64_t face_value = 0;
  uint64_t quantity = 0;
  int64_t valid_from_us = 0;
  int64_t valid_until_us = 0;
  ObjectReader r(body);
  r.id("batch_id", &batch_id)
      .tenant_id("merchant_id", &merchant_id)
      .one_of("kind", &kind, {"paper", "card"})
      .amount("face_value", &face_value)
      .u64("quantity", &quantity)
      .time_us("valid_from", &valid_from_us)
      .time_us("valid_until", &valid_until_us);
  if (!finish(r, respond)) return;
  if (face_value == 0) return respond(invalid_field("face_value", "face_value must be positive"));
  if (quantity == 0 || quantity > voucher_batch_size_max) {
    return respond(
        invalid_field("quantity", "quantity must be 1.." + std::to_string(voucher_batch_size_max)));
  }
  if (valid_from_us < 0 || valid_until_us <= valid_from_us) {
    return respond(invalid_field("valid_until", "valid_until must be after valid_from (>= 1970)"));
  }
  auto b = std::make_shared<BatchBuild>();
  b->link = link;
  b->batch_id = batch_id;
  b->batch = batch_command_id(batch_id);
  if (generate_voucher_codes(quantity, &b->codes) != CodeStatus::ok) {
    return respond(internal_error("voucher code generation failed"));
  }
  b->hashes.reserve(b->codes.size());
  for (const std::string& code : b->codes)
    b->hashes.push_back(client::voucher_code_id(secret, code));
  b->text["ref"] = batch_id;
  b->text["merchant_id"] = merchant_id;
  b->text["kind"] = kind;
  b->text["valid_from"] = client::format_rfc3339(valid_from_us);
  b->text["valid_until"] = client::format_rfc3339(valid_until_us);
  Command c{};
  c.kind = CommandKind::voucher_batch_create;
  c.id = b->batch;
  BatchBody& bb = c.body.batch;
  bb.merchant_id = net::account_id_from_string(merchant_id);
  bb.face_value = face_value;
  bb.valid_from_us = uint64_t(valid_from_us);
  bb.valid_until_us = uint64_t(valid_until_us);
  bb.quantity = uint32_t(quantity);
  bb.kind = kind == "paper" ? voucher_paper : voucher_card;
  call(link, c, make_text(c.id, merchant_batches_group(merchant_id), b->text), std::move(respond),
       [b](const Reply& reply, const Responder& answer) {
         if (reply.result != Result::ok) return answer(reply_error(reply, "batch refused"));
         if (replayed(reply)) {
           // The codes were shown to the first caller only; never mint new ones.
           Command get = read_command(CommandKind::batch_get);
           get.body.read.id = b->batch;
           return call(b->link, get, answer, [b](const Reply& now, const Responder& done) {
             if (now.result != Result::ok) return done(reply_error(now, "batch not found"));
             json::object o = batch_json(b->batch_id, now, b->text);
             o["codes_shown"] = false;
             done(json_response(200, o));
           });
         }
         send_codes(b, answer);
       });
}

// Runs `then` with the batch's create text (merchant, kind, validity).
void with_batch_text(LedgerLink* link, std::string_view batch_id,
                     std::function<void(const json::object&)> then) {
  fetch_texts(link, {batch_command_id(batch_id)}, [then = std::move(then)](const Texts& t) {
    then(parse_text(t.empty() ? std::nullopt : t[0]));
  });
}

void voucher_batch_get(LedgerLink* link, const Request& req, Responder respond) {
  std::string batch_id = req.param("batch_id").value;
  Principal who = principal_of(req);
  Command c = read_command(CommandKind::batch_get);
  c.body.read.id = batch_command_id(batch_id);
  call(link, c, std::move(respond),
       [link, batch_id, who](const Reply& reply, const Responder& answer) {
         if (reply.result != Result::ok) return answer(reply_error(reply, "batch not found"));
         with_batch_text(link, batch_id, [batch_id, who, reply, answer](const json::object& text) {
           json::value merchant = string_or_null(text, "merchant_id");
           if (who.role != Role::platform &&
               (!merchant.is_string() ||
                !may_access_merchant(who, std::string(merchant.as_string())))) {
             return answer(forbidden("the batch belongs to another merchant"));
           }
           answer(json_response(200, batch_json(batch_id, reply, text)));
         });
       });
}

// GET /v1/voucher-batches?merchant_id= (SPEC A5): one merchant's batches, or
// (platform, no merchant_id) all of them; each batch's counts from core.
void voucher_batches_list(LedgerLink* link, const Request& req, Responder respond) {
  const Principal who = principal_of(req);
  std::optional<std::string> merchant;
  if (const std::string* m = req.query.get("merchant_id")) {
    if (!is_valid_id(*m))
      return respond(invalid_field("merchant_id", "'merchant_id' is not valid"));
    merchant = *m;
  } else if (who.role != Role::platform) {
    merchant = who.merchant_id;
  }
  if (who.role != Role::platform && !may_access_merchant(who, merchant.value_or(""))) {
    return respond(forbidden("a merchant key lists only its own merchant's batches"));
  }
  client::Query q;
  const uint64_t group = merchant ? merchant_batches_group(*merchant) : all_batches_group();
  if (!read_group_list(req, respond, group, &q)) return;
  list_group_items(
      link, std::move(q),
      [](const client::QueryRow& row) -> std::optional<Command> {
        json::value ref = string_or_null(parse_text(row.text), "ref");
        if (!ref.is_string()) return std::nullopt;
        Command c = read_command(CommandKind::batch_get);
        c.body.read.id = batch_command_id(std::string(ref.as_string()));
        return c;
      },
      item_found, std::move(respond),
      [](std::vector<ListedItem> items, json::value next, const Responder& answer) {
        json::array batches;
        for (const ListedItem& item : items) {
          json::object text = parse_text(item.row.text);
          json::value ref = string_or_null(text, "ref");
          batches.push_back(batch_json(std::string(ref.as_string()), item.reply, text));
        }
        answer(list_response("voucher_batches", std::move(batches), std::move(next)));
      });
}

void voucher_batch_void(LedgerLink* link, const Request& req, Responder respond) {
  json::object body;
  if (!read_body(req, respond, &body)) return;
  ObjectReader r(body);
  if (!finish(r, respond)) return;
  std::string batch_id = req.param("batch_id").value;
  Command c = client::voucher_batch_void_command(batch_id);
  call(link, c, std::move(respond), [link, batch_id](const Reply& reply, const Responder& answer) {
    if (reply.result != Result::ok) return answer(reply_error(reply, "batch not voided"));
    with_batch_text(link, batch_id, [batch_id, reply, answer](const json::object& text) {
      answer(json_response(200, batch_json(batch_id, reply, text)));
    });
  });
}

// paper (at a store) and card (into a wallet).
void voucher_redeem(LedgerLink* link, const CodeSecret& secret, bool paper, const Request& req,
                    Responder respond) {
  json::object body;
  if (!read_body(req, respond, &body)) return;
  std::string code;
  std::string merchant_id;
  std::string store_id;
  uint64_t member_id = 0;
  ObjectReader r(body);
  r.string("code", &code, voucher_input_size_max);
  if (paper) {
    r.tenant_id("merchant_id", &merchant_id).tenant_id("store_id", &store_id);
  } else {
    r.u64("member_id", &member_id);
  }
  if (!finish(r, respond)) return;
  if (code.empty()) return respond(invalid_field("code", "code must not be empty"));
  if (member_id == 0 && !paper) {
    return respond(invalid_field("member_id", "member_id must be non-zero"));
  }
  if (paper && !may_access_store(principal_of(req), merchant_id, store_id)) {
    return respond(forbidden("a key may redeem only at its own merchant's or store's tenant"));
  }
  const Id128 code_id = client::typed_voucher_code_id(secret, code);
  client::DomainCommand redeem =
      client::voucher_redeem_command(paper, code_id, merchant_id, store_id, member_id);
  const Id128 redeemed_key = client::voucher_redeemed_text_key(code_id);
  call(link, redeem.command, std::move(redeem.text), std::move(respond),
       [link, paper, redeemed_key](const Reply& reply, const Responder& answer) {
         if (reply.result == Result::voucher_redeemed) {
           // V3: when and where, from the text of the redemption that succeeded.
           return fetch_texts(link, {redeemed_key}, [reply, answer](const Texts& t) {
             json::object where = parse_text(t.empty() ? std::nullopt : t[0]);
             ApiError e = api_error(Result::voucher_redeemed, "voucher already redeemed");
             e.details = client::voucher_redeemed_details(reply, where);
             answer(e);
           });
         }
         if (reply.result != Result::ok) return answer(reply_error(reply, "voucher not redeemed"));
         ReplyData d = reply_data(reply);
         const Id128 batch{uint64_t(d.v[3]), uint64_t(d.v[4])};
         fetch_texts(link, {batch}, [reply, paper, answer](const Texts& t) {
           json::object batch_text = parse_text(t.empty() ? std::nullopt : t[0]);
           answer(json_response(200, client::voucher_redeem_json(paper, reply, batch_text)));
         });
       });
}

// --- History -------------------------------------------------------------------------

void member_history(LedgerLink* link, const Request& req, Responder respond) {
  Asset asset = asset_wallet;
  if (const std::string* a = req.query.get("asset")) {
    if (*a == "points") {
      asset = asset_points;
    } else if (*a != "wallet") {
      return respond(invalid_field("asset", "'asset' must be 'wallet' or 'points'"));
    }
  }
  bool csv = false;
  if (const std::string* f = req.query.get("format")) {
    if (*f == "csv") {
      csv = true;
    } else if (*f != "json") {
      return respond(invalid_field("format", "'format' must be 'json' or 'csv'"));
    }
  }
  client::Query q;
  if (!read_list(req, respond, &q)) return;
  q.kind = client::QueryKind::history;
  q.key = req.param("member_id").u64;
  q.asset = asset;
  with_member(link, q.key, std::move(respond),
              [link, csv, q = std::move(q)](const Responder& answer) {
                query(link, q, answer, [csv](const client::QueryResult& r, const Responder& done) {
                  json::array entries;
                  CsvWriter w;
                  w.row({"seq", "time", "type", "amount", "balance_after", "ref", "message"});
                  for (const client::QueryRow& row : r.rows) {
                    if (!csv) {
                      entries.push_back(client::history_entry_json(row));
                      continue;
                    }
                    json::object text = parse_text(row.text);
                    json::value ref = string_or_null(text, "ref");
                    json::value message = client::history_message(text);
                    w.field(row.seq)
                        .field(client::format_rfc3339(int64_t(row.time_us)))
                        .field(history_type(row.effect_kind, row.code, row.amount))
                        .field(row.amount)
                        .field(row.balance_after)
                        .field(ref.is_string() ? std::string_view(ref.as_string()) : "")
                        .field(message.is_string() ? std::string_view(message.as_string()) : "")
                        .end_row();
                  }
                  if (csv) {
                    Response resp = text_response(200, "text/csv; charset=utf-8", w.take());
                    json::value next = next_cursor_json(r.next);
                    if (next.is_string())
                      resp.headers.emplace_back("X-Next-Cursor", next.as_string());
                    return done(std::move(resp));
                  }
                  done(list_response("entries", std::move(entries), next_cursor_json(r.next)));
                });
              });
}

// --- Settlement report ---------------------------------------------------------------

struct SettlementStore {
  std::string id;  // "" = payments without a store
  uint64_t account = 0;
};

struct SettlementReport {
  LedgerLink* link = nullptr;
  std::string merchant_id;
  std::optional<std::string> store_id;  // one store only
  int64_t from_day = 0;
  int64_t to_day = 0;
  bool csv = false;
  std::vector<SettlementStore> stores;
};

void settlement_read(const std::shared_ptr<SettlementReport>& rep, const Responder& answer) {
  const int64_t days = rep->to_day - rep->from_day + 1;
  if (rep->stores.size() * size_t(days) > settlement_reads_max) {
    return answer(invalid_request("the report reads " + std::to_string(days) + " days of " +
                                  std::to_string(rep->stores.size()) +
                                  " stores: narrow the range or name a store_id"));
  }
  const uint64_t merchant = net::account_id_from_string(rep->merchant_id);
  std::vector<Command> reads;
  Command m = read_command(CommandKind::merchant_get);
  m.body.read.key = merchant;
  reads.push_back(m);
  for (int64_t day = rep->from_day; day <= rep->to_day; day++) {
    for (const SettlementStore& s : rep->stores) {
      Command c = read_command(CommandKind::settlement_get);
      c.body.read.key = merchant;
      c.body.read.id.lo = s.account;
      c.body.read.index = uint32_t(day);
      reads.push_back(c);
    }
  }
  call_many(rep->link, std::move(reads), {}, answer,
            [rep](std::span<const Reply> replies, const Responder& done) {
              if (replies[0].result != Result::ok) {
                return done(reply_error(replies[0], "merchant not found"));
              }
              CsvWriter w;
              w.row({"date", "merchant_id", "store_id", "payments_count", "payments_amount",
                     "refunds_amount", "voucher_count", "voucher_amount", "net"});
              json::array rows;
              int64_t totals[6] = {};
              size_t i = 1;
              for (int64_t day = rep->from_day; day <= rep->to_day; day++) {
                for (const SettlementStore& s : rep->stores) {
                  const Reply& reply = replies[i++];
                  if (reply.result != Result::ok) continue;  // no activity that day
                  ReplyData d = reply_data(reply);
                  for (int k = 0; k < 6; k++)
                    totals[k] += d.v[k];
                  std::string date = client::format_date(day);
                  if (rep->csv) {
                    w.field(date).field(rep->merchant_id).field(s.id);
                    for (int k = 0; k < 6; k++)
                      w.field(d.v[k]);
                    w.end_row();
                    continue;
                  }
                  json::object row;
                  row["date"] = date;
                  row["merchant_id"] = rep->merchant_id;
                  if (s.id.empty()) {
                    row["store_id"] = nullptr;
                  } else {
                    row["store_id"] = s.id;
                  }
                  const char* names[6] = {"payments_count", "payments_amount", "refunds_amount",
                                          "voucher_count",  "voucher_amount",  "net"};
                  for (int k = 0; k < 6; k++)
                    row[names[k]] = d.v[k];
                  rows.push_back(std::move(row));
                }
              }
              if (rep->csv) {
                return done(text_response(200, "text/csv; charset=utf-8", w.take()));
              }
              json::object total;
              const char* names[6] = {"payments_count", "payments_amount", "refunds_amount",
                                      "voucher_count",  "voucher_amount",  "net"};
              for (int k = 0; k < 6; k++)
                total[names[k]] = totals[k];
              json::object o;
              o["merchant_id"] = rep->merchant_id;
              o["from"] = client::format_date(rep->from_day);
              o["to"] = client::format_date(rep->to_day);
              o["rows"] = std::move(rows);
              o["totals"] = std::move(total);
              done(json_response(200, o));
            });
}

// The merchant's stores from their texts (group text_group("stores", merchant)).
void settlement_stores(const std::shared_ptr<SettlementReport>& rep, Id128 after,
                       const Responder& answer) {
  client::Query q;
  q.kind = client::QueryKind::texts_in_group;
  // The group handlers_admin.cc files store texts under (by merchant account id).
  q.key = store_text_group(net::account_id_from_string(rep->merchant_id));
  q.cursor.key = after;
  q.limit = uint32_t(settlement_stores_max);
  rep->link->query(std::move(q), [rep, answer](client::QueryResult r) {
    // Without the texts, the report still has the payments without a store.
    if (r.status == Result::ok) {
      for (const client::QueryRow& row : r.rows) {
        json::object t = parse_text(row.text);
        json::value id = string_or_null(t, "store_id");
        if (!id.is_string() || id.as_string().empty()) continue;
        std::string s(id.as_string());
        rep->stores.push_back({s, net::account_id_from_string(s)});
      }
      if (!r.next.at_start() && rep->stores.size() < settlement_stores_max * 8) {
        return settlement_stores(rep, r.next.key, answer);
      }
    }
    settlement_read(rep, answer);
  });
}

// A report bound as a UTC day number. A date names a whole day (both bounds
// inclusive); an RFC 3339 time (API.md: accepted on input) names an instant:
// `from` starts in its day, `to` is exclusive (the day of the instant before).
std::optional<int64_t> report_day(const std::string& text, bool is_to) {
  std::optional<int64_t> day = client::parse_date(text);
  if (!day) {
    auto t = client::parse_rfc3339(text);
    if (!t || *t < 0) return std::nullopt;
    int64_t us = is_to ? *t - 1 : *t;
    if (us < 0) return std::nullopt;
    day = us / int64_t(us_per_day);
  }
  if (*day < 0) return std::nullopt;
  return day;
}

void settlement_report(LedgerLink* link, const Request& req, Responder respond) {
  const Principal who = principal_of(req);
  auto rep = std::make_shared<SettlementReport>();
  rep->link = link;
  const std::string* merchant = req.query.get("merchant_id");
  const std::string* store = req.query.get("store_id");
  if (merchant) {
    rep->merchant_id = *merchant;
  } else if (who.role == Role::merchant || who.role == Role::store) {
    rep->merchant_id = who.merchant_id;
  } else {
    return respond(invalid_field("merchant_id", "'merchant_id' is required"));
  }
  if (store && !store->empty()) rep->store_id = *store;
  if (who.role == Role::store && !rep->store_id) rep->store_id = who.store_id;
  if (!is_valid_id(rep->merchant_id)) {
    return respond(invalid_field("merchant_id", "'merchant_id' is not a valid id"));
  }
  if (rep->store_id && !is_valid_id(*rep->store_id)) {
    return respond(invalid_field("store_id", "'store_id' is not a valid id"));
  }
  if (who.role == Role::store ? !may_access_store(who, rep->merchant_id, *rep->store_id)
                              : !may_access_merchant(who, rep->merchant_id)) {
    return respond(forbidden("a key sees only its own merchant's or store's report"));
  }
  const std::string* from = req.query.get("from");
  const std::string* to = req.query.get("to");
  if (!from) return respond(invalid_field("from", "'from' (YYYY-MM-DD or RFC 3339) is required"));
  auto from_day = report_day(*from, false);
  if (!from_day) {
    return respond(invalid_field("from",
                                 "'from' must be a date YYYY-MM-DD or an RFC 3339 time, "
                                 "from 1970"));
  }
  auto to_day = to ? report_day(*to, true) : from_day;
  if (!to_day || *to_day < *from_day) {
    return respond(invalid_field("to",
                                 "'to' must be a date YYYY-MM-DD or an RFC 3339 time, "
                                 "not before 'from'"));
  }
  if (*to_day - *from_day + 1 > settlement_days_max) {
    return respond(invalid_field(
        "to", "a report covers at most " + std::to_string(settlement_days_max) + " days"));
  }
  rep->from_day = *from_day;
  rep->to_day = *to_day;
  if (const std::string* f = req.query.get("format")) {
    if (*f == "csv") {
      rep->csv = true;
    } else if (*f != "json") {
      return respond(invalid_field("format", "'format' must be 'json' or 'csv'"));
    }
  }
  if (rep->store_id) {
    rep->stores.push_back({*rep->store_id, net::account_id_from_string(*rep->store_id)});
    return settlement_read(rep, respond);
  }
  rep->stores.push_back({"", 0});  // payments without a store
  settlement_stores(rep, Id128{}, respond);
}

}  // namespace

void bind_reward_handlers(Router* router, LedgerLink* link, const CodeSecret& code_secret) {
  COFFER_ASSERT(router != nullptr && link != nullptr);
  auto bind = [&](RouteId id, LinkHandler fn) { bind_link_handler(router, link, id, fn); };
  bind(RouteId::order_complete, order_complete);
  bind(RouteId::rebate_create, rebate_create);
  bind(RouteId::gift_create, gift_create);
  bind(RouteId::member_gifts, member_gifts);
  bind(RouteId::member_withdrawal_limit, withdrawal_limit);
  bind(RouteId::withdrawal_create, withdrawal_create);
  bind(RouteId::withdrawals_list, withdrawals_list);
  bind(RouteId::withdrawal_get, withdrawal_get);
  router->bind(RouteId::withdrawal_approve, [link](const Request& req, Responder respond) {
    withdrawal_decide(link, true, req, std::move(respond));
  });
  router->bind(RouteId::withdrawal_reject, [link](const Request& req, Responder respond) {
    withdrawal_decide(link, false, req, std::move(respond));
  });
  router->bind(RouteId::voucher_batch_create,
               [link, code_secret](const Request& req, Responder respond) {
                 voucher_batch_create(link, code_secret, req, std::move(respond));
               });
  bind(RouteId::voucher_batches_list, voucher_batches_list);
  bind(RouteId::voucher_batch_get, voucher_batch_get);
  bind(RouteId::voucher_batch_void, voucher_batch_void);
  router->bind(RouteId::voucher_redeem, [link, code_secret](const Request& req, Responder respond) {
    voucher_redeem(link, code_secret, true, req, std::move(respond));
  });
  router->bind(RouteId::voucher_redeem_to_wallet,
               [link, code_secret](const Request& req, Responder respond) {
                 voucher_redeem(link, code_secret, false, req, std::move(respond));
               });
  bind(RouteId::member_history, member_history);
  bind(RouteId::settlement_report, settlement_report);
}

}  // namespace coffer::gateway
