// Voucher codes (SPEC V1/V3/V5): generation, the check character, the
// canonical form, QR payloads, and the keyed hash the ledger stores instead of
// the code.
//
// Alphabet: the 29 symbols "23456789ABCDEFGHJKMNPQRSTVWXY". Crockford's base32
// minus 0 and 1 (0/O, 1/I/L look-alikes) and minus Z (2/Z); Crockford already
// drops I, L, O, U. 29 is prime, which is what makes the check below exact.
//
// A code is 17 random symbols (17 * log2(29) = 82.6 bits from RAND_bytes, by
// rejection sampling so every symbol is uniform) followed by one check symbol.
// With d_1..d_18 the symbol values (the check is d_18):
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
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace coffer::gateway {

// ---- Limits and format constants -------------------------------------------

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
inline constexpr size_t voucher_batch_size_max = 100'000;  // SPEC V1
inline constexpr size_t code_hash_size = 16;
inline constexpr size_t code_secret_size = 32;
inline constexpr size_t code_secret_file_size_max = 4096;
// A CSPRNG rejects this many bytes in a row (each with probability 24/256)
// essentially never; a source that does is broken.
inline constexpr int voucher_rejections_max = 1000;
// Repeated codes a batch redraws before calling its source broken. With 82
// bits a real repeat among 100 000 codes has probability ~1e-15.
inline constexpr size_t voucher_batch_redraws_max = 64;

static_assert(voucher_alphabet.size() == voucher_alphabet_size);
// The check is exact only if the modulus is prime and every weight is a
// non-zero residue.
static_assert(voucher_alphabet_size == 29 && voucher_symbols < voucher_alphabet_size);
// 17 symbols of 29 carry >= 80 bits: 29^17 > 2^82.
static_assert(voucher_random_symbols * 4858 >= 80 * 1000, "log2(29) = 4.858...");
static_assert(voucher_symbols % voucher_group_size == 0);
static_assert(voucher_canonical_size == 20);
static_assert(voucher_qr_prefix.size() + voucher_canonical_size < voucher_input_size_max);

// ---- Randomness -------------------------------------------------------------

// Where random bytes come from. Production uses CsprngSource; tests inject
// deterministic or failing sources to reach the collision and error paths.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Fills all of `out`, or returns false (then nothing may be used).
  virtual bool fill(std::span<uint8_t> out) = 0;
};

// OpenSSL's RAND_bytes (a CSPRNG seeded from the OS), return value checked.
class CsprngSource final : public ByteSource {
 public:
  bool fill(std::span<uint8_t> out) override;
};

// ---- Voucher codes -----------------------------------------------------------

enum class CodeStatus : uint8_t {
  ok = 0,
  rng_failure = 1,  // the random source failed or kept repeating codes
  too_many = 2,     // batch larger than voucher_batch_size_max
  malformed = 3,    // wrong characters, wrong length or wrong check symbol
  io_error = 4,     // secret file unreadable / not writable
  bad_secret = 5,   // secret file content is not 64 hex digits
};
std::string_view code_status_name(CodeStatus status);

// One fresh code in canonical form, or rng_failure.
CodeStatus generate_voucher_code(std::string* code, ByteSource& source);
CodeStatus generate_voucher_code(std::string* code);

// `count` distinct codes (canonical form) appended to `codes`; a code that
// repeats one already in this batch is drawn again.
CodeStatus generate_voucher_codes(size_t count, std::vector<std::string>* codes,
                                  ByteSource& source);
CodeStatus generate_voucher_codes(size_t count, std::vector<std::string>* codes);

// Accepts what people type or scanners read: any case, spaces and hyphens
// anywhere, optionally the QR prefix (any case). Writes the canonical form, or
// returns malformed (also for a wrong check symbol) and leaves `canonical`
// untouched.
CodeStatus normalise_voucher_code(std::string_view input, std::string* canonical);

// The check symbol for 17 symbols (values 0..28). Exposed for tests.
uint8_t voucher_check_value(std::span<const uint8_t, voucher_random_symbols> values);

std::string voucher_qr_payload(std::string_view canonical_code);

// ---- Keyed code hash ----------------------------------------------------------

using CodeSecret = std::array<uint8_t, code_secret_size>;
using CodeHash = std::array<uint8_t, code_hash_size>;

// HMAC-SHA256(secret, canonical code) truncated to 16 bytes. The ledger keeps
// only this: a leaked database does not reveal codes, and without the secret
// the hashes cannot be brute-forced offline even though codes are short.
CodeHash keyed_code_hash(const CodeSecret& secret, std::string_view canonical_code);

CodeStatus generate_code_secret(CodeSecret* secret, ByteSource& source);
// Creates `path` (mode 0600, never overwrites an existing file) holding a fresh
// secret as 64 lower-case hex digits and a newline.
CodeStatus write_new_code_secret_file(const std::string& path, CodeSecret* secret);
// Reads the first line of `path`: exactly 64 hex digits.
CodeStatus load_code_secret_file(const std::string& path, CodeSecret* secret);

}  // namespace coffer::gateway
