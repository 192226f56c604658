#include "gateway/routes.h"

#include <array>

#include "gateway/errors.h"

namespace coffer::gateway {
namespace {

constexpr Method G = Method::get;
constexpr Method U = Method::put;
constexpr Method O = Method::post;
constexpr AuthKind N = AuthKind::none;
constexpr AuthKind K = AuthKind::key;

// clang-format off
constexpr std::array<RouteSpec, route_count> kRoutes = {{
  {RouteId::healthz, G, "/healthz", N, 0, "", 200, "Health of the gateway and the ledger server"},
  {RouteId::metrics, G, "/metrics", N, 0, "", 200, "Prometheus metrics"},
  {RouteId::openapi, G, "/v1/openapi.json", K, kAnyRole, "", 200, "This document"},
  {RouteId::api_keys_create, O, "/v1/api-keys", K, kP | kM, "", 201, "Create an API key (shown once)"},
  {RouteId::config_get, G, "/v1/config", K, kP, "", 200, "Read the configuration"},
  {RouteId::config_put, U, "/v1/config", K, kP, "", 200, "Change configuration fields"},
  {RouteId::group_put, U, "/v1/groups/{group_id}", K, kP, "", 200, "Create or update a member group"},
  {RouteId::groups_list, G, "/v1/groups", K, kP | kS, "", 200, "List member groups"},
  {RouteId::merchant_put, U, "/v1/merchants/{merchant_id}", K, kP, "", 200, "Create or update a merchant"},
  {RouteId::store_put, U, "/v1/merchants/{merchant_id}/stores/{store_id}", K, kP | kM, "", 200, "Create or update a store"},
  {RouteId::stores_nearby, G, "/v1/stores/nearby", K, kAnyRole, "lat,lon,limit", 200, "Stores nearest a point"},
  {RouteId::member_create, O, "/v1/members", K, kP | kS, "", 201, "Register a member"},
  {RouteId::members_list, G, "/v1/members", K, kP, "limit,cursor", 200, "List members (SPEC A5)"},
  {RouteId::member_get, G, "/v1/members/{member_id}", K, kP | kS, "", 200, "Read a member"},
  {RouteId::member_by_phone, G, "/v1/members/by-phone/{phone}", K, kP | kS, "", 200, "Find a member by phone"},
  {RouteId::member_wallet_put, U, "/v1/members/{member_id}/wallet", K, kP, "", 200, "Enable or disable a member's wallet"},
  {RouteId::member_balance, G, "/v1/members/{member_id}/balance", K, kP | kS, "", 200, "Wallet and points balances"},
  {RouteId::member_history, G, "/v1/members/{member_id}/history", K, kP | kS, "asset,format,limit,cursor", 200, "Balance change history, newest first"},
  {RouteId::member_credit, O, "/v1/members/{member_id}/credit", K, kP, "", 201, "Admin credit (manual or cash recharge)"},
  {RouteId::member_debit, O, "/v1/members/{member_id}/debit", K, kP, "", 201, "Admin debit"},
  {RouteId::recharge_methods_list, G, "/v1/recharge/methods", K, kP | kS, "", 200, "Recharge methods and guidance"},
  {RouteId::recharge_method_put, U, "/v1/recharge/methods/{method_id}", K, kP, "", 200, "Create or update a recharge method"},
  {RouteId::recharge_create, O, "/v1/recharges", K, kP | kS, "", 201, "Create a recharge order"},
  {RouteId::recharges_list, G, "/v1/recharges", K, kP, "state,limit,cursor", 200, "List recharge orders, optionally by state (SPEC A5)"},
  {RouteId::recharge_get, G, "/v1/recharges/{recharge_id}", K, kP | kS, "", 200, "Read a recharge order"},
  {RouteId::recharge_confirm, O, "/v1/recharges/{recharge_id}/confirm", K, kP, "", 200, "Confirm a recharge (cash or manual)"},
  {RouteId::payment_create, O, "/v1/payments", K, kP | kS, "", 201, "Pay from the wallet"},
  {RouteId::payment_get, G, "/v1/payments/{payment_id}", K, kP | kS | kM, "", 200, "Read a payment"},
  {RouteId::payment_capture, O, "/v1/payments/{payment_id}/capture", K, kP | kS, "", 200, "Capture a held payment"},
  {RouteId::payment_void, O, "/v1/payments/{payment_id}/void", K, kP | kS, "", 200, "Void a held payment"},
  {RouteId::payment_refund, O, "/v1/payments/{payment_id}/refunds", K, kP | kS | kM, "", 201, "Refund part or all of a payment"},
  {RouteId::order_complete, O, "/v1/orders/{order_ref}/complete", K, kP | kS, "", 201, "Complete an order: schedule cash-back and points"},
  {RouteId::rebate_create, O, "/v1/rebates", K, kP | kS, "", 201, "Credit a distribution rebate"},
  {RouteId::gift_create, O, "/v1/gifts", K, kP | kS, "", 201, "Send a gift to another member"},
  {RouteId::member_gifts, G, "/v1/members/{member_id}/gifts", K, kP | kS, "direction,limit,cursor", 200, "Gifts sent or received"},
  {RouteId::member_withdrawal_limit, G, "/v1/members/{member_id}/withdrawal-limit", K, kP | kS, "", 200, "Maximum withdrawable amount"},
  {RouteId::withdrawal_create, O, "/v1/withdrawals", K, kP | kS, "", 201, "Request a withdrawal"},
  {RouteId::withdrawals_list, G, "/v1/withdrawals", K, kP, "state,limit,cursor", 200, "List withdrawals by state"},
  {RouteId::withdrawal_get, G, "/v1/withdrawals/{withdrawal_id}", K, kP | kS, "", 200, "Read a withdrawal"},
  {RouteId::withdrawal_approve, O, "/v1/withdrawals/{withdrawal_id}/approve", K, kP, "", 200, "Approve a withdrawal"},
  {RouteId::withdrawal_reject, O, "/v1/withdrawals/{withdrawal_id}/reject", K, kP, "", 200, "Reject a withdrawal"},
  {RouteId::voucher_batch_create, O, "/v1/voucher-batches", K, kP, "", 201, "Create a voucher batch (codes shown once)"},
  {RouteId::voucher_batches_list, G, "/v1/voucher-batches", K, kP | kM, "merchant_id,limit,cursor", 200, "List voucher batches, all or of one merchant (SPEC A5)"},
  {RouteId::voucher_batch_get, G, "/v1/voucher-batches/{batch_id}", K, kP | kM, "", 200, "Voucher batch status"},
  {RouteId::voucher_batch_void, O, "/v1/voucher-batches/{batch_id}/void", K, kP, "", 200, "Void a voucher batch"},
  {RouteId::voucher_redeem, O, "/v1/vouchers/redeem", K, kP | kM | kT, "", 200, "Redeem a paper voucher at a store"},
  {RouteId::voucher_redeem_to_wallet, O, "/v1/vouchers/redeem-to-wallet", K, kP | kS, "", 200, "Redeem a card voucher into a wallet"},
  {RouteId::settlement_report, G, "/v1/reports/settlement", K, kP | kM | kT, "merchant_id,store_id,from,to,format", 200, "Settlement per day and store"},
  {RouteId::wechatpay_notify, O, "/v1/wechatpay/notify", AuthKind::signature, 0, "", 204, "WeChat Pay v3 payment notification"},
}};
// clang-format on

constexpr bool table_in_id_order() {
  for (size_t i = 0; i < kRoutes.size(); ++i) {
    if (static_cast<size_t>(kRoutes[i].id) != i) return false;
  }
  return true;
}
static_assert(table_in_id_order(), "route_table()[i].id must be RouteId(i)");

}  // namespace

std::string_view method_name(Method m) {
  switch (m) {
    case Method::get:
      return "GET";
    case Method::put:
      return "PUT";
    case Method::post:
      return "POST";
    case Method::del:
      return "DELETE";
  }
  return "?";
}

std::string_view role_name(Role r) {
  switch (r) {
    case Role::platform:
      return "platform";
    case Role::service:
      return "service";
    case Role::merchant:
      return "merchant";
    case Role::store:
      return "store";
  }
  return "?";
}

std::optional<Role> parse_role(std::string_view name) {
  for (int i = 0; i < role_count; ++i) {
    if (role_name(Role(i)) == name) return Role(i);
  }
  return std::nullopt;
}

ParamKind param_kind(std::string_view name) {
  // SPEC M1: member ids are u64 chosen by the shop; groups are numbered
  // (default_group_id = 1).
  if (name == "member_id" || name == "group_id") return ParamKind::u64;
  if (name == "phone") return ParamKind::phone;
  return ParamKind::id;
}

std::span<const RouteSpec> route_table() {
  return kRoutes;
}

const RouteSpec& route_spec(RouteId id) {
  size_t i = static_cast<size_t>(id);
  COFFER_ASSERT(i < kRoutes.size());
  return kRoutes[i];
}

std::string route_label(const RouteSpec& spec) {
  std::string s(method_name(spec.method));
  s += ' ';
  s += spec.pattern;
  return s;
}

void MemoryKeyResolver::add(std::string key, Principal principal) {
  keys_.insert_or_assign(std::move(key), std::move(principal));
}

void MemoryKeyResolver::resolve(std::string_view key, Done done) const {
  auto it = keys_.find(std::string(key));
  if (it == keys_.end()) {
    done(KeyResolution::unknown());
  } else {
    done(KeyResolution::found(it->second));
  }
}

bool may_access_merchant(const Principal& p, std::string_view merchant_id) {
  switch (p.role) {
    case Role::platform:
    case Role::service:
      return true;
    case Role::merchant:
    case Role::store:
      // A store key sees its merchant's data only through its own store.
      return p.role == Role::merchant && !p.merchant_id.empty() && p.merchant_id == merchant_id;
  }
  return false;
}

bool may_access_store(const Principal& p, std::string_view merchant_id, std::string_view store_id) {
  switch (p.role) {
    case Role::platform:
    case Role::service:
      return true;
    case Role::merchant:
      return !p.merchant_id.empty() && p.merchant_id == merchant_id;
    case Role::store:
      return !p.merchant_id.empty() && p.merchant_id == merchant_id && !p.store_id.empty() &&
             p.store_id == store_id;
  }
  return false;
}

bool role_allowed(const RouteSpec& spec, Role role) {
  switch (spec.auth) {
    case AuthKind::none:
    case AuthKind::signature:
      return true;
    case AuthKind::key:
      return (spec.roles & role_bit(role)) != 0;
  }
  return false;
}

}  // namespace coffer::gateway
