// CRC-32C (Castagnoli), used to frame journal records and wire frames, and to
// hash state. Pure C++ (slice-by-8 tables), with the SSE 4.2 crc32 instruction
// through a compiler builtin where the CPU has it: core keeps its no-dependency
// rule and the two give the same values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace coffer {

// Extends `crc` (the value returned for the bytes before) over `data`.
// crc32c_extend(0, all) == crc32c(all).
uint32_t crc32c_extend(uint32_t crc, const void* data, size_t size);

namespace detail {
// The portable tables, whatever the CPU (tests compare both paths).
uint32_t crc32c_extend_tables(uint32_t crc, const void* data, size_t size);
// Whether crc32c_extend uses the CPU's instruction.
bool crc32c_hardware();
}  // namespace detail

inline uint32_t crc32c(const void* data, size_t size) {
  return crc32c_extend(0, data, size);
}
inline uint32_t crc32c(std::span<const std::byte> bytes) {
  return crc32c_extend(0, bytes.data(), bytes.size());
}

// A stored CRC is masked, as in leveldb, so that a CRC computed over bytes that
// themselves embed CRCs does not degenerate.
inline uint32_t crc32c_mask(uint32_t crc) {
  return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}
inline uint32_t crc32c_unmask(uint32_t masked) {
  uint32_t rot = masked - 0xa282ead8u;
  return (rot >> 17) | (rot << 15);
}

}  // namespace coffer
