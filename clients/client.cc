#include "clients/client.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>

#include "net/command_codec.h"
#include "net/constants.h"
#include "net/frame_codec.h"
#include "net/query_codec.h"
#include "net/wire.h"

namespace coffer::client {

// The client's query types mirror the wire's (net/query_codec.h).
static_assert(query_limit_max == net::query_limit_max && query_ids_max == net::query_ids_max);
static_assert(uint16_t(QueryKind::texts) == uint16_t(net::QueryKind::texts) &&
              uint16_t(QueryKind::texts_in_group) == uint16_t(net::QueryKind::texts_in_group) &&
              uint16_t(QueryKind::history) == uint16_t(net::QueryKind::history) &&
              uint16_t(QueryKind::gifts_sent) == uint16_t(net::QueryKind::gifts_sent) &&
              uint16_t(QueryKind::gifts_received) == uint16_t(net::QueryKind::gifts_received) &&
              uint16_t(QueryKind::withdrawals) == uint16_t(net::QueryKind::withdrawals) &&
              net::query_kind_max == 6);

namespace {

constexpr uint32_t backoff_ms_max = 2'000;
constexpr size_t read_chunk_size = 64 * 1024;

// One submit() or query() call. A query travels alone in its frame; command
// calls are packed together.
struct Call {
  std::vector<Command> commands;
  std::vector<CommandText> texts;  // indexes relative to this call's commands
  size_t text_bytes = 0;
  Client::Callback done;
  std::vector<std::byte> query_body;  // a query: its encoded body (commands empty)
  Client::QueryCallback query_done;
  uint32_t attempts = 0;  // frames this call was sent in
  // When the call was queued: a failed reconnect cycle fails only the calls that
  // waited through all of it (see sender_loop).
  std::chrono::steady_clock::time_point queued_at = std::chrono::steady_clock::now();
  bool is_query() const { return query_done != nullptr; }
  bool idempotent() const {
    if (is_query()) return true;  // reads change nothing
    for (const Command& c : commands) {
      if (c.id.is_zero() && c.kind != CommandKind::lookup_account && c.kind != CommandKind::tick)
        return false;
    }
    return true;
  }
};

struct InFlight {
  uint64_t request_id;
  bool query = false;  // its reply is a query_reply
  std::vector<std::unique_ptr<Call>> calls;
};

// A call that failed as a whole (or, for commands, succeeded with `replies`).
void complete(std::unique_ptr<Call>& call, Result status, std::vector<Reply> replies = {}) {
  if (call->is_query()) {
    call->query_done(QueryResult{status, {}, {}});
  } else if (call->done) {
    call->done(SubmitResult{status, std::move(replies)});
  }
}

QueryResult to_result(net::QueryAnswer&& a) {
  QueryResult r;
  r.status = a.status;
  r.next = QueryCursor{a.next.seq, a.next.ordinal, a.next.key};
  r.rows.resize(a.rows.size());
  for (size_t i = 0; i < a.rows.size(); i++) {
    net::QueryRowData& w = a.rows[i];
    QueryRow& row = r.rows[i];
    row.seq = w.seq;
    row.time_us = w.time_us;
    row.id = w.id;
    row.effect_kind = w.effect_kind;
    row.code = w.code;
    row.amount = w.amount;
    row.balance_after = w.balance_after;
    row.held_after = w.held_after;
    row.maturing_after = w.maturing_after;
    row.from_member_id = w.from_member_id;
    row.to_member_id = w.to_member_id;
    row.state = w.state;
    row.text = std::move(w.text);
  }
  return r;
}

bool send_all(int fd, std::span<const std::byte> bytes) {
  size_t at = 0;
  while (at < bytes.size()) {
    ssize_t n = ::send(fd, bytes.data() + at, bytes.size() - at, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    at += size_t(n);
  }
  return true;
}

// Connects with a timeout; -1 and a message on failure.
int open_socket(const std::string& host, uint16_t port, uint32_t timeout_ms, std::string* error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string port_text = std::to_string(port);
  if (int rc = ::getaddrinfo(host.c_str(), port_text.c_str(), &hints, &found); rc != 0) {
    *error = "cannot resolve " + host + ": " + gai_strerror(rc);
    return -1;
  }
  int fd = -1;
  *error = "cannot connect to " + host + ":" + port_text;
  for (addrinfo* a = found; a != nullptr && fd < 0; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
    if (fd < 0) continue;
    int rc = ::connect(fd, a->ai_addr, a->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      rc = ::poll(&p, 1, int(timeout_ms)) == 1 ? 0 : -1;
      int so_error = 0;
      socklen_t len = sizeof so_error;
      if (rc == 0 && (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len) != 0 || so_error))
        rc = -1, errno = so_error;
      if (rc != 0 && errno == 0) errno = ETIMEDOUT;
    }
    if (rc != 0) {
      *error += std::string(": ") + std::strerror(errno);
      ::close(fd);
      fd = -1;
    }
  }
  ::freeaddrinfo(found);
  if (fd < 0) return -1;
  int flags = 0;  // back to blocking: one reader and one sender thread own it
  ::ioctl(fd, FIONBIO, &flags);
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

}  // namespace

struct Client::State {
  ClientOptions options;

