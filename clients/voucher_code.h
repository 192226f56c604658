// Voucher codes (SPEC V1/V3/V5) as the ledger knows them: the format, the
// check symbol, the canonical form and the keyed hash core keeps instead of
// the code. One implementation for the gateway (which also mints codes,
// gateway/codes.h) and the CLI (which redeems them).
//
// Alphabet: the 29 symbols "23456789ABCDEFGHJKMNPQRSTVWXY". Crockford's base32
// minus 0 and 1 (0/O, 1/I/L look-alikes) and minus Z (2/Z); Crockford already
// drops I, L, O, U. 29 is prime, which is what makes the check below exact.
//
// A code is 17 random symbols followed by one check symbol. With d_1..d_18
// the symbol values (the check is d_18):
//     sum_{j=1..18} j * d_j == 0  (mod 29)
// Every weight 1..18 is non-zero mod 29 and 29 is prime, so changing any one
// symbol changes the sum: every single substitution is caught. Swapping
// neighbours j, j+1 changes the sum by (d_j - d_{j+1}) * (j - (j+1)), non-zero
// mod 29 whenever the two symbols differ: every adjacent transposition is
// caught (and, weights differing by 2, every jump transposition j <-> j+2 too).
//
// Canonical form: upper case, three groups of six joined by '-':
//     7KQ2MH-9XC4RT-P3WNVK    (20 characters)
// QR payload: "COFFER:V1:" + canonical form. Upper case throughout so that the
// whole payload fits QR's dense alphanumeric mode.
//
// Keyed hash: HMAC-SHA256(secret, canonical code) truncated to 16 bytes. A
// leaked database does not reveal codes, and without the secret the hashes
// cannot be brute-forced offline even though codes are short. The secret is
// coffer-gateway's --voucher-secret-file, or derived from the access token.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/types.h"

namespace coffer::client {

inline constexpr std::string_view voucher_alphabet = "23456789ABCDEFGHJKMNPQRSTVWXY";
inline constexpr uint32_t voucher_alphabet_size = 29;
inline constexpr size_t voucher_random_symbols = 17;
inline constexpr size_t voucher_symbols = voucher_random_symbols + 1;  // + check
inline constexpr size_t voucher_group_size = 6;
inline constexpr size_t voucher_canonical_size =
    voucher_symbols + voucher_symbols / voucher_group_size - 1;  // with hyphens
inline constexpr std::string_view voucher_qr_prefix = "COFFER:V1:";
// Longest input normalise_voucher_code looks at (spaces and hyphens included).
inline constexpr size_t voucher_input_size_max = 64;
inline constexpr size_t voucher_code_hash_size = 16;
inline constexpr size_t voucher_code_secret_size = 32;

static_assert(voucher_alphabet.size() == voucher_alphabet_size);
// The check is exact only if the modulus is prime and every weight is a
// non-zero residue.
static_assert(voucher_alphabet_size == 29 && voucher_symbols < voucher_alphabet_size);
static_assert(voucher_symbols % voucher_group_size == 0);
static_assert(voucher_canonical_size == 20);
static_assert(voucher_qr_prefix.size() + voucher_canonical_size < voucher_input_size_max);

using VoucherSecret = std::array<uint8_t, voucher_code_secret_size>;
using VoucherCodeHash = std::array<uint8_t, voucher_code_hash_size>;

// The check symbol for 17 symbols (values 0..28).
uint8_t voucher_check_value(std::span<const uint8_t, voucher_random_symbols> values);
// The canonical form of 18 symbol values whose check holds.
std::string format_voucher_code(std::span<const uint8_t, voucher_symbols> values);

// Accepts what people type or scanners read: any case, spaces and hyphens
// anywhere, optionally the QR prefix (any case). The canonical form, or
// nullopt when malformed (also for a wrong check symbol).
std::optional<std::string> normalise_voucher_code(std::string_view input);

VoucherCodeHash keyed_code_hash(const VoucherSecret& secret, std::string_view canonical_code);
// The hash as core's id: bytes 0..7 little-endian = lo, 8..15 = hi.
Id128 voucher_code_id(const VoucherSecret& secret, std::string_view canonical_code);
// What core keeps for a typed code: its voucher_code_id, or for a malformed
// input the id of "malformed:" + input — a hash no real code has, so that it
// counts for the V5 guard and answers NOT_FOUND like an unknown code.
Id128 typed_voucher_code_id(const VoucherSecret& secret, std::string_view input);

// HMAC-SHA256(token, "coffer voucher codes"): the secret without a file.
// Every gateway of one ledger shares the token, so all of them agree on the
// keyed hash with no extra set-up.
VoucherSecret voucher_secret_from_token(std::string_view token);

enum class SecretFileStatus : uint8_t { ok, unreadable, malformed };
// Reads the first line of `path`: exactly 64 hex digits (then "\r" allowed).
SecretFileStatus load_voucher_secret_file(const std::string& path, VoucherSecret* secret);

}  // namespace coffer::client
