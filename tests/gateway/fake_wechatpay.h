// Test-only: a fake WeChat Pay that signs (RSA-2048, SHA-256) and encrypts
// (AES-256-GCM) notifications exactly as the real one does, for the verifier's
// and the notify handler's tests.
#pragma once

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include <boost/json.hpp>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "gateway/base64.h"
#include "gateway/wechatpay.h"

namespace coffer::gateway::wechatpay {
namespace json = boost::json;

// ---- Test-only helpers: a fake WeChat Pay -----------------------------------

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

inline Pkey generate_rsa(unsigned bits) {
  Pkey key(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(bits)));
  EXPECT_NE(key, nullptr);
  return key;
}

inline std::string bio_to_string(BIO* bio) {
  char* data = nullptr;
  long size = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(size));
  BIO_free(bio);
  return out;
}

inline std::string public_pem(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  EXPECT_EQ(PEM_write_bio_PUBKEY(bio, key), 1);
  return bio_to_string(bio);
}

inline std::string private_pem(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  EXPECT_EQ(PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr), 1);
  return bio_to_string(bio);
}

// A self-signed certificate around `key`, like WeChat's platform certificates.
inline std::string certificate_pem(EVP_PKEY* key) {
  X509* cert = X509_new();
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("Tenpay"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  EXPECT_GT(X509_sign(cert, key, EVP_sha256()), 0);
  BIO* bio = BIO_new(BIO_s_mem());
  EXPECT_EQ(PEM_write_bio_X509(bio, cert), 1);
  X509_free(cert);
  return bio_to_string(bio);
}

inline std::string sign(EVP_PKEY* key, std::string_view message) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EXPECT_EQ(EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key), 1);
  size_t size = 0;
  EXPECT_EQ(EVP_DigestSign(ctx, nullptr, &size,
                           reinterpret_cast<const unsigned char*>(message.data()), message.size()),
            1);
  std::vector<uint8_t> sig(size);
  EXPECT_EQ(EVP_DigestSign(ctx, sig.data(), &size,
                           reinterpret_cast<const unsigned char*>(message.data()), message.size()),
            1);
  EVP_MD_CTX_free(ctx);
  sig.resize(size);
  return base64_encode(sig);
}

// Base64(AES-256-GCM(plaintext) || tag), as WeChat puts in resource.ciphertext.
inline std::string seal(std::string_view key, std::string_view nonce, std::string_view aad,
                        std::string_view plaintext) {
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  std::vector<uint8_t> out(plaintext.size() + 16);
  int size = 0;
  EXPECT_EQ(EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr, nullptr, nullptr), 1);
  EXPECT_EQ(
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(nonce.size()), nullptr), 1);
  EXPECT_EQ(
      EVP_EncryptInit_ex(ctx, nullptr, nullptr, reinterpret_cast<const unsigned char*>(key.data()),
                         reinterpret_cast<const unsigned char*>(nonce.data())),
      1);
  if (!aad.empty()) {
    EXPECT_EQ(
        EVP_EncryptUpdate(ctx, nullptr, &size, reinterpret_cast<const unsigned char*>(aad.data()),
                          static_cast<int>(aad.size())),
        1);
  }
  EXPECT_EQ(EVP_EncryptUpdate(ctx, out.data(), &size,
                              reinterpret_cast<const unsigned char*>(plaintext.data()),
                              static_cast<int>(plaintext.size())),
            1);
  int final_size = 0;
  EXPECT_EQ(EVP_EncryptFinal_ex(ctx, out.data() + size, &final_size), 1);
  EXPECT_EQ(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, out.data() + plaintext.size()), 1);
  EVP_CIPHER_CTX_free(ctx);
  return base64_encode(out);
}

inline std::string random_alnum(size_t size) {
  static constexpr char kChars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::vector<uint8_t> bytes(size);
  EXPECT_EQ(RAND_bytes(bytes.data(), static_cast<int>(size)), 1);
  std::string out;
  for (uint8_t b : bytes)
    out.push_back(kChars[b % 62]);
  return out;
}

inline json::object sample_transaction() {
  return json::parse(R"({
    "appid": "wxd678efh567hg6787", "mchid": "1230000109",
    "out_trade_no": "rc_20261124_0001", "transaction_id": "4200001234202611241234567890",
    "trade_type": "JSAPI", "trade_state": "SUCCESS", "trade_state_desc": "支付成功",
    "bank_type": "CMC", "attach": "", "success_time": "2026-11-24T15:00:00+08:00",
    "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
    "amount": {"total": 1000, "payer_total": 1000, "currency": "CNY", "payer_currency": "CNY"}
  })")
      .as_object();
}

struct Built {
  std::string timestamp;
  std::string nonce;
  std::string signature;
  std::string body;
  NotifyHeaders headers() const {
    return NotifyHeaders{timestamp, nonce, signature,
                         std::string_view("5157F09EFDC096DE15EBE81A47057A72")};
  }
};

struct BuildOptions {
  EVP_PKEY* signer = nullptr;
  std::string apiv3_key;
  std::string resource_nonce = "fdasflkja484";  // 12 bytes, like WeChat's
  std::string associated_data = "transaction";
  int64_t timestamp_s = 0;
  // Edits applied to the envelope before signing.
  std::function<void(json::object&)> edit_envelope;
};

inline Built build_notification(const BuildOptions& o, const json::object& transaction) {
  std::string plaintext = json::serialize(transaction);
  json::object resource{
      {"original_type", "transaction"},
      {"algorithm", "AEAD_AES_256_GCM"},
      {"ciphertext", seal(o.apiv3_key, o.resource_nonce, o.associated_data, plaintext)},
      {"associated_data", o.associated_data},
      {"nonce", o.resource_nonce}};
  json::object envelope{{"id", "EV-2018022511223320873"},
                        {"create_time", "2026-11-24T15:00:01+08:00"},
                        {"resource_type", "encrypt-resource"},
                        {"event_type", "TRANSACTION.SUCCESS"},
                        {"summary", "支付成功"},
                        {"resource", resource}};
  if (o.edit_envelope) o.edit_envelope(envelope);
  Built b;
  b.timestamp = std::to_string(o.timestamp_s);
  b.nonce = random_alnum(32);
  b.body = json::serialize(envelope);
  b.signature = sign(o.signer, b.timestamp + "\n" + b.nonce + "\n" + b.body + "\n");
  return b;
}

}  // namespace coffer::gateway::wechatpay
