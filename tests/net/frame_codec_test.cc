// The frame header, the incremental decoder (every error kind, split and
// coalesced delivery, the body limit at and past its edge) and the
// hello/hello_ok/error bodies.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/crc32c.h"
#include "net/frame.h"
#include "net/frame_codec.h"
#include "net/wire.h"

namespace coffer::net {
namespace {

using Bytes = std::vector<std::byte>;

Bytes bytes_of(const std::string& s) {
  Bytes b(s.size());
  std::memcpy(b.data(), s.data(), s.size());
  return b;
}

Bytes random_bytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Bytes b(n);
  for (auto& x : b)
    x = std::byte(rng());
  return b;
}

// Decodes all of `stream` in one call sequence; returns the frames and the final status.
struct Decoded {
  std::vector<Frame> frames;
  DecodeStatus last = DecodeStatus::need_more;
  DecodeError error = DecodeError::none;
};

Decoded decode_all(const Bytes& stream, uint32_t body_size_max, size_t chunk_size) {
  FrameDecoder decoder(body_size_max);
  Decoded d;
  for (size_t at = 0; at < stream.size() && d.last != DecodeStatus::error; at += chunk_size) {
    std::span<const std::byte> input(stream.data() + at, std::min(chunk_size, stream.size() - at));
    while (true) {
      Frame frame;
      d.last = decoder.decode(input, frame);
      if (d.last == DecodeStatus::frame) {
        d.frames.push_back(std::move(frame));
        continue;
      }
      if (d.last == DecodeStatus::need_more) {
        EXPECT_TRUE(input.empty());
      }
      break;
    }
  }
  d.error = decoder.error();
  return d;
}

// The wire image of `h` for `body`, with valid CRCs.
HeaderBytes forged_header(FrameHeader h, std::span<const std::byte> body) {
  h.body_size = uint32_t(body.size());
  h.body_crc = masked_body_crc(body);
  HeaderBytes out;
  write_header(h, out);
  h.header_crc = masked_header_crc(out);
  write_header(h, out);
  return out;
}

Bytes concat(std::span<const std::byte> a, std::span<const std::byte> b) {
  Bytes out(a.begin(), a.end());
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

TEST(FrameHeader, LayoutIsLittleEndianAtDocumentedOffsets) {
  Bytes body = bytes_of("hello body");
  HeaderBytes h;
  encode_header(FrameType::reply, 0x1122334455667788ull, body, h);
  EXPECT_EQ(h[0], std::byte('C'));
  EXPECT_EQ(h[1], std::byte('O'));
  EXPECT_EQ(h[2], std::byte('F'));
  EXPECT_EQ(h[3], std::byte('R'));
  EXPECT_EQ(h[4], std::byte(protocol_version));
  EXPECT_EQ(h[5], std::byte(0));
  EXPECT_EQ(h[6], std::byte(FrameType::reply));
  EXPECT_EQ(h[7], std::byte(0));
  EXPECT_EQ(h[8], std::byte(body.size()));
  EXPECT_EQ(h[9], std::byte(0));
  uint32_t body_crc = crc32c_mask(crc32c(body.data(), body.size()));
  uint32_t got_body_crc;
  std::memcpy(&got_body_crc, &h[12], 4);  // the test host is little-endian
  EXPECT_EQ(got_body_crc, body_crc);
  EXPECT_EQ(h[16], std::byte(0x88));
  EXPECT_EQ(h[23], std::byte(0x11));
  for (int i = 24; i < 28; ++i)
    EXPECT_EQ(h[i], std::byte(0));
  uint32_t got_header_crc;
  std::memcpy(&got_header_crc, &h[28], 4);
  EXPECT_EQ(got_header_crc, crc32c_mask(crc32c(h.data(), 28)));

  FrameHeader parsed = parse_header(h);
  EXPECT_EQ(parsed.magic, frame_magic);
  EXPECT_EQ(parsed.type, FrameType::reply);
  EXPECT_EQ(parsed.body_size, body.size());
  EXPECT_EQ(parsed.request_id, 0x1122334455667788ull);
}

TEST(FrameDecoder, RoundTripsEveryFrameType) {
  for (uint8_t t = 1; t <= frame_type_max; ++t) {
    Bytes body = random_bytes(100 + t, t);
    Bytes stream = encode_frame(FrameType(t), 1000 + t, body);
    Decoded d = decode_all(stream, frame_body_size_max, stream.size());
    ASSERT_EQ(d.frames.size(), 1u) << int(t);
    EXPECT_EQ(d.frames[0].header.type, FrameType(t));
    EXPECT_EQ(d.frames[0].header.request_id, 1000u + t);
    EXPECT_EQ(d.frames[0].body, body);
    EXPECT_EQ(d.last, DecodeStatus::need_more);
  }
}

TEST(FrameDecoder, EmptyBody) {
  Bytes stream = encode_ping_frame(7, {});
  ASSERT_EQ(stream.size(), frame_header_size);
  Decoded d = decode_all(stream, 0, stream.size());
  ASSERT_EQ(d.frames.size(), 1u);
  EXPECT_TRUE(d.frames[0].body.empty());
  EXPECT_EQ(d.frames[0].header.type, FrameType::ping);
}

TEST(FrameDecoder, ByteByByteAndManyFramesPerRead) {
  Bytes stream;
  std::vector<Bytes> bodies;
  for (int i = 0; i < 50; ++i) {
    bodies.push_back(random_bytes(size_t(i * 37 % 300), uint64_t(i)));
    Bytes f = encode_request_frame(uint64_t(i), bodies.back());
    stream.insert(stream.end(), f.begin(), f.end());
  }
  for (size_t chunk : {size_t(1), size_t(2), size_t(7), size_t(31), size_t(32), size_t(33),
                       size_t(1000), stream.size()}) {
    Decoded d = decode_all(stream, 4096, chunk);
    ASSERT_EQ(d.frames.size(), bodies.size()) << "chunk " << chunk;
    for (size_t i = 0; i < bodies.size(); ++i) {
      EXPECT_EQ(d.frames[i].header.request_id, i);
      EXPECT_EQ(d.frames[i].body, bodies[i]);
    }
    EXPECT_EQ(d.error, DecodeError::none);
  }
}

TEST(FrameDecoder, BodyAtTheLimitPassesOneByteOverFails) {
  constexpr uint32_t limit = frame_body_size_max;
  Bytes at_limit = random_bytes(limit, 1);
  Bytes stream = encode_request_frame(1, at_limit);
  Decoded ok = decode_all(stream, limit, 64 * 1024);
  ASSERT_EQ(ok.frames.size(), 1u);
  EXPECT_EQ(ok.frames[0].body.size(), limit);

  Bytes over = random_bytes(size_t(limit) + 1, 2);
  Bytes stream_over = encode_request_frame(1, over);
  // Only the header is given: the length is refused before any body arrives.
  Bytes header_only(stream_over.begin(), stream_over.begin() + frame_header_size);
  Decoded bad = decode_all(header_only, limit, header_only.size());
  EXPECT_EQ(bad.last, DecodeStatus::error);
  EXPECT_EQ(bad.error, DecodeError::body_too_large);

  // A runtime limit below the compile-time maximum is enforced the same way.
  Bytes small = encode_request_frame(1, random_bytes(101, 3));
  EXPECT_EQ(decode_all(small, 100, small.size()).error, DecodeError::body_too_large);
  EXPECT_EQ(decode_all(small, 101, small.size()).frames.size(), 1u);
}

TEST(FrameDecoder, HugeDeclaredLengthIsRefusedNotAllocated) {
  FrameHeader h;
  h.type = FrameType::request;
  HeaderBytes bytes = forged_header(h, {});
  // Patch the length to 4 GiB - 1 and fix the header CRC: a well-formed lie.
  h = parse_header(bytes);
  h.body_size = 0xFFFFFFFFu;
  write_header(h, bytes);
  h.header_crc = masked_header_crc(bytes);
  write_header(h, bytes);
  Decoded d = decode_all(Bytes(bytes.begin(), bytes.end()), frame_body_size_max, 32);
  EXPECT_EQ(d.error, DecodeError::body_too_large);
}

TEST(FrameDecoder, BadMagicIsSeenAtTheFirstWrongByte) {
  Bytes http = bytes_of("GET / HTTP/1.1\r\n");
  FrameDecoder decoder(1024);
  std::span<const std::byte> one(http.data(), 1);
  Frame f;
  EXPECT_EQ(decoder.decode(one, f), DecodeStatus::error);
  EXPECT_EQ(decoder.error(), DecodeError::bad_magic);
  // Sticky: the stream stays broken.
  std::span<const std::byte> rest(http.data() + 1, http.size() - 1);
  EXPECT_EQ(decoder.decode(rest, f), DecodeStatus::error);

  Bytes cofx = bytes_of("COFX");
  EXPECT_EQ(decode_all(cofx, 1024, 1).error, DecodeError::bad_magic);
  Bytes cof = bytes_of("COF");
  Decoded partial = decode_all(cof, 1024, 1);
  EXPECT_EQ(partial.last, DecodeStatus::need_more);
}

// One row per header error: a mutation of a valid header, and the error it must give.
struct HeaderCase {
  const char* name;
  void (*mutate)(FrameHeader&);
  bool fix_header_crc;  // false: the header CRC itself is broken
  DecodeError expected;
};

TEST(FrameDecoder, EveryHeaderErrorKind) {
  const HeaderCase cases[] = {
      {"bad header crc", [](FrameHeader& h) { h.request_id ^= 1; }, false,
       DecodeError::bad_header_crc},
      {"version 2", [](FrameHeader& h) { h.version = 2; }, true, DecodeError::unsupported_version},
      {"version 0", [](FrameHeader& h) { h.version = 0; }, true, DecodeError::unsupported_version},
      {"reserved", [](FrameHeader& h) { h.reserved = 1; }, true, DecodeError::reserved_not_zero},
      {"flags", [](FrameHeader& h) { h.flags = 0x80; }, true, DecodeError::unknown_flags},
      {"type 0", [](FrameHeader& h) { h.type = FrameType(0); }, true,
       DecodeError::unknown_frame_type},
      {"type 10", [](FrameHeader& h) { h.type = FrameType(10); }, true,
       DecodeError::unknown_frame_type},
      {"type 255", [](FrameHeader& h) { h.type = FrameType(255); }, true,
       DecodeError::unknown_frame_type},
      {"magic", [](FrameHeader& h) { h.magic = 0x52464F44; }, true, DecodeError::bad_magic},
  };
  Bytes body = bytes_of("body");
  for (const HeaderCase& c : cases) {
    FrameHeader h;
    h.type = FrameType::request;
    h.body_size = uint32_t(body.size());
    h.body_crc = masked_body_crc(body);
    c.mutate(h);
    HeaderBytes bytes;
    write_header(h, bytes);
    h.header_crc = masked_header_crc(bytes);
    write_header(h, bytes);
    if (!c.fix_header_crc) bytes[28] ^= std::byte(0x01);  // break the CRC itself
    Bytes stream = concat(bytes, body);
    for (size_t chunk : {size_t(1), stream.size()}) {
      Decoded d = decode_all(stream, 1024, chunk);
      EXPECT_EQ(d.last, DecodeStatus::error) << c.name;
      EXPECT_EQ(d.error, c.expected) << c.name << ": " << decode_error_name(d.error);
      EXPECT_TRUE(d.frames.empty()) << c.name;
    }
  }
}

TEST(FrameDecoder, BadBodyCrc) {
  Bytes body = bytes_of("0123456789");
  Bytes stream = encode_request_frame(5, body);
  stream[frame_header_size + 3] ^= std::byte(0x20);  // corrupt the body in flight
  Decoded d = decode_all(stream, 1024, 3);
  EXPECT_EQ(d.error, DecodeError::bad_body_crc);
  EXPECT_TRUE(d.frames.empty());
}

TEST(FrameDecoder, FramesBeforeAnErrorAreDelivered) {
  Bytes good = encode_request_frame(1, bytes_of("one"));
  Bytes stream = good;
  Bytes garbage = bytes_of("garbage!");
  stream.insert(stream.end(), garbage.begin(), garbage.end());
  Decoded d = decode_all(stream, 1024, stream.size());
  ASSERT_EQ(d.frames.size(), 1u);
  EXPECT_EQ(d.error, DecodeError::bad_magic);
}

TEST(FrameDecoder, RaisingTheLimitBetweenFrames) {
  FrameDecoder decoder(hello_body_size_max);
  Bytes big = encode_request_frame(1, random_bytes(hello_body_size_max + 1, 9));
  EXPECT_TRUE(decoder.at_frame_boundary());
  decoder.set_body_size_max(frame_body_size_max);
  std::span<const std::byte> input(big);
  Frame f;
  EXPECT_EQ(decoder.decode(input, f), DecodeStatus::frame);
  EXPECT_EQ(f.body.size(), hello_body_size_max + 1);
}

TEST(WireBodies, HelloRoundTrip) {
  HelloBody in{protocol_version, "s3cret-token", "payments-7"};
  HelloBody out;
  ASSERT_TRUE(decode_hello_body(encode_hello_body(in), out));
  EXPECT_EQ(out.protocol_version, in.protocol_version);
  EXPECT_EQ(out.token, in.token);
  EXPECT_EQ(out.client_name, in.client_name);
}

TEST(WireBodies, HelloOkRoundTrip) {
  HelloOkBody in{"coffer 0.1.0", 42, {1 << 20, 8192, 64}};
  HelloOkBody out;
  ASSERT_TRUE(decode_hello_ok_body(encode_hello_ok_body(in), out));
  EXPECT_EQ(out.server_version, in.server_version);
  EXPECT_EQ(out.session_id, 42u);
  EXPECT_EQ(out.limits.frame_body_size_max, 1u << 20);
  EXPECT_EQ(out.limits.batch_size_max, 8192u);
  EXPECT_EQ(out.limits.in_flight_frames_max, 64u);
}

TEST(WireBodies, ErrorRoundTripAndMessageCut) {
  ErrorBody out;
  ASSERT_TRUE(decode_error_body(encode_error_body({error_code::unauthenticated, "no"}), out));
  EXPECT_EQ(out.code, 19u);
  EXPECT_EQ(out.message, "no");
  std::string long_message(error_message_size_max + 500, 'x');
  ASSERT_TRUE(decode_error_body(encode_error_body({1, long_message}), out));
  EXPECT_EQ(out.message.size(), error_message_size_max);
}

TEST(WireBodies, TokenOverTheLimitIsRefused) {
  HelloBody in{protocol_version, std::string(token_size_max + 1, 't'), "c"};
  HelloBody out;
  EXPECT_FALSE(decode_hello_body(encode_hello_body(in), out));
  in.token.resize(token_size_max);
  EXPECT_TRUE(decode_hello_body(encode_hello_body(in), out));
}

TEST(WireBodies, VerifierRefusesGarbageAndTruncation) {
  HelloBody out;
  EXPECT_FALSE(decode_hello_body({}, out));
  EXPECT_FALSE(decode_hello_body(bytes_of("xy"), out));
  Bytes good = encode_hello_body({protocol_version, "token", "name"});
  // A prefix that cuts into a string, a table or the vtable must fail. (The
  // last 4 bytes are the final string's NUL and padding.)
  for (size_t n = 0; n + 4 < good.size(); ++n) {
    Bytes prefix(good.begin(), good.begin() + ptrdiff_t(n));
    HelloBody h;
    EXPECT_FALSE(decode_hello_body(prefix, h)) << "prefix of " << n << " bytes";
  }
  // A root offset pointing past the end.
  Bytes bad = good;
  bad[0] = std::byte(0xFF);
  bad[1] = std::byte(0xFF);
  EXPECT_FALSE(decode_hello_body(bad, out));
  ErrorBody e;
  EXPECT_FALSE(decode_error_body(bad, e));
}

}  // namespace
}  // namespace coffer::net
