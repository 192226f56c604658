#include "gateway/http_server.h"

#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/json/object.hpp>
#include <chrono>
#include <cstdio>
#include <deque>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "gateway/openapi.h"

namespace coffer::gateway {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

void bind_builtin_routes(Router* router, const Metrics* metrics, HealthProbe probe) {
  router->bind(RouteId::healthz, [probe](const Request&, Responder respond) {
    auto answer = [respond](bool healthy) {
      if (healthy) {
        respond(json_response(200, boost::json::object{{"status", "ok"}}));
      } else {
        respond(unavailable("the ledger server does not answer"));
      }
    };
    if (probe) {
      probe(std::move(answer));
    } else {
      answer(true);
    }
  });
  router->bind(RouteId::metrics, [metrics](const Request&, Responder respond) {
    respond(text_response(200, "text/plain; version=0.0.4; charset=utf-8", metrics->render()));
  });
  router->bind(RouteId::openapi, [](const Request&, Responder respond) {
    respond(text_response(200, "application/json", openapi_json()));
  });
}

namespace {

class Session;

// Lets answers from other threads post to the io_context only while it
// exists.
struct PostGate {
  std::shared_mutex mu;
  bool open = true;  // GUARDED_BY(mu)
};

}  // namespace

struct HttpServer::Impl {
  HttpServerOptions options;
  const Router* router;
  Metrics* metrics;

  std::shared_ptr<PostGate> gate = std::make_shared<PostGate>();
  std::atomic<uint32_t> connections{0};
  std::atomic<bool> stopping{false};
  std::mutex sessions_mu;
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions;  // GUARDED_BY(sessions_mu)

  // Declared after the state above: destroying the io_context destroys the
  // sessions its pending handlers own, and they unregister from `sessions`.
  std::unique_ptr<net::io_context> ioc;
  std::unique_ptr<tcp::acceptor> acceptor;
  std::unique_ptr<net::steady_timer> accept_retry;  // on the acceptor's strand
  std::vector<std::thread> threads;
  uint16_t port = 0;
  bool started = false;
  bool stopped = false;

  void accept();
  void on_accept(beast::error_code ec, tcp::socket socket);
  void reject(tcp::socket socket);
};

namespace {

// Whether a header of an answer is one the server itself writes.
bool server_written_field(std::string_view name) {
  return beast::iequals(name, "server") || beast::iequals(name, "connection") ||
         beast::iequals(name, "content-length") || beast::iequals(name, "transfer-encoding") ||
         beast::iequals(name, "content-type");
}

}  // namespace

void append_response(unsigned version, const Response& r, bool keep_alive, std::string* out) {
  // Beast's layout: status line, Server, the handler's headers, Connection,
  // Content-Type (not for 204 and 304, which carry no body), Content-Length
  // (always, 0 for those two, as Beast's prepare_payload writes it).
  const bool has_body = r.status != 204 && r.status != 304;
  const std::string_view reason = http::obsolete_reason(http::int_to_status(r.status));
  char line[64];
  int n = std::snprintf(line, sizeof line, "HTTP/%u.%u %u ", version / 10, version % 10, r.status);
  out->append(line, static_cast<size_t>(n));
  out->append(reason);
  out->append("\r\nServer: coffer-gateway\r\n");
  for (size_t i = 0; i < r.headers.size(); ++i) {
    const auto& [name, value] = r.headers[i];
    if (server_written_field(name)) continue;
    // A name given twice: the last value stands (as fields::set would do).
    bool later = false;
    for (size_t j = i + 1; j < r.headers.size() && !later; ++j)
      later = beast::iequals(r.headers[j].first, name);
    if (later) continue;
    out->append(name);
    out->append(": ");
    out->append(value);
    out->append("\r\n");
  }
  if (version >= 11 && !keep_alive) out->append("Connection: close\r\n");
  if (version < 11 && keep_alive) out->append("Connection: keep-alive\r\n");
  if (has_body) {
    out->append("Content-Type: ");
    out->append(r.content_type);
    out->append("\r\n");
  }
  n = std::snprintf(line, sizeof line, "Content-Length: %zu\r\n\r\n",
                    has_body ? r.body.size() : size_t{0});
  out->append(line, static_cast<size_t>(n));
  if (has_body) out->append(r.body);
}

namespace {

class Session : public std::enable_shared_from_this<Session> {
 public:
  using Strand = net::strand<net::io_context::executor_type>;

