// Private to net/: one connection's state machine, and the state the server
// shares with its sessions. Everything a Session does runs on its strand.
#pragma once

#include <atomic>
#include <boost/asio.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "net/frame_codec.h"
#include "net/query_codec.h"
#include "net/server.h"

namespace coffer::net::detail {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

struct Counters {
  std::atomic<uint64_t> connections_accepted{0};
  std::atomic<uint64_t> connections_rejected{0};
  std::atomic<uint64_t> connections_active{0};
  std::atomic<uint64_t> sessions_authenticated{0};
  std::atomic<uint64_t> frames_in{0};
  std::atomic<uint64_t> frames_out{0};
  std::atomic<uint64_t> bytes_in{0};
  std::atomic<uint64_t> bytes_out{0};
  std::atomic<uint64_t> requests_pushed{0};
  std::atomic<uint64_t> queries{0};
  std::atomic<uint64_t> queries_waited{0};
  std::atomic<uint64_t> queries_timed_out{0};
  std::atomic<uint64_t> sink_full{0};
  std::atomic<uint64_t> replies_dropped{0};
  std::atomic<uint64_t> decode_errors[decode_error_count] = {};
  std::atomic<uint64_t> bad_bodies{0};
  std::atomic<uint64_t> unauthenticated{0};
  std::atomic<uint64_t> unexpected_frames{0};
  std::atomic<uint64_t> duplicate_request_ids{0};
  std::atomic<uint64_t> hello_timeouts{0};
  std::atomic<uint64_t> idle_timeouts{0};
  std::atomic<uint64_t> write_timeouts{0};
};

inline void bump(std::atomic<uint64_t>& counter, uint64_t n = 1) {
  counter.fetch_add(n, std::memory_order_relaxed);
}

// Declared in destruction order's reverse: the registry and counters outlive
// the io_context, whose destruction may destroy the last sessions.
struct ServerState {
  ServerState(const ServerOptions& server_options, RequestSink& request_sink)
      : options(server_options), sink(request_sink) {}

  const ServerOptions options;
  RequestSink& sink;
  Counters counters;

  std::atomic<uint64_t> next_session_id{1};
  std::atomic<uint32_t> sessions_admitted{0};   // counted against connections_max
  std::atomic<uint32_t> sessions_rejecting{0};  // sending RATE_LIMITED, also bounded
  uint16_t port = 0;                            // bound port, fixed once open() returns
  std::atomic<bool> stopping{false};
  bool stopped = false;  // REQUIRES: only touched by Server::stop's caller

  std::mutex mutex;
  std::condition_variable sessions_changed;
  std::unordered_map<uint64_t, std::weak_ptr<Session>> sessions;  // REQUIRES: mutex

  asio::io_context io;
  tcp::acceptor acceptor{asio::make_strand(io)};
  asio::steady_timer accept_retry_timer{acceptor.get_executor()};
  std::vector<std::thread> threads;
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  // `admitted` false: the server is at connections_max; the session only
  // sends error RATE_LIMITED and closes.
  Session(ServerState& state, tcp::socket socket, uint64_t id, bool admitted);

  uint64_t id() const { return id_; }

  // Each may be called from any thread; the work runs on the strand.
  void start();
  void post_reply(uint64_t request_id, std::vector<std::byte> results);
  void post_stop();   // flush replies, send UNAVAILABLE, close
  void post_close();  // close now

 private:
  enum class Phase : uint8_t {
    hello,      // waiting for the hello, within hello_timeout
    ready,      // authenticated: reading requests
    draining,   // reading no more: flush replies, then `final_frame_`, then linger
    lingering,  // sent all; half-closed, discarding input until EOF or linger timeout
    closed,
  };

  // An entry in the in-order reply queue: one per request (or ping, or the
  // hello_ok) read and not yet written back.
  struct Slot {
    FrameType type = FrameType::reply;
    uint64_t request_id = 0;
    bool ready = false;
    std::vector<std::byte> body;
    HeaderBytes header{};
  };

  // Reading.
  void read();
  void on_read(boost::system::error_code ec, size_t size);
  void process_input();
  void on_frame(Frame& frame);
  void on_hello(Frame& frame);
  void push_request(Request&& request);
  void on_retry_timer(boost::system::error_code ec);
  // Queries: answered on this strand once the state store has caught up.
  bool request_id_in_flight(uint64_t request_id) const;
  void on_query(uint64_t request_id, std::span<const std::byte> body);
  void answer_ready_queries();
  void on_query_timer(boost::system::error_code ec);

  // Writing, in slot order.
  Slot& slot_at(size_t i) { return slots_[(slots_head_ + i) % slots_.size()]; }
  void push_slot(FrameType type, uint64_t request_id, bool ready, std::vector<std::byte> body);
  void on_reply(uint64_t request_id, std::vector<std::byte>& results);
  // Fills the waiting slot of (type, request_id); false if there is none.
  bool fill_slot(FrameType type, uint64_t request_id, std::vector<std::byte>& body);
  void pump_writes();
  void write_some();
  void on_write(boost::system::error_code ec, size_t size);
  void on_write_timer(boost::system::error_code ec, uint64_t write_generation);

  // Timers and ends.
  void arm_deadline(uint32_t timeout_ms);
  void on_deadline(boost::system::error_code ec);
  void fail(uint32_t code, const std::string& message, uint64_t request_id = 0);
  void on_stop();
  void linger();
  void close();

  ServerState& state_;
  const Limits& limits_;
  tcp::socket socket_;
  const uint64_t id_;
  const bool admitted_;
  SessionHandle handle_;
  Phase phase_ = Phase::hello;

  FrameDecoder decoder_;
  Frame frame_;
  std::vector<std::byte> read_buffer_;
  size_t read_begin_ = 0;
  size_t read_end_ = 0;
  bool reading_ = false;
  std::chrono::steady_clock::time_point last_activity_time_;  // last byte read or written
  std::optional<Request> stalled_;  // refused by a full sink, offered again on retry_timer_

  struct WaitingQuery {
    uint64_t request_id = 0;
    QueryRequest query;
    uint64_t after_seq = 0;  // answered once the store has applied this seq
    std::chrono::steady_clock::time_point deadline;
  };
  std::vector<WaitingQuery> waiting_queries_;  // at most in_flight_frames_max (one slot each)
  bool query_timer_armed_ = false;

  std::vector<Slot> slots_;  // ring of in_flight_frames_max
  size_t slots_head_ = 0;
  size_t slots_count_ = 0;

  std::vector<asio::const_buffer> write_buffers_;
  size_t write_slots_ = 0;  // slots in the write in progress
  bool writing_ = false;
  bool writing_final_ = false;
  uint64_t write_generation_ = 0;
  std::vector<std::byte> final_frame_;  // an error frame, sent after the last reply
  bool final_sent_ = false;

  asio::steady_timer deadline_timer_;  // hello, idle, linger
  asio::steady_timer write_timer_;     // slow reader
  asio::steady_timer retry_timer_;     // full sink
  asio::steady_timer query_timer_;     // queries waiting for the state store
};

}  // namespace coffer::net::detail
