#include "storage/journal_format.h"

#include <cstdio>
#include <cstring>

#include "core/crc32c.h"

namespace coffer::storage::format {
namespace {

void put_u32(std::byte* p, uint32_t v) {
  for (int i = 0; i < 4; ++i)
    p[i] = static_cast<std::byte>(v >> (8 * i));
}
void put_u64(std::byte* p, uint64_t v) {
  for (int i = 0; i < 8; ++i)
    p[i] = static_cast<std::byte>(v >> (8 * i));
}
uint32_t get_u32(const std::byte* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i)
    v |= static_cast<uint32_t>(p[i]) << (8 * i);
  return v;
}
uint64_t get_u64(const std::byte* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i)
    v |= static_cast<uint64_t>(p[i]) << (8 * i);
  return v;
}

// Frame header layout (JOURNAL.md).
constexpr size_t kOffCrc = 0;
constexpr size_t kOffLength = 4;
constexpr size_t kOffType = 8;
constexpr size_t kOffReserved = 9;
constexpr size_t kOffFirstSeq = 12;
constexpr size_t kOffCount = 20;
constexpr size_t kOffTimeFirst = 24;
constexpr size_t kOffTimeLast = 32;
static_assert(kOffTimeLast + 8 == kFrameHeaderSize, "frame header is 40 bytes");

// Segment header layout.
constexpr size_t kSegOffMagic = 0;
constexpr size_t kSegOffVersion = 8;
constexpr size_t kSegOffReserved = 12;
constexpr size_t kSegOffFirstSeq = 16;
constexpr size_t kSegOffReserved2 = 24;
constexpr size_t kSegOffCrc = 28;
static_assert(kSegOffCrc + 4 == kSegmentHeaderSize, "segment header is 32 bytes");

}  // namespace

void encode_frame(const FrameHeader& header, std::span<const std::byte> payload,
                  std::vector<std::byte>* out) {
  size_t start = out->size();
  out->resize(start + kFrameHeaderSize + payload.size());
  std::byte* p = out->data() + start;
  put_u32(p + kOffLength, header.payload_size);
  p[kOffType] = static_cast<std::byte>(header.type);
  p[kOffReserved] = p[kOffReserved + 1] = p[kOffReserved + 2] = std::byte{0};
  put_u64(p + kOffFirstSeq, header.first_seq);
  put_u32(p + kOffCount, header.command_count);
  put_u64(p + kOffTimeFirst, header.time_first_us);
  put_u64(p + kOffTimeLast, header.time_last_us);
  if (!payload.empty()) std::memcpy(p + kFrameHeaderSize, payload.data(), payload.size());
  uint32_t crc = crc32c(p + kOffLength, kFrameHeaderSize - kOffLength + payload.size());
  put_u32(p + kOffCrc, crc32c_mask(crc));
}

void encode_segment_header(uint64_t first_seq, std::byte out[kSegmentHeaderSize]) {
  std::memset(out, 0, kSegmentHeaderSize);
  std::memcpy(out + kSegOffMagic, kSegmentMagic, sizeof(kSegmentMagic));
  put_u32(out + kSegOffVersion, kJournalFormatVersion);
  put_u64(out + kSegOffFirstSeq, first_seq);
  put_u32(out + kSegOffCrc, crc32c_mask(crc32c(out, kSegOffCrc)));
}

SegmentHeaderResult decode_segment_header(std::span<const std::byte> bytes, uint64_t* first_seq) {
  if (bytes.size() < kSegmentHeaderSize) return SegmentHeaderResult::bad_magic;
  const std::byte* p = bytes.data();
  if (std::memcmp(p + kSegOffMagic, kSegmentMagic, sizeof(kSegmentMagic)) != 0) {
    return SegmentHeaderResult::bad_magic;
  }
  if (crc32c_unmask(get_u32(p + kSegOffCrc)) != crc32c(p, kSegOffCrc)) {
    return SegmentHeaderResult::bad_checksum;
  }
  if (get_u32(p + kSegOffVersion) != kJournalFormatVersion) return SegmentHeaderResult::bad_version;
  if (get_u32(p + kSegOffReserved) != 0 || get_u32(p + kSegOffReserved2) != 0) {
    return SegmentHeaderResult::bad_reserved;
  }
  *first_seq = get_u64(p + kSegOffFirstSeq);
  return SegmentHeaderResult::ok;
}

