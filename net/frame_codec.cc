#include "net/frame_codec.h"

#include <algorithm>
#include <cstring>

#include "core/assert.h"

namespace coffer::net {
namespace {

constexpr std::byte magic_bytes[4] = {std::byte('C'), std::byte('O'), std::byte('F'),
                                      std::byte('R')};
static_assert((uint32_t('C') | uint32_t('O') << 8 | uint32_t('F') << 16 | uint32_t('R') << 24) ==
              frame_magic);

}  // namespace

const char* decode_error_name(DecodeError error) {
  switch (error) {
    case DecodeError::none:
      return "none";
    case DecodeError::bad_magic:
      return "bad magic";
    case DecodeError::bad_header_crc:
      return "bad header CRC";
    case DecodeError::unsupported_version:
      return "unsupported protocol version";
    case DecodeError::reserved_not_zero:
      return "reserved field not zero";
    case DecodeError::unknown_flags:
      return "unknown flags";
    case DecodeError::unknown_frame_type:
      return "unknown frame type";
    case DecodeError::body_too_large:
      return "body too large";
    case DecodeError::bad_body_crc:
      return "bad body CRC";
  }
  return "unknown decode error";
}

void FrameDecoder::set_body_size_max(uint32_t body_size_max) {
  COFFER_ASSERT(at_frame_boundary());
  COFFER_ASSERT(body_size_max <= frame_body_size_max);
  body_size_max_ = body_size_max;
}

DecodeStatus FrameDecoder::fail(DecodeError error) {
  stage_ = Stage::failed;
  error_ = error;
  body_ = {};
  return DecodeStatus::error;
}

DecodeError FrameDecoder::check_header() {
  // The CRC goes first: a header that fails it says nothing trustworthy.
  if (header_.header_crc != masked_header_crc(header_bytes_)) return DecodeError::bad_header_crc;
  if (header_.version != protocol_version) return DecodeError::unsupported_version;
  if (header_.reserved != 0) return DecodeError::reserved_not_zero;
  if (header_.flags != 0) return DecodeError::unknown_flags;
  if (!frame_type_valid(uint8_t(header_.type))) return DecodeError::unknown_frame_type;
  if (header_.body_size > body_size_max_) return DecodeError::body_too_large;
  return DecodeError::none;
}

DecodeStatus FrameDecoder::decode(std::span<const std::byte>& input, Frame& out) {
  if (stage_ == Stage::failed) return DecodeStatus::error;

  if (stage_ == Stage::header) {
    size_t n = std::min(input.size(), frame_header_size - header_filled_);
    if (n > 0) std::memcpy(header_bytes_.data() + header_filled_, input.data(), n);
    // The magic is checked on every prefix so that garbage (an HTTP request,
    // say) is refused at its first byte rather than after 32.
    size_t magic_end = std::min<size_t>(header_filled_ + n, 4);
    for (size_t i = header_filled_; i < magic_end; ++i) {
      if (header_bytes_[i] != magic_bytes[i]) return fail(DecodeError::bad_magic);
    }
    header_filled_ += n;
    input = input.subspan(n);
    if (header_filled_ < frame_header_size) return DecodeStatus::need_more;

    header_ = parse_header(header_bytes_);
    if (DecodeError e = check_header(); e != DecodeError::none) return fail(e);
    // The length is trusted only now, bounded by body_size_max_.
    body_.resize(header_.body_size);
    body_filled_ = 0;
    stage_ = Stage::body;
  }

  COFFER_ASSERT(stage_ == Stage::body);
  size_t n = std::min(input.size(), body_.size() - body_filled_);
  if (n > 0) std::memcpy(body_.data() + body_filled_, input.data(), n);
  body_filled_ += n;
  input = input.subspan(n);
  if (body_filled_ < body_.size()) return DecodeStatus::need_more;

  if (masked_body_crc(body_) != header_.body_crc) return fail(DecodeError::bad_body_crc);
  out.header = header_;
  out.body = std::move(body_);
  body_ = {};
  header_filled_ = 0;
  body_filled_ = 0;
  stage_ = Stage::header;
  return DecodeStatus::frame;
}

}  // namespace coffer::net
