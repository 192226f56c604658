// Voucher codes, the keyed code hash, and API keys.
#include "gateway/codes.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <set>
#include <unordered_set>

#include "gateway/api_keys.h"

namespace coffer::gateway {
namespace {

// ---- Helpers -------------------------------------------------------------------

using Symbols = std::vector<uint8_t>;

int symbol_value(char c) {
  size_t i = voucher_alphabet.find(c);
  return i == std::string_view::npos ? -1 : static_cast<int>(i);
}

// The 18 symbol values of a canonical code.
Symbols symbols_of(std::string_view canonical) {
  Symbols out;
  for (char c : canonical) {
    if (c == '-') continue;
    int v = symbol_value(c);
    EXPECT_GE(v, 0) << c;
    out.push_back(static_cast<uint8_t>(v));
  }
  return out;
}

std::string text_of(const Symbols& symbols) {
  std::string out;
  for (uint8_t v : symbols)
    out.push_back(voucher_alphabet[v]);
  return out;
}

// Sets the check symbol of 18 values from the first 17.
void fix_check(Symbols& s) {
  s[voucher_random_symbols] = voucher_check_value(
      std::span<const uint8_t, voucher_random_symbols>(s.data(), voucher_random_symbols));
}

bool accepted(const Symbols& s) {
  return normalise_voucher_code(text_of(s)).has_value();
}

std::vector<std::string> sample_codes(size_t n) {
  std::vector<std::string> codes;
  EXPECT_EQ(generate_voucher_codes(n, &codes), CodeStatus::ok);
  return codes;
}

// Bytes from a function of the position in the stream.
class FunctionSource final : public ByteSource {
 public:
  explicit FunctionSource(std::function<uint8_t(uint64_t)> f) : f_(std::move(f)) {}
  bool fill(std::span<uint8_t> out) override {
    for (uint8_t& b : out)
      b = f_(pos_++);
    ++fills_;
    return true;
  }
  int fills_ = 0;

