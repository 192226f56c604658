// API keys (SPEC A2): generation, the stored hash, display ids, and a
// constant-time comparison for the bootstrap admin key.
//
// A key is "ck_live_" followed by 52 characters of Crockford base32 (lower
// case, alphabet "0123456789abcdefghjkmnpqrstvwxyz") encoding 32 bytes from
// RAND_bytes: 256 bits, 60 characters in all. The prefix lets people and secret
// scanners recognise a Coffer key at a glance.
//
// The ledger stores only key_hash(key) = SHA-256(key). A plain hash is right
// here, unlike for passwords: with 256 random bits there is nothing to guess,
// so salting or a slow KDF would add cost per request and no security, and an
// unsalted hash lets the gateway look a key up by its hash directly.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace coffer::gateway {

inline constexpr std::string_view api_key_prefix = "ck_live_";
inline constexpr size_t api_key_random_size = 32;
inline constexpr size_t api_key_body_size = (api_key_random_size * 8 + 4) / 5;  // base32
inline constexpr size_t api_key_size = api_key_prefix.size() + api_key_body_size;
inline constexpr size_t api_key_hash_size = 32;
inline constexpr size_t api_key_id_size = 16;  // hex characters shown in lists
static_assert(api_key_body_size == 52 && api_key_size == 60);
static_assert(api_key_id_size <= 2 * api_key_hash_size);

using ApiKeyHash = std::array<uint8_t, api_key_hash_size>;

// Returns false only if the CSPRNG fails (then `key` is untouched).
bool generate_api_key(std::string* key);

// Shape check before any lookup: prefix, length and alphabet. Says nothing
// about whether the key exists.
bool is_well_formed_api_key(std::string_view key);

ApiKeyHash key_hash(std::string_view key);

// First api_key_id_size hex digits of the hash: safe to show and log, and the
// same for every gateway.
std::string key_id(const ApiKeyHash& hash);

// Compares in time independent of the contents and of the lengths: both sides
// are hashed first, then the digests compared with CRYPTO_memcmp. Use it for
// the bootstrap admin key, which is checked against a configured string.
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace coffer::gateway
