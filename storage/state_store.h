// The LMDB state store: a follower of the journal (DESIGN.md, "Durability and
// recovery"; format and rules in storage/STATE_STORE.md).
//
// It applies committed effects in large write transactions on its own thread and
// records the last applied sequence number in the same transaction, so a crash
// leaves either all of a transaction or none of it. From the effects it keeps:
//   history  every balance change of a member or engine account, newest first
//            (SPEC M3; not of system/merchant settlement accounts: nobody reads
//            those, core reports settlement)
//   records  effects no other table indexes, keyed by kind and seq; kinds it
//            does not know are stored raw, so nothing is lost
//   image    one state image of the core (Ledger::write_image) as of seq S, with
//            its state hash, replaced atomically by the next checkpoint
//   texts    the kept text of each key (core/command_text.h), listable by group
//   indexes  accounts (kind, owner), a member's wallet/points account, gifts by
//            member, withdrawals by state: the lists of SPEC M3, P3, G1, D3
// All of a transaction's effects, texts and indexes commit together.
// Reads use read-only transactions: they never block the writer or the caller.
//
// Errors are sticky (like the journal's poison): after a failed commit (disk
// full, MDB_MAP_FULL, I/O error) nothing of that transaction is visible, the
// follower stops, and every later call reports the error until a restart, which
// resumes from last_applied_seq() + 1 by replaying the journal (recovery.h).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "core/image.h"
#include "core/types.h"
#include "storage/state_store_constants.h"
#include "storage/status.h"

namespace coffer::storage {

namespace lmdb {
class Env;
}

struct StateStoreOptions {
  std::string dir;  // created if missing; holds data.mdb and lock.mdb
  uint64_t map_size_bytes = kStateStoreMapSizeDefault;
  uint64_t queue_effect_count_max = kApplyQueueEffectCountDefault;
  // A transaction takes whole batches until it holds at least this many effects.
  uint64_t txn_effect_count = kApplyTxnEffectCountDefault;
  // false: MDB_NOSYNC: a commit survives a process crash but not a power cut
  // (tests, benchmarks; the journal can re-feed what is lost).
  bool sync_commits = true;
  // false: no thread; submit() and save_image() only queue, and flush() applies
  // everything queued in the caller (tests, tools: deterministic transactions).
  bool writer_thread = true;
  // Runs on the writer thread after an image as of `seq` is durable: the place to
  // call Journal::remove_segments_below(seq + 1).
  std::function<void(uint64_t seq)> on_image_saved;
  std::function<void(const std::string&)> log;  // nullptr: stderr
};

// A text kept beside command `seq` (core/command_text.h).
struct StoredText {
  uint64_t seq = 0;
  Id128 key{};
  uint64_t group = 0;
  std::string text;
};

// The effects of the commands first_seq..last_seq (all of them: a command's
// effects are never split between batches). Commands without effects still
// advance last_applied_seq.
struct EffectBatch {
  uint64_t first_seq = 0;
  uint64_t last_seq = 0;
  std::vector<Effect> effects;  // seq order, each seq within [first_seq, last_seq]
  // The kept texts of these commands (core/command_text.h text_kept), seq order.
  std::vector<StoredText> texts;
};

// One balance change of one account.
struct HistoryEntry {
  uint64_t account_id = 0;
  uint64_t seq = 0;
  uint32_t ordinal = 0;  // position among the effects of its command
  uint64_t time_us = 0;
  EffectKind kind = EffectKind::none;  // what moved: transfer_posted, hold_created, ...
  uint16_t code = 0;                   // the transfer's code (the entry type)
  Asset asset = 0;
  int64_t amount = 0;  // signed, from this account's side: debit < 0, credit > 0
  int64_t balance_after = 0;
  int64_t debits_pending_after = 0;   // held
  int64_t credits_pending_after = 0;  // maturing
  Id128 ref{};                        // the transfer id (for holds/grants: the pending id)
};

// Position of the next entry to read; {0, 0} = from the newest.
struct HistoryCursor {
  uint64_t seq = 0;
  uint32_t ordinal = 0;
  bool at_start() const { return seq == 0; }
};

struct HistoryPage {
  std::vector<HistoryEntry> entries;  // newest first
  HistoryCursor next;                 // at_start(): no more entries
  uint64_t as_of_seq = 0;             // the snapshot read: last applied seq in it
};

// Texts of one group, ordered by key; `next` is the key to pass as `after`
// for the following page (zero: no more).
struct TextGroupPage {
  std::vector<std::pair<Id128, std::string>> texts;
  Id128 next{};
};

// Gifts (SPEC G1) from the transfers with code_gift, newest first.
enum class GiftDirection : uint8_t { sent, received };
struct GiftEntry {
  uint64_t seq = 0;
  uint64_t time_us = 0;
  Id128 gift_id{};  // the transfer id: the gift command's id
  uint64_t from_member_id = 0;
  uint64_t to_member_id = 0;
  int64_t amount = 0;
};
struct GiftPage {
  std::vector<GiftEntry> entries;
  uint64_t next_before_seq = 0;  // 0: no more
};

// Withdrawals (SPEC D3) by their current state (core WithdrawalState), oldest
// first: a review queue. From the withdrawal holds: created = pending, posted =
// approved, voided = rejected.
struct WithdrawalEntry {
  uint64_t seq = 0;  // of the command that put it in this state
  uint64_t time_us = 0;
  Id128 withdrawal_id{};  // the withdrawal command's id (its hold is domain_leg_id(id, 3))
  uint64_t member_id = 0;
  int64_t amount = 0;
  uint8_t state = 0;
};
struct WithdrawalPage {
  std::vector<WithdrawalEntry> entries;
  uint64_t next_after_seq = 0;  // 0: no more
};

// Where load_image() puts what it found.
struct StoredImage {
  bool present = false;
  uint64_t seq = 0;         // the image is the state after command `seq`
  uint64_t state_hash = 0;  // Ledger::state_hash() of that state
  uint64_t size_bytes = 0;
  // Streams the bytes straight from LMDB's map inside a read transaction;
  // read() fails on a checksum mismatch. Keep the store open while using it.
  std::unique_ptr<ImageReader> reader;
};

// Chunked in-memory image: what the core thread serialises into (no large
// reallocations, no I/O), then hands to save_image().
class ImageBuffer final : public ImageWriter {
 public:
  void write(const void* data, size_t size) override;
  uint64_t size_bytes() const { return size_bytes_; }
  const std::vector<std::vector<std::byte>>& chunks() const { return chunks_; }

