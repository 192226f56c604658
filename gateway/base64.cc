#include "gateway/base64.h"

#include <openssl/evp.h>

#include <cstdio>
#include <cstdlib>

#include "core/assert.h"

namespace coffer::gateway {
namespace {

bool is_base64_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

}  // namespace

std::string base64_encode(std::span<const uint8_t> bytes) {
  if (bytes.empty()) return {};
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');  // +1: EVP writes a NUL
  // EVP_EncodeBlock takes an int length; callers never come near 2 GiB.
  COFFER_ASSERT(bytes.size() <= base64_input_size_max * 3);
  int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes.data(),
                                static_cast<int>(bytes.size()));
  COFFER_ASSERT(written >= 0 && static_cast<size_t>(written) == out.size() - 1);
  out.resize(static_cast<size_t>(written));
  return out;
}

std::optional<std::vector<uint8_t>> base64_decode(std::string_view text) {
  if (text.size() > base64_input_size_max || text.size() % 4 != 0) return std::nullopt;
  if (text.empty()) return std::vector<uint8_t>{};
  size_t padding = 0;
  if (text.back() == '=') padding = text[text.size() - 2] == '=' ? 2 : 1;
  for (size_t i = 0; i < text.size() - padding; ++i) {
    if (!is_base64_char(text[i])) return std::nullopt;
  }
  std::vector<uint8_t> out(text.size() / 4 * 3);
  int written = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (written < 0) return std::nullopt;
  COFFER_ASSERT(static_cast<size_t>(written) == out.size());
  out.resize(out.size() - padding);  // EVP_DecodeBlock decodes padding as zero bytes
  return out;
}

}  // namespace coffer::gateway
