// The domain's ids, text keys and hashes as the HTTP gateway derives them, so
// that an operation started with the `coffer` CLI and retried through HTTP (or
// the other way round) is the same operation: same command id, same body,
// texts under the same keys. Written for the CLI; the gateway can include it
// instead of its own copies (gateway/handlers*.cc, handler_util.cc) — every
// function below names the gateway code it mirrors.
//
// Stable forever: changing any of these breaks idempotency across versions
// and hides every text already stored.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/command_text.h"
#include "core/types.h"

namespace coffer::client {

inline constexpr size_t caller_id_length_max = 64;  // SPEC §0: 1-64 of [A-Za-z0-9_.:-]
inline constexpr size_t phone_length_max = 32;
inline constexpr size_t reason_length_max = 200;        // credit / debit reason
inline constexpr size_t order_ref_length_max = 128;     // payment order_ref
inline constexpr size_t name_length_max = 128;          // merchant / store names
inline constexpr size_t gift_message_length_max = 200;  // SPEC V6
inline constexpr size_t reward_text_length_max = 500;   // rebate source, payout, feedback, note
// Recharge guide (SPEC R2): bounded so its JSON fits command_text_size_max
// even with every character escaped.
inline constexpr size_t guide_text_length_max = 800;
inline constexpr size_t guide_path_length_max = 256;
inline constexpr size_t guide_amounts_max = 12;
static_assert((guide_text_length_max + guide_path_length_max) * 6 + guide_amounts_max * 20 + 64 <=
              coffer::command_text_size_max);
static_assert(gift_message_length_max == coffer::gift_message_length_max);

// SPEC §0 caller ids (gateway json_util is_valid_id).
bool is_valid_caller_id(std::string_view id);
// 1-32 characters of 0-9, '+', '-' (gateway is_valid_phone).
bool is_valid_phone(std::string_view phone);
// Code points of UTF-8 text (gateway utf8_length): message and feedback lengths in commands.
size_t utf8_length(std::string_view text);

// The command id of a state-changing request: net::id_from_string(ns, caller_id).
// Namespaces (gateway handlers): "member" (decimal member_id), "credit", "debit",
// "payment", "payment_capture", "payment_void", "refund", "recharge", "rebate",
// "gift", "withdrawal", "withdrawal_approve", "withdrawal_reject", "order",
// "voucher_batch", "voucher_batch_void".
Id128 command_id(std::string_view ns, std::string_view caller_id);
// recharge_confirm: "recharge_confirm" of "<recharge_id>/<channel_txn_id>".
Id128 recharge_confirm_id(std::string_view recharge_id, std::string_view channel_txn_id);

// handler_util.h: text_key = id_from_string("text:" + ns, id); text_group =
// id_from_string("group:" + ns, id).lo, never 0.
Id128 text_key(std::string_view ns, std::string_view id);
uint64_t text_group(std::string_view ns, std::string_view id);
// text_key("member", decimal member_id): {"phone"}.
Id128 member_text_key(uint64_t member_id);
// text_key("config", "guide"): {"text","path","amounts"}.
Id128 guide_text_key();
// The lists kept as text groups (SPEC A5), and the keys of their texts:
// text_group("members", "all") of the member texts (member_text_key).
uint64_t members_text_group();
// text_group("recharges", "all") of the recharge texts (key: the command id).
uint64_t recharges_text_group();
// text_key("group", decimal group_id): {"name"}.
Id128 group_text_key(uint32_t group_id);
// text_key("method", decimal method_id), in text_group("methods", "all").
Id128 method_text_key(uint32_t method_id);
uint64_t methods_text_group();
// text_key("store", "<merchant account>/<store account>") in
// text_group("stores", "<merchant account>"): by account ids (net/ids.h).
Id128 store_text_key(uint64_t merchant_account_id, uint64_t store_account_id);
uint64_t store_text_group(uint64_t merchant_account_id);

// The phone's hash core keeps (gateway handlers.cc phone_hash): '-' removed,
// then id_from_string("phone", digits).lo, never 0.
uint64_t phone_hash(std::string_view phone);
// Withdrawal payout details' hash (gateway withdrawal_create), length-prefixed
// so that ("a\n", "b") and ("a", "\nb") differ.
uint64_t payout_hash(std::string_view method, std::string_view account);

}  // namespace coffer::client
