// Private to core: the index over the ring of remembered command ids.
//
// Each id recorded gets the next serial (a 32-bit counter); the ring holds the
// last `live` of them, and an index slot is live while its serial is among
// those. Forgetting the oldest id therefore costs nothing here: its slot simply
// stops being live and is reused by a later insert into the same line. (A
// linear-probing index has to find and erase it: one more random cache line
// and a backward shift per command.)
//
// Set-associative: a 64-byte line holds 7 slots of (tag, serial). An insert
// takes the first free or dead slot of its home line; when all 7 are live it
// goes on to the next line and counts itself in the line it passed (`passed`),
// and a lookup goes on to the next line only while that count is non-zero. The
// count drops when the passing entry's slot is reused (its distance from home
// is kept in a nibble; an entry more than 14 lines away keeps its passes for
// good, which only makes some lookups probe one more line). Lines are a power of
// two >= capacity / 4, so on average at most 4 of 7 slots are live and a line
// overflows rarely: one line per lookup and insert, 16 bytes per id. A line's
// tags and serials are compared 4 at a time with SSE2 where there is SSE2
// (COFFER_NO_SIMD: the portable loops, which the tests also run).
//
// Keys: the tag is the top half of the id's hash; the line comes from the id
// itself (`key`), so that ids numbered in sequence fill consecutive lines.
#pragma once

#include <cstdint>

#if defined(__SSE2__) && !defined(COFFER_NO_SIMD)
#include <emmintrin.h>
#endif

#include "core/assert.h"
#include "core/table_memory.h"
#include "core/types.h"

namespace coffer::detail {

class CommandIdIndex {
 public:
  static constexpr uint32_t ways = 7;

  // Room for a ring of `capacity` ids. Serials start at first_serial (tests
  // start near 2^32 to cross the wrap).
  void init(uint32_t capacity, uint32_t first_serial = 0) {
    const uint64_t lines = power_of_two_at_least((uint64_t{capacity} + 3) / 4);
    lines_.reset(lines);
    mask_ = static_cast<uint32_t>(lines - 1);
    // (One line: any start masks to it; 63 keeps the shift defined.)
    run_shift_ = lines == 1 ? 63 : 64 - static_cast<uint32_t>(__builtin_ctzll(lines));
    next_serial_ = first_serial;
  }

  // The key of command id `id` whose hash_id() is `hash`: the tag is hash's top
  // half; the line is chosen so that ids in sequence (how clients usually number
  // their commands; TigerBeetle's ids too) take consecutive lines. A run of 64
  // ids (the low 6 bits of id.lo) starts on a line hashed from the rest of the
  // id (Fibonacci: the top bits of a product) and puts one id on each line, so
  // 64 commands touch one or two 4 KiB pages instead of 64 random pages (each a
  // TLB miss and a page walk). A line still receives ids of independent runs,
  // so its load is that of a hash; unrelated ids spread as a hash spreads them.
  uint64_t key(const Id128& id, uint64_t hash) const {
    const uint64_t run = id.hi * 0x9e3779b97f4a7c15ull + (id.lo >> 6);
    const uint64_t start = (run * 0xc2b2ae3d27d4eb4full) >> run_shift_;
    return (hash & 0xffffffff00000000ull) | static_cast<uint32_t>(start + (id.lo & 63));
  }

  // The serial the next insert will take.
  uint32_t next_serial() const { return next_serial_; }

  // Whether any live slot with `key` has match(serial) true; `live` = how many
  // of the latest serials are live. A key's low half picks its line (masked),
  // its high half is the tag: key() for command ids, any hash in the tests.
  template <class Match>
  bool find(uint64_t key, uint32_t live, Match&& match) const {
    const uint32_t tag = tag_of(key);
    uint32_t l = line_of(key);
    for (uint32_t probed = 0; probed <= mask_; probed++, l = (l + 1) & mask_) {
      const Line& line = lines_[l];
      for (uint32_t m = line.tag_matches(tag); m != 0; m &= m - 1) {
        const uint32_t k = static_cast<uint32_t>(__builtin_ctz(m));
        if (is_live(line.serials[k], next_serial_, live) && match(line.serials[k])) return true;
      }
      if (line.passed == 0) return false;
    }
    return false;
  }

