// Ledger-backed handlers of API.md for money that moves between members and
// merchants after a purchase: orders (grants), rebates, gifts, withdrawals,
// voucher batches and redemptions, member history and the settlement report.
//
// Command ids (net/ids.h id_from_string, stable forever):
//   order_complete            ("order", order_ref)
//   rebate                    ("rebate", rebate_id)
//   gift                      ("gift", gift_id)
//   withdrawal_create         ("withdrawal", withdrawal_id)
//   withdrawal_approve        ("withdrawal_approve", withdrawal_id)  (one decision each)
//   withdrawal_reject         ("withdrawal_reject", withdrawal_id)
//   voucher_batch_create      ("voucher_batch", batch_id)
//   voucher_batch_add_codes   ("voucher_codes", batch_id + "/" + first index)
//   voucher_batch_void        ("voucher_batch_void", batch_id)
//   voucher_redeem(_to_wallet) a fresh random id: a redemption has no caller id,
//                              and a second attempt must meet VOUCHER_REDEEMED.
// Texts (core/command_text.h) under the command id: {"ref": caller id, ...}.
// A voucher batch's create text is in group text_group("voucher_batches",
// merchant_id); a copy under text_key("voucher_batch_all", batch_id) rides
// beside the first add_codes command in text_group("voucher_batches_all",
// "all"): GET /v1/voucher-batches lists one group or the other.
// A redeemed code also keeps text_key("voucher_redeemed", hex of its hash)
// {"merchant_id","store_id"|"member_id"}: VOUCHER_REDEEMED names the store.
//
// Choices the API table leaves open:
// - A replayed voucher batch create answers 200 with the batch's status,
//   "codes_shown": false and no "codes" (shown once; the gateway keeps none).
//   If adding codes fails half-way the batch is voided and the call answers
//   the failure: create it again under a new batch_id.
// - A failed command is remembered under its id like a success (core): a
//   retry with the same id answers the same failure.
// - GET .../gifts needs ?direction=; GET /v1/withdrawals defaults to
//   ?state=pending (the review queue, oldest first).
// - History entries also carry "effect" (posted, held, captured, released,
//   expired, maturing, matured, shrunk, cancelled), "held_after" and
//   "maturing_after"; "message" is the text's message, reason, source,
//   feedback or note. CSV: the next page's cursor in the X-Next-Cursor header.
// - Settlement: ?from= is required, ?to= defaults to it: UTC dates
//   YYYY-MM-DD (both inclusive) or RFC 3339 times (to exclusive); at most
//   settlement_days_max days; only (store, day) rows with activity
//   are listed; "store_id" null (CSV: empty) = payments without a store;
//   JSON adds "totals". Stores come from the texts handlers_admin.cc keeps.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/constants.h"
#include "gateway/codes.h"
#include "gateway/ledger_link.h"
#include "gateway/limits.h"
#include "gateway/router.h"

namespace coffer::gateway {

// SPEC V6: gift messages, in characters.
inline constexpr size_t gift_message_length_max = 200;
// Free texts beside reward commands (rebate source, payout fields, notes, feedback).
inline constexpr size_t reward_text_length_max = 500;
// add_codes commands per call_many: well below the frame's batch limit (8192)
// so that one chunk is one frame and other calls are not starved for long.
inline constexpr size_t voucher_codes_commands_per_call = 2048;
// The settlement report reads one row per (store, day): the range and the
// number of reads of one report are bounded.
inline constexpr int64_t settlement_days_max = 366;
inline constexpr size_t settlement_reads_max = 8000;
inline constexpr size_t settlement_stores_max = 1000;

static_assert(gift_message_length_max == coffer::gift_message_length_max);
static_assert(reward_text_length_max <= json_string_length_default_max);
static_assert(voucher_codes_commands_per_call * 4 >= 4096 &&
              voucher_codes_commands_per_call <= coffer::batch_size_max);
static_assert(settlement_reads_max + 1 <= coffer::batch_size_max);
static_assert(settlement_stores_max <= list_limit_max);

// `code_secret`: the key of the voucher codes' keyed hash (handlers.h).
void bind_reward_handlers(Router* router, LedgerLink* link, const CodeSecret& code_secret);

}  // namespace coffer::gateway
