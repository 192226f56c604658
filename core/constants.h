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

// A domain record opens at most this many holds/grants with one command (a
// payment: wallet, points and points-value legs). They share (due, seq), and a
// tick never splits them, so one tick may settle up to tick_items_max +
// pending_per_record_max - 1 items.
inline constexpr uint32_t pending_per_record_max = 3;

// System accounts the domain creates with its first state-changing command.
inline constexpr uint32_t system_accounts_count = 12;

// Transfers (or holds/grants) one domain command performs, worst case.
inline constexpr uint32_t domain_transfers_max = 4;

// Effects emitted by one command, worst case, per kind.
inline constexpr uint32_t effects_per_transfer_max = 3;  // transfer record + 2 balances
inline constexpr uint32_t effects_per_tick_max =
    (tick_items_max + pending_per_record_max - 1) * effects_per_transfer_max;
// Lazy system accounts + two member accounts + the transfers.
inline constexpr uint32_t effects_per_domain_command_max =
    system_accounts_count + 2 + domain_transfers_max * effects_per_transfer_max;
inline constexpr uint32_t effects_per_command_max = effects_per_tick_max;

// ---- Domain (SPEC.md) ----
// Account ids from here up are the domain's (members, merchants, system);
// create_account refuses them.
inline constexpr uint64_t domain_account_id_min = uint64_t{1} << 63;
inline constexpr uint32_t groups_max = 64;
inline constexpr uint32_t methods_max = 32;  // recharge methods (R1)
inline constexpr uint32_t stores_capacity_max = 1u << 22;
inline constexpr uint32_t api_keys_capacity_max = 1u << 22;
inline constexpr uint32_t settlement_capacity_max = 1u << 26;  // (day, merchant, store) rows
inline constexpr uint64_t us_per_day = 86'400'000'000ull;
inline constexpr uint32_t payees_per_method_max = 64;           // payee accounts per method
inline constexpr uint32_t voucher_batch_quantity_max = 100000;  // V1
inline constexpr uint32_t vouchers_capacity_max = 1u << 27;     // codes in all batches
inline constexpr uint32_t voucher_guard_slots = 4096;           // V5 failure counters
inline constexpr uint32_t voucher_guard_ways = 4;  // slots per set (one key's candidates)
// V5: all stores of a merchant together may fail this many times the limit per
// minute, so that made-up store ids do not each get a fresh allowance.
inline constexpr uint32_t voucher_guard_merchant_factor = 10;
inline constexpr uint64_t voucher_guard_window_us = 60'000'000;  // V5: one minute
inline constexpr uint32_t members_capacity_max = 1u << 26;
inline constexpr uint32_t merchants_capacity_max = 1u << 20;
inline constexpr uint32_t records_capacity_max = 1u << 27;  // payments, refunds, simple records
inline constexpr int64_t bp_one = 10000;                    // 100 % in basis points
inline constexpr int64_t minor_per_major = 100;             // 2 decimals (CNY)
inline constexpr uint32_t points_offset_rate_max = 1000000;
inline constexpr uint32_t gift_days_max = 3660;
inline constexpr uint32_t gift_message_length_max = 200;  // V6, characters
// Amounts of one domain command: well inside account_total_max, so that
// products like amount x bp and points x 100 never overflow int64.
inline constexpr int64_t domain_amount_max = int64_t{1} << 48;

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
static_assert(effects_per_command_max >= effects_per_domain_command_max);
static_assert(domain_transfers_max >= pending_per_record_max);
static_assert(uint64_t{members_capacity_max} * 2 + system_accounts_count + merchants_capacity_max <=
              accounts_capacity_max);
static_assert(uint64_t{records_capacity_max} * 2 < (uint64_t{1} << 31));
static_assert(uint64_t{vouchers_capacity_max} * 2 < (uint64_t{1} << 31));
static_assert(voucher_batch_quantity_max <= vouchers_capacity_max);
static_assert(uint64_t{settlement_capacity_max} * 2 < (uint64_t{1} << 31));
static_assert(uint64_t{stores_capacity_max} * 2 < (uint64_t{1} << 31));
static_assert((voucher_guard_slots & (voucher_guard_slots - 1)) == 0);
static_assert(domain_amount_max < account_total_max / 4);
// points x minor_per_major and amount x bp_one stay in int64.
static_assert(domain_amount_max <= INT64_MAX / bp_one &&
              domain_amount_max <= INT64_MAX / minor_per_major);
static_assert(uint64_t{pending_capacity_max} * 2 < (uint64_t{1} << 31));
static_assert(uint64_t{idempotency_capacity_max} * 2 < (uint64_t{1} << 31));
static_assert(account_total_max > 0 && -account_total_max - account_total_max >= INT64_MIN);

}  // namespace coffer
