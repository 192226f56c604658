#include "net/frame.h"

#include <cstring>

#include "core/crc32c.h"

namespace coffer::net {
namespace {

void store_u16(std::byte* p, uint16_t v) {
  p[0] = std::byte(v);
  p[1] = std::byte(v >> 8);
}
void store_u32(std::byte* p, uint32_t v) {
  for (int i = 0; i < 4; ++i)
    p[i] = std::byte(v >> (8 * i));
}
void store_u64(std::byte* p, uint64_t v) {
  for (int i = 0; i < 8; ++i)
    p[i] = std::byte(v >> (8 * i));
}
uint16_t load_u16(const std::byte* p) {
  return uint16_t(uint16_t(p[0]) | uint16_t(uint16_t(p[1]) << 8));
}
uint32_t load_u32(const std::byte* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i)
    v |= uint32_t(p[i]) << (8 * i);
  return v;
}
uint64_t load_u64(const std::byte* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i)
    v |= uint64_t(p[i]) << (8 * i);
  return v;
}

}  // namespace

bool frame_type_valid(uint8_t type) {
  return type >= 1 && type <= frame_type_max;
}

const char* frame_type_name(FrameType type) {
  switch (type) {
    case FrameType::hello:
      return "hello";
    case FrameType::hello_ok:
      return "hello_ok";
    case FrameType::request:
      return "request";
    case FrameType::reply:
      return "reply";
    case FrameType::error:
      return "error";
    case FrameType::ping:
      return "ping";
    case FrameType::pong:
      return "pong";
    case FrameType::query:
      return "query";
    case FrameType::query_reply:
      return "query_reply";
  }
  return "unknown";
}

uint32_t masked_body_crc(std::span<const std::byte> body) {
  return crc32c_mask(crc32c(body.data(), body.size()));
}

uint32_t masked_header_crc(std::span<const std::byte, frame_header_size> bytes) {
  return crc32c_mask(crc32c(bytes.data(), frame_header_crc_offset));
}

void write_header(const FrameHeader& h, HeaderBytes& out) {
  std::byte* p = out.data();
  store_u32(p + 0, h.magic);
  store_u16(p + 4, h.version);
  p[6] = std::byte(h.type);
  p[7] = std::byte(h.flags);
  store_u32(p + 8, h.body_size);
  store_u32(p + 12, h.body_crc);
  store_u64(p + 16, h.request_id);
  store_u32(p + 24, h.reserved);
  store_u32(p + 28, h.header_crc);
}

FrameHeader parse_header(std::span<const std::byte, frame_header_size> bytes) {
  const std::byte* p = bytes.data();
  FrameHeader h;
  h.magic = load_u32(p + 0);
  h.version = load_u16(p + 4);
  h.type = FrameType(p[6]);
  h.flags = uint8_t(p[7]);
  h.body_size = load_u32(p + 8);
  h.body_crc = load_u32(p + 12);
  h.request_id = load_u64(p + 16);
  h.reserved = load_u32(p + 24);
  h.header_crc = load_u32(p + 28);
  return h;
}

void encode_header(FrameType type, uint64_t request_id, std::span<const std::byte> body,
                   HeaderBytes& out) {
  FrameHeader h;
  h.type = type;
  h.body_size = uint32_t(body.size());
  h.body_crc = masked_body_crc(body);
  h.request_id = request_id;
  write_header(h, out);
  store_u32(out.data() + frame_header_crc_offset, masked_header_crc(out));
}

std::vector<std::byte> encode_frame(FrameType type, uint64_t request_id,
                                    std::span<const std::byte> body) {
  std::vector<std::byte> frame(frame_header_size + body.size());
  HeaderBytes header;
  encode_header(type, request_id, body, header);
  std::memcpy(frame.data(), header.data(), header.size());
  if (!body.empty()) std::memcpy(frame.data() + frame_header_size, body.data(), body.size());
  return frame;
}

}  // namespace coffer::net