  mutable std::mutex mu;
  std::condition_variable cv;
  std::deque<std::unique_ptr<Call>> pending;  // GUARDED_BY(mu)
  std::deque<InFlight> in_flight;             // GUARDED_BY(mu)
  int fd = -1;                                // GUARDED_BY(mu) for changes
  bool connected = false;
  bool broken = false;
  bool closing = false;
  uint64_t next_request_id = 1;
  uint32_t batch_size_max = 0;
  uint32_t in_flight_frames_max = 0;
  uint32_t frame_body_size_max = net::hello_body_size_max;  // the server's, after the hello
  std::thread sender;
  std::thread reader;

  std::atomic<uint64_t> calls{0}, frames_sent{0}, commands_sent{0}, reconnects{0}, calls_retried{0};

  // Connects and says hello; on success sets fd and limits (caller holds no lock).
  ConnectStatus dial(int* fd_out, uint32_t* batch_max, uint32_t* in_flight_max, uint32_t* body_max);
  void enqueue(std::unique_ptr<Call> call);
  bool reconnect();
  void sender_loop();
  void reader_loop(int fd);
  // After a connection broke: requeue what may be retried, fail the rest.
  void handle_break(std::unique_lock<std::mutex>& lock);
  // Fails the pending calls queued no later than `queued_by` (default: all).
  void fail_pending(std::unique_lock<std::mutex>& lock, Result status,
                    std::chrono::steady_clock::time_point queued_by =
                        std::chrono::steady_clock::time_point::max());
};

ConnectStatus Client::State::dial(int* fd_out, uint32_t* batch_max, uint32_t* in_flight_max,
                                  uint32_t* body_max) {
  std::string error;
  int sock = open_socket(options.host, options.port, options.connect_timeout_ms, &error);
  if (sock < 0) return ConnectStatus{Result::unavailable, error};
  net::HelloBody hello;
  hello.token = options.token;
  hello.client_name = options.client_name;
  if (!send_all(sock, net::encode_hello_frame(0, hello))) {
    ::close(sock);
    return ConnectStatus{Result::unavailable, "connection lost during hello"};
  }
  net::FrameDecoder decoder(net::hello_body_size_max);
  std::vector<std::byte> buffer(4096);
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(options.connect_timeout_ms);
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd p{sock, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&p, 1, int(left.count())) != 1) {
      ::close(sock);
      return ConnectStatus{Result::unavailable, "no hello reply from the server"};
    }
    // Read only what the header announces would be tidier; the hello reply is
    // the only frame before our first request, so over-reading cannot happen.
    ssize_t n = ::recv(sock, buffer.data(), buffer.size(), 0);
    if (n <= 0) {
      ::close(sock);
      return ConnectStatus{Result::unavailable, "connection closed during hello"};
    }
    std::span<const std::byte> input(buffer.data(), size_t(n));
    net::Frame frame;
    net::DecodeStatus st = decoder.decode(input, frame);
    if (st == net::DecodeStatus::need_more) continue;
    if (st == net::DecodeStatus::error) {
      ::close(sock);
      return ConnectStatus{Result::unavailable, "malformed hello reply"};
    }
    if (frame.header.type == net::FrameType::error) {
      net::ErrorBody body;
      net::decode_error_body(frame.body, body);
      ::close(sock);
      Result r = body.code == 0 ? Result::unavailable : Result(body.code);
      return ConnectStatus{r, "server refused the connection: " + body.message};
    }
    net::HelloOkBody ok;
    if (frame.header.type != net::FrameType::hello_ok ||
        !net::decode_hello_ok_body(frame.body, ok)) {
      ::close(sock);
      return ConnectStatus{Result::unavailable, "unexpected hello reply"};
    }
    auto pick = [](uint32_t wanted, uint32_t server) {
      return wanted == 0 ? server : std::min(wanted, server);
    };
    *batch_max = std::max(1u, pick(options.batch_size_max, ok.limits.batch_size_max));
    *in_flight_max =
        std::max(1u, pick(options.in_flight_frames_max, ok.limits.in_flight_frames_max));
    *body_max = std::clamp(ok.limits.frame_body_size_max, net::hello_body_size_max,
                           net::frame_body_size_max);
    *fd_out = sock;
    return ConnectStatus{};
  }
}