 private:
  std::vector<std::vector<std::byte>> chunks_;
  uint64_t size_bytes_ = 0;
};

struct StateStoreStats {
  uint64_t last_applied_seq = 0;
  uint64_t image_seq = 0;
  uint64_t queued_effect_count = 0;
  uint64_t txn_count = 0;  // write transactions committed
  uint64_t effects_applied = 0;
  uint64_t history_entries_written = 0;
  uint64_t records_written = 0;
  uint64_t texts_written = 0;
  uint64_t file_size_bytes = 0;  // data.mdb as LMDB sees it (last page used)
  bool failed = false;
};

class StateStore {
 public:
  // Opens (creating if needed) the store; starts the writer thread.
  static Status open(const StateStoreOptions& options, std::unique_ptr<StateStore>* store);
  // Commits what is queued (unless failed), drops an image still waiting for its
  // effects (the previous image stays), joins the thread.
  ~StateStore();
  StateStore(const StateStore&) = delete;
  StateStore& operator=(const StateStore&) = delete;

  // From the producer, after the batch's journal record is durable. Batches come
  // in sequence order without gaps; batches or effects at or below the last
  // applied seq are skipped (recovery re-feeds). queue_full: over the queue
  // limit, nothing taken. The sticky error once failed.
  Status try_submit(EffectBatch batch);
  // Like try_submit() but waits for room instead of queue_full.
  Status submit(EffectBatch batch);

  // Checkpoint: the image as of `seq` (== Ledger::last_seq() when it was written)
  // with its state hash. Committed in the first transaction whose last applied
  // seq reaches `seq`, together with those effects, replacing the previous
  // image; until then it waits (a newer image replaces a waiting one). So the
  // store never holds an image ahead of its history.
  Status save_image(uint64_t seq, uint64_t state_hash, ImageBuffer image);
  // The stored image, if any.
  Status load_image(StoredImage* image) const;

  // Waits until everything submitted is committed (or the store failed) and
  // returns the sticky status.
  Status flush();