  // Gives `key` the next serial and returns it. REQUIRES: live < 4 x lines
  // (the ring's capacity), so some line has a free slot.
  uint32_t insert(uint64_t key, uint32_t live) {
    const uint32_t tag = tag_of(key);
    const uint32_t serial = next_serial_++;
    uint32_t l = line_of(key);
    for (uint32_t distance = 0;; distance++, l = (l + 1) & mask_) {
      COFFER_ASSERT(distance <= mask_);
      Line& line = lines_[l];
      if (const uint32_t free = line.reusable(serial, live); free != 0) {
        const uint32_t k = static_cast<uint32_t>(__builtin_ctz(free));
        if (line.tags[k] != 0) unpass(l, line.distance(k));
        line.tags[k] = tag;
        line.serials[k] = serial;
        line.set_distance(k, distance < distance_far ? distance : distance_far);
        return serial;
      }
      if (line.passed != UINT32_MAX) line.passed++;
    }
  }

  void prefetch(uint64_t key) const { detail::prefetch(&lines_[line_of(key)]); }

  // The line `key` is homed on, and how many entries passed each line on the way
  // to a later one, summed (a lookup probes one more line per pass it meets).
  // For tests and statistics: the second walks every line.
  uint32_t line_of(uint64_t key) const { return static_cast<uint32_t>(key) & mask_; }
  uint64_t passes() const {
    uint64_t n = 0;
    for (uint64_t l = 0; l <= mask_; l++)
      n += lines_[l].passed;
    return n;
  }

 private:
  static constexpr uint32_t distance_far = 15;
  static constexpr uint32_t all_ways =
      (1u << ways) - 1;  // "15 or more": its passes are never taken back

  struct alignas(64) Line {
    uint32_t tags[ways];  // 0 = never used
    uint32_t passed;      // entries placed beyond this line that passed it
    uint32_t serials[ways];
    uint32_t distances;  // nibble k: slot k's distance from its home line
    uint32_t distance(uint32_t k) const { return (distances >> (4 * k)) & 15; }
    void set_distance(uint32_t k, uint32_t d) {
      distances = (distances & ~(15u << (4 * k))) | (d << (4 * k));
    }

    // Bit k: slot k has `tag`.
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
    // Bit k: slot k is free or dead (not among the `live` serials before `next`).
    uint32_t reusable(uint32_t next, uint32_t live) const {
#if defined(__SSE2__) && !defined(COFFER_NO_SIMD)
      // Unsigned age < live as a signed compare of both sides offset by 2^31.
      const __m128i sign = _mm_set1_epi32(INT32_MIN);
      const __m128i last = _mm_set1_epi32(static_cast<int>(next - 1));
      const __m128i bound = _mm_xor_si128(_mm_set1_epi32(static_cast<int>(live)), sign);
      const __m128i zero = _mm_setzero_si128();
      auto half = [&](int k) {
        const __m128i s = _mm_load_si128(reinterpret_cast<const __m128i*>(serials + k));
        const __m128i t = _mm_load_si128(reinterpret_cast<const __m128i*>(tags + k));
        const __m128i age = _mm_xor_si128(_mm_sub_epi32(last, s), sign);
        const __m128i used =
            _mm_andnot_si128(_mm_cmpeq_epi32(t, zero), _mm_cmplt_epi32(age, bound));
        return static_cast<uint32_t>(_mm_movemask_ps(_mm_castsi128_ps(used)));
      };
      return ~(half(0) | half(4) << 4) & all_ways;
#else
      uint32_t m = 0;
      for (uint32_t k = 0; k < ways; k++)
        m |= uint32_t{tags[k] == 0 || !is_live(serials[k], next, live)} << k;
      return m;
#endif
    }
  };
  static_assert(sizeof(Line) == 64);

  // Live: among the `live` serials just before `next`.
  static bool is_live(uint32_t serial, uint32_t next, uint32_t live) {
    return next - 1 - serial < live;
  }
  static uint32_t tag_of(uint64_t key) {
    return static_cast<uint32_t>(key >> 32) | 1;
  }

  // A dead entry `distance` lines from home leaves: the lines it passed forget it.
  void unpass(uint32_t l, uint32_t distance) {
    if (distance == distance_far) return;
    for (uint32_t j = 1; j <= distance; j++) {
      Line& passed = lines_[(l - j) & mask_];
      if (passed.passed != UINT32_MAX) passed.passed--;
    }
  }

  TableArray<Line> lines_;
  uint32_t mask_ = 0;
  uint32_t run_shift_ = 63;  // 64 - log2(lines): key()'s run start is the top bits
  uint32_t next_serial_ = 0;
};

}  // namespace coffer::detail
