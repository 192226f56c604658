// LedgerKeyResolver against a real cofferd (subprocess): lookup by key hash,
// the bootstrap key, tenant strings from the key's text, and the cache —
// positive and negative answers kept for their TTL (driven by a fake clock),
// bounded in size; an unreachable ledger is "unavailable" (503), not "unknown".
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <optional>
#include <string>

#include "core/command_text.h"
#include "core/types.h"
#include "gateway/api_keys.h"
#include "gateway/handler_util.h"
#include "gateway/ledger_keys.h"
#include "gateway/ledger_link.h"
#include "net/ids.h"
#include "tests/gateway/process_util.h"

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace coffer;
using namespace coffer::gateway;
using coffer::testing::Child;
using coffer::testing::free_port;

class LedgerKeysTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("coffer-admin-keys-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    uint16_t port = free_port();
    ledger_ = std::make_unique<Child>(
        Child::start({COFFER_COFFERD_BIN, "--data", (dir_ / "data").string(), "--listen",
                      "127.0.0.1:" + std::to_string(port)},
                     dir_ / "cofferd.log"));
    ASSERT_TRUE(ledger_->wait_for_output("ready", std::chrono::seconds(10))) << ledger_->output();
    LedgerLinkOptions o;
    o.port = port;
    std::ifstream(dir_ / "data" / "token") >> o.token;
    link_ = std::make_unique<LedgerLink>(o, nullptr);

    LedgerKeyResolverOptions ro;
    ro.ttl_ms = 5'000;
    ro.negative_ttl_ms = 1'000;
    ro.entries_max = 4;
    ro.now = [this] { return now_; };
    keys_ = std::make_unique<LedgerKeyResolver>(link_.get(), "bootstrap-secret", ro);
  }
  void TearDown() override {
    keys_.reset();
    link_.reset();
    ledger_.reset();
    fs::remove_all(dir_);
  }

  KeyResolution resolve_status(const std::string& key) {
    std::promise<KeyResolution> p;
    keys_->resolve(key, [&p](KeyResolution r) { p.set_value(std::move(r)); });
    return p.get_future().get();
  }
  // The principal of a known key; nullopt for an unknown one. With the ledger
  // up, never "unavailable".
  std::optional<Principal> resolve(const std::string& key) {
    KeyResolution r = resolve_status(key);
    EXPECT_NE(r.status, KeyStatus::unavailable) << key;
    if (!r.known()) return std::nullopt;
    return r.principal;
  }

  Result submit(const Command& c, std::optional<CommandText> text) {
    std::vector<CommandText> texts;
    if (text) texts.push_back(std::move(*text));
    std::promise<client::SubmitResult> p;
    link_->submit({c}, std::move(texts), [&p](client::SubmitResult r) { p.set_value(r); });
    client::SubmitResult r = p.get_future().get();
    if (r.status != Result::ok) return r.status;
    return r.replies.at(0).result;
  }

  // api_key_set as POST /v1/api-keys makes it, with or without its text.
  Result set_key(const std::string& key, uint8_t role, uint64_t merchant, uint64_t store,
                 uint8_t enabled, bool with_text) {
    ApiKeyHash h = key_hash(key);
    Command c{};
    c.kind = CommandKind::api_key_set;
    c.id = random_id();
    c.body.api_key.key_hash = api_key_ledger_id(h);
    c.body.api_key.merchant_id = merchant;
    c.body.api_key.store_id = store;
    c.body.api_key.role = role;
    c.body.api_key.enabled = enabled;
    std::optional<CommandText> text;
    if (with_text) {
      json::object o{{"key_id", key_id(h)},
                     {"role", "store"},
                     {"merchant_id", "tea-house"},
                     {"store_id", "north-1"}};
      text = make_text(text_key("api_key", key_id(h)), 0, o);
    }
    return submit(c, std::move(text));
  }

  std::string new_key() {
    std::string k;
    EXPECT_TRUE(generate_api_key(&k));
    return k;
  }

  fs::path dir_;
  std::unique_ptr<Child> ledger_;
  std::unique_ptr<LedgerLink> link_;
  std::unique_ptr<LedgerKeyResolver> keys_;
  std::chrono::steady_clock::time_point now_ =
      std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
};

