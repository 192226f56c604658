// Bodies of the handshake and error frames, as plain structs; FlatBuffers
// (wire.fbs) stays behind this header. Every decode runs the FlatBuffers
// Verifier first and checks the size limits of constants.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "net/frame.h"

namespace coffer::net {

// Error codes carried by error frames: these are the values of core's
// `enum class Result : uint32_t` (core/result.h), shared end to end, so a
// client maps them exactly like any other result.
namespace error_code {
inline constexpr uint32_t ok = 0;
inline constexpr uint32_t invalid_request = 1;
inline constexpr uint32_t rate_limited = 17;
inline constexpr uint32_t unavailable = 18;
inline constexpr uint32_t unauthenticated = 19;
inline constexpr uint32_t storage_error = 21;
}  // namespace error_code

struct HelloBody {
  uint16_t protocol_version = net::protocol_version;
  std::string token;
  std::string client_name;
};

struct SessionLimitsBody {
  uint32_t frame_body_size_max = 0;
  uint32_t batch_size_max = 0;
  uint32_t in_flight_frames_max = 0;
};

struct HelloOkBody {
  std::string server_version;
  uint64_t session_id = 0;
  SessionLimitsBody limits;
};

struct ErrorBody {
  uint32_t code = 0;
  std::string message;
};

std::vector<std::byte> encode_hello_body(const HelloBody& body);
std::vector<std::byte> encode_hello_ok_body(const HelloOkBody& body);
// Messages longer than error_message_size_max are cut.
std::vector<std::byte> encode_error_body(const ErrorBody& body);

// False when the bytes fail the Verifier, a required field is missing or a
// string exceeds its limit; `out` is then unspecified.
bool decode_hello_body(std::span<const std::byte> bytes, HelloBody& out);
bool decode_hello_ok_body(std::span<const std::byte> bytes, HelloOkBody& out);
bool decode_error_body(std::span<const std::byte> bytes, ErrorBody& out);

// Whole frames, one encoder per frame type.
std::vector<std::byte> encode_hello_frame(uint64_t request_id, const HelloBody& body);
std::vector<std::byte> encode_hello_ok_frame(uint64_t request_id, const HelloOkBody& body);
std::vector<std::byte> encode_request_frame(uint64_t request_id, std::span<const std::byte> batch);
std::vector<std::byte> encode_reply_frame(uint64_t request_id, std::span<const std::byte> results);
std::vector<std::byte> encode_error_frame(uint64_t request_id, const ErrorBody& body);
std::vector<std::byte> encode_query_frame(uint64_t request_id, std::span<const std::byte> query);
std::vector<std::byte> encode_query_reply_frame(uint64_t request_id,
                                                std::span<const std::byte> answer);
std::vector<std::byte> encode_ping_frame(uint64_t request_id, std::span<const std::byte> payload);
std::vector<std::byte> encode_pong_frame(uint64_t request_id, std::span<const std::byte> payload);

}  // namespace coffer::net
