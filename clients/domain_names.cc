#include "clients/domain_names.h"

#include "core/types.h"

namespace coffer::client {

std::optional<std::string_view> points_rule_name(uint8_t detail) {
  switch (detail) {
    case points_rule_min:
      return "min";
    case points_rule_balance:
      return "balance";
    case points_rule_max_share:
      return "max_share";
    default:
      return std::nullopt;
  }
}

std::string_view payment_state_name(uint8_t state) {
  switch (state) {
    case payment_held:
      return "held";
    case payment_awaiting_external:
      return "awaiting_external";
    case payment_captured:
      return "captured";
    case payment_voided:
      return "voided";
    case payment_expired:
      return "expired";
    default:
      return "unknown";
  }
}

std::string_view recharge_state_name(uint8_t state) {
  switch (state) {
    case recharge_pending:
      return "pending";
    case recharge_paid:
      return "paid";
    case recharge_paid_late:
      return "paid_late";
    case recharge_amount_mismatch:
      return "amount_mismatch";
    case recharge_expired:
      return "expired";
    default:
      return "unknown";
  }
}

std::string_view withdrawal_state_name(uint8_t state) {
  switch (state) {
    case withdrawal_pending:
      return "pending";
    case withdrawal_approved:
      return "approved";
    case withdrawal_rejected:
      return "rejected";
    default:
      return "unknown";
  }
}

std::string_view batch_state_name(uint8_t state) {
  switch (state) {
    case batch_building:
      return "building";
    case batch_active:
      return "active";
    case batch_voided:
      return "voided";
    default:
      return "unknown";
  }
}

namespace {
constexpr std::string_view channel_names[] = {"wechat", "cash", "bank", "other"};
static_assert(channel_wechat == 0 && channel_cash == 1 && channel_bank == 2 && channel_other == 3);
}  // namespace

std::string_view channel_name(uint8_t channel) {
  return channel <= channel_other ? channel_names[channel] : std::string_view("unknown");
}

std::optional<uint8_t> channel_from_name(std::string_view name) {
  for (uint8_t i = 0; i <= channel_other; i++) {
    if (channel_names[i] == name) return i;
  }
  return std::nullopt;
}

std::string_view history_type(uint16_t effect_kind, uint16_t code, int64_t amount) {
  const auto effect = EffectKind(effect_kind);
  const bool withdrawal = code == code_withdrawal_hold || code == code_withdrawal_paid;
  if (effect == EffectKind::hold_created) return withdrawal ? "withdrawal_hold" : "hold";
  if (effect == EffectKind::hold_voided || effect == EffectKind::hold_expired) {
    return withdrawal ? "withdrawal_release" : "release";
  }
  switch (code) {
    case code_recharge:
    case code_cash_recharge:
      return "recharge";
    case code_admin_credit:
      return "admin_credit";
    case code_admin_debit:
      return "admin_debit";
    case code_payment:
    case code_payment_hold:
      return "payment";
    case code_refund:
      return "refund";
    case code_points_return:
      return "points_return";
    case code_cashback:
      return "cashback";
    case code_points_earn:
      return "points_earn";
    case code_points_use:
      return "points_use";
    case code_rebate:
      return "rebate";
    case code_gift:
      return amount < 0 ? "gift_sent" : "gift_received";
    case code_withdrawal_hold:
    case code_withdrawal_paid:
      return "withdrawal_hold";  // the approved hold, now paid out
    case code_voucher_recharge:
      return "voucher_recharge";
    default:
      return "other";
  }
}

std::string_view history_effect(uint16_t effect_kind) {
  switch (EffectKind(effect_kind)) {
    case EffectKind::transfer_posted:
      return "posted";
    case EffectKind::hold_created:
      return "held";
    case EffectKind::hold_posted:
      return "captured";
    case EffectKind::hold_voided:
      return "released";
    case EffectKind::hold_expired:
      return "expired";
    case EffectKind::grant_created:
      return "maturing";
    case EffectKind::grant_matured:
      return "matured";
    case EffectKind::grant_shrunk:
      return "shrunk";
    case EffectKind::grant_cancelled:
      return "cancelled";
    default:
      return "other";
  }
}

}  // namespace coffer::client
