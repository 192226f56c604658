// WeChat Pay v3 notifications: real RSA-2048 signatures and AES-256-GCM
// ciphertexts built here with OpenSSL, then fed to the verifier.
#include "gateway/wechatpay.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gateway/base64.h"
#include "tests/gateway/fake_wechatpay.h"

namespace coffer::gateway::wechatpay {
namespace {
namespace json = boost::json;

// ---- Fixture -------------------------------------------------------------------

constexpr int64_t kNow = 1'795'000'000;

class WechatPayTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    platform_ = generate_rsa(2048).release();
    stranger_ = generate_rsa(2048).release();
    apiv3_key_ = new std::string(random_alnum(32));
  }
  static void TearDownTestSuite() {
    EVP_PKEY_free(platform_);
    EVP_PKEY_free(stranger_);
    delete apiv3_key_;
  }

  void SetUp() override {
    Status s = Verifier::from_memory(public_pem(platform_), *apiv3_key_, &verifier_);
    ASSERT_TRUE(s.ok()) << s.message();
  }

  BuildOptions options() const {
    BuildOptions o;
    o.signer = platform_;
    o.apiv3_key = *apiv3_key_;
    o.timestamp_s = kNow;
    return o;
  }

  Built valid() const { return build_notification(options(), sample_transaction()); }

  Error verify_error(const Built& b, int64_t now_s = kNow) const {
    return verifier_->verify(b.headers(), b.body, now_s).error;
  }
  Error decrypt_error(std::string_view body) const {
    Notification n;
    return verifier_->decrypt(body, &n).error;
  }

  static EVP_PKEY* platform_;
  static EVP_PKEY* stranger_;
  static std::string* apiv3_key_;
  std::unique_ptr<Verifier> verifier_;
};
EVP_PKEY* WechatPayTest::platform_ = nullptr;
EVP_PKEY* WechatPayTest::stranger_ = nullptr;
std::string* WechatPayTest::apiv3_key_ = nullptr;

// ---- The whole path ------------------------------------------------------------

TEST_F(WechatPayTest, ValidNotificationVerifiesDecryptsAndParses) {
  Built b = valid();
  Status s = verifier_->verify(b.headers(), b.body, kNow);
  ASSERT_TRUE(s.ok()) << s.message();

  Notification n;
  s = verifier_->decrypt(b.body, &n);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(n.id, "EV-2018022511223320873");
  EXPECT_EQ(n.event_type, "TRANSACTION.SUCCESS");
  EXPECT_EQ(n.resource_type, "encrypt-resource");
  EXPECT_EQ(n.original_type, "transaction");
  EXPECT_EQ(n.summary, "支付成功");
  EXPECT_EQ(json::parse(n.plaintext), json::value(sample_transaction()));

  Transaction t;
  s = parse_transaction(n.plaintext, &t);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(t.out_trade_no, "rc_20261124_0001");
  EXPECT_EQ(t.transaction_id, "4200001234202611241234567890");
  EXPECT_EQ(t.trade_state, TradeState::success);
  EXPECT_EQ(t.trade_state_raw, "SUCCESS");
  EXPECT_EQ(t.amount_total_fen, 1000);
  EXPECT_EQ(t.amount_currency, "CNY");
  ASSERT_TRUE(t.payer_openid.has_value());
  EXPECT_EQ(*t.payer_openid, "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o");
  ASSERT_TRUE(t.success_time.has_value());
  EXPECT_EQ(*t.success_time, "2026-11-24T15:00:00+08:00");
}

TEST_F(WechatPayTest, SerialHeaderIsOptional) {
  Built b = valid();
  NotifyHeaders h = b.headers();
  h.serial.reset();
  EXPECT_TRUE(verifier_->verify(h, b.body, kNow).ok());
}

