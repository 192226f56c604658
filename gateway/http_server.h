// coffer-gateway's HTTP/1.1 server (Boost.Beast): N threads on one
// io_context, a strand per connection, keep-alive and pipelining with
// responses in request order, and every limit of gateway/limits.h enforced:
//
//   - body over body_bytes_max -> 413, header over header_bytes_max -> 431,
//     unparsable request -> 400; each answered with the error body, then closed
//   - more than connections_max open -> 429 on the new connection, closed
//   - header not complete within header_timeout_ms of its first byte, or body
//     within body_timeout_ms -> closed (slowloris)
//   - idle keep-alive longer than idle_timeout_ms -> closed
//   - handler not answering within handler_timeout_ms -> 503 UNAVAILABLE
//
// Pipelined requests are read ahead (pipeline_depth_max) and may run in
// parallel only while all of them are safe (GET); a state-changing request
// waits for everything before it and holds back everything after it, so the
// ledger sees a connection's commands in order.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "gateway/limits.h"
#include "gateway/metrics.h"
#include "gateway/router.h"

namespace coffer::gateway {

struct HttpServerOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 0;  // 0: an ephemeral port, see HttpServer::port()
  uint32_t threads = 1;
  HttpLimits limits;
};

// Answers `done(true)` when the ledger server answers; may be asynchronous.
using HealthProbe = std::function<void(std::function<void(bool healthy)> done)>;

// Binds /healthz (with `probe`; null = always healthy), /metrics and
// /v1/openapi.json on `router`. `metrics` must outlive the router.
void bind_builtin_routes(Router* router, const Metrics* metrics, HealthProbe probe);

// Appends the bytes of one answer: status line, headers, body. The server
// writes Server, Connection, Content-Type and Content-Length itself (a
// handler's headers of those names are dropped); 204 and 304 carry no body.
// Byte for byte what Beast's serializer wrote for the same answer.
void append_response(unsigned version, const Response& response, bool keep_alive, std::string* out);

struct ServerStatus {
  bool ok = true;
  std::string message;
};

class HttpServer {
 public:
  // `router` and `metrics` must outlive the server; the router must not be
  // re-bound while serving.
  HttpServer(HttpServerOptions options, const Router* router, Metrics* metrics);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds, listens and starts the threads. Fails on a bad address, a port in
  // use, or limits beyond the ceilings of limits.h.
  ServerStatus start();
  // The bound port (after a successful start).
  uint16_t port() const;
  // Stops accepting, lets open requests finish for up to drain_timeout_ms,
  // then closes everything and joins the threads. Idempotent.
  void stop(uint32_t drain_timeout_ms = 5'000);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace coffer::gateway
