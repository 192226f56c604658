// The server's wiring, top to bottom: options are checked, the acceptor binds,
// I/O threads run the io_context; each accepted socket becomes a Session on
// its own strand (session.cc), which feeds the RequestSink; Server::reply
// posts results back to the session's strand; stop() unwinds it in order.
#include "net/server.h"

#include "core/assert.h"
#include "net/session.h"

namespace coffer::net {

using detail::ServerState;
using detail::Session;
namespace asio = detail::asio;
using detail::bump;
using detail::tcp;

namespace {

// After a failed accept (out of file descriptors, say), wait before the next
// so the loop does not spin.
constexpr uint32_t accept_retry_ms = 50;

ServerStatus check_options(const ServerOptions& o) {
  auto invalid = [](std::string message) {
    return ServerStatus{ServerError::invalid_options, std::move(message)};
  };
  const Limits& l = o.limits;
  if (o.access_token.empty()) return invalid("access_token is required");
  if (o.access_token.size() > token_size_max) return invalid("access_token too long");
  if (o.io_threads < 1 || o.io_threads > io_threads_max) return invalid("io_threads out of range");
  if (l.frame_body_size_max < hello_body_size_max || l.frame_body_size_max > frame_body_size_max)
    return invalid("frame_body_size_max out of range");
  if (l.batch_size_max < 1 || l.batch_size_max > batch_size_max)
    return invalid("batch_size_max out of range");
  if (l.connections_max < 1 || l.connections_max > connections_max)
    return invalid("connections_max out of range");
  if (l.in_flight_frames_max < 1 || l.in_flight_frames_max > in_flight_frames_per_connection_max)
    return invalid("in_flight_frames_max out of range");
  if (l.hello_timeout_ms < 1 || l.idle_timeout_ms < 1 || l.write_timeout_ms < 1 ||
      l.backpressure_retry_us < 1 || l.close_linger_ms < 1 || l.stop_timeout_ms < 1)
    return invalid("timeouts must be positive");
  return {};
}

void accept_next(ServerState& state);

void on_accept(ServerState& state, tcp::socket socket) {
  bump(state.counters.connections_accepted);
  if (state.stopping.load()) return;  // `socket` closes as it goes out of scope

  // connections_max bounds authenticated and handshaking sessions alike; past
  // it a connection gets error RATE_LIMITED. The sessions sending that are
  // bounded too: beyond them, a connection is closed without a word.
  bool admitted = state.sessions_admitted.fetch_add(1) < state.options.limits.connections_max;
  if (!admitted) {
    state.sessions_admitted.fetch_sub(1);
    bump(state.counters.connections_rejected);
    if (state.sessions_rejecting.fetch_add(1) >= state.options.limits.connections_max) {
      state.sessions_rejecting.fetch_sub(1);
      return;
    }
  } else {
    bump(state.counters.connections_active);
  }

  uint64_t id = state.next_session_id.fetch_add(1);
  auto session = std::make_shared<Session>(state, std::move(socket), id, admitted);
  {
    std::lock_guard lock(state.mutex);
    state.sessions.emplace(id, session);
  }
  session->start();
}

void accept_next(ServerState& state) {
  // Each socket gets its own strand: its session's handlers never run at once.
  state.acceptor.async_accept(
      asio::make_strand(state.io), [&state](boost::system::error_code ec, tcp::socket socket) {
        if (!state.acceptor.is_open() || ec == asio::error::operation_aborted) return;
        if (ec) {
          state.accept_retry_timer.expires_after(std::chrono::milliseconds(accept_retry_ms));
          state.accept_retry_timer.async_wait([&state](boost::system::error_code timer_ec) {
            if (!timer_ec) accept_next(state);
          });
          return;
        }
        on_accept(state, std::move(socket));
        accept_next(state);
      });
}

}  // namespace

ServerStatus Server::open(const ServerOptions& options, RequestSink& sink,
                          std::unique_ptr<Server>* server) {
  if (ServerStatus status = check_options(options); !status.ok()) return status;
  auto state = std::make_unique<ServerState>(options, sink);

  boost::system::error_code ec;
  auto address = asio::ip::make_address(options.address, ec);
  if (ec) return {ServerError::invalid_options, "bad address: " + ec.message()};
  tcp::endpoint endpoint(address, options.port);
  auto bind_failed = [&](const char* what) {
    return ServerStatus{ServerError::bind_failed, std::string(what) + ": " + ec.message()};
  };
  state->acceptor.open(endpoint.protocol(), ec);
  if (ec) return bind_failed("open");
  state->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (ec) return bind_failed("reuse_address");
  state->acceptor.bind(endpoint, ec);
  if (ec) return bind_failed("bind");
  state->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return bind_failed("listen");

  state->port = state->acceptor.local_endpoint(ec).port();
  if (ec) return bind_failed("local_endpoint");

  accept_next(*state);
  for (uint32_t i = 0; i < options.io_threads; ++i) {
    state->threads.emplace_back([io = &state->io] { io->run(); });
  }
  server->reset(new Server(std::move(state)));
  return {};
}

Server::Server(std::unique_ptr<ServerState> state) : state_(std::move(state)) {}

Server::~Server() {
  stop();
}

uint16_t Server::port() const {
  return state_->port;
}

void Server::reply(const SessionHandle& session, uint64_t request_id,
                   std::vector<std::byte> results) {
  COFFER_ASSERT(results.size() <= state_->options.limits.frame_body_size_max);
  std::shared_ptr<Session> s = session.session_.lock();
  if (s == nullptr) {
    bump(state_->counters.replies_dropped);
    return;
  }
  s->post_reply(request_id, std::move(results));
}

void Server::stop() {
  ServerState& state = *state_;
  if (state.stopped) return;
  state.stopped = true;
  state.stopping.store(true);

  // 1. No new connections.
  asio::post(state.acceptor.get_executor(), [&state] {
    boost::system::error_code ec;
    state.acceptor.close(ec);
    state.accept_retry_timer.cancel();
  });

  // 2. Every session stops reading, flushes its replies, says UNAVAILABLE.
  std::vector<std::shared_ptr<Session>> sessions;
  {
    std::lock_guard lock(state.mutex);
    for (auto& [id, weak] : state.sessions) {
      if (auto s = weak.lock()) sessions.push_back(std::move(s));
    }
  }
  for (auto& s : sessions)
    s->post_stop();
  sessions.clear();

  // 3. Wait for them, within the stop budget; then whatever is left is
  // closed when the io_context stops and its handlers are destroyed.
  {
    std::unique_lock lock(state.mutex);
    state.sessions_changed.wait_for(lock,
                                    std::chrono::milliseconds(state.options.limits.stop_timeout_ms),
                                    [&state] { return state.sessions.empty(); });
  }
  state.io.stop();
  for (auto& t : state.threads)
    t.join();
  state.threads.clear();
}

ServerMetrics Server::metrics() const {
  const detail::Counters& c = state_->counters;
  auto get = [](const std::atomic<uint64_t>& a) { return a.load(std::memory_order_relaxed); };
  ServerMetrics m;
  m.connections_accepted = get(c.connections_accepted);
  m.connections_rejected = get(c.connections_rejected);
  m.connections_active = get(c.connections_active);
  m.sessions_authenticated = get(c.sessions_authenticated);
  m.frames_in = get(c.frames_in);
  m.frames_out = get(c.frames_out);
  m.bytes_in = get(c.bytes_in);
  m.bytes_out = get(c.bytes_out);
  m.requests_pushed = get(c.requests_pushed);
  m.queries = get(c.queries);
  m.queries_waited = get(c.queries_waited);
  m.queries_timed_out = get(c.queries_timed_out);
  m.sink_full = get(c.sink_full);
  m.replies_dropped = get(c.replies_dropped);
  for (size_t i = 0; i < decode_error_count; ++i)
    m.decode_errors[i] = get(c.decode_errors[i]);
  m.bad_bodies = get(c.bad_bodies);
  m.unauthenticated = get(c.unauthenticated);
  m.unexpected_frames = get(c.unexpected_frames);
  m.duplicate_request_ids = get(c.duplicate_request_ids);
  m.hello_timeouts = get(c.hello_timeouts);
  m.idle_timeouts = get(c.idle_timeouts);
  m.write_timeouts = get(c.write_timeouts);
  return m;
}

}  // namespace coffer::net
