// Payments from the wallet with points (W1-W5, P2): single- and two-phase,
// split payments awaiting an external part, partial capture, void, automatic
// expiry by the engine's tick, and refunds in parts (W4 proportions).
#include "core/assert.h"
#include "core/domain.h"

namespace coffer::detail {

namespace {

constexpr uint16_t leg_code[3] = {code_payment_hold, code_points_use, code_points_value};
constexpr uint32_t part_external = 3;

// floor(x * num / den) without overflow for domain amounts (< 2^48 each).
int64_t scale(int64_t x, int64_t num, int64_t den) {
  COFFER_ASSERT(den > 0 && x >= 0 && num >= 0);
  __extension__ typedef __int128 i128;
  return static_cast<int64_t>(static_cast<i128>(x) * num / den);
}

bool open_state(uint8_t state) {
  return state == payment_held || state == payment_awaiting_external;
}

}  // namespace

void Domain::payment_reply(const Payment& p, uint64_t now_us, Reply& reply) const {
  ReplyData d{};
  d.state = open_state(p.state) && now_us >= p.expires_us ? uint8_t{payment_expired} : p.state;
  d.aux32 = static_cast<uint32_t>(p.expires_us / 1000000);
  d.v[0] = p.amount;
  d.v[1] = p.parts[leg_wallet];
  d.v[2] = p.parts[leg_points];
  d.v[3] = p.parts[leg_value];
  d.v[4] = p.captured;
  d.v[5] = p.refunded;
  set_reply_data(reply, d);
}

void Domain::refund_reply(const Refund& r, Reply& reply) const {
  ReplyData d{};
  d.v[0] = r.amount;
  d.v[1] = r.parts[leg_wallet];
  d.v[2] = r.parts[leg_points];
  d.v[3] = r.parts[part_external];
  d.v[4] = r.parts[leg_value];
  set_reply_data(reply, d);
}

Result Domain::payment_create(const Command& c, Reply& reply, EffectSink& sink) {
  const PaymentBody& b = c.body.payment;
  if (b.amount <= 0 || b.amount > domain_amount_max || b.points < 0 ||
      b.points > domain_amount_max || b.external_amount < 0 || b.external_amount >= b.amount ||
      b.capture > 1) {
    return Result::invalid_request;
  }
  uint32_t existing;
  if (const Result r = check_record_id(payments_, c, &existing); r != Result::ok) return r;
  if (existing != none) {
    payment_reply(payments_[existing], c.time_us, reply);
    reply.flags |= reply_flag_replayed;
    return Result::ok;
  }
  const uint32_t mi = find_member(b.member_id);
  if (mi == none) return Result::not_found;
  const uint32_t xi = find_merchant(b.merchant_id);
  if (xi == none) return Result::not_found;
  const Member& m = members_[mi];
  const Merchant& x = merchants_[xi];
  if (!m.wallet_enabled) return Result::wallet_disabled;
  if (b.external_amount > 0 && !x.split_payment_allowed) return Result::split_not_allowed;

  // P2: points offset part of the order.
  ReplyData rule{};
  int64_t value = 0;
  if (b.points > 0) {
    const Group* g = find_group(m.group_id);
    COFFER_ASSERT(g != nullptr);
    rule.detail = b.points < config_.points_use_min                       ? points_rule_min
                  : b.points > engine_.account(m.points_slot).available() ? points_rule_balance
                                                                          : 0;
    value = scale(b.points, minor_per_major, config_.points_offset_rate);
    if (rule.detail == 0 && value > scale(b.amount, g->use_points_bp, bp_one)) {
      rule.detail = points_rule_max_share;
    }
    if (rule.detail != 0) {
      set_reply_data(reply, rule);
      return Result::points_rule;
    }
  }
  if (value + b.external_amount > b.amount) return Result::invalid_request;
  const int64_t wallet = b.amount - value - b.external_amount;
  if (wallet > engine_.account(m.wallet_slot).available()) return Result::insufficient_funds;

  const int64_t parts[4] = {wallet, b.points, value, b.external_amount};
  const bool captured_now = b.capture == 1 && b.external_amount == 0;
  uint32_t legs = 0;
  for (uint32_t k = 0; k < 3; k++)
    legs += parts[k] > 0;
  if (payments_.full()) return Result::capacity_exhausted;
  if (!captured_now && engine_.pending_room() < legs) return Result::capacity_exhausted;
  if (captured_now && !settlement_room(b.merchant_id, b.store_id, c.time_us)) {
    return Result::capacity_exhausted;
  }

  const uint64_t expires_us = c.time_us + uint64_t{config_.payment_hold_timeout_s} * 1000000;
  const uint32_t slots[3][2] = {{m.wallet_slot, x.settlement_slot},
                                {m.points_slot, system_slot_[sys_points_issuance]},
                                {system_slot_[sys_points_funding], x.settlement_slot}};
  engine_.begin(sink);
  for (uint32_t k = 0; k < 3; k++) {
    if (parts[k] == 0) continue;
    const Result r = captured_now
                         ? engine_.transfer(c, leg_id(c.id, k), slots[k][0], slots[k][1], parts[k],
                                            TransferMode::single_phase, 0,
                                            k == 0 ? uint16_t{code_payment} : leg_code[k], sink)
                         : engine_.transfer(c, leg_id(c.id, k), slots[k][0], slots[k][1], parts[k],
                                            TransferMode::hold, expires_us, leg_code[k], sink);
    if (r != Result::ok) {
      engine_.abort(sink);
      return r;
    }
  }
  engine_.commit();

  // Written in place; the reply reads it back from the store buffer.
  Payment& p = append_record(payments_, c);
  p.fingerprint = engine_.fingerprint();
  p.order_ref = b.order_ref;
  p.store_id = b.store_id;
  p.created_us = c.time_us;
  p.expires_us = captured_now ? 0 : expires_us;
  p.member = mi;
  p.merchant = xi;
  p.amount = b.amount;
  p.order = none;
  for (uint32_t k = 0; k < 4; k++)
    p.parts[k] = parts[k];
  p.capture = b.capture;
  p.state = b.external_amount > 0 ? payment_awaiting_external
            : captured_now        ? payment_captured
                                  : payment_held;
  if (captured_now) {
    p.captured = b.amount;
    for (uint32_t k = 0; k < 4; k++)
      p.captured_parts[k] = parts[k];
    settle(Settle::payment, b.merchant_id, b.store_id, c.time_us, b.amount);
  }
  payment_reply(p, c.time_us, reply);
  return Result::ok;
}

// Capture, void and confirm address an existing payment, which remembers its
// last operation: repeating that operation answers its first result.
Result Domain::find_payment_op(const Command& c, Reply& reply, uint32_t* index) const {
  *index = payments_.find(c.body.payment_op.payment_id);
  if (*index == none) return Result::not_found;
  const Payment& p = payments_[*index];
  if (p.op_id != c.id) return Result::ok;
  if (p.op_fingerprint != engine_.fingerprint()) return Result::id_reused;
  payment_reply(p, c.time_us, reply);
  reply.flags |= reply_flag_replayed;
  *index = none;  // answered
  return Result::ok;
}

// Every held leg at once: post take[k] of it (> 0) or release it (0).
Result Domain::move_payment_legs(const Command& c, const Payment& p, const int64_t take[3],
                                 EffectSink& sink) {
  engine_.begin(sink);
  for (uint32_t k = 0; k < 3; k++) {
    if (p.parts[k] == 0) continue;
    const Id128 leg = leg_id(p.id, k);
    const Result r =
        take[k] > 0 ? engine_.post(c, leg, take[k], sink) : engine_.release(c, leg, sink);
    if (r != Result::ok) {
      engine_.abort(sink);
      return r;
    }
  }
  engine_.commit();
  return Result::ok;
}

void Domain::finish_payment_op(const Command& c, Payment& p, Reply& reply) {
  p.op_id = c.id;
  p.op_fingerprint = engine_.fingerprint();
  payment_reply(p, c.time_us, reply);
}

Result Domain::payment_capture(const Command& c, Reply& reply, EffectSink& sink) {
  const PaymentOpBody& b = c.body.payment_op;
  if (b.amount < 0 || b.amount > domain_amount_max || !b.channel_txn.is_zero()) {
    return Result::invalid_request;
  }
  uint32_t i;
  if (const Result r = find_payment_op(c, reply, &i); r != Result::ok || i == none) return r;
  Payment& p = payments_[i];
  if (p.state != payment_held || c.time_us >= p.expires_us) return Result::invalid_state;
  const int64_t amount = b.amount == 0 ? p.amount : b.amount;
  if (amount > p.amount) return Result::limit_exceeded;
  const uint64_t merchant_id = merchants_[p.merchant].merchant_id;
  if (!settlement_room(merchant_id, p.store_id, c.time_us)) return Result::capacity_exhausted;
  // Points and their value in proportion (floor); the wallet covers the rest,
  // which never exceeds its hold (C - floor(V C / A) <= W when A = W + V).
  int64_t take[3];
  take[leg_points] = scale(p.parts[leg_points], amount, p.amount);
  take[leg_value] = scale(p.parts[leg_value], amount, p.amount);
  take[leg_wallet] = amount - take[leg_value];
  COFFER_ASSERT(take[leg_wallet] >= 0 && take[leg_wallet] <= p.parts[leg_wallet]);
  if (const Result r = move_payment_legs(c, p, take, sink); r != Result::ok) return r;
  p.state = payment_captured;
  p.captured = amount;
  for (uint32_t k = 0; k < 3; k++)
    p.captured_parts[k] = take[k];
  settle(Settle::payment, merchant_id, p.store_id, c.time_us, amount);
  finish_payment_op(c, p, reply);
  return Result::ok;
}

Result Domain::payment_void(const Command& c, Reply& reply, EffectSink& sink) {
  const PaymentOpBody& b = c.body.payment_op;
  if (b.amount != 0 || !b.channel_txn.is_zero()) return Result::invalid_request;
  uint32_t i;
  if (const Result r = find_payment_op(c, reply, &i); r != Result::ok || i == none) return r;
  Payment& p = payments_[i];
  if (!open_state(p.state) || c.time_us >= p.expires_us) return Result::invalid_state;
  const int64_t release_all[3] = {0, 0, 0};
  if (const Result r = move_payment_legs(c, p, release_all, sink); r != Result::ok) return r;
  p.state = payment_voided;
  finish_payment_op(c, p, reply);
  return Result::ok;
}

// W2: the external part of a split payment was paid: capture everything.
Result Domain::payment_confirm_external(const Command& c, Reply& reply, EffectSink& sink) {
  const PaymentOpBody& b = c.body.payment_op;
  if (b.amount <= 0 || b.channel_txn.is_zero()) return Result::invalid_request;
  uint32_t i;
  if (const Result r = find_payment_op(c, reply, &i); r != Result::ok || i == none) return r;
  Payment& p = payments_[i];
  if (p.state != payment_awaiting_external || c.time_us >= p.expires_us) {
    return Result::invalid_state;
  }
  if (b.amount != p.parts[part_external]) return Result::invalid_request;
  const uint64_t merchant_id = merchants_[p.merchant].merchant_id;
  if (!settlement_room(merchant_id, p.store_id, c.time_us)) return Result::capacity_exhausted;
  if (const Result r = move_payment_legs(c, p, p.parts, sink); r != Result::ok) return r;
  p.state = payment_captured;
  p.captured = p.amount;
  for (uint32_t k = 0; k < 4; k++)
    p.captured_parts[k] = p.parts[k];
  settle(Settle::payment, merchant_id, p.store_id, c.time_us, p.amount);
  p.channel_txn = b.channel_txn;
  finish_payment_op(c, p, reply);
  return Result::ok;
}

// W4: a refund of R returns floor(part x R / captured) of each part; the refund
// that completes the captured amount returns exactly what remains of each.
Result Domain::payment_refund(const Command& c, Reply& reply, EffectSink& sink) {
  const PaymentOpBody& b = c.body.payment_op;
  if (b.amount <= 0 || b.amount > domain_amount_max || !b.channel_txn.is_zero()) {
    return Result::invalid_request;
  }
  uint32_t existing;
  if (const Result r = check_record_id(refunds_, c, &existing); r != Result::ok) return r;
  if (existing != none) {
    refund_reply(refunds_[existing], reply);
    reply.flags |= reply_flag_replayed;
    return Result::ok;
  }
  const uint32_t i = payments_.find(b.payment_id);
  if (i == none) return Result::not_found;
  Payment& p = payments_[i];
  if (p.state != payment_captured) return Result::invalid_state;
  if (b.amount > p.captured - p.refunded) return Result::limit_exceeded;
  if (refunds_.full()) return Result::capacity_exhausted;
  const uint64_t merchant_id = merchants_[p.merchant].merchant_id;
  if (!settlement_room(merchant_id, p.store_id, c.time_us)) return Result::capacity_exhausted;
  const bool last = p.refunded + b.amount == p.captured;
  int64_t back[4];
  for (uint32_t k = 0; k < 4; k++) {
    back[k] = last ? p.captured_parts[k] - p.refunded_parts[k]
                   : scale(p.captured_parts[k], b.amount, p.captured);
  }
  const Member& m = members_[p.member];
  const Merchant& x = merchants_[p.merchant];
  const uint32_t slots[3][2] = {{x.settlement_slot, m.wallet_slot},
                                {system_slot_[sys_points_issuance], m.points_slot},
                                {x.settlement_slot, system_slot_[sys_points_funding]}};
  static constexpr uint16_t codes[3] = {code_refund, code_points_return, code_points_value};
  engine_.begin(sink);
  for (uint32_t k = 0; k < 3; k++) {
    if (back[k] == 0) continue;
    const Result r = engine_.transfer(c, c.id, slots[k][0], slots[k][1], back[k],
                                      TransferMode::single_phase, 0, codes[k], sink);
    if (r != Result::ok) {
      engine_.abort(sink);
      return r;
    }
  }
  int64_t keep[2] = {0, 0};
  if (p.order != none) {
    const Result r =
        shrink_order_grants(c, orders_[p.order], p.refunded + b.amount, p.captured, keep, sink);
    if (r != Result::ok) {
      engine_.abort(sink);
      return r;
    }
  }
  engine_.commit();
  if (p.order != none) {
    Order& o = orders_[p.order];
    for (uint32_t k = 0; k < 2; k++) {
      o.open[k] = keep[k];
      if (o.state[k] == grant_maturing && keep[k] == 0) o.state[k] = grant_state_cancelled;
    }
  }
  p.refunded += b.amount;
  for (uint32_t k = 0; k < 4; k++)
    p.refunded_parts[k] += back[k];
  settle(Settle::refund, merchant_id, p.store_id, c.time_us, b.amount);
  Refund rf{};
  rf.id = c.id;
  rf.fingerprint = engine_.fingerprint();
  rf.payment = i;
  rf.amount = b.amount;
  for (uint32_t k = 0; k < 4; k++)
    rf.parts[k] = back[k];
  insert_record(refunds_, c, rf);
  refund_reply(rf, reply);
  return Result::ok;
}

// The engine expired one leg of a held or awaiting payment (all its legs share
// due time and seq, and expire in the same tick).
void Domain::payment_settled(const PendingTransfer& t) {
  uint32_t leg = 0;
  while (leg < 3 && leg_code[leg] != t.code)
    leg++;
  if (leg == 3 || t.kind != PendingKind::hold) return;
  const uint32_t i = payments_.find(leg_id(t.id, leg));
  if (i == none) return;
  Payment& p = payments_[i];
  if (open_state(p.state)) p.state = payment_expired;
}

}  // namespace coffer::detail
