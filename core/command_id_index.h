// Private to core: the index over the ring of remembered command ids, a
// LineIndex (core/line_index.h) from each id's key to its serial.
//
// Each id recorded gets the next serial (a 32-bit counter); the ring holds the
// last `live` of them, and an index slot is live while its serial is among
// those. Forgetting the oldest id therefore costs nothing here: its slot simply
// stops being live and is taken by a later insert into the same line. (An
// index with explicit removal has to find and erase it: one more random cache
// line per command.) 16 bytes per id.
#pragma once

#include <cstdint>

#if defined(__SSE2__) && !defined(COFFER_NO_SIMD)
#include <emmintrin.h>
#endif

#include "core/line_index.h"

namespace coffer::detail {

class CommandIdIndex {
 public:
  // Room for a ring of `capacity` ids. Serials start at first_serial (tests
  // start near 2^32 to cross the wrap).
  void init(uint32_t capacity, uint32_t first_serial = 0) {
    lines_.init(capacity);
    next_serial_ = first_serial;
  }

  // The serial the next insert will take.
  uint32_t next_serial() const { return next_serial_; }

  // Whether any live slot with `key` has match(serial) true; `live` = how many
  // of the latest serials are live. A key's low half picks its line, its high
  // half is the tag: LineIndex::key() for command ids, any hash in the tests.
  template <class Match>
  bool find(uint64_t key, uint32_t live, Match&& match) const {
    return lines_.find(
        key, [&](uint32_t serial) { return is_live(serial, next_serial_, live) && match(serial); });
  }

  // Gives `key` the next serial and returns it. REQUIRES: live < 4 x lines
  // (the ring's capacity), so some line has a free or dead slot.
  uint32_t insert(uint64_t key, uint32_t live) {
    const uint32_t serial = next_serial_++;
    lines_.insert(key, serial,
                  [&](const LineIndex::Line& line) { return reusable(line, serial, live); });
    return serial;
  }

  void prefetch(uint64_t key) const { lines_.prefetch(key); }
  uint32_t line_of(uint64_t key) const { return lines_.line_of(key); }
  uint64_t passes() const { return lines_.passes(); }

 private:
  // Live: among the `live` serials just before `next`.
  static bool is_live(uint32_t serial, uint32_t next, uint32_t live) {
    return next - 1 - serial < live;
  }

  // Bit k: slot k is free or dead (not among the `live` serials before `next`).
  static uint32_t reusable(const LineIndex::Line& line, uint32_t next, uint32_t live) {
#if defined(__SSE2__) && !defined(COFFER_NO_SIMD)
    // Unsigned age < live as a signed compare of both sides offset by 2^31.
    const __m128i sign = _mm_set1_epi32(INT32_MIN);
    const __m128i last = _mm_set1_epi32(static_cast<int>(next - 1));
    const __m128i bound = _mm_xor_si128(_mm_set1_epi32(static_cast<int>(live)), sign);
    const __m128i zero = _mm_setzero_si128();
    auto half = [&](int k) {
      const __m128i s = _mm_load_si128(reinterpret_cast<const __m128i*>(line.values + k));
      const __m128i t = _mm_load_si128(reinterpret_cast<const __m128i*>(line.tags + k));
      const __m128i age = _mm_xor_si128(_mm_sub_epi32(last, s), sign);
      const __m128i used = _mm_andnot_si128(_mm_cmpeq_epi32(t, zero), _mm_cmplt_epi32(age, bound));
      return static_cast<uint32_t>(_mm_movemask_ps(_mm_castsi128_ps(used)));
    };
    return ~(half(0) | half(4) << 4) & LineIndex::all_ways;
#else
    uint32_t m = 0;
    for (uint32_t k = 0; k < LineIndex::ways; k++)
      m |= uint32_t{line.tags[k] == 0 || !is_live(line.values[k], next, live)} << k;
    return m;
#endif
  }

  LineIndex lines_;
  uint32_t next_serial_ = 0;
};

}  // namespace coffer::detail