TEST_F(WechatPayTest, OtherNonceSizesDecrypt) {
  for (size_t size : {8u, 12u, 16u, 32u}) {
    BuildOptions o = options();
    o.resource_nonce = random_alnum(size);
    Built b = build_notification(o, sample_transaction());
    Notification n;
    EXPECT_TRUE(verifier_->verify(b.headers(), b.body, kNow).ok());
    EXPECT_TRUE(verifier_->decrypt(b.body, &n).ok()) << size;
  }
}

TEST_F(WechatPayTest, EmptyAssociatedDataDecrypts) {
  BuildOptions o = options();
  o.associated_data = "";
  Built b = build_notification(o, sample_transaction());
  Notification n;
  EXPECT_TRUE(verifier_->decrypt(b.body, &n).ok());
}

// ---- Signature -----------------------------------------------------------------

TEST_F(WechatPayTest, SignatureFromAnotherKeyIsRejected) {
  BuildOptions o = options();
  o.signer = stranger_;
  EXPECT_EQ(verify_error(build_notification(o, sample_transaction())), Error::bad_signature);
}

TEST_F(WechatPayTest, SignatureOverADifferentBodyIsRejected) {
  Built b = valid();
  json::object other = sample_transaction();
  other["amount"].as_object()["total"] = 100000;
  Built forged = build_notification(options(), other);
  forged.signature = b.signature;
  forged.nonce = b.nonce;
  EXPECT_EQ(verify_error(forged), Error::bad_signature);

  Built appended = b;
  appended.body += " ";
  EXPECT_EQ(verify_error(appended), Error::bad_signature);
}

TEST_F(WechatPayTest, SignatureCoversNonceAndTimestamp) {
  Built b = valid();
  Built other_nonce = b;
  other_nonce.nonce[0] = other_nonce.nonce[0] == 'A' ? 'B' : 'A';
  EXPECT_EQ(verify_error(other_nonce), Error::bad_signature);

  Built other_time = b;
  other_time.timestamp = std::to_string(kNow + 1);
  EXPECT_EQ(verify_error(other_time), Error::bad_signature);
}

TEST_F(WechatPayTest, TamperedSignatureBytesAreRejected) {
  Built b = valid();
  std::vector<uint8_t> sig = *base64_decode(b.signature);
  for (size_t i : {size_t{0}, sig.size() / 2, sig.size() - 1}) {
    Built t = b;
    std::vector<uint8_t> flipped = sig;
    flipped[i] ^= 0x01;
    t.signature = base64_encode(flipped);
    EXPECT_EQ(verify_error(t), Error::bad_signature) << i;
  }
  Built truncated = b;
  truncated.signature = base64_encode(std::span<const uint8_t>(sig.data(), sig.size() - 3));
  EXPECT_EQ(verify_error(truncated), Error::bad_signature);
}

TEST_F(WechatPayTest, BadBase64SignatureIsRejected) {
  for (std::string sig : {"not base64!", "QUJD\nRA==", "QUJ", "QQ=A", "===="}) {
    Built b = valid();
    b.signature = sig;
    EXPECT_EQ(verify_error(b), Error::bad_signature_encoding) << sig;
  }
}

// ---- Timestamp -------------------------------------------------------------------

TEST_F(WechatPayTest, StaleTimestampIsRejectedBothWays) {
  Built b = valid();
  EXPECT_TRUE(verifier_->verify(b.headers(), b.body, kNow + 300).ok());
  EXPECT_TRUE(verifier_->verify(b.headers(), b.body, kNow - 300).ok());
  EXPECT_EQ(verify_error(b, kNow + 301), Error::stale_timestamp);  // old
  EXPECT_EQ(verify_error(b, kNow - 301), Error::stale_timestamp);  // from the future
  EXPECT_EQ(verify_error(b, 0), Error::stale_timestamp);
}

TEST_F(WechatPayTest, NonNumericTimestampIsRejected) {
  for (std::string ts : {"17950000x0", "-1795000000", "+1795000000", " 1795000000", "1795000000 ",
                         "1.795e9", "0x6AFD9A00", "9999999999999999999999"}) {
    Built b = valid();
    b.timestamp = ts;
    EXPECT_EQ(verify_error(b), Error::bad_timestamp) << ts;
  }
}

