// The server against real loopback connections: the handshake, every kind of
// bad client (each closed with the right error frame while a well-behaved
// connection carries on), limits, ordering, backpressure and timeouts.
// Timeouts are shortened through Limits; waits poll with generous bounds.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <memory>
#include <random>
#include <thread>

#include "net/server.h"
#include "tests/net/test_client.h"
#include "tests/net/test_sink.h"

namespace coffer::net {
namespace {

using testing::Bytes;
using testing::bytes_of;
using testing::QueueSink;
using testing::ReadStatus;
using testing::TestClient;

constexpr const char* token = "s3cret";

bool wait_for(const std::function<bool()>& done, int timeout_ms = 10'000) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

Bytes random_body(size_t size, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Bytes b(size);
  for (auto& x : b)
    x = std::byte(rng());
  return b;
}

class ServerTest : public ::testing::Test {
 protected:
  static ServerOptions default_options() {
    ServerOptions o;
    o.access_token = token;
    o.limits.hello_timeout_ms = 5'000;
    o.limits.idle_timeout_ms = 30'000;
    o.limits.write_timeout_ms = 5'000;
    o.limits.close_linger_ms = 200;
    o.limits.stop_timeout_ms = 3'000;
    return o;
  }

  void start(const ServerOptions& options, size_t sink_capacity = 4096, size_t reverse_batch = 1) {
    sink_ = std::make_unique<QueueSink>(sink_capacity);
    ServerStatus status = Server::open(options, *sink_, &server_);
    ASSERT_TRUE(status.ok()) << status.message;
    ASSERT_NE(server_->port(), 0);
    sink_->start(server_.get(), reverse_batch);
  }

  void TearDown() override {
    if (server_) server_->stop();
    if (sink_) sink_->stop();
    server_.reset();
  }

  uint16_t port() const { return server_->port(); }

  // A connection that completed its hello.
  std::unique_ptr<TestClient> good_client() {
    auto c = std::make_unique<TestClient>();
    EXPECT_TRUE(c->connect(port()));
    EXPECT_TRUE(c->hello(token));
    return c;
  }

  // The bad client's fate must not reach the others: the connection opened
  // before still works, and a new one can connect and work.
  void expect_others_unaffected(TestClient& earlier) {
    EXPECT_TRUE(earlier.round_trip(777, bytes_of("still here")));
    auto fresh = good_client();
    EXPECT_TRUE(fresh->round_trip(778, bytes_of("new one")));
  }

  void expect_error(TestClient& c, uint32_t code, const std::string& message_part) {
    std::string message, why;
    EXPECT_TRUE(c.expect_error_then_close(code, &message, &why)) << why;
    EXPECT_NE(message.find(message_part), std::string::npos) << message;
  }

  std::unique_ptr<QueueSink> sink_;
  std::unique_ptr<Server> server_;
};

TEST_F(ServerTest, RefusesInvalidOptions) {
  QueueSink sink(16);
  std::unique_ptr<Server> server;
  ServerOptions o = default_options();
  o.access_token = "";
  EXPECT_EQ(Server::open(o, sink, &server).error, ServerError::invalid_options);
  o = default_options();
  o.limits.frame_body_size_max = frame_body_size_max + 1;
  EXPECT_EQ(Server::open(o, sink, &server).error, ServerError::invalid_options);
  o = default_options();
  o.limits.in_flight_frames_max = 0;
  EXPECT_EQ(Server::open(o, sink, &server).error, ServerError::invalid_options);
  o = default_options();
  o.address = "not an address";
  EXPECT_EQ(Server::open(o, sink, &server).error, ServerError::invalid_options);
  EXPECT_EQ(server, nullptr);
}

TEST_F(ServerTest, HelloOkCarriesSessionAndLimits) {
  ServerOptions o = default_options();
  o.limits.frame_body_size_max = 100'000;
  o.limits.in_flight_frames_max = 8;
  start(o);
  TestClient c;
  ASSERT_TRUE(c.connect(port()));
  HelloOkBody ok;
  ASSERT_TRUE(c.hello(token, &ok));
  EXPECT_EQ(ok.server_version, o.server_version);
  EXPECT_NE(ok.session_id, 0u);
  EXPECT_EQ(ok.limits.frame_body_size_max, 100'000u);
  EXPECT_EQ(ok.limits.batch_size_max, batch_size_max);
  EXPECT_EQ(ok.limits.in_flight_frames_max, 8u);
  EXPECT_TRUE(c.round_trip(5, bytes_of("batch")));
  EXPECT_TRUE(c.round_trip(6, {}));

  TestClient d;
  ASSERT_TRUE(d.connect(port()));
  HelloOkBody ok2;
  ASSERT_TRUE(d.hello(token, &ok2));
  EXPECT_NE(ok2.session_id, ok.session_id);
}

TEST_F(ServerTest, PingIsAnsweredWithPong) {
  start(default_options());
  auto c = good_client();
  ASSERT_TRUE(c->send(encode_ping_frame(9, bytes_of("are you there"))));
  Frame f;
  ASSERT_EQ(c->read_frame(f), ReadStatus::frame);
  EXPECT_EQ(f.header.type, FrameType::pong);
  EXPECT_EQ(f.header.request_id, 9u);
  EXPECT_EQ(f.body, bytes_of("are you there"));
}

TEST_F(ServerTest, WrongTokenIsUnauthenticated) {
  start(default_options());
  auto earlier = good_client();
  for (const std::string& bad : {std::string("s3creT"), std::string("s3cret "), std::string(""),
                                 std::string("s3cre"), std::string(200, 'x')}) {
    TestClient c;
    ASSERT_TRUE(c.connect(port()));
    ASSERT_TRUE(c.send(encode_hello_frame(1, {protocol_version, bad, "bad"})));
    expect_error(c, error_code::unauthenticated, "token");
  }
  expect_others_unaffected(*earlier);
  EXPECT_EQ(server_->metrics().unauthenticated, 5u);
}

TEST_F(ServerTest, WrongVersionIsUnauthenticated) {
  start(default_options());
  auto earlier = good_client();
  {
    TestClient c;  // the hello body's version
    ASSERT_TRUE(c.connect(port()));
    ASSERT_TRUE(c.send(encode_hello_frame(1, {2, token, "future"})));
    expect_error(c, error_code::unauthenticated, "version");
  }
  {
    TestClient c;  // the frame header's version
    ASSERT_TRUE(c.connect(port()));
    Bytes hello = encode_hello_frame(1, {protocol_version, token, "future"});
    FrameHeader h = parse_header(std::span<const std::byte, frame_header_size>(hello.data(), 32));
    h.version = 2;
    HeaderBytes header;
    write_header(h, header);
    h.header_crc = masked_header_crc(header);
    write_header(h, header);
    std::copy(header.begin(), header.end(), hello.begin());
    ASSERT_TRUE(c.send(hello));
    expect_error(c, error_code::unauthenticated, "version");
  }
  expect_others_unaffected(*earlier);
}

TEST_F(ServerTest, RequestBeforeHelloIsUnauthenticated) {
  start(default_options());
  auto earlier = good_client();
  TestClient c;
  ASSERT_TRUE(c.connect(port()));
  ASSERT_TRUE(c.send(encode_request_frame(1, bytes_of("sneaky"))));
  expect_error(c, error_code::unauthenticated, "hello");
  EXPECT_EQ(sink_->push_attempts(), 0u);
  expect_others_unaffected(*earlier);
}

TEST_F(ServerTest, NoHelloTimesOut) {
  ServerOptions o = default_options();
  o.limits.hello_timeout_ms = 250;
  start(o);
  TestClient c;
  ASSERT_TRUE(c.connect(port()));
  auto begin = std::chrono::steady_clock::now();
  expect_error(c, error_code::unauthenticated, "hello timeout");
  // A generous bound: only that the timeout, not some other limit, closed it.
  EXPECT_LT(std::chrono::steady_clock::now() - begin, std::chrono::seconds(4));
  EXPECT_EQ(server_->metrics().hello_timeouts, 1u);
  // A client that does say hello in time is not affected by the short timeout.
  auto fresh = good_client();
  EXPECT_TRUE(fresh->round_trip(1, bytes_of("x")));
}

TEST_F(ServerTest, GarbageBytesAreInvalidRequest) {
  start(default_options());
  auto earlier = good_client();
  {
    TestClient c;  // before the hello
    ASSERT_TRUE(c.connect(port()));
    ASSERT_TRUE(c.send(bytes_of("GET / HTTP/1.1\r\nHost: coffer\r\n\r\n")));
    expect_error(c, error_code::invalid_request, "bad magic");
  }
  {
    auto c = good_client();  // after the hello, a good frame then garbage
    ASSERT_TRUE(c->round_trip(1, bytes_of("fine")));
    ASSERT_TRUE(c->send(random_body(5000, 1)));
    expect_error(*c, error_code::invalid_request, "malformed frame");
  }
  expect_others_unaffected(*earlier);
  EXPECT_GE(server_->metrics().decode_errors[size_t(DecodeError::bad_magic)], 1u);
}

TEST_F(ServerTest, BadCrcsAreInvalidRequest) {
  start(default_options());
  auto earlier = good_client();
  {
    auto c = good_client();
    Bytes frame = encode_request_frame(3, bytes_of("payload"));
    frame.back() ^= std::byte(1);
    ASSERT_TRUE(c->send(frame));
    expect_error(*c, error_code::invalid_request, "bad body CRC");
  }
  {
    auto c = good_client();
    Bytes frame = encode_request_frame(3, bytes_of("payload"));
    frame[20] ^= std::byte(1);  // inside request_id, covered by the header CRC
    ASSERT_TRUE(c->send(frame));
    expect_error(*c, error_code::invalid_request, "bad header CRC");
  }
  EXPECT_EQ(sink_->push_attempts(), 0u);
  expect_others_unaffected(*earlier);
}

TEST_F(ServerTest, OversizedFramesAreRefusedBeforeTheBody) {
  ServerOptions o = default_options();
  o.limits.frame_body_size_max = 64 * 1024;
  start(o);
  auto earlier = good_client();
  {
    auto c = good_client();
    ASSERT_TRUE(c->round_trip(1, random_body(64 * 1024, 2)));  // at the limit: fine
    Bytes frame = encode_request_frame(2, random_body(64 * 1024 + 1, 3));
    frame.resize(frame_header_size);  // the header alone is enough to be refused
    ASSERT_TRUE(c->send(frame));
    expect_error(*c, error_code::invalid_request, "body too large");
  }
  {
    TestClient c;  // before authentication the limit is the hello's
    ASSERT_TRUE(c.connect(port()));
    Bytes frame = encode_frame(FrameType::hello, 1, random_body(hello_body_size_max + 1, 4));
    frame.resize(frame_header_size);
    ASSERT_TRUE(c.send(frame));
    expect_error(c, error_code::invalid_request, "body too large");
  }
  expect_others_unaffected(*earlier);
}

TEST_F(ServerTest, MalformedHelloBodyAndUnexpectedFrames) {
  start(default_options());
  auto earlier = good_client();
  {
    TestClient c;
    ASSERT_TRUE(c.connect(port()));
    ASSERT_TRUE(c.send(encode_frame(FrameType::hello, 1, random_body(64, 5))));
    expect_error(c, error_code::invalid_request, "hello body");
  }
  {
    auto c = good_client();
    ASSERT_TRUE(c->send(encode_reply_frame(1, bytes_of("a client may not send replies"))));
    expect_error(*c, error_code::invalid_request, "unexpected frame type");
  }
  {
    auto c = good_client();
    ASSERT_TRUE(c->send(encode_hello_frame(2, {protocol_version, token, "twice"})));
    expect_error(*c, error_code::invalid_request, "unexpected frame type");
  }
  expect_others_unaffected(*earlier);
}

TEST_F(ServerTest, TooManyConnectionsAreRateLimited) {
  ServerOptions o = default_options();
  o.limits.connections_max = 2;
  start(o);
  auto a = good_client();
  auto b = good_client();
  {
    TestClient c;
    ASSERT_TRUE(c.connect(port()));
    expect_error(c, error_code::rate_limited, "too many connections");
  }
  EXPECT_EQ(server_->metrics().connections_rejected, 1u);
  EXPECT_TRUE(a->round_trip(1, bytes_of("a")));
  EXPECT_TRUE(b->round_trip(1, bytes_of("b")));
  // A slot frees when a connection leaves.
  b->close();
  ASSERT_TRUE(wait_for([&] { return server_->metrics().connections_active == 1; }));
  auto c = good_client();
  EXPECT_TRUE(c->round_trip(2, bytes_of("c")));
}

TEST_F(ServerTest, ManyFramesInFlightRepliesInRequestOrder) {
  ServerOptions o = default_options();
  o.limits.in_flight_frames_max = 8;
  // The worker answers in reversed batches of 5: the server must reorder.
  start(o, 4096, 5);
  auto c = good_client();
  constexpr int count = 2000;
  std::thread sender([&] {
    for (int i = 0; i < count; ++i) {
      if (!c->send(
              encode_request_frame(uint64_t(1000 + i), random_body(size_t(i % 200), uint64_t(i)))))
        return;
    }
  });
  for (int i = 0; i < count; ++i) {
    Frame f;
    ASSERT_EQ(c->read_frame(f), ReadStatus::frame) << i;
    ASSERT_EQ(f.header.type, FrameType::reply);
    ASSERT_EQ(f.header.request_id, uint64_t(1000 + i));
    ASSERT_EQ(f.body, random_body(size_t(i % 200), uint64_t(i)));
  }
  sender.join();
  // Never more requests of one connection in the sink than its in-flight limit.
  EXPECT_LE(sink_->outstanding_max(), 8u);
  EXPECT_GE(sink_->outstanding_max(), 2u);
  ServerMetrics m = server_->metrics();
  EXPECT_EQ(m.requests_pushed, uint64_t(count));
  EXPECT_EQ(m.replies_dropped, 0u);
}

TEST_F(ServerTest, FullSinkStopsReadingThenResumes) {
  ServerOptions o = default_options();
  o.limits.backpressure_retry_us = 100;
  start(o, /*sink_capacity=*/16);
  auto earlier = good_client();
  sink_->paused_ = true;  // the core stops draining its queue
  auto c = good_client();
  constexpr int count = 3000;
  constexpr size_t body_size = 1024;
  std::thread sender([&] {
    for (int i = 0; i < count; ++i) {
      if (!c->send(encode_request_frame(uint64_t(i), random_body(body_size, uint64_t(i))))) return;
    }
  });
  // The queue fills, then every offer is refused and retried.
  ASSERT_TRUE(wait_for([&] { return server_->metrics().sink_full >= 20; }));
  ServerMetrics m = server_->metrics();
  // Bounded: beyond what the sink took, the session holds one refused
  // request; the rest stays in TCP buffers (the client's send blocks).
  EXPECT_EQ(sink_->size(), 16u);
  EXPECT_LE(m.frames_in, m.requests_pushed + 1 + 2 /* the two hellos */);
  EXPECT_LE(m.bytes_in, (m.frames_in + 2) * (body_size + frame_header_size) + read_buffer_size);
  sink_->paused_ = false;
  for (int i = 0; i < count; ++i) {
    Frame f;
    ASSERT_EQ(c->read_frame(f), ReadStatus::frame) << i;
    ASSERT_EQ(f.header.request_id, uint64_t(i));
    ASSERT_EQ(f.body.size(), body_size);
  }
  sender.join();
  expect_others_unaffected(*earlier);
}

TEST_F(ServerTest, SinkRefusingEverythingIsRetried) {
  start(default_options());
  auto c = good_client();
  sink_->refuse_ = true;
  ASSERT_TRUE(c->send(encode_request_frame(1, bytes_of("wait for me"))));
  ASSERT_TRUE(wait_for([&] { return sink_->push_attempts() >= 10; }));
  sink_->refuse_ = false;
  Frame f;
  ASSERT_EQ(c->read_frame(f), ReadStatus::frame);
  EXPECT_EQ(f.header.request_id, 1u);
  EXPECT_EQ(f.body, bytes_of("wait for me"));
}

TEST_F(ServerTest, SlowReaderIsClosed) {
  ServerOptions o = default_options();
  o.limits.write_timeout_ms = 200;
  o.limits.in_flight_frames_max = 4;
  o.socket_send_buffer_size = 4096;
  start(o);
  auto earlier = good_client();
  TestClient slow;
  ASSERT_TRUE(slow.connect(port(), /*receive_buffer_size=*/4096));
  ASSERT_TRUE(slow.hello(token));
  // Large echoed replies that the client never reads.
  std::thread sender([&] {
    for (int i = 0; i < 64; ++i) {
      if (!slow.send(encode_request_frame(uint64_t(i), random_body(256 * 1024, uint64_t(i))))) {
        return;  // the server closed us
      }
    }
  });
  ASSERT_TRUE(wait_for([&] { return server_->metrics().write_timeouts == 1; }));
  sender.join();
  expect_others_unaffected(*earlier);
}

TEST_F(ServerTest, IdleConnectionIsClosed) {
  ServerOptions o = default_options();
  o.limits.idle_timeout_ms = 150;
  start(o);
  auto c = good_client();
  expect_error(*c, error_code::unavailable, "idle timeout");
  EXPECT_EQ(server_->metrics().idle_timeouts, 1u);
}

TEST_F(ServerTest, WaitingForTheServerIsNotIdling) {
  ServerOptions o = default_options();
  o.limits.idle_timeout_ms = 100;
  start(o);
  auto c = good_client();
  sink_->paused_ = true;
  ASSERT_TRUE(c->send(encode_request_frame(1, bytes_of("slow core"))));
  std::this_thread::sleep_for(std::chrono::milliseconds(350));  // several idle periods
  EXPECT_EQ(server_->metrics().idle_timeouts, 0u);
  sink_->paused_ = false;
  Frame f;
  ASSERT_EQ(c->read_frame(f), ReadStatus::frame);
  EXPECT_EQ(f.header.type, FrameType::reply);
}

TEST_F(ServerTest, HalfClosedClientStillGetsItsReplies) {
  start(default_options());
  auto c = good_client();
  for (int i = 0; i < 10; ++i)
    ASSERT_TRUE(c->send(encode_request_frame(uint64_t(i), bytes_of("r"))));
  c->shutdown_send();
  for (int i = 0; i < 10; ++i) {
    Frame f;
    ASSERT_EQ(c->read_frame(f), ReadStatus::frame) << i;
    EXPECT_EQ(f.header.request_id, uint64_t(i));
  }
  EXPECT_TRUE(c->wait_closed());
}

TEST_F(ServerTest, DuplicateRequestIdInFlightIsInvalid) {
  start(default_options());
  auto earlier = good_client();
  auto c = good_client();
  sink_->paused_ = true;  // keeps the first one in flight
  ASSERT_TRUE(c->send(encode_request_frame(42, bytes_of("first"))));
  ASSERT_TRUE(c->send(encode_request_frame(42, bytes_of("second"))));
  expect_error(*c, error_code::invalid_request, "already in flight");
  EXPECT_EQ(server_->metrics().duplicate_request_ids, 1u);
  sink_->paused_ = false;
  // Once answered, an id may be used again.
  EXPECT_TRUE(earlier->round_trip(42, bytes_of("a")));
  EXPECT_TRUE(earlier->round_trip(42, bytes_of("b")));
}

TEST_F(ServerTest, ReplyToAClosedSessionIsDropped) {
  start(default_options());
  auto c = good_client();
  sink_->paused_ = true;
  ASSERT_TRUE(c->send(encode_request_frame(1, bytes_of("gone soon"))));
  ASSERT_TRUE(wait_for([&] { return sink_->size() == 1; }));
  ASSERT_TRUE(c->send(bytes_of("garbage")));  // the session fails and closes
  expect_error(*c, error_code::invalid_request, "bad magic");
  sink_->paused_ = false;
  ASSERT_TRUE(wait_for([&] { return server_->metrics().replies_dropped == 1; }));
  auto d = good_client();
  EXPECT_TRUE(d->round_trip(2, bytes_of("unaffected")));
}

// Several I/O threads, good clients pipelining in parallel while bad ones
// come and go: every good reply arrives, in order, on its own connection.
TEST_F(ServerTest, ManyClientsOnSeveralThreadsWithBadOnesAmongThem) {
  ServerOptions o = default_options();
  o.io_threads = 3;
  o.limits.in_flight_frames_max = 16;
  start(o, /*sink_capacity=*/64, /*reverse_batch=*/4);
  const int clients = 6;
  const int requests = std::getenv("COFFER_SOAK") != nullptr ? 20'000 : 300;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int k = 0; k < clients; ++k) {
    threads.emplace_back([&, k] {
      TestClient c;
      if (!c.connect(port()) || !c.hello(token)) {
        ++failures;
        return;
      }
      std::thread sender([&] {
        for (int i = 0; i < requests; ++i) {
          Bytes body = random_body(size_t((i * 7 + k) % 500), uint64_t(k * 1'000'000 + i));
          if (!c.send(encode_request_frame(uint64_t(i), body))) return;
        }
      });
      for (int i = 0; i < requests; ++i) {
        Frame f;
        Bytes body = random_body(size_t((i * 7 + k) % 500), uint64_t(k * 1'000'000 + i));
        if (c.read_frame(f) != ReadStatus::frame || f.header.request_id != uint64_t(i) ||
            f.body != body) {
          ++failures;
          break;
        }
      }
      sender.join();
    });
  }
  std::thread vandal([&] {
    std::mt19937_64 rng(99);
    for (int i = 0; i < 30; ++i) {
      TestClient bad;
      if (!bad.connect(port())) continue;
      if (i % 2 == 0) bad.hello(token);
      bad.send(random_body(1 + rng() % 3000, rng()));
      bad.wait_closed(2000);
    }
  });
  for (auto& t : threads)
    t.join();
  vandal.join();
  EXPECT_EQ(failures.load(), 0);
  ServerMetrics m = server_->metrics();
  EXPECT_EQ(m.replies_dropped, 0u);
  EXPECT_GE(m.requests_pushed, uint64_t(clients * requests));
}

TEST_F(ServerTest, GracefulStopFlushesRepliesInFlight) {
  start(default_options());
  auto c = good_client();
  sink_->paused_ = true;
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(c->send(encode_request_frame(uint64_t(i), bytes_of("q"))));
  ASSERT_TRUE(wait_for([&] { return sink_->size() == 5; }));
  uint16_t listen_port = port();
  std::thread stopper([&] { server_->stop(); });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  sink_->paused_ = false;  // the core answers while the server is stopping
  for (int i = 0; i < 5; ++i) {
    Frame f;
    ASSERT_EQ(c->read_frame(f), ReadStatus::frame) << i;
    EXPECT_EQ(f.header.type, FrameType::reply);
    EXPECT_EQ(f.header.request_id, uint64_t(i));
  }
  expect_error(*c, error_code::unavailable, "stopping");
  stopper.join();
  TestClient late;  // the acceptor is closed
  EXPECT_FALSE(late.connect(listen_port));
}

}  // namespace
}  // namespace coffer::net