  Session(HttpServer::Impl* server, tcp::socket&& socket, Strand strand)
      : server_(server),
        limits_(server->options.limits),
        strand_(strand),
        socket_(std::move(socket)),
        timer_(strand),
        buffer_(limits_.header_bytes_max * 2 + (64u << 10)) {}

  ~Session() {
    server_->metrics->connection_closed();
    server_->connections.fetch_sub(1, std::memory_order_relaxed);
    std::lock_guard<std::mutex> lock(server_->sessions_mu);
    server_->sessions.erase(this);
  }

  void start() {
    net::dispatch(strand_, [self = shared_from_this()] { self->read_next(); });
  }

  // Stop after what is in flight (server shutdown).
  void shutdown() {
    net::dispatch(strand_, [self = shared_from_this()] {
      self->read_closed_ = true;
      if (self->slots_.empty() && !self->writing_) self->close();
    });
  }

 private:
  enum class ReadPhase : uint8_t { idle, header, body, linger };
  static constexpr Clock::time_point kNever = Clock::time_point::max();

  struct Slot {
    uint64_t id = 0;
    bool safe = false;
    bool dispatched = false;
    bool done = false;
    bool keep_alive = true;
    unsigned version = 11;
    std::unique_ptr<BeastRequest> request;
    const RouteSpec* route = nullptr;
    Response response;
    Clock::time_point start;
    Clock::time_point deadline = kNever;  // dispatched and not done: the handler's
  };

  // --- Reading -------------------------------------------------------------

  void read_next() {
    if (reading_ || read_closed_ || closed_) return;
    // Backpressure: a client that pipelines faster than we answer waits.
    if (slots_.size() >= limits_.pipeline_depth_max) return;
    reading_ = true;
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(limits_.header_bytes_max));
    parser_->body_limit(limits_.body_bytes_max);
    if (buffer_.size() == 0) {
      // Nothing buffered: wait for the first byte under the idle timeout,
      // then give the whole header header_timeout_ms. A new connection has
      // not earned the idle timeout yet: silence there is cut off sooner.
      arm_read_timer(next_slot_id_ == 0 ? limits_.header_timeout_ms : limits_.idle_timeout_ms,
                     ReadPhase::idle);
      socket_.async_wait(tcp::socket::wait_read, [self = shared_from_this()](beast::error_code ec) {
        if (ec) return self->on_read_error(ec);
        self->read_header();
      });
    } else {
      read_header();
    }
  }

  void read_header() {
    arm_read_timer(limits_.header_timeout_ms, ReadPhase::header);
    http::async_read_header(
        socket_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->on_header(ec); });
  }

  void on_header(beast::error_code ec) {
    if (ec) return on_read_error(ec);
    if (parser_->is_done()) return on_request(ec);
    // "Expect: 100-continue" (curl sends it for bodies over 1 KiB): say so
    // when nothing else is queued, as interim answers must not overtake
    // earlier ones; otherwise the client sends after its own short wait.
    auto expect = parser_->get()[http::field::expect];
    if (beast::iequals(expect, "100-continue") && slots_.empty() && !writing_) {
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      writing_ = true;
      net::async_write(socket_, net::buffer(kContinue.data(), kContinue.size()),
                       [self = shared_from_this()](beast::error_code ec2, size_t) {
                         self->writing_ = false;
                         if (ec2) {
                           self->server_->metrics->record_error(MetricError::write_failed);
                           return self->close();
                         }
                         self->read_body();
                       });
      return;
    }
    read_body();
  }

