// The C++ client of the binary protocol (net/PROTOCOL.md): one TCP connection,
// automatic batching and pipelining, reconnect with retry.
//
// Batching: submit() queues a call; a sender thread packs every queued call
// (whole calls, up to the server's batch_size_max commands) into one request
// frame. While in_flight_frames_max frames await replies, new calls pile up
// and leave together in the next frame — many threads calling at once cost
// few frames. Replies are matched in order (the server answers in order).
//
// Retry: on connection loss, frames in flight are sent again after reconnect
// if every command in them is idempotent (non-zero id; lookups and ticks are
// reads/harmless). Others complete with UNAVAILABLE, as does everything once
// reconnect_attempts_max attempts in a row have failed.
//
// Thread-safe: any number of threads may submit. Callbacks run on the
// client's reader thread: keep them short, do not call close() from them.
#pragma once

#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/types.h"

namespace coffer::client {

struct ClientOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 7700;
  std::string token;
  std::string client_name = "coffer-client";
  uint32_t connect_timeout_ms = 5'000;
  // Consecutive failed connection attempts before pending calls fail.
  uint32_t reconnect_attempts_max = 5;
  uint32_t reconnect_backoff_ms = 100;  // doubled per attempt, up to 2 s
  // 0: the server's advertised limits; otherwise at most them.
  uint32_t batch_size_max = 0;
  uint32_t in_flight_frames_max = 0;
};

// The outcome of one call. status ok: `replies` has one reply per command, in
// order (each with its own result). Otherwise the call failed as a whole
// (UNAVAILABLE: no connection; INVALID_REQUEST: bad call; STORAGE_ERROR: the
// server's journal failed, the outcome is unknown: retry after restart).
struct SubmitResult {
  Result status = Result::ok;
  std::vector<Reply> replies;
};

struct ClientMetrics {
  uint64_t calls = 0;
  uint64_t frames_sent = 0;
  uint64_t commands_sent = 0;
  uint64_t reconnects = 0;
  uint64_t calls_retried = 0;
};

struct ConnectStatus {
  Result result = Result::ok;  // unavailable, unauthenticated
  std::string message;
  bool ok() const { return result == Result::ok; }
};

class Client {
 public:
  // Connects and says hello. Fails with UNAVAILABLE (no server) or
  // UNAUTHENTICATED (wrong token) and a message.
  static ConnectStatus connect(const ClientOptions& options, std::unique_ptr<Client>* client);

  ~Client();  // close()
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  using Callback = std::function<void(SubmitResult)>;
  // REQUIRES nothing: an empty call or one larger than the batch limit
  // completes at once with INVALID_REQUEST. seq and time_us are ignored.
  void submit(std::span<const Command> commands, Callback done);
  std::future<SubmitResult> submit(std::span<const Command> commands);
  SubmitResult submit_sync(std::span<const Command> commands);

  // One command, synchronously: its reply, or a reply whose result is the
  // call's failure (UNAVAILABLE, ...).
  Reply call(const Command& command);

  // Limits in force after the hello.
  uint32_t batch_size_max() const;
  uint32_t in_flight_frames_max() const;
  ClientMetrics metrics() const;

  // Fails what is pending with UNAVAILABLE, closes, joins the threads.
  void close();

 private:
  struct State;
  explicit Client(std::unique_ptr<State> state);
  std::unique_ptr<State> s_;
};

}  // namespace coffer::client