 private:
  std::function<uint8_t(uint64_t)> f_;
  uint64_t pos_ = 0;
};

class FailingSource final : public ByteSource {
 public:
  bool fill(std::span<uint8_t>) override { return false; }
};

// ---- Alphabet and format ---------------------------------------------------------

TEST(VoucherCode, AlphabetHasNoLookAlikes) {
  EXPECT_EQ(voucher_alphabet.size(), 29u);
  std::set<char> unique(voucher_alphabet.begin(), voucher_alphabet.end());
  EXPECT_EQ(unique.size(), voucher_alphabet.size());
  for (char c : std::string_view("0O1ILUZ")) {
    EXPECT_EQ(voucher_alphabet.find(c), std::string_view::npos) << c;
  }
  for (char c : voucher_alphabet) {
    EXPECT_TRUE((c >= '2' && c <= '9') || (c >= 'A' && c <= 'Z')) << c;
  }
}

TEST(VoucherCode, CanonicalShape) {
  for (const std::string& code : sample_codes(200)) {
    ASSERT_EQ(code.size(), voucher_canonical_size) << code;
    for (size_t i = 0; i < code.size(); ++i) {
      if (i % 7 == 6) {
        EXPECT_EQ(code[i], '-') << code;
      } else {
        EXPECT_GE(symbol_value(code[i]), 0) << code;
      }
    }
    // The documented check: sum of j * d_j over j = 1..18 is 0 mod 29.
    Symbols s = symbols_of(code);
    ASSERT_EQ(s.size(), voucher_symbols);
    uint32_t sum = 0;
    for (size_t j = 0; j < s.size(); ++j)
      sum += static_cast<uint32_t>(j + 1) * s[j];
    EXPECT_EQ(sum % 29, 0u) << code;
    EXPECT_EQ(normalise_voucher_code(code), code);
  }
}

TEST(VoucherCode, SingleCodeFromCsprng) {
  std::string a, b;
  ASSERT_EQ(generate_voucher_code(&a), CodeStatus::ok);
  ASSERT_EQ(generate_voucher_code(&b), CodeStatus::ok);
  EXPECT_NE(a, b);
  EXPECT_EQ(normalise_voucher_code(a), a);
}

// ---- Check symbol -----------------------------------------------------------------

TEST(VoucherCheck, CatchesEverySingleSubstitution) {
  for (const std::string& code : sample_codes(40)) {
    Symbols s = symbols_of(code);
    ASSERT_TRUE(accepted(s));
    for (size_t pos = 0; pos < voucher_symbols; ++pos) {
      for (uint8_t v = 0; v < voucher_alphabet_size; ++v) {
        if (v == s[pos]) continue;
        Symbols t = s;
        t[pos] = v;
        EXPECT_FALSE(accepted(t)) << code << " pos " << pos << " -> " << voucher_alphabet[v];
      }
    }
  }
}

// Exhaustive over every position pair and every ordered pair of distinct
// symbols: the change in the sum does not depend on the other symbols, so one
// random background per case covers them all.
TEST(VoucherCheck, CatchesEveryAdjacentTransposition) {
  std::vector<std::string> backgrounds = sample_codes(4);
  size_t cases = 0;
  for (size_t pos = 0; pos + 1 < voucher_random_symbols; ++pos) {
    for (uint8_t a = 0; a < voucher_alphabet_size; ++a) {
      for (uint8_t b = 0; b < voucher_alphabet_size; ++b) {
        if (a == b) continue;
        Symbols s = symbols_of(backgrounds[(a + b) % backgrounds.size()]);
        s[pos] = a;
        s[pos + 1] = b;
        fix_check(s);
        ASSERT_TRUE(accepted(s));
        std::swap(s[pos], s[pos + 1]);
        EXPECT_FALSE(accepted(s)) << "pos " << pos << " " << int(a) << "," << int(b);
        ++cases;
      }
    }
  }
  // The last random symbol and the check symbol, which it determines.
  Symbols s = symbols_of(backgrounds[0]);
  for (uint8_t a = 0; a < voucher_alphabet_size; ++a) {
    s[voucher_random_symbols - 1] = a;
    fix_check(s);
    if (s[voucher_random_symbols - 1] == s[voucher_random_symbols]) continue;
    Symbols t = s;
    std::swap(t[voucher_random_symbols - 1], t[voucher_random_symbols]);
    EXPECT_FALSE(accepted(t)) << int(a);
    ++cases;
  }
  EXPECT_GT(cases, 16u * 29 * 28);
}

TEST(VoucherCheck, CatchesJumpTranspositions) {
  for (const std::string& code : sample_codes(40)) {
    Symbols s = symbols_of(code);
    for (size_t pos = 0; pos + 2 < voucher_symbols; ++pos) {
      if (s[pos] == s[pos + 2]) continue;
      Symbols t = s;
      std::swap(t[pos], t[pos + 2]);
      EXPECT_FALSE(accepted(t)) << code << " pos " << pos;
    }
  }
}

// ---- Normaliser -------------------------------------------------------------------

TEST(VoucherNormalise, AcceptsFormattingVariants) {
  const std::string code = sample_codes(1)[0];
  std::string bare;
  for (char c : code) {
    if (c != '-') bare.push_back(c);
  }
  std::string lower = code;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](char c) {
    return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  });
  std::string spaced;
  for (size_t i = 0; i < bare.size(); ++i) {
    if (i != 0 && i % 3 == 0) spaced += ' ';
    spaced += bare[i];
  }
  std::string mixed = bare;
  for (size_t i = 0; i < mixed.size(); i += 2) {
    if (mixed[i] >= 'A' && mixed[i] <= 'Z') mixed[i] = static_cast<char>(mixed[i] - 'A' + 'a');
  }
  const std::string variants[] = {
      code,
      bare,
      lower,
      spaced,
      mixed,
      "  " + code + "  ",
      "-" + bare + "-",
      "--" + code,
      std::string(voucher_qr_prefix) + code,
      "coffer:v1:" + lower,
      "Coffer:V1:" + spaced,
      " COFFER:V1: " + bare,
  };
  for (const std::string& v : variants) {
    EXPECT_EQ(normalise_voucher_code(v), code) << "'" << v << "'";
  }
}

