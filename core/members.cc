// Members and wallets (M1-M5), admin credit and debit (R4, P3), rebates (O4)
// and gifts (V6).
#include "core/assert.h"
#include "core/domain.h"

namespace coffer::detail {

namespace {
uint32_t h32(uint64_t h) {
  return static_cast<uint32_t>(h);
}
}  // namespace

void Domain::member_reply(const Member& m, Reply& reply) const {
  ReplyData d{};
  d.state = m.wallet_enabled;
  d.aux32 = m.group_id;
  d.v[0] = static_cast<int64_t>(m.member_id);
  d.v[1] = static_cast<int64_t>(m.phone_hash);
  d.v[2] = m.cumulative_spend;
  d.v[3] = static_cast<int64_t>(m.created_at_us);
  set_reply_data(reply, d);
}

void Domain::simple_reply(const SimpleRecord& r, Reply& reply) const {
  ReplyData d{};
  d.v[0] = r.amount;
  d.v[1] = r.balance_after;
  set_reply_data(reply, d);
}

Result Domain::member_register(const Command& c, Reply& reply, EffectSink& sink) {
  const MemberBody& b = c.body.member;
  if (b.member_id == 0 || b.enabled != 0) return Result::invalid_request;
  const uint32_t group_id = b.group_id == 0 ? config_.default_group_id : b.group_id;
  const uint32_t existing = find_member(b.member_id);
  if (existing != none) {
    // The member id is the natural key: registering it again with the same
    // content answers the member (a replay); other content is a reused id.
    const Member& m = members_[existing];
    if (m.phone_hash != b.phone_hash || m.requested_group_id != b.group_id) {
      return Result::id_reused;
    }
    member_reply(m, reply);
    reply.flags |= reply_flag_replayed;
    return Result::ok;
  }
  if (find_group(group_id) == nullptr) return Result::not_found;
  if (b.phone_hash != 0 && find_phone(b.phone_hash) != none) return Result::invalid_state;
  if (member_count_ == capacities_.members_capacity) return Result::capacity_exhausted;
  if (engine_.account_room() < accounts_needed(2)) return Result::capacity_exhausted;

  engine_.begin(sink);
  ensure_system(c, sink);
  const uint32_t index = member_count_;
  Member m{};
  m.member_id = b.member_id;
  m.phone_hash = b.phone_hash;
  m.created_at_us = c.time_us;
  m.group_id = group_id;
  m.requested_group_id = b.group_id;
  m.wallet_enabled = config_.wallet_auto_open;
  m.wallet_slot =
      engine_.create_account(c, member_account_id(index, false), b.member_id, asset_wallet,
                             AccountKind::member_wallet, account_flag_no_negative, sink);
  m.points_slot =
      engine_.create_account(c, member_account_id(index, true), b.member_id, asset_points,
                             AccountKind::member_points, account_flag_no_negative, sink);
  engine_.commit();
  members_[index] = m;
  member_index_.insert(h32(hash_u64(m.member_id)), index);
  if (m.phone_hash != 0) phone_index_.insert(h32(hash_u64(m.phone_hash)), index);
  member_count_++;
  member_reply(m, reply);
  return Result::ok;
}

Result Domain::member_set_wallet(const Command& c, Reply& reply) {
  const MemberBody& b = c.body.member;
  if (b.enabled > 1 || b.phone_hash != 0 || b.group_id != 0) return Result::invalid_request;
  const uint32_t i = find_member(b.member_id);
  if (i == none) return Result::not_found;
  members_[i].wallet_enabled = b.enabled;
  member_reply(members_[i], reply);
  return Result::ok;
}

// member_credit, member_debit (admin, R4 / P3) and rebate (O4).
Result Domain::money(const Command& c, Reply& reply, EffectSink& sink) {
  const MoneyBody& b = c.body.money;
  const bool debit = c.kind == CommandKind::member_debit;
  if (b.amount <= 0 || b.amount > domain_amount_max) return Result::invalid_request;
  if (b.asset != asset_wallet && b.asset != asset_points) return Result::invalid_request;
  if (b.source > money_source_cash) return Result::invalid_request;
  if (c.kind == CommandKind::rebate && (b.asset != asset_wallet || b.source != 0)) {
    return Result::invalid_request;
  }
  if (b.source == money_source_cash && (debit || b.asset != asset_wallet)) {
    return Result::invalid_request;
  }
  uint32_t record;
  if (const Result r = check_record_id(simple_, c, &record); r != Result::ok) return r;
  if (record != none) {  // remembered beyond the id ring
    simple_reply(simple_[record], reply);
    reply.flags |= reply_flag_replayed;
    return Result::ok;
  }
  const uint32_t mi = find_member(b.member_id);
  if (mi == none) return Result::not_found;
  const Member& m = members_[mi];
  const bool wallet = b.asset == asset_wallet;
  if (wallet && !m.wallet_enabled) return Result::wallet_disabled;
  const uint32_t member_slot = wallet ? m.wallet_slot : m.points_slot;
  const Account& a = engine_.account(member_slot);
  if (debit && a.available() < b.amount) return Result::insufficient_funds;
  if (!debit && wallet && config_.wallet_max_balance != 0 &&
      a.balance() + b.amount > config_.wallet_max_balance) {
    return Result::limit_exceeded;
  }
  if (simple_.full()) return Result::capacity_exhausted;

  engine_.begin(sink);
  ensure_system(c, sink);
  uint32_t counter = wallet ? system_slot_[sys_adjustment] : system_slot_[sys_adjustment_points];
  uint16_t code = debit ? code_admin_debit : code_admin_credit;
  if (c.kind == CommandKind::rebate) {
    counter = system_slot_[sys_rebate_expense];
    code = code_rebate;
  } else if (b.source == money_source_cash) {
    counter = system_slot_[sys_clearing_cash];
    code = code_cash_recharge;
  }
  const Result r = debit ? engine_.transfer(c, c.id, member_slot, counter, b.amount,
                                            TransferMode::single_phase, 0, code, sink)
                         : engine_.transfer(c, c.id, counter, member_slot, b.amount,
                                            TransferMode::single_phase, 0, code, sink);
  if (r != Result::ok) {
    engine_.abort(sink);
    return r;
  }
  engine_.commit();
  SimpleRecord s{};
  s.id = c.id;
  s.fingerprint = engine_.fingerprint();
  s.member_id = b.member_id;
  s.amount = b.amount;
  s.balance_after = engine_.account(member_slot).balance();
  s.time_us = c.time_us;
  s.kind = static_cast<uint16_t>(c.kind);
  s.asset = b.asset;
  insert_record(simple_, c, s);
  simple_reply(s, reply);
  return Result::ok;
}

Result Domain::gift(const Command& c, Reply& reply, EffectSink& sink) {
  const GiftBody& b = c.body.gift;
  if (b.amount <= 0 || b.amount > domain_amount_max || b.message_length > gift_message_length_max ||
      b.from_member_id == b.to_member_id) {
    return Result::invalid_request;
  }
  uint32_t record;
  if (const Result r = check_record_id(simple_, c, &record); r != Result::ok) return r;
  if (record != none) {
    simple_reply(simple_[record], reply);
    reply.flags |= reply_flag_replayed;
    return Result::ok;
  }
  const uint32_t fi = find_member(b.from_member_id);
  const uint32_t ti = find_member(b.to_member_id);
  if (fi == none || ti == none) return Result::not_found;
  const Member& from = members_[fi];
  const Member& to = members_[ti];
  if (!from.wallet_enabled || !to.wallet_enabled) return Result::wallet_disabled;
  if (engine_.account(from.wallet_slot).available() < b.amount) return Result::insufficient_funds;
  if (config_.wallet_max_balance != 0 &&
      engine_.account(to.wallet_slot).balance() + b.amount > config_.wallet_max_balance) {
    return Result::limit_exceeded;
  }
  if (simple_.full()) return Result::capacity_exhausted;
  engine_.begin(sink);
  const Result r = engine_.transfer(c, c.id, from.wallet_slot, to.wallet_slot, b.amount,
                                    TransferMode::single_phase, 0, code_gift, sink);
  if (r != Result::ok) {
    engine_.abort(sink);
    return r;
  }
  engine_.commit();
  SimpleRecord s{};
  s.id = c.id;
  s.fingerprint = engine_.fingerprint();
  s.member_id = b.from_member_id;
  s.other_member_id = b.to_member_id;
  s.amount = b.amount;
  s.balance_after = engine_.account(from.wallet_slot).balance();
  s.time_us = c.time_us;
  s.kind = static_cast<uint16_t>(c.kind);
  s.asset = asset_wallet;
  insert_record(simple_, c, s);
  simple_reply(s, reply);
  return Result::ok;
}

}  // namespace coffer::detail
