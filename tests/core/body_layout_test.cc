// net/COMMAND_BODIES.md — the byte layout of every command body, reply and
// effect — is generated from core/types.h by this test (offsetof/sizeof), and
// the test fails when the document and the structs disagree, so the document a
// client in another language is written from cannot drift from the code.
// Regenerate: COFFER_WRITE_DOC=1 build/tests/core/core_body_layout_test
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/types.h"

namespace coffer {
namespace {

struct Field {
  const char* name;
  size_t offset;
  size_t size;
  const char* type;
  const char* meaning;
};

struct Layout {
  const char* name;
  const char* used_by;
  size_t size;
  std::vector<Field> fields;
};

#define F(S, m, type, meaning)                      \
  Field {                                           \
#m, offsetof(S, m), sizeof(S::m), type, meaning \
  }

std::vector<Layout> layouts() {
  return {
      {"Command header",
       "every command (40 bytes; the body follows at offset 40)",
       sizeof(Command) - sizeof(CommandBody),
       {F(Command, kind, "u16", "CommandKind (core/types.h)"),
        F(Command, flags, "u16", "bit 0: linked (engine commands only)"),
        F(Command, reserved, "u32", "0"),
        F(Command, id, "u128", "the command id: lo u64 then hi u64; 0 only for reads"),
        F(Command, seq, "u64", "ignored on input: stamped by the server"),
        F(Command, time_us, "u64", "ignored on input: stamped by the server")}},
      {"ConfigBody",
       "config_set (32)",
       sizeof(ConfigBody),
       {F(ConfigBody, mask, "u32", "bit k set: field k of DomainConfig is set"),
        F(ConfigBody, reserved, "u32", "0"),
        F(ConfigBody, values, "DomainConfig", "the values (80 bytes, below)")}},
      {"DomainConfig",
       "config_set, config_get",
       sizeof(DomainConfig),
       {F(DomainConfig, withdraw_reserve_min, "i64", "field 0 (D2)"),
        F(DomainConfig, recharge_min, "i64", "field 1 (R6)"),
        F(DomainConfig, recharge_max, "i64", "field 2 (R6)"),
        F(DomainConfig, wallet_max_balance, "i64", "field 3, 0 = none (R6)"),
        F(DomainConfig, default_group_id, "u32", "field 4 (M5)"),
        F(DomainConfig, points_offset_rate, "u32", "field 5 (P2)"),
        F(DomainConfig, points_use_min, "u32", "field 6 (P2)"),
        F(DomainConfig, payment_hold_timeout_s, "u32", "field 7 (W3)"),
        F(DomainConfig, recharge_timeout_s, "u32", "field 8 (R3)"),
        F(DomainConfig, voucher_fail_limit, "u32", "field 9 (V5)"),
        F(DomainConfig, wallet_gift_days, "u16", "field 10 (O1)"),
        F(DomainConfig, points_gift_days, "u16", "field 11 (O1)"),
        F(DomainConfig, withdraw_max_rate_bp, "u16", "field 12 (D2)"),
        F(DomainConfig, wallet_auto_open, "u8", "field 13, 0/1 (M2)"),
        F(DomainConfig, withdraw_enabled, "u8", "field 14, 0/1 (D1)"),
        F(DomainConfig, reserved, "u32[4]", "0")}},
      {"GroupBody",
       "group_set (33)",
       sizeof(GroupBody),
       {F(GroupBody, group_id, "u32", "non-zero"), F(GroupBody, cashback_bp, "u32", "<= 10000"),
        F(GroupBody, earn_points_bp, "u32", "<= 10000"),
        F(GroupBody, use_points_bp, "u32", "<= 10000"),
        F(GroupBody, upgrade_threshold, "i64", "cumulative spend, minor units")}},
      {"MemberBody",
       "member_register (34), member_set_wallet (35)",
       sizeof(MemberBody),
       {F(MemberBody, member_id, "u64", "non-zero"),
        F(MemberBody, phone_hash, "u64", "0 = no phone; id_from_string(\"phone\", digits).lo"),
        F(MemberBody, group_id, "u32", "0 = default group"),
        F(MemberBody, enabled, "u8", "member_set_wallet: 1 / 0")}},
      {"MoneyBody",
       "member_credit (36), member_debit (37), rebate (38)",
       sizeof(MoneyBody),
       {F(MoneyBody, member_id, "u64", ""), F(MoneyBody, amount, "i64", "> 0"),
        F(MoneyBody, asset, "u32", "0 wallet, 1 points (rebate: wallet)"),
        F(MoneyBody, source, "u8", "0 adjustment, 1 cash recharge")}},
      {"GiftBody",
       "gift (39)",
       sizeof(GiftBody),
       {F(GiftBody, from_member_id, "u64", ""), F(GiftBody, to_member_id, "u64", ""),
        F(GiftBody, amount, "i64", "> 0"),
        F(GiftBody, message_length, "u32", "<= 200 (the text travels beside)")}},
      {"MerchantBody",
       "merchant_set (40)",
       sizeof(MerchantBody),
       {F(MerchantBody, merchant_id, "u64", "non-zero"),
        F(MerchantBody, split_payment_allowed, "u8", "0/1 (W2)")}},
      {"MethodBody",
       "recharge_method_set (41)",
       sizeof(MethodBody),
       {F(MethodBody, method_id, "u32", "non-zero"),
        F(MethodBody, channel, "u8", "0 wechat, 1 cash, 2 bank, 3 other"),
        F(MethodBody, enabled, "u8", "0/1"),
        F(MethodBody, payee_count, "u16", "payee accounts, rotated (R1)")}},
      {"StoreBody",
       "store_set (42)",
       sizeof(StoreBody),
       {F(StoreBody, merchant_id, "u64", ""), F(StoreBody, store_id, "u64", "non-zero"),
        F(StoreBody, lat_udeg, "i32", "micro-degrees"),
        F(StoreBody, lon_udeg, "i32", "micro-degrees")}},
      {"ApiKeyBody",
       "api_key_set (43)",
       sizeof(ApiKeyBody),
       {F(ApiKeyBody, key_hash, "u128", "hash of the secret"),
        F(ApiKeyBody, merchant_id, "u64", "merchant and store roles"),
        F(ApiKeyBody, store_id, "u64", "store role"),
        F(ApiKeyBody, role, "u8", "1 platform, 2 service, 3 merchant, 4 store"),
        F(ApiKeyBody, enabled, "u8", "0 = revoked")}},
      {"PaymentBody",
       "payment_create (48)",
       sizeof(PaymentBody),
       {F(PaymentBody, member_id, "u64", ""), F(PaymentBody, merchant_id, "u64", ""),
        F(PaymentBody, store_id, "u64", "0 = none"),
        F(PaymentBody, order_ref, "u128", "hash of order_ref, 0 = none"),
        F(PaymentBody, amount, "i64", "> 0, the whole order"),
        F(PaymentBody, points, "i64", ">= 0 points used (P2)"),
        F(PaymentBody, external_amount, "i64", ">= 0 paid outside (W2)"),
        F(PaymentBody, capture, "u8", "1 capture now, 0 hold (W3)")}},
      {"PaymentOpBody",
       "payment_capture (49), payment_void (50), payment_refund (51), "
       "payment_confirm_external (52)",
       sizeof(PaymentOpBody),
       {F(PaymentOpBody, payment_id, "u128", ""),
        F(PaymentOpBody, amount, "i64", "capture: 0 = full; refund > 0; confirm = external part"),
        F(PaymentOpBody, channel_txn, "u128", "confirm_external: hash of the channel txn id")}},
      {"RechargeBody",
       "recharge_create (53)",
       sizeof(RechargeBody),
       {F(RechargeBody, member_id, "u64", ""), F(RechargeBody, amount, "i64", "> 0"),
        F(RechargeBody, method_id, "u32", "")}},
      {"RechargeConfirmBody",
       "recharge_confirm (54)",
       sizeof(RechargeConfirmBody),
       {F(RechargeConfirmBody, recharge_id, "u128", ""),
        F(RechargeConfirmBody, channel_txn, "u128", "hash of the channel's transaction id"),
        F(RechargeConfirmBody, amount, "i64", "as paid")}},
      {"BatchBody",
       "voucher_batch_create (56)",
       sizeof(BatchBody),
       {F(BatchBody, merchant_id, "u64", ""), F(BatchBody, face_value, "i64", "> 0"),
        F(BatchBody, valid_from_us, "u64", "microseconds since the epoch"),
        F(BatchBody, valid_until_us, "u64", "exclusive"),
        F(BatchBody, quantity, "u32", "1..100000"), F(BatchBody, kind, "u8", "1 paper, 2 card")}},
      {"BatchCodesBody",
       "voucher_batch_add_codes (57), voucher_batch_void (58)",
       sizeof(BatchCodesBody),
       {F(BatchCodesBody, batch_id, "u128", ""),
        F(BatchCodesBody, first_index, "u32", "position of codes[0] in the batch"),
        F(BatchCodesBody, count, "u8", "1..4 (void: 0)"), F(BatchCodesBody, reserved, "u8[3]", "0"),
        F(BatchCodesBody, codes, "u128[4]", "keyed hashes of the codes")}},
      {"RedeemBody",
       "voucher_redeem (59), voucher_redeem_to_wallet (60)",
       sizeof(RedeemBody),
       {F(RedeemBody, code, "u128", "keyed hash of the code"),
        F(RedeemBody, merchant_id, "u64", "paper: the store's merchant"),
        F(RedeemBody, store_id, "u64", "paper: the store; card: 0"),
        F(RedeemBody, member_id, "u64", "card: the member; paper: 0")}},
      {"WithdrawalBody",
       "withdrawal_create (61)",
       sizeof(WithdrawalBody),
       {F(WithdrawalBody, member_id, "u64", ""), F(WithdrawalBody, amount, "i64", "> 0"),
        F(WithdrawalBody, payout_hash, "u64", "hash of the payout details")}},
      {"WithdrawalOpBody",
       "withdrawal_approve (62), withdrawal_reject (63)",
       sizeof(WithdrawalOpBody),
       {F(WithdrawalOpBody, withdrawal_id, "u128", ""),
        F(WithdrawalOpBody, feedback_length, "u32", "reject: > 0; approve: 0")}},
      {"OrderBody",
       "order_complete (64)",
       sizeof(OrderBody),
       {F(OrderBody, member_id, "u64", ""), F(OrderBody, merchant_id, "u64", ""),
        F(OrderBody, amount, "i64", "paid amount"),
        F(OrderBody, payment_id, "u128", "0 = none (O2 links refunds)"),
        F(OrderBody, lines, "OrderLine[3]",
          "{i64 amount, u32 cashback_bp, u32 earn_points_bp}; amount 0 = unused; "
          "rate 0xFFFFFFFF = the group's")}},
      {"NearbyBody",
       "stores_nearby (110)",
       sizeof(NearbyBody),
       {F(NearbyBody, lat_udeg, "i32", ""), F(NearbyBody, lon_udeg, "i32", ""),
        F(NearbyBody, after_distance_m, "u64", "cursor"),
        F(NearbyBody, after_merchant_id, "u64", "cursor"),
        F(NearbyBody, after_store_id, "u64", "cursor"),
        F(NearbyBody, first, "u8", "1: ignore the cursor")}},
      {"ReadBody",
       "the other reads (96-127)",
       sizeof(ReadBody),
       {F(ReadBody, key, "u64", "member/merchant/group/method id, phone hash"),
        F(ReadBody, id, "u128", "payment/recharge/batch/withdrawal/order id, code hash"),
        F(ReadBody, index, "u32", "group_get by position; settlement_get: UTC day"),
        F(ReadBody, part, "u32", "config_get: 0/1")}},
      {"Reply",
       "every reply (64 bytes)",
       sizeof(Reply),
       {F(Reply, result, "u32", "Result (PROTOCOL.md)"),
        F(Reply, flags, "u32", "bit 0: replayed (the first result of an earlier command)")}},
      {"ReplyData",
       "domain replies: the 56 bytes at offset 8 of a reply",
       sizeof(ReplyData),
       {F(ReplyData, state, "u8", "record state"),
        F(ReplyData, detail, "u8", "e.g. POINTS_RULE's rule"), F(ReplyData, aux16, "u16", ""),
        F(ReplyData, aux32, "u32", ""), F(ReplyData, v, "i64[6]", "per kind: core/README.md")}},
  };
}

#undef F

std::string render() {
  std::ostringstream out;
  out << "# Command bodies, replies: byte layouts\n\n"
      << "Generated from core/types.h by tests/core/body_layout_test.cc (which fails when\n"
      << "this file and the code disagree). Every command is 128 bytes: a 40-byte header\n"
      << "and an 88-byte body; unused body bytes must be zero (the idempotency fingerprint\n"
      << "covers the whole body). Little-endian, offsets in bytes from the start of the\n"
      << "struct. u128 ids are two u64: lo then hi. What each kind checks and answers:\n"
      << "core/README.md. Ids from strings: net/ids.h (PROTOCOL.md \"Ids\").\n";
  for (const Layout& l : layouts()) {
    out << "\n## " << l.name << " (" << l.size << " bytes)\n\nUsed by: " << l.used_by
        << "\n\n| offset | size | field | type | meaning |\n|---:|---:|---|---|---|\n";
    for (const Field& f : l.fields) {
      out << "| " << f.offset << " | " << f.size << " | `" << f.name << "` | " << f.type << " | "
          << f.meaning << " |\n";
    }
  }
  return out.str();
}

const char* const doc_path = COFFER_SOURCE_DIR "/net/COMMAND_BODIES.md";

TEST(BodyLayout, FieldsTileTheirStructs) {
  for (const Layout& l : layouts()) {
    if (std::string(l.name) == "Reply") continue;  // the rest of a reply is ReplyData
    size_t end = 0;
    for (const Field& f : l.fields) {
      EXPECT_GE(f.offset, end) << l.name << "." << f.name << " overlaps the previous field";
      end = f.offset + f.size;
    }
    EXPECT_LE(end, l.size) << l.name;
    EXPECT_LE(l.size, command_size) << l.name;
  }
}

TEST(BodyLayout, DocumentMatchesTheCode) {
  std::string expected = render();
  if (std::getenv("COFFER_WRITE_DOC") != nullptr) {
    std::ofstream(doc_path) << expected;
  }
  std::ifstream in(doc_path);
  std::string actual{std::istreambuf_iterator<char>(in), {}};
  EXPECT_EQ(actual, expected) << doc_path
                              << " is out of date: run this test with COFFER_WRITE_DOC=1";
}

}  // namespace
}  // namespace coffer
