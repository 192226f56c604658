#include "net/wire.h"

#include <algorithm>

#include "net/wire_generated.h"

// The error codes on the wire are core's Result values; checked here when
// core's header is present.
#if __has_include("core/result.h")
#include "core/result.h"
static_assert(coffer::net::error_code::ok == uint32_t(coffer::Result::ok));
static_assert(coffer::net::error_code::invalid_request ==
              uint32_t(coffer::Result::invalid_request));
static_assert(coffer::net::error_code::rate_limited == uint32_t(coffer::Result::rate_limited));
static_assert(coffer::net::error_code::unavailable == uint32_t(coffer::Result::unavailable));
static_assert(coffer::net::error_code::unauthenticated ==
              uint32_t(coffer::Result::unauthenticated));
static_assert(coffer::net::error_code::storage_error == uint32_t(coffer::Result::storage_error));
#endif

namespace coffer::net {
namespace {

std::vector<std::byte> finish(flatbuffers::FlatBufferBuilder& fbb) {
  const auto* p = reinterpret_cast<const std::byte*>(fbb.GetBufferPointer());
  return std::vector<std::byte>(p, p + fbb.GetSize());
}

// Verifies `bytes` as a buffer whose root is a T; nullptr when it is not.
template <typename T>
const T* verified_root(std::span<const std::byte> bytes) {
  const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
  // An empty or tiny span cannot hold a root offset; the Verifier checks it too.
  if (bytes.size() < sizeof(flatbuffers::uoffset_t)) return nullptr;
  flatbuffers::Verifier verifier(data, bytes.size());
  if (!verifier.VerifyBuffer<T>(nullptr)) return nullptr;
  return flatbuffers::GetRoot<T>(data);
}

bool copy_string(const flatbuffers::String* s, size_t size_max, std::string& out) {
  if (s == nullptr) {
    out.clear();
    return true;
  }
  if (s->size() > size_max) return false;
  out.assign(s->data(), s->size());
  return true;
}

}  // namespace

std::vector<std::byte> encode_hello_body(const HelloBody& body) {
  flatbuffers::FlatBufferBuilder fbb(128 + body.token.size() + body.client_name.size());
  auto token = fbb.CreateString(body.token);
  auto client_name = fbb.CreateString(body.client_name);
  fbb.Finish(wire::CreateHello(fbb, body.protocol_version, token, client_name));
  return finish(fbb);
}

std::vector<std::byte> encode_hello_ok_body(const HelloOkBody& body) {
  flatbuffers::FlatBufferBuilder fbb(128 + body.server_version.size());
  auto server_version = fbb.CreateString(body.server_version);
  auto limits =
      wire::CreateSessionLimits(fbb, body.limits.frame_body_size_max, body.limits.batch_size_max,
                                body.limits.in_flight_frames_max);
  fbb.Finish(wire::CreateHelloOk(fbb, server_version, body.session_id, limits));
  return finish(fbb);
}

std::vector<std::byte> encode_error_body(const ErrorBody& body) {
  size_t message_size = std::min<size_t>(body.message.size(), error_message_size_max);
  flatbuffers::FlatBufferBuilder fbb(128 + message_size);
  auto message = fbb.CreateString(body.message.data(), message_size);
  fbb.Finish(wire::CreateError(fbb, body.code, message));
  return finish(fbb);
}

bool decode_hello_body(std::span<const std::byte> bytes, HelloBody& out) {
  const auto* hello = verified_root<wire::Hello>(bytes);
  if (hello == nullptr) return false;
  out.protocol_version = hello->protocol_version();
  return copy_string(hello->token(), token_size_max, out.token) &&
         copy_string(hello->client_name(), client_name_size_max, out.client_name);
}

bool decode_hello_ok_body(std::span<const std::byte> bytes, HelloOkBody& out) {
  const auto* ok = verified_root<wire::HelloOk>(bytes);
  if (ok == nullptr || ok->limits() == nullptr) return false;
  out.session_id = ok->session_id();
  out.limits.frame_body_size_max = ok->limits()->frame_body_size_max();
  out.limits.batch_size_max = ok->limits()->batch_size_max();
  out.limits.in_flight_frames_max = ok->limits()->in_flight_frames_max();
  return copy_string(ok->server_version(), client_name_size_max, out.server_version);
}

bool decode_error_body(std::span<const std::byte> bytes, ErrorBody& out) {
  const auto* error = verified_root<wire::Error>(bytes);
  if (error == nullptr) return false;
  out.code = error->code();
  return copy_string(error->message(), error_message_size_max, out.message);
}

std::vector<std::byte> encode_hello_frame(uint64_t request_id, const HelloBody& body) {
  return encode_frame(FrameType::hello, request_id, encode_hello_body(body));
}
std::vector<std::byte> encode_hello_ok_frame(uint64_t request_id, const HelloOkBody& body) {
  return encode_frame(FrameType::hello_ok, request_id, encode_hello_ok_body(body));
}
std::vector<std::byte> encode_request_frame(uint64_t request_id, std::span<const std::byte> batch) {
  return encode_frame(FrameType::request, request_id, batch);
}
std::vector<std::byte> encode_reply_frame(uint64_t request_id, std::span<const std::byte> results) {
  return encode_frame(FrameType::reply, request_id, results);
}
std::vector<std::byte> encode_error_frame(uint64_t request_id, const ErrorBody& body) {
  return encode_frame(FrameType::error, request_id, encode_error_body(body));
}
std::vector<std::byte> encode_query_frame(uint64_t request_id, std::span<const std::byte> query) {
  return encode_frame(FrameType::query, request_id, query);
}
std::vector<std::byte> encode_query_reply_frame(uint64_t request_id,
                                                std::span<const std::byte> answer) {
  return encode_frame(FrameType::query_reply, request_id, answer);
}
std::vector<std::byte> encode_ping_frame(uint64_t request_id, std::span<const std::byte> payload) {
  return encode_frame(FrameType::ping, request_id, payload);
}
std::vector<std::byte> encode_pong_frame(uint64_t request_id, std::span<const std::byte> payload) {
  return encode_frame(FrameType::pong, request_id, payload);
}

}  // namespace coffer::net
