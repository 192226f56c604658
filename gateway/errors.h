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

#include "core/assert.h"  // COFFER_ASSERT, on in release
#include "core/result.h"

namespace coffer::gateway {

// The ledger's result codes: core's one numbered enum, shared end to end
// (core/result.h is header-only and standard-library-only).
using ResultCode = coffer::Result;
// The API codes (0..storage_error); engine codes from 100 have no HTTP mapping.
inline constexpr uint32_t result_code_count = static_cast<uint32_t>(Result::storage_error) + 1;

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
