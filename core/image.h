// A state image: the whole ledger state as bytes, so that recovery can load a
// checkpoint instead of replaying the whole journal. Core stays I/O-free: the
// caller supplies the byte sink/source (a file, an LMDB value, a buffer).
//
// Format (little-endian, host layout of the fixed-size records; version 1):
//   header   magic "COFFIMG\0", version, config capacities, last_seq,
//            last_time_us, started, counts
//   engine   accounts in creation order, open holds/grants (with their pool
//            index), remembered ids in FIFO order; every reference to an
//            account (here and in the domain) is its creation index
//   domain   per-table record counts and records
//   trailer  state_hash() of the written state, masked CRC-32C of all bytes before
// Ledger::read_image() checks magic, version, every count against the reader's
// capacities, record consistency (pending totals of accounts equal their open
// transfers, no duplicate ids), the CRC and that the recomputed state_hash()
// equals the stored one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

namespace coffer {

inline constexpr uint64_t image_magic = 0x00474d4946464f43ull;  // "COFFIMG\0"
inline constexpr uint32_t image_version = 1;

class ImageWriter {
 public:
  virtual ~ImageWriter() = default;
  virtual void write(const void* data, size_t size) = 0;
};

class ImageReader {
 public:
  virtual ~ImageReader() = default;
  // Fills exactly `size` bytes; false if the source has fewer left (or failed).
  virtual bool read(void* data, size_t size) = 0;
};

// In-memory implementations (tests, and small checkpoints).
class VectorImageWriter final : public ImageWriter {
 public:
  void write(const void* data, size_t size) override {
    const auto* p = static_cast<const unsigned char*>(data);
    bytes.insert(bytes.end(), p, p + size);
  }
  std::vector<unsigned char> bytes;
};

class SpanImageReader final : public ImageReader {
 public:
  SpanImageReader(const void* data, size_t size)
      : data_(static_cast<const unsigned char*>(data)), size_(size) {}
  bool read(void* out, size_t size) override {
    if (size > size_ - pos_) return false;
    std::memcpy(out, data_ + pos_, size);
    pos_ += size;
    return true;
  }
  size_t remaining() const { return size_ - pos_; }

 private:
  const unsigned char* data_;
  size_t size_;
  size_t pos_ = 0;
};

}  // namespace coffer