TEST(VoucherNormalise, RejectsMalformed) {
  const std::string code = sample_codes(1)[0];
  std::string bare;
  for (char c : code) {
    if (c != '-') bare.push_back(c);
  }
  Symbols s = symbols_of(code);
  s.back() = static_cast<uint8_t>((s.back() + 1) % voucher_alphabet_size);
  const std::string wrong_check = text_of(s);

  std::vector<std::string> bad = {
      "",
      "   ",
      "---",
      bare.substr(0, 17),
      bare + "2",
      wrong_check,
      bare.substr(0, 17) + "\t",
      "\n" + bare,
      bare + "\n",
      "coffer:v2:" + bare,
      "coffer:v1:coffer:v1:" + bare,
      bare + "coffer:v1:",
      "coffer:" + bare,
      code + std::string(voucher_input_size_max - code.size() + 1, ' '),
      "\xef\xbc\x92" + bare.substr(1),  // full-width digit two
  };
  for (char c : std::string_view("0O1ILUZoiluz_.,/+:")) {
    std::string t = bare;
    t[5] = c;
    bad.push_back(t);
  }
  for (const std::string& b : bad) {
    EXPECT_EQ(normalise_voucher_code(b), std::nullopt) << "'" << b << "'";
  }
  // Right at the input limit is still fine.
  std::string padded = code + std::string(voucher_input_size_max - code.size(), ' ');
  EXPECT_EQ(normalise_voucher_code(padded), code);
}

TEST(VoucherQr, RoundTrip) {
  for (const std::string& code : sample_codes(100)) {
    std::string qr = voucher_qr_payload(code);
    EXPECT_EQ(qr.rfind(voucher_qr_prefix, 0), 0u) << qr;
    // QR alphanumeric mode: 0-9, A-Z, space and $%*+-./:
    for (char c : qr) {
      bool alnum_mode = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
                        std::string_view(" $%*+-./:").find(c) != std::string_view::npos;
      EXPECT_TRUE(alnum_mode) << qr;
    }
    EXPECT_EQ(normalise_voucher_code(qr), code) << qr;
  }
}

// ---- Batches ---------------------------------------------------------------------

TEST(VoucherBatch, HundredThousandUniqueAndUniform) {
  std::vector<std::string> codes;
  ASSERT_EQ(generate_voucher_codes(voucher_batch_size_max, &codes), CodeStatus::ok);
  ASSERT_EQ(codes.size(), voucher_batch_size_max);
  std::unordered_set<std::string> unique(codes.begin(), codes.end());
  EXPECT_EQ(unique.size(), codes.size());

  // Symbol counts per position. Chi-square with 28 degrees of freedom has mean
  // 28 and standard deviation 7.5; 100 is ~10 sigma, so only a real bias (or a
  // broken rejection sampler: `byte % 29` without it skews by ~11%) fails.
  std::vector<std::array<uint64_t, 29>> counts(voucher_symbols);
  std::array<uint64_t, 29> all{};
  for (const std::string& code : codes) {
    Symbols s = symbols_of(code);
    for (size_t pos = 0; pos < s.size(); ++pos) {
      ++counts[pos][s[pos]];
      if (pos < voucher_random_symbols) ++all[s[pos]];
    }
  }
  auto chi_square = [](const std::array<uint64_t, 29>& c) {
    double total = 0;
    for (uint64_t x : c)
      total += static_cast<double>(x);
    double expected = total / 29.0;
    double chi = 0;
    for (uint64_t x : c)
      chi += (static_cast<double>(x) - expected) * (static_cast<double>(x) - expected) / expected;
    return chi;
  };
  for (size_t pos = 0; pos < voucher_symbols; ++pos) {
    EXPECT_LT(chi_square(counts[pos]), 100.0) << "position " << pos;
  }
  EXPECT_LT(chi_square(all), 100.0);
  for (uint64_t x : all)
    EXPECT_GT(x, 0u);
}

