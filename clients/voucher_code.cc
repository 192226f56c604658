#include "clients/voucher_code.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstring>
#include <fstream>

#include "core/assert.h"

namespace coffer::client {
namespace {

constexpr uint32_t kMod = voucher_alphabet_size;
// A secret file is read up to this size; its first line is all that counts.
constexpr size_t kSecretFileSizeMax = 4096;

constexpr uint32_t mod_inverse(uint32_t a) {
  for (uint32_t x = 1; x < kMod; ++x) {
    if (a * x % kMod == 1) return x;
  }
  return 0;
}
constexpr uint32_t kCheckWeight = voucher_symbols;  // weight of the check symbol
constexpr uint32_t kCheckWeightInverse = mod_inverse(kCheckWeight % kMod);
static_assert(kCheckWeightInverse != 0 && kCheckWeight * kCheckWeightInverse % kMod == 1);

constexpr uint8_t kInvalid = 0xff;
constexpr std::array<uint8_t, 256> make_decode_table() {
  std::array<uint8_t, 256> table{};
  table.fill(kInvalid);
  for (size_t i = 0; i < voucher_alphabet.size(); ++i) {
    auto upper = static_cast<unsigned char>(voucher_alphabet[i]);
    table[upper] = static_cast<uint8_t>(i);
    if (upper >= 'A' && upper <= 'Z') table[upper - 'A' + 'a'] = static_cast<uint8_t>(i);
  }
  return table;
}
constexpr std::array<uint8_t, 256> kDecode = make_decode_table();
static_assert(kDecode['2'] == 0 && kDecode['Y'] == 28 && kDecode['y'] == 28);
static_assert(kDecode['0'] == kInvalid && kDecode['O'] == kInvalid && kDecode['1'] == kInvalid &&
              kDecode['I'] == kInvalid && kDecode['L'] == kInvalid && kDecode['U'] == kInvalid &&
              kDecode['Z'] == kInvalid);

uint32_t weighted_sum(std::span<const uint8_t, voucher_symbols> symbols) {
  uint32_t sum = 0;
  for (size_t j = 0; j < voucher_symbols; ++j)
    sum += static_cast<uint32_t>(j + 1) * symbols[j];
  return sum % kMod;
}

bool ascii_iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i] >= 'a' && a[i] <= 'z' ? static_cast<char>(a[i] - 'a' + 'A') : a[i];
    char y = b[i] >= 'a' && b[i] <= 'z' ? static_cast<char>(b[i] - 'a' + 'A') : b[i];
    if (x != y) return false;
  }
  return true;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

uint8_t voucher_check_value(std::span<const uint8_t, voucher_random_symbols> values) {
  uint32_t sum = 0;
  for (size_t j = 0; j < voucher_random_symbols; ++j) {
    COFFER_ASSERT(values[j] < kMod);
    sum += static_cast<uint32_t>(j + 1) * values[j];
  }
  // Solve kCheckWeight * c == -sum (mod 29).
  uint32_t check = (kMod - sum % kMod) % kMod * kCheckWeightInverse % kMod;
  return static_cast<uint8_t>(check);
}

std::string format_voucher_code(std::span<const uint8_t, voucher_symbols> values) {
  COFFER_ASSERT(weighted_sum(values) == 0);
  std::string out;
  out.reserve(voucher_canonical_size);
  for (size_t i = 0; i < voucher_symbols; ++i) {
    if (i != 0 && i % voucher_group_size == 0) out.push_back('-');
    COFFER_ASSERT(values[i] < kMod);
    out.push_back(voucher_alphabet[values[i]]);
  }
  COFFER_ASSERT(out.size() == voucher_canonical_size);
  return out;
}

std::optional<std::string> normalise_voucher_code(std::string_view input) {
  if (input.size() > voucher_input_size_max) return std::nullopt;
  // Leading spaces before a scanned QR prefix are tolerated like everywhere else.
  size_t start = input.find_first_not_of(' ');
  if (start == std::string_view::npos) return std::nullopt;
  input.remove_prefix(start);
  if (input.size() >= voucher_qr_prefix.size() &&
      ascii_iequals(input.substr(0, voucher_qr_prefix.size()), voucher_qr_prefix)) {
    input.remove_prefix(voucher_qr_prefix.size());
  }
  std::array<uint8_t, voucher_symbols> symbols;
  size_t n = 0;
  for (char c : input) {
    if (c == ' ' || c == '-') continue;
    uint8_t value = kDecode[static_cast<unsigned char>(c)];
    if (value == kInvalid || n == voucher_symbols) return std::nullopt;
    symbols[n++] = value;
  }
  if (n != voucher_symbols || weighted_sum(symbols) != 0) return std::nullopt;
  return format_voucher_code(symbols);
}

VoucherCodeHash keyed_code_hash(const VoucherSecret& secret, std::string_view canonical_code) {
  std::array<uint8_t, EVP_MAX_MD_SIZE> mac{};
  unsigned int mac_size = 0;
  const unsigned char* result = HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
                                     reinterpret_cast<const unsigned char*>(canonical_code.data()),
                                     canonical_code.size(), mac.data(), &mac_size);
  // HMAC-SHA256 cannot fail on valid arguments; if OpenSSL says otherwise it is broken.
  COFFER_ASSERT(result != nullptr && mac_size == 32);
  VoucherCodeHash hash;
  std::memcpy(hash.data(), mac.data(), hash.size());
  return hash;
}

Id128 voucher_code_id(const VoucherSecret& secret, std::string_view canonical_code) {
  const VoucherCodeHash h = keyed_code_hash(secret, canonical_code);
  Id128 id{};
  for (int i = 7; i >= 0; i--) {
    id.lo = (id.lo << 8) | h[size_t(i)];
    id.hi = (id.hi << 8) | h[size_t(8 + i)];
  }
  return id;
}

Id128 typed_voucher_code_id(const VoucherSecret& secret, std::string_view input) {
  if (auto canonical = normalise_voucher_code(input)) return voucher_code_id(secret, *canonical);
  std::string malformed = "malformed:";
  malformed += input;
  return voucher_code_id(secret, malformed);
}

VoucherSecret voucher_secret_from_token(std::string_view token) {
  static constexpr std::string_view label = "coffer voucher codes";
  static_assert(voucher_code_secret_size == 32, "HMAC-SHA256 gives 32 bytes");
  VoucherSecret secret{};
  unsigned int size = 0;
  const unsigned char* ok = HMAC(EVP_sha256(), token.data(), int(token.size()),
                                 reinterpret_cast<const unsigned char*>(label.data()), label.size(),
                                 secret.data(), &size);
  COFFER_ASSERT(ok != nullptr && size == secret.size());
  return secret;
}

SecretFileStatus load_voucher_secret_file(const std::string& path, VoucherSecret* secret) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return SecretFileStatus::unreadable;
  std::string text(kSecretFileSizeMax, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad()) return SecretFileStatus::unreadable;
  text.resize(static_cast<size_t>(in.gcount()));
  std::string_view line(text);
  line = line.substr(0, line.find('\n'));
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  VoucherSecret parsed;
  bool ok = line.size() == 2 * parsed.size();
  for (size_t i = 0; ok && i < parsed.size(); ++i) {
    int hi = hex_value(line[2 * i]);
    int lo = hex_value(line[2 * i + 1]);
    ok = hi >= 0 && lo >= 0;
    if (ok) parsed[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  OPENSSL_cleanse(text.data(), text.size());
  if (!ok) return SecretFileStatus::malformed;
  *secret = parsed;
  return SecretFileStatus::ok;
}

}  // namespace coffer::client
