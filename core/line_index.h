// Private to core: a set-associative index from a 64-bit key to a uint32 value
// (a record's position in its array, or a serial), in 64-byte lines of 7 slots
// of (tag, value).
//
// A key's low half picks its home line (line_of); its high half is the tag kept
// in the slot. An insert takes a free slot of its home line; when all 7 are
// taken it goes on by a step taken from its tag (line + k x step, the step odd)
// and marks each line it passed (`passed`: a count, and a 16-bit filter of the
// passing tags). A lookup goes on only when its tag is in the line's filter,
// so the lookup of a new id, the common case, goes on only ~1 in 16 times a
// line has been passed. The count drops when the entry that passed leaves
// (its number of steps is kept in a nibble), and the filter clears when the
// count reaches 0; an entry more than 14 steps away keeps its passes for good,
// which only makes some lookups probe one more line. With lines >= capacity /
// 4, on average at most 4 of 7 slots are used and a line overflows rarely: one
// line per lookup, insert and erase, 16 bytes per entry. Tags are compared 4 at
// a time with SSE2 where there is SSE2 (COFFER_NO_SIMD: the portable loops,
// which the tests also run).
//
// Ids as keys (`key`): ids numbered in sequence, as clients number their
// commands, take consecutive lines, so that a run of them touches one or two
// pages instead of one random page each (each a TLB miss and a page walk).
// Neighbouring lines then hold ids of the same runs, so their loads are
// alike: an overflow into the next line would land on one as full (with 50
// clients interleaving their sequences, lookups probed tens of lines);
// stepping by the tag sends each overflowing entry to a line of its own.
#pragma once

#include <cstdint>

#if defined(__SSE2__) && !defined(COFFER_NO_SIMD)
#include <emmintrin.h>
#endif

#include "core/assert.h"
#include "core/hash.h"
#include "core/table_memory.h"
#include "core/types.h"

namespace coffer::detail {

class LineIndex {
 public:
  static constexpr uint32_t none = UINT32_MAX;
  static constexpr uint32_t ways = 7;
  static constexpr uint32_t all_ways = (1u << ways) - 1;

  struct alignas(64) Line {
    uint32_t tags[ways];  // 0 = free (a key's tag is never 0)
    uint32_t passed;      // entries that passed it: count (low 16 bits) | filter of their tags
    uint32_t values[ways];
    uint32_t distances;  // nibble k: slot k's steps from its home line

    // Bit k: slot k has `tag` (tag 0: slot k is free).
    uint32_t tag_matches(uint32_t tag) const {
#if defined(__SSE2__) && !defined(COFFER_NO_SIMD)
      const __m128i t = _mm_set1_epi32(static_cast<int>(tag));
      const __m128i lo = _mm_load_si128(reinterpret_cast<const __m128i*>(tags));
      const __m128i hi = _mm_load_si128(reinterpret_cast<const __m128i*>(tags + 4));
      const uint32_t m =
          static_cast<uint32_t>(_mm_movemask_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(lo, t)))) |
          static_cast<uint32_t>(_mm_movemask_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(hi, t)))) << 4;
      return m & all_ways;  // lane 7 is `passed`
#else
      uint32_t m = 0;
      for (uint32_t k = 0; k < ways; k++)
        m |= uint32_t{tags[k] == tag} << k;
      return m;
