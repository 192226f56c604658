// Private to core: zeroed fixed-size arrays for the big tables (records, index
// buckets, the id ring). The batch path touches ~5 random cache lines per
// command spread over hundreds of MiB; on 4 KiB pages almost every one of those
// is also a TLB miss and a page walk (two-dimensional under a hypervisor), which
// the prefetches cannot hide. Arrays of 2 MiB or more are therefore aligned to
// 2 MiB and offered to the kernel as transparent huge pages (a hint only: the
// contents and every result are the same without it). Allocated at start-up,
// never grown.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <new>
#include <type_traits>
#include <utility>

#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "core/assert.h"

namespace coffer::detail {

// A prefetch the optimiser cannot drop: GCC treats __builtin_prefetch as free of
// side effects, so a helper made only of prefetches is removed as dead code.
inline void prefetch(const void* p) {
#if defined(__x86_64__)
  asm volatile("prefetcht0 %0" : : "m"(*static_cast<const char*>(p)));
#else
  __builtin_prefetch(p);
#endif
}

// The smallest power of two >= max(n, least): the size of a masked table.
inline uint64_t power_of_two_at_least(uint64_t n, uint64_t least = 1) {
  uint64_t size = least;
  while (size < n)
    size *= 2;
  return size;
}

inline constexpr size_t huge_page_size = size_t{2} << 20;
inline constexpr size_t cache_line_size = 64;

template <class T>
class TableArray {
  static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>,
                "zeroed bytes stand for value-initialised records");
  static_assert(alignof(T) <= cache_line_size);

 public:
  TableArray() = default;
  ~TableArray() { std::free(data_); }
  TableArray(const TableArray&) = delete;
  TableArray& operator=(const TableArray&) = delete;

  // n zeroed (value-initialised) elements; the old contents are freed.
  void reset(size_t n) {
    std::free(data_);
    data_ = nullptr;
    if (n == 0) return;
    COFFER_ASSERT(n <= SIZE_MAX / sizeof(T));
    const size_t bytes = n * sizeof(T);
    const size_t align = bytes >= huge_page_size ? huge_page_size : cache_line_size;
    const size_t rounded = (bytes + align - 1) / align * align;
    void* p = std::aligned_alloc(align, rounded);
    if (p == nullptr) throw std::bad_alloc();  // start-up only, like new[]
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (align == huge_page_size) madvise(p, rounded, MADV_HUGEPAGE);  // a hint; may fail
#endif
    std::memset(p, 0, rounded);
    data_ = static_cast<T*>(p);
  }

  T& operator[](size_t i) {
    return data_[i];
  }
  const T& operator[](size_t i) const {
    return data_[i];
  }
  T* get() {
    return data_;
  }
  const T* get() const {
    return data_;
  }

 private:
  T* data_ = nullptr;
};

}  // namespace coffer::detail
