#include "net/ids.h"

#include <openssl/evp.h>

#include <charconv>
#include <cstdlib>
#include <cstring>
#include <string>

namespace coffer::net {
namespace {

// Fetched once: SHA256() and EVP_sha256() look the algorithm up again on every
// call in OpenSSL 3, which costs more than hashing a short id.
const EVP_MD* sha256_md() {
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}

void sha256_of(std::string_view ns, std::string_view id, unsigned char (&digest)[32]) {
  std::string input;
  input.reserve(ns.size() + 1 + id.size());
  input.append(ns).append(":").append(id);
  unsigned int size = 0;
  const int ok = EVP_Digest(input.data(), input.size(), digest, &size, sha256_md(), nullptr);
  if (ok != 1 || size != 32) std::abort();  // only if OpenSSL itself is broken
}

uint64_t load_le64(const unsigned char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--)
    v = (v << 8) | p[i];
  return v;
}

}  // namespace

Id128 id_from_string(std::string_view ns, std::string_view id) {
  unsigned char digest[32];
  sha256_of(ns, id, digest);
  return Id128{load_le64(digest), load_le64(digest + 8)};
}

uint64_t account_id_from_string(std::string_view id) {
  uint64_t number = 0;
  const char* end = id.data() + id.size();
  if (!id.empty() && id.size() <= 20 && id[0] != '0') {
    auto [ptr, ec] = std::from_chars(id.data(), end, number);
    if (ec == std::errc() && ptr == end && number != 0) return number;
  }
  unsigned char digest[32];
  sha256_of("account", id, digest);
  return (load_le64(digest) & ~(uint64_t{1} << 63)) | (uint64_t{1} << 62);
}

}  // namespace coffer::net
