// Domain dispatch, config, groups, merchants, system accounts, reads, state hash
// and image section.
#include "core/domain.h"

#include <cstring>

#include "core/assert.h"

namespace coffer::detail {

namespace {

DomainConfig default_config() {
  DomainConfig c{};
  c.withdraw_reserve_min = 5000;
  c.recharge_min = 1;
  c.recharge_max = 5'000'000;
  c.wallet_max_balance = 0;
  c.default_group_id = 1;
  c.points_offset_rate = 10;
  c.points_use_min = 10;
  c.payment_hold_timeout_s = 1800;
  c.recharge_timeout_s = 1800;
  c.voucher_fail_limit = 10;
  c.wallet_gift_days = 15;
  c.points_gift_days = 15;
  c.withdraw_max_rate_bp = 6000;
  c.wallet_auto_open = 1;
  c.withdraw_enabled = 0;
  return c;
}

uint32_t h32(uint64_t h) {
  return static_cast<uint32_t>(h);
}

}  // namespace

Domain::Domain(Engine engine, const LedgerConfig& config)
    : engine_(engine), capacities_(config), config_(default_config()) {
  COFFER_ASSERT(config.members_capacity >= 1 && config.members_capacity <= members_capacity_max);
  COFFER_ASSERT(config.merchants_capacity >= 1 &&
                config.merchants_capacity <= merchants_capacity_max);
  COFFER_ASSERT(config.payments_capacity >= 1 && config.payments_capacity <= records_capacity_max);
  COFFER_ASSERT(config.records_capacity >= 1 && config.records_capacity <= records_capacity_max);
  COFFER_ASSERT(config.vouchers_capacity >= 1 && config.vouchers_capacity <= vouchers_capacity_max);
  COFFER_ASSERT(config.batches_capacity >= 1 && config.batches_capacity <= records_capacity_max);
  COFFER_ASSERT(config.stores_capacity >= 1 && config.stores_capacity <= stores_capacity_max);
  COFFER_ASSERT(config.api_keys_capacity >= 1 && config.api_keys_capacity <= api_keys_capacity_max);
  COFFER_ASSERT(config.settlement_capacity >= 1 &&
                config.settlement_capacity <= settlement_capacity_max);
  groups_[0] = Group{1, 0, 10000, 5000, 0};  // M5: group 1 "default"
  members_.reset(config.members_capacity);
  member_index_.init(config.members_capacity);
  phone_index_.init(config.members_capacity);
  merchants_.reset(config.merchants_capacity);
  merchant_index_.init(config.merchants_capacity);
  simple_.init(config.records_capacity);
  payments_.init(config.payments_capacity);
  refunds_.init(config.records_capacity);
  recharges_.init(config.records_capacity);
  batches_.init(config.batches_capacity);
  vouchers_.init(config.vouchers_capacity);
  guard_.reset(voucher_guard_slots);
  withdrawals_.init(config.records_capacity);
  orders_.init(config.records_capacity);
  stores_.init(config.stores_capacity);
  api_keys_.init(config.api_keys_capacity);
  settlement_.init(config.settlement_capacity);
  for (uint32_t& r : settlement_recent_)
    r = UINT32_MAX;
}

Id128 Domain::leg_id(const Id128& record, uint32_t leg) {
  static_assert(pending_per_record_max + 1 == domain_leg_count);
  return domain_leg_id(record, leg);
}

void Domain::ensure_system(const Command& c, EffectSink& sink) {
  if (system_ready_) return;
  static constexpr AccountKind kinds[system_accounts_count] = {
      AccountKind::channel_clearing,  AccountKind::channel_clearing, AccountKind::channel_clearing,
      AccountKind::channel_clearing,  AccountKind::points_issuance,  AccountKind::points_funding,
      AccountKind::voucher_liability, AccountKind::payout_clearing,  AccountKind::cashback_expense,
      AccountKind::rebate_expense,    AccountKind::adjustment,       AccountKind::adjustment};
  for (uint32_t k = 0; k < system_accounts_count; k++) {
    const Asset asset =
        k == sys_points_issuance || k == sys_adjustment_points ? asset_points : asset_wallet;
    system_slot_[k] = engine_.create_account(c, system_account_id(k), k, asset, kinds[k], 0, sink);
  }
  system_ready_ = true;
}

const Group* Domain::find_group(uint32_t group_id) const {
  if (group_id == 0) return nullptr;
  for (const Group& g : groups_) {
    if (g.group_id == group_id) return &g;
  }
  return nullptr;
}

uint32_t Domain::find_member(uint64_t member_id) const {
  // Members are never removed or moved, and ids are unique: a hinted record
  // with this id is the member.
  if (hinted_member_ < member_count_ && members_[hinted_member_].member_id == member_id) {
    return hinted_member_;
  }
  return member_index_.find(h32(hash_u64(member_id)),
                            [&](uint32_t i) { return members_[i].member_id == member_id; });
}
uint32_t Domain::find_phone(uint64_t phone_hash) const {
  return phone_index_.find(h32(hash_u64(phone_hash)),
                           [&](uint32_t i) { return members_[i].phone_hash == phone_hash; });
}
uint32_t Domain::find_merchant(uint64_t merchant_id) const {
  return merchant_index_.find(h32(hash_u64(merchant_id)),
                              [&](uint32_t i) { return merchants_[i].merchant_id == merchant_id; });
}

Result Domain::execute(const Command& c, Reply& reply, EffectSink& sink) {
  switch (c.kind) {
    case CommandKind::config_set:
      return config_set(c);
    case CommandKind::group_set:
      return group_set(c);
    case CommandKind::merchant_set:
      return merchant_set(c, sink);
    case CommandKind::member_register:
      return member_register(c, reply, sink);
    case CommandKind::member_set_wallet:
      return member_set_wallet(c, reply);
    case CommandKind::member_credit:
    case CommandKind::member_debit:
    case CommandKind::rebate:
      return money(c, reply, sink);
    case CommandKind::gift:
      return gift(c, reply, sink);
    case CommandKind::payment_create:
      return payment_create(c, reply, sink);
    case CommandKind::payment_capture:
      return payment_capture(c, reply, sink);
    case CommandKind::payment_void:
      return payment_void(c, reply, sink);
    case CommandKind::payment_refund:
      return payment_refund(c, reply, sink);
    case CommandKind::payment_confirm_external:
      return payment_confirm_external(c, reply, sink);
    case CommandKind::recharge_method_set:
      return method_set(c);
    case CommandKind::recharge_create:
      return recharge_create(c, reply);
    case CommandKind::recharge_confirm:
      return recharge_confirm(c, reply, sink);
    case CommandKind::voucher_batch_create:
      return batch_create(c, reply);
    case CommandKind::voucher_batch_add_codes:
      return batch_add_codes(c, reply);
    case CommandKind::voucher_batch_void:
      return batch_void(c, reply);
    case CommandKind::voucher_redeem:
    case CommandKind::voucher_redeem_to_wallet:
      return voucher_redeem(c, reply, sink);
    case CommandKind::withdrawal_create:
      return withdrawal_create(c, reply, sink);
    case CommandKind::withdrawal_approve:
    case CommandKind::withdrawal_reject:
      return withdrawal_decide(c, reply, sink);
    case CommandKind::order_complete:
      return order_complete(c, reply, sink);
    case CommandKind::store_set:
      return store_set(c);
    case CommandKind::api_key_set:
      return api_key_set(c);
    default:
      return Result::invalid_request;
  }
}

// ---- config and groups (O3, API.md /v1/config) ----

Result Domain::config_set(const Command& c) {
  const ConfigBody& b = c.body.config;
  if (b.reserved != 0 || (b.mask >> config_field_count) != 0) return Result::invalid_request;
  DomainConfig n = config_;
  const DomainConfig& v = b.values;
  auto take = [&](uint32_t field, auto& dst, auto src) {
    if (b.mask & (1u << field)) dst = src;
  };
  take(0, n.withdraw_reserve_min, v.withdraw_reserve_min);
  take(1, n.recharge_min, v.recharge_min);
  take(2, n.recharge_max, v.recharge_max);
  take(3, n.wallet_max_balance, v.wallet_max_balance);
  take(4, n.default_group_id, v.default_group_id);
  take(5, n.points_offset_rate, v.points_offset_rate);
  take(6, n.points_use_min, v.points_use_min);
  take(7, n.payment_hold_timeout_s, v.payment_hold_timeout_s);
  take(8, n.recharge_timeout_s, v.recharge_timeout_s);
  take(9, n.voucher_fail_limit, v.voucher_fail_limit);
  take(10, n.wallet_gift_days, v.wallet_gift_days);
  take(11, n.points_gift_days, v.points_gift_days);
  take(12, n.withdraw_max_rate_bp, v.withdraw_max_rate_bp);
  take(13, n.wallet_auto_open, v.wallet_auto_open);
  take(14, n.withdraw_enabled, v.withdraw_enabled);
  auto amount_ok = [](int64_t a) { return a >= 0 && a <= domain_amount_max; };
  if (!amount_ok(n.withdraw_reserve_min) || !amount_ok(n.recharge_min) ||
      !amount_ok(n.recharge_max) || !amount_ok(n.wallet_max_balance) || n.recharge_min < 1 ||
      n.recharge_min > n.recharge_max || n.points_offset_rate < 1 ||
      n.points_offset_rate > points_offset_rate_max ||  // points_use_min: a uint32, in range
      n.payment_hold_timeout_s < 1 || n.payment_hold_timeout_s > hold_timeout_s_max ||
      n.recharge_timeout_s < 1 || n.recharge_timeout_s > hold_timeout_s_max ||
      n.wallet_gift_days > gift_days_max || n.points_gift_days > gift_days_max ||
      n.withdraw_max_rate_bp > bp_one || n.wallet_auto_open > 1 || n.withdraw_enabled > 1) {
    return Result::invalid_request;
  }
  if (find_group(n.default_group_id) == nullptr) return Result::not_found;
  config_ = n;
  return Result::ok;
}

Result Domain::group_set(const Command& c) {
  const GroupBody& b = c.body.group;
  if (b.group_id == 0 || b.cashback_bp > bp_one || b.earn_points_bp > bp_one ||
      b.use_points_bp > bp_one || b.upgrade_threshold < 0 ||
      b.upgrade_threshold > domain_amount_max) {
    return Result::invalid_request;
  }
  Group* slot = nullptr;
  for (Group& g : groups_) {
    if (g.group_id == b.group_id) slot = &g;
  }
  for (Group& g : groups_) {
    if (slot == nullptr && g.group_id == 0) slot = &g;
  }
  if (slot == nullptr) return Result::capacity_exhausted;
  *slot = Group{b.group_id, b.cashback_bp, b.earn_points_bp, b.use_points_bp, b.upgrade_threshold};
  return Result::ok;
}

// ---- merchants (A1) ----

Result Domain::merchant_set(const Command& c, EffectSink& sink) {
  const MerchantBody& b = c.body.merchant;
  if (b.merchant_id == 0 || b.split_payment_allowed > 1) return Result::invalid_request;
  const uint32_t i = find_merchant(b.merchant_id);
  if (i != none) {
    merchants_[i].split_payment_allowed = b.split_payment_allowed;
    return Result::ok;
  }
  if (merchant_count_ == capacities_.merchants_capacity) return Result::capacity_exhausted;
  if (engine_.account_room() < accounts_needed(1)) return Result::capacity_exhausted;
  engine_.begin(sink);
  ensure_system(c, sink);
  const uint32_t index = merchant_count_;
  Merchant m{};
  m.merchant_id = b.merchant_id;
  m.split_payment_allowed = b.split_payment_allowed;
  m.settlement_slot =
      engine_.create_account(c, merchant_account_id(index), b.merchant_id, asset_wallet,
                             AccountKind::merchant_settlement, 0, sink);
  engine_.commit();
  merchants_[index] = m;
  merchant_index_.insert(h32(hash_u64(b.merchant_id)), index);
  merchant_count_++;
  return Result::ok;
}

// ---- reads ----

Result Domain::read(const Command& c, Reply& reply) const {
  const ReadBody& b = c.body.read;
  ReplyData d{};
  switch (c.kind) {
    case CommandKind::config_get: {
      if (b.part > 1) return Result::invalid_request;
      unsigned char bytes[2 * sizeof(ReplyData)] = {};
      std::memcpy(bytes, &config_, sizeof config_);
      std::memcpy(&d, bytes + b.part * sizeof(ReplyData), sizeof d);
      break;
    }
    case CommandKind::group_get: {
      uint32_t at = groups_max;
      if (b.key != 0) {
        for (uint32_t k = 0; k < groups_max; k++) {
          if (groups_[k].group_id == b.key) at = k;
        }
      } else {
        // The index-th existing group, in table order.
        uint32_t seen = 0;
        for (uint32_t k = 0; k < groups_max; k++) {
          if (groups_[k].group_id == 0) continue;
          if (seen++ == b.index) {
            at = k;
            break;
          }
        }
      }
      if (at == groups_max) return Result::not_found;
      const Group& g = groups_[at];
      d.aux32 = g.group_id;
      d.v[0] = g.cashback_bp;
      d.v[1] = g.earn_points_bp;
      d.v[2] = g.use_points_bp;
      d.v[3] = g.upgrade_threshold;
      break;
    }
    case CommandKind::member_get:
    case CommandKind::member_by_phone: {
      const uint32_t i = c.kind == CommandKind::member_get ? find_member(b.key) : find_phone(b.key);
      if (i == none || (c.kind == CommandKind::member_by_phone && b.key == 0)) {
        return Result::not_found;
      }
      member_reply(members_[i], reply);
      return Result::ok;
    }
    case CommandKind::balance_get: {
      const uint32_t i = find_member(b.key);
      if (i == none) return Result::not_found;
      const Member& m = members_[i];
      const Account& w = engine_.account(m.wallet_slot);
      const Account& p = engine_.account(m.points_slot);
      d.state = m.wallet_enabled;
      d.v[0] = w.balance();
      d.v[1] = w.held();
      d.v[2] = w.maturing();
      d.v[3] = p.balance();
      d.v[4] = p.held();
      d.v[5] = p.maturing();
      break;
    }
    case CommandKind::payment_get: {
      const uint32_t i = payments_.find(b.id);
      if (i == none) return Result::not_found;
      payment_reply(payments_[i], c.time_us, reply);
      return Result::ok;
    }
    case CommandKind::recharge_get: {
      const uint32_t i = recharges_.find(b.id);
      if (i == none) return Result::not_found;
      recharge_reply(recharges_[i], c.time_us, reply);
      return Result::ok;
    }
    case CommandKind::method_get: {
      const Method* m = find_method(static_cast<uint32_t>(b.key));
      if (m == nullptr || b.key > UINT32_MAX) return Result::not_found;
      d.state = m->enabled;
      d.detail = m->channel;
      d.aux16 = m->payee_count;
      d.aux32 = m->method_id;
      d.v[0] = static_cast<int64_t>(m->next_payee);
      break;
    }
    case CommandKind::batch_get: {
      const uint32_t i = batches_.find(b.id);
      if (i == none) return Result::not_found;
      batch_reply(batches_[i], c.time_us, reply);
      return Result::ok;
    }
    case CommandKind::voucher_get: {
      const uint32_t i = vouchers_.find(b.id);
      if (i == none || batches_[vouchers_[i].batch].state == batch_building) {
        return Result::not_found;
      }
      voucher_reply(vouchers_[i], c.time_us, reply);
      return Result::ok;
    }
    case CommandKind::withdrawal_get: {
      const uint32_t i = withdrawals_.find(b.id);
      if (i == none) return Result::not_found;
      withdrawal_reply(withdrawals_[i], reply);
      return Result::ok;
    }
    case CommandKind::stores_nearby:
      return nearby(c, reply);
    case CommandKind::api_key_get: {
      const uint32_t i = api_keys_.find(b.id);
      if (i == none) return Result::not_found;
      const ApiKey& k = api_keys_[i];
      d.state = k.enabled;
      d.detail = k.role;
      d.v[0] = static_cast<int64_t>(k.merchant_id);
      d.v[1] = static_cast<int64_t>(k.store_id);
      break;
    }
    case CommandKind::settlement_get: {
      const uint32_t i = find_settlement(b.key, b.id.lo, b.index, nullptr);
      if (i == none) return Result::not_found;
      const SettlementRow& r = settlement_[i];
      d.aux32 = static_cast<uint32_t>(r.day);
      d.v[0] = r.payments_count;
      d.v[1] = r.payments_amount;
      d.v[2] = r.refunds_amount;
      d.v[3] = r.voucher_count;
      d.v[4] = r.voucher_amount;
      d.v[5] = r.payments_amount - r.refunds_amount + r.voucher_amount;  // net
      break;
    }
    case CommandKind::order_get: {
      const uint32_t i = orders_.find(b.id);
      if (i == none) return Result::not_found;
      order_reply(orders_[i], reply);
      return Result::ok;
    }
    case CommandKind::withdrawal_limit_get: {
      const uint32_t i = find_member(b.key);
      if (i == none) return Result::not_found;
      d.state = config_.withdraw_enabled;
      d.v[0] = max_withdrawable(members_[i]);
      d.v[1] = engine_.account(members_[i].wallet_slot).available();
      break;
    }
    case CommandKind::merchant_get: {
      const uint32_t i = find_merchant(b.key);
      if (i == none) return Result::not_found;
      d.state = merchants_[i].split_payment_allowed;
      d.v[0] = static_cast<int64_t>(merchants_[i].merchant_id);
      d.v[1] = engine_.account(merchants_[i].settlement_slot).balance();
      break;
    }
    default:
      return Result::invalid_request;
  }
  set_reply_data(reply, d);
  return Result::ok;
}

void Domain::replay_reply(const Command& c, Reply& reply) const {
  if (reply.result != Result::ok && reply.result != Result::voucher_redeemed) return;
  switch (c.kind) {
    case CommandKind::member_register:
    case CommandKind::member_set_wallet: {
      const uint32_t i = find_member(c.body.member.member_id);
      if (i != none) member_reply(members_[i], reply);
      break;
    }
    case CommandKind::member_credit:
    case CommandKind::member_debit:
    case CommandKind::rebate:
    case CommandKind::gift: {
      const uint32_t i = simple_.find(c.id);
      if (i != none) simple_reply(simple_[i], reply);
      break;
    }
    case CommandKind::payment_create: {
      const uint32_t i = payments_.find(c.id);
      if (i != none) payment_reply(payments_[i], c.time_us, reply);
      break;
    }
    case CommandKind::payment_capture:
    case CommandKind::payment_void:
    case CommandKind::payment_confirm_external: {
      const uint32_t i = payments_.find(c.body.payment_op.payment_id);
      if (i != none) payment_reply(payments_[i], c.time_us, reply);
      break;
    }
    case CommandKind::payment_refund: {
      const uint32_t i = refunds_.find(c.id);
      if (i != none) refund_reply(refunds_[i], reply);
      break;
    }
    case CommandKind::recharge_create: {
      const uint32_t i = recharges_.find(c.id);
      if (i != none) recharge_reply(recharges_[i], c.time_us, reply);
      break;
    }
    case CommandKind::recharge_confirm: {
      const uint32_t i = recharges_.find(c.body.recharge_confirm.recharge_id);
      if (i != none) recharge_reply(recharges_[i], c.time_us, reply);
      break;
    }
    case CommandKind::voucher_batch_create: {
      const uint32_t i = batches_.find(c.id);
      if (i != none) batch_reply(batches_[i], c.time_us, reply);
      break;
    }
    case CommandKind::voucher_batch_add_codes:
    case CommandKind::voucher_batch_void: {
      const uint32_t i = batches_.find(c.body.batch_codes.batch_id);
      if (i != none) batch_reply(batches_[i], c.time_us, reply);
      break;
    }
    case CommandKind::voucher_redeem:
    case CommandKind::voucher_redeem_to_wallet: {
      const uint32_t i = vouchers_.find(c.body.redeem.code);
      if (i != none) voucher_reply(vouchers_[i], c.time_us, reply);
      break;
    }
    case CommandKind::order_complete: {
      const uint32_t i = orders_.find(c.id);
      if (i != none) order_reply(orders_[i], reply);
      break;
    }
    case CommandKind::withdrawal_create: {
      const uint32_t i = withdrawals_.find(c.id);
      if (i != none) withdrawal_reply(withdrawals_[i], reply);
      break;
    }
    case CommandKind::withdrawal_approve:
    case CommandKind::withdrawal_reject: {
      const uint32_t i = withdrawals_.find(c.body.withdrawal_op.withdrawal_id);
      if (i != none) withdrawal_reply(withdrawals_[i], reply);
      break;
    }
    default:
      break;
  }
}

void Domain::on_settled(const PendingTransfer& p, const Command& c, EffectSink& sink) {
  switch (p.code) {
    case code_payment_hold:
    case code_points_use:
    case code_points_value:
      payment_settled(p);
      break;
    case code_cashback:
    case code_points_earn:
      order_settled(p);
      break;
    default:
      break;
  }
}

void Domain::plan_prefetch(const Command& c, uint64_t id_key, PrefetchPlan& plan) const {
  plan = PrefetchPlan{};
  auto record = [&](PrefetchRecord kind, const Id128& id) {
    plan.record = kind;
    plan.record_id = id;
    plan.record_key = LineIndex::key(id);
  };
  switch (c.kind) {
    case CommandKind::payment_create:
      plan.member_id = c.body.payment.member_id;
      plan.points = c.body.payment.points != 0;
      payments_.prefetch_bucket_of(id_key);
      break;
    case CommandKind::payment_refund:
    case CommandKind::payment_capture:
    case CommandKind::payment_void:
      refunds_.prefetch_bucket_of(id_key);
      record(PrefetchRecord::payment, c.body.payment_op.payment_id);
      payments_.prefetch_bucket_of(plan.record_key);
      break;
    case CommandKind::member_credit:
    case CommandKind::member_debit:
    case CommandKind::rebate:
      plan.member_id = c.body.money.member_id;
      simple_.prefetch_bucket_of(id_key);
      break;
    case CommandKind::recharge_create:
      plan.member_id = c.body.recharge.member_id;
      recharges_.prefetch_bucket_of(id_key);
      break;
    case CommandKind::recharge_confirm:
      record(PrefetchRecord::recharge, c.body.recharge_confirm.recharge_id);
      recharges_.prefetch_bucket_of(plan.record_key);
      break;
    case CommandKind::voucher_redeem:
    case CommandKind::voucher_redeem_to_wallet:
      plan.member_id = c.body.redeem.member_id;
      record(PrefetchRecord::voucher, c.body.redeem.code);
      vouchers_.prefetch_bucket_of(plan.record_key);
      break;
    case CommandKind::balance_get:
      plan.points = true;
      plan.member_id = c.body.read.key;
      break;
    case CommandKind::member_get:
      plan.member_id = c.body.read.key;
      break;
    default:
      return;
  }
  if (plan.member_id != 0) {
    plan.member_hash = h32(hash_u64(plan.member_id));
    member_index_.prefetch(plan.member_hash);
  }
}

void Domain::prefetch(PrefetchPlan& plan, int stage) const {
  if (stage == 1) {
    if (plan.member_id != 0) {
      // The home bucket's guess, not a full lookup: that would compare the
      // member record, the very line this prefetches, and stall on it here.
      const uint32_t i = member_index_.guess(plan.member_hash);
      if (i != none) detail::prefetch(&members_[i]);
    }
    switch (plan.record) {
      case PrefetchRecord::payment:
        payments_.prefetch_record_of(plan.record_key);
        break;
      case PrefetchRecord::recharge:
        recharges_.prefetch_record_of(plan.record_key);
        break;
      case PrefetchRecord::voucher:
        vouchers_.prefetch_record_of(plan.record_key);
        break;
      case PrefetchRecord::none:
        break;
    }
    return;
  }
  if (plan.member_id != 0) {
    if (stage != 2) return;
    const uint32_t i = member_index_.find(
        plan.member_hash, [&](uint32_t k) { return members_[k].member_id == plan.member_id; });
    plan.member = i;
    if (i != none) {
      detail::prefetch(&engine_.account(members_[i].wallet_slot));
      if (plan.points) detail::prefetch(&engine_.account(members_[i].points_slot));
    }
    return;
  }
  // Refunds, captures, voids and recharge confirmations reach the member
  // through their record (fetched at stage 1): stage 2 the member, 3 its accounts.
  uint32_t member = none;
  bool points = false;
  if (plan.record == PrefetchRecord::payment) {
    if (const uint32_t i = payments_.guess(plan.record_id, plan.record_key); i != none) {
      member = payments_[i].member;
      points = payments_[i].parts[leg_points] != 0;
    }
  } else if (plan.record == PrefetchRecord::recharge) {
    if (const uint32_t i = recharges_.guess(plan.record_id, plan.record_key); i != none) {
      member = recharges_[i].member;
    }
  }
  if (member == none || member >= member_count_) return;
  if (stage == 2) {
    detail::prefetch(&members_[member]);
    return;
  }
  detail::prefetch(&engine_.account(members_[member].wallet_slot));
  if (points) detail::prefetch(&engine_.account(members_[member].points_slot));
}

// Every open record's holds and grants are open in the engine with the
// record's amounts, and the engine has no other domain-owned ones.
bool Domain::holds_agree() const {
  uint32_t expected = 0;
  auto has = [&](const Id128& id, PendingKind kind, int64_t amount) {
    const PendingTransfer* t = engine_.find_pending(id);
    return t != nullptr && t->kind == kind && t->amount == amount &&
           t->owner == pending_owner_domain;
  };
  for (uint32_t i = 0; i < payments_.count(); i++) {
    const Payment& p = payments_[i];
    if (p.state != payment_held && p.state != payment_awaiting_external) continue;
    for (uint32_t k = 0; k < 3; k++) {
      if (p.parts[k] == 0) continue;
      if (!has(leg_id(p.id, k), PendingKind::hold, p.parts[k])) return false;
      expected++;
    }
  }
  for (uint32_t i = 0; i < withdrawals_.count(); i++) {
    const Withdrawal& w = withdrawals_[i];
    if (w.state != withdrawal_pending) continue;
    if (!has(leg_id(w.id, 3), PendingKind::hold, w.amount)) return false;
    expected++;
  }
  for (uint32_t i = 0; i < orders_.count(); i++) {
    const Order& o = orders_[i];
    for (uint32_t k = 0; k < 2; k++) {
      if (o.state[k] != grant_maturing) continue;
      if (!has(leg_id(o.id, k), PendingKind::grant, o.open[k])) return false;
      expected++;
    }
  }
  return expected == engine_.domain_pending_count();
}

// ---- state hash and image ----

namespace {
uint64_t hash_table(const void* data, size_t record_size, uint32_t count, uint64_t seed) {
  uint64_t sum = 0;
  const auto* p = static_cast<const unsigned char*>(data);
  for (uint32_t i = 0; i < count; i++)
    sum += hash_words(p + size_t{i} * record_size, record_size, seed);
  return sum;
}
// hash_table() over each record's stored form (Domain::stored()).
template <class T, class Stored>
uint64_t hash_stored(const T* records, uint32_t count, uint64_t seed, Stored stored) {
  uint64_t sum = 0;
  for (uint32_t i = 0; i < count; i++) {
    const T s = stored(records[i]);
    sum += hash_words(&s, sizeof s, seed);
  }
  return sum;
}
}  // namespace

Member Domain::stored(const Member& m) const {
  Member s = m;
  s.wallet_slot = engine_.account_creation_index(m.wallet_slot);
  s.points_slot = engine_.account_creation_index(m.points_slot);
  return s;
}
Merchant Domain::stored(const Merchant& m) const {
  Merchant s = m;
  s.settlement_slot = engine_.account_creation_index(m.settlement_slot);
  return s;
}

uint64_t Domain::hash() const {
  auto as_stored = [this](const auto& record) { return stored(record); };
  const uint64_t members = hash_stored(members_.get(), member_count_, 12, as_stored);
  const uint64_t merchants = hash_stored(merchants_.get(), merchant_count_, 13, as_stored);
  const uint64_t parts[8] = {hash_words(&config_, sizeof config_, 10),
                             hash_words(groups_, sizeof groups_, 11),
                             members,
                             merchants,
                             hash_table(simple_.data(), sizeof(SimpleRecord), simple_.count(), 14),
                             hash_table(payments_.data(), sizeof(Payment), payments_.count(), 15),
                             hash_table(refunds_.data(), sizeof(Refund), refunds_.count(), 16),
                             system_ready_ ? 1u : 0u};
  return hash_words(parts, sizeof parts, 17);
}

namespace {
struct DomainImageHeader {
  uint32_t system_ready;
  uint32_t member_count;
  uint32_t merchant_count;
  uint32_t simple_count;
  uint32_t payment_count;
  uint32_t refund_count;
  uint32_t recharge_count;
  uint32_t batch_count;
  uint32_t voucher_count;
  uint32_t withdrawal_count;
  uint32_t order_count;
  uint32_t store_count;
  uint32_t api_key_count;
  uint32_t settlement_count;
};
}  // namespace

void Domain::write_image(ImageWriter& out) const {
  out.write(&config_, sizeof config_);
  out.write(groups_, sizeof groups_);
  DomainImageHeader h{};
  h.system_ready = system_ready_ ? 1u : 0u;
  h.member_count = member_count_;
  h.merchant_count = merchant_count_;
  h.simple_count = simple_.count();
  h.payment_count = payments_.count();
  h.refund_count = refunds_.count();
  h.recharge_count = recharges_.count();
  h.batch_count = batches_.count();
  h.voucher_count = vouchers_.count();
  h.withdrawal_count = withdrawals_.count();
  h.order_count = orders_.count();
  h.store_count = stores_.count();
  h.api_key_count = api_keys_.count();
  h.settlement_count = settlement_.count();
  out.write(&h, sizeof h);
  // As creation indices once the system accounts exist; before, as read (zero).
  uint32_t system_stored[system_accounts_count];
  for (uint32_t k = 0; k < system_accounts_count; k++) {
    system_stored[k] =
        system_ready_ ? engine_.account_creation_index(system_slot_[k]) : system_slot_[k];
  }
  out.write(system_stored, sizeof system_stored);
  for (uint32_t i = 0; i < member_count_; i++) {
    const Member m = stored(members_[i]);
    out.write(&m, sizeof m);
  }
  for (uint32_t i = 0; i < merchant_count_; i++) {
    const Merchant m = stored(merchants_[i]);
    out.write(&m, sizeof m);
  }
  out.write(simple_.data(), sizeof(SimpleRecord) * simple_.count());
  out.write(payments_.data(), sizeof(Payment) * payments_.count());
  out.write(refunds_.data(), sizeof(Refund) * refunds_.count());
  out.write(methods_, sizeof methods_);
  out.write(recharges_.data(), sizeof(Recharge) * recharges_.count());
  out.write(batches_.data(), sizeof(Batch) * batches_.count());
  out.write(vouchers_.data(), sizeof(Voucher) * vouchers_.count());
  out.write(guard_.get(), sizeof(GuardSlot) * voucher_guard_slots);
  out.write(withdrawals_.data(), sizeof(Withdrawal) * withdrawals_.count());
  out.write(orders_.data(), sizeof(Order) * orders_.count());
  out.write(stores_.data(), sizeof(Store) * stores_.count());
  out.write(api_keys_.data(), sizeof(ApiKey) * api_keys_.count());
  out.write(settlement_.data(), sizeof(SettlementRow) * settlement_.count());
}

bool Domain::read_image(ImageReader& in) {
  DomainImageHeader h;
  if (!in.read(&config_, sizeof config_) || !in.read(groups_, sizeof groups_) ||
      !in.read(&h, sizeof h) || !in.read(system_slot_, sizeof system_slot_)) {
    return false;
  }
  if (h.system_ready > 1 || h.member_count > capacities_.members_capacity ||
      h.merchant_count > capacities_.merchants_capacity || h.simple_count > simple_.capacity() ||
      h.payment_count > payments_.capacity() || h.refund_count > refunds_.capacity() ||
      h.recharge_count > recharges_.capacity() || h.batch_count > batches_.capacity() ||
      h.voucher_count > vouchers_.capacity() || h.withdrawal_count > withdrawals_.capacity() ||
      h.order_count > orders_.capacity() || h.store_count > stores_.capacity() ||
      h.api_key_count > api_keys_.capacity() || h.settlement_count > settlement_.capacity()) {
    return false;
  }
  if (find_group(config_.default_group_id) == nullptr) return false;
  system_ready_ = h.system_ready != 0;
  // Account slots are stored as creation indices (see stored()).
  const uint32_t accounts = engine_.account_count();
  auto slot_of = [&](uint32_t& slot, uint64_t account_id) {
    if (slot >= accounts) return false;
    slot = engine_.account_slot_at(slot);
    return engine_.account(slot).id == account_id;
  };
  if (system_ready_) {
    for (uint32_t k = 0; k < system_accounts_count; k++) {
      if (!slot_of(system_slot_[k], system_account_id(k))) return false;
    }
  }
  for (uint32_t i = 0; i < h.member_count; i++) {
    Member m;
    if (!in.read(&m, sizeof m)) return false;
    if (m.member_id == 0 || find_member(m.member_id) != none ||
        !slot_of(m.wallet_slot, member_account_id(i, false)) ||
        !slot_of(m.points_slot, member_account_id(i, true))) {
      return false;
    }
    if (m.phone_hash != 0 && find_phone(m.phone_hash) != none) return false;
    members_[i] = m;
    member_index_.insert(h32(hash_u64(m.member_id)), i);
    if (m.phone_hash != 0) phone_index_.insert(h32(hash_u64(m.phone_hash)), i);
    member_count_++;
  }
  for (uint32_t i = 0; i < h.merchant_count; i++) {
    Merchant m;
    if (!in.read(&m, sizeof m)) return false;
    if (m.merchant_id == 0 || find_merchant(m.merchant_id) != none ||
        !slot_of(m.settlement_slot, merchant_account_id(i))) {
      return false;
    }
    merchants_[i] = m;
    merchant_index_.insert(h32(hash_u64(m.merchant_id)), i);
    merchant_count_++;
  }
  auto load = [&](auto& table, uint32_t count, auto valid) {
    using T = std::remove_reference_t<decltype(table[0])>;
    for (uint32_t i = 0; i < count; i++) {
      T t;
      if (!in.read(&t, sizeof t)) return false;
      if (t.id.is_zero() || table.find(t.id) != none || !valid(t)) return false;
      table.insert(t);
    }
    return true;
  };
  if (!load(simple_, h.simple_count, [](const SimpleRecord&) { return true; })) return false;
  if (!load(payments_, h.payment_count, [&](const Payment& p) {
        return p.member < member_count_ && p.merchant < merchant_count_ &&
               p.state >= payment_held && p.state <= payment_expired;
      })) {
    return false;
  }
  if (!load(refunds_, h.refund_count,
            [&](const Refund& r) { return r.payment < payments_.count(); })) {
    return false;
  }
  if (!in.read(methods_, sizeof methods_)) return false;
  if (!load(recharges_, h.recharge_count, [&](const Recharge& r) {
        return r.member < member_count_ && r.state >= recharge_pending &&
               r.state <= recharge_amount_mismatch && r.channel <= channel_other;
      })) {
    return false;
  }
  if (!load(batches_, h.batch_count, [&](const Batch& b) {
        return b.merchant < merchant_count_ && b.codes_added <= b.quantity &&
               b.redeemed_count + b.voided_count <= b.quantity && b.state >= batch_building &&
               b.state <= batch_voided;
      })) {
    return false;
  }
  if (!load(vouchers_, h.voucher_count,
            [&](const Voucher& v) { return v.batch < batches_.count() && v.redeemed <= 1; })) {
    return false;
  }
  if (!in.read(guard_.get(), sizeof(GuardSlot) * voucher_guard_slots)) return false;
  if (!load(withdrawals_, h.withdrawal_count, [&](const Withdrawal& w) {
        return w.member < member_count_ && w.state >= withdrawal_pending &&
               w.state <= withdrawal_rejected;
      })) {
    return false;
  }
  if (!load(orders_, h.order_count, [&](const Order& o) {
        return o.member < member_count_ && o.merchant < merchant_count_ &&
               (o.payment == none || o.payment < payments_.count()) && o.state[0] <= 3 &&
               o.state[1] <= 3;
      })) {
    return false;
  }
  if (!load(stores_, h.store_count, [](const Store&) { return true; }) ||
      !load(api_keys_, h.api_key_count,
            [](const ApiKey& k) { return k.role >= role_platform && k.role <= role_store; }) ||
      !load(settlement_, h.settlement_count, [](const SettlementRow&) { return true; })) {
    return false;
  }
  // Links from payments to orders, checked once both tables are in.
  for (uint32_t i = 0; i < payments_.count(); i++) {
    const uint32_t o = payments_[i].order;
    if (o != none && (o >= orders_.count() || orders_[o].payment != i)) return false;
  }
  return holds_agree();
}

}  // namespace coffer::detail
