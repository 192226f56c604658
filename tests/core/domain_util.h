// Builders and a small driver for domain-command tests.
#pragma once

#include <gtest/gtest.h>

#include <initializer_list>
#include <vector>

#include "core/ledger.h"
#include "core/types.h"

namespace coffer::test {

inline Command domain_command(CommandKind kind, Id128 id) {
  Command c{};
  c.kind = kind;
  c.id = id;
  return c;
}

inline Command make_register(Id128 id, uint64_t member_id, uint64_t phone_hash = 0,
                             uint32_t group_id = 0) {
  Command c = domain_command(CommandKind::member_register, id);
  c.body.member.member_id = member_id;
  c.body.member.phone_hash = phone_hash;
  c.body.member.group_id = group_id;
  return c;
}
inline Command make_set_wallet(Id128 id, uint64_t member_id, bool enabled) {
  Command c = domain_command(CommandKind::member_set_wallet, id);
  c.body.member.member_id = member_id;
  c.body.member.enabled = enabled ? 1 : 0;
  return c;
}
inline Command make_money(CommandKind kind, Id128 id, uint64_t member_id, int64_t amount,
                          Asset asset = asset_wallet, uint8_t source = money_source_adjustment) {
  Command c = domain_command(kind, id);
  c.body.money.member_id = member_id;
  c.body.money.amount = amount;
  c.body.money.asset = asset;
  c.body.money.source = source;
  return c;
}
inline Command make_gift(Id128 id, uint64_t from, uint64_t to, int64_t amount,
                         uint32_t message_length = 0) {
  Command c = domain_command(CommandKind::gift, id);
  c.body.gift.from_member_id = from;
  c.body.gift.to_member_id = to;
  c.body.gift.amount = amount;
  c.body.gift.message_length = message_length;
  return c;
}
inline Command make_merchant(Id128 id, uint64_t merchant_id, bool split = false) {
  Command c = domain_command(CommandKind::merchant_set, id);
  c.body.merchant.merchant_id = merchant_id;
  c.body.merchant.split_payment_allowed = split ? 1 : 0;
  return c;
}
inline Command make_group(Id128 id, uint32_t group_id, uint32_t cashback_bp,
                          uint32_t earn_points_bp, uint32_t use_points_bp,
                          int64_t upgrade_threshold) {
  Command c = domain_command(CommandKind::group_set, id);
  c.body.group = GroupBody{group_id, cashback_bp, earn_points_bp, use_points_bp, upgrade_threshold};
  return c;
}
inline Command make_payment(Id128 id, uint64_t member_id, uint64_t merchant_id, int64_t amount,
                            int64_t points = 0, int64_t external = 0, bool capture = true,
                            uint64_t store_id = 0) {
  Command c = domain_command(CommandKind::payment_create, id);
  PaymentBody& b = c.body.payment;
  b.member_id = member_id;
  b.merchant_id = merchant_id;
  b.store_id = store_id;
  b.amount = amount;
  b.points = points;
  b.external_amount = external;
  b.capture = capture ? 1 : 0;
  return c;
}
inline Command make_payment_op(CommandKind kind, Id128 id, Id128 payment_id, int64_t amount = 0,
                               Id128 channel_txn = Id128{}) {
  Command c = domain_command(kind, id);
  c.body.payment_op.payment_id = payment_id;
  c.body.payment_op.amount = amount;
  c.body.payment_op.channel_txn = channel_txn;
  return c;
}
inline Command make_method(Id128 id, uint32_t method_id, uint8_t channel, bool enabled,
                           uint16_t payee_count) {
  Command c = domain_command(CommandKind::recharge_method_set, id);
  c.body.method =
      MethodBody{method_id, channel, static_cast<uint8_t>(enabled ? 1 : 0), payee_count};
  return c;
}
inline Command make_recharge(Id128 id, uint64_t member_id, int64_t amount, uint32_t method_id) {
  Command c = domain_command(CommandKind::recharge_create, id);
  c.body.recharge.member_id = member_id;
  c.body.recharge.amount = amount;
  c.body.recharge.method_id = method_id;
  return c;
}
inline Command make_confirm(Id128 id, Id128 recharge_id, Id128 channel_txn, int64_t amount) {
  Command c = domain_command(CommandKind::recharge_confirm, id);
  c.body.recharge_confirm.recharge_id = recharge_id;
  c.body.recharge_confirm.channel_txn = channel_txn;
  c.body.recharge_confirm.amount = amount;
  return c;
}
inline Command make_batch(Id128 id, uint64_t merchant_id, uint8_t kind, int64_t face_value,
                          uint32_t quantity, uint64_t valid_from_us, uint64_t valid_until_us) {
  Command c = domain_command(CommandKind::voucher_batch_create, id);
  BatchBody& b = c.body.batch;
  b.merchant_id = merchant_id;
  b.kind = kind;
  b.face_value = face_value;
  b.quantity = quantity;
  b.valid_from_us = valid_from_us;
  b.valid_until_us = valid_until_us;
  return c;
}
inline Command make_add_codes(Id128 id, Id128 batch_id, uint32_t first_index,
                              std::initializer_list<Id128> codes) {
  Command c = domain_command(CommandKind::voucher_batch_add_codes, id);
  c.body.batch_codes.batch_id = batch_id;
  c.body.batch_codes.first_index = first_index;
  c.body.batch_codes.count = static_cast<uint8_t>(codes.size());
  uint32_t k = 0;
  for (const Id128& code : codes)
    c.body.batch_codes.codes[k++] = code;
  return c;
}
inline Command make_batch_void(Id128 id, Id128 batch_id) {
  Command c = domain_command(CommandKind::voucher_batch_void, id);
  c.body.batch_codes.batch_id = batch_id;
  return c;
}
inline Command make_redeem(Id128 id, Id128 code, uint64_t merchant_id, uint64_t store_id) {
  Command c = domain_command(CommandKind::voucher_redeem, id);
  c.body.redeem.code = code;
  c.body.redeem.merchant_id = merchant_id;
  c.body.redeem.store_id = store_id;
  return c;
}
inline Command make_redeem_to_wallet(Id128 id, Id128 code, uint64_t member_id) {
  Command c = domain_command(CommandKind::voucher_redeem_to_wallet, id);
  c.body.redeem.code = code;
  c.body.redeem.member_id = member_id;
  return c;
}
inline Command make_withdrawal(Id128 id, uint64_t member_id, int64_t amount) {
  Command c = domain_command(CommandKind::withdrawal_create, id);
  c.body.withdrawal.member_id = member_id;
  c.body.withdrawal.amount = amount;
  c.body.withdrawal.payout_hash = 0xfeed;
  return c;
}
inline Command make_withdrawal_op(CommandKind kind, Id128 id, Id128 withdrawal_id,
                                  uint32_t feedback_length = 0) {
  Command c = domain_command(kind, id);
  c.body.withdrawal_op.withdrawal_id = withdrawal_id;
  c.body.withdrawal_op.feedback_length = feedback_length;
  return c;
}
inline Command make_order(Id128 id, uint64_t member_id, uint64_t merchant_id, int64_t amount,
                          Id128 payment_id = Id128{}) {
  Command c = domain_command(CommandKind::order_complete, id);
  c.body.order.member_id = member_id;
  c.body.order.merchant_id = merchant_id;
  c.body.order.amount = amount;
  c.body.order.payment_id = payment_id;
  return c;
}
inline Command make_store(Id128 id, uint64_t merchant_id, uint64_t store_id, int32_t lat_udeg,
                          int32_t lon_udeg) {
  Command c = domain_command(CommandKind::store_set, id);
  c.body.store = StoreBody{merchant_id, store_id, lat_udeg, lon_udeg};
  return c;
}
inline Command make_api_key(Id128 id, Id128 key_hash, uint8_t role, uint64_t merchant_id = 0,
                            uint64_t store_id = 0, bool enabled = true) {
  Command c = domain_command(CommandKind::api_key_set, id);
  c.body.api_key.key_hash = key_hash;
  c.body.api_key.role = role;
  c.body.api_key.merchant_id = merchant_id;
  c.body.api_key.store_id = store_id;
  c.body.api_key.enabled = enabled ? 1 : 0;
  return c;
}
inline Command make_settlement_read(uint64_t merchant_id, uint64_t store_id, uint64_t day) {
  Command c{};
  c.kind = CommandKind::settlement_get;
  c.body.read.key = merchant_id;
  c.body.read.id = Id128{store_id, 0};
  c.body.read.index = static_cast<uint32_t>(day);
  return c;
}
inline Command make_read(CommandKind kind, uint64_t key, Id128 id = Id128{}, uint32_t part = 0) {
  Command c{};
  c.kind = kind;
  c.body.read.key = key;
  c.body.read.id = id;
  c.body.read.part = part;
  return c;
}
// config_set of one field (field index in DomainConfig order).
template <class F>
Command make_config(Id128 id, uint32_t mask, F&& set) {
  Command c = domain_command(CommandKind::config_set, id);
  c.body.config.mask = mask;
  set(c.body.config.values);
  return c;
}

// Drives one ledger with increasing seq and a controllable clock.
class Driver {
 public:
  explicit Driver(const LedgerConfig& config = small_config()) : ledger(config), effects(8192) {}

