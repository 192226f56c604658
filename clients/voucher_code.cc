#include "clients/voucher_code.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <fstream>

#include "core/assert.h"

namespace coffer::client {
namespace {

constexpr std::string_view alphabet = "23456789ABCDEFGHJKMNPQRSTVWXY";
constexpr uint32_t modulus = 29;
constexpr size_t symbols_count = 18;  // 17 random + 1 check
constexpr size_t group_size = 6;
constexpr std::string_view qr_prefix = "COFFER:V1:";
constexpr uint8_t invalid = 0xff;
static_assert(alphabet.size() == modulus);

uint8_t decode(char c) {
  if (c >= 'a' && c <= 'z') c = char(c - 'a' + 'A');
  const size_t at = alphabet.find(c);
  return at == std::string_view::npos ? invalid : uint8_t(at);
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); i++) {
    char x = a[i];
    if (x >= 'a' && x <= 'z') x = char(x - 'a' + 'A');
    if (x != b[i]) return false;
  }
  return true;
}

Id128 hash_id(const VoucherSecret& secret, std::string_view text) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_size = 0;
  const unsigned char* ok =
      HMAC(EVP_sha256(), secret.data(), int(secret.size()),
           reinterpret_cast<const unsigned char*>(text.data()), text.size(), mac, &mac_size);
  COFFER_ASSERT(ok != nullptr && mac_size == 32);
  // gateway code_id: bytes 0..7 little-endian = lo, 8..15 = hi.
  Id128 id{};
  for (int i = 7; i >= 0; i--) {
    id.lo = (id.lo << 8) | mac[i];
    id.hi = (id.hi << 8) | mac[8 + i];
  }
  return id;
}

}  // namespace

std::optional<std::string> normalise_voucher_code(std::string_view input) {
  if (input.size() > voucher_input_size_max) return std::nullopt;
  const size_t start = input.find_first_not_of(' ');
  if (start == std::string_view::npos) return std::nullopt;
  input.remove_prefix(start);
  if (input.size() >= qr_prefix.size() && iequals(input.substr(0, qr_prefix.size()), qr_prefix)) {
    input.remove_prefix(qr_prefix.size());
  }
  uint8_t symbols[symbols_count];
  size_t n = 0;
  for (char c : input) {
    if (c == ' ' || c == '-') continue;
    const uint8_t v = decode(c);
    if (v == invalid || n == symbols_count) return std::nullopt;
    symbols[n++] = v;
  }
  if (n != symbols_count) return std::nullopt;
  uint32_t sum = 0;
  for (size_t j = 0; j < symbols_count; j++)
    sum += uint32_t(j + 1) * symbols[j];
  if (sum % modulus != 0) return std::nullopt;
  std::string out;
  for (size_t i = 0; i < symbols_count; i++) {
    if (i != 0 && i % group_size == 0) out.push_back('-');
    out.push_back(alphabet[symbols[i]]);
  }
  return out;
}

VoucherSecret voucher_secret_from_token(std::string_view token) {
  static constexpr std::string_view label = "coffer voucher codes";
  VoucherSecret secret{};
  unsigned int size = 0;
  const unsigned char* ok = HMAC(EVP_sha256(), token.data(), int(token.size()),
                                 reinterpret_cast<const unsigned char*>(label.data()), label.size(),
                                 secret.data(), &size);
  COFFER_ASSERT(ok != nullptr && size == secret.size());
  return secret;
}

std::optional<VoucherSecret> load_voucher_secret_file(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) return std::nullopt;
  while (!line.empty() && (line.back() == '\r' || line.back() == ' '))
    line.pop_back();
  if (line.size() != 2 * voucher_code_secret_size) return std::nullopt;
  VoucherSecret secret{};
  for (size_t i = 0; i < line.size(); i++) {
    const char c = line[i];
    int v = -1;
    if (c >= '0' && c <= '9') v = c - '0';
    if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
    if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
    if (v < 0) return std::nullopt;
    secret[i / 2] = uint8_t(secret[i / 2] << 4 | v);
  }
  return secret;
}

Id128 typed_voucher_code_id(const VoucherSecret& secret, std::string_view input) {
  if (auto canonical = normalise_voucher_code(input)) return hash_id(secret, *canonical);
  std::string malformed = "malformed:";
  malformed += input;
  return hash_id(secret, malformed);
}

}  // namespace coffer::client