TEST(VoucherBatch, Limits) {
  std::vector<std::string> codes = {"keep"};
  EXPECT_EQ(generate_voucher_codes(voucher_batch_size_max + 1, &codes), CodeStatus::too_many);
  EXPECT_EQ(codes.size(), 1u);
  EXPECT_EQ(generate_voucher_codes(0, &codes), CodeStatus::ok);
  EXPECT_EQ(codes.size(), 1u);
  EXPECT_EQ(generate_voucher_codes(3, &codes), CodeStatus::ok);
  ASSERT_EQ(codes.size(), 4u);
  EXPECT_EQ(codes[0], "keep");  // appends
}

// Rejection sampling: bytes >= 232 are skipped, the rest taken mod 29.
TEST(VoucherBatch, RejectionSamplingFromAKnownStream) {
  const uint8_t stream[] = {231, 232, 255, 0, 28, 29, 57, 58, 240, 100,
                            200, 1,   2,   3, 4,  5,  6,  7,  8,   9};
  FunctionSource source([&](uint64_t pos) { return stream[pos % std::size(stream)]; });
  std::string code;
  ASSERT_EQ(generate_voucher_code(&code, source), CodeStatus::ok);
  Symbols expected;
  for (uint8_t b : stream) {
    if (b < 232 && expected.size() < voucher_random_symbols) expected.push_back(b % 29);
  }
  ASSERT_EQ(expected.size(), voucher_random_symbols);
  Symbols got = symbols_of(code);
  got.pop_back();
  EXPECT_EQ(got, expected);
}

TEST(VoucherBatch, RepeatedCodesAreDrawnAgain) {
  // Codes k = 0, 1, 2, ... of the stream: code 1 repeats code 0, then all differ.
  auto symbol = [](uint64_t pos) -> uint8_t {
    uint64_t k = pos / voucher_random_symbols;
    uint64_t i = pos % voucher_random_symbols;
    if (k == 1) k = 0;
    return static_cast<uint8_t>((k * 7 + i * (k + 1)) % 29);
  };
  FunctionSource source(symbol);
  std::vector<std::string> codes;
  ASSERT_EQ(generate_voucher_codes(3, &codes, source), CodeStatus::ok);
  ASSERT_EQ(codes.size(), 3u);
  EXPECT_EQ(std::set<std::string>(codes.begin(), codes.end()).size(), 3u);
  auto code_at = [&](uint64_t k) {
    Symbols s(voucher_symbols);
    for (size_t i = 0; i < voucher_random_symbols; ++i)
      s[i] = symbol(k * voucher_random_symbols + i);
    fix_check(s);
    std::optional<std::string> canonical = normalise_voucher_code(text_of(s));
    EXPECT_TRUE(canonical);
    return canonical.value_or("");
  };
  EXPECT_EQ(codes[0], code_at(0));
  EXPECT_EQ(codes[1], code_at(2));  // code 1 was the duplicate
  EXPECT_EQ(codes[2], code_at(3));
}

TEST(VoucherBatch, BrokenSourcesFail) {
  FailingSource failing;
  std::string code = "untouched";
  EXPECT_EQ(generate_voucher_code(&code, failing), CodeStatus::rng_failure);
  EXPECT_EQ(code, "untouched");
  std::vector<std::string> codes;
  EXPECT_EQ(generate_voucher_codes(10, &codes, failing), CodeStatus::rng_failure);
  EXPECT_TRUE(codes.empty());

  FunctionSource constant([](uint64_t) { return uint8_t{0}; });  // one code forever
  EXPECT_EQ(generate_voucher_codes(2, &codes, constant), CodeStatus::rng_failure);
  EXPECT_TRUE(codes.empty());

  FunctionSource rejected([](uint64_t) { return uint8_t{250}; });  // never a symbol
  EXPECT_EQ(generate_voucher_code(&code, rejected), CodeStatus::rng_failure);
}