  static LedgerConfig small_config() {
    LedgerConfig c;
    c.accounts_capacity = 256;
    c.pending_capacity = 256;
    c.idempotency_capacity = 4096;
    c.members_capacity = 64;
    c.merchants_capacity = 8;
    c.payments_capacity = 256;
    c.records_capacity = 256;
    c.batches_capacity = 16;
    c.stores_capacity = 16;
    c.api_keys_capacity = 16;
    c.settlement_capacity = 64;
    c.vouchers_capacity = 256;
    return c;
  }

  Reply run(Command c) {
    c.seq = ++seq;
    c.time_us = time_us;
    EffectSink sink(effects);
    last_effects = 0;
    Reply r = ledger.apply(c, sink);
    last_effects = sink.size();
    return r;
  }
  Id128 id() { return Id128{++next_id, 0xd0d0}; }
  Reply ok(const Command& c) {
    const Reply r = run(c);
    EXPECT_EQ(result_name(r.result), result_name(Result::ok));
    return r;
  }

  // Balance read: {wallet balance, held, maturing, points balance, held, maturing}.
  ReplyData balance(uint64_t member_id) {
    const Reply r = run(make_read(CommandKind::balance_get, member_id));
    EXPECT_EQ(r.result, Result::ok);
    return reply_data(r);
  }
  int64_t wallet(uint64_t member_id) { return balance(member_id).v[0]; }
  int64_t points(uint64_t member_id) { return balance(member_id).v[3]; }
  int64_t wallet_held(uint64_t member_id) { return balance(member_id).v[1]; }
  ReplyData payment(Id128 payment_id) {
    const Reply r = run(make_read(CommandKind::payment_get, 0, payment_id));
    EXPECT_EQ(r.result, Result::ok);
    return reply_data(r);
  }

  Ledger ledger;
  std::vector<Effect> effects;
  size_t last_effects = 0;
  uint64_t seq = 0;
  uint64_t time_us = 1'700'000'000'000'000;
  uint64_t next_id = 0;
};

}  // namespace coffer::test
