#include "gateway/wechat_notify.h"

#include <boost/json.hpp>
#include <chrono>
#include <optional>

namespace coffer::gateway {
namespace {

Response fail(unsigned status, std::string_view message) {
  boost::json::object body{{"code", "FAIL"}, {"message", message}};
  return json_response(status, body);
}

Response no_content() {
  Response r;
  r.status = 204;
  r.content_type.clear();
  return r;
}

std::optional<std::string_view> header(const Request& req, std::string_view name) {
  auto it = req.raw.find(boost::beast::string_view(name.data(), name.size()));
  if (it == req.raw.end()) return std::nullopt;
  return std::string_view(it->value().data(), it->value().size());
}

}  // namespace

int64_t system_time_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Handler make_wechatpay_notify_handler(const wechatpay::Verifier* verifier, Confirmer confirm,
                                      WallClock now_s) {
  return [verifier, confirm = std::move(confirm), now_s = std::move(now_s)](const Request& req,
                                                                            Responder respond) {
    if (verifier == nullptr) return respond(fail(503, "WeChat Pay is not configured"));

    wechatpay::NotifyHeaders headers{
        header(req, "Wechatpay-Timestamp"), header(req, "Wechatpay-Nonce"),
        header(req, "Wechatpay-Signature"), header(req, "Wechatpay-Serial")};
    if (auto st = verifier->verify(headers, req.body(), now_s()); !st.ok()) {
      return respond(fail(401, st.message()));
    }
    wechatpay::Notification notification;
    if (auto st = verifier->decrypt(req.body(), &notification); !st.ok()) {
      return respond(fail(401, st.message()));
    }
    wechatpay::Transaction txn;
    if (auto st = wechatpay::parse_transaction(notification.plaintext, &txn); !st.ok()) {
      return respond(fail(400, st.message()));
    }
    // Only a paid transaction moves money; other states are acknowledged so
    // that WeChat Pay stops sending them.
    if (txn.trade_state != wechatpay::TradeState::success) return respond(no_content());

    ChannelConfirmation c{txn.out_trade_no, txn.transaction_id, txn.amount_total_fen};
    confirm(c, [respond](ConfirmOutcome outcome) {
      switch (outcome) {
        case ConfirmOutcome::confirmed:
        case ConfirmOutcome::duplicate:
        case ConfirmOutcome::amount_mismatch:  // recorded; a retry would change nothing
          return respond(no_content());
        case ConfirmOutcome::not_found:
          return respond(fail(404, "unknown out_trade_no"));
        case ConfirmOutcome::unavailable:
          return respond(fail(500, "ledger unavailable, retry later"));
      }
      respond(fail(500, "unexpected confirmation outcome"));
    });
  };
}

}  // namespace coffer::gateway
