#include "gateway/wechat_confirm.h"

#include <boost/json/object.hpp>
#include <cstdio>
#include <string>
#include <utility>

#include "core/assert.h"
#include "gateway/handler_util.h"
#include "gateway/handlers_admin.h"
#include "net/ids.h"

namespace coffer::gateway {

namespace json = boost::json;

namespace {

using Done = std::function<void(ConfirmOutcome)>;

CommandText confirm_text(Id128 key, const ChannelConfirmation& c) {
  json::object o{
      {"ref", c.out_trade_no}, {"channel_txn_id", c.transaction_id}, {"channel", "wechat"}};
  return make_text(key, 0, o);
}

// The outcome of a settled order or a failure other than not_found.
ConfirmOutcome outcome_of(const Reply& reply, bool recharge) {
  switch (reply.result) {
    case Result::ok:
      if (reply.flags & reply_flag_replayed) return ConfirmOutcome::duplicate;
      if (recharge && reply_data(reply).state == recharge_amount_mismatch) {
        return ConfirmOutcome::amount_mismatch;
      }
      return ConfirmOutcome::confirmed;
    case Result::invalid_state:
      return ConfirmOutcome::duplicate;
    case Result::invalid_request:
    case Result::id_reused:
      return ConfirmOutcome::amount_mismatch;
    case Result::not_found:
      return ConfirmOutcome::not_found;
    default:
      return ConfirmOutcome::unavailable;
  }
}

void log_refused(const ChannelConfirmation& c, const Reply& reply, const char* what) {
  if (reply.result == Result::ok) return;
  // Money was paid but the ledger did not credit it: operators must see this.
  std::fprintf(
      stderr, "coffer-gateway: WeChat Pay %s %s (transaction %s, %lld fen) not confirmed: %s\n",
      what, c.out_trade_no.c_str(), c.transaction_id.c_str(), static_cast<long long>(c.amount_fen),
      std::string(result_name(reply.result)).c_str());
}

// The ledger call itself failed (unreachable, ...): WeChat Pay will retry.
void log_call_failed(const ChannelConfirmation& c, const client::SubmitResult& r,
                     const char* what) {
  std::fprintf(stderr,
               "coffer-gateway: WeChat Pay %s %s (transaction %s) not confirmed yet: ledger call "
               "failed: %s (%zu replies)\n",
               what, c.out_trade_no.c_str(), c.transaction_id.c_str(),
               std::string(result_name(r.status)).c_str(), r.replies.size());
}

void confirm_payment(LedgerLink* link, const ChannelConfirmation& c, Done done) {
  Command cmd{};
  cmd.kind = CommandKind::payment_confirm_external;
  cmd.id = net::id_from_string("payment_confirm", c.out_trade_no + "/" + c.transaction_id);
  cmd.body.payment_op.payment_id = net::id_from_string("payment", c.out_trade_no);
  cmd.body.payment_op.amount = c.amount_fen;
  cmd.body.payment_op.channel_txn = net::id_from_string("channel_txn", c.transaction_id);
  std::vector<CommandText> texts{confirm_text(cmd.id, c)};
  link->submit({cmd}, std::move(texts), [c, done = std::move(done)](client::SubmitResult r) {
    if (r.status != Result::ok || r.replies.size() != 1) {
      log_call_failed(c, r, "payment");
      return done(ConfirmOutcome::unavailable);
    }
    const Reply& reply = r.replies[0];
    if (reply.result != Result::not_found) log_refused(c, reply, "payment");
    done(outcome_of(reply, false));
  });
}

}  // namespace

Confirmer make_ledger_confirmer(LedgerLink* link) {
  COFFER_ASSERT(link != nullptr);
  return [link](const ChannelConfirmation& c, Done done) {
    if (c.amount_fen <= 0) return done(ConfirmOutcome::amount_mismatch);
    Command cmd = recharge_confirm_command(c.out_trade_no, c.transaction_id, c.amount_fen);
    std::vector<CommandText> texts{confirm_text(cmd.id, c)};
    link->submit({cmd}, std::move(texts),
                 [link, c, done = std::move(done)](client::SubmitResult r) mutable {
                   if (r.status != Result::ok || r.replies.size() != 1) {
                     log_call_failed(c, r, "recharge");
                     return done(ConfirmOutcome::unavailable);
                   }
                   const Reply& reply = r.replies[0];
                   // Not a recharge: perhaps the external part of a split payment.
                   if (reply.result == Result::not_found) {
                     return confirm_payment(link, c, std::move(done));
                   }
                   log_refused(c, reply, "recharge");
                   done(outcome_of(reply, true));
                 });
  };
}

}  // namespace coffer::gateway
