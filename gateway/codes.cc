#include "gateway/codes.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <unordered_set>

#include "core/assert.h"

namespace coffer::gateway {
namespace {

constexpr uint32_t kMod = voucher_alphabet_size;
// Bytes at or above this are rejected so that byte % 29 is exactly uniform.
constexpr uint32_t kByteLimit = 256 / kMod * kMod;  // 232
static_assert(kByteLimit == 232);

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

uint32_t weighted_sum(const Symbols& symbols) {
  uint32_t sum = 0;
  for (size_t j = 0; j < voucher_symbols; ++j)
    sum += static_cast<uint32_t>(j + 1) * symbols[j];
  return sum % kMod;
}

std::string format_canonical(const Symbols& symbols) {
  COFFER_ASSERT(weighted_sum(symbols) == 0);
  std::string out;
  out.reserve(voucher_canonical_size);
  for (size_t i = 0; i < voucher_symbols; ++i) {
    if (i != 0 && i % voucher_group_size == 0) out.push_back('-');
    COFFER_ASSERT(symbols[i] < kMod);
    out.push_back(voucher_alphabet[symbols[i]]);
  }
  COFFER_ASSERT(out.size() == voucher_canonical_size);
  return out;
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

CodeStatus generate_voucher_code(std::string* code, ByteSource& source) {
  SymbolReader reader(source);
  Symbols symbols;
  if (!draw_symbols(reader, &symbols)) return CodeStatus::rng_failure;
  *code = format_canonical(symbols);
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
    fresh.push_back(format_canonical(symbols));
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

CodeStatus normalise_voucher_code(std::string_view input, std::string* canonical) {
  if (input.size() > voucher_input_size_max) return CodeStatus::malformed;
  // Leading spaces before a scanned QR prefix are tolerated like everywhere else.
  size_t start = input.find_first_not_of(' ');
  if (start == std::string_view::npos) return CodeStatus::malformed;
  input.remove_prefix(start);
  if (input.size() >= voucher_qr_prefix.size() &&
      ascii_iequals(input.substr(0, voucher_qr_prefix.size()), voucher_qr_prefix)) {
    input.remove_prefix(voucher_qr_prefix.size());
  }
  Symbols symbols;
  size_t n = 0;
  for (char c : input) {
    if (c == ' ' || c == '-') continue;
    uint8_t value = kDecode[static_cast<unsigned char>(c)];
    if (value == kInvalid || n == voucher_symbols) return CodeStatus::malformed;
    symbols[n++] = value;
  }
  if (n != voucher_symbols || weighted_sum(symbols) != 0) return CodeStatus::malformed;
  *canonical = format_canonical(symbols);
  return CodeStatus::ok;
}

std::string voucher_qr_payload(std::string_view canonical_code) {
  std::string out;
  out.reserve(voucher_qr_prefix.size() + canonical_code.size());
  out.append(voucher_qr_prefix);
  out.append(canonical_code);
  return out;
}

CodeHash keyed_code_hash(const CodeSecret& secret, std::string_view canonical_code) {
  std::array<uint8_t, EVP_MAX_MD_SIZE> mac{};
  unsigned int mac_size = 0;
  const unsigned char* result = HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
                                     reinterpret_cast<const unsigned char*>(canonical_code.data()),
                                     canonical_code.size(), mac.data(), &mac_size);
  // HMAC-SHA256 cannot fail on valid arguments; if OpenSSL says otherwise it is broken.
  COFFER_ASSERT(result != nullptr && mac_size == 32);
  CodeHash hash;
  std::memcpy(hash.data(), mac.data(), hash.size());
  return hash;
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
  std::ifstream in(path, std::ios::binary);
  if (!in) return CodeStatus::io_error;
  std::string text(code_secret_file_size_max, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad()) return CodeStatus::io_error;
  text.resize(static_cast<size_t>(in.gcount()));
  std::string_view line(text);
  line = line.substr(0, line.find('\n'));
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  CodeSecret parsed;
  bool ok = line.size() == 2 * parsed.size();
  for (size_t i = 0; ok && i < parsed.size(); ++i) {
    int hi = hex_value(line[2 * i]);
    int lo = hex_value(line[2 * i + 1]);
    ok = hi >= 0 && lo >= 0;
    if (ok) parsed[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  OPENSSL_cleanse(text.data(), text.size());
  if (!ok) return CodeStatus::bad_secret;
  *secret = parsed;
  return CodeStatus::ok;
}

}  // namespace coffer::gateway
