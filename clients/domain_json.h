// The JSON answers API.md defines, built from core's replies (and the texts
// kept beside their commands): what the gateway answers over HTTP and the CLI
// prints with --json. One builder per answer, so the two cannot drift; field
// names, order and null-vs-absent are the HTTP contract.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "clients/client.h"
#include "core/types.h"

namespace coffer::client {

// Optional times: 0 (or less) = not yet, null.
boost::json::value time_or_null(int64_t time_us);

// --- Members and balances ------------------------------------------------------

// A member reply; `phone` from the member's text (core keeps only its hash).
boost::json::object member_json(const Reply& reply, const std::optional<std::string>& phone);
// A balance_get reply: {"wallet", "points", "wallet_enabled"}.
boost::json::object balance_json(const Reply& reply);
// A member_credit / member_debit reply; `op_id` under "credit_id" or "debit_id".
boost::json::object money_json(bool credit, std::string_view op_id, uint64_t member_id, bool points,
                               const Reply& reply);

// --- Settings: what a PUT answers, and its text keeps ------------------------------

boost::json::object merchant_json(std::string_view merchant_id, std::string_view name,
                                  bool split_payment_allowed);
boost::json::object store_json(std::string_view merchant_id, std::string_view store_id,
                               std::string_view name, const std::optional<std::string>& address,
                               double lat, double lon);
// A group as set (its text keeps only the name).
boost::json::object group_set_json(const GroupBody& group, std::string_view name);
boost::json::object method_json(uint32_t method_id, std::string_view name, std::string_view channel,
                                bool enabled, std::span<const std::string> payee_accounts);

// --- Payments, recharges, orders -----------------------------------------------

boost::json::object payment_json(std::string_view payment_id, const Reply& reply);
boost::json::object refund_json(std::string_view refund_id, std::string_view payment_id,
                                const Reply& reply);
// A recharge with its payee account, by index into its method's text.
boost::json::object recharge_json(boost::json::value recharge_id, const Reply& reply,
                                  const boost::json::object& method_text);
// An order_complete reply: the two grants (wallet, points).
boost::json::object order_json(std::string_view order_ref, uint64_t member_id,
                               std::string_view merchant_id, const Reply& reply);

// --- Rebates, gifts, withdrawals, vouchers ----------------------------------------

boost::json::object rebate_json(std::string_view rebate_id, uint64_t member_id,
                                std::string_view source, const Reply& reply);
boost::json::object gift_json(std::string_view gift_id, uint64_t from_member, uint64_t to_member,
                              const std::optional<std::string>& message, const Reply& reply);
// One row of the gifts_sent / gifts_received lists.
boost::json::object gift_row_json(const QueryRow& row);
// `create_text`: the withdrawal's own text (payout); `decision_text`: its
// approve or reject text (note / feedback).
boost::json::object withdrawal_json(boost::json::value withdrawal_id, const Reply& reply,
                                    const boost::json::object& create_text,
                                    const boost::json::object& decision_text);
// A batch from its batch reply (counts and amounts by state, SPEC V2) and its
// create text (merchant, kind, validity).
boost::json::object batch_json(std::string_view batch_id, const Reply& reply,
                               const boost::json::object& text);
// A successful redemption; `batch_text`: the batch's create text (its ref).
boost::json::object voucher_redeem_json(bool paper, const Reply& reply,
                                        const boost::json::object& batch_text);
// The details of VOUCHER_REDEEMED (V3): when, and where (the store's own id
// from `where_text`, the text of the redemption that succeeded) or to whom.
boost::json::object voucher_redeemed_details(const Reply& reply,
                                             const boost::json::object& where_text);

// --- Config and history ------------------------------------------------------------

// The config from its two config_get parts.
DomainConfig config_from_replies(const Reply& part0, const Reply& part1);
// The recharge guide from its text: "" and [] when none was set.
boost::json::object guide_json(const boost::json::object& text);
boost::json::object config_json(const DomainConfig& config, const boost::json::object& guide_text);
// The message of a history entry: what the caller wrote beside its command.
boost::json::value history_message(const boost::json::object& text);
boost::json::object history_entry_json(const QueryRow& row);

}  // namespace coffer::client
