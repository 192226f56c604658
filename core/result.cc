#include "core/result.h"

namespace coffer {

std::string_view result_name(Result r) {
  switch (r) {
    case Result::ok:
      return "OK";
    case Result::invalid_request:
      return "INVALID_REQUEST";
    case Result::not_found:
      return "NOT_FOUND";
    case Result::id_reused:
      return "ID_REUSED";
    case Result::invalid_state:
      return "INVALID_STATE";
    case Result::wallet_disabled:
      return "WALLET_DISABLED";
    case Result::insufficient_funds:
      return "INSUFFICIENT_FUNDS";
    case Result::points_rule:
      return "POINTS_RULE";
    case Result::split_not_allowed:
      return "SPLIT_NOT_ALLOWED";
    case Result::limit_exceeded:
      return "LIMIT_EXCEEDED";
    case Result::withdrawals_disabled:
      return "WITHDRAWALS_DISABLED";
    case Result::voucher_redeemed:
      return "VOUCHER_REDEEMED";
    case Result::voucher_expired:
      return "VOUCHER_EXPIRED";
    case Result::voucher_not_yet_valid:
      return "VOUCHER_NOT_YET_VALID";
    case Result::voucher_void:
      return "VOUCHER_VOID";
    case Result::voucher_wrong_merchant:
      return "VOUCHER_WRONG_MERCHANT";
    case Result::voucher_wrong_kind:
      return "VOUCHER_WRONG_KIND";
    case Result::rate_limited:
      return "RATE_LIMITED";
    case Result::unavailable:
      return "UNAVAILABLE";
    case Result::unauthenticated:
      return "UNAUTHENTICATED";
    case Result::forbidden:
      return "FORBIDDEN";
    case Result::storage_error:
      return "STORAGE_ERROR";
    case Result::account_exists:
      return "ACCOUNT_EXISTS";
    case Result::debit_account_not_found:
      return "DEBIT_ACCOUNT_NOT_FOUND";
    case Result::credit_account_not_found:
      return "CREDIT_ACCOUNT_NOT_FOUND";
    case Result::account_frozen:
      return "ACCOUNT_FROZEN";
    case Result::asset_mismatch:
      return "ASSET_MISMATCH";
    case Result::same_account:
      return "SAME_ACCOUNT";
    case Result::amount_zero:
      return "AMOUNT_ZERO";
    case Result::overflow:
      return "OVERFLOW";
    case Result::pending_not_found:
      return "PENDING_NOT_FOUND";
    case Result::not_a_hold:
      return "NOT_A_HOLD";
    case Result::not_a_grant:
      return "NOT_A_GRANT";
    case Result::hold_expired:
      return "HOLD_EXPIRED";
    case Result::grant_matured:
      return "GRANT_MATURED";
    case Result::exceeds_pending:
      return "EXCEEDS_PENDING";
    case Result::linked_event_failed:
      return "LINKED_EVENT_FAILED";
    case Result::linked_chain_open:
      return "LINKED_CHAIN_OPEN";
    case Result::linked_chain_too_long:
      return "LINKED_CHAIN_TOO_LONG";
    case Result::capacity_exhausted:
      return "CAPACITY_EXHAUSTED";
  }
  return "UNKNOWN";
}

bool result_known(Result r) {
  return result_name(r) != "UNKNOWN";
}

}  // namespace coffer