// ---- Headers and sizes -------------------------------------------------------------

TEST_F(WechatPayTest, MissingHeadersAreNamed) {
  Built b = valid();
  struct Case {
    std::optional<std::string_view> NotifyHeaders::*member;
    std::string name;
  };
  for (const Case& c : {Case{&NotifyHeaders::timestamp, "Wechatpay-Timestamp"},
                        Case{&NotifyHeaders::nonce, "Wechatpay-Nonce"},
                        Case{&NotifyHeaders::signature, "Wechatpay-Signature"}}) {
    NotifyHeaders absent = b.headers();
    (absent.*c.member).reset();
    Status s = verifier_->verify(absent, b.body, kNow);
    EXPECT_EQ(s.error, Error::missing_header);
    EXPECT_EQ(s.detail, c.name);

    NotifyHeaders empty = b.headers();
    empty.*c.member = std::string_view();
    EXPECT_EQ(verifier_->verify(empty, b.body, kNow).error, Error::missing_header) << c.name;
  }
}

TEST_F(WechatPayTest, OversizedInputsAreRejected) {
  Built b = valid();
  std::string huge(notify_body_size_max + 1, ' ');
  EXPECT_EQ(verifier_->verify(b.headers(), huge, kNow).error, Error::body_too_large);
  EXPECT_EQ(decrypt_error(huge), Error::body_too_large);

  Built long_nonce = b;
  long_nonce.nonce = std::string(header_value_size_max + 1, 'a');
  EXPECT_EQ(verify_error(long_nonce), Error::header_too_long);
}

// ---- Decryption ----------------------------------------------------------------------

TEST_F(WechatPayTest, WrongApiV3KeyFailsToDecrypt) {
  std::unique_ptr<Verifier> other;
  ASSERT_TRUE(Verifier::from_memory(public_pem(platform_), random_alnum(32), &other).ok());
  Built b = valid();
  EXPECT_TRUE(other->verify(b.headers(), b.body, kNow).ok());
  Notification n;
  EXPECT_EQ(other->decrypt(b.body, &n).error, Error::decrypt_failed);
  EXPECT_TRUE(n.plaintext.empty());
}

// Rewrites resource.ciphertext's decoded bytes with `edit`.
std::string edit_ciphertext(const std::string& body,
                            const std::function<void(std::vector<uint8_t>&)>& edit) {
  json::object envelope = json::parse(body).as_object();
  json::object& resource = envelope["resource"].as_object();
  std::vector<uint8_t> bytes = *base64_decode(resource["ciphertext"].as_string());
  edit(bytes);
  resource["ciphertext"] = base64_encode(bytes);
  return json::serialize(envelope);
}

TEST_F(WechatPayTest, TamperedCiphertextFails) {
  std::string body = valid().body;
  for (size_t i : {size_t{0}, size_t{7}, size_t{100}}) {
    std::string tampered = edit_ciphertext(body, [i](std::vector<uint8_t>& b) { b[i] ^= 0x80; });
    EXPECT_EQ(decrypt_error(tampered), Error::decrypt_failed) << i;
  }
}

TEST_F(WechatPayTest, TamperedTagFails) {
  std::string body = valid().body;
  for (size_t back = 1; back <= 16; ++back) {
    std::string tampered =
        edit_ciphertext(body, [back](std::vector<uint8_t>& b) { b[b.size() - back] ^= 0x01; });
    EXPECT_EQ(decrypt_error(tampered), Error::decrypt_failed) << back;
  }
  std::string dropped = edit_ciphertext(body, [](std::vector<uint8_t>& b) { b.pop_back(); });
  EXPECT_EQ(decrypt_error(dropped), Error::decrypt_failed);
}

