#include "gateway/wechatpay.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <boost/json.hpp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <vector>

#include "gateway/base64.h"

#include "core/assert.h"

// Returns the Status of `expr` from the enclosing function unless it is ok.
#define COFFER_TRY(expr)               \
  do {                                 \
    Status status_ = (expr);           \
    if (!status_.ok()) return status_; \
  } while (0)

namespace coffer::gateway::wechatpay {
namespace json = boost::json;

namespace {

constexpr std::string_view kAlgorithm = "AEAD_AES_256_GCM";

struct PkeyDeleter {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct BioDeleter {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct X509Deleter {
  void operator()(X509* cert) const { X509_free(cert); }
};
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
struct CipherCtxDeleter {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;

Status fail(Error error, std::string detail = {}) {
  return Status{error, std::move(detail)};
}

// The last OpenSSL error as text, and the queue cleared so that a rejected
// request leaves nothing behind for the next one on this thread.
std::string take_openssl_error() {
  unsigned long code = ERR_peek_last_error();
  std::string text;
  if (code != 0) {
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof buffer);
    text = buffer;
  }
  ERR_clear_error();
  return text;
}

// Reads at most `size_max` bytes; nullopt if unreadable or larger.
std::optional<std::string> read_small_file(const std::string& path, size_t size_max) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::string text(size_max + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad()) return std::nullopt;
  text.resize(static_cast<size_t>(in.gcount()));
  if (text.size() > size_max) return std::nullopt;
  return text;
}

std::string_view first_line(std::string_view text) {
  text = text.substr(0, text.find('\n'));
  if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
  return text;
}

int no_password(char*, int, int, void*) {
  return 0;
}

Status load_public_key(std::string_view pem, PkeyPtr* out) {
  std::unique_ptr<BIO, BioDeleter> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  COFFER_ASSERT(bio != nullptr);
  PkeyPtr key(PEM_read_bio_PUBKEY(bio.get(), nullptr, no_password, nullptr));
  if (!key) {
    ERR_clear_error();
    BIO_reset(bio.get());
    std::unique_ptr<X509, X509Deleter> cert(
        PEM_read_bio_X509(bio.get(), nullptr, no_password, nullptr));
    if (cert) key.reset(X509_get_pubkey(cert.get()));
  }
  if (!key) {
    std::string reason = take_openssl_error();
    if (pem.find("PRIVATE KEY") != std::string_view::npos) {
      return fail(Error::key_not_public,
                  "the PEM holds a private key; configure WeChat Pay's platform public key");
    }
    return fail(Error::key_not_public, "no PEM PUBLIC KEY or CERTIFICATE found (" + reason + ")");
  }
  if (!EVP_PKEY_is_a(key.get(), "RSA")) {
    const char* type = EVP_PKEY_get0_type_name(key.get());
    return fail(Error::key_not_rsa, std::string("key type is ") + (type ? type : "unknown"));
  }
  int bits = EVP_PKEY_get_bits(key.get());
  if (bits < rsa_key_bits_min) {
    return fail(Error::key_too_small, "RSA key has " + std::to_string(bits) + " bits");
  }
  *out = std::move(key);
  return {};
}

bool parse_seconds(std::string_view text, int64_t* seconds) {
  if (text.empty() || text.size() > timestamp_digits_max) return false;
  int64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');  // cannot overflow: timestamp_digits_max < 19
  }
  *seconds = value;
  return true;
}

std::optional<json::value> parse_json(std::string_view text) {
  json::parse_options options;
  options.max_depth = json_depth_max;
  boost::system::error_code ec;
  json::value value = json::parse(text, ec, json::storage_ptr(), options);
  if (ec) return std::nullopt;
  return value;
}

// Reads obj[key] as a string of 1..size_max bytes (0.. if allow_empty).
// Absent: ok if optional (`*present` false), else an error naming `path`.
Status read_string(const json::object& obj, std::string_view key, bool required, size_t size_max,
                   Error error, std::string_view path, std::string* out, bool* present = nullptr,
                   bool allow_empty = false) {
  if (present != nullptr) *present = false;
  const json::value* value = obj.if_contains(key);
  if (value == nullptr) {
    if (required) return fail(error, std::string(path) + " is missing");
    return {};
  }
  const json::string* str = value->if_string();
  if (str == nullptr) return fail(error, std::string(path) + " is not a string");
  if (str->empty() && !allow_empty) return fail(error, std::string(path) + " is empty");
  if (str->size() > size_max) {
    return fail(error, std::string(path) + " is longer than " + std::to_string(size_max));
  }
  out->assign(str->data(), str->size());
  if (present != nullptr) *present = true;
  return {};
}

TradeState trade_state_from(std::string_view text) {
  if (text == "SUCCESS") return TradeState::success;
  if (text == "REFUND") return TradeState::refund;
  if (text == "NOTPAY") return TradeState::notpay;
  if (text == "CLOSED") return TradeState::closed;
  if (text == "REVOKED") return TradeState::revoked;
  if (text == "USERPAYING") return TradeState::userpaying;
  if (text == "PAYERROR") return TradeState::payerror;
  return TradeState::other;
}

}  // namespace

std::string_view error_name(Error error) {
  switch (error) {
    case Error::ok:
      return "ok";
    case Error::key_file_unreadable:
      return "platform public key file unreadable";
    case Error::key_not_public:
      return "platform key is not a public key";
    case Error::key_not_rsa:
      return "platform key is not RSA";
    case Error::key_too_small:
      return "platform RSA key too small";
    case Error::apiv3_key_unreadable:
      return "APIv3 key file unreadable";
    case Error::apiv3_key_bad_size:
      return "APIv3 key must be 32 bytes";
    case Error::body_too_large:
      return "body too large";
    case Error::missing_header:
      return "missing header";
    case Error::header_too_long:
      return "header too long";
    case Error::bad_timestamp:
      return "bad Wechatpay-Timestamp";
    case Error::stale_timestamp:
      return "stale Wechatpay-Timestamp";
    case Error::bad_signature_encoding:
      return "Wechatpay-Signature is not Base64";
    case Error::bad_signature:
      return "bad signature";
    case Error::malformed_json:
      return "malformed notification JSON";
    case Error::bad_field:
      return "bad notification field";
    case Error::wrong_algorithm:
      return "unsupported resource.algorithm";
    case Error::bad_base64:
      return "resource.ciphertext is not Base64";
    case Error::ciphertext_too_short:
      return "resource.ciphertext too short";
    case Error::decrypt_failed:
      return "resource does not decrypt (tag mismatch)";
    case Error::malformed_transaction:
      return "malformed transaction JSON";
    case Error::bad_transaction_field:
      return "bad transaction field";
  }
  return "unknown";
}

std::string Status::message() const {
  std::string out(error_name(error));
  if (!detail.empty()) {
    out += ": ";
    out += detail;
  }
  return out;
}

std::string_view trade_state_name(TradeState state) {
  switch (state) {
    case TradeState::success:
      return "SUCCESS";
    case TradeState::refund:
      return "REFUND";
    case TradeState::notpay:
      return "NOTPAY";
    case TradeState::closed:
      return "CLOSED";
    case TradeState::revoked:
      return "REVOKED";
    case TradeState::userpaying:
      return "USERPAYING";
    case TradeState::payerror:
      return "PAYERROR";
    case TradeState::other:
      return "other";
  }
  return "other";
}

struct Verifier::Impl {
  PkeyPtr public_key;
  std::array<uint8_t, apiv3_key_size> apiv3_key{};
  ~Impl() { OPENSSL_cleanse(apiv3_key.data(), apiv3_key.size()); }
};

Verifier::Verifier(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Verifier::~Verifier() = default;

Status Verifier::from_memory(std::string_view public_key_pem, std::string_view apiv3_key,
                             std::unique_ptr<Verifier>* out) {
  if (apiv3_key.size() != apiv3_key_size) {
    return fail(Error::apiv3_key_bad_size,
                "got " + std::to_string(apiv3_key.size()) + " bytes on the first line");
  }
  if (public_key_pem.size() > public_key_file_size_max) {
    return fail(Error::key_file_unreadable, "PEM larger than public_key_file_size_max");
  }
  auto impl = std::make_unique<Impl>();
  Status status = load_public_key(public_key_pem, &impl->public_key);
  if (!status.ok()) return status;
  std::memcpy(impl->apiv3_key.data(), apiv3_key.data(), apiv3_key_size);
  out->reset(new Verifier(std::move(impl)));
  return {};
}

Status Verifier::load(const std::string& public_key_pem_path, const std::string& apiv3_key_path,
                      std::unique_ptr<Verifier>* out) {
  std::optional<std::string> pem = read_small_file(public_key_pem_path, public_key_file_size_max);
  if (!pem) {
    return fail(Error::key_file_unreadable,
                public_key_pem_path + " (missing, unreadable or over 64 KiB)");
  }
  // Key files are tiny; anything larger is the wrong file.
  std::optional<std::string> apiv3 = read_small_file(apiv3_key_path, apiv3_key_file_size_max);
  if (!apiv3) {
    return fail(Error::apiv3_key_unreadable,
                apiv3_key_path + " (missing, unreadable or over 4 KiB)");
  }
  Status status = from_memory(*pem, first_line(*apiv3), out);
  OPENSSL_cleanse(apiv3->data(), apiv3->size());
  if (!status.ok()) {
    const std::string& path =
        status.error == Error::apiv3_key_bad_size ? apiv3_key_path : public_key_pem_path;
    status.detail = path + ": " + status.detail;
  }
  return status;
}

Status Verifier::verify(const NotifyHeaders& headers, std::string_view body, int64_t now_s) const {
  if (body.size() > notify_body_size_max) return fail(Error::body_too_large);
  struct Required {
    const std::optional<std::string_view>& value;
    const char* name;
  };
  for (const Required& h : {Required{headers.timestamp, "Wechatpay-Timestamp"},
                            Required{headers.nonce, "Wechatpay-Nonce"},
                            Required{headers.signature, "Wechatpay-Signature"}}) {
    if (!h.value || h.value->empty()) return fail(Error::missing_header, h.name);
    if (h.value->size() > header_value_size_max) return fail(Error::header_too_long, h.name);
  }
  int64_t timestamp_s = 0;
  if (!parse_seconds(*headers.timestamp, &timestamp_s)) return fail(Error::bad_timestamp);
  // Cheap checks first: a replayed or delayed request costs no RSA work.
  int64_t skew_s = timestamp_s > now_s ? timestamp_s - now_s : now_s - timestamp_s;
  if (skew_s > timestamp_skew_s_max) {
    return fail(Error::stale_timestamp, std::to_string(timestamp_s - now_s) + " s from now");
  }
  std::optional<std::vector<uint8_t>> signature = base64_decode(*headers.signature);
  if (!signature) return fail(Error::bad_signature_encoding);
  if (signature->size() != static_cast<size_t>(EVP_PKEY_get_size(impl_->public_key.get()))) {
    return fail(Error::bad_signature, "signature length does not match the key");
  }

  std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
  COFFER_ASSERT(ctx != nullptr);
  EVP_PKEY_CTX* pctx = nullptr;  // owned by ctx
  bool ok =
      EVP_DigestVerifyInit(ctx.get(), &pctx, EVP_sha256(), nullptr, impl_->public_key.get()) == 1 &&
      EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1;
  // Fed in pieces: the signed message is never copied.
  const std::string_view parts[] = {*headers.timestamp, "\n", *headers.nonce, "\n", body, "\n"};
  for (std::string_view part : parts) {
    ok = ok && EVP_DigestVerifyUpdate(ctx.get(), part.data(), part.size()) == 1;
  }
  ok = ok && EVP_DigestVerifyFinal(ctx.get(), signature->data(), signature->size()) == 1;
  if (!ok) {
    ERR_clear_error();
    return fail(Error::bad_signature);
  }
  return {};
}

Status Verifier::decrypt(std::string_view body, Notification* out) const {
  if (body.size() > notify_body_size_max) return fail(Error::body_too_large);
  std::optional<json::value> root = parse_json(body);
  if (!root || !root->is_object()) return fail(Error::malformed_json);
  const json::object& envelope = root->get_object();

  Notification n;
  const Error bad = Error::bad_field;
  COFFER_TRY(read_string(envelope, "id", true, field_size_max, bad, "id", &n.id));
  COFFER_TRY(read_string(envelope, "create_time", true, field_size_max, bad, "create_time",
                         &n.create_time));
  COFFER_TRY(
      read_string(envelope, "event_type", true, field_size_max, bad, "event_type", &n.event_type));
  COFFER_TRY(read_string(envelope, "resource_type", true, field_size_max, bad, "resource_type",
                         &n.resource_type));
  COFFER_TRY(read_string(envelope, "summary", false, field_size_max, bad, "summary", &n.summary,
                         nullptr, true));

  const json::value* resource_value = envelope.if_contains("resource");
  if (resource_value == nullptr || !resource_value->is_object()) {
    return fail(bad, "resource is missing or not an object");
  }
  const json::object& resource = resource_value->get_object();
  std::string algorithm;
  COFFER_TRY(read_string(resource, "algorithm", true, field_size_max, bad, "resource.algorithm",
                         &algorithm));
  if (algorithm != kAlgorithm) return fail(Error::wrong_algorithm, algorithm);
  std::string ciphertext_b64;
  COFFER_TRY(read_string(resource, "ciphertext", true, notify_body_size_max, bad,
                         "resource.ciphertext", &ciphertext_b64));
  std::string nonce;
  COFFER_TRY(
      read_string(resource, "nonce", true, gcm_nonce_size_max, bad, "resource.nonce", &nonce));
  std::string associated_data;
  COFFER_TRY(read_string(resource, "associated_data", false, associated_data_size_max, bad,
                         "resource.associated_data", &associated_data, nullptr, true));
  COFFER_TRY(read_string(resource, "original_type", false, field_size_max, bad,
                         "resource.original_type", &n.original_type));

  std::optional<std::vector<uint8_t>> sealed = base64_decode(ciphertext_b64);
  if (!sealed) return fail(Error::bad_base64);
  if (sealed->size() <= gcm_tag_size) return fail(Error::ciphertext_too_short);
  const size_t ciphertext_size = sealed->size() - gcm_tag_size;
  uint8_t* tag = sealed->data() + ciphertext_size;

  std::unique_ptr<EVP_CIPHER_CTX, CipherCtxDeleter> ctx(EVP_CIPHER_CTX_new());
  COFFER_ASSERT(ctx != nullptr);
  std::string plaintext(ciphertext_size, '\0');
  int size = 0;
  bool ok = EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(nonce.size()),
                                nullptr) == 1 &&
            EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, impl_->apiv3_key.data(),
                               reinterpret_cast<const unsigned char*>(nonce.data())) == 1 &&
            (associated_data.empty() ||
             EVP_DecryptUpdate(ctx.get(), nullptr, &size,
                               reinterpret_cast<const unsigned char*>(associated_data.data()),
                               static_cast<int>(associated_data.size())) == 1) &&
            EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(plaintext.data()), &size,
                              sealed->data(), static_cast<int>(ciphertext_size)) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(gcm_tag_size),
                                tag) == 1;
  int final_size = 0;
  ok = ok &&
       EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(plaintext.data()) + size,
                           &final_size) == 1;
  if (!ok) {
    ERR_clear_error();
    OPENSSL_cleanse(plaintext.data(), plaintext.size());
    return fail(Error::decrypt_failed);
  }
  // GCM is a stream mode: all plaintext comes out of Update, none from Final.
  COFFER_ASSERT(static_cast<size_t>(size) + static_cast<size_t>(final_size) == ciphertext_size);
  n.plaintext = std::move(plaintext);
  *out = std::move(n);
  return {};
}

