// Order completion (O1-O3): maturing cash-back and points grants at group or
// line rates, tier upgrades on cumulative spend; refunds of the linked payment
// shrink the grants still maturing (O2).
#include "core/assert.h"
#include "core/domain.h"

namespace coffer::detail {

namespace {

constexpr uint16_t grant_code[2] = {code_cashback, code_points_earn};

int64_t scale(int64_t x, int64_t num, int64_t den) {
  __extension__ typedef __int128 i128;
  return static_cast<int64_t>(static_cast<i128>(x) * num / den);
}

}  // namespace

void Domain::order_reply(const Order& o, Reply& reply) const {
  ReplyData d{};
  d.state = o.state[0];
  d.detail = o.state[1];
  d.aux32 = o.group_after;
  d.v[0] = o.granted[0];
  d.v[1] = static_cast<int64_t>(o.matures_us[0]);
  d.v[2] = o.granted[1];
  d.v[3] = static_cast<int64_t>(o.matures_us[1]);
  d.v[4] = o.open[0];
  d.v[5] = o.open[1];
  set_reply_data(reply, d);
}

Result Domain::order_complete(const Command& c, Reply& reply, EffectSink& sink) {
  const OrderBody& b = c.body.order;
  if (b.amount <= 0 || b.amount > domain_amount_max) return Result::invalid_request;
  int64_t lines_total = 0;
  for (const OrderLine& l : b.lines) {
    if (l.amount < 0 || l.amount > domain_amount_max) return Result::invalid_request;
    if ((l.cashback_bp != rate_of_group && l.cashback_bp > bp_one) ||
        (l.earn_points_bp != rate_of_group && l.earn_points_bp > bp_one)) {
      return Result::invalid_request;
    }
    lines_total += l.amount;
  }
  if (lines_total > b.amount) return Result::invalid_request;
  uint32_t existing;
  if (const Result r = check_record_id(orders_, c, &existing); r != Result::ok) return r;
  if (existing != none) {
    order_reply(orders_[existing], reply);
    reply.flags |= reply_flag_replayed;
    return Result::ok;
  }
  const uint32_t mi = find_member(b.member_id);
  if (mi == none) return Result::not_found;
  const uint32_t xi = find_merchant(b.merchant_id);
  if (xi == none) return Result::not_found;
  Member& m = members_[mi];
  uint32_t pi = none;
  if (!b.payment_id.is_zero()) {
    pi = payments_.find(b.payment_id);
    if (pi == none) return Result::not_found;
    const Payment& p = payments_[pi];
    if (p.member != mi) return Result::invalid_request;
    if (p.order != none) return Result::invalid_state;
  }
  if (orders_.full() || engine_.pending_room() < 2) return Result::capacity_exhausted;

  // O1: per line, its own rate or the group's; the rest at the group's.
  const Group* g = find_group(m.group_id);
  COFFER_ASSERT(g != nullptr);
  int64_t cashback = 0, points = 0;
  auto earn = [&](int64_t amount, uint32_t cashback_bp, uint32_t earn_bp) {
    cashback += scale(amount, cashback_bp, bp_one);
    points += scale(amount, earn_bp, minor_per_major * bp_one);  // P1: major units
  };
  for (const OrderLine& l : b.lines) {
    if (l.amount == 0) continue;
    earn(l.amount, l.cashback_bp == rate_of_group ? g->cashback_bp : l.cashback_bp,
         l.earn_points_bp == rate_of_group ? g->earn_points_bp : l.earn_points_bp);
  }
  earn(b.amount - lines_total, g->cashback_bp, g->earn_points_bp);

  Order o{};
  o.id = c.id;
  o.fingerprint = engine_.fingerprint();
  o.amount = b.amount;
  o.granted[0] = o.open[0] = cashback;
  o.granted[1] = o.open[1] = points;
  o.matures_us[0] = c.time_us + uint64_t{config_.wallet_gift_days} * us_per_day;
  o.matures_us[1] = c.time_us + uint64_t{config_.points_gift_days} * us_per_day;
  o.completed_us = c.time_us;
  o.member = mi;
  o.merchant = xi;
  o.payment = pi;
  const uint32_t slots[2][2] = {{system_slot_[sys_cashback_expense], m.wallet_slot},
                                {system_slot_[sys_points_issuance], m.points_slot}};
  engine_.begin(sink);
  for (uint32_t k = 0; k < 2; k++) {
    if (o.granted[k] == 0) continue;
    // A grant must mature after its creation time; 0 days = at the next tick.
    const uint64_t due = o.matures_us[k] == 0 ? 1 : o.matures_us[k];
    const Result r = engine_.transfer(c, leg_id(c.id, k), slots[k][0], slots[k][1], o.granted[k],
                                      TransferMode::grant, due, grant_code[k], sink);
    if (r != Result::ok) {
      engine_.abort(sink);
      return r;
    }
    o.state[k] = grant_maturing;
  }
  engine_.commit();

  // O3: cumulative spend and upgrade to the highest group reached, never down.
  m.cumulative_spend += b.amount;
  const Group* best = g;
  for (const Group& other : groups_) {
    if (other.group_id != 0 && other.upgrade_threshold <= m.cumulative_spend &&
        other.upgrade_threshold > best->upgrade_threshold) {
      best = &other;
    }
  }
  m.group_id = best->group_id;
  o.group_after = m.group_id;
  const uint32_t index = insert_record(orders_, c, o);
  if (pi != none) payments_[pi].order = index;
  order_reply(orders_[index], reply);
  return Result::ok;
}

// Inside the refund's engine transaction; keep[k] = what stays maturing (the
// caller stores it once the transaction commits). Matured grants (by time,
// even before the tick ran) are not clawed back.
Result Domain::shrink_order_grants(const Command& c, const Order& o, int64_t refunded,
                                   int64_t captured, int64_t keep[2], EffectSink& sink) {
  for (uint32_t k = 0; k < 2; k++) {
    keep[k] = o.open[k];
    if (o.state[k] != grant_maturing || c.time_us >= o.matures_us[k]) continue;
    keep[k] = refunded >= captured ? 0 : o.granted[k] - scale(o.granted[k], refunded, captured);
    if (keep[k] > o.open[k]) keep[k] = o.open[k];
    const int64_t cut = o.open[k] - keep[k];
    if (cut == 0) continue;
    const Result r = engine_.shrink(c, leg_id(o.id, k), cut, sink);
    if (r != Result::ok) return r;
  }
  return Result::ok;
}

void Domain::order_settled(const PendingTransfer& t) {
  const uint32_t k = t.code == code_cashback ? 0 : 1;
  const uint32_t i = orders_.find(leg_id(t.id, k));
  if (i == none) return;
  Order& o = orders_[i];
  if (o.state[k] == grant_maturing) o.state[k] = grant_state_matured;
}

}  // namespace coffer::detail
