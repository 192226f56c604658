// API keys resolved through the ledger (SPEC A2, DESIGN.md "Gateway": keys
// live in cofferd, hashed, so any number of gateways share them).
//
// resolve(key): the bootstrap platform key (compared in constant time) first;
// else a well-formed key is looked up by api_key_get (id = the first 16 bytes
// of key_hash(key)) and its text text_key("api_key", key_id) gives the
// merchant and store id strings (without a text: their decimal core ids).
// Answers are cached for a few seconds, unknown keys too, so that a flood of
// requests with one key costs one ledger read per TTL; the cache is bounded.
// A ledger that does not answer (or whose key text cannot be read) resolves
// to KeyStatus::unavailable, which the router answers 503: never cached, and
// never a 401 for a key that may well be good. The bootstrap key needs no
// ledger and keeps working.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/types.h"
#include "gateway/api_keys.h"
#include "gateway/ledger_link.h"
#include "gateway/routes.h"

namespace coffer::gateway {

// A revoked or re-scoped key keeps working for at most this long on a gateway
// that cached it.
inline constexpr uint32_t key_cache_ttl_ms = 5'000;
// Unknown keys: shorter, so that a key just created elsewhere works soon.
inline constexpr uint32_t key_cache_negative_ttl_ms = 1'000;
inline constexpr size_t key_cache_entries_max = 16'384;
static_assert(key_cache_negative_ttl_ms <= key_cache_ttl_ms);

// The ledger's id of a key: the first 16 bytes of its hash (lo = bytes 0..7,
// hi = 8..15, little-endian, as net::id_from_string).
Id128 api_key_ledger_id(const ApiKeyHash& hash);

struct LedgerKeyResolverOptions {
  uint32_t ttl_ms = key_cache_ttl_ms;
  uint32_t negative_ttl_ms = key_cache_negative_ttl_ms;
  size_t entries_max = key_cache_entries_max;
  // Injectable for tests.
  std::function<std::chrono::steady_clock::time_point()> now = std::chrono::steady_clock::now;
};

class LedgerKeyResolver final : public KeyResolver {
 public:
  // `link` must outlive the resolver's use; `bootstrap_key` is the platform
  // key of --admin-key-file.
  LedgerKeyResolver(LedgerLink* link, std::string bootstrap_key,
                    LedgerKeyResolverOptions options = {});
  ~LedgerKeyResolver() override;
  LedgerKeyResolver(const LedgerKeyResolver&) = delete;
  LedgerKeyResolver& operator=(const LedgerKeyResolver&) = delete;

  void resolve(std::string_view key, Done done) const override;

  // Entries in the cache now (for tests and metrics).
  size_t cached() const;

 private:
  struct Cache;
  LedgerLink* link_;
  std::string bootstrap_key_;
  Principal bootstrap_;
  // Shared with callbacks that may outlive a resolve() call.
  std::shared_ptr<Cache> cache_;
};

}  // namespace coffer::gateway