#endif
    }
    uint32_t free_slots() const {
      return tag_matches(0);
    }
    uint32_t distance(uint32_t k) const {
      return (distances >> (4 * k)) & 15;
    }
    void set_distance(uint32_t k, uint32_t d) {
      distances = (distances & ~(15u << (4 * k))) | (d << (4 * k));
    }
  };
  static_assert(sizeof(Line) == 64);

  // Room for `capacity` entries: a power of two >= capacity / 4 lines.
  void init(uint64_t capacity) {
    const uint64_t lines = power_of_two_at_least((capacity + 3) / 4);
    COFFER_ASSERT(lines <= (uint64_t{1} << 32));
    lines_.reset(lines);
    mask_ = static_cast<uint32_t>(lines - 1);
    line_shift_ = lines == 1 ? 31 : 32 - static_cast<uint32_t>(__builtin_ctzll(lines));
  }

  // The key of id `id`, the same in every table (the ledger computes a
  // command id's once per command): the tag is hash_id's top half; the
  // line is chosen so that ids in sequence (how clients usually number their
  // commands; TigerBeetle's ids too) take consecutive lines. A run of 64 ids
  // (the low 6 bits of id.lo, kept as the key's low 6 bits) starts on a line
  // hashed from the rest of the id and puts one id on each line, so 64 of them
  // touch one or two 4 KiB pages instead of 64 random ones. The start is
  // Fibonacci hashing's (the top bits of run x 2^64/phi, kept above the 6; a
  // table takes as many as it has line bits): the runs of one sequence land
  // evenly spread, so lines fill evenly and hardly ever overflow, where random
  // starts overflowed one line in twenty and sent the lookups of new ids to a
  // second, random line. Unrelated ids spread as a hash spreads them. (Tables
  // of more than 2^26 lines place runs less closely; every key still has a line.)
  static uint64_t key(const Id128& id) {
    const uint64_t run = id.hi * 0xc2b2ae3d27d4eb4full + (id.lo >> 6);
    const uint32_t start = static_cast<uint32_t>((run * 0x9e3779b97f4a7c15ull) >> 38);
    return (hash_id(id) & 0xffffffff00000000ull) | start << 6 | (id.lo & 63);
  }

  // Whether a slot with `key` has match(value) true (any value, UINT32_MAX too).
  template <class Match>
  bool find(uint64_t key, Match&& match) const {
    const uint32_t tag = tag_of(key);
    uint32_t l = line_of(key);
    for (uint32_t probed = 0; probed <= mask_; probed++, l = (l + step_of(tag)) & mask_) {
      const Line& line = lines_[l];
      for (uint32_t m = line.tag_matches(tag); m != 0; m &= m - 1) {
        if (match(line.values[__builtin_ctz(m)])) return true;
      }
      if ((line.passed & filter_bit(tag)) == 0) return false;
    }
    return false;
  }
  // The value of a slot with `key` for which match(value) is true, or none
  // (for values below none: positions in a record array).
  template <class Match>
  uint32_t find_value(uint64_t key, Match&& match) const {
    uint32_t found = none;
    find(key, [&](uint32_t v) {
      if (!match(v)) return false;
      found = v;
      return true;
    });
    return found;
  }

  // Puts (key, value) in the first slot that takeable(line) allows (a mask of
  // slots: free ones, or ones whose entry is dead to the caller) of the first
  // line from key's home that has one. REQUIRES: some line has such a slot.
  template <class Takeable>
  void insert(uint64_t key, uint32_t value, Takeable&& takeable) {
    const uint32_t tag = tag_of(key);
    uint32_t l = line_of(key);
    for (uint32_t distance = 0;; distance++, l = (l + step_of(tag)) & mask_) {
      COFFER_ASSERT(distance <= mask_);
      Line& line = lines_[l];
      if (const uint32_t slots = takeable(line); slots != 0) {
        const uint32_t k = static_cast<uint32_t>(__builtin_ctz(slots));
        if (line.tags[k] != 0) unpass(l, line.distance(k), line.tags[k]);  // a dead one leaves
        line.tags[k] = tag;
        line.values[k] = value;
        line.set_distance(k, distance < distance_far ? distance : distance_far);
        return;
      }
      pass(line, tag);
    }
  }
  void insert(uint64_t key, uint32_t value) {
    insert(key, value, [](const Line& line) { return line.free_slots(); });
  }

  // REQUIRES: (key, value) is present.
  void erase(uint64_t key, uint32_t value) {
    const uint32_t tag = tag_of(key);
    uint32_t l = line_of(key);
    for (uint32_t probed = 0;; probed++, l = (l + step_of(tag)) & mask_) {
      COFFER_ASSERT(probed <= mask_);
      Line& line = lines_[l];
      for (uint32_t m = line.tag_matches(tag); m != 0; m &= m - 1) {
        const uint32_t k = static_cast<uint32_t>(__builtin_ctz(m));
        if (line.values[k] != value) continue;
        unpass(l, line.distance(k), tag);
        line.tags[k] = 0;
        return;
      }
    }
  }

  // Hints for the batch path: the home line, and the value of the first slot
  // there with key's tag (a guess, to prefetch the record), or none.
  void prefetch(uint64_t key) const {
    detail::prefetch(&lines_[line_of(key)]);
  }
  uint32_t guess(uint64_t key) const {
    const Line& line = lines_[line_of(key)];
    const uint32_t m = line.tag_matches(tag_of(key));
    return m == 0 ? none : line.values[__builtin_ctz(m)];
  }

  // The line `key` is homed on, and how many entries passed each line on the way
  // to a later one, summed (a lookup probes one more line per pass it meets).
  // For tests and statistics: the second walks every line.
  // (The low half's top bits, plus its low 6 bits: key()'s run start and the
  // id's place in its run. Any low half names some line.)
  uint32_t line_of(uint64_t key) const {
    const uint32_t low = static_cast<uint32_t>(key);
    return ((low >> line_shift_) + (low & 63)) & mask_;
  }
  uint64_t passes() const {
    uint64_t n = 0;
    for (uint64_t l = 0; l <= mask_; l++)
      n += lines_[l].passed & count_mask;
    return n;
  }

 private:
  // A distance of 15 stands for "15 or more": its passes are never taken back.
  static constexpr uint32_t distance_far = 15;

  static uint32_t tag_of(uint64_t key) {
    return static_cast<uint32_t>(key >> 32) | 1;
  }
  // The overflow step of an entry with `tag`: odd (a tag is), so a probe can
  // reach every line, and >= 64 lines, past the lines of one id run (whose
  // neighbours are as full as its home).
  static uint32_t step_of(uint32_t tag) {
    return tag | 64;
  }

  // `passed`: how many entries passed the line (saturating: then kept for
  // good), and above it one bit per passing tag (bits 8..11 of the tag; the
  // step uses the others too, but a filter only needs to be rarely set).
  static constexpr uint32_t count_mask = 0xffff;
  static uint32_t filter_bit(uint32_t tag) {
    return 1u << (16 + ((tag >> 8) & 15));
  }
  static void pass(Line& line, uint32_t tag) {
    if ((line.passed & count_mask) != count_mask) line.passed++;
    line.passed |= filter_bit(tag);
  }

  // An entry with `tag`, `distance` steps from home at line l, leaves: the
  // lines it passed forget it.
  void unpass(uint32_t l, uint32_t distance, uint32_t tag) {
    if (distance == distance_far) return;
    for (uint32_t j = 1; j <= distance; j++) {
      Line& passed = lines_[(l - j * step_of(tag)) & mask_];
      const uint32_t count = passed.passed & count_mask;
      if (count == count_mask) continue;  // saturated: kept for good
      passed.passed = count == 1 ? 0 : passed.passed - 1;
    }
  }

  TableArray<Line> lines_;
  uint32_t mask_ = 0;
  uint32_t line_shift_ = 31;  // 32 - log2(lines), at most 31 (one line: masked to 0)
};

}  // namespace coffer::detail