bool Client::State::reconnect() {
  uint32_t backoff_ms = options.reconnect_backoff_ms;
  std::string last_failure;
  for (uint32_t attempt = 0; attempt < options.reconnect_attempts_max; attempt++) {
    {
      std::lock_guard lock(mu);
      if (closing) return false;
    }
    int fd_new = -1;
    uint32_t batch_max = 0, in_flight_max = 0, body_max = 0;
    const ConnectStatus st = dial(&fd_new, &batch_max, &in_flight_max, &body_max);
    if (st.ok()) {
      std::lock_guard lock(mu);
      fd = fd_new;
      batch_size_max = batch_max;
      in_flight_frames_max = in_flight_max;
      frame_body_size_max = body_max;
      connected = true;
      reconnects.fetch_add(1);
      reader = std::thread([this, fd_new] { reader_loop(fd_new); });
      return true;
    }
    last_failure = st.message;
    std::unique_lock lock(mu);
    cv.wait_for(lock, std::chrono::milliseconds(backoff_ms), [this] { return closing; });
    backoff_ms = std::min(backoff_ms * 2, backoff_ms_max);
  }
  if (options.log) {
    options.log("no connection after " + std::to_string(options.reconnect_attempts_max) +
                " attempts; waiting calls fail UNAVAILABLE: " + last_failure);
  }
  return false;
}

void Client::State::fail_pending(std::unique_lock<std::mutex>& lock, Result status,
                                 std::chrono::steady_clock::time_point queued_by) {
  std::deque<std::unique_ptr<Call>> failed, kept;
  for (auto& call : pending)
    (call->queued_at <= queued_by ? failed : kept).push_back(std::move(call));
  pending.swap(kept);
  lock.unlock();
  for (auto& call : failed)
    complete(call, status);
  lock.lock();
}

void Client::State::handle_break(std::unique_lock<std::mutex>& lock) {
  ::shutdown(fd, SHUT_RDWR);
  lock.unlock();
  if (reader.joinable()) reader.join();
  lock.lock();
  ::close(fd);
  fd = -1;
  connected = false;
  broken = false;
  // Back to the front of the queue in their original order, or failed.
  std::vector<std::unique_ptr<Call>> failed;
  for (auto frame = in_flight.rbegin(); frame != in_flight.rend(); ++frame) {
    for (auto call = frame->calls.rbegin(); call != frame->calls.rend(); ++call) {
      if ((*call)->idempotent() && (*call)->attempts < options.reconnect_attempts_max) {
        calls_retried.fetch_add(1);
        pending.push_front(std::move(*call));
      } else {
        failed.push_back(std::move(*call));
      }
    }
  }
  in_flight.clear();
  lock.unlock();
  for (auto& call : failed)
    complete(call, Result::unavailable);
  lock.lock();
}

