// Private to core: the 64-bit mixing used by the index tables, command
// fingerprints and the state hash. Fixed forever: fingerprints are compared
// across restarts (a replay after recovery must match the original).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "core/types.h"

namespace coffer::detail {

// murmur3's 64-bit finaliser: a bijection with full avalanche.
inline uint64_t mix64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ull;
  x ^= x >> 33;
  return x;
}

inline uint64_t hash_u64(uint64_t x) {
  return mix64(x + 0x9e3779b97f4a7c15ull);
}
inline uint64_t hash_id(const Id128& id) {
  return mix64(id.lo ^ mix64(id.hi + 0x632be59bd9b4e019ull));
}

// Hash of whole 8-byte words; `size` must be a multiple of 8.
inline uint64_t hash_words(const void* data, size_t size, uint64_t seed) {
  const unsigned char* p = static_cast<const unsigned char*>(data);
  uint64_t h = seed ^ (size * 0x9e3779b97f4a7c15ull);
  for (size_t i = 0; i + 8 <= size; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    h = (h ^ mix64(w + i)) * 0x9fb21c651e98df25ull;
    h ^= h >> 29;
  }
  return mix64(h);
}

// 64 x 64 -> 128-bit multiply folded to 64 bits (wyhash's "mum").
inline uint64_t mum(uint64_t a, uint64_t b) {
  __extension__ typedef unsigned __int128 u128;
  const u128 r = static_cast<u128>(a) * b;
  return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
}

inline uint64_t load_u64(const unsigned char* p) {
  uint64_t w;
  std::memcpy(&w, p, 8);
  return w;
}

// Content hash of a command: the first 8 bytes (kind, flags, reserved) and the
// 88-byte body (at byte 32), as 12 words. The six products are independent, so
// this costs a few nanoseconds. Each word is xored with its own constant first,
// so moving a value to another field changes the hash. Words are loaded where
// they are (copying the 96 bytes first cost ~12 % of a transfer's hashing).
inline uint64_t fingerprint_command(const unsigned char* command, size_t body_offset) {
  static constexpr uint64_t k[12] = {
      0xa0761d6478bd642full, 0xe7037ed1a0b428dbull, 0x8ebc6af09c88c6e3ull, 0x589965cc75374cc3ull,
      0x1d8e4e27c47d124full, 0xeb44accab455d165ull, 0x9e3779b97f4a7c15ull, 0xbf58476d1ce4e5b9ull,
      0x94d049bb133111ebull, 0xff51afd7ed558ccdull, 0xc4ceb9fe1a85ec53ull, 0x632be59bd9b4e019ull};
  const unsigned char* body = command + body_offset;
  uint64_t acc = 0x636f66666572ull + mum(load_u64(command) ^ k[0], load_u64(body) ^ k[1]);
  for (int i = 2; i < 12; i += 2)
    acc += mum(load_u64(body + 8 * (i - 1)) ^ k[i], load_u64(body + 8 * i) ^ k[i + 1]);
  return mix64(acc);
}

}  // namespace coffer::detail
