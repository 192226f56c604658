// Private to storage/: encoding and decoding of segment headers and record
// frames (JOURNAL.md is the grammar), segment names, and the classification of
// where a segment's data ends.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "storage/constants.h"

namespace coffer::storage::format {

// Frame types. On disk: DO NOT CHANGE THESE ENUM VALUES.
enum FrameType : uint8_t {
  kTypeZero = 0,   // preallocated space: end of data
  kTypeBatch = 1,  // one sequencer batch
};

inline constexpr char kSegmentMagic[8] = {'C', 'o', 'f', 'f', 'e', 'r', 'W', 'L'};

struct FrameHeader {
  uint32_t payload_size;
  uint8_t type;
  uint64_t first_seq;
  uint32_t command_count;
  uint64_t time_first_us;
  uint64_t time_last_us;
};

// Appends header + payload to `out`.
void encode_frame(const FrameHeader& header, std::span<const std::byte> payload,
                  std::vector<std::byte>* out);
void encode_segment_header(uint64_t first_seq, std::byte out[kSegmentHeaderSize]);

enum class SegmentHeaderResult : uint8_t { ok, bad_magic, bad_version, bad_checksum, bad_reserved };
SegmentHeaderResult decode_segment_header(std::span<const std::byte> bytes, uint64_t* first_seq);

enum class FrameResult : uint8_t {
  ok,
  zero,          // the header bytes present are all zero
  truncated,     // fewer bytes left than a header, or payload runs past the end
  bad_length,    // payload size above the limit
  bad_type,      // type byte neither zero nor batch, or reserved bytes set
  bad_count,     // command_count 0 or above the limit, or times reversed
  bad_checksum,  // checksum mismatch
};
const char* frame_result_name(FrameResult r);

// Decodes the frame at `offset` in `segment`; on ok fills *header and *payload.
FrameResult decode_frame(std::span<const std::byte> segment, uint64_t offset,
                         uint32_t payload_size_max, FrameHeader* header,
                         std::span<const std::byte>* payload);

// True if a complete, checksum-valid frame starts anywhere in [from, end).
// Used to tell a torn tail (nothing valid after) from corruption (valid
// records after a bad one). Returns its offset in *found.
bool find_valid_frame(std::span<const std::byte> segment, uint64_t from, uint32_t payload_size_max,
                      uint64_t* found);

bool all_zero(std::span<const std::byte> bytes);

std::string segment_name(uint64_t first_seq);
// Parses "journal-<20 digits>.wal"; nullopt for other names.
std::optional<uint64_t> parse_segment_name(const std::string& name);
inline constexpr const char* kTempSuffix = ".tmp";

}  // namespace coffer::storage::format