TEST_F(WechatPayTest, TamperedAssociatedDataOrNonceFails) {
  BuildOptions o = options();
  o.edit_envelope = [](json::object& e) {
    e["resource"].as_object()["associated_data"] = "transactioN";
  };
  EXPECT_EQ(decrypt_error(build_notification(o, sample_transaction()).body), Error::decrypt_failed);

  o.edit_envelope = [](json::object& e) { e["resource"].as_object().erase("associated_data"); };
  EXPECT_EQ(decrypt_error(build_notification(o, sample_transaction()).body), Error::decrypt_failed);

  o.edit_envelope = [](json::object& e) { e["resource"].as_object()["nonce"] = "fdasflkja485"; };
  EXPECT_EQ(decrypt_error(build_notification(o, sample_transaction()).body), Error::decrypt_failed);
}

TEST_F(WechatPayTest, BadBase64CiphertextIsRejected) {
  for (std::string text : {"abc", "ab$d", "YWJj ZGVm", "YWJjZA==="}) {
    BuildOptions o = options();
    o.edit_envelope = [&](json::object& e) { e["resource"].as_object()["ciphertext"] = text; };
    EXPECT_EQ(decrypt_error(build_notification(o, sample_transaction()).body), Error::bad_base64)
        << text;
  }
}

TEST_F(WechatPayTest, ShortCiphertextIsRejected) {
  for (size_t size : {0u, 1u, 16u}) {
    std::string text = base64_encode(std::string(size, 'x'));
    BuildOptions o = options();
    o.edit_envelope = [&](json::object& e) { e["resource"].as_object()["ciphertext"] = text; };
    Error expected = size == 0 ? Error::bad_field : Error::ciphertext_too_short;  // "" is empty
    EXPECT_EQ(decrypt_error(build_notification(o, sample_transaction()).body), expected) << size;
  }
}

TEST_F(WechatPayTest, MalformedJsonIsRejected) {
  for (std::string body : {"", "{", "[]", "\"x\"", "{\"id\":1,}", "null", "{\"a\":\"\xff\"}"}) {
    EXPECT_EQ(decrypt_error(body), Error::malformed_json) << body;
  }
  std::string deep(100, '[');
  EXPECT_EQ(decrypt_error("{\"id\":" + deep + std::string(100, ']') + "}"), Error::malformed_json);
}

TEST_F(WechatPayTest, EnvelopeFieldsAreTypeChecked) {
  struct Case {
    std::function<void(json::object&)> edit;
    Error error;
  };
  const Case cases[] = {
      {[](json::object& e) { e.erase("resource"); }, Error::bad_field},
      {[](json::object& e) { e["resource"] = "x"; }, Error::bad_field},
      {[](json::object& e) { e.erase("id"); }, Error::bad_field},
      {[](json::object& e) { e["id"] = 5; }, Error::bad_field},
      {[](json::object& e) { e["event_type"] = json::array(); }, Error::bad_field},
      {[](json::object& e) { e["resource"].as_object().erase("nonce"); }, Error::bad_field},
      {[](json::object& e) { e["resource"].as_object()["nonce"] = std::string(65, 'n'); },
       Error::bad_field},
      {[](json::object& e) { e["resource"].as_object().erase("algorithm"); }, Error::bad_field},
      {[](json::object& e) { e["resource"].as_object()["algorithm"] = "AEAD_AES_128_GCM"; },
       Error::wrong_algorithm},
      {[](json::object& e) { e["resource"].as_object()["algorithm"] = "aead_aes_256_gcm"; },
       Error::wrong_algorithm},
      {[](json::object& e) { e["resource"].as_object()["ciphertext"] = 12; }, Error::bad_field},
  };
  for (size_t i = 0; i < std::size(cases); ++i) {
    BuildOptions o = options();
    o.edit_envelope = cases[i].edit;
    Built b = build_notification(o, sample_transaction());
    // Signed by the platform, so only the content check can object.
    EXPECT_TRUE(verifier_->verify(b.headers(), b.body, kNow).ok());
    EXPECT_EQ(decrypt_error(b.body), cases[i].error) << "case " << i;
  }
}