TEST_F(LedgerKeysTest, BootstrapAndMalformed) {
  auto p = resolve("bootstrap-secret");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->role, Role::platform);
  EXPECT_EQ(p->key_id, key_id(key_hash("bootstrap-secret")));
  EXPECT_FALSE(resolve("bootstrap-secreT"));
  EXPECT_FALSE(resolve("ck_live_short"));
  EXPECT_EQ(keys_->cached(), 0u);  // neither needs the ledger
}

TEST_F(LedgerKeysTest, TenantFromTextOrCoreIds) {
  // A store of a merchant whose ids are not numbers: the text gives them.
  uint64_t m = net::account_id_from_string("tea-house");
  uint64_t s = net::account_id_from_string("north-1");
  Command merchant{};
  merchant.kind = CommandKind::merchant_set;
  merchant.id = random_id();
  merchant.body.merchant.merchant_id = m;
  ASSERT_EQ(submit(merchant, std::nullopt), Result::ok);
  Command store{};
  store.kind = CommandKind::store_set;
  store.id = random_id();
  store.body.store.merchant_id = m;
  store.body.store.store_id = s;
  ASSERT_EQ(submit(store, std::nullopt), Result::ok);
  std::string with_text = new_key();
  ASSERT_EQ(set_key(with_text, role_store, m, s, 1, true), Result::ok);
  auto p = resolve(with_text);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->role, Role::store);
  EXPECT_EQ(p->merchant_id, "tea-house");
  EXPECT_EQ(p->store_id, "north-1");
  EXPECT_EQ(p->key_id, key_id(key_hash(with_text)));

  // Without a text the core ids stand in (numeric ids are themselves).
  Command m7 = merchant;
  m7.id = random_id();
  m7.body.merchant.merchant_id = 7;
  ASSERT_EQ(submit(m7, std::nullopt), Result::ok);
  std::string bare = new_key();
  ASSERT_EQ(set_key(bare, role_merchant, 7, 0, 1, false), Result::ok);
  p = resolve(bare);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->role, Role::merchant);
  EXPECT_EQ(p->merchant_id, "7");
  EXPECT_EQ(p->store_id, "");
}

TEST_F(LedgerKeysTest, CacheKeepsAnswersForTheirTtl) {
  std::string key = new_key();
  EXPECT_FALSE(resolve(key));  // unknown: cached negative
  ASSERT_EQ(set_key(key, role_service, 0, 0, 1, false), Result::ok);
  EXPECT_FALSE(resolve(key));  // still the cached answer
  now_ += std::chrono::milliseconds(1'001);
  auto p = resolve(key);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->role, Role::service);

  // Revoked in the ledger: the cached principal holds until its TTL ends.
  ASSERT_EQ(set_key(key, role_service, 0, 0, 0, false), Result::ok);
  now_ += std::chrono::milliseconds(4'000);
  EXPECT_TRUE(resolve(key));
  now_ += std::chrono::milliseconds(1'001);
  EXPECT_FALSE(resolve(key));
}

TEST_F(LedgerKeysTest, CacheIsBounded) {
  for (int i = 0; i < 10; i++) {
    EXPECT_FALSE(resolve(new_key()));
    EXPECT_LE(keys_->cached(), 4u);
  }
  EXPECT_GE(keys_->cached(), 1u);
}

TEST_F(LedgerKeysTest, LedgerDownIsUnavailableNotUnknown) {
  std::string cached = new_key();
  ASSERT_EQ(set_key(cached, role_service, 0, 0, 1, false), Result::ok);
  ASSERT_TRUE(resolve(cached));
  std::string fresh = new_key();
  ASSERT_EQ(set_key(fresh, role_service, 0, 0, 1, false), Result::ok);

  ledger_.reset();  // SIGKILL: the ledger is gone
  EXPECT_EQ(resolve_status(fresh).status, KeyStatus::unavailable);
  EXPECT_EQ(resolve_status(new_key()).status, KeyStatus::unavailable);
  // The bootstrap key needs no ledger; a cached answer holds for its TTL.
  KeyResolution boot = resolve_status("bootstrap-secret");
  ASSERT_TRUE(boot.known());
  EXPECT_EQ(boot.principal.role, Role::platform);
  EXPECT_TRUE(resolve_status(cached).known());
  EXPECT_EQ(resolve_status("ck_live_short").status, KeyStatus::unknown);  // malformed stays 401
  now_ += std::chrono::milliseconds(5'001);
  EXPECT_EQ(resolve_status(cached).status, KeyStatus::unavailable);
  // Unavailable answers are not cached.
  EXPECT_EQ(keys_->cached(), 0u);
}

}  // namespace