  void read_body() {
    if (closed_) return;
    arm_read_timer(limits_.body_timeout_ms, ReadPhase::body);
    http::async_read(
        socket_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec2, size_t) { self->on_request(ec2); });
  }

  void on_request(beast::error_code ec) {
    if (ec) return on_read_error(ec);
    cancel_read_timer();
    reading_ = false;
    Slot& slot = new_slot();
    slot.request = std::make_unique<BeastRequest>(parser_->release());
    slot.safe = slot.request->method() == http::verb::get;
    slot.keep_alive = slot.request->keep_alive();
    slot.version = slot.request->version();
    if (!slot.keep_alive) read_closed_ = true;
    try_dispatch();
    read_next();
  }

  void on_read_error(beast::error_code ec) {
    // While lingering or closed, reads end by design.
    if (closed_ || lingering_) return;
    cancel_read_timer();
    reading_ = false;
    read_closed_ = true;
    if (ec == http::error::body_limit) {
      push_error(payload_too_large(limits_.body_bytes_max));
    } else if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
      push_error(header_too_large(limits_.header_bytes_max));
    } else if (ec.category() == http::make_error_code(http::error::need_more).category() &&
               ec != http::error::end_of_stream && ec != http::error::partial_message) {
      // Any other HTTP grammar error: answer, then close.
      push_error(invalid_request("malformed HTTP request: " + ec.message()));
    }
    // end_of_stream, resets, timeouts: nothing to answer; finish what is
    // queued, then close.
    if (slots_.empty() && !writing_) close();
  }

  void push_error(const ApiError& error) {
    server_->metrics->record_error(MetricError::malformed_request);
    Slot& slot = new_slot();
    slot.dispatched = true;
    slot.done = true;
    slot.response = error_response(error);
    slot.response.close = true;
    server_->metrics->record_request(nullptr, slot.response.status, 0);
    try_write();
  }

  Slot& new_slot() {
    Slot& slot = slots_.emplace_back();
    slot.id = next_slot_id_++;
    slot.start = Clock::now();
    return slot;
  }

  Slot* find_slot(uint64_t id) {
    if (slots_.empty() || id < slots_.front().id) return nullptr;
    uint64_t i = id - slots_.front().id;
    if (i >= slots_.size()) return nullptr;
    return &slots_[i];
  }

  // --- Timers ----------------------------------------------------------------
  //
  // Deadlines are plain time points; one timer per connection wakes at the
  // earliest of them. Moving a deadline later costs nothing (the timer wakes,
  // finds nothing due and sleeps until the next one), so a request costs a
  // few clock reads instead of arming and cancelling several asio timers
  // (each cancel runs its handler through the strand).

  void arm_read_timer(uint32_t ms, ReadPhase phase) {
    read_phase_ = phase;
    read_deadline_ = Clock::now() + std::chrono::milliseconds(ms);
    schedule(read_deadline_);
  }

  void cancel_read_timer() { read_deadline_ = kNever; }

  // Makes the timer wake no later than `at`.
  void schedule(Clock::time_point at) {
    if (closed_ || at == kNever) return;
    if (timer_waiting_ && timer_at_ <= at) return;
    timer_waiting_ = true;
    timer_at_ = at;
    uint64_t gen = ++timer_gen_;
    timer_.expires_at(at);  // a wait in progress ends with operation_aborted
    timer_.async_wait(
        [self = shared_from_this(), gen](beast::error_code ec) { self->on_timer(ec, gen); });
  }

  void on_timer(beast::error_code, uint64_t gen) {
    if (gen != timer_gen_) return;  // superseded by an earlier deadline
    timer_waiting_ = false;
    if (closed_) return;
    const Clock::time_point now = Clock::now();
    // Handlers that did not answer in time get 503; collected first, as
    // answering may dispatch and write.
    expired_.clear();
    for (const Slot& slot : slots_) {
      if (slot.dispatched && !slot.done && slot.deadline <= now) expired_.push_back(slot.id);
    }
    for (uint64_t id : expired_) {
      Slot* slot = find_slot(id);
      if (slot == nullptr || slot->done) continue;
      server_->metrics->record_error(MetricError::handler_timeout);
      on_response(id, slot->route, error_response(unavailable("the request timed out")));
      if (closed_) return;
    }
    if (writing_ && write_deadline_ <= now) {
      server_->metrics->record_error(MetricError::write_failed);
      return close();
    }
    if (read_deadline_ <= now) {
      if (read_phase_ == ReadPhase::idle && !slots_.empty()) {
        // Not idle: the client waits for answers still being worked on.
        read_deadline_ = now + std::chrono::milliseconds(limits_.idle_timeout_ms);
      } else {
        if (read_phase_ == ReadPhase::idle) {
          server_->metrics->record_error(MetricError::idle_timeout);
        } else if (read_phase_ != ReadPhase::linger) {
          server_->metrics->record_error(MetricError::header_timeout);
        }
        return close();
      }
    }
    Clock::time_point next = read_deadline_;
    if (writing_) next = std::min(next, write_deadline_);
    for (const Slot& slot : slots_) {
      if (slot.dispatched && !slot.done) next = std::min(next, slot.deadline);
    }
    schedule(next);
  }

  // --- Handlers --------------------------------------------------------------

  void try_dispatch() {
    for (Slot& slot : slots_) {
      if (slot.dispatched) continue;
      // Safe requests may overlap each other; anything else runs alone.
      if (in_flight_ > 0 && (!slot.safe || in_flight_unsafe_ > 0)) break;
      dispatch(slot);
    }
  }

  void dispatch(Slot& slot) {
    slot.dispatched = true;
    ++in_flight_;
    if (!slot.safe) ++in_flight_unsafe_;
    uint64_t id = slot.id;
    slot.deadline = Clock::now() + std::chrono::milliseconds(limits_.handler_timeout_ms);
    schedule(slot.deadline);
    // The answer sink holds no executor or strand: a Responder may outlive
    // the server (a ledger answer after stop()), and destroying a strand
    // after its io_context is a use-after-free.
    std::weak_ptr<Session> weak = weak_from_this();
    std::shared_ptr<PostGate> gate = server_->gate;
    BeastRequest request = std::move(*slot.request);
    slot.request.reset();
    slot.route = server_->router->handle(
        std::move(request), [weak, gate, id](const RouteSpec* route, Response response) {
          // Possibly another thread: hop back onto the connection's strand,
          // while the io_context still exists. A connection that is gone
          // drops the answer.
          std::shared_lock<std::shared_mutex> lock(gate->mu);
          if (!gate->open) return;
          auto self = weak.lock();
          if (!self) return;
          Strand strand = self->strand_;
          net::post(strand,
                    [self = std::move(self), id, route, response = std::move(response)]() mutable {
                      self->on_response(id, route, std::move(response));
                    });
        });
  }

  void on_response(uint64_t id, const RouteSpec* route, Response response) {
    Slot* slot = find_slot(id);
    if (slot == nullptr || slot->done) return;  // answered already (timeout)
    slot->done = true;
    slot->route = route;
    slot->response = std::move(response);
    COFFER_ASSERT(in_flight_ > 0);
    --in_flight_;
    if (!slot->safe) {
      COFFER_ASSERT(in_flight_unsafe_ > 0);
      --in_flight_unsafe_;
    }
    uint64_t latency_us = static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - slot->start).count());
    server_->metrics->record_request(route, slot->response.status, latency_us);
    try_dispatch();
    try_write();
  }

  // --- Writing ---------------------------------------------------------------

  // Every answer that is ready, in order, goes out in one write: one
  // system call for a pipelined burst, and no allocation (write_buffer_
  // keeps its capacity). Stops after an answer that closes the connection.
  void try_write() {
    if (writing_ || closed_) return;
    if (slots_.empty() || !slots_.front().done) {
      if (slots_.empty() && read_closed_ && !reading_) close_gracefully();
      return;
    }
    write_buffer_.clear();
    write_slots_ = 0;
    bool keep_alive = true;
    for (Slot& slot : slots_) {
      if (!slot.done || !keep_alive) break;
      // The last answer of a connection that reads no more says so (server
      // shutdown sets read_closed_ too, so pipelined answers still go out).
      const bool last = read_closed_ && write_slots_ + 1 == slots_.size();
      keep_alive = slot.keep_alive && !slot.response.close && !last;
      append_response(slot.version, slot.response, keep_alive, &write_buffer_);
      ++write_slots_;
    }
    writing_ = true;
    write_deadline_ = Clock::now() + std::chrono::milliseconds(limits_.write_timeout_ms);
    schedule(write_deadline_);
    net::async_write(socket_, net::buffer(write_buffer_),
                     [self = shared_from_this(), keep_alive](beast::error_code ec, size_t) {
                       self->on_write(ec, keep_alive);
                     });
  }

  void on_write(beast::error_code ec, bool keep_alive) {
    writing_ = false;
    write_deadline_ = kNever;
    if (ec) {
      if (!closed_) server_->metrics->record_error(MetricError::write_failed);
      close();
      return;
    }
    COFFER_ASSERT(write_slots_ >= 1 && write_slots_ <= slots_.size());
    slots_.erase(slots_.begin(), slots_.begin() + static_cast<std::ptrdiff_t>(write_slots_));
    write_slots_ = 0;
    if (!keep_alive) {
      read_closed_ = true;
      close_gracefully();
      return;
    }
    try_write();
    read_next();
  }

  // --- Closing ---------------------------------------------------------------

  // Half-close, then drain what the client still sends for a moment, so that
  // it reads our last answer rather than a connection reset.
  void close_gracefully() {
    if (closed_ || lingering_) return;
    lingering_ = true;
    read_closed_ = true;
    beast::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return close();
    if (reading_) {
      // A read is pending (waiting for a next request that will not be
      // served): cancel it; the drain below takes over.
      // (A member error_code: GCC 12 flags a local one as dangling here.)
      socket_.cancel(ignored_ec_);
      reading_ = false;
    }
    arm_read_timer(linger_ms, ReadPhase::linger);
    drain();
  }

  void drain() {
    linger_buffer_.resize(16u << 10);
    socket_.async_read_some(net::buffer(linger_buffer_),
                            [self = shared_from_this()](beast::error_code ec, size_t n) {
                              self->lingered_bytes_ += n;
                              if (ec || self->lingered_bytes_ > linger_bytes_max)
                                return self->close();
                              self->drain();
                            });
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    beast::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);
    ++timer_gen_;
    timer_waiting_ = false;
    timer_.cancel();
  }

  HttpServer::Impl* server_;
  const HttpLimits& limits_;
  Strand strand_;
  tcp::socket socket_;
  net::steady_timer timer_;  // wakes at the earliest deadline (on_timer)
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::string write_buffer_;  // the answers being written
  size_t write_slots_ = 0;    // how many (the front of slots_)
  std::vector<char> linger_buffer_;
  beast::error_code ignored_ec_;
  size_t lingered_bytes_ = 0;

  std::deque<Slot> slots_;
  uint64_t next_slot_id_ = 0;
  size_t in_flight_ = 0;
  size_t in_flight_unsafe_ = 0;
  Clock::time_point read_deadline_ = kNever;   // of read_phase_
  Clock::time_point write_deadline_ = kNever;  // while writing_
  Clock::time_point timer_at_ = kNever;        // when timer_ wakes, if timer_waiting_
  bool timer_waiting_ = false;
  uint64_t timer_gen_ = 0;  // the wait in progress; older waits ended
  std::vector<uint64_t> expired_;
  ReadPhase read_phase_ = ReadPhase::idle;
  bool reading_ = false;
  bool writing_ = false;
  bool read_closed_ = false;  // no further requests will be read
  bool lingering_ = false;
  bool closed_ = false;
};

}  // namespace

