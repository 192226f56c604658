#include "gateway/ledger_keys.h"

#include <boost/json/object.hpp>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <utility>

#include "core/assert.h"
#include "gateway/handler_util.h"

namespace coffer::gateway {

namespace json = boost::json;

Id128 api_key_ledger_id(const ApiKeyHash& hash) {
  uint64_t lo = 0, hi = 0;
  for (int i = 7; i >= 0; i--) {
    lo = (lo << 8) | hash[size_t(i)];
    hi = (hi << 8) | hash[size_t(i) + 8];
  }
  return Id128{lo, hi};
}

struct LedgerKeyResolver::Cache {
  struct Entry {
    std::optional<Principal> principal;
    std::chrono::steady_clock::time_point expires;
  };
  struct IdHash {
    size_t operator()(const Id128& id) const {
      return size_t(id.lo ^ (id.hi * 0x9e3779b97f4a7c15ull));
    }
  };

  LedgerKeyResolverOptions options;
  mutable std::mutex mu;  // guards entries
  std::unordered_map<Id128, Entry, IdHash> entries;

  std::optional<Entry> find(const Id128& id) {
    std::lock_guard<std::mutex> lock(mu);
    auto it = entries.find(id);
    if (it == entries.end()) return std::nullopt;
    if (it->second.expires <= options.now()) {
      entries.erase(it);
      return std::nullopt;
    }
    return it->second;
  }

  void put(const Id128& id, std::optional<Principal> principal) {
    auto now = options.now();
    uint32_t ttl_ms = principal ? options.ttl_ms : options.negative_ttl_ms;
    std::lock_guard<std::mutex> lock(mu);
    if (entries.size() >= options.entries_max && entries.find(id) == entries.end()) {
      // Full: drop what expired; if nothing did, start over rather than grow
      // (a flood of random keys must not hold memory).
      std::erase_if(entries, [now](const auto& kv) { return kv.second.expires <= now; });
      if (entries.size() >= options.entries_max) entries.clear();
    }
    entries[id] = Entry{std::move(principal), now + std::chrono::milliseconds(ttl_ms)};
    COFFER_ASSERT(entries.size() <= options.entries_max);
  }
};

LedgerKeyResolver::LedgerKeyResolver(LedgerLink* link, std::string bootstrap_key,
                                     LedgerKeyResolverOptions options)
    : link_(link), bootstrap_key_(std::move(bootstrap_key)), cache_(std::make_shared<Cache>()) {
  COFFER_ASSERT(link_ != nullptr && options.entries_max > 0 && options.now);
  cache_->options = std::move(options);
  bootstrap_.role = Role::platform;
  bootstrap_.key_id = key_id(key_hash(bootstrap_key_));
}

LedgerKeyResolver::~LedgerKeyResolver() = default;

size_t LedgerKeyResolver::cached() const {
  std::lock_guard<std::mutex> lock(cache_->mu);
  return cache_->entries.size();
}

namespace {

std::optional<Role> role_of(uint8_t api_role) {
  switch (api_role) {
    case role_platform:
      return Role::platform;
    case role_service:
      return Role::service;
    case role_merchant:
      return Role::merchant;
    case role_store:
      return Role::store;
    default:
      return std::nullopt;
  }
}

std::string text_string(const json::object& text, std::string_view name, std::string fallback) {
  auto it = text.find(name);
  if (it != text.end() && it->value().is_string()) return std::string(it->value().get_string());
  return fallback;
}

}  // namespace

void LedgerKeyResolver::resolve(std::string_view key, Done done) const {
  if (constant_time_equal(key, bootstrap_key_)) return done(KeyResolution::found(bootstrap_));
  if (!is_well_formed_api_key(key)) return done(KeyResolution::unknown());
  const ApiKeyHash hash = key_hash(key);
  const Id128 id = api_key_ledger_id(hash);
  if (auto hit = cache_->find(id)) {
    if (!hit->principal) return done(KeyResolution::unknown());
    return done(KeyResolution::found(std::move(*hit->principal)));
  }

  Command c = read_command(CommandKind::api_key_get);
  c.body.read.id = id;
  LedgerLink* link = link_;
  std::string kid = key_id(hash);
  link_->submit(
      {c}, [link, cache = cache_, id, kid, done = std::move(done)](client::SubmitResult r) mutable {
        if (r.status != Result::ok || r.replies.size() != 1) {
          return done(KeyResolution::unavailable());
        }
        const Reply& reply = r.replies[0];
        if (reply.result == Result::not_found) {
          cache->put(id, std::nullopt);
          return done(KeyResolution::unknown());
        }
        if (reply.result != Result::ok) return done(KeyResolution::unavailable());
        ReplyData d = reply_data(reply);
        std::optional<Role> role = role_of(d.detail);
        if (d.state == 0 || !role) {  // revoked
          cache->put(id, std::nullopt);
          return done(KeyResolution::unknown());
        }
        Principal p;
        p.role = *role;
        p.key_id = kid;
        const uint64_t merchant = static_cast<uint64_t>(d.v[0]);
        const uint64_t store = static_cast<uint64_t>(d.v[1]);
        client::Query q;
        q.kind = client::QueryKind::texts;
        q.ids = {text_key("api_key", kid)};
        link->query(std::move(q), [cache, id, p, merchant, store,
                                   done = std::move(done)](client::QueryResult t) mutable {
          // A tenant key whose text cannot be read now would get the wrong
          // tenant ids (the decimal core ids): unavailable, not a guess.
          if (t.status != Result::ok || t.rows.size() != 1) {
            return done(KeyResolution::unavailable());
          }
          // Without a text the core ids stand in: for numeric ids they are the ids.
          json::object text = parse_text(t.rows[0].text);
          if (p.role == Role::merchant || p.role == Role::store) {
            p.merchant_id = text_string(text, "merchant_id", std::to_string(merchant));
          }
          if (p.role == Role::store)
            p.store_id = text_string(text, "store_id", std::to_string(store));
          cache->put(id, p);
          done(KeyResolution::found(std::move(p)));
        });
      });
}

}  // namespace coffer::gateway
