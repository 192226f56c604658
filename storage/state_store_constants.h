// Every limit of the LMDB state store and recovery, in one place (the journal's
// limits are in storage/constants.h). Changing the on-disk ones changes the
// store's format (STATE_STORE.md): bump kStateStoreFormatVersion.
#pragma once

#include <cstdint>

#include "core/command_text.h"
#include "core/constants.h"
#include "storage/constants.h"

namespace coffer::storage {

// --- On-disk format (STATE_STORE.md) -----------------------------------------

// 2: texts, the account index, gifts and withdrawals (a version 1 store has no
// account index, so it is refused rather than answering with partial lists).
// 3: history appended in seq order and chained per account (history_heads);
// no history for system/merchant accounts; records only of unindexed kinds.
inline constexpr uint32_t kStateStoreFormatVersion = 3;
// Sub-databases: meta, history, history_heads, records, image, texts,
// text_groups, accounts, member_accounts, gifts, withdrawals, withdrawal_ids.
inline constexpr uint32_t kStateStoreDbCount = 12;
// Image chunks: one LMDB value each (overflow pages, written once, read sequentially).
inline constexpr uint64_t kImageChunkSizeBytes = 1 * kMiB;
// history key: seq BE + ordinal BE (appended); value: the entry with its
// account and a link to the account's previous entry.
inline constexpr uint32_t kHistoryKeySize = 8 + 4;
inline constexpr uint32_t kHistoryValueSize = 88;
// history_heads key: account_id BE; value: seq u64, ordinal u32, 0 u32.
inline constexpr uint32_t kHistoryHeadKeySize = 8;
inline constexpr uint32_t kHistoryHeadValueSize = 16;
// records key: kind BE + seq BE + ordinal BE; value: the 64-byte Effect.
inline constexpr uint32_t kRecordKeySize = 2 + 8 + 4;

// texts key: Id128 lo BE + hi BE; value: group u64 + seq u64, then the text.
inline constexpr uint32_t kTextKeySize = 16;
inline constexpr uint32_t kTextValueHeaderSize = 16;
// text_groups key: group BE + text key; empty value.
inline constexpr uint32_t kTextGroupKeySize = 8 + kTextKeySize;
// accounts key: account_id BE; value: user_data u64, asset u32, kind u16, pad.
inline constexpr uint32_t kAccountKeySize = 8;
inline constexpr uint32_t kAccountValueSize = 16;
// member_accounts key: member_id BE + asset BE; value: account_id u64.
inline constexpr uint32_t kMemberAccountKeySize = 8 + 4;
// gifts key: member_id BE + direction u8 + ~seq BE (core makes at most one gift
// transfer per command, so the seq identifies it).
inline constexpr uint32_t kGiftKeySize = 8 + 1 + 8;
inline constexpr uint32_t kGiftValueSize = 56;
// withdrawals key: state u8 + seq BE (at most one withdrawal hold moves per
// command); withdrawal_ids key: the withdrawal id (lo BE + hi BE) -> state, seq.
inline constexpr uint32_t kWithdrawalKeySize = 1 + 8;
inline constexpr uint32_t kWithdrawalValueSize = 56;
inline constexpr uint32_t kWithdrawalIdValueSize = 16;

// --- Map ---------------------------------------------------------------------

// Sparse: LMDB reserves address space, the file grows with the data.
inline constexpr uint64_t kStateStoreMapSizeDefault = 64 * kGiB;
// Small maps are allowed so that tests can hit MDB_MAP_FULL cheaply.
inline constexpr uint64_t kStateStoreMapSizeMin = 64 * kKiB;
inline constexpr uint64_t kStateStoreMapSizeMax = 16 * 1024 * kGiB;

// --- Follower ----------------------------------------------------------------

// Effects queued and not yet committed (64 B each): 128 MiB by default. Past it
// try_submit() says queue_full and submit() waits. Twice a transaction: the
// producer fills one while the writer applies the other.
inline constexpr uint64_t kApplyQueueEffectCountDefault = 1u << 21;
// One write transaction applies whole batches until it holds at least this many
// effects, then commits: large transactions amortise the commit's two fsyncs
// (~50 ms on the test disk; at 1 M payments/s = 3 M effects/s, 1 Mi effects per
// transaction is 3 commits a second).
inline constexpr uint64_t kApplyTxnEffectCountDefault = 1u << 20;
inline constexpr uint64_t kApplyTxnEffectCountMax = 1u << 24;

// --- Reads -------------------------------------------------------------------

inline constexpr uint32_t kHistoryPageLimitMax = 1000;
inline constexpr uint32_t kRecordsPageLimitMax = 10000;
inline constexpr uint32_t kTextsKeysMax = 1000;  // keys of one texts() call
inline constexpr uint32_t kTextsPageLimitMax = 1000;
inline constexpr uint32_t kGiftsPageLimitMax = 1000;
inline constexpr uint32_t kWithdrawalsPageLimitMax = 1000;

// --- Recovery ----------------------------------------------------------------

// Effects buffer of the replay: holds any one command's worst case many times over.
inline constexpr uint32_t kReplayEffectBufferCount = 1u << 16;

static_assert(kHistoryValueSize % 8 == 0 && kHistoryValueSize <= 128,
              "history values: aligned, many per page");
static_assert(kTextKeySize == sizeof(uint64_t) * 2, "a text key is an Id128");
static_assert(kTextGroupKeySize == 24 && kGiftKeySize == 17 && kWithdrawalKeySize == 9);
static_assert(kTextValueHeaderSize + command_text_size_max <= 64 * kKiB,
              "a text value stays a small overflow value");
static_assert(kStateStoreMapSizeMin < kStateStoreMapSizeDefault &&
              kStateStoreMapSizeDefault <= kStateStoreMapSizeMax);
static_assert(kImageChunkSizeBytes >= 4 * kKiB && kImageChunkSizeBytes <= UINT32_MAX);
static_assert(kApplyTxnEffectCountDefault <= kApplyTxnEffectCountMax);
static_assert(kApplyQueueEffectCountDefault >= 2 * kApplyTxnEffectCountDefault,
              "the producer fills one transaction's worth while the writer applies one");
static_assert(kApplyQueueEffectCountDefault >= uint64_t{batch_size_max} * effects_per_transfer_max,
              "the queue admits a whole batch of transfers");
static_assert(kReplayEffectBufferCount >= effects_per_command_max,
              "replay always makes progress (Ledger::apply needs room for one command)");

}  // namespace coffer::storage