Status parse_transaction(std::string_view plaintext, Transaction* out) {
  if (plaintext.size() > notify_body_size_max) return fail(Error::malformed_transaction);
  std::optional<json::value> root = parse_json(plaintext);
  if (!root || !root->is_object()) return fail(Error::malformed_transaction);
  const json::object& obj = root->get_object();

  Transaction t;
  const Error bad = Error::bad_transaction_field;
  COFFER_TRY(
      read_string(obj, "out_trade_no", true, field_size_max, bad, "out_trade_no", &t.out_trade_no));
  COFFER_TRY(read_string(obj, "transaction_id", true, field_size_max, bad, "transaction_id",
                         &t.transaction_id));
  COFFER_TRY(read_string(obj, "trade_state", true, field_size_max, bad, "trade_state",
                         &t.trade_state_raw));
  t.trade_state = trade_state_from(t.trade_state_raw);

  const json::value* amount_value = obj.if_contains("amount");
  if (amount_value == nullptr || !amount_value->is_object()) {
    return fail(bad, "amount is missing or not an object");
  }
  const json::object& amount = amount_value->get_object();
  const json::value* total = amount.if_contains("total");
  if (total == nullptr) return fail(bad, "amount.total is missing");
  // Integers only: 100.0, 1e2 and "100" are all refused, never rounded.
  if (total->is_int64()) {
    t.amount_total_fen = total->get_int64();
  } else if (total->is_uint64()) {
    return fail(bad, "amount.total is out of range");
  } else {
    return fail(bad, "amount.total is not an integer");
  }
  if (t.amount_total_fen < 0) return fail(bad, "amount.total is negative");
  COFFER_TRY(read_string(amount, "currency", true, field_size_max, bad, "amount.currency",
                         &t.amount_currency));

  if (const json::value* payer = obj.if_contains("payer")) {
    if (!payer->is_object()) return fail(bad, "payer is not an object");
    std::string openid;
    bool present = false;
    COFFER_TRY(read_string(payer->get_object(), "openid", false, field_size_max, bad,
                           "payer.openid", &openid, &present));
    if (present) t.payer_openid = std::move(openid);
  }
  std::string success_time;
  bool present = false;
  COFFER_TRY(read_string(obj, "success_time", false, field_size_max, bad, "success_time",
                         &success_time, &present));
  if (present) t.success_time = std::move(success_time);
  *out = std::move(t);
  return {};
}

}  // namespace coffer::gateway::wechatpay
