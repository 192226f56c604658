// Every limit of the core in one place. Pools are sized from these at start-up;
// nothing grows afterwards.
#pragma once

#include <cstdint>

namespace coffer {

// Wire/journal record sizes. Changing them changes the journal format.
inline constexpr uint32_t command_size = 128;
inline constexpr uint32_t command_header_size = 40;
inline constexpr uint32_t command_body_size = command_size - command_header_size;
inline constexpr uint32_t effect_size = 64;
inline constexpr uint32_t reply_size = 64;
inline constexpr uint32_t account_record_size = 64;
inline constexpr uint32_t pending_record_size = 64;

// A batch is what one wire frame carries (DESIGN.md: up to 8 192 commands).
inline constexpr uint32_t batch_size_max = 8192;

// Linked chains are rolled back with an undo log sized for the longest chain.
inline constexpr uint32_t linked_chain_length_max = 128;

// One tick settles at most this many due holds/grants; the rest stay due and are
// settled by the next tick. A constant (not the sink's free room) so that replay
// is deterministic whatever buffer sizes the caller uses.
inline constexpr uint32_t tick_items_max = 1024;

// Effects emitted by one command, worst case, per kind.
inline constexpr uint32_t effects_per_transfer_max = 3;  // transfer record + 2 balances
inline constexpr uint32_t effects_per_tick_max = tick_items_max * effects_per_transfer_max;
inline constexpr uint32_t effects_per_command_max = effects_per_tick_max;

// Capacities a LedgerConfig may ask for. Slots are uint32 and each index table
// has twice as many buckets as entries, so stay well below 2^31.
inline constexpr uint32_t accounts_capacity_max = 1u << 28;
inline constexpr uint32_t pending_capacity_max = 1u << 26;
inline constexpr uint32_t idempotency_capacity_max = 1u << 28;

// Per-side totals of an account (posted + pending) stay at or below this, so that
// balance, held and available always fit in int64 without checks on reads.
inline constexpr int64_t account_total_max = (int64_t{1} << 62) - 1;

// Holds may not outlive a year; 0 means "never expires".
inline constexpr uint32_t hold_timeout_s_max = 366u * 24 * 3600;

static_assert(command_size == 128 && (command_size & (command_size - 1)) == 0);
static_assert(command_body_size == 88);
static_assert(batch_size_max >= linked_chain_length_max);
// A sink with room for effects_per_command_max always fits the next command or
// whole linked chain, so batch apply always makes progress with such a sink.
static_assert(effects_per_command_max >= effects_per_transfer_max * linked_chain_length_max);
static_assert(uint64_t{accounts_capacity_max} * 2 < (uint64_t{1} << 31));
static_assert(uint64_t{pending_capacity_max} * 2 < (uint64_t{1} << 31));
static_assert(uint64_t{idempotency_capacity_max} * 2 < (uint64_t{1} << 31));
static_assert(account_total_max > 0 && -account_total_max - account_total_max >= INT64_MIN);

}  // namespace coffer