TEST_F(WechatPayTest, VerifiesConcurrently) {
  Built b = valid();
  Built forged = b;
  forged.body += "\n";
  std::vector<std::thread> threads;
  std::vector<int> good(4, 0), bad(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        good[t] += verifier_->verify(b.headers(), b.body, kNow).ok();
        bad[t] +=
            verifier_->verify(forged.headers(), forged.body, kNow).error == Error::bad_signature;
        Notification n;
        good[t] += verifier_->decrypt(b.body, &n).ok();
      }
    });
  }
  for (auto& t : threads)
    t.join();
  for (int t = 0; t < 4; ++t) {
    EXPECT_EQ(good[t], 50);
    EXPECT_EQ(bad[t], 25);
  }
}

// ---- Transaction parsing -------------------------------------------------------------

Status parse(const json::object& transaction, Transaction* t) {
  return parse_transaction(json::serialize(transaction), t);
}

TEST(WechatPayTransaction, NonSuccessStatesAreReported) {
  const std::pair<const char*, TradeState> states[] = {
      {"SUCCESS", TradeState::success},   {"REFUND", TradeState::refund},
      {"NOTPAY", TradeState::notpay},     {"CLOSED", TradeState::closed},
      {"REVOKED", TradeState::revoked},   {"USERPAYING", TradeState::userpaying},
      {"PAYERROR", TradeState::payerror}, {"SOMETHING_NEW", TradeState::other}};
  for (const auto& [raw, state] : states) {
    json::object tx = sample_transaction();
    tx["trade_state"] = raw;
    if (state != TradeState::success) tx.erase("success_time");
    Transaction t;
    Status s = parse(tx, &t);
    ASSERT_TRUE(s.ok()) << raw << ": " << s.message();
    EXPECT_EQ(t.trade_state, state);
    EXPECT_EQ(t.trade_state_raw, raw);
    if (state != TradeState::other) {
      EXPECT_EQ(trade_state_name(state), raw);
    }
    EXPECT_EQ(t.success_time.has_value(), state == TradeState::success);
  }
}

TEST(WechatPayTransaction, OptionalPayer) {
  json::object tx = sample_transaction();
  tx.erase("payer");
  Transaction t;
  ASSERT_TRUE(parse(tx, &t).ok());
  EXPECT_FALSE(t.payer_openid.has_value());
  tx["payer"] = json::object();
  ASSERT_TRUE(parse(tx, &t).ok());
  EXPECT_FALSE(t.payer_openid.has_value());
}

TEST(WechatPayTransaction, StrictTypes) {
  struct Case {
    std::function<void(json::object&)> edit;
    std::string field;  // expected in the detail
  };
  const Case cases[] = {
      {[](json::object& t) { t.erase("out_trade_no"); }, "out_trade_no"},
      {[](json::object& t) { t["out_trade_no"] = ""; }, "out_trade_no"},
      {[](json::object& t) { t["out_trade_no"] = 42; }, "out_trade_no"},
      {[](json::object& t) { t["out_trade_no"] = std::string(129, 'a'); }, "out_trade_no"},
      {[](json::object& t) { t.erase("transaction_id"); }, "transaction_id"},
      {[](json::object& t) { t.erase("trade_state"); }, "trade_state"},
      {[](json::object& t) { t["trade_state"] = true; }, "trade_state"},
      {[](json::object& t) { t.erase("amount"); }, "amount"},
      {[](json::object& t) { t["amount"] = 1000; }, "amount"},
      {[](json::object& t) { t["amount"].as_object().erase("total"); }, "amount.total"},
      {[](json::object& t) { t["amount"].as_object()["total"] = 1000.0; }, "amount.total"},
      {[](json::object& t) { t["amount"].as_object()["total"] = "1000"; }, "amount.total"},
      {[](json::object& t) { t["amount"].as_object()["total"] = -1; }, "amount.total"},
      {[](json::object& t) { t["amount"].as_object()["total"] = UINT64_MAX; }, "amount.total"},
      {[](json::object& t) { t["amount"].as_object().erase("currency"); }, "amount.currency"},
      {[](json::object& t) { t["payer"] = "o123"; }, "payer"},
      {[](json::object& t) { t["payer"].as_object()["openid"] = 7; }, "payer.openid"},
      {[](json::object& t) { t["success_time"] = 1700000000; }, "success_time"},
  };
  for (size_t i = 0; i < std::size(cases); ++i) {
    json::object tx = sample_transaction();
    cases[i].edit(tx);
    Transaction t;
    Status s = parse(tx, &t);
    EXPECT_EQ(s.error, Error::bad_transaction_field) << "case " << i;
    EXPECT_NE(s.detail.find(cases[i].field), std::string::npos) << "case " << i << ": " << s.detail;
  }
}

