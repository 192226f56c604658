// clients/domain_ids.h, domain_names.h and voucher_code.h derive what the
// gateway derives: checked against the gateway's own functions, so that the
// two cannot drift apart while both copies exist.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <string>
#include <vector>

#include "clients/domain_ids.h"
#include "clients/domain_names.h"
#include "clients/voucher_code.h"
#include "gateway/codes.h"
#include "gateway/handler_util.h"
#include "gateway/handlers.h"
#include "gateway/handlers_admin.h"
#include "net/ids.h"

namespace coffer {
namespace {

TEST(DomainIds, TextKeysAndGroupsAreTheGateways) {
  for (const char* ns : {"member", "merchant", "store", "group", "method", "config", "api_key"}) {
    for (const char* id : {"1", "42", "m-7/s1", "guide", ""}) {
      EXPECT_EQ(client::text_key(ns, id), gateway::text_key(ns, id)) << ns << " " << id;
      EXPECT_EQ(client::text_group(ns, id), gateway::text_group(ns, id)) << ns << " " << id;
    }
  }
  EXPECT_EQ(client::member_text_key(42), gateway::text_key("member", "42"));
  EXPECT_EQ(client::guide_text_key(), gateway::text_key("config", "guide"));
  EXPECT_EQ(client::text_key("store", "5/6"), gateway::store_text_key(5, 6));
  EXPECT_NE(client::text_key("member", "1"), client::text_key("merchant", "1"));
}

TEST(DomainIds, PhoneHashIsTheGateways) {
  for (const char* phone : {"13800000000", "138-0000-0000", "+86-138", "1", "---"}) {
    EXPECT_EQ(client::phone_hash(phone), gateway::phone_hash(phone)) << phone;
    EXPECT_NE(client::phone_hash(phone), 0u);
  }
  EXPECT_EQ(client::phone_hash("138-0000"), client::phone_hash("1380000"));
  EXPECT_NE(client::phone_hash("1380000"), client::phone_hash("1380001"));
}

TEST(DomainIds, CommandIdsUseTheNamespaces) {
  EXPECT_EQ(client::command_id("payment", "p1"), net::id_from_string("payment", "p1"));
  EXPECT_NE(client::command_id("payment", "p1"), client::command_id("refund", "p1"));
  EXPECT_EQ(client::recharge_confirm_id("r1", "t1"),
            gateway::recharge_confirm_command("r1", "t1", 5).id);
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

// Codes minted by the gateway normalise and hash to what the gateway keeps.
TEST(VoucherCode, SameCanonicalFormAndKeyedHashAsTheGateway) {
  gateway::CodeSecret gsecret{};
  for (size_t i = 0; i < gsecret.size(); i++)
    gsecret[i] = uint8_t(i * 7 + 1);
  client::VoucherSecret csecret{};
  std::copy(gsecret.begin(), gsecret.end(), csecret.begin());
  std::vector<std::string> codes;
  ASSERT_EQ(gateway::generate_voucher_codes(200, &codes), gateway::CodeStatus::ok);
  for (const std::string& code : codes) {
    std::string lower = "coffer:v1: ";
    for (char ch : code)
      lower.push_back(ch == '-' ? ' ' : char(std::tolower(ch)));
    auto canonical = client::normalise_voucher_code(lower);
    ASSERT_TRUE(canonical) << lower;
    EXPECT_EQ(*canonical, code);
    const gateway::CodeHash h = gateway::keyed_code_hash(gsecret, code);
    Id128 expected{};
    for (int i = 7; i >= 0; i--) {
      expected.lo = (expected.lo << 8) | h[size_t(i)];
      expected.hi = (expected.hi << 8) | h[size_t(8 + i)];
    }
    EXPECT_EQ(client::typed_voucher_code_id(csecret, lower), expected);
    // Any single substitution breaks the check symbol.
    std::string typo = code;
    typo[0] = typo[0] == '2' ? '3' : '2';
    EXPECT_FALSE(client::normalise_voucher_code(typo)) << typo;
    std::string gcanon;
    EXPECT_EQ(gateway::normalise_voucher_code(typo, &gcanon), gateway::CodeStatus::malformed);
  }
  EXPECT_FALSE(client::normalise_voucher_code(""));
  EXPECT_FALSE(client::normalise_voucher_code(std::string(65, '2')));
  // Malformed input still hashes (V5 counts it), never like a real code.
  EXPECT_NE(client::typed_voucher_code_id(csecret, "nope"),
            client::typed_voucher_code_id(csecret, codes[0]));
}

TEST(VoucherCode, SecretFromTokenAndFile) {
  const client::VoucherSecret a = client::voucher_secret_from_token("token-a");
  EXPECT_EQ(a, client::voucher_secret_from_token("token-a"));
  EXPECT_NE(a, client::voucher_secret_from_token("token-b"));
  const std::string path = ::testing::TempDir() + "/voucher-secret-" + std::to_string(::getpid());
  gateway::CodeSecret written{};
  std::remove(path.c_str());
  ASSERT_EQ(gateway::write_new_code_secret_file(path, &written), gateway::CodeStatus::ok);
  auto loaded = client::load_voucher_secret_file(path);
  ASSERT_TRUE(loaded);
  EXPECT_TRUE(std::equal(written.begin(), written.end(), loaded->begin()));
  std::remove(path.c_str());
  EXPECT_FALSE(client::load_voucher_secret_file(path));
}

}  // namespace
}  // namespace coffer
