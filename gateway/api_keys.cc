#include "gateway/api_keys.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <cstdio>
#include <cstdlib>

#include "core/assert.h"

namespace coffer::gateway {
namespace {

constexpr std::string_view kBase32 = "0123456789abcdefghjkmnpqrstvwxyz";
static_assert(kBase32.size() == 32);

bool is_base32_char(char c) {
  return kBase32.find(c) != std::string_view::npos;
}

ApiKeyHash sha256(std::string_view text) {
  // Fetched once: EVP_sha256() makes OpenSSL 3 look the algorithm up per call.
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  ApiKeyHash hash;
  unsigned int size = 0;
  // SHA-256 of an in-memory buffer cannot fail unless OpenSSL is broken.
  int ok = EVP_Digest(text.data(), text.size(), hash.data(), &size, md, nullptr);
  COFFER_ASSERT(ok == 1 && size == hash.size());
  return hash;
}

}  // namespace

bool generate_api_key(std::string* key) {
  std::array<uint8_t, api_key_random_size> random;
  if (RAND_bytes(random.data(), static_cast<int>(random.size())) != 1) return false;
  std::string out;
  out.reserve(api_key_size);
  out.append(api_key_prefix);
  // Big-endian bit stream, 5 bits per character, the last one zero-padded.
  uint32_t buffer = 0;
  int bits = 0;
  for (uint8_t byte : random) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out.push_back(kBase32[(buffer >> bits) & 31]);
    }
  }
  if (bits > 0) out.push_back(kBase32[(buffer << (5 - bits)) & 31]);
  OPENSSL_cleanse(random.data(), random.size());
  COFFER_ASSERT(out.size() == api_key_size);
  *key = std::move(out);
  return true;
}

bool is_well_formed_api_key(std::string_view key) {
  if (key.size() != api_key_size || !key.starts_with(api_key_prefix)) return false;
  for (char c : key.substr(api_key_prefix.size())) {
    if (!is_base32_char(c)) return false;
  }
  return true;
}

ApiKeyHash key_hash(std::string_view key) {
  return sha256(key);
}

std::string key_id(const ApiKeyHash& hash) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(api_key_id_size);
  for (size_t i = 0; out.size() < api_key_id_size; ++i) {
    out.push_back(kHex[hash[i] >> 4]);
    out.push_back(kHex[hash[i] & 0xf]);
  }
  return out;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  ApiKeyHash ha = sha256(a);
  ApiKeyHash hb = sha256(b);
  return CRYPTO_memcmp(ha.data(), hb.data(), ha.size()) == 0;
}

}  // namespace coffer::gateway
