// Incremental frame decoder: feed bytes as they arrive from a socket, take out
// whole frames or one precise error. Encoders for every frame type are in
// wire.h (bodies) and frame.h (encode_frame).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "net/frame.h"

namespace coffer::net {

// Why a byte stream is not a valid frame sequence. Reported to the peer in
// the error frame's message (decode_error_name). DO NOT CHANGE THESE VALUES.
enum class DecodeError : uint8_t {
  none = 0,
  bad_magic = 1,
  bad_header_crc = 2,
  unsupported_version = 3,
  reserved_not_zero = 4,
  unknown_flags = 5,
  unknown_frame_type = 6,
  body_too_large = 7,
  bad_body_crc = 8,
};
inline constexpr size_t decode_error_count = 9;
const char* decode_error_name(DecodeError error);

struct Frame {
  FrameHeader header;
  std::vector<std::byte> body;
};

enum class DecodeStatus : uint8_t {
  need_more,  // every input byte consumed, no complete frame yet
  frame,      // `out` holds a frame; input advanced past it (more may remain)
  error,      // the stream is broken for good: error() says why
};

class FrameDecoder {
 public:
  explicit FrameDecoder(uint32_t body_size_max) : body_size_max_(body_size_max) {}

  FrameDecoder(const FrameDecoder&) = delete;
  FrameDecoder& operator=(const FrameDecoder&) = delete;

  // Consumes bytes from the front of `input` up to the end of at most one
  // frame. Header fields are checked in this order, each before it is used:
  // magic (as soon as its bytes arrive), header CRC, version, reserved, flags,
  // type, then the body length against the limit *before* anything is
  // allocated; the body CRC once the body is complete. After an error every
  // call returns error again.
  DecodeStatus decode(std::span<const std::byte>& input, Frame& out);

  DecodeError error() const { return error_; }

  // The server raises the limit once the peer is authenticated.
  // REQUIRES: between frames (no partial frame buffered).
  void set_body_size_max(uint32_t body_size_max);
  uint32_t body_size_max() const { return body_size_max_; }

  // True when no partial frame is buffered.
  bool at_frame_boundary() const { return stage_ == Stage::header && header_filled_ == 0; }

 private:
  enum class Stage : uint8_t { header, body, failed };

  DecodeStatus fail(DecodeError error);
  DecodeError check_header();

  uint32_t body_size_max_;
  Stage stage_ = Stage::header;
  DecodeError error_ = DecodeError::none;
  HeaderBytes header_bytes_{};
  size_t header_filled_ = 0;
  FrameHeader header_;
  std::vector<std::byte> body_;
  size_t body_filled_ = 0;
};

}  // namespace coffer::net
