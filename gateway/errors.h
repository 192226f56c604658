// Errors of the HTTP API: the ledger's result codes mapped to API.md's
// statuses and code strings, and the error value every layer of the gateway
// passes around instead of throwing.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

// COFFER_ASSERT: invariants that must never break, checked in release too.
// One definition for the whole tree: core's header-only one when present
// (standard library only, so no link dependency), else the same here.
#if __has_include("core/assert.h")
#include "core/assert.h"
#endif
#ifndef COFFER_ASSERT
#define COFFER_ASSERT(cond)                                                             \
  do {                                                                                  \
    if (!(cond)) [[unlikely]] {                                                         \
      std::fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                     \
    }                                                                                   \
  } while (0)
#endif

namespace coffer::gateway {

// The numbers of core's result enum, as they travel on the wire. DO NOT CHANGE
// THESE VALUES: they are shared by core, wire and gateway, and never renumbered.
enum class ResultCode : uint32_t {
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
};
inline constexpr uint32_t result_code_count = 22;

// API.md's status and code string of a result. Unknown numbers (a newer
// ledger) map to 500 INTERNAL rather than to a guess.
struct HttpErrorCode {
  unsigned status;
  std::string_view code;
};
HttpErrorCode http_error_code(uint32_t result);
inline HttpErrorCode http_error_code(ResultCode result) {
  return http_error_code(static_cast<uint32_t>(result));
}

// An error answer: status, code, message and optional details, rendered as
// {"error":{"code":...,"message":...,<details>}}.
struct ApiError {
  unsigned status = 500;
  std::string code = "INTERNAL";
  std::string message;
  boost::json::object details;

  std::string body() const;
};

ApiError api_error(ResultCode result, std::string message);
ApiError api_error_from_result(uint32_t result, std::string message);

ApiError invalid_request(std::string message);
// 400 naming the offending field: details {"field": "<path>"}.
ApiError invalid_field(std::string_view field, std::string message);
ApiError not_found(std::string message);
ApiError unauthenticated(std::string message);
ApiError forbidden(std::string message);
ApiError unavailable(std::string message);
ApiError rate_limited(std::string message);
ApiError internal_error(std::string message);
// Transport-level answers with statuses API.md's table leaves open.
ApiError method_not_allowed(std::string_view allowed_methods);
ApiError payload_too_large(size_t body_bytes_max);
ApiError header_too_large(size_t header_bytes_max);
ApiError not_implemented(std::string_view route);

}  // namespace coffer::gateway