const char* frame_result_name(FrameResult r) {
  switch (r) {
    case FrameResult::ok:
      return "ok";
    case FrameResult::zero:
      return "zero header";
    case FrameResult::truncated:
      return "truncated frame";
    case FrameResult::bad_length:
      return "bad length";
    case FrameResult::bad_type:
      return "bad type";
    case FrameResult::bad_count:
      return "bad command count or times";
    case FrameResult::bad_checksum:
      return "checksum mismatch";
  }
  return "?";
}

bool all_zero(std::span<const std::byte> bytes) {
  // Word at a time: end-of-segment checks run over up to a whole segment.
  size_t i = 0;
  const std::byte* p = bytes.data();
  for (; i + 8 <= bytes.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    if (w != 0) return false;
  }
  for (; i < bytes.size(); ++i) {
    if (p[i] != std::byte{0}) return false;
  }
  return true;
}

FrameResult decode_frame(std::span<const std::byte> segment, uint64_t offset,
                         uint32_t payload_size_max, FrameHeader* header,
                         std::span<const std::byte>* payload) {
  uint64_t left = offset < segment.size() ? segment.size() - offset : 0;
  const std::byte* p = segment.data() + offset;
  if (left < kFrameHeaderSize) {
    return all_zero({p, static_cast<size_t>(left)}) ? FrameResult::zero : FrameResult::truncated;
  }
  if (all_zero({p, kFrameHeaderSize})) return FrameResult::zero;
  uint32_t length = get_u32(p + kOffLength);
  uint8_t type = static_cast<uint8_t>(p[kOffType]);
  if (length > payload_size_max) return FrameResult::bad_length;
  if (length > left - kFrameHeaderSize) return FrameResult::truncated;
  if (type != kTypeBatch || p[kOffReserved] != std::byte{0} ||
      p[kOffReserved + 1] != std::byte{0} || p[kOffReserved + 2] != std::byte{0}) {
    return FrameResult::bad_type;
  }
  uint32_t crc = crc32c(p + kOffLength, kFrameHeaderSize - kOffLength + length);
  if (crc32c_unmask(get_u32(p + kOffCrc)) != crc) return FrameResult::bad_checksum;
  FrameHeader h{length,
                type,
                get_u64(p + kOffFirstSeq),
                get_u32(p + kOffCount),
                get_u64(p + kOffTimeFirst),
                get_u64(p + kOffTimeLast)};
  // Checked after the checksum: a valid checksum over bad values means a writer
  // bug, still reported as corruption.
  if (h.command_count == 0 || h.command_count > kRecordCommandCountMax ||
      h.time_first_us > h.time_last_us || h.first_seq + h.command_count < h.first_seq) {
    return FrameResult::bad_count;
  }
  *header = h;
  *payload = {p + kFrameHeaderSize, length};
  return FrameResult::ok;
}

bool find_valid_frame(std::span<const std::byte> segment, uint64_t from, uint32_t payload_size_max,
                      uint64_t* found) {
  if (segment.size() < kFrameHeaderSize) return false;
  FrameHeader h;
  std::span<const std::byte> payload;
  for (uint64_t pos = from; pos + kFrameHeaderSize <= segment.size(); ++pos) {
    // Cheap filter before the checksum: type byte and zero reserved bytes.
    const std::byte* p = segment.data() + pos;
    if (p[kOffType] != std::byte{kTypeBatch} || p[kOffReserved] != std::byte{0}) continue;
    if (decode_frame(segment, pos, payload_size_max, &h, &payload) == FrameResult::ok) {
      *found = pos;
      return true;
    }
  }
  return false;
}

std::string segment_name(uint64_t first_seq) {
  char digits[kSegmentNameSeqDigits + 1];
  std::snprintf(digits, sizeof(digits), "%020llu", static_cast<unsigned long long>(first_seq));
  return std::string("journal-") + digits + ".wal";
}

std::optional<uint64_t> parse_segment_name(const std::string& name) {
  const std::string prefix = "journal-";
  const std::string suffix = ".wal";
  if (name.size() != prefix.size() + kSegmentNameSeqDigits + suffix.size()) return std::nullopt;
  if (name.compare(0, prefix.size(), prefix) != 0) return std::nullopt;
  if (name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) return std::nullopt;
  uint64_t v = 0;
  for (size_t i = prefix.size(); i < prefix.size() + kSegmentNameSeqDigits; ++i) {
    char c = name[i];
    if (c < '0' || c > '9') return std::nullopt;
    uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return std::nullopt;  // does not fit in 64 bits
    v = v * 10 + d;
  }
  return v;
}

}  // namespace coffer::storage::format
