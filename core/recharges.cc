// Recharge methods with payee rotation (R1), recharge orders with expiry and
// confirmation by channel transaction (R3), limits (R6).
#include "core/assert.h"
#include "core/domain.h"

namespace coffer::detail {

const Method* Domain::find_method(uint32_t method_id) const {
  if (method_id == 0) return nullptr;
  for (const Method& m : methods_) {
    if (m.method_id == method_id) return &m;
  }
  return nullptr;
}

Result Domain::method_set(const Command& c) {
  const MethodBody& b = c.body.method;
  if (b.method_id == 0 || b.channel > channel_other || b.enabled > 1 ||
      b.payee_count > payees_per_method_max) {
    return Result::invalid_request;
  }
  Method* slot = const_cast<Method*>(find_method(b.method_id));
  for (Method& m : methods_) {
    if (slot == nullptr && m.method_id == 0) slot = &m;
  }
  if (slot == nullptr) return Result::capacity_exhausted;
  // Keep the rotation counter across edits, so that payees keep rotating.
  const uint64_t next = slot->method_id == b.method_id ? slot->next_payee : 0;
  *slot = Method{b.method_id, b.channel, b.enabled, b.payee_count, next};
  return Result::ok;
}

void Domain::recharge_reply(const Recharge& r, uint64_t now_us, Reply& reply) const {
  ReplyData d{};
  d.state =
      r.state == recharge_pending && now_us >= r.expires_us ? uint8_t{recharge_expired} : r.state;
  d.detail = r.channel;
  d.aux16 = r.payee_index;
  d.aux32 = r.method_id;
  d.v[0] = r.amount;
  d.v[1] = static_cast<int64_t>(r.expires_us);
  d.v[2] = r.confirmed_amount;
  d.v[3] = static_cast<int64_t>(members_[r.member].member_id);
  d.v[4] = static_cast<int64_t>(r.created_us);
  set_reply_data(reply, d);
}

Result Domain::recharge_create(const Command& c, Reply& reply) {
  const RechargeBody& b = c.body.recharge;
  if (b.amount <= 0 || b.amount > domain_amount_max) return Result::invalid_request;
  uint32_t existing;
  if (const Result r = check_record_id(recharges_, c, &existing); r != Result::ok) return r;
  if (existing != none) {
    recharge_reply(recharges_[existing], c.time_us, reply);
    reply.flags |= reply_flag_replayed;
    return Result::ok;
  }
  const uint32_t mi = find_member(b.member_id);
  if (mi == none) return Result::not_found;
  Method* method = const_cast<Method*>(find_method(b.method_id));
  if (method == nullptr) return Result::not_found;
  if (!method->enabled) return Result::invalid_state;
  if (!members_[mi].wallet_enabled) return Result::wallet_disabled;
  if (b.amount < config_.recharge_min || b.amount > config_.recharge_max) {
    return Result::limit_exceeded;
  }
  if (config_.wallet_max_balance != 0 &&
      engine_.account(members_[mi].wallet_slot).balance() + b.amount > config_.wallet_max_balance) {
    return Result::limit_exceeded;
  }
  if (recharges_.full()) return Result::capacity_exhausted;
  Recharge r{};
  r.id = c.id;
  r.fingerprint = engine_.fingerprint();
  r.created_us = c.time_us;
  r.expires_us = c.time_us + uint64_t{config_.recharge_timeout_s} * 1000000;
  r.amount = b.amount;
  r.member = mi;
  r.method_id = b.method_id;
  r.channel = method->channel;
  r.state = recharge_pending;
  // R1: strict rotation over the method's payee accounts.
  if (method->payee_count > 0) {
    r.payee_index = static_cast<uint16_t>(method->next_payee % method->payee_count);
    method->next_payee++;
  }
  insert_record(recharges_, c, r);
  recharge_reply(r, c.time_us, reply);
  return Result::ok;
}

// R3: idempotent on the channel transaction id; another amount credits nothing
// (amount_mismatch); after expiry it still credits (paid_late).
Result Domain::recharge_confirm(const Command& c, Reply& reply, EffectSink& sink) {
  const RechargeConfirmBody& b = c.body.recharge_confirm;
  if (b.amount <= 0 || b.amount > domain_amount_max || b.channel_txn.is_zero()) {
    return Result::invalid_request;
  }
  const uint32_t i = recharges_.find(b.recharge_id);
  if (i == none) return Result::not_found;
  Recharge& r = recharges_[i];
  if (r.state != recharge_pending) {
    // The same channel transaction again (a duplicate notification): its answer.
    if (r.channel_txn == b.channel_txn && r.confirmed_amount == b.amount) {
      recharge_reply(r, c.time_us, reply);
      reply.flags |= reply_flag_replayed;
      return Result::ok;
    }
    return Result::invalid_state;
  }
  if (b.amount != r.amount) {
    r.state = recharge_amount_mismatch;
    r.channel_txn = b.channel_txn;
    r.confirmed_amount = b.amount;
    recharge_reply(r, c.time_us, reply);
    return Result::ok;
  }
  const Member& m = members_[r.member];
  static constexpr SystemAccount clearing[4] = {sys_clearing_wechat, sys_clearing_cash,
                                                sys_clearing_bank, sys_clearing_other};
  // The money was paid: credit even if the wallet was disabled or is now above
  // wallet_max_balance since the order was created.
  engine_.begin(sink);
  const Result t = engine_.transfer(c, c.id, system_slot_[clearing[r.channel]], m.wallet_slot,
                                    r.amount, TransferMode::single_phase, 0, code_recharge, sink);
  if (t != Result::ok) {
    engine_.abort(sink);
    return t;
  }
  engine_.commit();
  r.state = c.time_us >= r.expires_us ? recharge_paid_late : recharge_paid;
  r.channel_txn = b.channel_txn;
  r.confirmed_amount = b.amount;
  recharge_reply(r, c.time_us, reply);
  return Result::ok;
}

}  // namespace coffer::detail
