#include "gateway/errors.h"

#include <array>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace coffer::gateway {
namespace {

// Indexed by ResultCode; the static_assert below keeps it in step.
constexpr std::array<HttpErrorCode, result_code_count> kErrorCodes = {{
    {200, "OK"},
    {400, "INVALID_REQUEST"},
    {404, "NOT_FOUND"},
    {409, "ID_REUSED"},
    {409, "INVALID_STATE"},
    {422, "WALLET_DISABLED"},
    {422, "INSUFFICIENT_FUNDS"},
    {422, "POINTS_RULE"},
    {422, "SPLIT_NOT_ALLOWED"},
    {422, "LIMIT_EXCEEDED"},
    {422, "WITHDRAWALS_DISABLED"},
    {422, "VOUCHER_REDEEMED"},
    {422, "VOUCHER_EXPIRED"},
    {422, "VOUCHER_NOT_YET_VALID"},
    {422, "VOUCHER_VOID"},
    {422, "VOUCHER_WRONG_MERCHANT"},
    {422, "VOUCHER_WRONG_KIND"},
    {429, "RATE_LIMITED"},
    {503, "UNAVAILABLE"},
    {401, "UNAUTHENTICATED"},
    {403, "FORBIDDEN"},
    // A storage failure in the ledger is, for the caller, "try again later".
    {503, "UNAVAILABLE"},
}};
static_assert(kErrorCodes.size() == static_cast<size_t>(ResultCode::storage_error) + 1);

ApiError make(unsigned status, std::string_view code, std::string message) {
  ApiError e;
  e.status = status;
  e.code = std::string(code);
  e.message = std::move(message);
  return e;
}

}  // namespace

HttpErrorCode http_error_code(uint32_t result) {
  if (result < kErrorCodes.size()) return kErrorCodes[result];
  return {500, "INTERNAL"};
}

std::string ApiError::body() const {
  boost::json::object inner;
  inner["code"] = code;
  inner["message"] = message;
  for (const auto& kv : details) {
    // Details never override the two fixed members.
    if (kv.key() == "code" || kv.key() == "message") continue;
    inner[kv.key()] = kv.value();
  }
  boost::json::object outer;
  outer["error"] = std::move(inner);
  return boost::json::serialize(outer);
}

ApiError api_error(ResultCode result, std::string message) {
  return api_error_from_result(static_cast<uint32_t>(result), std::move(message));
}

ApiError api_error_from_result(uint32_t result, std::string message) {
  HttpErrorCode c = http_error_code(result);
  return make(c.status, c.code, std::move(message));
}

ApiError invalid_request(std::string message) {
  return api_error(ResultCode::invalid_request, std::move(message));
}

ApiError invalid_field(std::string_view field, std::string message) {
  ApiError e = invalid_request(std::move(message));
  e.details["field"] = field;
  return e;
}

ApiError not_found(std::string message) {
  return api_error(ResultCode::not_found, std::move(message));
}
ApiError unauthenticated(std::string message) {
  return api_error(ResultCode::unauthenticated, std::move(message));
}
ApiError forbidden(std::string message) {
  return api_error(ResultCode::forbidden, std::move(message));
}
ApiError unavailable(std::string message) {
  return api_error(ResultCode::unavailable, std::move(message));
}
ApiError rate_limited(std::string message) {
  return api_error(ResultCode::rate_limited, std::move(message));
}
ApiError internal_error(std::string message) {
  return make(500, "INTERNAL", std::move(message));
}

ApiError method_not_allowed(std::string_view allowed_methods) {
  // 405 with INVALID_REQUEST: the resource exists, the request is wrong.
  ApiError e = make(405, "INVALID_REQUEST", "method not allowed on this path");
  e.details["allowed"] = allowed_methods;
  return e;
}

ApiError payload_too_large(size_t body_bytes_max) {
  ApiError e = make(413, "INVALID_REQUEST", "request body too large");
  e.details["limit_bytes"] = body_bytes_max;
  return e;
}

ApiError header_too_large(size_t header_bytes_max) {
  ApiError e = make(431, "INVALID_REQUEST", "request header too large");
  e.details["limit_bytes"] = header_bytes_max;
  return e;
}

ApiError not_implemented(std::string_view route) {
  return make(501, "NOT_IMPLEMENTED", "not implemented yet: " + std::string(route));
}

}  // namespace coffer::gateway
