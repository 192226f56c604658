// The core ledger: a deterministic state machine over accounts, holds and
// maturing grants. Single-threaded, no I/O, no clock: time arrives on each
// command. All memory is allocated by the constructor; apply() never allocates.
//
// Memory, per entry of each capacity (index buckets: 2-4 x 8 B after rounding
// up to a power of two; details in core/README.md):
//   account     64 B record in a table 1.5-3x the capacity + 4 B    100-196 B
//   pending     64 B record + buckets + 24 B heap + 4 B free list  120-136 B
//   command id  32 B ring entry + index lines                         48-64 B
// Domain tables (core/domain.h), per entry: member 64 B + 2 index tables,
// payment 248 B, refund/credit 72 B, recharge 88 B, order 112 B, withdrawal
// 96 B, voucher code 40 B, settlement row 88 B, each plus 16-32 B of index.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "core/constants.h"
#include "core/image.h"
#include "core/result.h"
#include "core/types.h"

namespace coffer {

struct LedgerConfig {
  uint32_t accounts_capacity = 1u << 16;
  uint32_t pending_capacity = 1u << 14;
  // Completed command ids remembered for replays, FIFO. A replay is recognised
  // when fewer than idempotency_capacity recorded commands were applied since
  // the original (and, for a hold or grant, for as long as it is still open).
  // Production: 4M or more (192 MiB).
  uint32_t idempotency_capacity = 1u << 16;
  // Domain records (SPEC.md), kept permanently; full pools refuse with
  // CAPACITY_EXHAUSTED. Each member takes two accounts (wallet, points) and each
  // merchant one, from accounts_capacity.
  uint32_t members_capacity = 1u << 12;
  uint32_t merchants_capacity = 1u << 8;
  uint32_t payments_capacity = 1u << 14;
  // Each of three tables: refunds; credits, debits, rebates and gifts; recharges.
  uint32_t records_capacity = 1u << 14;
  uint32_t batches_capacity = 1u << 10;   // voucher batches
  uint32_t vouchers_capacity = 1u << 16;  // voucher codes of all batches
  uint32_t stores_capacity = 1u << 12;
  uint32_t api_keys_capacity = 1u << 12;
  // Settlement rows (A3): one per (UTC day, merchant, store) with activity.
  uint32_t settlement_capacity = 1u << 16;
};

namespace detail {
class Engine;
class Domain;
}  // namespace detail

// Where apply() writes effects: a caller-owned buffer, never grown.
class EffectSink {
 public:
  EffectSink(Effect* data, size_t capacity) : data_(data), capacity_(capacity) {}
  explicit EffectSink(std::span<Effect> buffer) : EffectSink(buffer.data(), buffer.size()) {}
  std::span<const Effect> effects() const { return {data_, size_}; }
  size_t size() const { return size_; }
  size_t room() const { return capacity_ - size_; }
  void clear() { size_ = 0; }

 private:
  friend class Ledger;
  friend class detail::Engine;
  Effect* data_;
  size_t capacity_;
  size_t size_ = 0;
};

class Ledger {
 public:
  static constexpr uint32_t slot_none = UINT32_MAX;

  // Asserts that the capacities are within constants.h.
  explicit Ledger(const LedgerConfig& config = {});
  ~Ledger();
  Ledger(const Ledger&) = delete;
  Ledger& operator=(const Ledger&) = delete;

  // Applies one command. REQUIRES: not linked (else LINKED_CHAIN_OPEN), seq
  // greater and time_us not smaller than the last command's, and
  // sink.room() >= effects_max(c).
  Reply apply(const Command& c, EffectSink& sink);

  // Applies commands in order, one reply each. Stops before a command (or a
  // whole linked chain) whose worst-case effects do not fit the sink's room and
  // returns how many were applied; the caller drains the sink and calls again
  // with the rest (an empty sink of effects_per_command_max always makes
  // progress). REQUIRES: replies.size() >= commands.size().
  size_t apply(std::span<const Command> commands, std::span<Reply> replies, EffectSink& sink);

  // Worst-case number of effects of one command.
  static uint32_t effects_max(const Command& c);

  // Reads (lookup_account and the domain reads 96..127) change nothing, so
  // they need neither a seq nor the journal: read() answers one exactly as
  // apply() would at time max(now_us, last_time_us()). The caller must not
  // release the answer before everything it may reflect is durable.
  static bool is_read(CommandKind kind);
  // REQUIRES: is_read(c.kind).
  Reply read(const Command& c, uint64_t now_us) const;

  // Reads. A slot is where the account is stored, stable for its life (the
  // domain layer keeps slots instead of hashing ids again) but not dense:
  // scan with account_slot_at(0..account_count()-1), in creation order.
  uint32_t find_account(uint64_t account_id) const;  // slot_none if unknown
  const Account& account(uint32_t slot) const;
  uint32_t account_count() const;
  uint32_t account_slot_at(uint32_t creation_index) const;
  const PendingTransfer* find_pending(Id128 id) const;  // nullptr if not open
  // Pool entries by index, for scans; nullptr for a free entry.
  uint32_t pending_pool_size() const;
  const PendingTransfer* pending_at(uint32_t index) const;
  uint32_t pending_count() const;
  uint32_t idempotency_count() const;
  uint64_t last_seq() const;
  uint64_t last_time_us() const;

  // Hash of every account, open pending transfer and remembered command id, in a
  // canonical order: equal states give equal hashes whatever the table layout.
  uint64_t state_hash() const;

  // State image (core/image.h): everything apply() depends on, so that a fresh
  // ledger loaded from it behaves exactly like this one. REQUIRES: not inside
  // apply(). read_image() only into a freshly constructed ledger (else
  // INVALID_REQUEST); a malformed, truncated, inconsistent or corrupted image
  // (or one with trailing bytes) gives INVALID_REQUEST and leaves it fresh.
  // The reader's capacities must hold the image's counts; they need not equal
  // the writer's.
  void write_image(ImageWriter& out) const;
  Result read_image(ImageReader& in);

  // 64-bit content hash of a command (everything except id, seq and time_us).
  static uint64_t fingerprint(const Command& c);

 private:
  friend class detail::Engine;
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace coffer
