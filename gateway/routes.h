// The route table of API.md as data: every endpoint with its method, path
// pattern, query parameters and who may call it. The router, the auth check,
// /v1/openapi.json and the tests all read this one table.
//
// Also the roles and principals of API keys (SPEC A2) and the tenant-scoping
// helpers handlers call.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace coffer::gateway {

enum class Method : uint8_t { get, put, post, del };
std::string_view method_name(Method m);

enum class Role : uint8_t { platform = 0, service = 1, merchant = 2, store = 3 };
inline constexpr int role_count = 4;
std::string_view role_name(Role r);
std::optional<Role> parse_role(std::string_view name);

// Bit set of roles; API.md's Role column.
using RoleMask = uint8_t;
inline constexpr RoleMask role_bit(Role r) {
  return RoleMask(1u << static_cast<unsigned>(r));
}
inline constexpr RoleMask kP = role_bit(Role::platform);
inline constexpr RoleMask kS = role_bit(Role::service);
inline constexpr RoleMask kM = role_bit(Role::merchant);
inline constexpr RoleMask kT = role_bit(Role::store);
inline constexpr RoleMask kAnyRole = kP | kS | kM | kT;

enum class AuthKind : uint8_t {
  none,       // /healthz, /metrics
  key,        // Authorization: Bearer <key> with a role in `roles`
  signature,  // /v1/wechatpay/notify: verified by its handler
};

// Kinds of path parameters, decided by the parameter's name (param_kind()).
enum class ParamKind : uint8_t {
  u64,    // member_id, group_id: decimal, no sign, no leading '+', fits u64
  id,     // SPEC §0 id syntax: 1-64 chars of [A-Za-z0-9_.:-]
  phone,  // 1-32 chars of [0-9+-]
};
ParamKind param_kind(std::string_view param_name);

enum class RouteId : uint16_t {
  healthz,
  metrics,
  openapi,
  api_keys_create,
  config_get,
  config_put,
  group_put,
  groups_list,
  merchant_put,
  store_put,
  stores_nearby,
  member_create,
  members_list,
  member_get,
  member_by_phone,
  member_wallet_put,
  member_balance,
  member_history,
  member_credit,
  member_debit,
  recharge_methods_list,
  recharge_method_put,
  recharge_create,
  recharges_list,
  recharge_get,
  recharge_confirm,
  payment_create,
  payment_get,
  payment_capture,
  payment_void,
  payment_refund,
  order_complete,
  rebate_create,
  gift_create,
  member_gifts,
  member_withdrawal_limit,
  withdrawal_create,
  withdrawals_list,
  withdrawal_get,
  withdrawal_approve,
  withdrawal_reject,
  voucher_batch_create,
  voucher_batches_list,
  voucher_batch_get,
  voucher_batch_void,
  voucher_redeem,
  voucher_redeem_to_wallet,
  settlement_report,
  wechatpay_notify,
};
inline constexpr size_t route_count = static_cast<size_t>(RouteId::wechatpay_notify) + 1;

struct RouteSpec {
  RouteId id;
  Method method;
  // Literal segments and {name} parameters, e.g. "/v1/members/{member_id}".
  std::string_view pattern;
  AuthKind auth;
  RoleMask roles;  // meaningful for AuthKind::key
  // Query parameters the route accepts, comma-separated; others are rejected.
  std::string_view query;
  unsigned success_status;
  std::string_view summary;
};

// In RouteId order: route_table()[i].id == RouteId(i).
std::span<const RouteSpec> route_table();
const RouteSpec& route_spec(RouteId id);
// "GET /v1/members/{member_id}": the metrics label of a route.
std::string route_label(const RouteSpec& spec);

// --- Principals and keys -----------------------------------------------------

// Who a key belongs to. merchant_id is set for merchant and store keys,
// store_id for store keys.
struct Principal {
  Role role = Role::platform;
  std::string merchant_id;
  std::string store_id;
  std::string key_id;  // for logs; never the key itself
};

// What resolving a key found. `unavailable`: the keys could not be read (the
// ledger is unreachable), which the router answers 503 UNAVAILABLE (retry)
// rather than 401: the key may be perfectly good.
enum class KeyStatus : uint8_t { known, unknown, unavailable };

struct KeyResolution {
  KeyStatus status = KeyStatus::unknown;
  Principal principal;  // meaningful when known

  static KeyResolution found(Principal p) { return {KeyStatus::known, std::move(p)}; }
  static KeyResolution unknown() { return {KeyStatus::unknown, {}}; }
  static KeyResolution unavailable() { return {KeyStatus::unavailable, {}}; }
  bool known() const { return status == KeyStatus::known; }
};

// Resolves an API key to its principal. May answer from another thread and
// later (keys live in the ledger); `done` is called exactly once, and the
// route's handler then runs on that thread.
class KeyResolver {
 public:
  virtual ~KeyResolver() = default;
  using Done = std::function<void(KeyResolution)>;
  virtual void resolve(std::string_view key, Done done) const = 0;
};

// Keys held in memory: the bootstrap platform key, and tests. Not thread-safe
// for add() after the server started.
class MemoryKeyResolver final : public KeyResolver {
 public:
  void add(std::string key, Principal principal);
  void resolve(std::string_view key, Done done) const override;

 private:
  std::unordered_map<std::string, Principal> keys_;
};

// Tenant scoping (SPEC A2: a key never sees another tenant's data).
// Platform and service keys see every tenant; a merchant key only its
// merchant; a store key only its own store of its merchant.
bool may_access_merchant(const Principal& p, std::string_view merchant_id);
bool may_access_store(const Principal& p, std::string_view merchant_id, std::string_view store_id);
bool role_allowed(const RouteSpec& spec, Role role);

}  // namespace coffer::gateway