void Client::State::sender_loop() {
  std::unique_lock lock(mu);
  std::vector<Command> batch;
  std::vector<CommandText> batch_texts;
  while (true) {
    cv.wait(lock, [this] {
      return closing || broken || (!connected && !pending.empty()) ||
             (connected && !pending.empty() && in_flight.size() < in_flight_frames_max);
    });
    if (closing) break;
    if (broken) {
      handle_break(lock);
      continue;
    }
    if (!connected) {
      // A call queued during a failing cycle stays for the next cycle: it
      // fails only once the ledger was unreachable for a whole cycle after it came.
      const auto cycle_start = std::chrono::steady_clock::now();
      lock.unlock();
      const bool ok = reconnect();
      lock.lock();
      if (!ok) fail_pending(lock, Result::unavailable, cycle_start);
      continue;
    }
    InFlight frame;
    frame.request_id = next_request_id++;
    if (pending.front()->is_query()) {
      // A query goes alone in its frame.
      if (pending.front()->query_body.size() > frame_body_size_max) {
        std::unique_ptr<Call> call = std::move(pending.front());
        pending.pop_front();
        lock.unlock();
        complete(call, Result::invalid_request);
        lock.lock();
        continue;
      }
      frame.query = true;
      pending.front()->attempts++;
      frame.calls.push_back(std::move(pending.front()));
      pending.pop_front();
      const uint64_t request_id = frame.request_id;
      const int fd_now = fd;
      const auto bytes = net::encode_query_frame(request_id, frame.calls.front()->query_body);
      in_flight.push_back(std::move(frame));
      lock.unlock();
      const bool sent = send_all(fd_now, bytes);
      frames_sent.fetch_add(1, std::memory_order_relaxed);
      lock.lock();
      if (!sent) broken = true;
      continue;
    }
    // Coalesce: every queued command call that fits, whole, into one frame:
    // within the server's batch size and frame body limits.
    size_t count = 0, text_count = 0, text_bytes = 0;
    while (!pending.empty() && !pending.front()->is_query()) {
      const Call& next = *pending.front();
      if (count + next.commands.size() > batch_size_max ||
          net::command_batch_size_bound(count + next.commands.size(),
                                        text_count + next.texts.size(),
                                        text_bytes + next.text_bytes) > frame_body_size_max)
        break;
      count += next.commands.size();
      text_count += next.texts.size();
      text_bytes += next.text_bytes;
      pending.front()->attempts++;
      frame.calls.push_back(std::move(pending.front()));
      pending.pop_front();
    }
    if (frame.calls.empty()) {  // the server lowered a limit below a queued call
      std::unique_ptr<Call> call = std::move(pending.front());
      pending.pop_front();
      lock.unlock();
      complete(call, Result::invalid_request);
      lock.lock();
      continue;
    }
    // Each call's texts follow its commands: their indexes move by the
    // commands packed before it.
    batch.clear();
    batch_texts.clear();
    for (auto& call : frame.calls) {
      const auto offset = uint32_t(batch.size());
      for (const CommandText& t : call->texts) {
        batch_texts.push_back(t);
        batch_texts.back().index += offset;
      }
      batch.insert(batch.end(), call->commands.begin(), call->commands.end());
    }
    const uint64_t request_id = frame.request_id;
    const int fd_now = fd;
    in_flight.push_back(std::move(frame));
    lock.unlock();
    const auto bytes =
        net::encode_request_frame(request_id, net::encode_command_batch(batch, batch_texts));
    const bool sent = send_all(fd_now, bytes);
    frames_sent.fetch_add(1, std::memory_order_relaxed);
    commands_sent.fetch_add(batch.size(), std::memory_order_relaxed);
    lock.lock();
    if (!sent) broken = true;
  }
  // Closing: nothing more goes out; everything waiting fails.
  if (fd >= 0) ::shutdown(fd, SHUT_RDWR);
  lock.unlock();
  if (reader.joinable()) reader.join();
  lock.lock();
  if (fd >= 0) ::close(fd);
  fd = -1;
  for (auto& frame : in_flight)
    for (auto& call : frame.calls)
      pending.push_back(std::move(call));
  in_flight.clear();
  fail_pending(lock, Result::unavailable);
}