// --- Acceptor ------------------------------------------------------------------

void HttpServer::Impl::accept() {
  acceptor->async_accept(net::make_strand(*ioc), [this](beast::error_code ec, tcp::socket socket) {
    on_accept(ec, std::move(socket));
  });
}

void HttpServer::Impl::reject(tcp::socket socket) {
  // Over the limit: one best-effort non-blocking write of a 429 and close.
  // No per-connection state, so a flood of connections costs nothing more.
  metrics->record_error(MetricError::connection_rejected);
  metrics->record_request(nullptr, 429, 0);
  static const std::string kResponse = [] {
    std::string body = rate_limited("too many connections").body();
    return "HTTP/1.1 429 Too Many Requests\r\nServer: coffer-gateway\r\nConnection: close\r\n"
           "Content-Type: application/json\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n\r\n" + body;
  }();
  beast::error_code ec;
  socket.non_blocking(true, ec);
  socket.write_some(net::buffer(kResponse), ec);
  socket.shutdown(tcp::socket::shutdown_both, ec);
  socket.close(ec);
}

void HttpServer::Impl::on_accept(beast::error_code ec, tcp::socket socket) {
  if (ec == net::error::operation_aborted || !acceptor->is_open()) return;
  if (!ec) {
    uint32_t n = connections.fetch_add(1, std::memory_order_relaxed);
    if (n >= options.limits.connections_max || stopping.load()) {
      connections.fetch_sub(1, std::memory_order_relaxed);
      reject(std::move(socket));
    } else {
      metrics->connection_opened();
      beast::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      auto strand = net::make_strand(*ioc);
      // The accepted socket already runs on its own strand executor; move it
      // into a session whose timers share that strand.
      auto executor = socket.get_executor();
      auto* as_strand = executor.target<Session::Strand>();
      auto session =
          std::make_shared<Session>(this, std::move(socket), as_strand ? *as_strand : strand);
      {
        std::lock_guard<std::mutex> lock(sessions_mu);
        sessions.emplace(session.get(), session);
      }
      session->start();
    }
  }
  if (ec) {
    // EMFILE, ENOBUFS, ...: retrying at once would spin; pause, then go on
    // (connections closing meanwhile free what was missing).
    accept_retry->expires_after(std::chrono::milliseconds(accept_retry_pause_ms));
    accept_retry->async_wait([this](beast::error_code e) {
      if (!e && acceptor->is_open()) accept();
    });
    return;
  }
  accept();
}

