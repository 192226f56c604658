// The binary-protocol server: an Asio acceptor and sessions on N I/O threads.
// A session authenticates its peer (hello), decodes request frames and hands
// each to a RequestSink (the sequencer's queue); results come back through
// Server::reply from any thread and leave in request order.
//
// Threads: the I/O threads belong to the server. RequestSink::try_push runs on
// them; Server::reply, metrics and stop may be called from any thread except
// an I/O thread (stop joins them).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "net/constants.h"
#include "net/frame_codec.h"

namespace coffer::net {

class QueryService;

namespace detail {
class Session;
struct ServerState;
}  // namespace detail

// Names one connection for the sink; copyable, and safe to keep after the
// connection is gone (a reply to it is then dropped).
class SessionHandle {
 public:
  SessionHandle() = default;
  uint64_t session_id() const { return session_id_; }

 private:
  friend class Server;
  friend class detail::Session;
  SessionHandle(std::weak_ptr<detail::Session> session, uint64_t session_id)
      : session_(std::move(session)), session_id_(session_id) {}
  std::weak_ptr<detail::Session> session_;
  uint64_t session_id_ = 0;
};

struct Request {
  SessionHandle session;
  uint64_t request_id = 0;
  std::vector<std::byte> body;  // a command batch, opaque to net's frame layer
};

// Where sessions deliver requests: the sequencer's bounded queue.
class RequestSink {
 public:
  virtual ~RequestSink() = default;
  // Takes the request, or returns false when full and leaves `request`
  // untouched: the session then stops reading its socket and offers the
  // same request again a little later. Must not block.
  virtual bool try_push(Request&& request) = 0;
};

// The run-time limits; each at most its compile-time maximum in constants.h.
struct Limits {
  uint32_t frame_body_size_max = net::frame_body_size_max;
  uint32_t batch_size_max = net::batch_size_max;
  uint32_t connections_max = net::connections_max;
  uint32_t in_flight_frames_max = in_flight_frames_per_connection_max;
  uint32_t hello_timeout_ms = net::hello_timeout_ms;
  uint32_t idle_timeout_ms = net::idle_timeout_ms;
  uint32_t write_timeout_ms = net::write_timeout_ms;
  uint32_t backpressure_retry_us = net::backpressure_retry_us;
  uint32_t close_linger_ms = net::close_linger_ms;
  uint32_t stop_timeout_ms = net::stop_timeout_ms;
};

struct ServerOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 0;  // 0: an ephemeral port, see Server::port()
  uint32_t io_threads = 1;
  std::string access_token;  // required; compared in constant time
  std::string server_version = "coffer 0.1.0";
  Limits limits;
  // SO_SNDBUF for accepted sockets; 0 keeps the OS default. Tests shrink it to
  // make a slow reader visible quickly.
  uint32_t socket_send_buffer_size = 0;
  // Answers `query` frames (query_service.h); must outlive the server.
  // nullptr: every query is answered UNAVAILABLE.
  QueryService* queries = nullptr;
};

// Counters since start; a snapshot, each value read atomically.
struct ServerMetrics {
  uint64_t connections_accepted = 0;
  uint64_t connections_rejected = 0;  // over connections_max: error RATE_LIMITED
  uint64_t connections_active = 0;
  uint64_t sessions_authenticated = 0;
  uint64_t frames_in = 0;
  uint64_t frames_out = 0;
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
  uint64_t requests_pushed = 0;
  uint64_t queries = 0;            // query frames read
  uint64_t queries_waited = 0;     // had to wait for the state store to catch up
  uint64_t queries_timed_out = 0;  // answered UNAVAILABLE after query_wait_timeout_ms
  uint64_t sink_full = 0;          // try_push returned false
  uint64_t replies_dropped = 0;    // session gone or no such request in flight
  // Errors by kind; each closes its connection.
  uint64_t decode_errors[decode_error_count] = {};  // by DecodeError value
  uint64_t bad_bodies = 0;                          // FlatBuffers Verifier or body limits
  uint64_t unauthenticated = 0;                     // wrong token, wrong version, no hello first
  uint64_t unexpected_frames = 0;                   // a frame type the client may not send here
  uint64_t duplicate_request_ids = 0;               // a request id already in flight
  uint64_t hello_timeouts = 0;
  uint64_t idle_timeouts = 0;
  uint64_t write_timeouts = 0;  // slow readers
};

enum class ServerError : uint8_t { ok = 0, invalid_options, bind_failed };

struct ServerStatus {
  ServerError error = ServerError::ok;
  std::string message;
  bool ok() const { return error == ServerError::ok; }
};

class Server {
 public:
  // Binds, listens and starts the I/O threads. `sink` must outlive the server.
  static ServerStatus open(const ServerOptions& options, RequestSink& sink,
                           std::unique_ptr<Server>* server);

  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  ~Server();  // stop()

  uint16_t port() const;

  // Queues `results` as the reply to `request_id` on `session`. Replies leave
  // in the order their requests arrived. Dropped when the session is closed.
  // REQUIRES: results.size() <= limits.frame_body_size_max; not called after
  // the server is destroyed.
  void reply(const SessionHandle& session, uint64_t request_id, std::vector<std::byte> results);

  // Stops accepting, stops reading, lets replies in flight flush for up to
  // stop_timeout_ms, sends each peer an error UNAVAILABLE, closes, joins the
  // I/O threads. Idempotent.
  void stop();

  ServerMetrics metrics() const;

 private:
  explicit Server(std::unique_ptr<detail::ServerState> state);
  std::unique_ptr<detail::ServerState> state_;
};

}  // namespace coffer::net
