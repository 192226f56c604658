// Strict standard Base64 (RFC 4648 §4, with '=' padding) over OpenSSL's
// EVP_EncodeBlock / EVP_DecodeBlock. WeChat Pay sends signatures and
// ciphertexts in this form.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace coffer::gateway {

// Largest input base64_decode accepts; bounds the work per call. Notification
// bodies are capped far below this (see wechatpay.h).
inline constexpr size_t base64_input_size_max = 1 << 20;
static_assert(base64_input_size_max % 4 == 0);

std::string base64_encode(std::span<const uint8_t> bytes);
inline std::string base64_encode(std::string_view bytes) {
  return base64_encode(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
}

// nullopt unless `text` is canonical-length padded Base64 of the standard
// alphabet: length a multiple of 4, no whitespace, '=' only as the last one or
// two characters. (EVP_DecodeBlock alone would skip whitespace and keep the
// padding's zero bytes, so the grammar is checked here first.)
std::optional<std::vector<uint8_t>> base64_decode(std::string_view text);

}  // namespace coffer::gateway
