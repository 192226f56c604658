#include "net/session.h"

#include <algorithm>
#include <string_view>

#include "core/assert.h"
#include "net/query_service.h"
#include "net/wire.h"

namespace coffer::net::detail {
namespace {

// Size of the discard buffer of a session that only rejects.
constexpr size_t reject_read_buffer_size = 4096;

// Compares in time that depends only on the expected token's length, so a
// client cannot find the token byte by byte.
bool token_matches(std::string_view expected, std::string_view given) {
  uint8_t diff = expected.size() == given.size() ? 0 : 1;
  for (size_t i = 0; i < expected.size(); ++i) {
    uint8_t g = i < given.size() ? uint8_t(given[i]) : 0;
    diff |= uint8_t(uint8_t(expected[i]) ^ g);
  }
  return diff == 0;
}

}  // namespace

Session::Session(ServerState& state, tcp::socket socket, uint64_t id, bool admitted)
    : state_(state),
      limits_(state.options.limits),
      socket_(std::move(socket)),
      id_(id),
      admitted_(admitted),
      decoder_(hello_body_size_max),
      deadline_timer_(socket_.get_executor()),
      write_timer_(socket_.get_executor()),
      retry_timer_(socket_.get_executor()),
      query_timer_(socket_.get_executor()) {}

void Session::start() {
  asio::dispatch(socket_.get_executor(), [self = shared_from_this()] {
    Session& s = *self;
    s.handle_ = SessionHandle(s.weak_from_this(), s.id_);
    if (!s.admitted_) {
      s.read_buffer_.resize(reject_read_buffer_size);
      s.fail(error_code::rate_limited, "too many connections");
      return;
    }
    boost::system::error_code ec;
    s.socket_.set_option(tcp::no_delay(true), ec);
    if (s.state_.options.socket_send_buffer_size > 0) {
      s.socket_.set_option(
          asio::socket_base::send_buffer_size(int(s.state_.options.socket_send_buffer_size)), ec);
    }
    s.read_buffer_.resize(read_buffer_size);
    s.slots_.resize(s.limits_.in_flight_frames_max);
    s.last_activity_time_ = std::chrono::steady_clock::now();
    s.arm_deadline(s.limits_.hello_timeout_ms);
    s.read();
  });
}

// --- Reading ----------------------------------------------------------------

void Session::read() {
  if (reading_ || phase_ == Phase::closed || phase_ == Phase::draining) return;
  COFFER_ASSERT(read_begin_ == read_end_);
  read_begin_ = read_end_ = 0;
  reading_ = true;
  socket_.async_read_some(asio::buffer(read_buffer_),
                          [self = shared_from_this()](boost::system::error_code ec, size_t size) {
                            self->on_read(ec, size);
                          });
}

void Session::on_read(boost::system::error_code ec, size_t size) {
  reading_ = false;
  if (phase_ == Phase::closed) return;
  if (phase_ == Phase::lingering) {
    // Discarding until the peer's EOF.
    if (ec) return close();
    return read();
  }
  if (ec == asio::error::eof && phase_ != Phase::hello) {
    // The peer closed its sending side: finish the replies (or the error
    // frame) it may still read. linger() sees the EOF again and closes.
    if (phase_ == Phase::ready) {
      phase_ = Phase::draining;
      stalled_.reset();
      retry_timer_.cancel();
      pump_writes();
    }
    return;
  }
  if (ec) return close();
  bump(state_.counters.bytes_in, size);
  if (phase_ == Phase::draining) return;  // stopping: input is no longer read
  last_activity_time_ = std::chrono::steady_clock::now();
  read_end_ = size;
  process_input();
}

// Decodes frames out of the read buffer until it is empty (then reads the
// socket again) or the session must pause: a full sink or a full reply queue.
// While paused nothing is read, so the peer's TCP window closes: that is the
// backpressure, and nothing is buffered beyond one read buffer.
void Session::process_input() {
  while (phase_ == Phase::hello || phase_ == Phase::ready) {
    if (stalled_) return;                       // on_retry_timer resumes
    if (slots_count_ >= slots_.size()) return;  // on_write resumes
    if (read_begin_ == read_end_) return read();
    std::span<const std::byte> input(read_buffer_.data() + read_begin_, read_end_ - read_begin_);
    DecodeStatus status = decoder_.decode(input, frame_);
    read_begin_ = read_end_ - input.size();
    if (status == DecodeStatus::need_more) return read();
    if (status == DecodeStatus::error) {
      DecodeError e = decoder_.error();
      bump(state_.counters.decode_errors[size_t(e)]);
      // A client speaking another version is told so as an authentication
      // failure, like a hello with a wrong version.
      uint32_t code = phase_ == Phase::hello && e == DecodeError::unsupported_version
                          ? error_code::unauthenticated
                          : error_code::invalid_request;
      return fail(code, std::string("malformed frame: ") + decode_error_name(e));
    }
    bump(state_.counters.frames_in);
    on_frame(frame_);
  }
}

void Session::on_frame(Frame& frame) {
  uint64_t request_id = frame.header.request_id;
  if (phase_ == Phase::hello) {
    if (frame.header.type != FrameType::hello) {
      bump(state_.counters.unauthenticated);
      return fail(error_code::unauthenticated, "the first frame must be a hello", request_id);
    }
    return on_hello(frame);
  }
  switch (frame.header.type) {
    case FrameType::request:
      return push_request(Request{handle_, request_id, std::move(frame.body)});
    case FrameType::query:
      return on_query(request_id, frame.body);
    case FrameType::ping:
      return push_slot(FrameType::pong, request_id, true, std::move(frame.body));
    default:
      bump(state_.counters.unexpected_frames);
      return fail(error_code::invalid_request,
                  std::string("unexpected frame type: ") + frame_type_name(frame.header.type),
                  request_id);
  }
}

void Session::on_hello(Frame& frame) {
  uint64_t request_id = frame.header.request_id;
  HelloBody hello;
  if (!decode_hello_body(frame.body, hello)) {
    bump(state_.counters.bad_bodies);
    return fail(error_code::invalid_request, "malformed hello body", request_id);
  }
  if (hello.protocol_version != protocol_version) {
    bump(state_.counters.unauthenticated);
    return fail(error_code::unauthenticated, "unsupported protocol version", request_id);
  }
  if (!token_matches(state_.options.access_token, hello.token)) {
    bump(state_.counters.unauthenticated);
    return fail(error_code::unauthenticated, "wrong access token", request_id);
  }
  phase_ = Phase::ready;
  bump(state_.counters.sessions_authenticated);
  decoder_.set_body_size_max(limits_.frame_body_size_max);
  HelloOkBody ok;
  ok.server_version = state_.options.server_version;
  ok.session_id = id_;
  ok.limits = {limits_.frame_body_size_max, limits_.batch_size_max, limits_.in_flight_frames_max};
  push_slot(FrameType::hello_ok, request_id, true, encode_hello_ok_body(ok));
  arm_deadline(limits_.idle_timeout_ms);
}

void Session::push_request(Request&& request) {
  uint64_t request_id = request.request_id;
  if (request_id_in_flight(request_id)) {
    bump(state_.counters.duplicate_request_ids);
    return fail(error_code::invalid_request, "request id already in flight", request_id);
  }
  if (!state_.sink.try_push(std::move(request))) {
    bump(state_.counters.sink_full);
    stalled_.emplace(std::move(request));
    retry_timer_.expires_after(std::chrono::microseconds(limits_.backpressure_retry_us));
    retry_timer_.async_wait(
        [self = shared_from_this()](boost::system::error_code ec) { self->on_retry_timer(ec); });
    return;
  }
  bump(state_.counters.requests_pushed);
  // The reply is posted to this strand, so it cannot run before this slot exists.
  push_slot(FrameType::reply, request_id, false, {});
}

// Replies are matched by id, so an id may be in flight only once, whether
// it names a request or a query.
bool Session::request_id_in_flight(uint64_t request_id) const {
  for (size_t i = 0; i < slots_count_; ++i) {
    const Slot& slot = slots_[(slots_head_ + i) % slots_.size()];
    if ((slot.type == FrameType::reply || slot.type == FrameType::query_reply) &&
        slot.request_id == request_id)
      return true;
  }
  return false;
}

// A query takes a reply slot like a request, so its answer leaves in arrival
// order too. It notes what has been acknowledged by now and waits (on a timer,
// never blocking this thread) until the state store has applied that much.
void Session::on_query(uint64_t request_id, std::span<const std::byte> body) {
  if (request_id_in_flight(request_id)) {
    bump(state_.counters.duplicate_request_ids);
    return fail(error_code::invalid_request, "request id already in flight", request_id);
  }
  bump(state_.counters.queries);
  WaitingQuery w;
  w.request_id = request_id;
  QueryDecode decoded = decode_query(body, &w.query);
  QueryService* service = state_.options.queries;
  if (decoded != QueryDecode::ok || service == nullptr) {
    if (decoded == QueryDecode::malformed) bump(state_.counters.bad_bodies);
    const Result r = decoded != QueryDecode::ok ? Result::invalid_request : Result::unavailable;
    return push_slot(FrameType::query_reply, request_id, true,
                     encode_query_reply(QueryAnswer{r, {}, {}}));
  }
  push_slot(FrameType::query_reply, request_id, false, {});
  w.after_seq = service->acknowledged_seq();
  w.deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(query_wait_timeout_ms);
  if (service->applied_seq() < w.after_seq) bump(state_.counters.queries_waited);
  waiting_queries_.push_back(std::move(w));
  answer_ready_queries();
}

void Session::answer_ready_queries() {
  if (phase_ == Phase::closed || phase_ == Phase::lingering) {
    waiting_queries_.clear();
    return;
  }
  QueryService* service = state_.options.queries;
  const auto now = std::chrono::steady_clock::now();
  const uint64_t applied = service->applied_seq();
  size_t kept = 0;
  for (size_t i = 0; i < waiting_queries_.size(); ++i) {
    WaitingQuery& w = waiting_queries_[i];
    QueryAnswer answer;
    if (w.after_seq <= applied) {
      service->answer(w.query, limits_.frame_body_size_max, &answer);
    } else if (now >= w.deadline) {
      bump(state_.counters.queries_timed_out);
      answer.status = Result::unavailable;
    } else {
      if (kept != i) waiting_queries_[kept] = std::move(w);
      ++kept;
      continue;
    }
    std::vector<std::byte> body = encode_query_reply(answer);
    COFFER_ASSERT(body.size() <= limits_.frame_body_size_max);
    if (!fill_slot(FrameType::query_reply, w.request_id, body))
      bump(state_.counters.replies_dropped);
  }
  waiting_queries_.resize(kept);
  if (!waiting_queries_.empty() && !query_timer_armed_) {
    query_timer_armed_ = true;
    query_timer_.expires_after(std::chrono::milliseconds(query_wait_poll_ms));
    query_timer_.async_wait(
        [self = shared_from_this()](boost::system::error_code ec) { self->on_query_timer(ec); });
  }
  pump_writes();
}

void Session::on_query_timer(boost::system::error_code ec) {
  query_timer_armed_ = false;
  if (ec) return;
  answer_ready_queries();
}

void Session::on_retry_timer(boost::system::error_code ec) {
  if (ec || !stalled_ || phase_ != Phase::ready) return;
  Request request = std::move(*stalled_);
  stalled_.reset();
  push_request(std::move(request));
  if (!stalled_) process_input();
}

// --- Writing ----------------------------------------------------------------

void Session::push_slot(FrameType type, uint64_t request_id, bool ready,
                        std::vector<std::byte> body) {
  COFFER_ASSERT(slots_count_ < slots_.size());
  Slot& slot = slot_at(slots_count_);
  slot.type = type;
  slot.request_id = request_id;
  slot.ready = ready;
  slot.body = std::move(body);
  ++slots_count_;
  if (ready) pump_writes();
}

void Session::post_reply(uint64_t request_id, std::vector<std::byte> results) {
  asio::post(socket_.get_executor(),
             [self = shared_from_this(), request_id, results = std::move(results)]() mutable {
               self->on_reply(request_id, results);
             });
}

// Replies may arrive in any order; they fill their slot (ids are unique
// among the slots) and leave in slot order.
void Session::on_reply(uint64_t request_id, std::vector<std::byte>& results) {
  if (phase_ == Phase::closed || phase_ == Phase::lingering || phase_ == Phase::hello) {
    bump(state_.counters.replies_dropped);
    return;
  }
  if (fill_slot(FrameType::reply, request_id, results)) return pump_writes();
  bump(state_.counters.replies_dropped);
}

bool Session::fill_slot(FrameType type, uint64_t request_id, std::vector<std::byte>& body) {
  for (size_t i = write_slots_; i < slots_count_; ++i) {
    Slot& slot = slot_at(i);
    if (slot.type == type && !slot.ready && slot.request_id == request_id) {
      slot.ready = true;
      slot.body = std::move(body);
      return true;
    }
  }
  return false;
}

// Starts a write of the ready slots at the head of the queue (up to
// write_batch_frames_max, one gathered write), or the final frame once every
// slot is out, or the linger once that is out too.
void Session::pump_writes() {
  if (writing_ || phase_ == Phase::lingering || phase_ == Phase::closed) return;
  write_buffers_.clear();
  size_t n = 0;
  while (n < slots_count_ && n < write_batch_frames_max && slot_at(n).ready) {
    Slot& slot = slot_at(n);
    encode_header(slot.type, slot.request_id, slot.body, slot.header);
    write_buffers_.push_back(asio::buffer(slot.header));
    if (!slot.body.empty()) write_buffers_.push_back(asio::buffer(slot.body));
    ++n;
  }
  if (n > 0) {
    write_slots_ = n;
  } else if (phase_ == Phase::draining && slots_count_ == 0) {
    if (final_frame_.empty() || final_sent_) return linger();
    write_buffers_.push_back(asio::buffer(final_frame_));
    writing_final_ = true;
  } else {
    return;  // waiting for the reply at the head
  }
  writing_ = true;
  write_some();
}

// async_write_some rather than async_write: each bit of progress re-arms the
// write timer, so only a peer that reads nothing for write_timeout is closed.
void Session::write_some() {
  ++write_generation_;
  write_timer_.expires_after(std::chrono::milliseconds(limits_.write_timeout_ms));
  write_timer_.async_wait(
      [self = shared_from_this(), generation = write_generation_](boost::system::error_code ec) {
        self->on_write_timer(ec, generation);
      });
  socket_.async_write_some(write_buffers_,
                           [self = shared_from_this()](boost::system::error_code ec, size_t size) {
                             self->on_write(ec, size);
                           });
}

void Session::on_write(boost::system::error_code ec, size_t size) {
  if (phase_ == Phase::closed) return;
  if (ec) return close();
  bump(state_.counters.bytes_out, size);
  // Drop what was written from the front of the gather list.
  size_t done = 0;
  while (done < write_buffers_.size() && size >= write_buffers_[done].size()) {
    size -= write_buffers_[done].size();
    ++done;
  }
  write_buffers_.erase(write_buffers_.begin(), write_buffers_.begin() + ptrdiff_t(done));
  if (!write_buffers_.empty()) {
    write_buffers_.front() += size;
    return write_some();
  }
  writing_ = false;
  last_activity_time_ = std::chrono::steady_clock::now();
  ++write_generation_;  // the write timer, if it fires now, is stale
  write_timer_.cancel();
  if (writing_final_) {
    writing_final_ = false;
    final_sent_ = true;
    bump(state_.counters.frames_out);
    return linger();
  }
  for (size_t i = 0; i < write_slots_; ++i) {
    Slot& slot = slot_at(0);
    slot.body = {};  // frees reply memory now rather than when the slot is reused
    slots_head_ = (slots_head_ + 1) % slots_.size();
    --slots_count_;
  }
  bump(state_.counters.frames_out, write_slots_);
  write_slots_ = 0;
  process_input();  // may have been paused on a full reply queue
  pump_writes();
}

void Session::on_write_timer(boost::system::error_code ec, uint64_t write_generation) {
  if (ec || !writing_ || write_generation != write_generation_) return;
  bump(state_.counters.write_timeouts);
  close();  // a slow reader: it would not read an error frame either
}

// --- Timers and ends -----------------------------------------------------------

void Session::arm_deadline(uint32_t timeout_ms) {
  deadline_timer_.expires_after(std::chrono::milliseconds(timeout_ms));
  deadline_timer_.async_wait(
      [self = shared_from_this()](boost::system::error_code ec) { self->on_deadline(ec); });
}

void Session::on_deadline(boost::system::error_code ec) {
  if (ec) return;  // re-armed or cancelled
  switch (phase_) {
    case Phase::hello:
      bump(state_.counters.hello_timeouts);
      return fail(error_code::unauthenticated, "no hello within the hello timeout");
    case Phase::ready: {
      // Idle: nothing read or written for idle_timeout. Waiting on the server
      // (replies in flight, a full sink) is not idling.
      auto idle_until = last_activity_time_ + std::chrono::milliseconds(limits_.idle_timeout_ms);
      auto now = std::chrono::steady_clock::now();
      if (slots_count_ > 0 || stalled_ || now < idle_until) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(idle_until - now);
        return arm_deadline(
            uint32_t(std::clamp<int64_t>(left.count(), 1, limits_.idle_timeout_ms)));
      }
      bump(state_.counters.idle_timeouts);
      return fail(error_code::unavailable, "idle timeout");
    }
    case Phase::draining:
      return;  // bounded by the write timer and by the server's stop timeout
    case Phase::lingering:
      return close();
    case Phase::closed:
      return;
  }
}