// ---- Keyed hash and its secret ------------------------------------------------------

CodeSecret secret_of(uint8_t seed) {
  CodeSecret s;
  for (size_t i = 0; i < s.size(); ++i)
    s[i] = static_cast<uint8_t>(seed * 31 + i);
  return s;
}

TEST(CodeHash, DependsOnSecretAndCode) {
  std::vector<std::string> codes = sample_codes(2);
  CodeSecret k1 = secret_of(1), k2 = secret_of(2);
  EXPECT_EQ(keyed_code_hash(k1, codes[0]), keyed_code_hash(k1, codes[0]));
  EXPECT_NE(keyed_code_hash(k1, codes[0]), keyed_code_hash(k2, codes[0]));
  EXPECT_NE(keyed_code_hash(k1, codes[0]), keyed_code_hash(k1, codes[1]));
  CodeSecret k1b = k1;
  k1b[31] ^= 1;
  EXPECT_NE(keyed_code_hash(k1, codes[0]), keyed_code_hash(k1b, codes[0]));
}

TEST(CodeHash, IsTruncatedHmacSha256) {
  const std::string code = sample_codes(1)[0];
  const CodeSecret k = secret_of(7);
  unsigned char full[32];
  size_t size = 0;
  ASSERT_NE(EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, k.data(), k.size(),
                      reinterpret_cast<const unsigned char*>(code.data()), code.size(), full,
                      sizeof full, &size),
            nullptr);
  ASSERT_EQ(size, 32u);
  CodeHash h = keyed_code_hash(k, code);
  EXPECT_EQ(std::memcmp(h.data(), full, h.size()), 0);
}

class CodeSecretFile : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/coffer_codes_XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string path(const char* name) const { return (dir_ / name).string(); }
  std::filesystem::path dir_;
};

