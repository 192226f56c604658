// Private to core: the accounts, stored in an open-addressing table keyed by
// account id (linear probing, at most 2/3 full), so that finding an account by
// id reads one cache line, the record itself, where an index in front of a
// dense array read two (the bucket, then the record).
//
// A slot is the record's position in the table: stable for the account's life.
// Accounts are never deleted; the only removal is a rolled-back creation, always
// of the newest account, and clearing the newest insert leaves the table exactly
// as it was before it (every later probe run was made after it, and is gone).
// Creation order, which images, the state hash and scans use, is kept in a dense
// array beside (4 B per account); each record's `creation_index` names its place
// in it.
#pragma once

#include <cstdint>

#include "core/assert.h"
#include "core/table_memory.h"
#include "core/types.h"

namespace coffer::detail {

class AccountTable {
 public:
  static constexpr uint32_t none = UINT32_MAX;

  // The index hash of an account id: Fibonacci hashing, the top bits of
  // id x 2^64/phi. Ids created in sequence (the domain's member and merchant
  // accounts, most callers' own) land in distinct slots: a lookup reads one
  // line, where a randomising mix would send ~24 % of them on to a second at
  // this load. Any other id pattern spreads about as a random hash would. (No
  // index hash here is keyed: a caller choosing ids to collide can do so against
  // either, so this trades nothing in robustness.)
  static uint32_t hash(uint64_t id) {
    return static_cast<uint32_t>((id * 0x9e3779b97f4a7c15ull) >> 32);
  }

  // Room for `capacity` accounts: a power of two >= 1.5 x capacity records.
  void init(uint32_t capacity) {
    const uint64_t size = power_of_two_at_least((uint64_t{capacity} * 3 + 1) / 2, 16);
    COFFER_ASSERT(size <= (uint64_t{1} << 31));
    records_.reset(size);
    order_.reset(capacity);
    mask_ = static_cast<uint32_t>(size - 1);
    shift_ = 32 - static_cast<uint32_t>(__builtin_ctzll(size));
    capacity_ = capacity;
    count_ = 0;
  }

  // The slot of account `id` (hash: hash(id)), or none.
  uint32_t find(uint64_t id, uint32_t hash) const {
    for (uint32_t i = home(hash);; i = (i + 1) & mask_) {
      const uint64_t at = records_[i].id;
      if (at == 0) return none;  // also for id 0, which no account has
      if (at == id) return i;
    }
  }

  // A zeroed record for `id` (non-zero, absent), created last; returns its slot.
  // REQUIRES: count() < capacity.
  uint32_t insert(uint64_t id, uint32_t hash) {
    COFFER_ASSERT(id != 0 && count_ < capacity_);
    uint32_t i = home(hash);
    while (records_[i].id != 0)
      i = (i + 1) & mask_;
    records_[i] = Account{};
    records_[i].id = id;
    records_[i].creation_index = count_;
    order_[count_++] = i;
    return i;
  }

  // Undoes the newest insert. REQUIRES: `slot` is the newest account.
  void erase_newest(uint32_t slot) {
    COFFER_ASSERT(count_ > 0 && order_[count_ - 1] == slot);
    records_[slot] = Account{};
    count_--;
  }

  Account& operator[](uint32_t slot) { return records_[slot]; }
  const Account& operator[](uint32_t slot) const { return records_[slot]; }
  bool valid(uint32_t slot) const { return slot <= mask_ && records_[slot].id != 0; }

  uint32_t count() const { return count_; }
  // The slot of the k-th account created (k < count()).
  uint32_t slot_at(uint32_t k) const { return order_[k]; }
  uint32_t creation_index(uint32_t slot) const {
    return static_cast<uint32_t>(records_[slot].creation_index);
  }
  // The k-th account as images and the state hash hold it (creation_index 0:
  // their order says it).
  Account stored(uint32_t k) const {
    Account a = records_[order_[k]];
    a.creation_index = 0;
    return a;
  }

  // Where the probe for `hash` starts: its top bits (Fibonacci hashing's best).
  uint32_t home(uint32_t hash) const { return hash >> shift_; }
  // The record line where a lookup of `hash` starts (for the batch path).
  void prefetch(uint32_t hash) const { detail::prefetch(&records_[home(hash)]); }

 private:
  TableArray<Account> records_;
  TableArray<uint32_t> order_;  // creation index -> slot
  uint32_t mask_ = 0;
  uint32_t shift_ = 32;  // 32 - log2(table size)
  uint32_t capacity_ = 0;
  uint32_t count_ = 0;
};

}  // namespace coffer::detail