void Client::State::reader_loop(int fd_read) {
  net::FrameDecoder decoder(net::frame_body_size_max);
  std::vector<std::byte> buffer(read_chunk_size);
  std::vector<Reply> replies;
  net::Frame frame;
  bool ok = true;
  while (ok) {
    ssize_t n = ::recv(fd_read, buffer.data(), buffer.size(), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    std::span<const std::byte> input(buffer.data(), size_t(n));
    while (ok && !input.empty()) {
      net::DecodeStatus st = decoder.decode(input, frame);
      if (st == net::DecodeStatus::need_more) break;
      if (st == net::DecodeStatus::error || (frame.header.type != net::FrameType::reply &&
                                             frame.header.type != net::FrameType::query_reply)) {
        ok = false;  // error frame (e.g. UNAVAILABLE at stop, idle timeout) or garbage
        break;
      }
      // The server answers in order: the reply must be the oldest frame's,
      // by request id and by kind (a query's answer is a query_reply).
      InFlight done;
      bool wake = false;
      {
        std::lock_guard lock(mu);
        if (in_flight.empty() || in_flight.front().request_id != frame.header.request_id ||
            in_flight.front().query != (frame.header.type == net::FrameType::query_reply)) {
          ok = false;
          break;
        }
        done = std::move(in_flight.front());
        in_flight.pop_front();
        // The sender waits for room only with calls pending.
        wake = !pending.empty();
      }
      if (wake) cv.notify_all();
      if (done.query) {
        net::QueryAnswer answer;
        if (!net::decode_query_reply(frame.body, &answer)) {
          answer = net::QueryAnswer{Result::unavailable, {}, {}};  // a server bug
        }
        done.calls.front()->query_done(to_result(std::move(answer)));
        continue;
      }
      Result error = Result::ok;
      size_t total = 0;
      for (auto& call : done.calls)
        total += call->commands.size();
      if (!net::decode_reply_batch(frame.body, &error, replies) ||
          (error == Result::ok && replies.size() != total)) {
        error = Result::unavailable;  // a server bug; the calls' outcome is unknown
      }
      size_t at = 0;
      for (auto& call : done.calls) {
        const size_t k = call->commands.size();
        if (error != Result::ok) {
          complete(call, error);
        } else {
          complete(call, Result::ok,
                   std::vector<Reply>(replies.begin() + long(at), replies.begin() + long(at + k)));
        }
        at += k;
      }
    }
  }
  std::lock_guard lock(mu);
  broken = true;
  cv.notify_all();
}

ConnectStatus Client::connect(const ClientOptions& options, std::unique_ptr<Client>* client) {
  auto state = std::make_unique<State>();
  state->options = options;
  int fd = -1;
  uint32_t batch_max = 0, in_flight_max = 0, body_max = 0;
  ConnectStatus st = state->dial(&fd, &batch_max, &in_flight_max, &body_max);
  if (!st.ok()) return st;
  State* s = state.get();
  s->fd = fd;
  s->batch_size_max = batch_max;
  s->in_flight_frames_max = in_flight_max;
  s->frame_body_size_max = body_max;
  s->connected = true;
  s->reader = std::thread([s, fd] { s->reader_loop(fd); });
  s->sender = std::thread([s] { s->sender_loop(); });
  client->reset(new Client(std::move(state)));
  return st;
}

Client::Client(std::unique_ptr<State> state) : s_(std::move(state)) {}

Client::~Client() {
  close();
}

void Client::close() {
  {
    std::lock_guard lock(s_->mu);
    s_->closing = true;
  }
  s_->cv.notify_all();
  if (s_->sender.joinable()) s_->sender.join();
}

void Client::State::enqueue(std::unique_ptr<Call> call) {
  calls.fetch_add(1, std::memory_order_relaxed);
  std::unique_lock lock(mu);
  Result refused = Result::ok;
  if (closing) {
    refused = Result::unavailable;
  } else if (call->is_query()) {
    if (call->query_body.size() > frame_body_size_max) refused = Result::invalid_request;
  } else if (call->commands.empty() || call->commands.size() > batch_size_max ||
             net::command_batch_size_bound(call->commands.size(), call->texts.size(),
                                           call->text_bytes) > frame_body_size_max) {
    refused = Result::invalid_request;
  }
  if (refused != Result::ok) {
    lock.unlock();
    complete(call, refused);
    return;
  }
  // Wake the sender only when it can act on this call: it is waiting for
  // work (nothing was pending) and has room for a frame, or must reconnect.
  // Otherwise it is busy or waits for a reply, and takes this call with the
  // others then: a wake-up per call costs a context switch per call.
  const bool wake = pending.empty() && (!connected || in_flight.size() < in_flight_frames_max);
  pending.push_back(std::move(call));
  lock.unlock();
  if (wake) cv.notify_all();
}

void Client::submit(std::span<const Command> commands, Callback done) {
  submit(commands, {}, std::move(done));
}

void Client::submit(std::span<const Command> commands, std::span<const CommandText> texts,
                    Callback done) {
  auto call = std::make_unique<Call>();
  call->done = std::move(done);
  if (!command_texts_valid(texts, commands.size())) {
    s_->calls.fetch_add(1, std::memory_order_relaxed);
    complete(call, Result::invalid_request);
    return;
  }
  call->commands.assign(commands.begin(), commands.end());
  call->texts.assign(texts.begin(), texts.end());
  for (const CommandText& t : texts)
    call->text_bytes += t.text.size();
  s_->enqueue(std::move(call));
}

void Client::query(Query q, QueryCallback done) {
  auto call = std::make_unique<Call>();
  call->query_done = std::move(done);
  net::QueryRequest request;
  request.kind = net::QueryKind(uint16_t(q.kind));
  request.key = q.key;
  request.asset = q.asset;
  request.ids = std::move(q.ids);
  request.cursor = net::QueryPosition{q.cursor.seq, q.cursor.ordinal, q.cursor.key};
  request.limit = q.limit;
  if (!net::query_valid(request)) {
    s_->calls.fetch_add(1, std::memory_order_relaxed);
    complete(call, Result::invalid_request);
    return;
  }
  call->query_body = net::encode_query(request);
  s_->enqueue(std::move(call));
}

QueryResult Client::query_sync(Query q) {
  std::promise<QueryResult> promise;
  auto future = promise.get_future();
  query(std::move(q), [&promise](QueryResult r) { promise.set_value(std::move(r)); });
  return future.get();
}

std::future<SubmitResult> Client::submit(std::span<const Command> commands) {
  auto promise = std::make_shared<std::promise<SubmitResult>>();
  std::future<SubmitResult> future = promise->get_future();
  submit(commands, [promise](SubmitResult r) { promise->set_value(std::move(r)); });
  return future;
}

SubmitResult Client::submit_sync(std::span<const Command> commands) {
  return submit(commands).get();
}

Reply Client::call(const Command& command) {
  SubmitResult r = submit_sync(std::span<const Command>(&command, 1));
  if (r.status != Result::ok || r.replies.size() != 1) {
    Reply failed{};
    failed.result = r.status == Result::ok ? Result::unavailable : r.status;
    return failed;
  }
  return r.replies[0];
}

uint32_t Client::batch_size_max() const {
  std::lock_guard lock(s_->mu);
  return s_->batch_size_max;
}

uint32_t Client::in_flight_frames_max() const {
  std::lock_guard lock(s_->mu);
  return s_->in_flight_frames_max;
}

ClientMetrics Client::metrics() const {
  ClientMetrics m;
  m.calls = s_->calls.load();
  m.frames_sent = s_->frames_sent.load();
  m.commands_sent = s_->commands_sent.load();
  m.reconnects = s_->reconnects.load();
  m.calls_retried = s_->calls_retried.load();
  return m;
}

}  // namespace coffer::client