TEST(WechatPayTransaction, MalformedPlaintext) {
  Transaction t;
  for (std::string text : {"", "{", "[1]", "1000", "{\"out_trade_no\":}"}) {
    EXPECT_EQ(parse_transaction(text, &t).error, Error::malformed_transaction) << text;
  }
}

TEST(WechatPayTransaction, LargeAmountsAreExact) {
  json::object tx = sample_transaction();
  tx["amount"].as_object()["total"] = INT64_MAX;
  Transaction t;
  ASSERT_TRUE(parse(tx, &t).ok());
  EXPECT_EQ(t.amount_total_fen, INT64_MAX);
}

// ---- Configuration ----------------------------------------------------------------------

class WechatPayConfigTest : public WechatPayTest {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/coffer_wechatpay_XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& content) {
    std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }
  std::filesystem::path dir_;
};

TEST_F(WechatPayConfigTest, LoadsFromFiles) {
  std::string pem = write("platform.pem", public_pem(platform_));
  std::string key = write("apiv3.key", *apiv3_key_ + "\r\nsecond line ignored\n");
  std::unique_ptr<Verifier> v;
  Status s = Verifier::load(pem, key, &v);
  ASSERT_TRUE(s.ok()) << s.message();
  Built b = valid();
  EXPECT_TRUE(v->verify(b.headers(), b.body, kNow).ok());
  Notification n;
  EXPECT_TRUE(v->decrypt(b.body, &n).ok());
}

TEST_F(WechatPayConfigTest, AcceptsPlatformCertificate) {
  std::string pem = write("cert.pem", certificate_pem(platform_));
  std::string key = write("apiv3.key", *apiv3_key_);
  std::unique_ptr<Verifier> v;
  Status s = Verifier::load(pem, key, &v);
  ASSERT_TRUE(s.ok()) << s.message();
  Built b = valid();
  EXPECT_TRUE(v->verify(b.headers(), b.body, kNow).ok());
}

TEST_F(WechatPayConfigTest, UnreadableFiles) {
  std::string key = write("apiv3.key", *apiv3_key_);
  std::string pem = write("platform.pem", public_pem(platform_));
  std::unique_ptr<Verifier> v;
  Status s = Verifier::load((dir_ / "missing.pem").string(), key, &v);
  EXPECT_EQ(s.error, Error::key_file_unreadable);
  EXPECT_NE(s.message().find("missing.pem"), std::string::npos) << s.message();
  EXPECT_EQ(v, nullptr);
  s = Verifier::load(dir_.string(), key, &v);  // a directory
  EXPECT_EQ(s.error, Error::key_file_unreadable);
  s = Verifier::load(pem, (dir_ / "missing.key").string(), &v);
  EXPECT_EQ(s.error, Error::apiv3_key_unreadable);
  EXPECT_NE(s.message().find("missing.key"), std::string::npos) << s.message();
}

