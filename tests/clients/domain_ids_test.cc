// clients/domain_ids.h, domain_names.h and voucher_code.h: the one derivation
// of ids, text keys, hashes and voucher codes for the gateway and the CLI.
// Stable forever (stored texts and idempotency depend on them), so they are
// checked against known answers computed outside this code: SHA-256 and
// HMAC-SHA256 in Python's hashlib/hmac, by the formulas in domain_ids.h and
// voucher_code.h (little-endian bytes 0..7 = lo, 8..15 = hi).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <string>
#include <vector>

#include "clients/domain_ids.h"
#include "clients/domain_names.h"
#include "clients/voucher_code.h"
#include "gateway/codes.h"
#include "gateway/handlers_admin.h"
#include "net/ids.h"

namespace coffer {
namespace {

// sha256("text:member:42")[0..16] and sha256("group:member:42")[0..8], and so on.
TEST(DomainIds, TextKeysAndGroupsKnownAnswers) {
  struct Case {
    const char* ns;
    const char* id;
    Id128 key;
    uint64_t group;
  };
  const Case cases[] = {
      {"member", "42", {0x9775deb464c015d3, 0x5844c9ec3ae41b2e}, 0x7d5c6b19f3c0a563},
      {"merchant", "m-7", {0x4df8ebbef105ddb6, 0xc9b173d1484b5b06}, 0x9908a2f2fda4e248},
      {"store", "5/6", {0xb91c3da76b23b47c, 0x5f211901302dd0aa}, 0x2531ab8fa4d1e8c0},
      {"config", "guide", {0xe00f0d4982a91d25, 0x1721b0428a4e059e}, 0xb064011052332c13},
      {"api_key", "", {0x89b12225e30e821b, 0x13dd6b7639a87171}, 0x4505f10fd9db9c8f},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(client::text_key(c.ns, c.id), c.key) << c.ns << " " << c.id;
    EXPECT_EQ(client::text_group(c.ns, c.id), c.group) << c.ns << " " << c.id;
  }
  EXPECT_EQ(client::member_text_key(42), client::text_key("member", "42"));
  EXPECT_EQ(client::guide_text_key(), client::text_key("config", "guide"));
  // The gateway composes a store's key from account ids: the same key.
  EXPECT_EQ(client::text_key("store", "5/6"), gateway::store_text_key(5, 6));
  EXPECT_NE(client::text_key("member", "1"), client::text_key("merchant", "1"));
}

// sha256("phone:" + digits without '-')[0..8].
TEST(DomainIds, PhoneHashKnownAnswers) {
  EXPECT_EQ(client::phone_hash("13800000000"), 0xd95aa2df668bcf14u);
  EXPECT_EQ(client::phone_hash("138-0000-0000"), 0xd95aa2df668bcf14u);
  EXPECT_EQ(client::phone_hash("+86-138"), 0x47b0947be93f22e7u);
  EXPECT_EQ(client::phone_hash("1"), 0x4093c51d2a9786a2u);
  EXPECT_NE(client::phone_hash("---"), 0u);
  EXPECT_EQ(client::phone_hash("138-0000"), client::phone_hash("1380000"));
  EXPECT_NE(client::phone_hash("1380000"), client::phone_hash("1380001"));
}

TEST(DomainIds, CommandIdsUseTheNamespaces) {
  EXPECT_EQ(client::command_id("payment", "p1"), net::id_from_string("payment", "p1"));
  EXPECT_NE(client::command_id("payment", "p1"), client::command_id("refund", "p1"));
  // sha256("recharge_confirm:r1/t1")[0..16]; the gateway's WeChat confirmation uses it.
  EXPECT_EQ(client::recharge_confirm_id("r1", "t1"),
            (Id128{0x878df4401ed21c8c, 0xe0ba2f89496e503c}));
  EXPECT_EQ(gateway::recharge_confirm_command("r1", "t1", 5).id,
            client::recharge_confirm_id("r1", "t1"));
  EXPECT_NE(client::recharge_confirm_id("r1", "t1"), client::recharge_confirm_id("r1/t", "1"));
  EXPECT_NE(client::payout_hash("a\n", "b"), client::payout_hash("a", "\nb"));
  EXPECT_EQ(client::payout_hash("bank", "6222"), net::id_from_string("payout", "4:bank6222").lo);
}

TEST(DomainIds, Validation) {
  EXPECT_TRUE(client::is_valid_caller_id("a-Z_0.9:x"));
  EXPECT_TRUE(client::is_valid_caller_id(std::string(64, 'a')));
  EXPECT_FALSE(client::is_valid_caller_id(std::string(65, 'a')));
  EXPECT_FALSE(client::is_valid_caller_id(""));
  EXPECT_FALSE(client::is_valid_caller_id("a b"));
  EXPECT_FALSE(client::is_valid_caller_id("a/b"));
  EXPECT_TRUE(client::is_valid_phone("+86-138"));
  EXPECT_FALSE(client::is_valid_phone("138 0000"));
  EXPECT_FALSE(client::is_valid_phone(std::string(33, '1')));
  EXPECT_EQ(client::utf8_length("谢谢"), 2u);
  EXPECT_EQ(client::utf8_length("abc"), 3u);
}

TEST(DomainNames, RoundTripsAndKnownNames) {
  for (uint8_t ch = 0; ch <= channel_other; ch++)
    EXPECT_EQ(client::channel_from_name(client::channel_name(ch)), ch);
  EXPECT_FALSE(client::channel_from_name("gold"));
  EXPECT_EQ(client::payment_state_name(payment_captured), "captured");
  EXPECT_EQ(client::recharge_state_name(recharge_paid_late), "paid_late");
  EXPECT_EQ(client::withdrawal_state_name(withdrawal_rejected), "rejected");
  EXPECT_EQ(client::history_type(uint16_t(EffectKind::transfer_posted), code_gift, -5),
            "gift_sent");
  EXPECT_EQ(client::history_type(uint16_t(EffectKind::transfer_posted), code_gift, 5),
            "gift_received");
  EXPECT_EQ(client::history_type(uint16_t(EffectKind::hold_created), code_withdrawal_hold, -5),
            "withdrawal_hold");
  EXPECT_EQ(client::history_type(uint16_t(EffectKind::hold_voided), code_payment_hold, 5),
            "release");
}

client::VoucherSecret test_secret() {
  client::VoucherSecret secret{};
  for (size_t i = 0; i < secret.size(); i++)
    secret[i] = uint8_t(i * 7 + 1);
  return secret;
}

// hmac(bytes(i * 7 + 1 for i in range(32)), b"7KQ2MH-9XC4RT-P3WNVQ", sha256), the
// first 16 bytes (861ff9122280540b054a683be3f6c526); malformed input hashes
// "malformed:" + input (4f97fee90338f6bd4ccf6c48ecbe9466 for "nope").
TEST(VoucherCode, KeyedHashKnownAnswers) {
  const client::VoucherSecret secret = test_secret();
  const Id128 code_id{0x0b54802212f91f86, 0x26c5f6e33b684a05};
  EXPECT_EQ(client::voucher_code_id(secret, "7KQ2MH-9XC4RT-P3WNVQ"), code_id);
  EXPECT_EQ(client::keyed_code_hash(secret, "7KQ2MH-9XC4RT-P3WNVQ")[0], 0x86);
  EXPECT_EQ(client::keyed_code_hash(secret, "7KQ2MH-9XC4RT-P3WNVQ")[15], 0x26);
  EXPECT_EQ(client::typed_voucher_code_id(secret, "coffer:v1: 7kq2mh 9xc4rt p3wnvq"), code_id);
  EXPECT_EQ(client::typed_voucher_code_id(secret, "nope"),
            (Id128{0xbdf63803e9fe974f, 0x6694beec486ccf4c}));
  // A typo (Q -> R) breaks the check symbol: hashed as malformed, not as a code.
  EXPECT_FALSE(client::normalise_voucher_code("7KQ2MH-9XC4RT-P3WNVR"));
  EXPECT_NE(client::typed_voucher_code_id(secret, "7KQ2MH-9XC4RT-P3WNVR"), code_id);
}

// Codes minted by the gateway normalise back from what people type.
TEST(VoucherCode, GatewayCodesNormalise) {
  std::vector<std::string> codes;
  ASSERT_EQ(gateway::generate_voucher_codes(200, &codes), gateway::CodeStatus::ok);
  for (const std::string& code : codes) {
    std::string lower = "coffer:v1: ";
    for (char ch : code)
      lower.push_back(ch == '-' ? ' ' : char(std::tolower(ch)));
    EXPECT_EQ(client::normalise_voucher_code(lower), code) << lower;
    // Any single substitution breaks the check symbol.
    std::string typo = code;
    typo[0] = typo[0] == '2' ? '3' : '2';
    EXPECT_FALSE(client::normalise_voucher_code(typo)) << typo;
  }
  EXPECT_FALSE(client::normalise_voucher_code(""));
  EXPECT_FALSE(client::normalise_voucher_code(std::string(65, '2')));
}

// hmac(b"token-a", b"coffer voucher codes", sha256).
TEST(VoucherCode, SecretFromTokenAndFile) {
  const client::VoucherSecret a = client::voucher_secret_from_token("token-a");
  EXPECT_EQ(a[0], 0x20);
  EXPECT_EQ(a[1], 0xda);
  EXPECT_EQ(a[31], 0x4b);
  EXPECT_NE(a, client::voucher_secret_from_token("token-b"));
  const std::string path = ::testing::TempDir() + "/voucher-secret-" + std::to_string(::getpid());
  gateway::CodeSecret written{};
  std::remove(path.c_str());
  ASSERT_EQ(gateway::write_new_code_secret_file(path, &written), gateway::CodeStatus::ok);
  client::VoucherSecret loaded{};
  ASSERT_EQ(client::load_voucher_secret_file(path, &loaded), client::SecretFileStatus::ok);
  EXPECT_EQ(loaded, written);
  std::remove(path.c_str());
  EXPECT_EQ(client::load_voucher_secret_file(path, &loaded), client::SecretFileStatus::unreadable);
}

}  // namespace
}  // namespace coffer
