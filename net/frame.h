// The frame header of the binary protocol: 32 bytes, little-endian, fixed.
// Layout and rules: PROTOCOL.md in this folder.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "net/constants.h"

namespace coffer::net {

// On the wire: DO NOT CHANGE THESE VALUES.
enum class FrameType : uint8_t {
  hello = 1,        // client -> server, first frame: version, token
  hello_ok = 2,     // server -> client: session id, limits
  request = 3,      // client -> server: a batch of commands (opaque to this layer)
  reply = 4,        // server -> client: the results of one request
  error = 5,        // server -> client, then the server closes
  ping = 6,         // client -> server; answered in order by a pong with the same body
  pong = 7,         // server -> client
  query = 8,        // client -> server: a query of the state store (query.fbs)
  query_reply = 9,  // server -> client: its answer
};
inline constexpr uint8_t frame_type_max = 9;

bool frame_type_valid(uint8_t type);
const char* frame_type_name(FrameType type);

// In-memory image of the header. Fields are in wire order with natural
// alignment, so the struct is exactly the wire size; encoding still goes
// field by field (little-endian) so the host's byte order never matters.
struct FrameHeader {
  uint32_t magic = frame_magic;         // offset 0
  uint16_t version = protocol_version;  // offset 4
  FrameType type = FrameType::request;  // offset 6
  uint8_t flags = 0;                    // offset 7, no flags defined: must be 0
  uint32_t body_size = 0;               // offset 8
  uint32_t body_crc = 0;                // offset 12, masked CRC-32C of the body
  uint64_t request_id = 0;              // offset 16
  uint32_t reserved = 0;                // offset 24, must be 0
  uint32_t header_crc = 0;              // offset 28, masked CRC-32C of bytes 0..27
};
static_assert(sizeof(FrameHeader) == frame_header_size, "the frame header is 32 bytes on the wire");
static_assert(offsetof(FrameHeader, version) == 4 && offsetof(FrameHeader, type) == 6 &&
              offsetof(FrameHeader, flags) == 7 && offsetof(FrameHeader, body_size) == 8 &&
              offsetof(FrameHeader, body_crc) == 12 && offsetof(FrameHeader, request_id) == 16 &&
              offsetof(FrameHeader, reserved) == 24 && offsetof(FrameHeader, header_crc) == 28);

inline constexpr size_t frame_header_crc_offset = offsetof(FrameHeader, header_crc);

using HeaderBytes = std::array<std::byte, frame_header_size>;

// Fills in magic, version, body size and both CRCs; writes the wire image.
void encode_header(FrameType type, uint64_t request_id, std::span<const std::byte> body,
                   HeaderBytes& out);

// Reads the fields as they are; validation is the decoder's job.
FrameHeader parse_header(std::span<const std::byte, frame_header_size> bytes);
// Writes the fields as they are (no CRC computed): for tests that forge headers.
void write_header(const FrameHeader& header, HeaderBytes& out);

uint32_t masked_body_crc(std::span<const std::byte> body);
uint32_t masked_header_crc(std::span<const std::byte, frame_header_size> bytes);

// One whole frame (header + body) in a fresh buffer.
std::vector<std::byte> encode_frame(FrameType type, uint64_t request_id,
                                    std::span<const std::byte> body);

}  // namespace coffer::net
