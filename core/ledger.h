// The core ledger: a deterministic state machine over accounts, holds and
// maturing grants. Single-threaded, no I/O, no clock: time arrives on each
// command. All memory is allocated by the constructor; apply() never allocates.
//
// Memory, per entry of each capacity (index buckets: 2-4 x 8 B after rounding
// up to a power of two; details in core/README.md):
//   account     64 B record + buckets                                 80-96 B
//   pending     64 B record + buckets + 24 B heap + 4 B free list  120-136 B
//   command id  32 B ring entry + buckets                             48-64 B
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "core/constants.h"
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
};

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

  // Reads. Slots are dense (0..account_count()-1, in creation order) and stable:
  // the domain layer may keep them instead of hashing ids again.
  uint32_t find_account(uint64_t account_id) const;  // slot_none if unknown
  const Account& account(uint32_t slot) const;
  uint32_t account_count() const;
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

  // 64-bit content hash of a command (everything except id, seq and time_us).
  static uint64_t fingerprint(const Command& c);

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace coffer
