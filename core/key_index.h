// Private to core: an open-addressing index from a 32-bit hash to a uint32 value
// (a slot in some record array that holds the full key). Linear probing,
// backward-shift deletion (no tombstones), at most half full. Each bucket keeps
// the hash so that probing and deletion never touch the records.
#pragma once

#include <cstdint>

#include "core/assert.h"
#include "core/table_memory.h"

namespace coffer::detail {

class KeyIndex {
 public:
  static constexpr uint32_t none = UINT32_MAX;

  // Room for `capacity` entries: 2 x capacity buckets rounded up to a power of two.
  void init(uint32_t capacity) {
    const uint64_t size = power_of_two_at_least(uint64_t{capacity} * 2, 16);
    COFFER_ASSERT(size <= (uint64_t{1} << 31));
    buckets_.reset(size);
    mask_ = static_cast<uint32_t>(size - 1);
    capacity_ = capacity;
    count_ = 0;
  }

  // The value whose record matches, or none. match(value) compares the full key.
  template <class Match>
  uint32_t find(uint32_t hash, Match&& match) const {
    for (uint32_t i = hash & mask_;; i = (i + 1) & mask_) {
      const Bucket b = buckets_[i];
      if (b.value_plus_one == 0) return none;
      if (b.hash == hash && match(b.value_plus_one - 1)) return b.value_plus_one - 1;
    }
  }

  // REQUIRES: the key is absent.
  void insert(uint32_t hash, uint32_t value) {
    COFFER_ASSERT(count_ < capacity_);
    uint32_t i = hash & mask_;
    while (buckets_[i].value_plus_one != 0)
      i = (i + 1) & mask_;
    buckets_[i] = Bucket{value + 1, hash};
    count_++;
  }

  // REQUIRES: (hash, value) is present.
  void erase(uint32_t hash, uint32_t value) {
    uint32_t i = hash & mask_;
    while (buckets_[i].value_plus_one != value + 1) {
      COFFER_ASSERT(buckets_[i].value_plus_one != 0);
      i = (i + 1) & mask_;
    }
    // Shift later members of the probe run back into the hole.
    for (uint32_t j = (i + 1) & mask_;; j = (j + 1) & mask_) {
      const Bucket b = buckets_[j];
      if (b.value_plus_one == 0) break;
      const uint32_t home = b.hash & mask_;
      if (((j - home) & mask_) >= ((j - i) & mask_)) {
        buckets_[i] = b;
        i = j;
      }
    }
    buckets_[i] = Bucket{};
    count_--;
  }

  // Hints for the batch path: the first bucket of a probe run, and the value of
  // the first of its first guess_probe_max buckets with the hash (a guess, to
  // prefetch the record). At half load a third of the keys sit past their home
  // bucket; looking at the home bucket alone left their records unfetched.
  static constexpr uint32_t guess_probe_max = 4;
  void prefetch(uint32_t hash) const { detail::prefetch(&buckets_[hash & mask_]); }
  uint32_t guess(uint32_t hash) const {
    uint32_t i = hash & mask_;
    for (uint32_t k = 0; k < guess_probe_max; k++, i = (i + 1) & mask_) {
      const Bucket b = buckets_[i];
      if (b.value_plus_one == 0) return none;
      if (b.hash == hash) return b.value_plus_one - 1;
    }
    return none;
  }

  uint32_t count() const { return count_; }

 private:
  struct Bucket {
    uint32_t value_plus_one;  // 0 = empty
    uint32_t hash;
  };
  TableArray<Bucket> buckets_;
  uint32_t mask_ = 0;
  uint32_t capacity_ = 0;
  uint32_t count_ = 0;
};

}  // namespace coffer::detail
