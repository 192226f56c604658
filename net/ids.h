// Ids from strings, the same everywhere (clients, gateway, CLI): PROTOCOL.md
// "Ids". Stable forever: changing them breaks idempotency across versions.
#pragma once

#include <cstdint>
#include <string_view>

#include "core/types.h"

namespace coffer::net {

// The first 16 bytes of SHA-256(ns + ":" + id): lo = bytes 0..7, hi = bytes
// 8..15, both little-endian. Never zero in practice (2^-128).
Id128 id_from_string(std::string_view ns, std::string_view id);

// Account ids are u64: a decimal number 1..2^64-1 is taken as is; any other
// string maps to the first 8 bytes (little-endian) of SHA-256("account:" + id)
// with bit 63 cleared and bit 62 set: hashed ids lie in [2^62, 2^63), so they
// never collide with numbers below 2^62 and stay below core's domain range
// (domain_account_id_min = 2^63).
uint64_t account_id_from_string(std::string_view id);

}  // namespace coffer::net
