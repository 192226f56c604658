// WeChat Pay API v3 payment notifications (API.md "WeChat Pay notifications"):
// signature check, AES-256-GCM decryption of `resource`, and strict parsing of
// the transaction inside.
//
// Flow for POST /v1/wechatpay/notify:
//     Status s = verifier.verify(headers, body, now_s);      // 401 unless ok
//     Notification n;  s = verifier.decrypt(body, &n);       // 401 unless ok
//     Transaction t;   s = parse_transaction(n.plaintext, &t);
//     if (t.trade_state == TradeState::success) ... confirm t.out_trade_no
//
// A Verifier is immutable after load; verify() and decrypt() are const and
// safe to call from many threads at once (OpenSSL 3 keys are shared read-only,
// every call uses its own contexts).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace coffer::gateway::wechatpay {

// ---- Limits -----------------------------------------------------------------

// WeChat's notification bodies are ~1 KiB; anything near this is not from them.
inline constexpr size_t notify_body_size_max = 64 * 1024;
// Longest Wechatpay-* header value looked at (signatures of 4096-bit keys are
// 684 Base64 characters).
inline constexpr size_t header_value_size_max = 1024;
inline constexpr int64_t timestamp_skew_s_max = 300;  // API.md: 5 minutes either way
inline constexpr size_t timestamp_digits_max = 12;    // seconds; year 33658
inline constexpr size_t apiv3_key_size = 32;
inline constexpr size_t gcm_tag_size = 16;
// WeChat sends 12-byte nonces; other lengths are legal GCM, so accept a range.
inline constexpr size_t gcm_nonce_size_max = 64;
inline constexpr size_t associated_data_size_max = 256;
// Longest string field kept from a transaction (openid is the longest WeChat
// documents, at 128).
inline constexpr size_t field_size_max = 128;
inline constexpr size_t public_key_file_size_max = 64 * 1024;
inline constexpr size_t apiv3_key_file_size_max = 4096;
inline constexpr int rsa_key_bits_min = 2048;
inline constexpr int json_depth_max = 16;

static_assert(gcm_tag_size == 16, "AES-GCM tag WeChat appends to the ciphertext");
static_assert(apiv3_key_size == 32, "AES-256 key");
static_assert(header_value_size_max * 3 / 4 >= 4096 / 8, "room for a 4096-bit signature");
static_assert(notify_body_size_max <= (1u << 20), "within base64_input_size_max");
static_assert(timestamp_digits_max < 19, "fits int64 without overflow checks");

// ---- Errors -----------------------------------------------------------------

// Stable numbers: they reach logs and metrics. DO NOT CHANGE THESE VALUES.
enum class Error : uint32_t {
  ok = 0,
  // Configuration.
  key_file_unreadable = 1,
  key_not_public = 2,  // PEM holds no public key or certificate (e.g. a private key)
  key_not_rsa = 3,
  key_too_small = 4,
  apiv3_key_unreadable = 5,
  apiv3_key_bad_size = 6,
  // verify()
  body_too_large = 10,
  missing_header = 11,  // `field` names it
  header_too_long = 12,
  bad_timestamp = 13,    // not a plain decimal number of seconds
  stale_timestamp = 14,  // more than timestamp_skew_s_max from now
  bad_signature_encoding = 15,
  bad_signature = 16,
  // decrypt()
  malformed_json = 20,
  bad_field = 21,  // missing, wrong type, empty or too long; `field` names it
  wrong_algorithm = 22,
  bad_base64 = 23,
  ciphertext_too_short = 24,
  decrypt_failed = 25,  // GCM tag mismatch: wrong key, nonce, data or tag
  // parse_transaction()
  malformed_transaction = 30,
  bad_transaction_field = 31,  // `field` names it
};
std::string_view error_name(Error error);

struct Status {
  Error error = Error::ok;
  // Which header or JSON field, for missing_header / bad_field; a reason for
  // configuration errors. Empty otherwise.
  std::string detail;

  bool ok() const { return error == Error::ok; }
  std::string message() const;  // "<error name>: <detail>"
};

// ---- Inputs and outputs -----------------------------------------------------

// Header values as received; nullopt when absent. Wechatpay-Serial names the
// platform key; one key is configured, so it is not checked.
struct NotifyHeaders {
  std::optional<std::string_view> timestamp;  // Wechatpay-Timestamp
  std::optional<std::string_view> nonce;      // Wechatpay-Nonce
  std::optional<std::string_view> signature;  // Wechatpay-Signature
  std::optional<std::string_view> serial;     // Wechatpay-Serial
};

struct Notification {
  std::string id;
  std::string create_time;
  std::string event_type;  // "TRANSACTION.SUCCESS", ...
  std::string resource_type;
  std::string summary;
  std::string original_type;  // resource.original_type ("transaction")
  std::string plaintext;      // decrypted resource: transaction JSON
};

enum class TradeState : uint8_t {
  success,
  refund,
  notpay,
  closed,
  revoked,
  userpaying,
  payerror,
  other,  // a state WeChat adds later; the raw string is kept
};

struct Transaction {
  std::string out_trade_no;  // our recharge / payment id
  std::string transaction_id;
  TradeState trade_state = TradeState::other;
  std::string trade_state_raw;
  int64_t amount_total_fen = 0;  // amount.total, minor units
  std::string amount_currency;   // amount.currency, "CNY"
  std::optional<std::string> payer_openid;
  std::optional<std::string> success_time;  // RFC 3339; present for SUCCESS
};

// ---- The verifier -----------------------------------------------------------

class Verifier {
 public:
  // Platform public key: a PEM "PUBLIC KEY" or a platform "CERTIFICATE", RSA of
  // at least rsa_key_bits_min. APIv3 key: the first line of its file, exactly
  // 32 bytes.
  static Status load(const std::string& public_key_pem_path, const std::string& apiv3_key_path,
                     std::unique_ptr<Verifier>* out);
  static Status from_memory(std::string_view public_key_pem, std::string_view apiv3_key,
                            std::unique_ptr<Verifier>* out);

  ~Verifier();
  Verifier(const Verifier&) = delete;
  Verifier& operator=(const Verifier&) = delete;

  // Checks the timestamp against now_s (seconds since the epoch), then the
  // RSA-SHA256 PKCS#1 v1.5 signature over
  //     timestamp "\n" nonce "\n" body "\n".
  Status verify(const NotifyHeaders& headers, std::string_view body, int64_t now_s) const;

  // Parses the notification envelope and decrypts its resource with
  // AES-256-GCM (key = APIv3 key, IV = resource.nonce, AAD =
  // resource.associated_data, tag = last 16 bytes of the decoded ciphertext).
  Status decrypt(std::string_view body, Notification* out) const;

 private:
  struct Impl;
  explicit Verifier(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Strict: required fields present with the right JSON types (amount.total an
// integer, not a float or a string), strings non-empty and at most
// field_size_max. Any trade_state is accepted and reported; the caller acts
// only on success.
Status parse_transaction(std::string_view plaintext, Transaction* out);

std::string_view trade_state_name(TradeState state);

}  // namespace coffer::gateway::wechatpay