// --- HttpServer ---------------------------------------------------------------

HttpServer::HttpServer(HttpServerOptions options, const Router* router, Metrics* metrics)
    : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  impl_->router = router;
  impl_->metrics = metrics;
}

HttpServer::~HttpServer() {
  stop(0);
}

ServerStatus HttpServer::start() {
  Impl& s = *impl_;
  COFFER_ASSERT(!s.started);
  const HttpLimits& l = s.options.limits;
  if (l.body_bytes_max > body_bytes_ceiling || l.header_bytes_max > header_bytes_ceiling ||
      l.header_bytes_max < 512 || l.connections_max == 0 ||
      l.connections_max > connections_ceiling || l.pipeline_depth_max == 0 ||
      l.pipeline_depth_max > pipeline_depth_ceiling || s.options.threads == 0 ||
      s.options.threads > threads_ceiling || l.header_timeout_ms == 0 || l.body_timeout_ms == 0 ||
      l.idle_timeout_ms == 0 || l.handler_timeout_ms == 0 || l.write_timeout_ms == 0) {
    return {false, "HTTP limits out of range (see gateway/limits.h)"};
  }
  beast::error_code ec;
  auto address = net::ip::make_address(s.options.address, ec);
  if (ec) return {false, "bad listen address '" + s.options.address + "'"};

  s.ioc = std::make_unique<net::io_context>(static_cast<int>(s.options.threads));
  s.acceptor = std::make_unique<tcp::acceptor>(net::make_strand(*s.ioc));
  s.accept_retry = std::make_unique<net::steady_timer>(s.acceptor->get_executor());
  tcp::endpoint endpoint(address, s.options.port);
  s.acceptor->open(endpoint.protocol(), ec);
  if (!ec) s.acceptor->set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) s.acceptor->bind(endpoint, ec);
  if (!ec) s.acceptor->listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    std::string what = ec.message();
    s.accept_retry.reset();
    s.acceptor.reset();
    s.ioc.reset();
    return {false, "cannot listen on " + s.options.address + ":" + std::to_string(s.options.port) +
                       ": " + what};
  }
  s.port = s.acceptor->local_endpoint().port();
  s.started = true;
  s.accept();
  for (uint32_t i = 0; i < s.options.threads; ++i) {
    s.threads.emplace_back([ioc = s.ioc.get()] { ioc->run(); });
  }
  return {};
}

