// Private to core: the engine API the domain commands are built on. Unlike
// Ledger::apply(), these calls do not touch the idempotency table; each checks
// its rules against current state and then applies, emitting the usual effects.
// A domain command runs inside begin()/commit(): abort() undoes every change
// made since begin() and drops its effects, so a command applies all of its
// transfers or none.
#pragma once

#include <cstdint>

#include "core/ledger.h"
#include "core/types.h"

namespace coffer::detail {

class Engine {
 public:
  explicit Engine(Ledger::State& s) : s_(s) {}

  uint32_t find_account(uint64_t id) const;
  const Account& account(uint32_t slot) const;
  uint32_t account_count() const;
  uint32_t account_slot_at(uint32_t creation_index) const;  // REQUIRES: < account_count()
  uint32_t account_creation_index(uint32_t slot) const;
  uint64_t fingerprint() const;   // of the command being applied
  uint64_t id_key() const;        // the key of its id in indexes by id (LineIndex::key)
  uint32_t account_room() const;  // accounts that can still be created
  uint32_t pending_room() const;
  const PendingTransfer* find_pending(const Id128& id) const;
  uint32_t domain_pending_count() const;  // open holds/grants owned by the domain

  // REQUIRES: valid kind and flags, unused id, room (checked by the caller).
  uint32_t create_account(const Command& c, uint64_t id, uint64_t user_data, Asset asset,
                          AccountKind kind, uint16_t flags, EffectSink& sink);
  // Same rules as the transfer command, between slots. Holds and grants are
  // domain-owned; due_us: hold expiry (0 = never) or grant maturity.
  Result transfer(const Command& c, const Id128& id, uint32_t debit_slot, uint32_t credit_slot,
                  int64_t amount, TransferMode mode, uint64_t due_us, uint16_t code,
                  EffectSink& sink);
  // Posts `amount` (> 0, <= held) of a hold and releases the rest.
  Result post(const Command& c, const Id128& pending_id, int64_t amount, EffectSink& sink);
  // Releases a hold or drops a grant (kind: hold_voided or grant_cancelled).
  Result release(const Command& c, const Id128& pending_id, EffectSink& sink);
  // Reduces a grant by amount (> 0); the whole amount cancels it.
  Result shrink(const Command& c, const Id128& pending_id, int64_t amount, EffectSink& sink);

  void begin(EffectSink& sink);
  void commit();
  void abort(EffectSink& sink);

 private:
  Ledger::State& s_;
  size_t effects_mark_ = 0;
};

}  // namespace coffer::detail
