// API.md's names for core's states and history entries: the one spelling the
// gateway's JSON and the CLI both use.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace coffer::client {

std::string_view payment_state_name(uint8_t state);
std::string_view recharge_state_name(uint8_t state);
std::string_view withdrawal_state_name(uint8_t state);
std::string_view batch_state_name(uint8_t state);
std::string_view channel_name(uint8_t channel);
std::optional<uint8_t> channel_from_name(std::string_view name);
// The "rule" of a POINTS_RULE refusal (its reply's detail); nullopt when unknown.
std::optional<std::string_view> points_rule_name(uint8_t detail);
// API.md history `type` from what moved (EffectKind) and why (TransferCode).
std::string_view history_type(uint16_t effect_kind, uint16_t code, int64_t amount);
// The movement behind an entry: posted, held, captured, released, ...
std::string_view history_effect(uint16_t effect_kind);

}  // namespace coffer::client
