// Ledger-backed handlers of API.md: members (create, list, get, by phone, balance,
// wallet, credit, debit), merchants (put) and payments (create, get, capture,
// void, refund); bind_ledger_handlers also binds handlers_admin.h and
// handlers_rewards.h. Each handler reads its body strictly, sends one domain command to
// cofferd through the LedgerLink and maps the reply: result codes through
// api_error_from_result, an unreachable ledger to 503 UNAVAILABLE.
//
// Command ids (net/ids.h, stable forever):
//   member_register   id_from_string("member", decimal member_id)
//   member_credit     id_from_string("credit", credit_id)
//   member_debit      id_from_string("debit", debit_id)
//   payment_create    id_from_string("payment", payment_id)
//   payment_capture   id_from_string("payment_capture", payment_id)  (one capture per payment)
//   payment_void      id_from_string("payment_void", payment_id)
//   payment_refund    id_from_string("refund", refund_id)
//   member_set_wallet, merchant_set: a fresh random id per call (PUTs set a
//   state; a content-derived id would make enable→disable→enable a replay).
// Phones never enter core: phone_hash = id_from_string("phone", digits and
// '+' of the number).lo (never 0); the number itself is a text beside the
// member (handler_util.h), which GET reads back.
// Texts (README.md "Texts"): member text_key("member", decimal id), group
// text_group("members", "all") {"member_id","phone"?} (GET /v1/members lists
// the group); merchant text_key("merchant", merchant_id) {"merchant_id","name",
// "split_payment_allowed"}; payment, credit, debit, refund under the command id
// {"ref", ...}; the payment's also names "merchant_id" and "store_id", the
// tenant check of merchant keys on GET and refunds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "clients/domain_ids.h"
#include "gateway/codes.h"
#include "gateway/ledger_link.h"
#include "gateway/router.h"

namespace coffer::gateway {

// Text fields core does not keep: validated here, then sent as texts beside
// their commands (handler_util.h).
inline constexpr size_t reason_length_max = 200;
inline constexpr size_t name_length_max = 128;
inline constexpr size_t order_ref_length_max = 128;
static_assert(reason_length_max <= json_string_length_default_max);
static_assert(name_length_max <= json_string_length_default_max);
static_assert(order_ref_length_max <= json_string_length_default_max);

// The 64-bit phone hash core keys members by; 0 is reserved for "no phone".
using client::phone_hash;

struct HandlerOptions {
  // The key of the voucher codes' keyed hash (gateway/codes.h): every gateway
  // of one ledger must use the same one.
  CodeSecret voucher_code_secret{};
};

// Binds every ledger-backed route. `link` must outlive the router's use.
void bind_ledger_handlers(Router* router, LedgerLink* link, const HandlerOptions& options);

}  // namespace coffer::gateway
