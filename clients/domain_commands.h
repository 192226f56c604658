// The domain's commands as the gateway builds them from a request and the CLI
// from its arguments: kind, id (clients/domain_ids.h), body and the text that
// travels beside the command. One builder per operation, so an operation
// started with one and retried with the other is the same command.
// Callers check their input first; the builders only assemble.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/command_text.h"
#include "core/types.h"

namespace coffer::client {

// A command and the text beside it (nullopt: none).
struct DomainCommand {
  Command command{};
  std::optional<CommandText> text;
};

// A fresh random command id, for commands that set state (a content-derived
// id would make enable -> disable -> enable a replay).
Id128 random_command_id();
// A command of `kind` with everything else zero.
Command read_command(CommandKind kind);

// --- Settings (random ids: setting twice is two commands) ---------------------------

// The texts are the answers of domain_json.h (merchant_json, store_json,
// method_json); a group's text keeps its name.
DomainCommand merchant_set_command(std::string_view merchant_id, std::string_view name,
                                   bool split_payment_allowed);
DomainCommand store_set_command(std::string_view merchant_id, std::string_view store_id,
                                std::string_view name, const std::optional<std::string>& address,
                                double lat, double lon);
DomainCommand group_set_command(uint32_t group_id, std::string_view name, uint32_t cashback_bp,
                                uint32_t earn_points_bp, uint32_t use_points_bp,
                                int64_t upgrade_threshold);
// `channel`: a name channel_from_name knows (clients/domain_names.h).
DomainCommand method_set_command(uint32_t method_id, std::string_view name,
                                 std::string_view channel, bool enabled,
                                 std::span<const std::string> payee_accounts);

// --- Members and money -------------------------------------------------------------

// member_register (M1): every member keeps a text (its phone, if any) in the
// members list (A5); core keeps only the phone's hash. `group_id` 0: the default.
DomainCommand member_register_command(uint64_t member_id, uint32_t group_id,
                                      const std::optional<std::string>& phone);

// member_credit / member_debit (R4, P3): an adjustment with its reason.
DomainCommand member_money_command(bool credit, std::string_view op_id, uint64_t member_id,
                                   int64_t amount, bool points, std::string_view reason);
// payment_create (W1); the text names the tenant for merchant keys (core's
// replies do not carry it).
DomainCommand payment_create_command(std::string_view payment_id, uint64_t member_id,
                                     std::string_view merchant_id,
                                     const std::optional<std::string>& store_id,
                                     const std::optional<std::string>& order_ref, int64_t amount,
                                     int64_t points, int64_t external_amount, bool capture);
// payment_capture / payment_void; `amount` 0 = all.
Command payment_op_command(CommandKind kind, std::string_view payment_id, int64_t amount);
DomainCommand refund_command(std::string_view refund_id, std::string_view payment_id,
                             int64_t amount);
// recharge_create (R1), its text in the recharges list.
DomainCommand recharge_create_command(std::string_view recharge_id, uint64_t member_id,
                                      int64_t amount, uint32_t method_id);
// recharge_confirm (R3): id "recharge_confirm" of "<recharge_id>/<channel_txn_id>".
Command recharge_confirm_command(std::string_view recharge_id, std::string_view channel_txn_id,
                                 int64_t amount);
// order_complete (O1): at most order_lines_max `lines` with their own rates.
DomainCommand order_complete_command(std::string_view order_ref, uint64_t member_id,
                                     std::string_view merchant_id, int64_t amount,
                                     const std::optional<std::string>& payment_id,
                                     std::optional<int64_t> received_at_us,
                                     std::span<const OrderLine> lines);

// --- Rewards ---------------------------------------------------------------------

DomainCommand rebate_command(std::string_view rebate_id, uint64_t member_id, int64_t amount,
                             std::string_view source);
DomainCommand gift_command(std::string_view gift_id, uint64_t from_member, uint64_t to_member,
                           int64_t amount, const std::optional<std::string>& message);

// {"method", "account"}: a withdrawal's payout details, as its text keeps them.
boost::json::object payout_json(std::string_view method, std::string_view account);
DomainCommand withdrawal_create_command(std::string_view withdrawal_id, uint64_t member_id,
                                        int64_t amount, std::string_view method,
                                        std::string_view account);
// approve (`words`: the optional note) or reject (`words`: the feedback).
DomainCommand withdrawal_decide_command(bool approve, std::string_view withdrawal_id,
                                        const std::optional<std::string>& words);
// The key of a decided withdrawal's approve or reject text; zero while pending.
Id128 withdrawal_decision_text_key(std::string_view withdrawal_id, uint8_t state);
// The texts of one withdrawal: its own, then its decision's (when decided).
std::vector<Id128> withdrawal_text_keys(std::string_view withdrawal_id, uint8_t state);

Command voucher_batch_void_command(std::string_view batch_id);
// Where a code's redemption is kept: text_key("voucher_redeemed", hex of its hash).
Id128 voucher_redeemed_text_key(const Id128& code);
// paper (at a store) or card (into `member_id`'s wallet), of the code hash `code`.
DomainCommand voucher_redeem_command(bool paper, const Id128& code, std::string_view merchant_id,
                                     std::string_view store_id, uint64_t member_id);

}  // namespace coffer::client