TEST_F(CodeSecretFile, WriteThenLoad) {
  CodeSecret written{}, loaded{}, again{};
  ASSERT_EQ(write_new_code_secret_file(path("secret"), &written), CodeStatus::ok);
  struct stat st;
  ASSERT_EQ(::stat(path("secret").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(load_code_secret_file(path("secret"), &loaded), CodeStatus::ok);
  EXPECT_EQ(loaded, written);
  EXPECT_NE(written, CodeSecret{});
  // Never overwrites: codes already issued depend on the old secret.
  EXPECT_EQ(write_new_code_secret_file(path("secret"), &again), CodeStatus::io_error);
  ASSERT_EQ(load_code_secret_file(path("secret"), &loaded), CodeStatus::ok);
  EXPECT_EQ(loaded, written);

  CodeSecret other{};
  ASSERT_EQ(write_new_code_secret_file(path("secret2"), &other), CodeStatus::ok);
  EXPECT_NE(other, written);
}

TEST_F(CodeSecretFile, LoadChecksContent) {
  const std::string hex64(64, 'a');
  auto load = [&](const std::string& content) {
    std::ofstream(path("s"), std::ios::binary | std::ios::trunc) << content;
    CodeSecret s{};
    return load_code_secret_file(path("s"), &s);
  };
  EXPECT_EQ(load(hex64), CodeStatus::ok);
  EXPECT_EQ(load(hex64 + "\r\nmore"), CodeStatus::ok);
  EXPECT_EQ(load(std::string(64, 'F')), CodeStatus::ok);
  EXPECT_EQ(load(""), CodeStatus::bad_secret);
  EXPECT_EQ(load(hex64.substr(1)), CodeStatus::bad_secret);
  EXPECT_EQ(load(hex64 + "a"), CodeStatus::bad_secret);
  EXPECT_EQ(load(std::string(63, 'a') + "g"), CodeStatus::bad_secret);
  EXPECT_EQ(load(" " + hex64.substr(1)), CodeStatus::bad_secret);
  CodeSecret s{};
  EXPECT_EQ(load_code_secret_file(path("missing"), &s), CodeStatus::io_error);

  std::string mixed;
  for (int i = 0; i < 32; ++i)
    mixed += (i % 2) ? "0F" : "a1";
  ASSERT_EQ(load(mixed), CodeStatus::ok);
  std::ofstream(path("s"), std::ios::binary | std::ios::trunc) << mixed;
  ASSERT_EQ(load_code_secret_file(path("s"), &s), CodeStatus::ok);
  EXPECT_EQ(s[0], 0xa1);
  EXPECT_EQ(s[1], 0x0f);
}

TEST(CodeStatusNames, AllNamed) {
  for (int i = 0; i <= 5; ++i) {
    EXPECT_NE(code_status_name(static_cast<CodeStatus>(i)), "unknown") << i;
  }
}

// ---- API keys ---------------------------------------------------------------------

TEST(ApiKey, Format) {
  std::set<std::string> keys;
  for (int i = 0; i < 1000; ++i) {
    std::string key;
    ASSERT_TRUE(generate_api_key(&key));
    ASSERT_EQ(key.size(), api_key_size);
    EXPECT_EQ(key.rfind("ck_live_", 0), 0u) << key;
    for (char c : key.substr(api_key_prefix.size())) {
      EXPECT_NE(std::string_view("0123456789abcdefghjkmnpqrstvwxyz").find(c),
                std::string_view::npos)
          << key;
    }
    EXPECT_TRUE(is_well_formed_api_key(key)) << key;
    keys.insert(key);
  }
  EXPECT_EQ(keys.size(), 1000u);
}

TEST(ApiKey, WellFormedRejects) {
  std::string key;
  ASSERT_TRUE(generate_api_key(&key));
  std::string upper = key;
  upper[10] = 'A';
  const std::string bad[] = {
      "",
      "ck_live_",
      key.substr(0, key.size() - 1),
      key + "a",
      "ck_test_" + key.substr(8),
      "CK_LIVE_" + key.substr(8),
      upper,
      key.substr(0, 20) + "i" + key.substr(21),
      key.substr(0, 20) + "l" + key.substr(21),
      key.substr(0, 20) + "o" + key.substr(21),
      key.substr(0, 20) + "u" + key.substr(21),
      key.substr(0, 20) + " " + key.substr(21),
  };
  for (const std::string& b : bad)
    EXPECT_FALSE(is_well_formed_api_key(b)) << b;
}

TEST(ApiKey, HashAndId) {
  std::string a, b;
  ASSERT_TRUE(generate_api_key(&a));
  ASSERT_TRUE(generate_api_key(&b));
  ApiKeyHash ha = key_hash(a);
  unsigned char expected[32];
  unsigned int size = 0;
  ASSERT_EQ(EVP_Digest(a.data(), a.size(), expected, &size, EVP_sha256(), nullptr), 1);
  EXPECT_EQ(std::memcmp(ha.data(), expected, 32), 0);
  EXPECT_EQ(key_hash(a), ha);
  EXPECT_NE(key_hash(b), ha);

  std::string id = key_id(ha);
  ASSERT_EQ(id.size(), api_key_id_size);
  char hex[3];
  for (size_t i = 0; i < id.size() / 2; ++i) {
    std::snprintf(hex, sizeof hex, "%02x", ha[i]);
    EXPECT_EQ(id.substr(2 * i, 2), hex);
  }
  EXPECT_NE(key_id(key_hash(b)), id);
}

TEST(ApiKey, ConstantTimeEqual) {
  std::string a;
  ASSERT_TRUE(generate_api_key(&a));
  std::string copy = a;
  EXPECT_TRUE(constant_time_equal(a, copy));
  std::string last = a;
  last.back() = last.back() == '0' ? '1' : '0';
  EXPECT_FALSE(constant_time_equal(a, last));
  EXPECT_FALSE(constant_time_equal(a, a.substr(0, a.size() - 1)));
  EXPECT_FALSE(constant_time_equal(a, ""));
  EXPECT_TRUE(constant_time_equal("", ""));
}

}  // namespace
}  // namespace coffer::gateway
