// The notify handler: real signed and encrypted notifications in, the answers
// of API.md out, and the ledger asked to confirm only for a verified SUCCESS.
#include "gateway/wechat_notify.h"

#include <gtest/gtest.h>

#include <memory>
#include <optional>

#include "tests/gateway/fake_wechatpay.h"

namespace coffer::gateway {
namespace {

using namespace wechatpay;

constexpr int64_t kNow = 1'795'000'000;

struct Answer {
  unsigned status = 0;
  std::string body;
};

class WechatNotifyTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    platform_ = generate_rsa(2048).release();
    stranger_ = generate_rsa(2048).release();
  }
  static void TearDownTestSuite() {
    EVP_PKEY_free(platform_);
    EVP_PKEY_free(stranger_);
  }
  void SetUp() override {
    apiv3_key_ = random_alnum(32);
    ASSERT_TRUE(Verifier::from_memory(public_pem(platform_), apiv3_key_, &verifier_).ok());
  }

  BuildOptions options() const {
    BuildOptions o;
    o.signer = platform_;
    o.apiv3_key = apiv3_key_;
    o.timestamp_s = kNow;
    return o;
  }

  // Runs the handler on `n` with a ledger that answers `outcome`.
  Answer post(const Built& n, ConfirmOutcome outcome = ConfirmOutcome::confirmed,
              const Verifier* verifier = nullptr, bool use_verifier = true) {
    auto handler = make_wechatpay_notify_handler(
        use_verifier ? (verifier ? verifier : verifier_.get()) : nullptr,
        [this, outcome](const ChannelConfirmation& c, std::function<void(ConfirmOutcome)> done) {
          confirmations_.push_back(c);
          done(outcome);
        },
        [] { return kNow; });
    auto req = std::make_shared<Request>();
    req->raw.method(boost::beast::http::verb::post);
    req->raw.target("/v1/wechatpay/notify");
    if (!n.timestamp.empty()) req->raw.set("Wechatpay-Timestamp", n.timestamp);
    if (!n.nonce.empty()) req->raw.set("Wechatpay-Nonce", n.nonce);
    if (!n.signature.empty()) req->raw.set("Wechatpay-Signature", n.signature);
    req->raw.set("Wechatpay-Serial", "5157F09EFDC096DE15EBE81A47057A72");
    req->raw.body() = n.body;
    Answer answer;
    handler(*req, Responder(req, [&answer](Response r) {
      answer.status = r.status;
      answer.body = r.body;
    }));
    return answer;
  }

  static EVP_PKEY* platform_;
  static EVP_PKEY* stranger_;
  std::string apiv3_key_;
  std::unique_ptr<Verifier> verifier_;
  std::vector<ChannelConfirmation> confirmations_;
};
EVP_PKEY* WechatNotifyTest::platform_ = nullptr;
EVP_PKEY* WechatNotifyTest::stranger_ = nullptr;

TEST_F(WechatNotifyTest, ValidSuccessConfirmsWithTransactionIdAndAmount) {
  Answer a = post(build_notification(options(), sample_transaction()));
  EXPECT_EQ(a.status, 204u);
  EXPECT_TRUE(a.body.empty());
  ASSERT_EQ(confirmations_.size(), 1u);
  EXPECT_EQ(confirmations_[0].out_trade_no, "rc_20261124_0001");
  EXPECT_EQ(confirmations_[0].transaction_id, "4200001234202611241234567890");
  EXPECT_EQ(confirmations_[0].amount_fen, 1000);
}

TEST_F(WechatNotifyTest, LedgerOutcomesMapToTheAnswersOfApiMd) {
  struct Row {
    ConfirmOutcome outcome;
    unsigned status;
  };
  for (Row row : {Row{ConfirmOutcome::duplicate, 204}, Row{ConfirmOutcome::amount_mismatch, 204},
                  Row{ConfirmOutcome::not_found, 404}, Row{ConfirmOutcome::unavailable, 500}}) {
    Answer a = post(build_notification(options(), sample_transaction()), row.outcome);
    EXPECT_EQ(a.status, row.status) << static_cast<int>(row.outcome);
    if (row.status != 204) {
      EXPECT_NE(a.body.find("\"FAIL\""), std::string::npos) << a.body;
    }
  }
}

TEST_F(WechatNotifyTest, ForgedSignatureIsRejectedAndNothingIsConfirmed) {
  BuildOptions o = options();
  o.signer = stranger_;
  Answer a = post(build_notification(o, sample_transaction()));
  EXPECT_EQ(a.status, 401u);
  EXPECT_NE(a.body.find("\"FAIL\""), std::string::npos);
  EXPECT_TRUE(confirmations_.empty());
}

TEST_F(WechatNotifyTest, StaleAndFutureTimestampsAreRejected) {
  for (int64_t skew : {-301, 301}) {
    BuildOptions o = options();
    o.timestamp_s = kNow + skew;
    EXPECT_EQ(post(build_notification(o, sample_transaction())).status, 401u) << skew;
  }
  BuildOptions o = options();
  o.timestamp_s = kNow - 300;  // exactly at the edge of the window: accepted
  EXPECT_EQ(post(build_notification(o, sample_transaction())).status, 204u);
  EXPECT_EQ(confirmations_.size(), 1u);
}

TEST_F(WechatNotifyTest, WrongApiV3KeyOrTamperedCiphertextIsRejected) {
  BuildOptions o = options();
  o.apiv3_key = random_alnum(32);
  EXPECT_EQ(post(build_notification(o, sample_transaction())).status, 401u);

  o = options();
  o.edit_envelope = [](json::object& env) {
    auto& ct = env["resource"].as_object()["ciphertext"];
    std::string s(ct.as_string());
    s[4] = s[4] == 'A' ? 'B' : 'A';
    ct = s;
  };
  EXPECT_EQ(post(build_notification(o, sample_transaction())).status, 401u);
  EXPECT_TRUE(confirmations_.empty());
}

TEST_F(WechatNotifyTest, MissingSignatureHeadersAreRejected) {
  Built n = build_notification(options(), sample_transaction());
  n.signature.clear();
  EXPECT_EQ(post(n).status, 401u);
  EXPECT_TRUE(confirmations_.empty());
}

TEST_F(WechatNotifyTest, OtherTradeStatesAreAcknowledgedWithoutConfirming) {
  json::object t = sample_transaction();
  t["trade_state"] = "CLOSED";
  EXPECT_EQ(post(build_notification(options(), t)).status, 204u);
  EXPECT_TRUE(confirmations_.empty());
}

TEST_F(WechatNotifyTest, MalformedTransactionIsRejected) {
  json::object t = sample_transaction();
  t["amount"].as_object()["total"] = "1000";  // a string, not an integer
  Answer a = post(build_notification(options(), t));
  EXPECT_EQ(a.status, 400u);
  EXPECT_TRUE(confirmations_.empty());
}

TEST_F(WechatNotifyTest, NotConfiguredAnswers503) {
  Answer a = post(build_notification(options(), sample_transaction()), ConfirmOutcome::confirmed,
                  nullptr, /*use_verifier=*/false);
  EXPECT_EQ(a.status, 503u);
  EXPECT_TRUE(confirmations_.empty());
}

}  // namespace
}  // namespace coffer::gateway
