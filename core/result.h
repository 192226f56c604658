// The result of every command. Numbers are stable forever: they travel on the
// wire, sit in the journal's idempotency records and are mapped to HTTP by the
// gateway. DO NOT RENUMBER. Add new codes at the end of their range.
#pragma once

#include <cstdint>
#include <string_view>

namespace coffer {

enum class Result : uint32_t {
  // API codes (API.md), shared with the wire protocol and the gateway.
  ok = 0,
  invalid_request = 1,
  not_found = 2,
  id_reused = 3,
  invalid_state = 4,
  wallet_disabled = 5,
  insufficient_funds = 6,
  points_rule = 7,
  split_not_allowed = 8,
  limit_exceeded = 9,
  withdrawals_disabled = 10,
  voucher_redeemed = 11,
  voucher_expired = 12,
  voucher_not_yet_valid = 13,
  voucher_void = 14,
  voucher_wrong_merchant = 15,
  voucher_wrong_kind = 16,
  rate_limited = 17,
  unavailable = 18,
  unauthenticated = 19,
  forbidden = 20,
  storage_error = 21,

  // Engine codes (core rules), from 100.
  account_exists = 100,
  debit_account_not_found = 101,
  credit_account_not_found = 102,
  account_frozen = 103,
  asset_mismatch = 104,
  same_account = 105,
  amount_zero = 106,
  overflow = 107,
  pending_not_found = 108,
  not_a_hold = 109,
  not_a_grant = 110,
  hold_expired = 111,
  grant_matured = 112,
  exceeds_pending = 113,
  linked_event_failed = 114,
  linked_chain_open = 115,
  linked_chain_too_long = 116,
  capacity_exhausted = 117,
};

// Upper-case API spelling ("INSUFFICIENT_FUNDS"); "UNKNOWN" for other numbers.
std::string_view result_name(Result r);
// Whether r is one of the codes above (a number read from an image or the wire may not be).
bool result_known(Result r);

}  // namespace coffer