uint16_t HttpServer::port() const {
  return impl_->port;
}

void HttpServer::stop(uint32_t drain_timeout_ms) {
  Impl& s = *impl_;
  if (!s.started || s.stopped) return;
  s.stopped = true;
  s.stopping.store(true);
  net::post(s.acceptor->get_executor(), [&s] {
    beast::error_code ec;
    s.acceptor->close(ec);
    s.accept_retry->cancel();
  });
  std::vector<std::shared_ptr<Session>> open;
  {
    std::lock_guard<std::mutex> lock(s.sessions_mu);
    for (auto& [ptr, weak] : s.sessions) {
      if (auto session = weak.lock()) open.push_back(std::move(session));
    }
  }
  for (auto& session : open)
    session->shutdown();
  open.clear();
  auto deadline = Clock::now() + std::chrono::milliseconds(drain_timeout_ms);
  while (s.connections.load() > 0 && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  s.ioc->stop();
  for (auto& t : s.threads)
    t.join();
  s.threads.clear();
  {
    std::unique_lock<std::shared_mutex> lock(s.gate->mu);
    s.gate->open = false;
  }
  // Destroys the sessions still owned by pending handlers.
  s.accept_retry.reset();
  s.acceptor.reset();
  s.ioc.reset();
}

}  // namespace coffer::gateway