TEST_F(WechatPayConfigTest, ApiV3KeyMustBe32Bytes) {
  std::string pem = write("platform.pem", public_pem(platform_));
  for (std::string content : {std::string(), std::string("\n"), apiv3_key_->substr(0, 31),
                              *apiv3_key_ + "x", " " + *apiv3_key_}) {
    std::string key = write("apiv3.key", content);
    std::unique_ptr<Verifier> v;
    Status s = Verifier::load(pem, key, &v);
    EXPECT_EQ(s.error, Error::apiv3_key_bad_size) << content;
    EXPECT_NE(s.message().find("apiv3.key"), std::string::npos) << s.message();
    EXPECT_EQ(v, nullptr);
  }
}

TEST_F(WechatPayConfigTest, RejectsKeysThatAreNotRsaPublicKeys) {
  std::unique_ptr<Verifier> v;
  // A private key is not what the platform gives out; say so.
  Status s = Verifier::from_memory(private_pem(platform_), *apiv3_key_, &v);
  EXPECT_EQ(s.error, Error::key_not_public);
  EXPECT_NE(s.detail.find("private key"), std::string::npos) << s.detail;

  EXPECT_EQ(Verifier::from_memory("hello", *apiv3_key_, &v).error, Error::key_not_public);
  EXPECT_EQ(Verifier::from_memory("", *apiv3_key_, &v).error, Error::key_not_public);
  std::string broken = public_pem(platform_);
  broken[40] = broken[40] == 'A' ? 'B' : 'A';
  broken.erase(60, 8);
  EXPECT_EQ(Verifier::from_memory(broken, *apiv3_key_, &v).error, Error::key_not_public);

  Pkey ec(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  ASSERT_NE(ec, nullptr);
  s = Verifier::from_memory(public_pem(ec.get()), *apiv3_key_, &v);
  EXPECT_EQ(s.error, Error::key_not_rsa) << s.message();

  Pkey small = generate_rsa(1024);
  EXPECT_EQ(Verifier::from_memory(public_pem(small.get()), *apiv3_key_, &v).error,
            Error::key_too_small);
  EXPECT_EQ(v, nullptr);
}

TEST(WechatPayErrors, EveryErrorHasAName) {
  for (uint32_t e = 0; e < 40; ++e) {
    std::string_view name = error_name(static_cast<Error>(e));
    EXPECT_FALSE(name.empty());
  }
  Status s{Error::missing_header, "Wechatpay-Nonce"};
  EXPECT_EQ(s.message(), "missing header: Wechatpay-Nonce");
}

// ---- Base64 ----------------------------------------------------------------------------

TEST(Base64, RoundTripsEverySize) {
  for (size_t size = 0; size < 70; ++size) {
    std::vector<uint8_t> bytes(size);
    if (size > 0) {
      ASSERT_EQ(RAND_bytes(bytes.data(), static_cast<int>(size)), 1);
    }
    std::string text = base64_encode(bytes);
    EXPECT_EQ(text.size(), (size + 2) / 3 * 4);
    auto back = base64_decode(text);
    ASSERT_TRUE(back.has_value()) << text;
    EXPECT_EQ(*back, bytes);
  }
}

TEST(Base64, KnownVectors) {
  // RFC 4648 §10.
  const std::pair<std::string, std::string> vectors[] = {{"", ""},
                                                         {"f", "Zg=="},
                                                         {"fo", "Zm8="},
                                                         {"foo", "Zm9v"},
                                                         {"foob", "Zm9vYg=="},
                                                         {"fooba", "Zm9vYmE="},
                                                         {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(base64_encode(plain), encoded);
    auto back = base64_decode(encoded);
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(std::string(back->begin(), back->end()), plain);
  }
}

TEST(Base64, RejectsNonCanonicalInput) {
  for (std::string text : {"Zg", "Zg=", "Zg===", "Z===", "====", "Zm9v\n", " Zm9v", "Zm 9", "Zm9-",
                           "Zm9_", "Zg==Zm9v", "=Zm9"}) {
    EXPECT_FALSE(base64_decode(text).has_value()) << text;
  }
}

}  // namespace
}  // namespace coffer::gateway::wechatpay
