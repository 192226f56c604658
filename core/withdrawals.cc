// Withdrawals (D1-D3): requests hold the amount (no timeout) against payout
// clearing; an admin approves (the hold is posted: paid offline) or rejects
// with feedback (the hold is released).
#include "core/assert.h"
#include "core/domain.h"

namespace coffer::detail {

namespace {
constexpr uint32_t withdrawal_leg = 3;  // Domain::leg_id salt of the hold
}  // namespace

// D2: min(floor(available x rate / 10000), available - reserve), never below zero.
int64_t Domain::max_withdrawable(const Member& m) const {
  const int64_t available = engine_.account(m.wallet_slot).available();
  __extension__ typedef __int128 i128;  // available x bp may pass 2^63
  const int64_t by_rate =
      static_cast<int64_t>(static_cast<i128>(available) * config_.withdraw_max_rate_bp / bp_one);
  const int64_t by_reserve = available - config_.withdraw_reserve_min;
  const int64_t limit = by_rate < by_reserve ? by_rate : by_reserve;
  return limit > 0 ? limit : 0;
}

void Domain::withdrawal_reply(const Withdrawal& w, Reply& reply) const {
  ReplyData d{};
  d.state = w.state;
  d.aux32 = w.feedback_length;
  d.v[0] = w.amount;
  d.v[1] = static_cast<int64_t>(members_[w.member].member_id);
  d.v[2] = static_cast<int64_t>(w.created_us);
  d.v[3] = static_cast<int64_t>(w.decided_us);
  d.v[4] = static_cast<int64_t>(w.payout_hash);
  set_reply_data(reply, d);
}

Result Domain::withdrawal_create(const Command& c, Reply& reply, EffectSink& sink) {
  const WithdrawalBody& b = c.body.withdrawal;
  if (b.amount <= 0 || b.amount > domain_amount_max) return Result::invalid_request;
  uint32_t existing;
  if (const Result r = check_record_id(withdrawals_, c, &existing); r != Result::ok) return r;
  if (existing != none) {
    withdrawal_reply(withdrawals_[existing], reply);
    reply.flags |= reply_flag_replayed;
    return Result::ok;
  }
  if (!config_.withdraw_enabled) return Result::withdrawals_disabled;
  const uint32_t mi = find_member(b.member_id);
  if (mi == none) return Result::not_found;
  const Member& m = members_[mi];
  if (!m.wallet_enabled) return Result::wallet_disabled;
  const int64_t limit = max_withdrawable(m);
  if (b.amount > limit) {
    ReplyData d{};
    d.v[0] = limit;  // max_withdrawable, for the error details
    set_reply_data(reply, d);
    return Result::limit_exceeded;
  }
  if (withdrawals_.full() || engine_.pending_room() == 0) return Result::capacity_exhausted;
  engine_.begin(sink);
  const Result t = engine_.transfer(c, leg_id(c.id, withdrawal_leg), m.wallet_slot,
                                    system_slot_[sys_payout_clearing], b.amount, TransferMode::hold,
                                    0, code_withdrawal_hold, sink);
  if (t != Result::ok) {
    engine_.abort(sink);
    return t;
  }
  engine_.commit();
  Withdrawal w{};
  w.id = c.id;
  w.fingerprint = engine_.fingerprint();
  w.payout_hash = b.payout_hash;
  w.amount = b.amount;
  w.created_us = c.time_us;
  w.member = mi;
  w.state = withdrawal_pending;
  withdrawal_reply(withdrawals_[insert_record(withdrawals_, c, w)], reply);
  return Result::ok;
}

// Approve (hold posted) or reject with feedback (hold released).
Result Domain::withdrawal_decide(const Command& c, Reply& reply, EffectSink& sink) {
  const WithdrawalOpBody& b = c.body.withdrawal_op;
  const bool approve = c.kind == CommandKind::withdrawal_approve;
  if (approve ? b.feedback_length != 0 : b.feedback_length == 0) return Result::invalid_request;
  const uint32_t i = withdrawals_.find(b.withdrawal_id);
  if (i == none) return Result::not_found;
  Withdrawal& w = withdrawals_[i];
  if (w.op_id == c.id) {
    if (w.op_fingerprint != engine_.fingerprint()) return Result::id_reused;
    withdrawal_reply(w, reply);
    reply.flags |= reply_flag_replayed;
    return Result::ok;
  }
  if (w.state != withdrawal_pending) return Result::invalid_state;
  const Id128 hold = leg_id(w.id, withdrawal_leg);
  engine_.begin(sink);
  const Result t = approve ? engine_.post(c, hold, w.amount, sink) : engine_.release(c, hold, sink);
  if (t != Result::ok) {
    engine_.abort(sink);
    return t;
  }
  engine_.commit();
  w.state = approve ? withdrawal_approved : withdrawal_rejected;
  w.feedback_length = b.feedback_length;
  w.decided_us = c.time_us;
  w.op_id = c.id;
  w.op_fingerprint = engine_.fingerprint();
  withdrawal_reply(w, reply);
  return Result::ok;
}

}  // namespace coffer::detail
