// Voucher codes (SPEC V1/V3/V5): generation, QR payloads and the secret file.
// The format, the check symbol, the canonical form and the keyed hash live in
// clients/voucher_code.h, one copy for the gateway and the CLI.
//
// A code is 17 random symbols (17 * log2(29) = 82.6 bits from RAND_bytes, by
// rejection sampling so every symbol is uniform) followed by one check symbol.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "clients/voucher_code.h"

namespace coffer::gateway {

// ---- Limits and format constants -------------------------------------------

// The format, from clients/voucher_code.h.
using client::keyed_code_hash;
using client::normalise_voucher_code;
using client::voucher_alphabet;
using client::voucher_alphabet_size;
using client::voucher_canonical_size;
using client::voucher_check_value;
using client::voucher_input_size_max;
using client::voucher_qr_prefix;
using client::voucher_random_symbols;
using client::voucher_symbols;
using CodeSecret = client::VoucherSecret;
using CodeHash = client::VoucherCodeHash;

inline constexpr size_t voucher_batch_size_max = 100'000;  // SPEC V1
// A CSPRNG rejects this many bytes in a row (each with probability 24/256)
// essentially never; a source that does is broken.
inline constexpr int voucher_rejections_max = 1000;
// Repeated codes a batch redraws before calling its source broken. With 82
// bits a real repeat among 100 000 codes has probability ~1e-15.
inline constexpr size_t voucher_batch_redraws_max = 64;

// 17 symbols of 29 carry >= 80 bits: 29^17 > 2^82.
static_assert(voucher_random_symbols * 4858 >= 80 * 1000, "log2(29) = 4.858...");

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

std::string voucher_qr_payload(std::string_view canonical_code);

// ---- The keyed hash's secret -------------------------------------------------

CodeStatus generate_code_secret(CodeSecret* secret, ByteSource& source);
// Creates `path` (mode 0600, never overwrites an existing file) holding a fresh
// secret as 64 lower-case hex digits and a newline.
CodeStatus write_new_code_secret_file(const std::string& path, CodeSecret* secret);
// client::load_voucher_secret_file with the gateway's statuses (io_error,
// bad_secret).
CodeStatus load_code_secret_file(const std::string& path, CodeSecret* secret);

}  // namespace coffer::gateway
