#include "gateway/codes.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <unistd.h>

#include <climits>
#include <unordered_set>

namespace coffer::gateway {
namespace {

constexpr uint32_t kMod = voucher_alphabet_size;
// Bytes at or above this are rejected so that byte % 29 is exactly uniform.
constexpr uint32_t kByteLimit = 256 / kMod * kMod;  // 232
static_assert(kByteLimit == 232);

// Hands out uniform symbols from a ByteSource, reading it in large blocks so a
// batch of 100 000 codes makes a few hundred RAND_bytes calls, not millions.
class SymbolReader {
 public:
  explicit SymbolReader(ByteSource& source) : source_(source) {}
  ~SymbolReader() { OPENSSL_cleanse(buffer_.data(), buffer_.size()); }
  SymbolReader(const SymbolReader&) = delete;
  SymbolReader& operator=(const SymbolReader&) = delete;

  bool next(uint8_t* symbol) {
    for (int tries = 0; tries < voucher_rejections_max; ++tries) {
      if (pos_ == buffer_.size()) {
        if (!source_.fill(buffer_)) return false;
        pos_ = 0;
      }
      uint8_t byte = buffer_[pos_++];
      if (byte < kByteLimit) {
        *symbol = static_cast<uint8_t>(byte % kMod);
        return true;
      }
    }
    return false;
  }

 private:
  ByteSource& source_;
  std::array<uint8_t, 4096> buffer_{};
  size_t pos_ = buffer_.size();
};

using Symbols = std::array<uint8_t, voucher_symbols>;

bool draw_symbols(SymbolReader& reader, Symbols* symbols) {
  for (size_t i = 0; i < voucher_random_symbols; ++i) {
    if (!reader.next(&(*symbols)[i])) return false;
  }
  (*symbols)[voucher_random_symbols] = voucher_check_value(
      std::span<const uint8_t, voucher_random_symbols>(symbols->data(), voucher_random_symbols));
  return true;
}

// 17 symbols of 5 bits packed into 85 bits: the batch's duplicate key.
struct PackedCode {
  uint64_t lo = 0;
  uint64_t hi = 0;
  bool operator==(const PackedCode&) const = default;
};
struct PackedCodeHash {
  size_t operator()(const PackedCode& c) const {
    return static_cast<size_t>(c.lo ^ (c.hi * 0x9e3779b97f4a7c15ull));
  }
};
PackedCode pack(const Symbols& symbols) {
  PackedCode packed;
  for (size_t i = 0; i < voucher_random_symbols; ++i) {
    if (i < 12) {
      packed.lo |= static_cast<uint64_t>(symbols[i]) << (5 * i);
    } else {
      packed.hi |= static_cast<uint64_t>(symbols[i]) << (5 * (i - 12));
    }
  }
  return packed;
}

}  // namespace

std::string_view code_status_name(CodeStatus status) {
  switch (status) {
    case CodeStatus::ok:
      return "ok";
    case CodeStatus::rng_failure:
      return "random source failed";
    case CodeStatus::too_many:
      return "batch larger than voucher_batch_size_max";
    case CodeStatus::malformed:
      return "malformed voucher code";
    case CodeStatus::io_error:
      return "secret file unreadable or not writable";
    case CodeStatus::bad_secret:
      return "secret file must hold 64 hex digits on its first line";
  }
  return "unknown";
}

bool CsprngSource::fill(std::span<uint8_t> out) {
  // RAND_bytes takes an int; SymbolReader asks for 4 KiB at a time.
  if (out.size() > static_cast<size_t>(INT_MAX)) return false;
  return RAND_bytes(out.data(), static_cast<int>(out.size())) == 1;
}

CodeStatus generate_voucher_code(std::string* code, ByteSource& source) {
  SymbolReader reader(source);
  Symbols symbols;
  if (!draw_symbols(reader, &symbols)) return CodeStatus::rng_failure;
  *code = client::format_voucher_code(symbols);
  return CodeStatus::ok;
}

CodeStatus generate_voucher_code(std::string* code) {
  CsprngSource source;
  return generate_voucher_code(code, source);
}

CodeStatus generate_voucher_codes(size_t count, std::vector<std::string>* codes,
                                  ByteSource& source) {
  if (count > voucher_batch_size_max) return CodeStatus::too_many;
  SymbolReader reader(source);
  std::unordered_set<PackedCode, PackedCodeHash> seen;
  seen.reserve(count);
  std::vector<std::string> fresh;
  fresh.reserve(count);
  size_t redraws = 0;
  while (fresh.size() < count) {
    Symbols symbols;
    if (!draw_symbols(reader, &symbols)) return CodeStatus::rng_failure;
    if (!seen.insert(pack(symbols)).second) {
      if (++redraws > voucher_batch_redraws_max) return CodeStatus::rng_failure;
      continue;
    }
    fresh.push_back(client::format_voucher_code(symbols));
  }
  codes->reserve(codes->size() + fresh.size());
  for (auto& code : fresh)
    codes->push_back(std::move(code));
  return CodeStatus::ok;
}

CodeStatus generate_voucher_codes(size_t count, std::vector<std::string>* codes) {
  CsprngSource source;
  return generate_voucher_codes(count, codes, source);
}

std::string voucher_qr_payload(std::string_view canonical_code) {
  std::string out;
  out.reserve(voucher_qr_prefix.size() + canonical_code.size());
  out.append(voucher_qr_prefix);
  out.append(canonical_code);
  return out;
}

CodeStatus generate_code_secret(CodeSecret* secret, ByteSource& source) {
  if (!source.fill(*secret)) return CodeStatus::rng_failure;
  return CodeStatus::ok;
}

CodeStatus write_new_code_secret_file(const std::string& path, CodeSecret* secret) {
  CsprngSource source;
  if (generate_code_secret(secret, source) != CodeStatus::ok) return CodeStatus::rng_failure;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string text;
  for (uint8_t b : *secret) {
    text.push_back(kHex[b >> 4]);
    text.push_back(kHex[b & 0xf]);
  }
  text.push_back('\n');
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return CodeStatus::io_error;
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ok = ::fsync(fd) == 0 && ok;
  ok = ::close(fd) == 0 && ok;
  OPENSSL_cleanse(text.data(), text.size());
  return ok ? CodeStatus::ok : CodeStatus::io_error;
}

CodeStatus load_code_secret_file(const std::string& path, CodeSecret* secret) {
  switch (client::load_voucher_secret_file(path, secret)) {
    case client::SecretFileStatus::ok:
      return CodeStatus::ok;
    case client::SecretFileStatus::unreadable:
      return CodeStatus::io_error;
    case client::SecretFileStatus::malformed:
      return CodeStatus::bad_secret;
  }
  return CodeStatus::bad_secret;
}

}  // namespace coffer::gateway
