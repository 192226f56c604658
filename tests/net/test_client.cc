#include "tests/net/test_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace coffer::net::testing {

Bytes bytes_of(const std::string& s) {
  Bytes b(s.size());
  if (!s.empty()) std::memcpy(b.data(), s.data(), s.size());
  return b;
}

TestClient::~TestClient() {
  close();
}

void TestClient::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool TestClient::connect(uint16_t port, int receive_buffer_size) {
  close();
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd_ < 0) return false;
  if (receive_buffer_size > 0) {
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer_size, sizeof receive_buffer_size);
  }
  timeval send_timeout{10, 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &send_timeout, sizeof send_timeout);
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
}

bool TestClient::send(const Bytes& bytes) {
  size_t at = 0;
  while (at < bytes.size()) {
    ssize_t n = ::send(fd_, bytes.data() + at, bytes.size() - at, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    at += size_t(n);
  }
  return true;
}

void TestClient::shutdown_send() {
  ::shutdown(fd_, SHUT_WR);
}

ReadStatus TestClient::read_frame(Frame& out, int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    std::span<const std::byte> input(pending_.data() + pending_begin_,
                                     pending_.size() - pending_begin_);
    DecodeStatus status = decoder_.decode(input, out);
    pending_begin_ = pending_.size() - input.size();
    if (pending_begin_ == pending_.size()) {
      pending_.clear();
      pending_begin_ = 0;
    }
    if (status == DecodeStatus::frame) return ReadStatus::frame;
    if (status == DecodeStatus::error) return ReadStatus::malformed;

    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return ReadStatus::timeout;
    pollfd p{fd_, POLLIN, 0};
    int r = ::poll(&p, 1, int(left.count()));
    if (r == 0) return ReadStatus::timeout;
    if (r < 0 && errno == EINTR) continue;
    std::byte buffer[64 * 1024];
    ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return ReadStatus::closed;
    pending_.insert(pending_.end(), buffer, buffer + n);
  }
}

bool TestClient::wait_closed(int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    int r = ::poll(&p, 1, int(left.count()));
    if (r == 0) return false;
    if (r < 0) continue;
    std::byte buffer[64 * 1024];
    ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
    if (n <= 0) return true;  // EOF or reset
  }
}

bool TestClient::hello(const std::string& token, HelloOkBody* ok) {
  if (!send(encode_hello_frame(1, {protocol_version, token, "test"}))) return false;
  Frame f;
  if (read_frame(f) != ReadStatus::frame || f.header.type != FrameType::hello_ok) return false;
  if (f.header.request_id != 1) return false;
  HelloOkBody body;
  if (!decode_hello_ok_body(f.body, body)) return false;
  if (ok != nullptr) *ok = body;
  return true;
}

bool TestClient::expect_error_then_close(uint32_t code, std::string* message, std::string* why) {
  auto say = [&](std::string reason) {
    if (why != nullptr) *why = std::move(reason);
    return false;
  };
  Frame f;
  ReadStatus status = read_frame(f);
  if (status != ReadStatus::frame) return say("no frame: status " + std::to_string(int(status)));
  if (f.header.type != FrameType::error) {
    return say(std::string("not an error frame: ") + frame_type_name(f.header.type));
  }
  ErrorBody error;
  if (!decode_error_body(f.body, error)) return say("error body does not verify");
  if (message != nullptr) *message = error.message;
  if (error.code != code) {
    return say("code " + std::to_string(error.code) + " (" + error.message + "), expected " +
               std::to_string(code));
  }
  if (!wait_closed()) return say("not closed after the error frame");
  return true;
}

bool TestClient::round_trip(uint64_t request_id, const Bytes& body) {
  if (!send(encode_request_frame(request_id, body))) return false;
  Frame f;
  if (read_frame(f) != ReadStatus::frame) return false;
  return f.header.type == FrameType::reply && f.header.request_id == request_id && f.body == body;
}

}  // namespace coffer::net::testing
