// A blocking loopback client for the server tests, on plain POSIX sockets so
// that every wait has a deadline and no test can hang.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "net/frame_codec.h"
#include "net/wire.h"

namespace coffer::net::testing {

using Bytes = std::vector<std::byte>;

enum class ReadStatus { frame, closed, timeout, malformed };

class TestClient {
 public:
  TestClient() = default;
  ~TestClient();
  TestClient(const TestClient&) = delete;
  TestClient& operator=(const TestClient&) = delete;

  // receive_buffer_size > 0 sets SO_RCVBUF before connecting.
  bool connect(uint16_t port, int receive_buffer_size = 0);
  // Blocks until all is sent or the send timeout (10 s) passes; false on error.
  bool send(const Bytes& bytes);
  void shutdown_send();
  void close();

  ReadStatus read_frame(Frame& out, int timeout_ms = 5000);
  // Reads until EOF or reset; true when the server closed within the timeout.
  bool wait_closed(int timeout_ms = 5000);

  // hello with `token`; true on hello_ok (filled in `ok` if given).
  bool hello(const std::string& token, HelloOkBody* ok = nullptr);
  // Reads one frame and expects an error frame with `code`, then the close.
  // Returns the message ("" on any mismatch, with the reason in `why`).
  bool expect_error_then_close(uint32_t code, std::string* message = nullptr,
                               std::string* why = nullptr);
  // One request/reply round trip: true when the reply echoes `body` with `request_id`.
  bool round_trip(uint64_t request_id, const Bytes& body);

 private:
  int fd_ = -1;
  FrameDecoder decoder_{frame_body_size_max};
  Bytes pending_;
  size_t pending_begin_ = 0;
};

Bytes bytes_of(const std::string& s);

}  // namespace coffer::net::testing
