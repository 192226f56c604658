// Voucher codes as the ledger knows them: the keyed hash of a code's canonical
// form (gateway/codes.h explains the alphabet, the check symbol and why the
// hash is keyed). The CLI redeems vouchers with it; the secret is the
// gateway's (--voucher-secret-file, or derived from the access token exactly as
// coffer-gateway derives it when it has no secret file).
//
// This mirrors gateway/codes.cc (normalise_voucher_code, keyed_code_hash) and
// gateway/handlers_rewards.cc (code_id, typed_code_id); the gateway can use
// this header instead once it moves here.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/types.h"

namespace coffer::client {

inline constexpr size_t voucher_code_secret_size = 32;
inline constexpr size_t voucher_input_size_max = 64;  // gateway/codes.h
using VoucherSecret = std::array<uint8_t, voucher_code_secret_size>;

// Any case, spaces and hyphens anywhere, an optional "COFFER:V1:" prefix ->
// "XXXXXX-XXXXXX-XXXXXX"; nullopt when malformed or the check symbol is wrong.
std::optional<std::string> normalise_voucher_code(std::string_view input);

// HMAC-SHA256(token, "coffer voucher codes"): the gateway's secret without a file.
VoucherSecret voucher_secret_from_token(std::string_view token);
// The first line of a secret file: exactly 64 hex digits.
std::optional<VoucherSecret> load_voucher_secret_file(const std::string& path);

// What core keeps for a typed code: the keyed hash of its canonical form, or
// for a malformed input the hash of "malformed:" + input (it then counts for
// the V5 guard and answers NOT_FOUND like an unknown code).
Id128 typed_voucher_code_id(const VoucherSecret& secret, std::string_view input);

}  // namespace coffer::client