// Sends an error frame after any write in progress, then closes. Replies not
// yet being written are dropped: the peer is broken or leaving.
void Session::fail(uint32_t code, const std::string& message, uint64_t request_id) {
  if (phase_ == Phase::draining || phase_ == Phase::lingering || phase_ == Phase::closed) return;
  phase_ = Phase::draining;
  stalled_.reset();
  retry_timer_.cancel();
  waiting_queries_.clear();
  for (size_t i = write_slots_; i < slots_count_; ++i)
    slot_at(i).body = {};
  slots_count_ = write_slots_;
  final_frame_ = encode_error_frame(request_id, ErrorBody{code, message});
  pump_writes();
}

void Session::post_stop() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] { self->on_stop(); });
}

void Session::on_stop() {
  if (phase_ == Phase::hello) return fail(error_code::unavailable, "server stopping");
  if (phase_ != Phase::ready) return;
  // Unlike fail(), replies to requests already in the sink are awaited.
  phase_ = Phase::draining;
  stalled_.reset();
  retry_timer_.cancel();
  final_frame_ = encode_error_frame(0, ErrorBody{error_code::unavailable, "server stopping"});
  pump_writes();
}

void Session::post_close() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] { self->close(); });
}

// Half-closes and reads until the peer's EOF (or close_linger_ms): closing with
// unread input would make the kernel send a reset that can destroy the error
// frame before the peer reads it.
void Session::linger() {
  if (phase_ == Phase::lingering || phase_ == Phase::closed) return;
  phase_ = Phase::lingering;
  boost::system::error_code ec;
  socket_.shutdown(tcp::socket::shutdown_send, ec);
  if (ec) return close();
  read_begin_ = read_end_ = 0;
  arm_deadline(limits_.close_linger_ms);
  read();
}

void Session::close() {
  if (phase_ == Phase::closed) return;
  phase_ = Phase::closed;
  stalled_.reset();
  boost::system::error_code ec;
  socket_.close(ec);
  deadline_timer_.cancel();
  write_timer_.cancel();
  retry_timer_.cancel();
  query_timer_.cancel();
  waiting_queries_.clear();
  if (admitted_) {
    state_.sessions_admitted.fetch_sub(1, std::memory_order_relaxed);
    state_.counters.connections_active.fetch_sub(1, std::memory_order_relaxed);
  } else {
    state_.sessions_rejecting.fetch_sub(1, std::memory_order_relaxed);
  }
  std::lock_guard lock(state_.mutex);
  state_.sessions.erase(id_);
  state_.sessions_changed.notify_all();
}

}  // namespace coffer::net::detail
