// Every limit of the LMDB state store and recovery, in one place (the journal's
// limits are in storage/constants.h). Changing the on-disk ones changes the
// store's format (STATE_STORE.md): bump kStateStoreFormatVersion.
#pragma once

#include <cstdint>

#include "core/constants.h"
#include "storage/constants.h"

namespace coffer::storage {

// --- On-disk format (STATE_STORE.md) -----------------------------------------

inline constexpr uint32_t kStateStoreFormatVersion = 1;
// Sub-databases: meta, history, records, image.
inline constexpr uint32_t kStateStoreDbCount = 4;
// Image chunks: one LMDB value each (overflow pages, written once, read sequentially).
inline constexpr uint64_t kImageChunkSizeBytes = 1 * kMiB;
// history key: account_id BE + ~seq BE + ~ordinal BE.
inline constexpr uint32_t kHistoryKeySize = 8 + 8 + 4;
inline constexpr uint32_t kHistoryValueSize = 64;
// records key: kind BE + seq BE + ordinal BE; value: the 64-byte Effect.
inline constexpr uint32_t kRecordKeySize = 2 + 8 + 4;

// --- Map ---------------------------------------------------------------------

// Sparse: LMDB reserves address space, the file grows with the data.
inline constexpr uint64_t kStateStoreMapSizeDefault = 64 * kGiB;
// Small maps are allowed so that tests can hit MDB_MAP_FULL cheaply.
inline constexpr uint64_t kStateStoreMapSizeMin = 64 * kKiB;
inline constexpr uint64_t kStateStoreMapSizeMax = 16 * 1024 * kGiB;

// --- Follower ----------------------------------------------------------------

// Effects queued and not yet committed (64 B each): 64 MiB by default. Past it
// try_submit() says queue_full and submit() waits.
inline constexpr uint64_t kApplyQueueEffectCountDefault = 1u << 20;
// One write transaction applies whole batches until it holds at least this many
// effects, then commits: large transactions amortise the commit's fsync.
inline constexpr uint64_t kApplyTxnEffectCountDefault = 1u << 18;
inline constexpr uint64_t kApplyTxnEffectCountMax = 1u << 24;

// --- Reads -------------------------------------------------------------------

inline constexpr uint32_t kHistoryPageLimitMax = 1000;
inline constexpr uint32_t kRecordsPageLimitMax = 10000;

// --- Recovery ----------------------------------------------------------------

// Effects buffer of the replay: holds any one command's worst case many times over.
inline constexpr uint32_t kReplayEffectBufferCount = 1u << 16;

static_assert(kHistoryValueSize == 64, "history values are one cache line");
static_assert(kStateStoreMapSizeMin < kStateStoreMapSizeDefault &&
              kStateStoreMapSizeDefault <= kStateStoreMapSizeMax);
static_assert(kImageChunkSizeBytes >= 4 * kKiB && kImageChunkSizeBytes <= UINT32_MAX);
static_assert(kApplyTxnEffectCountDefault <= kApplyTxnEffectCountMax);
static_assert(kApplyQueueEffectCountDefault >= uint64_t{batch_size_max} * effects_per_transfer_max,
              "the queue admits a whole batch of transfers");
static_assert(kReplayEffectBufferCount >= effects_per_command_max,
              "replay always makes progress (Ledger::apply needs room for one command)");

}  // namespace coffer::storage
