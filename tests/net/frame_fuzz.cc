// libFuzzer target: the frame decoder, the hello/hello_ok/error bodies,
// command batches (with texts), queries and query replies, and their
// verification. Built as a fuzzer with -DCOFFER_FUZZ=ON (clang) and, in every
// build, into net_frame_fuzz_test, which runs it over deterministic inputs.
//
// Input: byte 0 picks the body limit, byte 1 the chunking of delivery; the
// rest is the stream. Besides "no crash, no out-of-bounds", it checks
// properties that must hold for any input:
// - chunked delivery and one-shot delivery give the same frames and error;
// - every frame re-encodes to exactly the bytes it was decoded from;
// - no body exceeds the limit;
// - a body that verifies as hello/hello_ok/error re-encodes to one that decodes
//   to the same fields.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <vector>

#include "net/command_codec.h"
#include "net/frame_codec.h"
#include "net/query_codec.h"
#include "net/wire.h"
#include "tests/fuzz_check.h"

namespace {

using coffer::net::DecodeError;
using coffer::net::DecodeStatus;
using coffer::net::Frame;
using coffer::net::FrameDecoder;

struct Outcome {
  std::vector<Frame> frames;
  std::vector<size_t> frame_ends;  // stream offset just past each frame
  DecodeError error = DecodeError::none;
};

Outcome decode(std::span<const std::byte> stream, uint32_t body_size_max, size_t chunk_seed) {
  FrameDecoder decoder(body_size_max);
  Outcome out;
  size_t at = 0;
  uint32_t lcg = uint32_t(chunk_seed) * 2654435761u + 1;
  while (at < stream.size()) {
    size_t chunk = stream.size() - at;
    if (chunk_seed != 0) {
      lcg = lcg * 1664525u + 1013904223u;
      chunk = std::min<size_t>(chunk, 1 + (lcg >> 16) % 64);
    }
    std::span<const std::byte> input = stream.subspan(at, chunk);
    while (true) {
      Frame frame;
      size_t before = input.size();
      DecodeStatus status = decoder.decode(input, frame);
      FUZZ_CHECK(input.size() <= before);
      at += before - input.size();
      if (status == DecodeStatus::frame) {
        out.frames.push_back(std::move(frame));
        out.frame_ends.push_back(at);
        continue;
      }
      if (status == DecodeStatus::error) {
        out.error = decoder.error();
        FUZZ_CHECK(out.error != DecodeError::none);
        return out;
      }
      FUZZ_CHECK(input.empty());
      break;
    }
  }
  return out;
}

void check_bodies(std::span<const std::byte> body) {
  coffer::net::HelloBody hello;
  if (coffer::net::decode_hello_body(body, hello)) {
    coffer::net::HelloBody again;
    FUZZ_CHECK(coffer::net::decode_hello_body(coffer::net::encode_hello_body(hello), again));
    FUZZ_CHECK(again.protocol_version == hello.protocol_version && again.token == hello.token &&
               again.client_name == hello.client_name);
  }
  coffer::net::HelloOkBody ok;
  if (coffer::net::decode_hello_ok_body(body, ok)) {
    coffer::net::HelloOkBody again;
    FUZZ_CHECK(coffer::net::decode_hello_ok_body(coffer::net::encode_hello_ok_body(ok), again));
    FUZZ_CHECK(again.session_id == ok.session_id && again.server_version == ok.server_version &&
               again.limits.in_flight_frames_max == ok.limits.in_flight_frames_max);
  }
  coffer::net::ErrorBody error;
  if (coffer::net::decode_error_body(body, error)) {
    coffer::net::ErrorBody again;
    FUZZ_CHECK(coffer::net::decode_error_body(coffer::net::encode_error_body(error), again));
    FUZZ_CHECK(again.code == error.code && again.message == error.message);
  }
  // Command batches with texts, queries and query replies: whatever verifies
  // obeys the rules and re-encodes to the same values.
  std::vector<coffer::Command> commands;
  std::vector<coffer::CommandText> texts;
  if (coffer::net::decode_command_batch(body, coffer::net::batch_size_max, commands, texts) ==
      coffer::net::BatchDecode::ok) {
    FUZZ_CHECK(coffer::command_texts_valid(texts, commands.size()));
    std::vector<coffer::Command> commands2;
    std::vector<coffer::CommandText> texts2;
    FUZZ_CHECK(coffer::net::decode_command_batch(coffer::net::encode_command_batch(commands, texts),
                                                 coffer::net::batch_size_max, commands2,
                                                 texts2) == coffer::net::BatchDecode::ok);
    FUZZ_CHECK(commands2.size() == commands.size() && texts2.size() == texts.size());
    for (size_t i = 0; i < texts.size(); i++)
      FUZZ_CHECK(texts2[i].index == texts[i].index && texts2[i].key == texts[i].key &&
                 texts2[i].text == texts[i].text);
  }
  coffer::net::QueryRequest query;
  if (coffer::net::decode_query(body, &query) == coffer::net::QueryDecode::ok) {
    FUZZ_CHECK(coffer::net::query_valid(query));
    coffer::net::QueryRequest again;
    FUZZ_CHECK(coffer::net::decode_query(coffer::net::encode_query(query), &again) ==
               coffer::net::QueryDecode::ok);
    FUZZ_CHECK(again.ids == query.ids && again.cursor == query.cursor && again.key == query.key);
  }
  coffer::net::QueryAnswer answer;
  if (coffer::net::decode_query_reply(body, &answer)) {
    coffer::net::QueryAnswer again;
    FUZZ_CHECK(coffer::net::decode_query_reply(coffer::net::encode_query_reply(answer), &again));
    FUZZ_CHECK(again.status == answer.status && again.rows == answer.rows);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  static constexpr uint32_t limits[] = {0, 16, 256, 4096, coffer::net::frame_body_size_max};
  uint32_t body_size_max = limits[data[0] % std::size(limits)];
  size_t chunk_seed = data[1];
  // A copy, so bodies decoded below sit in aligned, exactly sized memory.
  std::vector<std::byte> stream(size - 2);
  if (!stream.empty()) std::memcpy(stream.data(), data + 2, stream.size());

  Outcome whole = decode(stream, body_size_max, 0);
  Outcome chunked = decode(stream, body_size_max, chunk_seed == 0 ? 1 : chunk_seed);
  FUZZ_CHECK(whole.error == chunked.error);
  FUZZ_CHECK(whole.frames.size() == chunked.frames.size());

  size_t begin = 0;
  for (size_t i = 0; i < whole.frames.size(); ++i) {
    const Frame& f = whole.frames[i];
    FUZZ_CHECK(f.body == chunked.frames[i].body);
    FUZZ_CHECK(f.body.size() <= body_size_max);
    FUZZ_CHECK(f.body.size() == f.header.body_size);
    std::vector<std::byte> again =
        coffer::net::encode_frame(f.header.type, f.header.request_id, f.body);
    size_t end = whole.frame_ends[i];
    FUZZ_CHECK(end - begin == again.size());
    FUZZ_CHECK(std::memcmp(again.data(), stream.data() + begin, again.size()) == 0);
    begin = end;
    check_bodies(f.body);
  }
  // The raw bytes as a body too, so the verifier sees unframed input.
  check_bodies(stream);
  return 0;
}