  // History of one account, newest first, at most `limit` (<= kHistoryPageLimitMax)
  // entries from `from` (a cursor of another account: an empty page). One read
  // transaction, one B-tree descent per entry. Empty for domain accounts other
  // than member wallets/points (STATE_STORE.md).
  Status history(uint64_t account_id, HistoryCursor from, uint32_t limit, HistoryPage* page) const;
  // The texts under `keys` (nullopt: none), in the order of `keys`; at most
  // kTextsKeysMax keys. One read transaction.
  Status texts(std::span<const Id128> keys, std::vector<std::optional<std::string>>* out) const;
  // Texts of `group` with key > `after` (zero: from the first), at most limit
  // (<= kTextsPageLimitMax), ordered by key (Id128 order: lo, then hi).
  Status texts_in_group(uint64_t group, Id128 after, uint32_t limit, TextGroupPage* page) const;
  // History (SPEC M3, P3) of a member's wallet (asset_wallet) or points account,
  // newest first; an unknown member or asset gives an empty page.
  Status member_history(uint64_t member_id, Asset asset, HistoryCursor from, uint32_t limit,
                        HistoryPage* page) const;
  // Gifts a member sent or received with seq < before_seq (0: from the newest),
  // newest first, at most limit (<= kGiftsPageLimitMax).
  Status gifts(uint64_t member_id, GiftDirection direction, uint64_t before_seq, uint32_t limit,
               GiftPage* page) const;
  // Withdrawals now in `state` (withdrawal_pending/approved/rejected) that
  // entered it after `after_seq`, oldest first, at most limit (<= kWithdrawalsPageLimitMax).
  Status withdrawals(uint8_t state, uint64_t after_seq, uint32_t limit, WithdrawalPage* page) const;
  // Effects stored under `kind` with seq >= from_seq, oldest first, at most limit:
  // kinds no other table indexes (not transfers, balance changes or
  // account_created: those are in history and accounts).
  Status records(EffectKind kind, uint64_t from_seq, uint32_t limit,
                 std::vector<Effect>* out) const;

  uint64_t last_applied_seq() const { return last_applied_seq_.load(std::memory_order_acquire); }
  uint64_t image_seq() const { return image_seq_.load(std::memory_order_acquire); }
  // The sticky error; ok (one atomic load, no lock) while healthy.
  Status error() const;
  StateStoreStats stats() const;

  // Tests: the writer does the work of its next transaction and then aborts it
  // instead of committing, as if the process died before the commit; the store
  // is then failed (closed) like after a crash.
  void test_abort_next_commit() { test_abort_next_commit_.store(true); }

 private:
  struct Impl;
  struct PendingImage {
    uint64_t seq = 0;
    uint64_t state_hash = 0;
    ImageBuffer buffer;
  };

  explicit StateStore(const StateStoreOptions& options);
  Status open_dbs();
  void writer_loop();
  // Applies `batches` (and a due image) in write transactions. REQUIRES: write_mu_.
  Status apply_locked(std::vector<EffectBatch>& batches);
  Status enqueue(EffectBatch batch, bool wait);
  void fail(const Status& s);
  void fail_locked(const Status& s);  // REQUIRES: queue_mu_
  void log(const std::string& line) const;

  const StateStoreOptions options_;
  std::unique_ptr<Impl> impl_;

  // Producer side.
  mutable std::mutex queue_mu_;
  std::condition_variable queue_cv_;  // writer: work arrived / stop
  std::condition_variable room_cv_;   // producers: room; flushers: applied
  std::vector<EffectBatch> queue_;    // GUARDED_BY(queue_mu_)
  uint64_t queued_effect_count_ = 0;  // GUARDED_BY(queue_mu_)
  uint64_t submit_next_seq_ = 0;      // GUARDED_BY(queue_mu_)
  uint64_t submitted_seq_ = 0;        // GUARDED_BY(queue_mu_): highest last_seq taken
  bool writer_busy_ = false;          // GUARDED_BY(queue_mu_): a round taken, not yet done
  std::unique_ptr<PendingImage> pending_image_;  // GUARDED_BY(queue_mu_)
  bool stopping_ = false;                        // GUARDED_BY(queue_mu_)
  Status error_;                                 // GUARDED_BY(queue_mu_)
  std::atomic<bool> failed_{false};              // set once, with error_: error()'s lock-free check

  // Writer side.
  std::mutex write_mu_;
  std::atomic<uint64_t> last_applied_seq_{0};
  std::atomic<uint64_t> image_seq_{0};
  std::atomic<uint64_t> txn_count_{0};
  std::atomic<uint64_t> effects_applied_{0};
  std::atomic<uint64_t> history_entries_written_{0};
  std::atomic<uint64_t> records_written_{0};
  std::atomic<uint64_t> texts_written_{0};
  std::atomic<bool> test_abort_next_commit_{false};

  std::thread thread_;
};

}  // namespace coffer::storage
